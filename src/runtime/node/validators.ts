// Argument checks with Node's error codes and wording (lib/internal/validators.js).

import { invalidArgType, outOfRange } from "./errors.ts";
import { primordials } from "../primordials.ts";

const { ArrayIsArray, NumberIsNaN } = primordials;

export function validateString(value: unknown, name: string): asserts value is string {
  if (typeof value !== "string") throw invalidArgType(name, "string", value);
}

export function validateFunction(value: unknown, name: string): asserts value is (...args: never[]) => unknown {
  if (typeof value !== "function") throw invalidArgType(name, "Function", value);
}

export function validateBoolean(value: unknown, name: string): asserts value is boolean {
  if (typeof value !== "boolean") throw invalidArgType(name, "boolean", value);
}

export function validateObject(value: unknown, name: string, allowArray = false): asserts value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || (!allowArray && ArrayIsArray(value))) throw invalidArgType(name, "Object", value);
}

export function validateNumber(value: unknown, name: string, min?: number, max?: number): asserts value is number {
  if (typeof value !== "number") throw invalidArgType(name, "number", value);
  if ((min !== undefined && value < min) || (max !== undefined && value > max) || ((min !== undefined || max !== undefined) && NumberIsNaN(value))) {
    const range = `${min !== undefined ? `>= ${min}` : ""}${min !== undefined && max !== undefined ? " && " : ""}${max !== undefined ? `<= ${max}` : ""}`;
    throw outOfRange(name, range, value);
  }
}

/** An AbortSignal-like object: Node accepts any object with `aborted` and addEventListener. */
export function validateAbortSignal(signal: unknown, name: string): void {
  if (signal !== undefined && (signal === null || typeof signal !== "object" || !("aborted" in signal))) throw invalidArgType(name, "AbortSignal", signal);
}
