// The HTTP application: routes, authentication, admission control, request-size limits, logs and
// metrics, on Hono. Transport-free (a `fetch` handler plus a `ws` server for upgrades), so
// startServer binds it to a port and tests can drive it directly.

import type { Socket } from "node:net";
import { dirname } from "node:path";
import { Hono, type Context } from "hono";
import { upgradeWebSocket } from "@hono/node-server";
import { RpcSession } from "capnweb";
import { WebSocketServer } from "ws";
import { z } from "zod";
import { WorkerLoader, type TailEvent } from "../index.ts";
import { MessageQueueTransport } from "../client/wire.ts";
import type { ServerResponse } from "node:http";
import { Admission, holdSlot } from "./admission.ts";
import { BodyAbandoned, BodyBudget, bodyBudgetLimits } from "./body-budget.ts";
import type { IncomingMessage } from "node:http";
import { onlyNotifications } from "./mcp-notifications.ts";
import { ApiKeys, type Caller } from "./auth.ts";
import { openCodeMode, type CodeModeService } from "./codemode.ts";
import { isLoopback, resolveOptions, type ResolvedServerOptions, type ServerOptions } from "./config.ts";
import type { EgressOptions } from "./egress.ts";
import { RequestError } from "./errors.ts";
import { Metrics } from "./metrics.ts";
import { crossOriginRefusal, isLoopbackHostHeader } from "./origin.ts";
import { playgroundRoutes } from "./playground/index.ts";
import { IsletApi, NamedSources, RpcSessionScope, rpcSessionOptions } from "./rpc.ts";
import { RpcSessionCounts } from "./rpc-sessions.ts";
import { ServerObjects } from "./objects.ts";
import { WorkerQuota } from "./quota.ts";
import { invocationStream, invocationTail, NamedRunWorkers, runWorker, type LiveRun, type RunContext } from "./run.ts";

type Env = { Variables: { caller: Caller } };

/** POST /v1/codemode/execute's body: the code and nothing else (a misspelt field is a 400, as on /v1/run). */
const executeBody = z.object({ code: z.string().refine((code) => code.trim() !== "") }).strict();

export interface IsletApp {
  /** The Hono app (routes are mounted; add your own before serving if you like). */
  app: Hono<Env>;
  /** The `ws` server that takes /v1/rpc upgrades (pass it to @hono/node-server's `websocket`). */
  wss: WebSocketServer;
  loader: WorkerLoader;
  metrics: Metrics;
  options: ResolvedServerOptions;
  /** Calls admitted and not yet finished. */
  readonly inFlight: number;
  /** Stops admitting calls (503), waits for in-flight ones (up to shutdownTimeoutMs), closes sessions and workers. */
  shutdown(): Promise<void>;
}

const STATUS_NAMES: Record<number, string> = {
  400: "InvalidRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  408: "RequestTimeout",
  409: "Conflict",
  413: "PayloadTooLarge",
  429: "TooManyRequests",
  501: "NotImplemented",
  503: "ShuttingDown",
};

function errorResponse(c: Context, status: number, message: string, headers: Record<string, string> = {}): Response {
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
  // A refused WebSocket upgrade answers without a body: the reason travels in a header
  // (islet/client puts it in its ConnectError).
  if (c.req.header("upgrade")?.toLowerCase() === "websocket") c.header("x-islet-error", message.replace(/[^\x20-\x7e]/g, "?").slice(0, 1000));
  return c.json({ error: { name: STATUS_NAMES[status] ?? "InternalError", message } }, status as 400);
}

/** Builds the app from options merged over the environment (ISLET_*) and the config file. */
export async function createApp(options: ServerOptions = {}, env: NodeJS.ProcessEnv = process.env): Promise<IsletApp> {
  const resolved = resolveOptions(options, env);
  const codemode = await openCodeMode(resolved.codemode, env, env.ISLET_CONFIG ? dirname(env.ISLET_CONFIG) : process.cwd());
  return assemble(resolved, codemode);
}

function assemble(options: ResolvedServerOptions, codemode: CodeModeService | undefined): IsletApp {
  const sessions = new Set<{ scope: RpcSessionScope; close(): void }>();
  const named = new NamedSources();
  const rpcSessions = new RpcSessionCounts(options.maxRpcSessionsPerKey);
  // Twice the loader's worker cap: a live named worker is never forgotten before the loader evicts it.
  const namedRuns = new NamedRunWorkers(2 * (options.loader.maxWorkers ?? 500), options.loader.idleTimeoutMs ?? 300_000);
  const keys = new ApiKeys(options);
  const quota = options.maxWorkersPerKey === undefined ? undefined : new WorkerQuota(options.maxWorkersPerKey, options.loader.idleTimeoutMs ?? 300_000);
  let metrics!: Metrics;
  const loader = new WorkerLoader({
    ...options.loader,
    limits: options.limits,
    tails: [
      (events: TailEvent[]) => {
        for (const event of events) {
          metrics.invocations.inc({ outcome: event.outcome });
          metrics.invocationSeconds.observe(event.wallTime / 1000);
          invocationTail.getStore()?.(event);
        }
      },
    ],
    // Only a streamed /v1/run listens (invocationStream is set around its call); any other invocation is ignored at its onset.
    streamingTails: [(onset) => invocationStream.getStore()?.(onset)],
  });
  const objects = new ServerObjects(loader, options.storage);
  const admission = new Admission(options.maxInFlight, (reason) => metrics.shed.inc({ reason }));
  metrics = new Metrics({
    liveWorkers: () => loader.stats.liveWorkers,
    warmSandboxes: () => loader.stats.warmSandboxes,
    inFlight: () => admission.current,
    rpcSessions: () => sessions.size,
  });
  const { outbound } = options;
  const egress: EgressOptions = {
    allowPrivate: outbound.allowPrivate,
    maxRequestBytes: options.maxRequestBytes,
    allowHosts: outbound.allowHosts,
    credentials: outbound.credentials,
    maxResponseBytes: outbound.maxResponseBytes,
    timeoutMs: outbound.timeoutMs,
    // One line per outbound hop: what a worker reached, who decided, whether credentials went with it.
    audit: outbound.log ? (entry) => options.log({ time: new Date().toISOString(), event: "outbound", ...entry }) : undefined,
  };
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxRequestBytes });
  let shuttingDown = false;

  const app = new Hono<Env>();

  // One JSON line and one metric sample per request; the route is the matched pattern, never raw input.
  app.use("*", async (c, next) => {
    const started = performance.now();
    await next();
    // Which node answered: a load balancer's affinity (deploy/nginx) can be checked from outside.
    c.header("x-islet-node", options.nodeId);
    const ms = Math.round((performance.now() - started) * 100) / 100;
    const route = c.req.routePath === "*" || c.req.routePath === "/*" ? "other" : c.req.routePath;
    metrics.requests.inc({ route, status: String(c.res.status) });
    metrics.requestSeconds.observe(ms / 1000, { route });
    options.log({ time: new Date().toISOString(), method: c.req.method, path: c.req.path, status: c.res.status, ms, key: c.get("caller")?.keyId ?? null });
  });

  app.onError((error, c) => {
    if (error instanceof RequestError) return errorResponse(c, error.status, error.message, error.headers);
    options.log({ time: new Date().toISOString(), level: "error", message: "unhandled error", error: `${error.name}: ${error.message}` });
    return errorResponse(c, 500, "The server failed to handle this request; it has been logged.");
  });

  app.notFound((c) => errorResponse(c, 404, `No route for ${c.req.method} ${c.req.path}. Try POST /v1/run, GET /healthz or GET / for the playground.`));

  // Without keys the server is loopback-only; a page on another site whose name an attacker
  // points at 127.0.0.1 (DNS rebinding) would still send its own name as Host, so only loopback
  // names are served, on every route (the playground and /healthz too).
  const loopbackOnly = !keys.required && !options.allowUnauthenticated;
  app.use("*", async (c, next) => {
    // An absolute-form request target ("GET http://evil/ HTTP/1.1") names the host too, and
    // overrides Host (RFC 9112 §3.2.2): both must be loopback names.
    if (loopbackOnly && (!isLoopbackHostHeader(c.req.header("host")) || !isLoopbackHostHeader(new URL(c.req.url).host))) {
      return errorResponse(c, 403, "Without API keys this server answers only loopback host names (127.0.0.1, localhost, [::1]); configure API keys to serve other names.");
    }
    await next();
  });

  app.get("/healthz", (c) => (shuttingDown ? c.json({ status: "shutting down" }, 503) : c.json({ status: "ok", ...loader.stats, inFlight: admission.current })));

  app.route("/", playgroundRoutes({ apiKeyRequired: keys.required }));

  const authenticate = async (c: Context<Env>, next: () => Promise<void>) => {
    // Without keys, any page the user visits could post here or open /v1/rpc (CORS does not stop
    // a form post, a no-cors fetch or a WebSocket): only the server's own origin (the playground)
    // and clients that send no Origin (curl, SDKs, islet/client) get through.
    if (!keys.required) {
      const refused = crossOriginRefusal(c.req.method, (name) => c.req.header(name));
      if (refused !== undefined) return errorResponse(c, 403, refused);
    }
    const caller = keys.authenticate(c.req.raw.headers);
    if (caller === undefined) {
      const presented = c.req.header("authorization") !== undefined || c.req.header("x-api-key") !== undefined;
      return errorResponse(c, 401, presented ? "The API key is not valid." : "An API key is required: send `Authorization: Bearer <key>`.", {
        "www-authenticate": 'Bearer realm="islet"',
      });
    }
    c.set("caller", caller);
    await next();
  };
  for (const path of ["/v1/*", "/mcp", "/metrics"]) app.use(path, authenticate);

  // Every body is read here, within the body budget, before a route sees it (findings23/01: /mcp
  // read its bodies before admission, and hono's bodyLimit buffered a chunked body whole, with no
  // bound on how many at once). Past a cap 429, past the deadline 408, with `connection: close`.
  const bodies = new BodyBudget(bodyBudgetLimits(options.maxRequestBytes, options.maxInFlight, keys.required, options.bodyTimeoutMs), (reason) => metrics.shed.inc({ reason: `body-${reason}` }));
  const readBody = async (c: Context<Env>, next: () => Promise<void>) => {
    const raw = c.req.raw;
    if (raw.method === "GET" || raw.method === "HEAD") return next();
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    const length = raw.headers.get("content-length");
    let body: Buffer;
    try {
      body = await bodies.read(c.get("caller"), incoming ?? raw.body, length === null || raw.headers.has("transfer-encoding") ? undefined : Number(length));
    } catch (error) {
      // Nobody to answer; the connection is closed with the request.
      if (error instanceof BodyAbandoned) return errorResponse(c, 400, error.message, { connection: "close" });
      throw error;
    }
    c.req.raw = new Request(raw.url, { method: raw.method, headers: raw.headers, body, signal: raw.signal });
    await next();
  };
  app.use("/v1/*", readBody);
  app.use("/mcp", readBody);

  app.get("/metrics", async (c) => c.body(await metrics.render(), 200, { "content-type": metrics.contentType }));

  const readJson = async (c: Context<Env>): Promise<unknown> => {
    const type = c.req.header("content-type") ?? "";
    if (!/^application\/json\b/i.test(type)) throw new RequestError(400, `Send the body as JSON with \`Content-Type: application/json\` (got ${type === "" ? "no content type" : `"${type}"`}).`);
    const text = await c.req.text();
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new RequestError(400, `The body is not valid JSON: ${(error as Error).message}`);
    }
  };

  app.post("/v1/run", async (c) => {
    const caller = c.get("caller");
    const slot = holdSlot(outgoingOf(c.env), admission.admit(caller), options.answerTimeoutMs);
    let answeredLater = false;
    try {
      const body = await readJson(c);
      const context: RunContext = { loader, caller, egress, named: namedRuns, quota, objects, maxResultBytes: options.maxResultBytes };
      const format = streamFormat(c.req.header("accept"));
      if (format === undefined) return c.json(await runWorker(body, context, c.req.header("x-islet-worker-id")));
      // Streamed: log lines as the worker makes them, then the answer the plain form gives. The
      // admission slot is held until the run ends and its answer is written out.
      const response = await streamedRun(format, c.req.raw.signal, (live) => runWorker(body, context, c.req.header("x-islet-worker-id"), live), slot.answered);
      answeredLater = true;
      return response;
    } finally {
      if (!answeredLater) slot.answered();
    }
  });

  app.post("/v1/codemode/execute", async (c) => {
    if (codemode === undefined) {
      throw new RequestError(501, 'Code mode is not configured on this server: add a "codemode" section (servers/openapi tool sources) to the config file.');
    }
    const slot = holdSlot(outgoingOf(c.env), admission.admit(c.get("caller")), options.answerTimeoutMs);
    let answeredLater = false;
    try {
      const body = await readJson(c);
      if (body === null || typeof body !== "object" || Array.isArray(body)) throw new RequestError(400, "The body must be a JSON object {code}.");
      const parsed = executeBody.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        if (issue.code === "unrecognized_keys") throw new RequestError(400, `${issue.keys[0]}: unknown field (known: code)`);
        throw new RequestError(400, "code: must be a non-empty string holding an async arrow function");
      }
      const format = streamFormat(c.req.header("accept"));
      if (format === undefined) return c.json(await codemode.execute(parsed.data.code, options.maxResultBytes));
      // Streamed as /v1/run streams: each console line (as the answer's logs hold it) as it is
      // logged, then the answer; closing the request cancels the run and frees its slot.
      const response = await streamedRun(
        format,
        c.req.raw.signal,
        (live) => {
          live.started();
          return codemode.execute(parsed.data.code, options.maxResultBytes, { signal: live.signal, log: (line, level) => live.log({ level, message: [line], timestamp: Date.now() }) });
        },
        slot.answered,
      );
      answeredLater = true;
      return response;
    } finally {
      if (!answeredLater) slot.answered();
    }
  });

  // The API of the Code Mode namespaces, as the model's code sees them (the playground's API browser).
  app.get("/v1/codemode/api", (c) => {
    if (codemode === undefined) throw new RequestError(501, 'Code mode is not configured on this server: add a "codemode" section (servers/openapi tool sources) to the config file.');
    return c.json(codemode.api());
  });

  app.all("/mcp", async (c) => {
    if (codemode === undefined || !codemode.configured) {
      throw new RequestError(501, 'MCP is not configured on this server: add a "codemode" section (servers/openapi tool sources) to the config file.');
    }
    // The slot is held until the answer is complete (a streamed tools/call's last event made, or
    // the client gone and the calls it cancels ended) and written out, as /v1/run's: a client that
    // has not taken it within answerTimeoutMs is cut off (a batch of streamed calls answering 15 MB
    // to a client that read nothing held its slot for as long as the connection stayed open).
    let request = c.req.raw;
    if (request.method === "POST") {
      // Read here (limitBody bounds it) to tell notifications from requests: a notification runs
      // no tool and takes no slot, so a key at its cap can still cancel its own calls.
      const text = await request.text();
      request = new Request(request.url, { method: "POST", headers: request.headers, body: text, signal: request.signal });
      if (onlyNotifications(text)) return await codemode.mcp(request, c.get("caller").keyId);
    }
    const slot = holdSlot(outgoingOf(c.env), admission.admit(c.get("caller")), options.answerTimeoutMs);
    try {
      return await codemode.mcp(request, c.get("caller").keyId, slot.answered);
    } catch (error) {
      slot.answered();
      throw error;
    }
  });

  app.get(
    "/v1/rpc",
    async (c, next) => {
      if (c.req.header("upgrade")?.toLowerCase() !== "websocket") throw new RequestError(400, "/v1/rpc speaks Cap'n Web over WebSocket: connect with islet/client or capnweb's newWebSocketRpcSession.");
      if (shuttingDown) throw new RequestError(503, "The server is shutting down; connect to another node.");
      // Held until the connection's socket closes, whether the upgrade completes or not.
      const socket = (c.env as { incoming?: { socket?: Socket } } | undefined)?.incoming?.socket;
      if (socket !== undefined) {
        const release = rpcSessions.open(c.get("caller").keyId);
        if (socket.destroyed) release();
        else socket.once("close", release);
      }
      await next();
    },
    upgradeWebSocket((c) => {
      const scope = new RpcSessionScope({ loader, caller: c.get("caller"), egress, admission, named, quota, objects, getCodeTimeoutMs: options.getCodeTimeoutMs, maxResultBytes: options.maxResultBytes });
      let transport: MessageQueueTransport | undefined;
      let entry: { scope: RpcSessionScope; close(): void } | undefined;
      return {
        onOpen(_event, ws) {
          transport = new MessageQueueTransport(
            (message) => ws.send(message),
            (reason) => ws.close(1011, reason.slice(0, 120)),
          );
          new RpcSession(transport, new IsletApi(scope), rpcSessionOptions);
          entry = { scope, close: () => ws.close(1001, "The server is shutting down.") };
          sessions.add(entry);
        },
        onMessage(event) {
          if (typeof event.data === "string") transport?.deliver(event.data);
          else transport?.abort(new TypeError("/v1/rpc takes text messages only."));
        },
        onClose() {
          transport?.fail(new Error("The WebSocket closed."));
          scope.close();
          if (entry) sessions.delete(entry);
        },
      };
    }),
  );

  return {
    app,
    wss,
    loader,
    metrics,
    options,
    get inFlight() {
      return admission.current;
    },
    async shutdown() {
      if (shuttingDown) return;
      shuttingDown = true;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([admission.drain(), new Promise<void>((resolve) => (timer = setTimeout(resolve, options.shutdownTimeoutMs)))]);
      clearTimeout(timer);
      for (const session of sessions) session.close();
      for (const session of sessions) session.scope.close();
      objects.close();
      await loader.close();
      await codemode?.close();
    },
  };
}

type StreamFormat = "ndjson" | "sse";

/** The Node response under a Hono request (@hono/node-server puts it in env), if any. */
function outgoingOf(env: unknown): ServerResponse | undefined {
  return (env as { outgoing?: ServerResponse } | undefined)?.outgoing;
}


/** A streamed /v1/run or /v1/codemode/execute is asked for with `Accept: application/x-ndjson` or `text/event-stream`. */
function streamFormat(accept: string | undefined): StreamFormat | undefined {
  if (accept === undefined) return undefined;
  if (/\bapplication\/x-ndjson\b/i.test(accept)) return "ndjson";
  if (/\btext\/event-stream\b/i.test(accept)) return "sse";
  return undefined;
}

/**
 * Runs a /v1/run call (or a Code Mode execution) whose answer streams: `{"type":"log",…}` lines (or
 * `event: log` messages) as the code logs, then `{"type":"result",…}` with the plain form's answer. The response begins once
 * the request was found valid (an invalid one is the plain form's 4xx); the client closing it
 * cancels the run: its worker is ended and its admission slot freed (`release`).
 */
async function streamedRun(format: StreamFormat, signal: AbortSignal, run: (live: LiveRun) => Promise<unknown>, release: () => void): Promise<Response> {
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  const body = new ReadableStream<Uint8Array>({
    start: (c) => void (controller = c),
    cancel: () => void (closed = true),
  });
  const send = (type: "log" | "result" | "error", data: unknown) => {
    if (closed) return;
    const json = JSON.stringify(type === "log" || type === "result" ? { type, ...(data as object) } : { type, error: data });
    try {
      controller.enqueue(encoder.encode(format === "ndjson" ? `${json}\n` : `event: ${type}\ndata: ${json}\n\n`));
    } catch {
      closed = true;
    }
  };
  let started!: () => void;
  const began = new Promise<void>((resolve) => (started = resolve));
  const running = run({ started, log: (entry) => send("log", entry), signal });
  running.then(
    (answer) => send("result", answer),
    (error: unknown) => send("error", { name: (error as Error)?.name ?? "Error", message: (error as Error)?.message ?? String(error) }),
  ).finally(() => {
    release();
    if (!closed) {
      closed = true;
      try {
        controller.close();
      } catch {
        // Already cancelled by the client.
      }
    }
  });
  // Refused before the worker was called (a 4xx): the plain form's error response.
  await Promise.race([began, running]);
  const headers = { "content-type": format === "ndjson" ? "application/x-ndjson" : "text/event-stream", "cache-control": "no-store", "x-accel-buffering": "no" };
  return new Response(body, { status: 200, headers });
}
