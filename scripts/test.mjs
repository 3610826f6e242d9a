// Runs every test/**/*.test.ts with Node's test runner (in isolate isolation, the default), and the
// adversarial suite (test/security/) again in thread and in process isolation: test/security/
// harness.ts reads the mode from ISLET_ISOLATION.
//
// Why it is arranged this way (npm test must stay under ten minutes on two cores):
// - Every (file, mode) pair is one job, and SLOTS jobs run at once from one queue: many tests wait
//   rather than compute (timers, wall limits, alarms, child processes starting), so four files at
//   a time keep two cores busy. (Five made load-sensitive tests fail.) Before, the main run had
//   two slots and each side run one: once the side runs ended (after 4 and 6.5 minutes), two slots
//   stood idle, and the main run alone took 12 minutes.
// - The longest jobs start first (test/durations.json: seconds per job, measured by a full run
//   with --record), so the end of the run is not one long file alone; a job it does not list
//   (a new file) starts first, as if it were long.
// - Each job's output is printed whole when it ends (the side modes' lines prefixed), so that
//   four files' lines do not interleave; the totals per mode come last.
//
// Arguments: filters (a job runs when its file's path includes one of them); --record writes the
// jobs' measured durations to test/durations.json.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const SLOTS = 4;
const DURATIONS = join("test", "durations.json");

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return find(path);
    return entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

const args = process.argv.slice(2);
const record = args.includes("--record");
const filters = args.filter((arg) => arg !== "--record");
const files = find("test")
  .map((file) => file.split("\\").join("/"))
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();
const security = files.filter((file) => file.startsWith("test/security/"));
const jobs = [...files.map((file) => ({ file, isolation: "isolate" })), ...security.flatMap((file) => ["thread", "process"].map((isolation) => ({ file, isolation })))];

let known = {};
try {
  known = JSON.parse(readFileSync(DURATIONS, "utf8"));
} catch {
  // No measurements yet: every job counts as long, in alphabetical order.
}
const keyOf = (job) => `${job.isolation} ${job.file}`;
const expected = (job) => known[keyOf(job)] ?? Infinity;
jobs.sort((a, b) => expected(b) - expected(a) || (keyOf(a) < keyOf(b) ? -1 : 1));

const totals = {};
const measured = {};
const cpuSeconds = {};
let failed = false;

function runJob(job) {
  const started = performance.now();
  const env = { ...process.env, ISLET_ISOLATION: job.isolation };
  const command = [process.execPath, "--import", "tsx", "--import", "./test/clean-exit.ts", "--test", job.file];
  // TEST_CPU=1: each job runs under GNU time, and its CPU (children included) is reported with it.
  if (process.env.TEST_CPU) command.unshift("/usr/bin/time", "-f", "cpu %U %S");
  const child = spawn(command[0], command.slice(1), { stdio: ["ignore", "pipe", "pipe"], env });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (text) => (output += text));
  child.stderr.setEncoding("utf8").on("data", (text) => (output += text));
  return new Promise((resolve) =>
    child.on("close", (code) => {
      const seconds = (performance.now() - started) / 1000;
      measured[keyOf(job)] = Math.round(seconds * 10) / 10;
      const prefix = job.isolation === "isolate" ? "" : `[${job.isolation}] `;
      const lines = output.split("\n");
      if (lines.at(-1) === "") lines.pop();
      const mode = (totals[job.isolation] ??= { files: 0, failedFiles: 0, pass: 0, fail: 0, skipped: 0 });
      mode.files++;
      // The runner's own summary lines are summed into the totals below, not printed per file.
      const kept = [];
      for (const line of lines) {
        const summary = /^ℹ (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ([\d.]+)$/.exec(line);
        const cpu = /^cpu ([\d.]+) ([\d.]+)$/.exec(line);
        if (cpu !== null) cpuSeconds[keyOf(job)] = Number(cpu[1]) + Number(cpu[2]);
        else if (summary === null) kept.push(prefix + line);
        else if (summary[1] === "pass" || summary[1] === "fail" || summary[1] === "skipped") mode[summary[1]] += Number(summary[2]);
      }
      if (code !== 0) {
        mode.failedFiles++;
        failed = true;
        kept.push(`${prefix}# FAILED: ${job.file} (exit ${code})`);
      }
      const used = cpuSeconds[keyOf(job)];
      kept.push(`${prefix}# ${job.file}: ${seconds.toFixed(1)} s${used === undefined ? "" : `, ${used.toFixed(1)} s of CPU`}`);
      process.stdout.write(kept.join("\n") + "\n");
      resolve();
    }),
  );
}

const started = performance.now();
let next = 0;
async function worker() {
  while (next < jobs.length) await runJob(jobs[next++]);
}
await Promise.all(Array.from({ length: Math.min(SLOTS, jobs.length) }, worker));

for (const [isolation, mode] of Object.entries(totals)) {
  const prefix = isolation === "isolate" ? "" : `[${isolation}] `;
  console.log(`${prefix}ℹ pass ${mode.pass}`);
  console.log(`${prefix}ℹ fail ${mode.fail}`);
  if (mode.skipped > 0) console.log(`${prefix}ℹ skipped ${mode.skipped}`);
  console.log(`# ${mode.files} files, isolation "${isolation}": ${mode.failedFiles === 0 ? "passed" : `FAILED (${mode.failedFiles} files)`}`);
}
console.log(`# ${jobs.length} jobs, ${SLOTS} at a time: ${((performance.now() - started) / 1000).toFixed(1)} s, ${failed ? "FAILED" : "passed"}`);
if (process.env.TEST_CPU) {
  const top = Object.entries(cpuSeconds).sort(([, a], [, b]) => b - a);
  console.log(`# CPU: ${top.reduce((sum, [, s]) => sum + s, 0).toFixed(0)} s in all; most: ${top.slice(0, 25).map(([key, s]) => `${key} ${s.toFixed(0)}`).join(", ")}`);
}
if (record) {
  const sorted = Object.fromEntries(Object.entries(measured).sort(([, a], [, b]) => b - a));
  writeFileSync(DURATIONS, JSON.stringify(sorted, null, 2) + "\n");
}
process.exit(failed ? 1 : 0);
