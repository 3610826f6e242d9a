// Joins byte pieces into one Uint8Array that owns its whole buffer.

import { primordials } from "../primordials.ts";

const { TypedArrayPrototypeGetByteLength, TypedArrayPrototypeSet, Uint8Array } = primordials;

export function concatBytes(pieces: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (let i0 = 0, a0 = pieces; i0 < a0.length; i0++) {
    const piece = a0[i0];
    length += TypedArrayPrototypeGetByteLength(piece);
  }
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (let i1 = 0, a1 = pieces; i1 < a1.length; i1++) {
    const piece = a1[i1];
    TypedArrayPrototypeSet(bytes, piece, offset);
    offset += TypedArrayPrototypeGetByteLength(piece);
  }
  return bytes;
}
