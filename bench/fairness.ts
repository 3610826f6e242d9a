// Fairness: does a sandbox spinning at its CPU limit slow a well-behaved neighbour down? The
// neighbour is called sequentially (one RPC round trip at a time) while a spinner is called in a
// loop, each call running until its cpuMs kills it and the next call starting it again. Phases with
// and without the spinner alternate so drift of a noisy machine hits both alike. The target: the
// neighbour's p99 with the spinner at most 2× its p99 alone. Run in-process and with
// isolation: "process" (spinner and neighbour in different children), and a control with no
// sandbox spinning at all, only a plain Node process: on a 2-core machine the spinner holds one
// core whoever it is, so the control shows what losing that core costs the neighbour by itself.
// Where the time goes: isolated-vm runs isolates on its own thread pool (hardware_concurrency + 1
// threads; UV_THREADPOOL_SIZE does not apply to it), the watchdog is one timer per call, and
// a kill costs the host's event loop one isolate disposal (microseconds) and one new isolate for
// the next call (about 1.5 ms, synchronous); the scenario counts the slow calls that met one.
// `fairnessScenarios` is what bench/run.ts calls; `node --import tsx bench/fairness.ts [--full]` runs it alone.

import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { CpuLimitError, WorkerLoader, type WorkerLoaderOptions } from "../src/index.ts";
import { processSlotFor } from "../src/loader/process/pool.ts";
import { COMPAT_DATE } from "./fixtures.ts";
import type { Scenario } from "./report.ts";
import { now, sleep, summarize } from "./stats.ts";
import { decisive, type TargetResult } from "./targets.ts";

export const SPINNER_CPU_MS = 50;
const PROCESSES = 2;

const NEIGHBOUR = { compatibilityDate: COMPAT_DATE, mainModule: "n.js", modules: { "n.js": "export default { ping(x) { return x; } };" } };
const SPINNER = { compatibilityDate: COMPAT_DATE, mainModule: "s.js", modules: { "s.js": "export default { spin() { while (true) {} } };" } };

export interface FairnessConfig {
  /** Alternating phases per mode (half with the spinner). */
  phases: number;
  /** How long the neighbour is called (sequentially) in each phase. */
  phaseMs: number;
}

// Short phases, many of them: bursts of other load on the machine then fall on both sides alike.
export const QUICK_FAIRNESS: FairnessConfig = { phases: 12, phaseMs: 250 };
export const FULL_FAIRNESS: FairnessConfig = { phases: 30, phaseMs: 500 };
/** `npm run bench -- --smoke`: runs, measures nothing worth reading. */
export const SMOKE_FAIRNESS: FairnessConfig = { phases: 2, phaseMs: 50 };

interface ModeResult {
  alone: number[];
  spinning: number[];
  kills: number;
  /** When the spinner was killed or started again (ms, performance.now()). */
  spinnerEvents: number[];
  /** Start time and latency (µs) of every neighbour call made beside the spinner. */
  spinningCalls: [number, number][];
}

/** Two named workers; in process mode their ids are picked to land in different children. */
function ids(processMode: boolean): { spinner: string; neighbour: string } {
  const spinner = "spinner";
  let neighbour = "neighbour";
  for (let i = 0; processMode && processSlotFor(neighbour, PROCESSES) === processSlotFor(spinner, PROCESSES); i++) neighbour = `neighbour-${i}`;
  return { spinner, neighbour };
}

/** What competes with the neighbour during the "beside" phases. */
interface Hog {
  resume(): void;
  pause(): Promise<void>;
  close(): Promise<void>;
}

/** The sandbox spinner: called again and again, each call killed by its CPU limit. */
function sandboxHog(loader: WorkerLoader, id: string, result: ModeResult): Hog {
  const spinnerCode = () => (result.spinnerEvents.push(now()), SPINNER);
  const spin = () => (loader.get(id, spinnerCode).getEntrypoint() as any).spin();
  let running = false;
  let loop: Promise<void> = Promise.resolve();
  return {
    resume() {
      running = true;
      loop = (async () => {
        while (running) {
          try {
            await spin();
          } catch (error) {
            if (!(error instanceof CpuLimitError)) throw error;
            result.kills++;
            result.spinnerEvents.push(now());
          }
        }
      })();
    },
    async pause() {
      running = false;
      await loop;
    },
    async close() {},
  };
}

/** The control: a plain Node process spinning, stopped (SIGSTOP) between phases. Not a sandbox at all. */
function processHog(): Hog {
  const child = spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" });
  child.kill("SIGSTOP");
  return {
    resume: () => void child.kill("SIGCONT"),
    pause: async () => void child.kill("SIGSTOP"),
    close: async () => {
      child.kill("SIGKILL");
      if (child.exitCode === null && child.signalCode === null) await once(child, "exit");
    },
  };
}

async function measure(options: WorkerLoaderOptions, cfg: FairnessConfig, control = false): Promise<ModeResult> {
  const processMode = options.isolation === "process";
  const loader = new WorkerLoader({ ...options, limits: { cpuMs: SPINNER_CPU_MS } });
  const { spinner, neighbour } = ids(processMode);
  const entrypoint = loader.get(neighbour, () => NEIGHBOUR).getEntrypoint() as any;
  const ping = (x: number) => entrypoint.ping(x);
  const result: ModeResult = { alone: [], spinning: [], kills: 0, spinnerEvents: [], spinningCalls: [] };
  const hog = control ? processHog() : sandboxHog(loader, spinner, result);
  try {
    for (let i = 0; i < 500; i++) await ping(i);
    for (let phase = 0; phase < cfg.phases; phase++) {
      const beside = phase % 2 === 1;
      if (beside) {
        hog.resume();
        await sleep(SPINNER_CPU_MS); // the hog is at full speed before sampling
      }
      const samples = beside ? result.spinning : result.alone;
      for (let i = 0, end = now() + cfg.phaseMs; now() < end; i++) {
        const t = now();
        await ping(i);
        const us = (now() - t) * 1000;
        samples.push(us);
        if (beside) result.spinningCalls.push([t, us]);
      }
      if (beside) await hog.pause();
    }
  } finally {
    await hog.close();
    await loader.close();
  }
  return result;
}

export interface FairnessResult {
  scenarios: Scenario[];
  targets: TargetResult[];
}

export async function fairnessScenarios(cfg: FairnessConfig = QUICK_FAIRNESS): Promise<FairnessResult> {
  const scenarios: Scenario[] = [];
  const targets: TargetResult[] = [];
  let controlRatio = NaN;
  const runs = [
    { id: "fairness-isolate", label: "in-process", options: {}, control: false },
    { id: "fairness-process", label: "isolation: process", options: { isolation: "process", processes: PROCESSES }, control: false },
    { id: "fairness-control", label: "control", options: {}, control: true },
  ] as const;
  for (const run of runs) {
    const measured = await measure(run.options, cfg, run.control);
    const alone = summarize(measured.alone);
    const beside = summarize(measured.spinning);
    const ratio = beside.p99 / alone.p99;
    // Why the tail moved: a slow call (over 10 × the p50 alone) that began within 3 ms of a
    // spinner kill or restart met the host's own work on it (disposing and creating an isolate on
    // the event loop); the rest waited for a CPU (the spinner holds one of the machine's cores).
    const slow = measured.spinningCalls.filter(([, us]) => us > alone.p50 * 10);
    const nearRestart = slow.filter(([t]) => measured.spinnerEvents.some((e) => Math.abs(e - t) < 3)).length;
    const phases = `${cfg.phases} alternating phases of ${cfg.phaseMs} ms of sequential neighbour calls`;
    scenarios.push({
      id: run.id,
      title: run.control
        ? "Fairness control: the same in-process neighbour beside a plain Node process spinning (no sandbox involved)"
        : `Fairness (${run.label}): a neighbour's RPC round trip, alone and beside a sandbox spinning at its ${SPINNER_CPU_MS} ms CPU limit`,
      unit: "µs",
      better: "lower",
      note: run.control
        ? `${phases}; what one core taken away costs the neighbour on this machine, whoever takes it.`
        : `${phases}; the spinner was killed and restarted ${measured.kills} times.${run.control || run.label === "in-process" ? "" : " Spinner and neighbour in different children."}`,
      rows: [
        { name: "neighbour alone", summary: alone },
        {
          name: run.control ? "neighbour beside a spinning process" : "neighbour beside the spinner",
          summary: beside,
          note: `p99 ${ratio.toFixed(2)} × alone${run.control ? "" : `; ${slow.length} calls over 10 × p50, ${nearRestart} of them within 3 ms of a spinner kill/restart`}`,
        },
      ],
    });
    if (run.control) controlRatio = ratio;
    else {
      targets.push({
        target: `fairness (${run.label}): neighbour p99 beside a spinner ≤ 2 × alone`,
        measured: Number.isFinite(ratio) ? `${decisive(ratio, (r) => r <= 2)} × (${beside.p99.toFixed(1)} µs / ${alone.p99.toFixed(1)} µs)` : "not measured",
        met: Number.isFinite(ratio) ? ratio <= 2 : null,
      });
    }
  }
  // The same ratio with no sandbox spinning: what this machine does to the neighbour anyway.
  for (const target of targets) if (target.met !== null) target.measured += `; control with a plain spinning process: ${controlRatio.toFixed(2)} ×`;
  return { scenarios, targets };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { scenarios, targets } = await fairnessScenarios(process.argv.includes("--full") ? FULL_FAIRNESS : QUICK_FAIRNESS);
  for (const s of scenarios) {
    console.log(`\n${s.title} [${s.unit}]\n  ${s.note}`);
    for (const r of s.rows) console.log(`  ${r.name.padEnd(30)} p50 ${r.summary!.p50.toFixed(1)}  p99 ${r.summary!.p99.toFixed(1)}  max ${r.summary!.max.toFixed(1)}  n ${r.summary!.n}${r.note ? `\n    ${r.note}` : ""}`);
  }
  console.log("");
  for (const t of targets) console.log(`${t.met === null ? "n/a   " : t.met ? "met   " : "missed"}  ${t.target}: ${t.measured}`);
}
