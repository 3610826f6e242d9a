// The in-process backend: every worker is a V8 isolate on this process's isolated-vm. Caches named
// workers, starts anonymous ones, evicts by count (least recently used first) and idleness. Thread
// and process isolation run this same backend inside each shard (shard/runner.ts).

import { WorkerDisposedError } from "../errors.ts";
import { SandboxPool, type PoolCounters } from "../engine/pool.ts";
import { Sandbox } from "../engine/sandbox.ts";
import type { BackendWorker, GetCode, StartCause, WorkerBackend, WorkerLoaderStats } from "./backend.ts";
import { lowest, validateCodeLimits, type ResolvedLimits } from "./limits.ts";
import { Worker } from "./worker.ts";
import { prepareModules, preparePackages } from "./code/prepare.ts";
import type { PackagePolicy } from "./code/packages.ts";
import type { PreparationBudget } from "./code/esbuild-queue.ts";
import type { Fetcher, StreamingTail, TailReceiver, WorkerCode } from "./code/types.ts";
import { LIVE_SINK, TailStreamHub, type OpenLiveTrace } from "./tail-streams.ts";
import { validateWorkerCode } from "./code/validate.ts";

/** How long close() waits for isolated-vm's threads to finish deleting the isolates it disposed. */
const ISOLATE_SETTLE_MS = 50;
/** The longest close() waits for killed isolates to stop running (see Sandbox.killedUnsettled). */
const KILLED_SETTLE_BOUND_MS = 30_000;

export interface IsolateBackendOptions {
  /** The loader's ceilings (defaults filled in); WorkerCode can only lower them. */
  limits: ResolvedLimits;
  globalOutbound: Fetcher | null;
  maxWorkers: number;
  idleTimeoutMs: number;
  warmPool: number;
  tails: readonly TailReceiver[];
  /** Consumers of every worker's live events, besides each WorkerCode's own streamingTails. */
  streamingTails?: readonly StreamingTail[];
  /** The most bytes a worker's env may take once copied (see env-size.ts). */
  maxEnvBytes: number;
  /** The npm packages workers may import, and where they are installed (none: bare imports name no package). */
  packages?: PackagePolicy;
  /** What this loader's loads may leave waiting for esbuild (esbuild-queue.ts); default: the process's budget. */
  preparation?: PreparationBudget;
}

class WorkerRecord {
  worker: Worker | undefined;
  private starting: Promise<Worker> | undefined;
  /** Bumped by dispose(): a start that began before it ends its worker instead of keeping it. */
  private disposals = 0;
  /** Kills the sandbox a start is running the worker's top level in (set while it does). */
  private killStarting: (() => void) | undefined;

  constructor(
    private readonly backend: IsolateBackend,
    readonly id: string | undefined,
    private readonly getCode: GetCode,
  ) {}

  /** The running worker, or one started for `cause` (calls that come while it starts share that start). */
  acquire(cause: StartCause): Promise<Worker> {
    if (this.worker?.alive) {
      this.backend.touch(this);
      return Promise.resolve(this.worker);
    }
    this.starting ??= this.start(cause).finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async start(cause: StartCause): Promise<Worker> {
    const disposals = this.disposals;
    this.backend.assertOpen();
    const code = await this.getCode();
    this.backend.assertOpen();
    let worker: Worker;
    try {
      worker = await this.backend.startWorker(code, this, cause, (kill) => {
        // dispose() before the sandbox was taken: its top level never runs.
        if (this.disposals !== disposals) kill();
        this.killStarting = kill;
      });
    } catch (error) {
      if (this.disposals !== disposals) throw new WorkerDisposedError("The worker was disposed while it started.");
      throw error;
    } finally {
      this.killStarting = undefined;
    }
    if (this.disposals !== disposals) {
      // dispose() came while it started: the calls waiting for it fail as calls in flight do.
      this.backend.forgetLive(this);
      const error = new WorkerDisposedError("The worker was disposed while it started.");
      worker.dispose(error);
      throw error;
    }
    this.worker = worker;
    return worker;
  }

  dispose(error?: Error): void {
    if (this.starting !== undefined) {
      this.disposals++;
      // Ends the starting sandbox now: its top level may run for as long as its limits allow
      // (findings16/03: a cancelled run's top level went on making requests for seconds).
      this.killStarting?.();
    }
    const worker = this.worker;
    this.worker = undefined;
    worker?.dispose(error);
  }
}

export class IsolateBackend implements WorkerBackend {
  /**
   * Named workers' records, held weakly: a record lives while its worker does (`live`) or a stub
   * holds it, so an id asked for and never called again leaves nothing behind (each one kept
   * about 1 KiB on islet serve for good, findings7b/17).
   */
  private readonly named = new Map<string, WeakRef<WorkerRecord>>();
  private readonly forgetNamed = new FinalizationRegistry<[string, WeakRef<WorkerRecord>]>(([id, ref]) => {
    if (this.named.get(id) === ref) this.named.delete(id);
  });
  /** Records with a live worker, least recently used first. */
  private readonly live = new Map<WorkerRecord, true>();
  private readonly pool: SandboxPool | undefined;
  /** Workers between startWorker's start and end: the warm pool does not refill while one is (pool.ts). */
  private starting = 0;
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;
  /** The queues of the streaming tails' events. */
  readonly streams = new TailStreamHub();

  constructor(private readonly options: IsolateBackendOptions) {
    this.pool = options.warmPool > 0 ? new SandboxPool(options.warmPool, options.limits.memoryMb, () => this.starting > 0) : undefined;
    this.sweeper = setInterval(() => this.sweep(), Math.min(Math.max(options.idleTimeoutMs / 2, 10), 10_000));
    this.sweeper.unref();
  }

  worker(id: string | undefined, getCode: GetCode): BackendWorker {
    let current: () => WorkerRecord;
    if (id === undefined) {
      const record = new WorkerRecord(this, undefined, getCode);
      current = () => record;
    } else {
      // Looked up on every use, so a stub outlives its worker's eviction; the stub holds the
      // record it last used, which keeps the id's entry alive for as long as the stub is.
      let record = this.namedRecord(id, getCode);
      current = () => {
        const now = this.named.get(id)?.deref();
        if (now !== record) record = now ?? this.namedRecord(id, getCode);
        return record;
      };
    }
    return {
      acquire: (cause) => current().acquire(cause),
      revoke: (capability) => current().worker?.revoke(capability) ?? false,
      dispose: () => {
        const record = current();
        this.live.delete(record);
        record.dispose();
      },
    };
  }

  private namedRecord(id: string, getCode: GetCode): WorkerRecord {
    const existing = this.named.get(id)?.deref();
    if (existing !== undefined) return existing;
    const record = new WorkerRecord(this, id, getCode);
    const ref = new WeakRef(record);
    this.named.set(id, ref);
    this.forgetNamed.register(record, [id, ref]);
    return record;
  }

  /** @internal For tests (src/testing.ts): the ids with an entry (a collected record's leaves when its finalizer runs). */
  get namedIds(): number {
    return this.named.size;
  }

  /** @internal For tests (src/testing.ts): the live worker named `id`, if any. */
  liveWorker(id: string): Worker | undefined {
    return this.named.get(id)?.deref()?.worker;
  }

  /** @internal */
  assertOpen(): void {
    if (this.closed) throw new WorkerDisposedError("The WorkerLoader is closed.");
  }

  /** @internal A record whose worker was started and ended at once (disposed while it started). */
  forgetLive(record: WorkerRecord): void {
    this.live.delete(record);
  }

  /** @internal */
  touch(record: WorkerRecord): void {
    this.live.delete(record);
    this.live.set(record, true);
  }

  /** @internal */
  async startWorker(code: WorkerCode, record: WorkerRecord, cause: StartCause, onSandbox?: (kill: () => void) => void): Promise<Worker> {
    this.starting++;
    try {
      return await this.startWorkerNow(code, record, cause, onSandbox);
    } finally {
      this.starting--;
      if (this.starting === 0) this.pool?.nudge();
    }
  }

  private async startWorkerNow(code: WorkerCode, record: WorkerRecord, cause: StartCause, onSandbox?: (kill: () => void) => void): Promise<Worker> {
    validateWorkerCode(code);
    const limits = lowest(this.options.limits, validateCodeLimits(code.limits));
    // Packages are bundled (or found in the cache) before a sandbox is taken, so that bundling is
    // never charged to the worker's limits.
    const packages = await preparePackages(code, this.options.packages);
    this.assertOpen();
    // Off the host's event loop (esbuild's process) and, like packages, before a sandbox is taken.
    const prepared = await prepareModules(code, packages, this.options.preparation);
    this.assertOpen();
    this.makeRoom();
    const sandbox = this.pool ? await this.pool.take(limits.memoryMb) : Sandbox.create(limits.memoryMb);
    if (this.closed) {
      sandbox.kill("canceled");
      throw new WorkerDisposedError("The WorkerLoader is closed.");
    }
    onSandbox?.(() => sandbox.kill("canceled"));
    const worker = await Worker.start(sandbox, {
      code: prepared,
      env: code.env ?? {},
      globalOutbound: code.globalOutbound === undefined ? this.options.globalOutbound : code.globalOutbound,
      limits,
      tails: [...(code.tails ?? []), ...this.options.tails],
      openLive: this.liveTrace(code),
      maxEnvBytes: this.options.maxEnvBytes,
      onDeath: (dead) => {
        if (record.worker !== dead && record.worker !== undefined) return;
        record.worker = undefined;
        this.live.delete(record);
        if (record.id !== undefined && this.named.get(record.id)?.deref() === record && record.worker === undefined) this.named.delete(record.id);
      },
    }, cause);
    if (this.closed) {
      worker.dispose();
      throw new WorkerDisposedError("The WorkerLoader is closed.");
    }
    this.live.set(record, true);
    return worker;
  }

  /** How a worker's invocations reach its streaming tails: a shard's sink to the host, or this loader's queues. */
  private liveTrace(code: WorkerCode): OpenLiveTrace | undefined {
    const sink = (code as { [LIVE_SINK]?: OpenLiveTrace })[LIVE_SINK];
    if (sink !== undefined) return sink;
    const consumers = [...(code.streamingTails ?? []), ...(this.options.streamingTails ?? [])];
    if (consumers.length === 0) return undefined;
    return (onset) => this.streams.open(consumers, onset);
  }

  private makeRoom(): void {
    if (this.live.size < this.options.maxWorkers) return;
    for (const record of this.live.keys()) {
      if (record.worker?.busy) continue;
      this.live.delete(record);
      record.dispose(new WorkerDisposedError("The worker was evicted (maxWorkers)."));
      if (this.live.size < this.options.maxWorkers) return;
    }
  }

  private sweep(): void {
    const now = performance.now();
    for (const record of [...this.live.keys()]) {
      const worker = record.worker;
      if (worker === undefined || (!worker.busy && now - worker.lastUsed >= this.options.idleTimeoutMs)) {
        this.live.delete(record);
        record.dispose(new WorkerDisposedError("The worker was evicted after being idle."));
      }
    }
  }

  get stats(): WorkerLoaderStats {
    return { liveWorkers: this.live.size, warmSandboxes: this.pool?.available ?? 0 };
  }

  /** @internal For tests and benchmarks (src/testing.ts): what the warm pool did, if there is one. */
  get poolCounters(): PoolCounters | undefined {
    return this.pool?.stats;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    const poolClosed = this.pool?.close();
    for (const record of this.live.keys()) record.dispose(new WorkerDisposedError("The WorkerLoader was closed."));
    this.live.clear();
    this.named.clear();
    // Sandboxes the pool was still booting are killed once booted.
    await poolClosed;
    // isolated-vm deletes a disposed isolate on one of its own threads once that thread lets go of
    // it. A process.exit() right after close() could run that deletion after Node had disposed V8's
    // platform, and the process died with SIGSEGV (gdb: TracingCpuProfilerImpl's destructor, from
    // Isolate::Deinit on an isolated-vm pool thread, while exit() joined that pool): 4 of 20 runs
    // of load, call, close, exit (Node 24). Waiting 25 ms here: 1 of 40 on a loaded machine; hence 50.
    // An isolate killed for a limit before close() (not live any more) is deleted the same way,
    // once it stops running: a spin killed for cpuMs, or 500 fetches pending when it was, then
    // close() and exit, died with SIGSEGV in 1 and 3 of 6 runs (findings5/37).
    // So close() first waits until no isolate it or a limit killed still runs (V8 stops a killed
    // isolate only at its next interrupt check: a fill() of 32 MiB in a loop ran on for 1 s after
    // its kill, 2 s beside a CPU hog, and every exit meanwhile died with SIGSEGV), then until 50 ms
    // after the last isolate died or the last operation settled.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Sandbox.killedSettled(), new Promise<void>((resolve) => (timer = setTimeout(resolve, KILLED_SETTLE_BOUND_MS)))]);
    clearTimeout(timer);
    const wait = Sandbox.lastDeathOrSettle() + ISOLATE_SETTLE_MS - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    // Deleting an isolate can take far longer than 50 ms: one that had made ICU formatters in a
    // loop (toLocaleString with options) was still being deleted then, and every exit right after
    // close() died with SIGSEGV (findings8/06; 200 ms more was enough). isolated-vm says nothing
    // when a deletion ends, but the thread doing it is busy: after an isolate died recently, wait
    // (at most QUIET_BOUND_MS) until this process's threads are quiet for a moment.
    if (performance.now() - Sandbox.lastDeathOrSettle() < QUIET_BOUND_MS) await processQuiet();
  }
}

/** The longest close() waits for the process to go quiet after a recent isolate death. */
const QUIET_BOUND_MS = 2_000;

/** Resolves once this process used under a fifth of a core over a 25 ms window (or after QUIET_BOUND_MS). */
async function processQuiet(): Promise<void> {
  const until = performance.now() + QUIET_BOUND_MS;
  while (performance.now() < until) {
    const before = process.cpuUsage();
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 25));
    const used = process.cpuUsage(before);
    const window = (performance.now() - started) * 1000;
    if (used.user + used.system < window / 5) return;
  }
}
