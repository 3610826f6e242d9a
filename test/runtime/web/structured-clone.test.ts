// Differential tests: the sandbox's structuredClone against the running Node's (V8's serializer),
// plus the places where HTML and Node differ (asserted for ours).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import "../platform.ts";
import { AbortController, AbortSignal, DOMException, Event, EventTarget, structuredClone } from "../../../src/runtime/web/events/index.ts";
import { Blob as OurBlob, File as OurFile } from "../../../src/runtime/web/index.ts";
import { namedOutcome } from "./differential.ts";

type Clone = (value: unknown, options?: unknown) => unknown;
// Both are called with bad options on purpose, to compare how they refuse them.
const nodeClone = globalThis.structuredClone as Clone;
const ourClone = structuredClone as Clone;

const attempt = namedOutcome;

/** Clones a fresh value with each implementation and asserts equal results (or equal errors). */
function assertSameClone(make: () => unknown, message?: string, options?: () => unknown): { value: unknown } | { error: string; name: string } {
  const ours = attempt(() => ourClone(make(), options?.()));
  const theirs = attempt(() => nodeClone(make(), options?.()));
  assert.deepStrictEqual(ours, theirs, message);
  return ours;
}

function assertDataCloneError(run: () => unknown, message?: string): void {
  assert.throws(run, (error: Error) => error instanceof DOMException && error.name === "DataCloneError" && (error as DOMException).code === 25, message);
}

describe("structuredClone against Node: values that clone", () => {
  it("primitives, -0 and NaN included", () => {
    const values = [undefined, null, true, false, 0, -0, NaN, Infinity, -1.5, 2n ** 70n, -3n, "", "text", "\u{1f600}\ud800"];
    for (const value of values) {
      assertSameClone(() => value, String(value));
      assert.ok(Object.is(ourClone(value), value), String(value));
    }
  });

  it("primitive wrappers", () => {
    const result = assertSameClone(() => [Object(1), Object(-0), Object("s"), Object(""), Object(true), Object(false), Object(5n), Boolean.prototype, Number.prototype, String.prototype]);
    const clones = (result as { value: object[] }).value;
    assert.ok(Object.is(clones[1].valueOf(), -0));
  });

  it("dates, valid or not", () => {
    const dates = [new Date(0), new Date(8.64e15), new Date(NaN), new Date(-1)];
    const times = (clone: Clone) => (clone(dates) as Date[]).map((date) => [date instanceof Date, date.getTime()]);
    assert.deepStrictEqual(times(ourClone), times(nodeClone));
  });

  it("regexps: source and flags, never lastIndex or extra properties", () => {
    const make = () => {
      const sticky = /a+b?/gy;
      sticky.lastIndex = 3;
      const shadowed = /x/i;
      Object.defineProperty(shadowed, "global", { value: true });
      Object.defineProperty(shadowed, "source", { value: "y" });
      return [/a/dgimsuy, /\//, /[\p{L}--[a-z]]/v, new RegExp(""), sticky, shadowed, Object.assign(/q/, { extra: 1 })];
    };
    assertSameClone(make);
    const clones = ourClone(make()) as RegExp[];
    assert.deepEqual(clones.map((regexp) => [regexp.source, regexp.flags, regexp.lastIndex]), [
      ["a", "dgimsuy", 0], ["\\/", "", 0], ["[\\p{L}--[a-z]]", "v", 0], ["(?:)", "", 0], ["a+b?", "gy", 0], ["x", "i", 0], ["q", "", 0],
    ]);
  });

  it("ArrayBuffers, fixed-length and resizable, copied", () => {
    const bytes = new Uint8Array([1, 2, 3, 250]);
    assertSameClone(() => [bytes.buffer.slice(0), new ArrayBuffer(0), new ArrayBuffer(3, { maxByteLength: 9 })]);
    const [copy, , resizable] = ourClone([bytes.buffer, 0, new ArrayBuffer(3, { maxByteLength: 9 })]) as [ArrayBuffer, unknown, ArrayBuffer];
    assert.notEqual(copy, bytes.buffer);
    new Uint8Array(copy)[0] = 99;
    assert.equal(bytes[0], 1);
    assert.deepEqual([resizable.resizable, resizable.maxByteLength, resizable.byteLength], [true, 9, 3]);
  });

  it("every typed array and DataView, with offsets, sharing a cloned buffer as the originals share theirs", () => {
    const make = () => {
      const buffer = new ArrayBuffer(64);
      new Uint8Array(buffer).forEach((_, index, array) => (array[index] = index * 7));
      return [
        buffer,
        new Int8Array(buffer, 1, 3), new Uint8Array(buffer), new Uint8ClampedArray(buffer, 60), new Int16Array(buffer, 2, 4),
        new Uint16Array(buffer, 4), new Int32Array(buffer, 8, 2), new Uint32Array(buffer, 4, 1), new Float32Array(buffer, 16, 2),
        new Float64Array(buffer, 8, 3), new BigInt64Array(buffer, 0, 2), new BigUint64Array(buffer, 32), new DataView(buffer, 3, 5),
        new Float16Array(buffer, 40, 4), new DataView(new ArrayBuffer(2)),
      ];
    };
    assertSameClone(make);
    const [buffer, ...views] = ourClone(make()) as [ArrayBuffer, ...ArrayBufferView[]];
    assert.ok(views.slice(0, -1).every((view) => view.buffer === buffer));
    assert.notEqual(views[views.length - 1].buffer, buffer);
    const lone = ourClone(new Uint16Array(new ArrayBuffer(10), 2, 3)) as Uint16Array;
    assert.deepEqual([lone.buffer.byteLength, lone.byteOffset, lone.length], [10, 2, 3], "a view keeps its whole buffer");
  });

  it("Maps and Sets, in order, with object keys", () => {
    assertSameClone(() => {
      const key = { k: 1 };
      return [new Map<unknown, unknown>([[key, "object key"], [NaN, "nan"], [-0, "zero"], ["s", new Set([key, 1, "1"])]]), new Set(), new Map()];
    });
    const key = { k: 1 };
    const [map, set] = ourClone([new Map([[key, key]]), new Set([key])]) as [Map<object, object>, Set<object>];
    const [clonedKey, clonedValue] = [...map][0];
    assert.equal(clonedKey, clonedValue);
    assert.equal([...set][0], clonedKey);
  });

  it("errors: each native type, name from the prototype chain, own message, stack and cause", () => {
    const make = () => {
      const custom = new Error("m");
      custom.name = "Custom";
      class Derived extends RangeError {}
      const noMessage = new Error();
      const getterMessage = new Error();
      Object.defineProperty(getterMessage, "message", { get: () => "from getter" });
      const numericMessage = new Error("x");
      (numericMessage as { message: unknown }).message = 42;
      const nameGetter = new Error("n");
      Object.defineProperty(nameGetter, "name", { get: () => "TypeError" });
      const extra = Object.assign(new Error("extra"), { code: 5 });
      return [
        new Error("e"), new EvalError("ev"), new RangeError("r"), new ReferenceError("re"), new SyntaxError("s"), new TypeError("t"), new URIError("u"),
        custom, new Derived("d"), noMessage, getterMessage, numericMessage, nameGetter, extra, new AggregateError([1], "agg"),
        new Error("with cause", { cause: { nested: [1] } }), new Error("undefined cause", { cause: undefined }),
      ];
    };
    const result = assertSameClone(make);
    const originals = make() as Error[];
    const clones = ourClone(originals) as Error[];
    const describeError = (error: Error) => [
      Object.getPrototypeOf(error).constructor.name, error.name, Object.getOwnPropertyNames(error).sort(), error.message, "cause" in error ? error.cause : "none",
    ];
    assert.deepEqual(clones.map(describeError), ((result as { value: Error[] }).value).map(describeError));
    assert.deepEqual(clones.map((error) => error.stack), originals.map((error) => error.stack));
    assert.deepEqual(Object.getOwnPropertyDescriptor(clones[0], "message"), { value: "e", writable: true, enumerable: false, configurable: true });
  });

  it("errors whose stack is not a string have no stack; a cause getter is not copied", () => {
    const make = () => {
      const noStack = new Error("x");
      (noStack as { stack: unknown }).stack = 5;
      const causeGetter = new Error("y");
      Object.defineProperty(causeGetter, "cause", { get: () => "no" });
      return [noStack, causeGetter];
    };
    assertSameClone(make);
    const [noStack, causeGetter] = ourClone(make()) as Error[];
    assert.equal(noStack.stack, undefined);
    assert.equal("cause" in causeGetter, false);
  });

  it("reads the stack with a Get, as V8 13.6's serializer does: getters run, inherited stacks count", () => {
    const run = (clone: Clone) => {
      const log: string[] = [];
      const getter = new Error("g");
      Object.defineProperty(getter, "stack", { get: () => (log.push("stack"), "from getter") });
      const inherited = new Error("i");
      delete (inherited as { stack?: unknown }).stack;
      Object.setPrototypeOf(inherited, Object.create(Error.prototype, { stack: { get: () => "inherited" } }));
      const throwing = new Error("t");
      Object.defineProperty(throwing, "stack", { get: () => { throw new RangeError("from stack getter"); } });
      const clones = clone([getter, inherited]) as Error[];
      return [clones.map((error) => [error.stack, Object.getOwnPropertyNames(error).sort()]), log, namedOutcome(() => clone(throwing))];
    };
    assert.deepStrictEqual(run(ourClone), run(nodeClone));
  });

  it("an error that is its own cause", () => {
    const error = new Error("loop");
    error.cause = error;
    const clone = ourClone(error) as Error;
    assert.equal(clone.cause, clone);
  });

  it("arrays: holes, length, extra properties", () => {
    assertSameClone(() => {
      const holes = [1, , 3];
      (holes as unknown as Record<string, unknown>).extra = "x";
      holes[10] = 5;
      const sparse: unknown[] = [];
      sparse.length = 1e6;
      sparse[999_999] = "end";
      return [holes, sparse, [], [[[]]]];
    });
    const sparse = ourClone(Object.assign([], { length: 3, 1: "b" })) as unknown[];
    assert.deepEqual([sparse.length, 0 in sparse, 1 in sparse], [3, false, true]);
  });

  it("plain objects: own enumerable string keys in order; prototypes, symbols and hidden keys dropped", () => {
    assertSameClone(() => {
      class Point {
        #secret = 1;
        x = 1;
        y = 2;
        get sum() {
          return this.x + this.y + this.#secret;
        }
      }
      const hidden = Object.defineProperty({ shown: 1 }, "hidden", { value: 2, enumerable: false });
      return [
        { b: 1, 2: "two", a: 3, 1: "one" }, new Point(), hidden, { [Symbol("s")]: 1, kept: true }, Object.create(null), Object.create({ inherited: 1 }),
        JSON.parse('{"__proto__": {"polluted": true}, "a": 1}'), Object.create(Map.prototype), Object.create(Date.prototype),
      ];
    });
    const proto = ourClone(JSON.parse('{"__proto__": 1}')) as object;
    assert.equal(Object.getPrototypeOf(proto), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(proto, "__proto__"), { value: 1, writable: true, enumerable: true, configurable: true });
  });

  it("getters run once each, in key order, and see the deletions of earlier getters", () => {
    const run = (clone: Clone) => {
      const log: string[] = [];
      const object = {
        get a() {
          log.push("a");
          delete (this as Record<string, unknown>).b;
          (this as Record<string, unknown>).late = 1;
          return 1;
        },
        b: 2,
        get c() {
          log.push("c");
          return { d: 3 };
        },
      };
      const array = [1, 2, 3];
      Object.defineProperty(array, 1, {
        get() {
          array.length = 1;
          return "g";
        },
        enumerable: true,
      });
      return [clone([object, array]), log];
    };
    assert.deepStrictEqual(run(ourClone), run(nodeClone));
  });

  it("creates data properties even where the prototypes have setters or read-only properties", () => {
    let setterCalls = 0;
    Object.defineProperty(Object.prototype, "trap", { set: () => void setterCalls++, configurable: true });
    Object.defineProperty(Object.prototype, "fixed", { value: "inherited", writable: false, configurable: true });
    Object.defineProperty(Array.prototype, "extra", { set: () => void setterCalls++, configurable: true });
    try {
      const clone = ourClone({ trap: 1, fixed: 2, list: Object.defineProperty([5, 6], "extra", { value: 7, enumerable: true }) }) as { trap: number; fixed: number; list: number[] & { extra: number } };
      assert.equal(setterCalls, 0);
      assert.deepEqual(Object.getOwnPropertyDescriptor(clone, "trap"), { value: 1, writable: true, enumerable: true, configurable: true });
      assert.equal(clone.fixed, 2);
      assert.deepEqual([clone.list[0], clone.list[1], Object.getOwnPropertyDescriptor(clone.list, "extra")!.value], [5, 6, 7]);
    } finally {
      delete (Object.prototype as Record<string, unknown>).trap;
      delete (Object.prototype as Record<string, unknown>).fixed;
      delete (Array.prototype as unknown as Record<string, unknown>).extra;
    }
  });

  it("keeps shared references and cycles", () => {
    const make = () => {
      const shared = { s: 1 };
      const cyclic: Record<string, unknown> = { shared, list: [shared] };
      cyclic.self = cyclic;
      const map = new Map<unknown, unknown>();
      map.set(map, cyclic);
      return { cyclic, map, again: shared };
    };
    assertSameClone(make);
    const clone = ourClone(make()) as { cyclic: Record<string, unknown> & { list: unknown[] }; map: Map<unknown, unknown>; again: unknown };
    assert.equal(clone.cyclic.self, clone.cyclic);
    assert.equal(clone.cyclic.shared, clone.again);
    assert.equal(clone.cyclic.list[0], clone.again);
    assert.equal(clone.map.get(clone.map), clone.cyclic);
  });

  it("a getter's exception is passed through as it is", () => {
    const failure = new RangeError("from getter");
    const thrown = attempt(() => ourClone({ get a() { throw failure; } }));
    assert.deepEqual(thrown, attempt(() => nodeClone({ get a() { throw failure; } })));
    assert.throws(() => ourClone({ get a() { throw failure; } }), (error) => error === failure);
  });
});

describe("structuredClone against Node: values that cannot be cloned", () => {
  const uncloneable: Record<string, () => unknown> = {
    function: () => () => 1,
    "nested function": () => ({ a: [1, { f() {} }] }),
    class: () => class {},
    symbol: () => Symbol("s"),
    "nested symbol": () => ({ a: [1, Symbol("q")] }),
    "Symbol wrapper": () => Object(Symbol("w")),
    WeakMap: () => new WeakMap(),
    WeakSet: () => new WeakSet(),
    WeakRef: () => new WeakRef({}),
    FinalizationRegistry: () => new FinalizationRegistry(() => {}),
    Promise: () => Promise.resolve(1),
    "async function result": () => (async () => {})(),
    generator: () => (function* () {})(),
    "async generator": () => (async function* () {})(),
    "Map iterator": () => new Map().entries(),
    "Array iterator": () => [][Symbol.iterator](),
    "String iterator": () => ""[Symbol.iterator](),
    arguments: function () {
      return (function (..._args: unknown[]) {
        // eslint-disable-next-line prefer-rest-params
        return arguments;
      })(1, 2);
    },
    "Proxy of a function": () => new Proxy(() => {}, {}),
    "a Map holding a function": () => new Map([[1, () => {}]]),
    "error with an uncloneable cause": () => new Error("x", { cause: () => {} }),
    "detached ArrayBuffer": () => {
      const buffer = new ArrayBuffer(4);
      nodeClone(buffer, { transfer: [buffer] });
      return buffer;
    },
    "view of a detached ArrayBuffer": () => {
      const buffer = new ArrayBuffer(4);
      const view = new Uint8Array(buffer);
      nodeClone(buffer, { transfer: [buffer] });
      return view;
    },
  };
  for (const [name, make] of Object.entries(uncloneable)) {
    it(name, () => {
      const result = assertSameClone(make, name);
      assert.deepEqual(result, { error: "DOMException", name: "DataCloneError" });
      assertDataCloneError(() => ourClone(make()), name);
    });
  }

  it("the error is this runtime's DataCloneError, with a message naming the culprit", () => {
    assert.throws(() => ourClone(new WeakMap()), { name: "DataCloneError", message: "#<WeakMap> could not be cloned." });
    assert.throws(() => ourClone([Symbol("desc")]), { name: "DataCloneError", message: "Symbol(desc) could not be cloned." });
  });

  it("a symbol inside an error message is a TypeError, as ToString makes it", () => {
    const make = () => Object.assign(new Error(), { message: Symbol("m") });
    assert.deepEqual(assertSameClone(make), { error: "TypeError", name: "TypeError" });
  });
});

describe("structuredClone: transfer", () => {
  const transferDetaches = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === "function";

  it("gives the clone the buffer's contents, shared by the views that use it", () => {
    const run = (clone: Clone) => {
      const buffer = new ArrayBuffer(8);
      const view = new Uint8Array(buffer, 2, 4);
      view[1] = 9;
      const [clonedBuffer, clonedView] = clone([buffer, view], { transfer: [buffer] }) as [ArrayBuffer, Uint8Array];
      return [clonedBuffer === clonedView.buffer, clonedView[1], clonedView.byteOffset, clonedBuffer.byteLength];
    };
    assert.deepStrictEqual(run(ourClone), run(nodeClone));
  });

  it(transferDetaches ? "detaches the original" : "leaves the original attached: V8 11.3 cannot detach a buffer from JavaScript", () => {
    const buffer = new ArrayBuffer(4, { maxByteLength: 8 });
    new Uint8Array(buffer)[0] = 7;
    const clone = ourClone(buffer, { transfer: [buffer] }) as ArrayBuffer;
    assert.deepEqual([clone.byteLength, new Uint8Array(clone)[0], clone.resizable, clone.maxByteLength], [4, 7, true, 8]);
    assert.notEqual(clone, buffer);
    assert.equal(buffer.byteLength, transferDetaches ? 0 : 4);
  });

  it("transfers a buffer listed but not reachable from the value", () => {
    const buffer = new ArrayBuffer(4);
    assert.equal(ourClone("x", { transfer: [buffer] }), "x");
  });

  it("rejects duplicates and detached buffers with DataCloneError, before or after serializing", () => {
    const buffer = new ArrayBuffer(4);
    const getterRan: string[] = [];
    assertSameClone(() => ({ get a() { getterRan.push("ran"); return 1; } }), "duplicates", () => ({ transfer: [buffer, buffer] }));
    assert.deepEqual(getterRan, [], "duplicates are found before serialization");
    assertDataCloneError(() => ourClone(1, { transfer: [buffer, buffer] }));
    // HTML checks the transfer list for detached buffers after serializing (Node 20 ignored them;
    // Node 24 refuses them too).
    const detached = new ArrayBuffer(4);
    nodeClone(detached, { transfer: [detached] });
    assertSameClone(() => 1, "a detached buffer in the transfer list", () => ({ transfer: [detached] }));
    const order: string[] = [];
    assertDataCloneError(() => ourClone({ get a() { order.push("serialized"); return 1; } }, { transfer: [detached] }));
    assert.deepEqual(order, ["serialized"]);
  });

  it("rejects what cannot be transferred with DataCloneError, as Node 24 does (Node 20: TypeError)", () => {
    for (const item of [{}, new Uint8Array(2), new DataView(new ArrayBuffer(1)), new SharedArrayBuffer(2), () => {}]) {
      assertDataCloneError(() => ourClone(1, { transfer: [item] }), Object.prototype.toString.call(item));
      assertSameClone(() => 1, Object.prototype.toString.call(item), () => ({ transfer: [item] }));
    }
  });

  it("converts options and transfer as Web IDL does", () => {
    for (const [options, expected] of [
      [undefined, 1], [null, 1], [{}, 1], [{ transfer: undefined }, 1], [{ transfer: [] }, 1], [{ transfer: new Set() }, 1],
      [5, TypeError], ["x", TypeError], [{ transfer: null }, TypeError], [{ transfer: {} }, TypeError], [{ transfer: "ab" }, TypeError], [{ transfer: [1] }, TypeError],
    ] as const) {
      if (expected === 1) assert.equal(ourClone(1, options), 1, JSON.stringify(options));
      else assert.throws(() => ourClone(1, options), expected, JSON.stringify(options));
    }
    assert.throws(() => (structuredClone as () => unknown)(), TypeError);
    const log: string[] = [];
    ourClone({ get a() { log.push("value"); return 1; } }, { get transfer() { log.push("transfer"); return []; } });
    assert.deepEqual(log, ["transfer", "value"]);
  });
});

describe("structuredClone of platform objects", () => {
  it("clones a DOMException (serializable) with name, message, code and stack, as Node 24 does (Node 20: {})", () => {
    const describe = (Exception: typeof DOMException, clone: Clone) => {
      const original = new Exception("gone", "NotFoundError");
      const copy = (clone({ error: original }) as { error: DOMException }).error;
      return [copy instanceof Exception, copy !== original, copy.name, copy.message, copy.code, copy.stack === original.stack, Object.getOwnPropertyNames(copy)];
    };
    const ours = describe(DOMException, ourClone);
    assert.deepEqual(ours, [true, true, "NotFoundError", "gone", 8, true, ["stack"]]);
    assert.deepEqual(ours, describe(globalThis.DOMException as unknown as typeof DOMException, nodeClone));
  });

  it("refuses this chunk's other platform objects (Node 24 and 26 still clone them as {})", () => {
    const controller = new AbortController();
    for (const value of [new Event("x"), new EventTarget(), controller, controller.signal, AbortSignal.abort()]) {
      assertDataCloneError(() => ourClone(value), Object.prototype.toString.call(value));
    }
  });

  it("clones a Blob: the same bytes and type in a new Blob", async () => {
    const blob = new OurBlob(["héllo"], { type: "Text/Plain" });
    const clone = ourClone({ blob, again: blob }) as { blob: OurBlob; again: OurBlob };
    assert.ok(clone.blob instanceof OurBlob);
    assert.notEqual(clone.blob, blob);
    assert.equal(clone.again, clone.blob);
    assert.deepEqual([clone.blob.size, clone.blob.type, await clone.blob.text()], [blob.size, "text/plain", "héllo"]);
  });

  it("clones a File with its name and last-modified time, as Node 24 does (Node 20: a Blob)", async () => {
    const describe = async (FileClass: typeof OurFile, clone: Clone) => {
      const copy = clone(new FileClass(["data"], "notes.txt", { type: "text/plain", lastModified: 1234 })) as OurFile;
      return [copy instanceof FileClass, copy.name, copy.lastModified, copy.type, await copy.text()];
    };
    const ours = await describe(OurFile, ourClone);
    assert.deepEqual(ours, [true, "notes.txt", 1234, "text/plain", "data"]);
    assert.deepEqual(ours, await describe(globalThis.File as unknown as typeof OurFile, nodeClone));
  });

  it("treats an object that only claims to be a Blob, or only inherits from Blob, as a plain object", () => {
    assert.deepEqual(ourClone({ [Symbol.toStringTag]: "Blob", size: 3 }), { size: 3 });
    assert.deepEqual(ourClone(Object.assign(Object.create(OurFile.prototype), { own: 1 })), { own: 1 });
  });
});

describe("structuredClone: known limits", () => {
  it("clones a Proxy of an object through its traps (HTML: DataCloneError; JavaScript cannot detect a Proxy)", () => {
    assert.deepEqual(ourClone(new Proxy({ a: 1 }, {})), { a: 1 });
  });

  // How fast is a question for `npm run bench`, not for a timed test on a shared machine.
  it("clones a large graph (20,000 rows of four objects)", () => {
    const rows = Array.from({ length: 20_000 }, (_, index) => ({ id: index, name: `row ${index}`, tags: ["a", "b"], at: new Date(index) }));
    const clone = ourClone(rows) as typeof rows;
    assert.equal(clone.length, rows.length);
    assert.deepEqual(clone[19_999], rows[19_999]);
    assert.notEqual(clone[0], rows[0]);
  });
});
