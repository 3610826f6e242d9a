// Builds the in-isolate runtime bundle (dist/runtime.js) and compiles the host package (dist/).
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { mkdirSync, statSync, writeFileSync } from "node:fs";

mkdirSync("dist", { recursive: true });
// Scripts, not modules: V8 compiles a script from its code cache several times faster, and the
// core runs in every new isolate. Each bundle is an ES module turned into an expression whose
// value is its exports object: no CommonJS helpers or getters to run (and compile) at start.
for (const [entry, outfile] of [["src/runtime/index.ts", "dist/runtime.js"], ["src/runtime/web/index.ts", "dist/runtime-web.js"]]) {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    minify: true,
    legalComments: "none",
    logLevel: "warning",
  });
  const code = result.outputFiles[0].text;
  const match = /export\s*\{([^}]*)\};?\s*$/.exec(code);
  if (match === null) throw new Error(`${entry}: no export list at the end of the bundle`);
  const entries = match[1].split(",").map((item) => {
    const [local, exported = local] = item.trim().split(/\s+as\s+/);
    return `${JSON.stringify(exported)}:${local}`;
  });
  writeFileSync(outfile, `(function(){"use strict";${code.slice(0, match.index)}return{${entries.join(",")}};})();\n`);
}
for (const file of ["dist/runtime.js", "dist/runtime-web.js"]) console.log(`${file} ${(statSync(file).size / 1024).toFixed(1)} KB`);
execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"], { stdio: "inherit" });
