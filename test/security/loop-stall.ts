// How long the host's event loop is held while a sandbox does something: the measure and the
// check that derived-off-host.test.ts and log-objects-off-host.test.ts share.

import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

export interface LoopStall {
  /** The longest gap between two ticks of a 5 ms timer, less the 5 ms. */
  stallMs: number;
  /** The most CPU time this thread spent between two ticks. */
  busyMs: number;
  tookMs: number;
}

/**
 * Runs `work` while a 5 ms interval timer watches the event loop. The gap is the stall a neighbour
 * sees, but on a loaded machine it also counts time the thread waited for a core; the CPU time
 * counts only the host's own work, so it is what is bounded tightly.
 * `collectFirst`: the test's own garbage is collected before the work (a collection of it during
 * the work is not the host's work for the worker). `settleMs`: how long the timer keeps watching
 * after the work (events that reach consumers after a call returns).
 */
export async function longestStall(work: () => Promise<void>, { collectFirst = false, settleMs = 0 } = {}): Promise<LoopStall> {
  const cpuMs = () => {
    const { user, system } = process.threadCpuUsage();
    return (user + system) / 1000;
  };
  let last = performance.now();
  let lastCpu = cpuMs();
  let stallMs = 0;
  let busyMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    const cpu = cpuMs();
    stallMs = Math.max(stallMs, now - last - 5);
    busyMs = Math.max(busyMs, cpu - lastCpu);
    last = now;
    lastCpu = cpu;
  }, 5);
  if (collectFirst) {
    setFlagsFromString("--expose-gc");
    (runInNewContext("gc") as () => void)();
  }
  try {
    // A turn first, so that the timer runs before the work starts.
    await new Promise((resolve) => setTimeout(resolve, 20));
    stallMs = 0;
    busyMs = 0;
    const started = performance.now();
    await work();
    const tookMs = performance.now() - started;
    if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
    return { stallMs: Math.max(stallMs, performance.now() - last - 5), busyMs: Math.max(busyMs, cpuMs() - lastCpu), tookMs };
  } finally {
    clearInterval(timer);
  }
}

/**
 * Asserts the host's thread computed less than `maxBusyMs` at a stretch, and that the loop's stall
 * was under `maxStallMs` on top of twice a control's: the same timer for as long (up to 3 s) with no
 * work at all. On a machine with more busy threads than cores (npm test beside a CPU hog) the loop
 * waits for a core whatever the host does; the stall the work may add is bounded on top of that.
 * `describe` gets the control's stall and says what was measured, for the test's log.
 */
export async function assertLoopFree(
  { stallMs, busyMs, tookMs }: LoopStall,
  { maxBusyMs, maxStallMs }: { maxBusyMs: number; maxStallMs: number },
  describe: (controlStallMs: number) => string,
): Promise<void> {
  const control = await longestStall(() => new Promise((resolve) => setTimeout(resolve, Math.min(Math.max(tookMs, 100), 3_000))));
  console.log(describe(control.stallMs));
  assert.ok(busyMs < maxBusyMs, `the host's thread computed ${busyMs.toFixed(0)} ms without letting its event loop turn`);
  assert.ok(stallMs < maxStallMs + 2 * control.stallMs, `the host's event loop was held ${stallMs.toFixed(0)} ms (${control.stallMs.toFixed(0)} ms with no work)`);
}
