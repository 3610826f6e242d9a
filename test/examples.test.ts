import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const exec = promisify(execFile);

test("examples/host.ts (the README example) runs", async () => {
  const { stdout } = await exec(process.execPath, ["--import", "tsx", "examples/host.ts"], { timeout: 30_000 });
  assert.equal(stdout.trim(), "apples: 3");
});

test("examples/durable-objects/notes.ts (the README's Durable Objects example) keeps its notes across runs", async () => {
  const dir = mkdtempSync(join(tmpdir(), "islet-notes-"));
  try {
    for (const expected of ["1", "2"]) {
      const { stdout } = await exec(process.execPath, ["--import", "tsx", "examples/durable-objects/notes.ts", dir], { timeout: 30_000 });
      assert.equal(stdout.trim(), expected);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("examples/durable-objects/app-facets.ts (the README's facets example) keeps the sandboxed app's data across runs", async () => {
  const dir = mkdtempSync(join(tmpdir(), "islet-facets-"));
  try {
    for (const expected of ["1", "2"]) {
      const { stdout } = await exec(process.execPath, ["--import", "tsx", "examples/durable-objects/app-facets.ts", dir], { timeout: 30_000 });
      assert.equal(stdout.trim(), expected);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("npm start serves the playground and /v1/run, and prints where", async () => {
  // The process group is killed at the end: npm starts the server in a shell of its own.
  const child = spawn("npm", ["start", "--silent"], { env: { ...process.env, ISLET_PORT: "0" }, detached: true, stdio: ["ignore", "ignore", "pipe"] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let stderr = "";
      child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
        stderr += chunk;
        const match = /playground at (http:\/\/127\.0\.0\.1:\d+)\//.exec(stderr);
        if (match) resolve(match[1]);
      });
      child.once("exit", (code) => reject(new Error(`npm start exited (${code}): ${stderr}`)));
      setTimeout(() => reject(new Error(`npm start printed no URL: ${stderr}`)), 30_000).unref();
    });
    const page = await fetch(url + "/");
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>[^<]*islet/i);
    const run = await fetch(url + "/v1/run", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code: "export default { greet(name) { return `Hello, ${name}!`; } }", method: "greet", args: ["newcomer"] }),
    });
    assert.equal(((await run.json()) as { result: unknown }).result, "Hello, newcomer!");
  } finally {
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      // already gone
    }
  }
});
