// Internal test hooks, in one place and off the public classes: tests, benchmarks and scripts
// import this file by path (src/testing.ts). It is not in package.json's exports, so an installed
// islet does not offer it (dist/testing.js ships, unreachable by `import "islet/…"`); nothing in
// the public API depends on it.

import { isolateBackendOf, shardPoolOf, stubOf } from "./loader/worker-loader.ts";
import type { PoolCounters } from "./engine/pool.ts";
import type { GetCode, WorkerLoader, WorkerStub } from "./loader/worker-loader.ts";
import type { WorkerBackend } from "./loader/backend.ts";
import { ProcessPool, type ChildReport } from "./loader/process/pool.ts";
import { ThreadPool, type ThreadReport } from "./loader/thread/pool.ts";

export { shardPoolOf };
/** Counters of the TypeScript transpile cache and the CommonJS analysis cache (process-wide). */
export { typeScriptCacheStats } from "./loader/code/typescript.ts";
export { commonJsCacheStats } from "./loader/code/commonjs.ts";
/** Counters of the package bundle cache (process-wide, kept in the host in every mode), and a way to empty it. */
export { packageCacheStats, clearPackageCache } from "./loader/code/packages.ts";
/** For the start-cost benchmark: "bare" makes new sandboxes run dist/runtime-bare.js (no web platform globals). */
export { selectRuntimeForBenchmark } from "./engine/runtime-code.ts";
/**
 * For the start-cost benchmark and tests: whether new sandboxes start from the core's startup
 * snapshot ("snapshot", the default) or compile and run the core ("compile"); and how many
 * snapshots this process (or thread) has made.
 */
export { runtimeSnapshotCopy, selectRuntimeStartForBenchmark, snapshotsMade } from "./engine/runtime-code.ts";
/** For tests of the runtime's fetch run in Node: replaces the URL parser (none: the WHATWG one again). */
export { setUrlParser } from "./runtime/web/url-parser.ts";

/** A stub of the worker `id` of a backend driven directly (a pool built with test-only options), as WorkerLoader#get would return it. */
export function stubOn(backend: WorkerBackend, id: string | undefined, getCode: GetCode): WorkerStub {
  return stubOf(backend.worker(id, getCode));
}

/** The live in-process worker named `id` of a loader in isolate isolation (tests that forge its sandbox's messages). */
export function liveWorkerOf(loader: WorkerLoader, id: string): unknown {
  return isolateBackendOf(loader)?.liveWorker(id);
}

/** How many named worker ids a loader in isolate isolation keeps a record for (live, starting or held by a stub). */
export function namedWorkerIdsOf(loader: WorkerLoader): number | undefined {
  return isolateBackendOf(loader)?.namedIds;
}

/** The child-process pool of a loader in process isolation. */
export function processPoolOf(loader: WorkerLoader): ProcessPool | undefined {
  const pool = shardPoolOf(loader);
  return pool instanceof ProcessPool ? pool : undefined;
}

/** The thread pool of a loader in thread isolation. */
export function threadPoolOf(loader: WorkerLoader): ThreadPool | undefined {
  const pool = shardPoolOf(loader);
  return pool instanceof ThreadPool ? pool : undefined;
}

/**
 * What a shard reports about itself (pid, environment keys, permissions, memory; a thread its
 * thread id), after a full garbage collection if `collect` is set.
 */
export async function inspectShard<P extends ProcessPool | ThreadPool>(pool: P, slot: number, options: { collect?: boolean } = {}): Promise<P extends ProcessPool ? ChildReport : ThreadReport> {
  return (await pool.debug(slot, options)) as P extends ProcessPool ? ChildReport : ThreadReport;
}

/** For tests of the host's watchdog: the shard in `slot` blocks its event loop for `ms` (at most 60 s). */
export async function stallShard(pool: ProcessPool | ThreadPool, slot: number, ms: number): Promise<void> {
  await pool.debug(slot, { stallMs: ms });
}

/** Bodies a loader's shards pull from the host (outbound responses, streamed request bodies) still open; undefined in-process. */
export function openShardBodies(loader: WorkerLoader): number | undefined {
  return shardPoolOf(loader)?.openBodies;
}

/** Worker response bodies a loader's shards keep while the host pulls them; undefined in-process. */
export async function openWorkerResponseBodies(loader: WorkerLoader): Promise<number | undefined> {
  return shardPoolOf(loader)?.openResponseBodies();
}

/**
 * What a loader's warm pool did (hits, misses, sandboxes made), summed over its shards in thread and
 * process isolation (each shard has a pool of its own); undefined when the loader has no warm pool.
 */
export async function warmPoolCountersOf(loader: WorkerLoader): Promise<PoolCounters | undefined> {
  const backend = isolateBackendOf(loader);
  if (backend !== undefined) return backend.poolCounters;
  const pool = shardPoolOf(loader);
  if (pool === undefined) return undefined;
  let total: PoolCounters | undefined;
  for (let slot = 0; slot < pool.shardCount; slot++) {
    const counters = ((await pool.debug(slot, {})) as { warmPool: PoolCounters | null }).warmPool;
    if (counters === null) continue;
    total ??= { hits: 0, bootingHits: 0, misses: 0, made: 0 };
    for (const key of Object.keys(total) as (keyof PoolCounters)[]) total[key] += counters[key];
  }
  return total;
}

/** What a loader's streaming tails have queued on the host now (events and their weighed bytes), in every isolation mode. */
export function tailStreamQueues(loader: WorkerLoader): { events: number; bytes: number } {
  const hub = isolateBackendOf(loader)?.streams ?? shardPoolOf(loader)?.streams;
  if (hub === undefined) throw new Error("no backend");
  return hub.queued;
}
