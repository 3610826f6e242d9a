// Code Mode sessions: storage that outlives one execution, so an agent can keep intermediate
// results between steps. Each session is a host Durable Object with its own SQLite database
// (src/storage), named by the session id (hashed, never a path). The code reaches it through one
// RpcTarget in its env, exposed as the global `session`: asynchronous get/put/delete/list over
// the object's KV. Values cross the boundary as copies, both ways.
//
// No SQL: node:sqlite cannot interrupt a statement, and a query from the code runs on the host's
// thread, so one recursive CTE or cross join would hold the host's event loop for as long as it
// likes. Every KV operation here costs at most what the session stores (storageMb).

import { DurableObjectNamespace } from "../../storage/namespace.ts";
import type { ListOptions } from "../../storage/storage.ts";
import { RpcTarget } from "../../rpc/rpc-target.ts";
import { DurableObject } from "../../workers.ts";
import { CodeModeError } from "../errors.ts";

export const SESSION_BINDING = "__codemodeSession";
/** A session id is a string of 1 to 256 characters. */
export const MAX_SESSION_ID_CHARS = 256;
/** Entries one list() call may hand back: a session is scratch space, not a bulk export. */
export const MAX_SESSION_LIST = 10_000;

export interface SessionStorageOptions {
  /** Where sessions' databases live; omitted: in memory, for as long as the executor. */
  dir?: string;
  /** The most one session may store, in MiB. Default 64. */
  storageMb?: number;
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
    if (typeof source.limit !== "number") throw new TypeError("session.list: limit must be a number");
    checked.limit = source.limit;
  }
  return checked;
}

class SessionObject extends DurableObject {
  get(key: unknown) {
    return this.ctx.storage.kv.get(key as string);
  }

  put(key: unknown, value: unknown) {
    this.ctx.storage.kv.put(key as string, value);
  }

  delete(key: unknown) {
    return this.ctx.storage.kv.delete(key as string);
  }

  list(options: unknown) {
    const checked = listOptions(options);
    if ((checked.limit ?? Infinity) > MAX_SESSION_LIST) checked.limit = MAX_SESSION_LIST + 1;
    const entries = new Map(this.ctx.storage.kv.list(checked));
    if (entries.size > MAX_SESSION_LIST) throw new RangeError(`session.list: at most ${MAX_SESSION_LIST} entries a call; pass a limit and page with startAfter`);
    return entries;
  }
}

/** What the code's `session` global calls: one session's storage, nothing else. */
class SessionBinding extends RpcTarget {
  readonly #object: ReturnType<DurableObjectNamespace<SessionObject>["getByName"]>;

  constructor(object: ReturnType<DurableObjectNamespace<SessionObject>["getByName"]>) {
    super();
    this.#object = object;
  }

  get(key: unknown) {
    return this.#object.get(key);
  }

  put(key: unknown, value: unknown) {
    return this.#object.put(key, value);
  }

  delete(key: unknown) {
    return this.#object.delete(key);
  }

  list(options?: unknown) {
    return this.#object.list(options);
  }
}

export class Sessions {
  readonly #namespace: DurableObjectNamespace<SessionObject>;

  constructor(options: SessionStorageOptions = {}) {
    this.#namespace = new DurableObjectNamespace(SessionObject, {
      name: "codemode-sessions",
      ...(options.dir !== undefined ? { storage: { dir: options.dir } } : {}),
      storageMb: options.storageMb ?? 64,
    });
  }

  /** The binding for session `id`, checked. */
  binding(id: unknown): RpcTarget {
    if (typeof id !== "string" || id.length === 0 || id.length > MAX_SESSION_ID_CHARS) {
      throw new CodeModeError(`execute: session must be a string of 1 to ${MAX_SESSION_ID_CHARS} characters`);
    }
    return new SessionBinding(this.#namespace.getByName(id));
  }

  close(): void {
    this.#namespace.close();
  }
}
