// Budgets on what crosses from a sandbox to the host, in every isolation mode: how many objects one
// value may hold (each hop walks them all on the host's or shard's event loop), and how many bytes
// the arguments of a sandbox's host calls in flight may hold on the host.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { CpuLimitError, DataCloneError, WorkerLoader } from "islet";
import { inspectShard, processPoolOf, shardPoolOf, threadPoolOf } from "../../src/testing.ts";
import { js, sleep } from "../helpers.ts";
import { ISOLATION, isolationOptions, rejectsWith, securitySuite, liveBytes } from "./harness.ts";
import { Peer } from "../../src/rpc/peer.ts";
import { Link } from "../../src/loader/shard/link.ts";
import { assertLoopFree, longestStall } from "./loop-stall.ts";


const BIG_RESULT = `export default { run(n) { const a = new Array(n); for (let i = 0; i < n; i++) a[i] = { a: i }; return a; }, map(n) { const m = new Map(); for (let i = 0; i < n; i++) m.set(i, i); return m; } };`;

for (const isolation of [ISOLATION]) {
  describe(`isolation: "${isolation}"`, () => {
    const roomy = securitySuite({ ...isolationOptions(isolation), limits: { cpuMs: 5_000, wallMs: 30_000, memoryMb: 128 } });

    roomy.attack("a result of 600,000 small objects is a DataCloneError at once; a neighbour's call in flight on the same shard finishes and no shard is restarted", async () => {
      // The neighbour's call is in flight while the big result crosses (it used to be lost: the
      // shard went silent for 10 s copying the result, and was killed as wedged).
      const neighbour = roomy.loader.get("slow-neighbour", () => js(`let n = 0; export default { async slow() { await scheduler.wait(1500); return ++n; } };`));
      const inFlight = (neighbour.getEntrypoint() as any).slow();
      const started = performance.now();
      await rejectsWith((roomy.load(BIG_RESULT).getEntrypoint() as any).run(600_000), DataCloneError, /at most 100000 objects/);
      const elapsed = performance.now() - started;
      assert.equal(await inFlight, 1);
      assert.ok(elapsed < 5_000, `refused after ${elapsed.toFixed(0)} ms`);
      const shards = roomy.loader.stats.threads ?? roomy.loader.stats.processes;
      if (shards !== undefined) assert.equal(shards.restarts, 0);
    });

    roomy.attack("a Map of 150,000 entries is refused too; 99,000 objects still cross", async () => {
      const ep = roomy.load(BIG_RESULT).getEntrypoint() as any;
      await rejectsWith(ep.map(150_000), DataCloneError, /at most 100000 objects/);
      const ok = await ep.run(99_000);
      assert.equal(ok.length, 99_000);
      assert.deepEqual(ok[98_999], { a: 98_999 });
    });

    roomy.attack("host-call arguments of 150,000 objects are a DataCloneError in the sandbox; the host function is not called", async () => {
      let calls = 0;
      const result = await roomy.call(
        `import { env } from "cloudflare:workers";
        export default { async run() { const a = Array.from({ length: 150_000 }, (_, i) => ({ i })); try { await env.take(a); return "sent"; } catch (e) { return e.name + ": " + e.message; } } };`,
        "run",
        [],
        { env: { take: () => calls++ } },
      );
      assert.match(result, /^DataCloneError: .*at most 100000 objects/);
      assert.equal(calls, 0);
    });

    roomy.attack("a sandbox that hands the host 200,000 functions (10,000 a call) the host drops: they are released, and live memory of the host (and the shard) stays bounded", async () => {
      const ep = roomy.load(
        `import { env } from "cloudflare:workers";
        export default { async run(k) { let n = 0; for (let i = 0; i < k; i++) { const a = []; for (let j = 0; j < 10000; j++) a.push(() => j); n += await env.sink(a); } return n; } };`,
        { env: { sink: (fns: unknown[]) => fns.length } },
      ).getEntrypoint() as any;
      assert.equal(await ep.run(1), 10_000);
      const before = await liveBytes(roomy.loader);
      let total = 0;
      // Released when the host's stubs are collected: a full collection between rounds of 50,000
      // (each below the cap of 100,000 the sandbox may have out at once).
      for (let round = 0; round < 4; round++) {
        total += await ep.run(5);
        await liveBytes(roomy.loader);
        await sleep(50);
      }
      assert.equal(total, 200_000);
      const grown = (await liveBytes(roomy.loader)) - before;
      if (process.env.BUDGET_DEBUG) console.log(isolation, "live memory grew", (grown / 2 ** 20).toFixed(1), "MiB");
      assert.ok(grown < 24 * 2 ** 20, `live memory grew by ${(grown / 2 ** 20).toFixed(0)} MiB`);
    });

    roomy.attack("a host that keeps every function a sandbox hands it: past 100,000 the sandbox's call is a RangeError, and the functions of the refused call are not kept", async () => {
      const kept: unknown[] = [];
      const result = await roomy.call(
        `import { env } from "cloudflare:workers";
        export default { async run() {
          let n = 0;
          for (let i = 0; i < 12; i++) {
            const a = []; for (let j = 0; j < 10000; j++) a.push(() => j);
            try { n += await env.keep(a); } catch (e) { return [n, e.name, e.message]; }
          }
          return [n];
        } };`,
        "run",
        [],
        { env: { keep: (fns: unknown[]) => (kept.push(...fns), fns.length) } },
      );
      assert.equal(result[0], 100_000);
      assert.equal(result[1], "RangeError");
      assert.match(result[2], /at most 100000/);
      assert.equal(kept.length, 100_000);
      assert.equal(await (kept[99_999] as () => Promise<number>)(), 9_999, "the kept stubs still work");
    });

    const { attack, call } = securitySuite({ ...isolationOptions(isolation), limits: { cpuMs: 5_000, wallMs: 20_000, memoryMb: 16 } });

    attack("an 8 MiB buffer passed 25 times to a slow host function without awaiting: past memoryMb (16) of arguments in flight the call is a RangeError; the host held at most 2 copies", async () => {
      let inFlight = 0;
      let most = 0;
      const store = async (bytes: Uint8Array) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await sleep(300);
        inFlight--;
        return bytes.byteLength;
      };
      const result = await call(
        `import { env } from "cloudflare:workers";
        export default { async run() {
          const s = new Uint8Array(8 << 20).fill(1);
          const settled = await Promise.allSettled(Array.from({ length: 25 }, () => env.store(s)));
          const after = await env.store(s);
          return [settled.filter((r) => r.status === "fulfilled").length, settled.find((r) => r.status === "rejected")?.reason?.name, String(settled.find((r) => r.status === "rejected")?.reason?.message), after];
        } };`,
        "run",
        [],
        { env: { store } },
      );
      // 8 MiB plus the array's own charge: one call fits in 16 MiB, a second does not.
      assert.equal(result[0], 1);
      assert.equal(result[1], "RangeError");
      assert.match(result[2], /host calls in flight would hold more than 16 MiB/);
      assert.equal(result[3], 8 << 20, "once the calls in flight finished, the budget is free again");
      assert.ok(most <= 1, `${most} calls were in flight at once on the host`);
    });


    roomy.attack("16 MiB node:crypto hashes in a loop: the host's event loop is never held for long (the input goes to the host 1 MiB a call)", async () => {
      const stall = await longestStall(async () => {
        await rejectsWith(
          roomy.call(
            `import { createHash } from "node:crypto";
            export default { run() { const big = new Uint8Array(16 << 20); for (;;) createHash("sha512").update(big).digest(); } };`,
            "run",
            [],
            { compatibilityFlags: ["nodejs_compat"], limits: { cpuMs: 1_000 } },
          ),
          CpuLimitError,
        );
      });
      // One 16 MiB call held the host's loop 270-470 ms in isolate mode on a loaded 2-core machine;
      // in 1 MiB calls the worst wall-clock delay measured 50-420 ms, most of it the machine's other
      // load (four test files and a reviewer's experiments, or a CPU hog, beside it). The host's own CPU between
      // two turns of its loop is the sharp measure; the wall-clock stall is bounded on top of a
      // control's. The service's own cap is 1 MiB a call (test/runtime/node/crypto.test.ts).
      await assertLoopFree(stall, { maxBusyMs: 100, maxStallMs: 500 }, (control) => `${isolation}: the host's thread computed at most ${stall.busyMs.toFixed(0)} ms at a stretch; its loop stalled ${stall.stallMs.toFixed(0)} ms (${control.toFixed(0)} ms with no work)`);
    });
  });
}

test(`[${ISOLATION}] stats.restarts counts a shard that a call restarted before its exit was seen`, { skip: ISOLATION === "isolate" ? "no shards in isolate mode" : undefined }, async () => {
  const loader = new WorkerLoader({ ...isolationOptions() });
  try {
    const stub = loader.get("r", () => js(`let n = 0; export default { tick() { return ++n; } };`));
    assert.equal(await (stub.getEntrypoint() as any).tick(), 1);
    const pool = shardPoolOf(loader) as any;
    // As the watchdog does with a wedged shard: killed, and the next call starts a new one at once.
    pool.slots[0].conn.kill(new Error("killed by the test"));
    assert.equal(await (stub.getEntrypoint() as any).tick(), 1, "a new shard, a fresh worker");
    const shards = loader.stats.threads ?? loader.stats.processes;
    assert.equal(shards?.restarts, 1);
  } finally {
    await loader.close();
  }
});

test("the host's own check, for a runtime that skipped its own: past the budget a call is a RangeError before the host function runs (Peer, and the parent's Link)", async () => {
  let calls = 0;
  const slow = async (bytes: Uint8Array) => (calls++, await sleep(50), bytes.byteLength);
  const args = () => [[new Uint8Array(10 << 20)]];
  const peer = new Peer({ invoke: async () => [undefined], release() {} }, 16 << 20);
  const peerId = (peer.encode(slow) as [unknown, [unknown, number, number][]])[1][0][2];
  const link = new Link({ invoke: async () => [undefined], release() {} }, true, false, Infinity, () => 16 << 20);
  const linkId = link.exportValue(slow, "w");
  for (const [name, callOnce] of [
    ["Peer", () => peer.call(peerId, null, args())],
    ["Link", () => link.call(linkId, null, args())],
  ] as const) {
    calls = 0;
    const first = callOnce();
    await assert.rejects(callOnce(), (e: Error) => e instanceof RangeError && /more than 16 MiB/.test(e.message), name);
    assert.deepEqual(await first, [10 << 20]);
    assert.equal(calls, 1, `${name}: the host function ran once`);
    assert.ok(Array.isArray(await callOnce()), `${name}: the budget is free again once the first call settled`);
  }
});

test("a value of more than 100,000 objects from a sandbox is refused by the host's own check too (Peer and the parent's Link decode)", () => {
  const body = Array.from({ length: 100_001 }, (_, i) => ({ i }));
  const peer = new Peer({ invoke: async () => [undefined], release() {} });
  assert.throws(() => peer.decode([body]), (e: Error) => e instanceof DataCloneError && /at most 100000 objects/.test(e.message));
  const link = new Link({ invoke: async () => [undefined], release() {} }, true, false, 100_000);
  assert.throws(() => link.decode([body]), (e: Error) => e instanceof DataCloneError && /at most 100000 objects/.test(e.message));
  assert.equal((peer.decode([body.slice(0, 99_999)]) as unknown[]).length, 99_999);
});
