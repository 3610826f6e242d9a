// Run by resources.test.ts in a child process: allocation bombs that make V8 give up on an
// isolate's heap (a hash table outgrowing the limit in one allocation). isolated-vm used to abort
// the whole process here; now each ends in MemoryLimitError and the host keeps serving. A lost
// isolate's thread never returns, and isolated-vm waits for its threads at exit, so this script
// ends itself with SIGKILL once it has reported.

import { WorkerLoader } from "islet";
import { Sandbox } from "../../src/engine/sandbox.ts";
import { js } from "../helpers.ts";

const loader = new WorkerLoader({ limits: { cpuMs: 10_000, memoryMb: 32 } });
const neighbour = loader.get("neighbour", () => js(`let n = 0; export default { ping() { return ++n; } };`));
const bombs = {
  map: `const m = new Map(); for (let i = 0; ; i++) m.set(i, { i });`,
  keys: `const o = {}; for (let i = 0; ; i++) o["k" + i] = i;`,
  set: `const s = new Set(); for (let i = 0; ; i++) s.add("item-" + i + "-".repeat(20));`,
};
const report: Record<string, unknown> = { pings: [await (neighbour.getEntrypoint() as any).ping()] };
for (const [name, source] of Object.entries(bombs)) {
  try {
    report[name] = await (loader.load(js(`export default { run() { ${source} } };`)).getEntrypoint() as any).run();
  } catch (error) {
    report[name] = (error as Error).name;
  }
  (report.pings as number[]).push(await (neighbour.getEntrypoint() as any).ping());
}
report.lostIsolates = Sandbox.lostIsolates;
process.stdout.write(JSON.stringify(report) + "\n", () => process.kill(process.pid, "SIGKILL"));
