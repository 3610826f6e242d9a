// What the Body mixin (Request, Response) needs of streams: a stream's bytes read in full, and a
// stream over bytes it already holds. Spec algorithms never call user-replaceable methods, so the
// stream methods used here are the ones captured when the chunk loaded.

import { ReadableStream, ReadableStreamDefaultReader, type ReadableStreamDefaultReadResult } from "./ponyfill.ts";
import { primordials, SymbolToStringTag } from "../../primordials.ts";

const { ArrayBufferIsView, PromisePrototypeThen, RangeError, ReflectApply, ReflectGetOwnPropertyDescriptor, ReflectGetPrototypeOf, TypeError, TypedArrayPrototypeGetByteLength, TypedArrayPrototypeSet, Uint8Array } = primordials;

const apply = ReflectApply;
const lockedGetter = ReflectGetOwnPropertyDescriptor(ReadableStream.prototype, "locked")!.get!;
const getReader = ReadableStream.prototype.getReader;
const read = ReadableStreamDefaultReader.prototype.read;
const cancel = ReadableStreamDefaultReader.prototype.cancel;
const Bytes = Uint8Array;
// %TypedArray%.prototype[@@toStringTag] names a typed array's kind, whatever realm made it.
const typedArrayTag = ReflectGetOwnPropertyDescriptor(ReflectGetPrototypeOf(Uint8Array.prototype)!, SymbolToStringTag)!.get!;

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
  return ArrayBufferIsView(value) && apply(typedArrayTag, value, []) === "Uint8Array";
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
export async function readAllBytes(stream: ReadableStream, maxBytes = Infinity): Promise<{ readonly bytes: Uint8Array }> {
  const reader = apply(getReader, stream, []) as ReadableStreamDefaultReader<unknown>;
  const pieces: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const result = (await apply(read, reader, [])) as ReadableStreamDefaultReadResult<unknown>;
    if (result.done) break;
    const chunk = result.value;
    let failure: Error | undefined;
    if (!isUint8Array(chunk)) failure = new TypeError("The stream yielded a chunk that is not a Uint8Array.");
    else if (total + TypedArrayPrototypeGetByteLength(chunk) > maxBytes) failure = new RangeError(`The stream holds more than the ${maxBytes} bytes allowed.`);
    if (failure !== undefined) {
      void PromisePrototypeThen((apply(cancel, reader, [failure]) as Promise<void>), undefined, () => {});
      throw failure;
    }
    // Copied now: the producer may reuse its buffer once the chunk is read.
    const copy = new Bytes(chunk as Uint8Array);
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
      if (TypedArrayPrototypeGetByteLength(bytes) > 0) controller.enqueue(bytes);
      controller.close();
    },
  }) as ReadableStream<Uint8Array>;
}
