// The codecs behind node:zlib (src/runtime/node/zlib.ts): fflate's streaming compressors with
// zlib's options (level, memLevel), and the validating Decompressor with zlib's behaviour at the
// end of the data (gunzip reads concatenated members; bytes after the end are ignored). Errors are
// zlib's: an Error with `code` (Z_DATA_ERROR, Z_BUF_ERROR, ...) and `errno`, and zlib's messages
// where the cause maps to one.
//
// fflate's DEFLATE encoder is not zlib's: for the same input and level the compressed bytes
// differ from Node's (both are valid DEFLATE; each side decodes the other's).

import { Deflate, Gzip, Zlib } from "fflate/browser";
import { crc32 as crc32Update } from "./checksums.ts";
import { Decompressor, type CompressionFormat } from "./decompressor.ts";
import { primordials } from "../../../primordials.ts";

const { Error, MathMin, ObjectDefineProperty, RangeError, StringPrototypeIncludes, StringPrototypeSlice, StringPrototypeStartsWith, TypedArrayPrototypeGetBuffer, TypedArrayPrototypeGetByteOffset, TypedArrayPrototypeGetLength, Uint8Array } = primordials;

/**
 * bytes[start, end) as a plain Uint8Array over the same memory: %TypedArray%.prototype.subarray
 * would construct its result through the receiver's species (a Buffer's constructor, which user
 * code can replace).
 */
function TypedArrayPrototypeSubarray(bytes: Uint8Array, start: number, end?: number): Uint8Array {
  const length = TypedArrayPrototypeGetLength(bytes);
  const to = end === undefined ? length : MathMin(end, length);
  const from = MathMin(start, to);
  return new Uint8Array(TypedArrayPrototypeGetBuffer(bytes), TypedArrayPrototypeGetByteOffset(bytes) + from, to - from);
}

export type NodeZlibMode = "deflate" | "inflate" | "deflateRaw" | "inflateRaw" | "gzip" | "gunzip" | "unzip";

export interface NodeCodecOptions {
  level: number;
  maxOutputLength: number;
}

const SLICE_BYTES = 65536;
const INFLATE_SLICE_BYTES = 4096;
// zlib's flush values.
const Z_PARTIAL_FLUSH = 1;
const Z_SYNC_FLUSH = 2;
const Z_FULL_FLUSH = 3;
const Z_FINISH = 4;

function zlibError(message: string, code: string, errno: number): Error {
  const error = new Error(message) as Error & { code: string; errno: number };
  ObjectDefineProperty(error, "errno", { __proto__: null, value: errno, writable: true, enumerable: true, configurable: true } as PropertyDescriptor);
  ObjectDefineProperty(error, "code", { __proto__: null, value: code, writable: true, enumerable: true, configurable: true } as PropertyDescriptor);
  return error;
}

/** zlib's message and code for one of the Decompressor's TypeErrors. */
function fromDecompressorError(error: unknown): Error {
  const message = (error as Error)?.message ?? "";
  const has = (text: string) => StringPrototypeIncludes(message, text);
  if (has("ended before")) return zlibError("unexpected end of file", "Z_BUF_ERROR", -5);
  if (has("preset dictionary")) return zlibError("Missing dictionary", "Z_NEED_DICT", 2);
  if (has("unknown compression method")) return zlibError("unknown compression method", "Z_DATA_ERROR", -3);
  if (has("magic bytes") || has("zlib header") || has("reserved flags")) return zlibError("incorrect header check", "Z_DATA_ERROR", -3);
  if (has("CRC-32 does not match") || has("Adler-32")) return zlibError("incorrect data check", "Z_DATA_ERROR", -3);
  if (has("length does not match")) return zlibError("incorrect length check", "Z_DATA_ERROR", -3);
  if (has("header's checksum")) return zlibError("header crc mismatch", "Z_DATA_ERROR", -3);
  const prefix = "The compressed data is invalid: ";
  const detail = StringPrototypeStartsWith(message, prefix) ? StringPrototypeSlice(message, prefix.length, message.length - 1) : message;
  return zlibError(detail || "invalid data", "Z_DATA_ERROR", -3);
}

function tooLarge(max: number): RangeError {
  const error = new RangeError(`Cannot create a Buffer larger than ${max} bytes`) as RangeError & { code: string };
  ObjectDefineProperty(error, "code", { __proto__: null, value: "ERR_BUFFER_TOO_LARGE", writable: true, enumerable: true, configurable: true } as PropertyDescriptor);
  return error;
}

export class NodeCodec {
  readonly #mode: NodeZlibMode;
  readonly #options: NodeCodecOptions;
  #compressor: Deflate | Gzip | Zlib | undefined;
  #decompressor: Decompressor | undefined;
  #output: Uint8Array[] = [];
  #produced = 0;
  #ended = false;

  constructor(mode: NodeZlibMode, options: NodeCodecOptions) {
    this.#mode = mode;
    this.#options = options;
    if (mode === "deflate" || mode === "deflateRaw" || mode === "gzip") {
      const level = options.level < 0 ? 6 : options.level;
      // zlib's memLevel is validated (zlib.ts) but not passed on: fflate sizes its own tables.
      const opts = { __proto__: null, level, mtime: 0 } as unknown as { level: 6; mtime: number };
      const collect = (data: Uint8Array): void => this.#collect(data);
      this.#compressor = mode === "gzip" ? new Gzip(opts, collect) : mode === "deflate" ? new Zlib(opts, collect) : new Deflate(opts, collect);
    }
  }

  #collect(data: Uint8Array): void {
    const length = TypedArrayPrototypeGetLength(data);
    if (length === 0) return;
    this.#produced += length;
    if (this.#produced > this.#options.maxOutputLength) throw tooLarge(this.#options.maxOutputLength);
    this.#output[this.#output.length] = data;
  }

  /** Feeds `chunk` (and with `flush`, zlib's flush value, flushes); returns the output ready. */
  push(chunk: Uint8Array, flush = 0): Uint8Array[] {
    this.#output = [];
    chunk = TypedArrayPrototypeSubarray(chunk, 0); // a plain Uint8Array, whatever the caller's view
    if (this.#compressor !== undefined) {
      const compressor = this.#compressor;
      const length = TypedArrayPrototypeGetLength(chunk);
      if (!this.#ended) {
        for (let offset = 0; offset < length; offset += SLICE_BYTES) compressor.push(TypedArrayPrototypeSubarray(chunk, offset, offset + SLICE_BYTES), false);
        if (flush === Z_FINISH) {
          this.#ended = true;
          compressor.push(new Uint8Array(0), true);
        } else if (flush === Z_SYNC_FLUSH || flush === Z_FULL_FLUSH || flush === Z_PARTIAL_FLUSH) compressor.flush(true);
      }
    } else this.#decompress(chunk, flush === Z_FINISH);
    const output = this.#output;
    this.#output = [];
    return output;
  }

  #decompress(chunk: Uint8Array, finish: boolean): void {
    let data = chunk;
    while (TypedArrayPrototypeGetLength(data) > 0 && !this.#ended) {
      if (this.#decompressor === undefined) {
        const format: CompressionFormat =
          this.#mode === "inflateRaw" ? "deflate-raw" : this.#mode === "gunzip" || (this.#mode === "unzip" && data[0] === 0x1f) ? "gzip" : "deflate";
        this.#decompressor = new Decompressor(format, true);
      }
      const decompressor = this.#decompressor;
      // In small slices: DEFLATE expands up to about 1032 times, so each slice's output is at most
      // a few MiB before maxOutputLength is checked again.
      for (let offset = 0; offset < TypedArrayPrototypeGetLength(data) && !decompressor.done; offset += INFLATE_SLICE_BYTES) {
        let pieces: Uint8Array[];
        try {
          pieces = decompressor.push(TypedArrayPrototypeSubarray(data, offset, offset + INFLATE_SLICE_BYTES));
        } catch (error) {
          if (error instanceof RangeError) throw error; // the sandbox's memory
          throw fromDecompressorError(error);
        }
        for (let i = 0; i < pieces.length; i++) this.#collect(pieces[i]);
        if (decompressor.done && offset + INFLATE_SLICE_BYTES < TypedArrayPrototypeGetLength(data)) {
          const more = TypedArrayPrototypeSubarray(data, offset + INFLATE_SLICE_BYTES);
          decompressor.push(more); // kept as the rest (keepRest)
        }
      }
      data = new Uint8Array(0);
      if (decompressor.done) {
        const rest = decompressor.rest;
        decompressor.rest = undefined;
        // gunzip (and unzip of gzip data) reads the next member; anything else after the end is ignored, as zlib does.
        if (rest !== undefined && TypedArrayPrototypeGetLength(rest) > 0 && (this.#mode === "gunzip" || this.#mode === "unzip") && rest[0] === 0x1f) {
          this.#decompressor = undefined;
          data = rest;
          if (TypedArrayPrototypeGetLength(rest) > 1 && rest[1] !== 0x8b) throw zlibError("incorrect header check", "Z_DATA_ERROR", -3);
        } else if (this.#mode !== "gunzip" && this.#mode !== "unzip") this.#ended = true;
      }
    }
    if (finish) {
      if (this.#decompressor === undefined) {
        if (!this.#ended) throw zlibError("unexpected end of file", "Z_BUF_ERROR", -5);
      } else if (!this.#decompressor.done) throw zlibError("unexpected end of file", "Z_BUF_ERROR", -5);
      this.#ended = true;
    }
  }
}

/** zlib.crc32(data, value): CRC-32 of `bytes` continuing from `value`. */
export function crc32(bytes: Uint8Array, value: number): number {
  return crc32Update(value, bytes);
}
