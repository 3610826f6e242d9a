// islet/client: the WorkerLoader API of a remote `islet serve`, over Cap'n Web on a WebSocket.
//
//   const loader = await connect("ws://127.0.0.1:8787/v1/rpc", { apiKey });
//   const worker = loader.load({ code: "export default { greet(n, env) { … } }", env: { log: (m) => console.log(m) } });
//   await worker.getEntrypoint().greet("Ada");
//   loader.close();
//
// Calls are pipelined: load → getEntrypoint → method is one round trip. Functions and RpcTargets
// (this module's, which is Cap'n Web's) in `env`, `props` or arguments stay here and are called
// over the socket when the sandbox calls them.

import { RpcSession, RpcStub, RpcTarget } from "capnweb";
import WebSocket from "ws";
import { errorForWire, errorFromWire, FUNCTION_TAG, MessageQueueTransport } from "./wire.ts";
import type { Entrypoint } from "../loader/entrypoint.ts";
import { targetStub } from "../protocol/cap-table.ts";

export { RpcTarget, RpcStub };

export interface Limits {
  cpuMs?: number;
  memoryMb?: number;
  wallMs?: number;
  subRequests?: number;
}

/** A worker as the server takes it: `modules` + `mainModule`, or one `code` string. */
export interface RemoteWorkerCode {
  modules?: Record<string, string | { js: string } | { cjs: string } | { ts: string } | { text: string } | { json: unknown } | { data: Uint8Array } | { wasm: Uint8Array }>;
  mainModule?: string;
  code?: string;
  compatibilityDate?: string;
  compatibilityFlags?: string[];
  /** Plain data, functions and RpcTargets; the latter stay on this side and are called over the socket. */
  env?: Record<string, unknown>;
  /** Lowered below the API key's ceilings only. */
  limits?: Limits;
  /** Hosts the worker's fetch() may reach; otherwise it has no network. */
  allowHosts?: string[];
}

/** As islet's Entrypoint: `getEntrypoint<MyEntrypoint>()` types the RPC methods, each returning a Promise. */
export type RemoteEntrypoint<T = undefined> = Entrypoint<T>;

export interface RemoteWorkerStub {
  getEntrypoint<T = undefined>(name?: string | null, options?: { props?: unknown; limits?: Omit<Limits, "memoryMb"> }): RemoteEntrypoint<T>;
  /**
   * Terminates the worker's isolate on the server now; the next call starts it again, except a
   * `load()` worker whose `env` holds this client's functions or RpcTargets: they are released
   * with it, and its later calls fail with WorkerDisposedError.
   */
  dispose(): Promise<void>;
}

export interface RemoteLoader {
  load(code: RemoteWorkerCode): RemoteWorkerStub;
  /**
   * The worker with this id (per API key: sessions of one key share it, and the functions in the
   * `env` it started with), started on first use with `getCode()` (called over the socket) or `code`.
   */
  get(id: string, getCode: RemoteWorkerCode | (() => RemoteWorkerCode | Promise<RemoteWorkerCode>)): RemoteWorkerStub;
  /**
   * The Durable Object `id` of `namespace` (per API key), an instance of `code`'s exported class
   * `class` with its own database on the server, kept across sessions and restarts: its methods
   * and `fetch`. Its env is plain data (an object outlives this connection).
   */
  object<T = undefined>(address: { namespace: string; id: string; class: string }, code: RemoteWorkerCode): RemoteEntrypoint<T>;
  /** Closes the connection; the server disposes this session's workers. */
  close(): void;
  /** Resolves when the connection has closed, for whatever reason. */
  readonly closed: Promise<void>;
}

export interface ConnectOptions {
  apiKey?: string;
  headers?: Record<string, string>;
  /** Gives up connecting after this long (default 10 s). */
  timeoutMs?: number;
}

/** A connection to the server failed (wrong URL, refused, 401): `status` is the HTTP status when there was one. */
export class ConnectError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "ConnectError";
  }
}

type Stub = any;

/** Marks functions so the server makes them callable in the sandbox (see wire.ts). */
function outgoing(value: unknown, depth = 0): unknown {
  if (depth > 64) throw new TypeError("islet/client: a value is nested too deeply to send.");
  if (typeof value === "function") return value instanceof RpcStub ? value : { [FUNCTION_TAG]: wrapCallback(value as (...args: unknown[]) => unknown) };
  if (Array.isArray(value)) return value.map((item) => outgoing(item, depth + 1));
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, outgoing(item, depth + 1)]));
  }
  return value;
}

/** A local callback whose errors keep their names on the way to the sandbox. */
function wrapCallback(fn: (...args: unknown[]) => unknown): (...args: unknown[]) => Promise<unknown> {
  return async (...args) => {
    try {
      return outgoing(await fn(...args));
    } catch (error) {
      throw error instanceof Error ? errorForWire(error) : error;
    }
  };
}

async function settle<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    throw errorFromWire(error);
  }
}

function entrypointProxy<T>(stub: Stub): RemoteEntrypoint<T> {
  // The same stub factory the host's and the sandbox's capabilities use: every string member but
  // `then` is a method, made once per name.
  const fixed = Object.create(null) as Record<string, unknown>;
  fixed.fetch = (input: unknown, init?: unknown) => settle(stub.fetch(new Request(input as string, init as RequestInit)));
  return targetStub({ method: (key) => (...args: unknown[]) => settle(stub[key](...(outgoing(args) as unknown[]))), fixed }) as RemoteEntrypoint<T>;
}

/**
 * The server keeps every entrypoint it hands out for as long as the session lasts (Cap'n Web
 * releases a call's result only with the session) and caps how many a session holds:
 * `getEntrypoint(name)` without options is asked for once per name and reused.
 */
function workerStub(remote: Stub): RemoteWorkerStub {
  const plain = new Map<string, RemoteEntrypoint<unknown>>();
  const entrypoint = (name: string | undefined, options: unknown) => {
    const stub = remote.getEntrypoint(name, outgoing(options ?? {})) as Stub;
    return entrypointProxy<unknown>(stub);
  };
  return {
    getEntrypoint: (name, options) => {
      if (options !== undefined) return entrypoint(name ?? undefined, options) as never;
      const key = name ?? "";
      let proxy = plain.get(key);
      if (proxy === undefined) plain.set(key, (proxy = entrypoint(name ?? undefined, undefined)));
      return proxy as never;
    },
    dispose: () => settle(remote.dispose()),
  };
}

/** Opens a session with `islet serve` at `url` (ws:// or wss://, path /v1/rpc; http(s):// is accepted too). */
export async function connect(url: string | URL, options: ConnectOptions = {}): Promise<RemoteLoader> {
  const target = new URL(url);
  if (target.protocol === "http:") target.protocol = "ws:";
  if (target.protocol === "https:") target.protocol = "wss:";
  if (target.protocol !== "ws:" && target.protocol !== "wss:") throw new TypeError(`islet/client: connect() needs a ws:// or wss:// URL, got ${target.protocol}`);
  if (target.pathname === "/" || target.pathname === "") target.pathname = "/v1/rpc";
  const headers = { ...options.headers, ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}) };
  const socket = new WebSocket(target, { headers, handshakeTimeout: options.timeoutMs ?? 10_000 });
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("unexpected-response", (_request, response) => {
      const status = response.statusCode ?? 0;
      // islet serve says why in a header (a refused upgrade has no body).
      const reason = response.headers["x-islet-error"];
      const hint = typeof reason === "string" && reason !== "" ? `: ${reason}` : status === 401 ? " (missing or wrong API key)." : status === 429 || status === 503 ? " (the server is busy or shutting down)." : ".";
      reject(new ConnectError(`islet/client: the server refused the connection with HTTP ${status}${hint}`, status));
      socket.terminate();
    });
    socket.once("error", (error) => reject(new ConnectError(`islet/client: cannot connect to ${target.href}: ${error.message}`)));
  });
  const transport = new MessageQueueTransport(
    (message) => socket.send(message),
    (reason) => socket.close(1011, reason.slice(0, 120)),
  );
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.on("message", (data, isBinary) => {
    if (isBinary) transport.abort(new TypeError("islet/client: the server sent a binary message."));
    else transport.deliver(data.toString());
  });
  socket.on("close", (code, reason) => transport.fail(new Error(`islet/client: the connection closed (${code}${reason.length ? ` ${reason}` : ""}).`)));
  socket.on("error", () => {});
  const session = new RpcSession(transport, undefined, { onSendError: (error: Error) => errorForWire(error) });
  const main: Stub = session.getRemoteMain();
  return {
    load: (code) => workerStub(main.load(outgoing(code))),
    get: (id, getCode) => workerStub(main.get(id, typeof getCode === "function" ? async () => outgoing(await getCode()) : outgoing(getCode))),
    object: (address, code) => entrypointProxy(main.object(address, outgoing(code))),
    close: () => socket.close(1000, "client closed"),
    closed,
  };
}
