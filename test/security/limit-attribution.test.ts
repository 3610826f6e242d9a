// Which limit a sandbox is reported over when both its CPU and its heap are under pressure, idle
// and beside a CPU hog (a child process spinning on the machine's cores).
//
// What holds: a pure CPU spin is CpuLimitError, even while it keeps megabytes live; a heap bomb
// whose cpuMs runs out first ends with a LimitError, CpuLimitError or MemoryLimitError (SECURITY.md,
// "Which limit a heap bomb reports": near its heap limit V8 spends from 0.15 s to over a second of
// CPU in back-to-back collections, and the isolate's heap cannot be read while it runs). The
// sandbox is ended either way and the suite's neighbour is untouched. (With CPU to spare the bomb
// is MemoryLimitError: test/loader/isolation-suite.ts, "limits end calls with the same LimitError
// classes".)

import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { CpuLimitError, LimitError, MemoryLimitError } from "islet";
import { rejectsWith, securitySuite, type SkipIn } from "./harness.ts";

const { attack, load } = securitySuite();

/** Holds ~10 MB live (1,250 arrays of 1,000 doubles), then spins without allocating. */
const SPIN_HOLDING_10MB = `export default { run() { const keep = []; for (let i = 0; i < 1250; i++) keep.push(new Array(1000).fill(i + 0.5)); for (;;) {} } };`;
const HEAP_BOMB = `export default { run() { const a = []; for (;;) a.push(new Array(1e5).fill(1.5)); } };`;

/** Runs `use` while a child process spins a core; the child is killed after. */
async function besideHog<T>(use: () => Promise<T>): Promise<T> {
  const hog: ChildProcess = spawn(process.execPath, ["-e", "for(;;){}"], { stdio: "ignore" });
  try {
    return await use();
  } finally {
    hog.kill("SIGKILL");
  }
}

const run = (source: string, limits: { cpuMs: number; memoryMb: number }) => (load(source, { limits }).getEntrypoint() as any).run();

/** The suite's loader allows 32 MB: the spin keeps a third of its heap live. */
async function spinIsCpu(): Promise<void> {
  for (let i = 0; i < 3; i++) await rejectsWith(run(SPIN_HOLDING_10MB, { cpuMs: 100, memoryMb: 32 }), CpuLimitError);
}

async function bombIsALimit(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const error = await rejectsWith(run(HEAP_BOMB, { cpuMs: 50, memoryMb: 16 }), LimitError);
    assert.ok(error instanceof CpuLimitError || error instanceof MemoryLimitError, `${error.name}: ${error.message}`);
  }
}

attack("a CPU spin holding 10 MB live in a 32 MB sandbox is CpuLimitError, three times", spinIsCpu);

attack("beside a CPU hog, a CPU spin holding 10 MB live in a 32 MB sandbox is still CpuLimitError", () => besideHog(spinIsCpu));

/**
 * In thread mode these attacks pass, but in 4 of 19 runs of this file the host process then died
 * ("terminate called after throwing an instance of 'ivm::RuntimeError'") or never exited, after the
 * last attack, as the loader closed; not reproduced in 120 such bombs outside the suite. Open.
 */
const threadTeardown: SkipIn = { thread: "heap bombs ended mid-collection: the host aborted or hung at teardown in 4 of 19 thread-mode runs (open)" };

attack("a heap bomb with cpuMs 50 in a 16 MB sandbox ends with CpuLimitError or MemoryLimitError, five times", bombIsALimit, threadTeardown);

attack("beside a CPU hog, a heap bomb with cpuMs 50 in a 16 MB sandbox still ends with a LimitError, five times", () => besideHog(bombIsALimit), threadTeardown);
