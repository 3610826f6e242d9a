// New sandboxes start from a V8 startup snapshot of islet's core (src/engine/runtime-code.ts): the
// snapshot is made in this process from dist/runtime.js and nothing else, once, and a sandbox made
// from it looks, to user code, exactly like one that compiled and ran the core. The properties a
// snapshot must not share between sandboxes (randomness, the clock, intrinsics, limits) are attacked
// in every isolation mode in test/security/fresh-state.test.ts.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { WorkerLoader } from "islet";
import { runtimeSnapshotCopy, selectRuntimeForBenchmark, selectRuntimeStartForBenchmark, snapshotsMade } from "../../src/testing.ts";
import { js } from "../helpers.ts";

const loader = new WorkerLoader({ warmPool: 0 });
test.after(() => loader.close());

async function run(source: string, start: "snapshot" | "compile" = "snapshot"): Promise<any> {
  selectRuntimeStartForBenchmark(start);
  try {
    const stub = loader.load(js(source));
    try {
      return await (stub.getEntrypoint() as any).run();
    } finally {
      stub.dispose();
    }
  } finally {
    selectRuntimeStartForBenchmark("snapshot");
  }
}

test("new sandboxes start from one snapshot per process, made on the first sandbox", async () => {
  assert.equal(snapshotsMade(), 0);
  for (let i = 0; i < 3; i++) assert.equal(await run(`export default { run() { return 1 + ${i}; } };`), 1 + i);
  assert.equal(snapshotsMade(), 1);
  // The old path, kept for the start-cost benchmark, makes none.
  assert.equal(await run(`export default { run() { return typeof fetch; } };`, "compile"), "function");
  assert.equal(snapshotsMade(), 1);
});

test("the snapshot is made from the runtime file new sandboxes use: the bare runtime gets its own", async () => {
  const probe = `export default { run() { return [typeof fetch, typeof console.log, Date.now() > 0]; } };`;
  const before = snapshotsMade();
  selectRuntimeForBenchmark("bare");
  try {
    assert.deepEqual(await run(probe), ["undefined", "function", true]);
  } finally {
    selectRuntimeForBenchmark("full");
  }
  assert.equal(snapshotsMade(), before + 1);
  assert.deepEqual(await run(probe), ["function", "function", true]);
});

// Every own property of the global object and of the prototypes the runtime replaces methods on:
// name, kind of descriptor, type of value, attributes. Lazy globals are not touched.
const SHAPE = `export default { run() {
  const shape = (object) => Reflect.ownKeys(object).map((key) => {
    const d = Object.getOwnPropertyDescriptor(object, key);
    const native = (f) => typeof f !== "function" ? "" : /\\[native code\\]/.test(Function.prototype.toString.call(f)) ? "(native)" : "(js)";
    const kind = "value" in d ? "value:" + typeof d.value + native(d.value) : "accessor:" + typeof d.get + native(d.get) + "/" + typeof d.set + native(d.set);
    return [String(key), kind, d.enumerable, d.configurable, "writable" in d ? d.writable : null].join(" ");
  }).sort();
  return {
    global: shape(globalThis),
    boot: ["__isletBoot" in globalThis, Object.getOwnPropertyNames(globalThis).filter((n) => n.startsWith("__"))],
    array: shape(Array.prototype), arrayCtor: shape(Array), object: shape(Object), typed: shape(Object.getPrototypeOf(Uint8Array.prototype)),
    date: shape(Date), dateProto: shape(Date.prototype), performance: shape(performance), reflect: shape(Reflect), string: shape(String.prototype),
    error: shape(Error), promise: shape(Promise), promiseProto: shape(Promise.prototype), regexp: shape(RegExp), math: shape(Math), atomics: shape(Atomics),
    dataView: shape(DataView.prototype), iterator: shape(Iterator.prototype), functionProto: shape(Function.prototype), objectProto: shape(Object.prototype),
    arrayBuffer: shape(ArrayBuffer), arrayBufferProto: shape(ArrayBuffer.prototype), float16: typeof Float16Array, disposable: typeof DisposableStack,
  };
} };`;

test("a sandbox made from the snapshot has the globals of one that ran the core, and no trace of the boot global", async () => {
  const fromSnapshot = await run(SHAPE, "snapshot");
  const compiled = await run(SHAPE, "compile");
  assert.deepEqual(fromSnapshot.boot, [false, []]);
  assert.deepEqual(fromSnapshot, compiled);
  assert.ok(fromSnapshot.global.length > 100, "the globals were read");
});

// What V8 adds to a context only when the context is made, and not while a startup snapshot's
// script runs (it leaves out what depends on flags and embedder settings): a core evaluated into
// the snapshot never saw these, so it cannot have captured or confined them then. Each is handled
// at boot, before user code (runtime/index.ts boot), or is not used by the runtime at all. A V8 that
// adds another fails here until it is reviewed and listed.
const LATE: Record<string, string> = {
  "global.SharedArrayBuffer": "removed at boot (installLateGlobals); its byteLength getter captured at boot (clonable.ts, primordials.ts)",
  "global.WebAssembly": "confined at boot (installLateGlobals, wasm.ts); its brand checks captured at boot (clonable.ts)",
  "global.Float16Array": "captured at boot (clonable.ts, snapshot.ts)",
  "Error.isError": "captured at boot (clonable.ts, snapshot.ts)",
  // V8 14 (Node 26):
  "global.Temporal": "removed at boot (installLateGlobals): Temporal.Now reads the real clock",
  "Date.prototype.toTemporalInstant": "not used by the runtime (and Temporal is removed: an Instant reaches no clock)",
  "Uint8Array.fromBase64": "not used by the runtime (its base64 is its own)",
  "Uint8Array.fromHex": "not used by the runtime",
  "Uint8Array.prototype.toBase64": "not used by the runtime",
  "Uint8Array.prototype.setFromBase64": "not used by the runtime",
  "Uint8Array.prototype.toHex": "not used by the runtime",
  "Uint8Array.prototype.setFromHex": "not used by the runtime",
  "Map.prototype.getOrInsert": "not used by the runtime",
  "Map.prototype.getOrInsertComputed": "not used by the runtime",
  "WeakMap.prototype.getOrInsert": "not used by the runtime",
  "WeakMap.prototype.getOrInsertComputed": "not used by the runtime",
  "Iterator.concat": "not used by the runtime",
  "Error.stackTraceLimit": "not used by the runtime",
  "global.DisposableStack": "not used by the runtime",
  "global.AsyncDisposableStack": "not used by the runtime",
  "global.SuppressedError": "not used by the runtime",
  "Promise.try": "not used by the runtime",
  "RegExp.escape": "not used by the runtime",
  "Math.f16round": "not used by the runtime",
  "Atomics.pause": "not used by the runtime",
  "DataView.prototype.getFloat16": "not used by the runtime",
  "DataView.prototype.setFloat16": "not used by the runtime",
  "Iterator.prototype[Symbol(Symbol.dispose)]": "not used by the runtime",
  "%AsyncIteratorPrototype%[Symbol(Symbol.asyncDispose)]": "not used by the runtime",
};
/** Names (as they appear in the built runtime) of the late intrinsics listed as not used. */
const UNUSED_TOKENS = [/toTemporalInstant/, /\b(from|to|setFrom)(Base64|Hex)\b/, /getOrInsert/, /Iterator\.concat/, /\bf16round\b/, /DisposableStack/, /SuppressedError/, /stackTraceLimit/, /\bAtomics\b/, /[gs]etFloat16/, /\.try\b/, /\bRegExp\.escape\b|\bescape:\s*\w+\s*}\s*=\s*RegExp\b/];
// (RegExp.escape by its global name: node:querystring has an `escape` of its own, which the
// minified runtime reads as `x.escape`.)
// (The iterators' dispose methods cannot be told apart by name from the Symbol.dispose the
// runtime's stubs define; no runtime code declares `using` or calls an iterator's dispose.)

/** Every own key of the global object, of each global object or function and its prototype, and of a few unnamed intrinsics, by path. */
const WALK = `(function () {
  const { ownKeys, getOwnPropertyDescriptor, getPrototypeOf } = Reflect;
  const holders = [["global", globalThis], ["%AsyncIteratorPrototype%", getPrototypeOf(getPrototypeOf(async function* () {}).prototype)],
    ["%TypedArray%", getPrototypeOf(Uint8Array)], ["%TypedArray%.prototype", getPrototypeOf(Uint8Array).prototype],
    ["%ArrayIteratorPrototype%", getPrototypeOf([][Symbol.iterator]())], ["%GeneratorPrototype%", getPrototypeOf(function* () {}).prototype],
    ["%AsyncGeneratorPrototype%", getPrototypeOf(async function* () {}).prototype]];
  for (const key of ownKeys(globalThis)) {
    const d = getOwnPropertyDescriptor(globalThis, key);
    if (!("value" in d) || d.value === null || (typeof d.value !== "object" && typeof d.value !== "function") || d.value === globalThis) continue;
    holders.push([String(key), d.value]);
    const proto = getOwnPropertyDescriptor(d.value, "prototype");
    if (proto !== undefined && "value" in proto && proto.value !== null && typeof proto.value === "object") holders.push([String(key) + ".prototype", proto.value]);
  }
  const out = new Map();
  for (const [name, holder] of holders) for (const key of ownKeys(holder)) {
    const d = getOwnPropertyDescriptor(holder, key);
    out.set(typeof key === "symbol" ? name + "[" + String(key) + "]" : name + "." + key, "value" in d ? d.value : d.get);
  }
  return out;
})`;

test("what V8 adds to a context only when it is made is each handled at boot or not used by the runtime", async () => {
  const ivm = (await import("../../src/engine/ivm.ts")).default;
  const snapshot = ivm.Isolate.createSnapshot([{ code: `globalThis.__walk = ${WALK}; globalThis.__before = __walk();` }]);
  const isolate = new ivm.Isolate({ snapshot, memoryLimit: 64 });
  try {
    const context = isolate.createContextSync();
    const late = context.evalSync(`(() => {
      const before = __before, now = __walk(), out = [];
      for (const [path, value] of now) {
        if (path.includes("__walk") || path.includes("__before")) continue;
        const holder = path.replace(/(\\.[^.\\[]*|\\[[^\\]]*\\])$/, "");
        if (!before.has(path) && (holder === "global" || [...before.keys()].some((p) => p.startsWith(holder + ".") || p.startsWith(holder + "[")))) out.push(path);
        else if (before.has(path) && before.get(path) !== value && value === value) out.push("changed " + path);
      }
      return out.sort().join("\\n");
    })()`) as string;
    const found = late === "" ? [] : late.split("\n");
    // The walk sees them (WebAssembly is one in every V8 islet runs on).
    assert.ok(found.includes("global.WebAssembly"), `found: ${found.join(", ")}`);
    for (const path of found) assert.ok(Object.hasOwn(LATE, path), `V8 adds ${path} to a context only when it is made: review how the core uses it, then list it`);
    // Those listed as not used are not named anywhere in the built runtime (core and chunks).
    const dist = new URL("../../dist/", import.meta.url).pathname;
    const bundles = readdirSync(dist).filter((file) => /^runtime(-[a-z]+)?\.js$/.test(file)).map((file) => readFileSync(join(dist, file), "utf8"));
    assert.ok(bundles.length > 3);
    for (const token of UNUSED_TOKENS) assert.ok(!bundles.some((text) => token.test(text)), `the runtime now uses ${token}: capture it at boot`);
  } finally {
    isolate.dispose();
  }
});

test("the snapshot's heap can be rehashed: each isolate made from it gets a hash seed of its own", async () => {
  await run(`export default { run() { return 1; } };`);
  const copy = runtimeSnapshotCopy();
  assert.ok(copy !== undefined && copy.byteLength > 100_000);
  const header = new DataView(copy);
  // V8's snapshot header (src/snapshot/snapshot.cc): contexts, rehashability, two checksums, then
  // the version string; the version is checked so that a changed layout fails here, not silently.
  const version = new TextDecoder().decode(new Uint8Array(copy, 16, 64)).replace(/\0.*$/s, "");
  assert.equal(version, process.versions.v8);
  assert.equal(header.getUint32(0, true), 1, "one context");
  // V8 rehashes a rehashable snapshot's strings and tables with a new random seed when an isolate
  // is made from it (--rehash-snapshot, on by default); one that is not would share the seed.
  assert.equal(header.getUint32(4, true), 1, "rehashable");
});

test("the snapshot is made in this process from islet's own runtime only: never read from a file, never from user input", () => {
  const root = new URL("../../src/", import.meta.url).pathname;
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : []));
  const uses = (pattern: RegExp) => files(root).filter((file) => pattern.test(readFileSync(file, "utf8"))).map((file) => file.slice(root.length));
  // One place makes a snapshot, one place starts isolates from one.
  assert.deepEqual(uses(/createSnapshot\(/), ["engine/runtime-code.ts"]);
  assert.deepEqual(uses(/\.Isolate\(\{[^}]*snapshot/), ["engine/sandbox.ts"]);
  const code = readFileSync(join(root, "engine/runtime-code.ts"), "utf8");
  const sandbox = readFileSync(join(root, "engine/sandbox.ts"), "utf8");
  // Its only input is the built runtime file (read as the core always was) and islet's warm-up script.
  assert.match(code, /createSnapshot\(\[\{ code: script, filename: `islet:\$\{runtimeFile\}` \}\], warmUp\)/);
  assert.match(code, /const script = snapshotScript\(load\(runtimeFile\)\.source\);/);
  assert.match(sandbox, /const snapshot = runtimeSnapshot\(SNAPSHOT_WARM_UP\);/);
  assert.match(sandbox, /new IVM\.Isolate\(\{[^}]*\n\s*snapshot,\n\s*\}\)/);
  // It is kept in memory only: nothing in the engine writes a file or makes an ExternalCopy of one.
  assert.doesNotMatch(code, /writeFile|createWriteStream|new IVM\.ExternalCopy/);
  assert.doesNotMatch(sandbox, /readFile|writeFile/);
});

test("the old path still works for the benchmark: the core compiled and run in the new isolate", async () => {
  const probe = `export default { run() { return [new URL("https://a.example/b").pathname, new TextEncoder().encode("é").length, typeof WebAssembly.Module, new Intl.NumberFormat("en").format(1234)]; } };`;
  const expected = ["/b", 2, "function", "1,234"];
  assert.deepEqual(await run(probe, "compile"), expected);
  assert.deepEqual(await run(probe, "snapshot"), expected);
});
