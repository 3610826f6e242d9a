// Today's Worker Loader API (issue 18), in every isolation mode: top-level logs in the first
// invocation's trace event, dynamic import() of the worker's own modules, compatibility flags and
// dates checked, env bounded in size, WebAssembly module values.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { WorkerLoader, type TailEvent, type WorkerLoaderOptions } from "islet";
import { compatibilityDate, sleep } from "../helpers.ts";

const modes: [string, WorkerLoaderOptions][] = [
  ["isolate", {}],
  ["thread", { isolation: "thread", threads: 1 }],
  ["process", { isolation: "process", processes: 1 }],
];

async function eventsFor(events: TailEvent[], method: string, count = 1): Promise<TailEvent[]> {
  for (let i = 0; i < 200 && events.filter((e) => e.method === method).length < count; i++) await sleep(10);
  return events.filter((e) => e.method === method);
}

for (const [mode, options] of modes) {
  describe(`[${mode}] Worker Loader API`, () => {
    const events: TailEvent[] = [];
    const loader = new WorkerLoader({ ...options, limits: { cpuMs: 2000, wallMs: 10_000 }, tails: [(batch) => void events.push(...batch)] });
    after(() => loader.close());

    test("top-level console output reaches the first invocation's trace event, before its own logs; later ones do not repeat it", async () => {
      const worker = loader.get(`top-logs-${mode}`, () => ({
        compatibilityDate,
        mainModule: "main.js",
        modules: {
          "main.js": `import "./helper.js"; console.log("main top", 1); export default { run(n) { console.info("in run", n); return n; } };`,
          "helper.js": `console.warn("helper top");`,
        },
      }));
      const ep = worker.getEntrypoint() as any;
      assert.equal(await ep.run(1), 1);
      assert.equal(await ep.run(2), 2);
      const runs = await eventsFor(events, "run", 2);
      assert.equal(runs.length, 2);
      const [first, second] = runs.sort((a, b) => a.eventTimestamp - b.eventTimestamp);
      assert.deepEqual(first.logs.map((l) => [l.level, ...l.message]), [["warn", "helper top"], ["log", "main top", 1], ["info", "in run", 1]]);
      assert.equal(first.outcome, "ok");
      assert.equal(first.startup, undefined);
      assert.deepEqual(second.logs.map((l) => [l.level, ...l.message]), [["info", "in run", 2]]);
    });

    test("a fetch() the top level awaits is in the first invocation's audit log with the logs after it", async () => {
      const worker = loader.load({
        compatibilityDate,
        mainModule: "main.js",
        globalOutbound: () => new Response("config!"),
        modules: { "main.js": `const config = await (await fetch("https://config.example/c")).text(); console.log("loaded", config); export default { first() { return config; } };` },
      });
      assert.equal(await (worker.getEntrypoint() as any).first(), "config!");
      const [event] = await eventsFor(events, "first");
      assert.deepEqual(event.fetches.map((f) => [f.method, f.url, f.status]), [["GET", "https://config.example/c", 200]]);
      assert.deepEqual(event.logs.map((l) => l.message), [["loaded", "config!"]]);
    });
  });
}
