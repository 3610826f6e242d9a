// Turns a validated WorkerCode's modules into ES module sources the engine can compile:
// TypeScript transpiled, CommonJS wrapped, text, json, data and wasm as small generated modules.

import { WorkerCodeError } from "../../errors.ts";
import { hasNodeCompat } from "../node-compat.ts";
import { analyzeCommonJs, COMMONJS_IN_PLACE_CHARS, commonJsFace, commonJsModule, type CommonJsAnalysis, type CommonJsContext } from "./commonjs.ts";
import { PREPARED_PACKAGES, bundlePackages, effectivePatterns, packageSpecifiersIn, type PackageImports, type PackagePolicy } from "./packages.ts";
import { FACE_PREFIX } from "./resolve.ts";
import { transpileTypeScript, type Transpiled } from "./typescript.ts";
import type { PreparationBudget, PreparationTicket } from "./esbuild-queue.ts";
import { importsAsyncHooks, loweringCacheKey, lowerAsync, type Lowered } from "./async-lowering.ts";
import type { ModuleKind, PreparedCode, PreparedModule, WorkerCode } from "./types.ts";
import { MAX_CODE_BYTES, MAX_MODULES, normalizeName } from "./validate.ts";

const kindsByExtension: Record<string, ModuleKind> = {
  ".js": "js",
  ".mjs": "js",
  ".cjs": "cjs",
  ".ts": "ts",
  ".mts": "ts",
  ".cts": "ts",
  ".txt": "text",
  ".json": "json",
  ".wasm": "wasm",
  ".bin": "data",
};

const objectKinds: ModuleKind[] = ["js", "cjs", "ts", "text", "data", "json", "wasm"];

function extensionOf(name: string): string {
  const slash = name.lastIndexOf("/");
  const dot = name.lastIndexOf(".");
  return dot > slash ? name.slice(dot).toLowerCase() : "";
}

function bytesOf(value: unknown, name: string, kind: string): Uint8Array {
  if (isCompiledWasm(value)) throw new WorkerCodeError(compiledWasmRefused, name);
  if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
  throw new WorkerCodeError(`a ${kind} module must be an ArrayBuffer or a typed array.`, name);
}

/**
 * A compiled WebAssembly.Module (Cloudflare accepts one as a module's value, or as { wasm }). islet
 * cannot take it: V8 gives JavaScript no way to read a compiled module's bytes back, and a sandbox
 * gets only copies of what the host passes, never the host's own compiled code (which could not
 * reach a child process in process isolation anyway). The host passes the bytes it compiled.
 */
function isCompiledWasm(value: unknown): boolean {
  return Object.prototype.toString.call(value) === "[object WebAssembly.Module]";
}

const compiledWasmRefused =
  "a compiled WebAssembly.Module cannot be copied into a sandbox: V8 gives no way to read its bytes back, and a sandbox gets only copies, never the host's compiled code. Pass the bytes it was compiled from: { wasm: bytes }.";

/**
 * A module's kind and value; a json module's value is its JSON text, which only the sandbox parses
 * (the runtime's parseJson): a `.json` string as given, a `{ json }` value serialized once here
 * (the copy the sandbox needs). `givenJson` holds the texts the host handed a shard, by name.
 */
function classify(name: string, content: unknown, givenJson?: ReadonlyMap<string, string>): { kind: ModuleKind; value: unknown } {
  if (isCompiledWasm(content)) throw new WorkerCodeError(compiledWasmRefused, name);
  if (typeof content === "string") {
    const kind = kindsByExtension[extensionOf(name)];
    if (kind === undefined) throw new WorkerCodeError(`cannot tell the module kind from the name; use a known extension (.js .mjs .cjs .ts .txt .json .wasm) or an object like { js: "..." }.`, name);
    if (kind === "wasm" || kind === "data") throw new WorkerCodeError(`a ${kind} module must be given as { ${kind}: bytes }, not a string.`, name);
    return { kind, value: content };
  }
  if (content === null || typeof content !== "object" || Array.isArray(content)) throw new WorkerCodeError("module content must be a string or an object like { js: \"...\" }.", name);
  const keys = Object.keys(content);
  if (keys.length !== 1 || !objectKinds.includes(keys[0] as ModuleKind)) {
    throw new WorkerCodeError(`unknown module kind ${JSON.stringify(keys.join(","))}; expected one of ${objectKinds.join(", ")}.`, name);
  }
  const kind = keys[0] as ModuleKind;
  const value = (content as Record<string, unknown>)[kind];
  if ((kind === "js" || kind === "cjs" || kind === "ts" || kind === "text") && typeof value !== "string") throw new WorkerCodeError(`a ${kind} module must be a string.`, name);
  if (kind === "json") return { kind, value: givenJson?.get(name) ?? jsonText(value, name) };
  return { kind, value };
}

/** A `{ json }` module's value as JSON text (undefined, a function or a symbol is null). */
function jsonText(value: unknown, name: string): string {
  // JSON.stringify writes a value reached by several paths once per path: a chain of 25 objects
  // { l: prev, r: prev } is 2^24 paths, and stringify held the host's thread for seconds before
  // the 64 MB check could refuse it (findings21/03). The size is first estimated over the graph,
  // each object once, and a value past the limit is refused before any text is made.
  let size: number;
  try {
    size = jsonSizeAtLeast(value, "", new Map(), new Set());
  } catch (error) {
    throw new WorkerCodeError(`the json module's value cannot be serialized: ${(error as Error).message}`, name);
  }
  if (size > MAX_CODE_BYTES) throw new WorkerCodeError(`the modules are too large (more than ${MAX_CODE_BYTES / 1024 / 1024} MB).`, name);
  try {
    return JSON.stringify(value) ?? "null";
  } catch (error) {
    throw new WorkerCodeError(`the json module's value cannot be serialized: ${(error as Error).message}`, name);
  }
}

/**
 * A lower bound of the length of JSON.stringify(value), in linear time over the object graph: an
 * object's size is computed once however many paths reach it (memo), sums saturate past the
 * limit, and a cycle counts nothing here (stringify then refuses it). toJSON is applied as
 * stringify applies it (the result not memoized).
 */
function jsonSizeAtLeast(value: unknown, key: string, memo: Map<object, number>, open: Set<object>): number {
  if (value !== null && typeof value === "object" && typeof (value as { toJSON?: unknown }).toJSON === "function") {
    value = (value as { toJSON(key: string): unknown }).toJSON(key);
  }
  switch (typeof value) {
    case "string":
      return value.length + 2;
    case "number":
      return Number.isFinite(value) ? String(value).length : 4;
    case "boolean":
      return value ? 4 : 5;
    case "bigint":
      return 0; // stringify throws
    case "undefined":
    case "function":
    case "symbol":
      return 0;
  }
  if (value === null) return 4;
  const object = value as object;
  const known = memo.get(object);
  if (known !== undefined) return known;
  if (open.has(object)) return 0;
  open.add(object);
  let size = 2;
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length && size <= MAX_CODE_BYTES; i++) size += 1 + Math.max(4, jsonSizeAtLeast(object[i], String(i), memo, open));
  } else if (!ArrayBuffer.isView(object)) {
    for (const name of Object.keys(object)) {
      if (size > MAX_CODE_BYTES) break;
      const child = jsonSizeAtLeast((object as Record<string, unknown>)[name], name, memo, open);
      if (child > 0) size += name.length + 4 + child;
    }
  }
  open.delete(object);
  memo.set(object, size);
  return size;
}

/**
 * The package specifiers a worker may import, each bundled (or its error kept) before the sandbox
 * is taken: none unless the loader allows packages. Asynchronous (esbuild); prepareModules then
 * links them in.
 */
export async function preparePackages(code: WorkerCode, policy: PackagePolicy | undefined): Promise<PackageImports> {
  const prepared = (code as { [PREPARED_PACKAGES]?: PackageImports })[PREPARED_PACKAGES];
  if (prepared !== undefined) return prepared;
  const patterns = effectivePatterns(policy?.allow ?? [], code.packages);
  if (patterns.length === 0 || policy === undefined) return new Map();
  const sources: string[] = [];
  for (const [name, content] of Object.entries(code.modules)) {
    // Only code can import: JavaScript, CommonJS and TypeScript modules, by extension or by kind.
    const kind = kindsByExtension[extensionOf(name)];
    const text =
      typeof content === "string"
        ? kind === "js" || kind === "cjs" || kind === "ts" ? content : undefined
        : content !== null && typeof content === "object" ? ((content as { js?: unknown }).js ?? (content as { cjs?: unknown }).cjs ?? (content as { ts?: unknown }).ts) : undefined;
    if (typeof text === "string") sources.push(text);
  }
  const specifiers = packageSpecifiersIn(sources, patterns);
  if (specifiers.size === 0) return new Map();
  return bundlePackages(specifiers, policy.root, hasNodeCompat(code.compatibilityFlags));
}

/**
 * What the host derived from a shard's worker code and handed over with it (the shard's runner
 * sets it): a child process may not start esbuild's process, and a result too large for a content
 * cache must still reach it (findings16/04: a 14.5 MB lowered module was not kept, and the child
 * then ran esbuild itself, which its permissions refuse). Each by content key.
 */
export const PREPARED_DERIVED = Symbol("islet.preparedDerived");

export interface DerivedCode {
  typeScript: Map<string, Transpiled>;
  lowered: Map<string, Lowered>;
  commonJs: Map<string, CommonJsAnalysis>;
  /** json modules' texts by normalized name (their contents reach the shard as `{ json: null }`). */
  json?: Map<string, string>;
}

/**
 * The worker's modules as the engine compiles them. Asynchronous: esbuild's work (TypeScript,
 * async lowering, the CommonJS require scan) runs in esbuild's own process, off the host's event
 * loop, at most a few jobs at once (esbuild-queue.ts). While one of its jobs waits for esbuild, the
 * load is charged to `budget` (its loader's) with the bytes of all its code; past the budget the
 * job is refused at once with a WorkerCodeError.
 */
export async function prepareModules(code: WorkerCode, packages: PackageImports = new Map(), budget?: PreparationBudget): Promise<PreparedCode> {
  const given = (code as { [PREPARED_DERIVED]?: DerivedCode })[PREPARED_DERIVED];
  const entries = Object.entries(code.modules);
  if (entries.length === 0) throw new WorkerCodeError("modules is empty.");
  if (entries.length > MAX_MODULES) throw new WorkerCodeError(`too many modules (${entries.length}; at most ${MAX_MODULES}).`);
  const classified = new Map<string, { kind: ModuleKind; value: unknown }>();
  let total = 0;
  for (const [rawName, content] of entries) {
    const name = normalizeName(rawName);
    if (classified.has(name)) throw new WorkerCodeError("two modules have the same normalized name.", name);
    const entry = classify(name, content, given?.json);
    total += typeof entry.value === "string" ? entry.value.length : ArrayBuffer.isView(entry.value) || entry.value instanceof ArrayBuffer ? (entry.value as ArrayBuffer).byteLength : 0;
    if (total > MAX_CODE_BYTES) throw new WorkerCodeError(`the modules are too large (more than ${MAX_CODE_BYTES / 1024 / 1024} MB).`);
    classified.set(name, entry);
  }
  const context: CommonJsContext = { kinds: classified, nodeCompat: hasNodeCompat(code.compatibilityFlags), packages, analyses: new Map() };
  // The load holds all its code while any of its jobs waits (one at a time: they run in turn).
  const ticket: PreparationTicket = { budget, bytes: total };
  // Every CommonJS module is analyzed first: a face follows the re-exports of the others.
  // A little CommonJS source is lexed on this thread; the rest in the analysis thread (commonjs.ts).
  const inPlace = { chars: COMMONJS_IN_PLACE_CHARS };
  context.keys = new Map();
  for (const [name, { kind, value }] of classified) {
    if (kind !== "cjs") continue;
    const { key, analysis } = await analyzeCommonJs(value as string, name, given?.commonJs, ticket, inPlace);
    context.analyses.set(name, analysis);
    context.keys.set(name, key);
  }
  // A worker whose code (or a package it imports) names node:async_hooks carries async context:
  // its async functions are lowered (async-lowering.ts).
  const codeSources: string[] = [];
  for (const { kind, value } of classified.values()) if (kind === "js" || kind === "cjs" || kind === "ts") codeSources.push(value as string);
  for (const pkg of packages.values()) if (!("error" in pkg)) codeSources.push(pkg.source);
  const asyncContext = context.nodeCompat && importsAsyncHooks(codeSources);
  const modules = new Map<string, PreparedModule>();
  for (const [name, { kind, value }] of classified) {
    modules.set(name, await prepareOne(name, kind, value, context, asyncContext, given, ticket));
    if (kind === "cjs") {
      const face = commonJsFace(name, context);
      modules.set(face.name, { ...face, kind: "js" });
    }
  }
  let mayAwaitAtTopLevel = false;
  for (const module of modules.values()) if (module.kind !== "text" && module.kind !== "json" && /\bawait\b/.test(module.source)) mayAwaitAtTopLevel = true;
  // Each bundle once (two specifiers of one entry share it), under its "npm:" name.
  for (const pkg of packages.values()) {
    if ("error" in pkg || modules.has(pkg.name)) continue;
    modules.set(pkg.name, asyncContext ? await lowered({ name: pkg.name, kind: "js", source: pkg.source }, given, ticket) : { name: pkg.name, kind: "js", source: pkg.source });
    if (pkg.topLevelAwait) mayAwaitAtTopLevel = true;
  }
  // The modules whose bodies run the worker's code (a CommonJS module's runs in its face, kind
  // "js"; a package's bundle is one too).
  const codeModules: string[] = [];
  for (const module of modules.values()) if (module.kind === "js" || module.kind === "ts") codeModules.push(module.name);
  const main = normalizeName(code.mainModule);
  return {
    main: classified.get(main)?.kind === "cjs" ? FACE_PREFIX + main : main,
    modules,
    mayAwaitAtTopLevel,
    deferredModule: codeModules.length === 1 ? codeModules[0] : undefined,
    nodeCompat: context.nodeCompat,
    asyncContext,
    packages,
  };
}

/** The module with its async functions lowered, mapped back to the source it was given. */
async function lowered(module: PreparedModule, given: DerivedCode | undefined, ticket: PreparationTicket): Promise<PreparedModule> {
  const { code, mappings } = await lowerAsync(module.source, module.name, given?.lowered, ticket);
  return { ...module, source: code, sourceMap: mappings, lowering: [loweringCacheKey(module.source, module.name), code, mappings] };
}

async function prepareOne(name: string, kind: ModuleKind, value: unknown, context: CommonJsContext, asyncContext: boolean, given: DerivedCode | undefined, ticket: PreparationTicket): Promise<PreparedModule> {
  switch (kind) {
    case "js":
      return asyncContext ? lowered({ name, kind, source: value as string }, given, ticket) : { name, kind, source: value as string };
    case "ts": {
      const { code, mappings } = await transpileTypeScript(value as string, name, asyncContext, given?.typeScript, ticket);
      return { name, kind, source: code, sourceMap: mappings };
    }
    case "cjs": {
      const source = commonJsModule(value as string, name, context);
      const analysis: [string, CommonJsAnalysis] = [context.keys!.get(name)!, context.analyses.get(name)!];
      return asyncContext ? { ...(await lowered({ name, kind, source }, given, ticket)), analysis } : { name, kind, source, analysis };
    }
    case "text":
      return { name, kind, source: `export default ${JSON.stringify(value)};` };
    case "json":
      // The text goes to the sandbox as it is, parsed there before any module runs (engine: the
      // runtime's parseJson); the module only takes the value.
      return { name, kind, internal: true, json: value as string, source: `import { takeJson } from "islet:runtime"; export default takeJson(${JSON.stringify(name)});` };
    case "data":
      return { name, kind, internal: true, bytes: bytesOf(value, name, kind), source: `import { takeData } from "islet:runtime"; export default takeData(${JSON.stringify(name)}).buffer;` };
    case "wasm": {
      const bytes = bytesOf(value, name, kind);
      if (!(globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly.validate(bytes)) throw new WorkerCodeError("not a valid WebAssembly module.", name);
      return { name, kind, internal: true, bytes, source: `import { takeData } from "islet:runtime"; export default new WebAssembly.Module(takeData(${JSON.stringify(name)}));` };
    }
  }
}
