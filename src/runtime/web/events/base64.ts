// atob() and btoa() (HTML §8.3): base64 over "binary strings", one code unit per byte. atob
// follows the forgiving-base64 decode of the Infra Standard: ASCII whitespace anywhere, padding
// optional, and a failure is an InvalidCharacterError.

import { requireArguments, toDomString } from "../webidl.ts";
import { domException } from "./dom-exception.ts";
import { defineFunction } from "./idl.ts";
import { primordials } from "../../primordials.ts";

const { Int8Array, MathCeil, MathMin, ReflectApply, StringFromCharCode, StringPrototypeCharCodeAt, TypedArrayPrototypeFill, TypedArrayPrototypeSubarray, Uint16Array, Uint8Array } = primordials;

const fromCharCode = StringFromCharCode;
const apply = ReflectApply;
const min = MathMin;
const ceil = MathCeil;

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const ENCODE = new Uint8Array(64);
const DECODE = TypedArrayPrototypeFill(new Int8Array(128), -1);
for (let index = 0; index < 64; index++) {
  ENCODE[index] = StringPrototypeCharCodeAt(ALPHABET, index);
  DECODE[StringPrototypeCharCodeAt(ALPHABET, index)] = index;
}

const EQUALS = 0x3d;
// fromCharCode takes its code units as arguments; this many at a time stays far below V8's limit.
const CHUNK = 8192;

function isAsciiWhitespace(code: number): boolean {
  return code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d || code === 0x20;
}

function invalidEncoding(): Error {
  return domException("The string to be decoded is not correctly encoded.", "InvalidCharacterError");
}

function toBinaryString(codes: Uint8Array | Uint16Array, length: number): string {
  let text = "";
  for (let start = 0; start < length; start += CHUNK) text += apply(fromCharCode, null, TypedArrayPrototypeSubarray(codes, start, min(start + CHUNK, length)) as unknown as number[]);
  return text;
}

export const atob = defineFunction(function atob(data: unknown): string {
  requireArguments(arguments.length, 1, "'atob'");
  const text = toDomString(data);
  const codes = new Uint16Array(text.length);
  let length = 0;
  for (let index = 0; index < text.length; index++) {
    const code = StringPrototypeCharCodeAt(text, index);
    if (!isAsciiWhitespace(code)) codes[length++] = code;
  }
  if (length % 4 === 0 && length > 0 && codes[length - 1] === EQUALS) {
    length--;
    if (codes[length - 1] === EQUALS) length--;
  }
  if (length % 4 === 1) throw invalidEncoding();
  const bytes = new Uint8Array((length * 3) >> 2);
  let written = 0;
  let buffer = 0;
  for (let index = 0; index < length; index++) {
    const code = codes[index];
    const sextet = code < 128 ? DECODE[code] : -1;
    if (sextet < 0) throw invalidEncoding();
    buffer = (buffer << 6) | sextet;
    if ((index & 3) === 3) {
      bytes[written++] = buffer >> 16;
      bytes[written++] = (buffer >> 8) & 0xff;
      bytes[written++] = buffer & 0xff;
      buffer = 0;
    }
  }
  // Leftover 12 or 18 bits hold one or two bytes; the bits below them are discarded.
  const rest = length & 3;
  if (rest === 2) bytes[written++] = buffer >> 4;
  else if (rest === 3) {
    bytes[written++] = buffer >> 10;
    bytes[written++] = (buffer >> 2) & 0xff;
  }
  return toBinaryString(bytes, written);
}, "atob", 1);

export const btoa = defineFunction(function btoa(data: unknown): string {
  requireArguments(arguments.length, 1, "'btoa'");
  const text = toDomString(data);
  const length = text.length;
  const out = new Uint8Array(ceil(length / 3) * 4);
  let written = 0;
  let index = 0;
  const byteAt = (position: number): number => {
    const code = StringPrototypeCharCodeAt(text, position);
    if (code > 0xff) throw domException("The string to be encoded contains characters outside of the Latin1 range.", "InvalidCharacterError");
    return code;
  };
  for (; index + 2 < length; index += 3) {
    const triple = (byteAt(index) << 16) | (byteAt(index + 1) << 8) | byteAt(index + 2);
    out[written++] = ENCODE[triple >> 18];
    out[written++] = ENCODE[(triple >> 12) & 63];
    out[written++] = ENCODE[(triple >> 6) & 63];
    out[written++] = ENCODE[triple & 63];
  }
  if (length - index === 1) {
    const single = byteAt(index);
    out[written++] = ENCODE[single >> 2];
    out[written++] = ENCODE[(single & 3) << 4];
    out[written++] = EQUALS;
    out[written++] = EQUALS;
  } else if (length - index === 2) {
    const pair = (byteAt(index) << 8) | byteAt(index + 1);
    out[written++] = ENCODE[pair >> 10];
    out[written++] = ENCODE[(pair >> 4) & 63];
    out[written++] = ENCODE[(pair & 15) << 2];
    out[written++] = EQUALS;
  }
  return toBinaryString(out, written);
}, "btoa", 1);
