// Storage: a facet's database (a dynamic worker's Durable Object class run by a host object, its
// SQL in the storage process, synchronous inside the sandbox) against the same work on plain
// node:sqlite in this process, in a file with WAL as islet's. Samples in ms.

import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { DurableObjectNamespace, WorkerLoader } from "../src/index.ts";
import { DurableObject } from "../src/workers.ts";
import { COMPAT_DATE } from "./fixtures.ts";
import { now, type Subject } from "./stats.ts";

const APP = `import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  first() { return this.ctx.storage.sql.exec("SELECT 1 AS one").one().one; }
  writes(n, together) {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)");
    const write = () => { for (let i = 0; i < n; i++) this.ctx.storage.sql.exec("INSERT INTO t (v) VALUES (?)", "value " + i); };
    if (together) this.ctx.storage.transactionSync(write); else write();
    return n;
  }
  fill(mb) {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS big (b BLOB)");
    this.ctx.storage.transactionSync(() => { for (let i = 0; i < mb * 16; i++) this.ctx.storage.sql.exec("INSERT INTO big VALUES (randomblob(65536))"); });
    return this.ctx.storage.sql.databaseSize;
  }
}`;

export const STORAGE_WRITES = 1_000;
export const FORK_MB = 10;

interface FacetRig {
  dir: string;
  loader: WorkerLoader;
  ns: DurableObjectNamespace;
  parent: any;
  n: number;
}

async function facetRig(): Promise<FacetRig> {
  const dir = mkdtempSync(join(tmpdir(), "islet-bench-facets-"));
  const loader = new WorkerLoader();
  const app = loader.get("bench-app", () => ({ compatibilityDate: COMPAT_DATE, mainModule: "app.js", modules: { "app.js": APP } }));
  class Parent extends DurableObject {
    call(name: string, method: string, ...args: unknown[]) {
      return (this.ctx.facets.get(name, () => ({ class: app.getDurableObjectClass("App") })) as any)[method](...args);
    }
    clone(source: string, target: string) {
      return this.ctx.facets.clone(source, target);
    }
  }
  const ns = new DurableObjectNamespace(Parent, { name: "bench", storage: { dir } });
  return { dir, loader, ns, parent: ns.getByName("p"), n: 0 };
}

async function closeRig(rig: FacetRig | undefined): Promise<void> {
  if (rig === undefined) return;
  rig.ns.close();
  await rig.loader.close();
  rmSync(rig.dir, { recursive: true, force: true });
}

function plainDb(path: string): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
  return db;
}

/** A facet's first query: a new facet (its worker started, its database made, its constructor run) answering one SELECT. */
export function storageFirstQuerySubjects(perRound: number): Subject[] {
  let rig: FacetRig | undefined;
  let dir = "";
  let n = 0;
  return [
    {
      name: "islet facet",
      perRound,
      note: "ctx.facets.get() of a new name, then one call running SELECT 1: a new isolate, a new database file in the storage process",
      async setup() {
        rig = await facetRig();
        await rig.parent.call("warm", "first");
      },
      async sample(count) {
        const out: number[] = [];
        for (let i = 0; i < count; i++) {
          const t = now();
          const one = await rig!.parent.call(`f${rig!.n++}`, "first");
          out.push(now() - t);
          if (one !== 1) throw new Error("unexpected answer");
        }
        return out;
      },
      teardown: () => closeRig(rig),
    },
    {
      name: "node:sqlite (this process)",
      perRound,
      note: "a new database file opened (WAL) and one SELECT",
      async setup() {
        dir = mkdtempSync(join(tmpdir(), "islet-bench-sqlite-"));
      },
      async sample(count) {
        const out: number[] = [];
        for (let i = 0; i < count; i++) {
          const t = now();
          const db = plainDb(join(dir, `d${n++}.sqlite`));
          db.prepare("SELECT 1 AS one").get();
          out.push(now() - t);
          db.close();
        }
        return out;
      },
      async teardown() {
        rmSync(dir, { recursive: true, force: true });
      },
    },
  ];
}

/** 1,000 small writes in one call: each statement committed on its own, or in one transaction. */
export function storageWriteSubjects(perRound: number): Subject[] {
  const subjects: Subject[] = [];
  for (const together of [false, true]) {
    let rig: FacetRig | undefined;
    subjects.push({
      name: `islet facet, ${together ? "one transactionSync" : "each write committed"}`,
      perRound,
      note: `one call making ${STORAGE_WRITES} INSERTs through ctx.storage.sql.exec (a blocking call each)`,
      async setup() {
        rig = await facetRig();
        await rig.parent.call("w", "writes", 10, together);
      },
      async sample(count) {
        const out: number[] = [];
        for (let i = 0; i < count; i++) {
          const t = now();
          await rig!.parent.call("w", "writes", STORAGE_WRITES, together);
          out.push(now() - t);
        }
        return out;
      },
      teardown: () => closeRig(rig),
    });
    let dir = "";
    let db: DatabaseSync | undefined;
    subjects.push({
      name: `node:sqlite, ${together ? "one transaction" : "each write committed"}`,
      perRound,
      async setup() {
        dir = mkdtempSync(join(tmpdir(), "islet-bench-sqlite-"));
        db = plainDb(join(dir, "w.sqlite"));
        db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
      },
      async sample(count) {
        const out: number[] = [];
        for (let i = 0; i < count; i++) {
          const t = now();
          if (together) db!.exec("BEGIN");
          for (let j = 0; j < STORAGE_WRITES; j++) db!.prepare("INSERT INTO t (v) VALUES (?)").run(`value ${j}`);
          if (together) db!.exec("COMMIT");
          out.push(now() - t);
        }
        return out;
      },
      async teardown() {
        db?.close();
        rmSync(dir, { recursive: true, force: true });
      },
    });
  }
  return subjects;
}

/** A fork of a 10 MB database: facets.clone() against a checkpoint and a file copy with node:sqlite. */
export function storageForkSubjects(perRound: number): Subject[] {
  let rig: FacetRig | undefined;
  let dir = "";
  let db: DatabaseSync | undefined;
  let n = 0;
  return [
    {
      name: "islet facets.clone()",
      perRound,
      note: `a facet holding ${FORK_MB} MB, cloned to a new name (committed, checkpointed and copied in the storage process)`,
      async setup() {
        rig = await facetRig();
        await rig.parent.call("source", "fill", FORK_MB);
      },
      async sample(count) {
        const out: number[] = [];
        for (let i = 0; i < count; i++) {
          const t = now();
          await rig!.parent.clone("source", `fork${rig!.n++}`);
          out.push(now() - t);
        }
        return out;
      },
      teardown: () => closeRig(rig),
    },
    {
      name: "node:sqlite checkpoint + file copy",
      perRound,
      async setup() {
        dir = mkdtempSync(join(tmpdir(), "islet-bench-sqlite-"));
        db = plainDb(join(dir, "source.sqlite"));
        db.exec("CREATE TABLE big (b BLOB)");
        db.exec("BEGIN");
        for (let i = 0; i < FORK_MB * 16; i++) db.exec("INSERT INTO big VALUES (randomblob(65536))");
        db.exec("COMMIT");
      },
      async sample(count) {
        const out: number[] = [];
        for (let i = 0; i < count; i++) {
          const t = now();
          db!.exec("PRAGMA wal_checkpoint(TRUNCATE)");
          copyFileSync(join(dir, "source.sqlite"), join(dir, `fork${n++}.sqlite`));
          out.push(now() - t);
        }
        return out;
      },
      async teardown() {
        db?.close();
        rmSync(dir, { recursive: true, force: true });
      },
    },
  ];
}
