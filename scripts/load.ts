// `npm run load`: starts `islet serve` as a second process on loopback and drives POST /v1/run from
// this one at several concurrencies with a mixed workload, then far above the server's in-flight
// cap to show it sheds load (429 + Retry-After) while the calls it accepts stay fast. Writes
// bench/results/load-<date>.json and bench/results/load.md.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { createServer } from "node:net";
import os from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = fileURLToPath(new URL("..", import.meta.url));

const usage = `npm run load -- [options]

Starts \`islet serve\` on a free loopback port (a separate process), drives POST /v1/run with a
mixed workload in closed loops, and reports requests/s, p50/p99 latency and status counts.

Options:
  --duration <s>         total measuring time in seconds, split over the phases (default 20)
  --concurrency <list>   comma-separated concurrencies (default 1,4,16)
  --overload <n>         concurrency of the two overload phases (default 4 x --max-in-flight)
  --max-in-flight <n>    the server's cap on calls in flight (maxInFlight; default 16, see below)
  --out <dir>            where load-<date>.json and load.md go (default bench/results)
  --no-write             print the results only
  --dist                 run the built server (dist/cli/main.js) instead of src/ through tsx
  -h, --help             show this help

The cap matters: a node sheds load only if it reaches its cap before its main thread saturates
(fresh isolates are created there). On a 2-core machine we saw that at about 300 calls/s
with about 40 in flight, so with a cap of 64 excess requests waited unread for seconds instead
of getting a quick 429; try --max-in-flight 64 to see it.`;

interface Options {
  durationS: number;
  concurrencies: number[];
  overload: number;
  maxInFlight: number;
  out: string;
  write: boolean;
  dist: boolean;
}

class UsageError extends Error {
  name = "UsageError";
}

function positive(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${flag} must be a positive number, got ${JSON.stringify(text)}`);
  return value;
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: "string" },
      concurrency: { type: "string" },
      overload: { type: "string" },
      "max-in-flight": { type: "string" },
      out: { type: "string" },
      "no-write": { type: "boolean" },
      dist: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(usage);
    return undefined;
  }
  const concurrencies = (values.concurrency ?? "1,4,16").split(",").map((item) => Math.round(positive("--concurrency", item.trim())));
  const maxInFlight = Math.round(positive("--max-in-flight", values["max-in-flight"] ?? "16"));
  return {
    durationS: positive("--duration", values.duration ?? "20"),
    concurrencies,
    overload: Math.round(positive("--overload", values.overload ?? String(maxInFlight * 4))),
    maxInFlight,
    out: resolve(values.out ?? join(root, "bench/results")),
    write: !values["no-write"],
    dist: values.dist === true,
  };
}

// ---------------------------------------------------------------------------------------------
// The workload: each request is one of these, picked at random with these weights.

interface RunAnswer {
  result?: unknown;
  response?: { status: number; body: string };
  error?: { name: string; message: string };
}

interface Workload {
  name: string;
  weight: number;
  body: () => Record<string, unknown>;
  /** The worker id to send in X-Islet-Worker-Id (a warm worker reused across requests). */
  workerId?: () => string;
  /** Whether a 200 answer is the right one. */
  check: (answer: RunAnswer) => boolean;
}

const workloads: Workload[] = [
  {
    name: "rpc (fresh isolate)",
    weight: 35,
    body: () => ({ code: "export default { add(a, b) { return a + b; } }", method: "add", args: [2, 3] }),
    check: (answer) => answer.result === 5,
  },
  {
    name: "rpc (warm, by id)",
    weight: 25,
    body: () => ({ code: "let calls = 0; export default { count() { return ++calls; } }", method: "count" }),
    workerId: () => `load-warm-${Math.floor(random() * 8)}`,
    check: (answer) => typeof answer.result === "number" && answer.result >= 1,
  },
  {
    name: "fetch handler",
    weight: 20,
    body: () => ({
      code: `export default {
        async fetch(request) {
          const { numbers } = await request.json();
          return Response.json({ sum: numbers.reduce((a, b) => a + b, 0), path: new URL(request.url).pathname });
        },
      };`,
      request: { url: "https://load.test/sum", method: "POST", headers: { "content-type": "application/json" }, body: '{"numbers":[1,2,3,4]}' },
    }),
    check: (answer) => answer.response?.status === 200 && JSON.parse(answer.response.body).sum === 10,
  },
  {
    name: "cpu (~2M iterations)",
    weight: 10,
    body: () => ({
      code: `export default { hash(n) { let h = 0; for (let i = 0; i < n; i++) h = Math.imul(h ^ i, 2654435761) >>> 0; return h; } }`,
      method: "hash",
      args: [2_000_000],
    }),
    check: (answer) => typeof answer.result === "number",
  },
  {
    name: "throws",
    weight: 10,
    body: () => ({ code: 'export default { boom() { throw new RangeError("boom"); } }', method: "boom" }),
    check: (answer) => answer.error?.name === "RangeError" && answer.error.message === "boom",
  },
];

// A seeded generator (mulberry32): the same mix of requests on every run.
let seed = 0x1517e7;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const totalWeight = workloads.reduce((sum, w) => sum + w.weight, 0);
function pickWorkload(): Workload {
  let roll = random() * totalWeight;
  for (const workload of workloads) if ((roll -= workload.weight) < 0) return workload;
  return workloads[workloads.length - 1];
}

// ---------------------------------------------------------------------------------------------
// The server under test, in its own process.

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

interface ServerProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function startServer(options: Options): Promise<ServerProcess> {
  const port = await freePort();
  const configDir = mkdtempSync(join(os.tmpdir(), "islet-load-"));
  const configPath = join(configDir, "config.json");
  // One anonymous caller drives all the load, so its own cap must not be the one that binds.
  writeFileSync(configPath, JSON.stringify({ maxInFlight: options.maxInFlight, maxConcurrencyPerKey: options.maxInFlight }));
  const entry = options.dist ? [join(root, "dist/cli/main.js")] : ["--import", "tsx", join(root, "src/cli/main.ts")];
  const child = spawn(process.execPath, [...entry, "serve", "--port", String(port), "--host", "127.0.0.1"], {
    cwd: root,
    env: { ...process.env, ISLET_CONFIG: configPath, ISLET_API_KEYS: "" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const exited = new Promise<void>((resolveExit) => child.once("exit", () => resolveExit()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
    rmSync(configDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`islet serve exited before it was ready (${child.exitCode ?? child.signalCode}):\n${stderr}`);
    }
    try {
      const status = await new Promise<number>((resolveStatus, reject) =>
        http.get(`${url}/healthz`, (response) => (response.resume(), resolveStatus(response.statusCode ?? 0))).on("error", reject),
      );
      if (status === 200) return { url, child, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`islet serve did not answer /healthz within 30 s:\n${stderr}`);
}

// ---------------------------------------------------------------------------------------------
// The client: closed loops, one request at a time each, over keep-alive connections.

interface Sample {
  workload: string;
  /** When the request was sent, in ms since its phase began. */
  sentAtMs: number;
  status: number;
  ms: number;
  correct: boolean;
  /** Retry-After of a 429, in seconds (NaN when it had none). */
  retryAfterS: number;
}

function post(agent: http.Agent, url: string, workload: Workload, phaseStart: number): Promise<Sample> {
  const body = JSON.stringify(workload.body());
  const headers: Record<string, string | number> = { "content-type": "application/json", "content-length": Buffer.byteLength(body) };
  const id = workload.workerId?.();
  if (id !== undefined) headers["x-islet-worker-id"] = id;
  const started = performance.now();
  const sample = (status: number, correct = false, retryAfterS = Number.NaN): Sample => ({
    workload: workload.name,
    sentAtMs: started - phaseStart,
    status,
    ms: performance.now() - started,
    correct,
    retryAfterS,
  });
  return new Promise((resolveSample) => {
    const request = http.request(`${url}/v1/run`, { method: "POST", agent, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const status = response.statusCode ?? 0;
        let correct = false;
        if (status === 200) {
          try {
            correct = workload.check(JSON.parse(Buffer.concat(chunks).toString("utf8")) as RunAnswer);
          } catch {
            correct = false;
          }
        }
        resolveSample(sample(status, correct, Number(response.headers["retry-after"] ?? Number.NaN)));
      });
      response.on("error", () => resolveSample(sample(0)));
    });
    request.on("error", () => resolveSample(sample(0)));
    request.end(body);
  });
}

interface PhaseResult {
  phase: "steady" | "overload: clients honour Retry-After" | "overload: clients retry at once";
  concurrency: number;
  seconds: number;
  /**
   * The ramp-up left out of rates and latencies: the clients start one after another over it, on
   * new connections. Its worst accepted latency is kept in rampMaxMs.
   */
  rampSeconds: number;
  rampMaxMs: number;
  requests: number;
  requestsPerSecond: number;
  /** Answered 200 (the call ran: its result or the worker's error). */
  accepted: number;
  acceptedPerSecond: number;
  statuses: Record<string, number>;
  /** 200 answers whose body was not the expected one. */
  wrong: number;
  /** 429 answers over the whole phase, ramp-up included, and how many of them carried Retry-After. */
  shedTotal: number;
  shedTotalWithRetryAfter: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  acceptedLatencyMs: { p50: number; p90: number; p99: number; max: number };
  byWorkload: Record<string, { requests: number; p50: number; p99: number }>;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[index] * 100) / 100;
}

function latency(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: percentile(sorted, 100) };
}

/**
 * How clients react to 429: "immediately" sends the next request at once (the worst case for the
 * server), "retry-after" waits the Retry-After seconds, with jitter, as a well-behaved client does.
 */
type OnShed = "immediately" | "retry-after";

async function runPhase(url: string, phase: PhaseResult["phase"] | "warm-up", concurrency: number, seconds: number, onShed: OnShed = "immediately"): Promise<PhaseResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const all: Sample[] = [];
  const started = performance.now();
  const end = started + seconds * 1000;
  // Clients join one by one over the ramp-up: all of them opening connections and sending in the
  // same millisecond is a thundering herd no real traffic has, and it stalls the first requests
  // for seconds, which would measure the herd rather than the server.
  const rampMs = Math.min(1000, seconds * 200);
  await Promise.all(
    Array.from({ length: concurrency }, async (_, client) => {
      await new Promise((resolveStart) => setTimeout(resolveStart, (rampMs * client) / concurrency));
      while (performance.now() < end) {
        const sample = await post(agent, url, pickWorkload(), started);
        all.push(sample);
        if (onShed === "retry-after" && sample.status === 429 && sample.retryAfterS >= 0) {
          const waitMs = Math.min(sample.retryAfterS * 1000 * (0.5 + random()), end - performance.now());
          if (waitMs > 0) await new Promise((resolveWait) => setTimeout(resolveWait, waitMs));
        }
      }
    }),
  );
  const elapsed = (performance.now() - started - rampMs) / 1000;
  agent.destroy();
  const samples = all.filter((s) => s.sentAtMs >= rampMs);
  const statuses: Record<string, number> = {};
  for (const sample of samples) {
    const status = sample.status === 0 ? "connection error" : String(sample.status);
    statuses[status] = (statuses[status] ?? 0) + 1;
  }
  const accepted = samples.filter((s) => s.status === 200);
  const ramp = all.filter((s) => s.sentAtMs < rampMs && s.status === 200);
  const byWorkload: PhaseResult["byWorkload"] = {};
  for (const workload of workloads) {
    const mine = accepted.filter((s) => s.workload === workload.name).map((s) => s.ms);
    const { p50, p99 } = latency(mine);
    byWorkload[workload.name] = { requests: mine.length, p50, p99 };
  }
  return {
    phase: phase as PhaseResult["phase"],
    concurrency,
    seconds: Math.round(elapsed * 100) / 100,
    rampSeconds: Math.round(rampMs) / 1000,
    rampMaxMs: latency(ramp.map((s) => s.ms)).max,
    requests: samples.length,
    requestsPerSecond: Math.round(samples.length / elapsed),
    accepted: accepted.length,
    acceptedPerSecond: Math.round(accepted.length / elapsed),
    statuses,
    // Correctness counts every answer, the ramp's too.
    wrong: all.filter((s) => s.status === 200 && !s.correct).length,
    shedTotal: all.filter((s) => s.status === 429).length,
    shedTotalWithRetryAfter: all.filter((s) => s.status === 429 && s.retryAfterS >= 0).length,
    latencyMs: latency(samples.map((s) => s.ms)),
    acceptedLatencyMs: latency(accepted.map((s) => s.ms)),
    byWorkload,
  };
}

// ---------------------------------------------------------------------------------------------

interface OverloadSummary {
  clients: "honour Retry-After" | "retry at once";
  shed: number;
  shedShare: number;
  everyShedHadRetryAfter: boolean;
  acceptedPerSecond: number;
  acceptedP50Ms: number;
  acceptedP99Ms: number;
}

interface Report {
  date: string;
  machine: Record<string, string | number>;
  options: { durationS: number; concurrencies: number[]; overload: number; maxInFlight: number; server: string };
  workloads: { name: string; weight: number }[];
  phases: PhaseResult[];
  overload: {
    concurrency: number;
    maxInFlight: number;
    /** The highest steady concurrency at or below the cap: what "not slowing everyone down" is measured against. */
    reference: { concurrency: number; acceptedPerSecond: number; acceptedP50Ms: number; acceptedP99Ms: number };
    runs: OverloadSummary[];
  };
}

function overloadSummary(phase: PhaseResult): OverloadSummary {
  const shed = phase.statuses["429"] ?? 0;
  return {
    clients: phase.phase === "overload: clients honour Retry-After" ? "honour Retry-After" : "retry at once",
    shed: phase.shedTotal,
    shedShare: phase.requests === 0 ? 0 : Math.round((shed / phase.requests) * 1000) / 1000,
    everyShedHadRetryAfter: phase.shedTotalWithRetryAfter === phase.shedTotal,
    acceptedPerSecond: phase.acceptedPerSecond,
    acceptedP50Ms: phase.acceptedLatencyMs.p50,
    acceptedP99Ms: phase.acceptedLatencyMs.p99,
  };
}

function markdown(report: Report): string {
  const rows = report.phases.map((p) => {
    const other = Object.entries(p.statuses)
      .filter(([status]) => status !== "200" && status !== "429")
      .map(([status, count]) => `${count} × ${status}`)
      .join(", ");
    const label = p.phase === "steady" ? String(p.concurrency) : `**${p.concurrency}**, ${p.phase}`;
    return `| ${label} | ${p.requestsPerSecond} | ${p.acceptedPerSecond} | ${p.acceptedLatencyMs.p50} | ${p.acceptedLatencyMs.p99} | ${p.statuses["200"] ?? 0} | ${p.statuses["429"] ?? 0} | ${other || "–"} | ${p.wrong} | ${p.rampMaxMs} |`;
  });
  const { reference, runs, concurrency, maxInFlight } = report.overload;
  const first = report.phases[0];
  const overloadLines = runs.map(
    (run) =>
      `- clients that ${run.clients}: ${run.shed} requests shed with 429 (${Math.round(run.shedShare * 100)}% after the ramp-up), ${run.everyShedHadRetryAfter ? "every one with" : "NOT every one with"} Retry-After; ` +
      `accepted ${run.acceptedPerSecond}/s, p50 ${run.acceptedP50Ms} ms, p99 ${run.acceptedP99Ms} ms.`,
  );
  return [
    `## Load: POST /v1/run over loopback (${report.date})`,
    "",
    `\`npm run load\`: \`islet serve\` in its own process (maxInFlight ${report.options.maxInFlight}), driven from a second process over keep-alive HTTP/1.1 in closed loops (each client sends its next request when the last is answered). ` +
      `Each row runs ${Math.round(((first?.seconds ?? 0) + (first?.rampSeconds ?? 0)) * 10) / 10} s; the clients join one by one over its first ${first?.rampSeconds ?? 0} s, which rates, latencies and counts leave out (the last column is the worst accepted latency in it). ` +
      `Mix: ${report.workloads.map((w) => `${w.weight}% ${w.name}`).join(", ")}. ` +
      `Client and server share the machine (${report.machine.cores} cores, ${report.machine.cpu}; load average ${report.machine["load average at start"]} at start).`,
    "",
    "| concurrency | requests/s | accepted/s | p50 ms (accepted) | p99 ms (accepted) | 200 | 429 | other | wrong answers | ramp-up: max ms |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
    `Overload: ${concurrency} clients against a cap of ${maxInFlight} calls in flight, compared with ${reference.concurrency} clients (accepted ${reference.acceptedPerSecond}/s, p50 ${reference.acceptedP50Ms} ms, p99 ${reference.acceptedP99Ms} ms):`,
    "",
    ...overloadLines,
    "",
  ].join("\n");
}

async function main(): Promise<void> {
  let options: Options | undefined;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`load: ${(error as Error).message}\n${usage}\n`);
    process.exit(2);
  }
  if (options === undefined) return;
  const warmupS = Math.min(1, options.durationS / 10);
  const phaseS = (options.durationS - warmupS) / (options.concurrencies.length + 2);
  const loadAverage = os.loadavg()[0];

  process.stderr.write(`starting islet serve (${options.dist ? "dist" : "src via tsx"}, maxInFlight ${options.maxInFlight})…\n`);
  const server = await startServer(options);
  const phases: PhaseResult[] = [];
  try {
    await runPhase(server.url, "warm-up", 4, warmupS);
    for (const concurrency of options.concurrencies) {
      process.stderr.write(`concurrency ${concurrency} for ${phaseS.toFixed(1)} s…\n`);
      phases.push(await runPhase(server.url, "steady", concurrency, phaseS));
    }
    process.stderr.write(`overload: ${options.overload} clients honouring Retry-After for ${phaseS.toFixed(1)} s…\n`);
    phases.push(await runPhase(server.url, "overload: clients honour Retry-After", options.overload, phaseS, "retry-after"));
    process.stderr.write(`overload: ${options.overload} clients retrying at once for ${phaseS.toFixed(1)} s…\n`);
    phases.push(await runPhase(server.url, "overload: clients retry at once", options.overload, phaseS, "immediately"));
  } finally {
    await server.stop();
  }

  const steady = phases.filter((p) => p.phase === "steady");
  const reference = [...steady].reverse().find((p) => p.concurrency <= options.maxInFlight) ?? steady[0];
  const runs = phases.filter((p) => p.phase !== "steady").map(overloadSummary);
  const report: Report = {
    date: new Date().toISOString(),
    machine: {
      cpu: os.cpus()[0]?.model ?? "unknown",
      cores: os.cpus().length,
      memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
      node: process.version,
      "load average at start": loadAverage.toFixed(2),
    },
    options: {
      durationS: options.durationS,
      concurrencies: options.concurrencies,
      overload: options.overload,
      maxInFlight: options.maxInFlight,
      server: options.dist ? "dist/cli/main.js" : "src/cli/main.ts via tsx",
    },
    workloads: workloads.map(({ name, weight }) => ({ name, weight })),
    phases,
    overload: {
      concurrency: options.overload,
      maxInFlight: options.maxInFlight,
      reference: {
        concurrency: reference.concurrency,
        acceptedPerSecond: reference.acceptedPerSecond,
        acceptedP50Ms: reference.acceptedLatencyMs.p50,
        acceptedP99Ms: reference.acceptedLatencyMs.p99,
      },
      runs,
    },
  };
  const table = markdown(report);
  console.log(table);
  if (options.write) {
    mkdirSync(options.out, { recursive: true });
    const jsonPath = join(options.out, `load-${report.date.slice(0, 10)}.json`);
    writeFileSync(jsonPath, JSON.stringify(report, null, 2) + "\n");
    writeFileSync(join(options.out, "load.md"), table);
    process.stderr.write(`wrote ${jsonPath} and ${join(options.out, "load.md")}\n`);
  }
  const failures = phases.flatMap((p) => (p.wrong > 0 ? [`${p.wrong} wrong answers at concurrency ${p.concurrency} (${p.phase})`] : []));
  for (const run of runs) {
    if (run.shed === 0) failures.push(`no 429s from ${options.overload} clients that ${run.clients}, with maxInFlight ${options.maxInFlight}: the server did not shed load`);
    else if (!run.everyShedHadRetryAfter) failures.push(`some 429 answers to clients that ${run.clients} had no Retry-After`);
  }
  if (failures.length > 0) {
    process.stderr.write(`load: ${failures.join("; ")}\n`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  process.stderr.write(`load: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
