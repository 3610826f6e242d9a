// Summaries of raw samples (milliseconds unless a scenario says otherwise).

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

export function summarize(samples: readonly number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return { n: 0, p50: NaN, p99: NaN, mean: NaN, min: NaN, max: NaN };
  return { n, p50: quantile(s, 0.5), p99: quantile(s, 0.99), mean: s.reduce((a, b) => a + b, 0) / n, min: s[0], max: s[n - 1] };
}

/** Linear interpolation between closest ranks, on sorted input. */
function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export const now = (): number => performance.now();

/** Lets the event loop turn once (timers, pool refills). */
export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A sampler measured round-robin with others; `unavailable` when it could not be started. */
export interface Subject {
  name: string;
  /** Per-round sample count; slow peers use fewer. */
  perRound: number;
  setup?(): Promise<void>;
  /** Returns `count` samples (ms). May return means of batches (say so in `note`). */
  sample(count: number): Promise<number[]>;
  teardown?(): Promise<void>;
  note?: string;
}

/**
 * A subject whose every sample is one timed call on something opened once: `open` in setup, then
 * `warmups` untimed calls, then `count` calls per round, and `close` at the end.
 */
export function repeatedCalls(options: {
  name: string;
  perRound: number;
  note?: string;
  warmups: number;
  open(): Promise<void>;
  once(): Promise<number>;
  close(): Promise<void>;
}): Subject {
  const { once } = options;
  return {
    name: options.name,
    perRound: options.perRound,
    note: options.note,
    async setup() {
      await options.open();
      for (let i = 0; i < options.warmups; i++) await once();
    },
    async sample(count) {
      const out: number[] = [];
      for (let i = 0; i < count; i++) out.push(await once());
      return out;
    },
    teardown: () => options.close(),
  };
}

export interface SubjectResult {
  name: string;
  summary?: Summary;
  unavailable?: string;
  note?: string;
}

/**
 * Runs every subject in rounds (A, B, C, A, B, C …) so drift of a noisy machine hits all alike.
 * A subject that fails to set up or sample is reported unavailable, never fatal.
 */
export async function roundRobin(subjects: Subject[], rounds: number, warmupRounds = 1): Promise<SubjectResult[]> {
  const samples = new Map<Subject, number[]>();
  const failed = new Map<Subject, string>();
  for (const s of subjects) {
    try {
      await s.setup?.();
      samples.set(s, []);
    } catch (e) {
      failed.set(s, reason(e));
    }
  }
  try {
    for (let r = 0; r < warmupRounds + rounds; r++) {
      for (const s of subjects) {
        if (failed.has(s)) continue;
        try {
          const got = await s.sample(s.perRound);
          if (r >= warmupRounds) samples.get(s)!.push(...got);
        } catch (e) {
          failed.set(s, reason(e));
        }
      }
    }
  } finally {
    for (const s of subjects) {
      try {
        await s.teardown?.();
      } catch {
        /* teardown errors must not hide results */
      }
    }
  }
  return subjects.map((s) =>
    failed.has(s) ? { name: s.name, unavailable: failed.get(s), note: s.note } : { name: s.name, summary: summarize(samples.get(s)!), note: s.note },
  );
}

export function reason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split("\n")[0].slice(0, 200);
}
