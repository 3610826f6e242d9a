// Sandboxes made ahead of demand. A pooled sandbox has run only islet's runtime, never user code,
// and is handed out once: a used sandbox is never returned to the pool.

import { Sandbox } from "./sandbox.ts";

export class SandboxPool {
  private readonly ready: Sandbox[] = [];
  private refillScheduled = false;
  private closed = false;

  constructor(
    private readonly size: number,
    readonly memoryMb: number,
  ) {
    this.scheduleRefill();
  }

  get available(): number {
    return this.ready.length;
  }

  take(memoryMb: number): Sandbox {
    const sandbox = memoryMb === this.memoryMb ? this.ready.pop() : undefined;
    this.scheduleRefill();
    return sandbox ?? Sandbox.create(memoryMb);
  }

  private scheduleRefill(): void {
    if (this.refillScheduled || this.closed || this.ready.length >= this.size) return;
    this.refillScheduled = true;
    // One sandbox per turn of the event loop, and only while no call is waiting on a sandbox:
    // creating one holds the main thread for most of a millisecond, which must not land on a
    // request in flight. Under sustained load the pool stays empty and starts are fresh.
    const refill = () => {
      if (this.closed || this.ready.length >= this.size) {
        this.refillScheduled = false;
        return;
      }
      if (Sandbox.pending > 0) return void setTimeout(refill, 1);
      this.refillScheduled = false;
      this.ready.push(Sandbox.create(this.memoryMb));
      this.scheduleRefill();
    };
    setImmediate(refill);
  }

  close(): void {
    this.closed = true;
    for (const sandbox of this.ready.splice(0)) sandbox.kill("canceled");
  }
}
