// WebAssembly and the boundary, in every isolation mode: no route inside a sandbox makes a
// SharedArrayBuffer; the boundary copies only the structured-clone types it lists, so shared
// buffers and WebAssembly objects are a DataCloneError in every direction; every wasm memory,
// table and instance is charged and counted (address space is a budget too); and an invocation
// whose promise V8 collects ends with WallTimeLimitError, like one that simply never settles.

import { describe } from "node:test";
import assert from "node:assert/strict";
import { DataCloneError, RpcTarget, WallTimeLimitError } from "islet";
import { addWasm } from "../helpers.ts";
import { ISOLATION, isolationOptions, js, rejectsWith, securitySuite } from "./harness.ts";

// One mode per run (ISLET_ISOLATION; `npm test` runs all three).
const modes = [[ISOLATION, isolationOptions(ISOLATION)]] as const;

const emptyWasm = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
// (memory (export "m") 64 64): a module-defined memory of 4 MiB.
const fourMbMemoryWasm = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 5, 4, 1, 1, 64, 64, 7, 5, 1, 1, 109, 2, 0]);
// (import "env" "m" (memory 1)): a module that imports its memory.
const importsMemoryWasm = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 2, 10, 1, 3, 101, 110, 118, 1, 109, 2, 0, 1]);
// (import "env" "m" (memory 1)) (func (export "grow") (param i32) (result i32) local.get 0 memory.grow):
// wasm code that grows the memory it imports, which no JavaScript wrapper sees.
const growsImportedWasm = [
  0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 6, 1, 0x60, 1, 0x7f, 1, 0x7f, 2, 10, 1, 3, 0x65, 0x6e, 0x76, 1, 0x6d, 2, 0, 1, 3, 2, 1, 0, 7, 8, 1, 4, 0x67, 0x72, 0x6f, 0x77, 0, 0, 10, 8, 1, 6, 0,
  0x20, 0, 0x40, 0, 0x0b,
];

class Holder extends RpcTarget {
  constructor(private readonly value: unknown) {
    super();
  }
  get(): unknown {
    return this.value;
  }
}

/** Every kind of value the boundary must refuse, made fresh in the host's realm. */
function unclonables(): [string, () => unknown][] {
  const module = () => new WebAssembly.Module(addWasm);
  return [
    ["a SharedArrayBuffer", () => new SharedArrayBuffer(8)],
    ["an Int32Array over a SharedArrayBuffer", () => new Int32Array(new SharedArrayBuffer(8))],
    ["a DataView over a SharedArrayBuffer, nested", () => ({ deep: [{ view: new DataView(new SharedArrayBuffer(8)) }] })],
    ["a shared WebAssembly.Memory", () => new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true })],
    ["a WebAssembly.Memory", () => new WebAssembly.Memory({ initial: 1, maximum: 1 })],
    ["a WebAssembly.Module", module],
    ["a WebAssembly.Module in a Map", () => new Map([["m", module()]])],
    ["a WebAssembly.Instance", () => new WebAssembly.Instance(module())],
    ["a WebAssembly.Table", () => new WebAssembly.Table({ initial: 1, element: "anyfunc" })],
    ["a WebAssembly.Global", () => new WebAssembly.Global({ value: "i32", mutable: true }, 1)],
  ];
}

for (const [isolation, shards] of modes) {
  describe(`isolation: "${isolation}"`, () => {
    // cpuMs is generous: on a loaded machine the churn below costs seconds of thread CPU time.
    const { attack, call, load, loader } = securitySuite({ isolation, ...shards, limits: { cpuMs: 5_000 } });

    attack(`a Memory descriptor is read once into a fresh copy: no SharedArrayBuffer from Object.prototype, a getter or explicit shared: false`, async () => {
      const result = await call(
        `export default { async run(add, importsMemory) {
          const out = [];
          const kind = (m) => Object.prototype.toString.call(m.buffer);
          const attempts = {
            inheritedTrue: () => { Object.prototype.shared = true; try { return kind(new WebAssembly.Memory({ initial: 1, maximum: 1 })); } finally { delete Object.prototype.shared; } },
            explicitFalse: () => { Object.prototype.shared = true; try { return kind(new WebAssembly.Memory({ initial: 1, maximum: 1, shared: false })); } finally { delete Object.prototype.shared; } },
            getterFlips: () => {
              let reads = 0;
              Object.defineProperty(Object.prototype, "shared", { get() { return reads++ > 0; }, configurable: true });
              try { return kind(new WebAssembly.Memory({ initial: 1, maximum: 1 })); } finally { delete Object.prototype.shared; }
            },
            ownGetterFlips: () => { let reads = 0; return kind(new WebAssembly.Memory({ initial: 1, maximum: 1, get shared() { return reads++ > 0; } })); },
            protoChainDescriptor: () => kind(new WebAssembly.Memory(Object.create({ initial: 1, maximum: 1, shared: true }))),
            instantiateImport: async () => {
              Object.prototype.shared = true;
              try {
                const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: false });
                await WebAssembly.instantiate(new Uint8Array(importsMemory), { env: { m: memory } });
                return kind(memory);
              } finally { delete Object.prototype.shared; }
            },
            noConstructor: () => typeof SharedArrayBuffer + " " + typeof globalThis.SharedArrayBuffer,
          };
          for (const [name, attempt] of Object.entries(attempts)) {
            try { out.push(name + ": " + (await attempt())); } catch (e) { out.push(name + ": " + e.name); }
          }
          return out;
        } };`,
        "run",
        [[...addWasm], [...importsMemoryWasm]],
      );
      assert.equal(result.length, 7);
      for (const line of result) assert.doesNotMatch(line, /SharedArrayBuffer\]/, line);
      assert.equal(result[6], "noConstructor: undefined undefined");
    });

    attack(`host → sandbox: shared buffers and WebAssembly objects in arguments, env, props and host results are DataCloneErrors`, async () => {
      const echo = `export default { take(x) { return Object.prototype.toString.call(x); }, async viaHost(fn) { try { await fn(); return "crossed"; } catch (e) { return e.name; } }, async viaTarget(t) { try { await t.get(); return "crossed"; } catch (e) { return e.name; } } };`;
      for (const [what, make] of unclonables()) {
        await rejectsWith(call(echo, "take", [make()]), DataCloneError, undefined).catch((error) => assert.fail(`${what} as an argument: ${error.message}`));
        await rejectsWith(call(echo, "take", [{ nested: [make()] }]), DataCloneError).catch((error) => assert.fail(`${what} nested in an argument: ${error.message}`));
        // From a host function and from an RpcTarget's method: the sandbox's call fails with DataCloneError.
        assert.equal(await call(echo, "viaHost", [() => make()]), "DataCloneError", `${what} returned by a host function`);
        assert.equal(await call(echo, "viaTarget", [new Holder(make())]), "DataCloneError", `${what} returned by an RpcTarget`);
      }
      const [, makeSab] = unclonables()[0];
      const envWorker = loader.load(js(echo, { env: { sab: makeSab() } }));
      await rejectsWith((envWorker.getEntrypoint() as any).take(1), DataCloneError);
      const propsWorker = load(echo);
      await rejectsWith((propsWorker.getEntrypoint(undefined, { props: { sab: makeSab() } }) as any).take(1), DataCloneError);
    });

    attack(`sandbox → host: WebAssembly objects in results, thrown values, logs and calls to the host are DataCloneErrors`, async () => {
      const source = `
        const make = {
          module: () => new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])),
          memory: () => new WebAssembly.Memory({ initial: 1, maximum: 1 }),
          instance: () => new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))),
          table: () => new WebAssembly.Table({ initial: 1, element: "anyfunc" }),
          global: () => new WebAssembly.Global({ value: "i32", mutable: true }, 1),
        };
        export default {
          give(kind) { return make[kind](); },
          giveNested(kind) { return { list: [new Map([["x", make[kind]()]])] }; },
          async toHost(kind, fn) { try { await fn(make[kind]()); return "crossed"; } catch (e) { return e.name; } },
          log(kind) { console.log("value", make[kind]()); return "logged"; },
        };`;
      const seen: unknown[] = [];
      const events: { logs: { message: unknown[] }[] }[] = [];
      const stub = loader.load(js(source, { tails: [(e: any) => void events.push(...e)] }));
      const ep = stub.getEntrypoint() as any;
      for (const kind of ["module", "memory", "instance", "table", "global"]) {
        await rejectsWith(ep.give(kind), DataCloneError).catch((error) => assert.fail(`a ${kind} as the result: ${error.message}`));
        await rejectsWith(ep.giveNested(kind), DataCloneError).catch((error) => assert.fail(`a ${kind} nested in the result: ${error.message}`));
        assert.equal(await ep.toHost(kind, (value: unknown) => void seen.push(value)), "DataCloneError", `a ${kind} passed to a host function`);
        assert.equal(await ep.log(kind), "logged");
      }
      assert.deepEqual(seen, [], "no WebAssembly object reached the host function");
      const parts = events.flatMap((event) => event.logs.flatMap((log) => log.message));
      for (const part of parts) {
        assert.ok(part === null || typeof part !== "object" || Object.getPrototypeOf(part) === Object.prototype || Array.isArray(part), `a log part reached the host as ${Object.prototype.toString.call(part)}`);
      }
    });

    attack(`worker → worker: a WebAssembly.Module from one worker's entrypoint does not reach another worker`, async () => {
      const giver = loader.load(js(`export default { give() { return { module: new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])) }; } };`));
      const taker = loader.load(
        js(
          `import { env } from "cloudflare:workers";
          export default { async run() {
            try { const got = await env.GIVER.give(); return "crossed: " + Object.prototype.toString.call(got.module); }
            catch (e) { return e.name; }
          } };`,
          { env: { GIVER: giver.getEntrypoint() } },
        ),
      );
      const result = await (taker.getEntrypoint() as any).run();
      assert.equal(result, "DataCloneError");
    });

    attack(`address space: zero-page memories, tables and instances are charged a page each and counted; past the cap a named RangeError, and neighbours still get memories`, async () => {
      const result = await call(
        `export default { run() {
          const out = {};
          const kept = [];
          try { for (let i = 0; i < 20000; i++) kept.push(new WebAssembly.Memory({ initial: 0, maximum: 0 })); out.memories = [kept.length, "no error"]; }
          catch (e) { out.memories = [kept.length, e.name, e.message]; }
          return out;
        } };`,
        "run",
        [],
        { limits: { memoryMb: 64, cpuMs: 2_000 } },
      );
      const [count, name, message] = result.memories;
      assert.equal(name, "RangeError", JSON.stringify(result.memories));
      assert.ok(count <= 1_024, `${count} zero-page memories were allowed`);
      assert.match(message, /WebAssembly/);
      for (const method of ["tables", "instances"]) {
        const [n, errorName] = await call(
          `export default {
            tables() { const kept = []; try { for (let i = 0; i < 20000; i++) kept.push(new WebAssembly.Table({ initial: 0, element: "anyfunc" })); return [kept.length, "no error"]; } catch (e) { return [kept.length, e.name]; } },
            instances() { const module = new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])); const kept = []; try { for (let i = 0; i < 20000; i++) kept.push(new WebAssembly.Instance(module)); return [kept.length, "no error"]; } catch (e) { return [kept.length, e.name]; } },
          };`,
          method,
          [],
          { limits: { memoryMb: 32, cpuMs: 2_000 } },
        );
        assert.equal(errorName, "RangeError", `${method}: ${n} without an error`);
        assert.ok(n <= 512, `${method}: ${n} were allowed in a 32 MB sandbox`);
      }
      // A neighbour can still make a memory (the process's address space was not exhausted).
      assert.equal(await call(`export default { run() { return new WebAssembly.Memory({ initial: 1, maximum: 1 }).buffer.byteLength; } };`, "run"), 65536);
    });

    attack(`instances are charged for the memories they define, however the module was compiled; imported memories are charged once`, async () => {
      const source =
        `import mod from "./four.wasm";
        export default { async run(name, four, imports) {
          const makers = {
            workerCodeModule: () => new WebAssembly.Instance(mod),
            instantiateModule: () => WebAssembly.instantiate(mod),
            instantiateBytes: async () => (await WebAssembly.instantiate(new Uint8Array(four))).instance,
            compiled: async () => new WebAssembly.Instance(await WebAssembly.compile(new Uint8Array(four))),
            importsOne: () => new WebAssembly.Instance(importer, { env: { m: memory ??= new WebAssembly.Memory({ initial: 1, maximum: 1 }) } }),
          };
          let memory;
          const importer = new WebAssembly.Module(new Uint8Array(imports));
          const kept = [];
          try { for (let i = 0; i < 24; i++) kept.push(await makers[name]()); return kept.length; }
          catch (e) { return [kept.length, e.name]; }
        } };`;
      const result: Record<string, unknown> = {};
      for (const name of ["workerCodeModule", "instantiateModule", "instantiateBytes", "compiled", "importsOne"]) {
        result[name] = await call(source, "run", [name, [...fourMbMemoryWasm], [...importsMemoryWasm]], {
          limits: { memoryMb: 16, cpuMs: 2_000 },
          modules: { "worker.js": source, "four.wasm": { wasm: fourMbMemoryWasm } },
        });
      }
      // 16 MB is 256 pages, each instance's memory 64 of them and each module at least one (its
      // bytes, charged four times): three fit, not 24.
      for (const name of ["workerCodeModule", "instantiateModule", "instantiateBytes", "compiled"]) {
        const value = result[name] as [number, string];
        assert.ok(Array.isArray(value) && value[0] === 3 && value[1] === "RangeError", `${name}: ${JSON.stringify(value)}`);
      }
      // An instance that imports a memory is charged a page, not the memory again.
      assert.equal(result.importsOne, 24, `importsOne: ${JSON.stringify(result.importsOne)}`);
    });

    attack(`memories made without a maximum are charged what they hold until wasm code can grow them: two fit, grow() is charged, an instance that links one is charged its maximum`, async () => {
      // 16 MB is 256 pages. A memory from the constructor is charged its size (at least a page), and
      // grow() charges the pages it adds first; an instance that imports it makes it growable by wasm
      // code (memory.grow, which nothing can intercept), so linking charges the memory's maximum.
      const source = `export default {
        jsOnly() {
          const out = {};
          const a = new WebAssembly.Memory({ initial: 1 });
          const b = new WebAssembly.Memory({ initial: 1 });
          out.two = [a.buffer.byteLength, b.buffer.byteLength];
          let conversions = 0;
          out.growA = a.grow({ valueOf() { conversions++; return 100; } });
          out.conversions = conversions;
          try { b.grow(200); out.growBig = "grew"; } catch (e) { out.growBig = e.name; }
          out.growB = b.grow(100);
          out.sizes = [a.buffer.byteLength / 65536, b.buffer.byteLength / 65536];
          try { new WebAssembly.Memory({ initial: 100 }); out.third = "made"; } catch (e) { out.third = e.name; }
          out.fourth = new WebAssembly.Memory({ initial: 10 }).buffer.byteLength / 65536;
          return out;
        },
        linked(bytes) {
          const out = {};
          const module = new WebAssembly.Module(new Uint8Array(bytes));
          const a = new WebAssembly.Memory({ initial: 1 });
          const b = new WebAssembly.Memory({ initial: 1 });
          // a's maximum is what was left when it was made: with b made, linking a no longer fits.
          try { new WebAssembly.Instance(module, { env: { m: a } }); out.linkA = "linked"; } catch (e) { out.linkA = e.name; }
          out.growA = a.grow(10);
          return out;
        },
        alone(bytes) {
          const out = {};
          const module = new WebAssembly.Module(new Uint8Array(bytes));
          const m = new WebAssembly.Memory({ initial: 1 });
          let reads = 0;
          const instance = new WebAssembly.Instance(module, { env: { get m() { reads++; return m; } } });
          out.reads = reads;
          out.wasmGrow = [instance.exports.grow(10), instance.exports.grow(1000), m.buffer.byteLength / 65536];
          out.jsGrow = m.grow(1);
          try { new WebAssembly.Memory({ initial: 1 }); out.after = "made"; } catch (e) { out.after = e.name; }
          return out;
        },
      };`;
      const limits = { limits: { memoryMb: 16 } };
      assert.deepEqual(await call(source, "jsOnly", [], limits), {
        two: [65536, 65536],
        growA: 1,
        conversions: 1,
        growBig: "RangeError",
        growB: 1,
        sizes: [101, 101],
        third: "RangeError",
        fourth: 10,
      });
      assert.deepEqual(await call(source, "linked", [growsImportedWasm], limits), { linkA: "RangeError", growA: 1 });
      // Alone it links (a page is left for the instance), wasm code grows it within its maximum, and
      // the budget is then spoken for.
      const alone = await call(source, "alone", [growsImportedWasm], limits);
      assert.equal(alone.reads, 1);
      assert.deepEqual(alone.wasmGrow, [1, -1, 11]);
      assert.equal(alone.jsGrow, 11);
      assert.equal(alone.after, "RangeError");
    });

    attack(`a never-settling promise that V8 collects ends with WallTimeLimitError, not "Promise was abandoned"`, async () => {
      const source = `export default { run() {
        let n = 0;
        const churn = () => { new Array(2e5).fill(0).map((_, i) => ({ i })); if (n++ < 8) setTimeout(churn, 1); };
        setTimeout(churn, 1);
        return new Promise(() => {});
      } };`;
      await rejectsWith(call(source, "run", [], { limits: { wallMs: 2_500, memoryMb: 64 } }), WallTimeLimitError);
    });
  });
}
