// `islet mcp` over stdio (the CLI as a real process, the MCP SDK's client): while `execute` runs,
// the code's console lines reach the client as notifications/message, and as notifications/progress
// when the call carried a progressToken, bounded in count and size; secrets are scrubbed from them.

import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CallToolResultSchema, LoggingMessageNotificationSchema, type CallToolResult, type LoggingMessageNotification } from "@modelcontextprotocol/sdk/types.js";
import { execute, fromFunctions } from "islet/codemode";
import { repoRoot, tempDir } from "./mcp-upstreams.ts";

const dir = tempDir("mcp-live-logs");
const secret = "live-secret-4c2a9e71";

// The gate: an API whose one operation answers only when the test says so.
const held: ServerResponse[] = [];
const api = createServer((req, res) => {
  res.setHeader("content-type", "application/json");
  if (req.url?.startsWith("/gate")) held.push(res);
  else res.writeHead(404).end("{}");
});
await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
const apiUrl = `http://127.0.0.1:${(api.address() as { port: number }).port}`;
writeFileSync(
  join(dir.path, "api.json"),
  JSON.stringify({
    openapi: "3.1.0",
    info: { title: "Gate", version: "1" },
    paths: { "/gate": { get: { operationId: "gate", summary: "Answers when the test opens it", responses: { "200": { description: "ok" } } } } },
  }),
);
writeFileSync(join(dir.path, "islet-mcp.json"), JSON.stringify({ servers: {}, openapi: { api: { spec: "api.json", baseUrl: apiUrl, auth: { header: "Authorization", value: "Bearer ${ISLET_LIVE_SECRET}" } } }, limits: { wallMs: 20_000 } }));

const transport = new StdioClientTransport({
  command: process.execPath,
  args: ["--import", "tsx", join(repoRoot, "src/cli/mcp.ts"), "--config", join(dir.path, "islet-mcp.json")],
  env: { PATH: process.env.PATH!, ISLET_LIVE_SECRET: secret },
  cwd: repoRoot,
  stderr: "pipe",
});
const client = new Client({ name: "test", version: "1" });
const messages: LoggingMessageNotification["params"][] = [];
let onMessage: ((params: LoggingMessageNotification["params"]) => void) | undefined;
client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
  messages.push(notification.params);
  onMessage?.(notification.params);
});
await client.connect(transport);

test.after(async () => {
  for (const res of held) res.end("{}");
  await client.close();
  api.close();
  dir.remove();
});

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test("the server says it logs", () => {
  assert.deepEqual(client.getServerCapabilities()?.logging, {});
});

test("execute: a log line arrives as notifications/message and notifications/progress while the code waits on a gate the test opens only after it arrived", async () => {
  messages.length = 0;
  const progress: { progress: number; message?: string }[] = [];
  onMessage = (params) => {
    // Opened only by the live line: a log sent with the result would never open it, and the call would run into its wall limit.
    if (params.data === "step one") void until(() => held.length === 1, 5_000, "the gate request").then(() => held.shift()!.end(JSON.stringify({ open: true })));
  };
  const result = (await client.callTool({ name: "execute", arguments: { code: `async () => { console.log("step one"); const gate = await api.gate(); console.warn("step two", gate.open, "${secret}"); return "done"; }` } }, CallToolResultSchema, {
    onprogress: (p) => void progress.push({ progress: p.progress, message: p.message }),
  })) as CallToolResult;
  onMessage = undefined;
  const text = result.content.map((block) => (block.type === "text" ? block.text : "")).join("");
  assert.equal(result.isError, undefined, text);
  assert.match(text, /^done\n/);
  assert.deepEqual(messages, [
    { level: "info", logger: "execute", data: "step one" },
    // The code logged a secret: the notification carries it scrubbed, as the result does.
    { level: "warning", logger: "execute", data: "[warn] step two true [redacted]" },
  ]);
  assert.deepEqual(progress, [
    { progress: 1, message: "step one" },
    { progress: 2, message: "[warn] step two true [redacted]" },
  ]);
});

test("execute: at most 100 log notifications of at most 1,000 characters each, then one saying how many were not sent", async () => {
  messages.length = 0;
  const result = (await client.callTool({ name: "execute", arguments: { code: `async () => { for (let i = 0; i < 250; i++) console.log(i === 0 ? "x".repeat(5000) : "line " + i); return 1; }` } })) as CallToolResult;
  assert.equal(result.isError, undefined);
  assert.equal(messages.length, 101);
  assert.equal(String(messages[0].data).length, 1_001, "cut to 1,000 characters and an ellipsis");
  assert.equal(messages[99].data, "line 99");
  assert.deepEqual(messages[100], { level: "warning", logger: "execute", data: "islet: 150 more log lines were not sent as notifications (at most 100); the result's logs keep the first and the last" });
});

test("logging/setLevel filters the notifications", async () => {
  await client.setLoggingLevel("warning");
  messages.length = 0;
  await client.callTool({ name: "execute", arguments: { code: `async () => { console.log("quiet"); console.error("loud"); return 1; }` } });
  assert.deepEqual(messages.map((m) => [m.level, m.data]), [["error", "[error] loud"]]);
  await client.setLoggingLevel("debug");
});

test("search sends no log notifications", async () => {
  messages.length = 0;
  await client.callTool({ name: "search", arguments: { code: `async () => { console.log("searching"); return tools.length; }` } });
  assert.deepEqual(messages, []);
});

test("islet/codemode's execute({ onLog }) gets each line while the code runs (formatted as logs are)", async () => {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const lines: [string, string][] = [];
  const gate = fromFunctions("gate", { wait: { description: "Waits for the test", inputSchema: { type: "object", properties: {} }, execute: () => opened.then(() => "open") } });
  const result = await execute(`async () => { console.log("first", { n: 1 }); const state = await gate.wait({}); console.error("then", state); return state; }`, [gate], {
    onLog: (line, level) => {
      lines.push([level, line]);
      if (line.startsWith("first")) open();
    },
  });
  assert.equal(result.result, "open");
  assert.deepEqual(lines, [["log", "first { n: 1 }"], ["error", "[error] then open"]]);
  assert.deepEqual(result.logs, ["first { n: 1 }", "[error] then open"]);
});
