// node:stream and node:zlib of the node chunk, run in Node, differentially against Node's own
// modules: the scenarios' logs (event order, backpressure, objectMode, pipeline errors, async
// iteration, consumers, web adapters, zlib round trips and errors) must be equal. Compressed bytes
// are compared only through decoding (fflate's DEFLATE output differs from zlib's): Node inflates
// islet's output and islet inflates Node's.

import assert from "node:assert/strict";
import { test } from "node:test";
import * as nodeStream from "node:stream";
import * as nodeStreamPromises from "node:stream/promises";
import * as nodeConsumers from "node:stream/consumers";
import * as nodeZlib from "node:zlib";
import { nodeModule } from "./compat.ts";
import { NODE_24_LOGS, NODE_MAJOR, STREAM_SCENARIOS } from "./stream-scenarios.ts";

const ours = () => ({
  stream: nodeModule("stream"),
  zlib: nodeModule("zlib"),
  consumers: nodeModule("stream/consumers"),
  streamPromises: nodeModule("stream/promises"),
  Buffer: nodeModule("buffer") as { Buffer: typeof Buffer },
  webStreams: nodeModule("stream/web"),
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function run(body: string, modules: any): Promise<unknown> {
  const f = new Function("stream", "zlib", "Buffer", "consumers", "streamPromises", "webStreams", `return (async () => { ${body} })();`);
  return JSON.parse(JSON.stringify(await f(modules.stream, modules.zlib, modules.Buffer, modules.consumers, modules.streamPromises, modules.webStreams)));
}

for (const [name, body] of Object.entries(STREAM_SCENARIOS)) {
  test(`${name}: as Node's`, async () => {
    const nodes = await run(body, { stream: nodeStream, zlib: nodeZlib, Buffer, consumers: nodeConsumers, streamPromises: nodeStreamPromises, webStreams: { ReadableStream, WritableStream } });
    const recorded = NODE_24_LOGS[name];
    if (recorded !== undefined && NODE_MAJOR < 26) assert.deepEqual(nodes, recorded, "Node 24's own logs are the recorded ones");
    const expected = recorded !== undefined && NODE_MAJOR >= 26 ? recorded : nodes;
    const m = ours();
    const actual = await run(body, { ...m, Buffer: m.Buffer.Buffer });
    assert.deepEqual(actual, expected);
  });
}

test("zlib: Node decodes islet's output and islet decodes Node's, every mode and level", () => {
  const zlib = ours().zlib as typeof nodeZlib;
  const input = Buffer.from(Array.from({ length: 20000 }, (_, i) => (i * 7919) % 251));
  for (const [c, d] of [["deflateSync", "inflateSync"], ["deflateRawSync", "inflateRawSync"], ["gzipSync", "gunzipSync"]] as const) {
    for (const level of [0, 1, 5, 9]) {
      assert.ok(nodeZlib[d](zlib[c](input, { level })).equals(input), `Node ${d} of islet's ${c} level ${level}`);
      assert.ok(Buffer.from(zlib[d](nodeZlib[c](input, { level }))).equals(input), `islet ${d} of Node's ${c} level ${level}`);
    }
  }
  // Not byte-identical: fflate's matcher is not zlib's (the gzip header is: mtime 0, OS 3).
  assert.notDeepEqual(zlib.deflateSync(input), nodeZlib.deflateSync(input));
  assert.deepEqual([...zlib.gzipSync(input).subarray(0, 10)], [...nodeZlib.gzipSync(input).subarray(0, 10)]);
});

test("brotli and zstd are named errors", () => {
  const zlib = ours().zlib as Record<string, (...args: unknown[]) => unknown>;
  for (const name of ["brotliCompressSync", "brotliDecompressSync", "createBrotliCompress", "zstdCompressSync"]) {
    assert.throws(() => zlib[name]("x"), { code: "ERR_METHOD_NOT_IMPLEMENTED", message: `The zlib.${name} method is not implemented` });
  }
});

test("subclassing the Node way: util.inherits and Readable.call(this)", async () => {
  const { Readable } = ours().stream as typeof nodeStream;
  const util = nodeModule("util") as { inherits(a: unknown, b: unknown): void };
  function Counter(this: InstanceType<typeof Readable> & { n: number }) {
    Readable.call(this, { objectMode: true });
    this.n = 0;
  }
  util.inherits(Counter, Readable);
  (Counter.prototype as { _read(): void })._read = function (this: InstanceType<typeof Readable> & { n: number }) {
    this.push(this.n < 3 ? this.n++ : null);
  };
  const seen: unknown[] = [];
  for await (const x of new (Counter as unknown as new () => AsyncIterable<unknown>)()) seen.push(x);
  assert.deepEqual(seen, [0, 1, 2]);
});
