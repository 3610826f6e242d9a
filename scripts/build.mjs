// Builds the in-isolate runtime (dist/runtime.js and one dist/runtime-<chunk>.js per lazily loaded
// chunk, listed in dist/runtime-chunks.json) and compiles the host package (dist/).
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { buildPlayground } from "./build-playground.mjs";

// Each chunk is loaded the first time a sandbox touches one of its APIs (src/runtime/platform.ts).
const chunks = {
  web: "src/runtime/web/index.ts",
  url: "src/runtime/web/url/index.ts",
  events: "src/runtime/web/events/index.ts",
  streams: "src/runtime/web/streams/index.ts",
  compression: "src/runtime/web/streams/codecs/index.ts",
  crypto: "src/runtime/web/crypto/index.ts",
  node: "src/runtime/node/index.ts",
};

mkdirSync("dist", { recursive: true });
// runtime-bare.js is the core without the web platform's globals: only the benchmark that shows
// what those globals cost a fresh sandbox (bench/startup.ts) runs it.
const bundles = [
  ["src/runtime/index.ts", "dist/runtime.js", { ISLET_WEB_PLATFORM: "true", ISLET_CHUNK: "false" }],
  ["src/runtime/index.ts", "dist/runtime-bare.js", { ISLET_WEB_PLATFORM: "false", ISLET_CHUNK: "false" }],
];
const built = [];
for (const [name, entry] of Object.entries(chunks)) {
  if (!existsSync(entry)) continue;
  bundles.push([entry, `dist/runtime-${name}.js`, { ISLET_WEB_PLATFORM: "true", ISLET_CHUNK: "true" }]);
  built.push(name);
}

// Scripts, not modules: V8 compiles a script from its code cache several times faster, and the
// core runs in every new isolate. Each bundle is an ES module turned into an expression whose
// value is its exports object: no CommonJS helpers or getters to run (and compile) at start.
// A chunk's expression is instead a function of the core's primordials (src/runtime/primordials.ts)
// that returns its exports: a chunk runs after user code may have replaced globals, so it must not
// capture intrinsics itself; the core calls it with those it captured at boot (chunks.ts).
for (const [entry, outfile, define] of bundles) {
  const result = await build({
    define,
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    target: "es2022",
    minify: true,
    // Node's APIs expose function and class names (Buffer.name, inspect output, assert operators).
    // Class and function names are visible to user code (constructor.name, inspect output), so the
    // chunks keep them; the core's few public classes name themselves.
    keepNames: !entry.startsWith("src/runtime/index"),
    legalComments: "none",
    logLevel: "warning",
  });
  let code = result.outputFiles[0].text;
  if (define.ISLET_CHUNK === "true") {
    // esbuild's keepNames helper runs for every function and class of a chunk as the chunk loads,
    // after user code may have replaced Object.defineProperty or put a `get` accessor on
    // Object.prototype (which a descriptor literal inherits): either would be handed the runtime's
    // own functions. The helper uses the core's intrinsic instead, with a descriptor without prototype.
    const helper = /^var (\w+)=Object\.defineProperty;var (\w+)=\((\w+),(\w+)\)=>\1\(\3,"name",\{value:\4,configurable:!0\}\);/;
    if (!helper.test(code)) throw new Error(`${entry}: esbuild's keepNames helper changed; update scripts/build.mjs`);
    code = code.replace(helper, 'var $1=__isletPrimordials.ObjectDefineProperty;var $2=($3,$4)=>$1($3,"name",{__proto__:null,value:$4,configurable:!0});');
  }
  const match = /export\s*\{([^}]*)\};?\s*$/.exec(code);
  if (match === null) throw new Error(`${entry}: no export list at the end of the bundle`);
  const entries = match[1].split(",").map((item) => {
    const [local, exported = local] = item.trim().split(/\s+as\s+/);
    return `${JSON.stringify(exported)}:${local}`;
  });
  const body = `"use strict";${code.slice(0, match.index)}return{${entries.join(",")}};`;
  const isChunk = define.ISLET_CHUNK === "true";
  if (!isChunk && code.includes("__isletPrimordials")) throw new Error(`${entry}: the core must capture its own primordials`);
  writeFileSync(outfile, isChunk ? `(function(__isletPrimordials){${body}});\n` : `(function(){${body}})();\n`);
  console.log(`${outfile} ${(statSync(outfile).size / 1024).toFixed(1)} KB`);
}
writeFileSync("dist/runtime-chunks.json", JSON.stringify(built) + "\n");
// The playground page served by `islet serve` (dist/playground).
await buildPlayground();
execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"], { stdio: "inherit" });
