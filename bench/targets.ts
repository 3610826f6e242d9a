// The targets islet is measured against (issue 17's, and issue 18's stability row), evaluated on one
// run's results. Issue 17's method runs the headline scenarios twice, on a quiet machine and beside
// a CPU hog (bench/hog.ts: scenario `<id>` and `<id>@hog`): each target is judged in every
// condition its scenario ran in, and met only if it is met in all of them.

import { HOG_SUFFIX, HOG_TITLE } from "./hog.ts";
import type { Scenario } from "./report.ts";
import type { Summary } from "./stats.ts";

export interface Verdict {
  measured: string;
  met: boolean | null; // null: could not be measured
}

export interface TargetResult {
  target: string;
  /** Every condition's figure, in one line (the console, and runs before issue 17's method). */
  measured: string;
  /** Met in every condition it was measured in; null when none could be measured. */
  met: boolean | null;
  /** On a quiet machine (absent in results from before issue 17's method, and for fairness, which makes its own load). */
  quiet?: Verdict;
  /** Beside the CPU hog; absent when the scenario ran quiet only. */
  hog?: Verdict;
}

const fmt = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : "n/a");

/**
 * `v` with `digits` decimals, or with more (up to 6) when fewer would read as the other side of its
 * target: 1.2004 MB misses "≤ 1.2 MB" and prints as 1.2004, not 1.20; 2.004 × misses "≤ 2 ×".
 */
export function decisive(v: number, ok: (v: number) => boolean, digits = 2): string {
  if (!Number.isFinite(v)) return "n/a";
  let shown = digits;
  while (shown < 6 && ok(Number(v.toFixed(shown))) !== ok(v)) shown++;
  return v.toFixed(shown);
}

/** One condition's scenarios, with the `@hog` suffix taken off their ids. */
function view(s: Scenario[], load: "quiet" | "hog"): Scenario[] {
  return s
    .filter((x) => x.id.endsWith(HOG_SUFFIX) === (load === "hog"))
    .map((x) => (load === "hog" ? { ...x, id: x.id.slice(0, -HOG_SUFFIX.length) } : x));
}

const row = (results: Scenario[], id: string, name: string): Summary | undefined => results.find((s) => s.id === id)?.rows.find((r) => r.name === name)?.summary;

interface Measured {
  value: number;
  /** The text beside the value: gets the value printed with the digits its verdict needs. */
  text(show: (digits?: number) => string): string;
}

interface Spec {
  target: string;
  /** Scenario ids (or an id prefix ending in "-") the target reads: a condition with none of them did not run it. */
  needs: string;
  measure(s: Scenario[]): Measured | undefined;
  ok(v: number): boolean;
}

export const FRESH_FLOOR = "isolated-vm bare (floor)";
export const WORKERD = "workerd Worker Loader";
export const WARM_HEADLINE = "islet warm pool (4)";
export const FIRST_USE_BASELINE = "nothing (baseline)";

const measured = (value: number | undefined, text: Measured["text"]): Measured | undefined => (value === undefined || !Number.isFinite(value) ? undefined : { value, text });

const SPECS: Spec[] = [
  {
    target: "fresh worker ≤ 1.2 × the bare-isolate floor (p50s; load + first RPC + dispose, canonical worker)",
    needs: "fresh",
    measure(s) {
      const islet = row(s, "fresh", "islet");
      const floor = row(s, "fresh", FRESH_FLOOR);
      return measured(islet && floor ? islet.p50 / floor.p50 : undefined, (show) => `${show()} × (islet ${fmt(islet!.p50)} ms / floor ${fmt(floor!.p50)} ms)`);
    },
    ok: (v) => v <= 1.2,
  },
  {
    target: "fresh worker ≤ 0.4 × workerd (ratio of means: workerd samples are batch means)",
    needs: "fresh",
    measure(s) {
      const islet = row(s, "fresh", "islet");
      const workerd = row(s, "fresh", WORKERD);
      return measured(islet && workerd ? islet.mean / workerd.mean : undefined, (show) => `${show()} × (islet ${fmt(islet!.mean)} ms / workerd ${fmt(workerd!.mean)} ms)`);
    },
    ok: (v) => v <= 0.4,
  },
  {
    target: "warm pool ≤ 0.3 ms back to back (p50, canonical worker, dispose timed)",
    needs: "warm",
    measure: (s) => measured(row(s, "warm", WARM_HEADLINE)?.p50, (show) => `${show()} ms`),
    ok: (v) => v <= 0.3,
  },
  {
    target: "≥ 1,500 fresh workers/s on 2 cores in the best mode (best islet row and concurrency, p50 of its samples)",
    needs: "throughput-",
    measure(s) {
      const best = s
        .filter((x) => x.id.startsWith("throughput-"))
        .flatMap((x) => x.rows.filter((r) => r.name.startsWith("islet") && r.summary).map((r) => ({ c: `${r.name}, concurrency ${x.id.slice("throughput-c".length)}`, v: r.summary!.p50, n: r.summary!.n })))
        .filter((t) => Number.isFinite(t.v))
        .sort((a, b) => b.v - a.v)[0];
      return measured(best?.v, (show) => `${show(0)} /s (${best!.c}; ${best!.n} samples)`);
    },
    ok: (v) => v >= 1500,
  },
  {
    target: "≤ 1.1 MB RSS per idle live worker at 1,000 live (RSS: measured quiet only)",
    needs: "memory-1000",
    measure: (s) => measured(row(s, "memory-1000", "islet")?.p50, (show) => `${show()} MB`),
    ok: (v) => v <= 1.1,
  },
  {
    target: "RPC round trip host→sandbox ≤ 10 µs p50 (small argument)",
    needs: "rpc-small",
    measure: (s) => measured(row(s, "rpc-small", "islet")?.p50, (show) => `${show(1)} µs`),
    ok: (v) => v <= 10,
  },
  {
    target: "callback round trip sandbox→host ≤ 10 µs p50",
    needs: "rpc-callback",
    measure: (s) => measured(row(s, "rpc-callback", "islet")?.p50, (show) => `${show(1)} µs`),
    ok: (v) => v <= 10,
  },
  {
    target: "egress ≤ 1.5 × workerd (ratio of means: workerd samples are batch means)",
    needs: "egress",
    measure(s) {
      const islet = row(s, "egress", "islet");
      const workerd = row(s, "egress", WORKERD);
      return measured(islet && workerd ? islet.mean / workerd.mean : undefined, (show) => `${show()} × (islet ${fmt(islet!.mean, 1)} µs / workerd ${fmt(workerd!.mean, 1)} µs)`);
    },
    ok: (v) => v <= 1.5,
  },
  {
    target: "compute ≥ 0.95 × plain Node speed (p50 time ratio node/islet)",
    needs: "compute",
    measure(s) {
      const islet = row(s, "compute", "islet sandbox");
      const node = row(s, "compute", "plain Node");
      return measured(islet && node ? node.p50 / islet.p50 : undefined, (show) => `${show()} ×`);
    },
    ok: (v) => v >= 0.95,
  },
  {
    target: "first use of any lazy API ≤ 2 ms (p50 over the baseline row, the dearest API)",
    needs: "first-use",
    measure(s) {
      const scenario = s.find((x) => x.id === "first-use");
      const base = row(s, "first-use", FIRST_USE_BASELINE);
      const worst = scenario?.rows
        .filter((r) => r.name !== FIRST_USE_BASELINE && r.summary !== undefined && base !== undefined)
        .map((r) => ({ name: r.name, v: r.summary!.p50 - base!.p50 }))
        .sort((a, b) => b.v - a.v)[0];
      return measured(worst?.v, (show) => `${show()} ms (${worst!.name})`);
    },
    ok: (v) => v <= 2,
  },
  {
    target: "fresh sandbox with the web platform unused within 10 % of one without it (p50)",
    needs: "start-cost",
    measure(s) {
      const unused = row(s, "start-cost", "islet, web platform present, unused");
      const bare = row(s, "start-cost", "islet runtime without the web platform");
      return measured(unused && bare ? unused.p50 / bare.p50 : undefined, (show) => `${show()} × (${fmt(unused!.p50)} ms / ${fmt(bare!.p50)} ms)`);
    },
    ok: (v) => v <= 1.1,
  },
];

const ran = (s: Scenario[], needs: string) => s.some((x) => (needs.endsWith("-") ? x.id.startsWith(needs) : x.id === needs));

function verdict(spec: Spec, s: Scenario[]): Verdict {
  const m = spec.measure(s);
  if (m === undefined) return { measured: "not measured", met: null };
  return { measured: m.text((digits = 2) => decisive(m.value, spec.ok, digits)), met: spec.ok(m.value) };
}

/** Met only if met in every condition that ran; missed if missed in any; null if none could be measured. */
export function combine(verdicts: Verdict[]): boolean | null {
  if (verdicts.some((v) => v.met === false)) return false;
  if (verdicts.length > 0 && verdicts.every((v) => v.met === true)) return true;
  return null;
}

export function evaluateTargets(s: Scenario[]): TargetResult[] {
  const quiet = view(s, "quiet");
  const hog = view(s, "hog");
  return SPECS.map((spec) => {
    const q = verdict(spec, quiet);
    const h = ran(hog, spec.needs) ? verdict(spec, hog) : undefined;
    const all = h === undefined ? [q] : [q, h];
    return {
      target: spec.target,
      measured: h === undefined ? q.measured : `quiet: ${q.measured}; ${HOG_TITLE}: ${h.measured}`,
      met: combine(all),
      quiet: q,
      ...(h === undefined ? {} : { hog: h }),
    };
  });
}
