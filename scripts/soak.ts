// `npm run soak`: a mixed good and hostile workload at a steady concurrency for a while (default 5
// minutes), then a verdict. Good calls: RPC, fetch handlers and host callbacks on named workers that
// are reused, fresh workers loaded and disposed. Hostile calls: CPU spins, memory bombs, promises
// that never settle, throws, huge results, log floods. Every call must end in an answer or a named
// error (a call still unanswered after --call-timeout is lost); nothing may grow without bound: RSS
// and the live JS heaps (after a full collection; the children's too in process isolation) after
// warm-up, open handles and live workers must come back to their baselines. Exit code 1 when any
// of that fails. Progress goes to stderr, the report (JSON) to stdout.

import { runInNewContext } from "node:vm";
import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { RpcTarget, WorkerLoader, type WorkerCode, type WorkerStub } from "../src/index.ts";
import { inspectShard, processPoolOf } from "../src/testing.ts";

const usage = `npm run soak -- [options]

Options:
  --seconds <n>        how long the workload runs (default 300, or SOAK_SECONDS)
  --concurrency <n>    calls in flight at all times (default 8)
  --isolation <mode>   isolate (default) or process
  --processes <n>      child processes in process isolation (default 2)
  --call-timeout <s>   a call unanswered this long counts as lost (default 60)
  --inject-hang        self-check: add calls that never answer, to see them counted as lost
  -h, --help           show this help`;

export interface SoakOptions {
  seconds: number;
  concurrency: number;
  isolation: "isolate" | "process";
  processes: number;
  callTimeoutMs: number;
  /** Self-check: mixes in calls whose host capability never answers; they must be reported lost. */
  injectHang?: boolean;
  /** Progress lines (stderr by default). */
  log?: (line: string) => void;
}

interface Sample {
  t: number;
  rssMb: number;
  /** Every child process's RSS added up (process isolation on Linux). */
  childRssMb: number;
  /** Every child process's JS heap after a full collection, added up (process isolation). */
  childHeapMb: number;
  heapUsedMb: number;
  handles: number;
  liveWorkers: number;
  calls: number;
}

export interface SoakReport {
  isolation: "isolate" | "process";
  seconds: number;
  concurrency: number;
  calls: number;
  callsPerSecond: number;
  /** Per task, how its calls ended: "ok" or the error's name. */
  outcomes: Record<string, Record<string, number>>;
  /** Over all tasks, by outcome. */
  byOutcome: Record<string, number>;
  lost: number;
  unexpected: { task: string; outcome: string; count: number }[];
  /** Errors whose class is not one of islet's named errors (nor the hostile code's own). */
  unnamed: number;
  start: { rssMb: number; childRssMb: number; handles: Record<string, number>; liveWorkers: number };
  end: { rssMb: number; childRssMb: number; handles: Record<string, number>; liveWorkers: number; afterCloseHandles: Record<string, number> };
  /** RSS (this process and its children) after warm-up against the end; judged only on runs of MIN_RSS_VERDICT_SECONDS or more. */
  rss: { warmMb: number; finalMb: number; growthMb: number; toleranceMb: number; judged: boolean };
  /** The JS heaps (this process and its children) after a full collection, the same windows: the sharpest leak signal. */
  heap: { warmMb: number; finalMb: number; growthMb: number; toleranceMb: number; judged: boolean };
  processes?: { alive: number; restarts: number };
  samples: Sample[];
  failures: string[];
  ok: boolean;
}

const date = "2026-11-01";
const code = (source: string, extra: Partial<WorkerCode> = {}): WorkerCode => ({ compatibilityDate: date, mainModule: "w.js", modules: { "w.js": source }, ...extra });

const GOOD = code(`
  import { WorkerEntrypoint } from "cloudflare:workers";
  let calls = 0;
  export default class extends WorkerEntrypoint {
    add(a, b) { calls++; return { sum: a + b, calls }; }
    async viaHost(n) { let acc = 0; for (let i = 0; i < n; i++) acc += await this.env.host.twice(i); return acc; }
    async fetch(request) { return new Response(JSON.stringify({ path: new URL(request.url).pathname, calls: ++calls }), { headers: { "content-type": "application/json" } }); }
  }`);

const HOSTILE = code(
  `export default {
    spin() { while (true) {} },
    bomb() { const keep = []; while (true) keep.push(new Array(1e5).fill(Math.random())); },
    forever() { return new Promise(() => {}); },
    fail() { class HostileError extends Error { constructor(m) { super(m); this.name = "HostileError"; } } throw new HostileError("as planned"); },
    huge(mb) { return "x".repeat(mb * 1024 * 1024); },
    flood(n) { for (let i = 0; i < n; i++) console.log("flood", i); return n; },
  };`,
  { limits: { memoryMb: 32 } },
);

class Host extends RpcTarget {
  twice(x: number): number {
    return x * 2;
  }
}

/** Errors the soak accepts as named: islet's own classes and the one the hostile code throws. */
const NAMED = new Set([
  "CpuLimitError",
  "MemoryLimitError",
  "WallTimeLimitError",
  "SubrequestLimitError",
  "WorkerCodeError",
  "WorkerDisposedError",
  "SandboxProcessError",
  "StubDisposedError",
  "DataCloneError",
  "OutboundError",
  "HostileError",
]);

interface Task {
  name: string;
  weight: number;
  expect: string;
  run(ctx: Context): Promise<unknown>;
}

interface Context {
  loader: WorkerLoader;
  named: WorkerStub[];
  pick<T>(items: T[]): T;
}

const HUGE_MB = 4;

/**
 * Heaps, isolated-vm's allocations and malloc's arenas grow for the first tens of seconds of a busy
 * run before they level off (about 10 s in-process, 15-20 s with child processes on a 2-core
 * machine), so shorter runs cannot tell growth from a leak.
 */
export const MIN_RSS_VERDICT_SECONDS = 60;

const tasks: Task[] = [
  { name: "rpc", weight: 30, expect: "ok", run: (c) => (c.pick(c.named).getEntrypoint() as any).add(1, 2) },
  { name: "fetch", weight: 15, expect: "ok", run: async (c) => (await c.pick(c.named).getEntrypoint().fetch("https://soak.example/path")).json() },
  { name: "callback", weight: 10, expect: "ok", run: (c) => (c.pick(c.named).getEntrypoint() as any).viaHost(5) },
  { name: "fresh", weight: 15, expect: "ok", run: (c) => once(c.loader.load({ ...GOOD, env: { host: new Host() } }), (ep) => ep.add(2, 3)) },
  { name: "spin", weight: 5, expect: "CpuLimitError", run: (c) => once(c.loader.load(HOSTILE), (ep) => ep.spin(), { cpuMs: 50 }) },
  { name: "memory-bomb", weight: 3, expect: "MemoryLimitError", run: (c) => once(c.loader.load(HOSTILE), (ep) => ep.bomb(), { cpuMs: 5_000 }) },
  { name: "infinite-async", weight: 4, expect: "WallTimeLimitError", run: (c) => once(c.loader.load(HOSTILE), (ep) => ep.forever(), { wallMs: 100 }) },
  { name: "throw", weight: 6, expect: "HostileError", run: (c) => once(c.loader.load(HOSTILE), (ep) => ep.fail()) },
  { name: "huge-result", weight: 3, expect: "ok", run: (c) => once(c.loader.load(HOSTILE), async (ep) => (await ep.huge(HUGE_MB)).length) },
  { name: "log-flood", weight: 4, expect: "ok", run: (c) => once(c.loader.load(HOSTILE), (ep) => ep.flood(5_000)) },
];

/** One call on a fresh worker, which is disposed afterwards whatever happened. */
async function once(stub: WorkerStub, call: (ep: any) => Promise<unknown>, limits?: { cpuMs?: number; wallMs?: number }): Promise<unknown> {
  try {
    return await call(stub.getEntrypoint(null, { limits }));
  } finally {
    stub.dispose();
  }
}

const round = (value: number) => Math.round(value * 10) / 10;

function mb(bytes: number): number {
  return round(bytes / 1024 / 1024);
}

function handleCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** The RSS of the children (Linux /proc; 0 elsewhere). */
function childRss(loader: WorkerLoader): number {
  let bytes = 0;
  for (const pid of processPoolOf(loader)?.pids ?? []) {
    if (pid === undefined) continue;
    try {
      const pages = Number(readFileSync(`/proc/${pid}/statm`, "utf8").split(" ")[1]);
      bytes += pages * 4096;
    } catch {
      // Gone or not Linux.
    }
  }
  return mb(bytes);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor(sorted.length / 2)];
}

function collectGarbage(): void {
  try {
    setFlagsFromString("--expose-gc");
    (runInNewContext("gc") as () => void)();
  } catch {
    // Without a manual collection the RSS figures are just noisier.
  }
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + "\n"));
  collectGarbage();
  const startHandles = handleCounts();
  const loader = new WorkerLoader({
    isolation: options.isolation,
    ...(options.isolation === "process" ? { processes: options.processes } : {}),
    // A call's limits only lower these: the memory bomb's cpuMs of 5,000 needs room here (V8 13.6
    // spends about a second in back-to-back collections before a small heap gives up).
    limits: { cpuMs: 5_000, wallMs: 10_000 },
    // Anonymous workers are disposed after their call; named ones are a fixed set.
    idleTimeoutMs: 60_000,
    tails: [() => {}],
  });
  const host = new Host();
  const named = Array.from({ length: 10 }, (_, i) => loader.get(`named-${i}`, () => ({ ...GOOD, env: { host } })));
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const ctx: Context = { loader, named, pick: (items) => items[Math.floor(random() * items.length)] };
  const never = () => new Promise<never>(() => {});
  const hang: Task = { name: "injected-hang", weight: 5, expect: "ok", run: () => once(loader.load({ ...GOOD, env: { host: { twice: never } } }), (ep) => ep.viaHost(1)) };
  const mix = options.injectHang ? [hang, ...tasks] : tasks;
  const weights = mix.reduce((sum, t) => sum + t.weight, 0);
  // Every kind runs once first, so even a short soak on a loaded machine covers the whole mix;
  // then kinds are drawn by weight. The injected hang leads the first round: a loaded machine may
  // reach the end of a short run before the round does, and a self-check that never hangs passes.
  const firstRound = [...mix];
  const pickTask = () => {
    const next = firstRound.shift();
    if (next !== undefined) return next;
    let r = random() * weights;
    for (const task of mix) if ((r -= task.weight) < 0) return task;
    return mix[0];
  };

  const outcomes: Record<string, Record<string, number>> = {};
  let calls = 0;
  let lost = 0;
  let unnamed = 0;
  const count = (task: string, outcome: string) => {
    const byTask = (outcomes[task] ??= {});
    byTask[outcome] = (byTask[outcome] ?? 0) + 1;
  };

  /** One call, raced against the call timeout: it ends in an answer, a named error, or is lost. */
  const call = async (task: Task): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"lost">((resolve) => (timer = setTimeout(() => resolve("lost"), options.callTimeoutMs)));
    const outcome = await Promise.race([
      task.run(ctx).then(
        () => "ok",
        (error: unknown) => {
          const name = error instanceof Error ? error.name : typeof error;
          if (!NAMED.has(name)) {
            unnamed++;
            log(`soak: unnamed error from ${task.name}: ${error instanceof Error ? error.stack : String(error)}`);
          }
          return name;
        },
      ),
      timeout,
    ]);
    clearTimeout(timer);
    calls++;
    if (outcome === "lost") lost++;
    count(task.name, outcome);
  };

  // Warm-up: every named worker started, so the baselines include them.
  await Promise.all(named.map((stub) => (stub.getEntrypoint() as any).add(0, 0)));
  const startedAt = performance.now();
  const endAt = startedAt + options.seconds * 1000;
  const samples: Sample[] = [];
  // Each sample follows a full collection (here and in the children): what is measured is what
  // is still referenced.
  const sample = async () => {
    collectGarbage();
    const t = Math.round(performance.now() - startedAt);
    const rssMb = mb(process.memoryUsage.rss());
    const heapUsedMb = mb(process.memoryUsage().heapUsed);
    const pool = processPoolOf(loader);
    const children = pool === undefined ? [] : await Promise.all(pool.pids.map((_, slot) => inspectShard(pool, slot, { collect: true }).catch(() => undefined)));
    samples.push({
      t,
      rssMb,
      childRssMb: childRss(loader),
      heapUsedMb,
      childHeapMb: mb(children.reduce((sum, report) => sum + (report?.memory.heapUsed ?? 0), 0)),
      handles: process.getActiveResourcesInfo().length,
      liveWorkers: loader.stats.liveWorkers,
      calls,
    });
  };
  const sampleEvery = Math.max(250, Math.min(5_000, (options.seconds * 1000) / 40));
  await sample();
  let sampling: Promise<void> = Promise.resolve();
  const sampler = setInterval(() => (sampling = sampling.then(sample)), sampleEvery);
  let lastProgress = startedAt;
  const lanes = Array.from({ length: options.concurrency }, async () => {
    while (performance.now() < endAt) {
      await call(pickTask());
      if (performance.now() - lastProgress > 10_000) {
        lastProgress = performance.now();
        const s = samples[samples.length - 1];
        log(`soak: ${Math.round((lastProgress - startedAt) / 1000)} s, ${calls} calls, RSS ${s.rssMb} MB${options.isolation === "process" ? ` + children ${s.childRssMb} MB` : ""}, ${s.liveWorkers} live workers, lost ${lost}`);
      }
    }
  });
  await Promise.all(lanes);
  const elapsed = (performance.now() - startedAt) / 1000;
  clearInterval(sampler);
  await sampling;

  // The end state: named workers disposed, the children's last stats in, garbage collected.
  for (const stub of named) stub.dispose();
  await sleep(options.isolation === "process" ? 1_200 : 200);
  await sample();
  const endHandles = handleCounts();
  const end = samples[samples.length - 1];
  const processes = loader.stats.processes;
  await loader.close();
  await sleep(100);
  const afterCloseHandles = handleCounts();

  // RSS: the level after warm-up (the first quarter) against the level at the end, both medians of a window.
  const timed = samples.slice(0, -1);
  const warmFrom = Math.floor(timed.length * 0.25);
  const window = Math.max(1, Math.floor(timed.length * 0.2));
  const totalRss = (s: Sample) => s.rssMb + s.childRssMb;
  const warmMb = round(median(timed.slice(warmFrom, warmFrom + window).map(totalRss)));
  const finalMb = round(median([...timed.slice(-window).map(totalRss), totalRss(end)]));
  const toleranceMb = Math.round(Math.max(96, warmMb * 0.25));
  const judged = options.seconds >= MIN_RSS_VERDICT_SECONDS;
  const totalHeap = (s: Sample) => s.heapUsedMb + s.childHeapMb;
  const heapWarmMb = round(median(timed.slice(warmFrom, warmFrom + window).map(totalHeap)));
  const heapFinalMb = round(median([...timed.slice(-window).map(totalHeap), totalHeap(end)]));
  const heapToleranceMb = Math.round(Math.max(32, heapWarmMb * 0.5));

  const failures: string[] = [];
  if (lost > 0) failures.push(`${lost} calls were never answered within ${options.callTimeoutMs} ms`);
  if (unnamed > 0) failures.push(`${unnamed} calls failed with an error that is not a named one`);
  const unexpected: SoakReport["unexpected"] = [];
  for (const task of mix) {
    for (const [outcome, n] of Object.entries(outcomes[task.name] ?? {})) if (outcome !== task.expect && outcome !== "lost") unexpected.push({ task: task.name, outcome, count: n });
  }
  if (unexpected.length > 0) failures.push(`unexpected outcomes: ${unexpected.map((u) => `${u.task} → ${u.outcome} × ${u.count}`).join(", ")}`);
  if (judged && finalMb - warmMb > toleranceMb) failures.push(`RSS grew from ${warmMb} MB after warm-up to ${finalMb} MB (tolerance ${toleranceMb} MB)`);
  if (judged && heapFinalMb - heapWarmMb > heapToleranceMb) failures.push(`the live JS heap grew from ${heapWarmMb} MB after warm-up to ${heapFinalMb} MB (tolerance ${heapToleranceMb} MB)`);
  if (end.liveWorkers !== 0) failures.push(`${end.liveWorkers} workers still live after every stub was disposed`);
  if (total(endHandles) > total(startHandles) + 4) failures.push(`open handles: ${total(startHandles)} at the start, ${total(endHandles)} at the end (${JSON.stringify(endHandles)})`);
  if (total(afterCloseHandles) > total(startHandles) + 2) failures.push(`open handles after close(): ${JSON.stringify(afterCloseHandles)} against ${JSON.stringify(startHandles)} at the start`);
  if (processes !== undefined && processes.restarts > 0) failures.push(`${processes.restarts} child processes died and were restarted`);
  if (calls === 0) failures.push("no calls were made");

  const byOutcome: Record<string, number> = {};
  for (const byTask of Object.values(outcomes)) for (const [outcome, n] of Object.entries(byTask)) byOutcome[outcome] = (byOutcome[outcome] ?? 0) + n;

  return {
    isolation: options.isolation,
    seconds: Math.round(elapsed * 10) / 10,
    concurrency: options.concurrency,
    calls,
    callsPerSecond: Math.round(calls / elapsed),
    outcomes,
    byOutcome,
    lost,
    unexpected,
    unnamed,
    start: { rssMb: samples[0].rssMb, childRssMb: samples[0].childRssMb, handles: startHandles, liveWorkers: samples[0].liveWorkers },
    end: { rssMb: end.rssMb, childRssMb: end.childRssMb, handles: endHandles, liveWorkers: end.liveWorkers, afterCloseHandles },
    rss: { warmMb, finalMb, growthMb: round(finalMb - warmMb), toleranceMb, judged },
    heap: { warmMb: heapWarmMb, finalMb: heapFinalMb, growthMb: round(heapFinalMb - heapWarmMb), toleranceMb: heapToleranceMb, judged },
    processes,
    samples,
    failures,
    ok: failures.length === 0,
  };
}

function parseOptions(argv: string[]): SoakOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: "string" },
      concurrency: { type: "string" },
      isolation: { type: "string" },
      processes: { type: "string" },
      "call-timeout": { type: "string" },
      "inject-hang": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return undefined;
  const positive = (flag: string, text: string | undefined, fallback: number) => {
    if (text === undefined || text === "") return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${flag} must be a positive number, got ${JSON.stringify(text)}`);
    return value;
  };
  const isolation = values.isolation ?? "isolate";
  if (isolation !== "isolate" && isolation !== "process") throw new TypeError(`--isolation must be "isolate" or "process", got ${JSON.stringify(isolation)}`);
  return {
    seconds: positive("--seconds", values.seconds ?? process.env.SOAK_SECONDS, 300),
    concurrency: Math.round(positive("--concurrency", values.concurrency, 8)),
    isolation,
    processes: Math.round(positive("--processes", values.processes, 2)),
    callTimeoutMs: positive("--call-timeout", values["call-timeout"], 60) * 1000,
    injectHang: values["inject-hang"] === true,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let options: SoakOptions | undefined;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`soak: ${(error as Error).message}\n\n${usage}`);
    process.exit(2);
  }
  if (options === undefined) {
    console.log(usage);
    process.exit(0);
  }
  process.stderr.write(`soak: ${options.seconds} s, concurrency ${options.concurrency}, isolation ${options.isolation}\n`);
  const report = await runSoak(options);
  const summary = [
    `soak: ${report.calls} calls in ${report.seconds} s (${report.callsPerSecond}/s), lost ${report.lost}, unnamed errors ${report.unnamed}`,
    `soak: outcomes ${JSON.stringify(report.byOutcome)}`,
    `soak: RSS ${report.start.rssMb} → ${report.end.rssMb} MB${report.isolation === "process" ? ` (children ${report.start.childRssMb} → ${report.end.childRssMb} MB)` : ""}; after warm-up ${report.rss.warmMb} → ${report.rss.finalMb} MB (${report.rss.judged ? `tolerance ${report.rss.toleranceMb} MB` : `not judged: runs under ${MIN_RSS_VERDICT_SECONDS} s are still warming up`})`,
    `soak: live JS heap after warm-up ${report.heap.warmMb} → ${report.heap.finalMb} MB${report.heap.judged ? ` (tolerance ${report.heap.toleranceMb} MB)` : ""}`,
    `soak: handles ${total(report.start.handles)} → ${total(report.end.handles)} (after close ${total(report.end.afterCloseHandles)}); live workers ${report.start.liveWorkers} → ${report.end.liveWorkers}`,
    report.ok ? "soak: PASS" : `soak: FAIL\n${report.failures.map((f) => `  - ${f}`).join("\n")}`,
  ];
  process.stderr.write(summary.join("\n") + "\n");
  process.stdout.write(JSON.stringify(report) + "\n");
  process.exitCode = report.ok ? 0 : 1;
}
