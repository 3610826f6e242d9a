// The few Web IDL conversions the web classes need. Browsers perform these before any algorithm
// step runs, so user code observes the same coercions and TypeErrors here as it would there.

import { primordials, SymbolIterator } from "../primordials.ts";

const { ArrayBuffer, ArrayBufferIsView, ArrayBufferViewGetBuffer, ArrayBufferViewGetByteLength, ArrayBufferViewGetByteOffset, ArrayPrototypeIncludes, IterableToArray, MathFloor, MathMax, MathMin, MathTrunc, Number, NumberIsFinite, NumberIsNaN, ObjectGetOwnPropertyDescriptor, Originals, ReflectApply, RegExpPrototypeExec, StringPrototypeToWellFormed, TypeError, Uint8Array } = primordials;

/** DOMString/USVString conversion: ToString, which (unlike String()) throws on symbols. */
export function toDomString(value: unknown): string {
  return `${value as string}`;
}

/** ByteString conversion: every code unit must fit in one byte. */
export function toByteString(value: unknown): string {
  const text = toDomString(value);
  if ((RegExpPrototypeExec(/[^\x00-\xff]/, text) !== null)) throw new TypeError(`Cannot convert "${text}" to a ByteString: it contains characters above U+00FF.`);
  return text;
}

/** Dictionary conversion: undefined and null mean "all defaults", other primitives are errors. */
export function toDictionary(value: unknown, what: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" && typeof value !== "function") throw new TypeError(`${what} must be an object.`);
  return value as Record<string, unknown>;
}

/** Enumeration conversion: the string must be one of the allowed values. */
export function toEnum<T extends string>(value: unknown, allowed: readonly T[], what: string): T {
  const text = toDomString(value);
  if (!ArrayPrototypeIncludes((allowed as readonly string[]), text)) throw new TypeError(`'${text}' is not a valid value for ${what}.`);
  return text as T;
}

export function requireArguments(present: number, required: number, operation: string): void {
  if (present < required) {
    throw new TypeError(`Failed to execute ${operation}: ${required} argument${required === 1 ? "" : "s"} required, but only ${present} present.`);
  }
}

/** HTTP token (RFC 9110 tchar+), the grammar of header names and methods. */
export function isHttpToken(text: string): boolean {
  return (RegExpPrototypeExec(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, text) !== null);
}

const byteLengthGetter = Originals["get ArrayBuffer.prototype.byteLength"]!;

/** Brand check that also works for ArrayBuffers from another realm. */
export function isArrayBuffer(value: unknown): value is ArrayBuffer {
  if (typeof value !== "object" || value === null) return false;
  try {
    ReflectApply(byteLengthGetter, value, []);
    return true;
  } catch {
    return false;
  }
}

/**
 * A Uint8Array view of a BufferSource (ArrayBuffer or any ArrayBufferView, DataView included),
 * or undefined when the value is neither. The view shares memory with the input.
 */
export function viewBufferSource(value: unknown): Uint8Array | undefined {
  if (ArrayBufferIsView(value)) return new Uint8Array(ArrayBufferViewGetBuffer(value), ArrayBufferViewGetByteOffset(value), ArrayBufferViewGetByteLength(value));
  if (isArrayBuffer(value)) return new Uint8Array(value);
  return undefined;
}

/** USVString conversion: ToString, then lone surrogates become U+FFFD. */
export function toUsvString(value: unknown): string {
  return StringPrototypeToWellFormed(toDomString(value));
}

/** sequence<T> conversion's first step: the value must be an iterable object. */
export function toSequence(value: unknown, what: string): unknown[] {
  if ((typeof value !== "object" && typeof value !== "function") || value === null) throw new TypeError(`${what} must be a sequence.`);
  const method = (value as Partial<Iterable<unknown>>)[SymbolIterator];
  if (typeof method !== "function") throw new TypeError(`${what} must be a sequence: it is not iterable.`);
  return IterableToArray(value as Iterable<unknown>);
}

/** `[Clamp] long long`: NaN is 0, the value is clamped to the safe range and rounded half to even. */
export function toClampedLongLong(value: unknown): number {
  const number = MathMin(MathMax(+(value as number), -Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
  if (NumberIsNaN(number)) return 0;
  const floor = MathFloor(number);
  const fraction = number - floor;
  const rounded = fraction > 0.5 || (fraction === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
  return rounded === 0 ? 0 : rounded;
}

/** `long long`: infinities and NaN are 0, fractions truncate, and the value wraps modulo 2^64. */
export function toLongLong(value: unknown): number {
  const number = +(value as number);
  if (!NumberIsFinite(number)) return 0;
  let integer = MathTrunc(number) % 2 ** 64;
  if (integer >= 2 ** 63) integer -= 2 ** 64;
  else if (integer < -(2 ** 63)) integer += 2 ** 64;
  return integer === 0 ? 0 : integer;
}
