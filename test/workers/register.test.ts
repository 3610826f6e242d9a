// Host compatibility: a library written for Cloudflare's Worker Loader (it imports from
// "cloudflare:workers" and expects env.LOADER) runs unmodified under `node --import islet/register`.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { DurableObject, RpcTarget as WorkersRpcTarget, WorkerEntrypoint } from "islet/workers";
import { RpcTarget } from "islet";

const root = fileURLToPath(new URL("../..", import.meta.url));

test("islet/workers gives the host the classes cloudflare:workers has", () => {
  assert.equal(WorkersRpcTarget, RpcTarget);
  const entry = new (class extends WorkerEntrypoint<{ A: number }> {
    a() {
      return this.env.A;
    }
  })({ waitUntil() {}, passThroughOnException() {} }, { A: 1 });
  assert.ok(entry instanceof RpcTarget);
  assert.equal(entry.a(), 1);
  assert.ok(new DurableObject({} as never, {}) instanceof RpcTarget);
});

test("node --import islet/register runs a Cloudflare-style host library with an islet WorkerLoader", async () => {
  // Uses the built package (dist/), as an application would.
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "islet/register", "examples/cloudflare-style/main.js"], { cwd: root, timeout: 30_000 });
  assert.deepEqual(JSON.parse(stdout), { answer: "done", notes: ["started at 2026-11-21T12:00:00Z", "2 + 2 = 4"] });
});

test("without the registration, the same library cannot even be imported", async () => {
  await assert.rejects(promisify(execFile)(process.execPath, ["examples/cloudflare-style/main.js"], { cwd: root, timeout: 30_000 }), /cloudflare:|ERR_UNSUPPORTED_ESM_URL_SCHEME|Only URLs with a scheme/);
});
