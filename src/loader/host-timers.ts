// A worker's timers, kept on the host: the sandbox asks for one by id (setTimeout, setInterval),
// and the host fires it into the sandbox. At most MAX_HOST_TIMERS at once per worker.

export const MAX_HOST_TIMERS = 10_000;

/** The longest delay Node's setTimeout keeps (2^31 - 1 ms); longer ones fire at once otherwise. */
const MAX_DELAY_MS = 2_147_483_647;

export class HostTimers {
  private readonly timers = new Map<number, NodeJS.Timeout>();

  constructor(private readonly fire: (id: number) => void) {}

  get size(): number {
    return this.timers.size;
  }

  /** (Re)arms timer `id`; a malformed id, or one past the cap, is ignored (the sandbox's timer never fires). */
  set(id: unknown, delay: unknown): void {
    if (typeof id !== "number" || (this.timers.size >= MAX_HOST_TIMERS && !this.timers.has(id))) return;
    const ms = typeof delay === "number" && delay >= 0 ? Math.min(delay, MAX_DELAY_MS) : 0;
    const previous = this.timers.get(id);
    if (previous !== undefined) clearTimeout(previous);
    this.timers.set(
      id,
      setTimeout(() => {
        this.timers.delete(id);
        this.fire(id);
      }, ms),
    );
  }

  clear(id: unknown): void {
    const timer = this.timers.get(id as number);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(id as number);
  }

  /** Drops every timer; true if there were any. */
  clearAll(): boolean {
    if (this.timers.size === 0) return false;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    return true;
  }
}
