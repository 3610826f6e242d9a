import { test } from "node:test";
import assert from "node:assert/strict";
import type { RunAnswer } from "../../src/server/run.ts";
import { startIslet } from "./process.ts";

const KEY = "cli-serve-key-0123";

async function run(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: RunAnswer }> {
  const response = await fetch(url + "/v1/run", { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as RunAnswer };
}

test("islet serve prints its URL, serves /v1/run with JSON request logs, and on SIGTERM finishes the call in flight", async () => {
  const islet = startIslet(["serve", "--port", "0", "--api-key", KEY]);
  try {
    const [, url] = await islet.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+) \(1 API key\)/);
    assert.equal((await run(url, { code: `export default { run() { return 1; } }` })).status, 401);
    const quick = await run(url, { code: `export default { run() { return "hi"; } }` }, { authorization: `Bearer ${KEY}` });
    assert.equal(quick.json.result, "hi");
    const slow = run(url, { code: `export default { async run() { await scheduler.wait(400); return "finished"; } }` }, { authorization: `Bearer ${KEY}` });
    for (let i = 0; i < 100; i++) {
      const metrics = await (await fetch(url + "/metrics", { headers: { authorization: `Bearer ${KEY}` } })).text();
      if (/^islet_in_flight_calls 1$/m.test(metrics)) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    islet.child.kill("SIGTERM");
    await islet.waitFor(/SIGTERM: finishing 1 call in flight/);
    const answer = await slow;
    assert.equal(answer.status, 200);
    assert.equal(answer.json.result, "finished");
    assert.equal(await islet.exited, 0);
    assert.match(islet.stderr(), /islet serve: stopped/);
    const lines = islet.stdout().trim().split("\n").map((line) => JSON.parse(line));
    const runs = lines.filter((line) => line.path === "/v1/run");
    assert.deepEqual(runs.map((line) => [line.method, line.status, line.key]), [["POST", 401, null], ["POST", 200, "cli1"], ["POST", 200, "cli1"]]);
    assert.ok(!islet.stdout().includes(KEY));
  } finally {
    await islet.stop();
  }
});

test("islet serve explains a port in use, a public host without keys, and bad flags", async () => {
  const first = startIslet(["serve", "--port", "0", "--quiet"]);
  try {
    const [, port] = await first.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
    const second = startIslet(["serve", "--port", port]);
    assert.equal(await second.exited, 1);
    assert.match(second.stderr(), new RegExp(`islet: port: port ${port} on 127\\.0\\.0\\.1 is already in use.*--port ${Number(port) + 1}, or --port 0`));
  } finally {
    await first.stop();
  }
  const open = startIslet(["serve", "--host", "0.0.0.0", "--port", "0"]);
  assert.equal(await open.exited, 1);
  assert.match(open.stderr(), /refusing to serve 0\.0\.0\.0 without API keys.*ISLET_API_KEYS/);
  const badPort = startIslet(["serve", "--port", "http"]);
  assert.equal(await badPort.exited, 1);
  assert.match(badPort.stderr(), /--port must be a port number from 0 to 65535/);
});

test("islet serve reads ISLET_PORT/ISLET_API_KEYS from the environment", async () => {
  const islet = startIslet(["serve", "--quiet"], { ISLET_PORT: "0", ISLET_API_KEYS: `env-team:${KEY}` });
  try {
    const [, url] = await islet.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+) \(1 API key\)/);
    const answer = await run(url, { code: `export default { run() { return 2; } }` }, { "x-api-key": KEY });
    assert.equal(answer.json.result, 2);
  } finally {
    await islet.stop();
  }
});

test("islet serve --allow-host with the config's outbound.credentials: the allowed upstream gets the header from the environment, the audit line goes to the log, another host is refused", async () => {
  const { createServer } = await import("node:http");
  const { mkdtempSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const seen: (string | string[] | undefined)[] = [];
  const upstream = createServer((req, res) => {
    seen.push(req.headers["x-upstream-key"]);
    res.end("upstream");
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const host = `127.0.0.1:${(upstream.address() as import("node:net").AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), "islet-serve-outbound-"));
  const config = join(dir, "islet.json");
  writeFileSync(config, JSON.stringify({ outbound: { allowPrivate: true, allowHosts: ["nothing.example"], credentials: { [host]: { headers: { "x-upstream-key": "${CLI_UPSTREAM_KEY}" } } } } }));
  const islet = startIslet(["serve", "--port", "0", "--config", config, "--allow-host", host], { CLI_UPSTREAM_KEY: "cli-secret-value" });
  try {
    const [, url] = await islet.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
    await islet.waitFor(new RegExp(`workers may fetch ${host.replace(/\./g, "\\.")}; credentials added for ${host.replace(/\./g, "\\.")}`));
    const code = `export default { async run(url) { try { return await (await fetch(url)).text(); } catch (e) { return e.message; } } }`;
    const ok = await run(url, { code, args: [`http://${host}/`] });
    assert.equal(ok.json.result, "upstream");
    assert.deepEqual(seen, ["cli-secret-value"]);
    assert.equal(ok.json.fetches?.[0]?.credentials, true);
    const refused = await run(url, { code, args: ["http://nothing.example/"] });
    assert.match(refused.json.result as string, /not on this worker's allow-list/);
    // The child writes its log line as the hop is decided; on a busy machine the answer can be read first.
    await islet.waitFor(/"event":"outbound"[^\n]*nothing\.example/);
    const lines = islet.stdout().trim().split("\n").map((line) => JSON.parse(line)).filter((line) => line.event === "outbound");
    assert.deepEqual(lines.map((line) => [line.url, line.decision, line.credentials]), [[`http://${host}/`, "allowed", true], ["http://nothing.example/", "denied", false]]);
    assert.ok(!islet.stdout().includes("cli-secret-value"));
  } finally {
    await islet.stop();
    upstream.close();
  }
});

test("islet serve adds ISLET_API_KEYS to the config file's keys, and refuses a key both define", async () => {
  const { mkdtempSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = mkdtempSync(join(tmpdir(), "islet-serve-keys-"));
  const config = join(dir, "islet.json");
  const FILE_KEY = "file-key-0123456789";
  writeFileSync(config, JSON.stringify({ apiKeys: [{ id: "from-file", key: FILE_KEY, limits: { cpuMs: 50 } }] }));
  const both = startIslet(["serve", "--port", "0", "--config", config], { ISLET_API_KEYS: `env-team:${KEY}` });
  try {
    const [, url] = await both.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+) \(2 API keys\)/);
    assert.equal((await run(url, { code: `export default { run() { return 1; } }` }, { authorization: `Bearer ${KEY}` })).json.result, 1);
    const capped = await run(url, { code: `export default { run() { return 1; } }`, limits: { cpuMs: 100 } }, { authorization: `Bearer ${FILE_KEY}` });
    assert.equal(capped.status, 400, "the file key keeps its limits");
  } finally {
    await both.stop();
  }
  const clash = startIslet(["serve", "--port", "0", "--config", config], { ISLET_API_KEYS: `other:${FILE_KEY}` });
  assert.equal(await clash.exited, 1);
  assert.match(clash.stderr(), /ISLET_API_KEYS \(id "other"\) and the config file .* \(id "from-file"\) define the same key: keep one of them/);
});

test("islet serve names every missing environment variable of its config in one error, outbound and codemode sections together", async () => {
  const { mkdtempSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = mkdtempSync(join(tmpdir(), "islet-serve-vars-"));
  const config = join(dir, "islet.json");
  writeFileSync(
    config,
    JSON.stringify({
      outbound: { credentials: { "api.example.com": { headers: { authorization: "Bearer ${SERVE_MISSING_A}" } } } },
      codemode: {
        openapi: { api: { spec: "./api.json", baseUrl: "https://api.example.com", auth: { header: "Authorization", value: "Bearer ${SERVE_MISSING_B}" } } },
        servers: { m: { command: "node", env: { C: "${SERVE_MISSING_C}" } } },
      },
    }),
  );
  const islet = startIslet(["serve", "--port", "0", "--config", config]);
  assert.equal(await islet.exited, 1);
  assert.match(
    islet.stderr(),
    /environment variables are not set: outbound\.credentials\["api\.example\.com"\]\.headers\.authorization needs SERVE_MISSING_A; codemode\.openapi\.api\.auth\.value needs SERVE_MISSING_B; codemode\.servers\.m\.env\.C needs SERVE_MISSING_C\./,
  );
});
