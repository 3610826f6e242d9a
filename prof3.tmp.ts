import ivm from "isolated-vm";
import { runtimeSource } from "./src/engine/runtime-code.ts";
const src = runtimeSource();
const iso0 = new ivm.Isolate();
const m0: any = iso0.compileModuleSync(src, { filename: "islet:runtime", produceCachedData: true });
console.log("produced", m0.cachedData, Object.keys(m0));
const s0: any = iso0.compileScriptSync("(function(){" + src.replace(/export\s*\{[^}]*\};?\s*$/, "") + "})", { produceCachedData: true });
console.log("script produced", s0.cachedData?.byteLength ?? s0.cachedData);
for (const [label, opts] of [["module nocache", {}], ["module cache", { cachedData: m0.cachedData }]] as const) {
  let tot = 0;
  for (let i = 0; i < 100; i++) { const iso = new ivm.Isolate(); const t = performance.now(); const m: any = iso.compileModuleSync(src, { filename: "x", ...opts }); tot += performance.now() - t; if (i === 0) console.log(label, "rejected?", m.cachedDataRejected); iso.dispose(); }
  console.log(label, (tot / 100 * 1000).toFixed(0), "us");
}
let tot = 0;
for (let i = 0; i < 100; i++) { const iso = new ivm.Isolate(); const t = performance.now(); const s: any = iso.compileScriptSync("(function(){" + src.replace(/export\s*\{[^}]*\};?\s*$/, "") + "})", { cachedData: s0.cachedData }); tot += performance.now() - t; if (i==0) console.log("script rejected?", s.cachedDataRejected); iso.dispose(); }
console.log("script cache", (tot / 100 * 1000).toFixed(0), "us");
