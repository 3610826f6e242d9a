// Limits can be set on the loader, in the WorkerCode and per entrypoint; the lowest wins. The rule
// for what a limit may be is src/protocol/limits.ts, shared with the shards, the server and code mode.

import { InvalidLimitsError, WorkerCodeError } from "../errors.ts";
import { checkLimits, formatLimitProblems, type Limits, type LimitsScope, type ResolvedLimits } from "../protocol/limits.ts";

export type { Limits, ResolvedLimits };

/** The loader's ceilings when its options set none. Frozen: copy it (`{ ...DEFAULT_LIMITS }`) to change a value. */
export const DEFAULT_LIMITS: Readonly<ResolvedLimits> = Object.freeze({ cpuMs: 5_000, memoryMb: 128, wallMs: 30_000, subRequests: 1_000 });

/**
 * Limits as the schema allows them, or an InvalidLimitsError naming every problem (`where`:
 * "WorkerLoader", "getEntrypoint", "codemode"…). A WorkerCode's limits: see validateCodeLimits.
 */
export function validateLimits(limits: unknown, where: string, scope: LimitsScope = "isolate"): Limits {
  const checked = checkLimits(limits, scope);
  if (checked.limits !== undefined) return checked.limits;
  throw new InvalidLimitsError(where, checked.problems.map((problem) => formatLimitProblems([problem])));
}

/** A WorkerCode's limits: the same rule and message, as a WorkerCodeError (its cause the InvalidLimitsError). */
export function validateCodeLimits(limits: unknown): Limits {
  try {
    return validateLimits(limits, "WorkerCode");
  } catch (error) {
    throw new WorkerCodeError((error as Error).message, undefined, { cause: error });
  }
}

export { formatLimitProblems };

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
