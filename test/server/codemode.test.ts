import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CallToolResultSchema, LoggingMessageNotificationSchema, type CallToolResult, type JSONRPCMessage, type LoggingMessageNotification } from "@modelcontextprotocol/sdk/types.js";
import { testServer, type TestServer } from "./helpers.ts";

const KEY = "codemode-key-01234";
const OTHER_KEY = "codemode-other-key-56789";
const TOKEN = "upstream-token-98765";

describe("code mode on the server: POST /v1/codemode/execute and /mcp over the config's tool sources", () => {
  let api: Server;
  let server: TestServer;
  // A gate the test opens, and a tick the code can call in a loop.
  const held: ServerResponse[] = [];
  let ticks = 0;
  // Requests to /hang are never answered: counted as they come and as they are closed.
  const hang = { opened: 0, closed: 0, authorized: 0 };
  before(async () => {
    // An API on loopback that echoes whether it got the credential (which the sandbox must never see).
    api = createServer((req, res) => {
      res.setHeader("content-type", "application/json");
      if (req.url === "/gate") return void held.push(res);
      if (req.url === "/hang") {
        hang.opened++;
        if (req.headers.authorization === `Bearer ${TOKEN}`) hang.authorized++;
        return void res.on("close", () => hang.closed++);
      }
      if (req.url === "/tick") return void setTimeout(() => res.end(JSON.stringify({ tick: ++ticks })), 10);
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
          "/gate": { get: { operationId: "gate", responses: { "200": { description: "ok" } } } },
          "/tick": { get: { operationId: "tick", responses: { "200": { description: "ok" } } } },
          "/hang": { get: { operationId: "hang", responses: { "200": { description: "ok" } } } },
        },
      }),
    );
    const config = join(dir, "islet.json");
    writeFileSync(
      config,
      JSON.stringify({
        apiKeys: [
          { id: "cm", key: KEY },
          { id: "other", key: OTHER_KEY },
        ],
        maxResultBytes: 1_000_000,
        codemode: {
          openapi: { items: { spec: "api.json", baseUrl: `http://127.0.0.1:${(api.address() as AddressInfo).port}`, auth: { header: "Authorization", value: "Bearer ${ITEMS_TOKEN}" } } },
          limits: { cpuMs: 300, wallMs: 20_000 },
        },
      }),
    );
    server = await testServer({}, { ISLET_CONFIG: config, ITEMS_TOKEN: TOKEN });
  });
  after(async () => {
    for (const res of held) res.end("{}");
    await server?.close();
    api.closeAllConnections();
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

  async function mcpClient() {
    const client = new Client({ name: "test", version: "1" });
    const messages: LoggingMessageNotification["params"][] = [];
    const listeners = new Set<(params: LoggingMessageNotification["params"]) => void>();
    client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
      messages.push(notification.params);
      for (const listener of listeners) listener(notification.params);
    });
    await client.connect(new StreamableHTTPClientTransport(new URL(server.url + "/mcp"), { requestInit: { headers: { authorization: `Bearer ${KEY}` } } }));
    return { client, messages, listeners };
  }
  const health = async () => (await fetch(server.url + "/healthz")).json() as Promise<{ inFlight: number }>;
  async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
    const deadline = performance.now() + ms;
    while (!(await check())) {
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)))]).finally(() => clearTimeout(timer));
  }

  test("/mcp streams execute's log and progress notifications before the result, and holds the call's slot until the stream ends", async () => {
    const { client, messages, listeners } = await mcpClient();
    try {
      const progress: string[] = [];
      let slotWhileStreaming: number | undefined;
      // Opened only by the live line: a log sent with the result would never open it, and the call would run into its wall limit.
      listeners.add((params) => {
        if (params.data !== "step one") return;
        void (async () => {
          await until(() => held.length === 1, 5_000, "the gate request");
          slotWhileStreaming = (await health()).inFlight;
          held.shift()!.end(JSON.stringify({ open: true }));
        })();
      });
      const started = performance.now();
      const result = (await client.callTool({ name: "execute", arguments: { code: `async () => { console.log("step one"); const gate = await items.gate(); console.warn("step two", gate.open); return "done"; }` } }, CallToolResultSchema, {
        onprogress: (p) => void progress.push(String(p.message)),
      })) as CallToolResult;
      assert.ok(performance.now() - started < 15_000, "the gate opened before the wall limit");
      assert.match((result.content[0] as { text: string }).text, /^done\n/);
      assert.deepEqual(messages, [
        { level: "info", logger: "execute", data: "step one" },
        { level: "warning", logger: "execute", data: "[warn] step two true" },
      ]);
      assert.deepEqual(progress, ["step one", "[warn] step two true"]);
      assert.equal(slotWhileStreaming, 1, "the streaming call holds its slot");
      await until(async () => (await health()).inFlight === 0, 5_000, "the slot to be freed after the stream");

      // The bounds: 100 lines of 1,000 characters, then one saying how many more there were.
      messages.length = 0;
      await client.callTool({ name: "execute", arguments: { code: `async () => { for (let i = 0; i < 250; i++) console.log(i === 0 ? "x".repeat(5000) : "line " + i); return 1; }` } });
      assert.equal(messages.length, 101);
      assert.equal(String(messages[0].data).length, 1_001);
      assert.equal(messages[99].data, "line 99");
      assert.match(String(messages[100].data), /^islet: 150 more log lines were not sent as notifications/);
    } finally {
      await client.close();
    }
  });

  test("/mcp: a client that goes away while execute streams cancels the execution and frees its slot", async () => {
    const { client, listeners } = await mcpClient();
    let running!: () => void;
    const started = new Promise<void>((resolve) => (running = resolve));
    listeners.add((params) => params.data === "running" && running());
    const call = client.callTool({ name: "execute", arguments: { code: `async () => { console.log("running"); for (;;) await items.tick(); }` } }).catch((error: Error) => error);
    await withTimeout(started, 10_000, "the live log line");
    const before = ticks;
    await until(() => ticks > before + 3, 5_000, "the code to tick");
    assert.equal((await health()).inFlight, 1);
    const left = performance.now();
    await client.close();
    assert.ok((await call) instanceof Error);
    await until(async () => (await health()).inFlight === 0, 5_000, "the slot to be freed");
    assert.ok(performance.now() - left < 5_000);
    const after = ticks;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.ok(ticks - after <= 1, `the code went on ticking after the client left: ${after} then ${ticks}`);
  });

  // findings20/04: the SDK client's AbortSignal sends MCP's notifications/cancelled, in a POST of its
  // own that a new stateless server answered: the cancel found nothing, and the execution went on
  // calling its tools (and holding its key's slot) until wallMs.
  test("/mcp: a call cancelled with the SDK client's AbortSignal (notifications/cancelled) stops at once and frees its slot; another key's cancel of its id does nothing", async () => {
    const { client, listeners } = await mcpClient();
    // What the client sends: the tools/call's id, and the cancel.
    const transport = client.transport!;
    const sent: JSONRPCMessage[] = [];
    const send = transport.send.bind(transport);
    transport.send = (message, options) => (sent.push(message), send(message, options));
    try {
      let running!: () => void;
      const started = new Promise<void>((resolve) => (running = resolve));
      listeners.add((params) => params.data === "running" && running());
      const controller = new AbortController();
      const call = client.callTool({ name: "execute", arguments: { code: `async () => { console.log("running"); for (;;) await items.tick(); }` } }, undefined, { signal: controller.signal }).catch((error: Error) => error);
      await withTimeout(started, 10_000, "the live log line");
      const before = ticks;
      await until(() => ticks > before + 3, 5_000, "the code to tick");
      const toolCall = sent.find((message) => "method" in message && message.method === "tools/call");
      assert.ok(toolCall !== undefined && "id" in toolCall);
      const foreign = await fetch(server.url + "/mcp", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18", authorization: `Bearer ${OTHER_KEY}` },
        body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: toolCall.id } }),
      });
      assert.equal(foreign.status, 202);
      const whileOther = ticks;
      await new Promise((resolve) => setTimeout(resolve, 700));
      assert.ok(ticks > whileOther + 5, `another key's cancel stopped the call: ${whileOther} then ${ticks}`);
      assert.equal((await health()).inFlight, 1);

      const cancelled = performance.now();
      controller.abort();
      assert.ok((await call) instanceof Error);
      assert.ok(sent.some((message) => "method" in message && message.method === "notifications/cancelled"));
      await until(async () => (await health()).inFlight === 0, 5_000, "the slot to be freed");
      assert.ok(performance.now() - cancelled < 5_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const after = ticks;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.ok(ticks - after <= 1, `the cancelled code went on ticking: ${after} then ${ticks}`);
    } finally {
      await client.close();
    }
  });

  // findings20/03: a tool call's upstream request ends with the execution that made it. Before, the
  // requests stayed open (with the credential) for undici's 300 s after the answer or the cancel.
  test("execute: tool calls the code did not await are ended upstream when it answers", async () => {
    const before = { ...hang };
    const { status, json } = await server.post(
      "/v1/codemode/execute",
      { code: `async () => { for (let i = 0; i < 30; i++) items.hang().catch(() => {}); await new Promise((resolve) => setTimeout(resolve, 500)); return "answered"; }` },
      { authorization: `Bearer ${KEY}` },
    );
    assert.equal(status, 200);
    assert.equal(json.result, "answered", JSON.stringify(json));
    await until(() => hang.opened - before.opened === 30, 5_000, "the upstream to have got the 30 requests");
    assert.equal(hang.authorized - before.authorized, 30, "they carried the credential");
    await until(() => hang.closed - before.closed === 30, 3_000, `the 30 requests to be closed (${hang.closed - before.closed})`);
  });

  test("a streamed execute cancelled by its client ends its tool calls upstream", async () => {
    const before = { ...hang };
    const controller = new AbortController();
    const reading = fetch(server.url + "/v1/codemode/execute", {
      method: "POST",
      signal: controller.signal,
      headers: { "content-type": "application/json", accept: "application/x-ndjson", authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ code: `async () => { const all = []; for (let i = 0; i < 30; i++) all.push(items.hang()); return await Promise.all(all); }` }),
    }).then(async (response) => {
      for await (const _ of response.body!);
    }).catch((error: Error) => error);
    await until(() => hang.opened - before.opened === 30, 5_000, "the upstream to have got the 30 requests");
    assert.equal(hang.closed - before.closed, 0);
    controller.abort();
    assert.ok((await reading) instanceof Error);
    await until(async () => (await health()).inFlight === 0, 5_000, "the slot to be freed");
    await until(() => hang.closed - before.closed === 30, 3_000, `the 30 requests to be closed (${hang.closed - before.closed})`);
  });

  test("/mcp: a client that goes away while execute awaits tool calls ends them upstream", async () => {
    const before = { ...hang };
    const { client } = await mcpClient();
    const call = client.callTool({ name: "execute", arguments: { code: `async () => { const all = []; for (let i = 0; i < 30; i++) all.push(items.hang()); return await Promise.all(all); }` } }).catch((error: Error) => error);
    await until(() => hang.opened - before.opened === 30, 5_000, "the upstream to have got the 30 requests");
    await client.close();
    assert.ok((await call) instanceof Error);
    await until(async () => (await health()).inFlight === 0, 5_000, "the slot to be freed");
    await until(() => hang.closed - before.closed === 30, 3_000, `the 30 requests to be closed (${hang.closed - before.closed})`);
  });

  // search runs the model's code in a sandbox too (up to its cpuMs and wallMs: here 300 ms and 20 s).
  // It ignored the client going away: a search left waiting held its slot, and its sandbox ran on,
  // until its wallMs ended it.
  test("/mcp: a client that goes away while search runs ends the search's sandbox and frees its slot", async () => {
    const { client } = await mcpClient();
    const call = client.callTool({ name: "search", arguments: { code: `async () => { await new Promise((resolve) => setTimeout(resolve, 60_000)); return tools.length; }` } }).catch((error: Error) => error);
    await until(async () => (await health()).inFlight === 1, 5_000, "the search to be in flight");
    // Long enough for the search's sandbox to be running its code.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await health()).inFlight, 1);
    const left = performance.now();
    await client.close();
    assert.ok((await call) instanceof Error);
    await until(async () => (await health()).inFlight === 0, 5_000, "the slot to be freed");
    assert.ok(performance.now() - left < 5_000);
  });

  test("/mcp answers a client that accepts only JSON with JSON, and keeps its key and size checks for streamed calls", async () => {
    const call = { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "execute", arguments: { code: `async () => { console.log("hi"); return 2; }` } } };
    const headers = { "content-type": "application/json", "mcp-protocol-version": "2025-06-18", authorization: `Bearer ${KEY}` };
    const plain = await fetch(server.url + "/mcp", { method: "POST", headers: { ...headers, accept: "application/json" }, body: JSON.stringify(call) });
    assert.equal(plain.status, 200);
    assert.match(plain.headers.get("content-type") ?? "", /^application\/json/);
    assert.match(((await plain.json()) as { result: { content: { text: string }[] } }).result.content[0].text, /^2\n/);
    const streamed = await fetch(server.url + "/mcp", { method: "POST", headers: { ...headers, accept: "application/json, text/event-stream" }, body: JSON.stringify(call) });
    assert.equal(streamed.headers.get("content-type"), "text/event-stream");
    assert.match(await streamed.text(), /"notifications\/message".*"data":"hi"/);
    const { authorization: _key, ...anonymous } = headers;
    assert.equal((await fetch(server.url + "/mcp", { method: "POST", headers: { ...anonymous, accept: "application/json, text/event-stream" }, body: JSON.stringify(call) })).status, 401);
    const big = { ...call, params: { ...call.params, arguments: { code: "x".repeat(2_000_000) } } };
    assert.equal((await fetch(server.url + "/mcp", { method: "POST", headers: { ...headers, accept: "application/json, text/event-stream" }, body: JSON.stringify(big) })).status, 413);
    // Every answer was read (or refused): no slot is left held.
    await until(async () => (await health()).inFlight === 0, 5_000, "every slot to be freed");
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
