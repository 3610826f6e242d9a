// logSize tells a copy's objects by their prototype and one brand check (findings23/02: probing
// every brand, each probe throwing, cost the host 35 µs an object). The answer must be the one the
// full probe gives, for every kind, and for an object whose prototype lies about its kind (a
// sandbox's snapshot keeps its leaves as they are); received must tell the same kinds.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { logSize } from "../../src/protocol/log-size.ts";
import { received } from "../../src/protocol/clonable.ts";

const LIMIT = 1 << 20;

const error = new RangeError("bad");
error.stack = "RangeError: bad\n    at somewhere";
const withCause = new Error("outer", { cause: "x".repeat(100) });

const values: [string, () => unknown][] = [
  ["plain object", () => ({ a: 1, bb: "xyz" })],
  ["null-prototype object", () => Object.assign(Object.create(null), { k: "v" })],
  ["array", () => [1, "ab", [null]]],
  ["Date", () => new Date(0)],
  ["Map", () => new Map<unknown, unknown>([["k", { v: "abc" }]])],
  ["Set", () => new Set(["abc", 1])],
  ["RegExp", () => /abc+/gi],
  ["boxed number", () => Object(1)],
  ["boxed string", () => Object("abc")],
  ["boxed boolean", () => Object(true)],
  ["boxed BigInt", () => Object(12345678901234567890123n)],
  ["ArrayBuffer", () => new ArrayBuffer(100)],
  ["Uint8Array", () => new Uint8Array(new ArrayBuffer(64), 8, 4)],
  ["Float64Array", () => new Float64Array(3)],
  ["DataView", () => new DataView(new ArrayBuffer(32), 4)],
  ["Error", () => error],
  ["Error with a cause", () => withCause],
  ["nested mix", () => [{ d: new Date(0), m: new Map([[/x/, Object(2n)]]) }, new Set([new Uint8Array(5)])]],
];

describe("logSize of copies", () => {
  for (const [name, make] of values) {
    it(`weighs a copied ${name} as the full probe does`, () => {
      const copy = structuredClone(make());
      const probed = logSize(copy, LIMIT, false);
      assert.ok(probed > 0);
      assert.equal(logSize(copy, LIMIT, true), probed);
      // received tells it as one of the listed kinds, and hands it back.
      assert.equal(received(copy), copy);
    });
  }

  it("an object whose prototype names another kind is probed, not believed", () => {
    const liars: object[] = [
      Object.setPrototypeOf(/source-of-some-length/, Date.prototype),
      Object.setPrototypeOf(new ArrayBuffer(1000), Map.prototype),
      Object.setPrototypeOf(new Uint8Array(500), RegExp.prototype),
      Object.setPrototypeOf(new Map([["k", "v".repeat(50)]]), Set.prototype),
      Object.setPrototypeOf(new Date(0), ArrayBuffer.prototype),
      Object.setPrototypeOf({ message: "m".repeat(40) }, RangeError.prototype),
    ];
    for (const liar of liars) assert.equal(logSize(liar, LIMIT, true), logSize(liar, LIMIT, false), Object.prototype.toString.call(liar));
    // A 1,000-byte buffer weighs its bytes whatever its prototype says.
    assert.ok(logSize(liars[1], LIMIT, true) >= 1000);
  });

  it("a view over a SharedArrayBuffer weighs what it shows, and received refuses it", () => {
    const view = new Uint8Array(new SharedArrayBuffer(64), 0, 16);
    assert.equal(logSize(view, LIMIT, true), logSize(view, LIMIT, false));
    assert.throws(() => received(view), /could not be cloned/);
  });

  it("an array of many empty objects costs microseconds an object, not tens", () => {
    const copy = structuredClone(Array.from({ length: 50_000 }, () => ({})));
    const started = performance.now();
    assert.equal(logSize(copy, LIMIT, true), 8 + 50_000 * 8);
    received(copy);
    const tookMs = performance.now() - started;
    // Before: 35 µs an object on the host (1.7 s here); after: well under 1 µs.
    assert.ok(tookMs < 500, `took ${tookMs.toFixed(0)} ms`);
  });
});
