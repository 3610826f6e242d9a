// connect() on a service binding inside the sandbox (Cloudflare's Fetcher.connect): a worker holding
// another worker's entrypoint in its env calls `env.SVC.connect("host:port")` and gets a
// cloudflare:sockets Socket whose other end is that worker's connect(socket) handler. Bytes are
// copied both ways (1 MiB echoed intact), an entrypoint without a handler is a clear error, both
// workers' open-socket budgets apply, and a limit kill of either side ends the other's socket.
// Every test in every isolation mode (ISLET_ISOLATION narrows the run to one).

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { LimitError, SubrequestLimitError, WorkerLoader, type TailEvent, type WorkerCode } from "islet";
import { compatibilityDate, sleep } from "../helpers.ts";

type Isolation = "isolate" | "thread" | "process";
const modes: Isolation[] = process.env.ISLET_ISOLATION === "thread" || process.env.ISLET_ISOLATION === "process" ? [process.env.ISLET_ISOLATION] : ["isolate", "thread", "process"];
const shards = (isolation: Isolation) => (isolation === "thread" ? { threads: 1 } : isolation === "process" ? { processes: 1 } : {});

const serverSource = `
import { WorkerEntrypoint } from "cloudflare:workers";
let ended = 0;
let seen = [];
export default {
  // An echo server: what it reads it writes back, until the caller ends its side.
  async connect(socket) {
    seen.push((await socket.opened).localAddress);
    await socket.readable.pipeTo(socket.writable);
  },
  ended() { return ended; },
  seen() { return seen; },
};
// Reads until its readable ends, then counts it.
export class Reader extends WorkerEntrypoint {
  async connect(socket) {
    const reader = socket.readable.getReader();
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
    }
    ended++;
  }
}
export class Hang extends WorkerEntrypoint {
  async connect(socket) {
    await new Promise(() => {});
  }
}
// Sends one byte, then spins: its cpuMs limit kills it.
export class Spin extends WorkerEntrypoint {
  async connect(socket) {
    await socket.writable.getWriter().write(new Uint8Array([42]));
    for (;;) {}
  }
}
// Tries startTls() on its inbound socket and writes back what happened.
export class Tls extends WorkerEntrypoint {
  async connect(socket) {
    let text;
    try {
      socket.startTls();
      text = "upgraded";
    } catch (error) {
      text = error.name + ": " + error.message + " (" + socket.secureTransport + ")";
    }
    const writer = socket.writable.getWriter();
    await writer.write(new TextEncoder().encode(text));
    await writer.close();
  }
}
export class NoHandler extends WorkerEntrypoint {
  hello() { return "hi"; }
}
`;

const clientSource = `
import { WorkerEntrypoint } from "cloudflare:workers";
const describe = (error) => (error && error.name) + ": " + (error && error.message);
async function readAll(readable) {
  const chunks = [];
  let size = 0;
  for await (const chunk of readable) { chunks.push(chunk); size += chunk.byteLength; }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) { out.set(chunk, offset); offset += chunk.byteLength; }
  return out;
}
async function sha(bytes) {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}
export default class extends WorkerEntrypoint {
  async echo(text) {
    const socket = this.env.SVC.connect("echo.test:7");
    const info = await socket.opened;
    const writer = socket.writable.getWriter();
    await writer.write(new TextEncoder().encode(text));
    await writer.close();
    const out = new TextDecoder().decode(await readAll(socket.readable));
    await socket.closed;
    return { out, info, tag: Object.prototype.toString.call(socket) };
  }
  // size bytes sent in uneven pieces while they come back; the buffer written is changed after each write.
  async bigEcho(size) {
    const sent = new Uint8Array(size);
    for (let i = 0; i < size; i++) sent[i] = (i * 7919 + 13) & 255;
    const socket = this.env.SVC.connect({ hostname: "echo.test", port: 8 });
    const writing = (async () => {
      const writer = socket.writable.getWriter();
      for (let offset = 0, i = 0; offset < size; i++) {
        const piece = [1, 100000, 65536, 300000, 7][i % 5];
        const scratch = sent.slice(offset, offset + piece);
        await writer.write(scratch);
        scratch.fill(0);
        offset += piece;
      }
      await writer.close();
    })();
    const received = await readAll(socket.readable);
    await writing;
    return { size: received.byteLength, same: (await sha(received)) === (await sha(sent)) };
  }
  async noHandler() {
    const socket = this.env.NONE.connect("none.test:1");
    const read = await socket.readable.getReader().read().then(() => "read", describe);
    const closed = await socket.closed.then(() => "closed", describe);
    return { read, closed, rpc: await this.env.NONE.hello() };
  }
  // Opens count sockets to each binding named, waits for them all, then one more to extra.
  async fill(names, count, extra) {
    const sockets = [];
    for (const name of names) for (let i = 0; i < count; i++) sockets.push(this.env[name].connect("fill.test:1"));
    await Promise.all(sockets.map((socket) => socket.opened));
    const last = this.env[extra].connect("fill.test:2");
    return await last.readable.getReader().read().then(() => "read", describe);
  }
  // The first read of a socket to a Hang handler, which never writes: only a failure settles it.
  async connectOne(name) {
    const socket = this.env[name].connect("one.test:1");
    return await socket.readable.getReader().read().then(() => "read", describe);
  }
  // Writes to the Reader, then spins: the caller's cpuMs limit kills it with the socket open.
  async writeThenSpin() {
    const socket = this.env.READER.connect("spin.test:1");
    await socket.opened;
    const writer = socket.writable.getWriter();
    await writer.write(new Uint8Array(1000));
    for (;;) {}
  }
  // Reads from the Spin entrypoint until its worker is killed.
  async readUntilKilled() {
    const socket = this.env.SPIN.connect("spin.test:2");
    const reader = socket.readable.getReader();
    const first = await reader.read();
    const second = await reader.read().then(() => "read", describe);
    const closed = await socket.closed.then(() => "closed", describe);
    return { first: [...first.value], second, closed };
  }
  async tls() {
    try {
      const socket = this.env.SVC.connect("echo.test:7", { secureTransport: "on" });
      return await socket.opened.then(() => "opened", describe);
    } catch (error) {
      return "threw " + describe(error);
    }
  }
  async echoTwice() {
    await this.echo("one");
    return await this.echo("two");
  }
  async tlsInbound() {
    const socket = this.env.TLS.connect("tls.test:1");
    return new TextDecoder().decode(await readAll(socket.readable));
  }
  // connect on an RpcTarget the host passed stays an RPC method.
  async rpcConnect() {
    return await this.env.TARGET.connect("x");
  }
}
`;

const code = (source: string, limits?: WorkerCode["limits"]): WorkerCode => ({ compatibilityDate, mainModule: "main.js", modules: { "main.js": source }, ...(limits ? { limits } : {}) });

for (const isolation of modes) {
  describe(`connect() on a service binding in the sandbox (${isolation})`, () => {
    const loaders: WorkerLoader[] = [];
    const make = () => {
      const loader = new WorkerLoader({ isolation, ...shards(isolation) });
      loaders.push(loader);
      return loader;
    };
    after(async () => {
      for (const loader of loaders) await loader.close();
    });

    test("an echo round trip through env.SVC.connect()", async () => {
      const loader = make();
      const server = loader.load(code(serverSource));
      const client = loader.load({ ...code(clientSource), env: { SVC: server.getEntrypoint() } });
      const answer = await client.getEntrypoint().echo("hello, other worker");
      assert.deepEqual(answer, { out: "hello, other worker", info: { remoteAddress: "echo.test:7", localAddress: undefined }, tag: "[object Socket]" });
      assert.deepEqual(await server.getEntrypoint().seen(), ["echo.test:7"]);
    });

    test("each connect() on a service binding counts against subRequests and is a CONNECT record in the trace event", async () => {
      const events: TailEvent[] = [];
      const loader = new WorkerLoader({ isolation, ...shards(isolation), tails: [(batch) => void events.push(...batch)] });
      loaders.push(loader);
      const server = loader.load(code(serverSource));
      const client = loader.load({ ...code(clientSource, { subRequests: 1 }), env: { SVC: server.getEntrypoint() } });
      assert.equal((await client.getEntrypoint().echo("once")).out, "once");
      await assert.rejects(client.getEntrypoint().echoTwice(), (error: Error) => error instanceof SubrequestLimitError);
      for (let i = 0; i < 100 && !events.some((event) => event.method === "echoTwice"); i++) await sleep(20);
      const echo = events.find((event) => event.method === "echo")!;
      assert.deepEqual(echo.fetches.map(({ method, url }) => ({ method, url })), [{ method: "CONNECT", url: "echo.test:7" }]);
    });

    test("1 MiB crosses intact both ways, copied (the writer's buffers are changed after each write)", async () => {
      const loader = make();
      const server = loader.load(code(serverSource));
      const client = loader.load({ ...code(clientSource), env: { SVC: server.getEntrypoint() } });
      assert.deepEqual(await client.getEntrypoint().bigEcho(1024 * 1024), { size: 1024 * 1024, same: true });
    });

    test("an entrypoint without a connect handler is a clear error, and its RPC methods still work", async () => {
      const loader = make();
      const server = loader.load(code(serverSource));
      const client = loader.load({ ...code(clientSource), env: { NONE: server.getEntrypoint("NoHandler") } });
      const answer = await client.getEntrypoint().noHandler();
      const expected = 'TypeError: The entrypoint "NoHandler" has no connect() handler.';
      assert.deepEqual(answer, { read: expected, closed: expected, rpc: "hi" });
    });

    test("secureTransport other than off is refused: the bytes between workers are plain", async () => {
      const loader = make();
      const server = loader.load(code(serverSource));
      const client = loader.load({ ...code(clientSource), env: { SVC: server.getEntrypoint() } });
      assert.match(await client.getEntrypoint().tls(), /^Error: .*secureTransport/);
    });

    test("startTls() on an inbound socket is a TypeError: it is plain bytes between workers (secureTransport off)", async () => {
      const loader = make();
      const server = loader.load(code(serverSource));
      const client = loader.load({ ...code(clientSource), env: { TLS: server.getEntrypoint("Tls") } });
      const expected = "TypeError: The `secureTransport` socket option must be set to 'starttls' for startTls to be used. (off)";
      assert.equal(await client.getEntrypoint().tlsInbound(), expected);
      const socket = server.getEntrypoint("Tls").connect();
      const chunks: Uint8Array[] = [];
      for await (const chunk of socket.readable) chunks.push(chunk);
      assert.equal(Buffer.concat(chunks).toString(), expected);
    });

    test("connect on a host RpcTarget stays an RPC method", async () => {
      const { RpcTarget } = await import("islet");
      class Target extends RpcTarget {
        connect(x: string) {
          return `rpc ${x}`;
        }
      }
      const loader = make();
      const client = loader.load({ ...code(clientSource), env: { TARGET: new Target() } });
      assert.equal(await client.getEntrypoint().rpcConnect(), "rpc x");
    });

    test("the caller's 100 open sockets: the 101st fails, though its callee has room", async () => {
      const loader = make();
      const a = loader.load(code(serverSource));
      const b = loader.load(code(serverSource));
      const c = loader.load(code(serverSource));
      const client = loader.load({ ...code(clientSource), env: { A: a.getEntrypoint("Hang"), B: b.getEntrypoint("Hang"), C: c.getEntrypoint("Hang") } });
      assert.match(await client.getEntrypoint().fill(["A", "B"], 50, "C"), /Too many sockets open \(at most 100\)/);
    });

    test("the callee's 100 open sockets: a caller's connect to a full worker fails", async () => {
      const loader = make();
      const server = loader.load(code(serverSource));
      const held = Array.from({ length: 100 }, () => server.getEntrypoint("Hang").connect());
      await Promise.all(held.map((socket) => socket.opened));
      const client = loader.load({ ...code(clientSource), env: { SVC: server.getEntrypoint("Hang") } });
      assert.match(await client.getEntrypoint().connectOne("SVC"), /Too many sockets open \(at most 100\)/);
      for (const socket of held) await socket.close();
    });

    test("the caller killed mid-stream: the callee's readable ends", async () => {
      const loader = make();
      const server = loader.load(code(serverSource));
      const client = loader.load({ ...code(clientSource, { cpuMs: 100 }), env: { READER: server.getEntrypoint("Reader") } });
      await assert.rejects(client.getEntrypoint().writeThenSpin(), LimitError);
      let ended = 0;
      for (let i = 0; i < 100 && ended === 0; i++) {
        ended = await server.getEntrypoint().ended();
        if (ended === 0) await sleep(20);
      }
      assert.equal(ended, 1);
    });

    test("the callee killed mid-stream: the caller's reads and closed fail", async () => {
      const loader = make();
      const server = loader.load(code(serverSource, { cpuMs: 100 }));
      const client = loader.load({ ...code(clientSource), env: { SPIN: server.getEntrypoint("Spin") } });
      const answer = await client.getEntrypoint().readUntilKilled();
      assert.deepEqual(answer.first, [42]);
      assert.match(answer.second, /cpu|limit/i);
      assert.equal(answer.closed, answer.second);
    });
  });
}
