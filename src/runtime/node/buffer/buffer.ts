// Node's Buffer: a Uint8Array subclass with Node's constructors, encodings and checks (error
// codes and messages included). Unlike Node, nothing is pooled: every Buffer owns its memory, so
// `buf.buffer` never exposes another Buffer's bytes.

import { bufferOutOfBounds, invalidArgType, invalidArgValue, nodeError, outOfRange, unknownEncoding } from "../errors.ts";
import { validateNumber } from "../validators.ts";
import { byteLengthOf, hexSlice, normalizeEncoding, sliceString, utf8Slice, utf8Write, writeString, type Encoding } from "./codecs.ts";
import { installNumberMethods } from "./numbers.ts";
import { primordials, SymbolToPrimitive } from "../../primordials.ts";

const { ArrayBuffer, ArrayBufferIsView, ArrayBufferPrototypeGetByteLength, ArrayBufferViewGetBuffer, ArrayBufferViewGetByteLength, ArrayBufferViewGetByteOffset, ArrayIsArray, DataView, MathFloor, MathMax, MathMin, MathTrunc, Number, NumberIsInteger, NumberIsNaN, ObjectCreate, ObjectDefineProperty, ObjectEntries, ObjectFreeze, ObjectKeys, ObjectPrototypeToString, ObjectSetPrototypeOf, RangeError, ReflectApply, RegExpPrototypeExec, RegExpPrototypeSymbolReplace, StringPrototypeCharCodeAt, StringPrototypeSlice, StringPrototypeTrim, SymbolFor, TypeError, TypedArrayPrototypeFill, TypedArrayPrototypeGetBuffer, TypedArrayPrototypeGetByteOffset, TypedArrayPrototypeGetLength, TypedArrayPrototypeGetSymbolToStringTag, TypedArrayPrototypeIndexOf, TypedArrayPrototypeLastIndexOf, TypedArrayPrototypeSet, Uint8Array } = primordials;

// V8 13.6's largest typed array (v8::TypedArray::kMaxByteLength on 64-bit), which Node 24 reports;
// the isolate runs the same V8, so a size below it fails only at allocation, past the heap limit.
export const kMaxLength = 2 ** 53 - 1;
export const kStringMaxLength = (1 << 29) - 24;
export const constants = ObjectFreeze({ MAX_LENGTH: kMaxLength, MAX_STRING_LENGTH: kStringMaxLength });
export const INSPECT_MAX_BYTES = 50;

const customInspect = SymbolFor("nodejs.util.inspect.custom");

export interface Buffer extends Uint8Array {
  [key: string]: unknown;
}

/** The class every Buffer really is; `Buffer` itself is the callable, deprecated constructor. */
class FastBuffer extends Uint8Array {}

/** Node's Buffer(arg, encodingOrOffset, length): works with or without `new`. */
export const Buffer = function Buffer(arg: unknown, encodingOrOffset?: unknown, length?: unknown): Uint8Array {
  if (typeof arg === "number") {
    if (typeof encodingOrOffset === "string") throw invalidArgType("string", "string", arg);
    return alloc(arg);
  }
  return from(arg, encodingOrOffset, length);
} as unknown as BufferConstructor;

type BufferConstructor = {
  (arg: unknown, encodingOrOffset?: unknown, length?: unknown): Uint8Array;
  new (arg: unknown, encodingOrOffset?: unknown, length?: unknown): Uint8Array;
  prototype: Uint8Array & Record<string | symbol, unknown>;
  [key: string]: unknown;
};

ObjectDefineProperty(Buffer, "prototype", { value: FastBuffer.prototype, writable: false, enumerable: false, configurable: false });
ObjectDefineProperty(FastBuffer.prototype, "constructor", { value: Buffer, writable: true, enumerable: false, configurable: true });
ObjectSetPrototypeOf(Buffer, Uint8Array);

export function isBuffer(value: unknown): boolean {
  return value instanceof FastBuffer;
}

// Buffer overrides these; its own code uses the plain typed-array versions.
const fillBytes = (bytes: Uint8Array, value: number, start?: number, end?: number) => TypedArrayPrototypeFill(bytes, value, start, end);
const view = (bytes: Uint8Array, start: number, end: number) => new Uint8Array(TypedArrayPrototypeGetBuffer(bytes), TypedArrayPrototypeGetByteOffset(bytes) + start, end - start);

const isUint8Array = (value: unknown): value is Uint8Array => TypedArrayPrototypeGetSymbolToStringTag(value) === "Uint8Array";
const isAnyArrayBuffer = (value: unknown): value is ArrayBuffer => value instanceof ArrayBuffer || ObjectPrototypeToString(value) === "[object ArrayBuffer]";

function validateSize(size: unknown): asserts size is number {
  validateNumber(size, "size", 0, kMaxLength);
}

export function alloc(size: unknown, fill?: unknown, encoding?: unknown): Uint8Array {
  validateSize(size);
  const buffer = new FastBuffer(size);
  if (fill !== undefined && fill !== 0 && size > 0) fillBuffer(buffer, fill, 0, TypedArrayPrototypeGetLength(buffer), encoding);
  return buffer;
}

export function allocUnsafe(size: unknown): Uint8Array {
  validateSize(size);
  return new FastBuffer(size);
}

function encodingOf(value: unknown): Encoding {
  if (typeof value !== "string" || value.length === 0) return "utf8";
  const encoding = normalizeEncoding(value);
  if (encoding === undefined) throw unknownEncoding(value);
  return encoding;
}

/** toString and indexOf accept only a real encoding name (not null or ""). */
function strictEncoding(value: unknown): Encoding | undefined {
  const text = `${value as string}`;
  return text === "" ? undefined : normalizeEncoding(text);
}

function fromString(text: string, encodingArg: unknown): Uint8Array {
  const encoding = encodingOf(encodingArg);
  const length = byteLengthOf(text, encoding);
  const buffer = new FastBuffer(length);
  const written = writeString(buffer, text, 0, length, encoding);
  return written === length ? buffer : new FastBuffer(TypedArrayPrototypeGetBuffer(buffer), 0, written);
}

function fromArrayLike(source: ArrayLike<unknown>): Uint8Array {
  const length = source.length >>> 0;
  const buffer = new FastBuffer(length);
  if (isUint8Array(source)) TypedArrayPrototypeSet(buffer, source);
  else for (let i = 0; i < length; i++) buffer[i] = source[i] as number;
  return buffer;
}

function fromArrayBuffer(source: ArrayBuffer, byteOffsetArg: unknown, lengthArg: unknown): Uint8Array {
  let byteOffset = byteOffsetArg === undefined ? 0 : +(byteOffsetArg as number);
  if (NumberIsNaN(byteOffset)) byteOffset = 0;
  const maxLength = ArrayBufferPrototypeGetByteLength(source) - byteOffset;
  if (maxLength < 0) throw bufferOutOfBounds("offset");
  let length: number;
  if (lengthArg === undefined) length = maxLength;
  else {
    length = +(lengthArg as number);
    if (length > 0) {
      if (length > maxLength) throw bufferOutOfBounds("length");
    } else length = 0;
  }
  return new FastBuffer(source, byteOffset, length);
}

function fromObject(value: Record<string, unknown>): Uint8Array | undefined {
  if (value.length !== undefined || isAnyArrayBuffer(value.buffer)) {
    if (typeof value.length !== "number") return new FastBuffer(0);
    return fromArrayLike(value as unknown as ArrayLike<unknown>);
  }
  if (value.type === "Buffer" && ArrayIsArray(value.data)) return fromArrayLike(value.data);
  return undefined;
}

export function from(value: unknown, encodingOrOffset?: unknown, length?: unknown): Uint8Array {
  if (typeof value === "string") return fromString(value, encodingOrOffset);
  if (typeof value === "object" && value !== null) {
    if (isAnyArrayBuffer(value)) return fromArrayBuffer(value, encodingOrOffset, length);
    const valueOf = typeof (value as { valueOf?: unknown }).valueOf === "function" ? (value as { valueOf(): unknown }).valueOf() : undefined;
    if (valueOf != null && valueOf !== value && (typeof valueOf === "string" || typeof valueOf === "object")) return from(valueOf, encodingOrOffset, length);
    const fromObj = fromObject(value as Record<string, unknown>);
    if (fromObj !== undefined) return fromObj;
    const toPrimitive = (value as { [SymbolToPrimitive]?: unknown })[SymbolToPrimitive];
    if (typeof toPrimitive === "function") {
      const primitive = ReflectApply(toPrimitive, value, ["string"]);
      if (typeof primitive === "string") return fromString(primitive, encodingOrOffset);
    }
  }
  throw invalidArgType("first argument", ["string", "Buffer", "ArrayBuffer", "Array", "Array-like Object"], value);
}

function byteLength(value: unknown, encoding?: unknown): number {
  if (typeof value !== "string") {
    if (ArrayBufferIsView(value) || isAnyArrayBuffer(value)) return value.byteLength;
    throw invalidArgType("string", ["string", "Buffer", "ArrayBuffer"], value);
  }
  const normalized = typeof encoding === "string" && encoding !== "" ? normalizeEncoding(encoding) : "utf8";
  return byteLengthOf(value, normalized ?? "utf8");
}

function compareBytes(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bStart: number, bEnd: number): number {
  const length = MathMin(aEnd - aStart, bEnd - bStart);
  for (let i = 0; i < length; i++) {
    const x = a[aStart + i];
    const y = b[bStart + i];
    if (x !== y) return x < y ? -1 : 1;
  }
  const aLength = aEnd - aStart;
  const bLength = bEnd - bStart;
  return aLength < bLength ? -1 : aLength > bLength ? 1 : 0;
}

function compare(a: unknown, b: unknown): number {
  if (!isUint8Array(a)) throw invalidArgType("buf1", ["Buffer", "Uint8Array"], a);
  if (!isUint8Array(b)) throw invalidArgType("buf2", ["Buffer", "Uint8Array"], b);
  return a === b ? 0 : compareBytes(a, 0, TypedArrayPrototypeGetLength(a), b, 0, TypedArrayPrototypeGetLength(b));
}

function validateOffset(value: unknown, name: string, min = 0, max = kMaxLength): asserts value is number {
  if (typeof value !== "number") throw invalidArgType(name, "number", value);
  if (!NumberIsInteger(value)) throw outOfRange(name, "an integer", value);
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value);
}

export function concat(list: unknown, totalLength?: unknown): Uint8Array {
  if (!ArrayIsArray(list)) throw invalidArgType("list", "Array", list);
  if (list.length === 0) return new FastBuffer(0);
  let length: number;
  if (totalLength === undefined) {
    length = 0;
    for (let i = 0; i < list.length; i++) {
      // A typed array's length through the captured getter; anything else's as Node reads it.
      const item = list[i] as { length?: number };
      const itemLength = isUint8Array(item) ? TypedArrayPrototypeGetLength(item) : item.length;
      if (itemLength) length += itemLength;
    }
  } else {
    validateOffset(totalLength, "length");
    length = totalLength;
  }
  const buffer = allocUnsafe(length);
  let position = 0;
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (!isUint8Array(item)) throw invalidArgType(`list[${i}]`, ["Buffer", "Uint8Array"], item);
    const take = MathMin(TypedArrayPrototypeGetLength(item), length - position);
    if (take <= 0) break;
    TypedArrayPrototypeSet(buffer, take === TypedArrayPrototypeGetLength(item) ? item : view(item, 0, take), position);
    position += take;
  }
  fillBytes(buffer, 0, position);
  return buffer;
}

function isEncoding(encoding: unknown): boolean {
  return typeof encoding === "string" && encoding.length !== 0 && normalizeEncoding(encoding) !== undefined;
}

function copyBytesFrom(view: unknown, offset?: unknown, length?: unknown): Uint8Array {
  if (!ArrayBufferIsView(view) || view instanceof DataView) throw invalidArgType("view", ["TypedArray"], view);
  const typed = view as unknown as { length: number; BYTES_PER_ELEMENT: number; byteOffset: number; buffer: ArrayBuffer };
  const viewLength = typed.length;
  if (viewLength === 0) return new FastBuffer(0);
  let start = 0;
  let end = viewLength;
  if (offset !== undefined || length !== undefined) {
    if (offset !== undefined) {
      validateNumber(offset, "offset", 0);
      if (offset >= viewLength) return new FastBuffer(0);
      start = offset;
    }
    if (length !== undefined) {
      validateNumber(length, "length", 0);
      end = MathMin(start + length, viewLength);
    }
  }
  const size = typed.BYTES_PER_ELEMENT;
  const bytes = new Uint8Array(typed.buffer, typed.byteOffset + start * size, (end - start) * size);
  return fromArrayLike(bytes);
}

function adjustOffset(offsetArg: unknown, length: number): number {
  const offset = MathTrunc(offsetArg as number);
  if (offset === 0 || NumberIsNaN(offset)) return 0;
  if (offset < 0) return MathMax(offset + length, 0);
  return MathMin(offset, length);
}

function toInteger(value: unknown, fallback: number): number {
  const n = +(value as number);
  if (!NumberIsNaN(n) && n >= Number.MIN_SAFE_INTEGER && n <= Number.MAX_SAFE_INTEGER) return n % 1 === 0 ? n : MathFloor(n);
  return fallback;
}

function fillBuffer(buffer: Uint8Array, valueArg: unknown, offsetArg?: unknown, endArg?: unknown, encodingArg?: unknown): Uint8Array {
  let value = valueArg;
  let offset = offsetArg;
  let end = endArg;
  let encoding: Encoding = "utf8";
  if (typeof value === "string") {
    let encodingName = encodingArg;
    if (offset === undefined || typeof offset === "string") {
      encodingName = offset;
      offset = 0;
      end = TypedArrayPrototypeGetLength(buffer);
    } else if (typeof end === "string") {
      encodingName = end;
      end = TypedArrayPrototypeGetLength(buffer);
    }
    const normalized = normalizeEncoding(encodingName);
    if (normalized === undefined) {
      if (typeof encodingName !== "string") throw invalidArgType("encoding", "string", encodingName);
      throw unknownEncoding(encodingName);
    }
    encoding = normalized;
    if (value.length === 0) value = 0;
    else if (value.length === 1) {
      if (encoding === "utf8" && StringPrototypeCharCodeAt(value, 0) < 128) value = StringPrototypeCharCodeAt(value, 0);
      else if (encoding === "latin1") value = StringPrototypeCharCodeAt(value, 0) & 0xff;
    }
  }
  let start: number;
  let stop: number;
  if (offset === undefined) {
    start = 0;
    stop = TypedArrayPrototypeGetLength(buffer);
  } else {
    validateOffset(offset, "offset");
    start = offset;
    if (end === undefined) stop = TypedArrayPrototypeGetLength(buffer);
    else {
      validateOffset(end, "end", 0, TypedArrayPrototypeGetLength(buffer));
      stop = end;
    }
    if (start >= stop) return buffer;
  }
  if (typeof value === "number") {
    if (stop - start + start > TypedArrayPrototypeGetLength(buffer)) throw bufferOutOfBounds();
    fillBytes(buffer, value, start, stop);
    return buffer;
  }
  let pattern: Uint8Array;
  if (typeof value === "string") pattern = fromString(value, encoding);
  else if (ArrayBufferIsView(value)) pattern = new Uint8Array(ArrayBufferViewGetBuffer(value), ArrayBufferViewGetByteOffset(value), ArrayBufferViewGetByteLength(value));
  else {
    fillBytes(buffer, Number(value) & 255, start, stop);
    return buffer;
  }
  if (TypedArrayPrototypeGetLength(pattern) === 0) throw invalidArgValue("value", value);
  if (start > TypedArrayPrototypeGetLength(buffer) || stop > TypedArrayPrototypeGetLength(buffer)) throw bufferOutOfBounds();
  for (let at = start; at < stop; at += TypedArrayPrototypeGetLength(pattern)) TypedArrayPrototypeSet(buffer, stop - at >= TypedArrayPrototypeGetLength(pattern) ? pattern : view(pattern, 0, stop - at), at);
  return buffer;
}

// Where a search may start, as Node's C++ IndexOfOffset computes it (-1: nothing to search).
function searchStart(length: number, offset: number, needleLength: number, forward: boolean): number {
  if (offset < 0) {
    if (offset + length >= 0) return length + offset;
    return forward || needleLength === 0 ? 0 : -1;
  }
  if (offset + needleLength <= length) return offset;
  if (needleLength === 0) return length;
  return forward ? -1 : length - 1;
}

function searchBytes(haystack: Uint8Array, needle: Uint8Array, offsetArg: number, forward: boolean, step: number): number {
  const start = searchStart(TypedArrayPrototypeGetLength(haystack), offsetArg, TypedArrayPrototypeGetLength(needle), forward);
  if (TypedArrayPrototypeGetLength(needle) === 0) return start;
  if (start < 0 || TypedArrayPrototypeGetLength(haystack) === 0) return -1;
  const last = TypedArrayPrototypeGetLength(haystack) - TypedArrayPrototypeGetLength(needle);
  const matches = (at: number) => {
    for (let j = 0; j < TypedArrayPrototypeGetLength(needle); j++) if (haystack[at + j] !== needle[j]) return false;
    return true;
  };
  if (forward) {
    for (let at = start; at <= last; at++) if ((step === 1 || at % step === 0) && matches(at)) return at;
  } else {
    for (let at = MathMin(start, last); at >= 0; at--) if ((step === 1 || at % step === 0) && matches(at)) return at;
  }
  return -1;
}

function indexOf(buffer: Uint8Array, value: unknown, byteOffsetArg: unknown, encodingArg: unknown, forward: boolean): number {
  let byteOffset = byteOffsetArg;
  let encodingName = encodingArg;
  if (typeof byteOffset === "string") {
    encodingName = byteOffset;
    byteOffset = undefined;
  } else if ((byteOffset as number) > 0x7fffffff) byteOffset = 0x7fffffff;
  else if ((byteOffset as number) < -0x80000000) byteOffset = -0x80000000;
  let offset = +(byteOffset as number);
  if (NumberIsNaN(offset)) offset = forward ? 0 : TypedArrayPrototypeGetLength(buffer);
  offset = MathTrunc(offset);
  if (typeof value === "number") {
    const start = searchStart(TypedArrayPrototypeGetLength(buffer), offset, 1, forward);
    if (start < 0 || TypedArrayPrototypeGetLength(buffer) === 0) return -1;
    const byte = (value >>> 0) & 255;
    return forward ? TypedArrayPrototypeIndexOf(buffer, byte, start) : TypedArrayPrototypeLastIndexOf(buffer, byte, start);
  }
  const encoding = encodingName === undefined ? "utf8" : strictEncoding(encodingName);
  if (typeof value === "string") {
    if (encoding === undefined) throw unknownEncoding(encodingName);
    return searchBytes(buffer, fromString(value, encoding), offset, forward, encoding === "utf16le" ? 2 : 1);
  }
  if (isUint8Array(value)) return searchBytes(buffer, value, offset, forward, encoding === "utf16le" ? 2 : 1);
  throw invalidArgType("value", ["number", "string", "Buffer", "Uint8Array"], value);
}

function copy(source: unknown, target: unknown, targetStartArg: unknown, sourceStartArg: unknown, sourceEndArg: unknown): number {
  if (!isUint8Array(source)) throw invalidArgType("source", ["Buffer", "Uint8Array"], source);
  if (!isUint8Array(target)) throw invalidArgType("target", ["Buffer", "Uint8Array"], target);
  let targetStart = 0;
  if (targetStartArg !== undefined) {
    targetStart = toInteger(targetStartArg, 0);
    if (targetStart < 0) throw outOfRange("targetStart", ">= 0", targetStart);
  }
  let sourceStart = 0;
  if (sourceStartArg !== undefined) {
    sourceStart = toInteger(sourceStartArg, 0);
    if (sourceStart < 0 || sourceStart > TypedArrayPrototypeGetLength(source)) throw outOfRange("sourceStart", `>= 0 && <= ${TypedArrayPrototypeGetLength(source)}`, sourceStart);
  }
  let sourceEnd = TypedArrayPrototypeGetLength(source);
  if (sourceEndArg !== undefined) {
    sourceEnd = toInteger(sourceEndArg, 0);
    if (sourceEnd < 0) throw outOfRange("sourceEnd", ">= 0", sourceEnd);
  }
  if (targetStart >= TypedArrayPrototypeGetLength(target) || sourceStart >= sourceEnd) return 0;
  if (sourceEnd - sourceStart > TypedArrayPrototypeGetLength(target) - targetStart) sourceEnd = sourceStart + TypedArrayPrototypeGetLength(target) - targetStart;
  const count = MathMin(sourceEnd - sourceStart, TypedArrayPrototypeGetLength(source) - sourceStart);
  TypedArrayPrototypeSet(target, new Uint8Array(TypedArrayPrototypeGetBuffer(source), TypedArrayPrototypeGetByteOffset(source) + sourceStart, count), targetStart);
  return count;
}

function swap(buffer: Uint8Array, size: number): Uint8Array {
  if (TypedArrayPrototypeGetLength(buffer) % size !== 0) throw nodeError(RangeError, "ERR_INVALID_BUFFER_SIZE", `Buffer size must be a multiple of ${size * 8}-bits`);
  for (let i = 0; i < TypedArrayPrototypeGetLength(buffer); i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = buffer[a];
      buffer[a] = buffer[b];
      buffer[b] = t;
    }
  }
  return buffer;
}

export function toStringMethod(this: Uint8Array, encodingArg?: unknown, startArg?: unknown, endArg?: unknown): string {
  if (arguments.length === 0) return utf8Slice(this, 0, TypedArrayPrototypeGetLength(this));
  const length = TypedArrayPrototypeGetLength(this);
  let start: number;
  if ((startArg as number) <= 0) start = 0;
  else if ((startArg as number) >= length) return "";
  else start = MathTrunc(startArg as number) || 0;
  let end: number;
  if (endArg === undefined || (endArg as number) > length) end = length;
  else end = MathTrunc(endArg as number) || 0;
  if (end <= start) return "";
  if (encodingArg === undefined) return utf8Slice(this, start, end);
  const encoding = strictEncoding(encodingArg);
  if (encoding === undefined) throw unknownEncoding(encodingArg);
  return sliceString(this, start, end, encoding);
}

function write(this: Uint8Array, text: unknown, offsetArg?: unknown, lengthArg?: unknown, encodingArg?: unknown): number {
  if (typeof text !== "string") throw nodeError(TypeError, "ERR_INVALID_ARG_TYPE", "argument must be a string");
  if (offsetArg === undefined) return utf8Write(text, this, 0, TypedArrayPrototypeGetLength(this));
  let offset: number;
  let length: number;
  let encodingName = encodingArg;
  if (lengthArg === undefined && typeof offsetArg === "string") {
    encodingName = offsetArg;
    length = TypedArrayPrototypeGetLength(this);
    offset = 0;
  } else {
    validateOffset(offsetArg, "offset", 0, TypedArrayPrototypeGetLength(this));
    offset = offsetArg;
    const remaining = TypedArrayPrototypeGetLength(this) - offset;
    if (lengthArg === undefined) length = remaining;
    else if (typeof lengthArg === "string") {
      encodingName = lengthArg;
      length = remaining;
    } else {
      validateOffset(lengthArg, "length", 0, TypedArrayPrototypeGetLength(this));
      length = MathMin(lengthArg, remaining);
    }
  }
  if (!encodingName) return utf8Write(text, this, offset, length);
  const encoding = strictEncoding(encodingName);
  if (encoding === undefined) throw unknownEncoding(encodingName);
  return writeString(this, text, offset, length, encoding);
}

function inspectBuffer(this: Uint8Array, _depth?: unknown, options?: { showHidden?: boolean }, inspect?: (value: unknown, options: object) => string): string {
  const shown = MathMin(INSPECT_MAX_BYTES, TypedArrayPrototypeGetLength(this));
  let text = StringPrototypeTrim(RegExpPrototypeSymbolReplace(/(.{2})/g, hexSlice(this, 0, shown), "$1 "));
  const remaining = TypedArrayPrototypeGetLength(this) - INSPECT_MAX_BYTES;
  if (remaining > 0) text += ` ... ${remaining} more byte${remaining > 1 ? "s" : ""}`;
  if (options !== undefined && typeof inspect === "function") {
    const extras: Record<string, unknown> = ObjectCreate(null);
    let any = false;
    for (let i75 = 0, a75 = ObjectKeys(this); i75 < a75.length; i75++) {
      const key = a75[i75];
      if ((RegExpPrototypeExec(/^(0|[1-9][0-9]*)$/, key) !== null)) continue;
      extras[key] = (this as unknown as Record<string, unknown>)[key];
      any = true;
    }
    if (any) {
      if (TypedArrayPrototypeGetLength(this) !== 0) text += ", ";
      text += StringPrototypeSlice(inspect(extras, { ...options, breakLength: Infinity, compact: true }), 27, -2);
    }
  }
  return `<${(this.constructor as { name: string }).name} ${text}>`;
}

const proto = FastBuffer.prototype as unknown as Record<string | symbol, unknown>;
const methods: Record<string, unknown> = {
  toString: toStringMethod,
  toLocaleString: toStringMethod,
  write,
  equals(this: Uint8Array, other: unknown): boolean {
    if (!isUint8Array(other)) throw invalidArgType("otherBuffer", ["Buffer", "Uint8Array"], other);
    return this === other || (TypedArrayPrototypeGetLength(this) === TypedArrayPrototypeGetLength(other) && compareBytes(this, 0, TypedArrayPrototypeGetLength(this), other, 0, TypedArrayPrototypeGetLength(other)) === 0);
  },
  compare(this: Uint8Array, target: unknown, targetStart?: unknown, targetEnd?: unknown, sourceStart?: unknown, sourceEnd?: unknown): number {
    if (!isUint8Array(target)) throw invalidArgType("target", ["Buffer", "Uint8Array"], target);
    if (targetStart === undefined) targetStart = 0;
    else validateOffset(targetStart, "targetStart");
    if (targetEnd === undefined) targetEnd = TypedArrayPrototypeGetLength(target);
    else validateOffset(targetEnd, "targetEnd", 0, TypedArrayPrototypeGetLength(target));
    if (sourceStart === undefined) sourceStart = 0;
    else validateOffset(sourceStart, "sourceStart");
    if (sourceEnd === undefined) sourceEnd = TypedArrayPrototypeGetLength(this);
    else validateOffset(sourceEnd, "sourceEnd", 0, TypedArrayPrototypeGetLength(this));
    const d13 = [targetStart as number, targetEnd as number, sourceStart as number, sourceEnd as number], ts = d13[0], te = d13[1], ss = d13[2], se = d13[3];
    if (ss >= se) return ts >= te ? 0 : -1;
    if (ts >= te) return 1;
    return compareBytes(this, ss, se, target, ts, te);
  },
  copy(this: Uint8Array, target: unknown, targetStart?: unknown, sourceStart?: unknown, sourceEnd?: unknown): number {
    return copy(this, target, targetStart, sourceStart, sourceEnd);
  },
  fill(this: Uint8Array, value: unknown, offset?: unknown, end?: unknown, encoding?: unknown): Uint8Array {
    return fillBuffer(this, value, offset, end, encoding);
  },
  indexOf(this: Uint8Array, value: unknown, byteOffset?: unknown, encoding?: unknown): number {
    return indexOf(this, value, byteOffset, encoding, true);
  },
  lastIndexOf(this: Uint8Array, value: unknown, byteOffset?: unknown, encoding?: unknown): number {
    return indexOf(this, value, byteOffset, encoding, false);
  },
  includes(this: Uint8Array, value: unknown, byteOffset?: unknown, encoding?: unknown): boolean {
    return indexOf(this, value, byteOffset, encoding, true) !== -1;
  },
  slice(this: Uint8Array, start?: unknown, end?: unknown): Uint8Array {
    const length = TypedArrayPrototypeGetLength(this);
    const from = adjustOffset(start, length);
    const to = end !== undefined ? adjustOffset(end, length) : length;
    return new FastBuffer(TypedArrayPrototypeGetBuffer(this) as ArrayBuffer, TypedArrayPrototypeGetByteOffset(this) + from, to > from ? to - from : 0);
  },
  toJSON(this: Uint8Array): { type: "Buffer"; data: number[] } {
    const data: number[] = [];
    for (let i = 0; i < TypedArrayPrototypeGetLength(this); i++) data[i] = this[i];
    return { type: "Buffer", data };
  },
  swap16(this: Uint8Array): Uint8Array {
    return swap(this, 2);
  },
  swap32(this: Uint8Array): Uint8Array {
    return swap(this, 4);
  },
  swap64(this: Uint8Array): Uint8Array {
    return swap(this, 8);
  },
  inspect: inspectBuffer,
};
methods.subarray = methods.slice;
for (let i76 = 0, a76 = ObjectEntries(methods); i76 < a76.length; i76++) {
  const name = a76[i76][0], value = a76[i76][1];
  ObjectDefineProperty(proto, name, { value, writable: true, configurable: true, enumerable: false });
}
ObjectDefineProperty(proto, customInspect, { value: inspectBuffer, writable: true, configurable: true, enumerable: false });
for (let i77 = 0, a77 = [
  ["parent", function (this: Uint8Array) { return this instanceof FastBuffer ? TypedArrayPrototypeGetBuffer(this) : undefined; }],
  ["offset", function (this: Uint8Array) { return this instanceof FastBuffer ? TypedArrayPrototypeGetByteOffset(this) : undefined; }],
] as const; i77 < a77.length; i77++) {const name = a77[i77][0], get = a77[i77][1];ObjectDefineProperty(proto, name, { get, enumerable: true, configurable: true });}
installNumberMethods(proto);

const statics: Record<string, unknown> = {
  from,
  alloc,
  allocUnsafe,
  allocUnsafeSlow: allocUnsafe,
  of: (...items: unknown[]) => fromArrayLike(items),
  copyBytesFrom,
  isBuffer,
  compare,
  isEncoding,
  concat,
  byteLength,
};
for (let i78 = 0, a78 = ObjectEntries(statics); i78 < a78.length; i78++) {
  const name = a78[i78][0], value = a78[i78][1];
  ObjectDefineProperty(Buffer, name, { value, writable: true, configurable: true, enumerable: true });
}
(Buffer as unknown as { poolSize: number }).poolSize = 8 * 1024;

/** Deprecated in Node; kept for old code: an uninitialised (here: zeroed) Buffer. */
export function SlowBuffer(size: unknown): Uint8Array {
  return allocUnsafe(size);
}
ObjectSetPrototypeOf(SlowBuffer.prototype, Uint8Array.prototype);
ObjectSetPrototypeOf(SlowBuffer, Uint8Array);
