// What an invocation's console output costs the host: a count and a byte budget per invocation,
// and one per worker across its invocations in flight. The runtime already cut what it sent (and
// says so), but the host measures what arrived again, so no runtime makes it keep more.

import { fitLog, logLimitNote, LOG_BYTES_PER_INVOCATION } from "../protocol/log-size.ts";
import { received } from "../protocol/clonable.ts";

export const MAX_LOGS_PER_INVOCATION = 1_000;
/** Bytes of logs (strings by length; see log-size.ts) kept per invocation; the rest is cut. */
export const MAX_LOG_BYTES_PER_INVOCATION = LOG_BYTES_PER_INVOCATION;
/** Bytes of logs kept by all the invocations of one worker in flight together. */
export const MAX_LOG_BYTES_PER_WORKER = 4 * LOG_BYTES_PER_INVOCATION;

export interface LogEntry {
  level: string;
  message: unknown[];
  timestamp: number;
}

/** An invocation's log, as its tail event will carry it. */
export interface InvocationLog {
  logs: LogEntry[];
  droppedLogs: number;
  /** Bytes of logs kept (see MAX_LOG_BYTES_PER_INVOCATION). */
  logBytes: number;
  /** The byte budget ran out and the log says so: later logs are dropped. */
  logsCut: boolean;
}

/**
 * A log post's parts as the host keeps them: checked against the boundary's list of types, with
 * their resizable buffers made fixed-length (clonable.ts); a part of another type (only a
 * compromised runtime sends one) is kept as its type's name.
 */
export function receivedLog(parts: unknown): unknown[] {
  const list = Array.isArray(parts) ? parts : [parts];
  try {
    return received(list) as unknown[];
  } catch {
    return list.map((part) => {
      try {
        return received(part);
      } catch {
        return Object.prototype.toString.call(part);
      }
    });
  }
}

/** One worker's log budget. */
export class LogBudget {
  /** Bytes of logs the invocations in flight keep (see MAX_LOG_BYTES_PER_WORKER). */
  private retained = 0;

  /**
   * Keeps a log line for every invocation in flight, within its count and byte budgets. Past a
   * budget the invocation's log ends with a note saying so, and later lines are dropped.
   */
  keep(inflight: Iterable<InvocationLog>, level: string, message: unknown[], cut: boolean): void {
    const timestamp = Date.now();
    for (const invocation of inflight) {
      if (invocation.logsCut) continue;
      if (invocation.logs.length >= MAX_LOGS_PER_INVOCATION) {
        if (invocation.droppedLogs++ === 0) invocation.logs.push({ level: "warn", message: [`islet: log limit of ${MAX_LOGS_PER_INVOCATION} entries reached; further logs dropped`], timestamp });
        continue;
      }
      const ownRoom = MAX_LOG_BYTES_PER_INVOCATION - invocation.logBytes;
      const room = Math.min(ownRoom, MAX_LOG_BYTES_PER_WORKER - this.retained);
      const fitted = room > 0 ? fitLog(message, room, true) : { parts: [], size: 0, cut: true };
      if (fitted.parts.length > 0 || !fitted.cut) invocation.logs.push({ level, message: fitted.parts, timestamp });
      invocation.logBytes += fitted.size;
      this.retained += fitted.size;
      if (fitted.cut || cut) {
        const limit = room < ownRoom ? `${MAX_LOG_BYTES_PER_WORKER} bytes for the worker's invocations in flight` : undefined;
        invocation.logs.push({ level: "warn", message: [limit === undefined ? logLimitNote(MAX_LOG_BYTES_PER_INVOCATION) : `islet: log byte limit of ${limit} reached; further logs dropped`], timestamp });
        invocation.logsCut = true;
      }
    }
  }

  /** The invocation ended: what its log kept no longer counts against the worker. */
  release(invocation: InvocationLog): void {
    this.retained -= invocation.logBytes;
  }
}
