// ctx.storage.sql on a host Durable Object: Cloudflare's SqlStorage and cursor, and what user SQL
// is refused (other databases, islet's own tables, transaction statements, file-reaching PRAGMAs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { DurableObjectNamespace, StorageLimitError, type DurableObjectState } from "islet";
import { DurableObject } from "islet/workers";

class Sql extends DurableObject {
  exec(query: string, ...bindings: unknown[]) {
    return this.ctx.storage.sql.exec(query, ...bindings).toArray();
  }
  raw(query: string) {
    return [...this.ctx.storage.sql.exec(query).raw()];
  }
  cursor(query: string, ...bindings: unknown[]) {
    const cursor = this.ctx.storage.sql.exec(query, ...bindings);
    const rows = cursor.toArray();
    return { columnNames: cursor.columnNames, rowsRead: cursor.rowsRead, rowsWritten: cursor.rowsWritten, rows };
  }
  one(query: string) {
    return this.ctx.storage.sql.exec(query).one();
  }
  kvPut(key: string, value: unknown) {
    this.ctx.storage.kv.put(key, value);
  }
  kvGet(key: string) {
    return this.ctx.storage.kv.get(key);
  }
  size() {
    return this.ctx.storage.sql.databaseSize;
  }
  blob() {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS b (data BLOB)");
    this.ctx.storage.sql.exec("INSERT INTO b VALUES (?)", new Uint8Array([1, 2, 3]));
    const { data } = this.ctx.storage.sql.exec<{ data: ArrayBuffer }>("SELECT data FROM b").one();
    return { isArrayBuffer: data instanceof ArrayBuffer, bytes: [...new Uint8Array(data)] };
  }
  iterate() {
    const seen: unknown[] = [];
    for (const row of this.ctx.storage.sql.exec("SELECT value FROM json_each('[1,2,3]')")) seen.push(row.value);
    return seen;
  }
}

function namespace(options: { storageMb?: number } = {}) {
  return new DurableObjectNamespace(Sql, { name: "sql", ...options });
}

test("exec: rows as objects, raw arrays, one(), columnNames, rowsRead and rowsWritten", async () => {
  const ns = namespace();
  const db = ns.getByName("a");
  await db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)");
  const insert = await db.cursor("INSERT INTO t (name) VALUES (?), (?), (?)", "x", "y", "z");
  assert.equal(insert.rowsWritten, 3);
  const read = await db.cursor("SELECT id, name FROM t WHERE id >= ? ORDER BY id", 2);
  assert.deepEqual(read.columnNames, ["id", "name"]);
  assert.deepEqual(read.rows, [{ id: 2, name: "y" }, { id: 3, name: "z" }]);
  assert.equal(read.rowsRead, 2);
  assert.equal(read.rowsWritten, 0);
  assert.deepEqual(await db.raw("SELECT id, name, id FROM t ORDER BY id LIMIT 1"), [[1, "x", 1]]);
  assert.deepEqual(await db.one("SELECT count(*) AS n FROM t"), { n: 3 });
  await assert.rejects(db.one("SELECT * FROM t"), /exactly one result.*multiple/);
  await assert.rejects(db.one("SELECT * FROM t WHERE id = 99"), /exactly one result.*no results/);
  assert.deepEqual(await db.iterate(), [1, 2, 3]);
  assert.deepEqual(await db.blob(), { isArrayBuffer: true, bytes: [1, 2, 3] });
  assert.ok((await db.size()) >= 4096);
  ns.close();
});

test("exec runs every statement of a query; bindings go to the last; a cursor left unread still wrote", async () => {
  const ns = namespace();
  const db = ns.getByName("a");
  const rows = await db.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1); /* c */ INSERT INTO t VALUES (2); SELECT sum(x) + ? AS s FROM t; -- end", 10);
  assert.deepEqual(rows, [{ s: 13 }]);
  await db.cursor("INSERT INTO t VALUES (5)");
  assert.deepEqual(await db.exec("SELECT count(*) AS n FROM t"), [{ n: 3 }]);
  // A trigger body holds semicolons of its own.
  await db.exec("CREATE TABLE log (x); CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES (new.x); INSERT INTO log VALUES (-new.x); END; INSERT INTO t VALUES (7)");
  assert.deepEqual(await db.exec("SELECT x FROM log ORDER BY x"), [{ x: -7 }, { x: 7 }]);
  await assert.rejects(db.exec("SELECT * FROM nope"), /no such table: nope/);
  await assert.rejects(db.exec("SELECT ?", undefined), /binding 1 is a undefined/);
  ns.close();
});

test("user SQL reaches its own database only", async () => {
  const ns = namespace();
  const db = ns.getByName("a");
  await db.exec("CREATE TABLE t (x)");
  const refused = [
    "ATTACH DATABASE '/tmp/islet-attack.db' AS other",
    "ATTACH DATABASE ':memory:' AS other",
    "DETACH DATABASE main",
    "SELECT * FROM _cf_KV",
    "INSERT INTO _cf_KV VALUES ('k', x'00')",
    "DROP TABLE _cf_METADATA",
    "CREATE TABLE _cf_mine (x)",
    "BEGIN",
    "COMMIT",
    "SAVEPOINT s",
    "CREATE TEMP TABLE tt (x)",
    "CREATE TABLE temp.tt (x)",
    "PRAGMA journal_mode = DELETE",
    "PRAGMA writable_schema = 1",
    "PRAGMA temp_store_directory = '/tmp'",
    "PRAGMA max_page_count = 1000000000",
    "PRAGMA table_info(_cf_KV)",
    "SELECT load_extension('/tmp/x.so')",
    "VACUUM INTO '/tmp/islet-copy.db'",
  ];
  for (const query of refused) {
    await assert.rejects(db.exec(query), /not authorized|prohibited|cannot|syntax error|no such/i, query);
  }
  // A view or trigger may name islet's tables, but its body is authorized when it runs, as user SQL.
  await db.exec("CREATE VIEW v AS SELECT * FROM _cf_KV");
  await assert.rejects(db.exec("SELECT * FROM v"), /not authorized|prohibited/);
  await db.kvPut("kept", 1);
  await db.exec("CREATE TRIGGER sneaky AFTER INSERT ON t BEGIN DELETE FROM _cf_KV; END");
  await assert.rejects(db.exec("INSERT INTO t VALUES (1)"), /not authorized/);
  assert.equal(await db.kvGet("kept"), 1);
  // What the schema PRAGMAs may read still works.
  assert.deepEqual(
    (await db.exec("PRAGMA table_info(t)")).map((row) => row.name),
    ["x"],
  );
  assert.ok((await db.exec("PRAGMA table_list")).some((row) => row.name === "t"));
  ns.close();
});

test("storageMb: growing past it is a StorageLimitError, the turn's writes are rolled back, the object goes on", async () => {
  const ns = namespace({ storageMb: 1 });
  const db = ns.getByName("a");
  await db.exec("CREATE TABLE t (data BLOB)");
  await db.exec("INSERT INTO t VALUES (randomblob(1000))");
  await assert.rejects(db.exec("INSERT INTO t VALUES (1); INSERT INTO t VALUES (randomblob(2000000))"), (error: unknown) => {
    assert.ok(error instanceof StorageLimitError, String(error));
    return true;
  });
  // Neither the 1 before the big blob nor the blob was written; the first row is still there.
  assert.deepEqual(await db.exec("SELECT count(*) AS n FROM t"), [{ n: 1 }]);
  await db.exec("INSERT INTO t VALUES (randomblob(1000))");
  assert.deepEqual(await db.exec("SELECT count(*) AS n FROM t"), [{ n: 2 }]);
  ns.close();
});

test("a DurableObjectState is what the class is constructed with", async () => {
  let seen: DurableObjectState | undefined;
  class Probe extends DurableObject {
    constructor(ctx: DurableObjectState, env: unknown) {
      super(ctx, env);
      seen = ctx;
    }
    hello() {
      return this.ctx.id.toString();
    }
  }
  const ns = new DurableObjectNamespace(Probe, { name: "probe" });
  const stub = ns.getByName("x");
  assert.equal(await stub.hello(), ns.idFromName("x").toString());
  assert.equal(seen?.id.name, "x");
  assert.ok(Object.isFrozen(seen));
  ns.close();
});
