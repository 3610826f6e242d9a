// Linking a worker's modules is work its code decides: 100 modules that each `export * from` one
// module of 10,000 exports, imported as namespaces, took V8 seconds to instantiate. Instantiation
// ran synchronously on the host's thread in isolate isolation, holding every other tenant's
// requests and outside cpuMs (findings17/01). It now runs on isolated-vm's thread, under the
// worker's limits.

import assert from "node:assert/strict";
import { CpuLimitError } from "islet";
import { securitySuite } from "./harness.ts";

const { attack, load } = securitySuite({ limits: { cpuMs: 50, wallMs: 5_000 } });

function starExports(k: number, e: number): Record<string, string> {
  const names: string[] = [];
  for (let i = 0; i < e; i++) names.push(`$${i.toString(36)}`);
  const modules: Record<string, string> = { "m0.js": `export var ${names.join(",")};` };
  let main = "";
  for (let i = 1; i <= k; i++) {
    modules[`m${i}.js`] = `export * from "./m0.js"; export var k${i};`;
    main += `import * as n${i} from "./m${i}.js";\n`;
  }
  modules["main.js"] = `${main}export default { run() { return 1; } }`;
  return modules;
}

attack("a module graph that takes V8 seconds to link holds no host thread: the host's event loop stays free and the start ends at cpuMs", async () => {
  let longest = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last - 5);
    last = now;
  }, 5);
  try {
    const started = performance.now();
    const worker = load("", { mainModule: "main.js", modules: starExports(100, 10_000) });
    await assert.rejects((worker.getEntrypoint() as any).run(), (error: Error) => error instanceof CpuLimitError);
    assert.ok(performance.now() - started < 3_000, `the start ended after ${Math.round(performance.now() - started)} ms`);
  } finally {
    clearInterval(timer);
  }
  assert.ok(longest < 600, `the host's event loop was held ${Math.round(longest)} ms`);
});
