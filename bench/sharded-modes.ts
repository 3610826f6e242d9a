// What isolation "process" and "thread" cost over in-process isolates, with the canonical
// WorkerEntrypoint worker: a fresh sandbox (load() + first call answered + dispose), the warm pool back to back, and RPC round trips on a live worker, both
// directions. `shardedModeScenarios` is what bench/run.ts calls;
// `node --import tsx bench/sharded-modes.ts [--full]` runs it on its own.

import { fileURLToPath } from "node:url";
import { WorkerLoader } from "../src/index.ts";
import { canonicalCode, RPC_CANONICAL_SOURCE, COMPAT_DATE } from "./fixtures.ts";
import type { Scenario } from "./report.ts";
import { countPool, newPoolStats, poolNote, timeFreshCall, type PoolStats } from "./islet.ts";
import { now, repeatedCalls, roundRobin, tick, type Subject } from "./stats.ts";

export const SHARDS = 2;
const CALLBACKS_PER_CALL = 100;

const modes = [
  { name: "islet", options: {} },
  { name: "islet, isolation: process", options: { isolation: "process", processes: SHARDS } },
  { name: "islet, isolation: thread", options: { isolation: "thread", threads: SHARDS } },
] as const;

type Mode = (typeof modes)[number];

/** `warmPool`: loads one setImmediate turn apart from a pool of that size (in-process on the host's loop, else each shard's share on its own thread), counted in `stats`. */
function freshSubject(mode: Mode, perRound: number, warmPool = 0, stats: PoolStats = newPoolStats()): Subject {
  let loader: WorkerLoader;
  const code = canonicalCode();
  return {
    name: warmPool > 0 ? `${mode.name}, warm pool (${warmPool})` : mode.name,
    perRound,
    note: warmPool > 0 ? "one setImmediate turn between loads" : undefined,
    async setup() {
      loader = new WorkerLoader({ ...mode.options, warmPool });
      // Shards started and warm: the cost of a process's or thread's own start is not a sandbox's.
      for (let i = 0; i < 10; i++) await timeFreshCall(loader, code);
      if (warmPool > 0) await new Promise((resolve) => setTimeout(resolve, 200));
    },
    async sample(count) {
      const run = async () => {
        const out: number[] = [];
        for (let i = 0; i < count; i++) {
          if (warmPool > 0) await tick();
          out.push(await timeFreshCall(loader, code));
        }
        return out;
      };
      return warmPool > 0 ? countPool(loader, stats, count, run) : run();
    },
    async teardown() {
      await loader?.close();
    },
  };
}

function rpcSubject(mode: Mode, kind: "small" | "callback", perRound: number): Subject {
  let loader: WorkerLoader;
  let ep: any;
  const cb = (i: number) => i + 1;
  const once = async (): Promise<number> => {
    if (kind === "callback") {
      const t = now();
      const sum = await ep.callback(CALLBACKS_PER_CALL, cb);
      if (sum !== (CALLBACKS_PER_CALL * (CALLBACKS_PER_CALL + 1)) / 2) throw new Error(`wrong callback sum ${sum}`);
      return ((now() - t) * 1000) / CALLBACKS_PER_CALL;
    }
    const t = now();
    await ep.ping({ a: 1, b: "two" });
    return (now() - t) * 1000;
  };
  return repeatedCalls({
    name: mode.name,
    perRound,
    note: kind === "callback" ? `one call awaiting ${CALLBACKS_PER_CALL} host callbacks, divided` : undefined,
    warmups: 50,
    async open() {
      loader = new WorkerLoader({ ...mode.options });
      ep = loader.get("rpc", () => ({ compatibilityDate: COMPAT_DATE, mainModule: "w.js", modules: { "w.js": RPC_CANONICAL_SOURCE } })).getEntrypoint();
    },
    once,
    close: async () => void (await loader?.close()),
  });
}

export interface ShardedModeConfig {
  rounds: number;
  fresh: number;
  rpc: number;
}

export const QUICK_SHARDED_MODE: ShardedModeConfig = { rounds: 4, fresh: 40, rpc: 200 };
export const FULL_SHARDED_MODE: ShardedModeConfig = { rounds: 10, fresh: 60, rpc: 400 };
/** `npm run bench -- --smoke`: runs, measures nothing worth reading. */
export const SMOKE_SHARDED_MODE: ShardedModeConfig = { rounds: 1, fresh: 3, rpc: 10 };

export async function shardedModeScenarios(cfg: ShardedModeConfig = QUICK_SHARDED_MODE): Promise<Scenario[]> {
  const note = `${SHARDS} child processes or worker threads; the ratio column is in-process / sharded (below 1: the sharded mode is slower).`;
  const warm = modes.map(() => newPoolStats());
  const freshRows = await roundRobin([...modes.map((m) => freshSubject(m, cfg.fresh)), ...modes.map((m, i) => freshSubject(m, cfg.fresh, 4, warm[i]))], cfg.rounds);
  for (const [i, stats] of warm.entries()) {
    const row = freshRows[modes.length + i];
    row.note = `${row.note}; ${poolNote(stats)}`;
  }
  return [
    {
      id: "process-fresh",
      title: "Process and thread isolation overhead: fresh canonical worker, load() + first RPC answered + dispose (sequential)",
      unit: "ms",
      better: "lower",
      note: `${note} Each sample includes the dispose; shard start-up is excluded (the pool starts its shards once). The warm-pool rows load back to back, one setImmediate turn apart: in-process the pool refills on the host's thread in a turn with no call in flight (between loads); in process and thread mode each shard refills its share (2 each) on its own thread the same way.`,
      rows: freshRows,
    },
    {
      id: "process-rpc",
      title: "Process and thread isolation overhead: RPC round trip host→sandbox, small argument (live worker)",
      unit: "µs",
      better: "lower",
      note,
      rows: await roundRobin(modes.map((m) => rpcSubject(m, "small", cfg.rpc)), cfg.rounds),
    },
    {
      id: "process-callback",
      title: `Process and thread isolation overhead: callback round trip sandbox→host (one call awaiting ${CALLBACKS_PER_CALL} host callbacks, divided)`,
      unit: "µs",
      better: "lower",
      note,
      rows: await roundRobin(modes.map((m) => rpcSubject(m, "callback", Math.max(2, Math.round(cfg.rpc / 20)))), cfg.rounds),
    },
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const scenarios = await shardedModeScenarios(process.argv.includes("--full") ? FULL_SHARDED_MODE : QUICK_SHARDED_MODE);
  for (const s of scenarios) {
    console.log(`\n${s.title} [${s.unit}]`);
    const base = s.rows[0].summary;
    for (const r of s.rows) {
      if (r.summary === undefined) console.log(`  ${r.name}: unavailable (${r.unavailable})`);
      else console.log(`  ${r.name.padEnd(44)} p50 ${r.summary.p50.toFixed(3)}  p99 ${r.summary.p99.toFixed(3)}  n ${r.summary.n}${r === s.rows[0] || !base ? "" : `  × ${(r.summary.p50 / base.p50).toFixed(2)} (p50), × ${(r.summary.p99 / base.p99).toFixed(2)} (p99)`}`);
    }
  }
}
