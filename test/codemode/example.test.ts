import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const exec = promisify(execFile);

test("examples/codemode/basic.ts (the README's code-mode example) runs", async () => {
  const { stdout } = await exec(process.execPath, ["--import", "tsx", "examples/codemode/basic.ts"], { timeout: 30_000 });
  assert.match(stdout, /declare const shop: \{\n +\/\*\* Products matching a query \*\/\n +search\(input: \{ query: string \}\): Promise<unknown>;/);
  assert.match(stdout, /\{ order: 'order-l1' \} \[ 'buying Desk lamp' \]\n$/);
});
