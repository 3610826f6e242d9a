// crypto.getRandomValues and crypto.randomUUID (WebCrypto §10.1), with bytes from the host's CSPRNG.

import { host } from "../../platform.ts";

const MAX_BYTES = 65_536;

function quotaExceeded(length: number): Error {
  const message = `Failed to execute 'getRandomValues' on 'Crypto': The ArrayBufferView's byte length (${length}) exceeds the number of bytes of entropy available via this API (${MAX_BYTES}).`;
  return domException(message, "QuotaExceededError");
}

function domException(message: string, name: string): Error {
  const Ctor = (globalThis as { DOMException?: new (message: string, name: string) => Error }).DOMException;
  if (Ctor !== undefined) return new Ctor(message, name);
  const error = new Error(message);
  error.name = name;
  return error;
}

const integerArrays = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array, BigUint64Array];

export function getRandomValues<T extends ArrayBufferView | null>(array: T): T {
  if (!integerArrays.some((Type) => array instanceof Type)) {
    throw domException("Failed to execute 'getRandomValues' on 'Crypto': The provided ArrayBufferView is of type that is not an integer array.", "TypeMismatchError");
  }
  const view = array as unknown as ArrayBufferView;
  if (view.byteLength > MAX_BYTES) throw quotaExceeded(view.byteLength);
  const bytes = host("crypto.random", view.byteLength) as Uint8Array;
  new Uint8Array(view.buffer, view.byteOffset, view.byteLength).set(bytes);
  return array;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function randomUUID(): string {
  const b = host("crypto.random", 16) as Uint8Array;
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  return `${HEX[b[0]]}${HEX[b[1]]}${HEX[b[2]]}${HEX[b[3]]}-${HEX[b[4]]}${HEX[b[5]]}-${HEX[b[6]]}${HEX[b[7]]}-${HEX[b[8]]}${HEX[b[9]]}-${HEX[b[10]]}${HEX[b[11]]}${HEX[b[12]]}${HEX[b[13]]}${HEX[b[14]]}${HEX[b[15]]}`;
}
