// Sandboxes made ahead of demand. A pooled sandbox has run only islet's runtime, never user code,
// and is handed out once: a used sandbox is never returned to the pool. Each is a new isolate made
// from islet's own snapshot by the same steps as a sandbox made on demand (Sandbox.createAhead).
//
// When it refills: isolated-vm's Isolate constructor is synchronous and holds this thread for most
// of a millisecond, so it must not land inside a request. The pool makes one sandbox in a turn of
// the event loop (its check phase, setImmediate) in which no call into any sandbox is pending and
// no worker is starting: between two loads that come back to back, not only after a quiet
// millisecond. A request that arrives during that millisecond waits for it. The rest of a sandbox (its context and the runtime's boot) runs on
// isolated-vm's threads meanwhile. Under sustained concurrent load no turn is idle and starts are
// fresh, as before.

import { Sandbox } from "./sandbox.ts";

/** How long the pool waits before trying again after a sandbox could not be made. */
const RETRY_AFTER_FAILURE_MS = 100;

/** What the pool did, for tests and benchmarks (src/testing.ts). */
export interface PoolCounters {
  /** Sandboxes handed out from the pool (ready, or still booting on isolated-vm's threads). */
  hits: number;
  /** Of those, the ones that were still booting when taken. */
  bootingHits: number;
  /** Takes that found the pool empty (or asked for another memory limit) and made a sandbox then. */
  misses: number;
  /** Sandboxes the pool made. */
  made: number;
}

export class SandboxPool {
  private readonly ready: Sandbox[] = [];
  /** Sandboxes being booted, oldest first. */
  private readonly booting: Promise<Sandbox | undefined>[] = [];
  private refillScheduled = false;
  private waitingForIdle = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly counters: PoolCounters = { hits: 0, bootingHits: 0, misses: 0, made: 0 };

  constructor(
    private readonly size: number,
    readonly memoryMb: number,
    /** Whether the owner has work in flight that no pending sandbox call shows (a worker starting); it calls nudge() when that ends. */
    private readonly busy: () => boolean = () => false,
  ) {
    this.scheduleRefill();
  }

  /** Sandboxes the pool holds, ready or booting: never more than its size, all killed by close(). */
  get available(): number {
    return this.ready.length + this.booting.length;
  }

  get stats(): PoolCounters {
    return { ...this.counters };
  }

  /** A sandbox for `memoryMb`: a ready one, else the oldest one booting, else one made now. */
  async take(memoryMb: number): Promise<Sandbox> {
    if (memoryMb === this.memoryMb && !this.closed) {
      let sandbox: Sandbox | undefined;
      while ((sandbox = this.ready.shift()) !== undefined) {
        if (sandbox.alive) {
          this.counters.hits++;
          this.scheduleRefill();
          return sandbox;
        }
      }
      const boot = this.booting[0];
      if (boot !== undefined) {
        // Claimed: the refill's own continuation sees it is no longer in `booting`.
        this.booting.shift();
        this.scheduleRefill();
        const booted = await boot;
        if (booted?.alive) {
          this.counters.hits++;
          this.counters.bootingHits++;
          return booted;
        }
      }
    }
    this.counters.misses++;
    this.scheduleRefill();
    return Sandbox.create(memoryMb);
  }

  /** Tells the pool that the owner's busy() may have turned false. */
  nudge(): void {
    this.scheduleRefill();
  }

  private full(): boolean {
    return this.closed || this.ready.length + this.booting.length >= this.size;
  }

  private scheduleRefill(): void {
    if (this.refillScheduled || this.waitingForIdle || this.retryTimer !== undefined || this.full()) return;
    this.refillScheduled = true;
    setImmediate(() => {
      this.refillScheduled = false;
      if (this.full()) return;
      // A call in flight: wait for the last one to answer. A worker starting: its end nudges.
      if (Sandbox.pending > 0) return this.refillWhenIdle();
      if (this.busy()) return;
      this.makeOne();
      this.scheduleRefill();
    });
  }

  private refillWhenIdle(): void {
    if (this.waitingForIdle) return;
    this.waitingForIdle = true;
    Sandbox.whenIdle(() => {
      this.waitingForIdle = false;
      this.scheduleRefill();
    });
  }

  private makeOne(): void {
    const boot: Promise<Sandbox | undefined> = Sandbox.createAhead(this.memoryMb).then(
      (sandbox) => {
        this.counters.made++;
        const index = this.booting.indexOf(boot);
        // Taken while it booted (take() awaits it), or the pool closed: not the pool's any more.
        if (index === -1) return sandbox;
        this.booting.splice(index, 1);
        if (this.closed) sandbox.kill("canceled");
        else this.ready.push(sandbox);
        this.scheduleRefill();
        return sandbox;
      },
      () => {
        const index = this.booting.indexOf(boot);
        if (index !== -1) this.booting.splice(index, 1);
        if (this.closed || this.retryTimer !== undefined) return undefined;
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.scheduleRefill();
        }, RETRY_AFTER_FAILURE_MS);
        this.retryTimer.unref();
        return undefined;
      },
    );
    this.booting.push(boot);
  }

  /** Kills every sandbox the pool holds; resolves once those still booting have finished and been killed. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    for (const sandbox of this.ready.splice(0)) sandbox.kill("canceled");
    const booting = this.booting.splice(0);
    const booted = await Promise.all(booting);
    for (const sandbox of booted) sandbox?.kill("canceled");
  }
}
