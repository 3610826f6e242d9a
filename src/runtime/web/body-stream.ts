// The ReadableStream side of bodies and Blobs. The streams chunk is loaded only from here, and
// only when a stream is really needed, so code that reads bodies with text() never pays for it.

import { streams } from "../platform.ts";
import { primordials } from "../primordials.ts";

const { Object, Originals, ReflectApply, Uint8Array } = primordials;

export type ReadableStream = InstanceType<ReturnType<typeof streams>["ReadableStream"]>;

const toStringTag = Originals["Object.prototype.toString"]!;

/**
 * A brand check that does not load the streams chunk for the common non-stream values: only an
 * object that claims to be a ReadableStream is checked against the real class.
 */
export function isReadableStream(value: unknown): value is ReadableStream {
  if (typeof value !== "object" || value === null) return false;
  return ReflectApply(toStringTag, value, []) === "[object ReadableStream]" && streams().isReadableStream(value);
}

/** ReadableStream.prototype.tee, as the streams chunk captured it. */
export function tee(stream: ReadableStream): [ReadableStream, ReadableStream] {
  return streams().readableStreamTee(stream) as [ReadableStream, ReadableStream];
}

/** ReadableStream.prototype.locked, as the streams chunk captured it. */
export function isLocked(stream: ReadableStream): boolean {
  return streams().readableStreamLocked(stream);
}

/** The Streams Standard's [[disturbed]]: something read from or canceled the stream. */
export function isDisturbed(stream: ReadableStream): boolean {
  return streams().isDisturbed(stream);
}

/** A byte stream yielding `bytes`, which it takes over (the caller must not keep them). */
export function streamFromBytes(bytes: Uint8Array): ReadableStream {
  return streams().streamFromBytes(bytes);
}

/** The whole stream in one new buffer; the stream is locked and disturbed before this returns. */
export function readAllBytes(stream: ReadableStream): Promise<{ readonly bytes: Uint8Array }> {
  return streams().readAllBytes(stream);
}

/** A stream already read to its end, locked and disturbed: what a consumed body's stream is. */
export function consumedStream(): ReadableStream {
  const stream = streamFromBytes(new Uint8Array(0));
  const { readableStreamGetReader, defaultReaderRead } = streams();
  void defaultReaderRead(readableStreamGetReader(stream));
  return stream;
}

/**
 * A stream that reads `source` only when it is read itself (the Fetch Standard's proxy of a
 * Request body that moves into a new Request). `source` is locked from now on.
 */
export function proxyStream(source: ReadableStream): ReadableStream {
  const { ReadableStream, readableStreamGetReader, defaultReaderRead, defaultReaderCancel, defaultControllerClose, defaultControllerEnqueue } = streams();
  const reader = readableStreamGetReader(source);
  return new ReadableStream(
    {
      async pull(controller) {
        const { done, value } = await defaultReaderRead(reader);
        if (done) defaultControllerClose(controller);
        else defaultControllerEnqueue(controller, value);
      },
      cancel(reason) {
        return defaultReaderCancel(reader, reason);
      },
    },
    { highWaterMark: 0 },
  );
}
