// Property-based fuzz of the two doors into a sandbox: the WorkerCode and the values that cross the
// boundary. A fixed seed keeps runs repeatable; FUZZ_SEED=<n> FUZZ_RUNS=<n> explores further.
// fast-check prints the seed and the shrunk counterexample when a property fails.

import assert from "node:assert/strict";
import fc from "fast-check";
import { DataCloneError, IsletError, WorkerCodeError, type WorkerCode } from "islet";
import { validateCodeLimits } from "../../src/loader/limits.ts";
import { prepareModules } from "../../src/loader/code/prepare.ts";
import { validateWorkerCode } from "../../src/loader/code/validate.ts";
import { addWasm } from "../helpers.ts";
import { js, securitySuite } from "./harness.ts";

const seed = Number(process.env.FUZZ_SEED ?? 20_261_121);
const runs = (n: number) => Number(process.env.FUZZ_RUNS ?? n);
const { attack, loader } = securitySuite({ limits: { cpuMs: 200, wallMs: 1_000 } });

/** Settles `promise` or fails the property as a hang. */
async function settles<T>(promise: Promise<T>, ms = 5_000): Promise<PromiseSettledResult<T>> {
  let timer!: NodeJS.Timeout;
  const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms (a hang)`)), ms)));
  try {
    return (await Promise.race([Promise.allSettled([promise]).then(([result]) => result), hang])) as PromiseSettledResult<T>;
  } finally {
    clearTimeout(timer);
  }
}

const names = fc.oneof(
  fc.constantFrom("worker.js", "lib.js", "a.ts", "b.cjs", "c.txt", "d.json", "e.wasm", "f.bin", "__proto__", "constructor", "toString", "../up.js", "/abs.js", "dir/./x.mjs", "", "x\u0000.js"),
  fc.string({ maxLength: 12 }),
);
const sources = fc.constantFrom(
  `export default { ok() { return "ok"; } };`,
  `import { v } from "./lib.js"; export default { ok() { return v; } };`,
  `export const v = 1; export default 5;`,
  `export default class { ok() { return this.env; } };`,
  `throw new RangeError("top level");`,
  `await new Promise(() => {});`,
  `while (true) {}`,
  `import fs from "fs"; export default {};`,
  `syntax error (`,
  `module.exports = { ok: () => require("./lib.js") };`,
  `const x: number = 1; export default { ok(): number { return x; } };`,
);
const contents = fc.oneof(
  sources,
  fc.string({ maxLength: 40 }),
  fc.record({ js: fc.oneof(sources, fc.anything()) }),
  fc.record({ ts: sources }),
  fc.record({ cjs: sources }),
  fc.record({ text: fc.anything() }),
  fc.record({ json: fc.anything() }),
  fc.record({ data: fc.oneof(fc.uint8Array({ maxLength: 16 }), fc.anything()) }),
  fc.record({ wasm: fc.oneof(fc.constant(addWasm), fc.uint8Array({ maxLength: 16 }), fc.anything()) }),
  fc.dictionary(fc.constantFrom("js", "ts", "text", "wasm", "python"), fc.anything(), { maxKeys: 2 }),
  fc.anything(),
);
/** Mostly `good`, sometimes anything at all: each field is valid often enough that code also runs. */
const mostly = <T,>(good: fc.Arbitrary<T>) => fc.oneof({ weight: 5, arbitrary: good }, { weight: 1, arbitrary: fc.anything() });
const workerCodes = fc.oneof(
  { weight: 1, arbitrary: fc.anything() },
  {
    weight: 6,
    arbitrary: fc.record(
      {
        compatibilityDate: mostly(fc.constant("2026-11-01")),
        compatibilityFlags: mostly(fc.constantFrom(["nodejs_compat"], [], ["unknown_flag"])),
        mainModule: fc.oneof({ weight: 6, arbitrary: fc.constant("worker.js") }, { weight: 1, arbitrary: names }, { weight: 1, arbitrary: fc.anything() }),
        modules: mostly(
          fc
            .dictionary(fc.oneof({ weight: 3, arbitrary: fc.constantFrom("lib.js", "a.ts", "b.cjs", "c.txt", "d.json", "e.wasm", "f.bin") }, { weight: 1, arbitrary: names }), fc.oneof({ weight: 3, arbitrary: sources }, { weight: 1, arbitrary: contents }), { maxKeys: 3 })
            .chain((extra) => sources.map((main) => ({ ...extra, "worker.js": main }))),
        ),
        env: mostly(fc.dictionary(fc.string({ maxLength: 8 }), fc.anything({ maxDepth: 2 }), { maxKeys: 3 })),
        limits: mostly(fc.record({ cpuMs: fc.nat(500), memoryMb: fc.constantFrom(8, 16, 32) }, { requiredKeys: [] })),
        globalOutbound: mostly(fc.constant(null)),
      },
      { requiredKeys: ["compatibilityDate", "mainModule", "modules"] },
    ),
  },
);

attack("fuzz: the host-side checks of any WorkerCode either accept it or throw WorkerCodeError", async () => {
  await fc.assert(
    fc.asyncProperty(workerCodes, async (code) => {
      try {
        validateWorkerCode(code);
        validateCodeLimits((code as WorkerCode).limits);
        await prepareModules(code as WorkerCode);
      } catch (error) {
        assert.ok(error instanceof WorkerCodeError, `a ${(error as Error)?.name}: ${(error as Error)?.message}`);
      }
    }),
    { seed, numRuns: runs(1_500) },
  );
});

attack("fuzz: any WorkerCode loaded and called answers or fails with a named error, never hangs", async () => {
  const outcomes = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(workerCodes, async (code) => {
      const result = await settles((loader.load(code as WorkerCode).getEntrypoint() as any).ok());
      let outcome = "ok";
      if (result.status === "rejected") {
        const error = result.reason as Error;
        assert.ok(error instanceof Error, `rejected with a non-Error: ${String(error)}`);
        assert.ok(error instanceof IsletError || (typeof error.name === "string" && error.name !== ""), `an unnamed error: ${error.message}`);
        outcome = error instanceof IsletError ? error.name : `sandbox ${error.name}`;
        if (process.env.FUZZ_VERBOSE) outcome += " " + error.message.slice(0, 50);
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }),
    { seed, numRuns: runs(150) },
  );
  if (process.env.FUZZ_VERBOSE) console.log(JSON.stringify([...outcomes]));
  // The generator reaches every door: code that runs, code refused on the host, code failing in the sandbox.
  assert.ok(outcomes.has("ok") && outcomes.has("WorkerCodeError") && [...outcomes.keys()].some((k) => k.startsWith("sandbox ")), JSON.stringify([...outcomes]));
});

const echo = loader.get("echo", () => js(`export default { echo(value) { return value; }, make(seed) { return { seed, nested: [seed, { seed }], map: new Map([[seed, [seed]]]) }; } };`));

const crossing = fc.oneof(
  { weight: 6, arbitrary: fc.anything({ withDate: true, withMap: true, withSet: true, withTypedArray: true, withBigInt: true, withNullPrototype: true, withSparseArray: true, withBoxedValues: true, maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.anything({ withMap: true, maxDepth: 3 }).map(makeCyclic) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 150_000 }).map(nested) },
  { weight: 1, arbitrary: fc.oneof(fc.constant(Symbol("s")), fc.constant(new WeakMap()), fc.constant(new Proxy({}, {})), fc.constant(Promise.resolve(1))).map((bad) => ({ ok: 1, bad })) },
);

function makeCyclic(value: unknown): unknown {
  const holder: Record<string, unknown> = { value };
  holder.self = holder;
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) (value as Record<string, unknown>).back = holder;
  return holder;
}

function nested(depth: number): unknown {
  const root: Record<string, unknown> = {};
  let node = root;
  for (let i = 0; i < depth; i++) node = node.a = {};
  return root;
}

/** Every typed array and DataView reachable from `value`, as [offset, length, its buffer's length], in walk order. */
function viewLayouts(value: unknown, seen = new Set<unknown>(), out: number[][] = []): number[][] {
  if (value === null || typeof value !== "object" || seen.has(value)) return out;
  seen.add(value);
  if (ArrayBuffer.isView(value)) out.push([value.byteOffset, value.byteLength, value.buffer.byteLength]);
  else if (value instanceof Map) for (const [k, v] of value) viewLayouts(v, seen, viewLayouts(k, seen, out));
  else if (value instanceof Set) for (const v of value) viewLayouts(v, seen, out);
  else for (const key of Object.keys(value)) viewLayouts((value as Record<string, unknown>)[key], seen, out);
  return out;
}

/** What the boundary should give back: Node's structured clone of the value, or a DataCloneError. */
function expected(value: unknown): { value: unknown } | { error: true } {
  try {
    return { value: structuredClone(value) };
  } catch {
    return { error: true };
  }
}

attack("fuzz: values round-trip through a sandbox equal to their structured clone, or fail with DataCloneError", async () => {
  let roundTrips = 0;
  let refusals = 0;
  await fc.assert(
    fc.asyncProperty(crossing, async (value) => {
      const result = await settles((echo.getEntrypoint() as any).echo(value));
      const oracle = expected(value);
      if (result.status === "fulfilled") {
        assert.ok("value" in oracle, "a value Node cannot clone crossed the boundary");
        assert.deepStrictEqual(result.value, oracle.value);
        // deepStrictEqual compares a view's contents only: its place in its buffer must match too.
        assert.deepStrictEqual(viewLayouts(result.value), viewLayouts(oracle.value));
        roundTrips++;
      } else {
        assert.ok(result.reason instanceof DataCloneError, `${result.reason?.name}: ${result.reason?.message}`);
        refusals++;
      }
    }),
    { seed, numRuns: runs(300) },
  );
  if (process.env.FUZZ_VERBOSE) console.log(roundTrips, "round trips", refusals, "refusals");
  assert.ok(roundTrips > 0 && refusals > 0, `${roundTrips} round trips, ${refusals} refusals`);
});

attack("fuzz: values made in the sandbox from arbitrary seeds come back as the same structure", async () => {
  await fc.assert(
    fc.asyncProperty(fc.anything({ withDate: true, withTypedArray: true, withBigInt: true, maxDepth: 3 }), async (value) => {
      const result = await settles((echo.getEntrypoint() as any).make(value));
      assert.equal(result.status, "fulfilled", result.status === "rejected" ? String(result.reason) : "");
      const copy = structuredClone(value);
      assert.deepStrictEqual((result as PromiseFulfilledResult<unknown>).value, { seed: copy, nested: [copy, { seed: copy }], map: new Map([[copy, [copy]]]) });
    }),
    { seed, numRuns: runs(150) },
  );
});

// Values the boundary must refuse wherever they hide: shared memory (and views over it), detached
// buffers and WebAssembly objects. Objects with odd prototypes cross as their structured clone.
const wasmModule = new WebAssembly.Module(addWasm);
function detached(): ArrayBuffer {
  const buffer = new ArrayBuffer(8);
  buffer.transfer();
  return buffer;
}
const forbidden = fc.constantFrom(
  () => new SharedArrayBuffer(8),
  () => new Uint8Array(new SharedArrayBuffer(8)),
  () => new DataView(new SharedArrayBuffer(8), 2),
  () => new Int32Array(new SharedArrayBuffer(16), 4, 2),
  () => detached(),
  () => wasmModule,
  () => new WebAssembly.Memory({ initial: 0, maximum: 1 }),
  () => new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }),
  () => new WebAssembly.Table({ initial: 1, element: "anyfunc" }),
  () => new WebAssembly.Global({ value: "i32", mutable: true }, 1),
  () => new WebAssembly.Instance(wasmModule, {}),
);
const oddPrototypes = fc.constantFrom(
  () => Object.assign(Object.create({ inherited: "from a prototype", then: 1 }), { own: 1 }),
  () => Object.assign(Object.create(null), { bare: true }),
  () => new (class Point { x = 1; y = 2; })(),
  () => Object.assign(Object.create(Array.prototype), { 0: "looks like an array" }),
);
/** Puts `leaf` somewhere inside an arbitrary structure: an object key, an array slot, a Map value or a Set. */
const hide = (leaf: fc.Arbitrary<() => unknown>) =>
  fc.tuple(leaf, fc.anything({ maxDepth: 2 }), fc.constantFrom("top", "object", "array", "map", "set", "deep")).map(([make, other, where]) => {
    const value = make();
    switch (where) {
      case "top": return value;
      case "object": return { other, value };
      case "array": return [other, value];
      case "map": return new Map<unknown, unknown>([["other", other], ["value", value]]);
      case "set": return new Set([value]);
      default: return { a: [{ b: new Map([["c", { value }]]) }] };
    }
  });

attack("fuzz: shared memory, detached buffers and WebAssembly objects hidden anywhere in a value are a DataCloneError both ways", async () => {
  const bounce = loader.load(js(`export default { echo(value) { return value; }, async viaHost(get) { return await get(); } };`));
  await fc.assert(
    fc.asyncProperty(hide(forbidden), async (value) => {
      const into = await settles((bounce.getEntrypoint() as any).echo(value));
      assert.equal(into.status, "rejected", "a forbidden value crossed into the sandbox");
      assert.ok((into as PromiseRejectedResult).reason instanceof DataCloneError, String((into as PromiseRejectedResult).reason));
      // The same value as a host function's answer to the sandbox.
      const back = await settles((bounce.getEntrypoint() as any).viaHost(() => value));
      assert.equal(back.status, "rejected", "a forbidden value crossed as a host function's result");
    }),
    { seed, numRuns: runs(120) },
  );
});

attack("fuzz: objects with polluted, null or class prototypes cross as their structured clone, never with the prototype", async () => {
  await fc.assert(
    fc.asyncProperty(hide(oddPrototypes), async (value) => {
      const result = await settles((echo.getEntrypoint() as any).echo(value));
      assert.equal(result.status, "fulfilled", result.status === "rejected" ? String(result.reason) : "");
      assert.deepStrictEqual((result as PromiseFulfilledResult<unknown>).value, structuredClone(value));
    }),
    { seed, numRuns: runs(80) },
  );
});

attack("fuzz: a sandbox whose Object.prototype is polluted cannot make shared memory or send WebAssembly objects", async () => {
  const makers = [
    `Object.prototype.shared = true; return new WebAssembly.Memory({ initial: 1, maximum: 1 }).buffer`,
    `Object.prototype.shared = true; return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: false }).buffer`,
    `let n = 0; Object.defineProperty(Object.prototype, "shared", { get() { return n++ > 0; }, configurable: true }); return new WebAssembly.Memory({ initial: 1, maximum: 1 }).buffer`,
    `return new WebAssembly.Memory({ initial: 0, maximum: 1 })`,
    `return WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))`,
    `const b = new ArrayBuffer(8); structuredClone(b, { transfer: [b] }); return b`,
    `return { nested: [new WebAssembly.Table({ initial: 1, element: "anyfunc" })] }`,
  ];
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...makers), async (body) => {
      const result = await settles((loader.load(js(`export default { async run() { ${body}; } };`)).getEntrypoint() as any).run());
      if (result.status === "fulfilled") {
        // Only a plain, unshared ArrayBuffer may come back (a non-shared memory's buffer).
        assert.ok(result.value instanceof ArrayBuffer, `crossed: ${Object.prototype.toString.call(result.value)}`);
      } else {
        const error = (result as PromiseRejectedResult).reason as Error;
        assert.ok(error instanceof DataCloneError || ["TypeError", "RangeError"].includes(error.name), `${error.name}: ${error.message}`);
      }
    }),
    { seed, numRuns: runs(30) },
  );
});
