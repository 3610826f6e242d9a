// npm packages in worker code: a bare import of a package the loader's `packages` allows is bundled
// from the host's node_modules and linked into the worker; anything else is a WorkerCodeError
// naming it. Every test runs in each isolation mode (the host bundles, a shard gets the bundles);
// ISLET_ISOLATION narrows the run to one mode.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { WorkerCodeError, WorkerLoader, type WorkerCode } from "islet";
import { clearPackageCache, packageCacheStats } from "../../src/testing.ts";
import { compatibilityDate } from "../helpers.ts";

type Isolation = "isolate" | "thread" | "process";
const modes: Isolation[] = process.env.ISLET_ISOLATION === "thread" || process.env.ISLET_ISOLATION === "process" ? [process.env.ISLET_ISOLATION] : ["isolate", "thread", "process"];
const shards = (isolation: Isolation) => (isolation === "thread" ? { threads: 1 } : isolation === "process" ? { processes: 1 } : {});

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const SECRET = "top-secret-host-file-contents";

/** A project directory with hand-made packages in its node_modules, and files beside it a package must not reach. */
function makeFixtures(): string {
  const root = mkdtempSync(join(tmpdir(), "islet-packages-"));
  const write = (file: string, content: string) => {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), content);
  };
  const pkg = (name: string, json: object, files: Record<string, string>) => {
    write(`node_modules/${name}/package.json`, JSON.stringify({ name, version: "1.0.0", ...json }));
    for (const [file, content] of Object.entries(files)) write(`node_modules/${name}/${file}`, content);
  };
  write("secret.js", `export default ${JSON.stringify(SECRET)};`);
  write("secret.json", JSON.stringify({ secret: SECRET }));
  pkg("counter", { type: "module", exports: { ".": "./index.js", "./again": "./again.js" } }, {
    "index.js": `let n = 0; export const next = () => ++n;`,
    "again.js": `export { next } from "./index.js";`,
  });
  pkg("cjs-lib", { main: "index.js" }, {
    "index.js": `exports.add = (a, b) => a + b; exports.name = "cjs-lib"; module.exports.version = 2;`,
  });
  pkg("cjs-re", { main: "index.js" }, { "index.js": `module.exports = require("./impl");`, "impl.js": `exports.x = 1; exports.y = "why";` });
  pkg("@acme/tools", { type: "module", exports: { ".": "./index.js", "./strings": { node: "./strings.node.js", worker: "./strings.worker.js", default: "./strings.js" } } }, {
    "index.js": `export const scope = "@acme";`,
    "strings.node.js": `export const which = "node";`,
    "strings.worker.js": `export const which = "worker";`,
    "strings.js": `export const which = "default";`,
  });
  pkg("fields", { browser: "./browser.js", module: "./module.js", main: "./main.js" }, {
    "browser.js": `exports.which = "browser";`,
    "module.js": `export const which = "module";`,
    "main.js": `exports.which = "main";`,
  });
  pkg("node-env", { main: "index.js" }, { "index.js": `exports.mode = process.env.NODE_ENV === "production" ? "prod" : "dev";` });
  pkg("once", { type: "module", exports: "./index.js" }, { "index.js": `export const once = "once";` });
  pkg("tla", { type: "module", exports: "./index.js" }, { "index.js": `export const value = await Promise.resolve(42);` });
  pkg("uses-crypto", { type: "module", exports: "./index.js" }, {
    "index.js": `import { createHash } from "node:crypto"; export const sha = (s) => createHash("sha256").update(s).digest("hex");`,
  });
  pkg("requires-builtins", { main: "index.js" }, {
    "index.js": `exports.probe = () => { try { return [typeof require("buffer").Buffer, typeof require("events")]; } catch (e) { return e.code + ": " + e.message; } };`,
  });
  pkg("browser-off", { main: "index.js", browser: { fs: false } }, { "index.js": `const fs = require("fs"); exports.fsType = typeof fs;` });
  pkg("huge", { type: "module", exports: "./index.js" }, { "index.js": `export default ${JSON.stringify("x".repeat(11 * 1024 * 1024))};` });
  pkg("reacher", { type: "module", exports: "./index.js" }, { "index.js": `export { default } from "../../secret.js";` });
  pkg("exports-out", { type: "module", exports: { ".": "./../../secret.js" } }, {});
  pkg("linked", { type: "module", exports: "./index.js" }, {});
  symlinkSync(join(root, "secret.js"), join(root, "node_modules/linked/index.js"));
  // A package whose directory is a symlink (npm link, workspaces): its real directory is the package's.
  write("workspace/ws-lib/package.json", JSON.stringify({ name: "ws-lib", version: "3.0.0", type: "module", exports: "./index.js" }));
  write("workspace/ws-lib/index.js", `export const ws = "linked workspace";`);
  symlinkSync(join(root, "workspace/ws-lib"), join(root, "node_modules/ws-lib"), "dir");
  pkg("events", { type: "module", exports: "./index.js" }, { "index.js": `export default "the npm package";` });
  pkg("sneaky", { type: "module", exports: "./index.js" }, { "index.js": `export * from "islet:runtime";` });
  pkg("style", { exports: { ".": "./style.css" } }, { "style.css": "body { color: red }" });
  return root;
}

const worker = (source: string, extra: Partial<WorkerCode> = {}): WorkerCode => ({ compatibilityDate, mainModule: "worker.js", modules: { "worker.js": source }, ...extra });

async function codeError(promise: Promise<unknown>, pattern: RegExp): Promise<WorkerCodeError> {
  const error = await promise.then(
    () => assert.fail("expected a WorkerCodeError"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof WorkerCodeError, `expected a WorkerCodeError, got ${String(error)}`);
  assert.match(error.message, pattern);
  return error;
}

test("loader options: packages and packagesRoot are checked", () => {
  assert.throws(() => new WorkerLoader({ packages: "zod" as unknown as string[] }), /packages: must be an array of package names/);
  assert.throws(() => new WorkerLoader({ packages: ["zod/../x"] }), /packages\[0\]: a package subpath may not have empty, "\." or "\.\." segments/);
  assert.throws(() => new WorkerLoader({ packages: ["Not A Name"] }), /packages\[0\]: "Not A Name" is not a valid npm package name/);
  assert.throws(() => new WorkerLoader({ packages: [5 as unknown as string] }), /packages\[0\]: must be a string/);
  assert.throws(() => new WorkerLoader({ packagesRoot: repoRoot }), /packagesRoot: needs packages/);
  assert.throws(() => new WorkerLoader({ packages: ["zod"], packagesRoot: join(repoRoot, "no-such-dir") }), /packagesRoot: must be an existing directory/);
});

for (const isolation of modes) {
  describe(`packages, isolation "${isolation}"`, () => {
    let fixtures: string;
    let loader: WorkerLoader;
    let local: WorkerLoader;
    const allowed = ["node-env", "once", "events", "fields", "counter", "cjs-lib", "cjs-re", "@acme/tools", "tla", "uses-crypto", "requires-builtins", "browser-off", "huge", "reacher", "exports-out", "linked", "ws-lib", "sneaky", "style", "not-installed"];
    before(() => {
      fixtures = makeFixtures();
      loader = new WorkerLoader({ isolation, ...shards(isolation), packages: ["zod", "ms", "lodash"], packagesRoot: repoRoot });
      local = new WorkerLoader({ isolation, ...shards(isolation), packages: allowed, packagesRoot: fixtures });
    });
    after(async () => {
      await loader.close();
      await local.close();
      rmSync(fixtures, { recursive: true, force: true });
    });
    const run = (target: WorkerLoader, code: WorkerCode, ...args: unknown[]) => target.load(code).getEntrypoint<{ run(...a: unknown[]): Promise<unknown> }>().run(...args);

    test("a worker imports zod from the host's node_modules and validates data", async () => {
      const result = await run(
        loader,
        worker(`
          import { z } from "zod";
          const User = z.object({ name: z.string().min(1), age: z.number().int().nonnegative() });
          export default { run(input) {
            const parsed = User.safeParse(input);
            return parsed.success ? { ok: parsed.data } : { issues: parsed.error.issues.map((i) => i.path.join(".") + ": " + i.code) };
          } };`),
        { name: "Ada", age: -1 },
      );
      assert.deepEqual(result, { issues: ["age: too_small"] });
    });

    test("the first load bundles, a second worker reuses the bundle", async (t) => {
      clearPackageCache();
      const code = worker(`import { z } from "zod"; export default { run: () => z.string().parse("cached") };`);
      const before = { ...packageCacheStats };
      let started = performance.now();
      assert.equal(await run(loader, code), "cached");
      const first = performance.now() - started;
      assert.equal(packageCacheStats.bundled - before.bundled, 1);
      started = performance.now();
      assert.equal(await run(loader, code), "cached");
      const second = performance.now() - started;
      assert.equal(packageCacheStats.bundled - before.bundled, 1, "the second worker bundled again");
      assert.equal(packageCacheStats.hits - before.hits, 1);
      t.diagnostic(`zod, ${isolation}: first load (bundle + start + call) ${first.toFixed(0)} ms, second worker (cached bundle) ${second.toFixed(0)} ms`);
    });

    test("a shard keeps the bundles it was sent: the next worker's code comes without the source", async () => {
      const code = worker(`import { once } from "once"; export default { run: () => once };`);
      const before = { ...packageCacheStats };
      assert.equal(await run(local, code), "once");
      assert.equal(await run(local, code), "once");
      assert.equal(packageCacheStats.sentToShards - before.sentToShards, isolation === "isolate" ? 0 : 1);
    });

    test("a subpath export is its own entry: zod/mini", async () => {
      const result = await run(loader, worker(`import * as z from "zod/mini"; export default { run: () => [z.safeParse(z.number(), 1).success, z.safeParse(z.number(), "1").success] };`));
      assert.deepEqual(result, [true, false]);
    });

    test("a package not allowed is refused with its name and how to allow it", async () => {
      const error = await codeError(run(loader, worker(`import yaml from "yaml"; export default { run: () => 1 };`)), /cannot import "yaml".*packages: \["yaml"\]/);
      assert.equal(error.module, "worker.js");
      await codeError(run(loader, worker(`import x from "@scope/thing/sub"; export default { run: () => 1 };`)), /cannot import "@scope\/thing\/sub".*packages: \["@scope\/thing"\]/);
    });

    test("CommonJS packages: module.exports is the default export, require() gives it to CommonJS code", async () => {
      const esm = await run(loader, worker(`import ms from "ms"; import chunk from "lodash/chunk"; export default { run: () => [ms("2h"), chunk([1, 2, 3], 2)] };`));
      assert.deepEqual(esm, [7_200_000, [[1, 2], [3]]]);
      const cjs = await run(loader, { compatibilityDate, mainModule: "w.cjs", modules: { "w.cjs": `const ms = require("ms"); const { z } = require("zod"); exports.run = () => [ms(1500), typeof z.object];` } });
      assert.deepEqual(cjs, ["2s", "function"]);
      const named = await run(local, worker(`import lib, { add, name, version } from "cjs-lib"; import { x, y } from "cjs-re"; export default { run: () => [add(2, 3), name, version, lib.add === add, x, y] };`));
      assert.deepEqual(named, [5, "cjs-lib", 2, true, 1, "why"]);
    });

    test("two imports of a package in one worker share one instance (ES and CommonJS importers)", async () => {
      const result = await run(local, {
        compatibilityDate,
        mainModule: "main.js",
        modules: {
          "main.js": `import { next } from "counter"; import { again } from "./b.js"; import c from "./c.cjs"; export default { run: () => [next(), again(), c.third()] };`,
          "b.js": `import { next } from "counter"; export const again = () => next();`,
          "c.cjs": `const { next } = require("counter"); exports.third = () => next();`,
        },
      });
      assert.deepEqual(result, [1, 2, 3]);
      // Each entry is a bundle of its own: code two entries share is two copies, with two states.
      const entries = await run(local, worker(`import { next } from "counter"; import { next as again } from "counter/again"; export default { run: () => [next(), next(), again()] };`));
      assert.deepEqual(entries, [1, 2, 1]);
    });

    test("import() of an allowed package is the instance static imports get; of another package, No such module", async () => {
      const result = await run(
        local,
        worker(`import { next } from "counter"; export default { async run() { const m = await import("counter"); return [m.next === next, next(), m.next()]; } };`),
      );
      assert.deepEqual(result, [true, 1, 2]);
      const refused = await run(loader, worker(`export default { async run() { try { await import("yaml"); return "imported"; } catch (e) { return e.message; } } };`));
      assert.match(String(refused), /^No such module "yaml" imported from worker\.js: cannot import "yaml"/);
      // Packages are bundled before the worker starts, from the string literals of its code: a name built at run time finds none.
      const built = await run(local, worker(`export default { async run() { try { await import(["coun", "ter"].join("")); return "imported"; } catch (e) { return e.message; } } };`));
      assert.match(String(built), /^No such module "counter" imported from worker\.js: cannot import "counter"/);
    });

    test("scoped packages, the worker/browser conditions before node, the browser field before module and main", async () => {
      const result = await run(local, worker(`import { scope } from "@acme/tools"; import { which } from "@acme/tools/strings"; export default { run: () => [scope, which] };`));
      assert.deepEqual(result, ["@acme", "worker"]);
      // Without "exports": the browser field, then module, then main.
      assert.equal(await run(local, worker(`import { which } from "fields"; export default { run: () => which };`)), "browser");
    });

    test("a WorkerCode's packages narrow the loader's, never widen them", async () => {
      const mini = await run(loader, worker(`import * as z from "zod/mini"; export default { run: () => typeof z.string };`, { packages: ["zod/mini"] }));
      assert.equal(mini, "function");
      await codeError(run(loader, worker(`import { z } from "zod"; export default { run: () => 1 };`, { packages: ["zod/mini"] })), /cannot import "zod"/);
      await codeError(run(loader, worker(`export default { run: () => 1 };`, { packages: ["yaml"] })), /packages: "yaml" is not allowed by the WorkerLoader's packages option \("zod", "ms", "lodash"\)/);
      await codeError(run(loader, worker(`export default { run: () => 1 };`, { packages: "zod" as unknown as string[] })), /packages must be an array of strings/);
      const none = new WorkerLoader({ isolation, ...shards(isolation) });
      try {
        await codeError(run(none, worker(`export default { run: () => 1 };`, { packages: ["zod"] })), /is not allowed by the WorkerLoader's packages option \(none\)/);
      } finally {
        await none.close();
      }
    });

    test("path traversal in a specifier is refused before any file is read", async () => {
      for (const specifier of ["zod/../../package.json", "zod/./index.js", "zod//x", "zod/%2e%2e/x", "zod/a\\\\b", "ms/../../../secret"]) {
        await codeError(run(loader, worker(`import x from ${JSON.stringify(specifier)}; export default { run: () => x };`)), /cannot import .*(segments|may not contain)/);
      }
      await codeError(run(loader, worker(`import x from "zod/nope"; export default { run: () => 1 };`)), /cannot import "zod\/nope": the package "zod" has no such entry for workers/);
    });

    test("a package never reads outside its directory and node_modules (symlinks resolved)", async () => {
      const refused = [
        ["linked", /resolves outside the package's directory/],
        ["reacher", /reaches a file outside its directory and outside node_modules/],
        ["exports-out", /cannot import "exports-out"/],
        ["style", /only \.js, \.mjs, \.cjs and \.json files/],
        ["sneaky", /cannot import "sneaky".*islet:runtime/],
      ] as const;
      for (const [name, pattern] of refused) {
        const error = await codeError(run(local, worker(`import x from "${name}"; export default { run: () => x };`)), pattern);
        assert.doesNotMatch(error.message, new RegExp(SECRET));
        assert.doesNotMatch(error.message, new RegExp(fixtures.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")), "the host's paths stay out of the message");
      }
      // A package directory that is itself a symlink (npm link, workspaces) is fine: its real directory is the package.
      assert.equal(await run(local, worker(`import { ws } from "ws-lib"; export default { run: () => ws };`)), "linked workspace");
    });

    test("a worker names at most 100 distinct package specifiers", async () => {
      const imports = Array.from({ length: 101 }, (_, i) => `import "lodash/x${i}";`).join("\n");
      await codeError(run(loader, worker(`${imports}\nexport default { run: () => 1 };`)), /the modules name more than 100 distinct package specifiers/);
      // Only code is searched: a text module that names a package costs no bundle.
      const before = { ...packageCacheStats };
      const result = await run(loader, { compatibilityDate, mainModule: "worker.js", modules: { "worker.js": `import t from "./notes.txt"; export default { run: () => t };`, "notes.txt": `see "yaml" and "ms"` } });
      assert.equal(result, `see "yaml" and "ms"`);
      assert.deepEqual(packageCacheStats, before);
    });

    test("a bundle larger than 10 MiB is refused with its size", async () => {
      await codeError(run(local, worker(`import big from "huge"; export default { run: () => big.length };`)), /cannot import "huge": its bundle is 11\.0 MiB; a package's bundle may be at most 10 MiB/);
    });

    test("a package that is not installed is an error, never a download", async () => {
      await codeError(run(local, worker(`import x from "not-installed"; export default { run: () => x };`)), /the package "not-installed" is not installed in the host's node_modules \(islet never downloads packages/);
    });

    test("a package's top-level await is waited for", async () => {
      assert.equal(await run(local, worker(`import { value } from "tla"; export default { run: () => value };`)), 42);
    });

    test("process.env.NODE_ENV in a package is \"production\", as browser bundlers make it (no process global needed)", async () => {
      assert.equal(await run(local, worker(`import { mode } from "node-env"; export default { run: () => mode };`)), "prod");
    });

    test("Node built-ins in packages follow nodejs_compat: an import links to islet's, a require() throws only when called", async () => {
      const compat = { compatibilityFlags: ["nodejs_compat"] };
      const sha = await run(local, worker(`import { sha } from "uses-crypto"; export default { run: () => sha("abc") };`, compat));
      assert.equal(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
      await codeError(run(local, worker(`import { sha } from "uses-crypto"; export default { run: () => sha("abc") };`)), /cannot import "node:crypto": Node\.js built-in modules need the "nodejs_compat" compatibility flag/);
      assert.deepEqual(await run(local, worker(`import { probe } from "requires-builtins"; export default { run: () => probe() };`, compat)), ["function", "function"]);
      assert.match(String(await run(local, worker(`import { probe } from "requires-builtins"; export default { run: () => probe() };`))), /^MODULE_NOT_FOUND: Cannot find module 'buffer': Node\.js built-in modules need the "nodejs_compat" compatibility flag/);
      // The package's "browser" field disables fs: an empty module, not islet's missing fs.
      assert.equal(await run(local, worker(`import { fsType } from "browser-off"; export default { run: () => fsType };`, compat)), "object");
    });

    test("a package named like a Node built-in is used only where the built-in is not (no nodejs_compat)", async () => {
      const code = worker(`import events from "events"; export default { run: () => typeof events === "string" ? events : typeof events.prototype.emit };`);
      assert.equal(await run(local, code), "the npm package");
      assert.equal(await run(local, { ...code, compatibilityFlags: ["nodejs_compat"] }), "function");
      // A loader that does not allow it keeps the old answer: the built-in needs the flag.
      await codeError(run(loader, code), /cannot import "events": Node\.js built-in modules need the "nodejs_compat" compatibility flag/);
    });

    test("a changed package file is bundled again (the cache is keyed by content)", async () => {
      const file = join(fixtures, "node_modules/counter/index.js");
      const code = worker(`import { next } from "counter"; export default { run: () => next() };`);
      assert.equal(await run(local, code), 1);
      const before = { ...packageCacheStats };
      writeFileSync(file, `let n = 100; export const next = () => ++n;`);
      assert.equal(await run(local, code), 101);
      assert.equal(packageCacheStats.bundled - before.bundled, 1);
      writeFileSync(file, `let n = 0; export const next = () => ++n;`);
    });
  });
}
