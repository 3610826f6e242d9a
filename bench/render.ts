// Writes BENCHMARKS.md from a results file (the last `npm run bench` by default), the prose
// analysis, and the latest `npm run bench:tokens` and `npm run load` tables.
// `node --import tsx bench/render.ts [bench/results/<date>.json]`

import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { markdown, type Results } from "./report.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

/** BENCHMARKS.md's text: the run's tables, then the latest token and load tables and the prose analysis, copied in as they are. */
export function benchmarksText(jsonPath: string, results: Results): string {
  const extra = ["bench/results/tokens.md", "bench/results/load.md"]
    .filter((file) => existsSync(root + file))
    .map((file) => readFileSync(root + file, "utf8").trim());
  const analysis = readFileSync(`${root}bench/analysis.md`, "utf8").trim();
  return [markdown(results, jsonPath), ...extra, analysis].join("\n\n") + "\n";
}

export function renderBenchmarks(jsonPath: string, results: Results): void {
  writeFileSync(`${root}BENCHMARKS.md`, benchmarksText(jsonPath, results));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const jsonPath =
    process.argv[2] ??
    `bench/results/${readdirSync(`${root}bench/results`).filter((f) => /^\d{4}-\d{2}-\d{2}\.json$/.test(f)).sort().pop()}`;
  renderBenchmarks(jsonPath, JSON.parse(readFileSync(root + jsonPath, "utf8")) as Results);
  console.error(`wrote BENCHMARKS.md from ${jsonPath}`);
}
