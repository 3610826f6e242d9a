import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { testServer } from "./helpers.ts";

const exec = promisify(execFile);
const KEY = "example-key-0123456789";

test("examples/serve/curl.sh and examples/serve/run.py call /v1/run on a real server", async () => {
  const server = await testServer({ apiKeys: [{ id: "examples", key: KEY }] });
  try {
    const env = { ...process.env, ISLET_URL: server.url, ISLET_API_KEY: KEY };
    const curl = await exec("sh", ["examples/serve/curl.sh"], { env, timeout: 20_000 });
    const answer = JSON.parse(curl.stdout);
    assert.equal(answer.result, "Hello, curl!");
    assert.deepEqual(answer.logs[0].message, ["greeting", "curl"]);
    assert.equal(answer.outcome, "ok");

    const python = await exec("python3", ["examples/serve/run.py"], { env, timeout: 20_000 });
    assert.match(python.stdout, /^status: 200$/m);
    assert.match(python.stdout, /^body: \{'total': 10, 'unit': 'apples'\}$/m);
    assert.match(python.stdout, /^logs: \['summing 4 numbers'\]$/m);
    assert.match(python.stdout, /^cpu: [\d.]+ ms, wall: [\d.]+ ms$/m);

    const refused = await exec("python3", ["examples/serve/run.py"], { env: { ...env, ISLET_API_KEY: "wrong-key-0000" }, timeout: 20_000 }).catch((error) => error);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /islet refused the request \(401\): The API key is not valid/);
  } finally {
    await server.close();
  }
});
