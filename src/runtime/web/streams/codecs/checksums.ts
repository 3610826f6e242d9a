// The checksums of the gzip (CRC-32, RFC 1952) and zlib (Adler-32, RFC 1950) wrappers. fflate's
// streaming decompressors do not verify them, and a corrupt stream must fail, as it does in
// browsers, rather than yield wrong bytes.

import { primordials } from "../../../primordials.ts";

const { Int32Array, TypedArrayPrototypeGetLength } = primordials;

let crcTable: Int32Array | undefined;

function table(): Int32Array {
  if (crcTable !== undefined) return crcTable;
  crcTable = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crcTable[n] = c;
  }
  return crcTable;
}

/** Continues the CRC-32 `crc` (0 to start) over `bytes`; returns an unsigned 32-bit value. */
export function crc32(crc: number, bytes: Uint8Array): number {
  const t = table();
  let c = ~crc;
  for (let i = 0; i < TypedArrayPrototypeGetLength(bytes); i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** Continues the CRC-32 `crc` over one byte. */
export function crc32Byte(crc: number, byte: number): number {
  const c = ~crc;
  return ~(table()[(c ^ byte) & 0xff] ^ (c >>> 8)) >>> 0;
}

/** Continues the Adler-32 `adler` (1 to start) over `bytes`; returns an unsigned 32-bit value. */
export function adler32(adler: number, bytes: Uint8Array): number {
  let a = adler & 0xffff;
  let b = adler >>> 16;
  // 5552 is the longest run whose sums cannot overflow before the modulo (zlib's NMAX).
  for (let start = 0; start < TypedArrayPrototypeGetLength(bytes); start += 5552) {
    const end = start + 5552 < TypedArrayPrototypeGetLength(bytes) ? start + 5552 : TypedArrayPrototypeGetLength(bytes);
    for (let i = start; i < end; i++) {
      a += bytes[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}
