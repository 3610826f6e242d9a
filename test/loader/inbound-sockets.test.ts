// Cloudflare's connect(socket) handler: `getEntrypoint().connect(address)` on the host opens a
// connection whose bytes reach the worker's handler (a default export's `connect(socket, env, ctx)`
// or a WorkerEntrypoint's `connect(socket)`) and back: 8 MiB each way intact, backpressure in both
// directions, close from either side, dispose and limit kills ending it, the open-socket budget.
// Every test in every isolation mode (ISLET_ISOLATION narrows the run to one).

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { LimitError, WorkerLoader, type WorkerCode } from "islet";
import { compatibilityDate, sleep } from "../helpers.ts";

type Isolation = "isolate" | "thread" | "process";
const modes: Isolation[] = process.env.ISLET_ISOLATION === "thread" || process.env.ISLET_ISOLATION === "process" ? [process.env.ISLET_ISOLATION] : ["isolate", "thread", "process"];
const shards = (isolation: Isolation) => (isolation === "thread" ? { threads: 1 } : isolation === "process" ? { processes: 1 } : {});

const source = `
import { WorkerEntrypoint } from "cloudflare:workers";
let written = 0;
let ended = false;
export default {
  // An echo server: what it reads it writes back, until the caller ends its side.
  async connect(socket, env, ctx) {
    const info = await socket.opened;
    if (info.localAddress !== undefined && info.localAddress !== "echo.test:7") throw new Error("bad localAddress " + info.localAddress);
    // No way for code to make a Socket over ids of its choosing.
    if (Object.getOwnPropertyNames(socket.constructor).some((name) => !["length", "name", "prototype", "connect"].includes(name))) throw new Error("Socket has " + Object.getOwnPropertyNames(socket.constructor));
    await socket.readable.pipeTo(socket.writable);
  },
  written() { return written; },
  ended() { return ended; },
};
// Writes count chunks of 64 KiB, counting those the host took.
export class Producer extends WorkerEntrypoint {
  async connect(socket) {
    const writer = socket.writable.getWriter();
    for (let i = 0; i < 8; i++) {
      await writer.write(new Uint8Array(65536).fill(i));
      written = i + 1;
    }
    await writer.close();
    await socket.closed;
  }
}
// Says hello and closes the socket at once.
export class Closer extends WorkerEntrypoint {
  async connect(socket) {
    const writer = socket.writable.getWriter();
    await writer.write(new TextEncoder().encode("bye"));
    writer.releaseLock();
    await socket.close();
    ended = true;
  }
}
// Reads until the caller closes, then records it.
export class Reader extends WorkerEntrypoint {
  async connect(socket) {
    const reader = socket.readable.getReader();
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
    }
    ended = true;
  }
}
// Returns at once and writes from ctx.waitUntil: the socket stays open until that work ends.
export class Later extends WorkerEntrypoint {
  async connect(socket) {
    const writer = socket.writable.getWriter();
    this.ctx.waitUntil((async () => {
      for (let i = 0; i < 10; i++) {
        await writer.write(new TextEncoder().encode("<" + i + ">"));
        await scheduler.wait(5);
      }
      await writer.close();
    })());
  }
}
// Waits for ever (until the worker is disposed, or killed).
export class Hang extends WorkerEntrypoint {
  async connect(socket) {
    await new Promise(() => {});
  }
}
// Spins: the cpuMs limit kills it.
export class Spin extends WorkerEntrypoint {
  async connect(socket) {
    await socket.writable.getWriter().write(new Uint8Array([1]));
    for (;;) {}
  }
}
export class NoHandler extends WorkerEntrypoint {}
`;

const code = (): WorkerCode => ({ compatibilityDate, mainModule: "main.js", modules: { "main.js": source } });

function pattern(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of readable) {
    chunks.push(chunk);
    size += chunk.byteLength;
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

const digest = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

for (const isolation of modes) {
  describe(`connect(socket) handlers (${isolation})`, () => {
    const loaders: WorkerLoader[] = [];
    const make = () => {
      const loader = new WorkerLoader({ isolation, ...shards(isolation) });
      loaders.push(loader);
      return loader;
    };
    after(async () => {
      for (const loader of loaders) await loader.close();
    });

    test("a handler that returns at once and writes from ctx.waitUntil: the socket stays open until that work ends (all 10 writes arrive)", async () => {
      const socket = make().load(code()).getEntrypoint("Later").connect("later.test:1");
      const reader = socket.readable.getReader();
      let text = "";
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      assert.equal(text, "<0><1><2><3><4><5><6><7><8><9>");
    });

    test("an echo handler returns 8 MiB intact while it is being sent", async () => {
      const worker = make().load(code());
      const socket = worker.getEntrypoint().connect("echo.test:7");
      assert.deepEqual(await socket.opened, { remoteAddress: "echo.test:7" });
      const sent = pattern(8 * 1024 * 1024, 7);
      const writing = (async () => {
        const writer = socket.writable.getWriter();
        // Uneven pieces, some larger than the 64 KiB the pipe hands over at once.
        for (let offset = 0, i = 0; offset < sent.byteLength; i++) {
          const size = [1, 100_000, 65_536, 300_000, 7][i % 5];
          await writer.write(sent.subarray(offset, offset + size));
          offset += size;
        }
        await writer.close();
      })();
      const received = await readAll(socket.readable);
      await writing;
      assert.equal(received.byteLength, sent.byteLength);
      assert.equal(digest(received), digest(sent));
      await socket.closed;
    });

    test("backpressure: the worker's second write waits for the host's first read", async () => {
      const worker = make().load(code());
      const socket = worker.getEntrypoint("Producer").connect();
      await socket.opened;
      await sleep(300);
      // Nothing read yet: no write of the worker got through.
      assert.equal(await worker.getEntrypoint().written(), 0);
      const reader = socket.readable.getReader();
      const first = await reader.read();
      assert.equal(first.value!.byteLength, 65536);
      assert.equal(first.value![0], 0);
      await sleep(300);
      // One chunk read: the worker is at most one write ahead of it.
      assert.ok((await worker.getEntrypoint().written()) <= 1, `written ${await worker.getEntrypoint().written()}`);
      let total = first.value!.byteLength;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
      }
      assert.equal(total, 8 * 65536);
      assert.equal(await worker.getEntrypoint().written(), 8);
    });

    test("backpressure: the host's writes wait for the worker's reads", async () => {
      const worker = make().load(code());
      // Producer never reads: the host's first write is not taken.
      const socket = worker.getEntrypoint("Producer").connect();
      await socket.opened;
      const writer = socket.writable.getWriter();
      let took = false;
      void writer.write(new Uint8Array(1024)).then(() => (took = true), () => {});
      await sleep(300);
      assert.equal(took, false);
      await socket.close();
    });

    test("the worker closing its socket ends the host's readable", async () => {
      const loader = make();
      const worker = loader.load(code());
      const socket = worker.getEntrypoint("Closer").connect();
      const received = await readAll(socket.readable);
      assert.equal(new TextDecoder().decode(received), "bye");
      await socket.closed;
      // Writing to a closed socket fails.
      await assert.rejects(socket.writable.getWriter().write(new Uint8Array(1)));
    });

    test("the host closing the socket ends the worker's readable", async () => {
      const worker = make().load(code());
      const socket = worker.getEntrypoint("Reader").connect();
      const writer = socket.writable.getWriter();
      await writer.write(new Uint8Array(10));
      writer.releaseLock();
      await socket.close();
      for (let i = 0; i < 50 && !(await worker.getEntrypoint().ended()); i++) await sleep(20);
      assert.equal(await worker.getEntrypoint().ended(), true);
    });

    test("disposing the worker ends the connection with WorkerDisposedError", async () => {
      const worker = make().load(code());
      const socket = worker.getEntrypoint("Hang").connect();
      await socket.opened;
      const reader = socket.readable.getReader();
      const read = reader.read();
      await sleep(50);
      worker.dispose();
      await assert.rejects(read, { name: "WorkerDisposedError" });
      await assert.rejects(socket.closed, { name: "WorkerDisposedError" });
    });

    test("a limit kill ends the connection with the limit's error", async () => {
      const loader = make();
      const worker = loader.load({ ...code(), limits: { cpuMs: 100 } });
      const socket = worker.getEntrypoint("Spin").connect();
      const reader = socket.readable.getReader();
      assert.deepEqual([...(await reader.read()).value!], [1]);
      const error = await reader.read().then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof LimitError, String(error));
      await assert.rejects(socket.closed, LimitError);
    });

    test("the entrypoint's wallMs bounds the handler's invocation", async () => {
      const worker = make().load(code());
      // The worker (and its shard) started first: a niced child's start beside a CPU hog took
      // seconds, which are not the handler's.
      await (worker.getEntrypoint() as any).written();
      const started = performance.now();
      const socket = worker.getEntrypoint("Hang", { limits: { wallMs: 200 } }).connect();
      const error = await socket.closed.then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof LimitError && error.outcome === "exceededWall", String(error));
      assert.ok(performance.now() - started < 5_000);
      await assert.rejects(socket.readable.getReader().read(), LimitError);
    });

    test("an entrypoint without a connect handler fails the socket", async () => {
      const worker = make().load(code());
      const socket = worker.getEntrypoint("NoHandler").connect();
      await assert.rejects(socket.closed, /has no connect\(\) handler/);
    });

    test("another worker reaches the handler through a globalOutbound connect that opens it", async () => {
      const loader = make();
      const server = loader.load(code());
      const seen: string[] = [];
      const client = loader.load({
        compatibilityDate,
        mainModule: "client.js",
        modules: {
          "client.js": `
            import { connect } from "cloudflare:sockets";
            export default {
              async talk(text) {
                const socket = connect("echo.test:7");
                const writer = socket.writable.getWriter();
                await writer.write(new TextEncoder().encode(text));
                await writer.close();
                let out = "";
                for await (const chunk of socket.readable) out += new TextDecoder().decode(chunk);
                return out;
              },
            };`,
        },
        globalOutbound: {
          connect: (address) => {
            seen.push(`${address.hostname}:${address.port}`);
            return server.getEntrypoint().connect(address);
          },
        },
      });
      assert.equal(await client.getEntrypoint().talk("hello over the pipe"), "hello over the pipe");
      assert.deepEqual(seen, ["echo.test:7"]);
    });

    test("inbound sockets count against the worker's 100 open sockets", async () => {
      const worker = make().load(code());
      const sockets = Array.from({ length: 100 }, () => worker.getEntrypoint("Hang").connect());
      await Promise.all(sockets.map((socket) => socket.opened));
      const extra = worker.getEntrypoint("Hang").connect();
      await assert.rejects(extra.closed, /Too many sockets open \(at most 100\)/);
      for (const socket of sockets) await socket.close();
    });
  });
}
