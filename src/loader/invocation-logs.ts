// What an invocation's console output costs the host: a count and a byte budget per invocation,
// and one per worker across its invocations in flight. The runtime already cut what it sent (and
// says so), but the host measures what arrived again, so no runtime makes it keep more.

import { fitLog, logLimitNote, LOG_BYTES_PER_INVOCATION } from "../protocol/log-size.ts";
import { received } from "../protocol/clonable.ts";

export const MAX_LOGS_PER_INVOCATION = 1_000;
/**
 * Past the count, the first HEAD_LOGS entries are kept and the last TAIL_LOGS: the end of a long
 * run (its last progress line, the error it logged before failing) matters as much as its start.
 */
export const HEAD_LOGS = 800;
/** The runtime sends its own note of what it dropped before the last 200: one more entry. */
export const TAIL_LOGS = MAX_LOGS_PER_INVOCATION - HEAD_LOGS + 1;
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
  /** Past HEAD_LOGS: the latest TAIL_LOGS entries, with their sizes (droppedLogs counts those pushed out). */
  tail?: { entry: LogEntry; size: number }[];
  /** Takes each line as it is kept (and the notes of what was cut): the invocation's streaming tails. */
  live?: (entry: LogEntry, size: number) => void;
}

/** The log a tail event carries: the head, a note of what was dropped between, the tail. */
export function deliveredLogs(invocation: InvocationLog): LogEntry[] {
  const tail = invocation.tail;
  if (tail === undefined) return invocation.logs;
  const note: LogEntry[] =
    invocation.droppedLogs > 0
      ? [{ level: "warn", message: [`islet: log limit of ${MAX_LOGS_PER_INVOCATION} entries reached; ${invocation.droppedLogs} entries between the first ${HEAD_LOGS} and the last ${tail.length} dropped`], timestamp: tail[0]?.entry.timestamp ?? Date.now() }]
      : [];
  return [...invocation.logs, ...note, ...tail.map((kept) => kept.entry)];
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
      const ownRoom = MAX_LOG_BYTES_PER_INVOCATION - invocation.logBytes;
      const room = Math.min(ownRoom, MAX_LOG_BYTES_PER_WORKER - this.retained);
      const fitted = room > 0 ? fitLog(message, room, true) : { parts: [], size: 0, cut: true };
      if (fitted.parts.length > 0 || !fitted.cut) {
        const entry = { level, message: fitted.parts, timestamp };
        invocation.live?.(entry, fitted.size);
        if (invocation.logs.length < HEAD_LOGS && invocation.tail === undefined) invocation.logs.push(entry);
        else {
          // The tail keeps the latest TAIL_LOGS; the oldest of it is let go, with its bytes.
          const tail = (invocation.tail ??= []);
          tail.push({ entry, size: fitted.size });
          if (tail.length > TAIL_LOGS) {
            const out = tail.shift()!;
            invocation.droppedLogs++;
            invocation.logBytes -= out.size;
            this.retained -= out.size;
          }
        }
      }
      invocation.logBytes += fitted.size;
      this.retained += fitted.size;
      if (fitted.cut || cut) {
        const limit = room < ownRoom ? `${MAX_LOG_BYTES_PER_WORKER} bytes for the worker's invocations in flight` : undefined;
        const note = { level: "warn", message: [limit === undefined ? logLimitNote(MAX_LOG_BYTES_PER_INVOCATION) : `islet: log byte limit of ${limit} reached; further logs dropped`], timestamp };
        if (invocation.tail === undefined) invocation.logs.push(note);
        else invocation.tail.push({ entry: note, size: 0 });
        invocation.live?.(note, 0);
        invocation.logsCut = true;
      }
    }
  }

  /** An invocation took over a log kept before (the start's top-level logs): it counts against the worker again. */
  retain(bytes: number): void {
    this.retained += bytes;
  }

  /** The invocation ended: what its log kept no longer counts against the worker. */
  release(invocation: InvocationLog): void {
    this.retained -= invocation.logBytes;
  }
}
