// What V8 13.6 (Node 24) gives the code in a sandbox, checked inside a real isolate: Promise.try,
// iterator helpers, Error.isError, Float16Array (also through structuredClone), and transfers that
// detach (structuredClone's transfer option and byte streams), as the specs say.

import { test } from "node:test";
import assert from "node:assert/strict";
import { WorkerLoader } from "islet";
import { js } from "../helpers.ts";

const loader = new WorkerLoader();
test.after(() => loader.close());

function run(body: string): Promise<unknown> {
  return loader.load(js(`export default { async run() { ${body} } };`)).getEntrypoint().run() as Promise<unknown>;
}

test("Promise.try, iterator helpers, Error.isError and Float16Array are there", async () => {
  assert.deepEqual(
    await run(`
      const tried = await Promise.try((a, b) => a + b, 2, 3);
      const rejected = await Promise.try(() => { throw new RangeError("r"); }).catch((e) => e.name);
      const helpers = [1, 2, 3, 4].values().map((x) => x * 2).filter((x) => x > 2).take(2).toArray();
      const fromIterator = Iterator.from({ next() { return { done: true }; } }).toArray();
      const isError = [Error.isError(new TypeError()), Error.isError(new DOMException("x")), Error.isError({ __proto__: Error.prototype })];
      const half = new Float16Array([1.5, 65520, 1e-8]);
      return { tried, rejected, helpers, fromIterator, isError, half: Array.from(half), f16round: Math.f16round(1.337), bytes: Float16Array.BYTES_PER_ELEMENT };
    `),
    { tried: 5, rejected: "RangeError", helpers: [4, 6], fromIterator: [], isError: [true, true, false], half: [1.5, Infinity, 0], f16round: 1.3369140625, bytes: 2 },
  );
});

test("structuredClone clones a Float16Array and detaches the buffers it transfers", async () => {
  assert.deepEqual(
    await run(`
      const half = new Float16Array([0.5, -2]);
      const copy = structuredClone({ half });
      const buffer = new ArrayBuffer(4, { maxByteLength: 8 });
      new Uint8Array(buffer)[0] = 7;
      const moved = structuredClone(buffer, { transfer: [buffer] });
      let again;
      try { structuredClone(buffer); } catch (error) { again = error.name; }
      return [copy.half instanceof Float16Array, Array.from(copy.half), copy.half.buffer !== half.buffer,
        buffer.byteLength, buffer.detached, moved.byteLength, new Uint8Array(moved)[0], moved.resizable, again];
    `),
    [true, [0.5, -2], true, 0, true, 4, 7, true, "DataCloneError"],
  );
});

test("byte streams detach the buffers they transfer: enqueue and BYOB reads", async () => {
  assert.deepEqual(
    await run(`
      const bytes = new Uint8Array([5, 6]);
      const stream = new ReadableStream({ type: "bytes", start(c) { c.enqueue(bytes); c.close(); } });
      const { value } = await stream.getReader().read();
      const byob = new ReadableStream({ type: "bytes", pull(c) { c.byobRequest.view[0] = 9; c.byobRequest.respond(1); } });
      const view = new Uint8Array(4);
      const read = await byob.getReader({ mode: "byob" }).read(view);
      return [bytes.byteLength, bytes.buffer.detached, Array.from(value), view.buffer.detached, Array.from(read.value), read.value.buffer.byteLength];
    `),
    [0, true, [5, 6], true, [9], 4],
  );
});
