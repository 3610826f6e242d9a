// The runtime's entry functions, which the host calls by name through the one function the
// runtime's boot() returns (src/runtime/index.ts; called by src/engine/sandbox.ts), and what an
// invocation of the worker's code settles with.

import type { ErrorRecord } from "./errors.ts";

export type EntryName =
  | "setEnv"
  | "setMain"
  | "putData"
  | "parseJson"
  | "putSourceMap"
  | "settle"
  | "fire"
  | "idle"
  | "release"
  | "dispatch"
  | "invoke"
  | "drain"
  | "bodyPull"
  | "bodyCancel"
  | "abortRequest"
  | "linkBridge"
  | "receiveChunk"
  | "awaitMain"
  | "ping"
  | "setBlocking";

/**
 * [ok, value or error, waitUntil pending, posts]: ok is 1, 0 when the handler threw, 2 when its
 * result could not be encoded for the boundary; posts is the runtime's postCount() when the result
 * was made (the host waits for the posts made before it: isolated-vm may deliver them later).
 */
export type Result = [ok: 1, value: unknown, waitUntil: number, posts?: number] | [ok: 0 | 2, error: ErrorRecord, waitUntil: number, posts?: number];
