// Joins byte pieces into one Uint8Array that owns its whole buffer.

import { primordials } from "../primordials.ts";

const { Uint8Array } = primordials;

export function concatBytes(pieces: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const piece of pieces) length += piece.byteLength;
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const piece of pieces) {
    bytes.set(piece, offset);
    offset += piece.byteLength;
  }
  return bytes;
}
