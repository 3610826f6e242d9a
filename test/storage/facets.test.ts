// Facets: a host Durable Object runs a dynamic worker's Durable Object class as a child object with
// a SQLite database of its own (ctx.facets.get/abort/delete/clone), its storage synchronous inside
// the sandbox as on Cloudflare, its SQL run in the storage process.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DurableObjectNamespace, WorkerLoader, type TailEvent, type WorkerStub } from "islet";
import { DurableObject } from "islet/workers";


// The AI-written app: a Durable Object class with its own database.
const APP = `
import { DurableObject } from "cloudflare:workers";
// Module state: it lives as long as the facet's sandbox does.
let calls = 0;
export class App extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT, data BLOB)");
    this.started = (this.started ?? 0) + 1;
  }
  add(text) {
    const cursor = this.ctx.storage.sql.exec("INSERT INTO notes (text, data) VALUES (?, ?) RETURNING id", text, new Uint8Array([1, 2, 3]).buffer);
    return { id: cursor.one().id, written: cursor.rowsWritten };
  }
  list() {
    const cursor = this.ctx.storage.sql.exec("SELECT id, text, data FROM notes ORDER BY id");
    const rows = cursor.toArray().map((row) => ({ id: row.id, text: row.text, blob: row.data instanceof ArrayBuffer ? [...new Uint8Array(row.data)] : row.data }));
    return { columns: cursor.columnNames, rows };
  }
  raw() {
    return [...this.ctx.storage.sql.exec("SELECT id, text FROM notes ORDER BY id").raw()];
  }
  size() { return this.ctx.storage.sql.databaseSize; }
  kv(key, value) {
    this.ctx.storage.kv.put(key, value);
    return { got: this.ctx.storage.kv.get(key), list: [...this.ctx.storage.kv.list()].map(([k]) => k) };
  }
  async asyncKv() {
    await this.ctx.storage.put({ a: 1, b: new Date(0), c: new Map([["x", [1n]]]) });
    const got = await this.ctx.storage.get(["a", "b", "c", "missing"]);
    const deleted = await this.ctx.storage.delete(["a", "nope"]);
    const listed = await this.ctx.storage.list({ prefix: "" });
    return { a: got.get("a"), b: got.get("b") instanceof Date, c: got.get("c").get("x")[0] === 1n, has: got.has("missing"), deleted, keys: [...listed.keys()] };
  }
  failingTransaction() {
    try {
      this.ctx.storage.transactionSync(() => {
        this.ctx.storage.sql.exec("INSERT INTO notes (text) VALUES ('rolled back')");
        throw new Error("boom");
      });
    } catch (error) {
      return error.message + ": " + this.ctx.storage.sql.exec("SELECT count(*) AS n FROM notes WHERE text = 'rolled back'").one().n;
    }
  }
  async asyncTransaction(rollback) {
    await this.ctx.storage.transaction(async (txn) => {
      await txn.put("t", "written");
      this.ctx.storage.sql.exec("INSERT INTO notes (text) VALUES ('in txn')");
      if (rollback) txn.rollback();
    });
    return [await this.ctx.storage.get("t"), this.ctx.storage.sql.exec("SELECT count(*) AS n FROM notes WHERE text = 'in txn'").one().n];
  }
  whoAmI() { return { id: this.ctx.id.toString(), name: this.ctx.id.name, props: this.ctx.props, started: this.started, envKeys: Object.keys(this.env) }; }
  attach() { return this.ctx.storage.sql.exec("ATTACH DATABASE '/tmp/x.sqlite' AS x").toArray(); }
  runaway() {
    try {
      this.ctx.storage.sql.exec("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c");
    } catch (error) {
      return error.name + ": " + error.message;
    }
  }
  huge() {
    return this.ctx.storage.sql.exec("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 40) SELECT zeroblob(1000000) FROM c").toArray().length;
  }
  async increment() {
    // Read, then write after an await: the input gate keeps other events out in between.
    const n = (await this.ctx.storage.get("n")) ?? 0;
    await this.ctx.storage.put("n", n + 1);
    return n + 1;
  }
  async slowStart() {
    // The first event's blockConcurrencyWhile holds every other event until it ends.
    if (this.ready === undefined) {
      this.ready = false;
      await this.ctx.blockConcurrencyWhile(async () => {
        await scheduler.wait(50);
        this.ctx.storage.kv.put("order", [...(this.ctx.storage.kv.get("order") ?? []), "init"]);
        this.ready = true;
      });
    }
    this.ctx.storage.kv.put("order", [...(this.ctx.storage.kv.get("order") ?? []), this.ready ? "event" : "early"]);
    return this.ctx.storage.kv.get("order");
  }
  many(n) {
    for (let i = 0; i < n; i++) this.ctx.storage.sql.exec("INSERT INTO notes (text) VALUES (?)", "n" + i);
    return this.ctx.storage.sql.exec("SELECT count(*) AS n FROM notes").one().n;
  }
  bump() { return ++calls; }
  nap(ms) { return scheduler.wait(ms); }
  keys() { return [...this.ctx.storage.kv.list()].map(([key]) => key); }
  abortThenWrite() {
    this.ctx.storage.kv.put("before", 1);
    try { this.ctx.abort("stopped by itself"); } catch {}
    this.ctx.storage.kv.put("after", 1);
    calls += 100;
    return "went on";
  }
  async abortInTransaction() {
    await this.ctx.storage.transaction(async () => {
      this.ctx.storage.kv.put("inTransaction", 1);
      try { this.ctx.abort(); } catch {}
      this.ctx.storage.kv.put("inTransactionAfter", 1);
    });
    return "committed";
  }
  spinInTransaction() {
    this.ctx.storage.transactionSync(() => {
      this.ctx.storage.sql.exec("INSERT INTO notes (text) VALUES ('half-written')");
      for (;;) {}
    });
  }
}
`;

function appLoader(isolation: "isolate" | "thread" | "process"): { loader: WorkerLoader; worker: WorkerStub } {
  const loader = new WorkerLoader({ isolation });
  const worker = loader.get("app-v1", () => ({ compatibilityDate: "2026-01-01", mainModule: "app.js", modules: { "app.js": APP }, env: { GREETING: "hi" } }));
  return { loader, worker };
}

function hostClass(worker: WorkerStub) {
  return class Parent extends DurableObject {
    facet(name: string) {
      // The "spin" facet runs with a CPU limit of 200 ms a call.
      const limits = name === "spin" ? { cpuMs: 200 } : name === "few" ? { subRequests: 5 } : undefined;
      return this.ctx.facets.get(name, () => ({ class: worker.getDurableObjectClass("App", { props: { plan: "free" }, limits }) })) as any;
    }
    async run(name: string, method: string, ...args: unknown[]) {
      return this.facet(name)[method](...args);
    }
    abort(name: string) {
      this.ctx.facets.abort(name, new Error("stop"));
    }
    delete(name: string) {
      return this.ctx.facets.delete(name);
    }
    clone(source: string, target: string) {
      return this.ctx.facets.clone(source, target);
    }
    parentSql() {
      return this.ctx.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'notes'").toArray().length;
    }
  };
}

for (const isolation of ["isolate", "process"] as const) {
  test(`[${isolation}] a facet has its own database: SQL with a synchronous cursor, blobs, raw rows, databaseSize; the parent's database is separate`, async () => {
    const { loader, worker } = appLoader(isolation);
    const ns = new DurableObjectNamespace(hostClass(worker), { name: "parents" });
    try {
      const parent = ns.getByName("user-1") as any;
      assert.deepEqual(await parent.run("app", "add", "first"), { id: 1, written: 1 });
      assert.deepEqual(await parent.run("app", "add", "second"), { id: 2, written: 1 });
      const listed = await parent.run("app", "list");
      assert.deepEqual(listed.columns, ["id", "text", "data"]);
      assert.deepEqual(listed.rows, [
        { id: 1, text: "first", blob: [1, 2, 3] },
        { id: 2, text: "second", blob: [1, 2, 3] },
      ]);
      assert.deepEqual(await parent.run("app", "raw"), [[1, "first"], [2, "second"]]);
      assert.ok((await parent.run("app", "size")) > 0);
      // The parent's own database has no notes table; another parent's facet of the same name has its own.
      assert.equal(await parent.parentSql(), 0);
      const other = ns.getByName("user-2") as any;
      assert.deepEqual((await other.run("app", "list")).rows, []);
      const who = await parent.run("app", "whoAmI");
      assert.deepEqual(who.props, { plan: "free" });
      assert.equal(who.name, "app");
      assert.match(who.id, /^[0-9a-f]{32}$/);
      // The storage capability is the runtime's: env shows only what the code's env had.
      assert.deepEqual(who.envKeys, ["GREETING"]);
    } finally {
      ns.close();
      await loader.close();
    }
  });

  test(`[${isolation}] a facet's KV, synchronous and asynchronous, keeps structured values; transactions commit or roll back as one`, async () => {
    const { loader, worker } = appLoader(isolation);
    const ns = new DurableObjectNamespace(hostClass(worker), { name: "parents" });
    try {
      const parent = ns.getByName("kv") as any;
      assert.deepEqual(await parent.run("app", "kv", "k", { nested: [1, "two"] }), { got: { nested: [1, "two"] }, list: ["k"] });
      assert.deepEqual(await parent.run("app", "asyncKv"), { a: 1, b: true, c: true, has: false, deleted: 1, keys: ["b", "c", "k"] });
      assert.equal(await parent.run("app", "failingTransaction"), "boom: 0");
      assert.deepEqual(await parent.run("app", "asyncTransaction", true), [undefined, 0]);
      assert.deepEqual(await parent.run("app", "asyncTransaction", false), ["written", 1]);
    } finally {
      ns.close();
      await loader.close();
    }
  });

  test(`[${isolation}] abort ends a facet (its memory goes, its storage stays); delete drops its storage; clone forks it and the fork diverges`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "islet-facets-"));
    const { loader, worker } = appLoader(isolation);
    let ns = new DurableObjectNamespace(hostClass(worker), { name: "parents", storage: { dir } });
    try {
      let parent = ns.getByName("p") as any;
      await parent.run("app", "add", "kept");
      assert.equal((await parent.run("app", "whoAmI")).started, 1);
      await parent.abort("app");
      // A new instance (constructed again), the same data.
      assert.equal((await parent.run("app", "whoAmI")).started, 1);
      assert.deepEqual((await parent.run("app", "list")).rows.map((r: any) => r.text), ["kept"]);

      await parent.clone("app", "fork");
      await parent.run("fork", "add", "only in the fork");
      await parent.run("app", "add", "only in the source");
      assert.deepEqual((await parent.run("app", "list")).rows.map((r: any) => r.text), ["kept", "only in the source"]);
      assert.deepEqual((await parent.run("fork", "list")).rows.map((r: any) => r.text), ["kept", "only in the fork"]);
      // Onto a fork that exists: replaced by a new copy (as workerd does).
      await parent.clone("app", "fork");
      assert.deepEqual((await parent.run("fork", "list")).rows.map((r: any) => r.text), ["kept", "only in the source"]);

      await parent.delete("fork");
      assert.deepEqual((await parent.run("fork", "list")).rows, []);

      // A restart of the host: the facet's data is on disk.
      ns.close();
      ns = new DurableObjectNamespace(hostClass(worker), { name: "parents", storage: { dir } });
      parent = ns.getByName("p") as any;
      assert.deepEqual((await parent.run("app", "list")).rows.map((r: any) => r.text), ["kept", "only in the source"]);
    } finally {
      ns.close();
      await loader.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`[${isolation}] a facet's own ctx.abort() ends it even when its code catches the error: the call fails, nothing after the abort commits, its open transaction is rolled back, the next call starts with fresh module state`, async () => {
    const { loader, worker } = appLoader(isolation);
    const ns = new DurableObjectNamespace(hostClass(worker), { name: "parents" });
    try {
      const parent = ns.getByName("self-abort") as any;
      assert.equal(await parent.run("app", "bump"), 1);
      assert.equal(await parent.run("app", "bump"), 2);
      await assert.rejects(parent.run("app", "abortThenWrite"), /stopped by itself/);
      // What it wrote before the abort was committed by its own call; nothing after it was.
      assert.deepEqual(await parent.run("app", "keys"), ["before"]);
      // A new sandbox: the module's state starts again.
      assert.equal(await parent.run("app", "bump"), 1);
      await assert.rejects(parent.run("app", "abortInTransaction"), /The facet was aborted/);
      assert.deepEqual(await parent.run("app", "keys"), ["before"]);
      assert.equal(await parent.run("app", "bump"), 1);
      // The facet works on.
      assert.deepEqual(await parent.run("app", "add", "after"), { id: 1, written: 1 });
      // Its parent's facets.abort(name, reason) fails a call in flight with that reason.
      const napping = parent.run("app", "nap", 5_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await parent.abort("app");
      await assert.rejects(napping, /^Error: stop$/);
    } finally {
      ns.close();
      await loader.close();
    }
  });

  test(`[${isolation}] hostile facets: a runaway query ends at callTimeoutMs without holding the host's thread; an answer past 8 MiB is refused; a facet killed by cpuMs inside a transaction leaves nothing half-written; names never become paths`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "islet-facets-"));
    const { loader, worker } = appLoader(isolation);
    const ns = new DurableObjectNamespace(hostClass(worker), { name: "parents", storage: { dir }, facets: { callTimeoutMs: 1_000 } });
    try {
      const parent = ns.getByName("hostile") as any;
      let longestBlock = 0;
      let last = performance.now();
      const ticker = setInterval(() => {
        const now = performance.now();
        longestBlock = Math.max(longestBlock, now - last);
        last = now;
      }, 10);
      const runaway = await parent.run("app", "runaway");
      clearInterval(ticker);
      assert.match(runaway, /StorageTimeoutError: A storage call ran past 1000 ms/);
      assert.ok(longestBlock < 250, `the host's event loop was held ${Math.round(longestBlock)} ms`);
      await assert.rejects(parent.run("app", "huge"), /one storage answer is at most/);
      // The facet goes on.
      assert.deepEqual(await parent.run("app", "add", "after"), { id: 1, written: 1 });

      const limited = ns.getByName("limited") as any;
      const spinner = await limited.facet("spin");
      await assert.rejects(spinner.spinInTransaction(), /CpuLimitError|exceeded its CPU/);
      assert.deepEqual((await spinner.list()).rows, []);
      assert.deepEqual(await spinner.add("whole"), { id: 1, written: 1 });

      // Facet names are hashed: "../../x" is just a name.
      await parent.run("../../escape", "add", "inside");
      const files = readdirSync(join(dir), { recursive: true }).map(String);
      assert.ok(files.every((file) => !file.includes("escape") && !file.includes("..")), files.join(", "));
    } finally {
      ns.close();
      await loader.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`[${isolation}] gates: 50 concurrent read-modify-write events lose no update; blockConcurrencyWhile holds every other event`, async () => {
    const { loader, worker } = appLoader(isolation);
    const ns = new DurableObjectNamespace(hostClass(worker), { name: "parents" });
    try {
      const parent = ns.getByName("gates") as any;
      const facet = await parent.facet("counter");
      const results = await Promise.all(Array.from({ length: 50 }, () => facet.increment()));
      assert.deepEqual([...results].sort((a: number, b: number) => a - b), Array.from({ length: 50 }, (_, i) => i + 1));
      const slow = await parent.facet("slow");
      const orders = await Promise.all(Array.from({ length: 5 }, () => slow.slowStart()));
      assert.deepEqual(orders.at(-1), ["init", "event", "event", "event", "event", "event"]);
    } finally {
      ns.close();
      await loader.close();
    }
  });

  test(`[${isolation}] storage operations are budgeted apart from subrequests: 2,000 inserts in one call are ordinary; past 100 per subrequest allowed, SubrequestLimitError`, async () => {
    const { loader, worker } = appLoader(isolation);
    const ns = new DurableObjectNamespace(hostClass(worker), { name: "parents" });
    try {
      const parent = ns.getByName("busy") as any;
      assert.equal(await parent.run("app", "many", 2_000), 2_000);
      await assert.rejects(parent.run("few", "many", 501), /limit of 500 storage operations/);
      // Each statement before the limit was committed on its own; the facet works on.
      const kept = (await parent.run("few", "raw")).length;
      assert.ok(kept > 480 && kept < 500, `${kept} rows kept`);
      assert.equal(await parent.run("few", "many", 10), kept + 10);
    } finally {
      ns.close();
      await loader.close();
    }
  });

  test(`[${isolation}] concurrent calls to one facet: each call's trace event is its own (its logs, its outcome, its exception)`, async () => {
    const events: TailEvent[] = [];
    const loader = new WorkerLoader({ isolation, tails: [(batch) => void events.push(...batch)] });
    const worker = loader.get("logger", () => ({
      compatibilityDate: "2026-01-01",
      mainModule: "app.js",
      modules: {
        "app.js": `import { DurableObject } from "cloudflare:workers";
          export class Logger extends DurableObject {
            async slow() {
              console.log("slow: start");
              await scheduler.wait(300);
              this.ctx.storage.kv.put("slow", true);
              console.log("slow: end");
              return "slow";
            }
            write(n) {
              console.log("write: " + n);
              this.ctx.storage.kv.put("n" + n, n);
              return n;
            }
            fail() {
              console.log("fail: before");
              throw new RangeError("nope");
            }
          }`,
      },
    }));
    class Parent extends DurableObject {
      run(method: string, ...args: unknown[]) {
        return (this.ctx.facets.get("logger", () => ({ class: worker.getDurableObjectClass("Logger") })) as any)[method](...args);
      }
    }
    const ns = new DurableObjectNamespace(Parent, { name: "parents" });
    try {
      const parent = ns.getByName("concurrent") as any;
      const slow = parent.run("slow");
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(await parent.run("write", 1), 1);
      await assert.rejects(parent.run("fail"), /nope/);
      assert.equal(await parent.run("write", 2), 2);
      assert.equal(await slow, "slow");
      const deadline = Date.now() + 5_000;
      while (events.length < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      const of = (method: string) => events.filter((event) => event.method === method).map((event) => ({ outcome: event.outcome, logs: event.logs.map((log) => String(log.message[0])), exceptions: event.exceptions.map((e) => e.name) }));
      assert.deepEqual(of("slow"), [{ outcome: "ok", logs: ["slow: start", "slow: end"], exceptions: [] }]);
      assert.deepEqual(of("write"), [
        { outcome: "ok", logs: ["write: 1"], exceptions: [] },
        { outcome: "ok", logs: ["write: 2"], exceptions: [] },
      ]);
      assert.deepEqual(of("fail"), [{ outcome: "exception", logs: ["fail: before"], exceptions: ["RangeError"] }]);
    } finally {
      ns.close();
      await loader.close();
    }
  });

  test(`[${isolation}] a facet's SQL reaches its own database only: ATTACH is refused`, async () => {
    const { loader, worker } = appLoader(isolation);
    const ns = new DurableObjectNamespace(hostClass(worker), { name: "parents" });
    try {
      const parent = ns.getByName("attacker") as any;
      await assert.rejects(parent.run("app", "attach"), /not authorized|ATTACH/i);
      assert.deepEqual((await parent.run("app", "list")).rows, []);
    } finally {
      ns.close();
      await loader.close();
    }
  });
}

test("[thread] facets are refused in thread isolation with an error that says why", async () => {
  const { loader, worker } = appLoader("thread");
  const ns = new DurableObjectNamespace(hostClass(worker), { name: "parents" });
  try {
    const parent = ns.getByName("t") as any;
    await assert.rejects(parent.run("app", "list"), /isolation "isolate" or "process", not "thread"/);
  } finally {
    ns.close();
    await loader.close();
  }
});
