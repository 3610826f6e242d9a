// The Web IDL conversions of SubtleCrypto's arguments and algorithm dictionaries. Browsers run
// them, in member order, before any algorithm step, so user code sees the same getters run and
// the same TypeErrors here as there.

import { toDomString, viewBufferSource } from "../webidl.ts";
import { domException } from "./errors.ts";
import { primordials, SymbolIterator } from "../../primordials.ts";

const { ArrayPrototypeFilter, ArrayPrototypeIncludes, ArrayPrototypeIndexOf, ArrayPrototypePush, Boolean, IterableToArray, MathTrunc, NumberIsFinite, TypeError, TypedArrayPrototypeGetByteLength, TypedArrayPrototypeSlice, Uint8Array } = primordials;

/** Bytes per argument: a bound on what one call may ask the host to copy and process. */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;

export const KEY_USAGES = ["encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey", "unwrapKey"] as const;
export type KeyUsage = (typeof KEY_USAGES)[number];
export const KEY_FORMATS = ["raw", "spki", "pkcs8", "jwk"] as const;
export type KeyFormat = (typeof KEY_FORMATS)[number];

/** A BufferSource's bytes, copied (the spec's "get a copy of the bytes held by"). */
export function toBytes(value: unknown, what: string): Uint8Array {
  const view = viewBufferSource(value);
  if (view === undefined) throw new TypeError(`${what} is not of type '(ArrayBuffer or ArrayBufferView)'.`);
  if (TypedArrayPrototypeGetByteLength(view) > MAX_INPUT_BYTES) throw domException(`${what} is larger than ${MAX_INPUT_BYTES} bytes, the limit of this runtime.`, "OperationError");
  return TypedArrayPrototypeSlice(view);
}

/** An [EnforceRange] integer type: finite, truncated, within [0, max]. */
export function toEnforcedInteger(value: unknown, max: number, what: string): number {
  // Unary plus, not Number(): ToNumber throws for a BigInt, as Web IDL requires.
  const number = +(value as number);
  if (!NumberIsFinite(number)) throw new TypeError(`${what} is not a finite number.`);
  const integer = MathTrunc(number);
  if (integer < 0 || integer > max) throw new TypeError(`${what} is outside the range [0, ${max}].`);
  return integer;
}

/** The BigInteger typedef: a Uint8Array, big-endian. */
export function toBigInteger(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${what} is not of type 'Uint8Array'.`);
  return toBytes(value, what);
}

export function toEnumValue<T extends string>(value: unknown, allowed: readonly T[], type: string): T {
  const text = toDomString(value);
  if (!ArrayPrototypeIncludes((allowed as readonly string[]), text)) throw new TypeError(`The provided value '${text}' is not a valid enum value of type ${type}.`);
  return text as T;
}

/** sequence<T>: any iterable object, converted element by element. */
export function toSequence<T>(value: unknown, convert: (item: unknown) => T, what: string): T[] {
  const iterator = value !== null && typeof value === "object" ? (value as { [SymbolIterator]?: unknown })[SymbolIterator] : undefined;
  if (typeof iterator !== "function") throw new TypeError(`${what} is not iterable.`);
  const out: T[] = [];
  const items = IterableToArray(value as Iterable<unknown>);
  for (let i = 0; i < items.length; i++) ArrayPrototypePush(out, convert(items[i]));
  return out;
}

/** sequence<KeyUsage>, with duplicates dropped (the usages a key ends up with are a set). */
export function toKeyUsages(value: unknown): KeyUsage[] {
  const usages = toSequence(value, (item) => toEnumValue(item, KEY_USAGES, "KeyUsage"), "keyUsages");
  return ArrayPrototypeFilter(usages, (usage, i) => ArrayPrototypeIndexOf(usages, usage) === i);
}

const JWK_STRINGS = ["alg", "crv", "d", "dp", "dq", "e", "k", "kty", "n", "p", "q", "qi", "use", "x", "y"];

export type JsonWebKey = Record<string, string | boolean | string[] | Record<string, string>[]>;

/** The JsonWebKey dictionary: its members in lexicographic order, each converted to its type. */
export function toJsonWebKey(value: unknown): JsonWebKey {
  if (value !== undefined && value !== null && typeof value !== "object" && typeof value !== "function") throw new TypeError("keyData is not a JsonWebKey.");
  const source = (value ?? {}) as Record<string, unknown>;
  const out: JsonWebKey = {};
  for (let i16 = 0, a16 = ["alg", "crv", "d", "dp", "dq", "e", "ext", "k", "key_ops", "kty", "n", "oth", "p", "q", "qi", "use", "x", "y"]; i16 < a16.length; i16++) {
    const member = a16[i16];
    const item = source[member];
    if (item === undefined) continue;
    if (member === "ext") out.ext = Boolean(item);
    else if (member === "key_ops") out.key_ops = toSequence(item, toDomString, "key_ops");
    else if (member === "oth") out.oth = toSequence(item, otherPrime, "oth");
    else if (ArrayPrototypeIncludes(JWK_STRINGS, member)) out[member] = toDomString(item);
  }
  return out;
}

function otherPrime(value: unknown): Record<string, string> {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) throw new TypeError("oth is not a sequence of RsaOtherPrimesInfo.");
  const source = value as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (let i17 = 0, a17 = ["d", "r", "t"]; i17 < a17.length; i17++) {
    const member = a17[i17];
    if (source[member] !== undefined) out[member] = toDomString(source[member]);
  }
  return out;
}
