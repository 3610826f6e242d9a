// islet's side of every scenario.

import { WorkerLoader } from "../src/index.ts";
import { COMPAT_DATE, COMPUTE_SOURCE, RPC_SOURCE, greetCode } from "./fixtures.ts";
import { now, sleep, tick, type Subject } from "./stats.ts";

/** load() + first RPC answered, sequential, no pool. */
export function isletFresh(perRound: number): Subject {
  let loader: WorkerLoader;
  const code = greetCode();
  return {
    name: "islet",
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
export async function timeFreshCall(loader: WorkerLoader, code: ReturnType<typeof greetCode>): Promise<number> {
  const t = now();
  const stub = loader.load(code);
  await stub.getEntrypoint().greet("x");
  const elapsed = now() - t;
  stub.dispose();
  return elapsed;
}

export interface PoolStats {
  /** Loads that found a warm sandbox waiting. */
  hits: number;
  loads: number;
}

/**
 * The same with warmPool: 4, pausing between loads so the pool refills: one event-loop turn
 * (`pauseMs` 0, as the issue asks) or a timer of `pauseMs`.
 */
export function isletWarm(perRound: number, stats: PoolStats, pauseMs = 0): Subject {
  let loader: WorkerLoader;
  const code = greetCode();
  return {
    name: pauseMs ? `islet warm pool (4), ${pauseMs} ms pause` : "islet warm pool (4)",
    perRound,
    note: pauseMs ? `${pauseMs} ms timer between loads` : "one setImmediate turn between loads",
    async setup() {
      loader = new WorkerLoader({ warmPool: 4, maxWorkers: 500 });
      await fill(loader, 4);
    },
    async sample(count) {
      const out: number[] = [];
      for (let i = 0; i < count; i++) {
        await (pauseMs ? sleep(pauseMs) : tick());
        stats.loads++;
        if (loader.stats.warmSandboxes > 0) stats.hits++;
        out.push(await timeFreshCall(loader, code));
      }
      return out;
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
