// CommonJS modules as ES modules, with Node's semantics: require() runs a module on its first
// call (not at load), returns module.exports, and meets a module still running (a cycle) with
// its exports so far; ES importers get module.exports as the default export and the names
// cjs-module-lexer (Node's own) detects as named exports.
//
// The require() calls are found by esbuild's parser (a bundle with every import external, read
// from its metafile), so requires in comments and strings, and of a shadowed `require`, are not
// calls. Only those specifiers can be required: the engine links modules before running them, so
// a require(x) whose x was not a literal it could see throws at the call, saying so.
//
// Worker code is untrusted and its size is the attacker's: a WorkerCode's first 64 KiB of CommonJS
// are analyzed here, the rest in a worker thread (commonjs-thread.ts), so the host's event loop
// never lexes or hashes more than that (findings18/02: 25 MB of `exports.eN = N` lines held it
// 3.5 s); each analysis is bounded (commonjs-analysis.ts), and so is the code generated from them
// per WorkerCode (MAX_COMMONJS_GENERATED_CHARS).

import { createHash } from "node:crypto";
import { Worker as NodeWorker } from "node:worker_threads";
import { WorkerCodeError } from "../../errors.ts";
import { ContentCache, stringBytes } from "./content-cache.ts";
import { esbuildJob, type PreparationTicket } from "./esbuild-queue.ts";
import { analyzeSource, lexCommonJs, MAX_COMMONJS_EXPORT_NAMES, MAX_COMMONJS_NAME_LENGTH, withoutHashbang, type CommonJsAnalysis, type CommonJsRefusal } from "./commonjs-analysis.ts";
import { FACE_PREFIX, PACKAGE_PREFIX, REQUIRE_PREFIX, resolveSpecifier } from "./resolve.ts";
import type { PackageImports } from "./packages.ts";
import type { ModuleKind } from "./types.ts";

export { lexCommonJs, MAX_COMMONJS_EXPORT_NAMES, type CommonJsAnalysis };

/** At most 500 analyses and 16 MiB of their names (a source may name any number of exports). */
const analysisCache = new ContentCache<CommonJsAnalysis>(500, 16 * 1024 * 1024, (analysis) => stringBytes(analysis.requires) + stringBytes(analysis.exports) + stringBytes(analysis.reexports) + 64 * (analysis.requires.length + analysis.exports.length + analysis.reexports.length));
/** How often a CommonJS source was parsed versus served from the content cache, and how often the analysis thread did it. */
export const commonJsCacheStats = { analyzed: 0, hits: 0, offThread: 0 };

export function commonJsCacheKey(source: string): string {
  return createHash("sha256").update(source).digest("base64");
}

/**
 * CommonJS source one WorkerCode may have analyzed on the host's own thread, in characters: the
 * rest goes to the analysis thread. Lexing this much takes about a millisecond, less than a
 * round trip to a thread that is not running yet; a large source (or many) would hold the host's
 * event loop for seconds (findings18/02: 3.5 s for 25 MB).
 */
export const COMMONJS_IN_PLACE_CHARS = 64 * 1024;

/**
 * What the source requires and exports, cached by content; its require() calls found by esbuild's
 * asynchronous API, off the host's event loop. A source within `inPlace` (the characters the
 * WorkerCode may still have analyzed here) is hashed and lexed here; any other is hashed and
 * analyzed whole in the analysis thread, this thread only handing it over (a copy), within one of
 * esbuild's slots (so the thread holds at most ESBUILD_CONCURRENCY sources, and a load waiting
 * for a slot is charged to its queue budget). `given` holds analyses the host handed over (a
 * shard: it runs neither esbuild nor the analysis thread, and hashes in place, off the host's
 * thread), by content key. `ticket`: the loader's queue budget the jobs wait on
 * (esbuild-queue.ts); without one, the process's.
 */
export async function analyzeCommonJs(
  source: string,
  name: string,
  given?: ReadonlyMap<string, CommonJsAnalysis>,
  ticket?: PreparationTicket,
  inPlace?: { chars: number },
): Promise<{ key: string; analysis: CommonJsAnalysis }> {
  const queued = ticket ?? { bytes: source.length };
  if (given !== undefined || (inPlace !== undefined && source.length <= inPlace.chars)) {
    const key = commonJsCacheKey(source);
    const handed = given?.get(key);
    if (handed !== undefined) return { key, analysis: handed };
    if (inPlace !== undefined && source.length <= inPlace.chars) {
      inPlace.chars -= source.length;
      return { key, analysis: await cached(key, name, () => analyzeSource(source, name, (job) => esbuildJob(job, queued))) };
    }
  }
  return esbuildJob(async () => {
    const handed = await analysisThread.hand(source, name);
    let analyzed = false;
    try {
      const analysis = await cached(handed.key, name, () => {
        analyzed = true;
        commonJsCacheStats.offThread++;
        return analysisThread.analyze(handed.id, name);
      });
      return { key: handed.key, analysis };
    } finally {
      if (!analyzed) analysisThread.drop(handed.id);
    }
  }, queued);
}

/** The analysis under `key`: cached, being made for another caller, or made by `make` (a refusal is a WorkerCodeError). */
async function cached(key: string, name: string, make: () => Promise<CommonJsAnalysis | CommonJsRefusal>): Promise<CommonJsAnalysis> {
  const { value, made } = await analysisCache.getOrMake(key, async () => {
    const answer = await make();
    if ("refused" in answer) throw new WorkerCodeError(answer.refused, name);
    return answer;
  });
  if (made) commonJsCacheStats.analyzed++;
  else commonJsCacheStats.hits++;
  return value;
}

/** The analysis thread's heap: a source of 64 MiB (the most a WorkerCode holds) and its names fit. */
const ANALYSIS_THREAD_HEAP_MB = 1024;

type ThreadAnswer = { key?: string; answer?: CommonJsAnalysis | CommonJsRefusal; error?: string };

/**
 * One worker thread running commonjs-thread.ts, made at its first request: it keeps the process
 * alive only while requests are in flight. One that dies (out of memory: the source was too large
 * to analyze) fails the requests in flight; the next request makes another.
 */
class AnalysisThread {
  private worker: NodeWorker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (answer: ThreadAnswer) => void }>();

  /** Hands the source to the thread, which holds it: its content key (commonJsCacheKey), and the ticket to analyze or drop it. */
  async hand(source: string, name: string): Promise<{ id: number; key: string }> {
    const id = this.nextId++;
    const { key, error } = await this.request(id, { op: "key", id, source });
    if (key === undefined) throw new WorkerCodeError(`this CommonJS module could not be analyzed: ${error ?? "the analysis failed"}.`, name);
    return { id, key };
  }

  async analyze(id: number, name: string): Promise<CommonJsAnalysis | CommonJsRefusal> {
    const { answer, error } = await this.request(id, { op: "analyze", id, name });
    return answer ?? { refused: `this CommonJS module could not be analyzed: ${error ?? "the analysis failed"}.` };
  }

  drop(id: number): void {
    this.worker?.postMessage({ op: "drop", id });
  }

  private request(id: number, message: unknown): Promise<ThreadAnswer> {
    const worker = this.worker ?? this.start();
    return new Promise((resolve) => {
      this.pending.set(id, { resolve });
      if (this.pending.size === 1) worker.ref();
      worker.postMessage(message);
    });
  }

  private start(): NodeWorker {
    // From islet's own TypeScript source (its tests), Node strips the thread's types itself.
    const file = import.meta.url.endsWith(".ts") ? "./commonjs-thread.ts" : "./commonjs-thread.js";
    const worker = new NodeWorker(new URL(file, import.meta.url), { execArgv: [], resourceLimits: { maxOldGenerationSizeMb: ANALYSIS_THREAD_HEAP_MB } });
    worker.unref();
    // What the requests in flight are told if the thread dies: never a host path or stack.
    let failure = "the analysis thread stopped";
    worker.on("message", (message: ThreadAnswer & { id: number }) => {
      const request = this.pending.get(message.id);
      if (request === undefined) return;
      this.pending.delete(message.id);
      if (this.pending.size === 0) worker.unref();
      request.resolve(message);
    });
    worker.on("error", (error: Error & { code?: string }) => {
      failure = error.code === "ERR_WORKER_OUT_OF_MEMORY" ? "it is too large to analyze (the analysis ran out of memory)" : "the analysis failed";
    });
    worker.once("exit", () => {
      if (this.worker === worker) this.worker = undefined;
      const pending = [...this.pending.values()];
      this.pending.clear();
      for (const request of pending) request.resolve({ error: failure });
    });
    this.worker = worker;
    return worker;
  }
}

const analysisThread = new AnalysisThread();

export interface CommonJsContext {
  /** Every user module's kind and (for CommonJS modules) source, by normalized name. */
  kinds: Map<string, { kind: ModuleKind; value: unknown }>;
  nodeCompat: boolean;
  /** The npm packages the worker may import (packages.ts). */
  packages?: PackageImports;
  /** Every CommonJS module's analysis (analyzeCommonJs, made before the modules are), by normalized name. */
  analyses: Map<string, CommonJsAnalysis>;
  /** Every CommonJS module's content key (commonJsCacheKey), by normalized name. */
  keys?: Map<string, string>;
  /** What the wrappers and faces of this WorkerCode may still generate (see MAX_COMMONJS_GENERATED_CHARS). */
  generated?: { chars: number };
  /** The CommonJS modules each CommonJS module re-exports whole, resolved once (exportNames). */
  reexportTargets?: Map<string, string[]>;
}

/**
 * The most code the host generates around one WorkerCode's CommonJS modules, in characters: the
 * imports and require() cases of their wrappers and the named exports of their faces, each
 * re-export followed counting 64. The work is the host's, on its thread (about 15 ms a MiB), and
 * the analyses it reads are bounded per module only, so it is bounded per WorkerCode: past it the
 * code is refused (a WorkerCodeError). Ordinary code is far from it: a module of 10,000 named
 * exports of 20 characters takes about 1 MiB.
 */
export const MAX_COMMONJS_GENERATED_CHARS = 4 * 1024 * 1024;

/** Counts `chars` of generated code against the WorkerCode's budget; refuses the code past it. */
function generate(context: CommonJsContext, chars: number, name: string): void {
  const budget = (context.generated ??= { chars: MAX_COMMONJS_GENERATED_CHARS });
  budget.chars -= chars;
  if (budget.chars < 0) {
    throw new WorkerCodeError(
      `the CommonJS modules need more generated code than islet makes for one worker (${MAX_COMMONJS_GENERATED_CHARS / 1024 / 1024} MiB of require() cases and named exports): fewer require() specifiers, exports or re-exports.`,
      name,
    );
  }
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
      generate(context, 2 * specifier.length + reason.length + 64, name);
      cases.push(`case ${str(specifier)}: throw __islet_notFound(${str(specifier)}, ${str(reason)});`);
      continue;
    }
    generate(context, 2 * specifier.length + 96, name);
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
    `throw __islet_notFound(specifier, specifier.length > ${MAX_COMMONJS_NAME_LENGTH} ? "a module name is at most ${MAX_COMMONJS_NAME_LENGTH} characters long." : "only the string literals written in require(\\"...\\") calls can be required (the modules are linked before the worker runs)."); } ` +
    `function __islet_body(exports, require, module, __filename, __dirname) {${body}\n}\n`
  );
}

function analysisOf(name: string, context: CommonJsContext): CommonJsAnalysis {
  const analysis = context.analyses.get(name);
  if (analysis === undefined) throw new Error(`islet: the CommonJS module ${JSON.stringify(name)} was not analyzed before it was prepared.`);
  return analysis;
}

/**
 * The named exports an ES importer sees: the lexer's, then those of the modules re-exported whole
 * (as Node follows them, depth first, each module once), at most MAX_COMMONJS_EXPORT_NAMES. Each
 * re-export followed counts against the WorkerCode's generated code (a thousand modules that all
 * re-export each other would otherwise cost a thousand walks of a million links).
 */
function exportNames(name: string, context: CommonJsContext): Set<string> {
  const names = new Set<string>();
  const seen = new Set<string>();
  const visit = (module: string): void => {
    seen.add(module);
    for (const exported of analysisOf(module, context).exports) {
      if (names.size >= MAX_COMMONJS_EXPORT_NAMES) return;
      names.add(exported);
    }
    for (const target of reexportTargets(module, context)) {
      if (names.size >= MAX_COMMONJS_EXPORT_NAMES) return;
      generate(context, 64, name);
      if (!seen.has(target)) visit(target);
    }
  };
  visit(name);
  return names;
}

/** The CommonJS modules `name` re-exports whole, resolved once per WorkerCode. */
function reexportTargets(name: string, context: CommonJsContext): string[] {
  const known = context.reexportTargets?.get(name);
  if (known !== undefined) return known;
  const targets: string[] = [];
  for (const specifier of analysisOf(name, context).reexports) {
    let target: string;
    try {
      target = resolveSpecifier(specifier, name, context.kinds, context.nodeCompat);
    } catch {
      continue;
    }
    if (context.kinds.get(target)?.kind === "cjs") targets.push(target);
  }
  (context.reexportTargets ??= new Map()).set(name, targets);
  return targets;
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
  for (const exported of exportNames(name, context)) {
    // "default" is module.exports itself; a name that is not well-formed Unicode cannot be an export name.
    if (exported === "default" || exported === "module.exports" || !exported.isWellFormed()) continue;
    generate(context, 2 * exported.length + 64, name);
    lines.push(`const __islet_n${i} = __islet_get(${str(exported)}); export { __islet_n${i} as ${str(exported)} };`);
    i++;
  }
  return { name: FACE_PREFIX + name, source: lines.join("\n") };
}
