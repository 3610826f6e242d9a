// The sandbox's snapshot of what it sends (src/protocol/snapshot.ts), run in Node: V8's serializer
// (node:v8, the one isolated-vm's copy uses) stands in for the copy. What it copies of a snapshot
// is what it would copy of the value, read once, and copying a snapshot runs no code.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deserialize, serialize } from "node:v8";
import { snapshot, type SnapshotGuard, type SnapshotOptions } from "../../src/protocol/snapshot.ts";
import { CapKind, type CapExporter } from "../../src/protocol/cap-table.ts";

const proxies = new WeakSet<object>();
const guard: SnapshotGuard = {
  refuse: (object) => (proxies.has(object) ? Object.assign(new TypeError("A Proxy could not be cloned"), { name: "DataCloneError" }) : undefined),
  isProxy: (object) => proxies.has(object),
};
const exported: object[] = [];
const exporter: CapExporter = {
  classify: (value) => (typeof value === "function" ? CapKind.Function : -1),
  export: (value) => exported.push(value),
};

function take(value: unknown, options: Partial<SnapshotOptions> = {}) {
  exported.length = 0;
  return snapshot(value, { exporter, guard, maxObjects: 100_000, maxBytes: 16 * 2 ** 20, ...options });
}

/** What the copy of `value` holds. */
const copied = (value: unknown) => deserialize(serialize(value));

describe("snapshot", () => {
  it("ordinary values cross as the copy of the value itself would: types, holes, cycles and shared references kept", () => {
    const shared = { s: 1 };
    const cyclic: Record<string, unknown> = { name: "c" };
    cyclic.self = cyclic;
    const holey = [1, , 3];
    (holey as unknown as Record<string, unknown>).extra = "x";
    const cause = new RangeError("inner");
    const value = {
      n: -0, nan: NaN, big: 12345678901234567890n, u: undefined, nul: null, s: "text",
      date: new Date(7), re: /a+b/gi, map: new Map<unknown, unknown>([[shared, "k"], ["v", shared]]), set: new Set([1, shared]),
      u8: new Uint8Array([1, 2, 3]), dv: new DataView(new ArrayBuffer(4)), ab: new ArrayBuffer(2), f64: new Float64Array([0.5]),
      boxed: [Object(1), Object("s"), Object(2n), Object(true)],
      error: new TypeError("outer", { cause }), holey, cyclic, twice: [shared, shared],
      ["__proto__"]: "own",
    };
    const encoded = take(value);
    assert.equal(encoded.length, 1);
    const got = copied(encoded[0]) as typeof value;
    const want = copied(value) as typeof value;
    assert.deepEqual(got, want);
    assert.ok(Object.hasOwn(got, "__proto__"));
    assert.equal(got.twice[0], got.twice[1], "a shared reference stays shared");
    assert.equal(got.cyclic.self, got.cyclic, "a cycle stays a cycle");
    assert.ok([...got.map.keys()][0] === [...got.map.values()][1], "identity across a Map's key and value");
    assert.equal(1 in got.holey, false, "a hole stays a hole");
    assert.ok(got.error instanceof TypeError && got.error.message === "outer" && (got.error.cause as Error).message === "inner");
    assert.equal(got.error.stack, value.error.stack);
  });

  it("each getter is read once; copying the snapshot runs no code, and a getter's later answer never crosses", () => {
    let reads = 0;
    const value = { get g() { reads++; return reads === 1 ? "small" : "x".repeat(1 << 20); }, list: [] as unknown[] };
    Object.defineProperty(value.list, 0, { enumerable: true, get: () => { reads++; return reads === 2 ? "item" : "big"; } });
    const encoded = take(value);
    assert.equal(reads, 2);
    assert.deepEqual(copied(encoded[0]), { g: "small", list: ["item"] });
    assert.equal(reads, 2, "the copy read nothing again");
  });

  it("filling the snapshot runs no setter user code put on Object.prototype or Array.prototype", () => {
    const seen: unknown[] = [];
    Object.defineProperty(Object.prototype, "trap", { configurable: true, set(value) { seen.push(value); } });
    Object.defineProperty(Array.prototype, "0", { configurable: true, set(value) { seen.push(value); } });
    try {
      const encoded = take({ trap: { a: 1 }, list: [{ b: 2 }] });
      assert.deepEqual(seen, []);
      assert.deepEqual(copied(encoded[0]), { trap: { a: 1 }, list: [{ b: 2 }] });
    } finally {
      delete (Object.prototype as Record<string, unknown>).trap;
      delete (Array.prototype as unknown as Record<string, unknown>)[0];
    }
  });

  it("a result's getter is read once and refused, a result's RegExp is a fresh one", () => {
    let reads = 0;
    assert.throws(() => take({ get g() { reads++; return 1; } }, { result: true }), { name: "DataCloneError", message: /holds a getter \(property "g"\)/ });
    assert.equal(reads, 1);
    assert.throws(() => take({ get g() { throw new RangeError("mine"); } }, { result: true }), { name: "RangeError", message: "mine" });
    const pattern = /a+/gimsuy;
    const [copy] = take([pattern], { result: true }) as [RegExp[]];
    assert.notEqual(copy[0], pattern);
    assert.equal(String(copy[0]), String(pattern));
  });

  it("a resizable buffer, or a view over one, becomes a fixed-length copy of the bytes it holds, weighed as such", () => {
    const buffer = new ArrayBuffer(4, { maxByteLength: 1 << 20 });
    new Uint8Array(buffer).set([1, 2, 3, 4]);
    const tracking = new Uint16Array(buffer);
    const meter = { bytes: 0 };
    const [copy] = take([buffer, tracking, new DataView(buffer, 1, 2), new BigInt64Array(new ArrayBuffer(8, { maxByteLength: 64 }))], { meter }) as [[ArrayBuffer, Uint16Array, DataView, BigInt64Array]];
    buffer.resize(1 << 20);
    const [bare, view, data, big] = copied(copy) as [ArrayBuffer, Uint16Array, DataView, BigInt64Array];
    assert.deepEqual([bare.resizable, bare.byteLength, [...new Uint8Array(bare)]], [false, 4, [1, 2, 3, 4]]);
    assert.ok(view instanceof Uint16Array && !(view.buffer as ArrayBuffer).resizable && view.byteLength === 4);
    assert.ok(data instanceof DataView && !(data.buffer as ArrayBuffer).resizable && data.byteLength === 2 && data.getUint8(0) === 2);
    assert.ok(big instanceof BigInt64Array && big.length === 1);
    assert.ok(meter.bytes < 1024, `weighed ${meter.bytes} bytes: what the copies hold`);
    assert.equal(buffer.byteLength, 1 << 20, "the sandbox's own buffer is left as it was");
  });

  it("weighs each reference again, as the copy writes it: 300 references to one 1 MiB string are refused", () => {
    const mib = "x".repeat(1 << 20);
    assert.throws(() => take(new Array(300).fill(mib)), { name: "DataCloneError", message: /at most 16777216 bytes/ });
    assert.throws(() => take(Array.from({ length: 20 }, () => ({})), { maxObjects: 10 }), { name: "DataCloneError", message: /at most 10 objects/ });
  });

  it("functions become capabilities in plain objects and arrays, by path, and are refused inside anything else", () => {
    const f = () => 1;
    const encoded = take({ a: [0, { f }], g: f });
    assert.equal(encoded.length, 2);
    assert.deepEqual(copied(encoded[0]), { a: [0, { f: null }], g: null });
    // The capability list is filled without a prototype (no setter of Array.prototype's sees it).
    const slots = Array.from(encoded[1]!, ([path, kind]) => [Array.from(path), kind]);
    assert.deepEqual(slots, [[["a", "1", "f"], CapKind.Function], [["g"], CapKind.Function]]);
    class Holder { f = f; }
    for (const inside of [new Map([["f", f]]), new Set([f]), new Holder(), new Error("e", { cause: f })]) {
      assert.throws(() => take({ inside }), { name: "DataCloneError", message: /cannot be sent inside/ });
    }
  });

  it("refuses what V8's serializer refuses, before reading it: a Proxy, the engine's objects, the global object, arguments", () => {
    const proxy = new Proxy({}, { ownKeys() { throw new Error("read"); } });
    proxies.add(proxy);
    assert.throws(() => take({ p: [proxy] }), { name: "DataCloneError", message: /Proxy/ });
    const refused: [string, unknown, RegExp][] = [
      ["WeakMap", new WeakMap(), /#<WeakMap> could not be cloned/],
      ["Promise", Promise.resolve(), /#<Promise> could not be cloned/],
      ["iterator", [1].values(), /#<Array Iterator> could not be cloned/],
      ["generator", (function* () {})(), /#<Generator> could not be cloned/],
      ["Intl", new Intl.NumberFormat(), /#<Intl.NumberFormat> could not be cloned/],
      ["global", globalThis, /global object/],
      ["arguments", (function () { return arguments; })(), /arguments object/],
      ["symbol", Symbol("s"), /symbol/],
      ["detached", (() => { const b = new ArrayBuffer(1); structuredClone(b, { transfer: [b] }); return b; })(), /detached/],
    ];
    for (const [what, value, message] of refused) assert.throws(() => take({ value }), { name: "DataCloneError", message }, what);
    class Instance { a = 1; get b() { return 2; } }
    assert.deepEqual(copied(take(new Instance())[0]), { a: 1 }, "a class instance crosses as its own keys");
  });

  it("values nested too deep are a DataCloneError, not a stack overflow", () => {
    const root: Record<string, unknown> = {};
    let node = root;
    for (let i = 0; i < 100_000; i++) node = node.a = {};
    assert.throws(() => take(root, { maxObjects: Infinity }), { name: "DataCloneError", message: /nested too deeply/ });
  });
});
