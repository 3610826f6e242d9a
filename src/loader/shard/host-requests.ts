// What a shard asks of the host, answered here: a worker's code (getCode runs in the host, and the
// code is checked and prepared here, as an in-process start would), its host capabilities'
// calls, its sandboxes' fetch() and connect() through the worker's globalOutbound, the bodies and
// sockets they read, and the notifications a shard sends (heartbeats, releases, aborts, tail
// events, live traces). A shard is not trusted: it gets only its own workers' code and
// outbounds, and what it sends is checked against the boundary's list of types.

import { OutboundError, SubrequestLimitError, WorkerDisposedError } from "../../errors.ts";
import { MAX_OBJECTS_PER_VALUE, received } from "../../protocol/clonable.ts";
import { logSize, LOG_BYTES_PER_INVOCATION } from "../../protocol/log-size.ts";
import type { RequestRecord } from "../../protocol/records.ts";
import { packageCacheStats } from "../code/packages.ts";
import { prepareModules, preparePackages } from "../code/prepare.ts";
import type { Fetcher, TailEvent, WorkerCode } from "../code/types.ts";
import { normalizeName, validateWorkerCode } from "../code/validate.ts";
import { CONNECT_BLOCKED, connectorOf, sendOutbound } from "../egress.ts";
import { NOT_A_BINDING_FETCH, fetcherConnector, fetcherFetch } from "../sockets.ts";
import { isFetcher } from "../../rpc/rpc-target.ts";
import { DEFAULT_MAX_ENV_BYTES, checkEnvSize } from "../env-size.ts";
import { lowest, validateCodeLimits, type ResolvedLimits } from "../limits.ts";
import type { LiveEnvelope, TailStreamHub } from "../tail-streams.ts";
import { deliverTail } from "../tails.ts";
import type { Connection, ShardRequestHandler } from "./connection.ts";
import type { ShardKind } from "./kind.ts";
import type { ShardSettings } from "./pool.ts";
import { errorFromWire, errorToWire, type CodeMessage, type ShardResponseRecord, type WireError } from "./protocol.ts";
import type { RemoteWorker } from "./remote-worker.ts";


/**
 * The least run-on a shard reports as a runaway (Sandbox.killedRunningMs: 3 s of its process's CPU,
 * on two cores at least 1.5 s of time, or 15 s): a smaller figure is not a runaway report.
 */
const MIN_RUNAWAY_MS = 1_000;

/** A value getCode (or validating its result) threw: the shard hands it back and the caller gets this very object. */
class HostThrown {
  constructor(readonly value: unknown) {}
}

const MAX_HOST_ERRORS = 256;

/** What the host's answers need of the pool. */
export interface HostRequestsPool {
  readonly kind: ShardKind;
  /** Whether close() was called. */
  readonly closed: boolean;
  /** The queues of the streaming tails' events. */
  readonly streams: TailStreamHub;
  /** The worker with this key, while a stub of it is held. */
  workerOf(key: string): RemoteWorker | undefined;
  /** The loader's own limits, the defaults where it sets none. */
  loaderLimits(): ResolvedLimits;
}

/** The host's side of the shards' requests and notifications, for one pool. */
export class HostRequests implements ShardRequestHandler {
  private readonly hostErrors = new Map<number, unknown>();
  /** Every globalOutbound exported to a shard as one. */
  private readonly outbounds = new WeakSet<object>();
  private nextHostError = 1;

  constructor(
    private readonly pool: HostRequestsPool,
    private readonly options: ShardSettings,
  ) {}

  /** Requests a shard makes. */
  request(conn: Connection, name: string, payload: unknown): unknown {
    switch (name) {
      case "code":
        return this.code(conn, String(payload));
      case "invoke": {
        const [capId, method, args] = payload as [unknown, unknown, unknown];
        return conn.link.call(capId, method, args);
      }
      case "outbound": {
        const [capId, request, abortId] = payload as [unknown, RequestRecord, unknown];
        return this.outbound(conn, capId, request, abortId);
      }
      case "stubFetch": {
        const [capId, request, abortId] = payload as [unknown, RequestRecord, unknown];
        return this.stubFetch(conn, capId, request, abortId);
      }
      case "bodyRead":
        return conn.bodies.read(payload);
      case "connect": {
        const [capId, address, options] = payload as [unknown, unknown, unknown];
        const connector = connectorOf(this.outboundFor(conn, capId));
        if (connector === undefined) throw new OutboundError(CONNECT_BLOCKED);
        return conn.sockets.open(connector, address, options);
      }
      case "stubConnect": {
        // connect() on a service binding the host sent this shard (a worker's entrypoint): the
        // host holds the socket, counted in this shard's table as one its globalOutbound opened.
        const [capId, address, options] = payload as [unknown, unknown, unknown];
        const fetcher = conn.link.lookup(capId);
        if (fetcher === undefined || !isFetcher(fetcher)) throw new OutboundError("connect() on a stub needs a service binding (another worker's entrypoint); this stub is not one.");
        return conn.sockets.open(fetcherConnector(fetcher), address, options);
      }
      case "socketWrite": {
        const [socketId, bytes] = payload as [unknown, unknown];
        return conn.sockets.write(socketId, bytes);
      }
      case "socketEnd":
        return conn.sockets.end(payload);
      case "socketStartTls": {
        const [socketId, expected] = payload as [unknown, unknown];
        return conn.sockets.startTls(socketId, expected);
      }
      case "packageSources":
        return this.packageSources(conn, payload);
      default:
        throw new TypeError(`Unknown request "${name}" from a sandbox ${this.pool.kind.noun}.`);
    }
  }

  /** Notifications from a shard. */
  notify(conn: Connection, name: string, payload: unknown): void {
    switch (name) {
      case "beat":
        conn.ready = true;
        if (Array.isArray(payload) && typeof payload[0] === "number" && typeof payload[1] === "number") conn.stats = { liveWorkers: payload[0], warmSandboxes: payload[1] };
        // A child whose killed sandbox runs on inside one built-in step (Sandbox.killedRunningMs)
        // (findings8/01, 03, 08, 10: minutes of CPU, and an exit that hung) is replaced: its other
        // workers fail as after any crash of their process and start again in the new one.
        if (this.pool.kind.replaceRunaway && Array.isArray(payload) && typeof payload[2] === "number" && payload[2] >= MIN_RUNAWAY_MS) {
          conn.kill(this.pool.kind.lostError(`A sandbox killed ${Math.round(payload[2] / 1000)} s earlier was still running in the ${conn.label}, inside one step of a built-in that V8 does not interrupt: the process was replaced and its pending calls were lost.`));
        }
        return;
      case "release":
        return conn.link.release(payload);
      case "bodyCancel":
        return conn.releaseBody(payload);
      case "socketClose":
        return conn.sockets.close(payload);
      case "socketAbandon":
        return conn.sockets.abandon(payload);
      case "abort":
        return void (typeof payload === "number" ? conn.aborts.get(payload)?.abort(new DOMException("The operation was aborted.", "AbortError")) : undefined);
      case "tail": {
        if (!Array.isArray(payload) || !Array.isArray(payload[1])) return;
        const worker = this.pool.workerOf(String(payload[0]));
        const receivers = [...(worker?.tails ?? []), ...this.options.tails];
        for (const event of received(payload[1]) as TailEvent[]) deliverTail(receivers, event);
        return;
      }
      case "streamOpen": {
        // [worker key, stream id, call token, onset]: an invocation began in the shard.
        if (!Array.isArray(payload) || typeof payload[1] !== "number" || conn.liveStreams.has(payload[1]) || conn.liveStreams.size >= MAX_LIVE_STREAMS) return;
        const onset = liveEnvelope(payload[3]);
        if (onset === undefined || onset.event.type !== "onset") return;
        const worker = this.pool.workerOf(String(payload[0]));
        const consumers = [...(worker?.streamingTails ?? []), ...(this.options.streamingTails ?? [])];
        const sink = this.pool.streams.open(consumers, onset, typeof payload[2] === "number" ? conn.callScopes.get(payload[2]) : undefined);
        if (sink !== undefined) conn.liveStreams.set(payload[1], { sink, next: 1 });
        return;
      }
      case "streamEvent": {
        // [stream id, event]: one event of it, as it happened.
        if (!Array.isArray(payload)) return;
        const open = conn.liveStreams.get(payload[0]);
        if (open === undefined) return;
        const envelope = liveEnvelope(payload[1]);
        if (envelope === undefined || envelope.event.type === "onset") return;
        open.next = envelope.sequence + 1;
        if (envelope.event.type === "outcome") conn.liveStreams.delete(payload[0]);
        const event = envelope.event;
        // Weighed here, not as the shard says: the host's queues are bounded by what it measured.
        const size = event.type === "log" ? logSize(event.message, LOG_BYTES_PER_INVOCATION, true) : event.type === "exception" ? logSize([event.name, event.message], LOG_BYTES_PER_INVOCATION, true) : 0;
        open.sink(envelope, size);
        return;
      }
    }
  }

  /** Runs the worker's getCode here and sends the shard what it needs to start the worker. */
  private async code(conn: Connection, key: string): Promise<CodeMessage> {
    const worker = this.pool.workerOf(key);
    let code: WorkerCode;
    let typeScript: CodeMessage["typeScript"];
    let commonJs: CodeMessage["commonJs"];
    let lowered: CodeMessage["lowered"];
    let json: CodeMessage["json"];
    try {
      // A shard gets the code (and the env's capabilities) of its own workers only: keys are easy
      // to guess, and a compromised shard must not pull in the workers of another.
      if (worker === undefined || worker.slot !== conn.slot) throw new WorkerDisposedError("The worker's stub is gone.");
      if (this.pool.closed) throw new WorkerDisposedError("The WorkerLoader is closed.");
      code = await worker.getCode();
      if (this.pool.closed) throw new WorkerDisposedError("The WorkerLoader is closed.");
      // The same checks, in the same order, as an in-process start; TypeScript is transpiled,
      // async functions lowered and CommonJS parsed here (in esbuild's process, off this event
      // loop) because a child process may not start esbuild's process; the shard is handed the
      // results with the code (runner.ts, PREPARED_DERIVED).
      validateWorkerCode(code);
      validateCodeLimits(code.limits);
      const packages = await preparePackages(code, this.options.packages);
      if (this.pool.closed) throw new WorkerDisposedError("The WorkerLoader is closed.");
      const prepared = await prepareModules(code, packages, this.options.preparation);
      if (this.pool.closed) throw new WorkerDisposedError("The WorkerLoader is closed.");
      typeScript = [];
      commonJs = [];
      lowered = [];
      json = [];
      const sources = new Map<string, unknown>();
      for (const [name, content] of Object.entries(code.modules)) {
        sources.set(normalizeName(name), typeof content === "string" ? content : ((content as { ts?: unknown }).ts ?? (content as { cjs?: unknown }).cjs));
      }
      for (const module of prepared.modules.values()) {
        if (module.kind === "ts") typeScript.push([module.name, String(sources.get(module.name)), module.source, module.sourceMap ?? "", prepared.asyncContext]);
        if (module.lowering !== undefined) lowered.push(module.lowering);
        if (module.analysis !== undefined) commonJs.push(module.analysis);
        // The text as the host has it (a `{ json }` value serialized once): the shard parses it in the sandbox.
        if (module.json !== undefined) json.push([module.name, module.json]);
      }
      worker.packageSources = new Map();
      for (const pkg of packages.values()) if (!("error" in pkg)) worker.packageSources.set(pkg.id, pkg.source);
      worker.tails = code.tails ?? [];
      worker.streamingTails = code.streamingTails ?? [];
      worker.memoryMb = lowest(this.pool.loaderLimits(), code.limits).memoryMb;
      const outbound = code.globalOutbound === undefined ? this.options.globalOutbound : code.globalOutbound;
      const env = conn.link.encode(code.env ?? {}, key);
      checkEnvSize(env, this.options.maxEnvBytes ?? DEFAULT_MAX_ENV_BYTES);
      return {
        compatibilityDate: code.compatibilityDate,
        compatibilityFlags: code.compatibilityFlags,
        allowExperimental: code.allowExperimental,
        mainModule: code.mainModule,
        modules: cloneableModules(code.modules, new Set(json.map(([name]) => name))),
        env,
        outbound: outbound === null ? null : this.exportOutbound(conn, outbound, key),
        connect: connectorOf(outbound) !== undefined,
        limits: code.limits,
        tails: worker.tails.length + this.options.tails.length > 0,
        streamingTails: worker.streamingTails.length + (this.options.streamingTails?.length ?? 0) > 0,
        typeScript,
        commonJs,
        lowered,
        json,
        packages: [...packages].map(([specifier, pkg]) => ("error" in pkg ? [specifier, pkg.error] : [specifier, pkg.name, pkg.id, pkg.topLevelAwait])),
      };
    } catch (error) {
      throw new HostThrown(error);
    }
  }

  /** The sources of package bundles a shard lacks, for one of its own workers' code (as "code", never another shard's). */
  private packageSources(conn: Connection, payload: unknown): string[] {
    const [key, ids] = Array.isArray(payload) ? payload : [];
    const worker = this.pool.workerOf(String(key));
    if (worker === undefined || worker.slot !== conn.slot || !Array.isArray(ids)) throw new WorkerDisposedError("The worker's stub is gone.");
    return ids.map((id) => {
      const source = worker.packageSources.get(String(id));
      if (source === undefined) throw new TypeError("No such package bundle for this worker.");
      packageCacheStats.sentToShards++;
      return source;
    });
  }

  /** Exports a worker's globalOutbound to its shard, remembered as one: only those answer "outbound" requests. */
  private exportOutbound(conn: Connection, outbound: Fetcher, key: string): number {
    this.outbounds.add(outbound as object);
    return conn.link.exportValue(outbound as object, key);
  }

  /** The globalOutbound exported to this shard as `capId`; undefined for any other capability. */
  private outboundFor(conn: Connection, capId: unknown): Fetcher | null {
    const fetcher = conn.link.lookup(capId) as Fetcher | undefined;
    return fetcher !== undefined && this.outbounds.has(fetcher as object) ? fetcher : null;
  }

  /** One fetch() of a sandbox in a shard, answered by the worker's globalOutbound here. */
  private async outbound(conn: Connection, capId: unknown, record: RequestRecord, abortId: unknown): Promise<ShardResponseRecord> {
    const fetcher = conn.link.lookup(capId) as Fetcher | undefined;
    // Any other capability the shard holds (an env function, an RpcTarget) is no fetcher.
    if (fetcher === undefined || !this.outbounds.has(fetcher as object)) throw new TypeError("fetch failed");
    const controller = new AbortController();
    if (typeof abortId === "number") conn.aborts.set(abortId, controller);
    try {
      const { bodyId, ...head } = await sendOutbound(fetcher, record, controller.signal, conn.bodies);
      // No eager read (eagerBytes 0): the body, if any, is always pulled by id.
      return bodyId === undefined ? { ...head, body: null } : { ...head, body: null, bodyId };
    } catch (error) {
      // Only a policy's own words (and the subrequest limit) cross; host details stay here.
      if (error instanceof OutboundError || error instanceof SubrequestLimitError) throw error;
      throw new TypeError("fetch failed");
    } finally {
      if (typeof abortId === "number") conn.aborts.delete(abortId);
    }
  }

  /**
   * One fetch() on a service binding the host sent this shard (a worker's entrypoint), by a sandbox
   * there: the worker's entrypoint fetch answers it here, and the response's body is held in this
   * shard's table as a globalOutbound's is. The called worker's failure keeps its name and message
   * (as an RPC call's does); any capability that is not a service binding is refused, uncalled.
   */
  private async stubFetch(conn: Connection, capId: unknown, record: RequestRecord, abortId: unknown): Promise<ShardResponseRecord> {
    const target = conn.link.lookup(capId);
    if (target === undefined || !isFetcher(target)) throw new OutboundError(NOT_A_BINDING_FETCH);
    const controller = new AbortController();
    if (typeof abortId === "number") conn.aborts.set(abortId, controller);
    try {
      const { bodyId, ...head } = await sendOutbound(fetcherFetch(target), record, controller.signal, conn.bodies);
      return bodyId === undefined ? { ...head, body: null } : { ...head, body: null, bodyId };
    } finally {
      if (typeof abortId === "number") conn.aborts.delete(abortId);
    }
  }

  /** What a shard gets for an error thrown here: no stack; getCode's errors by reference. */
  errorOut(error: unknown): WireError {
    if (error instanceof HostThrown) {
      const ref = this.nextHostError++;
      this.hostErrors.set(ref, error.value);
      if (this.hostErrors.size > MAX_HOST_ERRORS) this.hostErrors.delete(this.hostErrors.keys().next().value as number);
      return { ...errorToWire(error.value, false), ref };
    }
    return errorToWire(error, false);
  }

  /** An error from a shard, as the caller sees it. */
  errorIn(record: WireError): unknown {
    if (typeof record?.ref === "number" && this.hostErrors.has(record.ref)) {
      const original = this.hostErrors.get(record.ref);
      this.hostErrors.delete(record.ref);
      return original;
    }
    return errorFromWire(record, true);
  }
}

/**
 * The modules as the shard gets them: a json module's content is a placeholder, its text crossing
 * once in the message's `json` (prepared by the host, never parsed on its thread).
 */
function cloneableModules(modules: Record<string, unknown>, jsonNames: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, content] of Object.entries(modules)) out[name] = jsonNames.has(normalizeName(name)) ? { json: null } : content;
  return out;
}

/** Invocations one shard may have open for the streaming tails at once (a shard that opens more is ignored). */
const MAX_LIVE_STREAMS = 10_000;
const LIVE_EVENT_TYPES = new Set(["onset", "log", "exception", "outcome"]);

/** A live event from a shard, held to the boundary's list of types and to its shape; undefined if it is not one. */
function liveEnvelope(value: unknown): LiveEnvelope | undefined {
  let envelope: unknown;
  try {
    envelope = received(value, MAX_OBJECTS_PER_VALUE);
  } catch {
    return undefined;
  }
  if (envelope === null || typeof envelope !== "object") return undefined;
  const { sequence, timestamp, event } = envelope as Record<string, unknown>;
  if (typeof sequence !== "number" || typeof timestamp !== "number" || event === null || typeof event !== "object") return undefined;
  const type = (event as { type?: unknown }).type;
  if (typeof type !== "string" || !LIVE_EVENT_TYPES.has(type)) return undefined;
  if (type === "log" && !Array.isArray((event as { message?: unknown }).message)) return undefined;
  return envelope as LiveEnvelope;
}
