// ownBytes / copyOwnBytes: the one helper every host-to-sandbox chunk path copies through (P2).

import { test } from "node:test";
import assert from "node:assert/strict";
import { copyOwnBytes, ownBytes } from "../../src/protocol/own-bytes.ts";

const own = (v: Uint8Array) => [v.byteOffset, v.byteLength, v.buffer.byteLength, Object.getPrototypeOf(v) === Uint8Array.prototype, [...v].join()];

test("a small pooled Buffer, a subarray, a DataView and other typed arrays become exactly their own bytes", () => {
  const pooled = Buffer.from("abc");
  assert.ok(pooled.buffer.byteLength > 3, "the Buffer is in Node's pool");
  assert.deepEqual(own(ownBytes(pooled)), [0, 3, 3, true, "97,98,99"]);
  const big = new Uint8Array(1 << 20);
  big.set([1, 2, 3, 4, 5], 10);
  assert.deepEqual(own(ownBytes(big.subarray(11, 13))), [0, 2, 2, true, "2,3"]);
  assert.deepEqual(own(ownBytes(new DataView(big.buffer, 10, 3))), [0, 3, 3, true, "1,2,3"]);
  assert.deepEqual(own(ownBytes(new Uint16Array(big.buffer, 10, 1))), [0, 2, 2, true, "1,2"]);
  assert.deepEqual(own(ownBytes(big.buffer.slice(12, 14))), [0, 2, 2, true, "3,4"]);
});

test("a plain Uint8Array over the whole of a fixed-length buffer is kept; a Buffer, a resizable or a shared buffer is copied", () => {
  const exact = new Uint8Array([7, 8]);
  assert.equal(ownBytes(exact), exact);
  const whole = Buffer.alloc(4096 * 32); // not pooled, spans its buffer, but a Buffer: copied to a plain Uint8Array
  assert.equal(whole.byteLength, whole.buffer.byteLength);
  assert.notEqual(ownBytes(whole), whole);
  const resizable = new ArrayBuffer(2, { maxByteLength: 1 << 20 });
  const fromResizable = ownBytes(new Uint8Array(resizable));
  assert.equal((fromResizable.buffer as ArrayBuffer).resizable, false);
  assert.equal(fromResizable.buffer.byteLength, 2);
  const shared = ownBytes(new Uint8Array(new SharedArrayBuffer(4)));
  assert.ok(shared.buffer instanceof ArrayBuffer);
  // copyOwnBytes always copies, even an exact Uint8Array.
  const copy = copyOwnBytes(exact);
  assert.notEqual(copy.buffer, exact.buffer);
  assert.deepEqual([...copy], [7, 8]);
});
