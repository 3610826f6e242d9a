// The in-isolate runtime, built by scripts/build.mjs: the core (dist/runtime.js), run in every
// new isolate, and chunks (dist/runtime-<name>.js) run only when a sandbox first needs them. V8
// code cache for each is produced by this process on first use and reused: cached data never
// comes from anywhere else.

import { readFileSync } from "node:fs";
import ivm from "isolated-vm";

export const CHUNKS = ["web"] as const;
export type ChunkName = (typeof CHUNKS)[number];

interface Compiled {
  source: string;
  cachedData?: ivm.ExternalCopy<ArrayBuffer>;
}

const compiled = new Map<string, Compiled>();

function load(file: string): Compiled {
  let entry = compiled.get(file);
  if (entry === undefined) {
    const url = new URL(`../../dist/${file}`, import.meta.url);
    try {
      entry = { source: readFileSync(url, "utf8") };
    } catch {
      throw new Error(`islet: the in-isolate runtime is not built (${url.pathname} is missing). Run: npm run build`);
    }
    compiled.set(file, entry);
  }
  return entry;
}

function compile(isolate: ivm.Isolate, file: string): ivm.Script {
  if (!warmedUp) warmUp();
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

export function compileRuntime(isolate: ivm.Isolate): ivm.Script {
  return compile(isolate, "runtime.js");
}

export function compileChunk(isolate: ivm.Isolate, name: ChunkName): ivm.Script {
  return compile(isolate, `runtime-${name}.js`);
}

let warmedUp = false;

// A tiny worker that walks the runtime's everyday paths (an RPC call, a fetch, console, the
// boundary codec) so that the functions on them are compiled when the code cache is made.
const WARM_UP_WORKER = `export default {
  echo(value) { console.log("warm", value, [1]); return { value, list: [1, 2], at: new Date(Date.now()) }; },
  fetch(request) { return new Response("ok", { status: 200, headers: { "content-type": "text/plain" } }); },
};`;

/**
 * V8 puts into a code cache only the functions compiled when the cache is made, and compiles the
 * rest lazily on first call: in every new isolate, again. So the cache is made in a private
 * isolate after islet's own runtime has run its common paths there: compiling the same source
 * again hits V8's compilation cache and serializes the functions compiled so far. Only islet's
 * code and the fixed worker above ever run in that isolate.
 */
function warmUp(): void {
  warmedUp = true;
  const isolate = new ivm.Isolate({ memoryLimit: 64 });
  try {
    const context = isolate.createContextSync();
    const core = load("runtime.js");
    const web = load("runtime-web.js");
    const runtime = isolate.compileScriptSync(core.source, { filename: "islet:runtime.js" }).runSync(context, { reference: true }) as ivm.Reference<Record<string, unknown>>;
    const fn = (name: string) => runtime.getSync(name, { reference: true }) as ivm.Reference<(...args: unknown[]) => unknown>;
    const copy = { arguments: { copy: true } } as const;
    const loadChunk = new ivm.Callback(() => {
      const exports = isolate.compileScriptSync(web.source, { filename: "islet:runtime-web.js" }).runSync(context, { reference: true }) as ivm.Reference<unknown>;
      fn("receiveChunk").applySync(undefined, ["web", exports.derefInto()]);
    });
    fn("setup").applySync(undefined, [new ivm.Callback(() => {}, { ignored: true }), loadChunk, Date.now()], copy);
    const worker = isolate.compileModuleSync(WARM_UP_WORKER, { filename: "warm-up.js" });
    worker.instantiateSync(context, () => {
      throw new Error("no imports");
    });
    worker.evaluateSync();
    fn("setMain").applySync(undefined, [worker.namespace.derefInto()]);
    fn("setEnv").applySync(undefined, [[{ key: "value" }], Date.now()], copy);
    const request = { url: "https://warm.up/", method: "POST", headers: [["x-a", "b"]], body: new Uint8Array([104, 105]), redirect: "follow" };
    for (let i = 0; i < 2; i++) {
      fn("dispatch").applySync(undefined, [i * 2 + 1, "default", "echo", [["x", { a: [1] }]], [{}], Date.now()], copy);
      fn("dispatch").applySync(undefined, [i * 2 + 2, "default", "fetch", [request], [{}], Date.now()], copy);
    }
    for (const entry of [core, web]) {
      const script = isolate.compileScriptSync(entry.source, { filename: entry === core ? "islet:runtime.js" : "islet:runtime-web.js", produceCachedData: true });
      entry.cachedData = (script as unknown as { cachedData?: ivm.ExternalCopy<ArrayBuffer> }).cachedData;
    }
  } catch {
    // Without the warm-up the caches are simply made on first compile, with fewer functions in them.
  } finally {
    isolate.dispose();
  }
}
