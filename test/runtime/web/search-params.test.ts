// Differential tests: the sandbox's URLSearchParams against Node's, on the web-platform-tests'
// cases islet failed (url/urlsearchparams-constructor.any.js) and the WebIDL rules behind them.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import "../platform.ts";
import { URLSearchParams as OurParams } from "../../../src/runtime/web/url/index.ts";
import { outcome } from "./differential.ts";

type Params = InstanceType<typeof globalThis.URLSearchParams>;
type ParamsClass = new (init?: unknown) => Params;
const Ours = OurParams as unknown as ParamsClass;
const Node = globalThis.URLSearchParams as unknown as ParamsClass;

/** The pairs both implementations make from `init` (or the class of the error both throw). */
function assertSame(init: () => unknown, message: string): unknown {
  const ours = outcome(() => [...new Ours(init())]);
  assert.deepEqual(ours, outcome(() => [...new Node(init())]), message);
  return ours;
}

describe("URLSearchParams construction against Node and the WPT", () => {
  it("keeps a leading byte order mark in names and values (UTF-8 decode without BOM)", () => {
    assert.deepEqual(assertSame(() => "\uFEFFtest=\uFEFF", "BOM"), { value: [["\uFEFFtest", "\uFEFF"]] });
    assert.deepEqual(assertSame(() => "%EF%BB%BFa=%EF%BB%BFb", "percent-encoded BOM"), { value: [["\uFEFFa", "\uFEFFb"]] });
    assertSame(() => "?\uFEFFa=1&\uFEFF=\uFEFF\uFEFF", "BOM after ?, alone, doubled");
  });

  it("converts a record's keys to USVStrings first: keys that become equal collapse, the first position with the last value", () => {
    assert.deepEqual(assertSame(() => ({ "\uD835x": "1", xx: "2", "\uD83Dx": "3" }), "2 unpaired surrogates, no trailing"), {
      value: [["\uFFFDx", "3"], ["xx", "2"]],
    });
    assert.deepEqual(assertSame(() => ({ "a\uDC00": "1", "a\uDFFF": "2" }), "lone low surrogates"), { value: [["a\uFFFD", "2"]] });
    assertSame(() => ({ "\uD835": "1", "\uFFFD": "2", b: "3" }), "a surrogate and U+FFFD itself");
  });

  it("reads a record's enumerable own string keys in [[OwnPropertyKeys]] order; an enumerable symbol key is a TypeError", () => {
    assertSame(() => ({ b: "1", a: "2", 1: "3", 0: "4" }), "integer keys first");
    assertSame(() => Object.defineProperty({ a: "1" }, "hidden", { value: "x", enumerable: false }), "non-enumerable skipped");
    assert.deepEqual(assertSame(() => ({ [Symbol("s")]: "x", a: "1" }), "symbol key"), { error: "TypeError" });
    assertSame(() => Object.defineProperty({ a: "1" }, Symbol("s"), { value: "x", enumerable: false }), "non-enumerable symbol key skipped");
  });

  it("uses the init's own [Symbol.iterator], a URLSearchParams' included", () => {
    const custom = () => {
      const params = new Ours();
      (params as unknown as Record<symbol, unknown>)[Symbol.iterator] = function* () {
        yield ["a", "b"];
      };
      return params;
    };
    assert.deepEqual([...new Ours(custom())], [["a", "b"]]);
    const nodeCustom = new Node();
    (nodeCustom as unknown as Record<symbol, unknown>)[Symbol.iterator] = function* () {
      yield ["a", "b"];
    };
    assert.deepEqual([...new Node(nodeCustom)], [["a", "b"]]);
    // A plain copy still copies, duplicates and order kept.
    assert.deepEqual([...new Ours(new Ours("a=1&b=2&a=3"))], [["a", "1"], ["b", "2"], ["a", "3"]]);
  });

  it("reads [Symbol.iterator] once, and treats a non-callable one as a TypeError", () => {
    let reads = 0;
    const init = {
      get [Symbol.iterator]() {
        reads++;
        return function* () {
          yield ["x", "y"];
        };
      },
    };
    assert.deepEqual([...new Ours(init)], [["x", "y"]]);
    // WebIDL reads the method once and iterates with it (Node reads it twice: not compared).
    assert.equal(reads, 1);
    assert.deepEqual([...new Node(init)], [["x", "y"]]);
    assert.deepEqual(assertSame(() => ({ [Symbol.iterator]: 1 }), "non-callable iterator"), { error: "TypeError" });
    assertSame(() => ({ [Symbol.iterator]: null, a: "1" }), "null iterator is a record");
    assertSame(() => [["a", "1"], new Set(["b", "2"])], "pairs as any iterable");
    assertSame(() => [["a"]], "a pair of one");
  });
});

describe("URLSearchParams iteration against Node", () => {
  it("makes Web IDL pair iterators: live, named URLSearchParams Iterator, with an enumerable own next", () => {
    const run = (Impl: ParamsClass): unknown => {
      const params = new Impl("a=1&b=2");
      const iterator = params.entries();
      const seen: unknown[] = [iterator.next().value];
      params.delete("a");
      params.append("c", "3");
      for (const entry of iterator) seen.push(entry);
      const prototype = Object.getPrototypeOf(params.keys());
      const next = Object.getOwnPropertyDescriptor(prototype, "next")!;
      return [
        seen,
        [...params.keys()],
        [...params.values()],
        Object.prototype.toString.call(iterator),
        Object.getPrototypeOf(prototype) === Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())),
        // Node adds its inspect symbol; the rest is Web IDL's iterator prototype object.
        Reflect.ownKeys(prototype).map(String).filter((key) => !key.includes("nodejs")),
        [next.writable, next.enumerable, next.configurable],
        outcome(() => Impl.prototype.keys.call({})),
      ];
    };
    assert.deepEqual(run(Ours), run(Node));
  });
});
