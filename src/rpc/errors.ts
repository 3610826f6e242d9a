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
 * A sandbox's error as a host error: its name, and its message and stack cut to
 * MAX_ERROR_MESSAGE_CHARS and MAX_ERROR_STACK_CHARS, so an 8 MB message is not kept (in the
 * caller's error, the trace event, a server's answer) at that size.
 */
export function errorFromSandbox(record: unknown): Error {
  if (record === null || typeof record !== "object") return errorFromRecord(record, true);
  const r = record as Record<string, unknown>;
  return errorFromRecord({ name: r.name, message: cut(r.message, MAX_ERROR_MESSAGE_CHARS), stack: cut(r.stack, MAX_ERROR_STACK_CHARS) }, true);
}

/** A host error as a sandbox gets it: name and message only (errorToRecord without the stack). */
export function errorForSandbox(error: unknown): ErrorRecord {
  if (error instanceof Error) return errorToRecord(error, false);
  return { name: "Error", message: typeof error === "string" ? error : "The host rejected the call." };
}
