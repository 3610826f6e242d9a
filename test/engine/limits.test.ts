import { test } from "node:test";
import assert from "node:assert/strict";
import { CpuLimitError, LimitError, MemoryLimitError, SubrequestLimitError, WallTimeLimitError, WorkerLoader, type TailEvent } from "islet";
import { js, sleep } from "../helpers.ts";

const loader = new WorkerLoader({ limits: { cpuMs: 200 } });
test.after(() => loader.close());

const hostile = js(`
  export default {
    spin() { while (true) {} },
    async asyncSpin() { while (true) { await null; } },
    microtasks() { const f = () => Promise.resolve().then(f); f(); return new Promise(() => {}); },
    regex() { return /(a+)+$/.test("a".repeat(40) + "!"); },
    heap() { const a = []; while (true) a.push(new Array(1e5).fill(Math.random())); },
    strings() { const keep = []; for (let i = 0; ; i++) keep.push("x".repeat(1 << 20) + i); },
    ropes() { let s = "x"; while (true) s = s + s; },
    typed() { const keep = []; while (true) keep.push(new Uint8Array(8 * 1024 * 1024)); },
    wasmMemory() { const m = new WebAssembly.Memory({ initial: 1 }); while (true) m.grow(100); },
    hang() { return new Promise(() => {}); },
    ok() { return "ok"; },
  };`);

/** Proves the host event loop stays responsive while `work` runs. */
async function withHeartbeat<T>(work: Promise<T>): Promise<{ result: PromiseSettledResult<T>; maxGapMs: number }> {
  let last = performance.now();
  let maxGapMs = 0;
  const beat = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
  }, 5);
  const [result] = await Promise.allSettled([work]);
  clearInterval(beat);
  return { result, maxGapMs };
}

for (const method of ["spin", "asyncSpin", "microtasks", "regex"]) {
  test(`cpuMs stops ${method} with CpuLimitError; the host loop stays free`, async () => {
    const stub = loader.load(hostile);
    // Started first: the first sandbox of a process compiles islet's runtime on the host's thread.
    assert.equal(await stub.getEntrypoint().ok(), "ok");
    const started = performance.now();
    const { result, maxGapMs } = await withHeartbeat(stub.getEntrypoint()[method]());
    assert.equal(result.status, "rejected");
    const error = (result as PromiseRejectedResult).reason;
    assert.ok(error instanceof CpuLimitError, `got ${error}`);
    assert.ok(error instanceof LimitError);
    assert.equal(error.limit, "cpuMs");
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 3_000);
    // A host blocked by the spin would see one gap as long as the whole call; a busy machine can
    // hold a turn back for 150 ms or more on its own, so the bound scales with the call.
    assert.ok(maxGapMs < Math.max(150, elapsed * 0.6), `event loop blocked for ${maxGapMs} ms of a ${elapsed} ms call`);
  });
}

for (const method of ["heap", "strings"]) {
  test(`memoryMb kills an allocation bomb (${method}) with MemoryLimitError, not the host`, async () => {
    const memLoader = new WorkerLoader({ limits: { memoryMb: 32, cpuMs: 10_000 } });
    const neighbour = memLoader.get("neighbour", () => hostile);
    assert.equal(await neighbour.getEntrypoint().ok(), "ok");
    await assert.rejects(memLoader.load(hostile).getEntrypoint()[method](), MemoryLimitError);
    assert.equal(await neighbour.getEntrypoint().ok(), "ok");
    await memLoader.close();
  });
}

// Buffers and wasm memory are refused by the isolate's allocator before the heap fills: the
// sandbox gets a RangeError it can catch, and keeps running.
for (const [method, message] of [["typed", /Array buffer allocation failed/], ["wasmMemory", /WebAssembly.Memory.grow/], ["ropes", /Invalid string length/]] as const) {
  test(`oversized ${method} allocations fail inside the sandbox with RangeError`, async () => {
    const memLoader = new WorkerLoader({ limits: { memoryMb: 32, cpuMs: 10_000 } });
    const stub = memLoader.load(hostile);
    await assert.rejects(stub.getEntrypoint()[method](), (e: Error) => e instanceof RangeError && message.test(e.message));
    assert.equal(await stub.getEntrypoint().ok(), "ok");
    await memLoader.close();
  });
}

test("wallMs ends a call that never finishes", async () => {
  const stub = loader.load({ ...hostile, limits: { wallMs: 100 } });
  const started = performance.now();
  await assert.rejects(stub.getEntrypoint().hang(), WallTimeLimitError);
  assert.ok(performance.now() - started < 2_000);
});

test("the lowest of loader, code and entrypoint limits wins", async () => {
  const looser = loader.load({ ...hostile, limits: { cpuMs: 100_000 } });
  const started = performance.now();
  await assert.rejects(looser.getEntrypoint().spin(), CpuLimitError);
  assert.ok(performance.now() - started < 2_000, "the loader's 200 ms ceiling applied, not the code's 100 s");
  const tighter = loader.load({ ...hostile, limits: { cpuMs: 150 } });
  const t1 = performance.now();
  await assert.rejects(tighter.getEntrypoint(null, { limits: { cpuMs: 20 } }).spin(), CpuLimitError);
  assert.ok(performance.now() - t1 < 150, "the entrypoint's 20 ms limit applied");
  await assert.rejects(tighter.getEntrypoint(null, { limits: { wallMs: 30 } }).hang(), WallTimeLimitError);
});

test("after a kill the isolate is discarded and the next get(id) reloads it", async () => {
  let loads = 0;
  const code = js(`let n = 0; export default { bump() { return ++n; }, spin() { while (true) {} } };`);
  const get = () => loader.get("killed", () => (loads++, code)).getEntrypoint();
  assert.equal(await get().bump(), 1);
  assert.equal(await get().bump(), 2);
  await assert.rejects(get().spin(), CpuLimitError);
  assert.equal(await get().bump(), 1);
  assert.equal(loads, 2);
});

test("a kill fails every call in flight on that isolate, and nothing else", async () => {
  const victim = loader.get("victim", () => hostile);
  const neighbour = loader.get("neighbour", () => js(`let n = 0; export default { bump() { return ++n; } };`));
  await neighbour.getEntrypoint().bump();
  const pending = victim.getEntrypoint().hang();
  const spinning = victim.getEntrypoint().spin();
  await assert.rejects(spinning, CpuLimitError);
  await assert.rejects(pending, CpuLimitError);
  assert.equal(await neighbour.getEntrypoint().bump(), 2);
});

test("a top-level infinite loop is stopped by cpuMs", async () => {
  await assert.rejects(loader.load(js(`while (true) {}`)).getEntrypoint().x(), CpuLimitError);
});

test("subRequests counts outbound fetches and host calls", async () => {
  const code = js(`export default {
    async calls(fn, n) { for (let i = 0; i < n; i++) await fn(); return "done"; },
    async fetches(n) { for (let i = 0; i < n; i++) await fetch("https://example.com/"); return "done"; },
  };`, { limits: { subRequests: 3 }, globalOutbound: () => new Response("ok") });
  const ep = loader.load(code).getEntrypoint();
  assert.equal(await ep.calls(() => 1, 3), "done");
  await assert.rejects(ep.calls(() => 1, 4), SubrequestLimitError);
  assert.equal(await ep.fetches(3), "done");
  await assert.rejects(ep.fetches(10), SubrequestLimitError);
  assert.equal(await ep.calls(() => 1, 1), "done", "the worker keeps serving");
});

test("neighbours and the host keep answering while a sandbox spins", async () => {
  const busy = new WorkerLoader({ limits: { cpuMs: 1_000 } });
  const neighbour = busy.get("n", () => js(`export default { ping() { return "pong"; } };`));
  await neighbour.getEntrypoint().ping();
  const spinning = busy.load(hostile).getEntrypoint().spin();
  const started = performance.now();
  for (let i = 0; i < 10; i++) assert.equal(await neighbour.getEntrypoint().ping(), "pong");
  assert.ok(performance.now() - started < 500, "neighbour calls were not held up by the spinning sandbox");
  await assert.rejects(spinning, CpuLimitError);
  await busy.close();
});

test("tails get one trace event per invocation with the outcome", async () => {
  const events: TailEvent[] = [];
  const code = js(`export default { ok() { console.info("fine", 1); return 1; }, bad() { throw new TypeError("nope"); }, spin() { while (true) {} }, hang(ready) { ready?.(); return new Promise(() => {}); } };`, {
    tails: [(e) => void events.push(...e), { tail: () => { throw new Error("a broken tail is ignored"); } }],
  });
  const stub = loader.load(code);
  await stub.getEntrypoint().ok();
  await assert.rejects(stub.getEntrypoint().bad());
  await assert.rejects(stub.getEntrypoint().spin());
  const other = loader.load({ ...code, limits: { wallMs: 50 } });
  await assert.rejects(other.getEntrypoint().hang());
  const third = loader.load(code);
  // Disposed once its invocation runs (a fixed sleep raced the worker's start beside a CPU hog).
  let running!: () => void;
  const started = new Promise<void>((resolve) => (running = resolve));
  const canceled = third.getEntrypoint().hang(() => running());
  await started;
  third.dispose();
  await assert.rejects(canceled);
  assert.deepEqual(events.map((e) => [e.method, e.outcome]), [["ok", "ok"], ["bad", "exception"], ["spin", "exceededCpu"], ["hang", "exceededWall"], ["hang", "canceled"]]);
  assert.deepEqual(events[0].logs.map((l) => [l.level, l.message]), [["info", ["fine", 1]]]);
  assert.deepEqual(events[1].exceptions.map((e) => [e.name, e.message]), [["TypeError", "nope"]]);
  assert.ok(events[2].cpuTime >= 150, `cpuTime ${events[2].cpuTime}`);
  assert.ok(events.every((e) => e.entrypoint === "default" && typeof e.wallTime === "number" && e.eventTimestamp > 0));
});
