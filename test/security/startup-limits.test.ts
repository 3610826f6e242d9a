// A limit hit while a worker's modules evaluate (at their top level, before any handler runs) is
// reported as the limit it is: the trace event of the call that needed the worker says
// exceededCpu, exceededMemory or exceededWall with the CPU and wall time the start took, not
// "exception" with 0 ms, and carries startup: true; the logs made before it are kept. A memory kill reports the CPU time
// it used, during a call too (isolated-vm disposes the isolate, whose CPU time then cannot be read:
// the watchdog reads it as the call goes). Every mode (ISLET_ISOLATION), beside the suite's
// neighbour.

import assert from "node:assert/strict";
import { CpuLimitError, MemoryLimitError, WallTimeLimitError, type TailEvent, type WorkerCode } from "islet";
import { sleep } from "../helpers.ts";
import { rejectsWith, securitySuite } from "./harness.ts";

// CPU to spare (each worker lowers it): a heap bomb must reach its memory limit before its cpuMs.
const { attack, load } = securitySuite({ limits: { cpuMs: 20_000, wallMs: 20_000 } });

const HEAP_BOMB = `const a = []; for (;;) a.push(new Array(1e5).fill(Math.random()));`;

/** Calls `method` on a fresh worker running `source` and returns the rejection and the one trace event it made. */
async function traced(source: string, extra: Partial<WorkerCode>, method = "run", args: unknown[] = []): Promise<{ call: Promise<unknown>; event: () => Promise<TailEvent> }> {
  const events: TailEvent[] = [];
  const call = (load(source, { ...extra, tails: [(batch) => void events.push(...batch)] }).getEntrypoint() as any)[method](...args);
  call.catch(() => {});
  return {
    call,
    async event() {
      for (let i = 0; i < 100 && events.length === 0; i++) await sleep(10);
      assert.equal(events.length, 1, "one trace event for the call");
      return events[0];
    },
  };
}

attack("a module that spins at its top level: exceededCpu with the CPU it spent, and its logs", async () => {
  const { call, event } = await traced(`console.log("before the spin"); for (;;) {}\nexport default { run() { return 1; } };`, { limits: { cpuMs: 100 } });
  await rejectsWith(call, CpuLimitError, /while starting the worker/);
  const e = await event();
  assert.equal(e.entrypoint, "default");
  assert.equal(e.method, "run");
  assert.equal(e.outcome, "exceededCpu");
  assert.equal(e.startup, true);
  assert.ok(e.cpuTime >= 100, `cpuTime ${e.cpuTime}`);
  assert.ok(e.wallTime >= e.cpuTime * 0.9, `wallTime ${e.wallTime}, cpuTime ${e.cpuTime}`);
  assert.deepEqual(e.exceptions.map((x) => x.name), ["CpuLimitError"]);
  assert.deepEqual(e.logs.map((log) => log.message), [["before the spin"]]);
});

attack("a module that fills its heap at its top level: exceededMemory with the CPU it spent", async () => {
  const { call, event } = await traced(`${HEAP_BOMB}\nexport default { run() { return 1; } };`, { limits: { memoryMb: 32 } });
  await rejectsWith(call, MemoryLimitError, /while starting the worker/);
  const e = await event();
  assert.equal(e.outcome, "exceededMemory");
  assert.equal(e.startup, true);
  assert.ok(e.cpuTime > 0, `cpuTime ${e.cpuTime}`);
  assert.ok(e.wallTime >= e.cpuTime * 0.9, `wallTime ${e.wallTime}, cpuTime ${e.cpuTime}`);
});

attack("a module whose top-level await never settles: exceededWall with the wall time it took", async () => {
  const { call, event } = await traced(`await new Promise(() => {});\nexport default { run() { return 1; } };`, { limits: { wallMs: 200 } });
  await rejectsWith(call, WallTimeLimitError, /while starting the worker/);
  const e = await event();
  assert.equal(e.outcome, "exceededWall");
  assert.equal(e.startup, true);
  assert.ok(e.wallTime >= 200, `wallTime ${e.wallTime}`);
  assert.ok(e.cpuTime < e.wallTime, `cpuTime ${e.cpuTime}, wallTime ${e.wallTime}`);
});

attack("a module that throws at its top level: exception, with the time it took, named for the call", async () => {
  const { call, event } = await traced(`console.log("starting"); throw new RangeError("bad config");\nexport default { fetch() {} };`, {}, "fetch", ["https://example.com/"]);
  await assert.rejects(call, (error: Error) => error.name === "RangeError" && error.message === "bad config");
  const e = await event();
  assert.equal(e.method, "fetch");
  assert.equal(e.outcome, "exception");
  assert.equal(e.startup, true);
  assert.deepEqual(e.exceptions.map((x) => [x.name, x.message]), [["RangeError", "bad config"]]);
  assert.ok(e.cpuTime > 0 && e.wallTime > 0, `cpuTime ${e.cpuTime}, wallTime ${e.wallTime}`);
  assert.deepEqual(e.logs.map((log) => log.message), [["starting"]]);
});

attack("a heap bomb during a call: exceededMemory with the CPU it spent, not 0", async () => {
  const { call, event } = await traced(`export default { run() { ${HEAP_BOMB} } };`, { limits: { memoryMb: 32 } });
  await rejectsWith(call, MemoryLimitError, /during the call/);
  const e = await event();
  assert.equal(e.outcome, "exceededMemory");
  assert.equal(e.startup, undefined, "the worker had started");
  assert.ok(e.cpuTime > 0, `cpuTime ${e.cpuTime}`);
  assert.ok(e.wallTime >= e.cpuTime * 0.9, `wallTime ${e.wallTime}, cpuTime ${e.cpuTime}`);
});
