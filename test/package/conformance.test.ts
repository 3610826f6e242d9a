// islet's host types against Cloudflare's (@cloudflare/workers-types): tsc over
// test/package/cloudflare/conformance.ts, which imports islet by name (dist/*.d.ts, built by npm test).

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);
const root = join(import.meta.dirname, "../..");

test("WorkerLoader, WorkerCode and getEntrypoint<T>() conform to Cloudflare's WorkerLoader, WorkerLoaderWorkerCode and Fetcher<T>", async () => {
  const result = await exec(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "test/package/cloudflare"], { cwd: root, timeout: 60_000 }).then(
    () => "",
    (error: { stdout?: string; message: string }) => error.stdout || error.message,
  );
  assert.equal(result, "");
});
