// What crosses the sandbox boundary is weighed per occurrence: a value that holds many references
// to one big string or BigInt is copied once per reference, so it weighs that much (at most the
// sandbox's memoryMb); logs count BigInts and RegExps by their size; the headers of a request or
// response crossing the boundary hold at most 256 KiB. In every isolation mode.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { DataCloneError, WorkerLoader, type TailEvent } from "islet";
import { inspectShard, processPoolOf, threadPoolOf } from "../../src/testing.ts";
import { js, sleep } from "../helpers.ts";
import { ISOLATION, isolationOptions, rejectsWith, securitySuite, liveBytes } from "./harness.ts";
import { Peer } from "../../src/rpc/peer.ts";
import { Link } from "../../src/loader/shard/link.ts";


/** Characters of the logs the host kept: strings by length, BigInts by their (estimated) decimal length, RegExps by source. */
function logChars(events: TailEvent[]): number {
  let total = 0;
  const measure = (part: unknown): number => {
    if (typeof part === "string") return part.length;
    if (typeof part === "bigint") return Math.ceil(part.toString(16).length * 1.2);
    if (part instanceof RegExp) return part.source.length;
    // What the host holds: a view keeps its whole buffer; an error its message, stack and cause.
    if (ArrayBuffer.isView(part)) return part.buffer.byteLength;
    if (part instanceof Error) return part.message.length + (part.stack?.length ?? 0) + measure((part as { cause?: unknown }).cause);
    if (Array.isArray(part)) return part.reduce((sum: number, item) => sum + measure(item), 0);
    return JSON.stringify(part)?.length ?? 0;
  };
  for (const event of events) for (const log of event.logs) for (const part of log.message) total += measure(part);
  return total;
}

const MiB = 2 ** 20;

const AMPLIFY = `
  const s = "x".repeat(1 << 20);
  const big = (1n << 8388600n) + 12345n; // about 1 MiB
  export default {
    strings(n) { return new Array(n).fill(s); },
    bigints(n) { return new Array(n).fill(big); },
    map(n) { const m = new Map(); for (let i = 0; i < n; i++) m.set(i, s); return m; },
    errors(n) { const e = new Error(s); return Array.from({ length: n }, () => { const x = new Error("e"); x.message = s; return x; }); },
    regexps(n) { const r = new RegExp(s); return Array.from({ length: n }, () => new RegExp(r)); },
    thrown(n) { throw new Array(n).fill(s); },
    once() { return "y".repeat(5 << 20); },
    small() { return Array.from({ length: 10_000 }, (_, i) => "s" + i); },
    bigOnce() { return big; },
    fetch() { const h = new Headers(); for (let i = 0; i < 200; i++) h.set("x-h" + i, s); return new Response("ok", { headers: h }); },
  };`;

for (const isolation of [ISOLATION]) {
  describe(`isolation: "${isolation}"`, () => {
    const { attack, call, load, loader } = securitySuite({ ...isolationOptions(isolation), limits: { cpuMs: 5_000, wallMs: 30_000, memoryMb: 16 } });

    attack("a result of 300 references to one 1 MiB string from a memoryMb-16 sandbox is a DataCloneError naming the cap; the host's live memory does not grow by it, and a neighbour's call in flight finishes", async () => {
      const neighbour = loader.get("amplify-neighbour", () => js(`let n = 0; export default { async slow() { await scheduler.wait(1500); return ++n; } };`));
      const inFlight = (neighbour.getEntrypoint() as any).slow();
      const ep = load(AMPLIFY).getEntrypoint() as any;
      assert.equal((await ep.strings(1)).length, 1);
      const before = await liveBytes(loader);
      const started = performance.now();
      const error = await rejectsWith(ep.strings(300), DataCloneError, /at most 16777216 bytes \(16 MiB, the sandbox's memoryMb\)/);
      const elapsed = performance.now() - started;
      let kept: unknown = error;
      const grown = (await liveBytes(loader)) - before;
      kept = undefined;
      void kept;
      assert.ok(grown < 32 * MiB, `live memory grew by ${(grown / MiB).toFixed(0)} MiB`);
      assert.ok(elapsed < 5_000, `refused after ${elapsed.toFixed(0)} ms`);
      assert.equal(await inFlight, 1, "the neighbour's call in flight finished");
      const shards = loader.stats.threads ?? loader.stats.processes;
      if (shards !== undefined) assert.equal(shards.restarts, 0);
    });

    attack("references to one big BigInt, a Map of references to one string, errors sharing one message, RegExps sharing one source, and a thrown array of references: each a DataCloneError", async () => {
      const ep = load(AMPLIFY).getEntrypoint() as any;
      await rejectsWith(ep.bigints(200), DataCloneError, /at most 16777216 bytes/);
      await rejectsWith(ep.map(200), DataCloneError, /at most 16777216 bytes/);
      await rejectsWith(ep.errors(200), DataCloneError, /at most 16777216 bytes/);
      await rejectsWith(ep.regexps(200), DataCloneError, /at most 16777216 bytes/);
      // A thrown value crosses as an error record (name, message cut to 16 KiB): no amplification.
      const thrown = await rejectsWith(ep.thrown(300), Error);
      assert.ok(thrown.message.length <= 20_000, `a thrown value's message of ${thrown.message.length} characters`);
    });

    attack("ordinary values still cross: a 5 MiB string once, 10,000 small strings, a 1 MiB BigInt once, a few references to a string", async () => {
      const ep = load(AMPLIFY).getEntrypoint() as any;
      assert.equal((await ep.once()).length, 5 << 20);
      const small = await ep.small();
      assert.equal(small.length, 10_000);
      assert.equal(small[9_999], "s9999");
      assert.equal(await ep.bigOnce(), (1n << 8388600n) + 12345n);
      assert.equal((await ep.strings(4)).length, 4);
    });

    attack("200 references to one 1 MiB BigInt as the arguments of a slow host function are refused in the sandbox; the host function is not called", async () => {
      let calls = 0;
      const take = async (values: unknown[]) => (calls++, await sleep(200), values.length);
      const result = await call(
        `import { env } from "cloudflare:workers";
        export default { async run() {
          const big = (1n << 8388600n) + 1n;
          const out = [];
          try { out.push(await env.take(new Array(200).fill(big))); } catch (e) { out.push(e.name + ": " + e.message); }
          // 10 references (about 10 MiB) fit once; two such calls in flight do not (the in-flight budget weighs BigInts).
          const settled = await Promise.allSettled([env.take(new Array(10).fill(big)), env.take(new Array(10).fill(big))]);
          out.push(settled.map((r) => r.status === "fulfilled" ? r.value : r.reason.name + ": " + r.reason.message));
          return out;
        } };`,
        "run",
        [],
        { env: { take } },
      );
      assert.match(result[0], /^DataCloneError: .*at most 16777216 bytes/);
      assert.equal(result[1][0], 10);
      assert.match(result[1][1], /^RangeError: .*host calls in flight would hold more than 16 MiB/);
      assert.equal(calls, 1, "only the first call of 10 references reached the host");
    });

    attack("a 1 MiB BigInt logged 200 times, 200 RegExps sharing one 1 MiB source, 1,000 one-byte views of a 1 MiB buffer, 1,000 errors sharing a 1 MiB cause: the log is cut at the 1 MiB budget", async () => {
      for (const body of [
        // findings5/30 and 31: each view copied its whole buffer (1,000 MiB on the host), and a cause was not weighed.
        `const b = new ArrayBuffer(1 << 20); for (let i = 0; i < 1000; i++) console.log(new Uint8Array(b, i, 1));`,
        `const cause = "c".repeat(1 << 20); for (let i = 0; i < 1000; i++) console.log(new Error("e", { cause }));`,
        `const big = (1n << 3500000n) + 1n; for (let i = 0; i < 200; i++) console.log(big);`,
        `const r = new RegExp("x".repeat(1 << 20)); console.log(Array.from({ length: 200 }, () => new RegExp(r)));`,
        `const r = new RegExp("x".repeat(1 << 20)); for (let i = 0; i < 200; i++) console.log(new RegExp(r));`,
      ]) {
        const events: TailEvent[] = [];
        const result = await call(`export default { run() { ${body} console.log("after"); return "done"; } };`, "run", [], { tails: [(e: TailEvent[]) => void events.push(...e)] });
        assert.equal(result, "done");
        const chars = logChars(events);
        assert.ok(chars <= 1.05 * MiB, `the host kept ${(chars / MiB).toFixed(1)} MiB of logs: ${body}`);
      }
    });

    attack("a fetch handler's Response with 200 headers holding one 1 MiB string: the call fails with a TypeError (Headers too large); 20 ordinary headers cross", async () => {
      const ep = load(AMPLIFY).getEntrypoint() as any;
      const before = await liveBytes(loader);
      await rejectsWith(ep.fetch("http://x/"), TypeError, /^Headers too large: .*at most 262144 bytes/);
      const grown = (await liveBytes(loader)) - before;
      assert.ok(grown < 32 * MiB, `live memory grew by ${(grown / MiB).toFixed(0)} MiB`);
      const ok = load(`export default { fetch() { const h = new Headers(); for (let i = 0; i < 20; i++) h.set("x-h" + i, "v".repeat(1000)); return new Response("ok", { headers: h }); } };`);
      const response = await (ok.getEntrypoint() as any).fetch("http://x/");
      assert.equal(response.headers.get("x-h19"), "v".repeat(1000));
      assert.equal(await response.text(), "ok");
    });

    attack("a sandbox fetch whose 100 headers hold one 1 MiB string is a TypeError in the sandbox; globalOutbound is not called; ordinary headers reach it", async () => {
      const seen: number[] = [];
      const globalOutbound = (request: Request) => {
        let bytes = 0;
        for (const [name, value] of request.headers) bytes += name.length + value.length;
        seen.push(bytes);
        return new Response("ok");
      };
      const result = await call(
        `export default { async run() {
          const s = "x".repeat(1 << 20);
          const out = [];
          const h = {}; for (let i = 0; i < 100; i++) h["x-h" + i] = s;
          try { await fetch("http://api.test/", { headers: h }); out.push("sent"); } catch (e) { out.push(e.name + ": " + e.message); }
          const ok = {}; for (let i = 0; i < 20; i++) ok["x-h" + i] = "v".repeat(1000);
          out.push(await (await fetch("http://api.test/", { headers: ok })).text());
          return out;
        } };`,
        "run",
        [],
        { globalOutbound },
      );
      assert.match(result[0], /^TypeError: Headers too large: .*at most 262144 bytes/);
      assert.equal(result[1], "ok");
      assert.equal(seen.length, 1, "only the ordinary fetch reached globalOutbound");
      assert.ok(seen[0] >= 20_000);
    });

    // attack25: a Response's status text crossed outside the cap (it is part of the head, and any
    // length of it was copied to the host, or from a globalOutbound into the sandbox).
    attack("a status text counts with the headers: a fetch handler's and a globalOutbound's 300 KiB status text are refused with 'Headers too large'; a service binding's too", async () => {
      const big = "s".repeat(300_000);
      const callee = load(`export default { fetch() { return new Response("big", { statusText: "${"s".repeat(1_000)}".repeat(300) }); } };`);
      await rejectsWith((callee.getEntrypoint() as any).fetch("http://x/"), TypeError, /^Headers too large/);
      const ep = load(`export default { async out() { try { await fetch("http://api.test/"); return "fetched"; } catch (e) { return e.name + ": " + e.message; } },
          async bound() { try { await this.env.SVC.fetch("http://svc/"); return "fetched"; } catch (e) { return e.name + ": " + e.message; } } };`.replace("this.env", "env").replace("export default", 'import { env } from "cloudflare:workers";\nexport default'), {
        globalOutbound: () => new Response("ok", { statusText: big }),
        env: { SVC: callee.getEntrypoint() },
      }).getEntrypoint() as any;
      assert.match(await ep.out(), /^TypeError: Headers too large/);
      assert.match(await ep.bound(), /^TypeError: Headers too large/);
      const ordinary = load(`export default { fetch() { return new Response("ok", { status: 299, statusText: "Fine".repeat(100) }); } };`);
      const response = await (ordinary.getEntrypoint() as any).fetch("http://x/");
      assert.deepEqual([response.status, response.statusText, await response.text()], [299, "Fine".repeat(100), "ok"]);
    });

    attack("the host's side of the headers cap: a host request into a sandbox and a globalOutbound response with 300 KiB of headers are refused with 'Headers too large'", async () => {
      const ep = load(`export default { fetch(request) { return new Response("seen"); }, async out() { try { await fetch("http://api.test/"); return "fetched"; } catch (e) { return e.name + ": " + e.message; } } };`, {
        globalOutbound: () => new Response("ok", { headers: { "x-big": "v".repeat(300_000) } }),
      }).getEntrypoint() as any;
      await rejectsWith(ep.fetch(new Request("http://x/", { headers: { "x-big": "v".repeat(300_000) } })), TypeError, /^Headers too large/);
      assert.equal(await (await ep.fetch(new Request("http://x/", { headers: { "x-ok": "v".repeat(1000) } }))).text(), "seen");
      assert.match(await ep.out(), /Headers too large/);
    });
  });
}

test("the host's own check, for a runtime that skipped its own: a result or call arguments holding 300 references to one 1 MiB string are a DataCloneError (Peer, and the parent's Link for call arguments); the host function is not called", async () => {
  const s = "x".repeat(1 << 20);
  const heavy = new Array(300).fill(s);
  const peer = new Peer({ invoke: async () => [undefined], release() {} }, 16 << 20);
  assert.throws(() => peer.decode([heavy]), (e: Error) => e instanceof DataCloneError && /at most 16777216 bytes/.test(e.message));
  assert.throws(() => peer.decode([[(1n << 8388600n) + 1n, (1n << 8388600n) + 1n].concat(new Array(30).fill((1n << 8388600n) + 1n))]), (e: Error) => e instanceof DataCloneError && /at most 16777216 bytes/.test(e.message));
  assert.equal((peer.decode([new Array(4).fill(s)]) as string[]).length, 4);
  let calls = 0;
  const take = (values: unknown[]) => (calls++, values.length);
  const peerId = (peer.encode(take) as [unknown, [unknown, number, number][]])[1][0][2];
  await assert.rejects(peer.call(peerId, null, [[heavy]]), (e: Error) => e instanceof DataCloneError && /at most 16777216 bytes/.test(e.message));
  const link = new Link({ invoke: async () => [undefined], release() {} }, true, false, Infinity, () => 16 << 20);
  const linkId = link.exportValue(take, "w");
  await assert.rejects(link.call(linkId, null, [[heavy]]), (e: Error) => e instanceof DataCloneError && /at most 16777216 bytes/.test(e.message));
  assert.equal(calls, 0);
});
