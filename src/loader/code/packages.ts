// npm packages in worker code. A bare import the host allows (`import { z } from "zod"`, with the
// loader's `packages: ["zod"]`) is resolved from the host's own node_modules, bundled with esbuild
// into one ES module per package entry, and linked into the worker as a module of its graph: it
// runs inside the sandbox like the worker's own code, with no more privilege. Nothing is fetched:
// a package that is not installed is an error.
//
// Linking is synchronous and happens in the sandbox's shard, so the bundles are made before: the
// worker's module sources are searched for string literals naming an allowed package (a superset
// of its imports: a string that is no import costs a bundle nobody links, cached like any other),
// and each is bundled, or its error kept, before the sandbox is taken. An import of one links to
// the bundle or fails with the kept error; a bare import of anything else is a WorkerCodeError
// naming it (resolve.ts).
//
// What the sandbox's code chooses is only the specifier, and a specifier is checked before any file
// is read: a valid npm name the host allows, a subpath without empty, "." or ".." segments or
// characters a path could hide behind. The entry esbuild resolves (with the package's "exports",
// conditions workerd, worker, browser, import, default) must lie inside the package's real
// directory, and every file the bundle reads inside it or inside another package of a
// node_modules directory, with a JavaScript or JSON extension.

import { createHash } from "node:crypto";
import { readFileSync, realpathSync, statSync, type Stats } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { build, type BuildOptions, type BuildResult, type Metafile, type Plugin } from "esbuild";
import { WorkerCodeError } from "../../errors.ts";
import { NODE_MODULE_EXPORTS } from "../node-exports.generated.ts";
import { lexCommonJs } from "./commonjs.ts";
import { parsePackageSpecifier } from "./package-names.ts";
import { PACKAGE_PREFIX } from "./resolve.ts";

export { parsePackageSpecifier };

/** What a loader allows: package patterns, and the directory whose node_modules (and its parents') hold them. */
export interface PackagePolicy {
  allow: readonly string[];
  /** A real path (symlinks resolved). */
  root: string;
}

/** A package entry bundled into one ES module, under the name the engine knows it by. */
export interface PackageModule {
  /** `npm:<name>@<version>/<entry file>`: unique per bundle, and no user module's name can have a scheme. */
  name: string;
  /** Names this bundle's content (its package, version, entry, the entry's hash and nodejs_compat): a shard keeps bundles by it. */
  id: string;
  source: string;
  /** The bundle awaits at its top level (start-up must wait for it). */
  topLevelAwait: boolean;
}

/** The package specifiers a worker may import: each stands for a bundle, or for the error that made one impossible. */
export type PackageImports = ReadonlyMap<string, PackageModule | { error: string }>;

/**
 * The packages a shard's host prepared for a WorkerCode it sends (process and thread isolation): the
 * shard uses them as they are, since it neither reads node_modules nor starts esbuild. Only islet's
 * own code can set this key; nothing of the public API exports it.
 */
export const PREPARED_PACKAGES: unique symbol = Symbol("islet.preparedPackages");

/** The largest bundle a package entry may make. */
export const MAX_PACKAGE_BYTES = 10 * 1024 * 1024;
/** Distinct package specifiers one worker may name. */
export const MAX_PACKAGE_SPECIFIERS = 100;
/** Bundles kept in memory, by count and in all. */
const CACHE_ENTRIES = 200;
const CACHE_BYTES = 128 * 1024 * 1024;

/** Cloudflare's bundlers' conditions; esbuild adds "import" (or "require") and "default". */
const CONDITIONS = ["workerd", "worker", "browser"];
const MAIN_FIELDS = ["browser", "module", "main"];
const SCRIPT_EXTENSIONS = new Set([".js", ".mjs", ".cjs", ".json"]);

/**
 * How often a package entry was bundled versus served from the cache, and how many bundle sources
 * the host sent to shards that lacked them (process-wide; for tests).
 */
export const packageCacheStats = { bundled: 0, hits: 0, sentToShards: 0 };

/** A problem with one entry of a `packages` list, or undefined. */
export function packagePatternProblem(pattern: unknown): string | undefined {
  if (typeof pattern !== "string") return "must be a string";
  const parsed = parsePackageSpecifier(pattern);
  return "problem" in parsed ? parsed.problem : undefined;
}

/** A pattern allows its specifier and everything under it: "zod" allows "zod" and "zod/mini"; "zod/mini" only "zod/mini[/…]". */
export function allowedBy(patterns: readonly string[], specifier: string): boolean {
  return patterns.some((pattern) => specifier === pattern || specifier.startsWith(pattern + "/"));
}

/**
 * The patterns a worker may use: the loader's, or the WorkerCode's `packages` when it has them, each
 * of which must be allowed by the loader's (a WorkerCode can only narrow the host's list).
 */
export function effectivePatterns(loader: readonly string[], code: readonly string[] | undefined): readonly string[] {
  if (code === undefined) return loader;
  for (const pattern of code) {
    const problem = packagePatternProblem(pattern);
    if (problem !== undefined) throw new WorkerCodeError(`packages: ${JSON.stringify(pattern)}: ${problem}.`);
    if (!allowedBy(loader, pattern)) {
      throw new WorkerCodeError(
        `packages: "${pattern}" is not allowed by the WorkerLoader's packages option (${loader.length === 0 ? "none" : loader.map((p) => `"${p}"`).join(", ")}); a WorkerCode can only narrow it.`,
      );
    }
  }
  return code;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/**
 * The string literals in `sources` that an allowed pattern covers: every import of an allowed
 * package is one (its specifier is a string literal), plus strings that merely look like one.
 */
export function packageSpecifiersIn(sources: Iterable<string>, patterns: readonly string[]): Set<string> {
  const found = new Set<string>();
  if (patterns.length === 0) return found;
  const names = [...new Set(patterns.map((p) => (p.startsWith("@") ? p.split("/").slice(0, 2).join("/") : p.split("/")[0])))];
  const literal = new RegExp(`(["'\`])((?:${names.map(escapeRegExp).join("|")})(?:/[^"'\`\\s\\\\]{0,1024})?)\\1`, "g");
  for (const source of sources) {
    for (const match of source.matchAll(literal)) {
      const specifier = match[2];
      if (!allowedBy(patterns, specifier) || found.has(specifier)) continue;
      if (found.size >= MAX_PACKAGE_SPECIFIERS) throw new WorkerCodeError(`the modules name more than ${MAX_PACKAGE_SPECIFIERS} distinct package specifiers.`);
      found.add(specifier);
    }
  }
  return found;
}

/** The bundles (or errors) of every specifier, made in parallel. */
export async function bundlePackages(specifiers: Iterable<string>, root: string, nodeCompat: boolean): Promise<Map<string, PackageModule | { error: string }>> {
  const out = new Map<string, PackageModule | { error: string }>();
  await Promise.all(
    [...specifiers].map(async (specifier) => {
      try {
        out.set(specifier, await bundlePackage(specifier, root, nodeCompat));
      } catch (error) {
        out.set(specifier, { error: error instanceof WorkerCodeError ? error.message : `cannot import "${specifier}": ${(error as Error).message}` });
      }
    }),
  );
  return out;
}

interface Resolved {
  name: string;
  version: string;
  /** The package's real directory. */
  dir: string;
  /** The entry file's real path, inside `dir`. */
  entry: string;
  /** sha256 of the entry file. */
  hash: string;
  /** What the package.json and the entry were when resolved (a change resolves again). */
  stamp: string;
}

const resolutions = new Map<string, Resolved>();
const RESOLUTIONS_LIMIT = 1_000;
const cache = new Map<string, PackageModule>();
let cacheBytes = 0;
const inflight = new Map<string, Promise<PackageModule>>();

function fail(specifier: string, reason: string): never {
  throw new WorkerCodeError(`cannot import "${specifier}": ${reason}`);
}

const stampOf = (stats: Stats) => `${stats.ino}:${stats.size}:${stats.mtimeMs}`;

function statOrUndefined(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

/** The package's real directory, found as Node looks: `node_modules/<name>` in `root`, then in each parent. */
function packageDirectory(name: string, root: string): string | undefined {
  for (let dir = root; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    if (statOrUndefined(path.join(candidate, "package.json"))?.isFile()) return realpathSync(candidate);
    if (path.dirname(dir) === dir) return undefined;
  }
}

function inside(dir: string, file: string): boolean {
  const relative = path.relative(dir, file);
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative);
}

/** A file of some package installed in a node_modules directory (not a dot-directory such as node_modules/.cache). */
function inSomePackage(file: string): boolean {
  const marker = `${path.sep}node_modules${path.sep}`;
  const at = file.lastIndexOf(marker);
  return at >= 0 && !file.slice(at + marker.length).startsWith(".");
}

const buildBase: BuildOptions = {
  bundle: true,
  write: false,
  format: "esm",
  platform: "browser",
  conditions: CONDITIONS,
  mainFields: MAIN_FIELDS,
  target: "esnext",
  metafile: true,
  logLevel: "silent",
  charset: "utf8",
  define: { "process.env.NODE_ENV": '"production"' },
  // Not minified: measured on zod's bundle (660 KB), whitespace and syntax minification saved
  // nothing of a worker's start (its compile, on isolated-vm's pool, took 14 ms against 10-11),
  // and stack traces keep the package's lines.
  legalComments: "none",
};

/** The entry file esbuild resolves `specifier` to from `root`, with the conditions of the bundle. */
async function resolveEntry(specifier: string, root: string): Promise<{ path?: string; error?: string }> {
  let answer: { path?: string; error?: string } = {};
  await build({
    ...buildBase,
    stdin: { contents: "" },
    plugins: [
      {
        name: "islet-resolve",
        setup(b) {
          b.onStart(async () => {
            const result = await b.resolve(specifier, { kind: "import-statement", resolveDir: root });
            answer = result.errors.length > 0 ? { error: result.errors[0].text } : result.namespace === "file" && !result.external ? { path: result.path } : { error: "it resolves to no file" };
          });
        },
      },
    ],
  });
  return answer;
}

async function resolvePackage(specifier: string, name: string, root: string): Promise<Resolved> {
  const key = `${root}\0${specifier}`;
  const known = resolutions.get(key);
  if (known !== undefined) {
    const pkg = statOrUndefined(path.join(known.dir, "package.json"));
    const entry = statOrUndefined(known.entry);
    if (pkg !== undefined && entry !== undefined && `${stampOf(pkg)}/${stampOf(entry)}` === known.stamp) return known;
    resolutions.delete(key);
  }
  const dir = packageDirectory(name, root);
  if (dir === undefined) fail(specifier, `the package "${name}" is not installed in the host's node_modules (islet never downloads packages: install it beside the host, or point the loader's packagesRoot at its project).`);
  const pkgFile = path.join(dir, "package.json");
  let version = "0.0.0";
  try {
    const json = JSON.parse(readFileSync(pkgFile, "utf8")) as { version?: unknown };
    if (typeof json.version === "string" && /^[\w.+-]{1,64}$/.test(json.version)) version = json.version;
  } catch {
    fail(specifier, `the package.json of "${name}" cannot be read.`);
  }
  const resolved = await resolveEntry(specifier, root);
  if (resolved.path === undefined) fail(specifier, `the package "${name}" has no such entry for workers (${resolved.error}).`);
  const entry = realpathSync(resolved.path);
  if (!inside(dir, entry)) fail(specifier, `it resolves outside the package's directory.`);
  if (!SCRIPT_EXTENSIONS.has(path.extname(entry).toLowerCase())) fail(specifier, `it resolves to a ${path.extname(entry) || "extension-less"} file; only .js, .mjs, .cjs and .json files can be imported from a package.`);
  const source = readFileSync(entry);
  const stamp = `${stampOf(statSync(pkgFile))}/${stampOf(statSync(entry))}`;
  const result: Resolved = { name, version, dir, entry, hash: createHash("sha256").update(source).digest("base64"), stamp };
  if (resolutions.size >= RESOLUTIONS_LIMIT) resolutions.delete(resolutions.keys().next().value as string);
  resolutions.set(key, result);
  return result;
}

/** The bundle of one allowed specifier, from the cache when the package's version and entry are unchanged. */
export async function bundlePackage(specifier: string, root: string, nodeCompat: boolean): Promise<PackageModule> {
  const parsed = parsePackageSpecifier(specifier);
  if ("problem" in parsed) fail(specifier, `${parsed.problem}.`);
  const resolved = await resolvePackage(specifier, parsed.name, root);
  const key = `${resolved.name}@${resolved.version}\0${resolved.entry}\0${resolved.hash}\0${nodeCompat}`;
  const cached = cache.get(key);
  if (cached !== undefined) {
    packageCacheStats.hits++;
    cache.delete(key);
    cache.set(key, cached);
    return cached;
  }
  let pending = inflight.get(key);
  if (pending === undefined) {
    const id = createHash("sha256").update(key).digest("base64url");
    pending = bundleEntry(specifier, resolved, nodeCompat)
      .then((bundle) => ({ ...bundle, id }))
      .finally(() => inflight.delete(key));
    inflight.set(key, pending);
    const bundle = await pending;
    remember(key, bundle);
    return bundle;
  }
  packageCacheStats.hits++;
  return pending;
}

function remember(key: string, bundle: PackageModule): void {
  cache.set(key, bundle);
  cacheBytes += bundle.source.length;
  while (cache.size > CACHE_ENTRIES || cacheBytes > CACHE_BYTES) {
    const oldest = cache.keys().next().value as string;
    cacheBytes -= cache.get(oldest)!.source.length;
    cache.delete(oldest);
  }
}

/** @internal For tests: forget every bundle and resolution. */
export function clearPackageCache(): void {
  cache.clear();
  resolutions.clear();
  cacheBytes = 0;
}

const builtins = new Set(builtinModules.filter((name) => !name.startsWith("_")));
const SKIP = "isletSkip";
/** The generated entry of a CommonJS package's bundle (its stdin). */
const COMMONJS_ENTRY = "<islet commonjs entry>";
const NODE_NAMESPACE = "islet-node";
const nodeLocal = (name: string) => `__islet_node_${name.replace(/[^A-Za-z0-9]/g, "_")}`;

/**
 * Node built-ins and Cloudflare's modules stay imports of the worker's graph (islet's own modules,
 * "node:*" with nodejs_compat): an import of one is left as `import … from "node:<name>"`, so
 * without nodejs_compat it fails at link time naming the module, as the worker's own import would.
 * A require() of one, which Node runs only when called, becomes a module that returns the built-in
 * (imported at the bundle's top, see `required`) or throws MODULE_NOT_FOUND when called; a package's
 * "browser" field that replaces or disables a built-in is honoured.
 */
function builtinsPlugin(nodeCompat: boolean, required: Set<string>): Plugin {
  return {
    name: "islet-packages",
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (args) => {
        if ((args.pluginData as Record<string, unknown> | undefined)?.[SKIP]) return undefined;
        const specifier = args.path;
        if (specifier.startsWith("cloudflare:")) return { path: specifier, external: true };
        const prefixed = specifier.startsWith("node:");
        const name = prefixed ? specifier.slice(5) : specifier;
        if (!prefixed && !builtins.has(name)) return undefined;
        if (!prefixed) {
          // The package's own "browser" map may disable it ("crypto": false) or point it at a file
          // of its own; a polyfill package of the built-in's name in node_modules is not used.
          const own = await b.resolve(specifier, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { [SKIP]: true } });
          if (own.errors.length === 0 && (own.namespace !== "file" || !own.path.includes(`${path.sep}node_modules${path.sep}${name}${path.sep}`))) return undefined;
        }
        if (args.kind === "require-call") return { path: name, namespace: NODE_NAMESPACE };
        return { path: `node:${name}`, external: true };
      });
      b.onLoad({ filter: /.*/, namespace: NODE_NAMESPACE }, (args) => {
        const name = args.path;
        if (nodeCompat && Object.hasOwn(NODE_MODULE_EXPORTS, name)) {
          required.add(name);
          return { contents: `module.exports = ${nodeLocal(name)};`, loader: "js" };
        }
        const reason = nodeCompat
          ? `the Node.js module "${name}" is not available in the sandbox`
          : `Node.js built-in modules need the "nodejs_compat" compatibility flag`;
        return { contents: `var e = new Error(${JSON.stringify(`Cannot find module '${name}': ${reason}.`)}); e.code = "MODULE_NOT_FOUND"; throw e;`, loader: "js" };
      });
    },
  };
}

async function runBuild(specifier: string, options: BuildOptions): Promise<BuildResult & { metafile: Metafile }> {
  try {
    return (await build(options)) as BuildResult & { metafile: Metafile };
  } catch (error) {
    const first = (error as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors?.[0];
    if (first !== undefined && /top-level await/i.test(first.text)) throw new TopLevelAwait();
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : "";
    fail(specifier, `bundling failed: ${first?.text ?? (error as Error).message}${where}`);
  }
}

class TopLevelAwait extends Error {}

async function bundleEntry(specifier: string, resolved: Resolved, nodeCompat: boolean): Promise<Omit<PackageModule, "id">> {
  const entryKey = path.relative(resolved.dir, resolved.entry).split(path.sep).join("/");
  const name = `${PACKAGE_PREFIX}${resolved.name}@${resolved.version}/${entryKey}`;
  const attempt = async (topLevelAwait: boolean) => {
    const required = new Set<string>();
    const options: BuildOptions = {
      ...buildBase,
      absWorkingDir: resolved.dir,
      plugins: [builtinsPlugin(nodeCompat, required)],
      // Built first without top-level await, so a bundle that has none is known to have none.
      supported: topLevelAwait ? {} : { "top-level-await": false },
    };
    let result = await runBuild(specifier, { ...options, entryPoints: [resolved.entry] });
    const entryInput = Object.entries(result.metafile.inputs).find(([file]) => path.resolve(resolved.dir, file) === resolved.entry)?.[1];
    if (entryInput?.format !== "esm" && !resolved.entry.endsWith(".json")) {
      // CommonJS: as Node imports it, module.exports is the default export and the names
      // cjs-module-lexer finds are named exports ("module.exports" too, for require()).
      required.clear();
      result = await runBuild(specifier, { ...options, stdin: { contents: commonJsEntry(resolved), resolveDir: resolved.dir, sourcefile: COMMONJS_ENTRY, loader: "js" } });
    }
    return { result, required };
  };
  let topLevelAwait = false;
  let built: Awaited<ReturnType<typeof attempt>>;
  try {
    built = await attempt(false);
  } catch (error) {
    if (!(error instanceof TopLevelAwait)) throw error;
    topLevelAwait = true;
    built = await attempt(true);
  }
  checkInputs(specifier, resolved, built.result.metafile);
  let source = built.result.outputFiles![0].text;
  if (built.required.size > 0) {
    const imports = [...built.required].map((builtin) => `import ${nodeLocal(builtin)} from "node:${builtin}";`).join(" ");
    // After a hashbang line, which must stay first; imports are hoisted wherever they are.
    source = source.startsWith("#!") ? source.replace(/^[^\n]*\n/, (line) => `${line}${imports}\n`) : `${imports}\n${source}`;
  }
  const bytes = Buffer.byteLength(source);
  if (bytes > MAX_PACKAGE_BYTES) {
    fail(specifier, `its bundle is ${(bytes / 2 ** 20).toFixed(1)} MiB; a package's bundle may be at most ${MAX_PACKAGE_BYTES / 2 ** 20} MiB (import a smaller subpath of it).`);
  }
  packageCacheStats.bundled++;
  return { name, source, topLevelAwait };
}

/** Every file the bundle read lies inside the package, or inside some package of a node_modules directory (its dependencies). */
function checkInputs(specifier: string, resolved: Resolved, metafile: Metafile): void {
  for (const file of Object.keys(metafile.inputs)) {
    if (file.startsWith(`${NODE_NAMESPACE}:`) || file === COMMONJS_ENTRY || file.startsWith("(disabled):")) continue;
    const absolute = path.resolve(resolved.dir, file);
    let real: string;
    try {
      real = realpathSync(absolute);
    } catch {
      fail(specifier, `the bundle read a file that is gone (${file}).`);
    }
    if (!inside(resolved.dir, real) && !inSomePackage(real)) fail(specifier, `the package reaches a file outside its directory and outside node_modules (${path.basename(real)}).`);
    if (!SCRIPT_EXTENSIONS.has(path.extname(real).toLowerCase())) fail(specifier, `the package imports a ${path.extname(real) || "extension-less"} file (${path.basename(real)}); only .js, .mjs, .cjs and .json files are bundled.`);
  }
}

/** The named exports Node gives an ES importer of a CommonJS file: the lexer's, following relative re-exports inside the package. */
function commonJsNames(file: string, dir: string, names: Set<string>, seen: Set<string>): void {
  if (seen.has(file) || seen.size > 50) return;
  seen.add(file);
  const { exports, reexports } = lexCommonJs(readFileSync(file, "utf8"), file, false);
  for (const name of exports) names.add(name);
  for (const specifier of reexports) {
    if (!specifier.startsWith("./") && !specifier.startsWith("../")) continue;
    const base = path.resolve(path.dirname(file), specifier);
    for (const candidate of [base, `${base}.js`, `${base}.cjs`, `${base}.json`, path.join(base, "index.js")]) {
      if (!statOrUndefined(candidate)?.isFile()) continue;
      const real = realpathSync(candidate);
      if (inside(dir, real) && !real.endsWith(".json")) commonJsNames(real, dir, names, seen);
      break;
    }
  }
}

function commonJsEntry(resolved: Resolved): string {
  const names = new Set<string>();
  commonJsNames(resolved.entry, resolved.dir, names, new Set());
  const str = JSON.stringify;
  const lines = [
    `const __islet_m = require(${str(resolved.entry)});`,
    `const __islet_get = (key) => __islet_m !== null && (typeof __islet_m === "object" || typeof __islet_m === "function") ? __islet_m[key] : undefined;`,
    `export { __islet_m as default, __islet_m as "module.exports" };`,
  ];
  let i = 0;
  for (const name of names) {
    if (name === "default" || name === "module.exports" || !name.isWellFormed()) continue;
    lines.push(`const __islet_n${i} = __islet_get(${str(name)}); export { __islet_n${i} as ${str(name)} };`);
    i++;
  }
  return lines.join("\n");
}
