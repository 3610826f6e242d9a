// Thread isolation: a ShardPool (../shard/pool.ts) whose shards are worker threads of this
// process, each running an in-process WorkerLoader (entry.ts). Isolate and context creation are
// synchronous on the thread that asks for them, so one process makes fresh sandboxes on one core;
// threads spread that work over all of them without an IPC hop per call. They isolate nothing
// that isolates do not already: a worker thread shares the process's address space, so a V8 escape
// reaches the host, and a fatal error in any thread (a native abort) ends the whole process.
// What a thread does contain is its own JavaScript heap (heap exhaustion ends only that thread)
// and an empty copy of the environment.

import type { PoolCounters } from "../../engine/pool.ts";
import { availableParallelism } from "node:os";
import { Worker as NodeWorker } from "node:worker_threads";
import { SandboxThreadError } from "../../errors.ts";
import type { Message } from "../shard/protocol.ts";
import { ShardPool, shardSlotFor, type ShardSettings } from "../shard/pool.ts";
import type { ShardEvents, ShardHandle, ShardKind } from "../shard/kind.ts";

export interface ThreadPoolOptions extends ShardSettings {
  threads: number;
  /**
   * Ceiling of each thread's own JavaScript heap in MB (not the sandboxes': those have memoryMb).
   * Default: V8's own, as for the main thread. Either way, exhausting it ends that thread
   * (ERR_WORKER_OUT_OF_MEMORY, then SandboxThreadError for its calls), not the process.
   */
  threadHeapMb?: number;
}

export interface ThreadReport {
  threadId: number;
  pid: number;
  envKeys: string[];
  memory: NodeJS.MemoryUsage;
  /** Worker response bodies the shard keeps while the host pulls them. */
  openResponseBodies: number;
  /** What the shard's warm pool did (null: it has none). */
  warmPool: PoolCounters | null;
}

export function defaultThreadCount(): number {
  return Math.max(1, Math.min(availableParallelism(), 8));
}

/** Which thread a named worker lives in, the same for an id every time. */
export const threadSlotFor = shardSlotFor;

/**
 * From the built package the thread runs entry.js. From TypeScript source (islet's own tests, under
 * tsx) a worker thread does not inherit the host's module hooks in Node 20, so it registers tsx's
 * itself before importing entry.ts.
 */
function threadEntry(): { code: string | URL; eval: boolean } {
  const fromSource = import.meta.url.endsWith(".ts");
  if (!fromSource) return { code: new URL("./entry.js", import.meta.url), eval: false };
  const tsx = import.meta.resolve("tsx/esm/api");
  const entry = new URL("./entry.ts", import.meta.url).href;
  return { code: `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`, eval: true };
}

function threadKind(heapMb: number | undefined): ShardKind {
  return {
    noun: "thread",
    idName: "id",
    lostError: (message, exit) => new SandboxThreadError(message, { exitCode: exit?.exitCode ?? null }),
    launch(events: ShardEvents): ShardHandle {
      const entry = threadEntry();
      let worker: NodeWorker;
      try {
        worker = new NodeWorker(entry.code, {
          eval: entry.eval,
          // A copy of nothing: the host's secrets in process.env do not reach the thread.
          env: {},
          execArgv: [],
          // The thread's stdout and stderr are the process's own: piping them here would keep the
          // host's event loop alive while the threads idle (Node 20).
          ...(heapMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: heapMb } }),
        });
      } catch (error) {
        queueMicrotask(() => events.exit({ exitCode: null, signal: null, startError: error as Error }));
        return { id: undefined, connected: false, post() {}, ref() {}, unref() {}, kill() {} };
      }
      let alive = true;
      let reason: string | undefined;
      worker.on("message", (message) => events.message(message));
      worker.on("error", (error) => {
        // An uncaught error or heap exhaustion in the thread; its exit follows.
        reason = `${error.name}${(error as { code?: string }).code !== undefined ? ` [${(error as { code?: string }).code}]` : ""}: ${error.message}`;
      });
      worker.once("exit", (exitCode) => {
        alive = false;
        events.exit({ exitCode, signal: null, reason });
      });
      const threadId = worker.threadId;
      return {
        id: threadId,
        get connected() {
          return alive;
        },
        post(message: Message) {
          worker.postMessage(message);
        },
        ref() {
          worker.ref();
        },
        unref() {
          worker.unref();
        },
        kill() {
          if (alive) void worker.terminate();
        },
      };
    },
  };
}

export class ThreadPool extends ShardPool {
  constructor(options: ThreadPoolOptions) {
    const { threads, threadHeapMb, ...rest } = options;
    super(threadKind(threadHeapMb), { ...rest, shards: threads });
  }

  get stats(): { liveWorkers: number; warmSandboxes: number; threads: { alive: number; restarts: number } } {
    const { liveWorkers, warmSandboxes, alive, restarts } = this.shardStats;
    return { liveWorkers, warmSandboxes, threads: { alive, restarts } };
  }

  /** Thread ids, by slot (undefined while one restarts). */
  get threadIds(): (number | undefined)[] {
    return this.ids;
  }

  /** @internal For tests: ends the thread in `slot` as a crash would; its pending calls reject with SandboxThreadError. */
  terminate(slot: number): void {
    this.slots[slot]?.conn?.handle.kill();
  }
}
