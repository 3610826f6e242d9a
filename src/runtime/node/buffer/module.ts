// node:buffer: Buffer and the module-level helpers (atob/btoa, isUtf8/isAscii, limits). Blob and
// File are the sandbox's globals and are not re-exported here.

import { events } from "../../platform.ts";
import { invalidArgType, missingArgs } from "../errors.ts";
import { Buffer, constants, INSPECT_MAX_BYTES, kMaxLength, kStringMaxLength, SlowBuffer } from "./buffer.ts";
import { base64Write, latin1Slice } from "./codecs.ts";
import { primordials } from "../../primordials.ts";

const { ArrayBuffer, ArrayBufferIsView, ArrayBufferViewGetBuffer, ArrayBufferViewGetByteLength, ArrayBufferViewGetByteOffset, Error, RegExpPrototypeExec, SetFrom, SetPrototypeHas, StringPrototypeCharCodeAt, TypedArrayPrototypeGetLength, Uint8Array } = primordials;

function bytesOf(input: unknown): Uint8Array {
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBufferIsView(input)) return new Uint8Array(ArrayBufferViewGetBuffer(input), ArrayBufferViewGetByteOffset(input), ArrayBufferViewGetByteLength(input));
  throw invalidArgType("input", ["ArrayBuffer", "Buffer", "TypedArray"], input);
}

/** Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
export function isUtf8(input: unknown): boolean {
  const bytes = bytesOf(input);
  for (let i = 0; i < TypedArrayPrototypeGetLength(bytes); ) {
    const byte = bytes[i];
    if (byte < 0x80) {
      i++;
      continue;
    }
    let needed: number;
    let lower = 0x80;
    let upper = 0xbf;
    if (byte >= 0xc2 && byte <= 0xdf) needed = 1;
    else if (byte >= 0xe0 && byte <= 0xef) {
      needed = 2;
      if (byte === 0xe0) lower = 0xa0;
      if (byte === 0xed) upper = 0x9f;
    } else if (byte >= 0xf0 && byte <= 0xf4) {
      needed = 3;
      if (byte === 0xf0) lower = 0x90;
      if (byte === 0xf4) upper = 0x8f;
    } else return false;
    for (let j = 1; j <= needed; j++) {
      const next = bytes[i + j];
      if (next === undefined || next < lower || next > upper) return false;
      lower = 0x80;
      upper = 0xbf;
    }
    i += needed + 1;
  }
  return true;
}

export function isAscii(input: unknown): boolean {
  const bytes = bytesOf(input);
  for (let i = 0; i < TypedArrayPrototypeGetLength(bytes); i++) if (bytes[i] >= 0x80) return false;
  return true;
}

function invalidCharacter(message = "Invalid character"): Error {
  const { DOMException } = events() as unknown as { DOMException?: new (message: string, name: string) => Error };
  if (typeof DOMException === "function") return new DOMException(message, "InvalidCharacterError");
  const error = new Error(message);
  error.name = "InvalidCharacterError";
  return error;
}

const WHITESPACE = SetFrom([0x09, 0x0a, 0x0c, 0x0d, 0x20]);
const BASE64_CHARS = /^[A-Za-z0-9+/=]$/;

/** The HTML spec's forgiving-base64 decode, as Node's buffer.atob implements it. */
export function atob(...args: unknown[]): string {
  if (args.length === 0) throw missingArgs("input");
  const input = `${args[0] as string}`;
  let significant = 0;
  let equals = 0;
  for (let i = 0; i < input.length; i++) {
    const code = StringPrototypeCharCodeAt(input, i);
    if (SetPrototypeHas(WHITESPACE, code)) continue;
    if (!(RegExpPrototypeExec(BASE64_CHARS, input[i]) !== null)) throw invalidCharacter();
    significant++;
    if (code === 0x3d) equals++;
    else if (equals) throw invalidCharacter();
    if (equals > 2) throw invalidCharacter();
  }
  let remainder = significant % 4;
  if (!remainder) remainder = (significant - equals) % 4;
  else if (equals) throw invalidCharacter();
  if (remainder === 1) throw invalidCharacter("The string to be decoded is not correctly encoded.");
  const bytes = new Uint8Array((significant * 3) >>> 2);
  const written = base64Write(input, bytes, 0, TypedArrayPrototypeGetLength(bytes));
  return latin1Slice(bytes, 0, written);
}

export function btoa(...args: unknown[]): string {
  if (args.length === 0) throw missingArgs("input");
  const input = `${args[0] as string}`;
  for (let i = 0; i < input.length; i++) if (StringPrototypeCharCodeAt(input, i) > 0xff) throw invalidCharacter();
  return (Buffer as unknown as { from(text: string, encoding: string): { toString(encoding: string): string } }).from(input, "latin1").toString("base64");
}

export function createBufferModule(): Record<string, unknown> {
  return { Buffer, SlowBuffer, isUtf8, isAscii, kMaxLength, kStringMaxLength, btoa, atob, constants, INSPECT_MAX_BYTES };
}
