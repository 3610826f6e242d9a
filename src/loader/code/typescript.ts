// TypeScript to JavaScript with esbuild, cached by content: a worker loaded again (or another
// worker with the same module) does not transpile again. esbuild's asynchronous API, so the work
// runs in esbuild's process and not on the host's event loop (esbuild-queue.ts).

import { createHash } from "node:crypto";
import { transform } from "esbuild";
import { WorkerCodeError } from "../../errors.ts";
import { LOWERED_ASYNC } from "./async-lowering.ts";
import { ContentCache, stringBytes } from "./content-cache.ts";
import { esbuildJob, type PreparationTicket } from "./esbuild-queue.ts";

export interface Transpiled {
  code: string;
  /** Source-map v3 mappings from the JavaScript back to the TypeScript source. */
  mappings: string;
}

/** At most 500 transpiled modules and 64 MiB of their code and mappings. */
export const TS_CACHE_MAX_BYTES = 64 * 1024 * 1024;
const tsCache = new ContentCache<Transpiled>(500, TS_CACHE_MAX_BYTES, (transpiled) => stringBytes([transpiled.code, transpiled.mappings]));
/** How often TypeScript was transpiled versus served from the content cache. */
export const typeScriptCacheStats = {
  transpiled: 0,
  hits: 0,
  /** What the cache holds now. */
  get held(): { entries: number; bytes: number } {
    return tsCache.size;
  },
};

export function typeScriptCacheKey(source: string, name: string, lowerAsync: boolean): string {
  return createHash("sha256").update(lowerAsync ? "lowered\0" : "").update(name).update("\0").update(source).digest("base64");
}

/**
 * With lowerAsync, async functions become generators too (async-lowering.ts), in the same pass.
 * `given` holds results the host handed over (a shard: it does not run esbuild), by content key.
 * `ticket`: the loader's queue budget the job waits on (esbuild-queue.ts); without one, the process's.
 */
export async function transpileTypeScript(source: string, name: string, lowerAsync = false, given?: ReadonlyMap<string, Transpiled>, ticket?: PreparationTicket): Promise<Transpiled> {
  const key = typeScriptCacheKey(source, name, lowerAsync);
  const handed = given?.get(key);
  if (handed !== undefined) return handed;
  const { value, made } = await tsCache.getOrMake(key, () => esbuildJob(() => transpile(source, name, lowerAsync), ticket ?? { bytes: source.length }));
  if (made) typeScriptCacheStats.transpiled++;
  else typeScriptCacheStats.hits++;
  return value;
}

async function transpile(source: string, name: string, lowerAsync: boolean): Promise<Transpiled> {
  try {
    const result = await transform(source, { loader: "ts", format: "esm", target: "es2022", sourcefile: name, sourcemap: "external", logLevel: "silent", ...(lowerAsync ? { supported: LOWERED_ASYNC } : {}) });
    return { code: result.code, mappings: (JSON.parse(result.map) as { mappings: string }).mappings };
  } catch (error) {
    const first = (error as { errors?: { text: string; location?: { line: number; column: number } }[] }).errors?.[0];
    const where = first?.location ? ` (${first.location.line}:${first.location.column})` : "";
    const text = first?.text ?? (error as Error).message;
    if (lowerAsync && /top-level await/i.test(text)) {
      throw new WorkerCodeError(`top-level await cannot be used in a worker that imports node:async_hooks (islet lowers its async functions so that AsyncLocalStorage's store follows await, and top-level await cannot be lowered)${where}`, name);
    }
    throw new WorkerCodeError(`TypeScript error${where}: ${text}`, name);
  }
}
