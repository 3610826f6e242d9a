// One live dynamic worker: a sandbox with the worker's modules evaluated in it, its host-side
// capability table, and the invocation loop: starting the worker, each call and fetch under its
// limits' watch, the tail events and live traces it ends with. Code in the sandbox runs only inside
// a watched invocation: timers and host replies are delivered only while one is in flight. What
// the sandbox posts is dispatched in op-dispatch.ts, its fetch() and connect() go out through
// worker-egress.ts, the invocations' budgets are kept in invocations.ts, and the errors its
// callers see are made in invocation-errors.ts.

import { DataCloneError, IsletError, LimitError, WorkerCodeError, WorkerDisposedError, type Outcome } from "../errors.ts";
import type { DeathReason, Sandbox } from "../engine/sandbox.ts";
import { SandboxDiedError } from "../engine/sandbox.ts";
import { Watch } from "../engine/watchdog.ts";
import { Peer, errorFromSandbox } from "../rpc/peer.ts";
import type { Encoded } from "../protocol/wire.ts";
import { MAX_OBJECTS_PER_VALUE, received } from "../protocol/clonable.ts";
import type { RequestRecord } from "../protocol/records.ts";
import { FACET_STORAGE_BINDING } from "../protocol/facets.ts";
import type { Result } from "../protocol/entries.ts";
import type { IncomingRequest, WorkerResponse } from "./fetch-records.ts";
import type { StartCause } from "./backend.ts";
import { EAGER_BODY_BYTES, HostBody } from "./host-body.ts";
import { connectorOf } from "./egress.ts";
import { endInvocationSpan, startInvocationSpan } from "./tracing.ts";
import { readAhead, streamResponseBody, type BodyEnd, type ResponseBodySource } from "./response-body.ts";
import { lowest, type Limits, type ResolvedLimits } from "./limits.ts";
import { deliverTail } from "./tails.ts";
import type { OpenLiveTrace } from "./tail-streams.ts";
import { logSize, LOG_BYTES_PER_INVOCATION } from "../protocol/log-size.ts";
import { HostTimers } from "./host-timers.ts";
import { checkEnvSize } from "./env-size.ts";
import { deliveredLogs, type InvocationLog } from "./invocation-logs.ts";
import { Invocations, openLive, type Invocation } from "./invocations.ts";
import { fromSandboxCall, isAbandoned, limitOrDisposed, resultCloneError, translateCallError } from "./invocation-errors.ts";
import { OpDispatch } from "./op-dispatch.ts";
import { WorkerEgress } from "./worker-egress.ts";
import { nodeModuleSource, socketsModuleSource } from "./node-compat.ts";
import { resolveImport, userModuleName } from "./code/resolve.ts";
import type { SocketAnswer } from "./sockets.ts";
import type { FetchRecord, Fetcher, HostSocket, PreparedCode, TailEvent, TailReceiver, TailStreamOnset } from "./code/types.ts";

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

/** A facet's storage capability, which its env holds (facets.ts); undefined for any other worker. */
function facetStorageOf(env: Record<string, unknown>): object | undefined {
  const storage = Object.hasOwn(env, FACET_STORAGE_BINDING) ? env[FACET_STORAGE_BINDING] : undefined;
  return storage !== null && (typeof storage === "object" || typeof storage === "function") ? storage : undefined;
}

export class Worker {
  private readonly peer: Peer;
  /** The invocations in flight; when the last ends, the worker goes idle. */
  private readonly invocations = new Invocations(() => this.goIdle());
  private readonly timers = new HostTimers((id) => {
    if (this.invocations.size > 0) this.sandbox.send("fire", [id, Date.now()]);
  });
  private readonly egress: WorkerEgress;
  private readonly ops: OpDispatch;
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
    this.egress = new WorkerEgress(config.globalOutbound, this.invocations);
    this.ops = new OpDispatch(sandbox, this.peer, this.invocations, this.egress, this.timers, facetStorageOf(config.env));
    sandbox.attach((op, a, b, c, d) => this.ops.post(op, a, b, c, d));
    sandbox.attachBlocking((op, a, b, c, d) => this.ops.blockingPost(op, a, b, c, d));
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
    const startup: Invocation = worker.invocations.track(config.limits, () => {});
    const eventTimestamp = Date.now();
    let stopped = false;
    try {
      const { modules, main } = config.code;
      // Encoded (and weighed) before any module is compiled: an env too large is refused first.
      const env = worker.peer.encode(config.env);
      checkEnvSize(env, config.maxEnvBytes);
      // JSON modules are parsed in the sandbox, off the host's thread and under the worker's limits
      // (the host hands over a copy of the text and parses nothing: findings18/01), before any
      // module is compiled: text that is not JSON refuses the code, as it would on upload.
      for (const module of modules.values()) {
        if (module.json === undefined) continue;
        const failure = await sandbox.call("parseJson", [module.name, module.json]);
        if (typeof failure === "string") throw new WorkerCodeError(`invalid JSON: ${failure}`, userModuleName(module.name));
      }
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
          admit: () => worker.invocations.size > 0 && worker.disposedError === undefined,
          resolve: (specifier, referrer) => worker.resolveDynamic(specifier, referrer),
        },
        config.code.deferredModule,
      );
      // The code that import()s resumed at the top level runs within the start.
      await worker.importsDelivered();
      // The top-level logs (and fetches) go to the first invocation's trace event, as on Cloudflare.
      await worker.ops.postsArrived(posts);
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
        for (const entry of deliveredLogs(startup)) live({ type: "log", level: entry.level, message: entry.message }, logSize(entry.message, LOG_BYTES_PER_INVOCATION, true));
        live({ type: "exception", name: failure.name, message: failure.message }, 0);
        live({ type: "outcome", outcome, cpuTime: cpuMs, wallTime: wallMs }, 0);
      }
      throw failure;
    } finally {
      if (!stopped) watch.stop();
      worker.invocations.untrack(startup);
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
    for (let pending = this.sandbox.importsDelivered(); pending !== undefined; pending = this.sandbox.importsDelivered()) await this.ops.postsArrived(await pending);
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
    return this.invocations.size > 0;
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
   * When `signal` aborts (the caller gave up) while the invocation is in flight, the handler's
   * `request.signal` aborts in the sandbox.
   */
  async fetch(entry: string, request: IncomingRequest, props: unknown, limits: Limits | undefined, signal?: AbortSignal): Promise<WorkerResponse> {
    const { body: stream, ...head } = request;
    let record: RequestRecord = { ...head, body: null };
    let body: HostBody | undefined;
    let bodyStream: number | undefined;
    /** The invocation's id while it is in flight: the caller's abort reaches its request's signal then. */
    let inFlight: number | undefined;
    const onAbort = () => {
      if (inFlight !== undefined) this.sandbox.send("abortRequest", [inFlight, Date.now()]);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
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
      // Given up on before the handler was called: it is not called.
      signal?.throwIfAborted();
      const start = (id: number) => {
        inFlight = id;
        if (body !== undefined) {
          // Registered once the invocation is tracked: bodies left when none is in flight are cancelled.
          const open = body;
          body = undefined; // the table owns it now, cancelled with the invocation
          bodyStream = this.egress.bodies.add(open, (max) => new TypeError(`Too many bodies open in this worker (at most ${max}).`));
          record = { ...record, bodyStream };
        }
        return this.sandbox.call("dispatch", [id, entry, "fetch", [record], encodedProps, Date.now()]);
      };
      const release = () => {
        inFlight = undefined;
        signal?.removeEventListener("abort", onAbort);
        if (bodyStream !== undefined) this.egress.bodies.cancel(bodyStream);
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
      if (response.body instanceof ReadableStream) response.body = await readAhead(response.body);
      return response;
    } catch (error) {
      // The invocation never started (release, which lets go of the signal, never runs).
      if (inFlight === undefined) signal?.removeEventListener("abort", onAbort);
      throw error;
    } finally {
      // Never handed to the sandbox (the call failed before it started): the caller's stream is let go.
      body?.cancel();
    }
  }

  /**
   * Calls entrypoint `entry`'s connect(socket) handler with `socket`, an inbound connection's
   * worker end (inbound-socket.ts), held in this worker's table of sockets (so counted against its
   * open sockets) and read and written by the sandbox with the socket ops. Resolves when the
   * handler's invocation ends (its waitUntil work included), which closes the socket.
   */
  async connect(entry: string, socket: HostSocket, localAddress: string | undefined, props: unknown, limits: Limits | undefined, onOpen?: () => void): Promise<void> {
    if (this.disposedError !== undefined) throw this.disposedError;
    const encodedProps = this.peer.encode(props ?? {});
    let answer: SocketAnswer | undefined;
    let succeeded = false;
    // The call's answer comes when the handler returns; the socket stays open until its invocation
    // ends, waitUntil work included (a handler that wrote from waitUntil lost all but its first
    // write: the caller's end was shut at the answer).
    let ended!: () => void;
    const finished = new Promise<void>((resolve) => (ended = resolve));
    const release = () => {
      ended();
      if (answer === undefined) return;
      // The handler failed with the socket open: the caller's end fails with its error rather than ends.
      if (!succeeded) socket.abandon?.();
      this.egress.sockets.close(answer.socket);
    };
    await this.run(
      entry,
      "connect",
      limits,
      async (id) => {
        answer = this.egress.sockets.adopt(socket, { localAddress });
        onOpen?.();
        return this.sandbox.call("dispatch", [id, entry, "connect", [], encodedProps, Date.now(), answer]);
      },
      () => {
        succeeded = true;
        return undefined;
      },
      release,
    );
    await finished;
  }

  /** What the stream of a response body the sandbox streams needs of this worker. */
  private get responseBodySource(): ResponseBodySource {
    return { sandbox: this.sandbox, translate: translateCallError, postsArrived: (target) => this.ops.postsArrived(target) };
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
    const invocation = this.invocations.track(limits, (error) => failInvocation(error));
    invocation.span = startInvocationSpan(entrypoint, method);
    const eventTimestamp = Date.now();
    const live = openLive(this.config.openLive, { type: "onset", entrypoint, method, executionModel: "stateless", info }, eventTimestamp);
    if (this.startupTrace !== undefined) {
      const { logs, droppedLogs, logBytes, logsCut, tail, fetches } = this.startupTrace;
      this.startupTrace = undefined;
      Object.assign(invocation, { logs: [...logs], droppedLogs, logBytes, logsCut, tail: tail === undefined ? undefined : [...tail], fetches: [...fetches] });
      this.invocations.retainLog(logBytes);
      // What the start's top level logged comes first, as in the tail event.
      if (live !== undefined) for (const entry of deliveredLogs(invocation)) live({ type: "log", level: entry.level, message: entry.message }, logSize(entry.message, LOG_BYTES_PER_INVOCATION, true));
    }
    if (live !== undefined) invocation.live = (entry, size) => live({ type: "log", level: entry.level, message: entry.message }, size);
    const watch = new Watch(this.sandbox, limits, (reason) => this.sandbox.kill(reason));
    let outcome: Outcome = "ok";
    const exceptions: TailEvent["exceptions"] = [];
    /** Records an exception for the tail event; the streaming tails get it at once. */
    const addException = (item: TailEvent["exceptions"][number]): void => {
      exceptions.push(item);
      live?.({ type: "exception", name: item.name, message: item.message }, logSize(item.message, LOG_BYTES_PER_INVOCATION, true));
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
      this.invocations.untrack(invocation);
      if (invocation.span !== undefined) endInvocationSpan(invocation.span, outcome, cpuMs, wallMs);
      // A facet's events say how many rows its storage calls read and wrote.
      const rows = this.ops.meters ? { rowsRead: invocation.rowsRead, rowsWritten: invocation.rowsWritten } : undefined;
      live?.({ type: "outcome", outcome, cpuTime: cpuMs, wallTime: wallMs, ...rows }, 0);
      if (this.config.tails.length > 0) {
        deliverTail(this.config.tails, { entrypoint, method, outcome, eventTimestamp, logs: deliveredLogs(invocation), exceptions, fetches: invocation.fetches, cpuTime: cpuMs, wallTime: wallMs, ...rows });
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
      await this.ops.postsArrived(result[3]);
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
      const translated = translateCallError(error);
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
      await this.ops.postsArrived(await Promise.race([this.sandbox.call("drain", [invocationId]), failed]));
    } catch {
      // waitUntil work that fails or is cut off is reported through logs, not to the caller.
    }
  }

  /** No invocation in flight: pending timers are dropped so nothing runs unwatched. */
  private goIdle(): void {
    this.lastUsed = performance.now();
    this.egress.closeAll();
    this.sandbox.cancelServices();
    if (this.timers.clearAll()) this.sandbox.send("idle", []);
  }

  /** @internal For tests (src/testing.ts): sockets this worker holds open on the host. */
  get openSockets(): number {
    return this.egress.sockets.size;
  }

  /** Revokes a host function or RpcTarget previously passed into this worker. */
  revoke(capability: object): boolean {
    return this.peer.revoke(capability);
  }

  dispose(error: Error = new WorkerDisposedError("The worker was disposed.")): void {
    if (this.disposedError !== undefined) return;
    this.disposedError = error;
    // Sockets first: an inbound connection then fails with the disposal rather than ends.
    this.egress.closeAll(true);
    this.invocations.failAll(error);
    this.sandbox.kill("canceled");
  }

  private onDeath(reason: DeathReason): void {
    this.ops.releaseWaiters();
    this.egress.closeAll(true);
    this.timers.clearAll();
    this.peer.close();
    if (this.disposedError === undefined) this.disposedError = limitOrDisposed(reason, "earlier");
    this.config.onDeath?.(this);
  }
}
