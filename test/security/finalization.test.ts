// FinalizationRegistry cleanups run only inside a call the host watches: V8 calls a registry's
// callback whenever it likes after a collection, and one that spun took a core for good, outside
// every limit (findings14/01). The sandbox's registry queues them for the next call.

import assert from "node:assert/strict";
import { CpuLimitError } from "islet";
import { rejectsWith, securitySuite } from "./harness.ts";

const { attack, load, isolation } = securitySuite();

attack("a cleanup callback that spins runs in the next call, under its cpuMs, never while the worker is idle", async () => {
  let outside = 0;
  let calls = 0;
  const worker = load(
    `import { env } from "cloudflare:workers";
    let spin = false, fired = 0;
    const registry = new FinalizationRegistry(() => { if (fired++ % 500 === 0) env.ping(); if (spin) for (;;) {} });
    export default {
      arm(s) { spin = s; for (let i = 0; i < 2000; i++) registry.register({ big: new Array(100).fill(i) }, 0); let junk = []; for (let i = 0; i < 200000; i++) junk.push({ i }); return "armed"; },
      fired() { return fired; },
    };`,
    { env: { ping: () => (calls === 0 ? outside++ : undefined) } },
  );
  const entry = worker.getEntrypoint() as unknown as { arm(spin: boolean): Promise<string>; fired(): Promise<number> };
  const during = async <T>(work: () => Promise<T>) => {
    calls++;
    try {
      return await work();
    } finally {
      calls--;
    }
  };
  await during(() => entry.arm(false));
  await during(() => entry.fired());
  // A collection during this call may hand V8's queued cleanups to the call itself, after it set
  // spin: then the cleanup spins inside the call, and the call ends at its cpuMs (as promised).
  const armed = await during(() => entry.arm(true)).catch((error: Error) => error);
  if (armed instanceof Error) assert.ok(armed instanceof CpuLimitError, String(armed));
  const before = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const idleMs = (process.cpuUsage(before).user + process.cpuUsage(before).system) / 1000;
  assert.equal(outside, 0, "no cleanup reached the host while no call was in flight");
  // In isolate and thread mode the sandbox's thread is this process's: its idle second cost little.
  if (isolation !== "process") assert.ok(idleMs < 600, `${idleMs} ms of CPU while the worker was idle`);
  // Whatever V8 queued runs at the start of the next call: a spinning cleanup ends that call.
  const next = await during(() => entry.fired()).catch((error: Error) => error);
  if (next instanceof Error) assert.ok(next instanceof CpuLimitError, String(next));
});

attack("the original FinalizationRegistry is out of reach; the sandbox's one works, subclasses included", async () => {
  const result = await load(
    `export default { run() {
      const r = new FinalizationRegistry(() => {});
      class Mine extends FinalizationRegistry {}
      const m = new Mine(() => {});
      r.register({}, 1);
      let threw = false;
      try { FinalizationRegistry(() => {}); } catch (e) { threw = e instanceof TypeError; }
      return [Object.getPrototypeOf(r).constructor === FinalizationRegistry, FinalizationRegistry.prototype.constructor === FinalizationRegistry, m instanceof FinalizationRegistry, r instanceof FinalizationRegistry, Object.prototype.toString.call(r), threw, r.unregister({})];
    } };`,
  ).getEntrypoint().run();
  assert.deepEqual(result, [true, true, true, true, "[object FinalizationRegistry]", true, false]);
});

void rejectsWith;
