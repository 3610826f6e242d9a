// Enforces cpuMs and wallMs for one invocation. The isolate runs on isolated-vm's own threads, so
// the host event loop stays free to notice an overrun and terminate the isolate.

import type { DeathReason, Sandbox } from "./sandbox.ts";

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
    this.arm(Math.min(limits.cpuMs, limits.wallMs));
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
    this.arm(Math.min(this.limits.cpuMs - cpu, this.limits.wallMs - wall));
  }

  stop(): { cpuMs: number; wallMs: number } {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    return { cpuMs: this.cpuMs, wallMs: this.wallMs };
  }
}
