import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const exec = promisify(execFile);

test("examples/host.ts (the README example) runs", async () => {
  const { stdout } = await exec(process.execPath, ["--import", "tsx", "examples/host.ts"], { timeout: 30_000 });
  assert.equal(stdout.trim(), "apples: 3");
});

test("npm start runs the hello example", async () => {
  const { stdout } = await exec("npm", ["start", "--silent"], { timeout: 60_000 });
  assert.match(stdout, /result: 'Hello, newcomer! Your slug is newcomer\.'/);
});
