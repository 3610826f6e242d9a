// Enforces cpuMs and wallMs for one invocation. The isolate runs on isolated-vm's own threads, so
// the host event loop stays free to notice an overrun and terminate the isolate.
//
// It also reads the isolate's CPU time while a long call runs: isolated-vm disposes an isolate
// that runs out of memory, and a disposed isolate's CPU time cannot be read any more, so the last
// reading is what a memory kill reports (without these readings, the one taken when the call
// started: cpuMs 0). A reading every tenth of the time elapsed so far, at least every
// SAMPLE_MIN_MS: what a memory kill reports is short by at most that much, and a call of a few
// milliseconds costs no extra timer.

import type { DeathReason, Sandbox } from "./sandbox.ts";

/**
 * CPU time this whole process (every thread) has used, in nanoseconds.
 *
 * Why the watchdog needs it: isolated-vm counts an isolate's CPU time with the thread's CPU clock
 * only when a stretch of execution ends; read while the isolate runs (which is when a watchdog
 * reads it), the stretch in progress is counted by the wall clock (`Executor::CpuTimer::Delta`
 * uses steady_clock: another thread's CPU clock is not what it reads). On a machine with more
 * busy threads than cores the isolate's thread waits for a core most of the time, so a call that
 * used 0.3 s of CPU read as 2–3.5 s, and honest calls ended with CpuLimitError. The isolate's
 * thread cannot have used more CPU than the whole process did meanwhile, so the smaller of the two
 * readings is still an upper bound of what the sandbox used: a sandbox that spins is stopped as
 * before, one that waited for a core is not charged for the wait.
 */
function processCpuNs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1000;
}

/** The shortest time between two readings of the CPU time (see above). */
export const SAMPLE_MIN_MS = 10;

export interface WatchLimits {
  cpuMs: number;
  wallMs: number;
}

export class Watch {
  private timer: NodeJS.Timeout | undefined;
  private readonly startIsolateCpu: bigint;
  private readonly startServiceCpu: bigint;
  private readonly startProcessCpu: number;
  private readonly startWall: number;
  private stopped = false;

  constructor(
    private readonly sandbox: Sandbox,
    private readonly limits: WatchLimits,
    private readonly onExceeded: (reason: DeathReason) => void,
  ) {
    this.startIsolateCpu = sandbox.isolateCpuNs;
    this.startServiceCpu = sandbox.serviceCpuNs;
    this.startProcessCpu = processCpuNs();
    this.startWall = performance.now();
    this.arm(Math.min(limits.cpuMs, limits.wallMs, SAMPLE_MIN_MS));
    this.unwatchCharges = sandbox.watchCharges(() => {
      if (!this.stopped && this.sandbox.alive && this.cpuMs >= this.limits.cpuMs) this.onExceeded("exceededCpu");
    });
  }

  private readonly unwatchCharges: () => void;

  /**
   * The sandbox's CPU time since the watch began: its isolate's reading, bounded by the process's
   * (see processCpuNs), plus what host services spent for it. The services' charge is added on top,
   * never bounded: some of it is spent outside this process (the work a shard's host does for it),
   * and the process's CPU would hide it.
   */
  get cpuMs(): number {
    const isolate = Number(this.sandbox.isolateCpuNs - this.startIsolateCpu) / 1e6;
    const services = Number(this.sandbox.serviceCpuNs - this.startServiceCpu) / 1e6;
    return Math.min(isolate, (processCpuNs() - this.startProcessCpu) / 1e6) + services;
  }

  get wallMs(): number {
    return performance.now() - this.startWall;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.check(), Math.max(1, Math.ceil(ms)));
  }

  private check(): void {
    if (this.stopped || !this.sandbox.alive) return;
    const cpu = this.cpuMs;
    const wall = this.wallMs;
    if (cpu >= this.limits.cpuMs) return this.onExceeded("exceededCpu");
    if (wall >= this.limits.wallMs) return this.onExceeded("exceededWall");
    this.arm(Math.min(this.limits.cpuMs - cpu, this.limits.wallMs - wall, Math.max(SAMPLE_MIN_MS, wall / 10)));
  }

  stop(): { cpuMs: number; wallMs: number } {
    this.stopped = true;
    this.unwatchCharges();
    if (this.timer !== undefined) clearTimeout(this.timer);
    return { cpuMs: this.cpuMs, wallMs: this.wallMs };
  }
}
