// POST /v1/run: one call into a worker described in the request body. The worker's own failures
// (exceptions, limits, bad modules) are part of a successful answer: 200 with `error`, so a client
// tells "the service refused" (4xx/5xx) from "the code failed" (200 + error) by status alone.

import { AsyncLocalStorage } from "node:async_hooks";
import { createHash } from "node:crypto";
import type { TailEvent, TailStreamEvent, WorkerLoader } from "../index.ts";
import type { Caller } from "./auth.ts";
import { AuditHub, type EgressOptions, type OutboundAuditEntry } from "./egress.ts";
import { RequestError } from "./errors.ts";
import { LimitError } from "../errors.ts";
import { jsonWidth, OutputBudget, ResultTooLargeError, toJson } from "./json-value.ts";
import type { WorkerQuota } from "./quota.ts";
import { describe, invalid, isPlainObject, optionalString, toWorkerCode } from "./worker-spec.ts";
import { parseObjectAddress, type ObjectAddress, type ServerObjects } from "./objects.ts";

/** Routes each trace event to the request whose call produced it (tails fire inside its async context). */
export const invocationTail = new AsyncLocalStorage<(event: TailEvent) => void>();

/** Routes each invocation's live events (the loader's streaming tail) to the streamed /v1/run request whose call made it. */
export const invocationStream = new AsyncLocalStorage<(onset: TailStreamEvent) => ((event: TailStreamEvent) => void) | undefined>();

/** A streamed /v1/run: its log lines as they are made, and the client's going away. */
export interface LiveRun {
  /** The request was valid and the worker is about to be called: the response may begin. */
  started(): void;
  /** One log line of the call's invocation, as the worker made it. */
  log(entry: { level: string; message: unknown[]; timestamp: number }): void;
  /** Aborted when the client closes the request: the worker is ended, its slot freed. */
  signal: AbortSignal;
}

const RUN_FIELDS = new Set([
  "id",
  "modules",
  "mainModule",
  "code",
  "compatibilityDate",
  "compatibilityFlags",
  "entrypoint",
  "method",
  "args",
  "props",
  "request",
  "limits",
  "env",
  "allowHosts",
  "object",
]);

export interface RunContext {
  loader: WorkerLoader;
  caller: Caller;
  egress: EgressOptions;
  /** What the server knows of the named workers /v1/run started (see NamedRunWorkers). */
  named: NamedRunWorkers;
  /** The per-key quota of live workers (maxWorkersPerKey); none without keys unless configured. */
  quota?: WorkerQuota;
  /** Durable Objects (`object` in the body). */
  objects?: ServerObjects;
  /** The most JSON a result may become (ServerOptions.maxResultBytes). */
  maxResultBytes: number;
}

let oneShotWorkers = 0;

interface NamedRunWorker {
  /** Receives the worker's outbound audit entries: the globalOutbound was made with it. */
  hub: AuditHub;
  /** The SHA-256 of what the worker was started from (codeHash). */
  hash: string;
  /** performance.now() when a call last used it. */
  lastUsed: number;
}

/** A digest of everything a named worker is started from: its modules, compatibility settings, env and allowHosts. */
export function codeHash(body: Record<string, unknown>): string {
  const fields = ["code", "modules", "mainModule", "compatibilityDate", "compatibilityFlags", "env", "allowHosts"];
  return createHash("sha256").update(canonicalJson(fields.map((field) => body[field] ?? null))).digest("hex");
}

/** JSON with object keys sorted, so the same modules in another order hash the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * The named workers /v1/run started, by loader key: the audit hub their globalOutbound was built
 * with (set when the loader asks for the code, i.e. when the worker starts), so a later call on the
 * same warm worker gets its fetches. Least recently used first; at most `max` entries.
 */
export class NamedRunWorkers {
  private readonly entries = new Map<string, NamedRunWorker>();
  /** After this long unused, the loader has surely evicted the worker (its idle timeout plus a sweep). */
  private readonly forgetAfterMs: number;
  constructor(
    private readonly max: number,
    idleTimeoutMs = 300_000,
  ) {
    this.forgetAfterMs = idleTimeoutMs + Math.min(Math.max(idleTimeoutMs / 2, 10), 10_000) + 1000;
  }
  /** The entry of a worker that may still be alive; one idle past the loader's timeout is gone. */
  live(key: string): NamedRunWorker | undefined {
    const entry = this.get(key);
    if (entry !== undefined && performance.now() - entry.lastUsed > this.forgetAfterMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }
  get(key: string): NamedRunWorker | undefined {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }
  delete(key: string): void {
    this.entries.delete(key);
  }
  set(key: string, entry: NamedRunWorker): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.max) break;
      this.entries.delete(oldest);
    }
  }
}

export interface RunAnswer {
  result?: unknown;
  response?: { status: number; headers: Record<string, string>; body: string; bodyEncoding?: "base64" };
  error?: { name: string; message: string; module?: string; limit?: string };
  logs: { level: string; message: unknown[]; timestamp: number }[];
  outcome: string;
  cpuMs: number;
  wallMs: number;
  /** The audit log of the call's outbound hops, when it made any. */
  fetches?: OutboundAuditEntry[];
}

const WORKER_ENDING_OUTCOMES = new Set(["exceededCpu", "exceededMemory", "exceededWall", "canceled"]);
const WORKER_ENDING_ERRORS = new Set(["WorkerCodeError", "WorkerDisposedError", "SandboxProcessError", "SandboxThreadError"]);

const WORKER_ID = /^[\w.:-]{1,128}$/;

/** The worker id for warm reuse: the body's `id`, else the X-Islet-Worker-Id header (what a load balancer hashes on). */
export function workerIdFrom(body: Record<string, unknown>, header: string | undefined): string | undefined {
  const fromBody = optionalString(body, "id");
  if (fromBody !== undefined && header !== undefined && header !== fromBody) throw invalid("id", `differs from the X-Islet-Worker-Id header ("${header}")`);
  const id = fromBody ?? header;
  if (id !== undefined && !WORKER_ID.test(id)) throw invalid("id", "must be 1-128 letters, digits or . _ : -");
  return id;
}

function jsonData(value: unknown, field: string): void {
  // Bodies come from JSON.parse, so only depth needs bounding; env is copied into the sandbox as is.
  const walk = (item: unknown, depth: number) => {
    if (depth > 64) throw invalid(field, "is nested too deeply (more than 64 levels)");
    if (item !== null && typeof item === "object") for (const child of Object.values(item)) walk(child, depth + 1);
  };
  walk(value, 0);
}

function parseRequest(value: unknown): Request {
  if (!isPlainObject(value)) throw invalid("request", `must be an object {url, method?, headers?, body?}, got ${describe(value)}`);
  for (const key of Object.keys(value)) if (!["url", "method", "headers", "body"].includes(key)) throw invalid(`request.${key}`, "unknown field (known: url, method, headers, body)");
  const url = optionalString(value, "url", "request.url");
  if (url === undefined) throw invalid("request.url", 'missing: an absolute URL like "https://example.com/path"');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid("request.url", `is not an absolute URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw invalid("request.url", "must be http: or https:");
  const method = (optionalString(value, "method", "request.method") ?? "GET").toUpperCase();
  const headers = value.headers ?? {};
  if (!isPlainObject(headers)) throw invalid("request.headers", `must be an object of header names to strings, got ${describe(headers)}`);
  for (const [name, header] of Object.entries(headers)) if (typeof header !== "string") throw invalid(`request.headers["${name}"]`, `must be a string, got ${describe(header)}`);
  const body = optionalString(value, "body", "request.body");
  if (body !== undefined && (method === "GET" || method === "HEAD")) throw invalid("request.body", `a ${method} request cannot have a body`);
  try {
    return new Request(parsed, { method, headers: headers as Record<string, string>, body });
  } catch (error) {
    throw invalid("request", (error as Error).message);
  }
}

async function responseJson(response: Response, maxBytes: number): Promise<NonNullable<RunAnswer["response"]>> {
  const bytes = await readBody(response, maxBytes);
  const headers = Object.fromEntries(response.headers);
  let text: string | undefined;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    text = undefined;
  }
  // Text whose JSON escapes would pass the budget goes as base64 (4/3 of its bytes) instead:
  // 30 MiB of control characters came out as 189 MB of `\u0001`s (findings12/02).
  if (text !== undefined && jsonWidth(text) <= maxBytes) return { status: response.status, headers, body: text };
  // Base64 is 4/3 of the bytes: that, not the bytes, is what the answer holds (findings13/01).
  if (Math.ceil(bytes.byteLength / 3) * 4 > maxBytes) {
    throw new ResultTooLargeError(`The response body is more than ${maxBytes} bytes as base64, this server's limit (maxResultBytes): stream less, or page it.`);
  }
  return { status: response.status, headers, body: Buffer.from(bytes).toString("base64"), bodyEncoding: "base64" };
}

/**
 * A worker's response body, which the answer holds whole: at most maxResultBytes. A body streamed
 * without end had taken the server to 2.4 GB in 8 s of the worker's wall time.
 */
async function readBody(response: Response, maxBytes: number): Promise<Uint8Array> {
  if (response.body === null) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks, total);
    total += value.byteLength;
    if (total > maxBytes) {
      reader.cancel().catch(() => {});
      throw new ResultTooLargeError(`The response body is more than ${maxBytes} bytes, this server's limit (maxResultBytes): stream less, or page it.`);
    }
    chunks.push(value);
  }
}

export function errorJson(error: unknown): NonNullable<RunAnswer["error"]> {
  if (!(error instanceof Error)) return { name: "Error", message: String(error) };
  const out: NonNullable<RunAnswer["error"]> = { name: error.name, message: error.message };
  const extra = error as { module?: unknown; limit?: unknown };
  if (typeof extra.module === "string") out.module = extra.module;
  if (typeof extra.limit === "string") out.limit = extra.limit;
  return out;
}

export async function runWorker(raw: unknown, context: RunContext, workerIdHeader?: string, live?: LiveRun): Promise<RunAnswer> {
  if (!isPlainObject(raw)) throw new RequestError(400, `The body must be a JSON object, got ${describe(raw)}.`);
  for (const key of Object.keys(raw)) if (!RUN_FIELDS.has(key)) throw invalid(key, `unknown field (known: ${[...RUN_FIELDS].join(", ")})`);
  // An object is addressed by `object`; X-Islet-Worker-Id then only routes (a load balancer hashes it).
  const id = raw.object !== undefined ? optionalString(raw, "id") : workerIdFrom(raw, workerIdHeader);
  const entrypoint = optionalString(raw, "entrypoint");
  const method = optionalString(raw, "method");
  if (method !== undefined && (method === "fetch" || method === "" || method === "constructor")) throw invalid("method", `"${method}" cannot be called as an RPC method; use "request" to call fetch`);
  const args = raw.args ?? [];
  if (!Array.isArray(args)) throw invalid("args", `must be an array of arguments, got ${describe(args)}`);
  jsonData(args, "args");
  const env = raw.env ?? {};
  if (!isPlainObject(env)) throw invalid("env", `must be an object of plain data, got ${describe(env)}`);
  jsonData(env, "env");
  jsonData(raw.props, "props");
  const request = raw.request === undefined || raw.request === null ? undefined : parseRequest(raw.request);
  if (request !== undefined && method !== undefined) throw invalid("method", 'give either "method" (an RPC call) or "request" (a call to fetch), not both');
  const hub = new AuditHub();
  const code = toWorkerCode(raw, context.caller, context.egress, env, hub);
  const ceilings = code.limits as Required<NonNullable<typeof code.limits>>;
  const callLimits = { cpuMs: ceilings.cpuMs, wallMs: ceilings.wallMs, subRequests: ceilings.subRequests };

  if (raw.object !== undefined) {
    const address = parseObjectAddress(raw.object);
    if (id !== undefined) throw invalid("id", 'an object is addressed by "object", not by a worker id');
    if (entrypoint !== undefined) throw invalid("entrypoint", 'an object runs the class "object.class" names');
    return runObject(raw, context, address, { code, hub, method, args, request, callLimits, live });
  }

  const { loader, named } = context;
  const key = `run:${context.caller.keyId}:${id}`;
  const hash = id === undefined ? "" : codeHash(raw);
  const running = id === undefined ? undefined : named.live(key);
  if (running !== undefined && running.hash !== hash) {
    // The loader would run the code it started with and ignore this one: say so instead.
    throw new RequestError(
      409,
      `id: the worker "${id}" is running different code (its modules, compatibility settings, env or allowHosts differ from the ones it started with). ` +
        "Send the same code to reuse it, or use a new id for the new code.",
    );
  }
  const stub =
    id === undefined
      ? loader.load(code)
      : loader.get(key, () => {
          named.set(key, { hub, hash, lastUsed: performance.now() });
          return code;
        });
  // The worker counts against the key's quota while it lives; a key at its quota evicts its own
  // least recently used idle worker here (before this call may start one), never another key's.
  const { quota } = context;
  const keyId = context.caller.keyId;
  const slot = id === undefined ? `run:${keyId}:#${++oneShotWorkers}` : key;
  const used = quota?.use(keyId, slot, () => {
    named.delete(key);
    stub.dispose();
  });
  try {
    return await callWorker(raw, context, stub, { id, key, hub, entrypoint, method, args, request, callLimits, live, cancel: () => stub.dispose() });
  } finally {
    used?.();
    if (id === undefined || named.get(key) === undefined) quota?.forget(keyId, slot);
  }
}

/** One call of a Durable Object's (its class's `method`, or its `fetch`). */
async function runObject(
  raw: Record<string, unknown>,
  context: RunContext,
  address: ObjectAddress,
  spec: { code: ReturnType<typeof toWorkerCode>; hub: AuditHub; method: string | undefined; args: unknown[]; request: Request | undefined; callLimits: CallSpec["callLimits"]; live?: LiveRun },
): Promise<RunAnswer> {
  const { objects, quota } = context;
  if (objects === undefined) throw new RequestError(501, "Durable Objects are not available on this server.");
  const keyId = context.caller.keyId;
  // An object's running instance counts against the key's quota of live workers, like a named worker.
  const slot = `object:${keyId}:${address.namespace}:${address.id}`;
  const used = quota?.use(keyId, slot, () => objects.end(keyId, address));
  try {
    const hash = codeHash(raw);
    const target = await objects.target(keyId, address, spec.code, hash, spec.callLimits);
    return await callWorker(raw, context, undefined, {
      id: undefined,
      key: slot,
      hub: spec.hub,
      entrypoint: undefined,
      method: spec.method,
      args: spec.args,
      request: spec.request,
      callLimits: spec.callLimits,
      target,
      live: spec.live,
      cancel: () => objects.end(keyId, address),
    });
  } finally {
    used?.();
  }
}

interface CallSpec {
  id: string | undefined;
  key: string;
  hub: AuditHub;
  entrypoint: string | undefined;
  method: string | undefined;
  args: unknown[];
  request: Request | undefined;
  callLimits: { cpuMs: number; wallMs: number; subRequests: number };
  /** What to call instead of the stub's entrypoint (an object's stub). */
  target?: Record<string, (...args: unknown[]) => Promise<unknown>>;
  /** A streamed call: where its log lines go as they are made. */
  live?: LiveRun;
  /** Ends the worker the call runs in (the client of a streamed call went away). */
  cancel?: () => void;
}

async function callWorker(raw: Record<string, unknown>, context: RunContext, stub: ReturnType<WorkerLoader["get"]> | undefined, spec: CallSpec): Promise<RunAnswer> {
  const { id, key, hub, entrypoint, method, args, request, callLimits } = spec;
  const { named } = context;
  const fetches: OutboundAuditEntry[] = [];
  const listen = (entry: OutboundAuditEntry) => void (fetches.length < 1000 && fetches.push(entry));
  // A warm worker's outbound was built with the hub of the call that started it; a worker this call
  // starts, with this call's own. Listening to both gets each hop once.
  const listening = new Set([hub, ...(id === undefined ? [] : [named.get(key)?.hub])].filter((h) => h !== undefined));
  for (const h of listening) h.listeners.add(listen);
  let event: TailEvent | undefined;
  let tailArrived!: () => void;
  const tail = new Promise<void>((resolve) => (tailArrived = resolve));
  const answer: RunAnswer = { logs: [], outcome: "ok", cpuMs: 0, wallMs: 0 };
  let failed = false;
  let failure: unknown;
  let result: { value: unknown } | undefined;
  const { live } = spec;
  // A streamed call's first invocation (the call itself: a loopback call it makes is not streamed
  // twice) sends its log lines to the client as they are made.
  let streamed: Promise<void> | undefined;
  const opener = (): ((event: TailStreamEvent) => void) | undefined => {
    if (live === undefined || streamed !== undefined) return undefined;
    let ended!: () => void;
    streamed = new Promise<void>((resolve) => (ended = resolve));
    const budget = new OutputBudget(context.maxResultBytes);
    return (event: TailStreamEvent) => {
      if (event.event.type === "log") live.log({ level: event.event.level, message: logJson(event.event.message, budget), timestamp: event.timestamp.getTime() });
      else if (event.event.type === "streamDiagnostic") live.log({ level: "warn", message: [`islet: ${event.event.diagnostic.count} log lines were not streamed (the server's queue was full); the answer's logs have them`], timestamp: event.timestamp.getTime() });
      else if (event.event.type === "outcome") ended();
    };
  };
  const cancel = () => spec.cancel?.();
  if (live?.signal.aborted) cancel();
  live?.signal.addEventListener("abort", cancel, { once: true });
  live?.started();
  await invocationStream.run(opener, () => invocationTail.run(
    (e) => {
      event = e;
      tailArrived();
    },
    async () => {
      try {
        const target = spec.target ?? (stub!.getEntrypoint(entrypoint, { props: raw.props, limits: callLimits }) as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>);
        if (request !== undefined) answer.response = await responseJson((await target.fetch(request)) as Response, context.maxResultBytes);
        else result = { value: await target[method ?? "run"](...args) };
      } catch (error) {
        // A response body too large for the answer is the server's refusal, not the worker's failure.
        if (!(error instanceof ResultTooLargeError)) {
          failed = true;
          failure = error;
        }
        answer.error = errorJson(error);
      }
    },
  ));
  live?.signal.removeEventListener("abort", cancel);
  // A call that returned with ctx.waitUntil work still running reports (logs, time) when that ends.
  if (event === undefined && !failed) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([tail, new Promise<void>((resolve) => (timer = setTimeout(resolve, callLimits.wallMs + 1000)))]);
    clearTimeout(timer);
  }
  // The streamed lines go out before the answer (they are delivered a moment after they were made).
  if (streamed !== undefined) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([streamed, new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000)))]);
    clearTimeout(timer);
  }
  for (const h of listening) h.listeners.delete(listen);
  if (id !== undefined) {
    const entry = named.get(key);
    if (entry !== undefined) entry.lastUsed = performance.now();
  }
  // The worker returned: a result too large as JSON is the server's refusal to write it, not the
  // worker's failure (its outcome stays the one it had).
  if (result !== undefined) {
    try {
      answer.result = toJson(result.value, new OutputBudget(context.maxResultBytes));
    } catch (error) {
      answer.error = errorJson(error);
    }
  }
  if (fetches.length > 0) answer.fetches = fetches;
  if (id === undefined) stub?.dispose();
  const finished = event as TailEvent | undefined;
  if (finished !== undefined) {
    // Logs are cut to 1 MiB where they are made; their JSON has its own budget all the same.
    const logBudget = new OutputBudget(context.maxResultBytes);
    answer.logs = finished.logs.map((log) => ({ level: log.level, message: logJson(log.message, logBudget), timestamp: log.timestamp }));
    answer.outcome = finished.outcome;
    answer.cpuMs = round(finished.cpuTime);
    answer.wallMs = round(finished.wallTime);
  } else if (failed) {
    // No trace event (the call shared a start that another call's event reported, or failed
    // before any sandbox ran): the limit the error names is still the outcome.
    answer.outcome = failure instanceof LimitError ? failure.outcome : "exception";
  }
  // A worker that did not start, or that a limit terminated, is gone: its id may take new code.
  if (id !== undefined && failed && (finished === undefined || finished.startup === true || WORKER_ENDING_OUTCOMES.has(answer.outcome) || WORKER_ENDING_ERRORS.has(answer.error?.name ?? ""))) named.delete(key);
  return answer;
}

function logJson(message: unknown, budget: OutputBudget): unknown[] {
  try {
    return toJson(message, budget) as unknown[];
  } catch (error) {
    return [`[islet: log cut: ${(error as Error).message}]`];
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
