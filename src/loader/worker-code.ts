// Validates a WorkerCode (untrusted in shape as well as content) and turns its modules into
// ES module sources the engine can compile: TypeScript transpiled, CommonJS wrapped, text, json,
// data and wasm turned into small generated modules.

import { createHash } from "node:crypto";
import { transformSync } from "esbuild";
import { WorkerCodeError } from "../errors.ts";
import type { ModuleSource } from "../engine/sandbox.ts";
import { hasNodeCompat, resolveNodeModule } from "./node-compat.ts";
import { validateLimits, type Limits } from "./limits.ts";

export type ModuleContent =
  | string
  | { js: string }
  | { cjs: string }
  | { ts: string }
  | { text: string }
  | { data: ArrayBuffer | ArrayBufferView }
  | { json: unknown }
  | { wasm: ArrayBuffer | ArrayBufferView };

export type Fetcher = ((request: Request) => Response | Promise<Response>) | { fetch(request: Request): Response | Promise<Response> };

export interface TailEvent {
  entrypoint: string;
  method: string;
  outcome: import("../errors.ts").Outcome;
  eventTimestamp: number;
  logs: { level: string; message: unknown[]; timestamp: number }[];
  exceptions: { name: string; message: string; timestamp: number }[];
  /** Every fetch() the invocation made through globalOutbound (the audit log). */
  fetches: FetchRecord[];
  cpuTime: number;
  wallTime: number;
}

/** One outbound request as the sandbox made it, and how it ended. */
export interface FetchRecord {
  method: string;
  /** The URL the sandbox asked for: credentials a policy adds later never appear here. */
  url: string;
  timestamp: number;
  durationMs: number;
  status?: number;
  /** Why the request failed, in the words the sandbox saw. */
  error?: string;
}

export type TailReceiver = ((events: TailEvent[]) => unknown) | { tail(events: TailEvent[]): unknown };

export interface WorkerCode {
  compatibilityDate: string;
  compatibilityFlags?: string[];
  mainModule: string;
  modules: Record<string, ModuleContent>;
  env?: Record<string, unknown>;
  globalOutbound?: Fetcher | null;
  limits?: Limits;
  tails?: TailReceiver[];
}

export type ModuleKind = "js" | "cjs" | "ts" | "text" | "data" | "json" | "wasm";

export interface PreparedModule extends ModuleSource {
  kind: ModuleKind;
  /** Bytes for data and wasm modules, handed to the runtime before evaluation. */
  bytes?: Uint8Array;
  /** Source-map mappings of a module transpiled from TypeScript. */
  sourceMap?: string;
}

export interface PreparedCode {
  main: string;
  modules: Map<string, PreparedModule>;
  /** Some module mentions `await`: it may use top-level await, which start-up must wait for. */
  mayAwaitAtTopLevel: boolean;
  /** The nodejs_compat flag: Node built-ins are importable and Buffer/process are globals. */
  nodeCompat: boolean;
}

export const MAX_MODULES = 1_000;
export const MAX_CODE_BYTES = 64 * 1024 * 1024;

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

export function validateWorkerCode(code: unknown): asserts code is WorkerCode {
  if (code === null || typeof code !== "object") throw new WorkerCodeError("WorkerCode must be an object.");
  const c = code as Record<string, unknown>;
  if (typeof c.compatibilityDate !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(c.compatibilityDate)) {
    throw new WorkerCodeError('compatibilityDate must be a date string like "2026-01-01".');
  }
  if (c.compatibilityFlags !== undefined && (!Array.isArray(c.compatibilityFlags) || !c.compatibilityFlags.every((f) => typeof f === "string"))) {
    throw new WorkerCodeError("compatibilityFlags must be an array of strings.");
  }
  if (c.modules === null || typeof c.modules !== "object" || Array.isArray(c.modules)) throw new WorkerCodeError("modules must be an object mapping names to module contents.");
  if (typeof c.mainModule !== "string" || c.mainModule === "") throw new WorkerCodeError("mainModule must be a non-empty string naming one of the modules.");
  if (!Object.prototype.hasOwnProperty.call(c.modules, c.mainModule)) throw new WorkerCodeError(`mainModule "${c.mainModule}" is not one of the modules.`);
  if (c.env !== undefined && (c.env === null || typeof c.env !== "object")) throw new WorkerCodeError("env must be an object.");
  if (c.tails !== undefined && !Array.isArray(c.tails)) throw new WorkerCodeError("tails must be an array.");
  validateLimits(c.limits, "WorkerCode", WorkerCodeError);
  if (c.globalOutbound !== undefined && c.globalOutbound !== null && typeof c.globalOutbound !== "function" && typeof (c.globalOutbound as { fetch?: unknown }).fetch !== "function") {
    throw new WorkerCodeError("globalOutbound must be null, a function or an object with a fetch method.");
  }
}

export function normalizeName(name: string): string {
  if (name === "" || name.length > 1024) throw new WorkerCodeError("Module names must be 1 to 1024 characters long.", name);
  if (/[\0-\x1f\\]/.test(name)) throw new WorkerCodeError("Module names may not contain control characters or backslashes.", name);
  if (name.startsWith("/") || /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(name)) throw new WorkerCodeError("Module names must be relative paths like \"src/index.js\".", name);
  const parts: string[] = [];
  for (const part of name.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") throw new WorkerCodeError('Module names may not contain "..".', name);
    parts.push(part);
  }
  return parts.join("/");
}

function extensionOf(name: string): string {
  const slash = name.lastIndexOf("/");
  const dot = name.lastIndexOf(".");
  return dot > slash ? name.slice(dot).toLowerCase() : "";
}

function bytesOf(value: unknown, name: string, kind: string): Uint8Array {
  if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
  throw new WorkerCodeError(`a ${kind} module must be an ArrayBuffer or a typed array.`, name);
}

function classify(name: string, content: unknown): { kind: ModuleKind; value: unknown } {
  if (typeof content === "string") {
    const kind = kindsByExtension[extensionOf(name)];
    if (kind === undefined) throw new WorkerCodeError(`cannot tell the module kind from the name; use a known extension (.js .mjs .cjs .ts .txt .json .wasm) or an object like { js: "..." }.`, name);
    if (kind === "wasm" || kind === "data") throw new WorkerCodeError(`a ${kind} module must be given as { ${kind}: bytes }, not a string.`, name);
    return { kind, value: kind === "json" ? parseJson(content, name) : content };
  }
  if (content === null || typeof content !== "object" || Array.isArray(content)) throw new WorkerCodeError("module content must be a string or an object like { js: \"...\" }.", name);
  const keys = Object.keys(content);
  if (keys.length !== 1 || !objectKinds.includes(keys[0] as ModuleKind)) {
    throw new WorkerCodeError(`unknown module kind ${JSON.stringify(keys.join(","))}; expected one of ${objectKinds.join(", ")}.`, name);
  }
  const kind = keys[0] as ModuleKind;
  const value = (content as Record<string, unknown>)[kind];
  if ((kind === "js" || kind === "cjs" || kind === "ts" || kind === "text") && typeof value !== "string") throw new WorkerCodeError(`a ${kind} module must be a string.`, name);
  return { kind, value };
}

function parseJson(text: string, name: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new WorkerCodeError(`invalid JSON: ${(error as Error).message}`, name);
  }
}

interface Transpiled {
  code: string;
  /** Source-map v3 mappings from the JavaScript back to the TypeScript source. */
  mappings: string;
}

const tsCache = new Map<string, Transpiled>();
const TS_CACHE_LIMIT = 500;
/** How often TypeScript was transpiled versus served from the content cache. */
export const typeScriptCacheStats = { transpiled: 0, hits: 0 };

function typeScriptCacheKey(source: string, name: string): string {
  return createHash("sha256").update(name).update("\0").update(source).digest("base64");
}

/** Process isolation: the parent transpiles (its children may not start esbuild's process) and hands the result over. */
export function primeTypeScriptCache(source: string, name: string, transpiled: Transpiled): void {
  if (tsCache.size >= TS_CACHE_LIMIT) tsCache.delete(tsCache.keys().next().value as string);
  tsCache.set(typeScriptCacheKey(source, name), transpiled);
}

export function transpileTypeScript(source: string, name: string): Transpiled {
  const key = typeScriptCacheKey(source, name);
  const cached = tsCache.get(key);
  if (cached !== undefined) {
    typeScriptCacheStats.hits++;
    return cached;
  }
  typeScriptCacheStats.transpiled++;
  let transpiled: Transpiled;
  try {
    const result = transformSync(source, { loader: "ts", format: "esm", target: "es2022", sourcefile: name, sourcemap: "external", logLevel: "silent" });
    transpiled = { code: result.code, mappings: (JSON.parse(result.map) as { mappings: string }).mappings };
  } catch (error) {
    const first = (error as { errors?: { text: string; location?: { line: number; column: number } }[] }).errors?.[0];
    const where = first?.location ? ` (${first.location.line}:${first.location.column})` : "";
    throw new WorkerCodeError(`TypeScript error${where}: ${first?.text ?? (error as Error).message}`, name);
  }
  if (tsCache.size >= TS_CACHE_LIMIT) tsCache.delete(tsCache.keys().next().value as string);
  tsCache.set(key, transpiled);
  return transpiled;
}

/** Rewrites `require("x")` calls of a CommonJS module into imports resolved like ES imports. */
function wrapCommonJs(source: string, name: string, modules: Map<string, { kind: ModuleKind }>, names: Set<string>, nodeCompat: boolean): string {
  const specifiers = new Map<string, string>();
  const requirePattern = /\brequire\s*\(\s*(["'])((?:\\.|(?!\1).)*)\1\s*\)/g;
  for (const match of source.matchAll(requirePattern)) {
    const specifier = match[2];
    if (!specifiers.has(specifier)) specifiers.set(specifier, `__islet_r${specifiers.size}`);
  }
  const imports: string[] = [];
  const table: string[] = [];
  for (const [specifier, local] of specifiers) {
    const target = resolveSpecifier(specifier, name, names, nodeCompat);
    const targetKind = modules.get(target)?.kind;
    imports.push(`import * as ${local} from ${JSON.stringify(specifier)};`);
    table.push(`${JSON.stringify(specifier)}: () => ${targetKind === "js" || targetKind === "ts" ? local : `${local}.default`}`);
  }
  // Everything before the user's code sits on its first line, so line numbers in stack traces match.
  return (
    `${imports.join(" ")} const __islet_req = { ${table.join(", ")} }; const module = { exports: {} }; ` +
    `(function (exports, require, module, __filename, __dirname) {${source}\n}).call(module.exports, module.exports, ` +
    `(s) => { const f = __islet_req[s]; if (f === undefined) throw new Error("Cannot find module '" + s + "' from ${name.replace(/["\\]/g, "")}"); return f(); }, ` +
    `module, ${JSON.stringify(name)}, ${JSON.stringify(name.includes("/") ? name.slice(0, name.lastIndexOf("/")) : ".")});\n` +
    `export default module.exports;\n`
  );
}

/**
 * Resolves an import specifier relative to the importing module. Besides exact names, a `.js`
 * import finds a `.ts` module of the same name (TypeScript's convention) and an extension-less
 * import finds `.js` / `.ts`. A bare name is the worker's own module of exactly that name if there
 * is one, else a Node built-in ("node:<name>", see node-compat.ts); `node:` always means Node's.
 */
export function resolveSpecifier(specifier: string, referrer: string, names: { has(name: string): boolean }, nodeCompat = false): string {
  if (!specifier.startsWith("./") && !specifier.startsWith("../") && !specifier.startsWith("/")) {
    if (names.has(specifier)) return specifier;
    const nodeModule = resolveNodeModule(specifier, referrer, nodeCompat);
    if (nodeModule !== undefined) return nodeModule;
    throw new WorkerCodeError(`cannot import "${specifier}": only relative imports of the worker's own modules and "cloudflare:workers" are available.`, referrer);
  }
  const base = specifier.startsWith("/") ? [] : referrer.split("/").slice(0, -1);
  for (const part of specifier.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (base.length === 0) throw new WorkerCodeError(`cannot import "${specifier}": it points outside the worker's modules.`, referrer);
      base.pop();
    } else base.push(part);
  }
  const target = base.join("/");
  const candidates = [target, target.replace(/\.js$/, ".ts"), target.replace(/\.mjs$/, ".mts"), `${target}.js`, `${target}.ts`, `${target}/index.js`, `${target}/index.ts`];
  for (const candidate of candidates) if (names.has(candidate)) return candidate;
  throw new WorkerCodeError(`cannot resolve import "${specifier}": no module named "${target}".`, referrer);
}

export function prepareModules(code: WorkerCode): PreparedCode {
  const entries = Object.entries(code.modules);
  if (entries.length === 0) throw new WorkerCodeError("modules is empty.");
  if (entries.length > MAX_MODULES) throw new WorkerCodeError(`too many modules (${entries.length}; at most ${MAX_MODULES}).`);
  const classified = new Map<string, { kind: ModuleKind; value: unknown }>();
  let total = 0;
  for (const [rawName, content] of entries) {
    const name = normalizeName(rawName);
    if (classified.has(name)) throw new WorkerCodeError("two modules have the same normalized name.", name);
    const entry = classify(name, content);
    total += typeof entry.value === "string" ? entry.value.length : ArrayBuffer.isView(entry.value) || entry.value instanceof ArrayBuffer ? (entry.value as ArrayBuffer).byteLength : 0;
    if (total > MAX_CODE_BYTES) throw new WorkerCodeError(`the modules are too large (more than ${MAX_CODE_BYTES / 1024 / 1024} MB).`);
    classified.set(name, entry);
  }
  const names = new Set(classified.keys());
  const nodeCompat = hasNodeCompat(code.compatibilityFlags);
  const modules = new Map<string, PreparedModule>();
  for (const [name, { kind, value }] of classified) {
    modules.set(name, prepareOne(name, kind, value, classified, names, nodeCompat));
  }
  let mayAwaitAtTopLevel = false;
  for (const module of modules.values()) if (module.kind !== "text" && module.kind !== "json" && /\bawait\b/.test(module.source)) mayAwaitAtTopLevel = true;
  return { main: normalizeName(code.mainModule), modules, mayAwaitAtTopLevel, nodeCompat };
}

function prepareOne(name: string, kind: ModuleKind, value: unknown, all: Map<string, { kind: ModuleKind }>, names: Set<string>, nodeCompat: boolean): PreparedModule {
  switch (kind) {
    case "js":
      return { name, kind, source: value as string };
    case "ts": {
      const { code, mappings } = transpileTypeScript(value as string, name);
      return { name, kind, source: code, sourceMap: mappings };
    }
    case "cjs":
      return { name, kind, source: wrapCommonJs(value as string, name, all, names, nodeCompat) };
    case "text":
      return { name, kind, source: `export default ${JSON.stringify(value)};` };
    case "json": {
      let text: string | undefined;
      try {
        text = JSON.stringify(value);
      } catch (error) {
        throw new WorkerCodeError(`the json module's value cannot be serialized: ${(error as Error).message}`, name);
      }
      return { name, kind, source: `export default JSON.parse(${JSON.stringify(text ?? "null")});` };
    }
    case "data":
      return { name, kind, internal: true, bytes: bytesOf(value, name, kind), source: `import { takeData } from "islet:runtime"; export default takeData(${JSON.stringify(name)}).buffer;` };
    case "wasm": {
      const bytes = bytesOf(value, name, kind);
      if (!(globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly.validate(bytes)) throw new WorkerCodeError("not a valid WebAssembly module.", name);
      return { name, kind, internal: true, bytes, source: `import { takeData } from "islet:runtime"; export default new WebAssembly.Module(takeData(${JSON.stringify(name)}));` };
    }
  }
}
