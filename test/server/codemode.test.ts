import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { testServer, type TestServer } from "./helpers.ts";

const KEY = "codemode-key-01234";
const TOKEN = "upstream-token-98765";

describe("code mode on the server: POST /v1/codemode/execute and /mcp over the config's tool sources", () => {
  let api: Server;
  let server: TestServer;
  before(async () => {
    // An API on loopback that echoes whether it got the credential (which the sandbox must never see).
    api = createServer((req, res) => {
      res.setHeader("content-type", "application/json");
      const id = Number(req.url?.split("/").pop());
      res.end(JSON.stringify({ id, name: `item ${id}`, authorized: req.headers.authorization === `Bearer ${TOKEN}` }));
    });
    await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
    const dir = mkdtempSync(join(tmpdir(), "islet-codemode-"));
    writeFileSync(
      join(dir, "api.json"),
      JSON.stringify({
        openapi: "3.1.0",
        info: { title: "Items", version: "1" },
        paths: {
          "/items/{id}": {
            get: { operationId: "getItem", parameters: [{ name: "id", in: "path", required: true, schema: { type: "integer" } }], responses: { "200": { description: "ok" } } },
          },
        },
      }),
    );
    const config = join(dir, "islet.json");
    writeFileSync(
      config,
      JSON.stringify({
        apiKeys: [{ id: "cm", key: KEY }],
        maxResultBytes: 1_000_000,
        codemode: {
          openapi: { items: { spec: "api.json", baseUrl: `http://127.0.0.1:${(api.address() as AddressInfo).port}`, auth: { header: "Authorization", value: "Bearer ${ITEMS_TOKEN}" } } },
          limits: { cpuMs: 300 },
        },
      }),
    );
    server = await testServer({}, { ISLET_CONFIG: config, ITEMS_TOKEN: TOKEN });
  });
  after(async () => {
    await server?.close();
    api.close();
  });

  test("execute runs code over the tools and returns result and logs; the credential stays on the host", async () => {
    const { status, json } = await server.post(
      "/v1/codemode/execute",
      { code: `async () => { const item = await items.getItem({ id: 7 }); console.log("got", item.name); return { ...item, token: typeof ITEMS_TOKEN }; }` },
      { authorization: `Bearer ${KEY}` },
    );
    assert.equal(status, 200, JSON.stringify(json));
    assert.deepEqual(json.result, { id: 7, name: "item 7", authorized: true, token: "undefined" });
    assert.ok(json.logs.some((line: string) => line.includes("got item 7")), JSON.stringify(json.logs));
    assert.ok(!JSON.stringify(json).includes(TOKEN));
    // Shaped like /v1/run's answer: outcome and the invocation's CPU and wall time.
    assert.equal(json.outcome, "ok");
    assert.ok(json.cpuMs > 0 && json.wallMs >= json.cpuMs * 0.5, JSON.stringify(json));
    const failed = await server.post("/v1/codemode/execute", { code: `async () => { throw new RangeError("nope"); }` }, { authorization: `Bearer ${KEY}` });
    assert.match(failed.json.error, /RangeError: nope/);
    assert.equal(failed.json.outcome, "exception");
    assert.equal(failed.json.result, undefined);
    const spun = await server.post("/v1/codemode/execute", { code: `async () => { for (;;) {} }` }, { authorization: `Bearer ${KEY}` });
    assert.equal(spun.status, 200);
    assert.equal(spun.json.outcome, "exceededCpu", JSON.stringify(spun.json));
    assert.ok(spun.json.cpuMs >= 50, JSON.stringify(spun.json));
    const unknown = await server.post("/v1/codemode/execute", { code: "async () => 1", limits: { cpuMs: 1 } }, { authorization: `Bearer ${KEY}` });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.error.message, "limits: unknown field (known: code)");
    const empty = await server.post("/v1/codemode/execute", { code: "   " }, { authorization: `Bearer ${KEY}` });
    assert.equal(empty.status, 400);
    const bad = await server.post("/v1/codemode/execute", { code: 5 }, { authorization: `Bearer ${KEY}` });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /^code: must be a non-empty string/);
    assert.equal((await server.post("/v1/codemode/execute", { code: "async () => 1" })).status, 401);
  });

  test("a result past maxResultBytes as JSON is a RangeError (findings8/02), with the secrets' redaction on the way", async () => {
    for (const code of [
      // 4 bytes a byte as JSON: 2.4 MB.
      `async () => new Uint8Array(600_000).fill(200)`,
      // 400,000 holes, each a null; the redaction walked (and filled) every index before.
      `async () => { const a = []; a[3] = "x"; a.length = 400_000; return a; }`,
    ]) {
      const { status, json } = await server.post("/v1/codemode/execute", { code }, { authorization: `Bearer ${KEY}` });
      assert.equal(status, 200);
      assert.match(json.error, /^RangeError: The result is more than 1000000 bytes as JSON, this server's limit \(maxResultBytes\)/);
      assert.equal(json.result, undefined);
    }
    const fits = await server.post("/v1/codemode/execute", { code: `async () => { const a = []; a[2] = new Uint8Array([1, 2]); return a; }` }, { authorization: `Bearer ${KEY}` });
    assert.deepEqual(fits.json.result, [null, null, [1, 2]]);
  });

  test("/mcp is the two-tool MCP server over streamable HTTP, behind the API key", async () => {
    const client = new Client({ name: "test", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(server.url + "/mcp"), { requestInit: { headers: { authorization: `Bearer ${KEY}` } } }));
    try {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((tool) => tool.name).sort(), ["execute", "search"]);
      const result = (await client.callTool({ name: "execute", arguments: { code: "async () => (await items.getItem({ id: 3 })).name" } })) as { content: { text: string }[] };
      assert.equal(result.content[0].text, "item 3");
    } finally {
      await client.close();
    }
    const anonymous = await fetch(server.url + "/mcp", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    assert.equal(anonymous.status, 401);
  });
});

test("without a codemode section execute runs against islet's demo source; /mcp answers 501 and says what to configure", async () => {
  const server = await testServer();
  try {
    const execute = await server.post("/v1/codemode/execute", { code: "async () => (await demo.weather({ city: 'Oslo' })).conditions" });
    assert.equal(execute.status, 200);
    assert.equal(execute.json.result, "snow");
    const mcp = await server.post("/mcp", {});
    assert.equal(mcp.status, 501);
    assert.match(mcp.json.error.message, /add a "codemode" section/);
  } finally {
    await server.close();
  }
});
