// Nested facets: a facet's own ctx.facets, as workerd allows ("names are hierarchical: if the main
// facet creates a facet called foo, and that facet in turn creates a facet called bar, the latter
// facet's true name is foo/bar"; at most 4 deep with the host object). Each has its own database,
// named by its path and hashed like any facet's; deleting or cloning a facet deletes or clones its
// facets too; aborting one ends its facets; they run under their parent facet's limits.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DurableObjectNamespace, WorkerLoader, type WorkerStub } from "islet";
import { DurableObject } from "islet/workers";

// One class at every level: `at(path, method, …args)` walks down its own facets.
const APP = `
import { DurableObject } from "cloudflare:workers";
let calls = 0;
let callbacks = 0;
export class Node extends DurableObject {
  sub(name, props) {
    return this.ctx.facets.get(name, () => {
      callbacks++;
      return { class: props === undefined ? this.ctx.exports.Node : this.ctx.exports.Node({ props }) };
    });
  }
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
  who() { return { id: this.ctx.id.toString(), name: this.ctx.id.name, props: this.ctx.props }; }
  bump() { return ++calls; }
  callbacks() { return callbacks; }
  withProps(name, props) { return this.sub(name, props).who(); }
  tooDeep(name) { try { this.ctx.facets.get(name, () => ({ class: this.ctx.exports.Node })); return "made"; } catch (error) { return error.message; } }
  async foreignClass(name) { try { return await this.ctx.facets.get(name, () => ({ class: { exportName: "Node" } })).list(); } catch (error) { return error.name + ": " + error.message; } }
  async internalMethod(name) { try { return await this.sub(name)["\\u0000islet:alarm"](0, Date.now()); } catch (error) { return error.name; } }
  async handOut(name) { await this.sub(name).list(); return this.sub(name); }
  async deleteChild(name) { await this.ctx.facets.delete(name); }
  async cloneChild(source, target) { await this.ctx.facets.clone(source, target); }
  holdOpen(ms) {
    return this.ctx.storage.transaction(async () => { this.ctx.storage.kv.put("held", 1); await new Promise((resolve) => setTimeout(resolve, ms)); return "held"; });
  }
  async cloneWhileHeld(source, target, ms) {
    const held = this.sub(source).holdOpen(ms);
    await new Promise((resolve) => setTimeout(resolve, ms / 2));
    let result = "cloned";
    try { await this.ctx.facets.clone(source, target); } catch (error) { result = error.message; }
    await held;
    return result;
  }
  async cloneMany(source, prefix, n) {
    let made = 0;
    for (let k = 0; k < n; k++) {
      try { await this.ctx.facets.clone(source, prefix + k); made++; } catch (error) { return { made, error: error.name + ": " + error.message }; }
    }
    return { made };
  }
  abortChild(name) { this.ctx.facets.abort(name, "bye"); }
  async alarm() {}
  async arm() { try { await this.ctx.storage.setAlarm(Date.now() + 60_000); return "set"; } catch (error) { return error.name; } }
  spin() { for (;;) {} }
  async fanOut(from, to) {
    for (let i = from; i < to; i++) {
      try { await this.sub("f" + i).list(); } catch (error) { return i + ": " + error.name + ": " + error.message; }
    }
    return to;
  }
}
`;

function setup(isolation: "isolate" | "process", options: { dir?: string; maxNestedFacets?: number; maxFacets?: number; limits?: { cpuMs: number } } = {}) {
  const loader = new WorkerLoader({ isolation });
  const worker: WorkerStub = loader.get("nested-app", () => ({ compatibilityDate: "2026-01-01", mainModule: "app.js", modules: { "app.js": APP } }));
  class Parent extends DurableObject {
    at(path: string[], method: string, ...args: unknown[]) {
      return (this.ctx.facets.get(path[0]!, () => ({ class: worker.getDurableObjectClass("Node", { limits: options.limits }) })) as any).at(path.slice(1), method, ...args);
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
  }
  const nsOptions = { name: "nested", storage: options.dir === undefined ? undefined : { dir: options.dir }, facets: { maxNestedFacets: options.maxNestedFacets, maxFacets: options.maxFacets } };
  return { loader, Parent, nsOptions, open: () => new DurableObjectNamespace(Parent, nsOptions) };
}

/** The facets' database files under a storage directory. */
function facetFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((file) => /(^|\/)facets\/[0-9a-f]{32}\.sqlite$/.test(file));
}

for (const isolation of ["isolate", "process"] as const) {
  test(`[${isolation}] a facet's own facets: classes of its own worker (ctx.exports.Name, with props), each with its own database, names hierarchical, at most 4 deep with the host object (workerd's words); the startup callback runs only when the facet is not running`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "islet-nested-"));
    const { loader, open } = setup(isolation, { dir });
    const ns = open();
    try {
      const p = ns.getByName("p") as any;
      assert.deepEqual(await p.at(["a"], "add", "a"), ["a"]);
      assert.deepEqual(await p.at(["a", "b"], "add", "a/b"), ["a/b"]);
      assert.deepEqual(await p.at(["a", "b", "c"], "add", "a/b/c"), ["a/b/c"]);
      // Another path to the same name is another facet: the host object's own "b", a's "c".
      assert.deepEqual(await p.at(["b"], "add", "b"), ["b"]);
      assert.deepEqual(await p.at(["a", "c"], "add", "a/c"), ["a/c"]);
      // A host object's facet whose name holds the separator islet uses is still its own.
      assert.deepEqual(await p.at(["a\u0000b"], "list"), []);
      assert.deepEqual(await p.at(["a", "b"], "list"), ["a/b"]);
      assert.equal(facetFiles(dir).length, 6);
      assert.ok(readdirSync(dir, { recursive: true }).map(String).every((file) => !file.includes("a/b")));

      const who = await p.at(["a", "b"], "who");
      assert.equal(who.name, "b");
      assert.match(who.id, /^[0-9a-f]{32}$/);
      assert.notEqual(who.id, (await p.at(["b"], "who")).id);
      assert.deepEqual(await p.at(["a"], "withProps", "with-props", { plan: "pro" }), { ...(await p.at(["a", "with-props"], "who")), props: { plan: "pro" } });

      // Depth: the host object (1), a (2), a/b (3), a/b/c (4), which can have no facets.
      assert.equal(await p.at(["a", "b"], "tooDeep", "x"), "made");
      assert.equal(await p.at(["a", "b", "c"], "tooDeep", "d"), "Facet nesting depth limit exceeded. The maximum depth including the root Durable Object is 4.");
      await assert.rejects(p.at(["a", "b", "c", "d"], "list"), /Facet nesting depth limit exceeded/);

      // The callback ran once per facet a started (b, c, with-props); calls to running ones do not run it.
      const before = await p.at(["a"], "callbacks");
      await p.at(["a", "b"], "list");
      await p.at(["a", "b"], "list");
      assert.equal(await p.at(["a"], "callbacks"), before);
      await p.at(["a"], "abortChild", "b");
      await p.at(["a", "b"], "list");
      assert.equal(await p.at(["a"], "callbacks"), before + 1);
    } finally {
      ns.close();
      await loader.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`[${isolation}] deleting or cloning a facet deletes or clones its facets at every depth (the host's and a facet's own delete/clone); aborting a facet ends its facets; nested data survives a restart of the host`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "islet-nested-"));
    const { loader, open } = setup(isolation, { dir });
    let ns = open();
    try {
      let p = ns.getByName("p") as any;
      await p.at(["a", "b"], "add", "kept");
      await p.at(["a", "b", "c"], "add", "deep");

      // The host forks a: a2 has a's facets, with their data, and they diverge.
      await p.clone("a", "a2");
      assert.deepEqual(await p.at(["a2", "b"], "add", "fork"), ["kept", "fork"]);
      assert.deepEqual(await p.at(["a2", "b", "c"], "list"), ["deep"]);
      assert.deepEqual(await p.at(["a", "b"], "list"), ["kept"]);

      // A facet forks and deletes its own facets.
      await p.at(["a"], "cloneChild", "b", "b2");
      assert.deepEqual(await p.at(["a", "b2", "c"], "add", "fork of c"), ["deep", "fork of c"]);
      assert.deepEqual(await p.at(["a", "b", "c"], "list"), ["deep"]);
      // Onto a facet that exists: replaced, its facets with it (workerd's clone_facet).
      await p.at(["a"], "cloneChild", "b", "b2");
      assert.deepEqual(await p.at(["a", "b2", "c"], "list"), ["deep"]);
      await p.at(["a"], "deleteChild", "b2");
      assert.deepEqual(await p.at(["a", "b2", "c"], "list"), []);

      // Aborting a facet ends its facets: their module state starts again.
      assert.equal(await p.at(["a", "b"], "bump"), 1);
      assert.equal(await p.at(["a", "b"], "bump"), 2);
      await p.abort("a");
      assert.equal(await p.at(["a", "b"], "bump"), 1);
      await p.at(["a"], "abortChild", "b");
      assert.equal(await p.at(["a", "b"], "bump"), 1);

      // The host deletes a: its facets' databases go with it.
      const files = facetFiles(dir).length;
      await p.delete("a");
      assert.equal(facetFiles(dir).length, files - 5, "a, a/b, a/b/c, and a/b2 and a/b2/c (made again, empty, above) are gone");
      assert.deepEqual(await p.at(["a", "b"], "list"), []);
      assert.deepEqual(await p.at(["a", "b", "c"], "list"), []);

      // A restart: the fork's facets are on disk.
      ns.close();
      ns = open();
      p = ns.getByName("p") as any;
      assert.deepEqual(await p.at(["a2", "b"], "list"), ["kept", "fork"]);
      assert.deepEqual(await p.at(["a2", "b", "c"], "list"), ["deep"]);
    } finally {
      ns.close();
      await loader.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`[${isolation}] hostile nested facets: only the worker's own classes; no alarms (NestedFacetAlarmError); maxNestedFacets counts every depth and nothing is made past it; islet's internal methods are refused; a stub cannot be handed out; a nested facet runs under its parent's limits`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "islet-nested-"));
    const { loader, open } = setup(isolation, { dir, maxNestedFacets: 3, limits: { cpuMs: 300 } });
    const ns = open();
    try {
      const p = ns.getByName("p") as any;
      assert.match(await p.at(["a"], "foreignClass", "x"), /^TypeError: facets\.get: the callback must return \{ class \} with a class of this worker's own/);
      assert.equal(await p.at(["a"], "arm"), "set", "a host object's facet has alarms");
      assert.equal(await p.at(["a", "b"], "arm"), "NestedFacetAlarmError");
      assert.equal(await p.at(["a"], "internalMethod", "b"), "TypeError");
      await assert.rejects(p.at(["a"], "handOut", "b"), { name: "DataCloneError", message: /DurableObjectStub object could not be cloned/ });

      // Three nested facets under a, at any depth: b (above), b/c, d; then no more.
      await p.at(["a", "b", "c"], "add", "1");
      await p.at(["a", "d"], "add", "2");
      const files = facetFiles(dir).length;
      await assert.rejects(p.at(["a", "e"], "add", "3"), /at most 3 nested facets under one facet of a host object/);
      await assert.rejects(p.at(["a", "b", "f"], "add", "3"), /at most 3 nested facets/);
      assert.equal(facetFiles(dir).length, files, "nothing was made past the limit");
      // Another host object's facet has its own count.
      assert.deepEqual(await p.at(["other", "e"], "add", "ok"), ["ok"]);
      // Deleting b (and b/c) makes room for two.
      await p.at(["a"], "deleteChild", "b");
      assert.deepEqual(await p.at(["a", "e"], "add", "3"), ["3"]);
      assert.deepEqual(await p.at(["a", "e", "f"], "add", "4"), ["4"]);
      await assert.rejects(p.at(["a", "g"], "add", "5"), /at most 3 nested facets/);
      await assert.rejects(p.at(["a"], "cloneChild", "e", "e2"), /past 3 nested facets/);

      // The parent facet's limits hold for its facets (cpuMs 300 here); the parent goes on.
      await assert.rejects(p.at(["a", "e", "f"], "spin"), /CpuLimitError|exceeded its CPU/);
      assert.deepEqual(await p.at(["a", "e", "f"], "list"), ["4"]);
    } finally {
      ns.close();
      await loader.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`[${isolation}] findings21/02: a nested facet's clones count against maxNestedFacets at every depth (a leaf's too), are indexed under their parent and deleted with it (files and counts), also after a restart; clone onto an existing name replaces it in place; the host's clone of its facet counts against maxFacets`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "islet-nested-"));
    const { loader, open } = setup(isolation, { dir, maxNestedFacets: 4, maxFacets: 8 });
    let ns = open();
    const files = () => facetFiles(dir).length;
    try {
      let m = ns.getByName("mallory") as any;
      assert.deepEqual(await m.at(["root", "leaf"], "add", "x"), ["x"]);
      assert.equal(files(), 2);
      // A clone that fails (its source inside a transaction) takes no place.
      assert.match(await m.at(["root"], "cloneWhileHeld", "leaf", "T", 600), /a transaction is open/);
      assert.equal(files(), 2);
      // leaf is 1 of root's 4; each clone of it is one more, and the fifth is refused with nothing made.
      const first = await m.at(["root"], "cloneMany", "leaf", "L", 20);
      assert.equal(first.made, 3, JSON.stringify(first));
      assert.match(first.error, /^RangeError: .*past 4 nested facets/);
      assert.equal(files(), 5);
      assert.deepEqual(await m.at(["root", "L2"], "list"), ["x"], "a clone has the leaf's data");
      // Onto an existing name: replaced, taking no more room. From a facet never made, with no room left: refused, and its database is not made either.
      await m.at(["root"], "cloneChild", "leaf", "L0");
      assert.equal(files(), 5);
      await assert.rejects(m.at(["root"], "cloneChild", "ghost", "g"), /past 4 nested facets/);
      assert.equal(files(), 5, "nothing was made past the limit");
      // Another host object's facet still has room under maxFacets (before: mallory's clones took all 8).
      assert.deepEqual(await (ns.getByName("bob") as any).at(["app"], "add", "hi"), ["hi"]);
      assert.equal(files(), 6);
      // The host's clone of root would need 5 more databases, past maxFacets: refused, nothing made.
      await assert.rejects(m.clone("root", "root2"), /at most 8 databases/);
      assert.equal(files(), 6);

      // After a restart (the index is on disk), the host deletes root: every database under it goes.
      ns.close();
      ns = open();
      m = ns.getByName("mallory") as any;
      await m.delete("root");
      assert.equal(files(), 1, "only bob's facet is left");

      // The counts went down with it: root has its 4 again.
      assert.deepEqual(await m.at(["root", "leaf"], "add", "y"), ["y"]);
      assert.equal((await m.at(["root"], "cloneMany", "leaf", "L", 20)).made, 3);
      assert.equal(files(), 6);
      assert.deepEqual(await (ns.getByName("carol") as any).at(["app"], "add", "hi"), ["hi"]);
      await m.delete("root");
      assert.equal(files(), 2);

      // One level down: mid's clones of its leaf count under root too, and go with root.
      assert.deepEqual(await m.at(["root", "mid", "leaf"], "add", "z"), ["z"]);
      const deeper = await m.at(["root", "mid"], "cloneMany", "leaf", "D", 20);
      assert.equal(deeper.made, 2, JSON.stringify(deeper));
      assert.deepEqual(await m.at(["root", "mid", "D1"], "list"), ["z"]);
      assert.equal(files(), 7);
      // A clone of mid would copy mid, leaf, D0, D1: 4 more, past 4.
      assert.match((await m.at(["root"], "cloneMany", "mid", "M", 1)).error, /past 4 nested facets/);
      await m.delete("root");
      assert.equal(files(), 2);

      // The host's clone of its facet, within maxFacets: root2 and its leaf are copies, deleted with root2.
      await m.at(["root", "leaf"], "add", "w");
      await m.clone("root", "root2");
      assert.equal(files(), 6);
      assert.deepEqual(await m.at(["root2", "leaf"], "list"), ["w"]);
      await m.delete("root2");
      await m.delete("root");
      assert.equal(files(), 2);

      // And every place is free again: six more host objects' facets, then maxFacets.
      for (let k = 0; k < 6; k++) assert.deepEqual(await (ns.getByName(`other${k}`) as any).at(["app"], "add", "hi"), ["hi"]);
      await assert.rejects((ns.getByName("one-too-many") as any).at(["app"], "add", "hi"), /at most 8 sessions are kept/);
    } finally {
      ns.close();
      await loader.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`[${isolation}] at most 64 nested facets run at once under one host object's facet (each a sandbox its code started); an aborted one makes room`, async () => {
    const { loader, open } = setup(isolation);
    const ns = open();
    try {
      const p = ns.getByName("p") as any;
      assert.equal(await p.at(["a"], "fanOut", 0, 64), 64);
      assert.equal(await p.at(["a"], "fanOut", 64, 65), "64: RangeError: at most 64 nested facets run at once under one facet of a host object; abort some first");
      // Another host object's facet has its own count.
      assert.equal(await p.at(["b"], "fanOut", 0, 1), 1);
      await p.at(["a"], "abortChild", "f0");
      assert.equal(await p.at(["a"], "fanOut", 64, 65), 65);
      // A facet that ends takes its facets' places with it.
      await p.abort("a");
      assert.equal(await p.at(["a"], "fanOut", 100, 164), 164);
    } finally {
      ns.close();
      await loader.close();
    }
  });
}
