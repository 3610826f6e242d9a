// What a failed call into a worker's sandbox becomes for the host's caller: a limit's error when
// the sandbox was killed, WorkerDisposedError when it was disposed, a DataCloneError when a copy
// across the boundary failed on this side, and otherwise the sandbox's own error with its name and
// message (never its value's text, never as a raw object). Used by the invocation loop
// (worker.ts) and by the response bodies it streams (response-body.ts, through translate).

import { DataCloneError, IsletError, limitErrorFor, WorkerDisposedError } from "../errors.ts";
import type { DeathReason } from "../engine/sandbox.ts";
import { SandboxDiedError } from "../engine/sandbox.ts";
import { errorToRecord } from "../protocol/errors.ts";
import { isStackOverflow } from "../protocol/wire.ts";
import { errorFromSandbox } from "../rpc/peer.ts";
import { cloneFailureReason, isSandboxError } from "../rpc/errors.ts";

/** A failure of a call into the sandbox (or of its sandbox), as the caller sees it. */
export function translateCallError(error: unknown): Error {
  if (error instanceof SandboxDiedError) return limitOrDisposed(error.reason, "during the call");
  // A sandbox's own error keeps its name and message, whatever they say: only a failed copy
  // (isolated-vm's own error, made on this side) becomes a DataCloneError (findings5/03).
  if (isSandboxError(error)) return error as Error;
  if (error instanceof Error) {
    if (!madeByCopy(error)) return error;
    // "illegal access": isolated-vm 7 runs no JavaScript while it copies, so a getter (or a host
    // object whose copy needs Node, like its DOMException) stops the copy instead of running.
    if (/illegal access/.test(error.message)) {
      return new DataCloneError("A value could not be copied across the sandbox boundary: it holds a getter or an object that cannot be copied without running code.");
    }
    if (/could not be cloned|#<.*> could not be|DataCloneError/.test(error.message)) {
      return new DataCloneError(`A value could not be copied across the sandbox boundary: ${cloneFailureReason(error.message)}`);
    }
    return error;
  }
  return new Error(String(error));
}

/**
 * A call into the sandbox that failed outside the handler's own try: the result could not be
 * copied out (V8's clone refused it, or a getter threw while it was read), or a promise was
 * rejected with no handler (isolated-vm fails the call with it). The sandbox's value becomes an
 * error with its name and message, as a thrown one does; nothing of it is kept raw.
 */
export function fromSandboxCall(error: unknown): unknown {
  if (error instanceof SandboxDiedError || error instanceof IsletError) return error;
  // isolated-vm 7 throws the bare string "illegal access" when a copy would have to run code (a
  // getter). A sandbox could reject with that same string (an unhandled rejection fails the call
  // with its value), and it gets only this fixed message for it.
  if (error === "illegal access") {
    return new DataCloneError("A value could not be copied across the sandbox boundary: it holds a getter or an object that cannot be copied without running code.");
  }
  // Only V8's own refusal, made on this side, is a DataCloneError: the sandbox's errors keep
  // their name and message, whatever they say (findings5/03); the value's text is never quoted (findings5/02).
  if (error instanceof Error && madeByCopy(error)) {
    if (isStackOverflow(error)) return new DataCloneError(`A value could not be copied across the sandbox boundary: ${error.message}`);
    if (/could not be cloned/.test(error.message)) return new DataCloneError(`A value could not be copied across the sandbox boundary: ${cloneFailureReason(error.message)}`);
  }
  return errorFromSandbox(errorToRecord(error));
}

/**
 * Whether `error` was made on this side by isolated-vm (a copy that failed), not sent by the
 * sandbox: whatever the sandbox throws or leaves rejected crosses with isolated-vm's
 * "(<isolated-vm boundary>)" stack frame added, and its own stack before it, whatever its message.
 */
function madeByCopy(error: Error): boolean {
  if (error instanceof IsletError) return false;
  let stack: unknown;
  try {
    stack = error.stack;
  } catch {
    return false;
  }
  return typeof stack === "string" && !stack.includes("<isolated-vm boundary>");
}

/** isolated-vm's rejection when the isolate's promise was garbage-collected unsettled. */
export function isAbandoned(error: unknown): boolean {
  return error instanceof Error && !(error instanceof IsletError) && error.message === "Promise was abandoned";
}

/** A result the sandbox could not copy out (its runtime says why). */
export function resultCloneError(record: unknown): DataCloneError {
  const message = (record as { message?: unknown } | null)?.message;
  return new DataCloneError(`The result could not be copied across the sandbox boundary: ${typeof message === "string" ? message : "unknown reason"}`);
}

/** The error of a sandbox that died for `reason`: its limit's, or WorkerDisposedError. */
export function limitOrDisposed(reason: DeathReason, when: string): Error {
  switch (reason) {
    case "exceededCpu":
      return limitErrorFor(reason, `The worker exceeded its CPU time limit ${when}; its isolate was terminated.`);
    case "exceededMemory":
      return limitErrorFor(reason, `The worker exceeded its memory limit ${when}; its isolate was terminated.`);
    case "exceededWall":
      return limitErrorFor(reason, `The worker exceeded its wall-clock time limit ${when}; its isolate was terminated.`);
    default:
      return new WorkerDisposedError(`The worker was disposed ${when === "earlier" ? "" : when + " "}and can no longer be called.`.replace("  ", " "));
  }
}

