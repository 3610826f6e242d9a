// Write coalescing in a facet, as Cloudflare documents it for Durable Objects: the writes a turn
// makes (its synchronous code and the microtasks after it, with no await on other I/O between
// them) commit together or not at all. A facet's sandbox killed in the middle of a turn (cpuMs,
// ctx.abort) leaves nothing of that turn; a turn that ended (an await of a host call or a timer)
// is committed before anything after it runs; a thrown error is not a reason to roll back; the
// call's result reaches the caller only once what it wrote is committed (the output gate).
// Before this, each storage call of a facet committed on its own.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DurableObjectNamespace, WorkerLoader, type WorkerStub } from "islet";
import { DurableObject } from "islet/workers";

const APP = `
import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  #table() { this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (v TEXT)"); }
  setup() { this.#table(); }
  // Two writes of each API with no await between them, then a spin the CPU limit ends.
  spinAfterWrites() {
    const s = this.ctx.storage;
    s.kv.put("a", 1);
    s.put("b", 2);
    s.sql.exec("INSERT INTO t VALUES ('spin')");
    s.transactionSync(() => s.kv.put("c", 3));
    for (;;) {}
  }
  // Writes, an await of a host call, then a spin: the first turn is committed.
  async spinAfterHostCall() {
    const s = this.ctx.storage;
    s.kv.put("h1", 1);
    s.sql.exec("INSERT INTO t VALUES ('host')");
    await this.env.ping();
    s.kv.put("h2", 2);
    for (;;) {}
  }
  // The same with a timer.
  async spinAfterTimer() {
    this.ctx.storage.kv.put("w1", 1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    this.ctx.storage.kv.put("w2", 2);
    for (;;) {}
  }
  // A host call started, then a write, then an await of the call (already in flight): the turn has
  // ended, and its write commits before the call answers (the parent ends the facet meanwhile).
  async writeWhileWaiting() {
    const slow = this.env.slow();
    this.ctx.storage.kv.put("waited", 1);
    await slow;
    return "answered";
  }
  // A write, then an exception: the write stays (as on Cloudflare).
  throwAfterWrite() {
    this.ctx.storage.kv.put("thrown", 1);
    this.ctx.storage.sql.exec("INSERT INTO t VALUES ('thrown')");
    throw new Error("boom");
  }
  // Inside one turn: reads see the turn's writes; a transactionSync that throws undoes only its own.
  ownWrites() {
    const s = this.ctx.storage;
    s.kv.put("own", 7);
    s.sql.exec("INSERT INTO t VALUES ('own')");
    try {
      s.transactionSync(() => { s.kv.put("undone", 1); throw new Error("undo"); });
    } catch {}
    const cursor = s.sql.exec("INSERT INTO t VALUES ('x'), ('y')");
    return { own: s.kv.get("own"), undone: s.kv.get("undone") ?? null, rows: s.sql.exec("SELECT count(*) AS n FROM t WHERE v IN ('own', 'x', 'y')").one().n, written: cursor.rowsWritten };
  }
  // An asynchronous transaction() commits the turn's writes before it, then its own.
  async spinAfterTransaction() {
    const s = this.ctx.storage;
    s.kv.put("before", 1);
    await s.transaction(async (txn) => { await txn.put("inside", 2); });
    s.kv.put("after", 3);
    for (;;) {}
  }
  // Writes, then the memory limit.
  hogAfterWrites() {
    this.ctx.storage.kv.put("mem", 1);
    this.ctx.storage.sql.exec("INSERT INTO t VALUES ('mem')");
    const kept = [];
    for (;;) kept.push(new Array(100_000).fill(kept.length));
  }
  // A write, then one past the database's limit, caught: the full database rolled back the turn.
  fillAfterWrite() {
    this.ctx.storage.kv.put("beforeFull", 1);
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS g (data BLOB)");
    try {
      this.ctx.storage.sql.exec("INSERT INTO g VALUES (randomblob(?))", 4 * 1024 * 1024);
    } catch (error) {
      if (error.name !== "StorageLimitError") throw error;
    }
    // The next write finds the turn lost (TransactionLostError); one caught after it does not commit on its own either.
    try { this.ctx.storage.kv.put("afterFull", 1); } catch {}
    this.ctx.storage.kv.put("later", 1);
    return "caught";
  }
  // ctx.abort() in the middle of a turn: the turn's writes go with the sandbox.
  abortAfterWrites() {
    this.ctx.storage.kv.put("aborted", 1);
    this.ctx.abort("stop");
  }
  // Many small writes in one turn.
  many(n) {
    for (let i = 0; i < n; i++) this.ctx.storage.kv.put("m" + i, i);
    return n;
  }
  put(key, value) { this.ctx.storage.kv.put(key, value); return value; }
  get(keys) { return keys.map((key) => this.ctx.storage.kv.get(key) ?? null); }
  rows() { this.#table(); return this.ctx.storage.sql.exec("SELECT v FROM t ORDER BY v").toArray().map((row) => row.v); }
}
`;

function setup(isolation: "isolate" | "process", storageMb?: number) {
  const loader = new WorkerLoader({ isolation });
  const worker: WorkerStub = loader.get("coalesce", () => ({ compatibilityDate: "2026-01-01", mainModule: "app.js", modules: { "app.js": APP }, env: { ping: async () => "pong", slow: () => new Promise((resolve) => setTimeout(() => resolve("slow"), 400)) } }));
  // The same class with a 32 MiB heap, to be killed by it.
  const small: WorkerStub = loader.get("coalesce-small", () => ({ compatibilityDate: "2026-01-01", mainModule: "app.js", modules: { "app.js": APP }, limits: { memoryMb: 32 } }));
  class Parent extends DurableObject {
    facet() {
      return this.ctx.facets.get("app", () => ({ class: worker.getDurableObjectClass("App", { limits: { cpuMs: 200 } }) })) as any;
    }
    run(method: string, ...args: unknown[]) {
      return this.facet()[method](...args);
    }
    runSmall(method: string, ...args: unknown[]) {
      return (this.ctx.facets.get("small", () => ({ class: small.getDurableObjectClass("App") })) as any)[method](...args);
    }
    // A call that writes, then waits for a slow host call; the facet is aborted while it waits.
    async abortWhileWaiting() {
      const call = this.facet().writeWhileWaiting();
      call.catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 150));
      this.ctx.facets.abort("app", new Error("ended while waiting"));
      return call.then(() => "answered", (error: Error) => error.message);
    }
    // The facet's answer, then at once an abort: what the answer told of must already be committed.
    async putThenAbort(key: string, value: number) {
      const answer = await this.facet().put(key, value);
      this.ctx.facets.abort("app", new Error("gone"));
      return answer;
    }
  }
  const ns = new DurableObjectNamespace(Parent, { name: "coalesce", facets: storageMb === undefined ? undefined : { storageMb } });
  return { loader, ns, parent: ns.getByName("p") as any };
}

for (const isolation of ["isolate", "process"] as const) {
  test(`[${isolation}] a facet's writes with no await between them commit together: a sandbox killed by cpuMs, memoryMb or ctx.abort() in the same turn leaves none of them`, async () => {
    const { loader, ns, parent } = setup(isolation);
    try {
      await parent.run("setup");
      await assert.rejects(parent.run("spinAfterWrites"), /CPU|cpu/);
      assert.deepEqual(await parent.run("get", ["a", "b", "c"]), [null, null, null]);
      assert.deepEqual(await parent.run("rows"), []);
      await assert.rejects(parent.run("abortAfterWrites"), /stop/);
      assert.deepEqual(await parent.run("get", ["aborted"]), [null]);
      await parent.runSmall("setup");
      await assert.rejects(parent.runSmall("hogAfterWrites"), /memory|Memory/);
      assert.deepEqual(await parent.runSmall("get", ["mem"]), [null]);
      assert.deepEqual(await parent.runSmall("rows"), []);
    } finally {
      ns.close();
      await loader.close();
    }
  });

  test(`[${isolation}] a facet's turn ends at an await of a host call or a timer, or of an asynchronous transaction(): what it wrote before stays when the sandbox is killed after`, async () => {
    const { loader, ns, parent } = setup(isolation);
    try {
      await parent.run("setup");
      await assert.rejects(parent.run("spinAfterHostCall"), /CPU|cpu/);
      assert.deepEqual(await parent.run("get", ["h1", "h2"]), [1, null]);
      assert.deepEqual(await parent.run("rows"), ["host"]);
      await assert.rejects(parent.run("spinAfterTimer"), /CPU|cpu/);
      assert.deepEqual(await parent.run("get", ["w1", "w2"]), [1, null]);
      await assert.rejects(parent.run("spinAfterTransaction"), /CPU|cpu/);
      assert.deepEqual(await parent.run("get", ["before", "inside", "after"]), [1, 2, null]);
      // The turn ended while a call it started was in flight: its write is committed, though the
      // sandbox is ended before that call answers.
      assert.equal(await parent.abortWhileWaiting(), "ended while waiting");
      assert.deepEqual(await parent.run("get", ["waited"]), [1]);
    } finally {
      ns.close();
      await loader.close();
    }
  });

  test(`[${isolation}] a facet's write followed by a thrown error is stored; a turn reads its own writes; a transactionSync that throws undoes only its own; the answer waits for the commit (output gate)`, async () => {
    const { loader, ns, parent } = setup(isolation);
    try {
      await parent.run("setup");
      await assert.rejects(parent.run("throwAfterWrite"), /boom/);
      assert.deepEqual(await parent.run("get", ["thrown"]), [1]);
      assert.deepEqual(await parent.run("rows"), ["thrown"]);
      assert.deepEqual(await parent.run("ownWrites"), { own: 7, undone: null, rows: 3, written: 2 });
      assert.deepEqual(await parent.run("get", ["own", "undone"]), [7, null]);
      // The parent aborts the facet as soon as it has the answer: the write it answered for is there.
      for (let i = 0; i < 5; i++) assert.equal(await parent.putThenAbort(`gate${i}`, i), i);
      assert.deepEqual(await parent.run("get", [0, 1, 2, 3, 4].map((i) => `gate${i}`)), [0, 1, 2, 3, 4]);
      assert.equal(await parent.run("many", 1000), 1000);
      assert.deepEqual(await parent.run("get", ["m0", "m999"]), [0, 999]);
    } finally {
      ns.close();
      await loader.close();
    }
  });

  test(`[${isolation}] a facet's turn rolled back by a full database fails its call with TransactionLostError even when the code caught the StorageLimitError: nothing of the turn commits, and the facet goes on`, async () => {
    const { loader, ns, parent } = setup(isolation, 2);
    try {
      await parent.run("setup");
      await assert.rejects(parent.run("fillAfterWrite"), /TransactionLostError|rolled back/);
      assert.deepEqual(await parent.run("get", ["beforeFull", "afterFull", "later"]), [null, null, null]);
      assert.equal(await parent.run("put", "next", 5), 5);
      assert.deepEqual(await parent.run("get", ["next"]), [5]);
    } finally {
      ns.close();
      await loader.close();
    }
  });
}
