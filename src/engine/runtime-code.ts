// The in-isolate runtime, built by scripts/build.mjs: the core (dist/runtime.js), run in every
// new isolate, and chunks (dist/runtime-<name>.js, listed in dist/runtime-chunks.json) run only
// when a sandbox first needs them. V8 code cache for each is produced by this process and reused:
// cached data never comes from anywhere else.

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

export function chunkFile(name: string): string {
  return `runtime-${name}.js`;
}

const warmedRuntimes = new Set<string>();

/** Whether the runtime new sandboxes use still needs its code cache made by a warm-up run. */
export function runtimeNeedsWarmUp(): boolean {
  return !warmedRuntimes.has(runtimeFile);
}

export function markRuntimeWarm(): void {
  warmedRuntimes.add(runtimeFile);
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
