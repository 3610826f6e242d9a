// isolation: "process" has the same API as in-process isolation: isolation-suite.ts runs one slice
// of the loader's behaviour in both modes; the rest covers what only processes have (a child killed
// mid-call, a wedged child, a clean environment, the permission model, restarts).

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CpuLimitError, SandboxProcessError, WorkerDisposedError, WorkerLoader } from "islet";
import { ProcessPool, processSlotFor } from "../../src/loader/process/pool.ts";
import { inspectShard, processPoolOf, stubOn } from "../../src/testing.ts";
import { compatibilityDate, js, sleep } from "../helpers.ts";
import { counter, sharedIsolationSuite } from "./isolation-suite.ts";

sharedIsolationSuite("isolate");
sharedIsolationSuite("process", { processes: 2 }, { processes: 1 });

describe("process isolation only", () => {
  test("invalid options are TypeErrors", () => {
    assert.throws(() => new WorkerLoader({ isolation: "vm" as never }), /^TypeError: WorkerLoader: isolation: must be "isolate", "process" or "thread", got "vm"$/);
    assert.throws(() => new WorkerLoader({ isolation: "process", processes: 0 }), /processes: must be a positive integer/);
    assert.throws(() => new WorkerLoader({ processes: 2 }), /processes: needs isolation: "process"/);
  });

  test("children get an empty environment and run under the permission model; close() kills them", async () => {
    process.env.ISLET_TEST_SECRET = "s3cr3t-value";
    const loader = new WorkerLoader({ isolation: "process", processes: 1 });
    try {
      const pool = processPoolOf(loader)!;
      const report = await inspectShard(pool, 0);
      assert.notEqual(report.pid, process.pid);
      assert.ok(!report.envKeys.includes("ISLET_TEST_SECRET"), `child env: ${report.envKeys}`);
      assert.ok(report.envKeys.every((key) => key === "TSX_DISABLE_CACHE"), `child env: ${report.envKeys}`);
      if (ProcessPool.permissionOff === undefined) {
        assert.ok(report.permission !== null, "the permission model is on");
        assert.equal(report.permission!["fs.write"], false);
        assert.equal(report.permission!["fs.read:/etc/passwd"], false);
      }
      // From the sandbox's side too: nothing of the parent's environment under nodejs_compat.
      const probe = loader.load({ compatibilityDate, compatibilityFlags: ["nodejs_compat"], mainModule: "p.js", modules: { "p.js": `export default { env() { return Object.keys(process.env); } };` } });
      assert.deepEqual(await (probe.getEntrypoint() as any).env(), []);
      await loader.close();
      assert.throws(() => process.kill(report.pid, 0), { code: "ESRCH" });
    } finally {
      delete process.env.ISLET_TEST_SECRET;
      await loader.close();
    }
  });

  test("a child killed mid-call: its calls reject with SandboxProcessError, others keep serving, the next call works", async () => {
    const loader = new WorkerLoader({ isolation: "process", processes: 2 });
    const pool = processPoolOf(loader)!;
    try {
      // Two named workers in different children.
      const victimId = "victim";
      let neighbourId = "n0";
      for (let i = 1; processSlotFor(neighbourId, 2) === processSlotFor(victimId, 2); i++) neighbourId = `n${i}`;
      let loads = 0;
      const victim = loader.get(victimId, () => (loads++, js(`let n = 0; export default { bump() { return ++n; }, async wait(signal) { await signal(); return "never"; }, inc() { return (x) => x + 1; } };`)));
      const neighbour = loader.get(neighbourId, () => counter);
      assert.equal(await neighbour.getEntrypoint().bump(), 1);
      assert.equal(await victim.getEntrypoint().bump(), 1);
      const increment = await (victim.getEntrypoint() as any).inc();
      assert.equal(await increment(1), 2);
      let entered!: () => void;
      const inFlight = new Promise<void>((resolve) => (entered = resolve));
      const pending = (victim.getEntrypoint() as any).wait(() => {
        entered();
        return new Promise(() => {});
      });
      await inFlight;
      const killedAt = performance.now();
      process.kill(pool.pids[processSlotFor(victimId, 2)]!, "SIGKILL");
      const error = await pending.then(
        () => assert.fail("the call should fail"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof SandboxProcessError, `got ${error}`);
      assert.ok(error instanceof WorkerDisposedError);
      assert.equal(error.signal, "SIGKILL");
      assert.ok(performance.now() - killedAt < 5_000);
      // A stub the dead child handed out fails the same way instead of hanging.
      await assert.rejects(increment(1), SandboxProcessError);
      // The killed child comes back; the worker that lived there starts again.
      assert.equal(await victim.getEntrypoint().bump(), 1);
      assert.equal(loads, 2);
      // The other child never noticed.
      assert.equal(await neighbour.getEntrypoint().bump(), 2);
      assert.equal(loader.stats.processes?.restarts, 1);
      assert.equal(loader.stats.processes?.alive, 2);
    } finally {
      await loader.close();
    }
  });

  // findings8/08: V8 checks for termination only between steps of a built-in; a BigInt's decimal
  // string of 2^26 bits is one step of about 10 s, run on after the kill, uncharged.
  test("a child whose killed sandbox runs on inside one built-in step is replaced within seconds; its neighbours start again there", async () => {
    const loader = new WorkerLoader({ isolation: "process", processes: 1, limits: { memoryMb: 64 } });
    const pool = processPoolOf(loader)!;
    try {
      const neighbour = loader.get("n", () => counter);
      assert.equal(await neighbour.getEntrypoint().bump(), 1);
      const pid = pool.pids[0];
      const runaway = loader.load(js(`export default { run() { const big = 1n << (2n ** 26n); return ("" + big).length; } };`, { limits: { cpuMs: 100 } }));
      await assert.rejects((runaway.getEntrypoint() as any).run(), CpuLimitError);
      const deadline = performance.now() + 20_000;
      while (pool.pids[0] === pid && performance.now() < deadline) await sleep(100);
      assert.notEqual(pool.pids[0], pid, "the child was replaced");
      assert.ok(performance.now() < deadline);
      // The neighbour starts again in the new child (its count from 1).
      assert.equal(await neighbour.getEntrypoint().bump(), 1);
      assert.equal(loader.stats.processes?.restarts, 1);
    } finally {
      await loader.close();
    }
  });

  test("a wedged child (SIGSTOP) is killed once it stops answering; nothing hangs", async () => {
    // 3 s of silence: a live child's heartbeats (every 500 ms) came more than 1.5 s apart beside a
    // CPU hog, and the restarted child was killed too.
    const pool = new ProcessPool({ processes: 1, globalOutbound: null, tails: [], unresponsiveMs: 3_000 });
    try {
      const stub = stubOn(pool, "w", () => js(`export default { ok() { return "ok"; }, hang() { return new Promise(() => {}); } };`));
      assert.equal(await (stub.getEntrypoint() as any).ok(), "ok");
      const pending = (stub.getEntrypoint() as any).hang();
      pending.catch(() => {});
      await sleep(50);
      process.kill(pool.pids[0]!, "SIGSTOP");
      await assert.rejects(pending, (e: unknown) => e instanceof SandboxProcessError && /sent nothing/.test((e as Error).message));
      assert.equal(await (stub.getEntrypoint() as any).ok(), "ok");
    } finally {
      await pool.close();
    }
  });

  test("named workers live in the child their id hashes to", async () => {
    const loader = new WorkerLoader({ isolation: "process", processes: 2 });
    try {
      const whereIs = loader.get("pinned", () => counter);
      for (let i = 1; i <= 5; i++) assert.equal(await whereIs.getEntrypoint().bump(), i);
      assert.equal(processSlotFor("pinned", 2), processSlotFor("pinned", 2));
      assert.ok([0, 1].includes(processSlotFor("pinned", 2)));
      const slots = new Set(Array.from({ length: 20 }, (_, i) => processSlotFor(`id-${i}`, 2)));
      assert.deepEqual([...slots].sort(), [0, 1], "ids spread over both children");
      for (let i = 0; i < 10 && loader.stats.liveWorkers === 0; i++) await sleep(100);
      assert.equal(loader.stats.liveWorkers, 1);
    } finally {
      await loader.close();
    }
  });
});
