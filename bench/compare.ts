// Before/after: the same scenarios for this checkout's build and a baseline build of islet, in one
// run, interleaved (A, B, A, B …) so a noisy machine's drift hits both alike. For a refactor that
// must not make anything slower (issue 15).
//
//   git worktree add /tmp/islet-base <commit> && (cd /tmp/islet-base && npm install && npm run build)
//   npm run build && node --import tsx bench/compare.ts --baseline /tmp/islet-base [--rounds 8]
//
// Each build is imported from its dist/index.js, as an installed islet would be, in a child process
// of its own (two copies of isolated-vm's addon cannot share a process); the parent asks each child
// for one round of samples in turn. Prints a Markdown table (medians, the ratio this/baseline, p99)
// and writes it to bench/results/.

import { fork, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { COMPAT_DATE, RPC_SOURCE } from "./fixtures.ts";
import { now, roundRobin, type Subject, type SubjectResult } from "./stats.ts";

const args = process.argv.slice(2);
const option = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const childDir = option("--child");
const baselineDir = option("--baseline");
if (baselineDir === undefined && childDir === undefined) throw new Error("usage: node --import tsx bench/compare.ts --baseline <islet checkout, built> [--rounds N]");
const rounds = Number(option("--rounds") ?? 8);

type Loader = {
  load(code: unknown): { getEntrypoint(name?: string): any; dispose(): void };
  get(id: string, getCode: () => unknown): { getEntrypoint(name?: string): any; dispose(): void };
  close(): Promise<void>;
};
type LoaderClass = new (options?: Record<string, unknown>) => Loader;

/** The worker README's example shows: a WorkerEntrypoint class importing cloudflare:workers. */
const CANONICAL = {
  compatibilityDate: COMPAT_DATE,
  mainModule: "w.js",
  modules: {
    "w.js": `import { WorkerEntrypoint } from "cloudflare:workers";
      export default class extends WorkerEntrypoint { greet(name) { return "hi " + name; } }`,
  },
};

const LIVE = {
  compatibilityDate: COMPAT_DATE,
  mainModule: "w.js",
  modules: {
    "w.js": `${RPC_SOURCE.replace("export default {", "const rpc = {")}
      export default { ...rpc,
        fetch(request) { return new Response("hello " + new URL(request.url).pathname); },
        async egress() { return (await fetch("https://api.example/item")).text(); } };`,
  },
  globalOutbound: () => new Response("item"),
};

interface Scenario {
  title: string;
  options: Record<string, unknown>;
  perRound: number;
  /** Once per build, before sampling. */
  open?(loader: Loader): Promise<unknown>;
  /** One timed operation. */
  once(loader: Loader, state: unknown): Promise<void>;
}

const shardModes = [
  { label: "", options: {} },
  { label: ", isolation: thread", options: { isolation: "thread", threads: 2 } },
  { label: ", isolation: process", options: { isolation: "process", processes: 2 } },
];

const warm = async (loader: Loader) => {
  const entry = loader.get("live", () => LIVE).getEntrypoint();
  for (let i = 0; i < 20; i++) await entry.ping(i);
  return entry;
};

const scenarios: Scenario[] = [
  {
    title: "fresh sandbox: load() + first call + dispose (canonical WorkerEntrypoint)",
    options: {},
    perRound: 10,
    async once(loader) {
      const stub = loader.load(CANONICAL);
      await stub.getEntrypoint().greet("x");
      stub.dispose();
    },
  },
  ...shardModes.flatMap(({ label, options }) => [
    { title: `RPC round trip on a live worker${label}`, options, perRound: 200, open: warm, once: (_: Loader, entry: any) => entry.ping(1) },
    {
      title: `entrypoint fetch(), body read${label}`,
      options,
      perRound: 100,
      open: warm,
      once: async (_: Loader, entry: any) => void (await (await entry.fetch("https://w.example/path")).text()),
    },
    { title: `sandbox fetch() through globalOutbound${label}`, options, perRound: 100, open: warm, once: (_: Loader, entry: any) => entry.egress() },
  ]),
];

// ---- A child: one build, its scenarios sampled on request. -------------------------------------

if (childDir !== undefined) {
  const { WorkerLoader } = (await import(pathToFileURL(resolve(childDir, "dist/index.js")).href)) as { WorkerLoader: LoaderClass };
  let open: { index: number; loader: Loader; state: unknown } | undefined;
  process.on("message", async (message: { scenario: number; count: number } | "close") => {
    if (message === "close") {
      await open?.loader.close();
      process.exit(0);
    }
    const scenario = scenarios[message.scenario];
    if (open?.index !== message.scenario) {
      await open?.loader.close();
      const loader = new WorkerLoader(scenario.options);
      const state = await scenario.open?.(loader);
      for (let i = 0; i < 5; i++) await scenario.once(loader, state);
      open = { index: message.scenario, loader, state };
    }
    const out: number[] = [];
    for (let i = 0; i < message.count; i++) {
      const t = now();
      await scenario.once(open.loader, open.state);
      out.push(now() - t);
    }
    process.send!(out);
  });
} else {
  await parent(baselineDir!);
}

function subject(name: string, child: ChildProcess, index: number, scenario: Scenario): Subject {
  return {
    name,
    perRound: scenario.perRound,
    sample: (count) =>
      new Promise<number[]>((done, fail) => {
        child.once("message", (samples) => done(samples as number[]));
        child.once("error", fail);
        child.send({ scenario: index, count });
      }),
  };
}

async function parent(baseline: string): Promise<void> {
  const spawn = (dir: string) => fork(new URL(import.meta.url).pathname, ["--child", dir], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const mine = spawn(resolve("."));
  const base = spawn(resolve(baseline));
  const rows: string[] = [];
  const started = new Date();
  for (let index = 0; index < scenarios.length; index++) {
    const scenario = scenarios[index];
    const [a, b] = (await roundRobin([subject("this checkout", mine, index, scenario), subject("baseline", base, index, scenario)], rounds)) as [SubjectResult, SubjectResult];
    const cell = (r: SubjectResult) => (r.summary === undefined ? `unavailable: ${r.unavailable}` : `${fmt(r.summary.p50)} ms (p99 ${fmt(r.summary.p99)})`);
    const ratio = a.summary && b.summary ? (a.summary.p50 / b.summary.p50).toFixed(2) : "-";
    rows.push(`| ${scenario.title} | ${cell(a)} | ${cell(b)} | ${ratio} |`);
    console.error(rows.at(-1));
  }
  mine.send("close");
  base.send("close");
  const { loadavg } = await import("node:os");
  const report = [
    `# Before/after: ${started.toISOString()}`,
    "",
    `\`node --import tsx bench/compare.ts --baseline ${baseline} --rounds ${rounds}\` on Node ${process.versions.node}; load average at the end ${loadavg().map((l) => l.toFixed(2)).join(", ")}.`,
    `Medians of ${rounds} interleaved rounds per scenario (one warm-up round discarded); ratio = this checkout's median / the baseline's (below 1 is faster).`,
    "",
    "| scenario | this checkout | baseline | ratio |",
    "| --- | --- | --- | --- |",
    ...rows,
    "",
  ].join("\n");
  console.log(report);
  mkdirSync("bench/results", { recursive: true });
  writeFileSync(`bench/results/compare-${started.toISOString().slice(0, 19).replace(/:/g, "")}.md`, report);
}

function fmt(ms: number): string {
  return ms < 1 ? ms.toFixed(3) : ms.toFixed(2);
}
