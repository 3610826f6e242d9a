// islet's side of every scenario.

import { WorkerLoader } from "../src/index.ts";
import { warmPoolCountersOf } from "../src/testing.ts";
import { COMPAT_DATE, COMPUTE_SOURCE, RPC_CANONICAL_SOURCE, RPC_SOURCE, canonicalCode, greetCode, type WorkerCode } from "./fixtures.ts";
import { now, sleep, summarize, tick, type Subject } from "./stats.ts";

/** The name of a row measuring the plain object worker beside the canonical one. */
export const PLAIN_WORKER = "plain object worker (no cloudflare:workers import)";

/** load() + first RPC answered + dispose, sequential, no pool (`canonical`: README's WorkerEntrypoint worker, the headline). */
export function isletFresh(perRound: number, canonical = true): Subject {
  let loader: WorkerLoader;
  const code = canonical ? canonicalCode() : greetCode();
  return {
    name: canonical ? "islet" : `islet, ${PLAIN_WORKER}`,
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

/**
 * One sample: load() + first RPC answered + dispose(), all timed: issue 17's method ("the dispose
 * inside the timed region: it is what a user pays per request"); every peer times its own teardown.
 */
export async function timeFreshCall(loader: Pick<WorkerLoader, "load">, code: WorkerCode): Promise<number> {
  const t = now();
  const stub = loader.load(code);
  const answer = await (stub.getEntrypoint() as any).greet("x");
  stub.dispose();
  const elapsed = now() - t;
  if (answer !== "hi x") throw new Error(`islet: unexpected answer ${answer}`);
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
export function isletWarm(perRound: number, stats: PoolStats, pauseMs = 0, canonical = true): Subject {
  let loader: WorkerLoader;
  const code = canonical ? canonicalCode() : greetCode();
  return {
    name: `islet warm pool (4)${canonical ? "" : `, ${PLAIN_WORKER}`}${pauseMs ? `, ${pauseMs} ms pause` : ""}`,
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

/** A live worker for the RPC scenarios (`canonical`: the WorkerEntrypoint class, the headline). */
export async function isletRpc(canonical = true): Promise<{ ping(x: unknown): Promise<unknown>; echo(s: string): Promise<string>; callback(n: number, cb: (i: number) => number): Promise<number>; relay(n: number, cb: (s: string) => string, s: string): Promise<number>; close(): Promise<void> }> {
  const loader = new WorkerLoader({ maxWorkers: 10 });
  const stub = loader.get("rpc", () => ({ compatibilityDate: COMPAT_DATE, mainModule: "w.js", modules: { "w.js": canonical ? RPC_CANONICAL_SOURCE : RPC_SOURCE } }));
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

export type Sharding = { isolation: "process"; processes: number } | { isolation: "thread"; threads: number };

/**
 * Fresh canonical workers per second (load + first RPC + dispose each) with `concurrency` loops for
 * `ms` on one loader opened in setup (its shards started and warm) and closed in teardown, so a
 * sample is the loop alone; `sharded`: isolation "process" or "thread" with its shard count.
 */
export function isletThroughputSubject(name: string, concurrency: number, ms: number, sharded?: Sharding, note?: string): Subject {
  let loader: WorkerLoader;
  return {
    name,
    perRound: 1,
    note,
    async setup() {
      loader = new WorkerLoader(sharded !== undefined ? { ...sharded, maxWorkers: 500 } : { warmPool: 0, maxWorkers: 500 });
      for (let i = 0; i < 20; i++) await timeFreshCall(loader, canonicalCode()); // shards started, code cached
    },
    sample: async () => [await throughputLoop(loader, concurrency, ms)],
    async teardown() {
      await loader?.close();
    },
  };
}

async function throughputLoop(loader: WorkerLoader, concurrency: number, ms: number): Promise<number> {
  const code = canonicalCode();
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
