// What a CommonJS source requires and exports, as plain data: the one function both the host (for a
// small source) and the analysis thread (commonjs-thread.ts, for the rest) run. It imports nothing
// of islet, so the thread can load it on its own (in islet's own tests, from TypeScript source with
// Node's type stripping).
//
// What it answers is bounded whatever the source: the face and the wrapper the host generates from
// it (commonjs.ts) are then bounded too (findings18/02: one million `exports.eN = N` lines made the
// host lex and generate for 3.5 s).

import { createRequire } from "node:module";
import { build, type BuildFailure } from "esbuild";

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

/**
 * The most named exports an ES importer gets from one CommonJS module (its own and those of the
 * modules it re-exports whole, in the order the lexer finds them): names past it are reached
 * through the default export (module.exports) only.
 */
export const MAX_COMMONJS_EXPORT_NAMES = 10_000;
/** The longest export name or specifier kept, in UTF-16 units (a module name is at most this long). */
export const MAX_COMMONJS_NAME_LENGTH = 1_024;
/** The most distinct require() specifiers one CommonJS module may have: more is a WorkerCodeError. */
export const MAX_COMMONJS_REQUIRES = 10_000;
/** The most distinct whole-module re-exports followed from one CommonJS module (a worker has at most 1,000 modules). */
export const MAX_COMMONJS_REEXPORTS = 1_000;

/** Why a source cannot be analyzed: a syntax error where esbuild found it, or too many requires. */
export interface CommonJsRefusal {
  refused: string;
}

/**
 * What the source requires and exports. The require() calls are found by esbuild's parser (its
 * asynchronous API, in esbuild's process; `scan` runs that job: the host queues it); the exports by
 * Node's cjs-module-lexer, here.
 */
export async function analyzeSource(source: string, name: string, scan: <T>(job: () => Promise<T>) => Promise<T> = (job) => job()): Promise<CommonJsAnalysis | CommonJsRefusal> {
  let requires: string[] = [];
  if (source.includes("require")) {
    const found = await scan(() => findRequires(source, name));
    if (!Array.isArray(found)) return found;
    requires = found;
  }
  const lexed = lexCommonJs(source, name);
  return { requires, exports: lexed.exports, reexports: lexed.reexports };
}

/**
 * cjs-module-lexer's reading of a source (Node's rule: one it cannot read exports no names),
 * distinct names only; bounded as above unless `bounded` is false (the files of the npm packages
 * the host installed and allows, packages.ts, which are not worker code).
 */
export function lexCommonJs(source: string, name: string, bounded = true): { exports: string[]; reexports: string[] } {
  let lexed: { exports: string[]; reexports: string[] };
  try {
    lexed = lexer.parse(source, name);
  } catch {
    return { exports: [], reexports: [] };
  }
  if (!bounded) return { exports: [...new Set(lexed.exports)], reexports: [...new Set(lexed.reexports)] };
  return { exports: distinct(lexed.exports, MAX_COMMONJS_EXPORT_NAMES, true), reexports: distinct(lexed.reexports, MAX_COMMONJS_REEXPORTS, false) };
}

/** The first `max` distinct names of at most MAX_COMMONJS_NAME_LENGTH units (and well-formed Unicode, for export names). */
function distinct(names: readonly string[], max: number, exportName: boolean): string[] {
  const kept = new Set<string>();
  for (const name of names) {
    if (kept.size >= max) break;
    if (name.length > MAX_COMMONJS_NAME_LENGTH || (exportName && !name.isWellFormed())) continue;
    kept.add(name);
  }
  return [...kept];
}

/**
 * The string specifiers of the source's require() calls, in order of first appearance. The source
 * is parsed as the function body it becomes (so top-level return, new.target and arguments are
 * allowed, as in Node), with `require` left free: a require() esbuild reports is a call of it.
 * (Without the word "require" there is no call to find; one written with escapes, r\u0065quire,
 * is not found and fails at the call like any specifier not found here.) A specifier longer than
 * MAX_COMMONJS_NAME_LENGTH names no module: it is left out, and its require() fails at the call.
 */
async function findRequires(source: string, name: string): Promise<string[] | CommonJsRefusal> {
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
      for (const record of input.imports) if (record.kind === "require-call" && record.path.length <= MAX_COMMONJS_NAME_LENGTH) requires.add(record.path);
    }
  } catch (error) {
    const first = (error as BuildFailure).errors?.[0];
    const location = first?.location;
    const where = location ? ` (${location.line}:${location.line === 1 ? location.column - prefix.length : location.column})` : "";
    return { refused: `SyntaxError${where}: ${first?.text ?? (error as Error).message}` };
  }
  if (requires.size > MAX_COMMONJS_REQUIRES) return { refused: `more than ${MAX_COMMONJS_REQUIRES.toLocaleString("en-US")} distinct require() specifiers (${requires.size.toLocaleString("en-US")}).` };
  return [...requires];
}

/** A `#!` first line is a comment, as Node reads it; the line stays so line numbers match. */
export function withoutHashbang(source: string): string {
  return source.startsWith("#!") ? `//${source.slice(2)}` : source;
}
