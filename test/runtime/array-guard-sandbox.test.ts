// The sandbox's Array.prototype methods, Array.from, the typed array constructors, apply, String.raw
// and Proxy are wrappers (src/runtime/globals/array-methods.ts, list-readers.ts, proxies.ts) that
// call the originals directly or through an interruptible view. Each case below runs in Node and in
// a sandbox and must give the same answer: results, the order of every trap, getter and callback
// a receiver sees, which object a callback is handed, and the error messages. Receivers without
// an own `length` (an inherited one, a proxy) and arrays past the direct call's budget take the
// view; plain arrays take the direct call.

import { test } from "node:test";
import assert from "node:assert/strict";
import { WorkerLoader } from "islet";
import { js } from "../helpers.ts";

// Long arrays over the wrappers are slow by design (12-23x past a million elements): beside a CPU
// hog one call took over 10 s of CPU. What is tested here is the answers, not the speed.
const loader = new WorkerLoader({ limits: { cpuMs: 60_000, wallMs: 180_000, memoryMb: 512 } });
test.after(() => loader.close());

// Shared by every case: a proxy that logs each trap, an object that logs its element reads.
const PRELUDE = `
  const show = (v) => typeof v === "symbol" ? v.toString() : typeof v === "object" && v !== null ? (Array.isArray(v) ? "array" : "object") : typeof v === "function" ? "function" : String(v);
  const logged = (target, log) => new Proxy(target, {
    get(t, k, r) { log.push("get " + show(k)); return Reflect.get(t, k, r); },
    has(t, k) { log.push("has " + show(k)); return Reflect.has(t, k); },
    set(t, k, v, r) { log.push("set " + show(k) + "=" + show(v)); return Reflect.set(t, k, v, r); },
    deleteProperty(t, k) { log.push("delete " + show(k)); return Reflect.deleteProperty(t, k); },
    defineProperty(t, k, d) { log.push("define " + show(k)); return Reflect.defineProperty(t, k, d); },
    getOwnPropertyDescriptor(t, k) { log.push("gopd " + show(k)); return Reflect.getOwnPropertyDescriptor(t, k); },
    ownKeys(t) { log.push("ownKeys"); return Reflect.ownKeys(t); },
  });
  const inherited = (elements, length) => { const o = Object.create({ length }); Object.assign(o, elements); return o; };
  const attempt = (f) => { try { return f(); } catch (e) { return e.name + ": " + e.message; } };
`;

const CASES: Record<string, string> = {
  "search on a logged proxy": `
    const log = [];
    const p = logged([1, , 3, NaN], log);
    return [p.includes(NaN), p.indexOf(3), p.lastIndexOf(1, -2), [].includes.call(p, undefined), log];`,
  "callbacks are handed the receiver, not a view": `
    const o = inherited({ 0: "a", 2: "c" }, 4);
    const seen = [];
    const same = (v, i, a) => { seen.push([v, i, a === o]); return true; };
    const results = [
      Array.prototype.forEach.call(o, same), Array.prototype.map.call(o, same), Array.prototype.filter.call(o, same),
      Array.prototype.some.call(o, (v, i, a) => (seen.push(a === o), false)), Array.prototype.every.call(o, same),
      Array.prototype.reduce.call(o, (acc, v, i, a) => acc + v + (a === o), ""), Array.prototype.reduceRight.call(o, (acc, v, i, a) => acc + v + (a === o)),
      Array.prototype.flatMap.call(o, (v, i, a) => [v, a === o]),
    ];
    return [results, seen];`,
  "this of callbacks and thisArg": `
    const o = inherited({ 0: 1 }, 1);
    const out = [];
    Array.prototype.forEach.call(o, function () { out.push(this === undefined); });
    Array.prototype.forEach.call(o, function () { out.push(this.tag); }, { tag: "t" });
    Array.prototype.map.call(o, function () { out.push(typeof this); }, 5);
    return out;`,
  "getters and setters on the receiver see the receiver": `
    const log = [];
    const o = Object.create({ length: 3 });
    Object.defineProperty(o, 0, { get() { log.push("get0 " + (this === o)); return 5; }, set(v) { log.push("set0 " + v + " " + (this === o)); }, configurable: true });
    o[1] = 1;
    Array.prototype.reverse.call(o);
    Array.prototype.fill.call(o, 9, 0, 1);
    Array.prototype.copyWithin.call(o, 0, 1, 2);
    return [log, Object.keys(o), o[1], o[2]];`,
  "methods that return their receiver return it": `
    const o = inherited({ 0: 2, 1: 1 }, 2);
    const p = logged([3, 1, 2], []);
    return [Array.prototype.sort.call(o) === o, Array.prototype.reverse.call(o) === o, Array.prototype.fill.call(o, 0) === o, Array.prototype.copyWithin.call(o, 0) === o,
      p.sort() === p, p.reverse() === p, p.fill(1) === p, p.copyWithin(0, 1) === p];`,
  "a logged proxy under every looping method": `
    const results = [];
    const methods = [
      ["copyWithin", [0, 2]], ["every", [() => true]], ["fill", [7, 1, 3]], ["filter", [(x) => x]], ["forEach", [() => {}]], ["join", ["-"]],
      ["map", [(x) => x]], ["reduce", [(a, b) => a + b]], ["reduceRight", [(a, b) => a + b, 0]], ["reverse", []], ["shift", []], ["slice", [1, -1]],
      ["some", [() => false]], ["sort", []], ["sort", [(a, b) => b - a]], ["splice", [1, 1, "x", "y"]], ["toLocaleString", []], ["toReversed", []],
      ["toSorted", []], ["toSpliced", [0, 1]], ["unshift", [0, 0]], ["with", [1, "w"]], ["flat", []], ["flatMap", [(x) => [x, x]]], ["concat", [[9], 8]],
      ["includes", [2]], ["indexOf", [2]], ["lastIndexOf", [2]], ["find", [(x) => x > 1]], ["at", [-1]],
    ];
    for (const [name, args] of methods) {
      const log = [];
      const p = logged([3, , 1, 2], log);
      const result = attempt(() => Array.prototype[name].apply(p, args));
      results.push([name, result === p ? "receiver" : Array.isArray(result) ? [...result] : result, log]);
    }
    return results;`,
  "array-likes with an inherited length under every looping method": `
    const results = [];
    const names = ["copyWithin", "every", "fill", "filter", "forEach", "includes", "indexOf", "join", "lastIndexOf", "map", "reduce", "reduceRight",
      "reverse", "shift", "slice", "some", "sort", "splice", "toLocaleString", "toReversed", "toSorted", "toSpliced", "unshift", "with", "flat", "flatMap", "concat"];
    for (const name of names) {
      const o = inherited({ 0: "b", 1: ["a", ["z"]], 3: "c" }, 5);
      const args = { every: [() => true], filter: [() => true], forEach: [() => {}], map: [(x) => x], reduce: [(a, b) => a + b], reduceRight: [(a, b) => a + b],
        some: [() => false], flatMap: [(x) => x], with: [0, "w"], includes: ["c"], indexOf: ["c"], lastIndexOf: ["b"], splice: [1, 2, "n"], toSpliced: [1, 2], unshift: ["u"], copyWithin: [0, 3] }[name] ?? [];
      const result = attempt(() => Array.prototype[name].apply(o, args));
      results.push([name, result === o ? "receiver" : Array.isArray(result) ? JSON.stringify(result) : result, JSON.stringify(o), o.length]);
    }
    return results;`,
  "strings and other primitives as receivers": `
    return [Array.prototype.map.call("abc", (c, i, s) => c + i + typeof s), Array.prototype.join.call("xyz", "-"), Array.prototype.includes.call("abc", "b"),
      Array.prototype.indexOf.call(5, 1), Array.prototype.toReversed.call("ab"), attempt(() => Array.prototype.reverse.call("ab")),
      attempt(() => Array.prototype.forEach.call(null)), attempt(() => Array.prototype.map.call(undefined, () => {})), Array.prototype.concat.call("s", 1)];`,
  "errors are the originals'": `
    const frozen = Object.freeze(inherited({ 0: 1 }, 2));
    const sealed = Object.seal(inherited({ 0: 1, 1: 2 }, 2));
    return [attempt(() => Array.prototype.fill.call(frozen, 0)), attempt(() => Array.prototype.reverse.call(sealed)), attempt(() => Array.prototype.shift.call(sealed)),
      attempt(() => Array.prototype.reduce.call(inherited({}, 3), (a) => a)), attempt(() => Array.prototype.forEach.call(inherited({}, 1), 5)),
      attempt(() => Array.prototype.map.call(inherited({}, 1), {})), attempt(() => Array.prototype.sort.call(inherited({}, 2), 1)),
      attempt(() => Object.freeze([1, 2]).reverse()), attempt(() => [].reduce((a) => a)), attempt(() => Array.prototype.with.call(inherited({}, 2), 5, 0)),
      attempt(() => { const { proxy, revoke } = Proxy.revocable([], {}); revoke(); return [].concat(proxy); }),
      attempt(() => { const { proxy, revoke } = Proxy.revocable([], {}); revoke(); return Array.prototype.includes.call(proxy, 1); }),
      attempt(() => Array.prototype.map.call(inherited({ 0: 1 }, 1), class C {})), attempt(() => Array.prototype.flat.call(inherited({}, 1), Symbol())),
      attempt(() => Array.prototype.flat.call(inherited({}, 1), 1n))];`,
  "species: the receiver's constructor makes map, filter, slice, splice, flat, flatMap and concat's result": `
    const log = [];
    class Sub extends Array { static get [Symbol.species]() { log.push("species"); return Sub; } }
    const s = Sub.from([1, [2], 3]);
    const o = inherited({ 0: 1 }, 1);
    o.constructor = Sub;
    const results = [s.map((x) => x), s.filter(() => true), s.slice(1), s.splice(0, 1), s.flat(), s.flatMap((x) => x), s.concat([4])].map((r) => [r instanceof Sub, r.length]);
    const arrayLike = Array.prototype.map.call(o, (x) => x);
    const p = logged(s, log);
    const viaProxy = p.map((x) => x) instanceof Sub;
    return [results, Array.isArray(arrayLike), arrayLike instanceof Sub, viaProxy, log];`,
  "concat spreads what the original spreads, in the same order": `
    const log = [];
    const spreadable = { length: 2, 0: "s0", 1: "s1", get [Symbol.isConcatSpreadable]() { log.push("spreadable?"); return true; } };
    const plain = { tag: "plain" };
    const notSpread = Object.assign([5, 6], { [Symbol.isConcatSpreadable]: false });
    const viaProto = Object.create({ [Symbol.isConcatSpreadable]: true, length: 1, 0: "p0" });
    const proxyArray = logged([7, 8], log);
    const proxyPlain = logged({ tag: "pp" }, log);
    const r = [0].concat(spreadable, plain, notSpread, viaProto, proxyArray, proxyPlain, 9, "str", null);
    const o = inherited({ 0: "o" }, 1);
    const r2 = Array.prototype.concat.call(o, [1]);
    const r3 = Array.prototype.concat.call(logged(Object.assign([1, 2], { [Symbol.isConcatSpreadable]: false }), log), [3]);
    return [r.length, r[3] === plain, r[4] === notSpread, r[7] === proxyArray ? "proxy" : r[7], r[9] === proxyPlain, JSON.stringify(r.slice(0, 3)), r.slice(5, 9),
      r2.length, r2[0] === o, r3.length, Array.isArray(r3[0]), log];`,
  "flat: depth conversion, nesting and holes": `
    const log = [];
    const depth = { valueOf() { log.push("valueOf"); return 2; } };
    const nested = [1, [2, [3, [4, [5]]]], , [[6]]];
    const p = logged(nested, log);
    return [JSON.stringify(p.flat(depth)), JSON.stringify(nested.flat(Infinity)), JSON.stringify(nested.flat(0)), JSON.stringify(nested.flat(-1)), JSON.stringify(nested.flat("1")),
      JSON.stringify(Array.prototype.flat.call(inherited({ 0: [1, [2]], 1: 3 }, 2))), nested.flat().length, log];`,
  "flat and flatMap keep the inner arrays' identity where they do not flatten them": `
    const inner = [1];
    const deep = [[inner]];
    const o = inherited({ 0: [inner] }, 1);
    return [deep.flat()[0] === inner, deep.flat(1)[0] === inner, Array.prototype.flat.call(o)[0] === inner, [0].flatMap(() => [inner])[0] === inner,
      Array.prototype.flatMap.call(o, (x) => x)[0] === inner, JSON.stringify([1, 2].flatMap((x) => logged([x, [x]], [])))];`,
  "sort's default order: natively for short arrays, by a comparator for long ones": `
    const log = [];
    const short = [10, 9, 1, undefined, , "b", "a", 2];
    const long = Array.from({ length: 5000 }, (_, i) => (i * 7919) % 5003);
    long[17] = undefined;
    delete long[18];
    const objects = Array.from({ length: 4100 }, (_, i) => ({ toString() { log.push(i); return String((i * 31) % 4100); } }));
    const sortedObjects = objects.slice().sort().map((o) => String(o));
    const strings = Array.from({ length: 6000 }, (_, i) => String.fromCharCode(65 + (i % 50), 65 + ((i * 7) % 50)));
    return [short.slice().sort(), short.toSorted(), JSON.stringify(long.slice().sort()), 18 in long.slice().sort(), long.slice().sort().length,
      JSON.stringify(long.toSorted().slice(0, 20)), sortedObjects.slice(0, 10), log.length, log.slice(0, 30), strings.sort().slice(0, 10),
      attempt(() => [Symbol(), 1].concat(Array(5000).fill(2)).sort()), JSON.stringify(Array.prototype.sort.call(inherited({ 0: 3, 1: 1, 2: 2 }, 3)))];`,
  "join: nested arrays, cycles and separators": `
    const a = [1, [2, [3]], null, undefined, , "x"];
    const cyclic = [1, 2];
    cyclic.push(cyclic);
    const sep = { toString() { return "|"; } };
    return [a.join(), a.join(sep), cyclic.join("-"), String(a), Array.prototype.join.call(inherited({ 0: "a", 2: "c" }, 3), "+"), [1.5, 2e21].toLocaleString()];`,
  "Array.from: iterables, array-likes and mappers": `
    const log = [];
    const iterable = { [Symbol.iterator]() { log.push("iterator this " + (this === iterable)); let i = 0; return { next: () => ({ done: i >= 2, value: i++ }) }; } };
    const arrayLike = inherited({ 0: "x", 2: "z" }, 3);
    return [Array.from(iterable), Array.from(arrayLike), Array.from(arrayLike, (v, i) => v + i), Array.from("h€y"), Array.from(new Set([1, 1, 2])), Array.from(new Map([[1, 2]])),
      Array.from(logged({ length: 2, 0: "a" }, log)), Array.from(logged([4, 5], log)), Array.from({ length: 2 }), attempt(() => Array.from(null)), attempt(() => Array.from([], 5)),
      Array.from.call(function (n) { this.n = n; }, { length: 1, 0: 1 }).n, Array.from(new Uint8Array([1, 2])), log];`,
  "apply, Reflect.apply and Reflect.construct read the list as before": `
    const log = [];
    function f() { return [...arguments]; }
    class C { constructor(...a) { this.a = a; } }
    const list = logged({ length: 2, 0: "a", 1: "b" }, log);
    return [f.apply(null, list), Reflect.apply(f, null, inherited({ 0: 1 }, 2)), new (Reflect.construct(C, logged([1, 2], log)).constructor)(0).a,
      Reflect.construct(C, inherited({ 0: 3 }, 1)).a, f.apply(null), f.apply(null, undefined), f.apply(null, null), attempt(() => f.apply(null, 5)),
      attempt(() => Reflect.apply(f, null)), attempt(() => Function.prototype.apply.call({}, null, [])), Math.max.apply(null, [1, 3, 2]), attempt(() => f.apply(undefined, "ab")), log];`,
  "typed arrays: constructors, subclasses, from and set": `
    const log = [];
    class Sub extends Uint8Array { tag() { return "sub"; } }
    const buffer = new ArrayBuffer(8);
    const results = [
      Array.from(new Uint8Array(logged({ length: 3, 0: 1, 2: 300 }, log))), Array.from(new Float64Array(inherited({ 0: 1.5 }, 2))), Array.from(new Int16Array([1, -2])),
      Array.from(new Uint8Array(new Set([7, 8]))), new Uint8Array(buffer, 2, 3).byteOffset, new Uint8Array(new Uint16Array([257])).length, new Uint8Array(4).length,
      new Sub([1, 2]).tag(), new Sub(2) instanceof Uint8Array, Sub.from([3]).tag(), Object.getPrototypeOf(Sub) === Uint8Array,
      Uint8Array.name, Uint8Array.length, Uint8Array.BYTES_PER_ELEMENT, Uint8Array.prototype.constructor === Uint8Array, new Uint8Array(1).constructor === Uint8Array,
      Object.getPrototypeOf(Uint8Array) === Object.getPrototypeOf(Int8Array), attempt(() => Uint8Array(2)), attempt(() => new Uint8Array(-1)),
      Object.getOwnPropertyNames(Uint8Array).join(), JSON.stringify(Object.getOwnPropertyDescriptor(Uint8Array, "prototype")),
      Array.from(Uint8Array.from(inherited({ 0: 5 }, 2))), Array.from(Float32Array.from([1, 2], (x) => x * 2)),
      Array.from((() => { const t = new Uint8Array(4); t.set(inherited({ 0: 9, 1: 8 }, 2), 1); t.set([1], 0); t.set(new Uint8Array([5]), 3); return t; })()),
      attempt(() => new Uint8Array(2).set({ length: 3 })), new Uint8Array(new Uint8Array([1, 2]).slice(1)).length,
    ];
    return [results, log];`,
  "String.raw": `
    const log = [];
    return [String.raw\`a\${1}b\${2}c\`, String.raw({ raw: ["x", "y", "z"] }, 1, 2, 3), String.raw({ raw: logged({ length: 2, 0: "p", 1: "q" }, log) }, "-"),
      String.raw({ raw: inherited({ 0: "i" }, 2) }), String.raw({ raw: "abc" }, 1, 2), attempt(() => String.raw(null)), String.raw(logged({ raw: ["r"] }, log)), log];`,
  "Proxy is the original to look at": `
    const descriptor = (o, k) => JSON.stringify(Object.getOwnPropertyDescriptor(o, k));
    const { proxy, revoke } = Proxy.revocable({ a: 1 }, {});
    const before = proxy.a;
    revoke();
    return [typeof Proxy, Proxy.name, Proxy.length, "prototype" in Proxy, Object.getOwnPropertyNames(Proxy).sort().join(), attempt(() => Proxy({}, {})),
      attempt(() => new Proxy(1, {})), new Proxy({ b: 2 }, {}).b, new Proxy(function () { return 3; }, {})(), before, attempt(() => proxy.a),
      Proxy.revocable.name, Proxy.revocable.length, attempt(() => ({}) instanceof Proxy), descriptor(globalThis, "Proxy"), attempt(() => class extends Proxy {}),
      Reflect.construct(Proxy, [{ c: 3 }, {}], Object).c];`,
  "the wrappers look like the originals": `
    const describe = (o, k) => { const d = Object.getOwnPropertyDescriptor(o, k); const f = d.value ?? d.set; return [k.toString(), f.name, f.length, d.writable, d.enumerable, d.configurable, "prototype" in f, attempt(() => new f())]; };
    const arrayMethods = ["concat", "copyWithin", "every", "fill", "filter", "flat", "flatMap", "forEach", "includes", "indexOf", "join", "lastIndexOf", "map", "reduce",
      "reduceRight", "reverse", "shift", "slice", "some", "sort", "splice", "toLocaleString", "toReversed", "toSorted", "toSpliced", "unshift", "with"];
    return [arrayMethods.map((k) => describe(Array.prototype, k)), describe(Array, "from"), describe(Function.prototype, "apply"), describe(Reflect, "apply"),
      describe(Reflect, "construct"), describe(Object, "setPrototypeOf"), describe(Reflect, "setPrototypeOf"), describe(Object.prototype, "__proto__"),
      describe(String, "raw"), describe(Object.getPrototypeOf(Uint8Array), "from"), describe(Object.getPrototypeOf(Uint8Array.prototype), "set"),
      Object.getOwnPropertyNames(Array.prototype).join(), Array.prototype[Symbol.iterator] === Array.prototype.values];`,
  "prototypes change as before": `
    const a = {}, b = { x: 1 };
    const results = [Object.setPrototypeOf(a, b) === a, a.x, Reflect.setPrototypeOf(a, null), Object.getPrototypeOf(a), Reflect.setPrototypeOf(Object.preventExtensions({}), b),
      attempt(() => Object.setPrototypeOf(b, a)), Object.setPrototypeOf(1, null), attempt(() => Object.setPrototypeOf(null, {})), attempt(() => Object.setPrototypeOf({}, 1))];
    const c = {};
    c.__proto__ = b;
    const d = { __proto__: b };
    results.push(c.x, d.x, Object.getPrototypeOf(c) === b, ({}).__proto__ === Object.prototype);
    let p = Object.prototype;
    for (let i = 0; i < 50; i++) p = Object.create(p);
    const items = [{}, {}, {}];
    items.forEach((item) => Object.setPrototypeOf(item, p));
    results.push(items.every((item) => Object.getPrototypeOf(item) === p));
    return results;`,
  "searching long genuine arrays: every lookup and conversion in order": `
    let log = "";
    const n = 1500000;
    const big = [];
    big[n - 1] = NaN;
    big[5] = 7;
    Object.defineProperty(big, 3, { get() { log += "get 3;"; return -0; }, configurable: true });
    // (log is a string: a getter at index 6 of Array.prototype breaks push on every array.)
    Object.defineProperty(Array.prototype, 6, { get() { log += "proto 6 " + (this === big) + ";"; return 7; }, configurable: true });
    const from = (v) => ({ valueOf() { log += "valueOf " + v + ";"; return v; } });
    try {
      return [big.includes(NaN), big.includes(0), big.includes(7, from(6)), big.includes(undefined, from(-3)), big.includes(1, Infinity), big.indexOf(7), big.indexOf(7, from(-n + 6)),
        big.indexOf(0), big.indexOf(NaN), big.lastIndexOf(7), big.lastIndexOf(7, from(5)), big.lastIndexOf(-0, 4), big.lastIndexOf(7, -Infinity), big.lastIndexOf(undefined),
        attempt(() => big.includes(1, 1n)), attempt(() => big.indexOf(1, Symbol())), log];
    } finally { delete Array.prototype[6]; }`,
  "callbacks over long genuine arrays: holes, getters, thisArg and errors": `
    let log = "";
    const n = 1500000;
    const big = [];
    big[n - 1] = "end";
    big[2] = 2;
    Object.defineProperty(big, 4, { get() { log += "get 4 " + (this === big) + ";"; return 4; }, configurable: true });
    const seen = function (v, k, a) { if (typeof v !== "undefined") log += this.tag + " " + v + "@" + k + " " + (a === big) + ";"; return v === "end"; };
    const results = [big.forEach(seen, { tag: "forEach" }), big.some(seen, { tag: "some" }), big.every(function (v) { log += "every " + v + ";"; return v !== 4; }),
      big.reduce((acc, v, k, a) => acc + "," + v + "@" + k + (a === big)), big.reduce((acc, v) => acc + 1, 0), big.reduceRight((acc, v, k) => acc + "," + v + "@" + k),
      big.reduceRight((acc) => acc + 1, 10), attempt(() => big.forEach()), attempt(() => big.some(5)), attempt(() => big.every({})), attempt(() => big.reduce("x")),
      attempt(() => big.reduceRight(null))];
    const holes = [];
    holes.length = n;
    results.push(attempt(() => holes.reduce((a) => a)), attempt(() => holes.reduceRight((a) => a)), holes.reduce((a) => a, "init"), holes.every(() => false), holes.some(() => true));
    return [results, log];`,
  "long genuine arrays take the view and give the same answers": `
    const n = 1600000;
    const big = Array.from({ length: n }, (_, i) => i % 1000);
    big[n - 1] = "last";
    let sum = 0;
    big.forEach((x) => { if (typeof x === "number") sum += x; });
    return [big.includes("last"), big.indexOf(999), big.lastIndexOf(0), big.map((x) => x).length, big.filter((x) => x === 5).length, big.some((x) => x === "last"),
      big.reduce((a, x) => (typeof x === "number" ? a + x : a), 0), sum, big.join("").length, big.slice(-2), big.concat([1]).length, [big].flat().length,
      big.toReversed()[0], big.with(0, "w")[0], big.toSorted((a, b) => String(a) < String(b) ? -1 : 1)[n - 1], Math.max.apply(null, big.slice(0, 100000)),
      Array.from(big).length, new Uint16Array(big).length];`,
};

for (const [name, body] of Object.entries(CASES)) {
  test(`sandbox and Node agree: ${name}`, async () => {
    const source = `"use strict";${PRELUDE} return JSON.stringify((() => { ${body} })());`;
    const expected = JSON.parse(new Function(source)());
    const actual = JSON.parse(await loader.load(js(`export default { run() { return (function () { ${source} })(); } };`)).getEntrypoint().run());
    assert.deepEqual(actual, expected);
  });
}
