// A facet's trace events count the rows its storage calls read and wrote (issue 16: "rows read and
// written counted per invocation and in the trace event"): each invocation its own, summed from the
// cursors' rowsRead/rowsWritten and the KV API's reads and writes, in the tails' event and in the
// streaming tails' outcome. Facets run in isolate and process isolation (thread refuses them).
import { test } from "node:test";
import assert from "node:assert/strict";
import { DurableObjectNamespace, WorkerLoader, type TailEvent, type TailStreamEvent, type TailStreamOutcome } from "islet";
import { DurableObject } from "islet/workers";

const APP = `
import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT)");
  }
  ready() { return "ready"; }
  // What the cursors say, summed: the trace event must say the same.
  sql(single, bulk) {
    let read = 0, written = 0;
    const exec = (...args) => {
      const cursor = this.ctx.storage.sql.exec(...args);
      const rows = cursor.toArray();
      read += cursor.rowsRead;
      written += cursor.rowsWritten;
      return rows;
    };
    for (let i = 0; i < single; i++) exec("INSERT INTO items (name) VALUES (?)", "single " + i);
    exec("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) INSERT INTO items (name) SELECT 'bulk ' || x FROM c", bulk);
    exec("UPDATE items SET name = name || '!' WHERE id <= 4");
    const ids = exec("SELECT id FROM items").length;
    const count = exec("SELECT count(*) AS n FROM items")[0].n;
    try {
      this.ctx.storage.transactionSync(() => {
        exec("INSERT INTO items (name) VALUES ('undone 1'), ('undone 2')");
        throw new Error("roll back");
      });
    } catch {}
    return { read, written, ids, count };
  }
  async kv() {
    const kv = this.ctx.storage.kv;
    kv.put("a", 1);
    kv.put("b", 2);
    kv.put("a", 3);
    kv.get("a");
    kv.get("missing");
    const listed = [...kv.list()].length;
    kv.delete("b");
    kv.delete("nope");
    await this.ctx.storage.put({ c: 1, d: 2 });
    const got = (await this.ctx.storage.get(["c", "d", "zz"])).size;
    const deleted = await this.ctx.storage.delete(["c", "zz"]);
    return { listed, got, deleted };
  }
  async slow() {
    this.ctx.storage.sql.exec("INSERT INTO items (name) VALUES ('slow 1'), ('slow 2')");
    await scheduler.wait(300);
    return this.ctx.storage.sql.exec("SELECT name FROM items ORDER BY id LIMIT 3").toArray().length;
  }
  fast(n) {
    this.ctx.storage.sql.exec("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) INSERT INTO items (name) SELECT 'fast ' || x FROM c", n);
    return this.ctx.storage.sql.exec("SELECT count(*) AS n FROM items").one().n;
  }
  async alarms() {
    await this.ctx.storage.setAlarm(Date.now() + 3_600_000);
    const set = (await this.ctx.storage.getAlarm()) !== null;
    await this.ctx.storage.deleteAlarm();
    return set && (await this.ctx.storage.getAlarm()) === null;
  }
  nothing() { return 42; }
}
`;

interface Rows {
  method: string;
  rowsRead: number | undefined;
  rowsWritten: number | undefined;
}

function setup(isolation: "isolate" | "process") {
  const events: TailEvent[] = [];
  const outcomes: Rows[] = [];
  const loader = new WorkerLoader({
    isolation,
    tails: [(batch) => void events.push(...batch)],
    streamingTails: [
      (onset) => (event: TailStreamEvent) => {
        if (event.event.type !== "outcome") return;
        const outcome = event.event as TailStreamOutcome;
        outcomes.push({ method: onset.event.method, rowsRead: outcome.rowsRead, rowsWritten: outcome.rowsWritten });
      },
    ],
  });
  const worker = loader.get("rows-app", () => ({ compatibilityDate: "2026-01-01", mainModule: "app.js", modules: { "app.js": APP } }));
  class Parent extends DurableObject {
    run(method: string, ...args: unknown[]) {
      return (this.ctx.facets.get("app", () => ({ class: worker.getDurableObjectClass("App") })) as any)[method](...args);
    }
  }
  const ns = new DurableObjectNamespace(Parent, { name: "parents" });
  /** The rows of the trace events and streamed outcomes of `method`, once `count` of each have come. */
  const rowsOf = async (method: string, count: number): Promise<{ tails: Rows[]; streamed: Rows[] }> => {
    const mine = () => ({
      tails: events.filter((event) => event.method === method).map((event) => ({ method, rowsRead: event.rowsRead, rowsWritten: event.rowsWritten })),
      streamed: outcomes.filter((outcome) => outcome.method === method),
    });
    const deadline = Date.now() + 5_000;
    while ((mine().tails.length < count || mine().streamed.length < count) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    return mine();
  };
  return { loader, worker, ns, rowsOf };
}

for (const isolation of ["isolate", "process"] as const) {
  test(`[${isolation}] a facet call's trace event carries the rows its SQL read and wrote, as its cursors counted them`, async () => {
    const { loader, ns, rowsOf } = setup(isolation);
    try {
      const parent = ns.getByName("sql") as any;
      assert.equal(await parent.run("ready"), "ready");
      const answer = await parent.run("sql", 3, 10);
      // 3 single inserts, 10 in one statement, 4 updated, 2 inserted and rolled back (still written);
      // read: 13 ids, 1 count.
      assert.deepEqual(answer, { read: 14, written: 19, ids: 13, count: 13 });
      const expected = [{ method: "sql", rowsRead: 14, rowsWritten: 19 }];
      assert.deepEqual(await rowsOf("sql", 1), { tails: expected, streamed: expected });
      // The constructor's CREATE TABLE wrote no rows; a call that touches no storage counts none.
      assert.equal(await parent.run("nothing"), 42);
      const none = [{ method: "nothing", rowsRead: 0, rowsWritten: 0 }];
      assert.deepEqual(await rowsOf("nothing", 1), { tails: none, streamed: none });
    } finally {
      ns.close();
      await loader.close();
    }
  });

  test(`[${isolation}] a facet call's trace event counts its KV reads and writes: each entry found or listed is a row read, each one put or deleted a row written, and the alarm's row`, async () => {
    const { loader, ns, rowsOf } = setup(isolation);
    try {
      const parent = ns.getByName("kv") as any;
      assert.deepEqual(await parent.run("kv"), { listed: 2, got: 2, deleted: 1 });
      // read: get a (1), get missing (0), list (2), get [c, d, zz] (2); written: put a, b, a (3),
      // delete b (1), delete nope (0), put {c, d} (2), delete [c, zz] (1).
      const expected = [{ method: "kv", rowsRead: 5, rowsWritten: 7 }];
      assert.deepEqual(await rowsOf("kv", 1), { tails: expected, streamed: expected });
      // setAlarm and deleteAlarm change the alarm's row; getAlarm counts none.
      assert.equal(await parent.run("alarms"), true);
      const alarms = [{ method: "alarms", rowsRead: 0, rowsWritten: 2 }];
      assert.deepEqual(await rowsOf("alarms", 1), { tails: alarms, streamed: alarms });
    } finally {
      ns.close();
      await loader.close();
    }
  });

  test(`[${isolation}] two calls of one facet in flight together each get the rows of their own storage calls`, async () => {
    const { loader, ns, rowsOf } = setup(isolation);
    try {
      const parent = ns.getByName("concurrent") as any;
      assert.equal(await parent.run("ready"), "ready");
      const slow = parent.run("slow");
      await new Promise((resolve) => setTimeout(resolve, 100));
      // While "slow" waits between its insert and its select.
      assert.equal(await parent.run("fast", 5), 7);
      assert.equal(await slow, 3);
      const fast = [{ method: "fast", rowsRead: 1, rowsWritten: 5 }];
      const slowRows = [{ method: "slow", rowsRead: 3, rowsWritten: 2 }];
      assert.deepEqual(await rowsOf("fast", 1), { tails: fast, streamed: fast });
      assert.deepEqual(await rowsOf("slow", 1), { tails: slowRows, streamed: slowRows });
    } finally {
      ns.close();
      await loader.close();
    }
  });
}

test("a worker that is not a facet has no rows in its trace event", async () => {
  const events: TailEvent[] = [];
  const loader = new WorkerLoader({ tails: [(batch) => void events.push(...batch)] });
  try {
    const worker = loader.load({ compatibilityDate: "2026-01-01", mainModule: "m.js", modules: { "m.js": "export default { add(a, b) { return a + b; } }" } });
    assert.equal(await (worker.getEntrypoint() as any).add(1, 2), 3);
    const deadline = Date.now() + 5_000;
    while (events.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(events.length, 1);
    assert.equal("rowsRead" in events[0]!, false);
    assert.equal("rowsWritten" in events[0]!, false);
  } finally {
    await loader.close();
  }
});
