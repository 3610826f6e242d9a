// TypeScript to JavaScript with esbuild, cached by content: a worker loaded again (or another
// worker with the same module) does not transpile again.

import { createHash } from "node:crypto";
import { transformSync } from "esbuild";
import { WorkerCodeError } from "../../errors.ts";
import { ContentCache, stringBytes } from "./content-cache.ts";

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

function typeScriptCacheKey(source: string, name: string): string {
  return createHash("sha256").update(name).update("\0").update(source).digest("base64");
}

/** Process isolation: the parent transpiles (its children may not start esbuild's process) and hands the result over. */
export function primeTypeScriptCache(source: string, name: string, transpiled: Transpiled): void {
  tsCache.set(typeScriptCacheKey(source, name), transpiled);
}

export function transpileTypeScript(source: string, name: string): Transpiled {
  const key = typeScriptCacheKey(source, name);
  const cached = tsCache.get(key);
  if (cached !== undefined) {
    typeScriptCacheStats.hits++;
    return cached;
  }
  typeScriptCacheStats.transpiled++;
  let transpiled: Transpiled;
  try {
    const result = transformSync(source, { loader: "ts", format: "esm", target: "es2022", sourcefile: name, sourcemap: "external", logLevel: "silent" });
    transpiled = { code: result.code, mappings: (JSON.parse(result.map) as { mappings: string }).mappings };
  } catch (error) {
    const first = (error as { errors?: { text: string; location?: { line: number; column: number } }[] }).errors?.[0];
    const where = first?.location ? ` (${first.location.line}:${first.location.column})` : "";
    throw new WorkerCodeError(`TypeScript error${where}: ${first?.text ?? (error as Error).message}`, name);
  }
  tsCache.set(key, transpiled);
  return transpiled;
}
