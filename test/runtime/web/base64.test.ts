// Differential tests: the sandbox's atob and btoa against Node's.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import "../platform.ts";
import { atob, btoa, DOMException } from "../../../src/runtime/web/events/index.ts";
import { namedOutcome } from "./differential.ts";

type Codec = (data: unknown) => string;
const ours = { atob: atob as Codec, btoa: btoa as Codec };
const node = { atob: globalThis.atob as Codec, btoa: globalThis.btoa as Codec };

const attempt = namedOutcome;

function assertSame(name: "atob" | "btoa", input: unknown): unknown {
  const result = attempt(() => ours[name](input));
  assert.deepEqual(result, attempt(() => node[name](input)), `${name}(${JSON.stringify(String(input))})`);
  return result;
}

describe("atob against Node", () => {
  it("decodes with or without padding and ignores ASCII whitespace anywhere", () => {
    for (const input of ["", "YQ==", "YQ=", "YQ", "YWI=", "YWI", "YWJj", " YW\tJj\n", "Y W J j", "YW\fJj\r", "YWJjZA==\n", "  ", "\n\t\f\r "]) {
      assertSame("atob", input);
    }
  });

  it("rejects bad lengths, bad padding and characters outside the alphabet with InvalidCharacterError", () => {
    const bad = [
      "a", "abcde", "YQ===", "Y===", "=", "==", "YQ=a", "Y=Q=", "=YQ=", "YQ==a", "YWJj=", "YW-j", "YW_j", "YWJ\u00e9", "YW\u00a0Jj", "YW\vJj",
      "\u0000", "YQ==\u0000", "ab\ud800",
    ];
    for (const input of bad) assert.deepEqual(assertSame("atob", input), { error: "DOMException", name: "InvalidCharacterError" }, JSON.stringify(input));
    assert.throws(() => atob("*"), (error: Error) => error instanceof DOMException && (error as DOMException).code === 5);
  });

  it("converts its argument with ToString and requires one", () => {
    for (const input of [null, undefined, 1234, true, { toString: () => "YQ==" }]) assertSame("atob", input);
    assert.throws(() => (atob as () => string)(), TypeError);
    assert.throws(() => atob(Symbol("s")), TypeError);
  });

  it("discards the bits below the last whole byte", () => {
    for (const input of ["YR", "YR==", "YWJ", "YWK=", "////", "+/+/+A", "AAB"]) assertSame("atob", input);
  });

  it("agrees with Node on arbitrary strings over the alphabet, whitespace and a few strangers", () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= \t\n-_é";
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...alphabet), { maxLength: 40 }), (chars) => {
        const input = chars.join("");
        assert.deepEqual(attempt(() => atob(input)), attempt(() => node.atob(input)));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("btoa against Node", () => {
  it("encodes every byte value and round-trips through atob", () => {
    const all = String.fromCharCode(...Array.from({ length: 256 }, (_, index) => index));
    for (const input of ["", "a", "ab", "abc", "abcd", all, all.slice(1), all.slice(2), "\u00ff\u00fe"]) {
      assertSame("btoa", input);
      assert.equal(atob(btoa(input)), input);
    }
  });

  it("rejects code units above U+00FF with InvalidCharacterError", () => {
    for (const input of ["\u0100", "ab\u20ac", "\ud83d\ude00", "x\ud800"]) {
      assert.deepEqual(assertSame("btoa", input), { error: "DOMException", name: "InvalidCharacterError" });
    }
  });

  it("converts its argument with ToString and requires one", () => {
    for (const input of [null, undefined, 0, false, { toString: () => "obj" }]) assertSame("btoa", input);
    assert.throws(() => (btoa as () => string)(), TypeError);
  });

  it("agrees with Node on arbitrary binary strings, long ones included", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const input = String.fromCharCode(...bytes);
        assert.equal(btoa(input), node.btoa(input));
        assert.equal(atob(btoa(input)), input);
      }),
      { numRuns: 500 },
    );
    const long = "\u00e9x".repeat(100_000);
    assert.equal(btoa(long), node.btoa(long));
    assert.equal(atob(btoa(long)), long);
  });
});
