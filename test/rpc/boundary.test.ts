import { test } from "node:test";
import assert from "node:assert/strict";
import { RpcTarget, StubDisposedError, WorkerLoader, DataCloneError } from "islet";
import { js } from "../helpers.ts";

const loader = new WorkerLoader();
test.after(() => loader.close());

const echo = loader.load(js(`export default { echo(...args) { return args; }, describe(v) {
  return Object.prototype.toString.call(v) + (v instanceof Map ? v.get("k") : "") + (v instanceof Error ? v.name + ":" + v.message : ""); } }`)).getEntrypoint();

test("structured-clone values cross both ways with their types", async () => {
  const values: unknown[] = [
    1, -0, NaN, "s", true, null, undefined, 10n ** 30n,
    { nested: { deep: [1, { x: "y" }] } }, [1, , 3],
    new Map<unknown, unknown>([["k", { v: 1 }]]), new Set([1, "two"]), new Date(1_700_000_000_000), /ab+c/gi,
    new Uint8Array([1, 2, 3]), new Float64Array([1.5]), new Float16Array([1.5, -0, 65504, NaN]), new ArrayBuffer(4), new DataView(new ArrayBuffer(2)),
    new RangeError("boom"),
  ];
  const [back] = (await echo.echo(values)) as [unknown[]];
  assert.equal(back.length, values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v instanceof Error) {
      assert.ok(back[i] instanceof RangeError);
      assert.equal((back[i] as Error).message, "boom");
    } else assert.deepEqual(back[i], v, `value ${i}`);
  }
  assert.equal(Object.is((back[1] as number), -0), true);
  assert.equal(await echo.describe(new Map([["k", "v"]])), "[object Map]v");
  assert.equal(await echo.describe(new TypeError("t")), "[object Error]TypeError:t");
});

test("cycles survive the copy", async () => {
  const a: Record<string, unknown> = { name: "a" };
  a.self = a;
  const [back] = (await echo.echo(a)) as [Record<string, unknown>];
  assert.equal(back.self, back);
});

test("host functions passed in are callable stubs, also after the call returns", async () => {
  const stub = loader.get("fn-keeper", () => js(`
    let saved;
    export default {
      async save(fn) { saved = fn; return await fn(2, 3); },
      async again(x) { return await saved(x, x); },
      async nested(obj) { return await obj.deep.list[1].fn("n"); },
    };`));
  const calls: unknown[][] = [];
  const add = (a: number, b: number) => (calls.push([a, b]), a + b);
  assert.equal(await stub.getEntrypoint().save(add), 5);
  assert.equal(await stub.getEntrypoint().again(10), 20);
  assert.deepEqual(calls, [[2, 3], [10, 10]]);
  assert.equal(await stub.getEntrypoint().nested({ deep: { list: [0, { fn: async (s: string) => s + "!" }] } }), "n!");
});

test("host RpcTargets are stubs exposing their class methods only", async () => {
  class Counter extends RpcTarget {
    secret = "own data is not exposed";
    count = 0;
    increment(by: number) {
      this.count += by;
      return this.count;
    }
  }
  const counter = new Counter();
  const ep = loader.load(js(`export default { async run(c) {
    const r = [await c.increment(2), await c.increment(3)];
    for (const m of ["secret", "count", "constructor", "__proto__", "toString", "hasOwnProperty"]) {
      try { await c[m](); r.push(m + ":allowed"); } catch (e) { r.push(m + ":" + e.name); }
    }
    r.push(typeof c.then);
    return r;
  } }`)).getEntrypoint();
  assert.deepEqual(await ep.run(counter), [2, 5, "secret:TypeError", "count:TypeError", "constructor:TypeError", "__proto__:TypeError", "toString:TypeError", "hasOwnProperty:TypeError", "undefined"]);
  assert.equal(counter.count, 5);
});

test("sandbox functions and RpcTargets come back to the host as stubs", async () => {
  const stub = loader.load(js(`
    import { RpcTarget } from "cloudflare:workers";
    class Session extends RpcTarget { constructor() { super(); this.n = 0; } add(x) { return this.n += x; } }
    export default {
      makeAdder(base) { return (x) => base + x; },
      session() { return new Session(); },
      bundle() { return { fn: () => "inside", list: [() => 1] }; },
    };`));
  const adder = (await stub.getEntrypoint().makeAdder(10)) as (x: number) => Promise<number>;
  assert.equal(await adder(5), 15);
  const session = (await stub.getEntrypoint().session()) as { add(x: number): Promise<number> };
  assert.equal(await session.add(2), 2);
  assert.equal(await session.add(3), 5);
  const bundle = (await stub.getEntrypoint().bundle()) as { fn: () => Promise<string>; list: (() => Promise<number>)[] };
  assert.equal(await bundle.fn(), "inside");
  assert.equal(await bundle.list[0](), 1);
});

test("capabilities in env and props are stubs", async () => {
  const log: string[] = [];
  class Db extends RpcTarget {
    get(key: string) {
      return `value of ${key}`;
    }
  }
  const stub = loader.load(js(`
    import { WorkerEntrypoint } from "cloudflare:workers";
    export class E extends WorkerEntrypoint { async run() {
      await this.env.log("start");
      return [await this.env.DB.get("k"), await this.ctx.props.user.name()];
    } }`, { env: { log: (s: string) => void log.push(s), DB: new Db() } }));
  const result = await stub.getEntrypoint("E", { props: { user: { name: () => "ada" } } }).run();
  assert.deepEqual(result, ["value of k", "ada"]);
  assert.deepEqual(log, ["start"]);
});

test("host errors reach the sandbox by name and message only", async () => {
  const ep = loader.load(js(`export default { async run(fn) { try { await fn(); } catch (e) { return [e.name, e.message, String(e.stack).includes("node:")]; } } }`)).getEntrypoint();
  const result = await ep.run(() => {
    throw new RangeError("host said no");
  });
  assert.deepEqual(result, ["RangeError", "host said no", false]);
});

test("a disposed stub fails with a clear error; the host can revoke a capability", async () => {
  const stub = loader.load(js(`let f; export default {
    async keep(fn) { f = fn; return await f(); },
    async call() { return await f(); },
    async drop(fn) { fn[Symbol.dispose](); try { await fn(); } catch (e) { return e.name; } } }`));
  const fn = () => "ok";
  assert.equal(await stub.getEntrypoint().keep(fn), "ok");
  assert.equal(stub.revoke(fn), true);
  await assert.rejects(stub.getEntrypoint().call(), { name: "StubDisposedError" });
  assert.equal(await stub.getEntrypoint().drop(() => 1), "StubDisposedError");
  const made = (await loader.load(js(`export default { f() { return () => 1; } }`)).getEntrypoint().f()) as (() => Promise<number>) & { [Symbol.dispose](): void };
  made[Symbol.dispose]();
  await assert.rejects(made(), StubDisposedError);
});

test("values the boundary cannot copy fail with DataCloneError, and the worker survives", async () => {
  const stub = loader.load(js(`export default { sym() { return Symbol("x"); }, proxy() { return new Proxy({}, {}); }, weak() { return new WeakMap(); }, ok() { return "ok"; },
    fnInMap() { return new Map([["f", () => 1]]); } }`));
  const ep = stub.getEntrypoint();
  await assert.rejects(ep.sym(), DataCloneError);
  await assert.rejects(ep.proxy(), DataCloneError);
  await assert.rejects(ep.weak(), DataCloneError);
  await assert.rejects(ep.fnInMap(), { name: "DataCloneError" });
  await assert.rejects(ep.ok(Symbol("host")), DataCloneError);
  await assert.rejects(ep.ok(new Map([["f", () => 1]])), DataCloneError);
  assert.equal(await ep.ok(), "ok");
});

test("nothing the sandbox receives walks back to the host", async () => {
  const ep = loader.load(js(`export default { async probe(fn, target, data) {
    const found = [];
    const tries = {
      fnCtor: () => fn.constructor.constructor("return typeof process")(),
      targetCtor: () => target.constructor.constructor("return typeof process")(),
      dataCtor: () => data.constructor.constructor("return typeof process")(),
      errCtor: async () => { try { await fn(); } catch (e) { return e.constructor.constructor("return typeof process")(); } },
      proto: () => Object.getPrototypeOf(data) === Object.prototype,
      globalProcess: () => typeof process + typeof require + typeof module,
    };
    for (const [k, f] of Object.entries(tries)) { try { found.push(k + "=" + await f()); } catch (e) { found.push(k + "!" + e.name); } }
    return found;
  } }`)).getEntrypoint();
  class T extends RpcTarget {
    m() {}
  }
  const result = (await ep.probe(() => {
    throw new Error("x");
  }, new T(), { a: 1 })) as string[];
  assert.deepEqual(result, ["fnCtor=undefined", "targetCtor=undefined", "dataCtor=undefined", "errCtor=undefined", "proto=true", "globalProcess=undefinedundefinedundefined"]);
});

test("a stub of a worker that is gone fails with WorkerDisposedError", async () => {
  const { WorkerDisposedError } = await import("islet");
  const stub = loader.load(js(`export default { make() { return (x) => x * 2; } }`));
  const double = (await stub.getEntrypoint().make()) as (x: number) => Promise<number>;
  assert.equal(await double(4), 8);
  stub.dispose();
  await assert.rejects(double(4), WorkerDisposedError);
});

test("a Float16Array crosses both ways and is rebuilt with the other side's class, in every isolation mode", async () => {
  for (const isolation of ["isolate", "thread", "process"] as const) {
    const modeLoader = new WorkerLoader({ isolation });
    try {
      const half = modeLoader.load(js(`export default {
        check(v) { return [v instanceof Float16Array, Object.prototype.toString.call(v), Array.from(v)]; },
        make() { return { half: new Float16Array([0.5, 65504, -0]), halves: [new Float16Array(new ArrayBuffer(8), 2, 2)] }; },
      };`)).getEntrypoint();
      assert.deepEqual(await half.check(new Float16Array([1.5, 3, 1e-8])), [true, "[object Float16Array]", [1.5, 3, 0]], isolation);
      const made = (await half.make()) as { half: Float16Array; halves: Float16Array[] };
      assert.ok(made.half instanceof Float16Array, isolation);
      assert.deepEqual(Array.from(made.half), [0.5, 65504, -0], isolation);
      assert.equal(Object.is(made.half[2], -0), true, isolation);
      assert.equal(made.halves[0].length, 2, isolation);
      assert.deepEqual([made.halves[0].byteOffset, made.halves[0].buffer.byteLength], [2, 8], isolation);
    } finally {
      await modeLoader.close();
    }
  }
});

test("typed arrays and DataViews cross exactly both ways, in every isolation mode: their own buffer, its bytes only, offset and length kept, shared buffers still shared", async () => {
  // Process isolation used to hand over views into the buffer the whole IPC message arrived in:
  // a Uint16Array(ArrayBuffer(8), 2, 2) came out of a child as byteOffset 22 of a 53-byte buffer.
  const layout = (v: ArrayBufferView) => [v.constructor.name, v.byteOffset, v.byteLength, v.buffer.byteLength, Array.from(new Uint8Array(v.buffer))];
  for (const isolation of ["isolate", "thread", "process"] as const) {
    const modeLoader = new WorkerLoader({ isolation, ...(isolation === "thread" ? { threads: 1 } : isolation === "process" ? { processes: 1 } : {}) });
    try {
      const ep = modeLoader.load(js(`export default {
        look(views) {
          const layout = (v) => [v.constructor.name, v.byteOffset, v.byteLength, v.buffer.byteLength, Array.from(new Uint8Array(v.buffer))];
          return [views.map(layout), views[0].buffer === views[1].buffer];
        },
        make() {
          const buffer = new ArrayBuffer(8);
          const words = new Uint16Array(buffer, 2, 2);
          words[0] = 0x0201;
          words[1] = 0x0403;
          return { views: [words, new DataView(buffer, 1, 3), new Float64Array(new ArrayBuffer(24), 8, 1), new Uint8Array([9])] };
        },
      };`)).getEntrypoint() as any;
      const { views } = (await ep.make()) as { views: ArrayBufferView[] };
      assert.deepEqual(views.map(layout), [
        ["Uint16Array", 2, 4, 8, [0, 0, 1, 2, 3, 4, 0, 0]],
        ["DataView", 1, 3, 8, [0, 0, 1, 2, 3, 4, 0, 0]],
        ["Float64Array", 8, 8, 24, Array(24).fill(0)],
        ["Uint8Array", 0, 1, 1, [9]],
      ], isolation);
      assert.equal(views[0].buffer, views[1].buffer, `${isolation}: two views of one buffer still share it`);
      const sent = new ArrayBuffer(6);
      new Uint8Array(sent).set([1, 2, 3, 4, 5, 6]);
      assert.deepEqual(await ep.look([new Int16Array(sent, 2, 1), new DataView(sent, 4)]), [
        [
          ["Int16Array", 2, 2, 6, [1, 2, 3, 4, 5, 6]],
          ["DataView", 4, 2, 6, [1, 2, 3, 4, 5, 6]],
        ],
        true,
      ], isolation);
    } finally {
      await modeLoader.close();
    }
  }
});
