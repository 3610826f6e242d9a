// islet's side of every scenario.

import { WorkerLoader } from "../src/index.ts";
import { warmPoolCountersOf } from "../src/testing.ts";
import { COMPAT_DATE, COMPUTE_SOURCE, RPC_SOURCE, canonicalCode, greetCode } from "./fixtures.ts";
import { now, sleep, summarize, tick, type Subject } from "./stats.ts";

/** load() + first RPC answered, sequential, no pool (`canonical`: README's WorkerEntrypoint worker). */
export function isletFresh(perRound: number, canonical = false): Subject {
  let loader: WorkerLoader;
  const code = canonical ? canonicalCode() : greetCode();
  return {
    name: canonical ? "islet, canonical worker" : "islet",
    perRound,
    async setup() {
      loader = new WorkerLoader({ warmPool: 0, maxWorkers: 500 });
    },
    async sample(count) {
      const out: number[] = [];
      for (let i = 0; i < count; i++) {
        out.push(await timeFreshCall(loader, code));
      }
      return out;
    },
    async teardown() {
      await loader?.close();
    },
  };
}

/** One sample: load() + first RPC answered; the dispose that follows is not timed (as for every peer). */
export async function timeFreshCall(loader: WorkerLoader, code: ReturnType<typeof greetCode> | ReturnType<typeof canonicalCode>): Promise<number> {
  const t = now();
  const stub = loader.load(code);
  await stub.getEntrypoint().greet("x");
  const elapsed = now() - t;
  stub.dispose();
  return elapsed;
}

export interface PoolStats {
  /** Loads the pool served (its own counters: a sandbox ready, or still booting on isolated-vm's threads). */
  hits: number;
  loads: number;
  /** Per sample() call: wall time per load, pause and anything the event loop did between loads included. */
  periods: number[];
}

export const newPoolStats = (): PoolStats => ({ hits: 0, loads: 0, periods: [] });

/** "N % of M loads; X ms per load, pause included" for a row's note. */
export function poolNote(stats: PoolStats): string {
  const rate = stats.loads ? (100 * stats.hits) / stats.loads : NaN;
  const period = stats.periods.length ? summarize(stats.periods).p50 : NaN;
  return `the pool served ${rate.toFixed(0)} % of ${stats.loads} loads; ${period.toFixed(2)} ms per load from one start to the next (p50 of rounds)`;
}

/** Adds what the loader's pool did during `run` (its counters, summed over shards) to `stats`. */
export async function countPool<T>(loader: WorkerLoader, stats: PoolStats, loads: number, run: () => Promise<T>): Promise<T> {
  const before = await warmPoolCountersOf(loader);
  const start = now();
  const result = await run();
  stats.periods.push((now() - start) / loads);
  const after = await warmPoolCountersOf(loader);
  stats.loads += loads;
  if (before !== undefined && after !== undefined) stats.hits += after.hits - before.hits;
  return result;
}

/**
 * The same with warmPool: 4, pausing between loads so the pool can refill: one event-loop turn
 * (`pauseMs` 0, back to back, as the issue asks) or a timer of `pauseMs`. `canonical`: README's
 * WorkerEntrypoint worker instead of the one-method object.
 */
export function isletWarm(perRound: number, stats: PoolStats, pauseMs = 0, canonical = false): Subject {
  let loader: WorkerLoader;
  const code = canonical ? canonicalCode() : greetCode();
  return {
    name: `islet warm pool (4)${canonical ? ", canonical worker" : ""}${pauseMs ? `, ${pauseMs} ms pause` : ""}`,
    perRound,
    note: pauseMs ? `${pauseMs} ms timer between loads` : "back to back: one setImmediate turn between loads",
    async setup() {
      loader = new WorkerLoader({ warmPool: 4, maxWorkers: 500 });
      await fill(loader, 4);
    },
    async sample(count) {
      return countPool(loader, stats, count, async () => {
        const out: number[] = [];
        for (let i = 0; i < count; i++) {
          await (pauseMs ? sleep(pauseMs) : tick());
          out.push(await timeFreshCall(loader, code));
        }
        return out;
      });
    },
    async teardown() {
      await loader?.close();
    },
  };
}

async function fill(loader: WorkerLoader, size: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (loader.stats.warmSandboxes < size && Date.now() < deadline) await sleep(5);
}

/** A live worker for the RPC scenarios. */
export async function isletRpc(): Promise<{ ping(x: unknown): Promise<unknown>; echo(s: string): Promise<string>; callback(n: number, cb: (i: number) => number): Promise<number>; relay(n: number, cb: (s: string) => string, s: string): Promise<number>; close(): Promise<void> }> {
  const loader = new WorkerLoader({ maxWorkers: 10 });
  const stub = loader.get("rpc", () => ({ compatibilityDate: COMPAT_DATE, mainModule: "w.js", modules: { "w.js": RPC_SOURCE } }));
  const ep = stub.getEntrypoint() as any;
  await ep.ping(1);
  return {
    ping: (x) => ep.ping(x),
    echo: (s) => ep.echo(s),
    callback: (n, cb) => ep.callback(n, cb),
    relay: (n, cb, s) => ep.relay(n, cb, s),
    close: () => loader.close(),
  };
}

/** Fresh sandboxes per second with `concurrency` loops for `ms`; `sharded`: isolation "process" or "thread" with its shard count. */
export async function isletThroughput(concurrency: number, ms: number, warmPool = 0, sharded?: { isolation: "process"; processes: number } | { isolation: "thread"; threads: number }): Promise<number> {
  const loader = new WorkerLoader(sharded !== undefined ? { ...sharded, maxWorkers: 500 } : { warmPool, maxWorkers: 500 });
  const code = greetCode();
  try {
    if (warmPool) await fill(loader, warmPool);
    if (sharded !== undefined) for (let i = 0; i < 20; i++) await loader.load(code).getEntrypoint().greet("x"); // shards started
    let done = 0;
    const start = now();
    const end = start + ms;
    const loop = async () => {
      while (now() < end) {
        const stub = loader.load(code);
        await stub.getEntrypoint().greet("x");
        stub.dispose();
        done++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
    return done / ((now() - start) / 1000);
  } finally {
    await loader.close();
  }
}

/** The compute workload called on a live islet worker (timed from the host: frozen clocks inside). */
export function isletCompute(perRound: number): Subject {
  let loader: WorkerLoader;
  let ep: any;
  let seed = 1;
  return {
    name: "islet sandbox",
    perRound,
    async setup() {
      loader = new WorkerLoader({ maxWorkers: 10, limits: { cpuMs: 60_000, wallMs: 120_000 } });
      ep = loader.get("compute", () => ({ compatibilityDate: COMPAT_DATE, mainModule: "c.js", modules: { "c.js": COMPUTE_SOURCE } })).getEntrypoint();
      for (let i = 0; i < 3; i++) await ep.run(seed++);
    },
    async sample(count) {
      const out: number[] = [];
      for (let i = 0; i < count; i++) {
        const t = now();
        await ep.run(seed++);
        out.push(now() - t);
      }
      return out;
    },
    async teardown() {
      await loader?.close();
    },
  };
}
