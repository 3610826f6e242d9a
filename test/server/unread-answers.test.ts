// An answer the client does not read stays in the server's memory until it is written out: the
// call keeps its admission slot until then, and a connection whose client has not taken its answer
// within answerTimeoutMs is closed (findings16/02: 40 unread 30 MB answers grew the server by
// 1.4 GB while /healthz said nothing was in flight).

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testServer } from "./helpers.ts";

const BIG = `export default { run() { return "x".repeat(16 * 1024 * 1024); } }`;

/** Sends a POST over a raw socket and reads nothing back until `resume()`. */
function unreadCall(url: string, accept?: string, path = "/v1/run", body = JSON.stringify({ code: BIG }), headers: Record<string, string> = {}): { received(): number; closed: Promise<void>; resume(): void; destroy(): void } {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  // Take nothing from the socket, so the server's writes back up.
  socket.pause();
  let received = 0;
  socket.on("data", (chunk: Buffer) => (received += chunk.length));
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join("");
  socket.write(`POST ${path} HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\n${accept ? `accept: ${accept}\r\n` : ""}${extra}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.on("error", () => {});
  return { received: () => received, closed, resume: () => void socket.resume(), destroy: () => socket.destroy() };
}

async function inFlight(url: string): Promise<number> {
  return ((await (await fetch(`${url}/healthz`)).json()) as { inFlight: number }).inFlight;
}

async function until(condition: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

for (const accept of [undefined, "application/x-ndjson"]) {
  test(`an unread answer keeps its call's slot until the server gives up on the client after answerTimeoutMs (${accept ?? "plain"})`, async () => {
    const server = await testServer({ answerTimeoutMs: 2_000, maxResultBytes: 64 * 1024 * 1024, limits: { memoryMb: 128 } });
    try {
      const call = unreadCall(server.url, accept);
      // The worker answers at once; its 16 MiB (32 MiB of JSON for the plain form) cannot all go out.
      await until(async () => (await inFlight(server.url)) === 1, 10_000, "the call to be in flight");
      const held = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(await inFlight(server.url), 1, "the slot is held while the answer waits for its client");
      await until(async () => (await inFlight(server.url)) === 0, 10_000, "the slot to be freed");
      assert.ok(Date.now() - held >= 1_500, `the slot went after ${Date.now() - held} ms`);
      // The server cut the connection: reading now ends early, without the whole answer.
      call.resume();
      await call.closed;
      assert.ok(call.received() < 16 * 1024 * 1024, `the client still got ${call.received()} bytes`);
    } finally {
      await server.close();
    }
  });
}

test("an answer the client reads frees its slot as soon as it is written", async () => {
  const server = await testServer({ answerTimeoutMs: 60_000 });
  try {
    const { json } = await server.post("/v1/run", { code: `export default { run() { return "y".repeat(1_000_000).length; } }` });
    assert.equal(json.result, 1_000_000);
    await until(async () => (await inFlight(server.url)) === 0, 2_000, "the slot to be freed");
  } finally {
    await server.close();
  }
});

// /mcp streams a tools/call's log and progress notifications, then its result, as server-sent
// events. Its slot used to be held until that stream had been read to its end: a client that
// stopped reading kept it for as long as its connection stayed open, whatever answerTimeoutMs said.
// One call's events (100 log lines of at most 1,000 characters, a progress notification each, a
// result of at most 40,000 characters; 1.5 MB of JSON when every character is a control
// character) fit in loopback's socket buffers; a batch of 10 such calls (15 MB) does not.
test("a streamed /mcp answer its client does not read keeps the slot until answerTimeoutMs after it was complete, then the connection is closed", async () => {
  const dir = mkdtempSync(join(tmpdir(), "islet-unread-mcp-"));
  writeFileSync(join(dir, "api.json"), JSON.stringify({ openapi: "3.1.0", info: { title: "None", version: "1" }, paths: { "/x": { get: { operationId: "x", responses: { "200": { description: "ok" } } } } } }));
  const config = join(dir, "islet.json");
  writeFileSync(config, JSON.stringify({ apiKeys: [{ id: "k", key: "unread-mcp-key-0123" }], codemode: { openapi: { none: { spec: "api.json", baseUrl: "http://127.0.0.1:9" } } } }));
  const server = await testServer({ answerTimeoutMs: 2_000 }, { ISLET_CONFIG: config });
  try {
    const code = `async () => { const line = "\\u0001".repeat(1000); for (let i = 0; i < 100; i++) console.log(line); return "\\u0001".repeat(40000); }`;
    const batch = Array.from({ length: 10 }, (_, i) => ({ jsonrpc: "2.0", id: i + 1, method: "tools/call", params: { name: "execute", arguments: { code }, _meta: { progressToken: i + 1 } } }));
    const headers = { authorization: "Bearer unread-mcp-key-0123", "mcp-protocol-version": "2025-06-18" };
    // Read whole, the answer is about 15 MB of events; and its slot is freed as soon as it is read.
    const whole = await fetch(`${server.url}/mcp`, { method: "POST", headers: { ...headers, "content-type": "application/json", accept: "application/json, text/event-stream" }, body: JSON.stringify(batch) });
    assert.equal(whole.headers.get("content-type"), "text/event-stream");
    const size = Buffer.byteLength(await whole.text());
    assert.ok(size > 14_000_000, `the answer is only ${size} bytes`);
    await until(async () => (await inFlight(server.url)) === 0, 5_000, "the read answer's slot to be freed");

    const call = unreadCall(server.url, "application/json, text/event-stream", "/mcp", JSON.stringify(batch), headers);
    await until(async () => (await inFlight(server.url)) === 1, 10_000, "the call to be in flight");
    const held = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(await inFlight(server.url), 1, "the slot is held while the answer waits for its client");
    await until(async () => (await inFlight(server.url)) === 0, 20_000, "the slot to be freed");
    assert.ok(Date.now() - held >= 1_500, `the slot went after ${Date.now() - held} ms`);
    call.resume();
    await call.closed;
    assert.ok(call.received() < size, `the client still got ${call.received()} of ${size} bytes`);
  } finally {
    await server.close();
  }
});
