// crypto.getRandomValues and crypto.randomUUID (WebCrypto §10.1), with bytes from the host's CSPRNG.

import { fillRandom } from "./entropy.ts";
import { domException } from "./errors.ts";
import { primordials, SymbolToStringTag } from "../../primordials.ts";

const { ArrayBufferIsView, ArrayBufferViewGetBuffer, ArrayBufferViewGetByteLength, ArrayBufferViewGetByteOffset, ArrayFromLength, Int8Array, NumberPrototypeToString, Originals, ReflectApply, SetFrom, SetPrototypeHas, StringPrototypePadStart, TypeError, Uint8Array } = primordials;

const MAX_BYTES = 65_536;

// The [[TypedArrayName]] of a typed array, or undefined for anything else (a brand check that no
// prototype trick can fool, unlike instanceof).
const typedArrayName = Originals["get TypedArray.prototype[Symbol.toStringTag]"]!;

const INTEGER_ARRAYS = SetFrom(["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "BigInt64Array", "BigUint64Array"]);

export function getRandomValues<T extends ArrayBufferView | null>(array: T): T {
  if (!ArrayBufferIsView(array)) throw new TypeError("Failed to execute 'getRandomValues' on 'Crypto': parameter 1 is not of type 'ArrayBufferView'.");
  if (!SetPrototypeHas(INTEGER_ARRAYS, ReflectApply(typedArrayName, array, []) as string)) {
    throw domException("Failed to execute 'getRandomValues' on 'Crypto': The provided ArrayBufferView is of type that is not an integer array.", "TypeMismatchError");
  }
  const view = array as ArrayBufferView;
  if (ArrayBufferViewGetByteLength(view) > MAX_BYTES) {
    const message = `Failed to execute 'getRandomValues' on 'Crypto': The ArrayBufferView's byte length (${ArrayBufferViewGetByteLength(view)}) exceeds the number of bytes of entropy available via this API (${MAX_BYTES}).`;
    throw domException(message, "QuotaExceededError");
  }
  if (ArrayBufferViewGetByteLength(view) === 0) return array;
  fillRandom(new Uint8Array(ArrayBufferViewGetBuffer(view), ArrayBufferViewGetByteOffset(view), ArrayBufferViewGetByteLength(view)));
  return array;
}

const HEX = ArrayFromLength(256, (i) => StringPrototypePadStart(NumberPrototypeToString(i, 16), 2, "0"));

export function randomUUID(): string {
  const b = new Uint8Array(16);
  fillRandom(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  return `${HEX[b[0]]}${HEX[b[1]]}${HEX[b[2]]}${HEX[b[3]]}-${HEX[b[4]]}${HEX[b[5]]}-${HEX[b[6]]}${HEX[b[7]]}-${HEX[b[8]]}${HEX[b[9]]}-${HEX[b[10]]}${HEX[b[11]]}${HEX[b[12]]}${HEX[b[13]]}${HEX[b[14]]}${HEX[b[15]]}`;
}
