// AsyncLocalStorage needs its store to follow `await`, and V8 gives no JavaScript API (nor does
// isolated-vm give one) for the context V8 itself carries across awaits. So in a worker whose code
// imports node:async_hooks, the host lowers every async function, async generator and for-await of
// its modules (and of the packages they import) to generators driven by esbuild's helpers, whose
// every resumption goes through Promise.prototype.then; the sandbox's then, timers and
// queueMicrotask carry the context (src/runtime/async-context.ts). A worker that does not import
// it is not touched: this costs it nothing.
//
// Top-level await cannot be lowered (esbuild refuses it once async functions are): a module of such
// a worker that uses it is a WorkerCodeError.

import { createHash } from "node:crypto";
import { transform } from "esbuild";
import { WorkerCodeError } from "../../errors.ts";
import { ContentCache, stringBytes } from "./content-cache.ts";
import { esbuildJob, type PreparationTicket } from "./esbuild-queue.ts";

/** esbuild's features to lower for async context: every async function, async generator and for-await. */
export const LOWERED_ASYNC = { "async-await": false, "async-generator": false, "for-await": false } as const;

/** A string-literal specifier naming node:async_hooks (import, import(), require, export from). */
const ASYNC_HOOKS_SPECIFIER = /["'`](?:node:)?async_hooks["'`]/;

/** Whether any of these sources names node:async_hooks as a module. */
export function importsAsyncHooks(sources: Iterable<string>): boolean {
  for (const source of sources) if (ASYNC_HOOKS_SPECIFIER.test(source)) return true;
  return false;
}

export interface Lowered {
  code: string;
  /** Source-map v3 mappings from the lowered code back to its input. */
  mappings: string;
}

/** At most 500 lowered modules and 64 MiB of their code and mappings (worker code is untrusted: findings15/01). */
const cache = new ContentCache<Lowered>(500, 64 * 1024 * 1024, (lowered) => stringBytes([lowered.code, lowered.mappings]));
/** How often a module was lowered versus served from the content cache. */
export const loweringCacheStats = { lowered: 0, hits: 0 };

export function loweringCacheKey(source: string, name: string): string {
  return createHash("sha256").update(name).update("\0").update(source).digest("base64");
}

/**
 * The module's JavaScript with its async functions lowered to generators, cached by content; in
 * esbuild's process (its asynchronous API), off the host's event loop. `given` holds results the
 * host handed over (a shard: it does not run esbuild), by content key. `ticket`: the loader's
 * queue budget the job waits on (esbuild-queue.ts); without one, the process's.
 */
export async function lowerAsync(source: string, name: string, given?: ReadonlyMap<string, Lowered>, ticket?: PreparationTicket): Promise<Lowered> {
  const key = loweringCacheKey(source, name);
  const handed = given?.get(key);
  if (handed !== undefined) return handed;
  const { value, made } = await cache.getOrMake(key, () => esbuildJob(() => lower(source, name), ticket ?? { bytes: source.length }));
  if (made) loweringCacheStats.lowered++;
  else loweringCacheStats.hits++;
  return value;
}

async function lower(source: string, name: string): Promise<Lowered> {
  try {
    const result = await transform(source, { loader: "js", supported: LOWERED_ASYNC, sourcefile: name, sourcemap: "external", logLevel: "silent" });
    return { code: result.code, mappings: (JSON.parse(result.map) as { mappings: string }).mappings };
  } catch (error) {
    const first = (error as { errors?: { text: string; location?: { line: number; column: number } }[] }).errors?.[0];
    const where = first?.location ? ` (${first.location.line}:${first.location.column})` : "";
    const text = first?.text ?? (error as Error).message;
    const why = /top-level await/i.test(text)
      ? "top-level await cannot be used in a worker that imports node:async_hooks (islet lowers its async functions so that AsyncLocalStorage's store follows await, and top-level await cannot be lowered)"
      : text;
    throw new WorkerCodeError(`${why}${where}`, name);
  }
}
