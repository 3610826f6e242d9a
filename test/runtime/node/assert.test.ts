// Differential tests: node:assert against Node's: for each failing (and passing) call the thrown
// error's class, code, message, operator and generatedMessage must match. assert.ok's message is
// the one intended difference: Node quotes the call's source, which the sandbox cannot read.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import nodeAssert from "node:assert";
import { nodeModule } from "./compat.ts";

const ours = nodeModule("assert") as typeof nodeAssert;

function failure(run: () => unknown): unknown {
  try {
    run();
    return "no throw";
  } catch (error) {
    const e = error as Error & { code?: string; operator?: string; generatedMessage?: boolean };
    return { class: e.constructor.name, name: e.name, code: e.code, message: e.message, operator: e.operator, generatedMessage: e.generatedMessage, string: String(e) };
  }
}

async function asyncFailure(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
    return "no throw";
  } catch (error) {
    const e = error as Error & { code?: string; operator?: string };
    return { class: e.constructor.name, code: e.code, message: e.message, operator: e.operator };
  }
}

type Assert = typeof nodeAssert;
const calls: [string, (a: Assert) => unknown][] = [
  ["strictEqual numbers", (a) => a.strictEqual(1, 2)],
  ["strictEqual strings", (a) => a.strictEqual("a\nb", "a\nc")],
  ["strictEqual long strings", (a) => a.strictEqual("hello world", "hello there")],
  ["strictEqual multi-line", (a) => a.strictEqual([1, 2, 3, 4, 5, 6, 7, 8].map(String).join("\n"), "x")],
  ["strictEqual same structure", (a) => a.strictEqual({ a: 1 }, { a: 1 })],
  ["strictEqual objects", (a) => a.strictEqual({ a: 1 }, { a: 2 })],
  ["strictEqual custom message", (a) => a.strictEqual(1, 2, "custom")],
  ["strictEqual error message", (a) => a.strictEqual(1, 2, new TypeError("own"))],
  ["strictEqual NaN", (a) => a.strictEqual(NaN, NaN)],
  ["strictEqual missing", (a) => (a.strictEqual as (x: unknown) => void)(1)],
  ["notStrictEqual", (a) => a.notStrictEqual(1, 1)],
  ["notStrictEqual object", (a) => { const o = { a: 1 }; a.notStrictEqual(o, o); }],
  ["notStrictEqual custom", (a) => a.notStrictEqual(1, 1, "c2")],
  ["equal", (a) => a.equal(1, 2)],
  ["equal loose", (a) => a.equal(1, "1")],
  ["notEqual", (a) => a.notEqual(1, "1")],
  ["deepEqual", (a) => a.deepEqual({ a: 1 }, { a: 2 })],
  ["deepEqual loose", (a) => a.deepEqual({ a: 1 }, { a: "1" })],
  ["notDeepEqual", (a) => a.notDeepEqual({ a: 1 }, { a: 1 })],
  ["deepStrictEqual objects", (a) => a.deepStrictEqual({ a: 1, b: [1, 2] }, { a: 2, b: [1, 2] })],
  ["deepStrictEqual arrays", (a) => a.deepStrictEqual([1, 2, 3], [1, 2, 4])],
  ["deepStrictEqual long arrays", (a) => a.deepStrictEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [1, 2, 3, 4, 5, 6, 7, 8, 9, 11])],
  ["deepStrictEqual extra lines", (a) => a.deepStrictEqual({ a: 1, b: 2, c: 3 }, { a: 1 })],
  ["deepStrictEqual map", (a) => a.deepStrictEqual(new Map([[1, { x: 1 }]]), new Map([[1, { x: 2 }]]))],
  ["deepStrictEqual custom", (a) => a.deepStrictEqual({ a: 1 }, { a: 2 }, "custom")],
  ["deepStrictEqual same", (a) => a.deepStrictEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })],
  ["deepStrictEqual prototypes", (a) => a.deepStrictEqual(Object.create(null), {})],
  ["notDeepStrictEqual", (a) => a.notDeepStrictEqual({ a: 1 }, { a: 1 })],
  ["throws nothing", (a) => a.throws(() => {})],
  ["throws class", (a) => a.throws(() => {}, TypeError)],
  ["throws message", (a) => a.throws(() => {}, "msg")],
  ["throws wrong class", (a) => a.throws(() => { throw new Error("x"); }, TypeError)],
  ["throws regexp", (a) => a.throws(() => { throw new Error("x"); }, /y/)],
  ["throws object", (a) => a.throws(() => { throw new Error("x"); }, { message: "y" })],
  ["throws object regexp", (a) => a.throws(() => { throw new Error("abc"); }, { message: /b/ })],
  ["throws validator", (a) => a.throws(() => { throw new Error("x"); }, () => false)],
  ["throws primitive", (a) => a.throws(() => { throw 5; }, { a: 1 })],
  ["throws empty object", (a) => a.throws(() => { throw new Error("x"); }, {})],
  ["throws passes", (a) => a.throws(() => { throw new TypeError("q"); }, TypeError, "unused")],
  ["throws not a function", (a) => a.throws("x" as unknown as () => void)],
  ["doesNotThrow", (a) => a.doesNotThrow(() => { throw new Error("z"); })],
  ["doesNotThrow other class", (a) => a.doesNotThrow(() => { throw new Error("z"); }, TypeError)],
  ["fail", (a) => a.fail()],
  ["fail message", (a) => a.fail("boom")],
  ["fail error", (a) => a.fail(new RangeError("own"))],
  ["match", (a) => a.match("abc", /x/)],
  ["match not string", (a) => a.match(5 as unknown as string, /x/)],
  ["doesNotMatch", (a) => a.doesNotMatch("abc", /b/)],
  ["ifError", (a) => a.ifError(new Error("e"))],
  ["ifError value", (a) => a.ifError("text")],
  ["ifError null", (a) => a.ifError(null)],
  ["ok no args", (a) => (a.ok as () => void)()],
  ["ok message", (a) => a.ok(0, "zero")],
  ["strict.equal", (a) => a.strict.equal(1, "1" as unknown as number)],
  ["strict.deepEqual", (a) => a.strict.deepEqual({ a: 1 }, { a: "1" })],
  ["deepStrictEqual long runs elided", (a) => a.deepStrictEqual(Array.from({ length: 40 }, (_, i) => i), Array.from({ length: 40 }, (_, i) => (i === 20 ? -1 : i)))],
  ["deepStrictEqual run of six", (a) => a.deepStrictEqual([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6, 7, 9])],
  ["deepStrictEqual moved lines", (a) => a.deepStrictEqual({ a: 1, b: 2, c: 3, d: [4, 5] }, { b: 2, c: 3, d: [5, 4], e: 1 })],
  ["deepStrictEqual errors", (a) => a.deepStrictEqual(new Error("a"), new Error("b"))],
  ["deepStrictEqual same structure", (a) => a.deepStrictEqual(Array.from({ length: 60 }, () => ({})), Array.from({ length: 60 }, () => ({})), undefined)],
  ["strictEqual strings past 80 columns", (a) => a.strictEqual("x".repeat(50), `${"x".repeat(40)}y`)],
  ["strictEqual zero and -0", (a) => a.strictEqual(0, -0)],
  ["notStrictEqual long", (a) => { const o = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, i])); a.notStrictEqual(o, o); }],
  ["AssertionError constructed", (a) => { throw new a.AssertionError({ actual: 1, expected: 2, operator: "strictEqual" }); }],
  ["AssertionError diff full", (a) => { throw new a.AssertionError({ actual: Array.from({ length: 60 }, () => ({})), expected: Array.from({ length: 60 }, () => ({})), operator: "deepStrictEqual", diff: "full" } as never); }],
  ["AssertionError notDeepEqual", (a) => { throw new a.AssertionError({ actual: { a: 1 }, expected: { a: 1 }, operator: "notDeepEqual" }); }],
  ["AssertionError message", (a) => { throw new a.AssertionError({ message: "m", operator: "deepStrictEqual", actual: { a: 1 }, expected: { a: 1 } }); }],
];

describe("node:assert", () => {
  it("throws what Node throws, message included", () => {
    for (const [label, call] of calls) assert.deepEqual(failure(() => call(ours)), failure(() => call(nodeAssert)), label);
  });

  it("rejects and doesNotReject agree with Node", async () => {
    const asyncCalls: [string, (a: Assert) => Promise<unknown>][] = [
      ["rejects resolved", (a) => a.rejects(Promise.resolve(1))],
      ["rejects class", (a) => a.rejects(Promise.reject(new Error("x")), TypeError)],
      ["rejects passes", (a) => a.rejects(async () => { throw new TypeError("x"); }, TypeError)],
      ["rejects not a promise", (a) => a.rejects((() => 1) as unknown as () => Promise<void>)],
      ["rejects bad argument", (a) => a.rejects(5 as unknown as Promise<void>)],
      ["doesNotReject", (a) => a.doesNotReject(Promise.reject(new Error("y")))],
      ["doesNotReject passes", (a) => a.doesNotReject(async () => 1)],
    ];
    for (const [label, call] of asyncCalls) assert.deepEqual(await asyncFailure(() => call(ours)), await asyncFailure(() => call(nodeAssert)), label);
  });

  it("assert.ok shows the value where Node shows the source", () => {
    assert.deepEqual(failure(() => ours.ok(false)), {
      class: "AssertionError",
      name: "AssertionError",
      code: "ERR_ASSERTION",
      message: "The expression evaluated to a falsy value:\n\n  assert.ok(false)\n",
      operator: "==",
      generatedMessage: true,
      string: "AssertionError [ERR_ASSERTION]: The expression evaluated to a falsy value:\n\n  assert.ok(false)\n",
    });
    assert.equal(ours.ok, ours);
  });

  it("has Node's shape: assert/strict, error stack header and own keys", () => {
    assert.equal(nodeModule("assert/strict"), ours.strict);
    assert.equal(ours.strict.strict, ours.strict);
    const error = new ours.AssertionError({ actual: 1, expected: 2, operator: "strictEqual" });
    assert.match(error.stack!, /^AssertionError \[ERR_ASSERTION\]: Expected values/);
    assert.deepEqual(Object.keys(error), Object.keys(new nodeAssert.AssertionError({ actual: 1, expected: 2, operator: "strictEqual" })));
    assert.ok(error instanceof Error);
  });
});
