// Streaming decompression for DecompressionStream. fflate's Inflate decodes the DEFLATE data;
// the gzip and zlib wrappers around it are read here, because fflate's Gunzip and Unzlib verify
// neither checksum, accept trailing bytes and (Gunzip) concatenated members, and the Compression
// Standard makes all of those errors: anything after the end of the compressed data, a wrong
// checksum, a truncated stream. Every error is a TypeError.

import { Inflate } from "fflate/browser";
import { adler32, crc32 } from "./checksums.ts";
import { GzipHeaderReader } from "./gzip-header.ts";
import { primordials } from "../../../primordials.ts";

const { RangeError, TypeError, TypedArrayPrototypeGetLength, TypedArrayPrototypeSet, TypedArrayPrototypeSubarray, Uint8Array } = primordials;

export type CompressionFormat = "deflate" | "deflate-raw" | "gzip";

// fflate's Inflate keeps its unread input in `p` and its state in `s`: `s.f` is set once the
// final block's header was read, `s.l` holds the current block's code table until the block ends,
// and `s.p` is the bit position in `p` where decoding stopped. fflate's own Gunzip reads the same
// fields to find where a member ends.
interface InflateInternals {
  s: { f?: number; l?: unknown; p?: number };
  p: Uint8Array;
}

const enum Phase {
  Header,
  Body,
  Trailer,
  Done,
}

// Input is fed to Inflate this much at a time, which bounds each output piece (DEFLATE expands
// at most about 1032 times) and the size of Inflate's temporary buffers.
const SLICE_BYTES = 65536;

export class Decompressor {
  readonly #format: CompressionFormat;
  #phase: Phase;
  readonly #gzipHeader: GzipHeaderReader | undefined;
  readonly #inflate: Inflate;
  readonly #wrapper = new Uint8Array(8); // the zlib header, then the gzip or zlib trailer
  #wrapperLength = 0;
  #check: number; // CRC-32 (gzip) or Adler-32 (deflate) of the output so far
  #size = 0; // output length modulo 2^32, for gzip's ISIZE
  #output: Uint8Array[] = [];
  /** With `keepRest` (node:zlib), bytes after the end of the compressed data, kept rather than refused. */
  readonly #keepRest: boolean;
  rest: Uint8Array | undefined;

  constructor(format: CompressionFormat, keepRest = false) {
    this.#keepRest = keepRest;
    this.#format = format;
    this.#phase = format === "deflate-raw" ? Phase.Body : Phase.Header;
    this.#gzipHeader = format === "gzip" ? new GzipHeaderReader() : undefined;
    this.#check = format === "deflate" ? 1 : 0;
    this.#inflate = new Inflate((data) => this.#emit(data));
  }

  /** Decompresses `chunk`; returns the non-empty pieces of output. Throws TypeError. */
  push(chunk: Uint8Array): Uint8Array[] {
    this.#output = [];
    this.#consume(chunk);
    return this.#output;
  }

  /** Whether the compressed data has ended. */
  get done(): boolean {
    return this.#phase === Phase.Done;
  }

  /** Ends the input. Throws TypeError unless the compressed data was complete. */
  finish(): void {
    if (this.#phase !== Phase.Done) throw new TypeError("The compressed data ended before its end.");
  }

  #emit(data: Uint8Array): void {
    if (TypedArrayPrototypeGetLength(data) === 0) return;
    if (this.#format === "gzip") {
      this.#check = crc32(this.#check, data);
      this.#size = (this.#size + TypedArrayPrototypeGetLength(data)) % 0x100000000;
    } else if (this.#format === "deflate") this.#check = adler32(this.#check, data);
    this.#output[this.#output.length] = data;
  }

  #consume(data: Uint8Array): void {
    let offset = 0;
    while (offset < TypedArrayPrototypeGetLength(data)) {
      if (this.#phase === Phase.Header) offset = this.#readHeader(data, offset);
      else if (this.#phase === Phase.Body) offset = this.#inflateFrom(data, offset);
      else if (this.#phase === Phase.Trailer) offset = this.#readTrailer(data, offset);
      else if (this.#keepRest) {
        const more = TypedArrayPrototypeSubarray(data, offset);
        if (this.rest === undefined) this.rest = more;
        else {
          const joined = new Uint8Array(TypedArrayPrototypeGetLength(this.rest) + TypedArrayPrototypeGetLength(more));
          TypedArrayPrototypeSet(joined, this.rest, 0);
          TypedArrayPrototypeSet(joined, more, TypedArrayPrototypeGetLength(this.rest));
          this.rest = joined;
        }
        return;
      } else throw new TypeError("Unexpected data after the end of the compressed data.");
    }
  }

  #readHeader(data: Uint8Array, offset: number): number {
    if (this.#gzipHeader !== undefined) {
      offset = this.#gzipHeader.read(data, offset);
      if (this.#gzipHeader.done) this.#phase = Phase.Body;
      return offset;
    }
    offset = this.#fillWrapper(data, offset, 2);
    if (this.#wrapperLength < 2) return offset;
    const cmf = this.#wrapper[0], flg = this.#wrapper[1];
    if ((cmf & 0x0f) !== 8 || cmf >> 4 > 7 || ((cmf << 8) | flg) % 31 !== 0) throw new TypeError("The compressed data does not start with a zlib header.");
    if (flg & 0x20) throw new TypeError("The zlib data needs a preset dictionary.");
    this.#wrapperLength = 0;
    this.#phase = Phase.Body;
    return offset;
  }

  #inflateFrom(data: Uint8Array, offset: number): number {
    const inflate = this.#inflate as unknown as InflateInternals;
    while (offset < TypedArrayPrototypeGetLength(data)) {
      const end = offset + SLICE_BYTES < TypedArrayPrototypeGetLength(data) ? offset + SLICE_BYTES : TypedArrayPrototypeGetLength(data);
      try {
        this.#inflate.push(TypedArrayPrototypeSubarray(data, offset, end), false);
      } catch (error) {
        // Running out of the sandbox's memory is not invalid data: that RangeError goes on as it is.
        if (error instanceof RangeError) throw error;
        throw new TypeError(`The compressed data is invalid: ${(error as Error).message}.`);
      }
      offset = end;
      if (inflate.s.f && !inflate.s.l) {
        // The DEFLATE data ended: what Inflate holds past that byte belongs to the trailer.
        this.#phase = this.#format === "deflate-raw" ? Phase.Done : Phase.Trailer;
        this.#consume(TypedArrayPrototypeSubarray(inflate.p, ((inflate.s.p ?? 0) + 7) >> 3));
        break;
      }
    }
    return offset;
  }

  #readTrailer(data: Uint8Array, offset: number): number {
    const length = this.#format === "gzip" ? 8 : 4;
    offset = this.#fillWrapper(data, offset, length);
    if (this.#wrapperLength < length) return offset;
    const t = this.#wrapper;
    if (this.#format === "gzip") {
      const crc = (t[0] | (t[1] << 8) | (t[2] << 16) | (t[3] << 24)) >>> 0;
      const size = (t[4] | (t[5] << 8) | (t[6] << 16) | (t[7] << 24)) >>> 0;
      if (crc !== this.#check) throw new TypeError("The gzip data's CRC-32 does not match.");
      if (size !== this.#size) throw new TypeError("The gzip data's length does not match.");
    } else {
      const adler = ((t[0] << 24) | (t[1] << 16) | (t[2] << 8) | t[3]) >>> 0;
      if (adler !== this.#check) throw new TypeError("The zlib data's Adler-32 does not match.");
    }
    this.#phase = Phase.Done;
    return offset;
  }

  /** Copies bytes of `data` into the wrapper buffer until it holds `length`. */
  #fillWrapper(data: Uint8Array, offset: number, length: number): number {
    const wanted = length - this.#wrapperLength;
    const take = wanted < TypedArrayPrototypeGetLength(data) - offset ? wanted : TypedArrayPrototypeGetLength(data) - offset;
    TypedArrayPrototypeSet(this.#wrapper, TypedArrayPrototypeSubarray(data, offset, offset + take), this.#wrapperLength);
    this.#wrapperLength += take;
    return offset + take;
  }
}
