// Run in its own process: `node --expose-gc --import tsx bench/memory-child.ts <count>`.
// Keeps <count> named islet workers live (the canonical worker, one call each) and prints RSS per idle live worker as JSON.

import { WorkerLoader } from "../src/index.ts";
import { canonicalCode } from "./fixtures.ts";

const count = Number(process.argv[2] ?? 100);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");

const settle = async () => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
};

const loader = new WorkerLoader({ warmPool: 0, maxWorkers: count + 10 });
const code = canonicalCode();
// One throwaway worker first, so one-time costs (runtime compile, code cache) are not counted.
const first = loader.load(code);
await first.getEntrypoint().greet("x");
first.dispose();
await settle();
const before = process.memoryUsage().rss;
const t = performance.now();
const stubs = [];
for (let i = 0; i < count; i++) {
  const stub = loader.get("w" + i, () => code);
  await stub.getEntrypoint().greet("x");
  stubs.push(stub);
}
const seconds = (performance.now() - t) / 1000;
await settle();
const after = process.memoryUsage().rss;
const live = loader.stats.liveWorkers;
console.log(JSON.stringify({ count, live, rssBeforeMb: before / 2 ** 20, rssAfterMb: after / 2 ** 20, perWorkerMb: (after - before) / 2 ** 20 / count, seconds }));
await loader.close();
process.exit(0);
