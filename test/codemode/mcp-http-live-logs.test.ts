// `islet mcp --http` (the CLI as a real process on a loopback port, the MCP SDK's client and its
// StreamableHTTPClientTransport): a tools/call whose client accepts text/event-stream is answered
// with an event stream carrying the code's console lines as notifications/message (and
// notifications/progress with a progressToken) while `execute` runs, then the result; bounded in
// count and size, secrets scrubbed. A client that accepts only JSON gets JSON; a client that goes
// away mid-run cancels the execution.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CallToolResultSchema, LoggingMessageNotificationSchema, type CallToolResult, type LoggingMessageNotification } from "@modelcontextprotocol/sdk/types.js";
import { repoRoot, tempDir } from "./mcp-upstreams.ts";

const dir = tempDir("mcp-http-live-logs");
const secret = "live-secret-7d3b2f90";

// The gate: an operation that answers only when the test says so; and a tick the code can call in a loop.
const held: ServerResponse[] = [];
let ticks = 0;
const api = createServer((req, res) => {
  res.setHeader("content-type", "application/json");
  if (req.url?.startsWith("/gate")) held.push(res);
  else if (req.url?.startsWith("/tick")) setTimeout(() => res.end(JSON.stringify({ tick: ++ticks })), 10);
  else res.writeHead(404).end("{}");
});
await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
const apiUrl = `http://127.0.0.1:${(api.address() as { port: number }).port}`;
writeFileSync(
  join(dir.path, "api.json"),
  JSON.stringify({
    openapi: "3.1.0",
    info: { title: "Gate", version: "1" },
    paths: {
      "/gate": { get: { operationId: "gate", summary: "Answers when the test opens it", responses: { "200": { description: "ok" } } } },
      "/tick": { get: { operationId: "tick", summary: "Counts", responses: { "200": { description: "ok" } } } },
    },
  }),
);
writeFileSync(join(dir.path, "islet-mcp.json"), JSON.stringify({ servers: {}, openapi: { api: { spec: "api.json", baseUrl: apiUrl, auth: { header: "Authorization", value: "Bearer ${ISLET_LIVE_SECRET}" } } }, limits: { wallMs: 20_000 } }));

const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "src/cli/mcp.ts"), "--config", join(dir.path, "islet-mcp.json"), "--http", "--port", "0"], {
  cwd: repoRoot,
  env: { PATH: process.env.PATH!, ISLET_LIVE_SECRET: secret },
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

async function connect() {
  const client = new Client({ name: "test", version: "1" });
  const messages: LoggingMessageNotification["params"][] = [];
  const listeners = new Set<(params: LoggingMessageNotification["params"]) => void>();
  client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
    messages.push(notification.params);
    for (const listener of listeners) listener(notification.params);
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return { client, messages, listeners };
}
const main = await connect();

test.after(async () => {
  for (const res of held) res.end("{}");
  await main.client.close();
  child.kill("SIGTERM");
  assert.equal(await exited, 0, stderr);
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

function text(result: CallToolResult): string {
  return result.content.map((block) => (block.type === "text" ? block.text : "")).join("");
}

test("execute over --http: a log line arrives as notifications/message and notifications/progress while the code waits on a gate the test opens only after it arrived", async () => {
  const { client, messages, listeners } = main;
  messages.length = 0;
  const progress: { progress: number; message?: string }[] = [];
  // Opened only by the live line: a log sent with the result would never open it, and the call would run into its wall limit.
  const opener = (params: LoggingMessageNotification["params"]) => {
    if (params.data === "step one") void until(() => held.length === 1, 5_000, "the gate request").then(() => held.shift()!.end(JSON.stringify({ open: true })));
  };
  listeners.add(opener);
  const started = performance.now();
  const result = (await client.callTool({ name: "execute", arguments: { code: `async () => { console.log("step one"); const gate = await api.gate(); console.warn("step two", gate.open, "${secret}"); return "done"; }` } }, CallToolResultSchema, {
    onprogress: (p) => void progress.push({ progress: p.progress, message: p.message }),
  })) as CallToolResult;
  listeners.delete(opener);
  assert.ok(performance.now() - started < 15_000, "the gate opened before the wall limit");
  assert.equal(result.isError, undefined, text(result));
  assert.match(text(result), /^done\n/);
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

test("over --http too: at most 100 log notifications of at most 1,000 characters each, then one saying how many were not sent", async () => {
  const { client, messages } = main;
  messages.length = 0;
  const result = (await client.callTool({ name: "execute", arguments: { code: `async () => { for (let i = 0; i < 250; i++) console.log(i === 0 ? "x".repeat(5000) : "line " + i); return 1; }` } })) as CallToolResult;
  assert.equal(result.isError, undefined);
  assert.equal(messages.length, 101);
  assert.equal(String(messages[0].data).length, 1_001, "cut to 1,000 characters and an ellipsis");
  assert.equal(messages[99].data, "line 99");
  assert.deepEqual(messages[100], { level: "warning", logger: "execute", data: "islet: 150 more log lines were not sent as notifications (at most 100); the result's logs keep the first and the last" });
});

test("tools/call is an event stream for a client that accepts one, JSON for one that accepts only JSON; tools/list stays JSON", async () => {
  const headers = { "content-type": "application/json", "mcp-protocol-version": "2025-06-18" };
  const call = { jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "execute", arguments: { code: `async () => { console.log("hi"); return 2; }` } } };
  const streamed = await fetch(url, { method: "POST", headers: { ...headers, accept: "application/json, text/event-stream" }, body: JSON.stringify(call) });
  assert.equal(streamed.status, 200);
  assert.equal(streamed.headers.get("content-type"), "text/event-stream");
  const events = (await streamed.text()).split("\n\n").filter((event) => event.startsWith("event: message")).map((event) => JSON.parse(event.slice(event.indexOf("data: ") + 6)));
  assert.deepEqual(events[0], { jsonrpc: "2.0", method: "notifications/message", params: { level: "info", logger: "execute", data: "hi" } });
  assert.equal(events.at(-1).id, 7);
  assert.match(events.at(-1).result.content[0].text, /^2\n\nLogs:\nhi$/);

  const plain = await fetch(url, { method: "POST", headers: { ...headers, accept: "application/json" }, body: JSON.stringify(call) });
  assert.equal(plain.status, 200);
  assert.match(plain.headers.get("content-type") ?? "", /^application\/json/);
  const answer = (await plain.json()) as { id: number; result: { content: { text: string }[] } };
  assert.equal(answer.id, 7);
  assert.match(answer.result.content[0].text, /^2\n/);

  const list = await fetch(url, { method: "POST", headers: { ...headers, accept: "application/json, text/event-stream" }, body: JSON.stringify({ jsonrpc: "2.0", id: 8, method: "tools/list" }) });
  assert.match(list.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal(((await list.json()) as { result: { tools: unknown[] } }).result.tools.length, 2);

  // Refused by its declared length, before it is read: the 413 is sent and the connection closed,
  // so a client still writing its 5 MiB may see the closed socket (EPIPE) before the answer (it did
  // once beside a CPU hog).
  const tooLarge = await fetch(url, { method: "POST", headers: { ...headers, accept: "application/json, text/event-stream" }, body: JSON.stringify({ ...call, params: { ...call.params, arguments: { code: "x".repeat(5 * 1024 * 1024) } } }) }).then(
    (response) => response.status,
    (error: { cause?: { code?: string } }) => error.cause?.code,
  );
  assert.ok(tooLarge === 413 || tooLarge === "EPIPE" || tooLarge === "ECONNRESET", `answered ${tooLarge}`);
});

test("a client that goes away while execute streams cancels the execution", async () => {
  const { client, listeners } = await connect();
  let running!: () => void;
  const started = new Promise<void>((resolve) => (running = resolve));
  listeners.add((params) => params.data === "running" && running());
  const call = client.callTool({ name: "execute", arguments: { code: `async () => { console.log("running"); for (;;) await api.tick(); }` } }).catch((error: Error) => error);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([started, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("no live log line within 10 s")), 10_000)))]);
  clearTimeout(timer);
  const before = ticks;
  await until(() => ticks > before + 3, 5_000, "the code to tick");
  // Closing the client aborts its request: the connection drops.
  await client.close();
  assert.ok((await call) instanceof Error);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const after = ticks;
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.ok(ticks - after <= 1, `the code went on ticking after the client left: ${after} then ${ticks}`);
  // The server goes on serving.
  const again = (await main.client.callTool({ name: "execute", arguments: { code: "async () => 3" } })) as CallToolResult;
  assert.equal(text(again), "3");
});

test("over --http logging/setLevel is not kept: each request is answered by its own stateless server", async () => {
  const { client, messages } = main;
  await client.setLoggingLevel("error");
  messages.length = 0;
  await client.callTool({ name: "execute", arguments: { code: `async () => { console.log("quiet"); console.error("loud"); return 1; }` } });
  assert.deepEqual(messages.map((m) => [m.level, m.data]), [["info", "quiet"], ["error", "[error] loud"]]);
});
