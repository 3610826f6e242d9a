// The inside of a shard (a child process or a worker thread): an in-process WorkerLoader whose
// workers' code, env capabilities, outbound fetches and trace events all come from or go to the
// host over a message port. It holds no secret: its environment is empty and everything it knows
// the host sent it.

import { AsyncLocalStorage } from "node:async_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { WorkerLoader, isolateBackendOf, type WorkerStub } from "../worker-loader.ts";
import { connectInbound } from "../entrypoint.ts";
import { hostRequest, hostResponse, requestRecord } from "../fetch-records.ts";
import type { HostSocket, SocketConnector, TailEvent, WorkerCode } from "../code/types.ts";
import type { SocketAnswer } from "../sockets.ts";
import { typeScriptCacheKey } from "../code/typescript.ts";
import { PREPARED_DERIVED, type DerivedCode } from "../code/prepare.ts";
import { PREPARED_PACKAGES, type PackageImports } from "../code/packages.ts";
import { LIVE_SINK, type OpenLiveTrace } from "../tail-streams.ts";
import type { RequestRecord, ResponseRecord } from "../../protocol/records.ts";
import type { Limits } from "../limits.ts";
import { Sandbox } from "../../engine/sandbox.ts";
import { WorkerDisposedError } from "../../errors.ts";
import { Link } from "./link.ts";
import { HostBody } from "../host-body.ts";
import { Channel, EAGER_BODY_BYTES, MAX_OPEN_BODIES, errorFromWire, errorToWire, withHostRef, type CodeMessage, type Message, type ShardInit, type ShardRequestRecord, type ShardResponseRecord, type WireError } from "./protocol.ts";

/** How often a shard reports that it is alive (and its loader's stats). */
export const HEARTBEAT_MS = 500;

/** How a shard talks to its host: the process's IPC channel or the thread's parentPort. */
export interface ShardPort {
  /** Throws if the message cannot be copied. */
  send(message: Message): void;
  onMessage(listener: (message: unknown) => void): void;
  /** Ends the shard: the process exits, or the thread does. */
  exit(code: number): void;
  /**
   * Lets go of the port so that it no longer keeps the shard's event loop alive (a closing thread
   * then ends when nothing else does, see closeAndExit). Absent: the shard exits with exit().
   */
  release?(): void;
  /** What this kind of shard adds to a diagnostics report (pid, threadId). */
  describe(): Record<string, unknown>;
}

export function runShard(port: ShardPort): void {
  let loader: WorkerLoader | undefined;
  /** The host's token for the call in flight (see Connection.openCallScope): its invocation's onset names it. */
  const callScope = new AsyncLocalStorage<number>();
  let nextStreamId = 1;
  const stubs = new Map<string, WorkerStub>();
  let nextAbortId = 1;
  /**
   * Worker responses whose bodies the host is still pulling, by id (with the worker's key, for
   * dispose). `disposed`: the worker was disposed while a read of it was on its way (findings5/06).
   */
  const responses = new Map<number, { key: string; body: HostBody; disposed?: Error; scope?: number }>();
  let nextResponseId = 1;
  /**
   * The signals of the host's fetches of workers here, by the call's scope, until the response's
   * body has ended: the host's "fetchAbort" (its caller gave up) aborts the worker's request.
   */
  const fetchAborts = new Map<number, AbortController>();

  const channel: Channel = new Channel((message) => port.send(message), {
    request: (name, payload) => handleRequest(name, payload),
    notify: (name, payload) => handleNotify(name, payload),
    errorOut: (error) => errorToWire(error, true),
    errorIn: (record: WireError) => (record.ref !== undefined ? withHostRef(errorFromWire(record, false), record.ref) : errorFromWire(record, false)),
  }, true);

  const link = new Link(
    {
      invoke: (capId, method, args) => channel.request("invoke", [capId, method, args]),
      release: (capId) => channel.notify("release", capId),
    },
    false,
    false,
    Infinity,
    undefined,
    {
      // A sandbox's connect() on a service binding the host sent: the host opens it and holds the socket.
      connect: async (capId, address, options) => socketOnHost((await channel.request("stubConnect", [capId, address, options])) as SocketAnswer),
      // Its fetch(): the host calls the worker's entrypoint fetch and holds the response's body.
      fetch: (capId, request) => fetchOnHost("stubFetch", capId, request),
    },
  );

  port.onMessage((message) => channel.receive(message));

  function requireLoader(): WorkerLoader {
    if (loader === undefined) throw new Error("islet: the sandbox shard was not initialised.");
    return loader;
  }

  function stubFor(key: string, named: boolean): WorkerStub {
    let stub = stubs.get(key);
    if (stub === undefined) {
      stub = requireLoader().get(named ? key.slice(1) : null, () => fetchCode(key));
      stubs.set(key, stub);
    }
    return stub;
  }

  /** Package bundle sources by id, least recently used first: at most 100 and 64 Mi characters. */
  const bundles = new Map<string, string>();
  let bundleChars = 0;
  function keepBundle(id: string, source: string): void {
    if (bundles.has(id)) return;
    bundles.set(id, source);
    bundleChars += source.length;
    while (bundles.size > 100 || bundleChars > 64 * 1024 * 1024) {
      const [oldest, text] = bundles.entries().next().value as [string, string];
      bundles.delete(oldest);
      bundleChars -= text.length;
    }
  }
  function useBundle(id: string): string {
    const source = bundles.get(id)!;
    bundles.delete(id);
    bundles.set(id, source);
    return source;
  }

  async function fetchCode(key: string): Promise<WorkerCode> {
    const message = (await channel.request("code", key)) as CodeMessage;
    // What the host derived from the code (a shard does not run esbuild: a child process may not
    // start its process), handed to this code's preparation itself rather than to the content
    // caches, which do not keep a result larger than their budget (findings16/04).
    const derived: DerivedCode = {
      typeScript: new Map(message.typeScript.map(([name, source, code, mappings, lowerAsync]) => [typeScriptCacheKey(source, name, lowerAsync), { code, mappings }])),
      lowered: new Map(message.lowered.map(([key, code, mappings]) => [key, { code, mappings }])),
      commonJs: new Map(message.commonJs),
      json: new Map(message.json),
    };
    const tails = message.tails ? [(events: TailEvent[]) => channel.notify("tail", [key, events])] : undefined;
    // Each live event goes to the host as it happens; the host queues and delivers them.
    const live: OpenLiveTrace | undefined = message.streamingTails
      ? (onset) => {
          const id = nextStreamId++;
          channel.notify("streamOpen", [key, id, callScope.getStore() ?? 0, onset]);
          return (envelope) => channel.notify("streamEvent", [id, envelope]);
        }
      : undefined;
    // Package bundles by id: a bundle this shard has is not sent again (zod's is 660 KB). The
    // sources this code needs are taken at once, before any await lets another start evict them.
    const sources = new Map<string, string>();
    for (const entry of message.packages) if (entry.length === 4 && bundles.has(entry[2])) sources.set(entry[2], useBundle(entry[2]));
    const missing = [...new Set(message.packages.flatMap((entry) => (entry.length === 4 && !sources.has(entry[2]) ? [entry[2]] : [])))];
    if (missing.length > 0) {
      const fetched = (await channel.request("packageSources", [key, missing])) as string[];
      missing.forEach((id, i) => {
        if (typeof fetched[i] !== "string") throw new Error("islet: a package bundle did not reach the shard.");
        sources.set(id, fetched[i]);
        keepBundle(id, fetched[i]);
      });
    }
    const packages: PackageImports = new Map(
      message.packages.map((entry) => [entry[0], entry.length === 2 ? { error: entry[1] } : { name: entry[1], id: entry[2], source: sources.get(entry[2])!, topLevelAwait: entry[3] }]),
    );
    // The packages as the host bundled them (a shard neither reads node_modules nor runs esbuild).
    const code: WorkerCode & { [PREPARED_PACKAGES]: PackageImports; [PREPARED_DERIVED]: DerivedCode; [LIVE_SINK]?: OpenLiveTrace } = {
      [PREPARED_PACKAGES]: packages,
      [PREPARED_DERIVED]: derived,
      [LIVE_SINK]: live,
      compatibilityDate: message.compatibilityDate,
      compatibilityFlags: message.compatibilityFlags,
      allowExperimental: message.allowExperimental,
      mainModule: message.mainModule,
      modules: message.modules as WorkerCode["modules"],
      env: link.decode(message.env) as Record<string, unknown>,
      globalOutbound: message.outbound === null ? null : message.connect ? { fetch: outboundThroughHost(message.outbound), connect: connectThroughHost(message.outbound) } : outboundThroughHost(message.outbound),
      limits: message.limits,
      tails,
    };
    return code;
  }

  /** The worker's fetch() leaves the shard: the host's globalOutbound answers it. */
  function outboundThroughHost(capId: number): (request: Request) => Promise<Response> {
    // Held by the closure: once the worker is gone and collected, the host may drop the fetcher.
    const hold = link.adopt(capId);
    return async (request) => {
      void hold;
      return fetchOnHost("outbound", capId, request);
    };
  }

  /**
   * A request the host answers ("outbound": through a worker's globalOutbound; "stubFetch": through
   * a service binding the host sent): its body crosses whole, its signal's abort follows it there,
   * and the response's body stays on the host, pulled a chunk at a time.
   */
  async function fetchOnHost(name: "outbound" | "stubFetch", capId: number, request: Request): Promise<Response> {
    const record = await requestRecord(request);
    const abortId = nextAbortId++;
    const onAbort = () => channel.notify("abort", abortId);
    request.signal.addEventListener("abort", onAbort, { once: true });
    try {
      return streamedResponse((await channel.request(name, [capId, record, abortId])) as ShardResponseRecord);
    } finally {
      request.signal.removeEventListener("abort", onAbort);
    }
  }

  /** The worker's connect() leaves the shard: the host's globalOutbound connects, and keeps the socket. */
  function connectThroughHost(capId: number): SocketConnector {
    const hold = link.adopt(capId);
    return async (address, options) => {
      void hold;
      return socketOnHost((await channel.request("connect", [capId, address, options])) as SocketAnswer);
    };
  }

  /** A socket the host holds: its bytes are pulled and pushed over the channel, a chunk at a time. */
  function socketOnHost(answer: SocketAnswer): HostSocket {
    const id = answer.socket;
    let gone = false;
    const close = () => {
      if (gone) return;
      gone = true;
      channel.notify("socketClose", id);
    };
    return {
      readable: pulledBody(answer.body),
      writable: new WritableStream<Uint8Array>({
        write: async (chunk) => void (await channel.request("socketWrite", [id, chunk])),
        close: async () => void (await channel.request("socketEnd", id)),
        abort: close,
      }),
      opened: Promise.resolve({ remoteAddress: answer.remoteAddress, localAddress: answer.localAddress }),
      close,
      // The worker died with it open (an inbound connection then fails on the host rather than ends).
      abandon: () => {
        if (!gone) channel.notify("socketAbandon", id);
      },
      startTls: async (options) => {
        gone = true;
        return socketOnHost((await channel.request("socketStartTls", [id, options.expectedServerHostname])) as SocketAnswer);
      },
    };
  }

  /** A globalOutbound's response whose body stays on the host and is pulled from there a chunk at a time. */
  function streamedResponse(record: ShardResponseRecord): Response {
    const bodyId = record.bodyId;
    if (typeof bodyId !== "number") return hostResponse({ ...record, body: null });
    return hostResponse({ ...record, body: pulledBody(bodyId) as unknown as ResponseRecord["body"] });
  }

  /**
   * A body the host keeps (an outbound response's, a caller's request's), pulled a chunk at a time
   * as it is read: nothing is asked for ahead of a read (highWaterMark 0), so a body nobody reads
   * is not copied here. Cancelling it lets the host cancel its end.
   */
  function pulledBody(bodyId: number): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          const chunk = (await channel.request("bodyRead", bodyId)) as Uint8Array | null;
          if (chunk === null) controller.close();
          else controller.enqueue(chunk);
        },
        cancel() {
          channel.notify("bodyCancel", bodyId);
        },
      },
      { highWaterMark: 0 },
    );
  }

  /**
   * A worker's response to the host: a body complete within one turn (up to EAGER_BODY_BYTES)
   * crosses whole; any other stays here and the host pulls it a chunk at a time ("responseRead"),
   * so a host that does not read makes this shard hold no more than the worker produced.
   */
  async function keepResponse(key: string, response: Response, scope?: number): Promise<ShardResponseRecord> {
    const record: ShardResponseRecord = { status: response.status, statusText: response.statusText, headers: [...response.headers], body: null };
    if (response.body === null) return record;
    const body = new HostBody(response.body.getReader());
    const whole = await body.readAvailable(EAGER_BODY_BYTES);
    if (whole !== undefined) return { ...record, body: whole as unknown as null };
    if (responses.size >= MAX_OPEN_BODIES) {
      body.cancel();
      throw new TypeError(`Too many response bodies open in this sandbox shard (at most ${MAX_OPEN_BODIES}).`);
    }
    const bodyId = nextResponseId++;
    responses.set(bodyId, { key, body, scope });
    return { ...record, bodyId };
  }

  async function readResponse(bodyId: unknown): Promise<Uint8Array | null> {
    const kept = typeof bodyId === "number" ? responses.get(bodyId) : undefined;
    if (kept === undefined) throw new TypeError("This response body is no longer available.");
    try {
      const { done, value } = await kept.body.read();
      // dispose() cancelled the body under this read, which makes it look ended: it did not end,
      // it was cut off, and the host's reader must not take what it got for the whole body (findings5/06).
      if (kept.disposed !== undefined) throw kept.disposed;
      if (done) {
        responses.delete(bodyId as number);
        if (kept.scope !== undefined) fetchAborts.delete(kept.scope);
        return null;
      }
      if (!(value instanceof Uint8Array)) throw new TypeError("Received non-Uint8Array chunk");
      return value;
    } catch (error) {
      releaseResponse(bodyId);
      throw error;
    }
  }

  function releaseResponse(bodyId: unknown): void {
    const kept = typeof bodyId === "number" ? responses.get(bodyId) : undefined;
    if (kept === undefined) return;
    responses.delete(bodyId as number);
    if (kept.scope !== undefined) fetchAborts.delete(kept.scope);
    kept.body.cancel();
  }

  async function handleRequest(name: string, payload: unknown): Promise<unknown> {
    switch (name) {
      case "call": {
        const [key, named, entry, method, args, props, limits, scope] = payload as [string, boolean, string, string, unknown, unknown, Limits | undefined, number | undefined];
        const entrypoint = stubFor(key, named).getEntrypoint(entry, { props: link.decode(props), limits });
        const decodedArgs = link.decode(args) as unknown[];
        return link.encode(await callScope.run(scope ?? 0, () => entrypoint[method](...decodedArgs)));
      }
      case "fetch": {
        const [key, named, entry, request, props, limits, scope] = payload as [string, boolean, string, ShardRequestRecord, unknown, Limits | undefined, number | undefined];
        // A body still arriving at the host is pulled from there as the sandbox reads it.
        const body = typeof request.bodyId === "number" ? pulledBody(request.bodyId) : undefined;
        const abortId = typeof scope === "number" ? scope : undefined;
        const gaveUp = new AbortController();
        if (abortId !== undefined) fetchAborts.set(abortId, gaveUp);
        let streaming = false;
        try {
          const entrypoint = stubFor(key, named).getEntrypoint(entry, { props: link.decode(props), limits });
          const answer = await keepResponse(key, await callScope.run(scope ?? 0, () => entrypoint.fetch(hostRequest(request, gaveUp.signal, body))), abortId);
          streaming = answer.bodyId !== undefined;
          return answer;
        } catch (error) {
          // Not cancelled by the call (it failed before reaching the worker): the host's end is let go.
          if (body !== undefined && !body.locked) body.cancel().catch(() => {});
          throw error;
        } finally {
          if (!streaming && abortId !== undefined) fetchAborts.delete(abortId);
        }
      }
      case "connect": {
        // An inbound connection for a connect(socket) handler: the host holds its socket, as one the sandbox opened.
        const [key, named, entry, answer, props, limits, scope] = payload as [string, boolean, string, SocketAnswer, unknown, Limits | undefined, number | undefined];
        const entrypoint = stubFor(key, named).getEntrypoint(entry, { props: link.decode(props), limits });
        await callScope.run(scope ?? 0, () => connectInbound(entrypoint, socketOnHost(answer), answer.localAddress));
        return null;
      }
      case "invoke": {
        const [capId, method, args] = payload as [number, string | null, unknown];
        return link.call(capId, method, args);
      }
      case "responseRead":
        return readResponse(payload);
      case "debug": {
        const options = (payload ?? {}) as { collect?: boolean; stallMs?: number };
        if (options.collect === true) collectGarbage();
        // For tests of the host's watchdog: this shard stops answering anything for a while.
        if (typeof options.stallMs === "number") Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.min(options.stallMs, 60_000));
        return {
          pid: process.pid,
          envKeys: Object.keys(process.env),
          execArgv: process.execArgv,
          permission: permissionReport(),
          openResponseBodies: responses.size,
          memory: process.memoryUsage(),
          warmPool: (loader === undefined ? undefined : isolateBackendOf(loader)?.poolCounters) ?? null,
          ...port.describe(),
        };
      }
      default:
        throw new TypeError(`islet: unknown request "${name}" for the sandbox shard.`);
    }
  }

  function handleNotify(name: string, payload: unknown): void {
    switch (name) {
      case "init": {
        const init = payload as ShardInit;
        loader ??= new WorkerLoader({ limits: init.limits, maxWorkers: init.maxWorkers, idleTimeoutMs: init.idleTimeoutMs, warmPool: init.warmPool, maxEnvBytes: init.maxEnvBytes });
        reportStats();
        return;
      }
      case "dispose": {
        const [key, named] = payload as [string, boolean];
        const stub = named ? stubFor(key, true) : stubs.get(key);
        stub?.dispose();
        for (const [id, kept] of responses) {
          if (kept.key !== key) continue;
          // A read on its way fails with the worker's end, as in-process (the host fails later ones, see pulledResponse).
          kept.disposed = new WorkerDisposedError("The worker was disposed while its response body was being read.");
          releaseResponse(id);
        }
        return;
      }
      case "responseCancel":
        return releaseResponse(payload);
      case "fetchAbort":
        return void (typeof payload === "number" ? fetchAborts.get(payload)?.abort() : undefined);
      case "forget":
        stubs.delete(String(payload));
        return;
      case "release":
        return link.release(payload);
      case "close":
        void closeAndExit();
        return;
    }
  }

  /**
   * Ends the shard from inside (see Connection.end in connection.ts). A worker thread must not end while
   * isolated-vm still has work of this thread in flight: an isolate's disposal, or an apply's
   * answer, lands on this thread later (after the sandbox was killed) and makes isolated-vm wrapper
   * objects here; one landing after the last collection is garbage at the thread's teardown, whose
   * weak callback aborts the process (`Assertion 'environment != nullptr' failed`), and one landing
   * after the event loop's last turn pins the thread's isolated-vm environment, so its cleanup hook
   * waits for ever (IsolateDisposeWait::Join) and so does the process's exit. So: close the loader,
   * wait until every isolated-vm operation this thread started has settled, collect twice with a
   * turn of the event loop between, and only then exit.
   */
  let closing = false;
  async function closeAndExit(): Promise<void> {
    if (closing) return;
    closing = true;
    // The heartbeat's interval stays: it keeps this thread's event loop alive meanwhile (a thread
    // with nothing left to do would end itself, with all of the above still in flight).
    const closed = new Error("islet: the sandbox shard is closing.");
    // Requests this shard made of the host (host calls of sandboxes) will not be answered now.
    channel.fail(closed);
    link.close(closed);
    // One budget for all of it, within the host's grace period (CLOSE_GRACE_MS in pool.ts).
    const deadline = performance.now() + CLOSE_BUDGET_MS;
    const left = () => Math.max(0, deadline - performance.now());
    try {
      await loader?.close();
    } catch {
      // Closing is best effort; the collection below still runs.
    }
    loader = undefined;
    stubs.clear();
    // A lost isolate (see Sandbox.lost) never settles: past this the host's grace period decides.
    await withinMs(Sandbox.settled(), left());
    await turn();
    collectGarbage();
    await turn();
    await withinMs(Sandbox.settled(), left());
    collectGarbage();
    if (port.release === undefined) return port.exit(0);
    // Settled calls are not the end of isolated-vm's work here: an isolate disposed while it ran
    // (by this close, or earlier by stub.dispose(), which nothing awaited) is deleted on one of
    // isolated-vm's own threads when that lets go of it, and the deletion then posts cleanup tasks
    // to this thread. A process.exit() meanwhile leaves such a task's wake pending with a reference
    // to this thread's isolated-vm environment, and the environment's cleanup hook waits for that
    // reference to go (IsolateDisposeWait::Join) for ever: the thread never ends, nor does the
    // process's exit. isolated-vm keeps this thread's event loop referenced while any of its
    // isolates has such work (its scheduler's uv_ref), so the thread ends by letting its event loop
    // run dry: the heartbeat and the port let go, and it exits once isolated-vm's last deletion has
    // run here. A handle that would keep it alive for ever is cut short by exit() when the budget ends.
    clearInterval(heartbeat);
    port.release();
    setTimeout(() => {
      collectGarbage();
      port.exit(0);
    }, Math.max(left(), MIN_DRAIN_MS)).unref();
  }

  let lastStats = "";
  function reportStats(): void {
    const stats = loader?.stats ?? { liveWorkers: 0, warmSandboxes: 0 };
    // How long a killed isolate has kept running here (0: none): the host replaces a process
    // whose killed sandbox will not stop (host-requests.ts, "beat").
    const runaway = Math.round(Sandbox.killedRunningMs());
    const text = `${stats.liveWorkers},${stats.warmSandboxes},${runaway}`;
    // The heartbeat: sent every period, so the host can tell a wedged shard from a busy one.
    channel.notify("beat", text === lastStats ? null : [stats.liveWorkers, stats.warmSandboxes, runaway]);
    lastStats = text;
  }
  const heartbeat = setInterval(reportStats, HEARTBEAT_MS);
}

/**
 * How long a closing shard has, from the host's "close", to close its loader, wait for isolated-vm's
 * operations in flight to settle and (a thread) for its event loop to run dry before it exits anyway.
 * Less than the host's grace period (CLOSE_GRACE_MS in pool.ts), so that the host need not terminate it.
 */
const CLOSE_BUDGET_MS = 8_000;
/** The least a closing thread waits for its event loop to run dry, even past its budget. */
const MIN_DRAIN_MS = 500;

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function withinMs(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
}

/** A full collection: for diagnostics that measure what is still referenced (the soak), and before a shard ends itself. */
function collectGarbage(): void {
  try {
    setFlagsFromString("--expose-gc");
    (runInNewContext("gc") as () => void)();
  } catch {
    // Best effort: without it a diagnostic reads more, and an ending thread runs the collection at its teardown.
  }
}

/** What the permission model lets this shard do (null: the model is off). */
function permissionReport(): Record<string, boolean> | null {
  const permission = (process as { permission?: { has(scope: string, reference?: string): boolean } }).permission;
  if (permission === undefined) return null;
  const report: Record<string, boolean> = {};
  for (const scope of ["fs.read", "fs.write", "child", "worker"]) report[scope] = permission.has(scope);
  report["fs.read:/etc/passwd"] = permission.has("fs.read", "/etc/passwd");
  return report;
}
