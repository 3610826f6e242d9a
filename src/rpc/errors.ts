// Errors crossing the boundary. From a sandbox: rebuilt with the same name and message, and the
// sandbox's own stack (which names only its modules). To a sandbox: name and message only, so no
// host path or stack frame leaks in.

import { errorFromRecord, errorToRecord, type ErrorRecord } from "../protocol/errors.ts";

/** Characters of a sandbox error's message, and of its stack, that reach the host. */
export const MAX_ERROR_MESSAGE_CHARS = 16 * 1024;
export const MAX_ERROR_STACK_CHARS = 16 * 1024;

function cut(text: unknown, max: number): unknown {
  return typeof text === "string" && text.length > max ? `${text.slice(0, max)}… [islet: ${text.length - max} more characters cut]` : text;
}

/**
 * Errors errorFromSandbox made: their name and message are the sandbox's words. The host's own
 * translations (a failed copy's message becoming a DataCloneError,
 * src/loader/invocation-errors.ts) must never apply to them, or a sandbox could forge islet's
 * errors by wording (findings5/03).
 */
const fromSandbox = new WeakSet<Error>();

/**
 * A sandbox's error as a host error: its name, and its message and stack cut to
 * MAX_ERROR_MESSAGE_CHARS and MAX_ERROR_STACK_CHARS, so an 8 MB message is not kept (in the
 * caller's error, the trace event, a server's answer) at that size.
 */
export function errorFromSandbox(record: unknown): Error {
  let error: Error;
  if (record === null || typeof record !== "object") error = errorFromRecord(record, true);
  else {
    const r = record as Record<string, unknown>;
    error = errorFromRecord({ name: r.name, message: cut(r.message, MAX_ERROR_MESSAGE_CHARS), stack: cut(r.stack, MAX_ERROR_STACK_CHARS), data: r.data }, true);
  }
  fromSandbox.add(error);
  return error;
}

export function isSandboxError(error: unknown): boolean {
  return typeof error === "object" && error !== null && fromSandbox.has(error as Error);
}

/**
 * Why a structured clone (V8's serializer: isolated-vm's copy, a thread's postMessage, the process
 * channel's codec) refused a value, without the value's text. V8 words it "<value> could not be
 * cloned." and for a function <value> is the function's source: a host class instance with an
 * arrow-function field would hand the sandbox that code, with any path or key literal in it
 * (findings5/02). So only the kind is named: an object's class (V8's "#<Name>"), a symbol, a
 * function; any other wording becomes a generic reason.
 */
export function cloneFailureReason(message: string): string {
  const object = /^#<([A-Za-z_$][\w$]{0,99})> could not be cloned\.?$/.exec(message);
  if (object !== null) return `#<${object[1]}> could not be cloned.`;
  if (/^An ArrayBuffer is detached and could not be cloned\.?$/.test(message)) return "An ArrayBuffer is detached and could not be cloned.";
  if (/^Symbol\(/.test(message)) return "A symbol could not be cloned.";
  if (/could not be cloned\.?$/.test(message)) return "A function could not be cloned.";
  return "it holds a value that cannot be copied.";
}

/**
 * A host error class that lists here the properties a sandbox may see (Code Mode's HttpError:
 * `["status"]`, McpToolError: `["code"]`) has those crossing as data when their values are
 * primitives. Any other host error crosses as name and message only: its own properties may name
 * host paths, addresses or secrets (Node's `path`, `address`; a client's `config`).
 */
export const SANDBOX_ERROR_DATA: unique symbol = Symbol("islet.sandboxErrorData");

/** The properties of a host error a sandbox may see (see SANDBOX_ERROR_DATA). */
export function sandboxDataKeys(error: object): string[] {
  const keys = (error as { [SANDBOX_ERROR_DATA]?: unknown })[SANDBOX_ERROR_DATA];
  return Array.isArray(keys) ? keys.filter((key): key is string => typeof key === "string").slice(0, 16) : [];
}

/** Marks an error rebuilt on another hop (a shard) as its original was marked. */
export function allowSandboxData(error: Error, keys: readonly string[]): void {
  if (keys.length > 0) Object.defineProperty(error, SANDBOX_ERROR_DATA, { value: [...keys], configurable: true });
}

/** A host error as a sandbox gets it: name, message and the data its class allows (errorToRecord without the stack). */
export function errorForSandbox(error: unknown): ErrorRecord {
  if (error instanceof Error) return errorToRecord(error, false, sandboxDataKeys(error));
  return { name: "Error", message: typeof error === "string" ? error : "The host rejected the call." };
}
