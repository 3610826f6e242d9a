// What the host derives from worker code (TypeScript transpiled, async functions lowered, the
// require() calls of CommonJS found) is esbuild's work, run through its asynchronous API: in
// esbuild's own service process, so the host's event loop stays free while it runs (a 14.5 MB
// module held it 8–10 s when the host waited synchronously: findings16/04). Each job still takes
// that process's CPU and a copy of the code, so at most ESBUILD_CONCURRENCY jobs run there at once;
// the rest wait here, first come first served, holding nothing but what their callers already hold.

import { availableParallelism } from "node:os";

/** Jobs esbuild's process runs at once: the host's cores, at least 1 and at most 4. */
export const ESBUILD_CONCURRENCY = Math.max(1, Math.min(4, availableParallelism()));

let running = 0;
const waiting: (() => void)[] = [];

/** Jobs running and waiting now, and the most that ever ran at once (for tests). */
export const esbuildQueueStats = {
  peakRunning: 0,
  get running(): number {
    return running;
  },
  get waiting(): number {
    return waiting.length;
  },
};

/** Runs `job` (a call of esbuild's asynchronous API) once fewer than ESBUILD_CONCURRENCY others run. */
export async function esbuildJob<T>(job: () => Promise<T>): Promise<T> {
  if (running < ESBUILD_CONCURRENCY) running++;
  else await new Promise<void>((resolve) => waiting.push(resolve));
  esbuildQueueStats.peakRunning = Math.max(esbuildQueueStats.peakRunning, running);
  try {
    return await job();
  } finally {
    // The slot passes to the next waiter as it is (running stays the same), or is given back.
    const next = waiting.shift();
    if (next !== undefined) next();
    else running--;
  }
}
