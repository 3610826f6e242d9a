// What the Body mixin (Request, Response) needs of streams: a stream's bytes read in full, and a
// stream over bytes it already holds. Spec algorithms never call user-replaceable methods, so the
// stream methods used here are the ones captured when the chunk loaded.

import { byteControllerClose, byteControllerEnqueue, ReadableStream, ReadableStreamDefaultReader, readerRead, type ReadableStreamDefaultReadResult } from "./ponyfill.ts";
import { primordials, SymbolToStringTag } from "../../primordials.ts";

const { ArrayBufferIsView, PromisePrototypeThen, RangeError, ReflectApply, ReflectGetOwnPropertyDescriptor, ReflectGetPrototypeOf, TypeError, TypedArrayPrototypeGetByteLength, TypedArrayPrototypeGetSymbolToStringTag, TypedArrayPrototypeSet, Uint8Array } = primordials;

const apply = ReflectApply;
const lockedGetter = ReflectGetOwnPropertyDescriptor(ReadableStream.prototype, "locked")!.get!;
const getReader = ReadableStream.prototype.getReader;
const read = ReadableStreamDefaultReader.prototype.read;
const cancel = ReadableStreamDefaultReader.prototype.cancel;
const Bytes = Uint8Array;
// %TypedArray%.prototype[@@toStringTag] names a typed array's kind, whatever realm made it.

/** Whether `value` is a ReadableStream of this sandbox (a brand check, not duck typing). */
export function isReadableStream(value: unknown): value is ReadableStream {
  try {
    apply(lockedGetter, value, []);
    return true;
  } catch {
    return false;
  }
}

/** Whether anything has read from or canceled `stream` (the Streams Standard's [[disturbed]]). */
export function isDisturbed(stream: ReadableStream): boolean {
  return (stream as unknown as { _disturbed: boolean })._disturbed === true;
}

function isUint8Array(value: unknown): value is Uint8Array {
  return TypedArrayPrototypeGetSymbolToStringTag(value) === "Uint8Array";
}

/**
 * Reads `stream` to its end (the Fetch Standard's "read all bytes") and resolves to a new
 * Uint8Array holding exactly its bytes. The stream stays locked afterwards, as a consumed body's
 * does. Rejects with:
 * - TypeError if the stream is locked;
 * - the stream's error if it errors;
 * - TypeError if a chunk is not a Uint8Array (the stream is then canceled with that error);
 * - RangeError if it yields more than `maxBytes` bytes (the stream is then canceled with it).
 */
/**
 * One read, resolved with a record without a prototype. reader.read() resolves with an ordinary
 * { value, done } object, whose `then` a promise looks up (user code may have put one on
 * Object.prototype and would be handed the chunk first); islet's bundle of the polyfill exports its
 * ReadableStreamDefaultReaderRead, which takes steps instead of resolving a promise (the polyfill
 * as published, in the runtime's tests in Node, does not: there it is reader.read()).
 */
// A Uint8Array chunk is copied as it is read, before the producer can reuse its buffer.
function copied(chunk: unknown): unknown {
  return isUint8Array(chunk) ? new Bytes(chunk) : chunk;
}

function readChunk(reader: ReadableStreamDefaultReader<unknown>, copyUpTo = Infinity): Promise<{ readonly done: boolean; readonly value: unknown }> {
  const takeSteps = readerRead;
  const taken = copyUpTo === Infinity ? copied : (chunk: unknown) => (isUint8Array(chunk) && TypedArrayPrototypeGetByteLength(chunk) > copyUpTo ? chunk : copied(chunk));
  if (takeSteps === undefined) {
    return PromisePrototypeThen(apply(read, reader, []) as Promise<ReadableStreamDefaultReadResult<unknown>>, (result) => ({ __proto__: null, done: result.done, value: taken(result.value) }) as { readonly done: boolean; readonly value: unknown });
  }
  return new Promise((resolve, reject) => {
    takeSteps(reader, {
      __proto__: null,
      _chunkSteps: (value: unknown) => resolve({ __proto__: null, done: false, value: taken(value) } as { readonly done: boolean; readonly value: unknown }),
      _closeSteps: () => resolve({ __proto__: null, done: true, value: undefined } as { readonly done: boolean; readonly value: unknown }),
      _errorSteps: (error: unknown) => reject(error),
    });
  });
}

export async function readAllBytes(stream: ReadableStream, maxBytes = Infinity): Promise<{ readonly bytes: Uint8Array }> {
  const reader = apply(getReader, stream, []) as ReadableStreamDefaultReader<unknown>;
  const pieces: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const result = await readChunk(reader);
    if (result.done) break;
    const chunk = result.value;
    let failure: Error | undefined;
    if (!isUint8Array(chunk)) failure = new TypeError("The stream yielded a chunk that is not a Uint8Array.");
    else if (total + TypedArrayPrototypeGetByteLength(chunk) > maxBytes) failure = new RangeError(`The stream holds more than the ${maxBytes} bytes allowed.`);
    if (failure !== undefined) {
      void PromisePrototypeThen((apply(cancel, reader, [failure]) as Promise<void>), undefined, () => {});
      throw failure;
    }
    // Copied when read (readChunk): the producer may reuse its buffer once the chunk is read.
    const copy = chunk as Uint8Array;
    pieces[pieces.length] = copy;
    total += TypedArrayPrototypeGetByteLength(copy);
  }
  // In a box without a prototype: a promise resolved with the bytes would look up their `then`.
  if (pieces.length === 1) return { __proto__: null, bytes: pieces[0] } as { readonly bytes: Uint8Array };
  const bytes = new Bytes(total);
  let offset = 0;
  for (let i = 0; i < pieces.length; i++) {
    TypedArrayPrototypeSet(bytes, pieces[i], offset);
    offset += TypedArrayPrototypeGetByteLength(pieces[i]);
  }
  return { __proto__: null, bytes } as { readonly bytes: Uint8Array };
}

/**
 * A byte stream (type "bytes": default and BYOB readers both work) that yields `bytes` and
 * closes; empty bytes give a stream that is closed from the start. The stream takes `bytes` over
 * without copying: enqueue() transfers their buffer, which leaves the caller's view detached.
 */
export function streamFromBytes(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    type: "bytes",
    start(controller) {
      if (TypedArrayPrototypeGetByteLength(bytes) > 0) byteControllerEnqueue(controller, bytes);
      byteControllerClose(controller);
    },
  }) as ReadableStream<Uint8Array>;
}

/** One chunk of a body the host pulls: the bytes, or null at the end (a box without prototype). */
export interface ByteReader {
  readonly next: () => Promise<{ readonly value: Uint8Array | null }>;
  readonly cancel: () => void;
}

/**
 * Reads `stream` a chunk at a time for the host (a fetch handler's response body, a socket's
 * readable side), each chunk copied as it is read, but one larger than `copyUpTo` bytes: that one
 * stays the producer's own, and the caller copies what it hands on as it hands it on (so a chunk
 * nobody has read yet costs no second buffer). A chunk that is not a Uint8Array fails the read with
 * a TypeError and cancels the stream, as readAllBytes does.
 */
export function byteReader(stream: ReadableStream, copyUpTo = Infinity): ByteReader {
  const reader = apply(getReader, stream, []) as ReadableStreamDefaultReader<unknown>;
  return {
    __proto__: null,
    next: () =>
      PromisePrototypeThen(readChunk(reader, copyUpTo), (result) => {
        if (result.done) return { __proto__: null, value: null } as { readonly value: Uint8Array | null };
        if (!isUint8Array(result.value)) {
          const failure = new TypeError("The stream yielded a chunk that is not a Uint8Array.");
          void PromisePrototypeThen(apply(cancel, reader, [failure]) as Promise<void>, undefined, () => {});
          throw failure;
        }
        return { __proto__: null, value: result.value } as { readonly value: Uint8Array | null };
      }),
    cancel: () => void PromisePrototypeThen(apply(cancel, reader, []) as Promise<void>, undefined, () => {}),
  } as ByteReader;
}
