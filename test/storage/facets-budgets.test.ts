// Facets against the outside review of findings9: what one facet can make the shared storage
// process and the host spend, and what another tenant's misbehaviour can do to a facet's
// transaction. In isolate isolation (the storage process is the same in process isolation), but for
// the idle limit of a transaction, tested in both.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { DurableObjectNamespace, WorkerLoader, type WorkerStub } from "islet";
import { DurableObject } from "islet/workers";

const APP = `import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  init() {
    const s = this.ctx.storage.sql;
    s.exec("CREATE TABLE IF NOT EXISTS acct (name TEXT PRIMARY KEY, bal INT)");
    s.exec("INSERT OR REPLACE INTO acct VALUES ('alice', 100), ('bob', 0)");
    return "ok";
  }
  async transfer(waitMs) {
    try {
      await this.ctx.storage.transaction(async () => {
        this.ctx.storage.sql.exec("UPDATE acct SET bal = bal - 100 WHERE name = 'alice'");
        await scheduler.wait(waitMs);
        this.ctx.storage.sql.exec("UPDATE acct SET bal = bal + 100 WHERE name = 'bob'");
      });
      return "committed";
    } catch (error) {
      return error.name;
    }
  }
  balances() { return this.ctx.storage.sql.exec("SELECT name, bal FROM acct ORDER BY name").raw().toArray(); }
  spin() { try { this.ctx.storage.sql.exec("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"); } catch (error) { return error.name; } }
  touch() { return this.ctx.storage.sql.exec("SELECT 1 AS one").one().one; }
  multi(n, statements) {
    // One exec of many statements: charged when it answers, as one operation.
    const one = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < " + n + ") SELECT count(*) AS n FROM c;";
    return this.ctx.storage.sql.exec(one.repeat(statements)).one().n;
  }
  failing(n, times) {
    // Work that ends in an error, caught: charged all the same (findings27/02).
    const heavy = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < " + n + ") SELECT count(*) AS n FROM c; SELECT * FROM no_such_table;";
    let failed = 0;
    for (let i = 0; i < times; i++) { try { this.ctx.storage.sql.exec(heavy); } catch { failed++; } }
    return failed;
  }
  count(n, times) {
    let total = 0;
    for (let i = 0; i < times; i++) total += this.ctx.storage.sql.exec("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT count(*) AS n FROM c", n).one().n;
    return total;
  }
  bigValues(keys) {
    for (let i = 0; i < Math.min(keys, 10); i++) this.ctx.storage.kv.put("k" + i, new Uint8Array(2 * 1024 * 1024 - 64));
    // The same key asked for again and again is one entry of the answer; ten distinct ones are 20 MiB.
    return this.ctx.storage.get([...Array(keys).fill("k0"), ...Array.from({ length: Math.min(keys, 10) }, (_, i) => "k" + i)].slice(-keys)).then((map) => map.size);
  }
  wideNames() {
    this.ctx.storage.sql.exec('CREATE VIEW IF NOT EXISTS wide AS SELECT 1 AS "' + "x".repeat(90_000) + '"');
    return this.ctx.storage.sql.exec("SELECT " + Array(100).fill("*").join(", ") + " FROM wide").columnNames.length;
  }
  manyBlobs() {
    return this.ctx.storage.sql.exec("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000) SELECT zeroblob(1000000) FROM c").toArray().length;
  }
  bigSort(rows) {
    try {
      return this.ctx.storage.sql.exec("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT ?) SELECT count(*) AS n, sum(length(v)) AS s FROM (SELECT hex(zeroblob(500000)) || x AS v FROM c ORDER BY random())", rows).one().n;
    } catch (error) {
      return error.name + ": " + error.message;
    }
  }
  fillValues(n) {
    for (let i = 0; i < n; i++) this.ctx.storage.kv.put("v" + String(i).padStart(4, "0"), new Uint8Array(2 * 1024 * 1024 - 64));
    return n;
  }
  async listValues(limit) {
    try { return (await this.ctx.storage.list({ limit })).size; } catch (error) { return error.message; }
  }
  async hold(ms) {
    try {
      await this.ctx.storage.transaction(async () => {
        this.ctx.storage.kv.put("held", true);
        await scheduler.wait(ms);
      });
      return "committed";
    } catch (error) {
      return error.message;
    }
  }
  async idleInTransaction(ms) {
    try {
      await this.ctx.storage.transaction(async () => {
        this.ctx.storage.sql.exec("UPDATE acct SET bal = bal - 100 WHERE name = 'alice'");
        await scheduler.wait(ms);
        this.ctx.storage.sql.exec("UPDATE acct SET bal = bal + 100 WHERE name = 'bob'");
      });
      return "committed";
    } catch (error) {
      return error.name + ": " + error.message;
    }
  }
  async killedInTransaction() {
    await this.ctx.storage.transaction(async () => {
      this.ctx.storage.sql.exec("INSERT INTO acct VALUES ('carol', 1)");
      for (;;) {}
    });
  }
}`;

function setup(callTimeoutMs = 5_000, processMemoryMb?: number, spanIdleMs?: number, isolation?: "isolate" | "process"): { loader: WorkerLoader; ns: DurableObjectNamespace; parent: (name: string) => any } {
  const loader = new WorkerLoader({ isolation });
  const worker: WorkerStub = loader.get("app", () => ({ compatibilityDate: "2026-01-01", mainModule: "app.js", modules: { "app.js": APP } }));
  class Parent extends DurableObject {
    run(facet: string, method: string, ...args: unknown[]) {
      const limits = facet === "spinner" ? { cpuMs: 300 } : undefined;
      return (this.ctx.facets.get(facet, () => ({ class: worker.getDurableObjectClass("App", { limits }) })) as any)[method](...args);
    }
  }
  const ns = new DurableObjectNamespace(Parent, { name: "budgets", facets: { callTimeoutMs, processMemoryMb, spanIdleMs } });
  return { loader, ns, parent: (name) => ns.getByName(name) as any };
}

/** The storage processes under this process (their command line names storage-child). */
function storageChildren(): number[] {
  const children = readdirSync(`/proc/${process.pid}/task`).flatMap((task) => readFileSync(`/proc/${process.pid}/task/${task}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number));
  return children.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("storage-child");
    } catch {
      return false;
    }
  });
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

function peakRssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmHWM:"))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}

test("findings9/02: another tenant's runaway query restarts the storage process mid-transaction; the transaction fails whole (no money from nothing)", async () => {
  const { loader, ns, parent } = setup(400);
  try {
    const victim = parent("victim");
    assert.equal(await victim.run("bank", "init"), "ok");
    const transfer = victim.run("bank", "transfer", 2_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await parent("attacker").run("game", "spin"), "StorageTimeoutError");
    assert.equal(await transfer, "TransactionLostError");
    assert.deepEqual(await victim.run("bank", "balances"), [["alice", 100], ["bob", 0]]);
  } finally {
    ns.close();
    await loader.close();
  }
});

for (const isolation of ["isolate", "process"] as const) {
  test(`findings25/01 (${isolation}): a facet's SQL is charged to its cpuMs: ten recursive queries of about 0.3 s each under cpuMs 300 end with CpuLimitError after the first or second; so do one exec of eight and a loop of failing ones; a small query still answers`, async () => {
    const { loader, ns, parent } = setup(5_000, undefined, undefined, isolation);
    try {
      const tenant = parent("tenant");
      assert.equal(await tenant.run("spinner", "count", 1_000, 1), 1_000);
      const before = storageChildren().reduce((sum, pid) => sum + cpuTicks(pid), 0);
      const started = performance.now();
      await assert.rejects(tenant.run("spinner", "count", 1_500_000, 10), (error: Error) => error.name === "CpuLimitError");
      const elapsed = performance.now() - started;
      const spent = (storageChildren().reduce((sum, pid) => sum + cpuTicks(pid), 0) - before) * 10;
      // Before: all ten ran (about 4 s of the storage process's CPU), charged nothing.
      assert.ok(spent < 1_500, `the storage process spent ${spent} ms of CPU`);
      assert.ok(elapsed < 4_000, `ended after ${elapsed.toFixed(0)} ms`);
      assert.equal(await tenant.run("spinner", "count", 1_000, 1), 1_000);
      // findings27/01: a charge that passes cpuMs ends the call at once, even when the code would
      // return before the watchdog's next look (eight statements in one exec ended ok before).
      await assert.rejects(tenant.run("spinner", "multi", 600_000, 8), (error: Error) => error.name === "CpuLimitError");
      // findings27/02: failed operations are charged too (a loop of them ran to wallMs before).
      const failingStarted = performance.now();
      await assert.rejects(tenant.run("spinner", "failing", 600_000, 1_000), (error: Error) => error.name === "CpuLimitError");
      assert.ok(performance.now() - failingStarted < 4_000, "ended by cpuMs, not wallMs");
      assert.equal(await tenant.run("spinner", "count", 1_000, 1), 1_000);
    } finally {
      ns.close();
      await loader.close();
    }
  });
}

test("findings9/02b: a facet's database inside a transaction is never closed to make room for others (past 64 open)", async () => {
  const { loader, ns, parent } = setup();
  try {
    const victim = parent("victim");
    await victim.run("bank", "init");
    const transfer = victim.run("bank", "transfer", 1_500);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await Promise.all(Array.from({ length: 70 }, (_, i) => parent(`user-${i}`).run("app", "touch")));
    assert.equal(await transfer, "committed");
    assert.deepEqual(await victim.run("bank", "balances"), [["alice", 0], ["bob", 100]]);
  } finally {
    ns.close();
    await loader.close();
  }
});

test("findings9/01, 03, 06: get() of many keys, wide column names and many blobs are refused by the answer cap before the storage process holds them", async () => {
  const { loader, ns, parent } = setup();
  try {
    const p = parent("greedy");
    await assert.rejects(p.run("app", "bigValues", 200), /at most 128 keys/);
    await assert.rejects(p.run("app", "bigValues", 100), /one storage answer is at most 8388608/);
    assert.equal(await p.run("app", "bigValues", 3), 3);
    await assert.rejects(p.run("app", "wideNames"), /one storage answer is at most/);
    await assert.rejects(p.run("app", "manyBlobs"), /one storage answer is at most/);
    const [child] = storageChildren();
    assert.ok(child !== undefined, "the storage process is found");
    // 1,000 blobs of 1 MB once took it to 2 GB: now it stops reading at 8 MiB.
    assert.ok(peakRssMb(child) < 400, `the storage process peaked at ${Math.round(peakRssMb(child))} MB`);
    assert.equal(await p.run("app", "touch"), 1);
  } finally {
    ns.close();
    await loader.close();
  }
});

test("findings8/04: an in-memory sort past facets.processMemoryMb kills the storage process (StorageMemoryError); the facet goes on", async () => {
  const { loader, ns, parent } = setup(20_000, 200);
  try {
    const p = parent("sorter");
    assert.equal(await p.run("bank", "init"), "ok");
    // 400 rows of 1 MB sorted in memory took the storage process to about 430 MB before.
    assert.match(await p.run("app", "bigSort", 400), /^StorageMemoryError: The storage process passed its memory budget of 200 MiB/);
    assert.equal(await p.run("app", "bigSort", 20), 20);
    assert.deepEqual(await p.run("bank", "balances"), [["alice", 100], ["bob", 0]]);
  } finally {
    ns.close();
    await loader.close();
  }
});

test("findings9/04, 05: a facet killed inside a transaction leaves the storage process idle; close() during a runaway query ends the storage process", async () => {
  const { loader, ns, parent } = setup(60_000);
  try {
    const p = parent("killed");
    await p.run("spinner", "init");
    await assert.rejects(p.run("spinner", "killedInTransaction"), /CpuLimitError|CPU/);
    const [child] = storageChildren();
    const before = cpuTicks(child);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const spent = cpuTicks(child) - before;
    assert.ok(spent < 20, `the storage process spent ${spent} ticks in a second with nothing to do`);
    assert.deepEqual(await p.run("spinner", "balances"), [["alice", 100], ["bob", 0]]);

    // A runaway query with a deadline of a minute, then close().
    const runaway = parent("runaway").run("app", "spin");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [busy] = storageChildren();
    ns.close();
    await runaway.catch(() => {});
    const deadline = Date.now() + 3_000;
    while (Date.now() < deadline && storageChildren().includes(busy)) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(!storageChildren().includes(busy), "the busy storage process ended with close()");
  } finally {
    ns.close();
    await loader.close();
  }
});

for (const isolation of ["isolate", "process"] as const) {
  test(`[${isolation}] a facet's transaction left open with no storage call past the idle limit (60 s; 300 ms here) is rolled back: its next call in it fails with TransactionLostError, nothing of it committed, and the facet goes on`, async () => {
    const { loader, ns, parent } = setup(5_000, undefined, 300, isolation);
    try {
      const p = parent("idle");
      assert.equal(await p.run("app", "init"), "ok");
      // Within the limit, the transaction commits.
      assert.equal(await p.run("app", "idleInTransaction", 50), "committed");
      assert.deepEqual(await p.run("app", "balances"), [["alice", 0], ["bob", 100]]);
      await p.run("app", "init");
      assert.match(await p.run("app", "idleInTransaction", 1_500), /^TransactionLostError: The transaction was lost before it ended/);
      // Alice's debit was rolled back with it: no money lost.
      assert.deepEqual(await p.run("app", "balances"), [["alice", 100], ["bob", 0]]);
      assert.equal(await p.run("app", "idleInTransaction", 50), "committed");
      assert.deepEqual(await p.run("app", "balances"), [["alice", 0], ["bob", 100]]);
    } finally {
      ns.close();
      await loader.close();
    }
  });
}

test("findings10/02: list() reads stored values one at a time against its answer cap: 240 MB stored, the storage process never holds them", async () => {
  const { loader, ns, parent } = setup();
  try {
    const p = parent("lister");
    assert.equal(await p.run("app", "fillValues", 120), 120);
    assert.equal(await p.run("app", "listValues", 3), 3);
    assert.match(await p.run("app", "listValues", 120), /one storage answer is at most/);
    const [child] = storageChildren();
    assert.ok(peakRssMb(child) < 200, `the storage process peaked at ${Math.round(peakRssMb(child))} MB`);
  } finally {
    ns.close();
    await loader.close();
  }
});

test("findings10/03: at most 64 databases hold open transactions at once in one storage process; the others are told to try again", async () => {
  const { loader, ns, parent } = setup();
  try {
    const answers = await Promise.all(Array.from({ length: 70 }, (_, i) => parent(`holder-${i}`).run("app", "hold", 1_500)));
    const refused = answers.filter((answer: string) => /too many transactions are open at once/.test(answer)).length;
    assert.equal(refused, 6, answers.join(" | "));
    assert.equal(answers.filter((answer: string) => answer === "committed").length, 64);
    // Once they end, a new one opens.
    assert.equal(await parent("holder-later").run("app", "hold", 10), "committed");
  } finally {
    ns.close();
    await loader.close();
  }
});
