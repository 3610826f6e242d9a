import { test } from "node:test";
import assert from "node:assert/strict";
import { WorkerLoader, WorkerCodeError, type WorkerCode } from "islet";
import { addWasm, compatibilityDate } from "../helpers.ts";

const loader = new WorkerLoader();
test.after(() => loader.close());

const run = (code: WorkerCode, method = "run", ...args: unknown[]) => loader.load(code).getEntrypoint()[method](...args);

test("every module kind, imported by relative name", async () => {
  const result = await run({
    compatibilityDate,
    mainModule: "src/main.js",
    modules: {
      "src/main.js": `
        import { double } from "./lib/math.ts";
        import greeting from "./greeting.txt";
        import config from "../config.json";
        import blob from "./blob.bin";
        import legacy from "./legacy.cjs";
        import wasm from "./add.wasm";
        import explicit from "./explicit.js";
        export default { run() {
          const add = new WebAssembly.Instance(wasm).exports.add;
          return { double: double(21), greeting, config, blob: [...new Uint8Array(blob)], isBuffer: blob instanceof ArrayBuffer,
                   legacy: legacy.hello("cjs"), wasm: add(2, 3), explicit };
        } };`,
      "src/lib/math.ts": `export function double(n: number): number { return n * 2; }`,
      "src/greeting.txt": "hello, text",
      "config.json": `{ "a": [1, 2, { "b": null }] }`,
      "src/blob.bin": { data: new Uint8Array([1, 2, 255]) },
      "src/legacy.cjs": `const util = require("./util.cjs"); exports.hello = (n) => util.shout(n);`,
      "src/util.cjs": `module.exports = { shout: (s) => s.toUpperCase() + "!" };`,
      "src/add.wasm": { wasm: addWasm },
      "src/explicit.js": { json: { explicit: true } },
    },
  });
  assert.deepEqual(result, {
    double: 42,
    greeting: "hello, text",
    config: { a: [1, 2, { b: null }] },
    blob: [1, 2, 255],
    isBuffer: true,
    legacy: "CJS!",
    wasm: 5,
    explicit: { explicit: true },
  });
});

test("object forms { js }, { cjs }, { ts }, { text } and a TypeScript main module", async () => {
  const result = await run({
    compatibilityDate,
    mainModule: "main",
    modules: {
      main: { ts: `import a from "./a"; import b from "./b"; import t from "./t"; const n: number = 1; export default { run: (): unknown => [a, b.v, t, n] };` },
      a: { js: `export default "a";` },
      b: { cjs: `module.exports = { v: "b" };` },
      t: { text: "t" },
    },
  });
  assert.deepEqual(result, ["a", "b", "t", 1]);
});

test("TypeScript imports written with .js resolve to the .ts module", async () => {
  const result = await run({
    compatibilityDate,
    mainModule: "index.ts",
    modules: {
      "index.ts": `import { id } from "./id.js"; export default { run: () => id<string>("ok") };`,
      "id.ts": `export function id<T>(x: T): T { return x; }`,
    },
  });
  assert.equal(result, "ok");
});

test("modules may import cloudflare:workers", async () => {
  const result = await run({
    compatibilityDate,
    mainModule: "w.js",
    modules: { "w.js": `import { WorkerEntrypoint, RpcTarget, DurableObject } from "cloudflare:workers"; export default class extends WorkerEntrypoint { run() { return [typeof RpcTarget, typeof DurableObject]; } }` },
  });
  assert.deepEqual(result, ["function", "function"]);
});

async function codeError(code: unknown, pattern: RegExp, module?: string) {
  await assert.rejects(run(code as WorkerCode), (error: unknown) => {
    assert.ok(error instanceof WorkerCodeError, `expected WorkerCodeError, got ${error}`);
    assert.match(error.message, pattern);
    if (module !== undefined) assert.equal(error.module, module);
    return true;
  });
}

test("malformed WorkerCode is rejected with a WorkerCodeError", async () => {
  await codeError(null, /WorkerCode must be an object/);
  await codeError({ mainModule: "a.js", modules: { "a.js": "" } }, /compatibilityDate/);
  await codeError({ compatibilityDate, modules: { "a.js": "" } }, /mainModule must be a non-empty string/);
  await codeError({ compatibilityDate, mainModule: "b.js", modules: { "a.js": "" } }, /mainModule "b.js" is not one of the modules/);
  await codeError({ compatibilityDate, mainModule: "a.js", modules: [] }, /modules must be an object/);
  await codeError({ compatibilityDate, mainModule: "a.js", modules: { "a.js": "" }, env: 5 }, /env must be an object/);
  await codeError({ compatibilityDate, mainModule: "a.js", modules: { "a.js": "" }, globalOutbound: 5 }, /globalOutbound/);
});

test("bad module names, unknown kinds and bad contents name the module", async () => {
  await codeError({ compatibilityDate, mainModule: "../x.js", modules: { "../x.js": "" } }, /may not contain "\.\."/, "../x.js");
  await codeError({ compatibilityDate, mainModule: "/abs.js", modules: { "/abs.js": "" } }, /relative paths/, "/abs.js");
  await codeError({ compatibilityDate, mainModule: "a.py", modules: { "a.py": "print(1)" } }, /cannot tell the module kind/, "a.py");
  await codeError({ compatibilityDate, mainModule: "a.js", modules: { "a.js": { python: "x" } } }, /unknown module kind "python"/, "a.js");
  await codeError({ compatibilityDate, mainModule: "a.js", modules: { "a.js": 42 } }, /module content must be/, "a.js");
  await codeError({ compatibilityDate, mainModule: "a.js", modules: { "a.js": { js: 1 } } }, /must be a string/, "a.js");
  await codeError({ compatibilityDate, mainModule: "a.js", modules: { "a.js": "", "b.json": "{nope" } }, /invalid JSON/, "b.json");
  await codeError({ compatibilityDate, mainModule: "a.js", modules: { "a.js": "", "m.wasm": { wasm: new Uint8Array([1, 2, 3]) } } }, /not a valid WebAssembly module/, "m.wasm");
});

test("syntax errors and unresolvable imports name the module", async () => {
  await codeError({ compatibilityDate, mainModule: "a.js", modules: { "a.js": "export default {" } }, /SyntaxError/, "a.js");
  await codeError({ compatibilityDate, mainModule: "a.js", modules: { "a.js": `import "./b.js";`, "b.js": "let let = 1;" } }, /SyntaxError/, "b.js");
  await codeError({ compatibilityDate, mainModule: "a.ts", modules: { "a.ts": "const x: = 1;" } }, /TypeScript error/, "a.ts");
  await codeError({ compatibilityDate, mainModule: "a.js", modules: { "a.js": `import x from "./missing.js";` } }, /cannot resolve import "\.\/missing\.js"/, "a.js");
  await codeError({ compatibilityDate, mainModule: "a.js", modules: { "a.js": `import fs from "node:fs";` } }, /cannot import "node:fs"/, "a.js");
  await codeError({ compatibilityDate, mainModule: "a.js", modules: { "a.js": `import "islet:runtime";` } }, /cannot import "islet:runtime"/, "a.js");
  await codeError({ compatibilityDate, mainModule: "a/b.js", modules: { "a/b.js": `import "../../x.js";` } }, /outside the worker's modules/, "a/b.js");
  await codeError({ compatibilityDate, mainModule: "a.js", modules: { "a.js": `import { nope } from "./b.js";`, "b.js": "export const yes = 1;" } }, /nope/);
});

test("a top-level exception keeps its name and message", async () => {
  await assert.rejects(run({ compatibilityDate, mainModule: "a.js", modules: { "a.js": `throw new RangeError("bad config");` } }), { name: "RangeError", message: "bad config" });
  await assert.rejects(run({ compatibilityDate, mainModule: "a.js", modules: { "a.js": `class ConfigError extends Error { name = "ConfigError" } throw new ConfigError("nope");` } }), {
    name: "ConfigError",
    message: "nope",
  });
});

test("TypeScript is transpiled once per distinct source", async () => {
  const { typeScriptCacheStats } = await import("../../src/testing.ts");
  const source = `export default { run: (): number => ${Math.random()} };`;
  const code: WorkerCode = { compatibilityDate, mainModule: "a.ts", modules: { "a.ts": source } };
  const before = { ...typeScriptCacheStats };
  const first = await run(code);
  assert.equal(await run(code), first);
  assert.equal(await run({ ...code, modules: { "a.ts": source } }), first);
  assert.equal(typeScriptCacheStats.transpiled - before.transpiled, 1);
  assert.equal(typeScriptCacheStats.hits - before.hits, 2);
});

test("the TypeScript cache is bounded in bytes, not only in entries: big modules loaded one after another leave at most its budget behind (findings15/01)", async () => {
  const { typeScriptCacheStats } = await import("../../src/testing.ts");
  const { TS_CACHE_MAX_BYTES } = await import("../../src/loader/code/typescript.ts");
  const loader = new WorkerLoader({ limits: { memoryMb: 128 } });
  try {
    // 10 modules of 4 MiB of characters (8 MiB as V8 and the cache weigh them): 80 MiB in all.
    for (let i = 0; i < 10; i++) {
      const source = `export const filler: string = "${String(i).padStart(6, "0")}${"x".repeat(4 * 1024 * 1024)}";\nexport default { run: (): number => ${i} };`;
      const stub = loader.load({ compatibilityDate, mainModule: "a.ts", modules: { "a.ts": source } });
      assert.equal(await (stub.getEntrypoint() as any).run(), i);
      stub.dispose();
      assert.ok(typeScriptCacheStats.held.bytes <= TS_CACHE_MAX_BYTES, `the cache holds ${typeScriptCacheStats.held.bytes} bytes`);
    }
    assert.ok(typeScriptCacheStats.held.entries < 10, `${typeScriptCacheStats.held.entries} entries kept`);
  } finally {
    await loader.close();
  }
});

test("top-level await is waited for before the first call", async () => {
  const code: WorkerCode = {
    compatibilityDate,
    mainModule: "main.js",
    modules: {
      "main.js": `import { settings } from "./settings.js"; export default { run: () => settings };`,
      "settings.js": `export const settings = await new Promise((resolve) => setTimeout(() => resolve({ ready: true }), 20));`,
    },
  };
  assert.deepEqual(await run(code), { ready: true });
  await assert.rejects(run({ compatibilityDate, mainModule: "a.js", modules: { "a.js": `await null; throw new TypeError("late failure"); export default {};` } }), { name: "TypeError", message: "late failure" });
});

test("syntax errors in the only module read as they do in V8, at their own line and column", async () => {
  // A single module of code is compiled with an await put before it (engine/sandbox.ts,
  // DEFER_PREFIX): neither the message nor the position may show it.
  await assert.rejects(run({ compatibilityDate, mainModule: "a.js", modules: { "a.js": "#!/usr/bin/env node\nlet let = 1;" } }), /\[a\.js:2:5\]/);
  await assert.rejects(run({ compatibilityDate, mainModule: "a.js", modules: { "a.js": "let x = 1; let let = 1;" } }), /\[a\.js:1:16\]/);
  for (const source of ["export default {", "function f() {", "const s = `abc"]) {
    await assert.rejects(run({ compatibilityDate, mainModule: "a.js", modules: { "a.js": source } }), (error: Error) => {
      assert.ok(error instanceof WorkerCodeError, String(error));
      assert.match(error.message, /SyntaxError: (Unexpected end of input|Unterminated template literal)/, source);
      return true;
    });
  }
});

test("module bodies run in import order, before any microtask they queue, with several modules of code", async () => {
  const result = await run({
    compatibilityDate,
    mainModule: "main.js",
    modules: {
      "main.js": `import { log } from "./log.js"; import "./setup.js"; import "./app.js"; log.push("main"); export default { async run() { await null; return log; } };`,
      "log.js": `export const log = [];`,
      "config.js": `import { log } from "./log.js"; log.push("config"); Promise.resolve().then(() => log.push("config's microtask"));`,
      "setup.js": `import { log } from "./log.js"; import "./config.js"; globalThis.ready = true; log.push("setup");`,
      "app.js": `import { log } from "./log.js"; log.push("app sees setup: " + globalThis.ready);`,
    },
  });
  assert.deepEqual(result, ["config", "setup", "app sees setup: true", "main", "config's microtask"]);
});

test("the only module's top level (ES, CommonJS, with top-level await) is stopped by cpuMs", async () => {
  const { CpuLimitError } = await import("islet");
  const limited = new WorkerLoader({ limits: { cpuMs: 100 } });
  try {
    const cases: Record<string, string>[] = [
      { "a.js": `let n = 0; while (true) n++;` },
      { "a.cjs": `let n = 0; while (true) n++;` },
      { "a.js": `await null; let n = 0; while (true) n++;` },
    ];
    for (const modules of cases) {
      const mainModule = Object.keys(modules)[0];
      await assert.rejects((limited.load({ compatibilityDate, mainModule, modules }).getEntrypoint() as any).run(), CpuLimitError, mainModule);
    }
  } finally {
    await limited.close();
  }
});
