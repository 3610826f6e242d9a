// MCP's own cancel over `islet mcp --http` (the CLI as a real process on a loopback port, with two
// API keys; the MCP SDK's client and its StreamableHTTPClientTransport): a call whose AbortSignal
// aborts makes the SDK send `notifications/cancelled` in a POST of its own, which the stateless
// server answers with a new SDK server. findings20/04: that cancel was ignored and the execution
// went on calling its tools until wallMs. Now it stops the call, and only its own key's cancel does.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { LoggingMessageNotificationSchema, type CallToolResult, type JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { repoRoot, tempDir } from "./mcp-upstreams.ts";

const dir = tempDir("mcp-http-cancel");
const ALICE = "alice-cancel-key-0123456";
const BOB = "bob-cancel-key-01234567";

// Each tool call of the code reaches this upstream: the host-side count of what the code does.
let ticks = 0;
const api = createServer((req, res) => {
  res.setHeader("content-type", "application/json");
  if (req.url?.startsWith("/tick")) setTimeout(() => res.end(JSON.stringify({ tick: ++ticks })), 10);
  else res.writeHead(404).end("{}");
});
await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
writeFileSync(
  join(dir.path, "api.json"),
  JSON.stringify({ openapi: "3.1.0", info: { title: "Ticks", version: "1" }, paths: { "/tick": { get: { operationId: "tick", responses: { "200": { description: "ok" } } } } } }),
);
writeFileSync(join(dir.path, "islet-mcp.json"), JSON.stringify({ openapi: { api: { spec: "api.json", baseUrl: `http://127.0.0.1:${(api.address() as { port: number }).port}` } }, limits: { wallMs: 30_000 } }));

const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "src/cli/mcp.ts"), "--config", join(dir.path, "islet-mcp.json"), "--http", "--port", "0"], {
  cwd: repoRoot,
  env: { PATH: process.env.PATH!, ISLET_API_KEYS: `alice:${ALICE},bob:${BOB}` },
  stdio: ["ignore", "ignore", "pipe"],
});
let stderr = "";
const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
const port = await new Promise<number>((resolve, reject) => {
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    const match = /listening on http:\/\/127\.0\.0\.1:(\d+)\/mcp/.exec(stderr);
    if (match) resolve(Number(match[1]));
  });
  child.on("exit", () => reject(new Error(`islet mcp exited: ${stderr}`)));
});
const url = `http://127.0.0.1:${port}/mcp`;

test.after(async () => {
  child.kill("SIGTERM");
  assert.equal(await exited, 0, stderr);
  api.close();
  dir.remove();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** An SDK client with `key`, recording what it sends (the tools/call's id, the cancel). */
async function connect(key: string) {
  const client = new Client({ name: "test", version: "1" });
  const logs: unknown[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => void logs.push(notification.params.data));
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${key}` } } });
  const sent: JSONRPCMessage[] = [];
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    sent.push(...(Array.isArray(message) ? message : [message]));
    return send(message, options);
  };
  await client.connect(transport);
  return { client, logs, sent };
}

const method = (message: JSONRPCMessage) => ("method" in message ? message.method : undefined);

test("an execute cancelled through the SDK client's AbortSignal stops calling its tools at once; another key's cancel of the same id does nothing", async () => {
  const alice = await connect(ALICE);
  try {
    const controller = new AbortController();
    const call = alice.client
      .callTool({ name: "execute", arguments: { code: `async () => { console.log("running"); for (;;) await api.tick(); }` } }, undefined, { signal: controller.signal })
      .then(
        () => "answered",
        (error: Error) => error,
      );
    await until(() => alice.logs.includes("running"), 10_000, "the live log line");
    const before = ticks;
    await until(() => ticks > before + 3, 5_000, "the code to tick");
    const toolCall = alice.sent.find((message) => method(message) === "tools/call");
    assert.ok(toolCall !== undefined && "id" in toolCall);

    // Bob names Alice's call: his cancel is answered (a notification is always accepted) but reaches nothing of hers.
    const foreign = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18", authorization: `Bearer ${BOB}` },
      body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: toolCall.id, reason: "not mine" } }),
    });
    assert.equal(foreign.status, 202);
    const whileBob = ticks;
    await sleep(700);
    assert.ok(ticks > whileBob + 5, `another key's cancel stopped the call: ${whileBob} then ${ticks}`);

    controller.abort("the user pressed stop");
    const outcome = await call;
    assert.ok(outcome instanceof Error && /abort|stop/i.test(String(outcome.message)), String(outcome));
    const cancel = alice.sent.find((message) => method(message) === "notifications/cancelled");
    assert.ok(cancel !== undefined && "params" in cancel);
    assert.equal(cancel.params?.requestId, toolCall.id, "the SDK sent MCP's cancel for the call");
    // Promptly: within half a second no more tool calls reach the upstream.
    await sleep(500);
    const after = ticks;
    await sleep(1_500);
    assert.ok(ticks - after <= 1, `the cancelled execution went on calling its tools: ${after} then ${ticks}`);

    // The server (and the same client) go on serving.
    const again = (await alice.client.callTool({ name: "execute", arguments: { code: "async () => 3" } })) as CallToolResult;
    assert.deepEqual(again.content, [{ type: "text", text: "3" }]);
  } finally {
    await alice.client.close();
  }
});
