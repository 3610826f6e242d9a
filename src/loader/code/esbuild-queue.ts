// What the host derives from worker code (TypeScript transpiled, async functions lowered, the
// require() calls of CommonJS found) is esbuild's work, run through its asynchronous API: in
// esbuild's own service process, so the host's event loop stays free while it runs (a 14.5 MB
// module held it 8–10 s when the host waited synchronously: findings16/04). Each job still takes
// that process's CPU and a copy of the code, so at most ESBUILD_CONCURRENCY jobs run there at once;
// the rest wait here, first come first served.
//
// A waiting job keeps its load waiting, and the load keeps its code in memory. `islet serve` bounds
// how many loads wait by its call slots; a plain WorkerLoader bounds them here: each loader has a
// PreparationBudget (its `maxQueuedPreparations` and `maxQueuedPreparationBytes` options), and a
// job that would take its loader past either fails at once with a WorkerCodeError instead of
// waiting. Jobs asked for without a loader (Code Mode preparing a model's code before it has one)
// share one process-wide budget with the defaults.

import { availableParallelism } from "node:os";
import { WorkerCodeError } from "../../errors.ts";

/** Jobs esbuild's process runs at once: the host's cores, at least 1 and at most 4. */
export const ESBUILD_CONCURRENCY = Math.max(1, Math.min(4, availableParallelism()));

/** Loads one loader may have waiting for esbuild by default. */
export const DEFAULT_MAX_QUEUED_PREPARATIONS = 1_000;
/** Bytes of code (each waiting load's whole WorkerCode) one loader may have waiting by default: two of the largest WorkerCodes. */
export const DEFAULT_MAX_QUEUED_PREPARATION_BYTES = 128 * 1024 * 1024;

/** What one loader may leave waiting in the queue, and what it has waiting now. */
export class PreparationBudget {
  /** Jobs waiting now, charged to this budget. */
  waiting = 0;
  /** The bytes those jobs' loads hold. */
  waitingBytes = 0;
  /** Jobs refused so far (for tests and monitoring). */
  refused = 0;

  constructor(
    readonly maxJobs: number = DEFAULT_MAX_QUEUED_PREPARATIONS,
    readonly maxBytes: number = DEFAULT_MAX_QUEUED_PREPARATION_BYTES,
  ) {}
}

/** Whose budget a job waits on (default: the process's), and how many bytes its load holds while it waits. */
export interface PreparationTicket {
  budget?: PreparationBudget;
  bytes: number;
}

/** The budget of jobs asked for without a loader's (shared by the whole process). */
export const processPreparationBudget = new PreparationBudget();

let running = 0;
const waiting: (() => void)[] = [];
let waitingBytes = 0;
const refusals = new WeakSet<object>();

/** Jobs running and waiting now, the bytes of code the waiting ones' loads hold, and the most jobs that ever ran at once (for tests). */
export const esbuildQueueStats = {
  peakRunning: 0,
  get running(): number {
    return running;
  },
  get waiting(): number {
    return waiting.length;
  },
  get waitingBytes(): number {
    return waitingBytes;
  },
};

/** Whether `error` is the queue's refusal of a job (a WorkerCodeError not about the code). */
export function isPreparationRefusal(error: unknown): boolean {
  return typeof error === "object" && error !== null && refusals.has(error);
}

/**
 * Runs `job` (a call of esbuild's asynchronous API) once fewer than ESBUILD_CONCURRENCY others run.
 * When it must wait and its ticket's budget has no room (a load waiting alone always has room),
 * it is refused at once: a WorkerCodeError, and `job` never runs.
 */
export async function esbuildJob<T>(job: () => Promise<T>, ticket: PreparationTicket): Promise<T> {
  if (running < ESBUILD_CONCURRENCY) running++;
  else {
    const budget = ticket.budget ?? processPreparationBudget;
    const bytes = ticket.bytes;
    if (budget.waiting > 0 && (budget.waiting + 1 > budget.maxJobs || budget.waitingBytes + bytes > budget.maxBytes)) {
      budget.refused++;
      const error = new WorkerCodeError(
        `the queue for code preparation is full: ${budget.waiting} loads wait for esbuild, holding ${budget.waitingBytes} bytes of code (at most ${budget.maxJobs} loads and ${budget.maxBytes} bytes: the loader's maxQueuedPreparations and maxQueuedPreparationBytes). Nothing of this load ran; retry once earlier loads have started.`,
      );
      refusals.add(error);
      throw error;
    }
    budget.waiting++;
    budget.waitingBytes += bytes;
    waitingBytes += bytes;
    try {
      await new Promise<void>((resolve) => waiting.push(resolve));
    } finally {
      budget.waiting--;
      budget.waitingBytes -= bytes;
      waitingBytes -= bytes;
    }
  }
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
