import { WorkerLoader } from "/work/main/src/index.ts";
const code = { compatibilityDate: "2026-11-01", mainModule: "w.js", modules: { "w.js": "export default { greet(n) { return 'hi ' + n; } }" } };
async function measure(label: string, loader: WorkerLoader, n: number, pause: boolean) {
  const ts: number[] = [];
  for (let i = 0; i < n; i++) {
    if (pause) await new Promise((r) => setTimeout(r, 2));
    const t = performance.now();
    const stub = loader.load(code);
    await stub.getEntrypoint().greet("x");
    ts.push(performance.now() - t);
    stub.dispose();
  }
  ts.sort((a, b) => a - b);
  console.log(label, "p50", ts[n >> 1].toFixed(3), "p99", ts[Math.floor(n * 0.99)].toFixed(3));
}
const cold = new WorkerLoader();
await measure("fresh", cold, 50, false);
await measure("fresh", cold, 500, false);
const warm = new WorkerLoader({ warmPool: 4 });
await new Promise((r) => setTimeout(r, 100));
await measure("pool ", warm, 500, true);
const live = cold.get("rt", () => code).getEntrypoint();
const ts: number[] = [];
for (let i = 0; i < 3000; i++) { const t = performance.now(); await live.greet("x"); ts.push(performance.now() - t); }
ts.sort((a, b) => a - b);
console.log("rpc p50 us", (ts[1500] * 1000).toFixed(1), "p99", (ts[2970] * 1000).toFixed(1));
await cold.close(); await warm.close();
