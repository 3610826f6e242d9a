// The public loader: caches named workers, starts anonymous ones, evicts by count and idleness.

import { z } from "zod";
import { WorkerCodeError, WorkerDisposedError } from "../errors.ts";
import { formatProblems, got, nonNegativeInteger, positiveInteger, problemsOf } from "../protocol/schema.ts";
import { SandboxPool } from "../engine/pool.ts";
import { Sandbox } from "../engine/sandbox.ts";
import { createEntrypoint, type Entrypoint, type EntrypointOptions } from "./entrypoint.ts";
import { DEFAULT_LIMITS, lowest, validateCodeLimits, validateLimits, type Limits, type ResolvedLimits } from "./limits.ts";
import { Worker } from "./worker.ts";
import { ProcessPool, defaultProcessCount } from "./process/pool.ts";
import type { ShardPool } from "./shard/pool.ts";
import { ThreadPool, defaultThreadCount } from "./thread/pool.ts";
import { prepareModules } from "./code/prepare.ts";
import type { Fetcher, TailReceiver, WorkerCode } from "./code/types.ts";
import { validateWorkerCode } from "./code/validate.ts";


/** How long close() waits for isolated-vm's threads to finish deleting the isolates it disposed. */
const ISOLATE_SETTLE_MS = 50;
export interface WorkerLoaderOptions {
  /** Ceilings for every worker of this loader; WorkerCode and entrypoints can only lower them. */
  limits?: Limits;
  /** Outbound fetch for workers whose code does not say; default null (blocked). */
  globalOutbound?: Fetcher | null;
  /** Live workers kept at most; the least recently used idle one is evicted. Default 500. */
  maxWorkers?: number;
  /** A worker idle this long is evicted. Default 5 minutes. */
  idleTimeoutMs?: number;
  /** Sandboxes made ahead of demand (never reused after running code). Default 0. */
  warmPool?: number;
  /** Receivers of every worker's trace events, besides each WorkerCode's own tails. */
  tails?: TailReceiver[];
  /**
   * "isolate" (default): every worker is a V8 isolate in this process. "process": workers run in a
   * pool of child processes (clean environment, Node's permission model), with the same API.
   * "thread": workers run in a pool of worker threads of this process, with the same API: isolates
   * are created on every core, but a thread is no security boundary. In both, maxWorkers and
   * warmPool are shared out among the shards.
   */
  isolation?: "isolate" | "process" | "thread";
  /** Child processes for isolation "process". Default: the number of CPUs, at most 8. */
  processes?: number;
  /** Worker threads for isolation "thread". Default: the number of CPUs, at most 8. */
  threads?: number;
}

export interface WorkerLoaderStats {
  liveWorkers: number;
  warmSandboxes: number;
  /** Process isolation: children alive and restarted so far. */
  processes?: { alive: number; restarts: number };
  /** Thread isolation: threads alive and restarted so far. */
  threads?: { alive: number; restarts: number };
}

export type GetCode = () => WorkerCode | Promise<WorkerCode>;

export interface WorkerStub {
  /**
   * The default export, or the named export `name`. `getEntrypoint<MyEntrypoint>()` types its RPC
   * methods (each returns a Promise), as Cloudflare's `Fetcher<T>` does; the type is not checked
   * against the worker's code at run time.
   */
  getEntrypoint<T = undefined>(name?: string | null, options?: EntrypointOptions): Entrypoint<T>;
  /** Revokes a host function or RpcTarget earlier passed to this worker; later calls to it fail. */
  revoke(capability: object): boolean;
  /** Terminates the worker's isolate now. A later call starts it again (calling getCode). */
  dispose(): void;
}

class WorkerRecord {
  worker: Worker | undefined;
  private starting: Promise<Worker> | undefined;

  constructor(
    private readonly loader: WorkerLoader,
    readonly id: string | undefined,
    private readonly getCode: GetCode,
  ) {}

  acquire(): Promise<Worker> {
    if (this.worker?.alive) {
      this.loader.touch(this);
      return Promise.resolve(this.worker);
    }
    this.starting ??= this.start().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async start(): Promise<Worker> {
    this.loader.assertOpen();
    const code = await this.getCode();
    this.loader.assertOpen();
    const worker = await this.loader.startWorker(code, this);
    this.worker = worker;
    return worker;
  }

  dispose(error?: Error): void {
    const worker = this.worker;
    this.worker = undefined;
    worker?.dispose(error);
  }
}

/** The shard pool of a loader in process or thread isolation; reached through src/testing.ts only (not on the public class). */
const shardPools = new WeakMap<WorkerLoader, ProcessPool | ThreadPool>();

/** @internal For src/testing.ts: the pool behind a loader in process or thread isolation. */
export function shardPoolOf(loader: WorkerLoader): ProcessPool | ThreadPool | undefined {
  return shardPools.get(loader);
}

export class WorkerLoader {
  private readonly limits: ResolvedLimits;
  private readonly globalOutbound: Fetcher | null;
  private readonly maxWorkers: number;
  private readonly idleTimeoutMs: number;
  private readonly tails: TailReceiver[];
  private readonly named = new Map<string, WorkerRecord>();
  /** Records with a live worker, least recently used first. */
  private readonly live = new Map<WorkerRecord, true>();
  private readonly pool: SandboxPool | undefined;
  private readonly sweeper: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly shards: (ShardPool & { readonly stats: WorkerLoaderStats }) | undefined;

  constructor(options: WorkerLoaderOptions = {}) {
    const checked = checkOptions(options);
    const limits = validateLimits(options.limits, "WorkerLoader");
    // The loader's limits replace the defaults (above them too): they are its workers' ceilings.
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.globalOutbound = options.globalOutbound ?? null;
    this.maxWorkers = checked.maxWorkers ?? 500;
    this.idleTimeoutMs = checked.idleTimeoutMs ?? 5 * 60_000;
    this.tails = options.tails ?? [];
    const warmPool = checked.warmPool ?? 0;
    const { maxWorkers, idleTimeoutMs } = options;
    const shared = { limits, maxWorkers, idleTimeoutMs, warmPool, globalOutbound: this.globalOutbound, tails: this.tails };
    if (options.isolation === "process") {
      const processes = checked.processes ?? defaultProcessCount();
      const pool = new ProcessPool({ processes, ...shared });
      this.shards = pool;
      shardPools.set(this, pool);
      return;
    }
    if (options.isolation === "thread") {
      const threads = checked.threads ?? defaultThreadCount();
      const pool = new ThreadPool({ threads, ...shared });
      this.shards = pool;
      shardPools.set(this, pool);
      return;
    }
    this.pool = warmPool > 0 ? new SandboxPool(warmPool, this.limits.memoryMb) : undefined;
    this.sweeper = setInterval(() => this.sweep(), Math.min(Math.max(this.idleTimeoutMs / 2, 10), 10_000));
    this.sweeper.unref();
  }

  /** The worker with this id, started on first use with `getCode()`; null/undefined id: a new worker. */
  get(id: string | null | undefined, getCode: GetCode): WorkerStub {
    if (typeof getCode !== "function") throw new TypeError("WorkerLoader.get: getCode must be a function.");
    if (this.shards !== undefined) {
      if (id !== null && id !== undefined && typeof id !== "string") throw new TypeError("WorkerLoader.get: id must be a string, null or undefined.");
      return this.shards.get(id ?? undefined, getCode);
    }
    if (id === null || id === undefined) {
      const record = new WorkerRecord(this, undefined, getCode);
      return this.stub(() => record);
    }
    if (typeof id !== "string") throw new TypeError("WorkerLoader.get: id must be a string, null or undefined.");
    // Looked up on every call, so a stub outlives its worker's eviction.
    const current = () => {
      let record = this.named.get(id);
      if (record === undefined) this.named.set(id, (record = new WorkerRecord(this, id, getCode)));
      return record;
    };
    current();
    return this.stub(current);
  }

  /** A brand-new worker running `code`. */
  load(code: WorkerCode): WorkerStub {
    return this.get(null, () => code);
  }

  private stub(current: () => WorkerRecord): WorkerStub {
    const acquire = () => current().acquire();
    return {
      getEntrypoint: (name, options = {}) => {
        if (name !== undefined && name !== null && typeof name !== "string") throw new TypeError("getEntrypoint: name must be a string.");
        if (options === null || typeof options !== "object") throw new TypeError("getEntrypoint: options must be an object.");
        const limits = validateLimits(options.limits, "getEntrypoint", "call");
        return createEntrypoint(acquire, name ?? "default", { props: options.props, limits });
      },
      revoke: (capability) => current().worker?.revoke(capability) ?? false,
      dispose: () => {
        const r = current();
        this.live.delete(r);
        r.dispose();
      },
    };
  }

  /** @internal */
  assertOpen(): void {
    if (this.closed) throw new WorkerDisposedError("The WorkerLoader is closed.");
  }

  /** @internal */
  touch(record: WorkerRecord): void {
    this.live.delete(record);
    this.live.set(record, true);
  }

  /** @internal */
  async startWorker(code: WorkerCode, record: WorkerRecord): Promise<Worker> {
    validateWorkerCode(code);
    const codeLimits = validateCodeLimits(code.limits);
    const limits = lowest(this.limits, codeLimits);
    const prepared = prepareModules(code);
    this.makeRoom();
    const sandbox = this.pool ? this.pool.take(limits.memoryMb) : Sandbox.create(limits.memoryMb);
    const worker = await Worker.start(sandbox, {
      code: prepared,
      env: code.env ?? {},
      globalOutbound: code.globalOutbound === undefined ? this.globalOutbound : code.globalOutbound,
      limits,
      tails: [...(code.tails ?? []), ...this.tails],
      onDeath: (dead) => {
        if (record.worker !== dead && record.worker !== undefined) return;
        record.worker = undefined;
        this.live.delete(record);
        if (record.id !== undefined && this.named.get(record.id) === record && record.worker === undefined) this.named.delete(record.id);
      },
    });
    if (this.closed) {
      worker.dispose();
      throw new WorkerDisposedError("The WorkerLoader is closed.");
    }
    this.live.set(record, true);
    return worker;
  }

  private makeRoom(): void {
    if (this.live.size < this.maxWorkers) return;
    for (const record of this.live.keys()) {
      if (record.worker?.busy) continue;
      this.live.delete(record);
      record.dispose(new WorkerDisposedError("The worker was evicted (maxWorkers)."));
      if (this.live.size < this.maxWorkers) return;
    }
  }

  private sweep(): void {
    const now = performance.now();
    for (const record of [...this.live.keys()]) {
      const worker = record.worker;
      if (worker === undefined || (!worker.busy && now - worker.lastUsed >= this.idleTimeoutMs)) {
        this.live.delete(record);
        record.dispose(new WorkerDisposedError("The worker was evicted after being idle."));
      }
    }
  }

  /** Live workers and warm sandboxes, for monitoring; in process and thread isolation as last reported by the shards. */
  get stats(): WorkerLoaderStats {
    if (this.shards !== undefined) return this.shards.stats;
    return { liveWorkers: this.live.size, warmSandboxes: this.pool?.available ?? 0 };
  }

  /** Disposes every worker; pending calls reject with WorkerDisposedError. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.shards !== undefined) return this.shards.close();
    clearInterval(this.sweeper);
    const disposed = this.live.size + (this.pool?.available ?? 0);
    this.pool?.close();
    for (const record of this.live.keys()) record.dispose(new WorkerDisposedError("The WorkerLoader was closed."));
    this.live.clear();
    this.named.clear();
    // isolated-vm deletes a disposed isolate on one of its own threads once that thread lets go of
    // it. A process.exit() right after close() could run that deletion after Node had disposed V8's
    // platform, and the process died with SIGSEGV (gdb: TracingCpuProfilerImpl's destructor, from
    // Isolate::Deinit on an isolated-vm pool thread, while exit() joined that pool): 4 of 20 runs
    // of load, call, close, exit (Node 24). Waiting 25 ms here: 1 of 40 on a loaded machine; hence 50.
    if (disposed > 0) await new Promise((resolve) => setTimeout(resolve, ISOLATE_SETTLE_MS));
  }
}

// The options' schema (limits have their own, src/protocol/limits.ts): every problem at once, in a
// TypeError "WorkerLoader: maxWorkers: must be a positive integer, got 0; …". Unknown keys are
// ignored, as TypeScript already flags them.
const fetcher = z.custom<Fetcher | null>((value) => value === null || typeof value === "function" || (typeof value === "object" && typeof (value as { fetch?: unknown }).fetch === "function"), {
  error: (issue) => `must be null, a function or an object with a fetch method${got(issue)}`,
});
const optionsSchema = z
  .object(
    {
      globalOutbound: fetcher.optional(),
      maxWorkers: positiveInteger().optional(),
      idleTimeoutMs: positiveInteger().optional(),
      warmPool: nonNegativeInteger().optional(),
      tails: z
        .array(
          z.custom<TailReceiver>((value) => typeof value === "function" || (typeof value === "object" && value !== null && typeof (value as { tail?: unknown }).tail === "function"), {
            error: (issue) => `must be a function or an object with a tail method${got(issue)}`,
          }),
          { error: (issue) => `must be an array${got(issue)}` },
        )
        .optional(),
      isolation: z.enum(["isolate", "process", "thread"], { error: (issue) => `must be "isolate", "process" or "thread"${got(issue)}` }).optional(),
      processes: positiveInteger().optional(),
      threads: positiveInteger().optional(),
    },
    { error: (issue) => `options must be an object${got(issue)}` },
  )
;

function checkOptions(options: WorkerLoaderOptions): z.infer<typeof optionsSchema> {
  const parsed = optionsSchema.safeParse(options);
  const problems = parsed.success ? [] : problemsOf(parsed.error);
  if (options !== null && typeof options === "object") {
    // Across options, reported with the others.
    if (options.processes !== undefined && options.isolation !== "process") problems.push({ field: "processes", message: 'needs isolation: "process"' });
    if (options.threads !== undefined && options.isolation !== "thread") problems.push({ field: "threads", message: 'needs isolation: "thread"' });
  }
  if (problems.length > 0 || !parsed.success) throw new TypeError(`WorkerLoader: ${formatProblems(problems)}`);
  return parsed.data;
}

export { WorkerCodeError };
