// `ctx.storage.sql`: Cloudflare's SqlStorage over one node:sqlite connection. exec() runs every
// statement of its query at once (as workerd does, so an INSERT takes effect whether or not its
// cursor is read) and hands back a cursor over the last statement's rows.
//
// What user SQL may touch is decided by SQLite's authorizer at prepare time, not by parsing the
// query: one database ("main"; no ATTACH, no TEMP objects, which would live outside the size
// limit), no tables of islet's own (names starting "_cf_", as on Cloudflare), no transaction
// statements (transactionSync() is the way), and only the PRAGMAs that read the schema.

import { constants, type DatabaseSync, type StatementSync } from "node:sqlite";
import { StorageLimitError } from "../errors.ts";

/** A value SQL gives back: blobs come back as ArrayBuffers, as on Cloudflare. */
export type SqlStorageValue = ArrayBuffer | string | number | null;
type Bound = null | number | bigint | string | Uint8Array;

/** A query longer than this is refused before SQLite parses it (Cloudflare's limit: 100 KB). */
export const MAX_QUERY_BYTES = 100_000;
/** Bound parameters per statement (Cloudflare: 100). */
export const MAX_BINDINGS = 100;

/** PRAGMAs user SQL may run; each only reads the schema or the database's own state. */
const READ_PRAGMAS = new Set([
  "table_list",
  "table_info",
  "table_xinfo",
  "index_list",
  "index_info",
  "index_xinfo",
  "foreign_key_list",
  "foreign_key_check",
  "integrity_check",
  "quick_check",
  "page_count",
  "page_size",
  "freelist_count",
  "data_version",
  "optimize",
]);
/** PRAGMAs that change one connection setting and nothing on disk outside the database. */
const SETTING_PRAGMAS = new Set(["defer_foreign_keys", "foreign_keys", "case_sensitive_like", "recursive_triggers"]);

const RESERVED = /^_cf_/i;

/**
 * The guard of one connection. `internal` is true while islet prepares its own statements (its
 * KV and metadata tables, savepoints); user SQL is prepared with it false.
 */
export class SqlGuard {
  internal = false;

  install(db: DatabaseSync): void {
    db.setAuthorizer((action, a, b, database) => this.authorize(action, a, b, database));
  }

  private authorize(action: number, a: string | null, b: string | null, database: string | null): number {
    if (this.internal) return constants.SQLITE_OK;
    const { SQLITE_OK: OK, SQLITE_DENY: DENY } = constants;
    if (database !== null && database !== "main") return DENY;
    switch (action) {
      case constants.SQLITE_ATTACH:
      case constants.SQLITE_DETACH:
      case constants.SQLITE_TRANSACTION:
      case constants.SQLITE_SAVEPOINT:
      case constants.SQLITE_CREATE_TEMP_INDEX:
      case constants.SQLITE_CREATE_TEMP_TABLE:
      case constants.SQLITE_CREATE_TEMP_TRIGGER:
      case constants.SQLITE_CREATE_TEMP_VIEW:
      case constants.SQLITE_CREATE_VTABLE:
      case constants.SQLITE_DROP_VTABLE:
        return DENY;
      case constants.SQLITE_PRAGMA: {
        const name = (a ?? "").toLowerCase();
        if (b !== null && RESERVED.test(b)) return DENY;
        if (READ_PRAGMAS.has(name)) return name === "page_size" && b !== null ? DENY : OK;
        return SETTING_PRAGMAS.has(name) ? OK : DENY;
      }
      case constants.SQLITE_FUNCTION:
        return (b ?? "").toLowerCase() === "load_extension" ? DENY : OK;
      case constants.SQLITE_READ:
      case constants.SQLITE_UPDATE:
        // a is the table, b a column of it.
        return a !== null && RESERVED.test(a) ? DENY : OK;
      default:
        // a and b name the table, index, trigger or view the action makes, drops or writes.
        return (a !== null && RESERVED.test(a)) || (b !== null && RESERVED.test(b)) ? DENY : OK;
    }
  }
}

/** True when `sql` holds only whitespace, comments and empty statements. */
function isBlank(sql: string): boolean {
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === ";") i++;
    else if (sql.startsWith("--", i)) {
      const end = sql.indexOf("\n", i);
      i = end === -1 ? sql.length : end + 1;
    } else if (sql.startsWith("/*", i)) {
      const end = sql.indexOf("*/", i + 2);
      i = end === -1 ? sql.length : end + 2;
    } else return false;
  }
  return true;
}

/** Counts of rows a statement returned and changed, as Cloudflare's cursor reports them. */
interface Counts {
  rowsRead: number;
  rowsWritten: number;
}

function toBinding(value: unknown, index: number): Bound {
  if (value === null || typeof value === "number" || typeof value === "string" || typeof value === "bigint") return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
  if (typeof value === "boolean") return value ? 1 : 0;
  throw new TypeError(`sql.exec: binding ${index + 1} is a ${value === undefined ? "undefined" : typeof value}; SQL takes null, numbers, bigints, strings and binary data`);
}

function toValue(value: unknown): SqlStorageValue {
  if (value instanceof Uint8Array) return value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength) as ArrayBuffer;
  if (typeof value === "bigint") return Number(value);
  return value as SqlStorageValue;
}

/** SQLite's "database or disk is full" under max_page_count is the storage limit. */
export function storageError(error: unknown, limitBytes: number): unknown {
  if (error instanceof Error && /database or disk is full|SQLITE_FULL/i.test(error.message)) {
    return new StorageLimitError(`storage limit of ${limitBytes / (1024 * 1024)} MiB exceeded: this turn's writes were rolled back`, { cause: error });
  }
  return error;
}

export class SqlStorageCursor<T extends Record<string, SqlStorageValue> = Record<string, SqlStorageValue>> implements IterableIterator<T> {
  readonly columnNames: readonly string[];
  readonly #rows: unknown[][];
  readonly #counts: Counts;
  #next = 0;

  /** @internal */
  constructor(columnNames: string[], rows: unknown[][], counts: Counts) {
    this.columnNames = Object.freeze(columnNames);
    this.#rows = rows;
    this.#counts = counts;
  }

  get rowsRead(): number {
    return this.#counts.rowsRead;
  }

  get rowsWritten(): number {
    return this.#counts.rowsWritten;
  }

  #take(): unknown[] | undefined {
    return this.#next < this.#rows.length ? this.#rows[this.#next++] : undefined;
  }

  #object(row: unknown[]): T {
    const object: Record<string, SqlStorageValue> = {};
    this.columnNames.forEach((name, i) => {
      object[name] = toValue(row[i]);
    });
    return object as T;
  }

  next(): IteratorResult<T> {
    const row = this.#take();
    return row === undefined ? { done: true, value: undefined } : { done: false, value: this.#object(row) };
  }

  [Symbol.iterator](): this {
    return this;
  }

  toArray(): T[] {
    const rows: T[] = [];
    for (let row = this.#take(); row !== undefined; row = this.#take()) rows.push(this.#object(row));
    return rows;
  }

  /** The one row of the result; throws when there are none or more than one. */
  one(): T {
    const rows = this.toArray();
    if (rows.length !== 1) throw new Error(rows.length === 0 ? "Expected exactly one result from SQL query, but got no results." : "Expected exactly one result from SQL query, but got multiple results.");
    return rows[0]!;
  }

  /** The remaining rows as arrays of values, in column order (duplicate column names kept). */
  *raw<R extends SqlStorageValue[] = SqlStorageValue[]>(): IterableIterator<R> {
    for (let row = this.#take(); row !== undefined; row = this.#take()) yield row.map(toValue) as R;
  }
}

export interface SqlConnection {
  readonly db: DatabaseSync;
  readonly guard: SqlGuard;
  /** Called before every user statement: opens the implicit write transaction. */
  beforeUserSql(): void;
  /** Called when a user statement threw: gives back the error to throw. */
  failed(error: unknown): unknown;
}

/** What one answer to untrusted SQL may hold (SqlStorage.execBounded). */
export interface ResultLimits {
  maxRows: number;
  /** Strings weighed as UTF-16 code units × 2, blobs by their bytes, anything else 8. */
  maxBytes: number;
  tooLarge(): Error;
  tooManyRows(): Error;
}

export class SqlStorage {
  readonly #conn: SqlConnection;
  readonly #totalChanges: StatementSync;
  readonly #pageCount: StatementSync;
  readonly #pageSize: number;

  /** @internal */
  constructor(conn: SqlConnection) {
    this.#conn = conn;
    conn.guard.internal = true;
    try {
      this.#totalChanges = conn.db.prepare("SELECT total_changes() AS n");
      this.#pageCount = conn.db.prepare("PRAGMA page_count");
      this.#pageSize = Number((conn.db.prepare("PRAGMA page_size").get() as { page_size: number }).page_size);
    } finally {
      conn.guard.internal = false;
    }
  }

  /** The database's size on disk, in bytes. */
  get databaseSize(): number {
    return Number((this.#pageCount.get() as { page_count: number }).page_count) * this.#pageSize;
  }

  exec<T extends Record<string, SqlStorageValue> = Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]): SqlStorageCursor<T> {
    return this.#exec<T>(query, bindings, undefined);
  }

  /**
   * @internal exec() for SQL from untrusted code: rows are read one at a time and weighed as they
   * come (column names included), so a result past `limits` fails before it is held whole.
   */
  execBounded(query: string, bindings: unknown[], limits: ResultLimits): SqlStorageCursor {
    return this.#exec(query, bindings, limits);
  }

  #exec<T extends Record<string, SqlStorageValue>>(query: string, bindings: unknown[], limits: ResultLimits | undefined): SqlStorageCursor<T> {
    if (typeof query !== "string") throw new TypeError("sql.exec: the query must be a string");
    if (Buffer.byteLength(query) > MAX_QUERY_BYTES) throw new RangeError(`sql.exec: a query is at most ${MAX_QUERY_BYTES} bytes`);
    if (bindings.length > MAX_BINDINGS) throw new RangeError(`sql.exec: at most ${MAX_BINDINGS} bindings`);
    const bound = bindings.map(toBinding);
    const { db } = this.#conn;
    this.#conn.beforeUserSql();
    const changesBefore = this.#changes();
    let rest = query;
    let rows: unknown[][] = [];
    let columns: string[] = [];
    try {
      for (;;) {
        const statement = db.prepare(rest);
        const consumed = statement.sourceSQL;
        rest = rest.startsWith(consumed) ? rest.slice(consumed.length) : "";
        if (!isBlank(rest)) {
          // Bindings go to the last statement only, as on Cloudflare.
          statement.run();
          continue;
        }
        statement.setReturnArrays(true);
        columns = statement.columns().map((column) => column.name);
        if (limits === undefined) {
          rows = statement.all(...bound) as unknown as unknown[][];
          break;
        }
        let weight = 0;
        for (const name of columns) weight += name.length * 2 + 8;
        if (weight > limits.maxBytes) throw limits.tooLarge();
        for (const row of statement.iterate(...bound) as Iterable<unknown[]>) {
          for (const cell of row) weight += typeof cell === "string" ? cell.length * 2 : cell instanceof Uint8Array ? cell.byteLength : 8;
          if (weight > limits.maxBytes) throw limits.tooLarge();
          if (rows.length === limits.maxRows) throw limits.tooManyRows();
          rows.push(row);
        }
        break;
      }
    } catch (error) {
      throw this.#conn.failed(error);
    }
    const rowsWritten = this.#changes() - changesBefore;
    return new SqlStorageCursor<T>(columns, rows, { rowsRead: rows.length, rowsWritten });
  }

  /** @internal SQLite's total_changes() on this connection: the rows INSERT, UPDATE and DELETE changed so far. */
  get totalChanges(): number {
    return this.#changes();
  }

  #changes(): number {
    return Number((this.#totalChanges.get() as { n: number }).n);
  }
}
