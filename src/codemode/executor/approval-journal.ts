// Approvals decided between two executions, for callers that cannot ask anyone while the code
// runs (an MCP client without elicitation, an HTTP caller): the execution stops at the call that
// needs approval and is recorded here with every tool call it made before, with their results.
// Resuming runs the same code again: its earlier calls are answered from the record (never sent
// again: one of them may have changed something), the approved call runs for real, and the code
// goes on from there. The record lives in memory or in a SQLite file of the host's own (`dir`),
// so a pending approval outlives a reconnect or a restart; every execution and decision is kept
// as an audit history. Only islet writes the file: it holds copies of tool results (v8
// serialisation, the structured-clone types the boundary lets through) and is never given to a sandbox.

import { createHash, randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { deserialize, serialize } from "node:v8";

/** One tool call as it happened: its result, or the error it threw (name, message, data). */
export interface JournalCall {
  namespace: string;
  tool: string;
  args: unknown;
  result?: unknown;
  error?: { name: string; message: string; data?: Record<string, unknown> };
}

export interface PendingCall {
  namespace: string;
  tool: string;
  args: unknown;
}

export interface JournalRecord {
  id: string;
  /** The code's hash: a resume must send the same code. */
  codeHash: string;
  /** The session the execution used, if any: a resume must use it too. */
  session?: string;
  /** Who may resume it (an API key's scope), if anyone in particular. */
  owner?: string;
  calls: JournalCall[];
  pending: PendingCall;
  createdAt: number;
}

export interface ApprovalHistoryEntry {
  at: number;
  /** "paused" (an execution stopped for approval), "approved", "rejected" or "expired". */
  event: "paused" | "approved" | "rejected" | "expired";
  id: string;
  namespace: string;
  tool: string;
  args: unknown;
}

export interface ApprovalJournalOptions {
  /** Where the records and history are kept (approvals.sqlite); default memory. */
  dir?: string;
  /** A pending approval not resumed within this time is dropped. Default 24 hours. */
  ttlMs?: number;
  /** The most serialised bytes one record may hold (its calls' results); default 8 MiB. */
  maxRecordBytes?: number;
  /** Pending approvals one owner may keep at once (executions without an owner share one count); default 100. */
  maxPendingPerOwner?: number;
  /** Pending approvals the journal keeps at once, all owners together; default 1,000. */
  maxPending?: number;
  /** Serialised bytes of all pending records together; default 256 MiB. */
  maxPendingBytes?: number;
}

export const DEFAULT_JOURNAL_TTL_MS = 24 * 60 * 60_000;
const DEFAULT_MAX_RECORD_BYTES = 8 * 1024 * 1024;
const DEFAULT_MAX_PENDING_PER_OWNER = 100;
const DEFAULT_MAX_PENDING = 1_000;
const DEFAULT_MAX_PENDING_BYTES = 256 * 1024 * 1024;
/** History rows kept; older ones are dropped. */
const MAX_HISTORY = 10_000;
/** Arguments a history row keeps whole (serialised); larger ones are summarised. */
export const MAX_HISTORY_ARGS_BYTES = 16 * 1024;

/** What the history keeps of arguments too large to keep whole. */
function summarizedArgs(args: unknown, bytes: Uint8Array): { truncated: true; bytes: number; sha256: string; preview: string } {
  let text: string;
  try {
    text = JSON.stringify(args) ?? String(args);
  } catch {
    text = Object.prototype.toString.call(args);
  }
  return { truncated: true, bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex"), preview: text.slice(0, 1024) };
}

/** A pause the journal cannot keep: its record is too large, or too many are pending. */
export class RecordTooLargeError extends Error {}

export function hashCode(code: string): string {
  return createHash("sha256").update(code).digest("hex");
}

/** The same arguments, as the record compares them: their structured-clone bytes. */
export function sameArgs(a: unknown, b: unknown): boolean {
  try {
    return Buffer.compare(serialize(a), serialize(b)) === 0;
  } catch {
    return false;
  }
}

export class ApprovalJournal {
  private readonly db: DatabaseSync;
  private readonly ttlMs: number;
  private readonly maxRecordBytes: number;
  private readonly maxPendingPerOwner: number;
  private readonly maxPending: number;
  private readonly maxPendingBytes: number;

  constructor(options: ApprovalJournalOptions = {}) {
    if (options.dir !== undefined) mkdirSync(options.dir, { recursive: true });
    this.db = new DatabaseSync(options.dir === undefined ? ":memory:" : join(options.dir, "approvals.sqlite"));
    this.db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
    this.db.exec("CREATE TABLE IF NOT EXISTS pending (id TEXT PRIMARY KEY, record BLOB NOT NULL, created INTEGER NOT NULL, owner TEXT NOT NULL DEFAULT '') WITHOUT ROWID");
    // A journal file written before pauses were counted per owner: its rows keep the shared count.
    const columns = this.db.prepare("PRAGMA table_info(pending)").all() as { name: string }[];
    if (!columns.some((column) => column.name === "owner")) this.db.exec("ALTER TABLE pending ADD COLUMN owner TEXT NOT NULL DEFAULT ''");
    this.db.exec("CREATE TABLE IF NOT EXISTS history (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, event TEXT NOT NULL, id TEXT NOT NULL, namespace TEXT NOT NULL, tool TEXT NOT NULL, args BLOB)");
    this.ttlMs = options.ttlMs ?? DEFAULT_JOURNAL_TTL_MS;
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.maxPendingPerOwner = options.maxPendingPerOwner ?? DEFAULT_MAX_PENDING_PER_OWNER;
    this.maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
    this.maxPendingBytes = options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
  }

  /**
   * Keeps a stopped execution; returns its approval id. Throws RecordTooLargeError past
   * maxRecordBytes, or when the owner, or the journal, already keeps as many pauses (or bytes) as
   * it may: a new pause is refused rather than an older one dropped, since each older one is a
   * decision someone may still make.
   */
  pause(record: Omit<JournalRecord, "id" | "createdAt">): string {
    this.expire();
    const id = randomBytes(9).toString("base64url");
    const full: JournalRecord = { ...record, id, createdAt: Date.now() };
    const bytes = serialize(full);
    if (bytes.length > this.maxRecordBytes) throw new RecordTooLargeError(`the calls before it returned ${bytes.length} bytes, more than the ${this.maxRecordBytes} a pending approval may keep`);
    const owner = record.owner ?? "";
    const mine = this.db.prepare("SELECT count(*) AS n FROM pending WHERE owner = ?").get(owner) as { n: number };
    if (Number(mine.n) >= this.maxPendingPerOwner) throw new RecordTooLargeError(`${Number(mine.n)} approvals${record.owner === undefined ? "" : " of this owner"} are already pending, the most the journal keeps; decide some first`);
    const all = this.db.prepare("SELECT count(*) AS n, coalesce(sum(length(record)), 0) AS bytes FROM pending").get() as { n: number; bytes: number };
    if (Number(all.n) >= this.maxPending) throw new RecordTooLargeError(`${Number(all.n)} approvals are already pending, the most the journal keeps; decide some first`);
    if (Number(all.bytes) + bytes.length > this.maxPendingBytes) throw new RecordTooLargeError(`the pending approvals already hold ${Number(all.bytes)} bytes, and this one's ${bytes.length} would pass the ${this.maxPendingBytes} the journal keeps`);
    this.db.prepare("INSERT INTO pending (id, record, created, owner) VALUES (?, ?, ?, ?)").run(id, bytes, full.createdAt, owner);
    this.log("paused", id, record.pending);
    return id;
  }

  /** A pending approval's record, left in place; undefined when unknown or expired. */
  peek(id: string): JournalRecord | undefined {
    this.expire();
    const row = this.db.prepare("SELECT record FROM pending WHERE id = ?").get(id) as { record: Uint8Array } | undefined;
    return row === undefined ? undefined : (deserialize(row.record) as JournalRecord);
  }

  /** Takes a pending approval out (it resumes once) and records the decision; undefined when unknown or expired. */
  decide(id: string, approved: boolean): JournalRecord | undefined {
    this.expire();
    const row = this.db.prepare("SELECT record FROM pending WHERE id = ?").get(id) as { record: Uint8Array } | undefined;
    if (row === undefined) return undefined;
    this.db.prepare("DELETE FROM pending WHERE id = ?").run(id);
    const record = deserialize(row.record) as JournalRecord;
    this.log(approved ? "approved" : "rejected", id, record.pending);
    return record;
  }

  /** Approvals still waiting, oldest first. */
  pendingApprovals(): { id: string; pending: PendingCall; createdAt: number }[] {
    this.expire();
    return (this.db.prepare("SELECT record FROM pending ORDER BY created").all() as { record: Uint8Array }[]).map((row) => {
      const record = deserialize(row.record) as JournalRecord;
      return { id: record.id, pending: record.pending, createdAt: record.createdAt };
    });
  }

  /** The audit history, oldest first: executions paused for approval and every decision. */
  history(): ApprovalHistoryEntry[] {
    return (this.db.prepare("SELECT at, event, id, namespace, tool, args FROM history ORDER BY seq").all() as { at: number; event: ApprovalHistoryEntry["event"]; id: string; namespace: string; tool: string; args: Uint8Array | null }[]).map((row) => ({
      at: Number(row.at),
      event: row.event,
      id: row.id,
      namespace: row.namespace,
      tool: row.tool,
      args: row.args === null ? undefined : deserialize(row.args),
    }));
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  private log(event: ApprovalHistoryEntry["event"], id: string, call: PendingCall): void {
    let args: Uint8Array | null;
    try {
      args = serialize(call.args);
      // The history outlives every pause and keeps 10,000 entries: arguments the code chose to
      // make large are kept as their size, hash and a prefix (findings15/02).
      if (args.length > MAX_HISTORY_ARGS_BYTES) args = serialize(summarizedArgs(call.args, args));
    } catch {
      args = null;
    }
    this.db.prepare("INSERT INTO history (at, event, id, namespace, tool, args) VALUES (?, ?, ?, ?, ?, ?)").run(Date.now(), event, id, call.namespace, call.tool, args);
    this.db.prepare("DELETE FROM history WHERE seq <= (SELECT max(seq) FROM history) - ?").run(MAX_HISTORY);
  }

  private expire(): void {
    const before = Date.now() - this.ttlMs;
    const old = this.db.prepare("SELECT record FROM pending WHERE created < ?").all(before) as { record: Uint8Array }[];
    for (const row of old) {
      const record = deserialize(row.record) as JournalRecord;
      this.log("expired", record.id, record.pending);
    }
    if (old.length > 0) this.db.prepare("DELETE FROM pending WHERE created < ?").run(before);
  }
}
