// Errors the host can test with `instanceof`. Every limit has its own class so a caller can
// tell "your code was too slow" from "your code threw".

export type Outcome =
  | "ok"
  | "exception"
  | "exceededCpu"
  | "exceededMemory"
  | "exceededWall"
  | "canceled";

export class IsletError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A limit was exceeded; the invocation ended and (except for subrequests) the isolate was discarded. */
export abstract class LimitError extends IsletError {
  abstract readonly limit: "cpuMs" | "memoryMb" | "wallMs" | "subRequests";
  abstract readonly outcome: Outcome;
}

export class CpuLimitError extends LimitError {
  readonly limit = "cpuMs" as const;
  readonly outcome = "exceededCpu" as const;
}

export class MemoryLimitError extends LimitError {
  readonly limit = "memoryMb" as const;
  readonly outcome = "exceededMemory" as const;
}

export class WallTimeLimitError extends LimitError {
  readonly limit = "wallMs" as const;
  readonly outcome = "exceededWall" as const;
}

export class SubrequestLimitError extends LimitError {
  readonly limit = "subRequests" as const;
  readonly outcome = "exception" as const;
}

/**
 * Limits given to the WorkerLoader, getEntrypoint or code mode are malformed (the one rule is in
 * src/protocol/limits.ts). `problems` lists every one, as "limits.cpuMs: must be …"; the message
 * is `${where}: ${problems joined by "; "}`. A WorkerCode's limits throw a WorkerCodeError with
 * the same message and this error as its cause.
 */
export class InvalidLimitsError extends IsletError {
  readonly problems: readonly string[];
  constructor(where: string, problems: readonly string[], options?: ErrorOptions) {
    super(`${where}: ${problems.join("; ")}`, options);
    this.problems = Object.freeze([...problems]);
  }
}

/** The WorkerCode (modules, mainModule, options) is malformed. `module` names the culprit when there is one. */
export class WorkerCodeError extends IsletError {
  readonly module: string | undefined;
  constructor(message: string, module?: string, options?: ErrorOptions) {
    super(module === undefined ? message : `Module "${module}": ${message}`, options);
    this.module = module;
  }
}

/** The worker was disposed, evicted or its loader closed while the call was pending. */
export class WorkerDisposedError extends IsletError {}

/**
 * In `isolation: "process"` mode: the child process running the worker died (crashed, was killed
 * or stopped answering) while the call was pending. The pool restarts the process; the next call
 * starts the worker again. A kind of WorkerDisposedError: the worker is gone either way.
 */
export class SandboxProcessError extends WorkerDisposedError {
  readonly exitCode: number | null;
  readonly signal: string | null;
  constructor(message: string, exit: { exitCode?: number | null; signal?: string | null } = {}, options?: ErrorOptions) {
    super(message, options);
    this.exitCode = exit.exitCode ?? null;
    this.signal = exit.signal ?? null;
  }
}

/**
 * In `isolation: "thread"` mode: the worker thread running the worker ended (was terminated, ran out
 * of its heap or stopped answering) while the call was pending. The pool restarts the thread; the
 * next call starts the worker again. A kind of WorkerDisposedError: the worker is gone either way.
 */
export class SandboxThreadError extends WorkerDisposedError {
  readonly exitCode: number | null;
  constructor(message: string, exit: { exitCode?: number | null } = {}, options?: ErrorOptions) {
    super(message, options);
    this.exitCode = exit.exitCode ?? null;
  }
}

/** A stub (function or RpcTarget passed across the boundary) was used after it was disposed. */
export class StubDisposedError extends IsletError {}

/** A value could not be copied across the boundary. */
export class DataCloneError extends IsletError {}

const limitErrors = { exceededCpu: CpuLimitError, exceededMemory: MemoryLimitError, exceededWall: WallTimeLimitError };

export function limitErrorFor(outcome: "exceededCpu" | "exceededMemory" | "exceededWall", message: string): LimitError {
  return new limitErrors[outcome](message);
}

/**
 * Thrown by a globalOutbound function or policy to refuse a request: the sandbox's fetch() rejects
 * with a TypeError carrying this message (and nothing else of the host's).
 */
export class OutboundError extends IsletError {}
