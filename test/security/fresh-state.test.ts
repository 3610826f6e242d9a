// What a fresh sandbox starts with is its own. New sandboxes start from a V8 startup snapshot of
// islet's core, made once per process (or thread) with the core evaluated and its globals installed
// (src/engine/runtime-code.ts): whatever the core held at that moment is copied into every sandbox.
// So nothing it made then may be a secret or a random value, the clock must start from the
// sandbox's own boot, the intrinsics the core captured must be the sandbox's own, each sandbox's
// limits must be its own, and what V8 adds to a context only when it is made (WebAssembly,
// SharedArrayBuffer, Float16Array, Error.isError) must be confined as in a sandbox that compiled the
// core. test/engine/snapshot.test.ts checks the snapshot itself.

import assert from "node:assert/strict";
import { ISOLATION, isolationOptions, securitySuite } from "./harness.ts";
import { addWasm, sleep } from "../helpers.ts";

const { attack, call } = securitySuite({ limits: { cpuMs: 2_000, wallMs: 10_000 } });

attack("Math.random gives each fresh sandbox a sequence of its own", async () => {
  const source = `export default { run() { return [Math.random(), Math.random(), Math.random()]; } };`;
  const sequences: number[][] = [];
  for (let i = 0; i < 4; i++) sequences.push(await call(source, "run"));
  const all = sequences.flat();
  assert.equal(new Set(all).size, all.length, `repeated values: ${JSON.stringify(sequences)}`);
  for (const value of all) assert.ok(value >= 0 && value < 1);
});

attack("crypto.getRandomValues and crypto.randomUUID differ between fresh sandboxes", async () => {
  const source = `export default { run() { return [Array.from(crypto.getRandomValues(new Uint8Array(16))).join(","), crypto.randomUUID(), crypto.randomUUID()]; } };`;
  const seen: string[] = [];
  for (let i = 0; i < 4; i++) seen.push(...((await call(source, "run")) as string[]));
  assert.equal(new Set(seen).size, seen.length, `repeated values: ${JSON.stringify(seen)}`);
});

attack("the frozen clock starts from the sandbox's boot, not from when the core was made ready", async () => {
  // The core's snapshot is made with the first sandbox of the process (or shard): one is made,
  // then time passes, then a fresh sandbox reads its clock at the top of its module.
  await call(`export default { run() { return 1; } };`, "run");
  await sleep(300);
  const before = Date.now();
  const [atLoad, timeOrigin, performanceNow, inCall] = await call(
    `const atLoad = [Date.now(), performance.timeOrigin, performance.now()];
    export default { run() { return [...atLoad, new Date().getTime()]; } };`,
    "run",
  );
  const after = Date.now();
  for (const [name, value] of [["Date.now() at load", atLoad], ["performance.timeOrigin", timeOrigin], ["new Date() in the call", inCall]] as const) {
    assert.ok(value >= before - 1 && value <= after + 1, `${name} is ${value}, outside [${before}, ${after}]`);
  }
  assert.ok(performanceNow >= 0 && performanceNow <= after - before + 1, `performance.now() at load is ${performanceNow}`);
});

attack("the intrinsics the core captured are the sandbox's own: values it makes and errors it throws have the sandbox's prototypes", async () => {
  const result = await call(
    `export default { run(arg) {
      const checks = {};
      checks.argObject = Object.getPrototypeOf(arg) === Object.prototype;
      checks.argArray = Array.isArray(arg.list) && arg.list instanceof Array && Object.getPrototypeOf(arg.list) === Array.prototype;
      checks.argBytes = arg.bytes instanceof Uint8Array && arg.bytes.buffer instanceof ArrayBuffer;
      checks.argDate = arg.when instanceof Date && Object.getPrototypeOf(arg.when) === Date.prototype;
      checks.argMap = arg.map instanceof Map;
      checks.date = new Date() instanceof Date && Date.prototype.constructor === Date && typeof Date.now() === "number";
      // Thrown by the core's own code (the Intl confinement and the charged ArrayBuffer).
      try { new Intl.Locale("x".repeat(5000)); checks.rangeError = "no error"; } catch (e) { checks.rangeError = e instanceof RangeError && Object.getPrototypeOf(e) === RangeError.prototype; }
      try { new ArrayBuffer(0, { maxByteLength: 2 ** 40 }); checks.bufferError = "no error"; } catch (e) { checks.bufferError = e instanceof RangeError; }
      // Made by a chunk loaded now, with the core's captured intrinsics.
      checks.chunk = new Headers({ a: "b" }) instanceof Headers && [...new URLSearchParams("a=1&b=2").keys()] instanceof Array;
      try { structuredClone(() => {}); checks.cloneError = "no error"; } catch (e) { checks.cloneError = e instanceof Error && e.name; }
      return checks;
    } };`,
    "run",
    [{ list: [1, 2], bytes: new Uint8Array([1]), when: new Date(5), map: new Map([[1, 2]]) }],
  );
  assert.deepEqual(result, { argObject: true, argArray: true, argBytes: true, argDate: true, argMap: true, date: true, rangeError: true, bufferError: true, chunk: true, cloneError: "DataCloneError" });
});

attack("a sandbox made from the snapshot has no trace of how the core was booted", async () => {
  const names = await call(`export default { run() { return Object.getOwnPropertyNames(globalThis).filter((n) => n.startsWith("__") || /islet/i.test(n)); } };`, "run");
  assert.deepEqual(names, []);
});

attack("each sandbox's limits are its own: a 16 MB and a 64 MB sandbox get the off-heap budget, wasm pages and Intl count of their memoryMb", async () => {
  const source = `const keep = [];
  export default { run() {
    const out = {};
    try { keep.push(new ArrayBuffer(0, { maxByteLength: 24 * 1024 * 1024 })); out.buffer = "made"; } catch (e) { out.buffer = e.name; }
    try { keep.push(new WebAssembly.Memory({ initial: 384 })); out.memory = "made"; } catch (e) { out.memory = e.name; }
    let formats = 0;
    try { for (let i = 0; i < 300; i++) { keep.push(new Intl.NumberFormat("en")); formats++; } } catch (e) {}
    out.formats = formats;
    return out;
  } };`;
  assert.deepEqual(await call(source, "run", [], { limits: { memoryMb: 16 } }), { buffer: "RangeError", memory: "RangeError", formats: 256 });
  assert.deepEqual(await call(source, "run", [], { limits: { memoryMb: 64 } }), { buffer: "made", memory: "made", formats: 300 });
});

attack("what V8 adds to a context only when it is made is confined as in a sandbox that ran the core: WebAssembly, SharedArrayBuffer, Float16Array, errors", async () => {
  const result = await call(
    `export default { run(bytes) {
      const out = {};
      out.shared = typeof SharedArrayBuffer;
      out.jspi = [typeof WebAssembly.Suspending, typeof WebAssembly.promising];
      out.add = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.add(2, 3);
      try { new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }); out.sharedMemory = "made"; } catch (e) { out.sharedMemory = e.name; }
      out.half = new Float16Array([1.5, 2]);
      out.error = new TypeError("typed");
      return out;
    },
    module(bytes) { return new WebAssembly.Module(bytes); },
    forged() { const fake = Object.create(TypeError.prototype); fake.message = "forged"; return fake; },
  };`,
    "run",
    [addWasm],
  );
  assert.equal(result.shared, "undefined");
  assert.deepEqual(result.jspi, ["undefined", "undefined"]);
  assert.equal(result.add, 5);
  assert.notEqual(result.sharedMemory, "made");
  assert.ok(result.half instanceof Float16Array, `a Float16Array crossed as ${Object.prototype.toString.call(result.half)}`);
  assert.deepEqual(Array.from(result.half), [1.5, 2]);
  assert.ok(result.error instanceof TypeError);
  assert.equal(result.error.message, "typed");
  await assert.rejects(call(`export default { run(bytes) { return new WebAssembly.Module(bytes); } };`, "run", [addWasm]), (e: Error) => e.name === "DataCloneError" && /WebAssembly\.Module/.test(e.message));
  // An object that only inherits from TypeError.prototype is no error (Error.isError is the brand).
  const forged = await call(`export default { run() { const fake = Object.create(TypeError.prototype); fake.message = "forged"; return fake; } };`, "run");
  assert.ok(!(forged instanceof Error), "an object with an error's prototype crossed as an error");
});

attack("the core's FinalizationRegistry, made with the snapshot, still refunds a collected resizable buffer's charge", async () => {
  const [made, failure] = await call(
    `export default { async run() {
      let made = 0, failure = "";
      for (let i = 0; i < 40; i++) {
        try { const buffer = new ArrayBuffer(4 * 1024 * 1024, { maxByteLength: 4 * 1024 * 1024 }); new Uint8Array(buffer)[0] = 1; made++; } catch (e) { failure = e.message; }
        let junk = []; for (let j = 0; j < 2000; j++) junk.push(new Array(100).fill(j)); junk = null;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return [made, failure];
    } };`,
    "run",
    [],
    { limits: { memoryMb: 16, cpuMs: 5_000 } },
  );
  // Without refunds four buffers of 4 MiB fill a 16 MB budget for good.
  assert.ok(made >= 8, `only ${made} of 40 buffers were made (${failure})`);
});

attack("no Temporal: Temporal.Now (V8 14, Node 26) reads the real clock the frozen clock denies", async () => {
  const result = await call(
    `export default { run() {
      const start = Date.now();
      let spin = 0; for (let i = 0; i < 2e6; i++) spin += i;
      return [typeof globalThis.Temporal, "Temporal" in globalThis, Date.now() - start, spin > 0];
    } };`,
    "run",
  );
  assert.deepEqual(result, ["undefined", false, 0, true]);
});

attack("a sandbox from the warm pool starts its performance clock when its worker starts, not when the pool made it: it cannot tell when the previous load was (findings16/06)", async () => {
  const { WorkerLoader } = await import("islet");
  const loader = new WorkerLoader({ ...isolationOptions(ISOLATION), warmPool: 1, limits: { cpuMs: 2_000, wallMs: 10_000 } });
  try {
    const code = { compatibilityDate: "2026-01-01", mainModule: "a.js", modules: { "a.js": `const t = performance.now(); export default { run() { return [t, performance.now(), performance.timeOrigin <= Date.now()]; } }` } };
    await (loader.load(code).getEntrypoint() as any).run();
    // The pool refills now; the next load takes that sandbox 1.5 s later.
    await sleep(1_500);
    const [atTop, atCall, ordered] = (await (loader.load(code).getEntrypoint() as any).run()) as [number, number, boolean];
    assert.ok(atTop < 500, `performance.now() read ${atTop} ms at the top level of a pooled sandbox's worker`);
    assert.ok(atCall >= atTop && atCall < 1_000, `then ${atCall} ms at its first call`);
    assert.equal(ordered, true);
  } finally {
    await loader.close();
  }
});
