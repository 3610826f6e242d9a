// Runs every test/**/*.test.ts with Node's test runner (Node 20 has no glob for --test), then the
// adversarial suite (test/security/) again in thread and in process isolation: test/security/
// harness.ts reads the mode from ISLET_ISOLATION (the first run is "isolate", the default).
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return find(path);
    return entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

function run(files, isolation) {
  if (files.length === 0) return 0;
  const started = performance.now();
  const env = { ...process.env, ISLET_ISOLATION: isolation };
  const result = spawnSync(process.execPath, ["--import", "tsx", "--import", "./test/clean-exit.ts", "--test", "--test-concurrency=2", ...files], { stdio: "inherit", env });
  console.log(`# ${files.length} files, isolation "${isolation}": ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result.status ?? 1;
}

const filters = process.argv.slice(2);
const files = find("test").filter((file) => filters.length === 0 || filters.some((f) => file.includes(f))).sort();
const security = files.filter((file) => file.startsWith(join("test", "security") + "/"));
let failed = run(files, "isolate") !== 0;
for (const isolation of ["thread", "process"]) failed = run(security, isolation) !== 0 || failed;
process.exit(failed ? 1 : 0);
