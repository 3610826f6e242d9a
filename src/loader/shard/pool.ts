// The host's side of sharded isolation: a pool of shards (child processes or worker threads), each
// running an in-process WorkerLoader (runner.ts), behind the same WorkerStub/Entrypoint API. What
// a shard is and how messages reach it is a ShardKind (../process/pool.ts, ../thread/pool.ts);
// everything else is here, shared: named workers live in the shard their id hashes to, so get(id)
// stays warm; anonymous ones go to the least busy shard; host capabilities stay here and are
// called back by id (link.ts); a shard that dies or stops answering is restarted, and calls
// pending on it reject with the kind's named error while the other shards keep serving.

import { OutboundError, SubrequestLimitError, WorkerDisposedError } from "../../errors.ts";
import type { RequestRecord, ResponseRecord } from "../../protocol/records.ts";
import type { IncomingRequest, WorkerResponse } from "../fetch-records.ts";
import { HostBodies, HostBody } from "../host-body.ts";
import { CONNECT_BLOCKED, connectorOf, sendOutbound } from "../egress.ts";
import { HostSockets, MAX_SHARD_SOCKETS } from "../sockets.ts";
import { DEFAULT_LIMITS, lowest, validateCodeLimits, type Limits } from "../limits.ts";
import { deliverTail } from "../tails.ts";
import { DEFAULT_MAX_ENV_BYTES, checkEnvSize } from "../env-size.ts";
import { prepareModules, preparePackages } from "../code/prepare.ts";
import type { PreparationBudget } from "../code/esbuild-queue.ts";
import { packageCacheStats, type PackagePolicy } from "../code/packages.ts";
import type { Fetcher, StreamingTail, TailEvent, TailReceiver, WorkerCode } from "../code/types.ts";
import { AsyncResource } from "node:async_hooks";
import { TailStreamHub, type LiveEnvelope, type LiveSink } from "../tail-streams.ts";
import { logSize, LOG_BYTES_PER_INVOCATION } from "../../protocol/log-size.ts";
import { normalizeName, validateWorkerCode } from "../code/validate.ts";
import type { BackendWorker, GetCode, Invocable, WorkerBackend, WorkerLoaderStats } from "../backend.ts";
import { Link } from "./link.ts";
import { MAX_OBJECTS_PER_VALUE, received } from "../../protocol/clonable.ts";
export { MAX_OPEN_BODIES } from "./protocol.ts";
import { Channel, EAGER_BODY_BYTES, MAX_OPEN_BODIES, errorFromWire, errorToWire, type CodeMessage, type Message, type ShardInit, type WireError } from "./protocol.ts";

/** What every shard pool (process, thread) takes from the loader. */
export interface ShardSettings {
  /** The loader's own limits, as given (each shard applies them exactly as an in-process loader would). */
  limits?: Limits;
  /** Live workers kept at most, over all shards (each shard keeps its share). */
  maxWorkers?: number;
  idleTimeoutMs?: number;
  /** Warm sandboxes over all shards (each shard keeps its share, refilled there). */
  warmPool?: number;
  /** The most bytes a worker's env may take once copied (checked here before it is sent, and in the shard). Default 1 MiB. */
  maxEnvBytes?: number;
  globalOutbound: Fetcher | null;
  tails: readonly TailReceiver[];
  /** Consumers of every worker's live events, besides each WorkerCode's own streamingTails. */
  streamingTails?: readonly StreamingTail[];
  /** A shard with calls pending that has sent nothing (not even its heartbeat) this long is ended. */
  unresponsiveMs?: number;
  /** The npm packages workers may import: bundled here, in the host, and sent with the code. */
  packages?: PackagePolicy;
  /** What the loader's loads may leave waiting for esbuild, here in the host (esbuild-queue.ts); default: the process's budget. */
  preparation?: PreparationBudget;
}

export interface ShardPoolOptions extends ShardSettings {
  /** Shards in the pool. */
  shards: number;
}

export const DEFAULT_UNRESPONSIVE_MS = 10_000;
const STARTUP_ALLOWANCE_MS = 30_000;
/** How long a killed sandbox may run on in a child process before the child is replaced. */
const RUNAWAY_KILLED_MS = 5_000;

/** What a started shard tells the pool. */
export interface ShardEvents {
  message(message: unknown): void;
  /** Text the shard wrote to stderr: kept to explain a death before it was ready. */
  diagnostic(text: string): void;
  /** The shard is gone (exited, killed, or never started). Called once. */
  exit(info: ShardExit): void;
}

export interface ShardExit {
  exitCode: number | null;
  signal: string | null;
  /** Why it ended, when the shard's runtime says (a worker thread's uncaught error or heap exhaustion). */
  reason?: string;
  /** It never started. */
  startError?: Error;
}

/** One running shard, as the pool drives it. */
export interface ShardHandle {
  /** The pid or thread id; undefined if it never started. */
  readonly id: number | undefined;
  /** Still able to take messages. */
  readonly connected: boolean;
  /** Throws if the message cannot be copied or the shard is gone. */
  post(message: Message): void;
  /** Keep the host's event loop alive for this shard (while calls are pending) or not. */
  ref(): void;
  unref(): void;
  /** Ends the shard at once; its exit event follows. */
  kill(): void;
}

/** Child processes or worker threads. */
export interface ShardKind {
  /** "process" or "thread", for messages. */
  readonly noun: string;
  /** How the shard's id is named in messages: "pid" or "id". */
  readonly idName: string;
  launch(events: ShardEvents): ShardHandle;
  /** The named error calls lost with a shard reject with. */
  lostError(message: string, exit?: { exitCode: number | null; signal: string | null }): Error;
  /** Replace a shard whose killed sandbox runs on (a process can be killed; a thread cannot stop an isolate either). */
  readonly replaceRunaway?: boolean;
}

/** FNV-1a: which shard a named worker lives in, the same for an id every time. */
export function shardSlotFor(id: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

/** A value getCode (or validating its result) threw: the shard hands it back and the caller gets this very object. */
class HostThrown {
  constructor(readonly value: unknown) {}
}

const MAX_HOST_ERRORS = 256;

/** A request to a worker's fetch handler as its shard receives it: a body still arriving stays on the host, read by id. */
export interface ShardRequestRecord extends RequestRecord {
  bodyId?: number;
}


/** A globalOutbound's response as a shard receives it: the body stays on the host, read by id. */
export interface ShardResponseRecord extends Omit<ResponseRecord, "body"> {
  body: null;
  bodyId?: number;
}
/** How long close() waits for its shards to exit (a thread that never ends, see below, is left running). */
const CLOSE_WAIT_MS = 15_000;
/**
 * How long a shard asked to end itself has before it is killed (part of CLOSE_WAIT_MS). A thread
 * closing with calls in flight waits for isolated-vm to settle them and to delete its isolates
 * (runner.ts, within its CLOSE_BUDGET_MS of 8 s): six loaders of two threads each, closed in a row
 * with calls in flight on a loaded 2-core machine, took over 5 s, and a thread terminated meanwhile
 * had not ended a second later, when close() returned (findings4/03); a terminated thread is waited
 * for too, up to CLOSE_WAIT_MS.
 */
const CLOSE_GRACE_MS = 9_000;
const DIAGNOSTIC_TAIL_CHARS = 2_000;

/** @internal The host's end of one shard. */
export class Connection {
  readonly handle: ShardHandle;
  readonly channel: Channel;
  readonly link: Link;
  readonly startedAt = performance.now();
  lastSeen = performance.now();
  stats = { liveWorkers: 0, warmSandboxes: 0 };
  ready = false;
  dead: Error | undefined;
  inflight = 0;
  readonly exited: Promise<void>;
  readonly aborts = new Map<number, AbortController>();
  /** Bodies the shard reads chunk by chunk ("bodyRead"), by id: outbound responses' and entrypoint requests'. */
  readonly bodies = new HostBodies(MAX_OPEN_BODIES);
  /** Sockets the shard's sandboxes opened through their globalOutbound's connect; readable sides in `bodies`. */
  readonly sockets = new HostSockets(MAX_SHARD_SOCKETS, this.bodies);
  private diagnosticTail = "";
  private running = true;
  /** The live traces of invocations running in the shard, by the shard's stream id (see "streamOpen"). */
  readonly liveStreams = new Map<number, { sink: LiveSink; next: number }>();
  /**
   * The async context of each call in flight, by the token sent with it: an invocation's streaming
   * tails run in the context of the call that made it (AsyncLocalStorage reads its store there), as in-process.
   */
  readonly callScopes = new Map<number, AsyncResource>();
  private nextCallScope = 1;

  /** A token for the call about to be sent, whose context `release` forgets. */
  openCallScope(): number {
    const token = this.nextCallScope++;
    this.callScopes.set(token, new AsyncResource("islet.call"));
    return token;
  }

  constructor(
    private readonly pool: ShardPool,
    readonly slot: Slot,
    init: ShardInit,
  ) {
    const kind = pool.kind;
    let resolveExit!: () => void;
    this.exited = new Promise((resolve) => (resolveExit = resolve));
    this.channel = new Channel((message) => this.post(message), {
      request: (name, payload) => pool.handleRequest(this, name, payload),
      notify: (name, payload) => pool.handleNotify(this, name, payload),
      errorOut: (error) => pool.errorOut(error),
      errorIn: (record) => pool.errorIn(record),
    });
    this.link = new Link(
      {
        invoke: (capId, method, args) => this.request("invoke", [capId, method, args]),
        release: (capId) => this.channel.notify("release", capId),
      },
      true,
      true,
      MAX_OBJECTS_PER_VALUE,
      (scope) => pool.memoryMbOf(scope) * 2 ** 20,
    );
    this.handle = kind.launch({
      message: (message) => {
        this.lastSeen = performance.now();
        this.channel.receive(message);
      },
      diagnostic: (text) => {
        this.diagnosticTail = (this.diagnosticTail + text).slice(-DIAGNOSTIC_TAIL_CHARS);
      },
      exit: (info) => {
        if (!this.running) return;
        this.running = false;
        this.die(info.startError !== undefined ? kind.lostError(`The sandbox ${kind.noun} could not be started: ${info.startError.message}`) : this.exitError(info));
        resolveExit();
        pool.exited(this);
      },
    });
    this.handle.unref();
    this.channel.notify("init", init);
  }

  get id(): number | undefined {
    return this.handle.id;
  }

  /** "sandbox thread (id 3)" */
  get label(): string {
    return `sandbox ${this.pool.kind.noun} (${this.pool.kind.idName} ${this.id})`;
  }

  private post(message: Message): void {
    if (this.dead !== undefined) throw this.dead;
    if (!this.handle.connected) throw this.pool.kind.lostError(`The ${this.label} is no longer connected.`);
    this.handle.post(message);
  }

  /** A request the host waits on: the shard stays referenced (keeps Node running) meanwhile. */
  async request(name: string, payload: unknown): Promise<unknown> {
    if (this.inflight++ === 0) this.handle.ref();
    try {
      return await this.channel.request(name, payload);
    } finally {
      // A dying shard stays referenced until its exit is seen (see kill).
      if (--this.inflight === 0 && this.dead === undefined) this.handle.unref();
    }
  }

  private exitError({ exitCode, signal, reason }: ShardExit): Error {
    if (this.dead !== undefined) return this.dead;
    const how = signal !== null ? `was killed by ${signal}` : `exited with code ${exitCode}`;
    const early = this.ready ? "" : " before it was ready";
    const tail = this.diagnosticTail.trim();
    // A start that failed: the error's first lines (its message) and its last (where), as stderr has them.
    const lines = tail.split("\n");
    const excerpt = lines.length <= 10 ? tail : [...lines.slice(0, 4), "…", ...lines.slice(-5)].join("\n");
    const detail = reason !== undefined ? `: ${reason}` : !this.ready && tail !== "" ? `: ${excerpt}` : "";
    return this.pool.kind.lostError(`The ${this.label} ${how}${early}; its pending calls were lost${detail}`, { exitCode, signal });
  }

  /** Fails everything pending on this shard with `error`; idempotent. */
  die(error: Error): void {
    if (this.dead !== undefined) return;
    this.dead = error;
    this.channel.fail(error);
    this.link.close(error);
    for (const controller of this.aborts.values()) controller.abort();
    this.aborts.clear();
    this.sockets.closeAll();
    this.bodies.cancelAll();
    // Invocations the shard took with it end for their streaming tails too.
    for (const { sink, next } of this.liveStreams.values()) sink({ sequence: next, timestamp: Date.now(), event: { type: "outcome", outcome: "canceled", cpuTime: 0, wallTime: 0 } }, 0);
    this.liveStreams.clear();
    this.callScopes.clear();
  }

  /** Cancels a body the shard no longer reads. */
  releaseBody(bodyId: unknown): void {
    this.bodies.cancel(bodyId);
  }

  kill(error: Error): void {
    this.die(error);
    if (!this.running) return;
    // Held until the exit is seen, so close() can wait for it.
    this.handle.ref();
    this.handle.kill();
  }

  /**
   * Asks the shard to end itself: it closes its loader, collects its garbage and exits. A thread
   * ended from outside (terminate()) can abort the whole process: V8's last collection on the
   * thread's heap runs isolated-vm's weak callbacks after isolated-vm has let go of the thread
   * (\`Assertion 'environment != nullptr' failed\`), so a thread that can end itself should.
   * Resolves when the shard has exited, or after `waitMs`, when it is killed.
   */
  async end(error: Error, waitMs: number): Promise<void> {
    if (!this.running || this.dead !== undefined) return this.kill(error);
    // Sent before die(), which closes the channel to everything else.
    this.channel.notify("close", null);
    this.die(error);
    this.handle.ref();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), waitMs)));
    const tooLate = await Promise.race([this.exited.then(() => false), late]);
    clearTimeout(timer);
    if (tooLate && this.running) {
      this.terminated = true;
      this.handle.kill();
    }
  }

  /** Whether end() had to kill the shard (it did not end itself within its grace period). */
  terminated = false;

  /** Whether the shard's exit has been seen (for a thread: the thread has ended and been joined). */
  get gone(): boolean {
    return !this.running;
  }
}

/** @internal */
export interface Slot {
  index: number;
  conn: Connection | undefined;
  /** A restart waiting out its back-off. */
  restarting: Promise<Connection> | undefined;
  restartTimer: NodeJS.Timeout | undefined;
  cancelRestart: ((error: Error) => void) | undefined;
  failuresInRow: number;
}

/** A worker as the host sees it: which shard it lives in, and how to (re)make its code. */
class RemoteWorker implements Invocable {
  tails: readonly TailReceiver[] = [];
  streamingTails: readonly StreamingTail[] = [];
  /** Its memoryMb, once its code was sent (the budget of its host calls' arguments here, see Link.call). */
  memoryMb: number | undefined;
  /** How many times dispose() was called: a response body streamed before one fails its later reads (see pulledResponse). */
  disposals = 0;
  /** The package bundles its code was last sent with, by id: what its shard may ask for ("packageSources"). */
  packageSources = new Map<string, string>();

  constructor(
    private readonly pool: ShardPool,
    readonly key: string,
    readonly named: boolean,
    public getCode: GetCode,
    readonly slot: Slot,
  ) {}

  async call(entry: string, method: string, args: unknown[], props: unknown, limits: Limits | undefined): Promise<unknown> {
    const conn = await this.pool.connection(this.slot);
    const encodedArgs = conn.link.encode(args, this.key);
    const encodedProps = conn.link.encode(props ?? {}, this.key);
    const scope = conn.openCallScope();
    try {
      const result = await conn.request("call", [this.key, this.named, entry, method, encodedArgs, encodedProps, limits, scope]);
      return conn.link.decode(result);
    } finally {
      conn.callScopes.delete(scope);
    }
  }

  /**
   * The request body stays here when it is still arriving: the shard pulls it a chunk at a time
   * ("bodyRead"), as the sandbox reads it, and cancels it ("bodyCancel") when its invocation ends.
   */
  async fetch(entry: string, request: IncomingRequest, props: unknown, limits: Limits | undefined): Promise<WorkerResponse> {
    const { body: stream, ...head } = request;
    const record: ShardRequestRecord = { ...head, body: null };
    let body = stream === null ? undefined : new HostBody(stream.getReader());
    let conn: Connection | undefined;
    let scope: number | undefined;
    try {
      conn = await this.pool.connection(this.slot);
      scope = conn.openCallScope();
      const encodedProps = conn.link.encode(props ?? {}, this.key);
      if (body !== undefined) {
        const whole = await body.readAvailable(EAGER_BODY_BYTES);
        if (whole !== undefined) {
          record.body = whole;
          body = undefined;
        } else {
          const open = body;
          body = undefined;
          record.bodyId = conn.bodies.add(open, (max) => new TypeError(`Too many bodies open in this sandbox ${this.pool.kind.noun} (at most ${max}).`));
        }
      }
      // A shard's messages are checked as a sandbox's are (received: the listed types, no resizable buffers).
      const response = received(await conn.request("fetch", [this.key, this.named, entry, record, encodedProps, limits, scope])) as ShardResponseRecord;
      const { bodyId, ...head } = response;
      return typeof bodyId === "number" ? { ...head, body: pulledResponse(conn, bodyId, this) } : head;
    } catch (error) {
      // The shard lets go of a body it was handed when its invocation ends; one the call never reached is let go here.
      if (record.bodyId !== undefined) conn?.releaseBody(record.bodyId);
      throw error;
    } finally {
      if (scope !== undefined) conn?.callScopes.delete(scope);
      body?.cancel();
    }
  }
}

/**
 * A worker's response body kept in its shard, pulled a chunk at a time as the caller reads
 * (highWaterMark 0: nothing is asked for ahead of a read). Cancelling it cancels the shard's
 * reader; the shard's death fails the read with the shard's named error, and the worker's
 * dispose() fails it with WorkerDisposedError, as in-process: a body cut off is never an end
 * (findings5/06). A read on its way when the shard handles the dispose is failed there; a later one
 * is failed here, as the shard no longer has the body.
 */
function pulledResponse(conn: Connection, bodyId: number, worker: RemoteWorker): ReadableStream<Uint8Array> {
  const disposals = worker.disposals;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (worker.disposals !== disposals) throw new WorkerDisposedError("The worker was disposed while its response body was being read.");
        const chunk = received(await conn.request("responseRead", bodyId)) as Uint8Array | null;
        if (chunk === null) controller.close();
        else if (chunk instanceof Uint8Array) controller.enqueue(chunk);
        else throw new TypeError("Received non-Uint8Array chunk");
      },
      cancel() {
        conn.channel.notify("responseCancel", bodyId);
      },
    },
    { highWaterMark: 0 },
  );
}

export interface ShardPoolStats {
  liveWorkers: number;
  warmSandboxes: number;
  alive: number;
  restarts: number;
}

export abstract class ShardPool implements WorkerBackend {
  protected readonly slots: Slot[];
  private readonly workers = new Map<string, WeakRef<RemoteWorker>>();
  private readonly forget = new FinalizationRegistry<[string, Slot]>(([key, slot]) => {
    if (this.workers.get(key)?.deref() !== undefined) return;
    this.workers.delete(key);
    const conn = slot.conn;
    if (conn !== undefined && conn.dead === undefined) {
      conn.channel.notify("forget", key);
      conn.link.dropScope(key);
    }
  });
  private readonly hostErrors = new Map<number, unknown>();
  /** Every globalOutbound exported to a shard as one. */
  private readonly outbounds = new WeakSet<object>();
  private nextHostError = 1;
  private nextAnonymous = 1;
  private roundRobin = 0;
  private restarts = 0;
  private closed = false;
  private readonly unresponsiveMs: number;
  private readonly monitor: NodeJS.Timeout;
  private lastCheck = performance.now();
  private readonly init: ShardInit;
  /** The queues of the streaming tails' events, which the shards send here as they happen. */
  readonly streams = new TailStreamHub();

  constructor(
    /** @internal */ readonly kind: ShardKind,
    private readonly options: ShardPoolOptions,
  ) {
    this.unresponsiveMs = options.unresponsiveMs ?? DEFAULT_UNRESPONSIVE_MS;
    const share = (total: number | undefined) => (total === undefined ? undefined : Math.ceil(total / options.shards));
    this.init = { limits: options.limits, maxWorkers: share(options.maxWorkers), idleTimeoutMs: options.idleTimeoutMs, warmPool: share(options.warmPool), maxEnvBytes: options.maxEnvBytes };
    this.slots = Array.from({ length: options.shards }, (_, index) => ({ index, conn: undefined, restarting: undefined, restartTimer: undefined, cancelRestart: undefined, failuresInRow: 0 }));
    for (const slot of this.slots) slot.conn = new Connection(this, slot, this.init);
    const period = Math.max(50, Math.min(1_000, this.unresponsiveMs / 3));
    this.monitor = setInterval(() => this.checkResponsive(period), period);
    this.monitor.unref();
  }

  worker(id: string | undefined, getCode: GetCode): BackendWorker {
    const worker = id === undefined ? this.anonymous(getCode) : this.named(id, getCode);
    return {
      acquire: async () => {
        if (this.closed) throw new WorkerDisposedError("The WorkerLoader is closed.");
        return worker;
      },
      revoke: (capability) => {
        const conn = worker.slot.conn;
        return conn !== undefined && conn.dead === undefined && conn.link.revoke(worker.key, capability);
      },
      dispose: () => {
        worker.disposals++;
        const conn = worker.slot.conn;
        if (conn !== undefined && conn.dead === undefined) conn.channel.notify("dispose", [worker.key, worker.named]);
      },
    };
  }

  /** @internal How many shards the pool runs (src/testing.ts). */
  get shardCount(): number {
    return this.slots.length;
  }

  /** Live workers and warm sandboxes (as the shards last reported), and the shards alive and restarted, named by kind. */
  abstract get stats(): WorkerLoaderStats;

  private named(id: string, getCode: GetCode): RemoteWorker {
    const key = `n${id}`;
    const existing = this.workers.get(key)?.deref();
    if (existing !== undefined) {
      // The next start of this worker (after eviction or a limit) uses the latest getCode.
      existing.getCode = getCode;
      return existing;
    }
    return this.track(new RemoteWorker(this, key, true, getCode, this.slots[shardSlotFor(id, this.slots.length)]));
  }

  private anonymous(getCode: GetCode): RemoteWorker {
    // The least busy shard, round-robin among equals.
    let best = this.slots[this.roundRobin++ % this.slots.length];
    for (const slot of this.slots) if ((slot.conn?.inflight ?? 0) < (best.conn?.inflight ?? 0)) best = slot;
    return this.track(new RemoteWorker(this, `a${this.nextAnonymous++}`, false, getCode, best));
  }

  private track(worker: RemoteWorker): RemoteWorker {
    this.workers.set(worker.key, new WeakRef(worker));
    this.forget.register(worker, [worker.key, worker.slot]);
    return worker;
  }

  /** @internal The slot's live shard, or the one its restart will bring. */
  connection(slot: Slot): Connection | Promise<Connection> {
    if (this.closed) throw new WorkerDisposedError("The WorkerLoader is closed.");
    if (slot.conn !== undefined && slot.conn.dead === undefined) return slot.conn;
    if (slot.restarting !== undefined) return slot.restarting;
    return this.start(slot);
  }

  private start(slot: Slot): Connection {
    // Every shard after a slot's first is a restart, whichever path brought it: the exit handler,
    // its back-off timer, or a call that found the shard killed before its exit was seen.
    if (slot.conn !== undefined) this.restarts++;
    clearTimeout(slot.restartTimer);
    slot.restartTimer = undefined;
    slot.restarting = undefined;
    slot.cancelRestart = undefined;
    slot.conn = new Connection(this, slot, this.init);
    return slot.conn;
  }

  /** @internal A shard ended: restart it, at once unless it keeps dying young. */
  exited(conn: Connection): void {
    const slot = conn.slot;
    if (this.closed || slot.conn !== conn) return;
    const livedLong = conn.ready && performance.now() - conn.startedAt > 2_000;
    slot.failuresInRow = livedLong ? 0 : slot.failuresInRow + 1;
    const delay = slot.failuresInRow <= 1 ? 0 : Math.min(5_000, 100 * 2 ** (slot.failuresInRow - 2));
    if (delay === 0) {
      this.start(slot);
      return;
    }
    slot.restarting = new Promise((resolveStart, rejectStart) => {
      slot.restartTimer = setTimeout(() => resolveStart(this.start(slot)), delay);
      slot.cancelRestart = rejectStart;
    });
    slot.restarting.catch(() => {});
  }

  private checkResponsive(period: number): void {
    const now = performance.now();
    const gap = now - this.lastCheck;
    this.lastCheck = now;
    // The host was blocked: the shards' silence may be its own.
    if (gap > period * 3) return;
    for (const slot of this.slots) {
      const conn = slot.conn;
      if (conn === undefined || conn.dead !== undefined || conn.inflight === 0) continue;
      // A shard says nothing while it starts (loading Node, isolated-vm and the runtime), which on
      // a busy machine can take longer than a heartbeat gap: starting has its own allowance.
      const allowance = conn.ready ? this.unresponsiveMs : Math.max(this.unresponsiveMs, STARTUP_ALLOWANCE_MS);
      if (now - conn.lastSeen > allowance) {
        const what = conn.ready ? `sent nothing for ${allowance} ms` : `did not start within ${allowance} ms`;
        conn.kill(this.kind.lostError(`The ${conn.label} ${what} with calls pending and was killed; its pending calls were lost.`));
      }
    }
  }

  private loaderLimits() {
    const limits = { ...DEFAULT_LIMITS };
    for (const [key, value] of Object.entries(this.options.limits ?? {})) if (typeof value === "number" && key in limits) limits[key as keyof typeof limits] = value;
    return limits;
  }

  /** @internal The memoryMb of the worker with this key (the loader's while its code was not sent). */
  memoryMbOf(key: string): number {
    return this.workers.get(key)?.deref()?.memoryMb ?? this.loaderLimits().memoryMb;
  }

  /** @internal Requests a shard makes. */
  handleRequest(conn: Connection, name: string, payload: unknown): unknown {
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
      case "bodyRead":
        return conn.bodies.read(payload);
      case "connect": {
        const [capId, address, options] = payload as [unknown, unknown, unknown];
        const connector = connectorOf(this.outboundFor(conn, capId));
        if (connector === undefined) throw new OutboundError(CONNECT_BLOCKED);
        return conn.sockets.open(connector, address, options);
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
        throw new TypeError(`Unknown request "${name}" from a sandbox ${this.kind.noun}.`);
    }
  }

  /** @internal Notifications from a shard. */
  handleNotify(conn: Connection, name: string, payload: unknown): void {
    switch (name) {
      case "beat":
        conn.ready = true;
        if (Array.isArray(payload) && typeof payload[0] === "number" && typeof payload[1] === "number") conn.stats = { liveWorkers: payload[0], warmSandboxes: payload[1] };
        // A child whose killed sandbox has run on past RUNAWAY_KILLED_MS inside one built-in step
        // (findings8/01, 03, 08, 10: minutes of CPU, and an exit that hung) is replaced: its other
        // workers fail as after any crash of their process and start again in the new one.
        if (this.kind.replaceRunaway && Array.isArray(payload) && typeof payload[2] === "number" && payload[2] > RUNAWAY_KILLED_MS) {
          conn.kill(this.kind.lostError(`A sandbox killed ${Math.round(payload[2] / 1000)} s earlier was still running in the ${conn.label}, inside one step of a built-in that V8 does not interrupt: the process was replaced and its pending calls were lost.`));
        }
        return;
      case "release":
        return conn.link.release(payload);
      case "bodyCancel":
        return conn.releaseBody(payload);
      case "socketClose":
        return conn.sockets.close(payload);
      case "abort":
        return void (typeof payload === "number" ? conn.aborts.get(payload)?.abort(new DOMException("The operation was aborted.", "AbortError")) : undefined);
      case "tail": {
        if (!Array.isArray(payload) || !Array.isArray(payload[1])) return;
        const worker = this.workers.get(String(payload[0]))?.deref();
        const receivers = [...(worker?.tails ?? []), ...this.options.tails];
        for (const event of received(payload[1]) as TailEvent[]) deliverTail(receivers, event);
        return;
      }
      case "streamOpen": {
        // [worker key, stream id, call token, onset]: an invocation began in the shard.
        if (!Array.isArray(payload) || typeof payload[1] !== "number" || conn.liveStreams.has(payload[1]) || conn.liveStreams.size >= MAX_LIVE_STREAMS) return;
        const onset = liveEnvelope(payload[3]);
        if (onset === undefined || onset.event.type !== "onset") return;
        const worker = this.workers.get(String(payload[0]))?.deref();
        const consumers = [...(worker?.streamingTails ?? []), ...(this.options.streamingTails ?? [])];
        const sink = this.streams.open(consumers, onset, typeof payload[2] === "number" ? conn.callScopes.get(payload[2]) : undefined);
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
        const size = event.type === "log" ? logSize(event.message, LOG_BYTES_PER_INVOCATION) : event.type === "exception" ? logSize([event.name, event.message], LOG_BYTES_PER_INVOCATION) : 0;
        open.sink(envelope, size);
        return;
      }
    }
  }

  /** Runs the worker's getCode here and sends the shard what it needs to start the worker. */
  private async code(conn: Connection, key: string): Promise<CodeMessage> {
    const worker = this.workers.get(key)?.deref();
    let code: WorkerCode;
    let typeScript: CodeMessage["typeScript"];
    let commonJs: CodeMessage["commonJs"];
    let lowered: CodeMessage["lowered"];
    let json: CodeMessage["json"];
    try {
      // A shard gets the code (and the env's capabilities) of its own workers only: keys are easy
      // to guess, and a compromised shard must not pull in the workers of another.
      if (worker === undefined || worker.slot !== conn.slot) throw new WorkerDisposedError("The worker's stub is gone.");
      if (this.closed) throw new WorkerDisposedError("The WorkerLoader is closed.");
      code = await worker.getCode();
      if (this.closed) throw new WorkerDisposedError("The WorkerLoader is closed.");
      // The same checks, in the same order, as an in-process start; TypeScript is transpiled,
      // async functions lowered and CommonJS parsed here (in esbuild's process, off this event
      // loop) because a child process may not start esbuild's process; the shard is handed the
      // results with the code (runner.ts, PREPARED_DERIVED).
      validateWorkerCode(code);
      validateCodeLimits(code.limits);
      const packages = await preparePackages(code, this.options.packages);
      if (this.closed) throw new WorkerDisposedError("The WorkerLoader is closed.");
      const prepared = await prepareModules(code, packages, this.options.preparation);
      if (this.closed) throw new WorkerDisposedError("The WorkerLoader is closed.");
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
      worker.memoryMb = lowest(this.loaderLimits(), code.limits).memoryMb;
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
    const worker = this.workers.get(String(key))?.deref();
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

  /** @internal What a shard gets for an error thrown here: no stack; getCode's errors by reference. */
  errorOut(error: unknown): WireError {
    if (error instanceof HostThrown) {
      const ref = this.nextHostError++;
      this.hostErrors.set(ref, error.value);
      if (this.hostErrors.size > MAX_HOST_ERRORS) this.hostErrors.delete(this.hostErrors.keys().next().value as number);
      return { ...errorToWire(error.value, false), ref };
    }
    return errorToWire(error, false);
  }

  /** @internal An error from a shard, as the caller sees it. */
  errorIn(record: WireError): unknown {
    if (typeof record?.ref === "number" && this.hostErrors.has(record.ref)) {
      const original = this.hostErrors.get(record.ref);
      this.hostErrors.delete(record.ref);
      return original;
    }
    return errorFromWire(record, true);
  }

  /** Live workers and warm sandboxes as last reported by the shards; shards alive and restarts. */
  get shardStats(): ShardPoolStats {
    let liveWorkers = 0;
    let warmSandboxes = 0;
    let alive = 0;
    for (const slot of this.slots) {
      const conn = slot.conn;
      if (conn === undefined || conn.dead !== undefined) continue;
      alive++;
      liveWorkers += conn.stats.liveWorkers;
      warmSandboxes += conn.stats.warmSandboxes;
    }
    return { liveWorkers, warmSandboxes, alive, restarts: this.restarts };
  }

  /** @internal For tests (src/testing.ts): bodies the shards read from the host chunk by chunk and have not finished or cancelled. */
  get openBodies(): number {
    let open = 0;
    for (const slot of this.slots) if (slot.conn !== undefined && slot.conn.dead === undefined) open += slot.conn.bodies.size;
    return open;
  }

  /** @internal For tests (src/testing.ts): worker response bodies the shards keep while the host pulls them. */
  async openResponseBodies(): Promise<number> {
    let open = 0;
    for (let slot = 0; slot < this.slots.length; slot++) open += ((await this.debug(slot, {})) as { openResponseBodies: number }).openResponseBodies;
    return open;
  }

  /** The shards' ids (pids or thread ids), by slot (undefined while one restarts). */
  protected get ids(): (number | undefined)[] {
    return this.slots.map((slot) => (slot.conn?.dead === undefined ? slot.conn?.id : undefined));
  }

  /** @internal For tests and diagnostics (src/testing.ts): what a shard reports about itself, optionally after stalling its event loop (at most 60 s). */
  async debug(slot: number, options: { collect?: boolean; stallMs?: number }): Promise<unknown> {
    const conn = await this.connection(this.slots[slot]);
    return conn.request("debug", options);
  }

  /** Ends every shard; pending calls reject with WorkerDisposedError. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.monitor);
    const error = new WorkerDisposedError("The WorkerLoader was closed.");
    const exits: Promise<void>[] = [];
    const conns: Connection[] = [];
    for (const slot of this.slots) {
      clearTimeout(slot.restartTimer);
      slot.cancelRestart?.(error);
      const conn = slot.conn;
      if (conn === undefined) continue;
      void conn.end(error, CLOSE_GRACE_MS);
      exits.push(conn.exited);
      conns.push(conn);
    }
    // A worker thread holding an isolate whose heap V8 gave up on never exits (isolated-vm parks
    // that isolate's thread for good and waits for it): close() does not wait for it forever.
    let timer: NodeJS.Timeout | undefined;
    const bounded = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)));
    timer?.unref();
    await Promise.race([Promise.all(exits), bounded]);
    clearTimeout(timer);
    // Said, not hidden: a shard still running here keeps the process's exit waiting for it (Node
    // joins a worker thread at exit).
    const alive = conns.filter((conn) => !conn.gone);
    if (alive.length > 0) {
      const which = alive.map((conn) => `${conn.label}${conn.terminated ? " (terminated, not yet ended)" : ""}`).join(", ");
      process.emitWarning(`WorkerLoader.close(): ${which} had not ended ${CLOSE_WAIT_MS} ms after close(); the process's exit may wait for it.`, { code: "ISLET_CLOSE_INCOMPLETE" });
    }
  }
}

/** Module contents as they cross to a shard: a json module's value goes as its JSON, as the sandbox would see it. */
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
