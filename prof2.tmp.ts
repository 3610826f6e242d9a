import ivm from "isolated-vm";
import { compileRuntime } from "./src/engine/runtime-code.ts";
const acc: Record<string, number> = {};
let t = 0;
const lap = (k: string) => { const n = performance.now(); acc[k] = (acc[k] ?? 0) + n - t; t = n; };
const N = 300;
for (let i = 0; i < N + 20; i++) {
  if (i === 20) for (const k in acc) acc[k] = 0;
  t = performance.now();
  const iso = new ivm.Isolate({ memoryLimit: 128 }); lap("new Isolate");
  const ctx = iso.createContextSync(); lap("createContextSync");
  const s = compileRuntime(iso); lap("compileRuntime");
  const ns: any = s.runSync(ctx, { reference: true }); lap("run");
  const fns: any = {};
  for (const n of ["setup", "setEnv", "setMain", "putData", "settle", "fire", "idle", "release", "dispatch", "invoke", "drain", "linkBridge"]) fns[n] = ns.getSync(n, { reference: true });
  lap("getSync x12");
  const post = new ivm.Callback(() => {}, { ignored: true });
  fns.setup.applySync(undefined, [post, Date.now()], { arguments: { copy: true } }); lap("setup");
  iso.dispose(); lap("dispose");
}
for (const k in acc) console.log(k.padEnd(22), (acc[k] / N * 1000).toFixed(0), "us");
