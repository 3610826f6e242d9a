// Bytes the host hands a sandbox as a stream of chunks (SECURITY.md P2): an inbound socket's
// writes, a globalOutbound socket's readable, a globalOutbound response body, a request body into
// a worker's fetch handler. Each chunk must cross with its own bytes only: a small Node Buffer is a
// view into Node's shared 64 KiB pool (other host Buffers in it), and `big.subarray(0, 4)` is a view
// of a whole 1 MiB buffer. Before, each of these reached the sandbox with its whole backing buffer
// (findings24/02 in every mode, findings24/03 in thread and process mode). The sandbox looks past
// every chunk it gets, into `chunk.buffer`, for the host's secrets.

import assert from "node:assert/strict";
import { securitySuite } from "./harness.ts";

const { attack, load } = securitySuite();

const POOL_SECRET = "sk-live-POOL-SECRET-4242";
const BIG_SECRET = "PRIVATE-HOST-DATA-1MiB";

/** Host memory to leak: a small Buffer in Node's pool, and a 1 MiB buffer with a secret far from its first bytes. */
function hostMemory(): { pooled: Buffer; big: Buffer; keep: Buffer } {
  const keep = Buffer.from(POOL_SECRET); // another small Buffer the host holds, in the same pool
  const pooled = Buffer.from("PING\r\n");
  assert.equal(pooled.buffer, keep.buffer, "both Buffers sit in Node's pool (else this test proves nothing)");
  const big = Buffer.alloc(1 << 20);
  big.write(BIG_SECRET, 5000);
  return { pooled, big, keep };
}

/** Evaluated in the sandbox: what a chunk carries, itself and past itself. */
const LOOK = `const look = (v) => {
  const all = new TextDecoder().decode(new Uint8Array(v.buffer));
  return { bytes: v.byteLength, backing: v.buffer.byteLength, offset: v.byteOffset, text: new TextDecoder().decode(v),
    secret: all.includes(${JSON.stringify(POOL_SECRET)}) || all.includes(${JSON.stringify(BIG_SECRET)}) };
};
const readAll = async (readable) => { const r = readable.getReader(); const out = []; for (;;) { const x = await r.read(); if (x.done) return out; out.push(look(x.value)); } };`;

type Seen = { bytes: number; backing: number; offset: number; text: string; secret: boolean };

/** Every chunk is exactly its own bytes, and the bytes arrived whole. */
function assertExact(seen: Seen[], text: string): void {
  for (const chunk of seen) assert.deepEqual([chunk.backing, chunk.offset, chunk.secret], [chunk.bytes, 0, false], JSON.stringify(seen));
  assert.equal(seen.map((chunk) => chunk.text).join(""), text);
}

const later = () => new Promise((resolve) => setTimeout(resolve, 20));

attack("bytes the host writes into an inbound socket reach connect(socket) with their own bytes only (findings24/02)", async () => {
  const { pooled, big, keep } = hostMemory();
  const worker = load(`import { WorkerEntrypoint } from "cloudflare:workers";
    ${LOOK}
    export class H extends WorkerEntrypoint {
      async connect(socket) { globalThis.seen = await readAll(socket.readable); }
      seen() { return globalThis.seen; }
    }`);
  const socket = (worker.getEntrypoint("H") as any).connect("client:1");
  const writer = socket.writable.getWriter();
  big.write("abcd", 0);
  await writer.write(pooled);
  await writer.write(big.subarray(0, 4));
  await writer.write(new Uint8Array(big.buffer, big.byteOffset + 1, 2));
  await writer.write(new DataView(pooled.buffer, pooled.byteOffset, 4));
  await writer.close();
  await socket.closed.catch(() => {});
  const seen = (await (worker.getEntrypoint("H") as any).seen()) as Seen[];
  assertExact(seen, "PING\r\nabcdbcPING");
  assert.ok(keep.byteLength > 0);
});

attack("a globalOutbound connect()'s readable reaches the sandbox's cloudflare:sockets connect() with its own bytes only (findings24/02)", async () => {
  const { pooled, big, keep } = hostMemory();
  big.write("wxyz", 0);
  const globalOutbound = {
    connect: () => ({
      readable: new ReadableStream({
        async start(c) {
          c.enqueue(pooled);
          c.enqueue(big.subarray(0, 4));
          await later();
          c.enqueue(new Uint8Array(big.buffer, 1, 2));
          c.close();
        },
      }),
      writable: new WritableStream({}),
      opened: Promise.resolve({ remoteAddress: "192.0.2.1:25", localAddress: "192.0.2.2:4000" }),
      closed: new Promise(() => {}),
      close() {},
    }),
  };
  const worker = load(`import { connect } from "cloudflare:sockets";
    ${LOOK}
    export default { run() { return readAll(connect("mail.example.com:25").readable); } };`, { globalOutbound: globalOutbound as any });
  assertExact(await (worker.getEntrypoint() as any).run(), "PING\r\nwxyzxy");
  assert.ok(keep.byteLength > 0);
});

attack("a globalOutbound response body, whole or streamed, reaches the sandbox's fetch() with its own bytes only (findings24/03)", async () => {
  const { pooled, big, keep } = hostMemory();
  big.write("{}[]", 0);
  const globalOutbound = async (request: Request) =>
    new Response(
      new ReadableStream({
        async start(c) {
          c.enqueue(pooled);
          c.enqueue(big.subarray(0, 4));
          // A pause makes the body stream chunk by chunk (else it crosses whole, with the headers).
          if (new URL(request.url).pathname === "/streamed") await later();
          c.enqueue(new Uint8Array(big.buffer, 1, 2));
          c.close();
        },
      }),
    );
  const worker = load(`${LOOK}
    export default { async run(path) { return readAll((await fetch("https://api.example.com" + path)).body); } };`, { globalOutbound });
  assertExact(await (worker.getEntrypoint() as any).run("/whole"), "PING\r\n{}[]}[");
  assertExact(await (worker.getEntrypoint() as any).run("/streamed"), "PING\r\n{}[]}[");
  // A body of one chunk that is a view of a larger buffer.
  const single = load(`${LOOK}
    export default { async run() { return readAll((await fetch("https://api.example.com/")).body); } };`, { globalOutbound: async () => new Response(big.subarray(0, 4)) });
  assertExact(await (single.getEntrypoint() as any).run(), "{}[]");
  assert.ok(keep.byteLength > 0);
});

attack("a request body the host streams into a worker's fetch handler reaches it with its own bytes only", async () => {
  const { pooled, big, keep } = hostMemory();
  big.write("<ab>", 0);
  const worker = load(`${LOOK} export default { async fetch(request) { return Response.json(await readAll(request.body)); } };`);
  for (const pause of [false, true]) {
    const body = new ReadableStream({
      async start(c) {
        c.enqueue(pooled);
        c.enqueue(big.subarray(0, 4));
        if (pause) await later();
        c.enqueue(new Uint8Array(big.buffer, 1, 2));
        c.close();
      },
    });
    const response = await worker.getEntrypoint().fetch(new Request("https://w.example/", { method: "POST", body, duplex: "half" } as RequestInit));
    assertExact((await response.json()) as Seen[], "PING\r\n<ab>ab");
  }
  assert.ok(keep.byteLength > 0);
});

attack("a small Node Buffer in env, or in a host function's answer, carries only its own bytes", async () => {
  const { pooled, big, keep } = hostMemory();
  const withEnv = load(`${LOOK} import { WorkerEntrypoint } from "cloudflare:workers";
    export class E extends WorkerEntrypoint { async run(get) { return [look(this.env.small), look(this.env.nested.part), look(await get())]; } }`, {
    env: { small: pooled, nested: { part: big.subarray(0, 4) } },
  });
  const seen = (await (withEnv.getEntrypoint("E") as any).run(() => Buffer.from("pool"))) as Seen[];
  assertExact(seen, "PING\r\n\0\0\0\0pool");
  assert.ok(keep.byteLength > 0);
});
