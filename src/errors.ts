// Errors the host can test with `instanceof`. Every limit has its own class so a caller can
// tell "your code was too slow" from "your code threw".

import type { ErrorConstruct } from "./protocol/errors.ts";

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

/**
 * A Durable Object's storage would grow past its `storageMb`. The statement or write that failed
 * left nothing behind; what the object wrote before it stands.
 */
export class StorageLimitError extends IsletError {}

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

/**
 * islet's error classes by name: the one list of those that keep their class when they cross a
 * process or thread hop (src/loader/shard/protocol.ts), so `instanceof CpuLimitError` holds there
 * as in-process. SandboxProcessError and SandboxThreadError carry their exit too (isletError below).
 */
const isletClasses: Record<string, new (message: string) => IsletError> = {
  CpuLimitError,
  MemoryLimitError,
  WallTimeLimitError,
  SubrequestLimitError,
  WorkerCodeError,
  WorkerDisposedError,
  StubDisposedError,
  DataCloneError,
  OutboundError,
  IsletError,
};

/** Whether `error` is one of islet's own errors that crosses a hop as its class (isletClasses). */
export function isIsletErrorClass(error: unknown): error is IsletError {
  return error instanceof IsletError && Object.prototype.hasOwnProperty.call(isletClasses, error.name);
}

/**
 * The constructor lookup the boundary's error codec takes (src/protocol/errors.ts errorFromRecord)
 * for islet's own errors: a record marked `islet` is rebuilt as its class, with a WorkerCodeError's
 * `module` and a SandboxProcessError's or SandboxThreadError's exit; anything else is left to the codec.
 */
export const isletError: ErrorConstruct = (name, message, record) => {
  if (record.islet !== true) return undefined;
  if (name === "SandboxProcessError") return new SandboxProcessError(message, { exitCode: record.exitCode as number | null | undefined, signal: record.signal as string | null | undefined });
  if (name === "SandboxThreadError") return new SandboxThreadError(message, { exitCode: record.exitCode as number | null | undefined });
  if (!Object.prototype.hasOwnProperty.call(isletClasses, name)) return undefined;
  const error = new isletClasses[name](message);
  if (typeof record.module === "string") Object.defineProperty(error, "module", { value: record.module, enumerable: true });
  return error;
};
