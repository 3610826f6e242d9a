// AsyncLocalStorage inside real sandboxes (in the isolation mode ISLET_ISOLATION names), run
// differentially: each scenario is one script that logs what getStore() returns where, run in a
// sandbox and in Node (whose AsyncLocalStorage rests on V8's own async context); the logs must match.
// The patterns are those libraries use: run(), getStore(), enterWith, nested runs, exit, snapshot,
// AsyncResource, and concurrent requests that must not see each other's store, across await,
// .then, timers, queueMicrotask, process.nextTick, node:timers(/promises) and async generators.

import assert from "node:assert/strict";
import { test } from "node:test";
import * as asyncHooks from "node:async_hooks";
import * as timers from "node:timers";
import * as timersPromises from "node:timers/promises";
import { WorkerLoader, type WorkerLoaderOptions } from "islet";
import { js } from "../../helpers.ts";

const isolation = (process.env.ISLET_ISOLATION ?? "isolate") as NonNullable<WorkerLoaderOptions["isolation"]>;
const loader = new WorkerLoader({ isolation });
test.after(() => loader.close());

/** A scenario: an async function body with `hooks`, `timers`, `timersPromises` and `log` in scope; it returns nothing. */
const SCENARIOS: Record<string, string> = {
  "run across await, then, timers, queueMicrotask and nextTick": `
    const als = new hooks.AsyncLocalStorage();
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    await als.run("A", async () => {
      log.push(["start", als.getStore()]);
      await null;
      log.push(["after await", als.getStore()]);
      await sleep(2);
      log.push(["after timer", als.getStore()]);
      await Promise.resolve(1).then(() => log.push(["in then", als.getStore()]));
      await new Promise((resolve) => queueMicrotask(() => { log.push(["in microtask", als.getStore()]); resolve(); }));
      await new Promise((resolve) => process.nextTick(() => { log.push(["in nextTick", als.getStore()]); resolve(); }));
      await new Promise((resolve) => setTimeout(() => { log.push(["in setTimeout", als.getStore()]); resolve(); }, 1));
      await new Promise((resolve) => timers.setImmediate(() => { log.push(["in setImmediate", als.getStore()]); resolve(); }));
      await timersPromises.setTimeout(1);
      log.push(["after timers/promises", als.getStore()]);
      await Promise.all([sleep(1), sleep(2)]);
      log.push(["after Promise.all", als.getStore()]);
      try { await Promise.reject(new Error("x")); } catch { log.push(["in catch", als.getStore()]); }
      await Promise.reject(new Error("y")).catch(() => log.push(["in .catch", als.getStore()])).finally(() => log.push(["in .finally", als.getStore()]));
    });
    log.push(["outside", als.getStore()]);
  `,
  "concurrent requests do not see each other's store": `
    const als = new hooks.AsyncLocalStorage();
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    async function handle(id, delays) {
      return als.run({ id }, async () => {
        const seen = [];
        for (const ms of delays) {
          await sleep(ms);
          seen.push(als.getStore().id);
          await null;
          seen.push(als.getStore().id);
        }
        return [id, seen];
      });
    }
    log.push(await Promise.all([handle(1, [3, 1, 2]), handle(2, [1, 3, 1]), handle(3, [2, 2, 2])]));
    log.push(["after", als.getStore()]);
  `,
  "nested runs, exit, two storages": `
    const a = new hooks.AsyncLocalStorage();
    const b = new hooks.AsyncLocalStorage();
    await a.run(1, async () => {
      await b.run("x", async () => {
        await a.run(2, async () => {
          await null;
          log.push(["inner", a.getStore(), b.getStore()]);
        });
        await null;
        log.push(["after inner", a.getStore(), b.getStore()]);
        await a.exit(async () => {
          await null;
          log.push(["exit", a.getStore(), b.getStore()]);
        });
        log.push(["after exit", a.getStore(), b.getStore()]);
      });
      log.push(["after b", a.getStore(), b.getStore()]);
    });
  `,
  "enterWith inside an async function lasts for its continuation": `
    const als = new hooks.AsyncLocalStorage();
    async function child() {
      als.enterWith("child");
      await null;
      log.push(["child after await", als.getStore()]);
    }
    await als.run("parent", async () => {
      await child();
      log.push(["parent after child", als.getStore()]);
      als.enterWith("replaced");
      await new Promise((resolve) => setTimeout(resolve, 1));
      log.push(["after enterWith and timer", als.getStore()]);
    });
  `,
  "snapshot, AsyncResource and bind keep the context they were made in": `
    const als = new hooks.AsyncLocalStorage();
    const [snapshot, resource, bound] = await als.run("made", async () => {
      await null;
      return [hooks.AsyncLocalStorage.snapshot(), new hooks.AsyncResource("R"), hooks.AsyncLocalStorage.bind(() => als.getStore())];
    });
    await als.run("other", async () => {
      await null;
      log.push([snapshot(() => als.getStore()), resource.runInAsyncScope(() => als.getStore()), bound(), als.getStore()]);
    });
  `,
  "async generators and for await": `
    const als = new hooks.AsyncLocalStorage();
    async function* numbers() {
      for (let i = 0; i < 3; i++) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        yield [i, als.getStore()];
      }
    }
    await als.run("gen", async () => {
      for await (const value of numbers()) log.push(value);
      log.push(["done", als.getStore()]);
    });
  `,
  "an event emitter's listener runs in the emitter's caller's context": `
    const als = new hooks.AsyncLocalStorage();
    const { EventEmitter } = await import("node:events");
    const emitter = new EventEmitter();
    emitter.on("x", () => log.push(["listener", als.getStore()]));
    als.run("registered", () => {});
    await als.run("emitting", async () => { await null; emitter.emit("x"); });
  `,
};

function runInNode(body: string): Promise<unknown[]> {
  const log: unknown[] = [];
  const scenario = new Function("hooks", "timers", "timersPromises", "log", `return (async () => { ${body} })();`) as (...args: unknown[]) => Promise<void>;
  return scenario(asyncHooks, timers, timersPromises, log).then(() => log);
}

function runInSandbox(body: string): Promise<unknown> {
  const source = `
    import * as hooks from "node:async_hooks";
    import * as timers from "node:timers";
    import * as timersPromises from "node:timers/promises";
    export default { async run() { const log = []; await (async () => { ${body} })(); return log; } };`;
  return loader.load(js(source, { compatibilityFlags: ["nodejs_compat"] })).getEntrypoint().run() as Promise<unknown>;
}

for (const [name, body] of Object.entries(SCENARIOS)) {
  test(`AsyncLocalStorage as in Node: ${name}`, async () => {
    assert.deepEqual(await runInSandbox(body), await runInNode(body));
  });
}

test("two calls into one worker each start with no store, even after enterWith at a call's top", async () => {
  const worker = loader.load(
    js(
      `import { AsyncLocalStorage } from "node:async_hooks";
      const als = new AsyncLocalStorage();
      export default {
        async run(id) {
          const before = als.getStore();
          als.enterWith(id);
          await new Promise((resolve) => setTimeout(resolve, id === "a" ? 5 : 1));
          return [before, als.getStore()];
        },
      };`,
      { compatibilityFlags: ["nodejs_compat"] },
    ),
  );
  const entry = worker.getEntrypoint() as unknown as { run(id: string): Promise<unknown> };
  assert.deepEqual(await Promise.all([entry.run("a"), entry.run("b")]), [[undefined, "a"], [undefined, "b"]]);
  assert.deepEqual(await entry.run("c"), [undefined, "c"]);
});

test("a worker that does not name node:async_hooks is not lowered: native async functions, no patched then", async () => {
  const result = await loader.load(
    js(`export default { async run() { return [String(this.run).startsWith("async"), Object.getOwnPropertyDescriptor(Promise.prototype, "then").value.toString().includes("native code")]; } };`, {
      compatibilityFlags: ["nodejs_compat"],
    }),
  ).getEntrypoint().run();
  assert.deepEqual(result, [true, true]);
});

test("a module with top-level await in a worker that imports node:async_hooks is a WorkerCodeError naming it", async () => {
  const worker = loader.load({
    ...js("", { compatibilityFlags: ["nodejs_compat"] }),
    mainModule: "main.js",
    modules: {
      "main.js": `import "node:async_hooks"; import { v } from "./tla.js"; export default { run: () => v };`,
      "tla.js": `export const v = await Promise.resolve(1);`,
    },
  });
  await assert.rejects(() => worker.getEntrypoint().run() as Promise<unknown>, (error: Error & { module?: string }) => {
    assert.equal(error.name, "WorkerCodeError");
    assert.match(error.message, /top-level await cannot be used in a worker that imports node:async_hooks/);
    assert.equal(error.module, "tla.js");
    return true;
  });
});
