// What the host derives from a worker's modules must not hold its event loop for time that grows
// with the code: a 36 MB JSON module was parsed and serialized on the host's thread (3–5 s,
// findings18/01), and a 25 MB CommonJS module was lexed and wrapped there (3.5 s, findings18/02),
// in every isolation mode, before the worker's cpuMs could stop anything. A JSON module is now
// parsed inside the sandbox under the worker's limits; a large CommonJS module is hashed and
// analyzed in the analysis thread, and what the host generates from the analysis is bounded.
//
// Each attack measures the longest gap of a 5 ms timer while the worker starts. Sizes are chosen
// so that the work done on the host's thread before the fix was well over a second even on a quiet
// machine; the bounds leave room for a loaded one.

import assert from "node:assert/strict";
import { CpuLimitError, MemoryLimitError } from "islet";
import { securitySuite } from "./harness.ts";

const { attack, load, isolation } = securitySuite({ limits: { cpuMs: 50, wallMs: 10_000, memoryMb: 64 } });

/** Runs `work` while a 5 ms interval timer watches the event loop: its longest gap between ticks, less the 5 ms. */
async function longestStall(work: () => Promise<void>): Promise<{ stallMs: number; tookMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last - 5);
    last = now;
  }, 5);
  const started = performance.now();
  try {
    // A turn first, so that the timer runs before the work starts.
    await new Promise((resolve) => setTimeout(resolve, 20));
    stallMs = 0;
    await work();
    return { stallMs: Math.max(stallMs, performance.now() - last - 5), tookMs: performance.now() - started };
  } finally {
    clearInterval(timer);
  }
}

/** Most the host's event loop may be held: before the fix these loads held it 1–4 s (0.7 s at the least, in process isolation beside a CPU hog). */
const MAX_STALL_MS = 250;

/** A JSON object of `keys` distinct keys, unique by `salt`: about 18 bytes a key. */
function bigJson(keys: number, salt: string): string {
  const parts: string[] = [];
  for (let i = 0; i < keys; i++) parts.push(`"${salt}${i}":${i}`);
  return `{${parts.join(",")}}`;
}

/** A CommonJS module of `count` lines `exports.eN = N;`, unique by `salt`: about 25 bytes a line. */
function bigCommonJs(count: number, salt: string): string {
  const lines = [`// ${salt}`];
  for (let i = 0; i < count; i++) lines.push(`exports.e${i} = ${i};`);
  return lines.join("\n");
}

const salt = () => `s${process.pid}_${Date.now()}_${Math.random().toString(36).slice(2)}_`;
const stoppedByLimit = (error: unknown) => error instanceof CpuLimitError || error instanceof MemoryLimitError;

attack("findings18/01: a 12 MB JSON module is parsed in the sandbox, not on the host's thread; its start ends at cpuMs", async () => {
  const json = bigJson(650_000, salt());
  assert.ok(json.length > 12_000_000);
  const { stallMs, tookMs } = await longestStall(async () => {
    const worker = load("", { mainModule: "main.js", modules: { "main.js": `import t from "./t.json"; export default { run() { return Object.keys(t).length; } };`, "t.json": json } });
    await assert.rejects((worker.getEntrypoint() as any).run(), stoppedByLimit);
  });
  console.log(`[${isolation}] 12 MB JSON module: start refused after ${tookMs.toFixed(0)} ms, longest stall of the host's event loop ${stallMs.toFixed(0)} ms`);
  assert.ok(stallMs < MAX_STALL_MS, `the host's event loop was held ${stallMs.toFixed(0)} ms`);
});

attack("findings18/01: a 12 MB JSON module reached only by import() during a call holds no host thread either", async () => {
  const json = bigJson(650_000, salt());
  const { stallMs, tookMs } = await longestStall(async () => {
    const worker = load("", { mainModule: "main.js", modules: { "main.js": `export default { async run() { const t = await import("./t" + ".json"); return Object.keys(t.default).length; } };`, "t.json": json } });
    await assert.rejects((worker.getEntrypoint() as any).run(), stoppedByLimit);
  });
  console.log(`[${isolation}] 12 MB JSON module for import(): refused after ${tookMs.toFixed(0)} ms, longest stall ${stallMs.toFixed(0)} ms`);
  assert.ok(stallMs < MAX_STALL_MS, `the host's event loop was held ${stallMs.toFixed(0)} ms`);
});

attack("findings18/01: a JSON module's value is parsed by the runtime, not by the JSON.parse the worker's code may replace", async () => {
  const worker = load("", {
    mainModule: "main.js",
    modules: {
      "main.js": `import "./hijack.js"; import t from "./t.json"; export default { run() { return t; } };`,
      "hijack.js": `JSON.parse = () => "hijacked";`,
      "t.json": `{ "a": [1, { "b": null }] }`,
    },
  });
  assert.deepEqual(await (worker.getEntrypoint() as any).run(), { a: [1, { b: null }] });
});

attack("findings18/01: deeply nested JSON costs the host no stack: it parses in the sandbox, whose code can walk it", async () => {
  // Before, the host parsed it and then failed to serialize it again ("Maximum call stack size
  // exceeded" from about 5,000 levels): a WorkerCodeError after the work.
  const depth = 20_000;
  const worker = load("", {
    mainModule: "main.js",
    modules: { "main.js": `import t from "./t.json"; export default { run() { let d = 0; for (let v = t; Array.isArray(v); v = v[0]) d++; return d; } };`, "t.json": "[".repeat(depth) + "]".repeat(depth) },
  });
  assert.equal(await (worker.getEntrypoint() as any).run(), depth);
});

attack("findings18/02: a 16 MB CommonJS module of 640,000 exports is analyzed off the host's thread; its start ends at cpuMs", async () => {
  const source = bigCommonJs(640_000, salt());
  assert.ok(source.length > 16_000_000);
  const { stallMs, tookMs } = await longestStall(async () => {
    const worker = load("", { mainModule: "main.js", modules: { "main.js": `import c, { e5 } from "./c.cjs"; export default { run() { return [e5, Object.keys(c).length]; } };`, "c.cjs": source } });
    await assert.rejects((worker.getEntrypoint() as any).run(), stoppedByLimit);
  });
  console.log(`[${isolation}] 16 MB CommonJS module: start refused after ${tookMs.toFixed(0)} ms, longest stall of the host's event loop ${stallMs.toFixed(0)} ms`);
  assert.ok(stallMs < MAX_STALL_MS, `the host's event loop was held ${stallMs.toFixed(0)} ms`);
});
