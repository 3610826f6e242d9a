// Builds the in-isolate runtime bundle (dist/runtime.js) and compiles the host package (dist/).
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { mkdirSync, statSync } from "node:fs";

mkdirSync("dist", { recursive: true });
// A script, not a module: V8 compiles a script from its code cache several times faster, and
// this runs in every new isolate. Its completion value is the runtime's exports object.
await build({
  entryPoints: ["src/runtime/index.ts"],
  outfile: "dist/runtime.js",
  bundle: true,
  format: "cjs",
  platform: "neutral",
  banner: { js: "(function () { \"use strict\"; var module = { exports: {} }, exports = module.exports;" },
  footer: { js: "return Object.assign({}, module.exports); })();" },
  target: "es2022",
  minify: true,
  legalComments: "none",
  logLevel: "warning",
});
console.log(`dist/runtime.js ${(statSync("dist/runtime.js").size / 1024).toFixed(1)} KB`);
execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"], { stdio: "inherit" });
