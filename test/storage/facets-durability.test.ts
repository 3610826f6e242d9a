// kill -9 through facets: a child process writes through a facet in a loop, printing each value
// once its write is acknowledged; the child's whole process group (the host, its storage process
// and, in process isolation, its sandbox processes) is killed with SIGKILL at a random moment,
// several times; every acknowledged write must be there afterwards, and the facet's database file
// must pass SQLite's integrity check.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { deserialize } from "node:v8";
import { DurableObjectNamespace, WorkerLoader } from "islet";
import { DurableObject } from "islet/workers";
import { sleep } from "../helpers.ts";

// The facet: each append is one transaction of a SQL row and a KV entry.
const APP = `
import { DurableObject } from "cloudflare:workers";
export class Log extends DurableObject {
  append(i) {
    this.ctx.storage.transactionSync(() => {
      this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS log (i INTEGER PRIMARY KEY, pad BLOB)");
      this.ctx.storage.sql.exec("INSERT INTO log VALUES (?, randomblob(200))", i);
      this.ctx.storage.kv.put("last", i);
    });
  }
  read() {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS log (i INTEGER PRIMARY KEY, pad BLOB)");
    const { n, max } = this.ctx.storage.sql.exec("SELECT count(*) AS n, max(i) AS max FROM log").one();
    return { n, max, last: this.ctx.storage.kv.get("last") };
  }
}
`;

const writer = `
  import { DurableObjectNamespace, WorkerLoader } from "islet";
  import { DurableObject } from "islet/workers";
  const [dir, start, isolation] = process.argv.slice(1);
  const loader = new WorkerLoader({ isolation });
  const app = loader.get("log-app", () => ({ compatibilityDate: "2026-01-01", mainModule: "app.js", modules: { "app.js": ${JSON.stringify(APP)} } }));
  class Parent extends DurableObject {
    append(i) {
      return this.ctx.facets.get("log", () => ({ class: app.getDurableObjectClass("Log") })).append(i);
    }
  }
  const ns = new DurableObjectNamespace(Parent, { name: "facet-log", storage: { dir } });
  const stub = ns.getByName("p");
  for (let i = Number(start); ; i++) {
    await stub.append(i);
    process.stdout.write(i + "\\n");
  }
`;

/** The facet's database file: the one SQLite file under the namespace's facets directory. */
function facetFile(dir: string): string {
  const files = readdirSync(dir, { recursive: true })
    .map(String)
    .filter((file) => /(^|\/)facets\/[0-9a-f]+\.sqlite$/.test(file));
  assert.equal(files.length, 1, files.join(", "));
  return join(dir, files[0]!);
}

/** Opened as the kill left it (SQLite replays its WAL), checked, read. */
function checkFile(path: string): { ok: string; n: number; max: number | null; last: number | undefined } {
  const db = new DatabaseSync(path);
  try {
    const ok = (db.prepare("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check;
    const { n, max } = db.prepare("SELECT count(*) AS n, max(i) AS max FROM log").get() as { n: number; max: number | null };
    const row = db.prepare("SELECT value FROM _cf_KV WHERE key = 'last'").get() as { value: Uint8Array } | undefined;
    return { ok, n, max, last: row === undefined ? undefined : (deserialize(row.value) as number) };
  } finally {
    db.close();
  }
}

for (const isolation of ["isolate", "process"] as const) {
  test(`[${isolation}] kill -9 of the host and its storage process at random moments, through a facet: every acknowledged write is there afterwards, the database file intact`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "islet-facet-kill-"));
    const loader = new WorkerLoader({ isolation });
    const app = loader.get("log-app", () => ({ compatibilityDate: "2026-01-01", mainModule: "app.js", modules: { "app.js": APP } }));
    class Reader extends DurableObject {
      read() {
        return (this.ctx.facets.get("log", () => ({ class: app.getDurableObjectClass("Log") })) as any).read();
      }
    }
    let child: ReturnType<typeof spawn> | undefined;
    try {
      let next = 0;
      for (let round = 0; round < 5; round++) {
        // A process group of its own, so that one kill takes the host and every process it started.
        child = spawn(process.execPath, ["--input-type=module", "-e", writer, dir, String(next), isolation], { stdio: ["ignore", "pipe", "pipe"], detached: true });
        let acknowledged = next - 1;
        let buffered = "";
        let stderr = "";
        let exited = false;
        child.stdout!.setEncoding("utf8");
        child.stdout!.on("data", (chunk: string) => {
          buffered += chunk;
          const lines = buffered.split("\n");
          buffered = lines.pop()!;
          for (const line of lines) acknowledged = Number(line);
        });
        child.stderr!.setEncoding("utf8").on("data", (chunk: string) => void (stderr = (stderr + chunk).slice(-4000)));
        const exit = new Promise((resolve) => child!.once("exit", () => resolve((exited = true))));
        // The first acknowledgements, then a random moment more.
        const deadline = Date.now() + 30_000;
        while (acknowledged < next + 5) {
          assert.ok(!exited && Date.now() < deadline, `round ${round}: the writer ${exited ? "exited" : "was too slow"}: ${stderr}`);
          await sleep(5);
        }
        await sleep(Math.random() * 200);
        process.kill(-child.pid!, "SIGKILL");
        await exit;
        child = undefined;
        // The storage process dies with the group (its own exit is not awaited by anyone): a moment for the kernel.
        await sleep(50);

        const file = checkFile(facetFile(dir));
        assert.equal(file.ok, "ok", `round ${round}: integrity_check`);
        // Every acknowledged value is present (one more may be, written but not yet printed).
        assert.ok(file.max !== null && file.max >= acknowledged, `round ${round}: acknowledged ${acknowledged}, stored up to ${file.max}`);
        assert.equal(file.n, file.max! + 1, "no gaps");
        assert.equal(file.last, file.max, "KV and SQL of one transaction commit together");

        // islet reads the same through the facet.
        const ns = new DurableObjectNamespace(Reader, { name: "facet-log", storage: { dir } });
        try {
          assert.deepEqual(await (ns.getByName("p") as any).read(), { n: file.n, max: file.max, last: file.max });
        } finally {
          ns.close();
        }
        next = file.max! + 1;
      }
      assert.ok(next > 25, `${next} writes in all`);
    } finally {
      if (child?.pid !== undefined) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      await loader.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
