// Runs every test/**/*.test.ts with Node's test runner (in isolate isolation, the default), and the
// adversarial suite (test/security/) again in thread and in process isolation: test/security/
// harness.ts reads the mode from ISLET_ISOLATION.
//
// Why it is arranged this way (npm test must stay under ten minutes on two cores):
// - The thread and process runs of the security suite go beside the main run, one file at a time
//   each, instead of after it: many tests wait rather than compute (timers, wall limits, alarms,
//   child processes starting), so four files at a time keep two cores busy. (Five, with the main
//   run taking three, ran in 8 minutes but made load-sensitive tests fail.)
// - The files that take longest start first, so the end of the run is not one long file alone.
//   SLOW_FIRST is a measured list (per-file durations of a full run, longest first); a file missing
//   from it only starts in alphabetical order.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const SLOW_FIRST = [
  "test/loader/thread-isolation.test.ts",
  "test/loader/loader.test.ts",
  "test/storage/facets-alarms.test.ts",
  "test/loader/limits-schema.test.ts",
  "test/loader/sockets.test.ts",
  "test/loader/node-net.test.ts",
  "test/storage/facets.test.ts",
  "test/security/budget-crossing.test.ts",
  "test/loader/tails.test.ts",
  "test/storage/facets-budgets.test.ts",
  "test/codemode/sessions.test.ts",
  "test/scripts/soak.test.ts",
  "test/runtime/lazy-microtasks.test.ts",
  "test/loader/process-isolation.test.ts",
  "test/security/budget.test.ts",
  "test/cli/cli.test.ts",
  "test/package/surface.test.ts",
  "test/storage/facets-durability.test.ts",
];

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return find(path);
    return entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

function ordered(files) {
  const rank = (file) => {
    const index = SLOW_FIRST.indexOf(file.split("\\").join("/"));
    return index === -1 ? SLOW_FIRST.length : index;
  };
  return [...files].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

function run(files, isolation, concurrency) {
  if (files.length === 0) return Promise.resolve(0);
  const started = performance.now();
  const env = { ...process.env, ISLET_ISOLATION: isolation };
  const args = ["--import", "tsx", "--import", "./test/clean-exit.ts", "--test", `--test-concurrency=${concurrency}`, ...files];
  // The side runs' output is prefixed so that their lines can be told from the main run's.
  const child = spawn(process.execPath, args, { stdio: isolation === "isolate" ? "inherit" : ["ignore", "pipe", "pipe"], env });
  if (isolation !== "isolate") {
    for (const stream of [child.stdout, child.stderr]) {
      let rest = "";
      stream.setEncoding("utf8");
      stream.on("data", (text) => {
        const lines = (rest + text).split("\n");
        rest = lines.pop();
        for (const line of lines) process.stdout.write(`[${isolation}] ${line}\n`);
      });
      stream.on("end", () => rest && process.stdout.write(`[${isolation}] ${rest}\n`));
    }
  }
  return new Promise((resolve) =>
    child.on("close", (code) => {
      console.log(`# ${files.length} files, isolation "${isolation}": ${((performance.now() - started) / 1000).toFixed(1)} s, ${code === 0 ? "passed" : "FAILED"}`);
      resolve(code ?? 1);
    }),
  );
}

const filters = process.argv.slice(2);
const files = ordered(find("test").filter((file) => filters.length === 0 || filters.some((f) => file.includes(f))));
const security = files.filter((file) => file.startsWith(join("test", "security") + "/"));
const codes = await Promise.all([run(files, "isolate", 2), run(security, "thread", 1), run(security, "process", 1)]);
process.exit(codes.every((code) => code === 0) ? 0 : 1);
