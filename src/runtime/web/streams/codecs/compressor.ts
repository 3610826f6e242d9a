// Streaming compression for CompressionStream, with fflate's streaming compressors at their
// default level (6, as zlib and browsers use). The gzip header carries no modification time, as
// in browsers; fflate would otherwise read the clock.

import { Deflate, Gzip, Zlib } from "fflate/browser";
import type { CompressionFormat } from "./decompressor.ts";
import { primordials } from "../../../primordials.ts";

const { TypedArrayPrototypeGetLength, TypedArrayPrototypeSubarray, Uint8Array } = primordials;

const SLICE_BYTES = 65536;

export class Compressor {
  readonly #stream: Deflate | Gzip | Zlib;
  #output: Uint8Array[] = [];

  constructor(format: CompressionFormat) {
    const collect = (data: Uint8Array): void => {
      if (TypedArrayPrototypeGetLength(data) > 0) this.#output[this.#output.length] = data;
    };
    if (format === "gzip") this.#stream = new Gzip({ __proto__: null, mtime: 0 } as { mtime: number }, collect);
    else if (format === "deflate") this.#stream = new Zlib({ __proto__: null } as object, collect);
    else this.#stream = new Deflate({ __proto__: null } as object, collect);
  }

  /** Compresses `chunk`; returns the output ready so far (often none: fflate buffers its input). */
  push(chunk: Uint8Array): Uint8Array[] {
    this.#output = [];
    // In slices, so that fflate's window buffer stays at its usual size whatever the chunk size.
    for (let offset = 0; offset < TypedArrayPrototypeGetLength(chunk); offset += SLICE_BYTES) this.#stream.push(TypedArrayPrototypeSubarray(chunk, offset, offset + SLICE_BYTES), false);
    return this.#output;
  }

  /** Ends the input; returns the rest of the output. */
  finish(): Uint8Array[] {
    this.#output = [];
    this.#stream.push(new Uint8Array(0), true);
    return this.#output;
  }
}
