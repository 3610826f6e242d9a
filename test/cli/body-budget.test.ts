// Request bodies being read are a budgeted host resource (findings23/01): one API key's many
// connections that send all but the last byte of a large POST once made `islet mcp --http` hold
// ~4.5 MB a connection (5.4 GB for 1,500), slowed another key's calls to 16 s and never got a 429.
// islet serve's /mcp read its body before admission the same way, and a chunked /v1/run body was
// buffered whole by the body-size check before admission. The real CLI in a child process, real
// sockets: past the key's cap its connections are answered 429 (or closed), the server's RSS stays
// bounded, another key's call answers promptly, a trickling body is answered 408 at the deadline,
// and a body's place is given back when its connection closes.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startIslet, type IsletProcess } from "./process.ts";

const KEY_A = "body-key-a-0123456789";
const KEY_B = "body-key-b-0123456789";
const KEYS = `a:${KEY_A},b:${KEY_B}`;
const DEADLINE_MS = 3000;
const dir = mkdtempSync(join(tmpdir(), "islet-body-budget-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const spec = join(dir, "api.json");
writeFileSync(spec, JSON.stringify({ openapi: "3.1.0", info: { title: "Pets", version: "1" }, paths: { "/pets": { get: { operationId: "listPets", responses: { "200": { description: "ok" } } } } } }));
const openapi = { pets: { spec, baseUrl: "http://127.0.0.1:9/" } };

const rssMb = (pid: number) => Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)![1]) / 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Pending {
  socket: net.Socket;
  /** The status the server answered with, or "closed" when it closed the connection without one. */
  outcome: Promise<number | "closed">;
  settled: boolean;
}

/** A POST whose body is sent but for its last byte (its last chunk, when chunked). */
function pendingPost(port: number, path: string, key: string, body: Buffer, chunked = false): Pending {
  const socket = net.connect(port, "127.0.0.1");
  const pending: Pending = { socket, settled: false, outcome: undefined as never };
  pending.outcome = new Promise((resolve) => {
    let head = "";
    const settle = (value: number | "closed") => {
      if (pending.settled) return;
      pending.settled = true;
      resolve(value);
    };
    socket.on("data", (chunk) => {
      head += chunk.toString("latin1");
      const status = head.match(/^HTTP\/1\.1 (\d{3})/);
      if (status) settle(Number(status[1]));
    });
    socket.on("close", () => settle("closed"));
    socket.on("error", () => settle("closed"));
  });
  socket.on("connect", () => {
    const length = chunked ? "Transfer-Encoding: chunked" : `Content-Length: ${body.length}`;
    socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n${length}\r\n\r\n`);
    if (chunked) socket.write(`${body.length.toString(16)}\r\n${body.toString("latin1")}\r\n`, "latin1");
    else socket.write(body.subarray(0, body.length - 1));
  });
  return pending;
}

/** Waits until at most `open` of them are still unanswered and open, or `ms` passed. */
async function settleAllBut(conns: Pending[], open: number, ms: number): Promise<Pending[]> {
  const until = Date.now() + ms;
  while (Date.now() < until && conns.filter((c) => !c.settled).length > open) await sleep(200);
  // The server reads what the ones it kept sent (no more answers come for a moment).
  await sleep(1000);
  return conns.filter((c) => !c.settled);
}

async function timed<T>(call: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await call();
  return { value, ms: performance.now() - started };
}

const mcpPost = (url: string, key: string, message: unknown) =>
  fetch(url, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json", accept: "application/json, text/event-stream" }, body: JSON.stringify(message), signal: AbortSignal.timeout(10_000) });

/**
 * The attack and the checks for one server: `attack` opens the attacker's pending bodies, `call`
 * makes one call with a key (it must answer 200), `cap` is how many bodies one key may have read at once.
 */
async function budgetHolds(islet: IsletProcess, attack: () => Pending[], call: (key: string) => Promise<Response>, cap: number, perConnMb: number): Promise<void> {
  const pid = islet.child.pid!;
  assert.equal((await call(KEY_B)).status, 200);
  const before = rssMb(pid);
  const conns = attack();
  try {
    const kept = await settleAllBut(conns, cap, 20_000);
    const outcomes = await Promise.all(conns.filter((c) => c.settled).map((c) => c.outcome));
    const grew = rssMb(pid) - before;
    // Before: every connection kept reading (none answered), and the server grew by about perConnMb each.
    assert.ok(kept.length <= cap, `at most ${cap} bodies of one key are read at once; ${kept.length} of ${conns.length} connections are still being read`);
    assert.ok(outcomes.every((outcome) => outcome === 429 || outcome === "closed"), `refused with 429 or closed: ${JSON.stringify(outcomes.slice(0, 10))}`);
    assert.ok(outcomes.includes(429), "at least some refusals are seen as 429");
    assert.ok(grew < Math.max(150, (conns.length * perConnMb) / 3), `the server's RSS grew by ${grew.toFixed(0)} MB for ${conns.length} pending bodies`);
    // Another key is served promptly while the attacker's bodies are held.
    const other = await timed(() => call(KEY_B));
    assert.equal(other.value.status, 200);
    assert.ok(other.ms < 2000, `key b answered in ${other.ms.toFixed(0)} ms`);
    // The bodies still being read trickle (their last byte never comes): 408 at the deadline, and closed.
    const started = Date.now();
    const late = await Promise.all(kept.map((c) => c.outcome));
    assert.ok(late.every((outcome) => outcome === 408), `trickling bodies are answered 408: ${JSON.stringify(late)}`);
    assert.ok(Date.now() - started < DEADLINE_MS + 3000, "within the deadline");
    await Promise.all(kept.map((c) => new Promise((resolve) => (c.socket.destroyed ? resolve(null) : c.socket.once("close", resolve)))));
    // Their places are given back: key a is served again.
    assert.equal((await call(KEY_A)).status, 200);
  } finally {
    for (const c of conns) c.socket.destroy();
  }
}

/** A body's place is given back when its connection closes: `cap` pending bodies, closed, then `cap` more are read (not 429). */
async function closedGiveBack(port: number, path: string, body: Buffer, cap: number): Promise<void> {
  const first = Array.from({ length: cap }, () => pendingPost(port, path, KEY_A, body));
  await sleep(1000);
  assert.ok(first.every((c) => !c.settled), "the first bodies are being read");
  for (const c of first) c.socket.destroy();
  await sleep(300);
  const second = Array.from({ length: cap }, () => pendingPost(port, path, KEY_A, body));
  try {
    await sleep(1000);
    assert.ok(second.every((c) => !c.settled), "closing a connection gives its body's place back");
  } finally {
    for (const c of second) c.socket.destroy();
  }
}

test("islet mcp --http: one key's pending bodies are capped (429), bounded in memory, cut at the deadline (408); another key is served", async () => {
  const config = join(dir, "mcp.json");
  writeFileSync(config, JSON.stringify({ openapi }));
  const islet = startIslet(["mcp", "--config", config, "--http", "--port", "0", "--max-in-flight", "4", "--body-timeout-ms", String(DEADLINE_MS)], { ISLET_API_KEYS: KEYS });
  try {
    const [, port] = await islet.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)\/mcp \(2 API keys\)/);
    const url = `http://127.0.0.1:${port}/mcp`;
    const big = Buffer.from(JSON.stringify({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1, reason: "x".repeat(4_000_000) } }));
    // One key may hold half of --max-in-flight: 2 bodies.
    await budgetHolds(islet, () => Array.from({ length: 100 }, () => pendingPost(Number(port), "/mcp", KEY_A, big)), (key) => mcpPost(url, key, { jsonrpc: "2.0", id: 1, method: "tools/list" }), 2, 4);
    await closedGiveBack(Number(port), "/mcp", big, 2);
  } finally {
    await islet.stop();
  }
});

test("islet serve: pending bodies on /mcp and chunked /v1/run are capped (429), bounded in memory, cut at the deadline (408); another key is served", async () => {
  const config = join(dir, "serve.json");
  writeFileSync(config, JSON.stringify({ maxInFlight: 4, bodyTimeoutMs: DEADLINE_MS, codemode: { openapi } }));
  const islet = startIslet(["serve", "--port", "0", "--config", config, "--quiet"], { ISLET_API_KEYS: KEYS });
  try {
    const [, url] = await islet.waitFor(/listening on (http:\/\/127\.0\.0\.1:(\d+)) \(2 API keys\)/);
    const port = Number(new URL(url).port);
    const big = Buffer.from(JSON.stringify({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1, reason: "x".repeat(1_000_000) } }));
    const code = Buffer.from(JSON.stringify({ code: `export default { run() { return 1; } } // ${"x".repeat(1_000_000)}` }));
    const run = (key: string) => fetch(`${url}/v1/run`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ code: "export default { run() { return 1; } }" }), signal: AbortSignal.timeout(10_000) });
    // Half of maxInFlight for one key: 2 bodies at once, whichever route.
    await budgetHolds(
      islet,
      () => Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? pendingPost(port, "/mcp", KEY_A, big) : pendingPost(port, "/v1/run", KEY_A, code, true))),
      run,
      2,
      1,
    );
    await closedGiveBack(port, "/mcp", big, 2);
  } finally {
    await islet.stop();
  }
});
