// The host's end of one shard: its channel and capability link, the bodies, sockets, aborts and
// live traces it holds for the shard's sandboxes, and how it ends (killed, or asked to end itself)
// and fails what was pending on it. Which shard runs in a slot, and its restarts, are the pool's
// (pool.ts); what the shard asks of the host is answered in host-requests.ts.

import { AsyncResource } from "node:async_hooks";
import { MAX_OBJECTS_PER_VALUE } from "../../protocol/clonable.ts";
import { HostBodies } from "../host-body.ts";
import { HostSockets, MAX_SHARD_SOCKETS } from "../sockets.ts";
import type { LiveSink } from "../tail-streams.ts";
import type { ShardExit, ShardHandle, ShardKind } from "./kind.ts";
import { Link } from "./link.ts";
import { Channel, MAX_OPEN_BODIES, type Message, type ShardInit, type WireError } from "./protocol.ts";

/** What a connection needs of its pool. */
export interface ConnectionOwner {
  readonly kind: ShardKind;
  /** Answers what the shard asks of the host (host-requests.ts). */
  readonly requests: ShardRequestHandler;
  /** The memoryMb of the worker with this key: the budget of its host calls' arguments here (see Link.call). */
  memoryMbOf(key: string): number;
  /** The shard ended: the pool restarts it. */
  exited(conn: Connection): void;
}

/** The host's answers to a shard's requests and notifications, and how errors cross between them. */
export interface ShardRequestHandler {
  request(conn: Connection, name: string, payload: unknown): unknown;
  notify(conn: Connection, name: string, payload: unknown): void;
  errorOut(error: unknown): WireError;
  errorIn(record: WireError): unknown;
}

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
    private readonly pool: ConnectionOwner,
    readonly slot: Slot,
    init: ShardInit,
  ) {
    const kind = pool.kind;
    let resolveExit!: () => void;
    this.exited = new Promise((resolve) => (resolveExit = resolve));
    this.channel = new Channel((message) => this.post(message), {
      request: (name, payload) => pool.requests.request(this, name, payload),
      notify: (name, payload) => pool.requests.notify(this, name, payload),
      errorOut: (error) => pool.requests.errorOut(error),
      errorIn: (record) => pool.requests.errorIn(record),
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
    this.sockets.closeAll(true);
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
