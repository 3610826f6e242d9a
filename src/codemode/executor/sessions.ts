// Code Mode sessions: storage that outlives one execution, so an agent can keep intermediate
// results between steps. Each session is its own SQLite database (src/storage), named by the
// session id (hashed, never a path), in the executor's storage process: SQL the code writes
// cannot be interrupted, so it runs in a child process that is killed when a call passes its
// deadline, never on the host's thread. The code reaches its session through one RpcTarget in its
// env, exposed as the global `session`: asynchronous get/put/delete/list over the session's KV and
// sql() over its tables. Values cross as JSON text, made and parsed in the sandbox: the host only
// moves strings.
//
// One call of an execution runs at a time, the rest wait here; when the execution ends, its calls
// still waiting are dropped, so a finished execution leaves at most one call's work behind.

import { DEFAULT_STORAGE_PROCESS_MB, StorageProcess } from "../../storage/storage-process.ts";
import type { ListOptions } from "../../storage/storage.ts";
import { RpcTarget } from "../../rpc/rpc-target.ts";
import { CodeModeError } from "../errors.ts";

export const SESSION_BINDING = "__codemodeSession";
/** A session id is a string of 1 to 256 characters. */
export const MAX_SESSION_ID_CHARS = 256;
/** Entries one list() call may hand back: a session is scratch space, not a bulk export. */
export const MAX_SESSION_LIST = 10_000;
/**
 * Characters of JSON one value, and one answer, may hold. Values cross as JSON text made and parsed
 * in the sandbox: the host moves strings only (stored objects it had to rebuild held its thread
 * 3.3 s for one list() before), so the cap bounds memory and copying, not decoding.
 */
export const MAX_SESSION_CHARS = 1024 * 1024;
/** What one sql() call may send: its query and its bindings together, in characters or bytes. */
export const MAX_SESSION_SQL_INPUT = 1024 * 1024;
/** Sessions one executor keeps (each its own database). */
export const DEFAULT_MAX_SESSIONS = 1_000;

export interface SessionStorageOptions {
  /** Where sessions' databases live; omitted: a temporary directory, removed when the executor closes. */
  dir?: string;
  /** The most one session may store, in MiB. Default 64. */
  storageMb?: number;
  /** The longest one session call (a query, a put) may run before the storage process is restarted. Default 2,000 ms. */
  callTimeoutMs?: number;
  /** Sessions kept at most (each its own database); a new one past it is refused. Default 1,000. */
  maxSessions?: number;
  /**
   * The storage process's resident memory, all sessions together, in MiB: past it while a call runs
   * the process is killed and the call fails with StorageMemoryError (Linux; read every 50 ms). Default 512.
   */
  processMemoryMb?: number;
}

/** Only the list options the storage knows, each of its type: the code's object is not trusted. */
function listOptions(options: unknown): ListOptions {
  if (options === undefined || options === null) return {};
  if (typeof options !== "object") throw new TypeError("session.list: options must be an object");
  const source = options as Record<string, unknown>;
  const checked: ListOptions = {};
  for (const key of ["start", "startAfter", "end", "prefix"] as const) {
    const value = source[key];
    if (value === undefined) continue;
    if (typeof value !== "string") throw new TypeError(`session.list: ${key} must be a string`);
    checked[key] = value;
  }
  if (source.reverse !== undefined) checked.reverse = source.reverse === true;
  if (source.limit !== undefined) {
    if (typeof source.limit !== "number" || !Number.isInteger(source.limit) || source.limit <= 0) throw new TypeError("session.list: limit must be a positive integer");
    checked.limit = source.limit;
  }
  return checked;
}

/** One session's calls, one at a time, for one execution. */
class SessionBinding extends RpcTarget {
  readonly #storage: StorageProcess;
  readonly #id: string;
  #tail: Promise<unknown> = Promise.resolve();
  #ended = false;

  readonly #onWrite: (() => void) | undefined;

  constructor(storage: StorageProcess, id: string, onWrite?: () => void) {
    super();
    this.#storage = storage;
    this.#id = id;
    this.#onWrite = onWrite;
  }

  #call(op: string, args: unknown[]): Promise<unknown> {
    // Anything but a read may change the session (sql too: it may be an INSERT).
    if (op !== "getText" && op !== "listText") this.#onWrite?.();
    const run = async () => {
      if (this.#ended) throw new CodeModeError("The execution has ended.");
      return this.#storage.call(this.#id, op, args);
    };
    const result = this.#tail.then(run, run);
    this.#tail = result.catch(() => {});
    return result;
  }

  /** The JSON text stored under `key`, or undefined. */
  get(key: unknown) {
    return this.#call("getText", [key]);
  }

  /** Stores `text`, JSON the sandbox made (the host keeps it as it is). */
  put(key: unknown, text: unknown) {
    if (typeof text !== "string") throw new TypeError("session.put: the value must be JSON data");
    if (text.length > MAX_SESSION_CHARS) throw new RangeError(`session.put: a value is at most ${MAX_SESSION_CHARS} characters of JSON`);
    return this.#call("putText", [key, text]);
  }

  delete(key: unknown) {
    return this.#call("delete", [key]);
  }

  /** JSON text of [key, value] pairs. */
  list(options?: unknown) {
    const checked = listOptions(options);
    if ((checked.limit ?? 0) > MAX_SESSION_LIST) throw new RangeError(`session.list: at most ${MAX_SESSION_LIST} entries a call; pass a limit and page with startAfter`);
    return this.#call("listText", [checked, MAX_SESSION_LIST]);
  }

  /** JSON text of the rows. */
  sql(query: unknown, ...bindings: unknown[]) {
    if (typeof query !== "string") throw new TypeError("session.sql: the query must be a string");
    let size = query.length;
    for (const binding of bindings) {
      size += typeof binding === "string" ? binding.length : binding instanceof ArrayBuffer ? binding.byteLength : ArrayBuffer.isView(binding) ? binding.byteLength : 8;
    }
    if (size > MAX_SESSION_SQL_INPUT) throw new RangeError(`session.sql: a query and its bindings are at most ${MAX_SESSION_SQL_INPUT} characters or bytes together`);
    return this.#call("sqlText", [query, bindings]);
  }

  /** The execution ended: calls still waiting are dropped. Static, so no sandbox can call it. */
  static end(binding: SessionBinding): void {
    binding.#ended = true;
  }
}

export class Sessions {
  readonly #storage: StorageProcess;

  constructor(options: SessionStorageOptions = {}) {
    this.#storage = new StorageProcess({
      ...(options.dir !== undefined ? { dir: options.dir } : {}),
      storageMb: options.storageMb ?? 64,
      callTimeoutMs: options.callTimeoutMs ?? 2_000,
      maxAnswerChars: MAX_SESSION_CHARS,
      maxOpen: 64,
      maxDatabases: options.maxSessions ?? DEFAULT_MAX_SESSIONS,
      memoryMb: options.processMemoryMb ?? DEFAULT_STORAGE_PROCESS_MB,
    });
  }

  /** The binding for session `id` for one execution, checked; end() it when the execution ends. */
  binding(id: unknown, onWrite?: () => void): { target: RpcTarget; end(): void } {
    if (typeof id !== "string" || id.length === 0 || id.length > MAX_SESSION_ID_CHARS) {
      throw new CodeModeError(`execute: session must be a string of 1 to ${MAX_SESSION_ID_CHARS} characters`);
    }
    const binding = new SessionBinding(this.#storage, id, onWrite);
    return { target: binding, end: () => SessionBinding.end(binding) };
  }

  close(): void {
    this.#storage.close();
  }
}
