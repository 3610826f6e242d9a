// `npm run bench` (quick, well under a minute) or `npm run bench -- --full`.
// Runs every scenario, prints tables, writes bench/results/<date>.json and regenerates BENCHMARKS.md.

import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { isletCompute, isletFresh, isletWarm, newPoolStats, poolNote, type PoolStats } from "./islet.ts";
import { machineInfo } from "./machine.ts";
import { isletMemory, workerdMemory, type MemoryResult } from "./memory.ts";
import { ivmFresh } from "./peers/ivm.ts";
import { childProcessFresh, plainNodeCompute, workerThreadsFresh } from "./peers/node.ts";
import { quickjsCompute, quickjsFresh } from "./peers/quickjs.ts";
import { killAllWorkerd, workerdFresh, type Workerd } from "./peers/workerd.ts";
import { printConsole, type Results, type Row, type Scenario } from "./report.ts";
import { BIG_CALLBACKS_PER_CALL, CALLBACKS_PER_CALL, rpcSubjects } from "./rpc.ts";
import { egressSubjects } from "./egress.ts";
import { FORK_MB, STORAGE_WRITES, storageFirstQuerySubjects, storageForkSubjects, storageWriteSubjects } from "./storage.ts";
import { roundRobin, summarize, type Subject } from "./stats.ts";
import { firstUseSubjects, startCostSubjects } from "./startup.ts";
import { evaluateTargets, type TargetResult } from "./targets.ts";
import { renderBenchmarks } from "./render.ts";
import { FULL_FAIRNESS, QUICK_FAIRNESS, fairnessScenarios } from "./fairness.ts";
import { FULL_SHARDED_MODE, QUICK_SHARDED_MODE, shardedModeScenarios } from "./sharded-modes.ts";
import { throughputSubjects } from "./throughput.ts";

const full = process.argv.includes("--full");
const cfg = full
  ? { rounds: 10, fresh: 60, warm: 60, workerdBatches: 6, slowThreads: 6, child: 4, rpc: 400, throughputMs: 2000, tpRounds: 2, compute: 4 }
  : { rounds: 4, fresh: 40, warm: 40, workerdBatches: 4, slowThreads: 4, child: 5, rpc: 200, throughputMs: 1000, tpRounds: 1, compute: 3 };

const root = fileURLToPath(new URL("..", import.meta.url));
const started = performance.now();
const log = (msg: string) => console.error(`[bench ${((performance.now() - started) / 1000).toFixed(1)} s] ${msg}`);

process.on("exit", killAllWorkerd);
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    killAllWorkerd();
    process.exit(130);
  });
}

const scenarios: Scenario[] = [];
const notes: string[] = [];
const machine = machineInfo();

log(`${full ? "full" : "quick"} mode`);

log("fresh sandbox");
scenarios.push({
  id: "fresh",
  title: "Fresh sandbox: load() + first RPC answered (sequential)",
  unit: "ms",
  better: "lower",
  note: "Every subject is timed from the start of load() to the first answer; each sandbox is then disposed (awaited, untimed) before the next starts. workerd loops inside its parent worker.",
  rows: await roundRobin(
    [isletFresh(cfg.fresh), ivmFresh(cfg.fresh), workerdFresh(cfg.workerdBatches), quickjsFresh(cfg.fresh), workerThreadsFresh(cfg.slowThreads), childProcessFresh(cfg.child)],
    cfg.rounds,
  ),
});

log("start cost");
scenarios.push({
  id: "start-cost",
  title: "Start cost: fresh sandbox with the web platform present but unused, against none; from the core's snapshot, against the core compiled per sandbox",
  unit: "ms",
  better: "lower",
  note: "The same load() + first answer as above (dispose untimed); only the runtime, how a new isolate gets it, or the worker differs. The first row is islet as shipped.",
  // Four times the rounds with a quarter of the samples each (the same count in all): the rows
  // differ by a few tenths of a millisecond, less than this machine drifts within a long round.
  rows: await roundRobin(startCostSubjects(Math.ceil(cfg.fresh / 4)), cfg.rounds * 4),
});
log("first use");
scenarios.push({
  id: "first-use",
  title: "First use of a lazily loaded API: fresh sandbox whose first call uses it once",
  unit: "ms",
  better: "lower",
  note: "Each row is load() + one call in a fresh sandbox (dispose untimed); the difference from the baseline row is what the first use costs, once per isolate.",
  rows: await roundRobin(firstUseSubjects(Math.ceil(cfg.fresh / 2)), cfg.rounds),
});

log("warm pool");
// Back to back (one setImmediate turn apart) and with pauses, for the one-method worker and for
// README's canonical WorkerEntrypoint worker; the pool's own counters give the hit rates.
const warmSubjects: [Subject, PoolStats | undefined][] = [];
for (const canonical of [false, true]) {
  for (const pauseMs of canonical ? [0, 2] : [0, 2, 10]) {
    const stats = newPoolStats();
    warmSubjects.push([isletWarm(pauseMs ? Math.ceil(cfg.warm / 2) : cfg.warm, stats, pauseMs, canonical), stats]);
  }
}
for (const canonical of [false, true]) warmSubjects.push([isletFresh(cfg.warm, canonical), undefined]);
const warmRows = await roundRobin(
  warmSubjects.map(([subject]) => subject),
  cfg.rounds,
);
for (const [i, [, stats]] of warmSubjects.entries()) {
  if (stats === undefined) {
    warmRows[i].name += " (no pool)";
    continue;
  }
  warmRows[i].note = `${warmRows[i].note}; ${poolNote(stats)}`;
  const hitRate = stats.loads ? stats.hits / stats.loads : NaN;
  if (!(hitRate >= 0.9)) notes.push(`Warm pool (${warmRows[i].name}): the pool served only ${(hitRate * 100).toFixed(0)} % of loads.`);
}
scenarios.push({
  id: "warm",
  title: "Warm pool (warmPool: 4): load() + first RPC answered",
  unit: "ms",
  better: "lower",
  note:
    "The target is judged on the first row (one setImmediate turn between loads). The pool makes a sandbox's isolate on the event loop (isolated-vm's constructor is synchronous; the context and the runtime's boot run on its threads) in a turn with no call in flight, so back to back it lands between loads: outside the timed window, inside the time per load the note gives.",
  rows: warmRows,
});

log("rpc");
for (const [kind, title] of [
  ["small", "RPC round trip host→sandbox, small argument"],
  ["64KB", "RPC round trip host→sandbox, 64 KB string argument and result"],
  ["callback", `Callback round trip sandbox→host (one call awaiting ${CALLBACKS_PER_CALL} host callbacks, divided)`],
  ["callback-64KB", `Callback round trip sandbox→host, 64 KB string argument and result (one call awaiting ${BIG_CALLBACKS_PER_CALL} host callbacks, divided)`],
] as const) {
  scenarios.push({ id: `rpc-${kind}`, title, unit: "µs", better: "lower", rows: await roundRobin(rpcSubjects(kind, cfg.rpc), cfg.rounds) });
}

log("egress");
scenarios.push({
  id: "egress",
  title: "Egress: one call whose sandbox makes one fetch answered by globalOutbound (live worker)",
  unit: "µs",
  better: "lower",
  note: "islet's globalOutbound is a host function returning a Response; the row without a fetch shows what the fetch adds to the call.",
  rows: await roundRobin(egressSubjects(Math.ceil(cfg.rpc / 4)), cfg.rounds),
});

log("storage");
scenarios.push(
  {
    id: "storage-first-query",
    title: "Storage: a facet's first query (a new facet answering SELECT 1)",
    unit: "ms",
    better: "lower",
    note: "The facet's worker starts, its database file is made in the storage process and its constructor runs; node:sqlite opens a new file in this process.",
    rows: await roundRobin(storageFirstQuerySubjects(Math.ceil(cfg.fresh / 4)), cfg.rounds),
  },
  {
    id: "storage-writes",
    title: `Storage: ${STORAGE_WRITES.toLocaleString("en")} small writes in one call`,
    unit: "ms",
    better: "lower",
    note: "A facet's sql.exec() blocks its isolate while the storage process runs the statement; node:sqlite runs it on this thread.",
    rows: await roundRobin(storageWriteSubjects(3), cfg.rounds),
  },
  {
    id: "storage-fork",
    title: `Storage: a fork of a ${FORK_MB} MB database`,
    unit: "ms",
    better: "lower",
    rows: await roundRobin(storageForkSubjects(3), cfg.rounds),
  },
);

log("throughput");
const shared: { workerd?: Promise<Workerd> } = {};
try {
  for (const c of [1, 2, 8]) {
    scenarios.push({
      id: `throughput-c${c}`,
      title: `Throughput: fresh sandboxes per second, concurrency ${c} (${cfg.throughputMs / 1000} s per sample)`,
      unit: "/s",
      better: "higher",
      rows: await roundRobin(throughputSubjects(c, cfg.throughputMs, shared), cfg.tpRounds, 0),
    });
  }
} finally {
  await (await shared.workerd?.catch(() => undefined))?.stop();
}

log("process and thread isolation");
scenarios.push(...(await shardedModeScenarios(full ? FULL_SHARDED_MODE : QUICK_SHARDED_MODE)));

log("fairness");
const fairness = await fairnessScenarios(full ? FULL_FAIRNESS : QUICK_FAIRNESS);
scenarios.push(...fairness.scenarios);
const extraTargets: TargetResult[] = fairness.targets;

log("compute");
scenarios.push({
  id: "compute",
  title: "Compute: JSON parse/stringify ~100 KB, regex, sort 100k numbers (one call)",
  unit: "ms",
  better: "lower",
  note: "islet is timed from the host (clocks are frozen inside the sandbox), so its figure includes one RPC round trip.",
  rows: await roundRobin([isletCompute(cfg.compute), plainNodeCompute(cfg.compute), quickjsCompute(1)], cfg.rounds),
});

log("memory");
const memRow = (m: MemoryResult): Row =>
  m.unavailable
    ? { name: m.name, unavailable: m.unavailable }
    : { name: m.name, summary: summarize([m.perWorkerMb!]), note: `RSS ${m.rssBeforeMb!.toFixed(0)} → ${m.rssAfterMb!.toFixed(0)} MB` };
const counts = [100, 1000];
const wdMem = await workerdMemory(counts);
for (const [i, count] of counts.entries()) {
  const islet = await isletMemory(count);
  scenarios.push({
    id: `memory-${count}`,
    title: `Memory: RSS per idle live worker, ${count.toLocaleString("en")} live named workers`,
    unit: "MB",
    better: "lower",
    note:
      i === 0
        ? "islet: a fresh child process per measurement, (RSS after − RSS before) / count after gc; workerd: one process, cumulative, RSS from /proc/<pid>/status."
        : undefined,
    rows: [memRow(islet), memRow(wdMem[i])],
  });
}

const durationSeconds = (performance.now() - started) / 1000;
const date = new Date();
const day = `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}-${String(date.getDate()).padStart(2, "0")}`;
const results: Results = {
  date: date.toISOString(),
  mode: full ? "full" : "quick",
  command: full ? "npm run bench -- --full" : "npm run bench",
  durationSeconds,
  machine,
  scenarios,
  targets: [...evaluateTargets(scenarios), ...extraTargets],
  notes,
};

printConsole(results);
mkdirSync(`${root}bench/results`, { recursive: true });
const jsonPath = `bench/results/${day}.json`;
writeFileSync(`${root}${jsonPath}`, JSON.stringify(results, null, 2) + "\n");
// The analysis is prose written from profiles, kept beside the generated tables.
renderBenchmarks(jsonPath, results);
log(`wrote ${jsonPath} and BENCHMARKS.md in ${durationSeconds.toFixed(1)} s`);
process.exit(0);
