// What the sandbox's runtime weighs before a copy is what crosses (findings7a/08, 09, 12): a value
// is read once into a snapshot, and the snapshot is weighed and copied. Before, the weight read the
// value and isolated-vm's copy read it again, so a getter answered "small" to one and 64 MiB to the
// other: twenty such logs from a 16 MB sandbox ended the host with V8's heap OOM, a host function
// or another worker received the second answer unweighed, and a result could be changed between
// its weight and its copy. One channel an attack, in every isolation mode.

import assert from "node:assert/strict";
import { DataCloneError, type TailEvent } from "islet";
import { rejectsWith, securitySuite } from "./harness.ts";

const { attack, load, isolation } = securitySuite({ limits: { cpuMs: 5_000, wallMs: 30_000, memoryMb: 16 } });

const MiB = 2 ** 20;

/**
 * A module with `flipping(refs)`: an object whose getter `g` answers "small" on its first read and
 * `refs` references to one 1 MiB string (copied once per reference: `refs` MiB) after; `reads` is
 * how often it was read.
 */
const FLIPPING = `
  const mib = "x".repeat(1 << 20);
  let reads = 0;
  function flipping(refs) {
    let n = 0;
    return { get g() { reads++; return n++ === 0 ? "small" : new Array(refs).fill(mib); } };
  }`;

/** The host's peak resident memory so far, in bytes (threads' included; a child process's not). */
function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

attack("console.log of a getter that answers 64 MiB when copied: the log shows what was weighed, the getter is read once, the host's memory does not grow by the copies (findings7a/09)", async () => {
  const events: TailEvent[] = [];
  const worker = load(
    `${FLIPPING}
    export default { run(logs, refs) { const before = reads; for (let i = 0; i < logs; i++) console.log(flipping(refs)); return reads - before; } };`,
    { tails: [(batch: TailEvent[]) => void events.push(...batch)] },
  );
  const ep = worker.getEntrypoint() as any;
  await ep.run(1, 1);
  events.length = 0;
  const peak = peakRss();
  const reads = await ep.run(4, 64);
  assert.equal(reads, 4, "each getter was read once (by the snapshot), not again by the copy");
  const logs = events.flatMap((event) => event.logs);
  assert.equal(logs.length, 4);
  // The trace event carries the value the budget weighed: before, it held the host's note that a
  // value 64 MiB large had been cut ("[value too large to log]"), after the host had copied it.
  for (const log of logs) assert.deepEqual(log.message, [{ g: "small" }]);
  const grown = peakRss() - peak;
  assert.ok(grown < 48 * MiB, `the host's peak RSS grew by ${(grown / MiB).toFixed(0)} MiB`);
});

attack("a host call's argument holding a getter that answers 8 MiB, or 64 MiB, when copied: the host function receives what was weighed (findings7a/08)", async () => {
  const received: unknown[] = [];
  const worker = load(
    `import { env } from "cloudflare:workers";
    ${FLIPPING}
    export default { async run(refs) {
      const before = reads;
      const outcome = await env.sink(flipping(refs)).then(() => "called", (e) => e.name + ": " + e.message);
      return [outcome, reads - before];
    } };`,
    { env: { sink: (value: { g: unknown }) => void received.push(value.g) } },
  );
  const ep = worker.getEntrypoint() as any;
  // Under the 16 MiB cap the second answer reached the host function unweighed; over it the host
  // decoded it all before its own check refused it.
  for (const refs of [8, 64]) {
    received.length = 0;
    assert.deepEqual(await ep.run(refs), ["called", 1], `${refs} MiB: the call went through and the getter was read once`);
    assert.deepEqual(received, ["small"], `${refs} MiB: the host function got what was weighed`);
  }
});

attack("another worker's entrypoint called with a getter that answers 8 MiB when copied receives what was weighed (findings7a/12)", async () => {
  const b = load(`export default { take(value) { const g = value.g; return typeof g === "string" ? g : "array of " + g.length; } };`);
  const a = load(
    `import { env } from "cloudflare:workers";
    ${FLIPPING}
    export default { async run(refs) { const before = reads; const got = await env.other.take(flipping(refs)); return [got, reads - before]; } };`,
    { env: { other: b.getEntrypoint() } },
  );
  assert.deepEqual(await (a.getEntrypoint() as any).run(8), ["small", 1]);
});

attack("a result changed after it was weighed crosses as it was weighed: a getter that turns itself into 8 MiB of data is refused, a property the sandbox's microtasks grow later is not seen", async () => {
  const worker = load(`
    const mib = "x".repeat(1 << 20);
    export default {
      // Its first read makes it a data property of 8 MiB: before, the weight saw "small" and the
      // copy (which runs no code) the data property.
      redefining() {
        return { get g() { Object.defineProperty(this, "g", { value: new Array(8).fill(mib), enumerable: true, configurable: true }); return "small"; } };
      },
      // The error's stack is read when the result is weighed; the microtask it queues runs before the
      // result's promise settles and isolated-vm copies it.
      async growing() {
        const result = { e: new Error("e"), s: "small" };
        Object.defineProperty(result.e, "stack", { configurable: true, get() {
          Object.defineProperty(this, "stack", { value: "Error: e", configurable: true });
          queueMicrotask(() => { result.s = new Array(8).fill(mib); });
          return "Error: e";
        } });
        return result;
      },
    };`);
  const ep = worker.getEntrypoint() as any;
  await rejectsWith(ep.redefining(), DataCloneError, /holds a getter \(property "g"\)/);
  const grown = await ep.growing();
  assert.equal(grown.s, "small", `${isolation}: the host got what was weighed`);
  assert.ok(grown.e instanceof Error);
});

attack("a Proxy is refused wherever a sandbox sends it, before the snapshot reads it: its traps cannot answer the weight and the copy differently", async () => {
  const received: unknown[] = [];
  const events: TailEvent[] = [];
  const worker = load(
    `import { env } from "cloudflare:workers";
    export default { async run() {
      const proxy = new Proxy({ g: 1 }, {});
      const { proxy: revocable } = Proxy.revocable({}, {});
      const host = await env.sink({ p: proxy }).then(() => "called", (e) => e.name + ": " + e.message);
      const hostRevocable = await env.sink([revocable]).then(() => "called", (e) => e.name + ": " + e.message);
      console.log(proxy);
      return [host, hostRevocable];
    } };`,
    { env: { sink: (value: unknown) => void received.push(value) }, tails: [(batch: TailEvent[]) => void events.push(...batch)] },
  );
  const [host, hostRevocable] = await (worker.getEntrypoint() as any).run();
  assert.match(host, /^DataCloneError: A Proxy could not be cloned/);
  assert.match(hostRevocable, /^DataCloneError: A Proxy could not be cloned/);
  assert.equal(received.length, 0, "the host function was never called");
  // console.log formats it to text instead (its traps run there, inside the sandbox's limits).
  assert.equal(typeof events[0].logs[0].message[0], "string");
});

attack("the Proxy that records what user code makes behaves as the original: new and revocable work, a call without new and a subclass throw", async () => {
  const worker = load(`export default { run() {
    const out = {};
    const proxy = new Proxy({ a: 1 }, { get: (target, key) => (key === "b" ? 2 : target[key]) });
    out.reads = [proxy.a, proxy.b];
    const { proxy: revocable, revoke } = Proxy.revocable({}, {});
    revoke();
    try { revocable.x; out.revoked = "readable"; } catch (e) { out.revoked = e.name; }
    try { Proxy({}, {}); out.call = "called"; } catch (e) { out.call = e.name + ": " + e.message; }
    try { class Sub extends Proxy {} out.subclass = "made"; } catch (e) { out.subclass = e.name; }
    try { new Proxy(1, {}); } catch (e) { out.nonObject = e.name; }
    out.shape = [typeof Proxy, Proxy.name, Proxy.length, Proxy.prototype, Object.getOwnPropertyNames(Proxy).join(), typeof Proxy.revocable, Proxy.revocable.name, Proxy.revocable.length];
    out.construct = typeof Reflect.construct(Proxy, [{}, {}]);
    return out;
  } };`);
  assert.deepEqual(await (worker.getEntrypoint() as any).run(), {
    reads: [1, 2],
    revoked: "TypeError",
    call: "TypeError: Constructor Proxy requires 'new'",
    subclass: "TypeError",
    nonObject: "TypeError",
    shape: ["function", "Proxy", 2, undefined, "length,name,revocable", "function", "revocable", 2],
    construct: "object",
  });
});
