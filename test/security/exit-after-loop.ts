// Run by builtin-loops.test.ts in a child process, in the mode ISLET_ISOLATION names: one call
// whose built-in loops over a huge array-like is killed for cpuMs, then `await loader.close()` and
// `process.exit(0)`, the way SECURITY.md tells a host to end. While the killed isolate ran on
// (findings7a/02, 05) close() waited its 30 s and process.exit() then hung or crashed.

import { WorkerLoader } from "islet";
import { js } from "../helpers.ts";
import { isolationOptions } from "./harness.ts";

const loader = new WorkerLoader({ ...isolationOptions(), limits: { cpuMs: 100, memoryMb: 64 } });
const source = process.argv[2] ?? "Array.prototype.includes.call({ length: 2 ** 53 - 1 }, 1);";
let error = "none";
try {
  await (loader.load(js(`export default { run() { ${source} } };`)).getEntrypoint() as any).run();
} catch (e) {
  error = (e as Error).name;
}
const closing = performance.now();
await loader.close();
process.stdout.write(JSON.stringify({ error, closeMs: Math.round(performance.now() - closing) }) + "\n", () => process.exit(0));
