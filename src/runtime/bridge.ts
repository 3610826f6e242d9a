// The isolate's only line to the host: one fire-and-forget callback (`post`) out, and the
// entry functions in index.ts that the host calls in. Replies to `post` come back via settle().

import { errorFromRecord } from "../protocol/errors.ts";
import { Op } from "../protocol/ops.ts";
import { primordials } from "./primordials.ts";

const { Error, Map, MapPrototypeDelete, MapPrototypeGet, MapPrototypeSet, Promise, ReflectApply, ObjectFreeze } = primordials;

export { Op };

type Post = (op: Op, a?: unknown, b?: unknown, c?: unknown, d?: unknown) => void;

let post: Post = () => {
  throw new Error("islet runtime used before setup");
};

let posted = 0;

export function setPost(fn: Post): void {
  post = (op, a, b, c, d) => {
    posted++;
    fn(op, a, b, c, d);
  };
}

/**
 * Messages posted so far. A result carries it: isolated-vm may deliver a call's result to the host
 * before the posts made just before it (a log, say), and the host waits for them to be counted.
 */
export function postCount(): number {
  return posted;
}

export function send(op: Op, a?: unknown, b?: unknown, c?: unknown, d?: unknown): void {
  post(op, a, b, c, d);
}

/**
 * The host's invocation this sandbox runs code for now (0 before any): set by each entry that
 * starts or resumes one (dispatch, invoke, drain; settle and fire with the invocation that made
 * the request or set the timer), and kept while the microtasks that entry queued run, which all
 * run before the host's next entry. Several calls of one worker (a facet's) can be in flight at
 * once: a log line goes to the trace event of the call whose code made it (console.ts). What
 * runs in a continuation several calls share is attributed to the latest of them to resume it.
 */
let current = 0;

export function currentInvocation(): number {
  return current;
}

/** An entry of the host's runs for invocation `id` (negative ids are the sandbox's own loopback calls: not the host's). */
export function enterInvocation(id: unknown): void {
  if (typeof id === "number" && id > 0) current = id;
}

/**
 * What a request's promise resolves to: the host's answer in a box without a prototype. Resolving
 * a promise with an object looks up its `then`, which user code may have put on Object.prototype:
 * it would be handed the host's answer (bytes, a fetch's response record) and could replace it.
 */
export interface Answer {
  readonly value: unknown;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** The invocation that made the request: its answer resumes that invocation's code. */
  invocation: number;
}

const pending = new Map<number, Pending>();
let nextCallId = 1;

/** Sends a request to the host and returns a promise settled when the host answers. */
export function request(op: Op, a?: unknown, b?: unknown, c?: unknown): Promise<Answer> {
  return cancellableRequest(op, a, b, c).promise;
}

/** A request whose answer can be given up on: `abandon` rejects it now and ignores the host's answer. */
export function cancellableRequest(op: Op, a?: unknown, b?: unknown, c?: unknown): { callId: number; promise: Promise<Answer>; abandon(reason: unknown): void } {
  const callId = nextCallId++;
  let rejectNow!: (reason: unknown) => void;
  const promise = new Promise<Answer>((resolve, reject) => {
    rejectNow = reject;
    MapPrototypeSet(pending, callId, { resolve, reject, invocation: current });
    try {
      post(op, callId, a, b, c);
    } catch (error) {
      MapPrototypeDelete(pending, callId);
      reject(error);
    }
  });
  return {
    callId,
    promise,
    abandon(reason) {
      if (MapPrototypeDelete(pending, callId)) rejectNow(reason);
    },
  };
}

export function settle(callId: number, ok: number, payload: unknown): void {
  const entry = MapPrototypeGet(pending, callId);
  if (entry === undefined) return;
  MapPrototypeDelete(pending, callId);
  current = entry.invocation;
  if (ok === 1) entry.resolve({ __proto__: null, value: payload } as Answer);
  else entry.reject(errorFromRecord(payload));
}

/**
 * isolated-vm's Reference to the host's blocking-call function (engine/sandbox.ts). It is kept in
 * this closure only: from a Reference, code could walk to host objects (`getSync`), so user code
 * must never hold it. Its method is taken now, before user code can touch Reference.prototype,
 * and the options objects have no prototype, so no getter user code put on Object.prototype is
 * read as a transfer option.
 */
export interface BlockingReference {
  applySyncPromise(receiver: undefined, args: unknown[], options: object): unknown;
}

let blockingRef: BlockingReference | undefined;
let applySyncPromise: BlockingReference["applySyncPromise"] | undefined;
const blockingOptions = ObjectFreeze({
  __proto__: null,
  arguments: ObjectFreeze({ __proto__: null, copy: true }),
});

export function setBlocking(ref: BlockingReference): void {
  // Once, from the host, before user code can have run: never replaced afterwards.
  if (blockingRef !== undefined) return;
  blockingRef = ref;
  applySyncPromise = ref.applySyncPromise;
}

/**
 * Sends a request and waits for the host's answer with the isolate's thread blocked (the host's
 * thread goes on): synchronous capability calls, such as a facet's storage. Only inside a call
 * the host made asynchronously (isolated-vm refuses it on the host's own thread). It names the
 * invocation whose code makes it, as a log line does: the rows a storage call reads and writes
 * go to that call's trace event.
 */
export function requestBlocking(op: Op, a?: unknown, b?: unknown, c?: unknown): unknown {
  if (blockingRef === undefined || applySyncPromise === undefined) {
    throw new Error('Synchronous storage is not available here: facets run in isolation "isolate" or "process", not "thread" (isolated-vm waits for a host promise only on a process\'s main thread).');
  }
  posted++;
  const reply = ReflectApply(applySyncPromise, blockingRef, [undefined, [op, a, b, c, current], blockingOptions]) as [number, unknown];
  if (reply[0] === 1) return reply[1];
  throw errorFromRecord(reply[1]);
}
