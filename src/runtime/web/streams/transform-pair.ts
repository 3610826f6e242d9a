// The GenericTransformStream mixin's state: the classes that include it (TextEncoderStream,
// TextDecoderStream, CompressionStream, DecompressionStream) each wrap a TransformStream built from
// a transformer, and expose only its two ends.

import { TransformStream, transformControllerEnqueue, transformStreamReadable, transformStreamWritable, type ReadableStream, type Transformer, type WritableStream } from "./ponyfill.ts";

/** What the byte-consuming streams accept on their writable side (Web IDL's BufferSource). */
export type ChunkSource = ArrayBuffer | ArrayBufferView;

export interface TransformPair<I, O> {
  readonly readable: ReadableStream<O>;
  readonly writable: WritableStream<I>;
}

export function transformPair<I, O>(transformer: Transformer<I, O>): TransformPair<I, O> {
  const stream = new TransformStream<I, O>(transformer);
  return { readable: transformStreamReadable(stream) as ReadableStream<O>, writable: transformStreamWritable(stream) as WritableStream<I> };
}

/** Pushes each piece into the stream, without the array iterator user code could replace. */
export function enqueueAll(controller: { enqueue(chunk: Uint8Array): void }, pieces: Uint8Array[]): void {
  for (let i = 0; i < pieces.length; i++) transformControllerEnqueue(controller, pieces[i]);
}

/** TransformStreamDefaultController.prototype.enqueue as captured (see ../own.ts). */
export const transformEnqueue = transformControllerEnqueue;
