// The limits schema: what the host, the shards, the server and code mode accept as limits, in one
// place, so that every entry point refuses exactly the same values with the same words.
//
// Rules (README's limits table):
// - cpuMs, wallMs: a finite number > 0, at most MAX_LIMIT_MS (the longest a Node timer waits;
//   past it, setTimeout fires after 1 ms and the watchdog would poll every millisecond).
// - memoryMb: a finite number, at least MIN_MEMORY_MB (V8 needs that much to start an isolate).
//   Fixed when the isolate starts: refused where only a call is configured (entrypoints).
// - subRequests: an integer > 0 (it counts calls).
// - no other key; `limits` itself an object (null is refused, as any other non-object).
// 0 is refused everywhere: a zero budget is a worker that cannot run; no field documents it.
//
// This file is part of src/protocol: it imports zod and nothing else of islet.

import { z } from "zod";
import { formatProblems, got, problemsOf, type Problem } from "./schema.ts";

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

export type LimitKey = keyof Limits;
export type ResolvedLimits = Required<Limits>;

export const LIMIT_KEYS: readonly LimitKey[] = Object.freeze(["cpuMs", "memoryMb", "wallMs", "subRequests"] as const);
/** The limits a single call (an entrypoint, a /v1/rpc call) may lower: memoryMb is fixed when the isolate starts. */
export const CALL_LIMIT_KEYS: readonly LimitKey[] = Object.freeze(["cpuMs", "wallMs", "subRequests"] as const);
export const MIN_MEMORY_MB = 8;
export const MAX_LIMIT_MS = 2 ** 31 - 1;

const milliseconds = z
  .number({ error: (issue) => `must be a positive number of milliseconds${got(issue)}` })
  .positive({ error: (issue) => `must be a positive number of milliseconds${got(issue)}` })
  .max(MAX_LIMIT_MS, { error: (issue) => `must be at most ${MAX_LIMIT_MS} (about 24.8 days)${got(issue)}` });

const fields = {
  cpuMs: milliseconds,
  wallMs: milliseconds,
  memoryMb: z
    .number({ error: (issue) => `must be a number of megabytes, at least ${MIN_MEMORY_MB}${got(issue)}` })
    .min(MIN_MEMORY_MB, { error: (issue) => `must be at least ${MIN_MEMORY_MB}${got(issue)}` }),
  subRequests: z
    .number({ error: (issue) => `must be a positive integer${got(issue)}` })
    .int({ error: (issue) => `must be a positive integer${got(issue)}` })
    .positive({ error: (issue) => `must be a positive integer${got(issue)}` }),
};

function objectError(keys: readonly LimitKey[]) {
  return (issue: { code?: string; input?: unknown }) =>
    issue.code === "invalid_type" ? `must be an object like {"cpuMs": 100}${got(issue)}` : issue.code === "unrecognized_keys" ? `unknown limit (known: ${keys.join(", ")})` : undefined;
}

/** Limits of a loader, a WorkerCode, code mode or a server key: all four. */
export const limitsSchema = z.strictObject(
  { cpuMs: fields.cpuMs.optional(), memoryMb: fields.memoryMb.optional(), wallMs: fields.wallMs.optional(), subRequests: fields.subRequests.optional() },
  { error: objectError(LIMIT_KEYS) },
);
/** Limits of one call (getEntrypoint, the server's /v1/rpc options): no memoryMb. */
export const callLimitsSchema = z.strictObject(
  { cpuMs: fields.cpuMs.optional(), wallMs: fields.wallMs.optional(), subRequests: fields.subRequests.optional() },
  { error: objectError(CALL_LIMIT_KEYS) },
);

export type LimitsScope = "isolate" | "call";

const PER_CALL = "cannot be set per call: the heap is fixed when the isolate starts (set it on the loader or in the WorkerCode)";

/**
 * Checks `value` (undefined: no limits) against the schema of `scope`; returns the limits with
 * undefined fields dropped, or every problem found, each with its field under `root`.
 */
export function checkLimits(value: unknown, scope: LimitsScope = "isolate", root = "limits"): { limits: Limits; problems: [] } | { limits?: undefined; problems: Problem[] } {
  if (value === undefined) return { limits: {}, problems: [] };
  const keys = scope === "call" ? CALL_LIMIT_KEYS : LIMIT_KEYS;
  const result = (scope === "call" ? callLimitsSchema : limitsSchema).safeParse(value);
  if (result.success) {
    const limits: Limits = {};
    const data = result.data as Limits;
    for (const key of keys) if (data[key] !== undefined) limits[key] = data[key];
    return { limits, problems: [] };
  }
  const problems = problemsOf(result.error, root).map((problem) =>
    scope === "call" && problem.field === `${root}.memoryMb` && problem.message.startsWith("unknown limit") ? { ...problem, message: PER_CALL } : problem,
  );
  return { problems };
}

/** "limits.cpuMs: must be …; limits.gpus: unknown limit (…)" */
export const formatLimitProblems = formatProblems;
