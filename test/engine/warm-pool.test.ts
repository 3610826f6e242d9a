// The warm pool under back-to-back loads, in every isolation mode it exists in (in-process, and on
// each thread or child process): loads one event-loop turn apart are served from the pool (its own
// counters say so, src/testing.ts), every one of them by a sandbox that ran nobody's code, and the
// pool never holds more than its size. Not timed: what this checks is where sandboxes came from.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { WorkerLoader, type WorkerLoaderOptions } from "islet";
import { warmPoolCountersOf } from "../../src/testing.ts";
import { compatibilityDate, sleep } from "../helpers.ts";

/** The canonical worker (README): a WorkerEntrypoint class importing cloudflare:workers; greet also counts its calls in a global. */
const canonical = {
  compatibilityDate,
  mainModule: "w.js",
  modules: {
    "w.js":
      "import { WorkerEntrypoint } from 'cloudflare:workers';\n" +
      "export default class extends WorkerEntrypoint { greet(n) { globalThis.seen = (globalThis.seen ?? 0) + 1; return 'hi ' + n + ' ' + globalThis.seen; } }",
  },
};

const LOADS = 40;
const WARM_POOL = 4;

const modes: { name: string; options: WorkerLoaderOptions }[] = [
  { name: "isolate", options: {} },
  { name: "thread", options: { isolation: "thread", threads: 2 } },
  { name: "process", options: { isolation: "process", processes: 2 } },
];

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

for (const mode of modes) {
  describe(`warm pool, isolation "${mode.name}"`, () => {
    test("back-to-back loads of the canonical worker are served from the pool, each by a fresh sandbox", async () => {
      const loader = new WorkerLoader({ ...mode.options, warmPool: WARM_POOL, maxWorkers: 100 });
      try {
        // Filled in the background (shards report theirs in heartbeats): up to 15 s beside a CPU hog.
        for (let i = 0; i < 300 && loader.stats.warmSandboxes < WARM_POOL; i++) await sleep(50);
        assert.equal(loader.stats.warmSandboxes, WARM_POOL);
        const before = await warmPoolCountersOf(loader);
        assert.ok(before !== undefined, "the loader has a warm pool");
        for (let i = 0; i < LOADS; i++) {
          await tick();
          const stub = loader.load(canonical);
          // A sandbox that had run anyone's code would count on from an earlier call.
          assert.equal(await (stub.getEntrypoint() as any).greet("x"), "hi x 1");
          stub.dispose();
          // Bounded: ready and booting sandboxes together never exceed warmPool.
          assert.ok(loader.stats.warmSandboxes <= WARM_POOL, `${loader.stats.warmSandboxes} warm sandboxes`);
        }
        const after = (await warmPoolCountersOf(loader))!;
        const hits = after.hits - before.hits;
        const misses = after.misses - before.misses;
        assert.equal(hits + misses, LOADS, "every load took a sandbox from the pool's take()");
        assert.ok(hits >= LOADS * 0.9, `${hits} of ${LOADS} back-to-back loads found a warm sandbox (${misses} misses)`);
        // The pool made what it handed out (and refills toward its size).
        assert.ok(after.made - before.made >= hits - WARM_POOL, `made ${after.made - before.made} for ${hits} hits`);
      } finally {
        await loader.close();
      }
      // In-process the loader's own pool is empty (a shard's pool goes with its thread or process).
      if (mode.name === "isolate") assert.equal(loader.stats.warmSandboxes, 0, "close() lets go of every pooled sandbox");
    });
  });
}

test("a pooled sandbox's ahead-linked cloudflare:workers serves static imports, import() and workers that import neither", async () => {
  const loader = new WorkerLoader({ warmPool: 2 });
  try {
    for (let i = 0; i < 100 && loader.stats.warmSandboxes < 2; i++) await sleep(50);
    const dynamic = { compatibilityDate, mainModule: "d.js", modules: { "d.js": "export default { async run() { const m = await import('cloudflare:workers'); return typeof m.WorkerEntrypoint + ' ' + (m.env === undefined); } };" } };
    const plain = { compatibilityDate, mainModule: "p.js", modules: { "p.js": "export default { run() { return 'plain'; } };" } };
    for (let i = 0; i < 3; i++) {
      await tick();
      assert.equal(await (loader.load(dynamic).getEntrypoint() as any).run(), "function false");
      await tick();
      assert.equal(await (loader.load(plain).getEntrypoint() as any).run(), "plain");
      await tick();
      assert.equal(await (loader.load(canonical).getEntrypoint() as any).greet("y"), "hi y 1");
    }
    assert.ok((await warmPoolCountersOf(loader))!.hits >= 6);
  } finally {
    await loader.close();
  }
});

test("close() while the pool is still booting its sandboxes kills them and resolves", async () => {
  const loader = new WorkerLoader({ warmPool: 3 });
  // The first turn makes the first sandbox's isolate; its boot is then on isolated-vm's threads.
  await tick();
  await tick();
  await loader.close();
  assert.equal(loader.stats.warmSandboxes, 0);
  assert.deepEqual(await warmPoolCountersOf(loader).then((c) => c && c.hits), 0);
});
