// What WorkerLoader stands on: one interface that in-process isolates (isolate-backend.ts) and the
// shard pools of thread and process isolation (shard/pool.ts) both implement. Everything a user
// sees the same in every mode (argument checks, entrypoint options, limits validation, the
// Entrypoint and its Response) lives once above it, in worker-loader.ts and entrypoint.ts.

import type { IncomingRequest, WorkerResponse } from "./fetch-records.ts";
import type { Limits } from "./limits.ts";
import type { HostSocket, WorkerCode } from "./code/types.ts";

export type GetCode = () => WorkerCode | Promise<WorkerCode>;

/** The call that needs a worker started: a start that fails is reported to the tails as its invocation. */
export interface StartCause {
  entrypoint: string;
  method: string;
}

/** A running worker as an entrypoint calls it: here, or in a shard. */
export interface Invocable {
  /** Calls `method` on entrypoint `entry` (a named export or "default"). */
  call(entry: string, method: string, args: unknown[], props: unknown, limits: Limits | undefined): Promise<unknown>;
  /**
   * Calls entrypoint `entry`'s fetch handler; the response body may still be streaming. When
   * `signal` aborts (the caller gave up) while the handler's invocation is in flight, the
   * handler's `request.signal` aborts.
   */
  fetch(entry: string, request: IncomingRequest, props: unknown, limits: Limits | undefined, signal?: AbortSignal): Promise<WorkerResponse>;
  /**
   * Calls entrypoint `entry`'s connect(socket) handler with `socket`, an inbound connection's
   * worker end; `onOpen` once the worker holds it. Resolves when the handler's invocation ends.
   */
  connect(entry: string, socket: HostSocket, localAddress: string | undefined, props: unknown, limits: Limits | undefined, onOpen?: () => void): Promise<void>;
}

/** One worker of a backend (named or anonymous), started on first use and after every eviction. */
export interface BackendWorker {
  /** The running worker, starting it (calling getCode) when it is not, for the call `cause`. */
  acquire(cause: StartCause): Promise<Invocable>;
  /** Revokes a host capability earlier passed to this worker; false if it was not passed. */
  revoke(capability: object): boolean;
  /** Ends the worker now; a later acquire() starts it again. */
  dispose(): void;
}

export interface WorkerLoaderStats {
  liveWorkers: number;
  warmSandboxes: number;
  /** Process isolation: children alive and restarted so far. */
  processes?: { alive: number; restarts: number };
  /** Thread isolation: threads alive and restarted so far. */
  threads?: { alive: number; restarts: number };
}

export interface WorkerBackend {
  /** The worker with this id (one per id while it is referenced), or a new anonymous one. */
  worker(id: string | undefined, getCode: GetCode): BackendWorker;
  /** Live workers and warm sandboxes, for monitoring. */
  readonly stats: WorkerLoaderStats;
  /** Ends every worker; pending calls reject with WorkerDisposedError. Idempotent. */
  close(): Promise<void>;
}
