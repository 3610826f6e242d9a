// Malformed WorkerCode of every shape: wrong types, missing fields, absurd sizes, cycles and
// keys that name Object.prototype's members. Each is a WorkerCodeError (naming the module when
// there is one), thrown before any isolate starts, and the host's prototypes stay as they were.

import assert from "node:assert/strict";
import { WorkerCodeError, type WorkerCode } from "islet";
import { compatibilityDate } from "../helpers.ts";
import { rejectsWith, securitySuite } from "./harness.ts";

const { attack, loader } = securitySuite();

const valid = (): Record<string, unknown> => ({ compatibilityDate, mainModule: "worker.js", modules: { "worker.js": `export default { ok() { return "ok"; } };` } });

/** Loads `code` and calls ok(): it must reject with a WorkerCodeError whose message matches. */
async function refused(code: unknown, message: RegExp, module?: string): Promise<void> {
  const error = (await rejectsWith((loader.load(code as WorkerCode).getEntrypoint() as any).ok(), WorkerCodeError, message)) as WorkerCodeError;
  if (module !== undefined) assert.equal(error.module, module);
}

attack("a WorkerCode that is not an object (null, number, string, array, function, symbol-keyed) is a WorkerCodeError", async () => {
  for (const code of [null, undefined, 42, "worker.js", true, 10n, () => {}]) await refused(code, /WorkerCode must be an object/);
  for (const code of [[], { [Symbol("modules")]: {} }]) await refused(code, /compatibilityDate must be a date string/);
});

attack("compatibilityDate and compatibilityFlags of the wrong type or shape are WorkerCodeErrors", async () => {
  for (const compatibilityDate of [undefined, 20261101, "2026-1-1", "", "2026-11-01T00:00", {}, ["2026-11-01"], new Date()]) {
    await refused({ ...valid(), compatibilityDate }, /compatibilityDate must be a date string/);
  }
  for (const compatibilityFlags of ["nodejs_compat", [1], [null], [{}], {}, 0]) await refused({ ...valid(), compatibilityFlags }, /compatibilityFlags must be an array of strings/);
});

attack("mainModule missing, of the wrong type, or not one of the modules (Object.prototype names included) is a WorkerCodeError", async () => {
  for (const mainModule of [undefined, 5, "", null, ["worker.js"]]) await refused({ ...valid(), mainModule }, /mainModule must be a non-empty string/);
  for (const mainModule of ["missing.js", "toString", "__proto__", "constructor", "hasOwnProperty"]) await refused({ ...valid(), mainModule }, /is not one of the modules/);
});

attack("modules that are not a plain mapping (null, array, string, Map, empty) are WorkerCodeErrors", async () => {
  for (const modules of [undefined, null, [], "export default {}", 7]) await refused({ ...valid(), modules }, /modules must be an object/);
  await refused({ ...valid(), modules: new Map([["worker.js", "export default {}"]]) }, /is not one of the modules/);
});

attack("module contents of every wrong type are WorkerCodeErrors naming the module", async () => {
  const contents: [unknown, RegExp][] = [
    [42, /module content must be a string or an object/],
    [null, /module content must be a string or an object/],
    [true, /module content must be a string or an object/],
    [["export default {}"], /module content must be a string or an object/],
    [{ js: 5 }, /a js module must be a string/],
    [{ ts: null }, /a ts module must be a string/],
    [{ js: "", ts: "" }, /unknown module kind "js,ts"/],
    [{}, /unknown module kind ""/],
    [{ python: "print(1)" }, /unknown module kind "python"/],
    [{ wasm: "not bytes" }, /must be an ArrayBuffer or a typed array/],
    [{ wasm: new Uint8Array([1, 2, 3]) }, /not a valid WebAssembly module/],
    [{ data: 5 }, /must be an ArrayBuffer or a typed array/],
    [{ json: 10n }, /cannot be serialized/],
  ];
  for (const [content, message] of contents) await refused({ ...valid(), modules: { ...(valid().modules as object), "extra.js": content } }, message, "extra.js");
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  await refused({ ...valid(), modules: { ...(valid().modules as object), "data.json": { json: cyclic } } }, /cannot be serialized/, "data.json");
});

attack('"__proto__", "constructor" and other Object.prototype names as module names neither pollute nor resolve', async () => {
  const modules = JSON.parse('{"__proto__": "export default 1", "worker.js": "export default {}"}');
  await refused({ ...valid(), modules }, /cannot tell the module kind/, "__proto__");
  const named = { "constructor.js": `export default 1;`, "__proto__.js": `export const polluted = "yes";`, "worker.js": `import c from "./constructor.js"; import { polluted } from "./__proto__.js"; export default { ok() { return [c, polluted, ({}).polluted]; } };` };
  assert.deepEqual(await (loader.load({ compatibilityDate, mainModule: "worker.js", modules: named }).getEntrypoint() as any).ok(), [1, "yes", undefined]);
  const env = JSON.parse('{"__proto__": {"polluted": "yes"}, "plain": 1}');
  const seen = await (loader.load({ ...(valid() as unknown as WorkerCode), env, modules: { "worker.js": `export default { ok(x, env) { return null; }, };` } }).getEntrypoint() as any).ok();
  assert.equal(seen, null);
});

attack("absurd sizes are refused: 1,001 modules, 65 MB of code, a 2,000-character name", async () => {
  const many: Record<string, string> = { "worker.js": "export default {}" };
  for (let i = 0; i < 1_000; i++) many[`m${i}.js`] = "";
  await refused({ ...valid(), modules: many }, /too many modules \(1001; at most 1000\)/);
  await refused({ ...valid(), modules: { "worker.js": "export default {}", "big.txt": "x".repeat(65 * 1024 * 1024) } }, /too large/);
  await refused({ ...valid(), modules: { "worker.js": "export default {}", [`${"n".repeat(2_000)}.js`]: "" } }, /1 to 1024 characters/);
});

attack("module names that climb out, are absolute, URLs, or hold control characters are refused", async () => {
  for (const name of ["../escape.js", "a/../../b.js", "/etc/passwd.js", "file:///etc/passwd.js", "https://evil.test/x.js", "a\u0000b.js", "a\\b.js", "line\nbreak.js"]) {
    await refused({ ...valid(), modules: { ...(valid().modules as object), [name]: "" } }, /Module names/, name);
  }
  await refused({ ...valid(), modules: { "worker.js": `import x from "../../etc/passwd";` } }, /points outside the worker's modules/, "worker.js");
});

attack("limits of the wrong type in a WorkerCode are a WorkerCodeError, not a TypeError", async () => {
  for (const limits of [null, 5, { cpuMs: -1 }, { cpuMs: "5" }, { memoryMb: 1 }, { wallMs: Infinity }, { cpuMs: NaN }, { gpuMs: 1 }]) {
    await refused({ ...valid(), limits }, /WorkerCode: (limits|unknown limit)/);
  }
});

attack("env, tails and globalOutbound of the wrong type are WorkerCodeErrors", async () => {
  for (const env of [null, 5, "x"]) await refused({ ...valid(), env }, /env must be an object/);
  for (const tails of [{}, "x", () => {}]) await refused({ ...valid(), tails }, /tails must be an array/);
  for (const globalOutbound of [5, "https://proxy.test", { fetch: 1 }]) await refused({ ...valid(), globalOutbound }, /globalOutbound must be null/);
});

attack("module cycles: ES modules importing each other or themselves load; a CommonJS cycle meets the exports so far, as in Node", async () => {
  const modules = {
    "worker.js": `import { a } from "./a.js"; import { self } from "./self.js"; export default { ok() { return [a(), self]; } };`,
    "a.js": `import { b } from "./b.js"; export const a = () => "a" + b();`,
    "b.js": `import { a } from "./a.js"; export const b = () => (typeof a === "function" ? "b" : "?");`,
    "self.js": `import * as me from "./self.js"; export const self = typeof me;`,
  };
  assert.deepEqual(await (loader.load({ compatibilityDate, mainModule: "worker.js", modules }).getEntrypoint() as any).ok(), ["ab", "object"]);
  // require() of a module still running returns its module.exports so far (Node's rule), once.
  const cjs = {
    "worker.js": `import one from "./one.cjs"; export default { ok() { return one; } };`,
    "one.cjs": `const two = require("./two.cjs"); module.exports = { name: "one", other: two.name, sawOne: two.sawOne };`,
    "two.cjs": `const one = require("./one.cjs"); module.exports = { name: "two", sawOne: Object.keys(one).length };`,
    "self.cjs": `module.exports = require("./self.cjs");`,
  };
  assert.deepEqual(await (loader.load({ compatibilityDate, mainModule: "worker.js", modules: cjs }).getEntrypoint() as any).ok(), { name: "one", other: "two", sawOne: 0 });
  const self = { ...cjs, "worker.js": `import self from "./self.cjs"; export default { ok() { return self; } };` };
  assert.deepEqual(await (loader.load({ compatibilityDate, mainModule: "worker.js", modules: self }).getEntrypoint() as any).ok(), {});
});

attack("a module graph a million imports deep is refused by the module count before anything compiles", async () => {
  const modules: Record<string, string> = {};
  for (let i = 0; i < 1_200; i++) modules[`m${i}.js`] = `import "./m${i + 1}.js";`;
  await refused({ compatibilityDate, mainModule: "m0.js", modules }, /too many modules/);
});
