// import() of the worker's own modules (issue 18). The host answers each call asynchronously, so
// these attacks aim at the timing: code an answer resumes must run under an invocation's limits
// (never after the invocation ended, unwatched), a flood of import() calls must not hold the host's
// event loop, and what import() compiles stays bounded by the worker's own limits.
// One mode per run (ISLET_ISOLATION; `npm test` runs all three).

import assert from "node:assert/strict";
import { CpuLimitError, type TailEvent } from "islet";
import { compatibilityDate, sleep } from "../helpers.ts";
import { rejectsWith, securitySuite } from "./harness.ts";

const events: TailEvent[] = [];
const { attack, loader } = securitySuite({ tails: [(batch) => void events.push(...batch)] });

attack("code an import() answer resumes after the call returned runs under that call's cpuMs: a spin there is ended, not left running", async () => {
  const worker = loader.get("spin-after-import", () => ({
    compatibilityDate,
    mainModule: "w.js",
    modules: {
      "w.js": `let count = 0; export default {
        leave() { import("./lazy.js").then(() => { for (;;) {} }); return "returned"; },
        leaveAwaiting() { (async () => { await import("./lazy.js"); await import("./w.js"); for (;;) {} })(); return "returned"; },
        count() { return ++count; },
      };`,
      "lazy.js": "export default 1;",
    },
  }));
  const ep = worker.getEntrypoint() as any;
  for (const method of ["leave", "leaveAwaiting"]) {
    assert.ok((await ep.count()) >= 1);
    const started = performance.now();
    assert.equal(await ep[method](), "returned");
    for (let i = 0; i < 300 && !events.some((e) => e.method === method); i++) await sleep(10);
    const event = events.find((e) => e.method === method)!;
    assert.equal(event.outcome, "exceededCpu", `${method}: the resumed spin ended under the call's watch`);
    assert.ok(event.cpuTime >= 200, `${method}: its CPU counted against the call (${event.cpuTime} ms)`);
    // A fresh worker answers: the spinning isolate was terminated, not left to a later call.
    assert.equal(await ep.count(), 1);
    assert.ok(performance.now() - started < 2_500, `${method} took ${performance.now() - started} ms`);
  }
});

attack("a flood of import() calls in one turn (past 1,000) ends the sandbox with CpuLimitError at once; 900 are answered", async () => {
  // The longest the host's event loop went without a turn while the flood ran.
  let last = performance.now();
  let longestHold = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longestHold = Math.max(longestHold, now - last);
    last = now;
  }, 1);
  const started = performance.now();
  try {
    await rejectsWith(
      (loader.load({ compatibilityDate, mainModule: "w.js", modules: { "w.js": `export default { flood() { for (let i = 0; i < 100000; i++) import("./w.js"); return "flooded"; } };` } }).getEntrypoint() as any).flood(),
      CpuLimitError,
    );
  } finally {
    clearInterval(ticker);
  }
  longestHold = Math.max(longestHold, performance.now() - last);
  assert.ok(longestHold < 1_000, `the host's event loop was held ${longestHold.toFixed(0)} ms`);
  // Before the per-turn count, 10,000 imports held the host's loop for 300 ms and 100,000 ended
  // only on the sandbox's memory limit, seconds later.
  assert.ok(performance.now() - started < 1_500, `the flood took ${(performance.now() - started).toFixed(0)} ms to end`);
  const many = (loader.load({ compatibilityDate, mainModule: "w.js", modules: { "w.js": `export default { async many() { const all = await Promise.all(Array.from({ length: 900 }, () => import("./w.js"))); return all.every((m) => m === all[0]); } };` } }).getEntrypoint() as any).many();
  assert.equal(await many, true);
});

attack("a module only import() reaches is compiled under the worker's limits: a top-level spin there is CpuLimitError, a heap bomb MemoryLimitError-or-CpuLimitError", async () => {
  const code = (lazy: string) => ({
    compatibilityDate,
    mainModule: "w.js",
    modules: { "w.js": `export default { async run() { await import("./lazy.js"); return "imported"; } };`, "lazy.js": lazy },
  });
  await rejectsWith((loader.load(code("for (;;) {}")).getEntrypoint() as any).run(), CpuLimitError);
  const bomb = (loader.load(code("const a = []; for (;;) a.push(new Array(1e5).fill(1));")).getEntrypoint() as any).run();
  await assert.rejects(bomb, (e: Error) => e.name === "MemoryLimitError" || e.name === "CpuLimitError");
});
