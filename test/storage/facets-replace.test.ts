// Replacing and deleting facets' storage as workerd and Cloudflare do:
// - ctx.facets.clone(source, target) onto a target that exists replaces it (workerd's
//   clone_facet: "Replacing a facet implies aborting it", the target's storage goes first, as
//   delete() would drop it, then the copy); cloning a facet onto itself only ends it.
// - ctx.storage.deleteAll() of a host object deletes its facets' storage too, at every depth (an
//   object's storage holds its facets' databases; workerd's deleteAll() resets the database and
//   deletes the facets' storage under it), and its running facets end; a facet's deleteAll()
//   deletes its own facets' storage.
// Nothing is left on disk, and the limits count what the replaced storage freed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DurableObjectNamespace, WorkerLoader } from "islet";
import { DurableObject } from "islet/workers";

const APP = `
import { DurableObject } from "cloudflare:workers";
let calls = 0;
export class Node extends DurableObject {
  sub(name) { return this.ctx.facets.get(name, () => ({ class: this.ctx.exports.Node })); }
  async at(path, method, ...args) {
    if (path.length === 0) return this[method](...args);
    return this.sub(path[0]).at(path.slice(1), method, ...args);
  }
  add(text) {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (text TEXT)");
    this.ctx.storage.sql.exec("INSERT INTO t VALUES (?)", text);
    return this.list();
  }
  list() {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (text TEXT)");
    return this.ctx.storage.sql.exec("SELECT text FROM t").toArray().map((row) => row.text);
  }
  bump() { return ++calls; }
  nap(ms) { return scheduler.wait(ms); }
  async arm() { await this.ctx.storage.setAlarm(Date.now() + 3_600_000); return this.ctx.storage.getAlarm(); }
  alarmAt() { return this.ctx.storage.getAlarm(); }
  async alarm() {}
  async cloneChild(source, target) { await this.ctx.facets.clone(source, target); }
  async wipe() { await this.ctx.storage.deleteAll(); }
}
`;

function setup(isolation: "isolate" | "process", dir: string, facets: { maxNestedFacets?: number; maxFacets?: number } = {}) {
  const loader = new WorkerLoader({ isolation });
  const worker = loader.get("replace-app", () => ({ compatibilityDate: "2026-01-01", mainModule: "app.js", modules: { "app.js": APP } }));
  class Parent extends DurableObject {
    at(path: string[], method: string, ...args: unknown[]) {
      return (this.ctx.facets.get(path[0]!, () => ({ class: worker.getDurableObjectClass("Node") })) as any).at(path.slice(1), method, ...args);
    }
    clone(source: string, target: string) {
      return this.ctx.facets.clone(source, target);
    }
    mine(value?: string) {
      if (value !== undefined) this.ctx.storage.kv.put("mine", value);
      return this.ctx.storage.kv.get("mine") ?? null;
    }
    wipe() {
      return this.ctx.storage.deleteAll();
    }
  }
  const open = () => new DurableObjectNamespace(Parent, { name: "replace", storage: { dir }, facets });
  return { loader, open };
}

/** The facets' database files (and their -wal/-shm) under a storage directory. */
function facetFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((file) => /(^|\/)facets\/[0-9a-f]{32}\.sqlite(-wal|-shm)?$/.test(file));
}
const databases = (dir: string) => facetFiles(dir).filter((file) => file.endsWith(".sqlite")).length;

for (const isolation of ["isolate", "process"] as const) {
  test(`[${isolation}] clone() onto a facet that exists replaces it: a running target ends (its call in flight fails, its module state goes), its storage and its facets' are dropped, the copy counts once against maxFacets and maxNestedFacets; clone(x, x) only ends x`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "islet-replace-"));
    const { loader, open } = setup(isolation, dir, { maxFacets: 6, maxNestedFacets: 3 });
    const ns = open();
    try {
      const p = ns.getByName("p") as any;
      assert.deepEqual(await p.at(["app"], "add", "source"), ["source"]);
      assert.deepEqual(await p.at(["fork"], "add", "old fork"), ["old fork"]);
      assert.deepEqual(await p.at(["fork", "child"], "add", "old child"), ["old child"]);
      assert.equal(await p.at(["fork"], "bump"), 1);
      assert.equal(databases(dir), 3);

      // The target runs a call while it is replaced: that call fails, and the next starts a new sandbox.
      // (Its outcome is taken at once: it fails while the clone is awaited.)
      const napping = p.at(["fork"], "nap", 5_000).then(() => "finished", (error: Error) => error.message);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await p.clone("app", "fork");
      assert.match(await napping, /replaced by a clone/);
      assert.deepEqual(await p.at(["fork"], "list"), ["source"]);
      assert.deepEqual(await p.at(["fork", "child"], "list"), [], "the old target's facets went with it");
      assert.equal(await p.at(["fork"], "bump"), 1);
      // fork/child was made again (empty) by the list above: app, fork, fork/child.
      assert.equal(databases(dir), 3);

      // The fork diverges from its source as any fork does.
      assert.deepEqual(await p.at(["fork"], "add", "new fork"), ["source", "new fork"]);
      assert.deepEqual(await p.at(["app"], "list"), ["source"]);

      // Replacing again and again takes no more room: maxFacets 6 holds.
      for (let k = 0; k < 5; k++) await p.clone("app", "fork");
      assert.equal(databases(dir), 2);
      assert.deepEqual(await p.at(["fork"], "list"), ["source"]);

      // Nested: a facet's clone onto its own facet that exists replaces it, within maxNestedFacets 3.
      assert.deepEqual(await p.at(["app", "leaf"], "add", "leaf"), ["leaf"]);
      assert.deepEqual(await p.at(["app", "other"], "add", "other"), ["other"]);
      await p.at(["app"], "cloneChild", "leaf", "copy");
      await p.at(["app"], "cloneChild", "leaf", "copy");
      await p.at(["app"], "cloneChild", "other", "copy");
      assert.deepEqual(await p.at(["app", "copy"], "list"), ["other"]);
      await p.at(["app"], "cloneChild", "leaf", "other");
      assert.deepEqual(await p.at(["app", "other"], "list"), ["leaf"]);
      assert.equal(databases(dir), 5);

      // A facet cloned onto itself: it ends, its storage stays.
      assert.equal(await p.at(["app"], "bump"), 1);
      assert.equal(await p.at(["app"], "bump"), 2);
      await p.clone("app", "app");
      assert.equal(await p.at(["app"], "bump"), 1);
      assert.deepEqual(await p.at(["app"], "list"), ["source"]);
      assert.deepEqual(await p.at(["app", "leaf"], "list"), ["leaf"]);
    } finally {
      ns.close();
      await loader.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`[${isolation}] a host object's deleteAll() deletes its facets' storage at every depth (nothing left on disk, also for facets made before a restart) and ends its running facets; a facet's deleteAll() deletes its own facets' storage`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "islet-replace-"));
    const { loader, open } = setup(isolation, dir);
    let ns = open();
    try {
      let p = ns.getByName("p") as any;
      let other = ns.getByName("other") as any;
      await p.mine("parent's");
      assert.deepEqual(await p.at(["a"], "add", "a"), ["a"]);
      assert.deepEqual(await p.at(["a", "b"], "add", "a/b"), ["a/b"]);
      assert.deepEqual(await p.at(["a", "b", "c"], "add", "a/b/c"), ["a/b/c"]);
      assert.deepEqual(await other.at(["a"], "add", "other's"), ["other's"]);
      assert.equal(databases(dir), 4);

      // Made before a restart and not running after it: found all the same.
      ns.close();
      ns = open();
      p = ns.getByName("p") as any;
      other = ns.getByName("other") as any;
      assert.deepEqual(await p.at(["d"], "add", "d"), ["d"]);
      assert.equal(await p.at(["d"], "bump"), 1);
      assert.ok(typeof (await p.at(["d"], "arm")) === "number");
      assert.equal(databases(dir), 5);

      const napping = p.at(["d"], "nap", 5_000).then(() => "finished", (error: Error) => error.message);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await p.wipe();
      assert.match(await napping, /deleted its storage/);
      assert.equal(await p.mine(), null);
      assert.equal(databases(dir), 1, "only the other object's facet is left");
      const files = facetFiles(dir);
      assert.deepEqual(files.filter((file) => /-(wal|shm)$/.test(file) && !files.includes(file.replace(/-(wal|shm)$/, ""))), [], "no -wal or -shm of a dropped database is left");
      // Every level reads empty; the running facet starts afresh, its alarm gone with its storage.
      assert.deepEqual(await p.at(["a"], "list"), []);
      assert.deepEqual(await p.at(["a", "b"], "list"), []);
      assert.deepEqual(await p.at(["a", "b", "c"], "list"), []);
      assert.equal(await p.at(["d"], "bump"), 1);
      assert.equal(await p.at(["d"], "alarmAt"), null);
      assert.deepEqual(await other.at(["a"], "list"), ["other's"]);

      // A facet's own deleteAll(): its data and its facets' at every depth; its parent's and siblings' stay.
      assert.deepEqual(await p.at(["a"], "add", "a again"), ["a again"]);
      assert.deepEqual(await p.at(["a", "b"], "add", "b again"), ["b again"]);
      assert.deepEqual(await p.at(["a", "b", "c"], "add", "c again"), ["c again"]);
      assert.deepEqual(await p.at(["e"], "add", "e"), ["e"]);
      const before = databases(dir);
      await p.at(["a"], "wipe");
      assert.equal(databases(dir), before - 2, "a/b and a/b/c are gone (a keeps its emptied database)");
      assert.deepEqual(await p.at(["a", "b", "c"], "list"), []);
      assert.deepEqual(await p.at(["a"], "list"), []);
      assert.deepEqual(await p.at(["e"], "list"), ["e"]);
    } finally {
      ns.close();
      await loader.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test(`[${isolation}] deleteAll() leaves nothing it deleted readable in any file under storage.dir: a facet's own database and the host object's (findings24/01: the rows stayed in free pages and the WAL, and went into every backup)`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "islet-wipe-"));
    const { loader, open } = setup(isolation, dir);
    const ns = open();
    const holding = (marker: string) =>
      readdirSync(dir, { recursive: true })
        .map(String)
        .filter((file) => {
          try {
            return readFileSync(join(dir, file)).includes(marker);
          } catch {
            return false; // a directory
          }
        });
    try {
      const stub = ns.getByName("wiper") as any;
      const facetMarker = `FACET-SECRET-${process.pid}-`;
      const hostMarker = `HOST-SECRET-${process.pid}-`;
      for (let i = 0; i < 20; i++) await stub.at(["app"], "add", facetMarker + i);
      await stub.mine(hostMarker + "kv");
      assert.ok(holding(facetMarker).length > 0 && holding(hostMarker).length > 0, "the markers were written to disk");
      // The facet's own deleteAll(): its database file stays (the facet lives on), its rows do not.
      await stub.at(["app"], "wipe");
      assert.deepEqual(await stub.at(["app"], "list"), []);
      assert.deepEqual(holding(facetMarker), [], "the facet's deleted rows are in no file");
      // The host object's: its own database, and its facets' (those files go altogether).
      await stub.wipe();
      assert.equal(await stub.mine(), null);
      assert.deepEqual(holding(hostMarker), [], "the host object's deleted value is in no file");
      // The object still works afterwards.
      assert.equal(await stub.mine("again"), "again");
    } finally {
      ns.close();
      await loader.close();
    }
    assert.deepEqual([...holding(`FACET-SECRET-${process.pid}-`), ...holding(`HOST-SECRET-${process.pid}-`)], []);
    rmSync(dir, { recursive: true, force: true });
  });
}
