import { test } from "node:test";
import assert from "node:assert/strict";
import { WorkerLoader, type TailEvent } from "islet";

test("a log made just before returning, after a host call, is in that invocation's trace event", async () => {
  // isolated-vm may deliver the result before the log's post; the result says how many posts
  // came before it and the host waits for them. Without that, some of these runs lose the log.
  const events: TailEvent[] = [];
  const code = {
    compatibilityDate: "2026-11-01",
    mainModule: "w.js",
    env: { lookup: () => 1 },
    modules: {
      "w.js": `import { WorkerEntrypoint } from "cloudflare:workers";
        export default class extends WorkerEntrypoint {
          async run(i) { await this.env.lookup(); console.log("after", i); return i; }
        }`,
    },
  };
  // A fresh loader each time: the race showed most often on a worker's first calls.
  const runs = 300;
  for (let i = 0; i < runs; i++) {
    const loader = new WorkerLoader({ tails: [(batch) => void events.push(...batch)] });
    try {
      assert.equal(await (loader.load(code).getEntrypoint() as any).run(i), i);
    } finally {
      await loader.close();
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 10));
  const runEvents = events.filter((event) => event.method === "run");
  assert.equal(runEvents.length, runs);
  const missing = runEvents.filter((event) => !event.logs.some((log) => log.message[0] === "after"));
  assert.equal(missing.length, 0, `${missing.length} of ${runs} trace events lost their last log`);
});

// Calls of one worker can be in flight together (a named worker, a facet): each trace event holds
// the lines its own call logged, whether its code ran at the call's start, after an await on a host
// call, after a timer or in waitUntil. Before, every line went to every call in flight.
const modes = process.env.ISLET_ISOLATION === "thread" || process.env.ISLET_ISOLATION === "process" ? [process.env.ISLET_ISOLATION] : ["isolate", "thread", "process"];
for (const isolation of modes as ("isolate" | "thread" | "process")[]) {
  test(`[${isolation}] concurrent calls of one worker: each trace event, and each streaming tail, has the lines its own call logged`, async () => {
    const events: TailEvent[] = [];
    const live = new Map<number, { method: string; logs: string[] }>();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const loader = new WorkerLoader({
      isolation,
      tails: [(batch) => void events.push(...batch)],
      streamingTails: [
        (onset) => {
          const record = { method: (onset.event as { method: string }).method, logs: [] as string[] };
          live.set(onset.invocationId as unknown as number, record);
          return (event) => {
            if (event.event.type === "log") record.logs.push(String(event.event.message[0]));
          };
        },
      ],
    });
    try {
      const stub = loader
        .get("shared", () => ({
          compatibilityDate: "2026-11-01",
          mainModule: "w.js",
          env: { wait: () => gate },
          modules: {
            "w.js": `import { WorkerEntrypoint } from "cloudflare:workers";
              export default class extends WorkerEntrypoint {
                async slow() {
                  console.log("slow: start");
                  await this.env.wait();
                  console.log("slow: after the host call");
                  await scheduler.wait(20);
                  console.log("slow: after a timer");
                  this.ctx.waitUntil(scheduler.wait(20).then(() => console.log("slow: in waitUntil")));
                  return "slow";
                }
                quick(n) { console.log("quick: " + n); return n; }
              }`,
          },
        }))
        .getEntrypoint() as any;
      const slow = stub.slow();
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(await stub.quick(1), 1);
      assert.equal(await stub.quick(2), 2);
      release();
      assert.equal(await slow, "slow");
      const deadline = Date.now() + 5_000;
      while (events.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const logsOf = (method: string) => events.filter((event) => event.method === method).map((event) => event.logs.map((log) => String(log.message[0])));
      assert.deepEqual(logsOf("slow"), [["slow: start", "slow: after the host call", "slow: after a timer", "slow: in waitUntil"]]);
      assert.deepEqual(logsOf("quick"), [["quick: 1"], ["quick: 2"]]);
      const streamed = [...live.values()].map((record) => [record.method, record.logs]);
      assert.deepEqual(streamed, [
        ["slow", ["slow: start", "slow: after the host call", "slow: after a timer", "slow: in waitUntil"]],
        ["quick", ["quick: 1"]],
        ["quick", ["quick: 2"]],
      ]);
    } finally {
      await loader.close();
    }
  });
}
