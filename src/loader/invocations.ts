// The invocations in flight on one worker and what each may spend: its limits, its subrequests
// and blocking calls (a facet's storage operations), the fetches its audit log records, its log
// (invocation-logs.ts), the rows its storage calls read and wrote (a facet's) and its live trace
// for the streaming tails. Every capability call and fetch the sandbox makes is charged to every
// invocation in flight, since the host cannot tell which one made it; a log line and a storage
// call's rows go to the call the runtime names (or to all in flight when none in flight has that
// id). With none in flight, nothing the sandbox asks for is served.

import type { Span } from "@opentelemetry/api";
import { SubrequestLimitError } from "../errors.ts";
import type { FetchRecord, TailStreamEventBody, TailStreamOnset } from "./code/types.ts";
import { LogBudget, type InvocationLog } from "./invocation-logs.ts";
import type { ResolvedLimits } from "./limits.ts";
import type { LiveEnvelope, OpenLiveTrace } from "./tail-streams.ts";

export const MAX_FETCH_RECORDS_PER_INVOCATION = 1_000;

export interface Invocation extends InvocationLog {
  id: number;
  limits: ResolvedLimits;
  subRequests: number;
  /** Blocking capability calls (a facet's storage operations), budgeted apart from subrequests. */
  blockingCalls: number;
  /** Rows its storage calls (a facet's) read and wrote, as the storage process counted them. */
  rowsRead: number;
  rowsWritten: number;
  fetches: FetchRecord[];
  fail(error: Error): void;
  /** The invocation's OpenTelemetry span (tracing.ts), a no-op without an SDK. */
  span?: Span;
}

/**
 * A facet's storage operations an invocation may make, per subrequest it may make. Cloudflare does
 * not count storage operations as subrequests (a loop of 2,000 inserts is ordinary), but each
 * costs the host a message and the storage process a statement: 100,000 by default.
 */
const BLOCKING_CALLS_PER_SUBREQUEST = 100;

let nextInvocationId = 1;

/** One worker's invocations in flight. */
export class Invocations implements Iterable<Invocation> {
  private readonly inflight = new Set<Invocation>();
  private readonly logBudget = new LogBudget();

  /** `onIdle`: the last invocation in flight ended. */
  constructor(private readonly onIdle: () => void) {}

  get size(): number {
    return this.inflight.size;
  }

  [Symbol.iterator](): Iterator<Invocation> {
    return this.inflight[Symbol.iterator]();
  }

  track(limits: ResolvedLimits, fail: (error: Error) => void): Invocation {
    const invocation: Invocation = { id: nextInvocationId++, limits, logs: [], droppedLogs: 0, logBytes: 0, logsCut: false, subRequests: 0, blockingCalls: 0, rowsRead: 0, rowsWritten: 0, fetches: [], fail };
    this.inflight.add(invocation);
    return invocation;
  }

  untrack(invocation: Invocation): void {
    if (this.inflight.delete(invocation)) this.logBudget.release(invocation);
    if (this.inflight.size === 0) this.onIdle();
  }

  /** Fails every invocation in flight with `error`. */
  failAll(error: Error): void {
    for (const invocation of this.inflight) invocation.fail(error);
  }

  /**
   * Keeps a log line the sandbox sent (invocation-logs.ts) for the call the sandbox says made it
   * (runtime/bridge.ts), or for every invocation in flight when none in flight has that id.
   */
  log(level: string, message: unknown[], cut: boolean, callId: unknown): void {
    this.logBudget.keep(this.callOrAll(callId), level, message, cut);
  }

  /** The invocation in flight with this id, or every one in flight when none has it. */
  private callOrAll(id: unknown): Iterable<Invocation> {
    for (const invocation of this.inflight) if (invocation.id === id) return [invocation];
    return this.inflight;
  }

  /**
   * Charges the rows a storage call read and wrote to the call the sandbox says made it
   * (runtime/bridge.ts), or to every invocation in flight when none in flight has that id.
   */
  countRows(rowsRead: number, rowsWritten: number, callId: unknown): void {
    if (rowsRead === 0 && rowsWritten === 0) return;
    for (const invocation of this.callOrAll(callId)) {
      invocation.rowsRead += rowsRead;
      invocation.rowsWritten += rowsWritten;
    }
  }

  /** An invocation took over a log kept before (the start's top-level logs): it counts against the worker again. */
  retainLog(bytes: number): void {
    this.logBudget.retain(bytes);
  }

  /** Charges a blocking call to every invocation in flight; one past its budget fails. */
  countBlockingCall(): void {
    if (this.inflight.size === 0) throw new SubrequestLimitError("No invocation is in flight.");
    for (const invocation of this.inflight) {
      const most = invocation.limits.subRequests * BLOCKING_CALLS_PER_SUBREQUEST;
      if (++invocation.blockingCalls > most) {
        const error = new SubrequestLimitError(`The invocation exceeded its limit of ${most} storage operations (${BLOCKING_CALLS_PER_SUBREQUEST} per subrequest it may make).`);
        invocation.fail(error);
        throw error;
      }
    }
  }

  /** Charges a subrequest to every invocation in flight; one past its limit fails (a rejection, not a throw). */
  async countSubrequest(): Promise<void> {
    // Code left running by an invocation that already failed reaches no capability.
    if (this.inflight.size === 0) throw new SubrequestLimitError("No invocation is in flight.");
    for (const invocation of this.inflight) {
      invocation.subRequests++;
      if (invocation.subRequests > invocation.limits.subRequests) {
        const error = new SubrequestLimitError(`The invocation exceeded its limit of ${invocation.limits.subRequests} subrequests.`);
        invocation.fail(error);
        throw error;
      }
    }
  }

  /** The span calls and fetches belong to: the invocation in flight (the latest, if several are). */
  currentSpan(): Span | undefined {
    let latest: Invocation | undefined;
    for (const invocation of this.inflight) latest = invocation;
    return latest?.span;
  }

  /** Records a fetch (or connect) in the audit log of every invocation in flight. */
  recordFetch(entry: FetchRecord): void {
    for (const invocation of this.inflight) if (invocation.fetches.length < MAX_FETCH_RECORDS_PER_INVOCATION) invocation.fetches.push(entry);
  }
}

/**
 * Opens an invocation's live trace (its onset first) and numbers its later events; undefined when
 * no streaming tail listens. The sink never throws into the worker.
 */
export function openLive(open: OpenLiveTrace | undefined, onset: TailStreamOnset, timestamp: number): ((event: TailStreamEventBody, size: number) => void) | undefined {
  if (open === undefined) return undefined;
  let sink: ReturnType<OpenLiveTrace>;
  try {
    sink = open({ sequence: 0, timestamp, event: onset });
  } catch {
    return undefined;
  }
  if (sink === undefined) return undefined;
  let sequence = 1;
  return (event, size) => {
    const envelope: LiveEnvelope = { sequence: sequence++, timestamp: Date.now(), event };
    try {
      sink(envelope, size);
    } catch {
      // Consumers are observers: their failures are theirs.
    }
  };
}
