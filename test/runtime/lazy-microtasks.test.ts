// The first touch of a lazily loaded global (and of each runtime chunk) must never run microtasks
// user code queued before it: the touch is synchronous, and so is what the code around it sees.
// Each case runs in a fresh worker (so the touch is the first one) with two microtasks pending;
// the log must show the synchronous code finishing before either of them, and no error. The
// cases touch from module top level, from an RPC method, from a timer callback, from inside a
// microtask and from inside user code that another first touch calls (a nested first touch).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { WorkerLoader } from "islet";
import { js } from "../helpers.ts";

const loader = new WorkerLoader({ limits: { cpuMs: 2000 } });
test.after(() => loader.close());

/** One use per runtime chunk that loads it: every chunk the build makes must be listed here. */
const chunkUses: Record<string, string> = {
  web: `new Headers({ a: "1" }).get("a")`,
  url: `new URL("https://a.example/b").pathname`,
  events: `new EventTarget().dispatchEvent(new Event("x"))`,
  streams: `new WritableStream().locked`,
  compression: `new CompressionStream("gzip").readable.locked`,
  encodings: `new TextDecoder("shift_jis").decode(new Uint8Array([0x93, 0xfa]))`,
  crypto: `crypto.getRandomValues(new Uint8Array(4)).length`,
  node: `Buffer.from("a").length`,
};

const nodeCompat = { compatibilityFlags: ["nodejs_compat"] };

/** The worker's code around one touch: `where` says where the touch runs. */
function workerSource(touch: string, where: "module" | "method" | "timer" | "microtask"): string {
  // `steps` records the order; the touch runs between "sync start" and "sync end".
  const scenario = `
    const steps = [];
    const note = (step) => steps.push(step);
    Promise.resolve().then(() => note("first microtask"));
    Promise.resolve().then(() => note("second microtask"));
    note("sync start");
    try { ${touch}; note("sync end"); } catch (e) { note("threw " + (e && e.name) + ": " + (e && e.message)); }
  `;
  const settle = `await new Promise((resolve) => setTimeout(resolve, 1)); return steps;`;
  switch (where) {
    case "module":
      return `let steps; { ${scenario}; globalThis.__steps = steps; }
        export default { async run() { ${settle.replace("return steps", "return globalThis.__steps")} } };`;
    case "method":
      return `export default { async run() { ${scenario}; ${settle} } };`;
    case "timer":
      return `export default { async run() {
        let steps;
        await new Promise((resolve) => setTimeout(() => { ${scenario}; resolve(); globalThis.__steps = steps; }, 0));
        ${settle.replace("return steps", "return globalThis.__steps")} } };`;
    case "microtask":
      // The touch runs inside a microtask while two others queued before it are still pending.
      return `export default { async run() {
        const steps = [];
        const note = (step) => steps.push(step);
        Promise.resolve().then(() => {
          Promise.resolve().then(() => note("first microtask"));
          Promise.resolve().then(() => note("second microtask"));
          note("sync start");
          try { ${touch}; note("sync end"); } catch (e) { note("threw " + (e && e.name) + ": " + (e && e.message)); }
        });
        ${settle} } };`;
  }
}

const expected = ["sync start", "sync end", "first microtask", "second microtask"];

async function steps(source: string, flags?: typeof nodeCompat): Promise<unknown> {
  return (loader.load(js(source, flags)).getEntrypoint() as unknown as { run(): Promise<unknown> }).run();
}

test("every runtime chunk has a use in this test", () => {
  const built = JSON.parse(readFileSync(new URL("../../dist/runtime-chunks.json", import.meta.url), "utf8")) as string[];
  assert.deepEqual([...built].sort(), Object.keys(chunkUses).sort());
});

for (const where of ["module", "method", "timer", "microtask"] as const) {
  test(`the first use of each runtime chunk (${where}) runs no pending microtask`, async () => {
    for (const [chunk, use] of Object.entries(chunkUses)) {
      assert.deepEqual(await steps(workerSource(use, where), nodeCompat), expected, `${chunk}: ${use}`);
    }
  });
}

/** The lazily defined globals of a fresh sandbox: accessors on globalThis that replace themselves on first touch. */
async function lazyGlobals(): Promise<string[]> {
  const names = await steps(
    `export default { run() {
      return Object.getOwnPropertyNames(globalThis).filter((name) => {
        const d = Object.getOwnPropertyDescriptor(globalThis, name);
        return typeof d.get === "function" && typeof d.set === "function";
      });
    } };`,
    nodeCompat,
  );
  return names as string[];
}

test("the first touch of every lazily defined global runs no pending microtask", async () => {
  const names = await lazyGlobals();
  // The list this test covers is read from a sandbox; it must at least hold each chunk's globals.
  for (const name of ["Headers", "URL", "EventTarget", "WritableStream", "CompressionStream", "crypto", "Buffer", "WebAssembly", "Intl", "console"]) {
    assert.ok(names.includes(name), `${name} is not a lazy global: ${names.join(", ")}`);
  }
  for (const where of ["module", "method", "microtask"] as const) {
    for (const name of names) {
      assert.deepEqual(await steps(workerSource(`void globalThis[${JSON.stringify(name)}]`, where), nodeCompat), expected, `${where}: ${name}`);
    }
  }
});

/**
 * Nested first touches: user code that the first use of one API calls synchronously (a stream's
 * start(), a getter of an init dictionary, a value's toString) makes the first use of another.
 */
const outerUses: Record<string, (inner: string) => string> = {
  streams: (inner) => `new ReadableStream({ start() { ${inner}; } })`,
  url: (inner) => `new URL({ toString() { ${inner}; return "https://a.example/"; } })`,
  web: (inner) => `new Headers({ get a() { ${inner}; return "1"; } })`,
  events: (inner) => `new Event("x", { get bubbles() { ${inner}; return false; } })`,
  compression: (inner) => `new CompressionStream({ toString() { ${inner}; return "gzip"; } })`,
  crypto: (inner) => `crypto.subtle.digest({ get name() { ${inner}; return "SHA-256"; } }, new Uint8Array(1)).catch(() => {})`,
  node: (inner) => `Buffer.from({ valueOf() { ${inner}; return "a"; } })`,
};

test("nested first uses (one chunk's first use calls user code that first uses another) run no pending microtask", async () => {
  for (const where of ["module", "method"] as const) {
    for (const [outer, wrap] of Object.entries(outerUses)) {
      for (const [inner, use] of Object.entries(chunkUses)) {
        if (inner === outer) continue;
        // The inner use records that it ran, inside the outer one.
        const touch = `let ran = false; try { ${wrap(`${use}; ran = true`)}; } catch (e) { if (!ran) throw e; } if (!ran) throw new Error("the inner use did not run")`;
        assert.deepEqual(await steps(workerSource(touch, where), nodeCompat), expected, `${where}: ${inner} inside ${outer}`);
      }
    }
  }
});

test("a microtask that uses an API whose first use is still in progress gets it, after that use (issue 18's case)", async () => {
  for (const [chunk, use] of Object.entries(chunkUses)) {
    const source = `const steps = [];
      Promise.resolve().then(() => { try { ${use}; steps.push("microtask used it"); } catch (e) { steps.push("microtask threw " + e.message); } });
      ${use}; steps.push("top level used it");
      export default { async run() { await null; return steps; } };`;
    assert.deepEqual(await steps(source, nodeCompat), ["top level used it", "microtask used it"], chunk);
  }
});

test("with several modules of code, a microtask that uses an API while its first use loads still gets it", async () => {
  // Module code of such workers runs outside a microtask (engine/sandbox.ts, GATE): a first use at
  // their top level may still run microtasks queued before it, but none of them fails to load.
  for (const [chunk, use] of Object.entries(chunkUses)) {
    const source = `import { steps } from "./steps.js";
      Promise.resolve().then(() => { try { ${use}; steps.push("microtask used it"); } catch (e) { steps.push("microtask threw " + e.message); } });
      ${use}; steps.push("top level used it");
      export default { async run() { await null; return steps.slice().sort(); } };`;
    const result = await (loader.load({ ...js(source, nodeCompat), modules: { "worker.js": source, "steps.js": "export const steps = [];" } }).getEntrypoint() as unknown as { run(): Promise<unknown> }).run();
    assert.deepEqual(result, ["microtask used it", "top level used it"], chunk);
  }
});

test("the first use of each chunk from a stub the host calls back, and from a response body's pull(), runs no pending microtask", async () => {
  const scenario = (use: string) => `
    const steps = [];
    Promise.resolve().then(() => steps.push("first microtask"));
    Promise.resolve().then(() => steps.push("second microtask"));
    steps.push("sync start");
    try { ${use}; steps.push("sync end"); } catch (e) { steps.push("threw " + e.message); }`;
  for (const [chunk, use] of Object.entries(chunkUses)) {
    // A function the worker hands out: the host's call of it is a runtime entry of its own (invoke).
    const ep = loader.load(
      js(`export default {
        handOut() { return async () => { ${scenario(use)}; await new Promise((resolve) => setTimeout(resolve, 1)); return steps; }; },
      };`, nodeCompat),
    ).getEntrypoint() as unknown as { handOut(): Promise<() => Promise<unknown>> };
    const callback = await ep.handOut();
    assert.deepEqual(await callback(), expected, `${chunk} (a stub called back)`);
    // A body the host reads: each pull is a runtime entry of its own (bodyPull).
    const response = await loader.load(js(`export default {
        fetch() {
          return new Response(new ReadableStream({
            async pull(controller) {
              ${scenario(use)};
              await new Promise((resolve) => setTimeout(resolve, 1));
              controller.enqueue(new TextEncoder().encode(JSON.stringify(steps)));
              controller.close();
            },
          }, { highWaterMark: 0 }));
        },
      };`, nodeCompat)).getEntrypoint().fetch("https://a.example/");
    assert.deepEqual(JSON.parse(await response.text()), expected, `${chunk} (a body's pull)`);
  }
});
