// The rest of Cloudflare's Durable Object surface inside a facet, method by method, where
// test/storage/facets.test.ts does not reach it: the cursor's rowsRead and iteration, kv.delete,
// list()'s range options, sync(), deleteAll(), ctx.waitUntil, facets.get's `id`, the SQL a facet may
// not run, facets.storageMb, and a facet killed by its memory limit inside a transaction. All but
// one already worked when the audit of issue 16 found them untested for facets (the tests are there
// to catch their loss); ctx.waitUntil did not: a facet's instance kept the first event's ctx, so the
// work a later event handed to waitUntil belonged to an event long over, and never ran.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DurableObjectNamespace, WorkerLoader, type WorkerStub } from "islet";
import { DurableObject } from "islet/workers";
import { sleep } from "../helpers.ts";

const APP = `
import { DurableObject } from "cloudflare:workers";
export class Api extends DurableObject {
  async surface() {
    const s = this.ctx.storage;
    s.sql.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)");
    const inserted = s.sql.exec("INSERT INTO t (v) VALUES ('a'), ('b'), ('c')");
    const read = s.sql.exec("SELECT v FROM t WHERE id >= 2 ORDER BY id");
    const iterated = [];
    for (const row of read) iterated.push(row.v);
    s.kv.put("x", 1);
    const kvDeleted = s.kv.delete("x");
    const kvDeletedAgain = s.kv.delete("x");
    await s.put({ a: 1, b: 2, c: 3, "p:1": 4, "p:2": 5 });
    const keys = async (options) => [...(await s.list(options)).keys()];
    const lists = {
      range: await keys({ start: "b", end: "p:1" }),
      startAfter: await keys({ startAfter: "b", limit: 2 }),
      reverse: await keys({ reverse: true, limit: 2 }),
      prefix: await keys({ prefix: "p:" }),
    };
    await s.sync();
    return { rowsWritten: inserted.rowsWritten, rowsRead: read.rowsRead, columns: read.columnNames, iterated, kvDeleted, kvDeletedAgain, lists };
  }
  async wipe() {
    const s = this.ctx.storage;
    s.sql.exec("CREATE TABLE IF NOT EXISTS w (x); CREATE INDEX IF NOT EXISTS wi ON w (x); CREATE VIEW IF NOT EXISTS wv AS SELECT * FROM w");
    await s.put("k", 1);
    await s.setAlarm(Date.now() + 3_600_000);
    await s.deleteAll();
    const tables = s.sql.exec("SELECT name FROM sqlite_master WHERE name NOT LIKE '\\\\_cf\\\\_%' ESCAPE '\\\\'").toArray().map((row) => row.name);
    return { tables, keys: [...(await s.list()).keys()], alarm: (await s.getAlarm()) !== null };
  }
  later() {
    this.ctx.waitUntil(scheduler.wait(100).then(() => this.ctx.storage.kv.put("later", "done")));
    return this.ctx.storage.kv.get("later") ?? "not yet";
  }
  read(key) { return this.ctx.storage.kv.get(key); }
  who() { return this.ctx.id.toString(); }
  refused(query) { try { this.ctx.storage.sql.exec(query); return "ran"; } catch (error) { return error.message; } }
  grow(bytes) {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS g (data BLOB)");
    this.ctx.storage.sql.exec("INSERT INTO g VALUES (randomblob(100)); INSERT INTO g VALUES (randomblob(?))", bytes);
  }
  count() { return this.ctx.storage.sql.exec("SELECT count(*) AS n FROM g").one().n; }
  hog() {
    this.ctx.storage.transactionSync(() => {
      this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS h (x)");
      this.ctx.storage.sql.exec("INSERT INTO h VALUES ('half-written')");
      const kept = [];
      for (;;) kept.push(new Array(100_000).fill(kept.length));
    });
  }
  hogged() {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS h (x)");
    return this.ctx.storage.sql.exec("SELECT count(*) AS n FROM h").one().n;
  }
}
`;

function setup(isolation: "isolate" | "process", facetStorageMb?: number) {
  const loader = new WorkerLoader({ isolation });
  const worker: WorkerStub = loader.get("api", () => ({ compatibilityDate: "2026-01-01", mainModule: "app.js", modules: { "app.js": APP } }));
  // The same class with a 32 MiB heap, to be killed by it.
  const small: WorkerStub = loader.get("api-small", () => ({ compatibilityDate: "2026-01-01", mainModule: "app.js", modules: { "app.js": APP }, limits: { memoryMb: 32 } }));
  class Parent extends DurableObject {
    run(name: string, method: string, ...args: unknown[]) {
      return (this.ctx.facets.get(name, () => ({ class: (name === "small" ? small : worker).getDurableObjectClass("Api"), id: name === "named" ? "my-own-id" : undefined })) as any)[method](...args);
    }
  }
  const ns = new DurableObjectNamespace(Parent, { name: "api", facets: facetStorageMb === undefined ? undefined : { storageMb: facetStorageMb } });
  return { loader, ns, parent: ns.getByName("p") as any };
}

for (const isolation of ["isolate", "process"] as const) {
  test(`[${isolation}] a facet's cursor (rowsRead, rowsWritten, iteration), kv.delete, list()'s start/end/startAfter/limit/reverse/prefix, sync(), deleteAll() (the alarm stays), ctx.waitUntil in a later event than the first, facets.get's id`, async () => {
    const { loader, ns, parent } = setup(isolation);
    try {
      assert.deepEqual(await parent.run("app", "surface"), {
        rowsWritten: 3,
        rowsRead: 2,
        columns: ["v"],
        iterated: ["b", "c"],
        kvDeleted: true,
        kvDeletedAgain: false,
        lists: { range: ["b", "c"], startAfter: ["c", "p:1"], reverse: ["p:2", "p:1"], prefix: ["p:1", "p:2"] },
      });
      assert.deepEqual(await parent.run("app", "wipe"), { tables: [], keys: [], alarm: true });
      // waitUntil work goes on after the answer, inside the invocation, and commits.
      assert.equal(await parent.run("app", "later"), "not yet");
      await sleep(400);
      assert.equal(await parent.run("app", "read", "later"), "done");
      // facets.get(name, () => ({ class, id })): ctx.id is the id given.
      assert.equal(await parent.run("named", "who"), "my-own-id");
      assert.match(await parent.run("app", "who"), /^[0-9a-f]{32}$/);
    } finally {
      ns.close();
      await loader.close();
    }
  });

  test(`[${isolation}] a facet's SQL cannot load extensions, reach files or islet's tables, or open transactions of its own; past facets.storageMb a write is a StorageLimitError and its call writes nothing; a facet killed by its memory limit inside a transaction leaves nothing of it`, async () => {
    const { loader, ns, parent } = setup(isolation, 1);
    try {
      for (const query of [
        "SELECT load_extension('/tmp/islet-x.so')",
        "VACUUM INTO '/tmp/islet-facet-copy.db'",
        "ATTACH DATABASE ':memory:' AS other",
        "PRAGMA writable_schema = 1",
        "PRAGMA journal_mode = DELETE",
        "PRAGMA temp_store_directory = '/tmp'",
        "SELECT * FROM _cf_KV",
        "DROP TABLE _cf_METADATA",
        "BEGIN",
        "SAVEPOINT s",
        "CREATE TEMP TABLE tt (x)",
      ]) {
        assert.match(await parent.run("app", "refused", query), /not authorized|prohibited|cannot|syntax error|no such/i, query);
      }
      await parent.run("app", "grow", 1_000);
      assert.equal(await parent.run("app", "count"), 2);
      await assert.rejects(parent.run("app", "grow", 2_000_000), { name: "StorageLimitError", message: /storage limit of 1 MiB exceeded/ });
      // Neither of that call's two rows was written; the facet goes on.
      assert.equal(await parent.run("app", "count"), 2);
      await parent.run("app", "grow", 1_000);
      assert.equal(await parent.run("app", "count"), 4);

      await assert.rejects(parent.run("small", "hog"), /MemoryLimitError|memory/i);
      assert.equal(await parent.run("small", "hogged"), 0);
    } finally {
      ns.close();
      await loader.close();
    }
  });
}
