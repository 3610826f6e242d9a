// A host-side cache of what islet derives from worker code (transpiled TypeScript, CommonJS
// analyses), keyed by the code's hash. Worker code is untrusted input, so the cache is bounded in
// bytes as well as entries: a count alone let 65 modules of 32 MiB fill the host's heap
// (findings15/01). Least recently used entries go first; an entry larger than the whole budget is
// not kept at all.

export class ContentCache<V> {
  private readonly entries = new Map<string, { value: V; bytes: number }>();
  private bytes = 0;
  /** What is being made now, by key: concurrent callers of one key share one computation. */
  private readonly making = new Map<string, Promise<V>>();

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
    private readonly weigh: (value: V) => number,
  ) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /**
   * The value under `key`: cached, being made for another caller (shared), or made now by `make`
   * and kept. `made` says whether this call made it.
   */
  async getOrMake(key: string, make: () => Promise<V>): Promise<{ value: V; made: boolean }> {
    const cached = this.get(key);
    if (cached !== undefined) return { value: cached, made: false };
    const pending = this.making.get(key);
    if (pending !== undefined) return { value: await pending, made: false };
    const making = make();
    this.making.set(key, making);
    try {
      const value = await making;
      this.set(key, value);
      return { value, made: true };
    } finally {
      this.making.delete(key);
    }
  }

  set(key: string, value: V): void {
    const bytes = this.weigh(value) + key.length * 2;
    this.delete(key);
    if (bytes > this.maxBytes) return;
    this.entries.set(key, { value, bytes });
    this.bytes += bytes;
    while (this.entries.size > this.maxEntries || this.bytes > this.maxBytes) this.delete(this.entries.keys().next().value as string);
  }

  /** Entries and their weight, for tests. */
  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }

  private delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }
}

/** Bytes of strings as V8 may hold them (two per UTF-16 unit). */
export function stringBytes(texts: readonly string[]): number {
  let total = 0;
  for (const text of texts) total += text.length * 2;
  return total;
}
