// CommonJS modules as ES modules, with Node's semantics: require() runs a module on its first
// call (not at load), returns module.exports, and meets a module still running (a cycle) with
// its exports so far; ES importers get module.exports as the default export and the names
// cjs-module-lexer (Node's own) detects as named exports.
//
// The require() calls are found by esbuild's parser (a bundle with every import external, read
// from its metafile), so requires in comments and strings, and of a shadowed `require`, are not
// calls. Only those specifiers can be required: the engine links modules before running them, so
// a require(x) whose x was not a literal it could see throws at the call, saying so.

import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { build, type BuildFailure } from "esbuild";
import { WorkerCodeError } from "../../errors.ts";
import { ContentCache, stringBytes } from "./content-cache.ts";
import { esbuildJob, type PreparationTicket } from "./esbuild-queue.ts";
import { FACE_PREFIX, PACKAGE_PREFIX, REQUIRE_PREFIX, resolveSpecifier } from "./resolve.ts";
import type { PackageImports } from "./packages.ts";
import type { ModuleKind } from "./types.ts";

// The synchronous JavaScript build of the lexer (its package's "import" entry is the WebAssembly
// one, which needs an asynchronous init).
const lexer = createRequire(import.meta.url)("cjs-module-lexer") as { parse(source: string, name?: string): { exports: string[]; reexports: string[] } };

/** What a CommonJS source requires and exports; depends on the source alone, so it is cached by content. */
export interface CommonJsAnalysis {
  /** The string specifiers of its require() calls, in order of first appearance. */
  requires: string[];
  /** Named exports (`exports.a = …`, `module.exports = { a }`, …) as Node detects them. */
  exports: string[];
  /** Specifiers whose exports it re-exports (`module.exports = require("./x")`). */
  reexports: string[];
}

/** At most 500 analyses and 16 MiB of their names (a source may name any number of exports). */
const analysisCache = new ContentCache<CommonJsAnalysis>(500, 16 * 1024 * 1024, (analysis) => stringBytes(analysis.requires) + stringBytes(analysis.exports) + stringBytes(analysis.reexports) + 64 * (analysis.requires.length + analysis.exports.length + analysis.reexports.length));
/** How often a CommonJS source was parsed versus served from the content cache. */
export const commonJsCacheStats = { analyzed: 0, hits: 0 };

export function commonJsCacheKey(source: string): string {
  return createHash("sha256").update(source).digest("base64");
}

/** cjs-module-lexer's reading of a source (Node's rule: one it cannot read exports no names). */
export function lexCommonJs(source: string, name: string): { exports: string[]; reexports: string[] } {
  try {
    const lexed = lexer.parse(source, name);
    return { exports: [...new Set(lexed.exports)], reexports: [...new Set(lexed.reexports)] };
  } catch {
    return { exports: [], reexports: [] };
  }
}

/**
 * What the source requires and exports, cached by content; its require() calls found by esbuild's
 * asynchronous API, off the host's event loop. `given` holds analyses the host handed over (a
 * shard: it does not run esbuild), by content key. `ticket`: the loader's queue budget the job
 * waits on (esbuild-queue.ts); without one, the process's.
 */
export async function analyzeCommonJs(source: string, name: string, given?: ReadonlyMap<string, CommonJsAnalysis>, ticket?: PreparationTicket): Promise<CommonJsAnalysis> {
  const key = commonJsCacheKey(source);
  const handed = given?.get(key);
  if (handed !== undefined) return handed;
  const { value, made } = await analysisCache.getOrMake(key, async () => {
    const requires = source.includes("require") ? await esbuildJob(() => findRequires(source, name), ticket ?? { bytes: source.length }) : [];
    return { requires, ...lexCommonJs(source, name) };
  });
  if (made) commonJsCacheStats.analyzed++;
  else commonJsCacheStats.hits++;
  return value;
}

/**
 * The string specifiers of the source's require() calls, in order of first appearance. The source
 * is parsed as the function body it becomes (so top-level return, new.target and arguments are
 * allowed, as in Node), with `require` left free: a require() esbuild reports is a call of it.
 * (Without the word "require" there is no call to find; one written with escapes, r\u0065quire,
 * is not found and fails at the call like any specifier not found here.)
 */
async function findRequires(source: string, name: string): Promise<string[]> {
  const prefix = "(function () {";
  const requires = new Set<string>();
  try {
    const result = await build({
      stdin: { contents: `${prefix}${withoutHashbang(source)}\n});`, sourcefile: name, loader: "js" },
      bundle: true,
      external: ["*"],
      metafile: true,
      write: false,
      format: "cjs",
      platform: "neutral",
      logLevel: "silent",
    });
    for (const input of Object.values(result.metafile.inputs)) {
      for (const record of input.imports) if (record.kind === "require-call") requires.add(record.path);
    }
  } catch (error) {
    const first = (error as BuildFailure).errors?.[0];
    const location = first?.location;
    const where = location ? ` (${location.line}:${location.line === 1 ? location.column - prefix.length : location.column})` : "";
    throw new WorkerCodeError(`SyntaxError${where}: ${first?.text ?? (error as Error).message}`, name);
  }
  return [...requires];
}

/** A `#!` first line is a comment, as Node reads it; the line stays so line numbers match. */
function withoutHashbang(source: string): string {
  return source.startsWith("#!") ? `//${source.slice(2)}` : source;
}

export interface CommonJsContext {
  /** Every user module's kind and (for CommonJS modules) source, by normalized name. */
  kinds: Map<string, { kind: ModuleKind; value: unknown }>;
  nodeCompat: boolean;
  /** The npm packages the worker may import (packages.ts). */
  packages?: PackageImports;
  /** Every CommonJS module's analysis (analyzeCommonJs, made before the modules are), by normalized name. */
  analyses: Map<string, CommonJsAnalysis>;
}

const str = JSON.stringify;

/**
 * The module under the CommonJS module's own name: its source inside a function that
 * `__islet_load()` runs once, on the first require() or import. Everything before the user's
 * code sits on its first line, so line numbers in stack traces match. Only `var` and function
 * declarations: a cycle can call `__islet_load` of a module the engine has not evaluated yet.
 */
export function commonJsModule(source: string, name: string, context: CommonJsContext): string {
  const analysis = analysisOf(name, context);
  const imports: string[] = [];
  const cases: string[] = [];
  for (const specifier of analysis.requires) {
    let target: string;
    try {
      target = resolveSpecifier(specifier, name, context.kinds, context.nodeCompat, context.packages);
    } catch (error) {
      // Node's require() of a missing module throws where it is called, and code may catch that.
      const prefix = `Module "${name}": `;
      const reason = error instanceof Error && error.message.startsWith(prefix) ? error.message.slice(prefix.length) : String((error as Error).message);
      cases.push(`case ${str(specifier)}: throw __islet_notFound(${str(specifier)}, ${str(reason)});`);
      continue;
    }
    const local = `__islet_r${imports.length}`;
    const kind = context.kinds.get(target)?.kind;
    if (kind === "cjs") {
      imports.push(`import * as ${local} from ${str(REQUIRE_PREFIX + target)};`);
      cases.push(`case ${str(specifier)}: return ${local}.__islet_load();`);
    } else if (target.startsWith(PACKAGE_PREFIX)) {
      // Node's require() of a package: a CommonJS one's module.exports (its bundle exports it as
      // "module.exports"), an ES one's namespace.
      imports.push(`import * as ${local} from ${str(specifier)};`);
      cases.push(`case ${str(specifier)}: return "module.exports" in ${local} ? ${local}["module.exports"] : ${local};`);
    } else {
      imports.push(`import * as ${local} from ${str(specifier)};`);
      // An ES module's namespace (Node's require(esm)); a built-in's, text's, json's or wasm's default.
      cases.push(`case ${str(specifier)}: return ${kind === "js" || kind === "ts" ? local : `${local}.default`};`);
    }
  }
  const dirname = name.includes("/") ? name.slice(0, name.lastIndexOf("/")) : ".";
  const body = withoutHashbang(source);
  return (
    `${imports.join(" ")} ` +
    `var __islet_module; ` +
    `export function __islet_load() { if (__islet_module !== undefined) return __islet_module.exports; ` +
    `var module = __islet_module = { id: ${str(name)}, filename: ${str(name)}, loaded: false, exports: {} }; ` +
    `try { __islet_body.call(module.exports, module.exports, __islet_require, module, ${str(name)}, ${str(dirname)}); } ` +
    `catch (error) { __islet_module = undefined; throw error; } ` +
    `module.loaded = true; return module.exports; } ` +
    `function __islet_notFound(specifier, reason) { var error = new Error("Cannot find module '" + specifier + "' required from " + ${str(name)} + ": " + reason); error.code = "MODULE_NOT_FOUND"; return error; } ` +
    `function __islet_require(specifier) { ` +
    `if (typeof specifier !== "string") throw new TypeError("require() takes a string, not " + (specifier === null ? "null" : typeof specifier) + "."); ` +
    `switch (specifier) { ${cases.join(" ")} } ` +
    `throw __islet_notFound(specifier, "only the string literals written in require(\\"...\\") calls can be required (the modules are linked before the worker runs)."); } ` +
    `function __islet_body(exports, require, module, __filename, __dirname) {${body}\n}\n`
  );
}

function analysisOf(name: string, context: CommonJsContext): CommonJsAnalysis {
  const analysis = context.analyses.get(name);
  if (analysis === undefined) throw new Error(`islet: the CommonJS module ${JSON.stringify(name)} was not analyzed before it was prepared.`);
  return analysis;
}

/** The named exports an ES importer sees: the lexer's, plus those of modules re-exported whole (as Node follows them). */
function exportNames(name: string, context: CommonJsContext, seen: Set<string>): Set<string> {
  seen.add(name);
  const analysis = analysisOf(name, context);
  const names = new Set(analysis.exports);
  for (const specifier of analysis.reexports) {
    let target: string;
    try {
      target = resolveSpecifier(specifier, name, context.kinds, context.nodeCompat);
    } catch {
      continue;
    }
    if (context.kinds.get(target)?.kind === "cjs" && !seen.has(target)) for (const n of exportNames(target, context, seen)) names.add(n);
  }
  return names;
}

/** The face: what `import … from "./x.cjs"` gets. Runs the module and exports module.exports as default and by name. */
export function commonJsFace(name: string, context: CommonJsContext): { name: string; source: string } {
  const lines = [
    `import { __islet_load } from ${str(REQUIRE_PREFIX + name)};`,
    `const __islet_exports = __islet_load();`,
    `const __islet_get = (key) => __islet_exports !== null && (typeof __islet_exports === "object" || typeof __islet_exports === "function") ? __islet_exports[key] : undefined;`,
    `export { __islet_exports as default, __islet_exports as "module.exports" };`,
  ];
  let i = 0;
  for (const exported of exportNames(name, context, new Set())) {
    // "default" is module.exports itself; a name that is not well-formed Unicode cannot be an export name.
    if (exported === "default" || exported === "module.exports" || !exported.isWellFormed()) continue;
    lines.push(`const __islet_n${i} = __islet_get(${str(exported)}); export { __islet_n${i} as ${str(exported)} };`);
    i++;
  }
  return { name: FACE_PREFIX + name, source: lines.join("\n") };
}
