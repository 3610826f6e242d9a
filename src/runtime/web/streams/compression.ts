// CompressionStream and DecompressionStream (WHATWG Compression Standard) for "gzip", "deflate"
// (zlib) and "deflate-raw". The codecs are in the compression chunk, loaded by the first stream
// constructed with a valid format. They run inside the isolate, so their CPU time and memory
// count against the sandbox's own limits.

import { brandPlatformObject, compression } from "../../platform.ts";
import type { CompressionFormat } from "./codecs/index.ts";
import type { ReadableStream, WritableStream } from "./ponyfill.ts";
import { exposeInterface } from "./interface.ts";
import { enqueueAll, transformPair, type ChunkSource } from "./transform-pair.ts";
import { toEnum, viewBufferSource } from "../webidl.ts";
import { primordials } from "../../primordials.ts";

const { TypeError } = primordials;

const FORMATS: readonly CompressionFormat[] = ["deflate", "deflate-raw", "gzip"];

/** A chunk written to either stream must be a BufferSource. */
function chunkBytes(chunk: unknown): Uint8Array {
  const bytes = viewBufferSource(chunk);
  if (bytes === undefined) throw new TypeError("The chunk must be an ArrayBuffer or an ArrayBufferView.");
  return bytes;
}

export class CompressionStream {
  readonly #readable: ReadableStream<Uint8Array>;
  readonly #writable: WritableStream<ChunkSource>;

  constructor(format: unknown) {
    brandPlatformObject(this, "CompressionStream");
    const compressor = new (compression().Compressor)(toEnum(format, FORMATS, "CompressionFormat"));
    const pair = transformPair<ChunkSource, Uint8Array>({
      transform: (chunk, controller) => enqueueAll(controller, compressor.push(chunkBytes(chunk))),
      flush: (controller) => enqueueAll(controller, compressor.finish()),
    });
    this.#readable = pair.readable;
    this.#writable = pair.writable;
  }

  get readable(): ReadableStream<Uint8Array> {
    return this.#readable;
  }

  get writable(): WritableStream<ChunkSource> {
    return this.#writable;
  }
}

export class DecompressionStream {
  readonly #readable: ReadableStream<Uint8Array>;
  readonly #writable: WritableStream<ChunkSource>;

  constructor(format: unknown) {
    brandPlatformObject(this, "DecompressionStream");
    const decompressor = new (compression().Decompressor)(toEnum(format, FORMATS, "CompressionFormat"));
    const pair = transformPair<ChunkSource, Uint8Array>({
      transform: (chunk, controller) => enqueueAll(controller, decompressor.push(chunkBytes(chunk))),
      flush: () => decompressor.finish(),
    });
    this.#readable = pair.readable;
    this.#writable = pair.writable;
  }

  get readable(): ReadableStream<Uint8Array> {
    return this.#readable;
  }

  get writable(): WritableStream<ChunkSource> {
    return this.#writable;
  }
}

exposeInterface(CompressionStream, "CompressionStream");
exposeInterface(DecompressionStream, "DecompressionStream");
