// Differential tests: the sandbox's Headers against Node's built-in (undici) Headers.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import "../platform.ts";
import { Headers, getHeadersGuard, setHeadersGuard } from "../../../src/runtime/web/headers.ts";
import { Response } from "../../../src/runtime/web/fetch.ts";
import { outcome, type Outcome } from "./differential.ts";

const NodeHeaders = globalThis.Headers;
const NodeResponse = globalThis.Response;
type AnyHeaders = InstanceType<typeof NodeHeaders>;
type HeadersClass = new (init?: unknown) => AnyHeaders;

const OurHeaders = Headers as unknown as HeadersClass;


/** Runs `scenario` against both implementations and asserts the same result or error type. */
function assertSame(scenario: (HeadersImpl: HeadersClass) => unknown, message?: string): Outcome {
  const ours = outcome(() => scenario(OurHeaders));
  const node = outcome(() => scenario(NodeHeaders as unknown as HeadersClass));
  assert.deepEqual(ours, node, message);
  return ours;
}

function snapshot(headers: AnyHeaders): unknown {
  const forEachCalls: unknown[] = [];
  headers.forEach((value, name, self) => forEachCalls.push([name, value, self === headers]));
  return {
    entries: [...headers],
    keys: [...headers.keys()],
    values: [...headers.values()],
    forEach: forEachCalls,
    setCookie: headers.getSetCookie(),
  };
}

describe("Headers against Node", () => {
  it("iterates sorted by lowercase name, combining all but set-cookie", () => {
    const result = assertSame((HeadersImpl) => {
      const headers = new HeadersImpl();
      headers.append("X-Zebra", "1");
      headers.append("accept", "text/html");
      headers.append("Set-Cookie", "a=1");
      headers.append("ACCEPT", "application/json");
      headers.append("set-cookie", "b=2; Path=/");
      headers.append("x-alpha", "");
      headers.append("X-ZEBRA", "2");
      headers.append("a-b", "c");
      return snapshot(headers);
    });
    assert.deepEqual((result as { value: { entries: unknown } }).value.entries, [
      ["a-b", "c"],
      ["accept", "text/html, application/json"],
      ["set-cookie", "a=1"],
      ["set-cookie", "b=2; Path=/"],
      ["x-alpha", ""],
      ["x-zebra", "1, 2"],
    ]);
  });

  it("gets, has, sets and deletes case-insensitively", () => {
    assertSame((HeadersImpl) => {
      const headers = new HeadersImpl([
        ["Content-Type", "text/plain"],
        ["X-Multi", "a"],
        ["x-multi", "b"],
        ["Set-Cookie", "x=1"],
        ["set-cookie", "y=2"],
      ]);
      const seen: unknown[] = [headers.get("content-type"), headers.get("X-MULTI"), headers.get("set-cookie"), headers.get("missing"), headers.has("CONTENT-type"), headers.has("nope")];
      headers.set("x-MULTI", "c");
      seen.push(headers.get("x-multi"), [...headers]);
      headers.delete("SET-COOKIE");
      seen.push(headers.has("set-cookie"), headers.getSetCookie(), [...headers]);
      headers.set("New", "v");
      headers.delete("absent");
      seen.push([...headers]);
      return seen;
    });
  });

  it("normalizes leading and trailing HTTP whitespace in values", () => {
    for (const value of [" x", "x ", "\t x \t", "\n\r x\r\n", "a \t b", "   ", "\u00a0x\u00a0", "\u000bx"]) {
      assertSame((HeadersImpl) => {
        const headers = new HeadersImpl({ name: value });
        headers.append("other", value);
        headers.set("third", value);
        return [...headers];
      }, JSON.stringify(value));
    }
  });

  it("rejects invalid names with TypeError", () => {
    for (const name of ["", "a b", "a:b", "a\nb", "(x)", "é", "\u0100", "a\u0000", "x\"", "ok", "!#$%&'*+-.^_`|~09azAZ"]) {
      assertSame((HeadersImpl) => {
        const headers = new HeadersImpl();
        return [
          outcome(() => headers.append(name, "v")),
          outcome(() => headers.set(name, "v")),
          outcome(() => headers.get(name)),
          outcome(() => headers.has(name)),
          outcome(() => headers.delete(name)),
          outcome(() => void new HeadersImpl([[name, "v"]])),
          outcome(() => void new HeadersImpl({ [name]: "v" })),
        ];
      }, JSON.stringify(name));
    }
  });

  it("rejects invalid values with TypeError", () => {
    for (const value of ["a\nb", "a\rb", "a\u0000b", "€", "\u0100", "ok\u00ff", "a\u007fb", "tab\tinside"]) {
      assertSame((HeadersImpl) => {
        const headers = new HeadersImpl();
        return [
          outcome(() => headers.append("x", value)),
          outcome(() => headers.set("x", value)),
          outcome(() => void new HeadersImpl([["x", value]])),
          [...headers],
        ];
      }, JSON.stringify(value));
    }
  });

  it("builds from pairs, records and other Headers; rejects malformed init", () => {
    const inits: Record<string, () => unknown> = {
      pairs: () => [["b", "2"], ["a", "1"], ["A", "3"]],
      "pairs of iterables": () => [new Set(["k", "v"])],
      record: () => ({ b: "2", a: "1", Accept: "x" }),
      "record with non-strings": () => ({ n: 1, b: true, o: { toString: () => "obj" } }),
      "record with symbol key": () => ({ [Symbol("s")]: "v" }),
      "our Headers": () => new Headers([["set-cookie", "a"], ["set-cookie", "b"], ["x", "1"]]),
      "Node Headers": () => new NodeHeaders([["set-cookie", "a"], ["set-cookie", "b"], ["x", "1"]]),
      "pair too short": () => [["a"]],
      "pair too long": () => [["a", "b", "c"]],
      "pair is a string": () => ["ab"],
      "pair is null": () => [null],
      null: () => null,
      string: () => "a: b",
      number: () => 3,
      undefined: () => undefined,
      "empty array": () => [],
    };
    for (const [name, makeInit] of Object.entries(inits)) {
      assertSame((HeadersImpl) => snapshot(new HeadersImpl(makeInit())), name);
    }
  });

  it("reads only enumerable own properties of a record (Node's undici also reads hidden ones)", () => {
    const record = Object.defineProperty({ shown: "1" }, "hidden", { value: "2", enumerable: false });
    const inherited = Object.assign(Object.create({ inherited: "x" }), { own: "y" });
    assert.deepEqual([...new Headers(record)], [["shown", "1"]]);
    assert.deepEqual([...new Headers(inherited)], [["own", "y"]]);
  });

  it("requires arguments and a callable forEach callback", () => {
    assertSame((HeadersImpl) => {
      const headers = new HeadersImpl([["a", "1"]]) as unknown as Record<string, (...args: unknown[]) => unknown>;
      return [
        outcome(() => headers.append("a")),
        outcome(() => headers.set("a")),
        outcome(() => headers.get()),
        outcome(() => headers.has()),
        outcome(() => headers.delete()),
        outcome(() => headers.forEach()),
        outcome(() => headers.forEach("not a function")),
        outcome(() => headers.get(undefined)),
      ];
    });
  });

  it("iterators observe mutations made during iteration", () => {
    assertSame((HeadersImpl) => {
      const headers = new HeadersImpl([["b", "1"], ["d", "2"]]);
      const iterator = headers.keys();
      const seen: unknown[] = [iterator.next()];
      headers.append("a", "0");
      headers.append("c", "3");
      seen.push(iterator.next(), iterator.next(), iterator.next(), iterator.next());
      const visited: string[] = [];
      headers.forEach((_value, name) => {
        visited.push(name);
        if (name === "a") headers.delete("b");
      });
      seen.push(visited);
      return seen;
    });
  });

  it("has the Web IDL shape", () => {
    assertSame((HeadersImpl) => {
      const headers = new HeadersImpl();
      const iterator = headers.entries();
      return [
        Object.prototype.toString.call(headers),
        Object.prototype.toString.call(iterator),
        typeof (iterator as unknown as Record<symbol, unknown>)[Symbol.iterator],
        iterator[Symbol.iterator]() === iterator,
        Object.getPrototypeOf(Object.getPrototypeOf(iterator)) === Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())),
      ];
    });
    assert.throws(() => Headers.prototype.get.call({}, "a"), TypeError);
  });

  it("has a Web IDL iterator prototype: own next (writable, enumerable, configurable) and @@toStringTag only", () => {
    assertSame((HeadersImpl) => {
      const prototype = Object.getPrototypeOf(new HeadersImpl().keys());
      const next = Object.getOwnPropertyDescriptor(prototype, "next")!;
      return [
        Reflect.ownKeys(prototype).map(String),
        [next.writable, next.enumerable, next.configurable, typeof next.value, (next.value as () => void).length, (next.value as () => void).name],
        Object.getOwnPropertyDescriptor(prototype, Symbol.toStringTag),
      ];
    });
  });

  it("makes Response.error() and Response.redirect() headers immutable", () => {
    const scenarios: Record<string, (ResponseImpl: typeof NodeResponse) => AnyHeaders> = {
      error: (ResponseImpl) => ResponseImpl.error().headers,
      redirect: (ResponseImpl) => ResponseImpl.redirect("https://example.com/next", 302).headers,
      constructed: (ResponseImpl) => new ResponseImpl("x").headers,
    };
    for (const [name, make] of Object.entries(scenarios)) {
      const run = (ResponseImpl: typeof NodeResponse): unknown => {
        const headers = make(ResponseImpl);
        return [
          outcome(() => headers.append("x", "1")),
          outcome(() => headers.set("x", "1")),
          outcome(() => headers.delete("location")),
          [...headers],
        ];
      };
      assert.deepEqual(run(Response as unknown as typeof NodeResponse), run(NodeResponse), name);
    }
  });
});

describe("Headers guard", () => {
  it("rejects every mutation once immutable, but still reads", () => {
    const headers = new Headers({ a: "1" });
    assert.equal(getHeadersGuard(headers), "none");
    setHeadersGuard(headers, "immutable");
    assert.equal(getHeadersGuard(headers), "immutable");
    assert.throws(() => headers.append("b", "2"), TypeError);
    assert.throws(() => headers.set("a", "2"), TypeError);
    assert.throws(() => headers.delete("a"), TypeError);
    assert.equal(headers.get("a"), "1");
    assert.deepEqual([...new Headers(headers)], [["a", "1"]]);
    const copy = new Headers(headers);
    copy.set("a", "3");
    assert.equal(copy.get("a"), "3");
  });
});
