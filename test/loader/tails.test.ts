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
