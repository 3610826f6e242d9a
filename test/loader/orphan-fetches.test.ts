// findings20/02: a worker's outbound fetch() that is still waiting when its invocation ends was
// never aborted: with globalOutbound handing requests to Node's fetch, 1,000 of them per call
// stayed open on the host after the call answered, after dispose() and (in-process) after
// close(), for the upstream's or undici's timeout; on islet serve one key using one slot at a
// time exhausted the server's file descriptors. Like its sockets, a worker's pending fetches end
// when no invocation of it is in flight (ctx.waitUntil keeps one in flight) and when it is
// disposed. Real fetch against a real loopback server that never answers, in every isolation mode
// (ISLET_ISOLATION narrows the run to one).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { WorkerLoader } from "islet";
import { compatibilityDate, sleep } from "../helpers.ts";

type Isolation = "isolate" | "thread" | "process";
const modes: Isolation[] = process.env.ISLET_ISOLATION === "thread" || process.env.ISLET_ISOLATION === "process" ? [process.env.ISLET_ISOLATION] : ["isolate", "thread", "process"];
const shards = (isolation: Isolation) => (isolation === "thread" ? { threads: 1 } : isolation === "process" ? { processes: 1 } : {});

/** An upstream that takes requests and never answers, counting those open. */
let server: Server;
let base = "";
const open = new Set<IncomingMessage>();
let arrived = 0;

before(async () => {
  server = createServer((request) => {
    arrived++;
    open.add(request);
    request.socket.on("close", () => open.delete(request));
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`waited ${ms} ms for ${what}`);
    await sleep(20);
  }
}

const source = (url: string) => `
  import { WorkerEntrypoint } from "cloudflare:workers";
  export default class extends WorkerEntrypoint {
    async scatter(n) {
      for (let i = 0; i < n; i++) fetch("${url}/slow?" + i).catch(() => {});
      await scheduler.wait(100);
      return "answered";
    }
    async later(n) {
      this.ctx.waitUntil((async () => { await Promise.all(Array.from({ length: n }, (_, i) => fetch("${url}/slow?w" + i).catch(() => {}))); })());
      return "answered";
    }
    async hold(n) {
      await Promise.all(Array.from({ length: n }, (_, i) => fetch("${url}/slow?h" + i).catch((e) => e.name)));
      return "never";
    }
  }`;

for (const isolation of modes) {
  describe(`isolation: ${isolation}`, () => {
    test("fetches still waiting when the call answers are aborted on the host", async () => {
      const loader = new WorkerLoader({ isolation, ...shards(isolation) });
      try {
        const before = arrived;
        const worker = loader.load({ compatibilityDate, mainModule: "m.js", modules: { "m.js": source(base) }, globalOutbound: (request: Request) => fetch(request) });
        assert.equal(await worker.getEntrypoint<{ scatter(n: number): Promise<string> }>().scatter(20), "answered");
        await until(() => arrived - before === 20, 10_000, "the 20 requests to arrive");
        await until(() => open.size === 0, 5_000, `the upstream's requests to close (${open.size} open)`);
      } finally {
        await loader.close();
      }
    });

    test("ctx.waitUntil keeps its fetches until that work ends; dispose() ends them", async () => {
      const loader = new WorkerLoader({ isolation, ...shards(isolation), limits: { wallMs: 60_000 } });
      try {
        const before = arrived;
        const worker = loader.load({ compatibilityDate, mainModule: "m.js", modules: { "m.js": source(base) }, globalOutbound: (request: Request) => fetch(request) });
        assert.equal(await worker.getEntrypoint<{ later(n: number): Promise<string> }>().later(10), "answered");
        await until(() => arrived - before === 10, 10_000, "the 10 requests to arrive");
        await sleep(300);
        assert.equal(open.size, 10, "waitUntil's fetches are still its work");
        worker.dispose();
        await until(() => open.size === 0, 5_000, `the upstream's requests to close after dispose (${open.size} open)`);
      } finally {
        await loader.close();
      }
    });

    test("a call cut off by its wall-time limit leaves no fetch behind", async () => {
      const loader = new WorkerLoader({ isolation, ...shards(isolation), limits: { wallMs: 500 } });
      try {
        const before = arrived;
        const worker = loader.load({ compatibilityDate, mainModule: "m.js", modules: { "m.js": source(base) }, globalOutbound: (request: Request) => fetch(request) });
        await assert.rejects(worker.getEntrypoint<{ hold(n: number): Promise<string> }>().hold(10), { name: "WallTimeLimitError" });
        await until(() => arrived - before === 10, 10_000, "the 10 requests to arrive");
        await until(() => open.size === 0, 5_000, `the upstream's requests to close (${open.size} open)`);
      } finally {
        await loader.close();
      }
    });
  });
}
