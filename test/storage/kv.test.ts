// ctx.storage's key-value APIs (synchronous kv and the asynchronous get/put/delete/list),
// transactions, deleteAll, and the input and output gates of a host Durable Object.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { DurableObjectNamespace, type DurableObjectState } from "islet";
import { DurableObject } from "islet/workers";
import { sleep } from "../helpers.ts";

class Kv extends DurableObject {
  async asyncApi() {
    const s = this.ctx.storage;
    await s.put("a", 1);
    await s.put({ b: { nested: [1, 2] }, c: new Map([["k", new Date(0)]]), "prefix:1": 1, "prefix:2": 2, prefiy: 3 });
    const one = await s.get("a");
    const many = await s.get(["a", "b", "missing"]);
    const map = (await s.get("c")) as Map<string, Date>;
    const all = [...(await s.list()).keys()];
    const prefixed = [...(await s.list({ prefix: "prefix:" })).keys()];
    const reversed = [...(await s.list({ reverse: true, limit: 2 })).keys()];
    const range = [...(await s.list({ start: "b", end: "prefix:2" })).keys()];
    const after = [...(await s.list({ startAfter: "b", limit: 1 })).keys()];
    const deletedOne = await s.delete("a");
    const deletedAgain = await s.delete("a");
    const deletedMany = await s.delete(["b", "c", "zzz"]);
    return { one, many: [...many], mapIsMap: map instanceof Map, date: map.get("k") instanceof Date, all, prefixed, reversed, range, after, deletedOne, deletedAgain, deletedMany };
  }
  syncApi() {
    const kv = this.ctx.storage.kv;
    kv.put("x", "1");
    kv.put("y", [2]);
    const got = kv.get("x");
    const listed = [...kv.list({ prefix: "" })];
    const deleted = kv.delete("x");
    return { got, listed, deleted, after: kv.get("x") };
  }
  async limits(kind: string) {
    const s = this.ctx.storage;
    if (kind === "key") await s.put("k".repeat(2049), 1);
    if (kind === "value") await s.put("k", "v".repeat(3 * 1024 * 1024));
    if (kind === "keys") await s.get(Array.from({ length: 129 }, (_, i) => String(i)));
    if (kind === "undefined") await s.put("k", undefined);
    if (kind === "function") await s.put("k", () => 1);
    if (kind === "partial") await s.put({ ok: 1, bad: () => 1 });
  }
  get(key: string) {
    return this.ctx.storage.get(key);
  }
  syncTxn(fail: boolean) {
    try {
      this.ctx.storage.transactionSync(() => {
        this.ctx.storage.kv.put("t", "written");
        this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS tt (x)");
        this.ctx.storage.sql.exec("INSERT INTO tt VALUES (1)");
        if (fail) throw new Error("boom");
      });
    } catch (error) {
      return (error as Error).message;
    }
    return "committed";
  }
  async asyncTxn(mode: "commit" | "throw" | "rollback") {
    try {
      await this.ctx.storage.transaction(async (txn) => {
        await txn.put("a", mode);
        await sleep(5);
        await txn.put("b", mode);
        if (mode === "throw") throw new Error("boom");
        if (mode === "rollback") txn.rollback();
      });
    } catch (error) {
      return (error as Error).message;
    }
    return [await this.ctx.storage.get("a"), await this.ctx.storage.get("b")];
  }
  async deleteAll() {
    const s = this.ctx.storage;
    s.sql.exec("CREATE TABLE t (x); CREATE INDEX ti ON t (x); CREATE VIEW v AS SELECT * FROM t; INSERT INTO t VALUES (1)");
    await s.put("k", 1);
    await s.setAlarm(Date.now() + 3_600_000);
    await s.deleteAll();
    const tables = s.sql.exec("SELECT name FROM sqlite_master WHERE name NOT LIKE '\\_cf\\_%' ESCAPE '\\'").toArray();
    return { tables, keys: [...(await s.list()).keys()], alarm: (await s.getAlarm()) !== null };
  }
  async increment() {
    const value = ((await this.ctx.storage.get("n")) as number | undefined) ?? 0;
    await this.ctx.storage.put("n", value + 1);
    return value + 1;
  }
  async incrementAcrossIo() {
    const value = ((await this.ctx.storage.get("m")) as number | undefined) ?? 0;
    await sleep(1);
    await this.ctx.storage.put("m", value + 1);
  }
}

test("the asynchronous KV: single and array forms, structured clone, list's options", async () => {
  const ns = new DurableObjectNamespace(Kv, { name: "kv" });
  const result = await ns.getByName("a").asyncApi();
  assert.equal(result.one, 1);
  assert.deepEqual(result.many, [["a", 1], ["b", { nested: [1, 2] }]]);
  assert.ok(result.mapIsMap && result.date);
  assert.deepEqual(result.all, ["a", "b", "c", "prefix:1", "prefix:2", "prefiy"]);
  assert.deepEqual(result.prefixed, ["prefix:1", "prefix:2"]);
  assert.deepEqual(result.reversed, ["prefiy", "prefix:2"]);
  assert.deepEqual(result.range, ["b", "c", "prefix:1"]);
  assert.deepEqual(result.after, ["c"]);
  assert.equal(result.deletedOne, true);
  assert.equal(result.deletedAgain, false);
  assert.equal(result.deletedMany, 2);
  ns.close();
});

test("the synchronous kv shares the database with the asynchronous API", async () => {
  const ns = new DurableObjectNamespace(Kv, { name: "kv" });
  const stub = ns.getByName("a");
  assert.deepEqual(await stub.syncApi(), { got: "1", listed: [["x", "1"], ["y", [2]]], deleted: true, after: undefined });
  assert.deepEqual(await stub.get("y"), [2]);
  ns.close();
});

test("KV limits: key and value size, keys per call, values that cannot be cloned; a refused put writes nothing", async () => {
  const ns = new DurableObjectNamespace(Kv, { name: "kv" });
  const stub = ns.getByName("a");
  await assert.rejects(stub.limits("key"), RangeError);
  await assert.rejects(stub.limits("value"), RangeError);
  await assert.rejects(stub.limits("keys"), RangeError);
  await assert.rejects(stub.limits("undefined"), TypeError);
  await assert.rejects(stub.limits("function"), { name: "DataCloneError" });
  await assert.rejects(stub.limits("partial"), { name: "DataCloneError" });
  assert.equal(await stub.get("ok"), undefined);
  ns.close();
});

test("transactionSync and transaction commit or roll back as a unit", async () => {
  const ns = new DurableObjectNamespace(Kv, { name: "kv" });
  const stub = ns.getByName("a");
  assert.equal(await stub.syncTxn(true), "boom");
  assert.equal(await stub.get("t"), undefined);
  assert.equal(await stub.syncTxn(false), "committed");
  assert.equal(await stub.get("t"), "written");
  assert.equal(await stub.asyncTxn("throw"), "boom");
  assert.equal(await stub.get("a"), undefined);
  assert.deepEqual(await stub.asyncTxn("rollback"), [undefined, undefined]);
  assert.deepEqual(await stub.asyncTxn("commit"), ["commit", "commit"]);
  ns.close();
});

test("deleteAll drops tables, views, indexes and keys and keeps the alarm", async () => {
  const ns = new DurableObjectNamespace(Kv, { name: "kv" });
  assert.deepEqual(await ns.getByName("a").deleteAll(), { tables: [], keys: [], alarm: true });
  ns.close();
});

test("input gate: 200 concurrent read-modify-write calls lose no update", async () => {
  const ns = new DurableObjectNamespace(Kv, { name: "kv" });
  const stub = ns.getByName("a");
  const results = await Promise.all(Array.from({ length: 200 }, () => stub.increment()));
  assert.equal(await stub.get("n"), 200);
  assert.deepEqual(results.sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i + 1));
  ns.close();
});

test("events interleave at awaits on other I/O, as on Cloudflare (so such code loses updates)", async () => {
  const ns = new DurableObjectNamespace(Kv, { name: "kv" });
  const stub = ns.getByName("a");
  await Promise.all(Array.from({ length: 20 }, () => stub.incrementAcrossIo()));
  assert.ok(((await stub.get("m")) as number) < 20);
  ns.close();
});

test("blockConcurrencyWhile in the constructor holds every event until it ends", async () => {
  const order: string[] = [];
  class Slow extends DurableObject {
    ready = false;
    constructor(ctx: DurableObjectState, env: unknown) {
      super(ctx, env);
      void ctx.blockConcurrencyWhile(async () => {
        await sleep(30);
        this.ready = true;
        order.push("ready");
      });
    }
    check() {
      order.push("call");
      return this.ready;
    }
  }
  const ns = new DurableObjectNamespace(Slow, { name: "slow" });
  const stub = ns.getByName("a");
  assert.deepEqual(await Promise.all([stub.check(), stub.check()]), [true, true]);
  assert.deepEqual(order, ["ready", "call", "call"]);
  ns.close();
});

test("output gate: when a call resolves, its writes are committed on disk", async () => {
  const dir = mkdtempSync(join(tmpdir(), "islet-gate-"));
  try {
    let file = "";
    class Writer extends DurableObject {
      write(value: number) {
        this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS w (v)");
        this.ctx.storage.sql.exec("INSERT INTO w VALUES (?)", value);
        return value;
      }
    }
    const ns = new DurableObjectNamespace(Writer, { name: "gate", storage: { dir } });
    const stub = ns.getByName("a");
    for (let i = 0; i < 5; i++) {
      await stub.write(i);
      // A second connection, as another process would be, sees the write at once.
      file ||= join(dir, readdirSync(dir).find((name) => name.startsWith("ns-"))!, `${stub.id}.sqlite`);
      const reader = new DatabaseSync(file, { readOnly: true });
      assert.equal((reader.prepare("SELECT count(*) AS n FROM w").get() as { n: number }).n, i + 1);
      reader.close();
    }
    ns.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a method that does not exist is a TypeError; an exception reaches the caller and the object lives on", async () => {
  class Thrower extends DurableObject {
    count = 0;
    fail(): never {
      this.count++;
      throw new RangeError("nope");
    }
    counted() {
      return this.count;
    }
  }
  const ns = new DurableObjectNamespace(Thrower, { name: "thrower" });
  const stub = ns.getByName("a");
  await assert.rejects(stub.fail(), { name: "RangeError", message: "nope" });
  assert.equal(await stub.counted(), 1);
  await assert.rejects((stub as unknown as { missing(): Promise<void> }).missing(), /has no method "missing"/);
  ns.close();
});
