// BodyBudget (src/server/body-budget.ts) on its own, over web streams (the app called without a
// Node server): the caps, the deadline, and that what a body holds is given back however it ends.
// The real servers under attack: test/cli/body-budget.test.ts.

import { test } from "node:test";
import assert from "node:assert/strict";
import { BodyAbandoned, BodyBudget, BodyRefused } from "../../src/server/body-budget.ts";

const limits = { maxBodyBytes: 1000, maxBodies: 3, maxBytes: 2500, maxBytesPerKey: 1500, timeoutMs: 300 };
const a = { keyId: "a", maxConcurrency: 2 };
const b = { keyId: "b", maxConcurrency: 2 };

/** A stream that sends `sent` bytes, then waits until `end()` (or `fail()`). */
function trickle(sent: number): { stream: ReadableStream<Uint8Array>; end(): void; fail(): void } {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      if (sent > 0) c.enqueue(new Uint8Array(sent));
    },
  });
  return { stream, end: () => controller.close(), fail: () => controller.error(new Error("connection reset")) };
}

const status = (promise: Promise<unknown>) => promise.then(() => "read", (error) => (error instanceof BodyRefused ? error.status : error instanceof BodyAbandoned ? "abandoned" : String(error)));

test("bodies at once per key and in all: 429 past either; places given back when bodies end", async () => {
  const budget = new BodyBudget(limits);
  const one = trickle(10);
  const two = trickle(10);
  const first = budget.read(a, one.stream, undefined);
  const second = budget.read(a, two.stream, undefined);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(await status(budget.read(a, trickle(1).stream, undefined)), 429, "a third body of key a");
  const other = trickle(10);
  const third = budget.read(b, other.stream, undefined);
  assert.equal(await status(budget.read(b, trickle(1).stream, undefined)), 429, "a fourth body in all");
  one.end();
  two.fail();
  other.end();
  assert.equal((await first).byteLength, 10);
  assert.equal(await status(second), "abandoned");
  assert.equal((await third).byteLength, 10);
  assert.deepEqual(budget.current, { bodies: 0, bytes: 0, keys: 0 });
});

test("bytes: a declared length is reserved before reading, chunked bytes as they come; 413 past one body's limit", async () => {
  const budget = new BodyBudget(limits);
  assert.equal(await status(budget.read(a, trickle(0).stream, 1001)), 413);
  const declared = trickle(0);
  const held = budget.read(a, declared.stream, 1000);
  assert.equal(budget.current.bytes, 1000);
  // Key a has 500 bytes left: a declared 600 is refused at once, a chunked body once it passes 500.
  assert.equal(await status(budget.read(a, trickle(0).stream, 600)), 429);
  assert.equal(await status(budget.read(a, trickle(600).stream, undefined)), 429);
  assert.equal(await status(budget.read(b, trickle(1001).stream, undefined)), 413);
  // A length that is not a whole number is not reserved: the bytes are counted as they come.
  const odd = trickle(100);
  const oddRead = budget.read(b, odd.stream, Number("12abc"));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(budget.current.bytes, 1100);
  odd.end();
  assert.equal((await oddRead).byteLength, 100);
  declared.fail();
  assert.equal(await status(held), "abandoned");
  assert.deepEqual(budget.current, { bodies: 0, bytes: 0, keys: 0 });
});

test("a body not complete within timeoutMs: 408, and its place given back", async () => {
  const shed: string[] = [];
  const budget = new BodyBudget(limits, (reason) => shed.push(reason));
  const started = Date.now();
  assert.equal(await status(budget.read(a, trickle(5).stream, 100)), 408);
  assert.ok(Date.now() - started >= 250);
  assert.deepEqual(shed, ["timeout"]);
  assert.deepEqual(budget.current, { bodies: 0, bytes: 0, keys: 0 });
});
