// The execution's own wall-clock limit, which stands still while the code waits for a human to
// approve a tool call: waiting is neither running time nor CPU time (the isolate is idle then).
// Code that acts while an approval is pending (calls a tool, fetches) is not idle: from that
// call on, the time since the pause began counts again (see activity()).

export class RunClock {
  private runningSince: number | undefined;
  private ranMs = 0;
  private pausedSince: number | undefined;
  private waitedMs = 0;
  private pauses = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly limitMs: number,
    private readonly onExpired: () => void,
  ) {
    this.start();
  }

  /** Time spent waiting (paused) so far. */
  get waitingMs(): number {
    return this.waitedMs + (this.pausedSince !== undefined ? performance.now() - this.pausedSince : 0);
  }

  pause(): void {
    if (this.stopped || this.pauses++ > 0) return;
    this.ranMs += performance.now() - (this.runningSince ?? performance.now());
    this.runningSince = undefined;
    this.pausedSince = performance.now();
    clearTimeout(this.timer);
  }

  resume(): void {
    if (this.stopped || this.pauses === 0 || --this.pauses > 0) return;
    if (this.pausedSince === undefined) return; // already running again (activity() during the wait)
    this.waitedMs += performance.now() - (this.pausedSince ?? performance.now());
    this.pausedSince = undefined;
    this.start();
  }

  /**
   * The code did something (called a tool, fetched) while an approval was pending: it is not
   * waiting, so the pause ends here and the time since it began counts as running time. The
   * clock stays running until every pending approval has been decided.
   */
  activity(): void {
    if (this.stopped || this.pausedSince === undefined) return;
    const since = this.pausedSince;
    this.pausedSince = undefined;
    this.start(since);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private start(since = performance.now()): void {
    this.runningSince = since;
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        if (this.stopped) return;
        this.stopped = true;
        this.onExpired();
      },
      Math.max(1, this.limitMs - this.ranMs - (performance.now() - since)),
    );
  }
}
