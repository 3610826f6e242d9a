// Budgets for what a sandbox makes the host spend, in every isolation mode: bytes of logs kept on
// the host, host CPU and threads spent in Web Crypto, URL parsing and hashing, capability tables,
// pending host calls, and the answers a long-lived worker gives. `memoryMb` and `cpuMs` bound the
// isolate; these tests bound the host around it (in thread and process mode, the parent too).

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { lookup } from "node:dns/promises";
import { readFile } from "node:fs/promises";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CpuLimitError, SubrequestLimitError, WorkerLoader, type TailEvent } from "islet";
import { js, sleep } from "../helpers.ts";
import { ISOLATION, isolationOptions, liveBytes, rejectsWith, securitySuite } from "./harness.ts";

/** Bytes of text in a log entry's parts (what the host keeps of it). */
function logBytes(events: TailEvent[]): number {
  let total = 0;
  for (const event of events) for (const log of event.logs) for (const part of log.message) total += typeof part === "string" ? part.length : JSON.stringify(part)?.length ?? 0;
  return total;
}

/** How long the host's libuv pool takes to answer (dns.lookup and fs.readFile), sampled until `until` settles. */
async function probeLibuv(until: Promise<unknown>): Promise<number[]> {
  let done = false;
  until.then(
    () => (done = true),
    () => (done = true),
  );
  const latencies: number[] = [];
  const self = fileURLToPath(import.meta.url);
  while (!done) {
    const started = performance.now();
    await Promise.all([lookup("localhost"), readFile(self)]);
    latencies.push(performance.now() - started);
    await sleep(10);
  }
  return latencies;
}

/**
 * CPU time this process and its child processes (process isolation's shards) have used, in ms:
 * the host's CPU, wherever a sandbox's host services run. Children are read from Linux's /proc.
 */
function hostCpuMs(): number {
  const own = process.cpuUsage();
  let ms = (own.user + own.system) / 1000;
  for (const task of readdirSync(`/proc/${process.pid}/task`)) {
    for (const pid of readFileSync(`/proc/${process.pid}/task/${task}/children`, "utf8").split(" ").filter(Boolean)) {
      try {
        // Fields 14 and 15 (utime, stime) after the command name, in clock ticks (100 a second).
        const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
        ms += (Number(fields[11]) + Number(fields[12])) * 10;
      } catch {
        // The child ended meanwhile.
      }
    }
  }
  return ms;
}

// Synchronous host services whose host CPU dwarfs what the sandbox spends asking for them: the
// isolate's thread waits while the host works, so before the charge the isolate's own clock
// barely moved (1 MB of trailing spaces: about 7 ms of host CPU per URL against 0.1 ms in the
// isolate; a 4 MB hash: about 20 ms against 0.5 ms).
const URL_LOOP = `export default { run() { const s = "https://a.example/" + " ".repeat(1 << 20); let n = 0; for (;;) n += new URL(s).href.length; } };`;
const HASH_LOOP = `import { createHash } from "node:crypto";
export default { run() { const base = createHash("sha512").update(new Uint8Array(4 << 20)); for (;;) base.copy().digest(); } };`;
const RSA_FLOOD = `export default {
  async run(n) {
    const algorithm = { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
    await Promise.all(Array.from({ length: n }, () => crypto.subtle.generateKey(algorithm, true, ["sign", "verify"])));
    return "done";
  },
};`;

// One mode per run (ISLET_ISOLATION; `npm test` runs all three).
for (const isolation of [ISOLATION]) {
  describe(`isolation: "${isolation}"`, () => {
    const { attack, call, loader } = securitySuite(isolationOptions(isolation));
    // For attacks that need more than the default budget to reach a cap (a loader's limits bound its workers').
    const roomy = securitySuite({ ...isolationOptions(isolation), limits: { cpuMs: 20_000, wallMs: 60_000, memoryMb: 256 } });

    attack("1 MB log lines in a loop: the sandbox's log is cut at 1 MiB with a marker, the host keeps no more", async () => {
      const events: TailEvent[] = [];
      const result = await call(
        `export default { run() { const line = "x".repeat(1 << 20); for (let i = 0; i < 100; i++) console.log(i, line); console.log("after"); return "done"; } };`,
        "run",
        [],
        { tails: [(e: TailEvent[]) => void events.push(...e)] },
      );
      assert.equal(result, "done");
      assert.equal(events.length, 1);
      const bytes = logBytes(events);
      assert.ok(bytes <= 1.05 * 1024 * 1024, `the host kept ${bytes} bytes of logs`);
      assert.ok(bytes >= 1024 * 1024 - 1024, `the log was cut at the limit, not dropped whole (${bytes} bytes)`);
      assert.ok(
        events[0].logs.some((log) => /log byte limit of 1048576 bytes reached/.test(String(log.message[0]))),
        "the log says it was cut",
      );
    });

    attack("a log of an object bigger than the log budget is cut to a marker, not kept", async () => {
      const events: TailEvent[] = [];
      await call(`export default { run() { console.log({ rows: Array.from({ length: 64 }, (_, i) => i + "x".repeat(20_000)) }); console.log("after"); return 1; } };`, "run", [], {
        tails: [(e: TailEvent[]) => void events.push(...e)],
      });
      assert.ok(logBytes(events) <= 1.05 * 1024 * 1024, `the host kept ${logBytes(events)} bytes`);
      assert.match(JSON.stringify(events[0].logs), /too large to log/);
      assert.deepEqual(events[0].logs.at(-1)?.message, ["after"], "a smaller log after it is kept");
    });

    attack("an error with a 256 KB message reaches the host cut to 16 KiB: in the caller's error, its stack and the trace event", async () => {
      const events: TailEvent[] = [];
      const error = await rejectsWith(
        call(`export default { run() { throw new TypeError("m".repeat(1 << 18)); } };`, "run", [], { tails: [(e: TailEvent[]) => void events.push(...e)] }),
        TypeError,
        /more characters cut\]$/,
      );
      assert.ok(error.message.length < 17 * 1024, `message of ${error.message.length} characters`);
      assert.ok((error.stack ?? "").length < 17 * 1024, `stack of ${error.stack?.length} characters`);
      assert.ok(events[0].exceptions[0].message.length < 17 * 1024);
    });

    // CPU to spare: parsing and copying a 1 MB URL a few times is charged to cpuMs, and this attack
    // is about the size of the trace event.
    roomy.attack("a fetch of a 1 MB URL is recorded in the trace event cut to 8 KiB", async () => {
      const events: TailEvent[] = [];
      const seen: number[] = [];
      const result = await roomy.call(`export default { async run() { return (await fetch("https://example.com/?" + "q".repeat(1 << 20))).status; } };`, "run", [], {
        tails: [(e: TailEvent[]) => void events.push(...e)],
        globalOutbound: (request: Request) => (seen.push(request.url.length), new Response("ok")),
      });
      assert.equal(result, 200);
      assert.ok(seen[0] > 1 << 20, "the request itself went out whole");
      assert.ok(events[0].fetches[0].url.length < 9 * 1024, `a URL of ${events[0].fetches[0].url.length} characters was kept`);
      assert.match(events[0].fetches[0].url, /more characters cut\]$/);
    });

    for (const [what, source, args] of [
      ["URL parsing of 1 MB strings", URL_LOOP, []],
      ["node:crypto hashing of 4 MB", HASH_LOOP, []],
    ] as const) {
      attack(`${what} in a loop: CpuLimitError once the host's CPU for it passes cpuMs (250), and the host spends about that`, async () => {
        const before = hostCpuMs();
        const started = performance.now();
        await rejectsWith(call(source, "run", [...args], { compatibilityFlags: ["nodejs_compat"] }), CpuLimitError);
        const elapsed = performance.now() - started;
        const spent = hostCpuMs() - before;
        if (process.env.BUDGET_DEBUG) console.log(isolation, what, elapsed.toFixed(0), spent.toFixed(0));
        // Before the charge, the loop ran until wallMs (3 s), the host's CPU busy all along, and
        // ended with WallTimeLimitError (the CpuLimitError above is the sharp check). Allowed: the
        // budget, the sandbox's start and its last call, and a loaded machine's slack. The wall
        // time is not bounded here: beside a CPU hog it reached 2.4 s for 250 ms of CPU.
        assert.ok(spent < 1_200, `the host spent ${spent.toFixed(0)} ms of CPU (${elapsed.toFixed(0)} ms) on a sandbox with cpuMs 250`);
      });
    }

    attack("URL parsing and node:crypto hashing within cpuMs still work", async () => {
      const result = await call(
        `import { createHash, createHmac } from "node:crypto";
        export default { run() {
          const url = new URL("/a?b=1#c", "https://example.com/x/");
          url.searchParams.append("d", "2");
          return [url.href, createHash("sha256").update("abc").digest("hex").slice(0, 16), createHmac("sha256", "k").update(new Uint8Array(1 << 20)).digest("hex").length];
        } };`,
        "run",
        [],
        { compatibilityFlags: ["nodejs_compat"] },
      );
      assert.deepEqual(result, ["https://example.com/a?b=1&d=2#c", "ba7816bf8f01cfea", 64]);
    });

    roomy.attack("a sandbox that keeps every host function it is given: past 100,000 live ones a host call fails with RangeError; disposed ones make room again", async () => {
      let made = 0;
      const make = (n: number) => Array.from({ length: n }, () => ((made++, () => made)));
      const result = await roomy.call(
        `import { env } from "cloudflare:workers";
        export default { async run() {
          const kept = [];
          let error;
          for (let i = 0; i < 20 && error === undefined; i++) {
            try { kept.push(...(await env.make(10_000))); } catch (e) { error = e.name + ": " + e.message; }
          }
          // (15,000 releases: 20,000 messages in one turn of the host would end the sandbox.)
          for (const stub of kept.splice(0, 15_000)) stub[Symbol.dispose]();
          const again = await env.make(10_000);
          return [kept.length, error, again.length, await again[0]() > 0];
        } };`,
        "run",
        [],
        { env: { make } },
      );
      // 9 calls' worth fit beside env.make itself; the 10th would be the 100,001st.
      assert.equal(result[0], 75_000);
      assert.match(result[1], /^RangeError: Too many capabilities passed to this sandbox/);
      assert.deepEqual(result.slice(2), [10_000, true]);
    });

    // CPU to spare: making and walking 10,001 functions took more than 250 ms beside a CPU hog.
    roomy.attack("a value with more than 10,000 functions is a RangeError in both directions", async () => {
      const result = await roomy.call(
        `import { env } from "cloudflare:workers";
        export default { async run() {
          const out = [];
          try { await env.take(Array.from({ length: 10_001 }, () => () => 1)); out.push("sent"); } catch (e) { out.push(e.name + ": " + e.message); }
          try { await env.make(10_001); out.push("received"); } catch (e) { out.push(e.name + ": " + e.message); }
          return out;
        } };`,
        "run",
        [],
        { env: { take: (fns: unknown[]) => fns.length, make: (n: number) => Array.from({ length: n }, () => () => 1) } },
      );
      assert.match(result[0], /^RangeError: A value may carry at most 10000 functions or RpcTargets/);
      assert.match(result[1], /^RangeError: .*10000/);
    });

    roomy.attack("a long-lived worker's answers are not kept where it runs: after 150 results of 2 MB, the host's (or the shard's) live memory is about where it was", async () => {
      const ep = roomy.load(`export default { big(i) { return new Uint8Array(2 << 20).fill(i); } };`).getEntrypoint() as any;
      assert.equal((await ep.big(0)).byteLength, 2 << 20);
      const before = await liveBytes(roomy.loader);
      for (let i = 1; i <= 150; i++) assert.equal((await ep.big(i))[12345], i);
      const grown = (await liveBytes(roomy.loader)) - before;
      if (process.env.BUDGET_DEBUG) console.log(isolation, "live memory grew", (grown / 2 ** 20).toFixed(1), "MiB");
      // Each answer stayed reachable from the sandbox's death promise (a Promise.race on it per
      // call) until the sandbox died: 300 MB here.
      // (39 MiB once in a thread shard beside a CPU hog: a collection that had not caught up.)
      assert.ok(grown < 64 * 2 ** 20, `live memory grew by ${(grown / 2 ** 20).toFixed(0)} MiB`);
    });

    attack("100,000 host calls fired at once into a host function that never answers: SubrequestLimitError, and the host saw only the first 1,000", async () => {
      let calls = 0;
      // Live bytes after a full collection: heapUsed alone counted garbage a loaded machine had not
      // collected yet (once 64 MB of it in a full run).
      const heapBefore = await liveBytes(loader);
      await rejectsWith(
        call(
          `import { env } from "cloudflare:workers";
          export default { async run() { const pending = []; for (let i = 0; i < 100_000; i++) pending.push(env.hang(i)); await Promise.all(pending); } };`,
          "run",
          [],
          { env: { hang: () => (calls++, new Promise(() => {})) } },
        ),
        SubrequestLimitError,
      );
      await sleep(50);
      assert.ok(calls <= 1_000, `the host function was called ${calls} times`);
      const grown = (await liveBytes(loader)) - heapBefore;
      assert.ok(grown < 64 * 2 ** 20, `the host did not queue the calls past the limit (live memory grew by ${(grown / 2 ** 20).toFixed(0)} MiB)`);
    });

    // findings26/01: each synchronous host call's crossing (about 50 µs of the host's CPU, outside
    // the service and while the isolate's clock stops) was charged nothing: 200,000 new URL() calls
    // under cpuMs 1000 ended ok, charged about 600 ms, while the host spent 3.9-5.0 s.
    roomy.attack("200,000 cheap synchronous host calls (new URL) under cpuMs 1000: CpuLimitError, each crossing is charged", async () => {
      const cpuBefore = process.cpuUsage();
      await rejectsWith(
        roomy.call(`export default { run(n) { let x; for (let i = 0; i < n; i++) x = new URL("https://a.example/" + (i & 7)); return "all " + n; } };`, "run", [200_000], { limits: { cpuMs: 1_000 } }),
        CpuLimitError,
      );
      if (isolation === "isolate") {
        const spent = process.cpuUsage(cpuBefore);
        assert.ok((spent.user + spent.system) / 1000 < 2_500, `the host spent ${(spent.user + spent.system) / 1000} ms of CPU`);
      }
    });

    attack("RSA keys within cpuMs are still generated and usable (and the crypto code is warm for the next test)", async () => {
      const result = await call(
        `export default { async run() {
          const { publicKey, privateKey } = await crypto.subtle.generateKey({ name: "RSA-PSS", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, false, ["sign", "verify"]);
          const data = new TextEncoder().encode("hi");
          const signature = await crypto.subtle.sign({ name: "RSA-PSS", saltLength: 32 }, privateKey, data);
          return [publicKey.type, privateKey.type, privateKey.extractable, publicKey.usages.join(), privateKey.usages.join(), publicKey.algorithm.modulusLength, await crypto.subtle.verify({ name: "RSA-PSS", saltLength: 32 }, publicKey, signature, data)];
        } };`,
        "run",
        [],
        { limits: { cpuMs: 2_000 } },
      );
      assert.deepEqual(result, ["public", "private", false, "verify", "sign", 1024, true]);
    });
    // Time to spare (roomy's wallMs, cpuMs 250 for the worker): process isolation's children run
    // niced (src/loader/process/pool.ts), so beside a CPU hog their key generation earns its 250 ms
    // of CPU slowly, and the suite's 3 s wallMs ended it first.
    roomy.attack("32 RSA-2048 generateKey calls: CpuLimitError once their host CPU passes cpuMs (250), and the host's libuv pool stays responsive meanwhile", async () => {
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      const running = roomy.call(RSA_FLOOD, "run", [32], { limits: { cpuMs: 250 } });
      const latencies = await probeLibuv(running);
      const elapsed = performance.now() - started;
      latencies.sort((a, b) => a - b);
      const median = latencies[latencies.length >> 1];
      const worst = latencies.at(-1)!;
      if (process.env.BUDGET_DEBUG) console.log(isolation, elapsed.toFixed(0), latencies.map((ms) => ms.toFixed(0)).join(" "));
      // (On this 2-core machine under other load, a single probe can wait for the CPU itself; on
      // the base every probe waited behind the key generations, for up to seconds.)
      assert.ok(worst < 1_000, `dns.lookup + fs.readFile took up to ${worst.toFixed(0)} ms (median ${median.toFixed(0)} ms) while the sandbox generated keys`);
      await rejectsWith(running, CpuLimitError);
      // Long before the 60 s wallMs: 0.3 s quiet; beside three busy processes 0.6-0.8 s, and
      // 1.6-2.5 s in a niced child; 2.8 s in a full run beside a reviewer's experiments.
      assert.ok(elapsed < 10_000, `ended after ${elapsed.toFixed(0)} ms`);
      if (isolation !== "process") {
        // The work stops with the sandbox: keys nobody waits for are not generated.
        const spent = process.cpuUsage(cpuBefore);
        await sleep(100);
        const after = process.cpuUsage();
        await sleep(500);
        const idle = process.cpuUsage(after);
        assert.ok((idle.user + idle.system) / 1000 < 150, `the host spent ${(idle.user + idle.system) / 1000} ms of CPU in the 500 ms after the call (during it: ${(spent.user + spent.system) / 1000} ms)`);
      }
    });

  });
}

test(`[${ISOLATION}] past 1,000 open response bodies a fetch fails (it used to buffer the body whole: an endless one filled the host's heap)`, async () => {
  // Bodies stay open while any invocation of the worker is in flight, so two invocations in turn
  // can hold more than 1,000 within their subrequest limits.
  const loader = new WorkerLoader({ ...isolationOptions(), limits: { cpuMs: 5_000, wallMs: 20_000 } });
  try {
    let pulled = 0;
    const endless = () =>
      new Response(new ReadableStream({ pull(controller) { pulled++; controller.enqueue(new Uint8Array(64 * 1024)); } }, { highWaterMark: 0 }));
    let aFetched!: () => void;
    const fetched = new Promise<void>((resolve) => (aFetched = resolve));
    let releaseA!: () => void;
    const aReleased = new Promise<void>((resolve) => (releaseA = resolve));
    let aReturned!: () => void;
    const aDone = new Promise<void>((resolve) => (aReturned = resolve));
    const stub = loader.get("bodies", () =>
      js(
        `import { env } from "cloudflare:workers";
        const open = [];
        export default {
          async a() { for (let i = 0; i < 600; i++) open.push(await fetch("https://endless.example/a" + i)); await env.fetched(); await env.wait(); return "a"; },
          async b() {
            await env.afterA();
            for (let i = 0; i < 400; i++) open.push(await fetch("https://endless.example/b" + i));
            try { await fetch("https://endless.example/last"); return "fetched"; } catch (e) { return e.name + ": " + e.message; }
          },
        };`,
        { globalOutbound: () => endless(), env: { fetched: () => aFetched(), wait: () => aReleased, afterA: () => (releaseA(), aDone) } },
      ),
    );
    const ep = stub.getEntrypoint() as any;
    const a = ep.a().then((value: unknown) => (aReturned(), value));
    await fetched;
    const heapBefore = process.memoryUsage().heapUsed;
    const b = ep.b();
    assert.equal(await a, "a");
    assert.match(await b, /^TypeError: Too many response bodies open \(at most 1000\)/);
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 512 * 1024 * 1024, "the host did not buffer an endless body");
    assert.ok(pulled < 1_000 * 64, `the upstream bodies were pulled ${pulled} times`);
  } finally {
    loader.close();
  }
});
