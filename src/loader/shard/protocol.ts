// The host <-> shard protocol of process and thread isolation. Messages travel over Node's IPC
// channel with `serialization: "advanced"` (process) or a worker thread's MessagePort (thread),
// both V8's structured clone, so Map, Set, Date, typed arrays, bigint and cycles cross as they do
// into an isolate. Both sides send requests (answered once, by id) and notifications (never
// answered). Measured on a 2-core machine: a small request/reply round trip over the IPC channel
// takes about 18 µs at p50, capnweb over the same pipe about 40 µs; capnweb would also add a
// second stub model on top of islet's own.

import { allowSandboxData, cloneFailureReason, sandboxDataKeys } from "../../rpc/errors.ts";
import { DataCloneError, isIsletErrorClass, isletError, SandboxProcessError, SandboxThreadError, WorkerCodeError } from "../../errors.ts";
import { isStackOverflow } from "../../protocol/wire.ts";
import { errorFromRecord, errorToRecord, type ErrorRecord } from "../../protocol/errors.ts";
import type { CommonJsAnalysis } from "../code/commonjs.ts";
import type { Limits } from "../../protocol/limits.ts";
import type { RequestRecord, ResponseRecord } from "../../protocol/records.ts";

/** Outbound response and streamed request bodies one shard may hold open on the host (its loader allows 1,000 per worker); also the worker response bodies a shard keeps for the host. */
export const MAX_OPEN_BODIES = 10_000;

/** Bytes of a request or response body that cross whole when they are all there within one turn of the event loop (as in-process); anything else is pulled a chunk at a time. */
export const EAGER_BODY_BYTES = 256 * 1024;

export const Kind = { Request: 0, Resolve: 1, Reject: 2, Notify: 3 } as const;

export type Message =
  | [kind: typeof Kind.Request, id: number, name: string, payload: unknown]
  | [kind: typeof Kind.Resolve, id: number, value: unknown]
  | [kind: typeof Kind.Reject, id: number, error: WireError]
  | [kind: typeof Kind.Notify, name: string, payload: unknown];

/** An error on the channel: name and message; the class for islet's own errors; a stack only shard -> host. */
export interface WireError extends ErrorRecord {
  /** Set only for errors that were islet's own classes where they were thrown. */
  islet?: boolean;
  module?: string;
  /** A host error the host keeps: when it comes back, the host rethrows the original object. */
  ref?: number;
  exitCode?: number | null;
  signal?: string | null;
  /** The data keys of a host error that a sandbox may see (rpc/errors.ts SANDBOX_ERROR_DATA). */
  sandboxData?: string[];
}

/** The options a shard's in-process WorkerLoader is made with (everything else stays in the host). Limits: as the host validated them; the shard's loader checks them again with the same schema. */
export interface ShardInit {
  limits?: Limits;
  maxWorkers?: number;
  idleTimeoutMs?: number;
  warmPool?: number;
  maxEnvBytes?: number;
}

/** A worker's code as the shard receives it: plain data, env encoded with capabilities cut out. */
export interface CodeMessage {
  compatibilityDate: string;
  compatibilityFlags?: string[];
  allowExperimental?: boolean;
  mainModule: string;
  modules: Record<string, unknown>;
  env: unknown;
  /** The capability id of the worker's globalOutbound in the host, or null (blocked). */
  outbound: number | null;
  /** Whether that globalOutbound has a connect method (cloudflare:sockets' connect() goes through it: "connect"). */
  connect: boolean;
  limits?: Limits;
  /** Whether trace events should be forwarded to the host. */
  tails: boolean;
  /** Whether each invocation's live events should be sent to the host as they happen ("streamOpen", "streamEvent"). */
  streamingTails: boolean;
  /** TypeScript the host transpiled: [normalized name, source, code, mappings, async functions lowered]. */
  typeScript: [string, string, string, string, boolean][];
  /** Modules whose async functions the host lowered (async-lowering.ts): [content key, code, mappings]. */
  lowered: [string, string, string][];
  /** CommonJS the host parsed: [content key, analysis]. */
  commonJs: [string, CommonJsAnalysis][];
  /** json modules' texts: [normalized name, text] (each such module's content is `{ json: null }`). */
  json: [string, string][];
  /**
   * The package specifiers the host prepared: [specifier, bundle name, bundle id, top-level await]
   * or [specifier, error]. The sources are not sent with the code: a shard keeps the bundles it
   * has by id and asks for the others ("packageSources": [worker key, ids] -> sources).
   */
  packages: ([string, string, string, boolean] | [string, string])[];
}

/** A request to a worker's fetch handler as its shard receives it: a body still arriving stays on the host, read by id. */
export interface ShardRequestRecord extends RequestRecord {
  bodyId?: number;
}

/** A globalOutbound's response as a shard receives it: the body stays on the host, read by id. */
export interface ShardResponseRecord extends Omit<ResponseRecord, "body"> {
  body: null;
  bodyId?: number;
}

/** Marks an error rebuilt from the host's WireError with the host's reference to the original. */
const hostRef = Symbol("islet.hostErrorRef");

export function errorToWire(error: unknown, withStack: boolean): WireError {
  const ref = error !== null && typeof error === "object" ? (error as { [hostRef]?: number })[hostRef] : undefined;
  if (ref !== undefined) return { name: "Error", message: "", ref };
  if (!(error instanceof Error)) return { name: "Error", message: typeof error === "string" ? error : "Uncaught non-error value" };
  const out: WireError = errorToRecord(error, withStack);
  const visible = sandboxDataKeys(error);
  if (visible.length > 0) out.sandboxData = visible;
  if (isIsletErrorClass(error)) out.islet = true;
  if (error instanceof SandboxProcessError) Object.assign(out, { islet: true, name: "SandboxProcessError", exitCode: error.exitCode, signal: error.signal });
  if (error instanceof SandboxThreadError) Object.assign(out, { islet: true, name: "SandboxThreadError", exitCode: error.exitCode });
  if (error instanceof WorkerCodeError && error.module !== undefined) out.module = error.module;
  return out;
}

/**
 * Rebuilds an error: islet's own classes as themselves (so `instanceof CpuLimitError` holds across
 * the process or thread hop), anything else as in-process code would see it from a sandbox.
 */
export function errorFromWire(record: unknown, keepStack: boolean): Error {
  const error = errorFromRecord(record, keepStack, isletError);
  const visible = (record as WireError | null)?.sandboxData;
  if (Array.isArray(visible)) allowSandboxData(error, visible.filter((key): key is string => typeof key === "string"));
  return error;
}

/** In a shard: an error from the host that the host can map back to the object it threw. */
export function withHostRef(error: Error, ref: number): Error {
  Object.defineProperty(error, hostRef, { value: ref });
  return error;
}

export interface ChannelHandlers {
  request(name: string, payload: unknown): unknown;
  notify(name: string, payload: unknown): void;
  /** Turns a thrown value into what the other side gets. */
  errorOut(error: unknown): WireError;
  /** Turns a received WireError into the error a pending request rejects with. */
  errorIn(record: WireError): unknown;
}

/** Requests with replies matched by id, and notifications, over a `post` function. */
export class Channel {
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: unknown): void }>();
  private nextId = 1;
  private failure: Error | undefined;

  /**
   * `deferErrors` (a shard's side): an error reply waits one turn of the event loop. When a worker
   * thread is being ended (its heap exhausted, terminate()), the call it was running fails inside
   * the thread with an error of no meaning ("Uncaught null"); the wait lets the thread's end reach
   * the host first, so the caller gets the named error for it instead.
   */
  constructor(
    private readonly post: (message: Message) => void,
    private readonly handlers: ChannelHandlers,
    private readonly deferErrors = false,
  ) {}

  get pendingCount(): number {
    return this.pending.size;
  }

  request(name: string, payload: unknown): Promise<unknown> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      try {
        this.post([Kind.Request, id, name, payload]);
      } catch (error) {
        this.pending.delete(id);
        reject(sendError(error));
      }
    });
  }

  notify(name: string, payload: unknown): void {
    if (this.failure !== undefined) return;
    try {
      this.post([Kind.Notify, name, payload]);
    } catch {
      // A notification that cannot be sent (the other side is gone) has no one to tell.
    }
  }

  receive(message: unknown): void {
    if (!Array.isArray(message)) return;
    switch (message[0]) {
      case Kind.Request:
        return void this.answer(message[1], String(message[2]), message[3]);
      case Kind.Resolve:
      case Kind.Reject: {
        const waiter = this.pending.get(message[1]);
        if (waiter === undefined) return;
        this.pending.delete(message[1]);
        if (message[0] === Kind.Resolve) waiter.resolve(message[2]);
        else waiter.reject(this.handlers.errorIn(message[2] as WireError));
        return;
      }
      case Kind.Notify:
        try {
          this.handlers.notify(String(message[1]), message[2]);
        } catch {
          // Notifications are fire-and-forget on both sides.
        }
    }
  }

  private async answer(id: unknown, name: string, payload: unknown): Promise<void> {
    if (typeof id !== "number") return;
    let reply: Message;
    try {
      reply = [Kind.Resolve, id, await this.handlers.request(name, payload)];
    } catch (error) {
      reply = [Kind.Reject, id, this.handlers.errorOut(error)];
      if (this.deferErrors) await new Promise((resolve) => setImmediate(resolve));
    }
    if (this.failure !== undefined) return;
    try {
      this.post(reply);
    } catch (error) {
      // The value could not be copied: the caller gets that instead of the value.
      try {
        this.post([Kind.Reject, id, this.handlers.errorOut(sendError(error))]);
      } catch {
        // The channel itself is gone; the other side fails its pending requests on its own.
      }
    }
  }

  /** Every pending request rejects with `error`, and so does every later one. */
  fail(error: Error): void {
    if (this.failure === undefined) this.failure = error;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}

function sendError(error: unknown): unknown {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  // V8's serializer recurses: a value nested deeper than this thread's stack overflows it while
  // being copied (a worker thread's stack is smaller than the isolate's), as it does in-process.
  if (isStackOverflow(error)) return new DataCloneError("A value could not be copied across the process or thread boundary: it is nested too deeply.");
  if (/could not be cloned|DataCloneError|Unserializable|cannot be serialized/i.test(text)) {
    return new DataCloneError(`A value could not be copied across the process or thread boundary: ${cloneFailureReason(error instanceof Error ? error.message : text)}`);
  }
  return error;
}
