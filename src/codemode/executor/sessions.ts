// Code Mode sessions: storage that outlives one execution, so an agent can keep intermediate
// results between steps. Each session is its own SQLite database (src/storage), named by the
// session id (hashed, never a path), in the executor's storage process: SQL the code writes
// cannot be interrupted, so it runs in a child process that is killed when a call passes its
// deadline, never on the host's thread. The code reaches its session through one RpcTarget in its
// env, exposed as the global `session`: asynchronous get/put/delete/list over the session's KV and
// sql() over its tables. Values cross the boundary as copies, both ways.
//
// One call of a session runs at a time, the rest wait here; when the execution ends, its calls
// still waiting are dropped, so a finished execution leaves at most one call's work behind.

import { StorageProcess } from "../../storage/storage-process.ts";
import { countObjects } from "../../storage/weigh.ts";
import { serialize } from "node:v8";
import type { ListOptions } from "../../storage/storage.ts";
import { RpcTarget } from "../../rpc/rpc-target.ts";
import { CodeModeError } from "../errors.ts";

export const SESSION_BINDING = "__codemodeSession";
/** A session id is a string of 1 to 256 characters. */
export const MAX_SESSION_ID_CHARS = 256;
/** Entries one list() call may hand back: a session is scratch space, not a bulk export. */
export const MAX_SESSION_LIST = 10_000;
/**
 * What one session call may carry, either way: the host serializes a put's value and decodes every
 * answer on its own thread (20 list()ed values of 100,000 empty objects each held it 3.3 s), so a
 * value or answer is at most 1 MiB and 10,000 objects, weighed before the host decodes it
 * (about 15 ms of the host's thread at most).
 */
export const MAX_SESSION_BYTES = 1024 * 1024;
export const MAX_SESSION_OBJECTS = 10_000;

export interface SessionStorageOptions {
  /** Where sessions' databases live; omitted: a temporary directory, removed when the executor closes. */
  dir?: string;
  /** The most one session may store, in MiB. Default 64. */
  storageMb?: number;
  /** The longest one session call (a query, a put) may run before the storage process is restarted. Default 2,000 ms. */
  callTimeoutMs?: number;
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

  constructor(storage: StorageProcess, id: string) {
    super();
    this.#storage = storage;
    this.#id = id;
  }

  #call(op: string, args: unknown[]): Promise<unknown> {
    const run = async () => {
      if (this.#ended) throw new CodeModeError("The execution has ended.");
      return this.#storage.call(this.#id, op, args);
    };
    const result = this.#tail.then(run, run);
    this.#tail = result.catch(() => {});
    return result;
  }

  get(key: unknown) {
    return this.#call("get", [key]);
  }

  put(key: unknown, value: unknown) {
    if (value === undefined) throw new TypeError("session.put: undefined cannot be stored (delete the key instead)");
    if (countObjects(value, MAX_SESSION_OBJECTS) > MAX_SESSION_OBJECTS) throw new RangeError(`session.put: a value holds at most ${MAX_SESSION_OBJECTS} objects`);
    // Serialized once, here, and stored as these bytes: the storage process never rebuilds it.
    let bytes: Uint8Array;
    try {
      bytes = serialize(value);
    } catch (error) {
      throw new DOMException(`session.put: the value could not be cloned: ${(error as Error).message}`, "DataCloneError");
    }
    if (bytes.byteLength > MAX_SESSION_BYTES) throw new RangeError(`session.put: a value is at most ${MAX_SESSION_BYTES} bytes serialized`);
    return this.#call("putBytes", [key, bytes]);
  }

  delete(key: unknown) {
    return this.#call("delete", [key]);
  }

  async list(options?: unknown) {
    const checked = listOptions(options);
    if ((checked.limit ?? Infinity) > MAX_SESSION_LIST) checked.limit = MAX_SESSION_LIST + 1;
    const entries = (await this.#call("list", [checked])) as [string, unknown][];
    if (entries.length > MAX_SESSION_LIST) throw new RangeError(`session.list: at most ${MAX_SESSION_LIST} entries a call; pass a limit and page with startAfter`);
    return new Map(entries);
  }

  async sql(query: unknown, ...bindings: unknown[]) {
    const { rows } = (await this.#call("sql", [query, bindings])) as { rows: unknown[] };
    return rows;
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
      maxAnswerBytes: MAX_SESSION_BYTES,
      maxAnswerObjects: MAX_SESSION_OBJECTS,
    });
  }

  /** The binding for session `id` for one execution, checked; end() it when the execution ends. */
  binding(id: unknown): { target: RpcTarget; end(): void } {
    if (typeof id !== "string" || id.length === 0 || id.length > MAX_SESSION_ID_CHARS) {
      throw new CodeModeError(`execute: session must be a string of 1 to ${MAX_SESSION_ID_CHARS} characters`);
    }
    const binding = new SessionBinding(this.#storage, id);
    return { target: binding, end: () => SessionBinding.end(binding) };
  }

  close(): void {
    this.#storage.close();
  }
}
