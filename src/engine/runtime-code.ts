// The in-isolate runtime, built by scripts/build.mjs: the core (dist/runtime.js), which every new
// isolate starts from, and chunks (dist/runtime-<name>.js, listed in dist/runtime-chunks.json) run
// only when a sandbox first needs them. The core is evaluated once per process (or thread) into a
// V8 startup snapshot that new isolates are made from (runtimeSnapshot); chunks are compiled with a
// V8 code cache. Both are produced by this process from the files in dist/ and kept in memory only:
// a snapshot or cached data never comes from anywhere else (a snapshot holds machine code and a
// heap that V8 trusts).

import { readFileSync } from "node:fs";
import IVM from "./ivm.ts";
import type ivm from "isolated-vm";

interface Compiled {
  file: string;
  source: string;
  cachedData?: ivm.ExternalCopy<ArrayBuffer>;
}

const compiled = new Map<string, Compiled>();

function distUrl(file: string): URL {
  return new URL(`../../dist/${file}`, import.meta.url);
}

function notBuilt(url: URL): Error {
  return new Error(`islet: the in-isolate runtime is not built (${url.pathname} is missing). Run: npm run build`);
}

let chunkList: readonly string[] | undefined;

/** The names of the runtime's lazily loaded chunks. */
export function chunkNames(): readonly string[] {
  if (chunkList === undefined) {
    const url = distUrl("runtime-chunks.json");
    try {
      chunkList = Object.freeze(JSON.parse(readFileSync(url, "utf8")) as string[]);
    } catch {
      throw notBuilt(url);
    }
  }
  return chunkList;
}

function load(file: string): Compiled {
  let entry = compiled.get(file);
  if (entry === undefined) {
    const url = distUrl(file);
    try {
      entry = { file, source: readFileSync(url, "utf8") };
    } catch {
      throw notBuilt(url);
    }
    compiled.set(file, entry);
  }
  return entry;
}

function compile(isolate: ivm.Isolate, file: string): ivm.Script {
  const entry = load(file);
  const script = isolate.compileScriptSync(entry.source, {
    filename: `islet:${file}`,
    cachedData: entry.cachedData,
    produceCachedData: entry.cachedData === undefined,
  });
  const produced = (script as unknown as { cachedData?: ivm.ExternalCopy<ArrayBuffer> }).cachedData;
  if (entry.cachedData === undefined && produced !== undefined) entry.cachedData = produced;
  return script;
}

export const RUNTIME_FILE = "runtime.js";
let runtimeFile = RUNTIME_FILE;

/**
 * For the start-cost benchmark only (reached through src/testing.ts): "bare" makes new sandboxes run dist/runtime-bare.js, the
 * core without the web platform's globals, so the cost of having them can be measured.
 */
export function selectRuntimeForBenchmark(variant: "full" | "bare"): void {
  runtimeFile = variant === "bare" ? "runtime-bare.js" : RUNTIME_FILE;
}

/**
 * How new sandboxes get the core: "snapshot" (made from the core's startup snapshot) or "compile"
 * (compile the core from its code cache and run it in every new isolate, as before snapshots).
 */
export type RuntimeStart = "snapshot" | "compile";
let runtimeStart: RuntimeStart = "snapshot";

/** For the start-cost benchmark and tests only (reached through src/testing.ts): how new sandboxes get the core. */
export function selectRuntimeStartForBenchmark(start: RuntimeStart): void {
  runtimeStart = start;
}

/**
 * The global property through which the host takes the core's boot function from a context made
 * from the snapshot. What it holds deletes the property when called, which the host does at once,
 * before anything else runs in the context: user code never finds it. (isolated-vm does not read
 * through a getter, which could have deleted it on the host's read.)
 */
export const SNAPSHOT_BOOT_GLOBAL = "__isletBoot";

/**
 * The snapshot's one script: the core (an expression whose value is its exports) with its boot
 * function behind the self-deleting global above, and its globals installed (prepare()). V8 runs it
 * once, in the snapshot's context; every context made from the snapshot gets its own copy of that
 * context, with the core already evaluated and its globals in place, waiting for boot.
 */
function snapshotScript(source: string): string {
  const core = source.trimEnd().replace(/;$/, "");
  const key = JSON.stringify(SNAPSHOT_BOOT_GLOBAL);
  return `(function (runtime) { const boot = runtime.boot; Object.defineProperty(globalThis, ${key}, { __proto__: null, configurable: true, enumerable: false, writable: false, value: function (post, hostCall, now, memoryMb) { delete globalThis[${key}]; return boot(post, hostCall, now, memoryMb); } }); runtime.prepare(); })(${core});\n`;
}

const snapshots = new Map<string, ivm.ExternalCopy<ArrayBuffer>>();
let snapshotsMadeValue = 0;

/** Snapshots this process (or thread) has made: one per runtime file, on first need. */
export function snapshotsMade(): number {
  return snapshotsMadeValue;
}

/**
 * The startup snapshot new isolates are made from, or undefined when sandboxes compile the core
 * instead. Made here, on first need, from the core in dist/ and a warm-up script that is islet's
 * own fixed code: nothing a user wrote runs while it is made, and it is never written to or read
 * from a file. `warmUp` runs in a second context of the snapshot's isolate (isolated-vm discards
 * that context); only the functions it compiled are kept, so the core's everyday paths start compiled.
 */
export function runtimeSnapshot(warmUp: string): ivm.ExternalCopy<ArrayBuffer> | undefined {
  if (runtimeStart !== "snapshot") return undefined;
  let snapshot = snapshots.get(runtimeFile);
  if (snapshot === undefined) {
    const script = snapshotScript(load(runtimeFile).source);
    snapshot = IVM.Isolate.createSnapshot([{ code: script, filename: `islet:${runtimeFile}` }], warmUp);
    snapshots.set(runtimeFile, snapshot);
    snapshotsMadeValue++;
  }
  return snapshot;
}

/** For tests (src/testing.ts): a copy of the snapshot made for the runtime new sandboxes use, if one was made. */
export function runtimeSnapshotCopy(): ArrayBuffer | undefined {
  return snapshots.get(runtimeFile)?.copy();
}

export function chunkFile(name: string): string {
  return `runtime-${name}.js`;
}

const warmedRuntimes = new Set<string>();

/** Whether the runtime new sandboxes use, started as they start it, still needs its code caches made by a warm-up run. */
export function runtimeNeedsWarmUp(): boolean {
  return !warmedRuntimes.has(`${runtimeStart}:${runtimeFile}`);
}

export function markRuntimeWarm(): void {
  warmedRuntimes.add(`${runtimeStart}:${runtimeFile}`);
}

export function compileRuntime(isolate: ivm.Isolate): ivm.Script {
  return compile(isolate, runtimeFile);
}

export function compileChunk(isolate: ivm.Isolate, name: string): ivm.Script {
  return compile(isolate, chunkFile(name));
}

/**
 * V8 puts into a code cache only the functions compiled when the cache is made, and compiles the
 * rest lazily on first call: in every new isolate, again. So after islet's own runtime has run its
 * common paths in a private isolate, compiling the same source again there hits V8's compilation
 * cache and serializes every function compiled so far. Only islet's code may have run in `isolate`.
 */
export function recordCodeCache(isolate: ivm.Isolate, file: string = runtimeFile): void {
  const entry = load(file);
  const script = isolate.compileScriptSync(entry.source, { filename: `islet:${file}`, produceCachedData: true });
  const produced = (script as unknown as { cachedData?: ivm.ExternalCopy<ArrayBuffer> }).cachedData;
  if (produced !== undefined) entry.cachedData = produced;
}
