// The bench's verdicts and the numbers it prints beside them agree: a measured value that misses a
// target by less than the printed digits shows more digits, never a "missed" beside the target's own
// number ("missed ≤ 1.2 MB … 1.20 MB").

import { test } from "node:test";
import assert from "node:assert/strict";
import { decisive, evaluateTargets } from "../../bench/targets.ts";
import type { Scenario } from "../../bench/report.ts";

const summary = (p50: number) => ({ n: 10, p50, p99: p50, mean: p50, min: p50, max: p50 });
const memory = (id: string, p50: number): Scenario => ({ id, title: id, unit: "MB", better: "lower", rows: [{ name: "islet", summary: summary(p50) }] });

test("a memory figure just over 1.2 MB is printed with the digits that show it missed", () => {
  const [hundred, thousand] = evaluateTargets([memory("memory-100", 1.2004), memory("memory-1000", 1.1996)]).filter((t) => t.target.includes("1.2 MB"));
  assert.deepEqual([hundred.met, hundred.measured], [false, "1.2004 MB"]);
  assert.deepEqual([thousand.met, thousand.measured], [true, "1.20 MB"], "1.20 reads as met, as 1.1996 is");
  const plain = evaluateTargets([memory("memory-100", 2.0213)]).find((t) => t.target.includes("(100 live)"))!;
  assert.equal(plain.measured, "2.02 MB", "two decimals when they already tell");
});

test("decisive(): as many digits as the verdict needs, up to 6", () => {
  assert.equal(decisive(2.004, (r) => r <= 2), "2.004");
  assert.equal(decisive(1.996, (r) => r <= 2), "2.00", "rounding onto the bound keeps the verdict of ≤");
  assert.equal(decisive(1499.6, (v) => v >= 1500, 0), "1499.6");
  assert.equal(decisive(24.96, (v) => v <= 25, 1), "25.0", "on the bound, ≤ still reads as met");
  assert.equal(decisive(25.04, (v) => v <= 25, 1), "25.04");
  assert.equal(decisive(Number.NaN, () => true), "n/a");
});
