// The host's side of sharded isolation: a pool of shards (child processes or worker threads), each
// running an in-process WorkerLoader (runner.ts), behind the same WorkerStub/Entrypoint API. What
// a shard is and how messages reach it is a ShardKind (kind.ts; ../process/pool.ts,
// ../thread/pool.ts); the rest is shared. Here: which shard a worker lives in (named workers in the
// shard their id hashes to, so get(id) stays warm; anonymous ones in the least busy), restarts of a
// shard that dies or stops answering (calls pending on it reject with the kind's named error while
// the other shards keep serving), and close(). The host's end of one shard is connection.ts, a
// worker's calls remote-worker.ts, and what a shard asks of the host host-requests.ts (host
// capabilities stay here and are called back by id, link.ts).

import { WorkerDisposedError } from "../../errors.ts";
import { DEFAULT_LIMITS, type Limits, type ResolvedLimits } from "../limits.ts";
import type { PreparationBudget } from "../code/esbuild-queue.ts";
import type { PackagePolicy } from "../code/packages.ts";
import type { Fetcher, StreamingTail, TailReceiver } from "../code/types.ts";
import { TailStreamHub } from "../tail-streams.ts";
import type { BackendWorker, GetCode, WorkerBackend, WorkerLoaderStats } from "../backend.ts";
import { Connection, type ConnectionOwner, type Slot } from "./connection.ts";
import { HostRequests } from "./host-requests.ts";
import type { ShardKind } from "./kind.ts";
import type { ShardInit } from "./protocol.ts";
import { RemoteWorker } from "./remote-worker.ts";

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

/** FNV-1a: which shard a named worker lives in, the same for an id every time. */
export function shardSlotFor(id: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
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

export interface ShardPoolStats {
  liveWorkers: number;
  warmSandboxes: number;
  alive: number;
  restarts: number;
}

export abstract class ShardPool implements WorkerBackend, ConnectionOwner {
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
  private nextAnonymous = 1;
  private roundRobin = 0;
  private restarts = 0;
  private isClosed = false;
  private readonly unresponsiveMs: number;
  private readonly monitor: NodeJS.Timeout;
  private lastCheck = performance.now();
  private readonly init: ShardInit;
  /** The queues of the streaming tails' events, which the shards send here as they happen. */
  readonly streams = new TailStreamHub();
  /** @internal What the shards ask of the host, answered (host-requests.ts). */
  readonly requests: HostRequests;

  constructor(
    /** @internal */ readonly kind: ShardKind,
    private readonly options: ShardPoolOptions,
  ) {
    this.requests = new HostRequests(this, options);
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
        if (this.isClosed) throw new WorkerDisposedError("The WorkerLoader is closed.");
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
    if (this.isClosed) throw new WorkerDisposedError("The WorkerLoader is closed.");
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
    if (this.isClosed || slot.conn !== conn) return;
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

  /** @internal Whether close() was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** @internal The worker with this key, while a stub of it is held. */
  workerOf(key: string): RemoteWorker | undefined {
    return this.workers.get(key)?.deref();
  }

  /** @internal The loader's own limits, the defaults where it sets none. */
  loaderLimits(): ResolvedLimits {
    const limits = { ...DEFAULT_LIMITS };
    for (const [key, value] of Object.entries(this.options.limits ?? {})) if (typeof value === "number" && key in limits) limits[key as keyof typeof limits] = value;
    return limits;
  }

  /** @internal The memoryMb of the worker with this key (the loader's while its code was not sent). */
  memoryMbOf(key: string): number {
    return this.workerOf(key)?.memoryMb ?? this.loaderLimits().memoryMb;
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
    if (this.isClosed) return;
    this.isClosed = true;
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
