// The layering of src/: what both sides of the sandbox boundary agree on lives in src/protocol,
// which imports nothing else of islet; the runtime (code that runs inside the isolate, bundled by
// scripts/build.mjs) imports only itself and src/protocol; and no host module imports the runtime's
// source: the host reaches the runtime only as the built bundle (src/engine/runtime-code.ts reads
// dist/runtime*.js). Every import, export-from, dynamic import() and require() of every
// src/**/*.ts is read, type-only imports included (the contract's types belong in src/protocol too).

import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const src = join(root, "src");

/** Host files allowed to import the runtime's source, each with why. */
const RUNTIME_IMPORT_EXCEPTIONS: Record<string, string> = {
  // The internal testing entry: the runtime's fetch tests run the runtime's modules in Node and
  // swap its URL parser there; no sandbox and no host path uses it.
  "src/testing.ts -> src/runtime/web/url-parser.ts": "test hook of the runtime run in Node",
};

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...tsFiles(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

/**
 * The module specifiers a source file names: static imports and export-froms (a statement at the
 * start of a line, over several lines if need be), side-effect imports, import() and require().
 * Comments that start a line are dropped first, so an example in a comment is not an import.
 */
export function specifiers(source: string): string[] {
  const code = source.replace(/^\s*\/\*[\s\S]*?\*\//gm, "").replace(/^\s*\/\/.*$/gm, "");
  const out: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\b[^;]*?\bfrom\s*(["'])([^"'\n]+)\1/gm,
    /^\s*import\s*(["'])([^"'\n]+)\1/gm,
    /\bimport\(\s*(["'])([^"'\n]+)\1\s*\)/g,
    /\brequire\(\s*(["'])([^"'\n]+)\1\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of code.matchAll(pattern)) out.push(match[2]);
  return out;
}

interface Edge {
  from: string;
  /** A path relative to the repository for a relative specifier, else the bare specifier. */
  to: string;
  relative: boolean;
}

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const file of tsFiles(src)) {
    for (const specifier of specifiers(readFileSync(file, "utf8"))) {
      const isRelative = specifier.startsWith(".");
      out.push({
        from: relative(root, file).split(sep).join("/"),
        to: isRelative ? relative(root, resolve(dirname(file), specifier)).split(sep).join("/") : specifier,
        relative: isRelative,
      });
    }
  }
  return out;
}

const folderOf = (path: string): string => path.split("/").slice(0, 2).join("/");

describe("layering of src/", () => {
  const all = edges();

  it("finds imports of every form, and none in comments", () => {
    const found = specifiers(
      [
        'import { a } from "./a.ts";',
        'import type { B } from "./b.ts";',
        "import {\n  c,\n  d,\n} from './cd.ts';",
        'export { e } from "./e.ts";',
        'export * from "./f.ts";',
        'import "./g.ts";',
        'const h = await import("./h.ts");',
        'const i = require("node:i");',
        '// import { no } from "./comment.ts";',
        '/** import { no } from "./block.ts"; */',
        "export const j = 1;",
        'const k = "from \\"./k.ts\\"";',
      ].join("\n"),
    );
    assert.deepEqual(found.sort(), ["./a.ts", "./b.ts", "./cd.ts", "./e.ts", "./f.ts", "./g.ts", "./h.ts", "node:i"]);
  });

  it("reads the imports of every source file", () => {
    assert.ok(all.length > 500, `only ${all.length} imports found`);
    assert.ok(all.some((e) => e.from === "src/runtime/bridge.ts" && e.to === "src/protocol/errors.ts"));
  });

  it("no file outside src/runtime imports from src/runtime (the host runs the built bundle)", () => {
    const bad = all
      .filter((e) => e.relative && !e.from.startsWith("src/runtime/") && e.to.startsWith("src/runtime/"))
      .map((e) => `${e.from} -> ${e.to}`)
      .filter((edge) => !(edge in RUNTIME_IMPORT_EXCEPTIONS));
    assert.deepEqual(bad, []);
  });

  it("src/protocol imports nothing of islet outside src/protocol, and no Node module", () => {
    const bad = all
      .filter((e) => e.from.startsWith("src/protocol/"))
      .filter((e) => (e.relative ? !e.to.startsWith("src/protocol/") : e.to.startsWith("node:") || e.to !== "zod"))
      .map((e) => `${e.from} -> ${e.to}`);
    assert.deepEqual(bad, []);
  });

  it("src/runtime imports only src/runtime, src/protocol and bundled packages", () => {
    const bad = all
      .filter((e) => e.from.startsWith("src/runtime/") && e.relative && !["src/runtime", "src/protocol"].includes(folderOf(e.to)))
      .map((e) => `${e.from} -> ${e.to}`);
    assert.deepEqual(bad, []);
  });

  it("the exceptions are still needed (a stale one fails)", () => {
    const present = new Set(all.map((e) => `${e.from} -> ${e.to}`));
    for (const edge of Object.keys(RUNTIME_IMPORT_EXCEPTIONS)) assert.ok(present.has(edge), `${edge} no longer exists: remove the exception`);
  });

  // clonable.ts and log-size.ts read intrinsics off globals as they load: in the core that is at
  // boot, before user code; a lazily loaded chunk loads after user code may have replaced them, so
  // no chunk may bundle them (the events chunk's reportError needs only protocol/errors.ts).
  it("no lazily loaded runtime chunk bundles the value codec or the clonable list (needs npm run build)", () => {
    const chunks = JSON.parse(readFileSync(join(root, "dist/runtime-chunks.json"), "utf8")) as string[];
    assert.ok(chunks.length >= 5);
    const markers = ["Malformed value on the boundary", "objects (and Map or Set entries) to cross the sandbox boundary", "A buffer of an unknown kind"];
    const core = readFileSync(join(root, "dist/runtime.js"), "utf8");
    for (const marker of markers) assert.ok(core.includes(marker), `the core should hold "${marker}"`);
    for (const name of chunks) {
      const path = join(root, `dist/runtime-${name}.js`);
      assert.ok(existsSync(path), path);
      const code = readFileSync(path, "utf8");
      for (const marker of markers) assert.ok(!code.includes(marker), `dist/runtime-${name}.js bundles "${marker}"`);
    }
  });
});
