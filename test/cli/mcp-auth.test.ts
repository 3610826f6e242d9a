// `islet mcp --http` exposes every configured tool (files, token-backed APIs) to whoever reaches
// its port. Like `islet serve`: API keys (--api-key, ISLET_API_KEYS), no non-loopback bind
// without one, and a keyless loopback server answers neither foreign Host names nor other
// origins' pages. The real CLI in a child process, real HTTP on a loopback port.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { startIslet } from "./process.ts";

const KEY = "mcp-http-key-0123456789";
const dir = mkdtempSync(join(tmpdir(), "islet-mcp-auth-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const config = join(dir, "config.json");
const spec = join(dir, "api.json");
writeFileSync(
  spec,
  JSON.stringify({
    openapi: "3.1.0",
    info: { title: "Pets", version: "1" },
    paths: { "/pets": { get: { operationId: "listPets", responses: { "200": { description: "ok" } } } } },
  }),
);
writeFileSync(config, JSON.stringify({ openapi: { pets: { spec, baseUrl: "http://127.0.0.1:9/" } } }));

const listTools = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });

async function post(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers }, body: listTools });
}

test("islet mcp --http refuses a non-loopback bind without API keys", async () => {
  const open = startIslet(["mcp", "--config", config, "--http", "--host", "0.0.0.0", "--port", "0"]);
  try {
    const outcome = await Promise.race([open.exited.then((code) => `exit ${code}`), open.waitFor(/listening on/).then(() => "listening")]);
    assert.equal(outcome, "exit 1", open.stderr());
    assert.match(open.stderr(), /refusing to serve 0\.0\.0\.0 without API keys.*ISLET_API_KEYS/);
  } finally {
    await open.stop();
  }
});

test("islet mcp --http with ISLET_API_KEYS on 0.0.0.0: 401 without or with a wrong key; the key in Authorization or X-Api-Key works", async () => {
  const islet = startIslet(["mcp", "--config", config, "--http", "--host", "0.0.0.0", "--port", "0"], { ISLET_API_KEYS: `agent:${KEY}` });
  try {
    const [, port] = await islet.waitFor(/listening on http:\/\/0\.0\.0\.0:(\d+)\/mcp \(1 API key\)/);
    const url = `http://127.0.0.1:${port}/mcp`;
    const none = await post(url);
    assert.equal(none.status, 401);
    assert.match(none.headers.get("www-authenticate") ?? "", /Bearer/);
    assert.match(JSON.stringify(await none.json()), /API key is required/);
    assert.equal((await post(url, { authorization: "Bearer wrong-key-0123456" })).status, 401);
    assert.equal((await post(url, { "x-api-key": KEY })).status, 200);
    const client = new Client({ name: "test", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${KEY}` } } }));
    assert.deepEqual((await client.listTools()).tools.map((tool) => tool.name), ["search", "execute"]);
    await client.close();
    // With a key, any Host name is served (it is behind the key).
    assert.equal((await post(url, { authorization: `Bearer ${KEY}`, host: "mcp.example.com" })).status, 200);
    assert.ok(!islet.stderr().includes(KEY), "the key is never logged");
  } finally {
    await islet.stop();
  }
});

test("islet mcp --http --api-key on loopback; keyless loopback refuses other origins' pages and foreign Host names", async () => {
  const keyed = startIslet(["mcp", "--config", config, "--http", "--port", "0", "--api-key", KEY]);
  try {
    const [, port] = await keyed.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)\/mcp \(1 API key\)/);
    assert.equal((await post(`http://127.0.0.1:${port}/mcp`)).status, 401);
    assert.equal((await post(`http://127.0.0.1:${port}/mcp`, { authorization: `Bearer ${KEY}` })).status, 200);
  } finally {
    await keyed.stop();
  }
  const keyless = startIslet(["mcp", "--config", config, "--http", "--port", "0"]);
  try {
    const [, port] = await keyless.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)\/mcp \(no API keys: loopback only\)/);
    const url = `http://127.0.0.1:${port}/mcp`;
    assert.equal((await post(url)).status, 200, "a local MCP client sends no Origin");
    const evil = await post(url, { origin: "http://evil.example" });
    assert.equal(evil.status, 403, "a page on another site");
    assert.match(await evil.text(), /another origin/);
    assert.equal((await post(url, { origin: "http://localhost:3000" })).status, 403, "another local origin");
    assert.equal((await post(url, { "sec-fetch-site": "cross-site" })).status, 403);
    assert.equal((await post(url, { origin: `http://127.0.0.1:${port}` })).status, 200, "its own origin");
  } finally {
    await keyless.stop();
  }
});

test("islet mcp names every missing environment variable of its config in one error", async () => {
  const missing = join(dir, "missing-vars.json");
  writeFileSync(missing, JSON.stringify({ openapi: { pets: { spec, baseUrl: "https://api.example.com/", auth: { header: "Authorization", value: "Bearer ${MCP_MISSING_A}" } } }, servers: { m: { command: "node", env: { B: "${MCP_MISSING_B}" } } } }));
  const islet = startIslet(["mcp", "--config", missing]);
  assert.equal(await islet.exited, 1);
  assert.match(islet.stderr(), /environment variables are not set: openapi\.pets\.auth\.value needs MCP_MISSING_A; servers\.m\.env\.B needs MCP_MISSING_B/);
});

// findings8/09: one executor served every key, and the `session` name was used as it was: a key
// read another key's session by naming it.
test("islet mcp --http with sessions: each API key's session names are its own", async () => {
  const sessionsConfig = join(dir, "sessions.json");
  writeFileSync(sessionsConfig, JSON.stringify({ openapi: { pets: { spec, baseUrl: "http://127.0.0.1:9/" } }, sessions: { dir: join(dir, "sessions") } }));
  const alice = "alice-key-0123456789";
  const bob = "bob-key-01234567890";
  const islet = startIslet(["mcp", "--config", sessionsConfig, "--http", "--port", "0"], { ISLET_API_KEYS: `alice:${alice},bob:${bob}` });
  try {
    const [, port] = await islet.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)\/mcp/);
    const url = new URL(`http://127.0.0.1:${port}/mcp`);
    const as = async (key: string) => {
      const client = new Client({ name: "test", version: "1" });
      await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
      return client;
    };
    const [a, b] = [await as(alice), await as(bob)];
    const text = (result: unknown) => ((result as { content: { text: string }[] }).content[0]?.text ?? "");
    await a.callTool({ name: "execute", arguments: { code: `async () => { await session.put("secret", "alice-private-42"); return "stored"; }`, session: "notes" } });
    assert.match(text(await a.callTool({ name: "execute", arguments: { code: `async () => session.get("secret")`, session: "notes" } })), /alice-private-42/);
    const seen = text(await b.callTool({ name: "execute", arguments: { code: `async () => [await session.get("secret"), [...(await session.list()).keys()]]`, session: "notes" } }));
    assert.doesNotMatch(seen, /alice-private-42|secret/);
    await a.close();
    await b.close();
  } finally {
    await islet.stop();
  }
});

// findings20/01: islet mcp --http ran every request it got at once (one key held 32 executions of
// 48 MB each). Now it admits as islet serve does: maxInFlight in all (--max-in-flight), half of
// it per key when there are keys, 429 past either.
test("islet mcp --http admits at most --max-in-flight requests at once, and one key at most half of them", async () => {
  const other = "mcp-http-key-other-98765";
  const islet = startIslet(["mcp", "--config", config, "--http", "--port", "0", "--max-in-flight", "4"], { ISLET_API_KEYS: `a:${KEY},b:${other}` });
  try {
    const [, port] = await islet.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)\/mcp/);
    const url = `http://127.0.0.1:${port}/mcp`;
    const napping = (key: string, id: number) =>
      fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${key}` },
        body: JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "execute", arguments: { code: "async () => { await new Promise((r) => setTimeout(r, 4000)); return 'rested'; }" } } }),
      }).then(async (response) => ({ status: response.status, body: await response.text() }));
    // Key a sends three: two run (half of 4), the third is refused at once.
    const first = [napping(KEY, 1), napping(KEY, 2)];
    await new Promise((resolve) => setTimeout(resolve, 500));
    const refused = await napping(KEY, 3);
    assert.equal(refused.status, 429, refused.body);
    assert.match(refused.body, /already has 2 calls in flight/);
    // Key b has its own half; past the server's 4 in all, b is refused too.
    const second = [napping(other, 4), napping(other, 5)];
    await new Promise((resolve) => setTimeout(resolve, 500));
    const full = await napping(other, 6);
    assert.equal(full.status, 429, full.body);
    for (const answer of await Promise.all([...first, ...second])) {
      assert.equal(answer.status, 200);
      assert.match(answer.body, /rested/);
    }
    // The slots were given back once the answers were read.
    assert.match((await napping(KEY, 7)).body, /rested/);
  } finally {
    await islet.stop();
  }
});

// findings21 (held list): a notifications/cancelled POST needed an admission slot of its own, so a
// key whose slots were all held by its own runaway calls got 429 and could not cancel them. A POST
// of notifications only runs no tool and takes no slot.
test("islet mcp --http: a key at its cap can still cancel its own call (a notification takes no slot)", async () => {
  const islet = startIslet(["mcp", "--config", config, "--http", "--port", "0", "--max-in-flight", "2"], { ISLET_API_KEYS: `a:${KEY}` });
  try {
    const [, port] = await islet.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)\/mcp/);
    const url = `http://127.0.0.1:${port}/mcp`;
    const headers = { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${KEY}`, "mcp-protocol-version": "2025-06-18" };
    const started = performance.now();
    // One key holds at most half of 2: this call takes its only slot and runs for 20 s unless cancelled.
    const running = await fetch(url, {
      method: "POST",
      headers,
      body: JSON.stringify({ jsonrpc: "2.0", id: 41, method: "tools/call", params: { name: "execute", arguments: { code: "async () => { await new Promise((r) => setTimeout(r, 20000)); return 'slept'; }" }, _meta: { progressToken: 41 } } }),
    });
    assert.equal(running.status, 200);
    const refused = await fetch(url, { method: "POST", headers, body: JSON.stringify({ jsonrpc: "2.0", id: 42, method: "tools/list" }) });
    assert.equal(refused.status, 429, "the key is at its cap");
    const cancel = await fetch(url, { method: "POST", headers, body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 41, reason: "stop" } }) });
    assert.equal(cancel.status, 202, await cancel.text());
    const answer = await running.text();
    assert.doesNotMatch(answer, /slept/);
    assert.ok(performance.now() - started < 15_000, `the call ran ${(performance.now() - started).toFixed(0)} ms`);
    // The slot came back.
    assert.equal((await fetch(url, { method: "POST", headers, body: JSON.stringify({ jsonrpc: "2.0", id: 43, method: "tools/list" }) })).status, 200);
  } finally {
    await islet.stop();
  }
});
