// The helpers the streams chunk exports for Request and Response bodies: readAllBytes,
// streamFromBytes, isReadableStream and isDisturbed.

import "../platform.ts";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { byteReader, isDisturbed, isReadableStream, readAllBytes, ReadableStream, streamFromBytes } from "../../../src/runtime/web/streams/index.ts";

function streamOf(chunks: unknown[], log: unknown[] = []): ReadableStream {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
    cancel: (reason) => void log.push(reason),
  });
}

// readAllBytes resolves with { bytes } in a box without a prototype (a promise resolved with the
// bytes themselves would look up their `then`, which user code may have put on Object.prototype).
describe("readAllBytes", () => {
  it("joins every chunk into one new buffer of exactly the right size", async () => {
    const backing = new Uint8Array([9, 1, 2, 3, 9]);
    const chunks = [backing.subarray(1, 3), new Uint8Array(0), Buffer.from([3, 4])];
    const bytes = (await readAllBytes(streamOf(chunks))).bytes;
    assert.deepEqual([...bytes], [1, 2, 3, 4]);
    assert.equal(bytes.buffer.byteLength, 4);
    const single = (await readAllBytes(streamOf([backing.subarray(1, 2)]))).bytes;
    assert.deepEqual([...single], [1]);
    assert.equal(single.buffer.byteLength, 1);
    assert.notEqual(single.buffer, backing.buffer);
    assert.deepEqual([...((await readAllBytes(streamOf([]))).bytes)], []);
  });

  it("copies each chunk when it is read, before the producer can reuse its buffer", async () => {
    const buffer = new Uint8Array([1]);
    const stream = new ReadableStream({
      pull(controller) {
        if (buffer[0] > 3) return controller.close();
        controller.enqueue(buffer);
        return Promise.resolve().then(() => void buffer[0]++);
      },
    }, { highWaterMark: 0 });
    assert.deepEqual([...((await readAllBytes(stream)).bytes)], [1, 2, 3]);
  });

  it("locks and disturbs the stream before it returns, and leaves it locked", async () => {
    const stream = streamOf([new Uint8Array([1])]);
    const reading = readAllBytes(stream);
    assert.equal(stream.locked, true);
    assert.equal(isDisturbed(stream), true);
    await reading;
    assert.equal(stream.locked, true);
  });

  it("rejects with TypeError for a locked stream", async () => {
    const stream = streamOf([]);
    stream.getReader();
    await assert.rejects(readAllBytes(stream), TypeError);
  });

  it("rejects with the stream's own error", async () => {
    const failure = new URIError("source failed");
    const stream = new ReadableStream({ start: (controller) => controller.error(failure) });
    await assert.rejects(readAllBytes(stream), (error) => error === failure);
  });

  it("rejects chunks that are not Uint8Arrays with TypeError, and cancels the stream with it", async () => {
    for (const chunk of ["text", new Uint16Array(1), new ArrayBuffer(1), new DataView(new ArrayBuffer(1)), [1], null]) {
      const log: unknown[] = [];
      // A chunk stays queued after the bad one: a drained, closed stream has nothing to cancel.
      await assert.rejects(readAllBytes(streamOf([new Uint8Array(1), chunk, new Uint8Array(1)], log)), TypeError, String(chunk));
      assert.equal(log.length, 1);
      assert.ok(log[0] instanceof TypeError);
    }
  });

  it("stops at maxBytes with a RangeError, and cancels the stream with it", async () => {
    assert.deepEqual([...((await readAllBytes(streamOf([new Uint8Array(2), new Uint8Array(2)]), 4)).bytes)], [0, 0, 0, 0]);
    const log: unknown[] = [];
    await assert.rejects(readAllBytes(streamOf([new Uint8Array(2), new Uint8Array(3), new Uint8Array(1)], log), 4), RangeError);
    assert.ok(log[0] instanceof RangeError);
  });

  it("ignores a replaced ReadableStream.prototype.getReader", async () => {
    const original = ReadableStream.prototype.getReader;
    ReadableStream.prototype.getReader = () => {
      throw new Error("replaced");
    };
    try {
      assert.deepEqual([...((await readAllBytes(streamOf([new Uint8Array([7])]))).bytes)], [7]);
    } finally {
      ReadableStream.prototype.getReader = original;
    }
  });
});

describe("streamFromBytes", () => {
  it("is a byte stream: default readers get the bytes, BYOB readers fill their views", async () => {
    const reader = streamFromBytes(new Uint8Array([1, 2, 3])).getReader();
    const first = await reader.read();
    assert.deepEqual([...(first.value as Uint8Array)], [1, 2, 3]);
    assert.equal((await reader.read()).done, true);

    const byob = streamFromBytes(new Uint8Array([1, 2, 3])).getReader({ mode: "byob" });
    assert.deepEqual([...(await byob.read(new Uint8Array(2))).value!], [1, 2]);
    assert.deepEqual([...(await byob.read(new Uint8Array(2))).value!], [3]);
    const end = await byob.read(new Uint8Array(2));
    assert.equal(end.done, true);
  });

  it("an empty buffer gives a stream that is already closed", async () => {
    const stream = streamFromBytes(new Uint8Array(0));
    assert.deepEqual(await stream.getReader().read(), { done: true, value: undefined });
  });

  it("round-trips through readAllBytes, tee and pipeThrough", async () => {
    const bytes = new TextEncoder().encode("body");
    const given = bytes.slice();
    const [a, b] = streamFromBytes(given).tee();
    assert.equal(given.byteLength, 0, "the stream takes the buffer over (transferred, so detached)");
    assert.deepEqual((await readAllBytes(a)).bytes, bytes);
    assert.deepEqual((await readAllBytes(b)).bytes, bytes);
  });
});

// byteReader reads a fetch handler's response body for the host (src/runtime/index.ts bodyPull).
describe("byteReader", () => {
  it("copies each chunk as it is read, before the producer can reuse its buffer", async () => {
    const buffer = new Uint8Array([1]);
    const stream = new ReadableStream({
      pull(controller) {
        controller.enqueue(buffer);
        return Promise.resolve().then(() => void buffer[0]++);
      },
    }, { highWaterMark: 0 });
    const reader = byteReader(stream);
    const first = (await reader.next()).value!;
    const second = (await reader.next()).value!;
    assert.deepEqual([first[0], second[0]], [1, 2]);
    assert.notEqual(first.buffer, buffer.buffer);
  });

  it("with copyUpTo, copies only chunks up to that size: a larger one stays the producer's, so an unread body holds no second copy of it", async () => {
    const small = new Uint8Array([1, 2]);
    const large = new Uint8Array(8 << 20).fill(7);
    const reader = byteReader(streamOf([small, large, Buffer.from([3])]), 64 * 1024);
    const first = (await reader.next()).value!;
    assert.deepEqual([...first], [1, 2]);
    assert.notEqual(first.buffer, small.buffer);
    assert.equal((await reader.next()).value, large);
    assert.deepEqual([...(await reader.next()).value!], [3]);
    assert.equal((await reader.next()).value, null);
  });
});

describe("isReadableStream and isDisturbed", () => {
  it("brand-checks instead of duck typing", () => {
    assert.equal(isReadableStream(streamOf([])), true);
    assert.equal(isReadableStream(Object.create(ReadableStream.prototype)), false);
    assert.equal(isReadableStream({ locked: false, getReader() {} }), false);
    assert.equal(isReadableStream(new globalThis.ReadableStream()), false);
    for (const value of [null, undefined, 1, "s", {}]) assert.equal(isReadableStream(value), false);
  });

  it("a stream is disturbed once read from or canceled, not by getReader alone", async () => {
    const read = streamOf([new Uint8Array(1)]);
    const reader = read.getReader();
    assert.equal(isDisturbed(read), false);
    await reader.read();
    assert.equal(isDisturbed(read), true);
    const canceled = streamOf([]);
    await canceled.cancel();
    assert.equal(isDisturbed(canceled), true);
  });
});
