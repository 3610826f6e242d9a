// One live dynamic worker: a sandbox with the worker's modules evaluated in it, its host-side
// capability table, and the invocations in flight. Code in the sandbox runs only inside a
// watched invocation: timers and host replies are delivered only while one is in flight.

import {
  DataCloneError,
  IsletError,
  OutboundError,
  LimitError,
  SubrequestLimitError,
  WorkerCodeError,
  WorkerDisposedError,
  limitErrorFor,
  type Outcome,
} from "../errors.ts";
import type { DeathReason, Sandbox } from "../engine/sandbox.ts";
import { SandboxDiedError } from "../engine/sandbox.ts";
import { Watch } from "../engine/watchdog.ts";
import { Peer, errorFromSandbox } from "../rpc/peer.ts";
import { cloneFailureReason, errorForSandbox, isSandboxError } from "../rpc/errors.ts";
import { isStackOverflow, type Encoded } from "../protocol/wire.ts";
import { errorToRecord } from "../protocol/errors.ts";
import { MAX_OBJECTS_PER_VALUE, received } from "../protocol/clonable.ts";
import type { RequestRecord } from "../protocol/records.ts";
import { FACET_STORAGE_BINDING } from "../protocol/facets.ts";
import { Op } from "../protocol/ops.ts";
import type { Result } from "../protocol/entries.ts";
import type { IncomingRequest, WorkerResponse } from "./fetch-records.ts";
import type { StartCause } from "./backend.ts";
import { HostBodies, HostBody } from "./host-body.ts";
import { HostSockets, MAX_OPEN_SOCKETS } from "./sockets.ts";
import { CONNECT_BLOCKED, FETCH_BLOCKED, canFetch, connectorOf, sendOutbound } from "./egress.ts";
import { endInvocationSpan, inSpan, startInvocationSpan } from "./tracing.ts";
import type { Span } from "@opentelemetry/api";
import { streamResponseBody, type BodyEnd, type ResponseBodySource } from "./response-body.ts";
import { lowest, type Limits, type ResolvedLimits } from "./limits.ts";
import { deliverTail } from "./tails.ts";
import type { LiveEnvelope, OpenLiveTrace } from "./tail-streams.ts";
import { logSize, LOG_BYTES_PER_INVOCATION } from "../protocol/log-size.ts";
import { HostTimers } from "./host-timers.ts";
import { checkEnvSize } from "./env-size.ts";
import { deliveredLogs, LogBudget, receivedLog, type InvocationLog } from "./invocation-logs.ts";
import { nodeModuleSource, socketsModuleSource } from "./node-compat.ts";
import { resolveImport, userModuleName } from "./code/resolve.ts";
import type { FetchRecord, Fetcher, PreparedCode, TailEvent, TailReceiver, TailStreamEventBody, TailStreamOnset } from "./code/types.ts";

export const MAX_OPEN_BODIES = 1_000;
/** How long a result waits for the posts it says came before it (they are normally already queued). */
const POSTS_WAIT_MS = 50;
/** Bodies complete within one event-loop turn and at most this size cross whole with the headers. */
const EAGER_BODY_BYTES = 256 * 1024;
/** How long a fetch handler's streamed response body is read ahead before its head is handed over. */
const EAGER_RESPONSE_MS = 5;
const eagerWindow = (): Promise<"turn"> => new Promise((resolve) => setTimeout(resolve, EAGER_RESPONSE_MS, "turn"));

/** A body already being read, as a stream pulled a chunk at a time. */
function hostBodyStream(body: HostBody): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await body.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel() {
        body.cancel();
      },
    },
    { highWaterMark: 0 },
  );
}

export const MAX_FETCH_RECORDS_PER_INVOCATION = 1_000;

interface Invocation extends InvocationLog {
  id: number;
  limits: ResolvedLimits;
  subRequests: number;
  /** Blocking capability calls (a facet's storage operations), budgeted apart from subrequests. */
  blockingCalls: number;
  fetches: FetchRecord[];
  fail(error: Error): void;
  /** The invocation's OpenTelemetry span (tracing.ts), a no-op without an SDK. */
  span?: Span;
}

/**
 * A facet's storage operations an invocation may make, per subrequest it may make. Cloudflare does
 * not count storage operations as subrequests (a loop of 2,000 inserts is ordinary), but each
 * costs the host a message and the storage process a statement: 100,000 by default.
 */
const BLOCKING_CALLS_PER_SUBREQUEST = 100;

export interface WorkerConfig {
  code: PreparedCode;
  env: Record<string, unknown>;
  globalOutbound: Fetcher | null;
  limits: ResolvedLimits;
  tails: readonly TailReceiver[];
  /** Opens each invocation's live trace for its streaming tails (tail-streams.ts); absent: none. */
  openLive?: OpenLiveTrace;
  /** The most bytes env's copy may take (WorkerLoader's maxEnvBytes). */
  maxEnvBytes: number;
  /** Called once when the sandbox dies (limit, disposal), so the loader can drop it. */
  onDeath?: (worker: Worker) => void;
}


let nextInvocationId = 1;

export class Worker {
  private readonly peer: Peer;
  private readonly inflight = new Set<Invocation>();
  private readonly timers = new HostTimers((id) => {
    if (this.inflight.size > 0) this.sandbox.send("fire", [id, Date.now()]);
  });
  private readonly logBudget = new LogBudget();
  /** What the modules' top level logged and fetched while the worker started: the first invocation's event carries it. */
  private startupTrace: InvocationLog & { fetches: FetchRecord[] } | undefined;
  private disposedError: Error | undefined;
  lastUsed = performance.now();

  private constructor(
    private readonly sandbox: Sandbox,
    private readonly config: WorkerConfig,
  ) {
    this.peer = new Peer(
      {
        invoke: (capId, method, args) => this.invokeCapability(capId, method, args),
        release: (capId) => this.sandbox.send("release", [capId]),
      },
      config.limits.memoryMb * 2 ** 20,
    );
    sandbox.attach((op, a, b, c, d) => this.onPost(op, a, b, c, d));
    sandbox.attachBlocking((op, a, b, c) => this.onBlockingPost(op, a, b, c));
    sandbox.onDeath((reason) => this.onDeath(reason));
  }

  /**
   * Loads the code into a sandbox (fresh or pooled), evaluating the modules under the worker's
   * limits. A start that fails is reported to the tails as the invocation of `cause` (the call
   * that needed the worker) that it ended: with the limit it hit (exceededCpu, exceededMemory,
   * exceededWall) or "exception", the CPU and wall time the start took, the exception, and the
   * logs and fetches the modules made at their top level.
   */
  static async start(sandbox: Sandbox, config: WorkerConfig, cause: StartCause): Promise<Worker> {
    const worker = new Worker(sandbox, config);
    const watch = new Watch(sandbox, config.limits, (reason) => sandbox.kill(reason));
    const startup: Invocation = worker.track(config.limits, () => {});
    const eventTimestamp = Date.now();
    let stopped = false;
    try {
      const { modules, main } = config.code;
      // Encoded (and weighed) before any module is compiled: an env too large is refused first.
      const env = worker.peer.encode(config.env);
      checkEnvSize(env, config.maxEnvBytes);
      const posts = await sandbox.loadModules(
        main,
        (name) => modules.get(name) ?? nodeModuleSource(name) ?? socketsModuleSource(name)!,
        (specifier, referrer) => worker.resolve(specifier, referrer.name),
        () => {
          for (const module of modules.values()) {
            if (module.bytes !== undefined) sandbox.callSync("putData", [module.name, module.bytes]);
            if (module.sourceMap !== undefined) sandbox.callSync("putSourceMap", [module.name, module.sourceMap]);
          }
          // A facet's sandbox gets the blocking call its synchronous storage needs; no other does.
          if (Object.hasOwn(config.env, FACET_STORAGE_BINDING)) sandbox.enableBlocking();
          sandbox.callSync("setEnv", [env, Date.now(), config.code.nodeCompat, config.code.asyncContext, connectorOf(config.globalOutbound) !== undefined]);
        },
        config.code.mayAwaitAtTopLevel,
        {
          // Answers to import() reach the sandbox only while an invocation (the start included) is in flight.
          admit: () => worker.inflight.size > 0 && worker.disposedError === undefined,
          resolve: (specifier, referrer) => worker.resolveDynamic(specifier, referrer),
        },
        config.code.deferredModule,
      );
      // The code that import()s resumed at the top level runs within the start.
      await worker.importsDelivered();
      // The top-level logs (and fetches) go to the first invocation's trace event, as on Cloudflare.
      await worker.postsArrived(posts);
      if (startup.logs.length > 0 || startup.fetches.length > 0) worker.startupTrace = startup;
      return worker;
    } catch (error) {
      sandbox.kill("canceled");
      const failure = worker.startupError(error);
      const { cpuMs, wallMs } = watch.stop();
      stopped = true;
      const outcome: Outcome = failure instanceof LimitError ? failure.outcome : failure instanceof WorkerDisposedError ? "canceled" : "exception";
      const exceptions = [{ name: failure.name, message: failure.message, timestamp: Date.now() }];
      if (config.tails.length > 0) {
        deliverTail(config.tails, { ...cause, outcome, eventTimestamp, logs: deliveredLogs(startup), exceptions, fetches: startup.fetches, cpuTime: cpuMs, wallTime: wallMs, startup: true });
      }
      // The streaming tails get the failed start as an invocation of its own, after the fact (as the tails do).
      const live = openLive(config.openLive, { type: "onset", ...cause, executionModel: "stateless", info: { type: "jsrpc" }, startup: true }, eventTimestamp);
      if (live !== undefined) {
        for (const entry of deliveredLogs(startup)) live({ type: "log", level: entry.level, message: entry.message }, logSize(entry.message, LOG_BYTES_PER_INVOCATION));
        live({ type: "exception", name: failure.name, message: failure.message }, 0);
        live({ type: "outcome", outcome, cpuTime: cpuMs, wallTime: wallMs }, 0);
      }
      throw failure;
    } finally {
      if (!stopped) watch.stop();
      worker.untrack(startup);
    }
  }

  private resolve(specifier: string, referrer: string): string {
    return resolveImport(specifier, referrer, this.config.code);
  }

  /**
   * What `import(specifier)` in the module compiled as `referrer` loads: what a static import there
   * would (the worker's own modules, "cloudflare:workers", Node's built-ins under nodejs_compat).
   * Code outside the worker's modules (none runs user code today) resolves from the main module.
   * Never islet's internal modules. The error's message is for the sandbox: it names the
   * specifier and the importing module, nothing of the host.
   */
  private resolveDynamic(specifier: string, referrer: string): string {
    if (specifier === "cloudflare:workers") return specifier;
    const code = this.config.code;
    const from = code.modules.has(referrer) ? referrer : code.main;
    const refuse = (reason: string) => new Error(`No such module "${specifier.length > 200 ? specifier.slice(0, 200) + "…" : specifier}" imported from ${userModuleName(from)}: ${reason}`);
    if (specifier.startsWith("islet:")) throw refuse("it is internal to islet.");
    if (specifier.length > 1024) throw refuse("a module name is at most 1,024 characters long.");
    try {
      return resolveImport(specifier, from, code);
    } catch (error) {
      const message = error instanceof WorkerCodeError && error.module !== undefined ? error.message.slice(`Module "${error.module}": `.length) : String((error as Error).message);
      throw refuse(message);
    }
  }

  /**
   * Resolves once every answer to import() given so far has reached the sandbox and the code it
   * resumed has run, and what that code logged has arrived.
   */
  private async importsDelivered(): Promise<void> {
    for (let pending = this.sandbox.importsDelivered(); pending !== undefined; pending = this.sandbox.importsDelivered()) await this.postsArrived(await pending);
  }

  private startupError(error: unknown): Error {
    if (error instanceof SandboxDiedError) return limitOrDisposed(error.reason, "while starting the worker");
    if (error instanceof IsletError) return error;
    if (error instanceof Error) {
      // A top-level exception keeps its name and message; say which worker phase it came from.
      if (/^(SyntaxError)$/.test(error.name) && /requested module|does not provide an export/.test(error.message)) {
        return new WorkerCodeError(error.message, userModuleName(this.config.code.main));
      }
      return errorFromSandbox({ name: error.name, message: error.message, stack: error.stack });
    }
    return new Error(String(error));
  }

  get alive(): boolean {
    return this.disposedError === undefined && this.sandbox.alive;
  }

  get busy(): boolean {
    return this.inflight.size > 0;
  }

  /** Calls `method` on entrypoint `entry` (a named export or "default"). */
  async call(entry: string, method: string, args: unknown[], props: unknown, limits: Limits | undefined): Promise<unknown> {
    const encodedArgs = this.peer.encode(args);
    const encodedProps = this.peer.encode(props ?? {});
    return this.run(entry, method, limits, (id) => this.sandbox.call("dispatch", [id, entry, method, encodedArgs, encodedProps, Date.now()]), (value) => this.peer.decode(value));
  }

  /**
   * Calls the fetch handler; resolves to the response record. The request body crosses whole when
   * it is already complete (within one turn of the event loop, up to EAGER_BODY_BYTES), otherwise
   * the sandbox pulls it chunk by chunk as its code reads (Op.BodyRead), as it does a fetch()
   * response body. A body still open when the invocation ends (waitUntil work included) is cancelled.
   */
  async fetch(entry: string, request: IncomingRequest, props: unknown, limits: Limits | undefined): Promise<WorkerResponse> {
    const { body: stream, ...head } = request;
    let record: RequestRecord = { ...head, body: null };
    let body: HostBody | undefined;
    let bodyStream: number | undefined;
    try {
      const encodedProps = this.peer.encode(props ?? {});
      if (stream !== null) {
        body = new HostBody(stream.getReader());
        const whole = await body.readAvailable(EAGER_BODY_BYTES);
        if (whole !== undefined) {
          record.body = whole;
          body = undefined;
        }
      }
      const start = (id: number) => {
        if (body !== undefined) {
          // Registered once the invocation is tracked: bodies left when none is in flight are cancelled.
          const open = body;
          body = undefined; // the table owns it now, cancelled with the invocation
          bodyStream = this.bodies.add(open, (max) => new TypeError(`Too many bodies open in this worker (at most ${max}).`));
          record = { ...record, bodyStream };
        }
        return this.sandbox.call("dispatch", [id, entry, "fetch", [record], encodedProps, Date.now()]);
      };
      const release = () => {
        if (bodyStream !== undefined) this.bodies.cancel(bodyStream);
      };
      const response = (await this.run(
        entry,
        "fetch",
        limits,
        start,
        (value) => {
          try {
            return received(value, MAX_OBJECTS_PER_VALUE);
          } catch (error) {
            throw new DataCloneError(`The response could not be copied across the sandbox boundary: ${(error as Error).message}`);
          }
        },
        release,
        (value, failed) => streamResponseBody(this.responseBodySource, value, failed),
        { type: "fetch", method: head.method, url: head.url },
      )) as WorkerResponse;
      // A streamed body that is complete at once (or within a moment) crosses whole, ending the
      // invocation now rather than when (and if) the caller reads it.
      if (response.body instanceof ReadableStream) {
        const streamed = new HostBody(response.body.getReader());
        const whole = await streamed.readAvailable(EAGER_BODY_BYTES, 64, eagerWindow);
        response.body = whole ?? hostBodyStream(streamed);
      }
      return response;
    } finally {
      // Never handed to the sandbox (the call failed before it started): the caller's stream is let go.
      body?.cancel();
    }
  }

  /** What the stream of a response body the sandbox streams needs of this worker. */
  private get responseBodySource(): ResponseBodySource {
    return { sandbox: this.sandbox, translate: (error) => this.translate(error), postsArrived: (target) => this.postsArrived(target) };
  }

  private invokeCapability(capId: number, method: string | null, args: Encoded): Promise<unknown> {
    return this.run("(stub)", method ?? "(call)", undefined, (id) => this.sandbox.call("invoke", [id, capId, method, args, Date.now()]), (value) => value);
  }

  private async run(
    entrypoint: string,
    method: string,
    entryLimits: Limits | undefined,
    start: (invocationId: number) => Promise<unknown>,
    decodeValue: (value: unknown) => unknown,
    /** Runs when the invocation ends (after its waitUntil work). */
    onFinish?: () => void,
    /** Given the decoded value: a promise the invocation stays in flight (and watched) for, e.g. a response body still streaming. */
    hold?: (value: unknown, failed: Promise<never>) => Promise<BodyEnd> | undefined,
    /** What the onset of the streaming tails says of the event (default: an RPC call). */
    info: TailStreamOnset["info"] = { type: "jsrpc" },
  ): Promise<unknown> {
    if (this.disposedError !== undefined) throw this.disposedError;
    this.lastUsed = performance.now();
    const limits = lowest(this.config.limits, entryLimits);
    let failInvocation!: (error: Error) => void;
    const failed = new Promise<never>((_, reject) => (failInvocation = reject));
    failed.catch(() => {});
    const invocation = this.track(limits, (error) => failInvocation(error));
    invocation.span = startInvocationSpan(entrypoint, method);
    const eventTimestamp = Date.now();
    const live = openLive(this.config.openLive, { type: "onset", entrypoint, method, executionModel: "stateless", info }, eventTimestamp);
    if (this.startupTrace !== undefined) {
      const { logs, droppedLogs, logBytes, logsCut, tail, fetches } = this.startupTrace;
      this.startupTrace = undefined;
      Object.assign(invocation, { logs: [...logs], droppedLogs, logBytes, logsCut, tail: tail === undefined ? undefined : [...tail], fetches: [...fetches] });
      this.logBudget.retain(logBytes);
      // What the start's top level logged comes first, as in the tail event.
      if (live !== undefined) for (const entry of deliveredLogs(invocation)) live({ type: "log", level: entry.level, message: entry.message }, logSize(entry.message, LOG_BYTES_PER_INVOCATION));
    }
    if (live !== undefined) invocation.live = (entry, size) => live({ type: "log", level: entry.level, message: entry.message }, size);
    const watch = new Watch(this.sandbox, limits, (reason) => this.sandbox.kill(reason));
    let outcome: Outcome = "ok";
    const exceptions: TailEvent["exceptions"] = [];
    /** Records an exception for the tail event; the streaming tails get it at once. */
    const addException = (item: TailEvent["exceptions"][number]): void => {
      exceptions.push(item);
      live?.({ type: "exception", name: item.name, message: item.message }, logSize(item.message, LOG_BYTES_PER_INVOCATION));
    };
    let finishLater = false;
    /**
     * Ends the invocation; with `running`, its watch stays on until the sandbox's code returns. An
     * invocation that import()ed ends once the answers have reached the sandbox and the code they
     * resumed has run (under this invocation's watch: nothing runs unwatched).
     */
    const finish = (running?: Promise<unknown>): void => {
      if (this.sandbox.importsDelivered() !== undefined) {
        void this.importsDelivered().then(() => {
          // The resumed code hit a limit (the caller may have its answer already): the event says so.
          const reason = this.sandbox.deathReason;
          if (outcome === "ok" && reason !== undefined && reason !== "canceled") {
            outcome = reason;
            const error = limitOrDisposed(reason, "during the call");
            addException({ name: error.name, message: error.message, timestamp: Date.now() });
          }
          finish(running);
        });
        return;
      }
      const { cpuMs, wallMs } = running === undefined ? watch.stop() : { cpuMs: watch.cpuMs, wallMs: watch.wallMs };
      if (running !== undefined) running.then(() => watch.stop(), () => watch.stop());
      onFinish?.();
      this.untrack(invocation);
      if (invocation.span !== undefined) endInvocationSpan(invocation.span, outcome, cpuMs, wallMs);
      live?.({ type: "outcome", outcome, cpuTime: cpuMs, wallTime: wallMs }, 0);
      if (this.config.tails.length > 0) {
        deliverTail(this.config.tails, { entrypoint, method, outcome, eventTimestamp, logs: deliveredLogs(invocation), exceptions, fetches: invocation.fetches, cpuTime: cpuMs, wallTime: wallMs });
      }
    };
    let sandboxSettled = false;
    let started: Promise<unknown> | undefined;
    try {
      started = start(invocation.id).then(
        (value) => {
          sandboxSettled = true;
          return value;
        },
        (error: unknown) => {
          // V8 collected the promise the handler returned: nothing can ever settle it. That is a
          // promise that never settles, and it ends the same way, with the wall-time limit: the
          // invocation waits for its watch, which ends the sandbox past wallMs.
          if (isAbandoned(error)) return this.sandbox.died;
          sandboxSettled = true;
          throw fromSandboxCall(error);
        },
      );
      const result = (await Promise.race([started, failed])) as Result;
      if (!Array.isArray(result)) throw new DataCloneError("Malformed result from the sandbox.");
      await this.postsArrived(result[3]);
      const waits: Promise<unknown>[] = [];
      if (result[2] === 1) {
        finishLater = true;
        waits.push(this.drain(invocation.id, failed));
      }
      try {
        if (result[0] === 1) {
          const value = decodeValue(result[1]);
          const held = hold?.(value, failed);
          if (held !== undefined) {
            finishLater = true;
            // The tail event says how the held work ended: a limit, an error, the caller's cancel.
            waits.push(
              held.then((how) => {
                if (outcome !== "ok" || how.outcome === "ok") return;
                outcome = how.outcome;
                if (how.error !== undefined) addException({ name: how.error.name, message: how.error.message, timestamp: Date.now() });
              }),
            );
          }
          return value;
        }
      } finally {
        if (waits.length > 0) Promise.allSettled(waits).then(() => finish());
      }
      const error = result[0] === 2 ? resultCloneError(result[1]) : errorFromSandbox(result[1]);
      outcome = "exception";
      addException({ name: error.name, message: error.message, timestamp: Date.now() });
      throw error;
    } catch (error) {
      const translated = this.translate(error);
      if (outcome === "ok") {
        outcome = translated instanceof LimitError ? translated.outcome : translated instanceof WorkerDisposedError ? "canceled" : "exception";
        addException({ name: translated.name, message: translated.message, timestamp: Date.now() });
      }
      throw translated;
    } finally {
      // Failed before the sandbox finished (a subrequest over the limit): its code may still be
      // running, so its cpuMs and wallMs stay enforced until it returns.
      if (!finishLater) finish(started !== undefined && !sandboxSettled ? started : undefined);
    }
  }

  private async drain(invocationId: number, failed: Promise<never>): Promise<void> {
    try {
      await this.postsArrived(await Promise.race([this.sandbox.call("drain", [invocationId]), failed]));
    } catch {
      // waitUntil work that fails or is cut off is reported through logs, not to the caller.
    }
  }

  private translate(error: unknown): Error {
    if (error instanceof SandboxDiedError) return limitOrDisposed(error.reason, "during the call");
    // A sandbox's own error keeps its name and message, whatever they say: only a failed copy
    // (isolated-vm's own error, made on this side) becomes a DataCloneError (findings5/03).
    if (isSandboxError(error)) return error as Error;
    if (error instanceof Error) {
      if (!madeByCopy(error)) return error;
      // "illegal access": isolated-vm 7 runs no JavaScript while it copies, so a getter (or a host
      // object whose copy needs Node, like its DOMException) stops the copy instead of running.
      if (/illegal access/.test(error.message)) {
        return new DataCloneError("A value could not be copied across the sandbox boundary: it holds a getter or an object that cannot be copied without running code.");
      }
      if (/could not be cloned|#<.*> could not be|DataCloneError/.test(error.message)) {
        return new DataCloneError(`A value could not be copied across the sandbox boundary: ${cloneFailureReason(error.message)}`);
      }
      return error;
    }
    return new Error(String(error));
  }

  private track(limits: ResolvedLimits, fail: (error: Error) => void): Invocation {
    const invocation: Invocation = { id: nextInvocationId++, limits, logs: [], droppedLogs: 0, logBytes: 0, logsCut: false, subRequests: 0, blockingCalls: 0, fetches: [], fail };
    this.inflight.add(invocation);
    return invocation;
  }

  private untrack(invocation: Invocation): void {
    if (this.inflight.delete(invocation)) this.logBudget.release(invocation);
    if (this.inflight.size === 0) this.goIdle();
  }

  /** No invocation in flight: pending timers are dropped so nothing runs unwatched. */
  private goIdle(): void {
    this.lastUsed = performance.now();
    this.sockets.closeAll();
    this.bodies.cancelAll();
    this.sandbox.cancelServices();
    if (this.timers.clearAll()) this.sandbox.send("idle", []);
  }

  private readonly postWaiters: { target: number; resolve: () => void }[] = [];

  /**
   * Resolves once every post the sandbox made before a result has reached onPost, so that the
   * logs and fetches an invocation made just before returning are charged to it. A count that never
   * arrives (a forged one, a dead sandbox) gives up after a short wait rather than hang the call.
   */
  private postsArrived(target: unknown): Promise<void> | void {
    if (typeof target !== "number" || target <= this.sandbox.postsReceived || !this.sandbox.alive) return;
    return new Promise<void>((resolve) => {
      const waiter = { target, resolve: () => (clearTimeout(timer), resolve()) };
      const timer = setTimeout(() => {
        const index = this.postWaiters.indexOf(waiter);
        if (index >= 0) this.postWaiters.splice(index, 1);
        resolve();
      }, POSTS_WAIT_MS);
      this.postWaiters.push(waiter);
    });
  }

  private onPost(op: number, a: unknown, b: unknown, c: unknown, d: unknown): void {
    if (this.postWaiters.length > 0) {
      for (let i = this.postWaiters.length - 1; i >= 0; i--) {
        if (this.postWaiters[i].target <= this.sandbox.postsReceived) this.postWaiters.splice(i, 1)[0].resolve();
      }
    }
    // Posts that are not encoded values (logs, fetch records, service arguments) are held to the
    // boundary's list of types too: a compromised runtime must not hand the host a shared buffer.
    // Their resizable buffers are made fixed-length, as an encoded value's are (clonable.ts).
    if (op === Op.Log) b = receivedLog(b);
    else if (op !== Op.Call) {
      try {
        b = received(b);
        c = received(c);
        d = received(d);
      } catch {
        if (op === Op.Fetch || op === Op.Service || op === Op.BodyRead || op === Op.Connect || op === Op.SocketWrite || op === Op.SocketEnd || op === Op.SocketStartTls) void this.answer(a, () => Promise.reject(new DataCloneError("A value could not be cloned: it cannot cross the sandbox boundary.")));
        return;
      }
    }
    switch (op) {
      case Op.Call: {
        // Checked as the message arrives, before the next one: a burst of calls with large
        // arguments must not all be held while they wait for their turn.
        let run: (before: () => Promise<void>) => Promise<unknown>;
        try {
          run = this.peer.admitCall(b, c, d);
        } catch (error) {
          return void this.answer(a, () => Promise.reject(error));
        }
        const capability = typeof c === "string" ? c.slice(0, 128) : "(call)";
        return void this.answer(a, () => inSpan("islet.capability", this.currentSpan(), { "islet.capability.method": capability }, () => run(() => this.countSubrequest())));
      }
      case Op.Fetch:
        return void this.answer(a, () => this.countSubrequest().then(() => this.outbound(a, b as RequestRecord, c === true)));
      case Op.BodyRead:
        return void this.answer(a, () => this.bodies.read(b));
      case Op.BodyCancel:
        return this.bodies.cancel(a);
      case Op.Connect:
        return void this.answer(a, () => this.countSubrequest().then(() => this.connect(b, c)));
      case Op.SocketWrite:
        return void this.answer(a, () => sandboxFacing(this.sockets.write(b, c)));
      case Op.SocketEnd:
        return void this.answer(a, () => sandboxFacing(this.sockets.end(b)));
      case Op.SocketClose:
        return this.sockets.close(a);
      case Op.SocketStartTls:
        return void this.answer(a, () => sandboxFacing(this.sockets.startTls(b, c)));
      case Op.FetchAbort:
        return void this.outboundAborts.get(a as number)?.abort(new DOMException("The operation was aborted.", "AbortError"));
      case Op.Log:
        // The call the sandbox says made the line (runtime/bridge.ts), else every call in flight.
        return this.logBudget.keep(this.callOrAll(d), typeof a === "string" ? a : "log", b as unknown[], c === true);
      case Op.TimerSet:
        // Only while an invocation is in flight: nothing runs unwatched.
        if (this.inflight.size > 0) this.timers.set(a, b);
        return;
      case Op.TimerClear:
        return this.timers.clear(a);
      case Op.Release:
        return this.peer.release(a);
      case Op.Service:
        return void this.answer(a, () => this.sandbox.service(b, c));
    }
  }

  /**
   * A capability call the sandbox waits for with its thread blocked (a facet's synchronous
   * storage): checked, counted and run as an asynchronous Op.Call is, answered as the reply itself.
   */
  private async onBlockingPost(op: number, capId: unknown, method: unknown, payload: unknown): Promise<[number, unknown]> {
    try {
      if (op !== Op.Call) throw new TypeError("Only capability calls can block.");
      if (this.inflight.size === 0) throw new SubrequestLimitError("No invocation is in flight.");
      const run = this.peer.admitCall(capId, method, payload);
      return [1, await run(async () => this.countBlockingCall())];
    } catch (error) {
      return [0, errorForSandbox(error)];
    }
  }

  private async answer(callId: unknown, work: () => Promise<unknown>): Promise<void> {
    if (typeof callId !== "number") return;
    let reply: [number, unknown];
    try {
      reply = [1, await work()];
    } catch (error) {
      reply = [0, errorForSandbox(error)];
    }
    // A reply that arrives after every invocation ended is dropped: the code waiting for it would run unwatched.
    if (this.inflight.size === 0) return;
    const failed = this.sandbox.send("settle", [callId, reply[0], reply[1], Date.now()]);
    // An answer isolated-vm cannot copy (a WeakRef, a Proxy, a getter) must still settle the call,
    // or the sandbox waits for it until wallMs.
    if (failed !== undefined) {
      const record = { name: "DataCloneError", message: "The host's answer could not be copied into the sandbox: it holds a value the boundary cannot copy (a getter, a Proxy, a WeakRef or another uncloneable object)." };
      this.sandbox.send("settle", [callId, 0, record, Date.now()]);
    }
  }

  private countBlockingCall(): void {
    if (this.inflight.size === 0) throw new SubrequestLimitError("No invocation is in flight.");
    for (const invocation of this.inflight) {
      const most = invocation.limits.subRequests * BLOCKING_CALLS_PER_SUBREQUEST;
      if (++invocation.blockingCalls > most) {
        const error = new SubrequestLimitError(`The invocation exceeded its limit of ${most} storage operations (${BLOCKING_CALLS_PER_SUBREQUEST} per subrequest it may make).`);
        invocation.fail(error);
        throw error;
      }
    }
  }

  private async countSubrequest(): Promise<void> {
    // Code left running by an invocation that already failed reaches no capability.
    if (this.inflight.size === 0) throw new SubrequestLimitError("No invocation is in flight.");
    for (const invocation of this.inflight) {
      invocation.subRequests++;
      if (invocation.subRequests > invocation.limits.subRequests) {
        const error = new SubrequestLimitError(`The invocation exceeded its limit of ${invocation.limits.subRequests} subrequests.`);
        invocation.fail(error);
        throw error;
      }
    }
  }

  private readonly outboundAborts = new Map<number, AbortController>();

  /**
   * One fetch() from the sandbox, handed to globalOutbound. Every request is recorded in the trace
   * event as the sandbox made it (before any credential a policy adds). A failure reaches the
   * sandbox as fetch's TypeError: with the message of an OutboundError (a policy's words for
   * the sandbox), otherwise only "fetch failed", so no host-side detail leaks in.
   */
  private outbound(callId: unknown, record: RequestRecord, abortable: boolean): Promise<unknown> {
    const method = stringField(record, "method").slice(0, 64);
    let host = "";
    try {
      host = new URL(stringField(record, "url")).host;
    } catch {
      // Not a URL: the fetch fails below, in its span.
    }
    return inSpan("islet.fetch", this.currentSpan(), { "http.request.method": method, "server.address": host }, async (span) => {
      const answer = await this.outboundUntraced(callId, record, abortable);
      const status = (answer as { status?: unknown }).status;
      if (typeof status === "number") span.setAttribute("http.response.status_code", status);
      return answer;
    });
  }

  /** The invocation in flight with this id, or every one in flight when none has it. */
  private callOrAll(id: unknown): Iterable<Invocation> {
    for (const invocation of this.inflight) if (invocation.id === id) return [invocation];
    return this.inflight;
  }

  /** The span calls and fetches belong to: the invocation in flight (the latest, if several are). */
  private currentSpan(): Span | undefined {
    let latest: Invocation | undefined;
    for (const invocation of this.inflight) latest = invocation;
    return latest?.span;
  }

  private async outboundUntraced(callId: unknown, record: RequestRecord, abortable: boolean): Promise<unknown> {
    const outbound = this.config.globalOutbound;
    const entry: FetchRecord = { method: stringField(record, "method").slice(0, 64), url: traceUrl(stringField(record, "url")), timestamp: Date.now(), durationMs: 0 };
    this.recordFetch(entry);
    const started = performance.now();
    // Only a fetch made with a signal can be aborted from the sandbox; the others skip the cost of
    // a controller and of the Request following its signal.
    const controller = abortable ? new AbortController() : undefined;
    if (controller !== undefined && typeof callId === "number") this.outboundAborts.set(callId, controller);
    try {
      if (!canFetch(outbound)) throw new OutboundError(FETCH_BLOCKED);
      const answer = await sendOutbound(outbound!, record, controller?.signal, this.bodies, EAGER_BODY_BYTES);
      entry.status = answer.status;
      if (answer.bodyId === undefined) return answer;
      const { bodyId, ...head } = answer;
      return { ...head, bodyStream: bodyId };
    } catch (error) {
      entry.error = error instanceof OutboundError ? error.message : "fetch failed";
      if (error instanceof OutboundError) throw new TypeError(error.message);
      if (error instanceof SubrequestLimitError) throw error;
      throw new TypeError("fetch failed");
    } finally {
      entry.durationMs = performance.now() - started;
      if (controller !== undefined && typeof callId === "number") this.outboundAborts.delete(callId);
    }
  }

  /** Host bodies the sandbox reads by id: request bodies still arriving, and outbound response bodies. */
  private readonly bodies = new HostBodies(MAX_OPEN_BODIES);
  /** Sockets the sandbox opened with connect(); their readable sides are bodies above. Closed when no invocation is in flight. */
  private readonly sockets = new HostSockets(MAX_OPEN_SOCKETS, this.bodies);

  /** @internal For tests (src/testing.ts): sockets this worker holds open on the host. */
  get openSockets(): number {
    return this.sockets.size;
  }

  /**
   * One connect() from the sandbox ("cloudflare:sockets"), handed to globalOutbound's connect.
   * Recorded in the trace event's audit log as method CONNECT and the address as the sandbox
   * wrote it. Without a connect hook it is refused, as fetch() is without a globalOutbound.
   */
  private async connect(address: unknown, options: unknown): Promise<unknown> {
    const record = address !== null && typeof address === "object" ? (address as Record<string, unknown>) : {};
    const hostname = typeof record.hostname === "string" ? record.hostname : "";
    const entry: FetchRecord = { method: "CONNECT", url: traceUrl(`${hostname.includes(":") ? `[${hostname}]` : hostname}:${String(record.port)}`), timestamp: Date.now(), durationMs: 0 };
    this.recordFetch(entry);
    const started = performance.now();
    try {
      const connector = connectorOf(this.config.globalOutbound);
      if (connector === undefined) throw new OutboundError(CONNECT_BLOCKED);
      return await this.sockets.open(connector, address, options);
    } catch (error) {
      entry.error = error instanceof OutboundError ? error.message : "connect failed";
      throw sandboxError(error);
    } finally {
      entry.durationMs = performance.now() - started;
    }
  }

  private recordFetch(entry: FetchRecord): void {
    for (const invocation of this.inflight) if (invocation.fetches.length < MAX_FETCH_RECORDS_PER_INVOCATION) invocation.fetches.push(entry);
  }

  /** Revokes a host function or RpcTarget previously passed into this worker. */
  revoke(capability: object): boolean {
    return this.peer.revoke(capability);
  }

  dispose(error: Error = new WorkerDisposedError("The worker was disposed.")): void {
    if (this.disposedError !== undefined) return;
    this.disposedError = error;
    for (const invocation of this.inflight) invocation.fail(error);
    this.sandbox.kill("canceled");
  }

  private onDeath(reason: DeathReason): void {
    for (const waiter of this.postWaiters.splice(0)) waiter.resolve();
    this.sockets.closeAll();
    this.bodies.cancelAll();
    this.timers.clearAll();
    this.peer.close();
    if (this.disposedError === undefined) this.disposedError = limitOrDisposed(reason, "earlier");
    this.config.onDeath?.(this);
  }
}

/** How a streamed response body ended, for its invocation's tail event. */
/**
 * A call into the sandbox that failed outside the handler's own try: the result could not be
 * copied out (V8's clone refused it, or a getter threw while it was read), or a promise was
 * rejected with no handler (isolated-vm fails the call with it). The sandbox's value becomes an
 * error with its name and message, as a thrown one does; nothing of it is kept raw.
 */
function fromSandboxCall(error: unknown): unknown {
  if (error instanceof SandboxDiedError || error instanceof IsletError) return error;
  // isolated-vm 7 throws the bare string "illegal access" when a copy would have to run code (a
  // getter). A sandbox could reject with that same string (an unhandled rejection fails the call
  // with its value), and it gets only this fixed message for it.
  if (error === "illegal access") {
    return new DataCloneError("A value could not be copied across the sandbox boundary: it holds a getter or an object that cannot be copied without running code.");
  }
  // Only V8's own refusal, made on this side, is a DataCloneError: the sandbox's errors keep
  // their name and message, whatever they say (findings5/03); the value's text is never quoted (findings5/02).
  if (error instanceof Error && madeByCopy(error)) {
    if (isStackOverflow(error)) return new DataCloneError(`A value could not be copied across the sandbox boundary: ${error.message}`);
    if (/could not be cloned/.test(error.message)) return new DataCloneError(`A value could not be copied across the sandbox boundary: ${cloneFailureReason(error.message)}`);
  }
  return errorFromSandbox(errorToRecord(error));
}

/**
 * Whether `error` was made on this side by isolated-vm (a copy that failed), not sent by the
 * sandbox: whatever the sandbox throws or leaves rejected crosses with isolated-vm's
 * "(<isolated-vm boundary>)" stack frame added, and its own stack before it, whatever its message.
 */
function madeByCopy(error: Error): boolean {
  if (error instanceof IsletError) return false;
  let stack: unknown;
  try {
    stack = error.stack;
  } catch {
    return false;
  }
  return typeof stack === "string" && !stack.includes("<isolated-vm boundary>");
}

/** isolated-vm's rejection when the isolate's promise was garbage-collected unsettled. */
function isAbandoned(error: unknown): boolean {
  return error instanceof Error && !(error instanceof IsletError) && error.message === "Promise was abandoned";
}

/** A field of a record from the sandbox, for the audit log: a string, or "" when it is not one. */
function stringField(record: unknown, name: string): string {
  const value = record !== null && typeof record === "object" ? (record as Record<string, unknown>)[name] : undefined;
  return typeof value === "string" ? value : "";
}

/** A socket operation's failure as the sandbox sees it: an OutboundError's words in a plain Error. */
function sandboxError(error: unknown): unknown {
  if (error instanceof OutboundError) return new Error(error.message);
  if (error instanceof SubrequestLimitError) return error;
  return new Error("proxy request failed, cannot connect to the specified address");
}

function sandboxFacing<T>(work: Promise<T>): Promise<T> {
  return work.catch((error: unknown) => {
    throw sandboxError(error);
  });
}

/** Characters of a fetch's URL kept in the trace event (1,000 records per invocation). */
export const MAX_TRACE_URL_CHARS = 8 * 1024;

function traceUrl(url: string): string {
  return url.length <= MAX_TRACE_URL_CHARS ? url : `${url.slice(0, MAX_TRACE_URL_CHARS)}… [islet: ${url.length - MAX_TRACE_URL_CHARS} more characters cut]`;
}

function resultCloneError(record: unknown): DataCloneError {
  const message = (record as { message?: unknown } | null)?.message;
  return new DataCloneError(`The result could not be copied across the sandbox boundary: ${typeof message === "string" ? message : "unknown reason"}`);
}

function limitOrDisposed(reason: DeathReason, when: string): Error {
  switch (reason) {
    case "exceededCpu":
      return limitErrorFor(reason, `The worker exceeded its CPU time limit ${when}; its isolate was terminated.`);
    case "exceededMemory":
      return limitErrorFor(reason, `The worker exceeded its memory limit ${when}; its isolate was terminated.`);
    case "exceededWall":
      return limitErrorFor(reason, `The worker exceeded its wall-clock time limit ${when}; its isolate was terminated.`);
    default:
      return new WorkerDisposedError(`The worker was disposed ${when === "earlier" ? "" : when + " "}and can no longer be called.`.replace("  ", " "));
  }
}

/**
 * Opens an invocation's live trace (its onset first) and numbers its later events; undefined when
 * no streaming tail listens. The sink never throws into the worker.
 */
function openLive(open: OpenLiveTrace | undefined, onset: TailStreamOnset, timestamp: number): ((event: TailStreamEventBody, size: number) => void) | undefined {
  if (open === undefined) return undefined;
  let sink: ReturnType<OpenLiveTrace>;
  try {
    sink = open({ sequence: 0, timestamp, event: onset });
  } catch {
    return undefined;
  }
  if (sink === undefined) return undefined;
  let sequence = 1;
  return (event, size) => {
    const envelope: LiveEnvelope = { sequence: sequence++, timestamp: Date.now(), event };
    try {
      sink(envelope, size);
    } catch {
      // Consumers are observers: their failures are theirs.
    }
  };
}
