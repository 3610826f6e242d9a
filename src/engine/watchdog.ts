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

/** The shortest time between two readings of the CPU time (see above). */
export const SAMPLE_MIN_MS = 10;

export interface WatchLimits {
  cpuMs: number;
  wallMs: number;
}

export class Watch {
  private timer: NodeJS.Timeout | undefined;
  private readonly startCpu: bigint;
  private readonly startWall: number;
  private stopped = false;

  constructor(
    private readonly sandbox: Sandbox,
    private readonly limits: WatchLimits,
    private readonly onExceeded: (reason: DeathReason) => void,
  ) {
    this.startCpu = sandbox.cpuTimeNs;
    this.startWall = performance.now();
    this.arm(Math.min(limits.cpuMs, limits.wallMs, SAMPLE_MIN_MS));
  }

  get cpuMs(): number {
    return Number(this.sandbox.cpuTimeNs - this.startCpu) / 1e6;
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
    if (this.timer !== undefined) clearTimeout(this.timer);
    return { cpuMs: this.cpuMs, wallMs: this.wallMs };
  }
}
