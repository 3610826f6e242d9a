// fetch() on a service binding inside the sandbox (Cloudflare's Fetcher.fetch): a worker holding
// another worker's entrypoint in its env calls `env.SVC.fetch(request)` and gets that worker's
// fetch handler's Response (status, headers, body stream). GET and POST round trips (1 MiB both
// ways intact), a redirect followed through the binding, the callee's props and limits apply, an entrypoint without a fetch handler is a
// clear error, the caller's subRequests count it and its trace event records it, the caller's
// abort reaches the callee's request.signal, a limit kill of either side ends the other's body
// with an error, and fetch on a host RpcTarget stays an RPC method.
// Every test in every isolation mode (ISLET_ISOLATION narrows the run to one).

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { LimitError, RpcTarget, SubrequestLimitError, WorkerLoader, type TailEvent, type WorkerCode } from "islet";
import { compatibilityDate, sleep } from "../helpers.ts";

type Isolation = "isolate" | "thread" | "process";
const modes: Isolation[] = process.env.ISLET_ISOLATION === "thread" || process.env.ISLET_ISOLATION === "process" ? [process.env.ISLET_ISOLATION] : ["isolate", "thread", "process"];
const shards = (isolation: Isolation) => (isolation === "thread" ? { threads: 1 } : isolation === "process" ? { processes: 1 } : {});

const shared = `
function pattern(size, seed) {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7919 + seed) & 255;
  return bytes;
}
async function sha(bytes) {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}
const describe = (error) => (error && error.name) + ": " + (error && error.message);
`;

const serverSource = `
import { WorkerEntrypoint } from "cloudflare:workers";
${shared}
let aborted = [];
let cancelled = 0;
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/redirect") return Response.redirect(new URL("/path?q=1", url).href, 302);
    const body = new Uint8Array(await request.arrayBuffer());
    const size = Number(url.searchParams.get("size") ?? 0);
    if (size > 0) {
      // size bytes back, streamed in uneven pieces.
      const out = pattern(size, 31);
      let offset = 0;
      let i = 0;
      const stream = new ReadableStream({
        pull(controller) {
          if (offset >= size) return controller.close();
          const piece = [1, 100000, 65536, 300000, 7][i++ % 5];
          controller.enqueue(out.slice(offset, offset + piece));
          offset += piece;
        },
      });
      return new Response(stream, { headers: { "x-received": String(body.byteLength), "x-sha": await sha(body), "x-method": request.method } });
    }
    const headers = {};
    for (const [name, value] of request.headers) headers[name] = value;
    return Response.json({ method: request.method, url: request.url, headers, body: new TextDecoder().decode(body) }, { status: 201, statusText: "Made", headers: { "x-reply": "yes" } });
  },
  aborted() { return aborted; },
  cancelled() { return cancelled; },
};
export class Props extends WorkerEntrypoint {
  fetch(request) { return new Response("props " + JSON.stringify(this.ctx.props)); }
}
export class NoFetch extends WorkerEntrypoint {
  hello() { return "hi"; }
}
export class Spin extends WorkerEntrypoint {
  fetch() { for (;;) {} }
}
// Waits for its caller to give up.
let waiting = 0;
export class Wait extends WorkerEntrypoint {
  waiting() { return waiting; }
  fetch(request) {
    waiting++;
    return new Promise((resolve) => {
      request.signal.addEventListener("abort", () => {
        aborted.push(String(request.signal.reason && request.signal.reason.name));
        resolve(new Response("gave up"));
      });
    });
  }
}
// Sends one byte of its body, then (once the response has gone) spins: its cpuMs limit kills it mid-body.
export class SpinBody extends WorkerEntrypoint {
  fetch() {
    let sent = false;
    return new Response(new ReadableStream({
      async pull(controller) {
        if (!sent) { sent = true; controller.enqueue(new Uint8Array([42])); return; }
        await new Promise((resolve) => setTimeout(resolve, 50));
        for (;;) {}
      },
    }));
  }
}
// A body that never ends, a chunk every 10 ms, counting its cancellation.
export class Slow extends WorkerEntrypoint {
  fetch() {
    return new Response(new ReadableStream({
      async pull(controller) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        controller.enqueue(new Uint8Array(100));
      },
      cancel() { cancelled++; },
    }));
  }
}
`;

const clientSource = `
import { WorkerEntrypoint } from "cloudflare:workers";
${shared}
export default class extends WorkerEntrypoint {
  async get() {
    const response = await this.env.SVC.fetch("https://svc.test/path?q=1", { headers: { "x-one": "1" } });
    return {
      status: response.status,
      statusText: response.statusText,
      reply: response.headers.get("x-reply"),
      isResponse: response instanceof Response,
      json: await response.json(),
    };
  }
  async redirected() {
    const response = await this.env.SVC.fetch("https://svc.test/redirect");
    return { status: response.status, redirected: response.redirected, url: response.url, seen: (await response.json()).url };
  }
  async postText() {
    const response = await this.env.SVC.fetch(new Request("https://svc.test/form", { method: "POST", body: "a=1", headers: { "content-type": "text/plain" } }));
    return await response.json();
  }
  // size bytes each way: sent as a Request's body, received as the response's stream.
  async post(size) {
    const sent = pattern(size, 13);
    const response = await this.env.SVC.fetch(new Request("https://svc.test/big?size=" + size, { method: "POST", body: sent, headers: { "x-two": "2" } }));
    const chunks = [];
    let received = 0;
    for await (const chunk of response.body) { chunks.push(chunk); received += chunk.byteLength; }
    const out = new Uint8Array(received);
    let offset = 0;
    for (const chunk of chunks) { out.set(chunk, offset); offset += chunk.byteLength; }
    return {
      method: response.headers.get("x-method"),
      calleeReceived: Number(response.headers.get("x-received")),
      calleeSame: response.headers.get("x-sha") === (await sha(sent)),
      received,
      same: (await sha(out)) === (await sha(pattern(size, 31))),
      chunks: chunks.length,
    };
  }
  async props() {
    return await (await this.env.PROPS.fetch("https://props.test/")).text();
  }
  async noFetch() {
    return { fetch: await this.env.NONE.fetch("https://none.test/").then(() => "answered", describe), rpc: await this.env.NONE.hello() };
  }
  async spin() {
    return await this.env.SPIN.fetch(new Request("https://spin.test/", { method: "POST", body: "spin" })).then(() => "answered", describe);
  }
  async twice() {
    await (await this.env.SVC.fetch("https://svc.test/one")).text();
    await (await this.env.SVC.fetch("https://svc.test/two")).text();
  }
  async abort() {
    const controller = new AbortController();
    const pending = this.env.WAIT.fetch("https://wait.test/", { signal: controller.signal });
    // Aborted once the callee's handler listens (a fixed 100 ms was not enough for a niced child
    // beside a CPU hog: the abort came before the handler ran).
    while ((await this.env.WAIT.waiting()) === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    return await pending.then(() => "answered", describe);
  }
  async readUntilKilled() {
    const response = await this.env.SPIN_BODY.fetch("https://spin.test/body");
    const reader = response.body.getReader();
    const first = await reader.read();
    const second = await reader.read().then(() => "read", describe);
    return { first: [...first.value], second };
  }
  async readThenSpin() {
    const response = await this.env.SLOW.fetch("https://slow.test/");
    await response.body.getReader().read();
    for (;;) {}
  }
  async rpcFetch() {
    return await this.env.TARGET.fetch("x", 2);
  }
}
`;

const code = (source: string, limits?: WorkerCode["limits"]): WorkerCode => ({ compatibilityDate, mainModule: "main.js", modules: { "main.js": source }, ...(limits ? { limits } : {}) });

for (const isolation of modes) {
  describe(`fetch() on a service binding in the sandbox (${isolation})`, () => {
    const loaders: WorkerLoader[] = [];
    const make = (tails?: ConstructorParameters<typeof WorkerLoader>[0]) => {
      const loader = new WorkerLoader({ isolation, ...shards(isolation), ...tails });
      loaders.push(loader);
      return loader;
    };
    after(async () => {
      for (const loader of loaders) await loader.close();
    });

    test("a GET round trip: the callee's fetch handler sees method, URL and headers; the caller gets a Response with status and headers", async () => {
      const loader = make();
      const server = loader.load(code(serverSource));
      const client = loader.load({ ...code(clientSource), env: { SVC: server.getEntrypoint() } });
      const answer = await client.getEntrypoint().get();
      assert.equal(answer.status, 201);
      assert.equal(answer.statusText, "Made");
      assert.equal(answer.reply, "yes");
      assert.equal(answer.isResponse, true);
      assert.equal(answer.json.method, "GET");
      assert.equal(answer.json.url, "https://svc.test/path?q=1");
      assert.equal(answer.json.headers["x-one"], "1");
      assert.equal(answer.json.body, "");
      assert.deepEqual(await client.getEntrypoint().postText(), { method: "POST", url: "https://svc.test/form", headers: { "content-type": "text/plain" }, body: "a=1" });
    });

    test("a POST round trip with 1 MiB each way, intact", async () => {
      const loader = make();
      const server = loader.load(code(serverSource));
      const client = loader.load({ ...code(clientSource), env: { SVC: server.getEntrypoint() } });
      const size = 1024 * 1024;
      const answer = await client.getEntrypoint().post(size);
      assert.deepEqual({ ...answer, chunks: answer.chunks > 1 }, { method: "POST", calleeReceived: size, calleeSame: true, received: size, same: true, chunks: true });
    });

    test("a redirect from the callee is followed through the same binding", async () => {
      const events: TailEvent[] = [];
      const loader = make({ tails: [(batch) => void events.push(...batch)] });
      const server = loader.load(code(serverSource));
      const client = loader.load({ ...code(clientSource), env: { SVC: server.getEntrypoint() } });
      assert.deepEqual(await client.getEntrypoint().redirected(), { status: 201, redirected: true, url: "https://svc.test/path?q=1", seen: "https://svc.test/path?q=1" });
      for (let i = 0; i < 100 && !events.some((event) => event.method === "redirected"); i++) await sleep(20);
      const event = events.find((event) => event.method === "redirected")!;
      assert.deepEqual(event.fetches.map(({ url, status }) => ({ url, status })), [{ url: "https://svc.test/redirect", status: 302 }, { url: "https://svc.test/path?q=1", status: 201 }]);
    });

    test("the callee's props apply", async () => {
      const loader = make();
      const server = loader.load(code(serverSource));
      const client = loader.load({ ...code(clientSource), env: { PROPS: server.getEntrypoint("Props", { props: { who: "bound" } }) } });
      assert.equal(await client.getEntrypoint().props(), 'props {"who":"bound"}');
    });

    test("an entrypoint without a fetch handler is a clear error, and its RPC methods still work", async () => {
      const loader = make();
      const server = loader.load(code(serverSource));
      const client = loader.load({ ...code(clientSource), env: { NONE: server.getEntrypoint("NoFetch") } });
      assert.deepEqual(await client.getEntrypoint().noFetch(), { fetch: 'TypeError: The entrypoint "NoFetch" has no fetch() handler.', rpc: "hi" });
    });

    test("the callee's limits apply: its spinning handler ends with its CpuLimitError, an error in the caller", async () => {
      const loader = make();
      const server = loader.load(code(serverSource, { cpuMs: 100 }));
      const client = loader.load({ ...code(clientSource), env: { SPIN: server.getEntrypoint("Spin") } });
      const started = Date.now();
      assert.match(await client.getEntrypoint().spin(), /^CpuLimitError: /);
      assert.ok(Date.now() - started < 10_000);
    });

    test("each fetch() on a service binding counts against subRequests and is recorded in the trace event", async () => {
      const events: TailEvent[] = [];
      const loader = make({ tails: [(batch) => void events.push(...batch)] });
      const server = loader.load(code(serverSource));
      const client = loader.load({ ...code(clientSource, { subRequests: 1 }), env: { SVC: server.getEntrypoint() } });
      assert.equal((await client.getEntrypoint().get()).status, 201);
      await assert.rejects(client.getEntrypoint().twice(), (error: Error) => error instanceof SubrequestLimitError);
      for (let i = 0; i < 100 && !events.some((event) => event.method === "twice"); i++) await sleep(20);
      const get = events.find((event) => event.method === "get")!;
      assert.deepEqual(get.fetches.map(({ method, url, status }) => ({ method, url, status })), [{ method: "GET", url: "https://svc.test/path?q=1", status: 201 }]);
    });

    test("an abort of the caller's signal rejects its fetch and aborts the callee's request.signal", async () => {
      const loader = make();
      const server = loader.load(code(serverSource));
      const client = loader.load({ ...code(clientSource), env: { WAIT: server.getEntrypoint("Wait") } });
      assert.match(await client.getEntrypoint().abort(), /^AbortError: /);
      let aborted: string[] = [];
      // Until a deadline, not a count of tries: a niced child beside a CPU hog answers slowly.
      for (const deadline = performance.now() + 15_000; performance.now() < deadline && aborted.length === 0; ) {
        aborted = await server.getEntrypoint().aborted();
        if (aborted.length === 0) await sleep(20);
      }
      assert.deepEqual(aborted, ["AbortError"]);
    });

    test("the callee killed mid-body: the caller's read fails with the callee's limit", async () => {
      const loader = make();
      const server = loader.load(code(serverSource, { cpuMs: 100 }));
      const client = loader.load({ ...code(clientSource), env: { SPIN_BODY: server.getEntrypoint("SpinBody") } });
      const answer = await client.getEntrypoint().readUntilKilled();
      assert.deepEqual(answer.first, [42]);
      assert.match(answer.second, /^TypeError: CpuLimitError: /);
    });

    test("the caller killed mid-body: the callee's body is cancelled", async () => {
      const loader = make();
      const server = loader.load(code(serverSource));
      const client = loader.load({ ...code(clientSource, { cpuMs: 100 }), env: { SLOW: server.getEntrypoint("Slow") } });
      await assert.rejects(client.getEntrypoint().readThenSpin(), LimitError);
      let cancelled = 0;
      for (const deadline = performance.now() + 15_000; performance.now() < deadline && cancelled === 0; ) {
        cancelled = await server.getEntrypoint().cancelled();
        if (cancelled === 0) await sleep(20);
      }
      assert.equal(cancelled, 1);
    });

    test("fetch on a host RpcTarget stays an RPC method", async () => {
      class Target extends RpcTarget {
        fetch(x: string, n: number) {
          return `rpc ${x} ${n}`;
        }
      }
      const loader = make();
      const client = loader.load({ ...code(clientSource), env: { TARGET: new Target() } });
      assert.equal(await client.getEntrypoint().rpcFetch(), "rpc x 2");
    });
  });
}
