import { Sandbox } from "./src/engine/sandbox.ts";
import { prepareModules } from "./src/loader/worker-code.ts";
import { Peer } from "./src/rpc/peer.ts";
const code = { compatibilityDate: "2026-11-01", mainModule: "w.js", modules: { "w.js": "export default { greet(n) { return 'hi ' + n; } }" } };
const acc: Record<string, number> = {};
let t = 0;
const lap = (k: string) => { const n = performance.now(); acc[k] = (acc[k] ?? 0) + n - t; t = n; };
const N = 300;
for (let i = 0; i < N + 20; i++) {
  if (i === 20) for (const k in acc) acc[k] = 0;
  t = performance.now();
  const prepared = prepareModules(code as any); lap("prepare");
  const sb = Sandbox.create(128); lap("sandbox.create");
  const peer = new Peer({ invoke: async () => 0, release() {} });
  await sb.loadModules("w.js", (n) => prepared.modules.get(n)!, (s) => s, async () => { lap("compile+instantiate"); await sb.call("setEnv", [peer.encode({}), Date.now()]); lap("setEnv"); });
  lap("evaluate+setMain");
  await sb.call("dispatch", [1, "default", "greet", peer.encode(["x"]), peer.encode({}), Date.now()]); lap("dispatch");
  sb.kill("canceled"); lap("kill");
}
for (const k in acc) console.log(k.padEnd(22), (acc[k] / N * 1000).toFixed(0), "us");
