// Buffer's string encodings, byte-for-byte as Node does them: UTF-8 with WHATWG replacement of bad
// sequences (and the BOM kept), lenient base64 that skips stray characters and stops at "=", hex
// that stops at the first bad pair, and partial writes that never split a character.

import { primordials } from "../../primordials.ts";

const { ArrayFromLength, Int8Array, MathMin, NumberPrototypeToString, ReflectApply, StringFromCharCode, StringPrototypeCharCodeAt, StringPrototypeToLowerCase, TypedArrayPrototypeFill, TypedArrayPrototypeGetBuffer, TypedArrayPrototypeGetByteOffset, TypedArrayPrototypeGetLength, Uint16Array, Uint8Array } = primordials;

export type Encoding = "utf8" | "utf16le" | "latin1" | "ascii" | "base64" | "base64url" | "hex";

export function normalizeEncoding(value: unknown): Encoding | undefined {
  if (value === undefined || value === null || value === "") return "utf8";
  if (typeof value !== "string") return undefined;
  switch (value.length < 12 ? StringPrototypeToLowerCase(value) : "") {
    case "utf8":
    case "utf-8":
      return "utf8";
    case "ucs2":
    case "ucs-2":
    case "utf16le":
    case "utf-16le":
      return "utf16le";
    case "latin1":
    case "binary":
      return "latin1";
    case "base64":
      return "base64";
    case "base64url":
      return "base64url";
    case "hex":
      return "hex";
    case "ascii":
      return "ascii";
  }
  return undefined;
}

const CHUNK = 0x2000;

// The codes are copied into a plain array first: String.fromCharCode.apply would read a typed
// array's length through its (replaceable) prototype getter.
function codesBetween(codes: ArrayLike<number>, start: number, end: number): number[] {
  const out: number[] = [];
  for (let i = start; i < end; i++) out[i - start] = codes[i];
  return out;
}

function fromCodes(codes: ArrayLike<number>, length: number): string {
  if (length <= CHUNK) return ReflectApply(StringFromCharCode, null, codesBetween(codes, 0, length));
  let out = "";
  for (let i = 0; i < length; i += CHUNK) out += ReflectApply(StringFromCharCode, null, codesBetween(codes, i, MathMin(i + CHUNK, length)));
  return out;
}

export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = StringPrototypeCharCodeAt(text, i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && (StringPrototypeCharCodeAt(text, i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Writes whole characters of `text` into bytes[offset, offset + max); returns bytes written. */
export function utf8Write(text: string, bytes: Uint8Array, offset: number, max: number): number {
  const end = offset + max;
  let at = offset;
  for (let i = 0; i < text.length; i++) {
    let code = StringPrototypeCharCodeAt(text, i);
    if (code < 0x80) {
      if (at >= end) break;
      bytes[at++] = code;
      continue;
    }
    let units = 1;
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = i + 1 < text.length ? StringPrototypeCharCodeAt(text, i + 1) : 0;
      if (code <= 0xdbff && (next & 0xfc00) === 0xdc00) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        units = 2;
      } else code = 0xfffd;
    }
    if (code < 0x800) {
      if (at + 2 > end) break;
      bytes[at++] = 0xc0 | (code >> 6);
    } else if (code < 0x10000) {
      if (at + 3 > end) break;
      bytes[at++] = 0xe0 | (code >> 12);
      bytes[at++] = 0x80 | ((code >> 6) & 0x3f);
    } else {
      if (at + 4 > end) break;
      bytes[at++] = 0xf0 | (code >> 18);
      bytes[at++] = 0x80 | ((code >> 12) & 0x3f);
      bytes[at++] = 0x80 | ((code >> 6) & 0x3f);
    }
    bytes[at++] = 0x80 | (code & 0x3f);
    i += units - 1;
  }
  return at - offset;
}

/** UTF-8 decoding per the WHATWG Encoding Standard (each maximal bad subpart becomes U+FFFD). */
export function utf8Slice(bytes: Uint8Array, start: number, end: number): string {
  const units = new Uint16Array(MathMin(end - start, CHUNK) + 1);
  let out = "";
  let n = 0;
  let i = start;
  while (i < end) {
    if (n >= CHUNK) {
      out += fromCodes(units, n);
      n = 0;
    }
    const byte = bytes[i];
    if (byte < 0x80) {
      units[n++] = byte;
      i++;
      continue;
    }
    let needed = 0;
    let code = 0;
    let lower = 0x80;
    let upper = 0xbf;
    if (byte >= 0xc2 && byte <= 0xdf) {
      needed = 1;
      code = byte & 0x1f;
    } else if (byte >= 0xe0 && byte <= 0xef) {
      needed = 2;
      code = byte & 0xf;
      if (byte === 0xe0) lower = 0xa0;
      if (byte === 0xed) upper = 0x9f;
    } else if (byte >= 0xf0 && byte <= 0xf4) {
      needed = 3;
      code = byte & 0x7;
      if (byte === 0xf0) lower = 0x90;
      if (byte === 0xf4) upper = 0x8f;
    } else {
      units[n++] = 0xfffd;
      i++;
      continue;
    }
    let j = i + 1;
    let seen = 0;
    while (seen < needed && j < end) {
      const next = bytes[j];
      if (next < lower || next > upper) break;
      code = (code << 6) | (next & 0x3f);
      lower = 0x80;
      upper = 0xbf;
      j++;
      seen++;
    }
    if (seen < needed) {
      units[n++] = 0xfffd;
      i = j;
      continue;
    }
    if (code >= 0x10000) {
      code -= 0x10000;
      units[n++] = 0xd800 | (code >> 10);
      units[n++] = 0xdc00 | (code & 0x3ff);
    } else units[n++] = code;
    i = j;
  }
  return out + fromCodes(units, n);
}

function latin1Write(text: string, bytes: Uint8Array, offset: number, max: number): number {
  const length = MathMin(text.length, max);
  for (let i = 0; i < length; i++) bytes[offset + i] = StringPrototypeCharCodeAt(text, i);
  return length;
}

export function latin1Slice(bytes: Uint8Array, start: number, end: number): string {
  return fromCodes(new Uint8Array(TypedArrayPrototypeGetBuffer(bytes), TypedArrayPrototypeGetByteOffset(bytes) + start, end - start), end - start);
}

function asciiSlice(bytes: Uint8Array, start: number, end: number): string {
  const codes = new Uint8Array(end - start);
  for (let i = start; i < end; i++) codes[i - start] = bytes[i] & 0x7f;
  return fromCodes(codes, TypedArrayPrototypeGetLength(codes));
}

function ucs2Write(text: string, bytes: Uint8Array, offset: number, max: number): number {
  const length = MathMin(text.length, max >>> 1);
  for (let i = 0; i < length; i++) {
    const unit = StringPrototypeCharCodeAt(text, i);
    bytes[offset + 2 * i] = unit & 0xff;
    bytes[offset + 2 * i + 1] = unit >>> 8;
  }
  return length * 2;
}

function ucs2Slice(bytes: Uint8Array, start: number, end: number): string {
  const count = (end - start) >>> 1;
  const units = new Uint16Array(count);
  for (let i = 0; i < count; i++) units[i] = bytes[start + 2 * i] | (bytes[start + 2 * i + 1] << 8);
  return fromCodes(units, count);
}

const HEX = ArrayFromLength(256, (i) => (i < 16 ? "0" : "") + NumberPrototypeToString(i, 16));

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

function hexWrite(text: string, bytes: Uint8Array, offset: number, max: number): number {
  const length = MathMin(text.length >>> 1, max);
  let i = 0;
  for (; i < length; i++) {
    const high = hexValue(StringPrototypeCharCodeAt(text, 2 * i));
    const low = hexValue(StringPrototypeCharCodeAt(text, 2 * i + 1));
    if (high < 0 || low < 0) break;
    bytes[offset + i] = (high << 4) | low;
  }
  return i;
}

export function hexSlice(bytes: Uint8Array, start: number, end: number): string {
  let out = "";
  for (let i = start; i < end; i++) out += HEX[bytes[i]];
  return out;
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
// Both alphabets decode under either name, as in Node.
const DECODE = TypedArrayPrototypeFill(new Int8Array(128), -1);
for (let i = 0; i < 64; i++) {
  DECODE[StringPrototypeCharCodeAt(BASE64, i)] = i;
  DECODE[StringPrototypeCharCodeAt(BASE64URL, i)] = i;
}

function base64ByteLength(text: string): number {
  let length = text.length;
  if (length > 0 && StringPrototypeCharCodeAt(text, length - 1) === 0x3d) length--;
  if (length > 1 && StringPrototypeCharCodeAt(text, length - 1) === 0x3d) length--;
  return (length * 3) >>> 2;
}

/**
 * Skips characters outside both alphabets and stops at the first "=", like Node's decoder, which
 * also reads each UTF-16 unit by its low byte only.
 */
export function base64Write(text: string, bytes: Uint8Array, offset: number, max: number): number {
  let at = offset;
  const end = offset + max;
  let bits = 0;
  let count = 0;
  for (let i = 0; i < text.length && at < end; i++) {
    const code = StringPrototypeCharCodeAt(text, i) & 0xff;
    if (code === 0x3d) break;
    const value = code < 128 ? DECODE[code] : -1;
    if (value < 0) continue;
    bits = (bits << 6) | value;
    count += 6;
    if (count >= 8) {
      count -= 8;
      bytes[at++] = (bits >> count) & 0xff;
    }
  }
  return at - offset;
}

function base64Slice(bytes: Uint8Array, start: number, end: number, url = false): string {
  const alphabet = url ? BASE64URL : BASE64;
  let out = "";
  let i = start;
  for (; i + 2 < end; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + alphabet[(n >> 6) & 63] + alphabet[n & 63];
  }
  const rest = end - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    out += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + (url ? "" : "==");
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + alphabet[(n >> 6) & 63] + (url ? "" : "=");
  }
  return out;
}

export function byteLengthOf(text: string, encoding: Encoding): number {
  switch (encoding) {
    case "utf8":
      return utf8ByteLength(text);
    case "utf16le":
      return text.length * 2;
    case "latin1":
    case "ascii":
      return text.length;
    case "hex":
      return text.length >>> 1;
    case "base64":
    case "base64url":
      return base64ByteLength(text);
  }
}

export function writeString(bytes: Uint8Array, text: string, offset: number, max: number, encoding: Encoding): number {
  switch (encoding) {
    case "utf8":
      return utf8Write(text, bytes, offset, max);
    case "utf16le":
      return ucs2Write(text, bytes, offset, max);
    case "latin1":
    case "ascii":
      return latin1Write(text, bytes, offset, max);
    case "hex":
      return hexWrite(text, bytes, offset, max);
    case "base64":
    case "base64url":
      return base64Write(text, bytes, offset, max);
  }
}

export function sliceString(bytes: Uint8Array, start: number, end: number, encoding: Encoding): string {
  switch (encoding) {
    case "utf8":
      return utf8Slice(bytes, start, end);
    case "utf16le":
      return ucs2Slice(bytes, start, end);
    case "latin1":
      return latin1Slice(bytes, start, end);
    case "ascii":
      return asciiSlice(bytes, start, end);
    case "hex":
      return hexSlice(bytes, start, end);
    case "base64":
      return base64Slice(bytes, start, end);
    case "base64url":
      return base64Slice(bytes, start, end, true);
  }
}
