// nodejs_compat inside real sandboxes: Node built-ins importable from ES modules and CommonJS,
// Buffer and process as globals, process.env from the env's strings, and load-time errors that
// name the module for anything outside the supported set or without the flag.

import { createHmac } from "node:crypto";
import { test } from "node:test";
import assert from "node:assert/strict";
import { RpcTarget, WorkerCodeError, WorkerLoader, type WorkerCode } from "islet";
import { compatibilityDate, js } from "../helpers.ts";

const loader = new WorkerLoader();
test.after(() => loader.close());

const compat = { compatibilityFlags: ["nodejs_compat"] };
const run = (code: WorkerCode, method = "run", ...args: unknown[]) => loader.load(code).getEntrypoint()[method](...args);

test("ESM imports of node:buffer, bare events, node:util and node:crypto", async () => {
  const result = await run(
    js(
      `import { Buffer } from "node:buffer";
       import EventEmitter, { once } from "events";
       import { format, inspect, types } from "node:util";
       import { createHash } from "node:crypto";
       export default { async run() {
         const emitter = new EventEmitter();
         setTimeout(() => emitter.emit("ready", 42), 1);
         const [value] = await once(emitter, "ready");
         return {
           hex: Buffer.from("héllo").toString("hex"),
           base64url: Buffer.from([251, 255]).toString("base64url"),
           same: Buffer === globalThis.Buffer,
           value,
           formatted: format("%s=%d", "n", 7),
           inspected: inspect({ a: [1, { b: new Map([[1, 2]]) }] }),
           isDate: types.isDate(new Date()),
           sha256: createHash("sha256").update("abc").digest("hex"),
         };
       } };`,
      compat,
    ),
  );
  assert.deepEqual(result, {
    hex: "68c3a96c6c6f",
    base64url: "-_8",
    same: true,
    value: 42,
    formatted: "n=7",
    inspected: "{ a: [ 1, { b: [Map] } ] }",
    isDate: true,
    sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  });
});

test("CommonJS modules require Node built-ins, with and without the node: prefix", async () => {
  const result = await run({
    compatibilityDate,
    ...compat,
    mainModule: "main.js",
    modules: {
      "main.js": `import lib from "./lib.cjs"; export default { run: () => lib };`,
      "lib.cjs": `
        const path = require("node:path");
        const { StringDecoder } = require("string_decoder");
        const EventEmitter = require("events");
        const assert = require("assert");
        assert.strictEqual(typeof EventEmitter.once, "function");
        const decoder = new StringDecoder("utf8");
        module.exports = {
          joined: path.join("/a/b", "../c", "file.txt"),
          decoded: decoder.write(Buffer.from([0xe2, 0x82])) + decoder.end(Buffer.from([0xac])),
          emitter: typeof new EventEmitter().on,
          strict: require("assert/strict") === assert.strict,
        };`,
    },
  });
  assert.deepEqual(result, { joined: "/a/c/file.txt", decoded: "€", emitter: "function", strict: true });
});

class Counter extends RpcTarget {
  count(): number {
    return 1;
  }
}

test("process.env holds only the env's string values", async () => {
  const result = await run(
    js(
      `export default { run() {
         return { env: { ...process.env }, version: process.version, cwd: process.cwd(), platform: process.platform, hasNextTick: typeof process.nextTick };
       } };`,
      { ...compat, env: { API_KEY: "secret", PORT: "8080", retries: 3, nested: { a: "b" }, counter: new Counter(), flag: true } },
    ),
  );
  assert.deepEqual(result, { env: { API_KEY: "secret", PORT: "8080" }, version: "v20.19.0", cwd: "/", platform: "linux", hasNextTick: "function" });
});

test("process.nextTick runs before a timer and after the current code", async () => {
  const result = await run(
    js(
      `export default { async run() {
         const order = [];
         setTimeout(() => order.push("timer"), 0);
         process.nextTick((v) => order.push(v), "tick");
         order.push("sync");
         await new Promise((resolve) => setTimeout(resolve, 5));
         return order;
       } };`,
      compat,
    ),
  );
  assert.deepEqual(result, ["sync", "tick", "timer"]);
});

test("without the flag there is no Buffer, no process and no Node module", async () => {
  const result = await run(js(`export default { run: () => [typeof Buffer, typeof process, typeof globalThis.Buffer] };`));
  assert.deepEqual(result, ["undefined", "undefined", "undefined"]);
  await assert.rejects(run(js(`import { Buffer } from "node:buffer"; export default {};`)), (error: unknown) => {
    assert.ok(error instanceof WorkerCodeError);
    assert.match(error.message, /cannot import "node:buffer": Node\.js built-in modules need the "nodejs_compat" compatibility flag\./);
    return true;
  });
  await assert.rejects(run(js(`import EventEmitter from "events"; export default {};`)), /need the "nodejs_compat" compatibility flag/);
});

test("a Node module outside the supported set fails at load time, naming it", async () => {
  // Every module workerd serves links (test/runtime/node/long-tail-sandbox.test.ts); Node's test
  // runner, single-executable API and internal _-prefixed modules do not.
  for (const specifier of ["node:test", "node:test/reporters", "node:sea", "_http_agent", "node:_stream_wrap"]) {
    const name = specifier.replace(/^node:/, "");
    await assert.rejects(run(js(`import x from ${JSON.stringify(specifier)}; export default {};`, compat)), (error: unknown) => {
      assert.ok(error instanceof WorkerCodeError, `expected WorkerCodeError for ${specifier}`);
      assert.equal(error.module, "worker.js");
      assert.ok(error.message.includes(`the Node.js module "${name}" is not available in the sandbox`), error.message);
      return true;
    });
  }
  await assert.rejects(run(js(`import t from "node:test"; export default {};`)), (error: unknown) => {
    assert.ok(error instanceof WorkerCodeError);
    assert.match(error.message, /need the "nodejs_compat" compatibility flag, and the Node\.js module "test" is not available in the sandbox even with it\./);
    return true;
  });
  await assert.rejects(
    run({ compatibilityDate, ...compat, mainModule: "a.cjs", modules: { "a.cjs": `require("_tls_wrap");` } }),
    /the Node\.js module "_tls_wrap" is not available in the sandbox/,
  );
});

test("a worker's own module named like a built-in wins for bare imports; node: always means Node's", async () => {
  const result = await run({
    compatibilityDate,
    ...compat,
    mainModule: "main.js",
    modules: {
      "main.js": `import mine from "events"; import NodeEvents from "node:events"; export default { run: () => [mine, typeof NodeEvents.once] };`,
      events: { js: `export default "mine";` },
    },
  });
  assert.deepEqual(result, ["mine", "function"]);
});

test("Node modules share one instance between ESM, CommonJS and the globals", async () => {
  const result = await run({
    compatibilityDate,
    ...compat,
    mainModule: "main.js",
    modules: {
      "main.js": `
        import { Buffer } from "node:buffer";
        import * as bufferNs from "buffer";
        import process from "node:process";
        import { env } from "process";
        import lib from "./lib.cjs";
        export default { run: () => [Buffer === lib.Buffer, bufferNs.default === lib.buffer, process === globalThis.process, env === process.env] };`,
      "lib.cjs": `const buffer = require("node:buffer"); module.exports = { buffer, Buffer: buffer.Buffer };`,
    },
  });
  assert.deepEqual(result, [true, true, true, true]);
});

test("assert failures keep their class and code across the boundary", async () => {
  await assert.rejects(run(js(`import assert from "node:assert"; export default { run() { assert.strictEqual(1, 2); } };`, compat)), (error: Error) => {
    assert.equal(error.name, "AssertionError");
    assert.match(error.message, /Expected values to be strictly equal:\n\n1 !== 2\n/);
    return true;
  });
});

test("node:crypto offers Web Crypto, random values and HMACs", async () => {
  const result = await run(
    js(
      `import crypto, { webcrypto, subtle, getRandomValues, createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
       export default { async run() {
         const digest = new Uint8Array(await subtle.digest("SHA-256", new TextEncoder().encode("abc")));
         return {
           same: webcrypto === globalThis.crypto && crypto.subtle === subtle,
           digest: Buffer.from(digest).toString("hex") === crypto.createHash("sha256").update("abc").digest("hex"),
           random: getRandomValues(new Uint8Array(4)).length + randomBytes(3).length,
           uuid: /^[0-9a-f-]{36}$/.test(randomUUID()),
           hmac: createHmac("sha256", "key").update("msg").digest("base64"),
           equal: timingSafeEqual(Buffer.from("a"), Buffer.from("a")),
         };
       } };`,
      compat,
    ),
  );
  const hmac = createHmac("sha256", "key").update("msg").digest("base64");
  assert.deepEqual(result, { same: true, digest: true, random: 7, uuid: true, hmac, equal: true });
});

test("TypeScript modules, namespace imports and a missing named export", async () => {
  const result = await run({
    compatibilityDate,
    ...compat,
    mainModule: "main.ts",
    modules: {
      "main.ts": `
        import * as path from "node:path";
        import { inspect } from "util";
        const size: number = Buffer.byteLength("€");
        export default { run: (): unknown => [path.basename("/a/b.txt", ".txt"), inspect(Buffer.from("hi")), size] };`,
    },
  });
  assert.deepEqual(result, ["b", "<Buffer 68 69>", 3]);
  await assert.rejects(run(js(`import { readFile } from "node:path"; export default {};`, compat)), (error: unknown) => {
    assert.ok(error instanceof WorkerCodeError);
    assert.match(error.message, /readFile/);
    return true;
  });
});

test("each worker has its own process.env and Node module state", async () => {
  const code = (value: string) =>
    js(
      `import events from "node:events";
       export default { run() { const before = events.defaultMaxListeners; events.defaultMaxListeners = 99; return [process.env.NAME, before]; } };`,
      { ...compat, env: { NAME: value } },
    );
  assert.deepEqual(await run(code("first")), ["first", 10]);
  assert.deepEqual(await run(code("second")), ["second", 10]);
});

test("pooled sandboxes get Node compatibility only for code with the flag", async () => {
  const pooled = new WorkerLoader({ warmPool: 2 });
  try {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const withFlag = await pooled.load(js(`export default { run: () => [typeof Buffer, process.env.X] };`, { ...compat, env: { X: "y" } })).getEntrypoint().run();
    const without = await pooled.load(js(`export default { run: () => [typeof Buffer, typeof process] };`)).getEntrypoint().run();
    assert.deepEqual(withFlag, ["function", "y"]);
    assert.deepEqual(without, ["undefined", "undefined"]);
  } finally {
    await pooled.close();
  }
});
