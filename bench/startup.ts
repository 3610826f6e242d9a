// Start-cost stability (scenario 8): a fresh sandbox with the web platform's globals present but
// unused, against one whose runtime has none of them (dist/runtime-bare.js); the same sandbox with
// its core compiled and run in the new isolate, as before sandboxes started from the core's
// startup snapshot (issue 17); the canonical worker (a WorkerEntrypoint class importing
// cloudflare:workers) both ways; and what the first use of each lazily loaded API costs a fresh
// sandbox, once.

import { WorkerLoader } from "../src/index.ts";
import { selectRuntimeForBenchmark, selectRuntimeStartForBenchmark } from "../src/testing.ts";
import { COMPAT_DATE, canonicalCode, greetCode } from "./fixtures.ts";
import { timeFreshCall } from "./islet.ts";
import { now, type Subject } from "./stats.ts";

function freshWithRuntime(name: string, variant: "full" | "bare", perRound: number, note: string, start: "snapshot" | "compile" = "snapshot", code = greetCode()): Subject {
  let loader: WorkerLoader;
  return {
    name,
    perRound,
    note,
    async setup() {
      loader = new WorkerLoader({ warmPool: 0, maxWorkers: 500 });
    },
    async sample(count) {
      selectRuntimeForBenchmark(variant);
      selectRuntimeStartForBenchmark(start);
      try {
        const out: number[] = [];
        for (let i = 0; i < count; i++) out.push(await timeFreshCall(loader, code));
        return out;
      } finally {
        selectRuntimeForBenchmark("full");
        selectRuntimeStartForBenchmark("snapshot");
      }
    },
    async teardown() {
      await loader?.close();
    },
  };
}

export function startCostSubjects(perRound: number): Subject[] {
  const unused = "every web global defined as a lazy accessor, none touched";
  const compiled = "the core compiled (from its code cache) and run in each new isolate, as before the snapshot";
  return [
    freshWithRuntime("islet, web platform present, unused", "full", perRound, `${unused}; the isolate made from the core's startup snapshot`),
    freshWithRuntime("islet runtime without the web platform", "bare", perRound, "dist/runtime-bare.js: console, timers and the clock only (from its own snapshot)"),
    freshWithRuntime("islet, core compiled per sandbox (no snapshot)", "full", perRound, compiled, "compile"),
    freshWithRuntime("islet, WorkerEntrypoint class + cloudflare:workers", "full", perRound, "the canonical worker: one more module to link (the bridge) and a class to construct", "snapshot", canonicalCode()),
    freshWithRuntime("islet, WorkerEntrypoint class + cloudflare:workers, no snapshot", "full", perRound, compiled, "compile", canonicalCode()),
  ];
}

/** One method body per API; each sample is a fresh sandbox whose first call uses that API once. */
export const FIRST_USE: Record<string, string> = {
  "nothing (baseline)": "return 1;",
  "TextEncoder": "return new TextEncoder().encode('x').length;",
  "URL": "return new URL('https://example.com/a?b=c').searchParams.get('b');",
  "Request + Response": "return new Response('x', { headers: { a: 'b' } }).status;",
  "AbortController + Event": "const c = new AbortController(); c.abort(); return c.signal.aborted;",
  "structuredClone": "return structuredClone({ a: [1, 2] }).a.length;",
  "ReadableStream": "const s = new ReadableStream({ start(c) { c.enqueue(1); c.close(); } }); return s.getReader().read().then((r) => r.value);",
  "CompressionStream": "return new Response(new Blob(['x']).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer().then((b) => b.byteLength);",
  "crypto.getRandomValues": "return crypto.getRandomValues(new Uint8Array(8)).length;",
  "crypto.subtle.digest": "return crypto.subtle.digest('SHA-256', new Uint8Array(1)).then((b) => b.byteLength);",
};

/** Each sample: load() + the one call + dispose(), timed, on the canonical WorkerEntrypoint worker. */
export function firstUseSubjects(perRound: number): Subject[] {
  return Object.entries(FIRST_USE).map(([name, body]) => {
    let loader: WorkerLoader;
    const source = `import { WorkerEntrypoint } from "cloudflare:workers";\nexport default class extends WorkerEntrypoint { run() { ${body} } }`;
    const code = { compatibilityDate: COMPAT_DATE, mainModule: "w.js", modules: { "w.js": source } };
    return {
      name,
      perRound,
      async setup() {
        loader = new WorkerLoader({ warmPool: 0, maxWorkers: 500 });
        const stub = loader.load(code);
        await (stub.getEntrypoint() as any).run();
        stub.dispose();
      },
      async sample(count) {
        const out: number[] = [];
        for (let i = 0; i < count; i++) {
          const t = now();
          const stub = loader.load(code);
          await (stub.getEntrypoint() as any).run();
          stub.dispose();
          out.push(now() - t);
        }
        return out;
      },
      async teardown() {
        await loader?.close();
      },
    };
  });
}
