// Limits can be set on the loader, in the WorkerCode and per entrypoint; the lowest wins.

export interface Limits {
  /** CPU time one invocation may use (the isolate's CPU while the invocation is in flight). */
  cpuMs?: number;
  /** Heap the isolate may use. Fixed when the isolate starts: loader and WorkerCode only. */
  memoryMb?: number;
  /** Wall-clock time one invocation may take. */
  wallMs?: number;
  /** Outbound fetches plus calls to host capabilities, per invocation. */
  subRequests?: number;
}

export type ResolvedLimits = Required<Limits>;

/** The loader's ceilings when its options set none. Frozen: copy it (`{ ...DEFAULT_LIMITS }`) to change a value. */
export const DEFAULT_LIMITS: Readonly<ResolvedLimits> = Object.freeze({ cpuMs: 5_000, memoryMb: 128, wallMs: 30_000, subRequests: 1_000 });

const MIN_MEMORY_MB = 8;

export function validateLimits(limits: unknown, where: string, Failure: new (message: string) => Error = TypeError): Limits {
  try {
    return checkLimits(limits, where);
  } catch (error) {
    throw Failure === TypeError ? error : new Failure((error as Error).message);
  }
}

function checkLimits(limits: unknown, where: string): Limits {
  if (limits === undefined) return {};
  if (limits === null || typeof limits !== "object") throw new TypeError(`${where}: limits must be an object.`);
  const out: Limits = {};
  for (const [key, value] of Object.entries(limits)) {
    if (key !== "cpuMs" && key !== "memoryMb" && key !== "wallMs" && key !== "subRequests") throw new TypeError(`${where}: unknown limit "${key}".`);
    if (value === undefined) continue;
    if (typeof value !== "number" || !(value >= 0) || !Number.isFinite(value)) throw new TypeError(`${where}: limits.${key} must be a non-negative finite number.`);
    out[key] = value;
  }
  if (out.memoryMb !== undefined && out.memoryMb < MIN_MEMORY_MB) throw new TypeError(`${where}: limits.memoryMb must be at least ${MIN_MEMORY_MB}.`);
  return out;
}

export function lowest(base: Readonly<ResolvedLimits>, ...overrides: (Limits | undefined)[]): ResolvedLimits {
  const out = { ...base };
  for (const override of overrides) {
    if (override === undefined) continue;
    for (const key of Object.keys(out) as (keyof ResolvedLimits)[]) {
      const value = override[key];
      if (value !== undefined && value < out[key]) out[key] = value;
    }
  }
  return out;
}
