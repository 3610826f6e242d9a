// The storage process (see storage-process.ts): one database per name, a file named by the name's
// hash under the directory it was given. Values are JSON text made in the sandbox; answers go back
// as JSON text, so the host only ever moves strings. Each call is answered once what it wrote is
// committed. It ends when its parent lets go of the channel.

import { copyFileSync, existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { hashName } from "./object-id.ts";
import { childFacetKey, FACET_DEPTH_MESSAGE, facetDepth, facetPath, MAX_FACET_DEPTH, MAX_NESTED_FACETS, parentFacetKey, rootFacetKey, rootOfFacet, FACET_TREE_FILE, FACET_TREE_SCHEMA } from "./facet-keys.ts";
import { DurableObjectStorage, MAX_KEYS_PER_CALL, type ListOptions } from "./storage.ts";
import type { ResultLimits } from "./sql.ts";

interface ChildOptions {
  dir: string;
  storageMb: number;
  /** Characters one answer (and one value) may hold. */
  maxAnswerChars: number;
  /** Databases kept open at once; the least recently used one is closed past it. */
  maxOpen: number;
  /** Databases the directory may hold. */
  maxDatabases: number;
  /** How long a facet's transaction may stay open with no call on its database (SPAN_IDLE_MS unless a test says). */
  spanIdleMs?: number;
  /** Nested facets under one host object's facet (MAX_NESTED_FACETS unless the namespace says). */
  maxNestedFacets?: number;
}

const options = JSON.parse(process.argv[2] ?? "{}") as ChildOptions;
const open = new Map<string, DurableObjectStorage>();
/**
 * Alarm times (or null) committed since the last answer, by database: the next answer carries
 * them to the parent, which keeps the index of facets' alarms (namespace.ts). Only committed
 * values are reported, so the index never holds a time a rolled-back transaction set.
 */
const alarmChanges = new Map<string, number | null>();
/** A database's file: its name's hash (the facet tree's index, FACET_TREE, is not one). */
const DATABASE_FILE = /^[0-9a-f]{32}\.sqlite$/;
let databases = readdirSync(options.dir).filter((name) => DATABASE_FILE.test(name)).length;

/** Rows one sql() call hands back at most. */
const MAX_ROWS = 10_000;
/** Schema objects (tables, indexes, views, triggers) and schema text one database may hold: a huge schema made reopening it take seconds. */
const MAX_SCHEMA_OBJECTS = 256;
const MAX_SCHEMA_CHARS = 1024 * 1024;
/** An error message is cut to this many characters: SQLite can echo a whole argument (200 MB) into one. */
const MAX_MESSAGE_CHARS = 1_000;

// No PRAGMA hard_heap_limit here: node:sqlite is built without memory status, so SQLite would
// keep the number and never enforce it (findings8/04). The parent bounds this process's memory
// by reading its RSS while a call runs (storage-process.ts); each database caps its values
// (storage.ts, hardened).

function storageFor(name: string): DurableObjectStorage {
  let storage = open.get(name);
  if (storage !== undefined) {
    // Most recently used last.
    open.delete(name);
    open.set(name, storage);
    return storage;
  }
  const path = pathOf(name);
  if (!existsSync(path)) {
    if (databases >= options.maxDatabases) throw new RangeError(`at most ${options.maxDatabases} sessions are kept; delete some or give them a directory of their own`);
    databases++;
  }
  storage = new DurableObjectStorage({ path, storageMb: options.storageMb, hardened: true, onAlarmChange: (time) => alarmChanges.set(name, time) });
  open.set(name, storage);
  if (open.size > options.maxOpen) {
    // The least recently used database without an open transaction: closing one inside a facet's
    // transaction would end it half-way (findings9/02b). Past maxOpen only while all are inside one.
    for (const [oldest, least] of open) {
      if (least === storage || least.openSpans > 0) continue;
      open.delete(oldest);
      least.close();
      break;
    }
  }
  return storage;
}

class TransactionLostError extends Error {
  override name = "TransactionLostError";
}

function tooLong(): RangeError {
  return new RangeError(`one storage answer is at most ${options.maxAnswerChars} characters (or bytes); read less at a time (a list() limit, a SQL LIMIT, smaller values)`);
}

function answer(text: string): string {
  if (text.length > options.maxAnswerChars) throw tooLong();
  return text;
}

function textOf(value: unknown): string {
  // Values are stored as the JSON text the sandbox made.
  if (typeof value !== "string") throw new TypeError("a stored value is not JSON text");
  return value;
}

function cell(_key: string, value: unknown): unknown {
  return value instanceof ArrayBuffer ? { $bytes: Buffer.from(value).toString("base64") } : value;
}

function run(storage: DurableObjectStorage, op: string, args: unknown[]): unknown {
  switch (op) {
    case "getText": {
      const value = storage.kv.get(args[0] as string);
      return value === undefined ? undefined : answer(textOf(value));
    }
    case "putText":
      return storage.kv.put(args[0] as string, textOf(args[1]));
    case "delete":
      return storage.kv.delete(args[0] as string);
    case "listText": {
      const most = args[1] as number;
      const listed = { ...(args[0] as ListOptions) };
      // Without a limit, one more than the most: a list that would be cut is refused, never cut.
      const cut = listed.limit === undefined;
      listed.limit ??= most + 1;
      const parts: string[] = [];
      let length = 2;
      // Read one at a time and weighed as they come (a stored text is about as long as its bytes).
      const entries = storage.kvListBytes(listed, {
        maxBytes: options.maxAnswerChars * 3,
        maxEntries: most + 1,
        tooLarge: tooLong,
        tooMany: () => new RangeError(`list: at most ${most} entries a call; pass a limit and page with startAfter`),
      });
      for (const [key, bytes] of entries) {
        if (cut && parts.length === most) throw new RangeError(`list: at most ${most} entries a call; pass a limit and page with startAfter`);
        const part = `[${JSON.stringify(key)},${textOf(storage.decodeValue(bytes))}]`;
        length += part.length + 1;
        if (length > options.maxAnswerChars) throw tooLong();
        parts.push(part);
      }
      return `[${parts.join(",")}]`;
    }
    case "sqlText":
      // One unit: a statement that left the schema too large is undone with everything it wrote.
      return storage.transactionSync(() => {
        const rows = storage.sql.execBounded(args[0] as string, args[1] as unknown[], sessionResultLimits).toArray();
        const schema = storage.sql.exec<{ n: number; chars: number }>("SELECT count(*) AS n, total(length(sql)) AS chars FROM sqlite_master").one();
        if (schema.n > MAX_SCHEMA_OBJECTS || schema.chars > MAX_SCHEMA_CHARS) {
          throw new RangeError(`sql: a session's schema holds at most ${MAX_SCHEMA_OBJECTS} tables, indexes, views and triggers and ${MAX_SCHEMA_CHARS} characters of SQL`);
        }
        return answer(JSON.stringify(rows, cell));
      });
    default:
      return runFacet(storage, op, args);
  }
}

/** Rows and column names of one session query, weighed as they are read (SqlStorage.execBounded). */
const sessionResultLimits: ResultLimits = {
  maxRows: MAX_ROWS,
  maxBytes: options.maxAnswerChars * 2,
  tooLarge: () => tooLong(),
  tooManyRows: () => new RangeError(`sql: at most ${MAX_ROWS} rows a query; add a LIMIT`),
};

/** Rows and column names of one facet query, weighed as they are read (SqlStorage.execBounded). */
const facetResultLimits: ResultLimits = {
  maxRows: 100_000,
  maxBytes: options.maxAnswerChars,
  tooLarge: () => tooLong(),
  tooManyRows: () => new RangeError("sql: at most 100000 rows a query; add a LIMIT"),
};

/**
 * A statement of a facet's, with the schema caps of sqlText: undone with what it wrote when past
 * them. Only a query that says CREATE or ALTER can add to the schema (SQLite runs no SQL it did not
 * get as text), so only such a query pays for the check.
 */
function checkedSql<T>(storage: DurableObjectStorage, query: string, fn: () => T): T {
  if (!/create|alter/i.test(query)) return fn();
  return storage.transactionSync(() => {
    const result = fn();
    const schema = storage.sql.exec<{ n: number; chars: number }>("SELECT count(*) AS n, total(length(sql)) AS chars FROM sqlite_master").one();
    if (schema.n > MAX_SCHEMA_OBJECTS || schema.chars > MAX_SCHEMA_CHARS) {
      throw new RangeError(`sql: a facet's schema holds at most ${MAX_SCHEMA_OBJECTS} tables, indexes, views and triggers and ${MAX_SCHEMA_CHARS} characters of SQL`);
    }
    return result;
  });
}

/**
 * The operations a facet's ctx.storage makes (src/storage/facets.ts). Values are structured-clone
 * data the host decoded from the sandbox's copy and V8 serialized for this channel; they are
 * stored as V8's serialization of them (as a host Durable Object's are).
 */
function runFacet(storage: DurableObjectStorage, op: string, args: unknown[]): unknown {
  switch (op) {
    case "exec": {
      const [query, bindings] = args as [string, unknown[]];
      return checkedSql(storage, query, () => {
        const cursor = storage.sql.execBounded(query, bindings, facetResultLimits);
        rowsRead = cursor.rowsRead;
        return { columns: [...cursor.columnNames], rows: [...cursor.raw()], rowsRead: cursor.rowsRead, rowsWritten: cursor.rowsWritten };
      });
    }
    case "size":
      return storage.sql.databaseSize;
    case "kvGet": {
      const value = storage.kvGet(args[0] as string);
      rowsRead = value === undefined ? 0 : 1;
      return value;
    }
    case "kvGetMany": {
      // As many keys as Cloudflare allows, their stored values weighed before any is decoded.
      const keys = args[0] as string[];
      if (!Array.isArray(keys) || keys.length > MAX_KEYS_PER_CALL) throw new RangeError(`storage.get: at most ${MAX_KEYS_PER_CALL} keys per call`);
      let weight = 0;
      const found: [string, Uint8Array][] = [];
      for (const key of new Set(keys)) {
        const bytes = storage.kvGetBytes(key);
        if (bytes === undefined) continue;
        if ((weight += key.length * 2 + bytes.byteLength) > options.maxAnswerChars) throw tooLong();
        found.push([key, bytes]);
      }
      rowsRead = found.length;
      return found.map(([key]) => [key, storage.kvGet(key)]);
    }
    case "kvPut":
      return storage.kvPut(args[0] as string, args[1]);
    case "kvPutMany":
      return void storage.put(Object.fromEntries(args[0] as [string, unknown][]));
    case "kvDelete":
      return storage.kvDelete(args[0] as string);
    case "kvDeleteMany": {
      if (!Array.isArray(args[0]) || (args[0] as string[]).length > MAX_KEYS_PER_CALL) throw new RangeError(`storage.delete: at most ${MAX_KEYS_PER_CALL} keys per call`);
      let deleted = 0;
      storage.transactionSync(() => {
        for (const key of args[0] as string[]) if (storage.kvDelete(key)) deleted++;
      });
      return deleted;
    }
    case "kvList": {
      const entries = storage.kvListBytes(args[0] as ListOptions, {
        maxBytes: options.maxAnswerChars,
        maxEntries: MAX_FACET_ROWS,
        tooLarge: tooLong,
        tooMany: () => new RangeError(`list: at most ${MAX_FACET_ROWS} entries a call; pass a limit and page with startAfter`),
      });
      rowsRead = entries.length;
      return entries.map(([key, bytes]) => [key, storage.decodeValue(bytes)]);
    }
    case "deleteAll":
      return void storage.deleteAll();
    case "span":
      if (args[0] === "open") {
        // Each database inside a transaction stays open past maxOpen: at most maxOpen of them at
        // once (findings10/03: facets killed inside transactions pinned 964 databases, 2,615 file
        // descriptors, in 15 s).
        if (storage.openSpans === 0 && [...open.values()].filter((other) => other.openSpans > 0).length >= options.maxOpen) {
          throw new RangeError(`too many transactions are open at once in the storage process (at most ${options.maxOpen} databases); try again`);
        }
        return storage.openSpan();
      }
      return storage.closeSpan(args[0] === "commit");
    case "abortSpans":
      return storage.abortSpans();
    case "getAlarm":
      return storage.getAlarmSync();
    case "setAlarm": {
      const time = args[0];
      if (typeof time !== "number" || !Number.isFinite(time)) throw new TypeError("setAlarm: give a Date or milliseconds since the epoch");
      return storage.setAlarmSync(time);
    }
    case "deleteAlarm":
      return storage.deleteAlarmSync();
    case "alarmDone":
      // The alarm that fired is cleared, unless its handler set another meanwhile.
      if (storage.getAlarmSync() === args[0]) storage.deleteAlarmSync();
      return undefined;
    default:
      throw new TypeError(`unknown storage operation "${op}"`);
  }
}

/**
 * The rows the facet operation running now handed back (the cursor's rowsRead, the entries a KV
 * read found); the rows it wrote are SQLite's own count (total_changes), taken around the call.
 */
let rowsRead = 0;

/** Rows one facet list() hands back at most without a limit (its answer is weighed too). */
const MAX_FACET_ROWS = 100_000;

// ---- nested facets ----
//
// A facet's own facets (facets.ts) are databases too, named by their path (facet-keys.ts). Which
// facets each facet has is kept here, in an index beside the databases, committed on its own (not
// in the parent's transaction: a rolled-back turn must not forget a child whose database exists),
// so that deleting a facet deletes its facets' databases with it, and a clone copies them, as
// workerd does. A clone's target is a row too (its parent's child, as a get() makes it), so it
// counts against maxNested and goes with its parent. The index is made when the first nested facet is.

/** The index of nested facets: one row per (parent database, name). */
const FACET_TREE = FACET_TREE_FILE;
const maxNested = typeof options.maxNestedFacets === "number" && options.maxNestedFacets >= 0 ? options.maxNestedFacets : MAX_NESTED_FACETS;

interface FacetTree {
  add: StatementSync;
  has: StatementSync;
  children: StatementSync;
  countUnder: StatementSync;
  removeChildren: StatementSync;
  remove: StatementSync;
}
let tree: FacetTree | undefined;

/** The index, opened (and made, with `create`) on first use; undefined when there is none yet. */
function facetTree(create: boolean): FacetTree | undefined {
  if (tree !== undefined) return tree;
  const path = join(options.dir, FACET_TREE);
  if (!create && !existsSync(path)) return undefined;
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
  db.exec(FACET_TREE_SCHEMA);
  tree = {
    add: db.prepare("INSERT OR IGNORE INTO children (parent, name, root) VALUES (?, ?, ?)"),
    has: db.prepare("SELECT 1 AS found FROM children WHERE parent = ? AND name = ?"),
    children: db.prepare("SELECT name FROM children WHERE parent = ? ORDER BY name"),
    countUnder: db.prepare("SELECT count(*) AS n FROM children WHERE root = ?"),
    removeChildren: db.prepare("DELETE FROM children WHERE parent = ?"),
    remove: db.prepare("DELETE FROM children WHERE parent = ? AND name = ?"),
  };
  return tree;
}

function childrenOf(parent: string): string[] {
  const index = facetTree(false);
  return index === undefined ? [] : (index.children.all(parent) as { name: string }[]).map((row) => row.name);
}

/** Nested facets under `key` (its children, theirs, …). */
function subtreeSize(key: string): number {
  let size = 0;
  for (const child of childrenOf(key)) size += 1 + subtreeSize(childFacetKey(key, child));
  return size;
}

/** A host object's id: the parent, in the index, of the object's own facets. */
const OBJECT_KEY = /^[0-9a-f]{64}$/;

/**
 * Facet `name` of `parent` is about to start: it is indexed. `parent` is a host object's id (its
 * facets are indexed so that its deleteAll() finds them, and a backup of the object too) or the
 * database of a facet, whose facets are held to the depth and count limits.
 */
function addChild(parent: string, name: string): void {
  if (OBJECT_KEY.test(parent)) {
    const index = facetTree(true)!;
    // Under the object's own root: a host object's facets count against no facet's maxNested.
    if (index.has.get(parent, name) === undefined) index.add.run(parent, name, parent);
    return;
  }
  const key = childFacetKey(parent, name);
  const depth = facetDepth(key);
  if (depth === undefined || depth > MAX_FACET_DEPTH) throw new Error(FACET_DEPTH_MESSAGE);
  const index = facetTree(true)!;
  if (index.has.get(parent, name) !== undefined) return;
  const root = rootOfFacet(key)!;
  if (Number((index.countUnder.get(root) as { n: number }).n) >= maxNested) {
    throw new RangeError(`at most ${maxNested} nested facets under one facet of a host object (at every depth together); delete some first`);
  }
  index.add.run(parent, name, root);
}

/** Where a facet's row is in the index: under its parent facet, or under its host object. */
function indexParent(key: string): string | undefined {
  return parentFacetKey(key) ?? facetPath(key)?.object;
}

/** The database of facet `name` under `parent` (a host object's id, or a facet's database). */
function childKey(parent: string, name: string): string {
  return OBJECT_KEY.test(parent) ? rootFacetKey(parent, name) : childFacetKey(parent, name);
}

/**
 * Every facet's database under `parent`, at every depth (a host object's deleteAll(), or a facet's):
 * the indexed ones, and `names` (host facets this process's host knows of, which an index made
 * before islet indexed host objects' facets may lack).
 */
function dropChildren(parent: string, names: string[] = []): number {
  let dropped = 0;
  for (const name of new Set([...childrenOf(parent), ...names])) if (drop(childKey(parent, name))) dropped++;
  return dropped;
}

/** Database files of `key` and its nested facets, at every depth, that exist now. */
function filesUnder(key: string): number {
  let files = open.has(key) || existsSync(pathOf(key)) ? 1 : 0;
  for (const child of childrenOf(key)) files += filesUnder(childFacetKey(key, child));
  return files;
}

function pathOf(name: string): string {
  return join(options.dir, `${hashName(name)}.sqlite`);
}

/**
 * A fork: `target` (a sibling of `source`) becomes a copy of `source`'s database (committed,
 * checkpointed, then the file copied), and its nested facets copies of `source`'s, at every depth.
 * A target that has storage is replaced, as workerd does: its database and its facets' go first,
 * as delete() would drop them (the host has ended it if it was running). A nested target is indexed
 * under its parent like any facet a get() starts, and counted against maxNested with its copied
 * facets (findings21/02: a leaf's clones were not, and delete() of their parent left them on disk);
 * so is a nested source that was never indexed (its database is made here). The limits are checked
 * with what the replaced target frees counted, before anything is dropped or made: nothing changes
 * when one refuses the copy.
 */
function cloneFacet(source: string, target: string): void {
  if (source === target) throw new TypeError("clone: the source and the target are the same facet");
  const from = facetPath(source);
  const to = facetPath(target);
  const parent = parentFacetKey(target);
  if (from === undefined || to === undefined || from.object !== to.object || parentFacetKey(source) !== parent) throw new TypeError("clone: the source and the target are facets of one parent");
  const nested = subtreeSize(source);
  // What the replaced target holds now: its index rows (its facets', and its own under a facet) and its files.
  const index = facetTree(false);
  const targetIndexed = index !== undefined && index.has.get(indexParent(target)!, lastName(target)) !== undefined;
  const freedRows = subtreeSize(target) + (parent !== undefined && targetIndexed ? 1 : 0);
  const freedFiles = filesUnder(target);
  // Index rows the clone adds: the copied facets, and for a nested clone the source and the target.
  let rows = nested;
  if (parent !== undefined) {
    const depth = facetDepth(target);
    if (depth === undefined || depth > MAX_FACET_DEPTH) throw new Error(FACET_DEPTH_MESSAGE);
    if (facetTree(true)!.has.get(parent, lastName(source)) === undefined) rows++;
    rows++;
  }
  if (rows > freedRows) {
    const under = Number((facetTree(true)!.countUnder.get(rootOfFacet(target)!) as { n: number }).n);
    if (under - freedRows + rows > maxNested) throw new RangeError(`clone: the copy would take its host object's facet past ${maxNested} nested facets (at most ${maxNested} under one facet of a host object, at every depth together); delete some first`);
  }
  // The target's database, one per copied facet (at most), and the source's when it has none yet.
  const sourceMade = open.has(source) || existsSync(pathOf(source));
  if (databases - freedFiles + 1 + nested + (sourceMade ? 0 : 1) > options.maxDatabases) throw new RangeError(`at most ${options.maxDatabases} databases are kept`);
  // The source is read before the target is dropped: a source inside a transaction refuses the copy with the target untouched.
  const storage = storageFor(source);
  storage.checkpoint();
  drop(target);
  // Indexed before any file is made: a row without a database goes with its parent.
  const added: string[] = [];
  const tree = facetTree(true)!;
  const under = indexParent(target)!;
  const root = parent === undefined ? under : rootOfFacet(target)!;
  for (const key of [source, target]) {
    if (tree.has.get(under, lastName(key)) !== undefined) continue;
    tree.add.run(under, lastName(key), root);
    added.push(key);
  }
  try {
    copyDatabase(storage, target);
  } catch (error) {
    // Nothing copied: the rows go too, unless a database was made for one.
    for (const key of added) if (!open.has(key) && !existsSync(pathOf(key))) tree.remove.run(under, lastName(key));
    throw error;
  }
  copyChildren(source, target);
}

/** The last name of a facet's path. */
function lastName(key: string): string {
  return facetPath(key)!.names.at(-1)!;
}

/** One database's committed state into `target`, which has none. */
function copyDatabase(storage: DurableObjectStorage, target: string): void {
  if (open.has(target)) {
    open.get(target)!.close();
    open.delete(target);
  }
  const path = pathOf(target);
  if (databases >= options.maxDatabases) throw new RangeError(`at most ${options.maxDatabases} databases are kept`);
  storage.checkpoint();
  copyFileSync(storage.path!, path);
  databases++;
  // The copy's alarm (part of its storage) is the fork's own, to be indexed like any other.
  const alarm = storage.committedAlarm();
  if (alarm !== null) alarmChanges.set(target, alarm);
}

/** `source`'s nested facets, at every depth, copied under `target` (same names). */
function copyChildren(source: string, target: string): void {
  for (const child of childrenOf(source)) {
    const from = childFacetKey(source, child);
    const to = childFacetKey(target, child);
    facetTree(true)!.add.run(target, child, rootOfFacet(to)!);
    // A nested facet that never touched its storage has no database to copy.
    if (open.has(from) || existsSync(pathOf(from))) copyDatabase(storageFor(from), to);
    copyChildren(from, to);
  }
}

/** Removes a database and its files (a deleted facet), and its nested facets', at every depth. */
function drop(name: string): boolean {
  const index = facetTree(false);
  if (index !== undefined) {
    for (const child of childrenOf(name)) drop(childFacetKey(name, child));
    index.removeChildren.run(name);
    // Its own row: under its parent facet, or under its host object.
    const parent = indexParent(name);
    if (parent !== undefined) index.remove.run(parent, lastName(name));
  }
  open.get(name)?.close();
  open.delete(name);
  const path = pathOf(name);
  const existed = existsSync(path);
  for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
  if (existed) databases--;
  alarmChanges.set(name, null);
  return existed;
}

/**
 * A facet's transaction left open with no call on its database for this long is rolled back: its
 * sandbox was killed inside it (findings9/05), and an open transaction holds its turn uncommitted.
 * A later call of that facet's finds it lost.
 */
const SPAN_IDLE_MS = 60_000;
const spanIdleMs = typeof options.spanIdleMs === "number" && options.spanIdleMs > 0 ? options.spanIdleMs : SPAN_IDLE_MS;
const lastCall = new Map<string, number>();
setInterval(() => {
  const now = performance.now();
  for (const [name, storage] of open) {
    if (storage.openSpans > 0 && now - (lastCall.get(name) ?? 0) > spanIdleMs) storage.abortSpans();
  }
  // Databases kept open past maxOpen only for their transactions are closed once those end.
  for (const [name, storage] of open) {
    if (open.size <= options.maxOpen) break;
    if (storage.openSpans > 0) continue;
    open.delete(name);
    storage.close();
  }
}, Math.min(10_000, Math.max(10, spanIdleMs / 4))).unref();

process.on("message", async (message: { id: number; name: string; op: string; args: unknown[]; spans?: number }) => {
  lastCall.set(message.name, performance.now());
  if (lastCall.size > 4 * options.maxOpen) {
    for (const name of lastCall.keys()) if (!open.has(name)) lastCall.delete(name);
  }
  let reply: object;
  // The CPU the operation costs this process's thread, charged to the facet's cpuMs by the worker
  // that runs it, whether it succeeds or fails (a recursive query of seconds was charged nothing:
  // findings25/01; a failing one neither: findings27/02).
  const cpuBefore = process.threadCpuUsage();
  const cpuUs = () => {
    const used = process.threadCpuUsage(cpuBefore);
    return used.user + used.system;
  };
  try {
    if (message.op === "drop") {
      process.send?.(withAlarms({ id: message.id, ok: true, value: drop(message.name) }));
      return;
    }
    if (message.op === "clone") {
      // Before the source's database is opened (and made, when it has none): a nested one is indexed first.
      cloneFacet(message.name, String(message.args[0]));
      process.send?.(withAlarms({ id: message.id, ok: true, value: undefined }));
      return;
    }
    if (message.op === "dropFacets") {
      // A host object's deleteAll(): every facet of it, at every depth.
      if (!OBJECT_KEY.test(message.name)) throw new TypeError("dropFacets: not a host object's id");
      const names = Array.isArray(message.args[0]) ? (message.args[0] as unknown[]).filter((name): name is string => typeof name === "string") : [];
      process.send?.(withAlarms({ id: message.id, ok: true, value: dropChildren(message.name, names) }));
      return;
    }
    if (message.op === "facetChild") {
      addChild(message.name, String(message.args[0]));
      process.send?.(withAlarms({ id: message.id, ok: true, value: undefined }));
      return;
    }
    const storage = storageFor(message.name);
    // A facet's call made inside its transaction finds that transaction open, or fails: a restart
    // of this process (another call past its deadline) ended it, and the call must not commit on
    // its own what was meant to commit with the rest (findings9/02).
    if (message.spans !== undefined && storage.openSpans !== message.spans) {
      throw new TransactionLostError("The transaction was lost before it ended (the storage process restarted after another call ran past its deadline); nothing of it was committed.");
    }
    rowsRead = 0;
    const changesBefore = changesOf(storage);
    const value = run(storage, message.op, message.args);
    const cpu = cpuUs();
    // A facet's deleteAll() deletes its own facets' storage too, at every depth (workerd's does).
    if (message.op === "deleteAll" && facetPath(message.name) !== undefined) dropChildren(message.name);
    const rows: [number, number, number] = [rowsRead, Math.max(0, changesOf(storage) - changesBefore), cpu];
    // Inside a facet's transaction the turn stays open until the transaction ends.
    if (storage.openSpans === 0) await storage.flushed();
    // A facet's new instance starts with abortSpans: its alarm as committed goes along, so an
    // index that missed a change (the host ended between the commit and its answer) is mended.
    if (message.op === "abortSpans" && storage.openSpans === 0) alarmChanges.set(message.name, storage.committedAlarm());
    reply = { id: message.id, ok: true, value, rows };
  } catch (error) {
    // A failure that rolled the turn back breaks the storage: it starts afresh from what was committed.
    open.get(message.name)?.recover();
    const failure = error instanceof Error ? error : new Error(String(error));
    const text = failure.message.length > MAX_MESSAGE_CHARS ? `${failure.message.slice(0, MAX_MESSAGE_CHARS)}… [cut]` : failure.message;
    reply = { id: message.id, ok: false, error: { name: failure.name, message: text }, cpuUs: cpuUs() };
  }
  process.send?.(withAlarms(reply));
});

/** SQLite's count of rows changed on this connection (0 once closed: a clone can close a database it copies). */
function changesOf(storage: DurableObjectStorage): number {
  try {
    return storage.sql.totalChanges;
  } catch {
    return 0;
  }
}

/** An answer with the alarm changes committed since the last one. */
function withAlarms(reply: object): object {
  if (alarmChanges.size === 0) return reply;
  const alarms = [...alarmChanges];
  alarmChanges.clear();
  return { ...reply, alarms };
}

process.on("disconnect", () => {
  for (const storage of open.values()) storage.close();
  process.exit(0);
});

process.send?.({ ready: true });
