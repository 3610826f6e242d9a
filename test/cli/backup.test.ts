// `islet backup` / `islet restore`: copies of a running server's Durable Object databases, whole or
// one object's, that a server started on the restored directory reads back.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
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
