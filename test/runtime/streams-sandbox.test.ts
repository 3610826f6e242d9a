// The streams chunk inside a real sandbox: streams piped through compression and text decoding,
// bytes crossing to Node's zlib and back, and user code that replaced globals before the chunk
// loaded.

import { test } from "node:test";
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { WorkerLoader } from "islet";
import { js } from "../helpers.ts";

const loader = new WorkerLoader();
test.after(() => loader.close());

test("a worker pipes a stream through CompressionStream, DecompressionStream and TextDecoderStream", async () => {
  const ep = loader.load(js(`export default { async run() {
    const text = "héllo wörld € 😀 ".repeat(400);
    const results = {};
    for (const format of ["gzip", "deflate", "deflate-raw"]) {
      const bytes = new TextEncoder().encode(text);
      const source = new ReadableStream({ start(c) { for (let i = 0; i < bytes.length; i += 7) c.enqueue(bytes.slice(i, i + 7)); c.close(); } });
      const out = source.pipeThrough(new CompressionStream(format)).pipeThrough(new DecompressionStream(format)).pipeThrough(new TextDecoderStream());
      let decoded = "";
      for await (const part of out) decoded += part;
      results[format] = decoded === text;
    }
    return results;
  } };`)).getEntrypoint();
  assert.deepEqual(await ep.run(), { gzip: true, deflate: true, "deflate-raw": true });
});

test("bytes compressed in the sandbox gunzip in Node, and the reverse", async () => {
  const ep = loader.load(js(`
    export default {
      async compress(text) {
        const source = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(text)); c.close(); } });
        const reader = source.pipeThrough(new CompressionStream("gzip")).getReader();
        const out = [];
        for (;;) { const { done, value } = await reader.read(); if (done) break; out.push(...value); }
        return new Uint8Array(out);
      },
      async decompress(bytes) {
        const source = new ReadableStream({ start(c) { c.enqueue(bytes); c.close(); } });
        const reader = source.pipeThrough(new DecompressionStream("deflate")).pipeThrough(new TextDecoderStream()).getReader();
        let text = "";
        for (;;) { const { done, value } = await reader.read(); if (done) break; text += value; }
        return text;
      },
      async corrupt(bytes) {
        const source = new ReadableStream({ start(c) { c.enqueue(bytes); c.close(); } });
        try { for await (const _ of source.pipeThrough(new DecompressionStream("gzip"))); return "no error"; } catch (e) { return e.name; }
      },
    };`)).getEntrypoint();
  const text = "stream me ".repeat(1000);
  const compressed = (await ep.compress(text)) as Uint8Array;
  assert.equal(zlib.gunzipSync(compressed).toString(), text);
  assert.equal(await ep.decompress(new Uint8Array(zlib.deflateSync(text))), text);
  const truncated = new Uint8Array(zlib.gzipSync(text)).subarray(0, 20);
  assert.equal(await ep.corrupt(truncated), "TypeError");
});

// The compression chunk's fflate is rewritten at build time onto captured intrinsics
// (scripts/build.mjs): every kind of DEFLATE block (stored, fixed and dynamic Huffman codes, long
// matches) at uneven chunk boundaries must still agree with zlib, in both directions.
test("the bundled codec agrees with zlib on 600 KB of mixed data in every format, in odd-sized chunks", async () => {
  const ep = loader.load(js(`
    async function pipe(bytes, transform, step) {
      const source = new ReadableStream({ start(c) { for (let i = 0; i < bytes.length; i += step) c.enqueue(bytes.slice(i, i + step)); c.close(); } });
      const parts = [];
      let length = 0;
      for await (const part of source.pipeThrough(transform)) { parts.push(part); length += part.length; }
      const out = new Uint8Array(length);
      let offset = 0;
      for (const part of parts) { out.set(part, offset); offset += part.length; }
      return out;
    }
    export default {
      compress: (bytes, format) => pipe(bytes, new CompressionStream(format), 65537),
      decompress: (bytes, format) => pipe(bytes, new DecompressionStream(format), 1013),
    };`)).getEntrypoint();
  // Random bytes (stored blocks), text (dynamic codes), a long run (long matches), a few bytes.
  let seed = 7;
  const random = Uint8Array.from({ length: 200_000 }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24));
  const words = ["alpha ", "beta ", "gamma ", "delta ", "epsilon\n", "zeta, "];
  const text = Buffer.from(Array.from({ length: 40_000 }, (_, i) => words[(i * 7 + (i >> 3)) % words.length]).join(""));
  const input = new Uint8Array(Buffer.concat([random, text, Buffer.alloc(100_000, 97), Buffer.from("end")]));
  const node = { gzip: [zlib.gzipSync, zlib.gunzipSync], deflate: [zlib.deflateSync, zlib.inflateSync], "deflate-raw": [zlib.deflateRawSync, zlib.inflateRawSync] } as const;
  for (const format of ["gzip", "deflate", "deflate-raw"] as const) {
    const compressed = (await ep.compress(input, format)) as Uint8Array;
    assert.ok(compressed.length < input.length * 0.6, `${format}: compressed to ${compressed.length}`);
    assert.deepEqual(new Uint8Array(node[format][1](compressed)), input, `${format}: zlib inflates what the sandbox compressed`);
    assert.deepEqual(await ep.decompress(new Uint8Array(node[format][0](input)), format), input, `${format}: the sandbox inflates what zlib compressed`);
  }
});

test("every streams global exists and is a class", async () => {
  const ep = loader.load(js(`export default { run() {
    return ["ReadableStream", "ReadableStreamDefaultReader", "ReadableStreamBYOBReader", "ReadableStreamBYOBRequest", "ReadableStreamDefaultController",
      "ReadableByteStreamController", "WritableStream", "WritableStreamDefaultWriter", "WritableStreamDefaultController", "TransformStream",
      "TransformStreamDefaultController", "ByteLengthQueuingStrategy", "CountQueuingStrategy", "TextEncoderStream", "TextDecoderStream",
      "CompressionStream", "DecompressionStream"].filter((name) => typeof globalThis[name] !== "function");
  } };`)).getEntrypoint();
  assert.deepEqual(await ep.run(), []);
});

test("streams keep working when user code replaced globals before they loaded, and leave them as set", async () => {
  const ep = loader.load(js(`export default { async run() {
    const mine = () => { throw new Error("user global called"); };
    globalThis.structuredClone = mine;
    globalThis.queueMicrotask = mine;
    globalThis.TextDecoder = mine;
    globalThis.TextEncoder = mine;
    globalThis.DOMException = mine;
    const bytes = new Uint8Array([1, 2, 3, 4]);
    const stream = new ReadableStream({ type: "bytes", start(c) { c.enqueue(bytes); c.close(); } });
    const reader = stream.getReader({ mode: "byob" });
    const first = await reader.read(new Uint8Array(3));
    reader.releaseLock();
    const rest = [];
    for await (const chunk of stream.pipeThrough(new CompressionStream("gzip")).pipeThrough(new DecompressionStream("gzip"))) rest.push(...chunk);
    const untouched = [structuredClone, queueMicrotask, TextDecoder, TextEncoder, DOMException].every((value) => value === mine);
    return { first: [...first.value], rest, untouched };
  } };`)).getEntrypoint();
  assert.deepEqual(await ep.run(), { first: [1, 2, 3], rest: [4], untouched: true });
});

test("pipeTo stops on an AbortSignal; the sink's controller.signal reports the abort", async () => {
  const ep = loader.load(js(`export default { async run() {
    let sinkSignal;
    const reasons = [];
    const source = new ReadableStream({ pull(c) { c.enqueue("tick"); return new Promise((r) => setTimeout(r, 1)); }, cancel(reason) { reasons.push("cancel " + reason); } });
    const sink = new WritableStream({ start(controller) { sinkSignal = controller.signal; }, abort(reason) { reasons.push("abort " + reason); } });
    const controller = new AbortController();
    setTimeout(() => controller.abort("enough"), 5);
    let outcome;
    try { await source.pipeTo(sink, { signal: controller.signal }); outcome = "resolved"; } catch (e) { outcome = e; }
    let fromDefault;
    try { await new ReadableStream().pipeTo(new WritableStream(), { signal: AbortSignal.abort() }); } catch (e) { fromDefault = [e instanceof DOMException, e.name]; }
    return { outcome, reasons: reasons.sort(), aborted: sinkSignal.aborted, reason: sinkSignal.reason, isSignal: sinkSignal instanceof AbortSignal, fromDefault };
  } };`)).getEntrypoint();
  assert.deepEqual(await ep.run(), { outcome: "enough", reasons: ["abort enough", "cancel enough"], aborted: true, reason: "enough", isSignal: true, fromDefault: [true, "AbortError"] });
});

test("pipeTo never calls a sink's write synchronously (piping/general-addition: enqueue() must not synchronously call write)", async () => {
  const ep = loader.load(js(`export default { async run() {
    const out = [];
    for (const highWaterMark of [0, 1]) {
      let controller;
      const calls = [];
      const piped = new ReadableStream({ start(c) { controller = c; } }, { highWaterMark }).pipeTo(new WritableStream({ write(chunk) { calls.push(chunk); } }));
      // Wait until both start algorithms have finished and the pipe waits for a chunk.
      for (let i = 0; i < 5; i++) await Promise.resolve();
      controller.enqueue("a");
      const synchronous = calls.length;
      controller.enqueue("b");
      controller.close();
      await piped;
      out.push([highWaterMark, synchronous, calls.join("")]);
    }
    // A chunk already queued is written without waiting, and a pipe still ends after its last write.
    const written = [];
    await new ReadableStream({ start(c) { for (const x of "xyz") c.enqueue(x); c.close(); } }).pipeTo(new WritableStream({ write(chunk) { written.push(chunk); } }));
    out.push(written.join(""));
    return out;
  } };`)).getEntrypoint() as unknown as { run(): Promise<unknown> };
  assert.deepEqual(await ep.run(), [[0, 0, "ab"], [1, 0, "ab"], "xyz"]);
});
