// The targets islet is measured against, evaluated on one run's results.

import type { Scenario } from "./report.ts";

export interface TargetResult {
  target: string;
  measured: string;
  met: boolean | null; // null: could not be measured
}

const row = (results: Scenario[], id: string, name: string) => results.find((s) => s.id === id)?.rows.find((r) => r.name === name)?.summary;

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

export function evaluateTargets(s: Scenario[]): TargetResult[] {
  const out: TargetResult[] = [];
  /** `measured` gets the value and `show(digits)`, the value printed with enough digits to show whether it met the target. */
  const add = (target: string, value: number | undefined, measured: (v: number, show: (digits?: number) => string) => string, ok: (v: number) => boolean) =>
    out.push(
      value === undefined || !Number.isFinite(value)
        ? { target, measured: "not measured", met: null }
        : { target, measured: measured(value, (digits = 2) => decisive(value, ok, digits)), met: ok(value) },
    );

  const fresh = row(s, "fresh", "islet");
  const workerd = row(s, "fresh", "workerd Worker Loader");
  add("fresh sandbox p50 ≤ 1.5 ms", fresh?.p50, (_, show) => `${show()} ms`, (v) => v <= 1.5);
  add(
    "fresh sandbox ≤ 0.5 × workerd (ratio of means: workerd samples are batch means)",
    fresh && workerd ? fresh.mean / workerd.mean : undefined,
    (_, show) => `${show()} × (islet ${fmt(fresh!.mean)} ms / workerd ${fmt(workerd!.mean)} ms)`,
    (v) => v <= 0.5,
  );
  add("warm pool p50 ≤ 0.3 ms", row(s, "warm", "islet warm pool (4)")?.p50, (_, show) => `${show()} ms`, (v) => v <= 0.3);
  const tp = s
    .filter((x) => x.id.startsWith("throughput-"))
    .flatMap((x) => x.rows.filter((r) => r.name.startsWith("islet")).map((r) => ({ c: `${r.name}, concurrency ${x.id.slice("throughput-c".length)}`, v: r.summary?.mean ?? NaN })));
  const best = tp.filter((t) => Number.isFinite(t.v)).sort((a, b) => b.v - a.v)[0];
  add("throughput ≥ 1,500 fresh sandboxes/s (best islet row and concurrency)", best?.v, (_, show) => `${show(0)} /s (${best!.c})`, (v) => v >= 1500);
  for (const id of ["memory-100", "memory-1000"]) {
    const m = row(s, id, "islet");
    add(`≤ 1.2 MB RSS per idle live sandbox (${id.slice(7)} live)`, m?.p50, (_, show) => `${show()} MB`, (v) => v <= 1.2);
  }
  add("RPC round trip host→sandbox p50 ≤ 25 µs (small argument)", row(s, "rpc-small", "islet")?.p50, (_, show) => `${show(1)} µs`, (v) => v <= 25);
  add("sandbox→host callback round trip p50 ≤ 25 µs", row(s, "rpc-callback", "islet")?.p50, (_, show) => `${show(1)} µs`, (v) => v <= 25);
  const ci = row(s, "compute", "islet sandbox");
  const cn = row(s, "compute", "plain Node");
  add("compute ≥ 0.9 × plain Node speed (p50 time ratio node/islet)", ci && cn ? cn.p50 / ci.p50 : undefined, (_, show) => `${show()} ×`, (v) => v >= 0.9);
  const unused = row(s, "start-cost", "islet, web platform present, unused");
  const bare = row(s, "start-cost", "islet runtime without the web platform");
  add(
    "fresh sandbox with the web platform unused within 10 % of one without it (p50)",
    unused && bare ? unused.p50 / bare.p50 : undefined,
    (_, show) => `${show()} × (${fmt(unused!.p50)} ms / ${fmt(bare!.p50)} ms)`,
    (v) => v <= 1.1,
  );
  return out;
}
