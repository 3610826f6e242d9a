// `islet backup` / `islet restore`: copies of a running server's Durable Object databases, whole or
// one object's, that a server started on the restored directory reads back.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { testServer } from "../server/helpers.ts";
import { COUNTER } from "../server/processes.ts";

const exec = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const cli = join(root, "src/cli/main.ts");

async function islet(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ["--import", "tsx", cli, ...args], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const add = (id: string, n: number) => ({ code: COUNTER, object: { namespace: "counters", id, class: "Counter" }, method: "add", args: [n] });
const keys = [{ id: "alice", key: "alice-key-123" }];
const auth = { authorization: "Bearer alice-key-123" };

test("islet backup copies a running server's databases, whole or one object's; islet restore puts them back for a new server", async () => {
  const base = mkdtempSync(join(tmpdir(), "islet-backup-"));
  const data = join(base, "data");
  try {
    let server = await testServer({ apiKeys: keys, storage: { dir: data } });
    try {
      assert.equal((await server.post("/v1/run", add("a", 5), auth)).json.result, 5);
      assert.equal((await server.post("/v1/run", add("b", 7), auth)).json.result, 7);
      // While the server holds the databases open.
      const whole = await islet("backup", data, join(base, "whole"));
      assert.equal(whole.code, 0, whole.stderr);
      assert.match(whole.stdout, /backed up \d+ databases/);
      const one = await islet("backup", data, join(base, "one"), "--object", "alice/counters/a");
      assert.equal(one.code, 0, one.stderr);
      assert.match(one.stdout, /backed up 2 databases/);
      assert.equal((await islet("backup", data, join(base, "none"), "--object", "alice/counters/zzz")).code, 1);
      assert.equal((await islet("backup", data, join(base, "whole"))).code, 1, "a backup directory that is not empty is refused");
    } finally {
      await server.close();
    }

    // One object's backup: that object comes back, the other does not exist there.
    const restored = join(base, "restored");
    assert.equal((await islet("restore", join(base, "one"), restored)).code, 0);
    assert.equal((await islet("restore", join(base, "one"), restored)).code, 1, "restoring over existing databases needs --force");
    assert.equal((await islet("restore", join(base, "one"), restored, "--force")).code, 0);
    server = await testServer({ apiKeys: keys, storage: { dir: restored } });
    try {
      assert.equal((await server.post("/v1/run", add("a", 1), auth)).json.result, 6);
      assert.equal((await server.post("/v1/run", add("b", 1), auth)).json.result, 1);
    } finally {
      await server.close();
    }

    // The whole backup: both.
    const all = join(base, "all");
    assert.equal((await islet("restore", join(base, "whole"), all)).code, 0);
    server = await testServer({ apiKeys: keys, storage: { dir: all } });
    try {
      assert.equal((await server.post("/v1/run", add("a", 1), auth)).json.result, 6);
      assert.equal((await server.post("/v1/run", add("b", 1), auth)).json.result, 8);
    } finally {
      await server.close();
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

// An object whose code makes facets of its own (ctx.facets, a class of its own worker), two deep
// under the object's facet: at the deepest depth workerd allows with the host object (4).
const TREE = `import { DurableObject } from "cloudflare:workers";
export class Tree extends DurableObject {
  sub(name) { return this.ctx.facets.get(name, () => ({ class: this.ctx.exports.Tree })); }
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
  async drop(name) { await this.ctx.facets.delete(name); return "dropped"; }
}`;

const tree = (id: string, path: string[], method: string, ...args: unknown[]) => ({ code: TREE, object: { namespace: "trees", id, class: "Tree" }, method: "at", args: [path, method, ...args] });

/** The facets' database files under a data directory. */
function facetFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((file) => /(^|\/)facets\/[0-9a-f]{32}\.sqlite$/.test(file));
}

test("islet backup --object copies the object's whole facet tree (the facets its code made, at every depth, with their index rows); restored into a new directory, every level reads back and delete() still reaches the nested ones", async () => {
  const base = mkdtempSync(join(tmpdir(), "islet-backup-"));
  const data = join(base, "data");
  try {
    const server = await testServer({ apiKeys: keys, storage: { dir: data } });
    try {
      const run = async (body: unknown) => {
        const response = await server.post("/v1/run", body, auth);
        assert.equal(response.status, 200, JSON.stringify(response.json));
        return response.json.result;
      };
      assert.deepEqual(await run(tree("t", [], "add", "object")), ["object"]);
      assert.deepEqual(await run(tree("t", ["a"], "add", "a")), ["a"]);
      assert.deepEqual(await run(tree("t", ["a", "b"], "add", "a/b")), ["a/b"]);
      assert.deepEqual(await run(tree("t", ["c"], "add", "c")), ["c"]);
      // Another object's tree is not part of t's backup.
      assert.deepEqual(await run(tree("u", ["a"], "add", "u/a")), ["u/a"]);
      const one = await islet("backup", data, join(base, "one"), "--object", "alice/trees/t");
      assert.equal(one.code, 0, one.stderr);
      // The host object's database, the object's facet's, a, a/b and c.
      assert.match(one.stdout, /backed up 5 databases/);
    } finally {
      await server.close();
    }

    const restored = join(base, "restored");
    assert.equal((await islet("restore", join(base, "one"), restored)).code, 0);
    assert.equal(facetFiles(restored).length, 4);
    const again = await testServer({ apiKeys: keys, storage: { dir: restored } });
    try {
      const run = async (body: unknown) => (await again.post("/v1/run", body, auth)).json.result;
      assert.deepEqual(await run(tree("t", [], "list")), ["object"]);
      assert.deepEqual(await run(tree("t", ["a"], "list")), ["a"]);
      assert.deepEqual(await run(tree("t", ["a", "b"], "list")), ["a/b"]);
      assert.deepEqual(await run(tree("t", ["c"], "list")), ["c"]);
      assert.deepEqual(await run(tree("u", ["a"], "list")), [], "u was not in the backup");
    } finally {
      await again.close();
    }

    // Restored again, a is deleted before anything started it (nor a/b): the index rows came back
    // with the databases, so a/b's database goes with a's (a running facet indexes itself anew).
    const second = join(base, "second");
    assert.equal((await islet("restore", join(base, "one"), second)).code, 0);
    const third = await testServer({ apiKeys: keys, storage: { dir: second } });
    try {
      const run = async (body: unknown) => (await third.post("/v1/run", body, auth)).json.result;
      assert.equal(await run(tree("t", [], "drop", "a")), "dropped");
      assert.equal(facetFiles(second).length, 2, "the object's facet and c are left");
      assert.deepEqual(await run(tree("t", ["a", "b"], "list")), []);
      assert.deepEqual(await run(tree("t", ["c"], "list")), ["c"]);
    } finally {
      await third.close();
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
