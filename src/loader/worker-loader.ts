// The public loader: checks what the user passes, then hands the work to its backend (in-process
// isolates, or a pool of thread or process shards, one WorkerBackend interface). Everything every
// mode must do alike (argument checks, entrypoint options and limits, the Entrypoint and its
// Response) is here and in entrypoint.ts, once.

import { realpathSync, statSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { WorkerCodeError } from "../errors.ts";
import { formatProblems, got, nonNegativeInteger, positiveInteger, problemsOf } from "../protocol/schema.ts";
import type { BackendWorker, GetCode, StartCause, WorkerBackend, WorkerLoaderStats } from "./backend.ts";
import { createEntrypoint, type Entrypoint, type EntrypointOptions } from "./entrypoint.ts";
import { DurableObjectClass, type DurableObjectClassOptions } from "./durable-object-class.ts";
import { IsolateBackend } from "./isolate-backend.ts";
import { DEFAULT_LIMITS, validateLimits, type Limits } from "./limits.ts";
import { isOutbound } from "./code/validate.ts";
import { DEFAULT_MAX_ENV_BYTES } from "./env-size.ts";
import { ProcessPool, defaultProcessCount } from "./process/pool.ts";
import { ThreadPool, defaultThreadCount } from "./thread/pool.ts";
import type { Fetcher, StreamingTail, TailReceiver, WorkerCode } from "./code/types.ts";
import { isStreamingTail } from "./tail-streams.ts";
import { packagePatternProblem, type PackagePolicy } from "./code/packages.ts";
import { PreparationBudget } from "./code/esbuild-queue.ts";

export type { GetCode, WorkerLoaderStats } from "./backend.ts";
export { DurableObjectClass, type DurableObjectClassOptions } from "./durable-object-class.ts";

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
  /** Consumers of every worker's live events (onset, logs, exceptions, outcome), besides each WorkerCode's own streamingTails. */
  streamingTails?: StreamingTail[];
  /**
   * The most bytes a worker's env may take once copied into its sandbox (V8's serialization of its
   * data; capabilities count a byte or so each). A larger env is a WorkerCodeError. Default 1 MiB,
   * Cloudflare's bound.
   */
  maxEnvBytes?: number;
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
  /**
   * npm packages the workers' code may import by bare name: "zod" allows `import … from "zod"` and
   * every subpath the package exports ("zod/mini"); "zod/mini" allows only that subpath (and those
   * under it). Each is resolved from `packagesRoot`'s node_modules (never downloaded), bundled
   * with esbuild into one ES module per entry (cached by name, version and content), and runs in
   * the sandbox as the worker's own code does. A WorkerCode's `packages` can narrow this list.
   * Default: none.
   */
  packages?: string[];
  /** The directory whose node_modules (or its parents') hold `packages`. Default: process.cwd(). */
  packagesRoot?: string;
  /**
   * Loads of this loader that may wait at once for the host's code preparation (TypeScript,
   * CommonJS, async lowering: esbuild's process runs 1 to 4 jobs at once, shared by the whole
   * process, and the rest wait in turn, each holding its code). Past it a load fails at once with a
   * WorkerCodeError saying the queue is full (its next call tries again). Default 1,000.
   */
  maxQueuedPreparations?: number;
  /**
   * The bytes of code (each waiting load's whole WorkerCode) this loader's waiting loads may hold;
   * past it a load fails the same way (a load waiting alone always may). Default 128 MiB.
   */
  maxQueuedPreparationBytes?: number;
}

export interface WorkerStub {
  /**
   * The default export, or the named export `name`. `getEntrypoint<MyEntrypoint>()` types its RPC
   * methods (each returns a Promise), as Cloudflare's `Fetcher<T>` does; the type is not checked
   * against the worker's code at run time.
   */
  getEntrypoint<T = undefined>(name?: string | null, options?: EntrypointOptions): Entrypoint<T>;
  /**
   * The worker's Durable Object class `name` (a named export extending `DurableObject`; default:
   * the default export), to run as a facet of a host Durable Object:
   * `ctx.facets.get(name, () => ({ class: stub.getDurableObjectClass("App") }))`.
   */
  getDurableObjectClass(name?: string | null, options?: DurableObjectClassOptions): DurableObjectClass;
  /** Revokes a host function or RpcTarget earlier passed to this worker; later calls to it fail. */
  revoke(capability: object): boolean;
  /**
   * Terminates the worker's isolate now, or the one still starting (the calls waiting for it
   * reject with WorkerDisposedError). A later call starts it again (calling getCode).
   */
  dispose(): void;
}

/** The backend of each loader; reached through src/testing.ts only (not on the public class). */
const backends = new WeakMap<WorkerLoader, WorkerBackend>();

/** @internal For src/testing.ts: the pool behind a loader in process or thread isolation. */
export function shardPoolOf(loader: WorkerLoader): ProcessPool | ThreadPool | undefined {
  const backend = backends.get(loader);
  return backend instanceof ProcessPool || backend instanceof ThreadPool ? backend : undefined;
}

/** @internal For src/testing.ts: the in-process backend of a loader in isolate isolation. */
export function isolateBackendOf(loader: WorkerLoader): IsolateBackend | undefined {
  const backend = backends.get(loader);
  return backend instanceof IsolateBackend ? backend : undefined;
}

export class WorkerLoader {
  private readonly backend: WorkerBackend;

  constructor(options: WorkerLoaderOptions = {}) {
    const checked = checkOptions(options);
    const limits = validateLimits(options.limits, "WorkerLoader");
    const globalOutbound = options.globalOutbound ?? null;
    const tails = options.tails ?? [];
    const streamingTails = options.streamingTails ?? [];
    const maxEnvBytes = checked.maxEnvBytes ?? DEFAULT_MAX_ENV_BYTES;
    const packages = packagePolicy(checked.packages, checked.packagesRoot);
    // Code is prepared here, in the host, in every mode: the loader's share of esbuild's queue.
    const preparation = new PreparationBudget(checked.maxQueuedPreparations, checked.maxQueuedPreparationBytes);
    if (options.isolation === "process" || options.isolation === "thread") {
      // Each shard runs an IsolateBackend and applies the loader's options there exactly as given.
      const shared = { limits, maxWorkers: checked.maxWorkers, idleTimeoutMs: checked.idleTimeoutMs, warmPool: checked.warmPool ?? 0, globalOutbound, tails, streamingTails, maxEnvBytes, packages, preparation };
      const pool = options.isolation === "process" ? new ProcessPool({ processes: checked.processes ?? defaultProcessCount(), ...shared }) : new ThreadPool({ threads: checked.threads ?? defaultThreadCount(), ...shared });
      this.backend = pool;
      backends.set(this, pool);
      return;
    }
    this.backend = new IsolateBackend({
      // The loader's limits replace the defaults (above them too): they are its workers' ceilings.
      limits: { ...DEFAULT_LIMITS, ...limits },
      globalOutbound,
      maxWorkers: checked.maxWorkers ?? 500,
      idleTimeoutMs: checked.idleTimeoutMs ?? 5 * 60_000,
      warmPool: checked.warmPool ?? 0,
      tails,
      streamingTails,
      maxEnvBytes,
      packages,
      preparation,
    });
    backends.set(this, this.backend);
  }

  /** The worker with this id, started on first use with `getCode()`; null/undefined id: a new worker. */
  get(id: string | null | undefined, getCode: GetCode): WorkerStub {
    if (typeof getCode !== "function") throw new TypeError("WorkerLoader.get: getCode must be a function.");
    if (id !== null && id !== undefined && typeof id !== "string") throw new TypeError("WorkerLoader.get: id must be a string, null or undefined.");
    return stubOf(this.backend.worker(id ?? undefined, getCode), { loader: this, getCode });
  }

  /** A brand-new worker running `code`. */
  load(code: WorkerCode): WorkerStub {
    return this.get(null, () => code);
  }

  /** Live workers and warm sandboxes, for monitoring; in process and thread isolation as last reported by the shards. */
  get stats(): WorkerLoaderStats {
    return this.backend.stats;
  }

  /** Disposes every worker; pending calls reject with WorkerDisposedError. */
  async close(): Promise<void> {
    return this.backend.close();
  }
}

/** @internal A worker's stub: the same for every backend (src/testing.ts hands it tests that drive a pool directly). */
export function stubOf(worker: BackendWorker, origin?: { loader: WorkerLoader; getCode: GetCode }): WorkerStub {
  const acquire = (cause: StartCause) => worker.acquire(cause);
  return {
    getDurableObjectClass: (name, options = {}) => {
      if (name !== undefined && name !== null && typeof name !== "string") throw new TypeError("getDurableObjectClass: name must be a string.");
      if (options === null || typeof options !== "object") throw new TypeError("getDurableObjectClass: options must be an object.");
      if (origin === undefined) throw new TypeError("getDurableObjectClass: this stub has no loader.");
      const limits = validateLimits(options.limits, "getDurableObjectClass", "call");
      return new DurableObjectClass({ loader: origin.loader, getCode: origin.getCode, exportName: name ?? "default", props: options.props, limits });
    },
    getEntrypoint: (name, options = {}) => {
      if (name !== undefined && name !== null && typeof name !== "string") throw new TypeError("getEntrypoint: name must be a string.");
      if (options === null || typeof options !== "object") throw new TypeError("getEntrypoint: options must be an object.");
      const limits = validateLimits(options.limits, "getEntrypoint", "call");
      return createEntrypoint(acquire, name ?? "default", { props: options.props, limits });
    },
    revoke: (capability) => worker.revoke(capability),
    dispose: () => worker.dispose(),
  };
}

// The options' schema (limits have their own, src/protocol/limits.ts): every problem at once, in a
// TypeError "WorkerLoader: maxWorkers: must be a positive integer, got 0; …". Unknown keys are
// ignored, as TypeScript already flags them.
const fetcher = z.custom<Fetcher | null>((value) => value === null || isOutbound(value), {
  error: (issue) => `must be null, a function or an object with a fetch or connect method${got(issue)}`,
});
const optionsSchema = z
  .object(
    {
      globalOutbound: fetcher.optional(),
      maxWorkers: positiveInteger().optional(),
      idleTimeoutMs: positiveInteger().optional(),
      warmPool: nonNegativeInteger().optional(),
      maxEnvBytes: positiveInteger().optional(),
      tails: z
        .array(
          z.custom<TailReceiver>((value) => typeof value === "function" || (typeof value === "object" && value !== null && typeof (value as { tail?: unknown }).tail === "function"), {
            error: (issue) => `must be a function or an object with a tail method${got(issue)}`,
          }),
          { error: (issue) => `must be an array${got(issue)}` },
        )
        .optional(),
      streamingTails: z
        .array(z.custom<StreamingTail>(isStreamingTail, { error: (issue) => `must be a function or an object with a tailStream method${got(issue)}` }), {
          error: (issue) => `must be an array${got(issue)}`,
        })
        .optional(),
      isolation: z.enum(["isolate", "process", "thread"], { error: (issue) => `must be "isolate", "process" or "thread"${got(issue)}` }).optional(),
      processes: positiveInteger().optional(),
      threads: positiveInteger().optional(),
      packages: z
        .array(z.unknown(), { error: (issue) => `must be an array of package names like "zod" or "date-fns/format"${got(issue)}` })
        .superRefine((list, ctx) => {
          list.forEach((pattern, index) => {
            const problem = packagePatternProblem(pattern);
            if (problem !== undefined) ctx.addIssue({ code: "custom", path: [index], message: `${problem}${got({ input: pattern })}` });
          });
        })
        .transform((list) => list as string[])
        .optional(),
      packagesRoot: z.string({ error: (issue) => `must be a directory path${got(issue)}` }).optional(),
      maxQueuedPreparations: positiveInteger().optional(),
      maxQueuedPreparationBytes: positiveInteger().optional(),
    },
    { error: (issue) => `options must be an object${got(issue)}` },
  )
;

/** The loader's packages and the real path of the directory they are resolved from (undefined: no packages). */
function packagePolicy(allow: string[] | undefined, root: string | undefined): PackagePolicy | undefined {
  if (allow === undefined || allow.length === 0) return undefined;
  let real: string;
  try {
    real = realpathSync(path.resolve(root ?? process.cwd()));
    if (!statSync(real).isDirectory()) throw new Error("not a directory");
  } catch {
    throw new TypeError(`WorkerLoader: packagesRoot: must be an existing directory${got({ input: root ?? process.cwd() })}`);
  }
  return { allow: [...new Set(allow)], root: real };
}

function checkOptions(options: WorkerLoaderOptions): z.infer<typeof optionsSchema> {
  const parsed = optionsSchema.safeParse(options);
  const problems = parsed.success ? [] : problemsOf(parsed.error);
  if (options !== null && typeof options === "object") {
    // Across options, reported with the others.
    if (options.processes !== undefined && options.isolation !== "process") problems.push({ field: "processes", message: 'needs isolation: "process"' });
    if (options.threads !== undefined && options.isolation !== "thread") problems.push({ field: "threads", message: 'needs isolation: "thread"' });
    if (options.packagesRoot !== undefined && options.packages === undefined) problems.push({ field: "packagesRoot", message: "needs packages" });
  }
  if (problems.length > 0 || !parsed.success) throw new TypeError(`WorkerLoader: ${formatProblems(problems)}`);
  return parsed.data;
}

export { WorkerCodeError };
