// `npm run soak` for a few seconds, in both isolation modes, and once with calls that never answer
// mixed in: the report has its shape, a healthy run exits 0, lost calls make it exit 1.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { SoakReport } from "../../scripts/soak.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

function soak(args: string[]): Promise<{ code: number | null; report: SoakReport; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/soak.ts", ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      try {
        resolve({ code, report: JSON.parse(stdout) as SoakReport, stderr });
      } catch (error) {
        reject(new Error(`soak ${args.join(" ")} exited ${code} without a report: ${(error as Error).message}\n${stderr}`));
      }
    });
  });
}

const healthyTasks = ["rpc", "fetch", "callback", "fresh", "spin", "memory-bomb", "infinite-async", "throw", "huge-result", "log-flood"];

function assertHealthy(run: { code: number | null; report: SoakReport; stderr: string }, isolation: string): void {
  const { code, report, stderr } = run;
  assert.equal(code, 0, `exit code ${code}; failures: ${JSON.stringify(report.failures)}\n${stderr}`);
  assert.equal(report.ok, true);
  assert.equal(report.isolation, isolation);
  assert.equal(report.lost, 0);
  assert.equal(report.unnamed, 0);
  assert.deepEqual(report.unexpected, []);
  // A soak of a few seconds beside other test files on 2 cores (and, in the suite's loaded runs, a
  // CPU hog): the soak runs every kind once before drawing by weight, so a slow machine still
  // covers the mix; how many calls fit is the machine's business.
  assert.ok(report.calls >= healthyTasks.length && report.callsPerSecond > 0, `${report.calls} calls`);
  assert.deepEqual(Object.keys(report.outcomes).sort(), [...healthyTasks].sort(), "every kind of call ran");
  assert.ok(report.byOutcome.ok > 0 && report.byOutcome.CpuLimitError > 0 && report.byOutcome.MemoryLimitError > 0 && report.byOutcome.WallTimeLimitError > 0 && report.byOutcome.HostileError > 0);
  const counted = Object.values(report.byOutcome).reduce((a, b) => a + b, 0);
  assert.equal(counted, report.calls, "every call has exactly one outcome");
  assert.ok(report.samples.length >= 5);
  for (const key of ["t", "rssMb", "childRssMb", "heapUsedMb", "childHeapMb", "handles", "liveWorkers", "calls"]) assert.equal(typeof (report.samples[0] as unknown as Record<string, unknown>)[key], "number");
  assert.equal(report.end.liveWorkers, 0);
  assert.equal(typeof report.rss.warmMb, "number");
  assert.equal(report.rss.judged, false, "a short run does not judge memory growth");
  assert.equal(report.heap.judged, false);
  assert.ok(report.heap.warmMb > 0);
  assert.deepEqual(report.failures, []);
}

test("a short soak passes in both isolation modes; a run with lost calls fails", async () => {
  const [isolate, processes, hanging] = await Promise.all([
    soak(["--seconds", "8", "--concurrency", "6"]),
    soak(["--seconds", "6", "--concurrency", "6", "--isolation", "process"]),
    soak(["--seconds", "2", "--concurrency", "4", "--inject-hang", "--call-timeout", "4"]),
  ]);
  assertHealthy(isolate, "isolate");
  assertHealthy(processes, "process");
  assert.deepEqual(processes.report.processes, { alive: 2, restarts: 0 });
  assert.ok(processes.report.end.childRssMb > 0, "the children's memory is measured");

  assert.equal(hanging.code, 1);
  assert.equal(hanging.report.ok, false);
  assert.ok(hanging.report.lost > 0);
  assert.equal(hanging.report.outcomes["injected-hang"]?.lost, hanging.report.lost);
  assert.ok(hanging.report.failures.some((f) => /never answered/.test(f)));
});

test("bad options exit 2 with the usage", async () => {
  const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/soak.ts", "--isolation", "vm"], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code) => resolve({ code, stderr }));
  });
  assert.equal(run.code, 2);
  assert.match(run.stderr, /--isolation must be "isolate" or "process"/);
  assert.match(run.stderr, /npm run soak/);
});
