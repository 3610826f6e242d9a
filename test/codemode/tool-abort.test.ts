// findings20/03: a Code Mode execution's tool calls end with it. The code may return without
// awaiting its calls, be cancelled (its signal), or run into a limit: every call it started gets
// an AbortSignal that aborts then, and the providers stop on it: an OpenAPI source's fetch is
// aborted (the upstream sees its request closed), an upstream MCP server gets
// notifications/cancelled, fromFunctions' functions get the signal. Before, the upstream requests
// stayed open, carrying the host's credentials, until undici's own timeout (about 300 s).
// Every test in every isolation mode (ISLET_ISOLATION narrows the run to one).

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { WorkerLoader } from "islet";
import { createExecutor, fromFunctions, fromMcpServer, fromOpenApi, OpenApiError, UpstreamError, type OpenApiRequest, type ToolProvider } from "islet/codemode";

type Isolation = "isolate" | "thread" | "process";
const modes: Isolation[] = process.env.ISLET_ISOLATION === "thread" || process.env.ISLET_ISOLATION === "process" ? [process.env.ISLET_ISOLATION] : ["isolate", "thread", "process"];
const shards = (isolation: Isolation) => (isolation === "thread" ? { threads: 1 } : isolation === "process" ? { processes: 1 } : {});

const TOKEN = "upstream-secret-0123456789";
const N = 20;

async function until(check: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** An HTTP API on loopback that never answers, counting the requests it gets and those closed. */
async function hangingApi(): Promise<{ url: string; opened: () => number; closed: () => number; authorized: () => number; server: Server; close(): Promise<void> }> {
  let opened = 0;
  let closed = 0;
  let authorized = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    opened++;
    if (req.headers.authorization === `Bearer ${TOKEN}`) authorized++;
    res.on("close", () => closed++);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    opened: () => opened,
    closed: () => closed,
    authorized: () => authorized,
    server,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const spec = {
  openapi: "3.0.0",
  info: { title: "Slow", version: "1" },
  paths: { "/slow": { get: { operationId: "slow", responses: { "200": { description: "ok" } } } } },
};

/**
 * An MCP server over streamable HTTP (the SDK's, with sessions) whose tool waits until its call is
 * cancelled (notifications/cancelled aborts the handler's signal), counting calls started and
 * cancelled, and the POSTs it got and closed.
 */
async function waitingMcp(): Promise<{ url: string; started: () => number; cancelled: () => number; cancellations: () => number; posts: () => { opened: number; closed: number }; close(): Promise<void> }> {
  let started = 0;
  let cancelled = 0;
  let cancellations = 0;
  const posts = { opened: 0, closed: 0 };
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const servers: McpServer[] = [];
  const http = createServer(async (req, res) => {
    let body: unknown;
    if (req.method === "POST") {
      posts.opened++;
      res.on("close", () => posts.closed++);
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      if ((body as { method?: string }).method === "notifications/cancelled") cancellations++;
    }
    const id = req.headers["mcp-session-id"];
    let transport = typeof id === "string" ? transports.get(id) : undefined;
    if (transport === undefined) {
      const server = new McpServer({ name: "waiting", version: "1" });
      servers.push(server);
      server.registerTool("wait", { description: "Waits until the call is cancelled" }, (extra) => {
        started++;
        return new Promise((resolve) =>
          extra.signal.addEventListener("abort", () => {
            cancelled++;
            resolve({ content: [{ type: "text", text: "cancelled" }] });
          }),
        );
      });
      server.registerTool("echo", { description: "Answers at once" }, () => ({ content: [{ type: "text", text: "echo" }] }));
      const created: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({ sessionIdGenerator: randomUUID, onsessioninitialized: (session) => void transports.set(session, created) });
      transport = created;
      await server.connect(transport);
    }
    await transport.handleRequest(req, res, body);
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    started: () => started,
    cancelled: () => cancelled,
    cancellations: () => cancellations,
    posts: () => ({ ...posts }),
    async close() {
      for (const server of servers) await server.close().catch(() => {});
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

/** A tool the code awaits until `ready()` holds: so the calls it fired are known to be in flight. */
function waitFor(ready: () => boolean) {
  return fromFunctions("test", { inFlight: { execute: () => until(ready, 10_000, () => "the calls to be in flight") } });
}

for (const isolation of modes) {
  describe(`tool calls end with their execution (${isolation})`, () => {
    const loader = new WorkerLoader({ isolation, ...shards(isolation) });
    const executor = createExecutor({ loader, limits: { wallMs: 20_000 } });
    after(async () => {
      await executor.close();
      await loader.close();
    });

    test("an OpenAPI source: code that returns without awaiting its calls leaves no upstream request open", async () => {
      const api = await hangingApi();
      try {
        const up = fromOpenApi(spec, { namespace: "up", baseUrl: api.url, headers: { authorization: `Bearer ${TOKEN}` } });
        const out = await executor.execute(`async () => { for (let i = 0; i < ${N}; i++) up.slow({}).catch(() => {}); await test.inFlight(); return "answered"; }`, [up, waitFor(() => api.opened() === N)]);
        assert.equal(out.error, undefined);
        assert.equal(out.result, "answered");
        assert.equal(api.authorized(), N, "the requests carried the host's credential");
        const answered = performance.now();
        await until(() => api.closed() === N, 3_000, () => `the upstream's ${N} requests to be closed (${api.closed()} closed)`);
        assert.ok(performance.now() - answered < 3_000);
      } finally {
        await api.close();
      }
    });

    test("an OpenAPI source: a cancelled execution (its signal aborted) ends its calls upstream", async () => {
      const api = await hangingApi();
      try {
        const up = fromOpenApi(spec, { namespace: "up", baseUrl: api.url, headers: { authorization: `Bearer ${TOKEN}` } });
        const controller = new AbortController();
        const running = executor.execute(`async () => { const all = []; for (let i = 0; i < ${N}; i++) all.push(up.slow({})); return await Promise.all(all); }`, [up], { signal: controller.signal });
        await until(() => api.opened() === N, 10_000, () => `the upstream to get ${N} requests (${api.opened()})`);
        assert.equal(api.closed(), 0);
        controller.abort();
        const out = await running;
        assert.equal(out.outcome, "canceled");
        assert.match(out.error ?? "", /^AbortError/);
        await until(() => api.closed() === N, 3_000, () => `the upstream's ${N} requests to be closed (${api.closed()} closed)`);
      } finally {
        await api.close();
      }
    });

    test("an OpenAPI source: an execution that runs into its wall limit ends its calls upstream", async () => {
      const api = await hangingApi();
      const short = createExecutor({ loader, limits: { wallMs: 1_000 } });
      try {
        const up = fromOpenApi(spec, { namespace: "up", baseUrl: api.url });
        const out = await short.execute(`async () => { const all = []; for (let i = 0; i < ${N}; i++) all.push(up.slow({})); return await Promise.all(all); }`, [up]);
        assert.equal(out.outcome, "exceededWall");
        assert.equal(api.opened(), N);
        await until(() => api.closed() === N, 3_000, () => `the upstream's ${N} requests to be closed (${api.closed()} closed)`);
      } finally {
        await short.close();
        await api.close();
      }
    });

    test("an upstream MCP server (streamable HTTP): calls left pending when the execution ends are cancelled upstream", async () => {
      const upstream = await waitingMcp();
      let remote: ToolProvider | undefined;
      try {
        remote = await fromMcpServer({ namespace: "remote", url: upstream.url });
        const before = upstream.posts();
        const out = await executor.execute(`async () => { for (let i = 0; i < ${N}; i++) remote.wait({}).catch(() => {}); await test.inFlight(); return "answered"; }`, [remote, waitFor(() => upstream.started() === N)]);
        assert.equal(out.result, "answered");
        await until(() => upstream.cancelled() === N, 3_000, () => `the upstream's ${N} calls to be cancelled (${upstream.cancelled()})`);
        // The calls' own POSTs are closed too, not left waiting for an answer a cancelled call never gets.
        await until(() => { const now = upstream.posts(); return now.closed - before.closed >= now.opened - before.opened; }, 3_000, () => `the calls' POSTs to be closed (${JSON.stringify([before, upstream.posts()])})`);
        // The connection goes on serving.
        const again = await executor.execute(`async () => { const p = remote.wait({}); await test.inFlight(); return "again"; }`, [remote, waitFor(() => upstream.started() === N + 1)]);
        assert.equal(again.result, "again");
        await until(() => upstream.cancelled() === N + 1, 3_000, () => "the last call to be cancelled");
        // Calls that were answered are not cancelled when their execution ends (the SDK keeps its
        // listener on the signal it is given after the answer: a signal of each call's own, released then).
        const told = upstream.cancellations();
        assert.equal(told, N + 1);
        const answered = await executor.execute(`async () => [await remote.echo({}), await remote.echo({}), await remote.echo({})]`, [remote]);
        assert.deepEqual(answered.result, ["echo", "echo", "echo"]);
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(upstream.cancellations(), told, "no notifications/cancelled for calls that were answered");
      } finally {
        await remote?.close?.();
        await upstream.close();
      }
    });

    test("fromFunctions and plain functions get { signal } as their second argument; it aborts when the execution ends", async () => {
      const signals: AbortSignal[] = [];
      const hold = (signal: AbortSignal) => {
        signals.push(signal);
        return new Promise((resolve) => signal.addEventListener("abort", () => resolve("aborted"), { once: true }));
      };
      const slow = fromFunctions("slow", { hold: { execute: (_input: unknown, { signal }: { signal: AbortSignal }) => hold(signal) } });
      const out = await executor.execute(`async () => { for (let i = 0; i < 5; i++) slow.hold({}); await test.inFlight(); return 1; }`, [slow, waitFor(() => signals.length === 5)]);
      assert.equal(out.result, 1);
      assert.equal(signals.length, 5);
      assert.ok(signals.every((signal) => signal.aborted), `${signals.filter((s) => s.aborted).length} of 5 calls' signals aborted`);
      assert.ok(signals[0].reason instanceof Error && signals[0].reason.name === "AbortError", String(signals[0].reason));
      // The plain-function form of execute's tools (an object of functions) gets it too.
      const plain: AbortSignal[] = [];
      const viaObject = await executor.execute(`async () => { codemode.wait({}); ns.wait({}); await test.inFlight(); return "early"; }`, {
        wait: (_input: unknown, { signal }: { signal: AbortSignal }) => void plain.push(signal),
        ns: { wait: (_input: unknown, { signal }: { signal: AbortSignal }) => void plain.push(signal) },
        test: { inFlight: () => until(() => plain.length === 2, 10_000, () => "both calls") },
      });
      assert.equal(viaObject.result, "early");
      assert.equal(plain.length, 2);
      assert.ok(plain.every((signal) => signal.aborted));
      // A call of an execution that ends by an exception is aborted too.
      signals.length = 0;
      const thrown = await executor.execute(`async () => { slow.hold({}); await test.inFlight(); throw new RangeError("gave up"); }`, [slow, waitFor(() => signals.length === 1)]);
      assert.match(thrown.error ?? "", /^RangeError: gave up/);
      assert.ok(signals[0].aborted);
      // And one that stops for approval (deferApprovals): the calls made before the pause end with it.
      signals.length = 0;
      const guarded = fromFunctions("guarded", { act: { needsApproval: true, execute: () => "done" } });
      const paused = await executor.execute(`async () => { slow.hold({}); await test.inFlight(); return await guarded.act({}); }`, [slow, guarded, waitFor(() => signals.length === 1)], { deferApprovals: true });
      assert.equal(paused.pendingApproval?.tool, "act");
      assert.ok(signals[0].aborted);
      // A provider called directly, without options (as before), still works: its function gets a signal that has not aborted.
      const seen: AbortSignal[] = [];
      const direct = fromFunctions("d", { echo: { execute: (input: unknown, { signal }: { signal: AbortSignal }) => (seen.push(signal), input) } });
      assert.deepEqual(await direct.call("echo", { x: 1 }), { x: 1 });
      assert.equal(seen[0].aborted, false);
    });
  });
}

test("an OpenAPI call has its own time, timeoutMs: past it the call fails with an UpstreamError of kind timeout and its request is closed", { timeout: 20_000 }, async () => {
  const api = await hangingApi();
  try {
    const up = fromOpenApi(spec, { namespace: "up", baseUrl: api.url, timeoutMs: 300 });
    const started = performance.now();
    await assert.rejects(up.call("slow", {}), (error: unknown) => error instanceof UpstreamError && error.kind === "timeout" && /^GET \/slow: no answer within 300 ms/.test(error.message));
    assert.ok(performance.now() - started < 2_000);
    await until(() => api.closed() === 1, 3_000, () => "the request to be closed");
    assert.throws(() => fromOpenApi(spec, { namespace: "up", baseUrl: api.url, timeoutMs: 0 }), OpenApiError);
    assert.throws(() => fromOpenApi(spec, { namespace: "up", baseUrl: api.url, timeoutMs: "5" as unknown as number }), OpenApiError);
  } finally {
    await api.close();
  }
});

test("a custom OpenAPI request function gets the call's signal; the call ends when it aborts, even if the function ignores it", { timeout: 20_000 }, async () => {
  const signals: AbortSignal[] = [];
  const up = fromOpenApi(spec, {
    namespace: "up",
    baseUrl: "http://127.0.0.1:9",
    request: (_request: OpenApiRequest, { signal }) => {
      signals.push(signal);
      return new Promise<never>(() => {});
    },
  });
  const controller = new AbortController();
  const call = up.call("slow", {}, { signal: controller.signal });
  await until(() => signals.length === 1, 1_000, () => "the request function to be called");
  assert.equal(signals[0].aborted, false);
  const reason = Object.assign(new Error("gone"), { name: "AbortError" });
  controller.abort(reason);
  await assert.rejects(call, (error) => error === reason);
  assert.equal(signals[0].aborted, true);
  // timeoutMs bounds a function that ignores the signal too.
  const slow = fromOpenApi(spec, { namespace: "up", baseUrl: "http://127.0.0.1:9", timeoutMs: 200, request: () => new Promise<never>(() => {}) });
  await assert.rejects(slow.call("slow", {}), (error: unknown) => error instanceof UpstreamError && error.kind === "timeout");
});
