// dispose() while a worker starts ends it then, not when its top level is done: a top level may run
// for as long as its limits allow (findings16/03: a cancelled /v1/run's top level went on making
// requests for seconds and held its slot).

import { test } from "node:test";
import assert from "node:assert/strict";
import { WorkerLoader, WorkerDisposedError } from "islet";
import { compatibilityDate } from "../helpers.ts";

for (const isolation of ["isolate", "thread", "process"] as const) {
  test(`[${isolation}] dispose() while the worker's top level runs ends it at once: the waiting call fails, the top level stops`, async () => {
    const ticks: number[] = [];
    const loader = new WorkerLoader({ isolation, limits: { wallMs: 30_000, cpuMs: 30_000 } });
    try {
      const stub = loader.load({
        compatibilityDate,
        mainModule: "a.js",
        modules: { "a.js": `import { env } from "cloudflare:workers"; for (let i = 0; i < 100; i++) { await env.tick(i); await new Promise((r) => setTimeout(r, 50)); } export default { run() { return "started"; } };` },
        env: { tick: (i: number) => void ticks.push(i) },
      });
      const call = (stub.getEntrypoint() as any).run();
      const outcome = call.then(() => "answered", (error: Error) => error);
      while (ticks.length < 3) await new Promise((resolve) => setTimeout(resolve, 10));
      const disposedAt = Date.now();
      stub.dispose();
      const error = await outcome;
      assert.ok(error instanceof WorkerDisposedError, String(error));
      assert.ok(Date.now() - disposedAt < 2_000, `the call ended ${Date.now() - disposedAt} ms after dispose()`);
      const seen = ticks.length;
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.ok(ticks.length <= seen + 1, `the top level went on: ${seen} ticks at dispose, ${ticks.length} later`);
    } finally {
      await loader.close();
    }
  });
}
