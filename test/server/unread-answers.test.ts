// An answer the client does not read stays in the server's memory until it is written out: the
// call keeps its admission slot until then, and a connection whose client has not taken its answer
// within answerTimeoutMs is closed (findings16/02: 40 unread 30 MB answers grew the server by
// 1.4 GB while /healthz said nothing was in flight).

import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { testServer } from "./helpers.ts";

const BIG = `export default { run() { return "x".repeat(16 * 1024 * 1024); } }`;

/** Sends a /v1/run over a raw socket and reads nothing back until `resume()`. */
function unreadCall(url: string, accept?: string): { received(): number; closed: Promise<void>; resume(): void; destroy(): void } {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  // Take nothing from the socket, so the server's writes back up.
  socket.pause();
  let received = 0;
  socket.on("data", (chunk: Buffer) => (received += chunk.length));
  const body = JSON.stringify({ code: BIG });
  socket.write(`POST /v1/run HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\n${accept ? `accept: ${accept}\r\n` : ""}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
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
