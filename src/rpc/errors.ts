// Errors crossing the boundary. From a sandbox: rebuilt with the same name and message, and the
// sandbox's own stack (which names only its modules). To a sandbox: name and message only, so no
// host path or stack frame leaks in.

import type { ErrorRecord } from "../runtime/wire.ts";

const standard: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

export function errorFromSandbox(record: unknown): Error {
  const r = (record ?? {}) as Partial<ErrorRecord>;
  const name = typeof r.name === "string" ? r.name.slice(0, 200) : "Error";
  const message = typeof r.message === "string" ? r.message : "";
  const Class = Object.prototype.hasOwnProperty.call(standard, name) ? standard[name] : Error;
  const error = new Class(message);
  if (error.name !== name) Object.defineProperty(error, "name", { value: name, writable: true, configurable: true });
  if (typeof r.stack === "string") {
    Object.defineProperty(error, "stack", { value: r.stack, writable: true, configurable: true });
  }
  return error;
}

export function errorForSandbox(error: unknown): ErrorRecord {
  if (error instanceof Error) {
    let name = "Error";
    let message = "";
    try {
      name = String(error.name);
      message = String(error.message);
    } catch {
      // A hostile getter on a host error: fall back to the defaults.
    }
    return { name, message };
  }
  return { name: "Error", message: typeof error === "string" ? error : "The host rejected the call." };
}
