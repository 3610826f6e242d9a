// randomBytes, randomFill, randomInt, randomUUID and timingSafeEqual, with bytes from the host's
// CSPRNG (the crypto.random service, at most 64 KiB per call).

import { fillRandom } from "../../web/crypto/entropy.ts";
import { allocUnsafe } from "../buffer/buffer.ts";
import { invalidArgType, makeError, outOfRange } from "../errors.ts";
import { nextTick } from "../process.ts";
import { validateBoolean, validateFunction, validateNumber, validateObject } from "../validators.ts";
import { primordials } from "../../primordials.ts";

const { ArrayBuffer, ArrayBufferIsView, ArrayBufferViewGetBuffer, ArrayBufferViewGetByteLength, ArrayBufferViewGetByteOffset, ArrayFromLength, ArrayPrototypePop, MathMin, NumberIsSafeInteger, NumberPrototypeToString, RangeError, StringPrototypePadStart, TypeError, TypedArrayPrototypeGetByteLength, TypedArrayPrototypeGetLength, TypedArrayPrototypeSet, TypedArrayPrototypeSubarray, Uint8Array } = primordials;

const MAX_SIZE = 2 ** 31 - 1;
const RAND_MAX = 0xffff_ffff_ffff;

type Callback = (error: Error | null, value?: unknown) => void;

export function randomBytes(size: unknown, callback?: unknown): Uint8Array | undefined {
  validateNumber(size, "size", 0, MAX_SIZE);
  if (callback !== undefined) validateFunction(callback, "callback");
  const bytes = allocUnsafe(size);
  fillRandom(bytes);
  if (callback === undefined) return bytes;
  nextTick(callback as Callback, null, bytes);
  return undefined;
}

function viewOf(buffer: unknown): Uint8Array {
  if (buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
  if (ArrayBufferIsView(buffer)) return new Uint8Array(ArrayBufferViewGetBuffer(buffer), ArrayBufferViewGetByteOffset(buffer), ArrayBufferViewGetByteLength(buffer));
  throw invalidArgType("buf", ["ArrayBuffer", "ArrayBufferView"], buffer);
}

function fillRange(buffer: unknown, offset: unknown, size: unknown): void {
  const bytes = viewOf(buffer);
  const elementSize = ArrayBufferIsView(buffer) ? ((buffer as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1) : 1;
  const start = offset === undefined ? 0 : (validateNumber(offset, "offset", 0, TypedArrayPrototypeGetLength(bytes) / elementSize), (offset as number) * elementSize);
  const length = size === undefined ? TypedArrayPrototypeGetLength(bytes) - start : (validateNumber(size, "size", 0, (TypedArrayPrototypeGetLength(bytes) - start) / elementSize), (size as number) * elementSize);
  fillRandom(TypedArrayPrototypeSubarray(bytes, start, start + length));
}

export function randomFillSync<T>(buffer: T, offset?: unknown, size?: unknown): T {
  fillRange(buffer, offset, size);
  return buffer;
}

export function randomFill(buffer: unknown, ...rest: unknown[]): void {
  const callback = ArrayPrototypePop(rest);
  validateFunction(callback, "callback");
  fillRange(buffer, rest[0], rest[1]);
  nextTick(callback as Callback, null, buffer);
}

let intCache: Uint8Array | undefined;
let intCacheOffset = 0;

function random48(): number {
  if (intCache === undefined || intCacheOffset === TypedArrayPrototypeGetLength(intCache)) {
    intCache ??= new Uint8Array(6 * 1024);
    fillRandom(intCache);
    intCacheOffset = 0;
  }
  let value = 0;
  for (let i = 0; i < 6; i++) value = value * 256 + intCache[intCacheOffset + i];
  intCacheOffset += 6;
  return value;
}

export function randomInt(minArg: unknown, maxArg?: unknown, callbackArg?: unknown): number | undefined {
  let min = minArg;
  let max = maxArg;
  let callback = callbackArg;
  const minNotSpecified = max === undefined || typeof max === "function";
  if (minNotSpecified) {
    callback = max;
    max = min;
    min = 0;
  }
  if (callback !== undefined) validateFunction(callback, "callback");
  if (!NumberIsSafeInteger(min)) throw invalidArgType("min", "a safe integer", min);
  if (!NumberIsSafeInteger(max)) throw invalidArgType("max", "a safe integer", max);
  const low = min as number;
  const high = max as number;
  if (high <= low) throw outOfRange("max", `greater than the value of "min" (${low})`, high);
  const range = high - low;
  if (!(range <= RAND_MAX)) throw outOfRange(`max${minNotSpecified ? "" : " - min"}`, `<= ${RAND_MAX}`, range);
  // Values at or above the largest multiple of range would make the modulo biased.
  const limit = RAND_MAX - (RAND_MAX % range);
  let x = random48();
  while (x >= limit) x = random48();
  const result = (x % range) + low;
  if (callback === undefined) return result;
  nextTick(callback as Callback, undefined, result);
  return undefined;
}

const HEX = ArrayFromLength(256, (i) => StringPrototypePadStart(NumberPrototypeToString(i, 16), 2, "0"));
let uuidCache: Uint8Array | undefined;
let uuidOffset = 0;

export function randomUUID(options?: unknown): string {
  if (options !== undefined) validateObject(options, "options");
  const disableCache = (options as { disableEntropyCache?: unknown } | undefined)?.disableEntropyCache ?? false;
  validateBoolean(disableCache, "options.disableEntropyCache");
  let b: Uint8Array;
  if (disableCache) {
    b = new Uint8Array(16);
    fillRandom(b, true);
  } else {
    // Entropy for 128 UUIDs at a time, as Node caches it: one host call instead of 128.
    if (uuidCache === undefined || uuidOffset === TypedArrayPrototypeGetLength(uuidCache)) {
      uuidCache ??= new Uint8Array(16 * 128);
      fillRandom(uuidCache);
      uuidOffset = 0;
    }
    b = TypedArrayPrototypeSubarray(uuidCache, uuidOffset, uuidOffset + 16);
    uuidOffset += 16;
  }
  const v6 = (b[6] & 0x0f) | 0x40;
  const v8 = (b[8] & 0x3f) | 0x80;
  return `${HEX[b[0]]}${HEX[b[1]]}${HEX[b[2]]}${HEX[b[3]]}-${HEX[b[4]]}${HEX[b[5]]}-${HEX[v6]}${HEX[b[7]]}-${HEX[v8]}${HEX[b[9]]}-${HEX[b[10]]}${HEX[b[11]]}${HEX[b[12]]}${HEX[b[13]]}${HEX[b[14]]}${HEX[b[15]]}`;
}

function timingSafeBytes(value: unknown, name: string): Uint8Array {
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBufferIsView(value)) return new Uint8Array(ArrayBufferViewGetBuffer(value), ArrayBufferViewGetByteOffset(value), ArrayBufferViewGetByteLength(value));
  throw makeError(TypeError, "ERR_INVALID_ARG_TYPE", `The "${name}" argument must be an instance of ArrayBuffer, Buffer, TypedArray, or DataView.`);
}

/** Compares every byte whatever the first difference, so the time taken does not reveal it. */
export function timingSafeEqual(a: unknown, b: unknown): boolean {
  const x = timingSafeBytes(a, "buf1");
  const y = timingSafeBytes(b, "buf2");
  if (TypedArrayPrototypeGetByteLength(x) !== TypedArrayPrototypeGetByteLength(y)) throw makeError(RangeError, "ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH", "Input buffers must have the same byte length");
  let difference = 0;
  for (let i = 0; i < TypedArrayPrototypeGetLength(x); i++) difference |= x[i] ^ y[i];
  return difference === 0;
}
