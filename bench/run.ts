// `npm run bench` (quick) or `npm run bench -- --full`; `npm run bench -- --smoke` checks that
// everything runs (a few samples each, nothing written but a JSON file in the temp directory).
// Runs every scenario, prints tables, writes bench/results/<date>.json and regenerates BENCHMARKS.md.
// Issue 17's method: the headline scenarios run twice in the same interleaved rounds, on a quiet
// machine and beside a CPU hog on the other core (bench/hog.ts), and every target is judged on both.

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
import { FULL_FAIRNESS, QUICK_FAIRNESS, SMOKE_FAIRNESS, fairnessScenarios } from "./fairness.ts";
import { FULL_SHARDED_MODE, QUICK_SHARDED_MODE, SMOKE_SHARDED_MODE, shardedModeScenarios } from "./sharded-modes.ts";
import { throughputSubjects } from "./throughput.ts";
import { bothLoads, HOG_DESCRIPTION, HOG_TITLE, killAllHogs, processHog, type BothLoadsSpec } from "./hog.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";

const full = process.argv.includes("--full");
// --smoke: a few samples of everything, to check the bench runs; writes no results file and leaves
// BENCHMARKS.md alone (its figures mean nothing).
const smoke = process.argv.includes("--smoke");
// Throughput figures are the mean of at least five samples (issue 17's method); the rest as before.
const cfg = smoke
  ? { rounds: 1, fresh: 3, warm: 3, workerdBatches: 1, slowThreads: 1, child: 1, rpc: 10, throughputMs: 200, tpRounds: 1, compute: 1, storage: 1, memory: [20] }
  : full
    ? { rounds: 10, fresh: 60, warm: 60, workerdBatches: 6, slowThreads: 6, child: 4, rpc: 400, throughputMs: 2000, tpRounds: 5, compute: 4, storage: 3, memory: [100, 1000] }
    : { rounds: 4, fresh: 40, warm: 40, workerdBatches: 4, slowThreads: 4, child: 5, rpc: 200, throughputMs: 1000, tpRounds: 5, compute: 3, storage: 3, memory: [100, 1000] };

const root = fileURLToPath(new URL("..", import.meta.url));
const started = performance.now();
const log = (msg: string) => console.error(`[bench ${((performance.now() - started) / 1000).toFixed(1)} s] ${msg}`);

const hog = processHog();
process.on("exit", () => {
  killAllWorkerd();
  killAllHogs();
});
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    killAllWorkerd();
    killAllHogs();
    process.exit(130);
  });
}

const scenarios: Scenario[] = [];
const notes: string[] = [];
const machine = machineInfo();
/** Seconds each section of the run took (both conditions), to keep the bench's length in view. */
const sectionSeconds: Record<string, number> = {};
let sectionStart = performance.now();
let section = "";
const begin = (name: string) => {
  if (section) sectionSeconds[section] = (performance.now() - sectionStart) / 1000;
  section = name;
  sectionStart = performance.now();
  log(name);
};
/** Issue 17's method: the scenario quiet and beside the hog, in the same interleaved rounds. */
const both = async (spec: BothLoadsSpec) => void scenarios.push(...(await bothLoads(spec, hog)));

log(`${smoke ? "smoke" : full ? "full" : "quick"} mode`);

begin("fresh worker");
await both({
  id: "fresh",
  title: "Fresh worker: load() + first RPC answered + dispose (sequential, canonical worker)",
  unit: "ms",
  better: "lower",
  note:
    "Every subject runs README's canonical worker (a WorkerEntrypoint class importing cloudflare:workers) where it can and is timed from the start of its load to the end of its teardown: islet load() + first answer + dispose(); the bare isolated-vm floor and quickjs: isolate (runtime) + context + the plain object module + one call + dispose; worker_threads until terminate() resolved; a child process until it exited. workerd loops inside its parent worker and cannot include a teardown: its Worker Loader has no dispose for a loaded worker (workerd drops it on its own schedule). The plain-worker rows show what the import and the class cost.",
  rounds: cfg.rounds,
  subjects: () => [
    isletFresh(cfg.fresh),
    isletFresh(cfg.fresh, false),
    ivmFresh(cfg.fresh),
    workerdFresh(cfg.workerdBatches),
    workerdFresh(cfg.workerdBatches, true),
    quickjsFresh(cfg.fresh),
    workerThreadsFresh(cfg.slowThreads),
    childProcessFresh(cfg.child),
  ],
});

begin("start cost");
await both({
  id: "start-cost",
  title: "Start cost: fresh sandbox with the web platform present but unused, against none; from the core's snapshot, against the core compiled per sandbox",
  unit: "ms",
  better: "lower",
  note: "load() + first answer + dispose(), as above; only the runtime, how a new isolate gets it, or the worker differs (the first two rows run the plain object worker, the runtime without the web platform having no cloudflare:workers bridge to compare). The first row is islet as shipped.",
  // Four times the rounds with a quarter of the samples each (the same count in all): the rows
  // differ by a few tenths of a millisecond, less than this machine drifts within a long round.
  rounds: cfg.rounds * 4,
  subjects: () => startCostSubjects(Math.ceil(cfg.fresh / 4)),
});

begin("first use");
await both({
  id: "first-use",
  title: "First use of a lazily loaded API: fresh canonical worker whose first call uses it once",
  unit: "ms",
  better: "lower",
  note: "Each row is load() + one call + dispose() of a fresh canonical worker; the difference from the baseline row is what the first use costs, once per isolate.",
  rounds: cfg.rounds,
  subjects: () => firstUseSubjects(Math.ceil(cfg.fresh / 2)),
});

begin("warm pool");
// Back to back (one setImmediate turn apart) and with a pause, for README's canonical
// WorkerEntrypoint worker (the headline) and the plain object worker; the pool's own counters give
// the hit rates, per condition.
const poolStats = new Map<string, (PoolStats | undefined)[]>();
await both({
  id: "warm",
  title: "Warm pool (warmPool: 4): load() + first RPC answered + dispose",
  unit: "ms",
  better: "lower",
  note:
    "The target is judged on the first row (the canonical worker, one setImmediate turn between loads). The pool makes a sandbox's isolate on the event loop (isolated-vm's constructor is synchronous; the context and the runtime's boot run on its threads) in a turn with no call in flight, so back to back it lands between loads: outside the timed window, inside the time per load the note gives.",
  rounds: cfg.rounds,
  subjects(load) {
    const warm: [Subject, PoolStats | undefined][] = [];
    for (const [canonical, pauseMs] of [[true, 0], [true, 2], [false, 0]] as const) {
      const stats = newPoolStats();
      warm.push([isletWarm(pauseMs ? Math.ceil(cfg.warm / 2) : cfg.warm, stats, pauseMs, canonical), stats]);
    }
    for (const canonical of [true, false]) warm.push([isletFresh(cfg.warm, canonical), undefined]);
    poolStats.set(load, warm.map(([, stats]) => stats));
    return warm.map(([subject]) => subject);
  },
  finish(rows, load) {
    for (const [i, stats] of poolStats.get(load)!.entries()) {
      if (stats === undefined) {
        rows[i].name += " (no pool)";
        continue;
      }
      rows[i].note = `${rows[i].note}; ${poolNote(stats)}`;
      const hitRate = stats.loads ? stats.hits / stats.loads : NaN;
      if (!(hitRate >= 0.9)) notes.push(`Warm pool (${rows[i].name}${load === "hog" ? `, ${HOG_TITLE}` : ""}): the pool served only ${(hitRate * 100).toFixed(0)} % of loads.`);
    }
  },
});

begin("rpc");
for (const [kind, title] of [
  ["small", "RPC round trip host→sandbox, small argument"],
  ["64KB", "RPC round trip host→sandbox, 64 KB string argument and result"],
  ["callback", `Callback round trip sandbox→host (one call awaiting ${CALLBACKS_PER_CALL} host callbacks, divided)`],
  ["callback-64KB", `Callback round trip sandbox→host, 64 KB string argument and result (one call awaiting ${BIG_CALLBACKS_PER_CALL} host callbacks, divided)`],
] as const) {
  await both({ id: `rpc-${kind}`, title, unit: "µs", better: "lower", rounds: cfg.rounds, subjects: () => rpcSubjects(kind, cfg.rpc) });
}

begin("egress");
await both({
  id: "egress",
  title: "Egress: one call whose sandbox makes one fetch answered by globalOutbound (live canonical worker)",
  unit: "µs",
  better: "lower",
  note: "islet's globalOutbound is a host function returning a Response; the row without a fetch shows what the fetch adds to the call.",
  rounds: cfg.rounds,
  subjects: () => egressSubjects(Math.ceil(cfg.rpc / 4)),
});

begin("storage (quiet only)");
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
    rows: await roundRobin(storageWriteSubjects(cfg.storage), cfg.rounds),
  },
  {
    id: "storage-fork",
    title: `Storage: a fork of a ${FORK_MB} MB database`,
    unit: "ms",
    better: "lower",
    rows: await roundRobin(storageForkSubjects(cfg.storage), cfg.rounds),
  },
);

begin("throughput");
const shared: { workerd?: Promise<Workerd> } = {};
try {
  for (const c of [1, 2, 8]) {
    await both({
      id: `throughput-c${c}`,
      title: `Throughput: fresh canonical workers per second (load + first RPC + dispose), concurrency ${c} (${cfg.throughputMs / 1000} s per sample)`,
      unit: "/s",
      better: "higher",
      rounds: cfg.tpRounds,
      warmupRounds: 0,
      subjects: () => throughputSubjects(c, cfg.throughputMs, shared),
    });
  }
} finally {
  await (await shared.workerd?.catch(() => undefined))?.stop();
}

begin("process and thread isolation (quiet only)");
scenarios.push(...(await shardedModeScenarios(smoke ? SMOKE_SHARDED_MODE : full ? FULL_SHARDED_MODE : QUICK_SHARDED_MODE)));

begin("fairness (its own spinner and control)");
const fairness = await fairnessScenarios(smoke ? SMOKE_FAIRNESS : full ? FULL_FAIRNESS : QUICK_FAIRNESS);
scenarios.push(...fairness.scenarios);
const extraTargets: TargetResult[] = fairness.targets;

begin("compute");
await both({
  id: "compute",
  title: "Compute: JSON parse/stringify ~100 KB, regex, sort 100k numbers (one call)",
  unit: "ms",
  better: "lower",
  note: "islet is timed from the host (clocks are frozen inside the sandbox), so its figure includes one RPC round trip.",
  rounds: cfg.rounds,
  subjects: () => [isletCompute(cfg.compute), plainNodeCompute(cfg.compute), quickjsCompute(1)],
});
await hog.close();

begin("memory (quiet only: RSS does not depend on a busy core)");
const memRow = (m: MemoryResult): Row =>
  m.unavailable
    ? { name: m.name, unavailable: m.unavailable }
    : { name: m.name, summary: summarize([m.perWorkerMb!]), note: `RSS ${m.rssBeforeMb!.toFixed(0)} → ${m.rssAfterMb!.toFixed(0)} MB` };
const counts = cfg.memory;
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
        ? "The canonical worker. islet: a fresh child process per measurement, (RSS after − RSS before) / count after gc; workerd: one process, cumulative, RSS from /proc/<pid>/status."
        : undefined,
    rows: [memRow(islet), memRow(wdMem[i])],
  });
}

begin("");
const durationSeconds = (performance.now() - started) / 1000;
const date = new Date();
const day = `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}-${String(date.getDate()).padStart(2, "0")}`;
const results: Results = {
  date: date.toISOString(),
  mode: full ? "full" : "quick",
  hog: HOG_DESCRIPTION,
  sectionSeconds,
  command: full ? "npm run bench -- --full" : "npm run bench",
  durationSeconds,
  machine,
  scenarios,
  targets: [...evaluateTargets(scenarios), ...extraTargets],
  notes,
};

printConsole(results);
console.error(`sections (s): ${Object.entries(sectionSeconds).map(([name, seconds]) => `${name} ${seconds.toFixed(0)}`).join("; ")}`);
if (smoke) {
  const path = join(tmpdir(), "islet-bench-smoke.json");
  writeFileSync(path, JSON.stringify(results, null, 2) + "\n");
  log(`smoke run: wrote ${path} only (no bench/results file, BENCHMARKS.md untouched) in ${durationSeconds.toFixed(1)} s`);
  process.exit(0);
}
mkdirSync(`${root}bench/results`, { recursive: true });
const jsonPath = `bench/results/${day}.json`;
writeFileSync(`${root}${jsonPath}`, JSON.stringify(results, null, 2) + "\n");
// The analysis is prose written from profiles, kept beside the generated tables.
renderBenchmarks(jsonPath, results);
log(`wrote ${jsonPath} and BENCHMARKS.md in ${durationSeconds.toFixed(1)} s`);
process.exit(0);
