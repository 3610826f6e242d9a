// `ctx.storage`: one Durable Object's database (a node:sqlite connection) and every way Cloudflare
// lets an object use it: SQL, the synchronous KV, the asynchronous KV, transactions and alarms.
//
// Write coalescing, as Cloudflare documents it: every operation of one turn of the event loop runs
// in one implicit transaction, committed when the turn ends (setImmediate, after the turn's
// microtasks), so writes with no await on other I/O between them land together or not at all.
// `flushed()` is the output gate: an event's result is handed back only once what it wrote is
// committed. The database runs in WAL mode with synchronous=NORMAL: a committed write survives the
// process being killed at any moment (not a power cut of the machine).

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { deserialize, serialize } from "node:v8";
import { StorageLimitError } from "../errors.ts";
import { SqlGuard, SqlStorage, storageError } from "./sql.ts";

/** Cloudflare's limits for SQLite-backed objects: keys of 2 KiB, values of 2 MiB, 128 keys per call. */
export const MAX_KEY_BYTES = 2048;
export const MAX_VALUE_BYTES = 2 * 1024 * 1024;
export const MAX_KEYS_PER_CALL = 128;
/**
 * The longest string or blob (and row) a hardened database makes, in bytes (SQLITE_LIMIT_LENGTH,
 * 10⁹ in Node's build): one group_concat of a sandbox's had built a 900 MB string (findings8/04).
 * Eight times Cloudflare's 2 MB row limit, and 16 times a Code Mode session's answer.
 */
export const MAX_HARDENED_LENGTH = 16 * 1024 * 1024;

export interface StorageOptions {
  /** The database file; omitted for an in-memory database. */
  path?: string;
  /** The most the database may hold, in MiB. */
  storageMb: number;
  /** Told of every committed alarm change (ms since the epoch, or null when deleted). */
  onAlarmChange?: (time: number | null) => void;
  /**
   * For a database whose SQL comes from untrusted code: temporary tables and sorts in memory (under
   * the storage process's memory budget) rather than files outside the database's directory, no
   * string, blob or row longer than MAX_HARDENED_LENGTH, and the WAL truncated after checkpoints
   * so the files stay near the database's size.
   */
  hardened?: boolean;
  /**
   * Called by deleteAll() once the object's own data is gone: a host object's facets' databases
   * go with it (namespace.ts), as on Cloudflare and workerd, where deleteAll() deletes the facets'
   * storage too. Not undone with the turn.
   */
  afterDeleteAll?: () => Promise<void> | void;
}

export interface ListOptions {
  start?: string;
  startAfter?: string;
  end?: string;
  prefix?: string;
  reverse?: boolean;
  limit?: number;
}

/** Options Cloudflare's asynchronous API takes; islet's writes are always confirmed and uncached. */
export interface GetOptions {
  allowConcurrency?: boolean;
  noCache?: boolean;
}
export interface PutOptions extends GetOptions {
  allowUnconfirmed?: boolean;
}

function checkKey(key: unknown): string {
  if (typeof key !== "string") throw new TypeError(`storage: a key must be a string, got ${typeof key}`);
  // SQLite keeps text as UTF-8, where a lone surrogate becomes U+FFFD: "\uD800" and "\uFFFD" would be one key.
  if (!key.isWellFormed()) throw new TypeError("storage: a key must be well-formed Unicode (no lone surrogates)");
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new RangeError(`storage: a key is at most ${MAX_KEY_BYTES} bytes`);
  return key;
}

function encode(value: unknown): Uint8Array {
  if (value === undefined) throw new TypeError("storage: undefined cannot be stored (delete the key instead)");
  let bytes: Uint8Array;
  try {
    bytes = serialize(value);
  } catch (error) {
    throw new DOMException(`storage: the value could not be cloned: ${(error as Error).message}`, "DataCloneError");
  }
  if (bytes.byteLength > MAX_VALUE_BYTES) throw new RangeError(`storage: a value is at most ${MAX_VALUE_BYTES} bytes serialized`);
  return bytes;
}

function decode(bytes: unknown): unknown {
  return deserialize(bytes as Uint8Array);
}

/** Statements islet prepares once per connection, for its own tables. */
interface Statements {
  get: StatementSync;
  put: StatementSync;
  delete: StatementSync;
  deleteAllKv: StatementSync;
  getMeta: StatementSync;
  putMeta: StatementSync;
  deleteMeta: StatementSync;
}

const ALARM = "alarm";

export class DurableObjectStorage {
  readonly sql: SqlStorage;
  readonly kv: SyncKvStorage;
  readonly #db: DatabaseSync;
  readonly #guard = new SqlGuard();
  readonly #statements: Statements;
  readonly #limitBytes: number;
  readonly #onAlarmChange: ((time: number | null) => void) | undefined;
  readonly #afterDeleteAll: (() => Promise<void> | void) | undefined;
  /** The implicit transaction of this turn is open. */
  #inTurn = false;
  /** Asynchronous transaction() calls open; the turn's commit waits for them. */
  #openTransactions = 0;
  #savepoints = 0;
  #commit: Promise<void> | undefined;
  #alarmChanged = false;
  #closed = false;
  /** A failed commit breaks the object: every later operation and gate rethrows it. */
  #broken: unknown;
  /** Holds the object's input gate while an asynchronous transaction runs. */
  #exclusive: (<T>(fn: () => Promise<T>) => Promise<T>) | undefined;

  /** The database file (undefined in memory). */
  readonly path: string | undefined;

  constructor(options: StorageOptions) {
    this.path = options.path;
    this.#db = new DatabaseSync(options.path ?? ":memory:", { enableForeignKeyConstraints: true });
    this.#limitBytes = options.storageMb * 1024 * 1024;
    this.#onAlarmChange = options.onAlarmChange;
    this.#afterDeleteAll = options.afterDeleteAll;
    const db = this.#db;
    db.enableDefensive(true);
    this.#guard.internal = true;
    try {
      if (options.path !== undefined) {
        db.exec("PRAGMA journal_mode = WAL");
        db.exec("PRAGMA synchronous = NORMAL");
        // What is deleted does not stay readable in the file's free pages (findings24/01: rows a
        // deleteAll() removed were still in the database file, and in every backup of it).
        db.exec("PRAGMA secure_delete = ON");
      }
      if (options.hardened === true) {
        db.exec("PRAGMA temp_store = MEMORY");
        // `limits` is newer than some Node 24 releases; there only the storage process's memory budget holds.
        if (db.limits !== undefined) db.limits.length = MAX_HARDENED_LENGTH;
        db.exec(`PRAGMA journal_size_limit = ${4 * 1024 * 1024}`);
      }
      const pageSize = Number((db.prepare("PRAGMA page_size").get() as { page_size: number }).page_size);
      db.exec(`PRAGMA max_page_count = ${Math.max(8, Math.floor(this.#limitBytes / pageSize))}`);
      db.exec("CREATE TABLE IF NOT EXISTS _cf_KV (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID");
      db.exec("CREATE TABLE IF NOT EXISTS _cf_METADATA (key TEXT PRIMARY KEY, value) WITHOUT ROWID");
      this.#statements = {
        get: db.prepare("SELECT value FROM _cf_KV WHERE key = ?"),
        put: db.prepare("INSERT INTO _cf_KV (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"),
        delete: db.prepare("DELETE FROM _cf_KV WHERE key = ?"),
        deleteAllKv: db.prepare("DELETE FROM _cf_KV"),
        getMeta: db.prepare("SELECT value FROM _cf_METADATA WHERE key = ?"),
        putMeta: db.prepare("INSERT INTO _cf_METADATA (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"),
        deleteMeta: db.prepare("DELETE FROM _cf_METADATA WHERE key = ?"),
      };
    } finally {
      this.#guard.internal = false;
    }
    this.#guard.install(db);
    this.sql = new SqlStorage({
      db,
      guard: this.#guard,
      beforeUserSql: () => this.#begin(),
      failed: (error) => this.#failed(error),
    });
    this.kv = new SyncKvStorage(this);
  }

  // ---- the implicit transaction of each turn ----

  /** Opens this turn's transaction; every operation calls it first. */
  #begin(): void {
    if (this.#closed) throw new Error("storage: this object's storage is closed");
    if (this.#broken !== undefined) throw this.#broken;
    if (this.#inTurn) return;
    this.#internal(() => this.#db.exec("BEGIN"));
    this.#inTurn = true;
    this.#commit = new Promise<void>((resolve, reject) => {
      setImmediate(() => this.#endTurn(resolve, reject));
    });
    // A failed commit is reported by flushed(); this copy only keeps it from being unhandled.
    this.#commit.catch(() => {});
  }

  /** A deleteAll() in this turn: its commit is followed by a checkpoint that empties the WAL. */
  #truncateWalAfterCommit = false;

  /** The turn's end, waiting for the open transactions to end (they span turns). */
  #deferredEnd: (() => void) | undefined;

  #endTurn(resolve: () => void, reject: (error: unknown) => void): void {
    if (this.#openTransactions > 0) {
      // An asynchronous transaction (or a facet's span) spans turns: commit once the last ends.
      this.#deferredEnd = () => this.#endTurn(resolve, reject);
      return;
    }
    if (!this.#inTurn) {
      // The turn's transaction was rolled back by a failure (#failed); nothing to commit.
      if (this.#broken !== undefined) reject(this.#broken);
      else resolve();
      return;
    }
    try {
      if (!this.#closed) this.#internal(() => this.#db.exec("COMMIT"));
      this.#inTurn = false;
      if (this.#truncateWalAfterCommit && !this.#closed) {
        this.#truncateWalAfterCommit = false;
        try {
          this.#internal(() => this.#db.exec("PRAGMA wal_checkpoint(TRUNCATE)"));
        } catch {
          // Only this connection uses the file, so it is not busy; were it, SQLite's automatic
          // checkpoints move the zeroed pages over the old ones later.
        }
      }
      if (this.#alarmChanged) {
        this.#alarmChanged = false;
        this.#onAlarmChange?.(this.#readAlarm());
      }
      resolve();
    } catch (error) {
      this.#broken = storageError(error, this.#limitBytes);
      try {
        this.#internal(() => this.#db.exec("ROLLBACK"));
      } catch {
        // the rollback itself failing leaves the connection to close()
      }
      this.#inTurn = false;
      reject(this.#broken);
    }
  }

  /**
   * Resolves once everything written so far is committed: the output gate. Rejects when the
   * commit failed; the object must then be reset.
   */
  async flushed(): Promise<void> {
    if (this.#broken !== undefined) throw this.#broken;
    while (this.#inTurn && this.#commit !== undefined) await this.#commit;
  }

  #internal<T>(fn: () => T): T {
    const was = this.#guard.internal;
    this.#guard.internal = true;
    try {
      return fn();
    } finally {
      this.#guard.internal = was;
    }
  }

  /** Runs one of islet's own statements in this turn's transaction, mapping a full database. */
  #run<T>(fn: () => T): T {
    this.#begin();
    try {
      return this.#internal(fn);
    } catch (error) {
      throw this.#failed(error);
    }
  }

  /**
   * A statement failed. Most failures undo that statement only; a full database (the storage
   * limit) or an `OR ROLLBACK` conflict makes SQLite roll back the whole transaction, and with it
   * the turn's other writes, which no caller has yet been told are written. Then the object is
   * broken: its pending results reject and it starts afresh, as Cloudflare resets an object
   * whose storage failed.
   */
  #failed(error: unknown): unknown {
    const mapped = storageError(error, this.#limitBytes);
    if (this.#inTurn && !this.#db.isTransaction) {
      this.#inTurn = false;
      this.#broken = mapped;
    }
    return mapped;
  }

  /** @internal Set by the object's host: how transaction() holds the input gate. */
  setExclusive(exclusive: <T>(fn: () => Promise<T>) => Promise<T>): void {
    this.#exclusive = exclusive;
  }

  /** @internal After the object was reset: drops what the failed turn left and works again. */
  recover(): void {
    if (this.#closed) return;
    if (this.#broken === undefined) return;
    if (this.#db.isTransaction) {
      try {
        this.#internal(() => this.#db.exec("ROLLBACK"));
      } catch {
        // already rolled back
      }
    }
    this.#inTurn = false;
    this.#openTransactions = 0;
    this.#savepoints = 0;
    this.#spans.length = 0;
    this.#broken = undefined;
    // A turn's end that waited for the transactions just dropped settles now (as rolled back).
    const end = this.#deferredEnd;
    this.#deferredEnd = undefined;
    if (end !== undefined) setImmediate(end);
  }

  /** @internal The failure that broke this object, if one did. */
  get broken(): unknown {
    return this.#broken;
  }

  // ---- KV, shared by the synchronous and asynchronous APIs ----

  /** @internal */
  kvGet(key: string): unknown {
    const bytes = this.kvGetBytes(key);
    return bytes === undefined ? undefined : decode(bytes);
  }

  /** @internal A value as stored (V8's serialization), for callers that weigh it before decoding. */
  kvGetBytes(key: string): Uint8Array | undefined {
    checkKey(key);
    const row = this.#run(() => this.#statements.get.get(key)) as { value: Uint8Array } | undefined;
    return row?.value;
  }

  /** @internal */
  kvPut(key: string, value: unknown): void {
    checkKey(key);
    this.kvPutBytes(key, encode(value));
  }

  /** @internal A value already serialized with V8's serializer (by a trusted caller). */
  kvPutBytes(key: string, bytes: Uint8Array): void {
    checkKey(key);
    if (!(bytes instanceof Uint8Array)) throw new TypeError("storage: serialized bytes expected");
    if (bytes.byteLength > MAX_VALUE_BYTES) throw new RangeError(`storage: a value is at most ${MAX_VALUE_BYTES} bytes serialized`);
    this.#run(() => this.#statements.put.run(key, bytes));
  }

  /** @internal */
  kvDelete(key: string): boolean {
    checkKey(key);
    return Number(this.#run(() => this.#statements.delete.run(key)).changes) > 0;
  }

  /** @internal */
  kvList(options: ListOptions = {}): Map<string, unknown> {
    const result = new Map<string, unknown>();
    for (const [key, bytes] of this.kvListBytes(options)) result.set(key, decode(bytes));
    return result;
  }

  /**
   * @internal Entries as stored, in key order, for callers that weigh them before decoding. With
   * `budget`, rows are read one at a time and weighed (key as UTF-16 units × 2, value by its bytes)
   * as they come: past `budget.maxBytes` or `budget.maxEntries` it throws before holding more
   * (findings10/02: a list of 250 values of 2 MB was read whole before its 8 MiB cap refused it).
   */
  kvListBytes(options: ListOptions = {}, budget?: { maxBytes: number; maxEntries: number; tooLarge(): Error; tooMany(): Error }): [string, Uint8Array][] {
    const where: string[] = [];
    const params: string[] = [];
    const { start, startAfter, end, prefix, reverse, limit } = options;
    if (start !== undefined) (where.push("key >= ?"), params.push(checkKey(start)));
    if (startAfter !== undefined) (where.push("key > ?"), params.push(checkKey(startAfter)));
    if (end !== undefined) (where.push("key < ?"), params.push(checkKey(end)));
    if (prefix !== undefined && prefix !== "") {
      // Keys from the prefix up to (not including) the prefix with its last code unit incremented.
      where.push("key >= ?", "key < ?");
      params.push(checkKey(prefix), prefixEnd(prefix));
    }
    if (limit !== undefined && (!Number.isInteger(limit) || limit <= 0)) throw new RangeError("storage.list: limit must be a positive integer");
    const sql = `SELECT key, value FROM _cf_KV${where.length > 0 ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY key ${reverse === true ? "DESC" : "ASC"}${limit !== undefined ? ` LIMIT ${limit}` : ""}`;
    if (budget === undefined) {
      const rows = this.#run(() => this.#db.prepare(sql).all(...params)) as { key: string; value: Uint8Array }[];
      return rows.map((row) => [row.key, row.value]);
    }
    return this.#run(() => {
      const out: [string, Uint8Array][] = [];
      let weight = 0;
      for (const row of this.#db.prepare(sql).iterate(...params) as Iterable<{ key: string; value: Uint8Array }>) {
        if (out.length === budget.maxEntries) throw budget.tooMany();
        if ((weight += row.key.length * 2 + row.value.byteLength) > budget.maxBytes) throw budget.tooLarge();
        out.push([row.key, row.value]);
      }
      return out;
    });
  }

  /** @internal A value as kvGetBytes() or kvListBytes() gave it, decoded. */
  decodeValue(bytes: Uint8Array): unknown {
    return decode(bytes);
  }

  // ---- the asynchronous API ----

  get(key: string, options?: GetOptions): Promise<unknown>;
  get(keys: string[], options?: GetOptions): Promise<Map<string, unknown>>;
  async get(keyOrKeys: string | string[], _options?: GetOptions): Promise<unknown> {
    if (!Array.isArray(keyOrKeys)) return this.kvGet(keyOrKeys);
    checkCount(keyOrKeys.length);
    const result = new Map<string, unknown>();
    for (const key of keyOrKeys) {
      const value = this.kvGet(key);
      if (value !== undefined) result.set(key, value);
    }
    return result;
  }

  put(key: string, value: unknown, options?: PutOptions): Promise<void>;
  put(entries: Record<string, unknown>, options?: PutOptions): Promise<void>;
  async put(keyOrEntries: string | Record<string, unknown>, valueOrOptions?: unknown, _options?: PutOptions): Promise<void> {
    if (typeof keyOrEntries === "string") return this.kvPut(keyOrEntries, valueOrOptions);
    if (keyOrEntries === null || typeof keyOrEntries !== "object") throw new TypeError("storage.put: give a key and a value, or an object of entries");
    const entries = Object.entries(keyOrEntries);
    checkCount(entries.length);
    // All or nothing: check every value before writing any.
    const encoded = entries.map(([key, value]) => [checkKey(key), encode(value)] as const);
    this.transactionSync(() => {
      for (const [key, bytes] of encoded) this.#run(() => this.#statements.put.run(key, bytes));
    });
  }

  delete(key: string, options?: PutOptions): Promise<boolean>;
  delete(keys: string[], options?: PutOptions): Promise<number>;
  async delete(keyOrKeys: string | string[], _options?: PutOptions): Promise<boolean | number> {
    if (!Array.isArray(keyOrKeys)) return this.kvDelete(keyOrKeys);
    checkCount(keyOrKeys.length);
    let deleted = 0;
    this.transactionSync(() => {
      for (const key of keyOrKeys) if (this.kvDelete(key)) deleted++;
    });
    return deleted;
  }

  async list(options?: ListOptions & GetOptions): Promise<Map<string, unknown>> {
    return this.kvList(options);
  }

  /** Deletes every table, index, view and trigger and every key; the alarm stays (as on Cloudflare). */
  async deleteAll(_options?: PutOptions): Promise<void> {
    this.#run(() => {
      const objects = this.#db
        .prepare("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND type IN ('table', 'view', 'trigger')")
        .all() as { type: string; name: string }[];
      // Triggers and views first, so no table drop fires or breaks one.
      for (const kind of ["trigger", "view", "table"]) {
        for (const object of objects) {
          if (object.type === kind) this.#db.exec(`DROP ${kind.toUpperCase()} IF EXISTS "${object.name.replaceAll('"', '""')}"`);
        }
      }
      this.#statements.deleteAllKv.run();
    });
    // The WAL still holds the pages as they were before: once the turn commits, they go too.
    if (this.path !== undefined) this.#truncateWalAfterCommit = true;
    await this.#afterDeleteAll?.();
  }

  /** Resolves when every write so far is durable. */
  async sync(): Promise<void> {
    await this.flushed();
  }

  // ---- transactions ----

  /** Runs `fn` as one unit: when it throws, everything it wrote is rolled back and the error rethrown. */
  transactionSync<T>(fn: () => T): T {
    if (typeof fn !== "function") throw new TypeError("transactionSync: pass a function");
    this.#begin();
    const savepoint = `_cf_sp${++this.#savepoints}`;
    this.#internal(() => this.#db.exec(`SAVEPOINT ${savepoint}`));
    try {
      const result = fn();
      if (result !== null && typeof result === "object" && typeof (result as { then?: unknown }).then === "function") {
        throw new TypeError("transactionSync: the callback must not be async (use transaction() for that)");
      }
      this.#internal(() => this.#db.exec(`RELEASE ${savepoint}`));
      return result;
    } catch (error) {
      this.#rollbackTo(savepoint);
      throw error;
    } finally {
      this.#savepoints--;
    }
  }

  /** One open transaction fewer: the turn's end, if it waited for them, comes in a turn of its own. */
  #transactionEnded(): void {
    this.#openTransactions--;
    if (this.#openTransactions > 0 || this.#deferredEnd === undefined) return;
    const end = this.#deferredEnd;
    this.#deferredEnd = undefined;
    setImmediate(end);
  }

  /** Transactions opened by openSpan() and not yet closed, innermost last. */
  readonly #spans: string[] = [];

  /**
   * @internal Opens a transaction that spans calls: a facet's transactionSync() runs in its
   * sandbox, each storage operation one call to the storage process. The turn's commit waits
   * until closeSpan() (as for transaction()).
   */
  openSpan(): void {
    this.#begin();
    const savepoint = `_cf_span${++this.#savepoints}`;
    this.#internal(() => this.#db.exec(`SAVEPOINT ${savepoint}`));
    this.#openTransactions++;
    this.#spans.push(savepoint);
  }

  /** @internal Ends the innermost span: kept (commit) or undone. */
  closeSpan(commit: boolean): void {
    const savepoint = this.#spans.pop();
    if (savepoint === undefined) throw new Error("storage: no transaction is open");
    this.#savepoints--;
    try {
      if (this.#broken !== undefined) return;
      if (commit) this.#internal(() => this.#db.exec(`RELEASE ${savepoint}`));
      else this.#rollbackTo(savepoint);
    } finally {
      this.#transactionEnded();
    }
  }

  /** @internal Spans still open. */
  get openSpans(): number {
    return this.#spans.length;
  }

  /** @internal Undoes every open span (their sandbox went away mid-transaction). */
  abortSpans(): void {
    while (this.#spans.length > 0) {
      try {
        this.closeSpan(false);
      } catch {
        this.#spans.length = 0;
      }
    }
  }

  /** @internal Commits, then moves the WAL into the database file: the file alone is the data. */
  checkpoint(): void {
    if (this.#inTurn && this.#openTransactions === 0 && this.#broken === undefined) {
      this.#internal(() => this.#db.exec("COMMIT"));
      this.#inTurn = false;
    }
    if (this.#db.isTransaction) throw new Error("storage: a transaction is open");
    this.#internal(() => this.#db.exec("PRAGMA wal_checkpoint(TRUNCATE)"));
  }

  #rollbackTo(savepoint: string): void {
    this.#internal(() => {
      this.#db.exec(`ROLLBACK TO ${savepoint}`);
      this.#db.exec(`RELEASE ${savepoint}`);
    });
  }

  /**
   * Runs the asynchronous `fn` as one unit. The object's other events wait until it ends (the
   * caller's input gate does that); `txn.rollback()` or a throw undoes everything it wrote.
   */
  async transaction<T>(fn: (txn: DurableObjectTransaction) => Promise<T> | T): Promise<T> {
    if (typeof fn !== "function") throw new TypeError("transaction: pass a function");
    const body = (): Promise<T> => this.#transaction(fn);
    return this.#exclusive === undefined ? body() : this.#exclusive(body);
  }

  async #transaction<T>(fn: (txn: DurableObjectTransaction) => Promise<T> | T): Promise<T> {
    this.#begin();
    const savepoint = `_cf_tx${++this.#savepoints}`;
    this.#internal(() => this.#db.exec(`SAVEPOINT ${savepoint}`));
    this.#openTransactions++;
    const txn = new DurableObjectTransaction(this);
    try {
      const result = await fn(txn);
      if (txn.rolledBack) this.#rollbackTo(savepoint);
      else this.#internal(() => this.#db.exec(`RELEASE ${savepoint}`));
      return result;
    } catch (error) {
      this.#rollbackTo(savepoint);
      throw error;
    } finally {
      this.#savepoints--;
      this.#transactionEnded();
    }
  }

  // ---- alarms ----

  #readAlarm(): number | null {
    const row = this.#internal(() => this.#statements.getMeta.get(ALARM)) as { value: number } | undefined;
    return row === undefined ? null : Number(row.value);
  }

  async getAlarm(_options?: GetOptions): Promise<number | null> {
    return this.getAlarmSync();
  }

  async setAlarm(scheduledTime: number | Date, _options?: PutOptions): Promise<void> {
    this.setAlarmSync(scheduledTime);
  }

  async deleteAlarm(_options?: PutOptions): Promise<void> {
    this.deleteAlarmSync();
  }

  /** @internal getAlarm(), whose failure throws (the storage process answers a facet's call with it). */
  getAlarmSync(): number | null {
    this.#begin();
    return this.#readAlarm();
  }

  /** @internal setAlarm(), whose failure throws. */
  setAlarmSync(scheduledTime: number | Date): void {
    const time = scheduledTime instanceof Date ? scheduledTime.getTime() : scheduledTime;
    if (typeof time !== "number" || !Number.isFinite(time)) throw new TypeError("setAlarm: give a Date or milliseconds since the epoch");
    this.#run(() => this.#statements.putMeta.run(ALARM, Math.trunc(time)));
    this.#alarmChanged = true;
  }

  /** @internal deleteAlarm(), whose failure throws. */
  deleteAlarmSync(): void {
    this.#run(() => this.#statements.deleteMeta.run(ALARM));
    this.#alarmChanged = true;
  }

  /** @internal The alarm as committed, for the scheduler after a restart. */
  committedAlarm(): number | null {
    return this.#inTurn ? null : this.#readAlarm();
  }

  /** @internal Commits what is pending and closes the connection. */
  close(): void {
    if (this.#closed) return;
    if (this.#inTurn && this.#openTransactions === 0 && this.#broken === undefined) {
      try {
        this.#internal(() => this.#db.exec("COMMIT"));
      } catch {
        // a commit failing at close loses only what no caller was told was written
      }
      this.#inTurn = false;
    }
    this.#closed = true;
    this.#db.close();
  }

  /** @internal A copy of the whole database, for forks of in-memory objects. */
  serialize(): Uint8Array {
    return this.#internal(() => this.#db.serialize());
  }
}

function checkCount(count: number): void {
  if (count > MAX_KEYS_PER_CALL) throw new RangeError(`storage: at most ${MAX_KEYS_PER_CALL} keys per call`);
}

/** The smallest string greater than every string starting with `prefix`. */
function prefixEnd(prefix: string): string {
  let end = prefix;
  while (end.length > 0) {
    const last = end.charCodeAt(end.length - 1);
    if (last < 0xffff) return end.slice(0, -1) + String.fromCharCode(last + 1);
    end = end.slice(0, -1);
  }
  return "\u{10ffff}".repeat(2);
}

/** `ctx.storage.kv`: the synchronous KV, in the same database as SQL. */
export class SyncKvStorage {
  readonly #storage: DurableObjectStorage;

  /** @internal */
  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
  }

  get(key: string): unknown {
    return this.#storage.kvGet(key);
  }

  put(key: string, value: unknown): void {
    this.#storage.kvPut(key, value);
  }

  delete(key: string): boolean {
    return this.#storage.kvDelete(key);
  }

  list(options?: ListOptions): IterableIterator<[string, unknown]> {
    return this.#storage.kvList(options).entries();
  }
}

/** What `transaction(fn)` hands `fn`: the asynchronous KV, plus rollback(). */
export class DurableObjectTransaction {
  readonly #storage: DurableObjectStorage;
  rolledBack = false;

  /** @internal */
  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
  }

  get(key: string, options?: GetOptions): Promise<unknown>;
  get(keys: string[], options?: GetOptions): Promise<Map<string, unknown>>;
  get(keyOrKeys: string | string[], options?: GetOptions): Promise<unknown> {
    return this.#storage.get(keyOrKeys as string, options);
  }

  put(key: string, value: unknown, options?: PutOptions): Promise<void>;
  put(entries: Record<string, unknown>, options?: PutOptions): Promise<void>;
  put(keyOrEntries: string | Record<string, unknown>, value?: unknown, options?: PutOptions): Promise<void> {
    return this.#storage.put(keyOrEntries as string, value, options);
  }

  delete(key: string, options?: PutOptions): Promise<boolean>;
  delete(keys: string[], options?: PutOptions): Promise<number>;
  delete(keyOrKeys: string | string[], options?: PutOptions): Promise<boolean | number> {
    return this.#storage.delete(keyOrKeys as string, options);
  }

  list(options?: ListOptions & GetOptions): Promise<Map<string, unknown>> {
    return this.#storage.list(options);
  }

  getAlarm(options?: GetOptions): Promise<number | null> {
    return this.#storage.getAlarm(options);
  }

  setAlarm(time: number | Date, options?: PutOptions): Promise<void> {
    return this.#storage.setAlarm(time, options);
  }

  deleteAlarm(options?: PutOptions): Promise<void> {
    return this.#storage.deleteAlarm(options);
  }

  /** Undoes everything this transaction wrote, when it ends. */
  rollback(): void {
    this.rolledBack = true;
  }
}

export { StorageLimitError };
