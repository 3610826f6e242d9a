// Entry module of the in-isolate runtime. Its exports are reachable only by the host (through the
// module namespace it keeps) and by the synthetic `cloudflare:workers` module; user modules cannot
// import it. Every function the host calls returns plain, copyable values.

import { currentInvocation, enterInvocation, postCount, setBlocking, setPost, settle as settleRequest, type BlockingReference } from "./bridge.ts";
import { encodeForHost, exportedCap, exporter, importer, releaseExport, setHostCallBudget, table } from "./caps.ts";
import { targetStub } from "../protocol/cap-table.ts";
import { setClock, startClock } from "./clock.ts";
import { addSourceMap } from "./source-maps.ts";
import { installGlobals, installLateGlobals, setMemoryLimit } from "./globals/install.ts";
import { captureLateIntrinsics } from "../protocol/clonable.ts";
import { captureLateSnapshotIntrinsics } from "../protocol/snapshot.ts";
import { fireTimer, forgetTimers } from "./globals/timers.ts";
import { flushLogTail, refillLogBudget } from "./globals/console.ts";
import { runFinalizationCleanups } from "./globals/finalization.ts";
import { receiveChunk, setChunkLoader, setConnectAllowed, socketConnect as platformSocketConnect, streams, web } from "./chunks.ts";
import { enableNodeCompat, nodeModule } from "./node/setup.ts";
import { enableAsyncContext, runInRootContext } from "./async-context.ts";
import type { RequestRecord } from "./web/fetch.ts";
import { decode } from "../protocol/wire.ts";
import { errorToRecord, type ErrorRecord } from "../protocol/errors.ts";
import { DurableObject, RpcTarget, WorkerEntrypoint, type ExecutionContext } from "./workers.ts";
import { facetAlarm, facetExportName, facetReceiver, isFacetEntry, setFacetStorage, type OwnClass } from "./facet.ts";
import { FACET_ALARM_METHOD, FACET_STORAGE_BINDING } from "../protocol/facets.ts";
import { captureLatePrimordials, primordials } from "./primordials.ts";
import type { EntryName, Result } from "../protocol/entries.ts";
import type { ByteReader } from "./web/streams/bytes.ts";

const {
  ArrayIsArray,
  ArrayPrototypePush,
  Error,
  JSONParse,
  Map,
  MapPrototypeClear,
  MapPrototypeDelete,
  MapPrototypeGet,
  MapPrototypeHas,
  MapPrototypeSet,
  SafeMapIterator,
  ObjectAssign,
  ObjectCreate,
  ObjectFreeze,
  ObjectKeys,
  ObjectPrototype,
  ObjectPrototypeHasOwnProperty,
  ObjectSetPrototypeOf,
  Promise,
  PromisePrototypeThen,
  PromiseResolve,
  ReflectApply,
  Set,
  SetPrototypeHas,
  TypeError,
  Uint8ArrayCopyRange,
  ViewByteLength,
  WeakMap,
  WeakMapPrototypeGet,
  WeakMapPrototypeSet,
} = primordials;

export { DurableObject, RpcTarget, WorkerEntrypoint };

/** The worker's env, also importable as `import { env } from "cloudflare:workers"`. */
let env: Record<string, unknown> = {};
const envListeners: ((value: Record<string, unknown>) => void)[] = [];


// Captured at load: user code may replace or delete the globals.
const isArray = ArrayIsArray;

let main: Record<string, unknown> = {};
const moduleData = new Map<string, Uint8Array>();
/** JSON modules' values, parsed by parseJson before any module runs, each taken once by its module. */
const moduleJson = new Map<string, unknown>();
const waitUntils = new Map<number, Promise<unknown>[]>();


/** What the host may call, by name, through the one function boot() returns (the list: src/protocol/entries.ts). */
export type { EntryName };

let prepared = false;

/**
 * Installs the sandbox's globals, once. The host runs it when it makes the core's startup snapshot
 * (engine/runtime-code.ts), so a sandbox made from the snapshot starts with them installed; else
 * boot() runs it. It reads nothing of one sandbox: the globals take the limit, the host's callbacks
 * and the clock's time from what boot() sets, when they are used.
 */
export function prepare(): void {
  if (prepared) return;
  prepared = true;
  installGlobals(globalThis as unknown as Record<string, unknown>);
}

/**
 * Sets the sandbox up and returns the host's single way in. One function rather than a Reference
 * per export: each Reference costs the host a synchronous call into the new isolate to fetch.
 * `hostCall` answers synchronous host services; the service CHUNK_SERVICE runs a runtime chunk.
 */
export function boot(
  post: (op: number, a?: unknown, b?: unknown, c?: unknown, d?: unknown) => void,
  hostCall: Parameters<typeof setChunkLoader>[0],
  now: number,
  memoryMb: number,
): (name: EntryName, a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown, f?: unknown, g?: unknown) => unknown {
  setPost(post);
  setChunkLoader(hostCall);
  setClock(now);
  setMemoryLimit(memoryMb);
  prepare();
  // What V8 adds to a context only when it is made was not there when a core evaluated into the
  // snapshot captured its intrinsics and installed its globals: captured and handled now, before
  // any user code (for a core run in this context, again: the same values).
  captureLatePrimordials();
  captureLateIntrinsics();
  captureLateSnapshotIntrinsics();
  installLateGlobals(globalThis as unknown as Record<string, unknown>);
  setHostCallBudget(memoryMb);
  return (name, a, b, c, d, e, f, g) => {
    const entry = entries[name] as (...args: unknown[]) => unknown;
    if (SetPrototypeHas(immediateEntries, name) || SetPrototypeHas(selfDeferredEntries, name)) return entry(a, b, c, d, e, f, g);
    if (typeof entry !== "function") throw new TypeError(`islet: no runtime entry named ${name}`);
    // Every other entry runs as the first microtask of the host's call, not in place. isolated-vm
    // ends each synchronous host call into an isolate it is not already inside with a microtask
    // checkpoint, and a sync callback (hostCall) from an isolate running asynchronously lets go of
    // it: so the host's compile and run of a runtime chunk, made during a first touch, ran every
    // microtask pending then, in the middle of the user's synchronous code. V8 runs no nested
    // checkpoint while microtasks are already running, so user code that runs only inside
    // microtasks (here, and the top level of a worker's one module of code, deferred by the
    // engine: engine/sandbox.ts, DEFER_PREFIX) never sees one.
    return new Promise<unknown>((resolve, reject) => void later(entry, a, b, c, d, e, f, resolve, reject));
  };
}

/**
 * Runs a deferred entry one microtask from now (an await of undefined reads nothing user code can
 * replace) and settles its caller's promise with what it answers: a primitive, or one of the
 * runtime's promises, followed with the captured then (resolving with it would look up `then`).
 */
async function later(
  entry: (...args: unknown[]) => unknown,
  a: unknown,
  b: unknown,
  c: unknown,
  d: unknown,
  e: unknown,
  f: unknown,
  resolve: (value: unknown) => void,
  reject: (error: unknown) => void,
): Promise<void> {
  await undefined;
  try {
    const result = entry(a, b, c, d, e, f);
    if (result === null || typeof result !== "object") resolve(result);
    else PromisePrototypeThen(result as Promise<unknown>, resolve, reject);
  } catch (error) {
    reject(error);
  }
}

/**
 * Entries that run only islet's code, in place: those the host calls synchronously (applySync),
 * and ping. The rest may run user code and are deferred to a microtask (see boot).
 */
const immediateEntries = new Set<EntryName>(["setEnv", "setMain", "putData", "putSourceMap", "receiveChunk", "setBlocking", "ping"]);

/**
 * The busiest entries defer themselves: each is an async function whose first step is an await
 * of undefined, which costs less than boot's wrapper (a promise, and the captured then on the
 * entry's own promise). Anything before that await runs in place, so it must not be user code.
 */
const selfDeferredEntries = new Set<EntryName>(["dispatch", "invoke", "bodyPull", "settle", "fire", "abortRequest"]);

/** The namespace of `cloudflare:sockets` (its generated module re-exports `connect`). */
function socketsModule(): { connect(address: unknown, options?: unknown): unknown } {
  return ObjectFreeze({
    __proto__: null,
    connect(address: unknown, options?: unknown): unknown {
      return platformSocketConnect(address, options);
    },
  }) as never;
}

function setEnv(encodedEnv: unknown, now: number, nodeCompat = false, asyncContext = false, canConnect = false): void {
  startClock(now);
  setConnectAllowed(canConnect === true);
  const value = decode(encodedEnv, importer);
  env = value !== null && typeof value === "object" ? (value as Record<string, unknown>) : {};
  // A facet's storage capability is the runtime's, not the user's: taken out before user code sees env.
  if (ObjectPrototypeHasOwnProperty(env, FACET_STORAGE_BINDING)) {
    setFacetStorage(env[FACET_STORAGE_BINDING]);
    delete env[FACET_STORAGE_BINDING];
  }
  if (nodeCompat) enableNodeCompat(globalThis as unknown as Record<string, unknown>, env);
  // The worker imports node:async_hooks (its async functions were lowered): before any of its code runs.
  if (asyncContext) enableAsyncContext();
  for (let i = 0; i < envListeners.length; i++) envListeners[i](env);
}

/** Hands the `islet:runtime` bridge module what it re-exports (see engine/sandbox.ts). */
function linkBridge(link: (runtime: unknown) => void): void {
  link({
    WorkerEntrypoint,
    RpcTarget,
    DurableObject,
    takeData,
    takeJson,
    mainReady,
    nodeModule,
    socketsModule,
    onEnv(listener: (value: Record<string, unknown>) => void) {
      ArrayPrototypePush(envListeners, listener);
      listener(env);
    },
  });
}

/** Returns the posts made so far (the modules' top-level logs among them), which the host waits for. */
function setMain(namespace: Record<string, unknown>): number {
  main = namespace;
  return postCount();
}

let resolveMain!: () => void;
const mainSettled = new Promise<void>((resolve) => (resolveMain = resolve));

/** Called by the entry module once the main module (and its top-level await) has finished. */
function mainReady(namespace: Record<string, unknown>): void {
  main = namespace;
  resolveMain();
}

/** Resolves once the main module has settled, to the posts made by then (see setMain). */
function awaitMain(): Promise<number> {
  return PromisePrototypeThen(mainSettled, postCount) as Promise<number>;
}

/** Source-map mappings of a module transpiled from TypeScript, so its stack frames map back. */
function putSourceMap(name: string, mappings: string): void {
  addSourceMap(name, mappings);
}

function putData(name: string, bytes: Uint8Array): void {
  MapPrototypeSet(moduleData, name, bytes);
}

/**
 * Parses a JSON module's text here, in the sandbox, with the JSON.parse captured at boot (never the
 * global), under the worker's cpuMs and memory limits: the host hands over only the text (a copy)
 * and parses nothing (findings18/01: a 36 MB module parsed and serialized on the host's thread held
 * its event loop 3–5 s). V8's parser is iterative, so deep nesting costs no stack. Answers null,
 * or the parser's message for text that is not JSON.
 */
function parseJson(name: string, text: string): string | null {
  let value: unknown;
  try {
    value = JSONParse(text);
  } catch (error) {
    // The parser's own SyntaxError (no user code has run in this sandbox yet).
    return typeof (error as { message?: unknown }).message === "string" ? (error as { message: string }).message : "not valid JSON";
  }
  MapPrototypeSet(moduleJson, name, value);
  return null;
}

/** Used by the synthetic module generated for a `json` module: its parsed value (see parseJson). */
export function takeJson(name: string): unknown {
  if (!MapPrototypeHas(moduleJson, name)) throw new Error(`islet: no JSON for module ${name}`);
  const value = MapPrototypeGet(moduleJson, name);
  MapPrototypeDelete(moduleJson, name);
  return value;
}

/** Used by the synthetic modules generated for `data` and `wasm` modules. */
export function takeData(name: string): Uint8Array {
  const bytes = MapPrototypeGet(moduleData, name);
  if (bytes === undefined) throw new Error(`islet: no data for module ${name}`);
  MapPrototypeDelete(moduleData, name);
  return bytes;
}

async function settle(callId: number, ok: number, payload: unknown, now: number): Promise<void> {
  // Deferred by itself (see selfDeferredEntries): resolving a request can run user code (a then).
  await undefined;
  setClock(now);
  settleRequest(callId, ok, payload);
}

async function fire(timerId: number, now: number): Promise<void> {
  // Deferred by itself (see selfDeferredEntries): a timer's callback is user code.
  await undefined;
  setClock(now);
  try {
    fireTimer(timerId);
  } catch (error) {
    reportUncaught(error);
  }
}

function idle(): void {
  forgetTimers();
  // No invocation in flight: no response body can be pulled any more.
  const ids: number[] = [];
  for (let entries = SafeMapIterator(responseBodies), entry = entries.next(); !entry.done; entry = entries.next()) ArrayPrototypePush(ids, entry.value[0]);
  for (let i = 0; i < ids.length; i++) bodyCancel(ids[i]);
  // Nor can any caller give up on a call: the host aborts requests only while their invocation is in flight.
  MapPrototypeClear(incomingSignals);
}

/** Fetch handlers' response bodies the host pulls, by id. */
const responseBodies = new Map<number, ByteReader>();
/** The invocation each of those bodies answers (whose request's signal is kept until the body is gone). */
const responseBodyInvocations = new Map<number, number>();
let nextResponseBody = 1;

/** The signals of the requests fetch handlers got, by invocation, while their callers may still give up. */
const incomingSignals = new Map<number, InstanceType<ReturnType<typeof web>["IncomingSignal"]>>();

/** A response body the host no longer pulls: its request's signal goes with it. */
function dropResponseBody(id: number): void {
  MapPrototypeDelete(responseBodies, id);
  MapPrototypeDelete(responseRests, id);
  const invocationId = MapPrototypeGet(responseBodyInvocations, id);
  if (invocationId === undefined) return;
  MapPrototypeDelete(responseBodyInvocations, id);
  MapPrototypeDelete(incomingSignals, invocationId);
}

/**
 * The caller of invocation `invocationId`'s fetch handler gave up on it (its signal aborted): the
 * handler's `request.signal` aborts, so what it passed the signal on to (its own fetch(request))
 * ends too. Abort listeners are user code: they run in this invocation, deferred like settle's.
 */
async function abortRequest(invocationId: number, now: number): Promise<void> {
  await undefined;
  const signal = MapPrototypeGet(incomingSignals, invocationId);
  if (signal === undefined) return;
  enterInvocation(invocationId);
  setClock(now);
  try {
    signal.abort();
  } catch (error) {
    reportUncaught(error);
  }
}

/**
 * The most bytes one bodyPull hands the host: a larger chunk crosses in pieces of this size, the
 * rest kept here (in the sandbox's memory), so what the host holds of a body it has not read yet
 * (its eager window's read-ahead) is bounded by the host, not by the size of a chunk the worker chose.
 * A larger chunk is not copied whole as it is read (a chunk up to this size is, before its producer
 * can reuse its buffer): each piece is copied as it is handed over, so a body the host has not read
 * costs the sandbox nothing beyond the chunk its code enqueued. The bytes of such a chunk not handed
 * over yet are the producer's, as a later reader's would be by the Streams standard (enqueue does
 * not copy). (Whole copies of the 8 MiB chunks of a dozen unread bodies exhausted a 64 MiB
 * sandbox's buffers: the copy threw inside the stream's enqueue, which errored the stream, so its
 * cancel() never ran, and that pull never ended.)
 */
const MAX_PULL_BYTES = 64 * 1024;
/** The part of a large chunk not handed to the host yet, by body id. */
const responseRests = new Map<number, { readonly chunk: Uint8Array; readonly offset: number }>();

/** The next chunk of a response body: [1, bytes] or [1, null] at its end, [0, error] when it fails. */
async function bodyPull(id: number, now: number): Promise<Result> {
  // Deferred by itself, as boot defers the other entries: the stream's pull() is user code.
  await undefined;
  setClock(now);
  const reader = MapPrototypeGet(responseBodies, id);
  if (reader === undefined) return resultOf([0, errorToRecord(new TypeError("This response body is no longer available.")), 0]);
  try {
    const rest = MapPrototypeGet(responseRests, id);
    MapPrototypeDelete(responseRests, id);
    const chunk = rest !== undefined ? rest.chunk : (await reader.next()).value;
    if (chunk === null) {
      dropResponseBody(id);
      return resultOf([1, null, 0, postCount()]);
    }
    const offset = rest !== undefined ? rest.offset : 0;
    // Read afresh each time: the producer's buffer may have shrunk or been detached meanwhile.
    const length = ViewByteLength(chunk);
    if (offset === 0 && length <= MAX_PULL_BYTES) return resultOf([1, chunk, 0, postCount()]);
    const size = length - offset < MAX_PULL_BYTES ? length - offset : MAX_PULL_BYTES;
    const piece = Uint8ArrayCopyRange(chunk, offset, size);
    if (offset + size < length) MapPrototypeSet(responseRests, id, { __proto__: null, chunk, offset: offset + size } as unknown as { chunk: Uint8Array; offset: number });
    return resultOf([1, piece, 0, postCount()]);
  } catch (error) {
    dropResponseBody(id);
    return resultOf([0, errorToRecord(error), 0, postCount()]);
  }
}

/** The host will not read that response body any further. */
function bodyCancel(id: number): void {
  const reader = MapPrototypeGet(responseBodies, id);
  dropResponseBody(id);
  if (reader === undefined) return;
  reader.cancel();
}

function release(capId: number): void {
  releaseExport(capId);
}

function reportUncaught(error: unknown): void {
  const record = errorToRecord(error);
  (globalThis as unknown as { console: { error(...args: unknown[]): void } }).console.error(
    `Uncaught ${record.stack ?? `${record.name}: ${record.message}`}`,
  );
}

function missingMethod(method: string): TypeError {
  return new TypeError(`The RPC receiver does not implement the method "${method}".`);
}

const forbiddenMethods = new Set(["constructor", "then", "catch", "finally", "__proto__", "toString", "valueOf", "toLocaleString", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "__defineGetter__", "__defineSetter__", "__lookupGetter__", "__lookupSetter__"]);

/** Looks a method up the way RPC does: a function, not one of Object's or a thenable's. */
function findMethod(receiver: object, method: string): ((...args: unknown[]) => unknown) | undefined {
  if (SetPrototypeHas(forbiddenMethods, method)) return undefined;
  const fn = (receiver as Record<string, unknown>)[method];
  if (typeof fn !== "function" || fn === (ObjectPrototype as Record<string, unknown>)[method]) return undefined;
  return fn as (...args: unknown[]) => unknown;
}

/** The invocation that made each loopback call in flight (ctx.exports): its waitUntil work is that invocation's. */
const loopbackCallers = new Map<number, number>();

/** Work invocation `invocationId` stays in flight (and watched) for after its answer. */
function addWaitUntil(invocationId: number, promise: Promise<unknown>): void {
  // A loopback call's work belongs to the host's invocation that made it: only those stay in flight.
  invocationId = MapPrototypeGet(loopbackCallers, invocationId) ?? invocationId;
  let list = MapPrototypeGet(waitUntils, invocationId);
  if (list === undefined) MapPrototypeSet(waitUntils, invocationId, (list = []));
  ArrayPrototypePush(list, PromisePrototypeThen(PromiseResolve(promise), undefined, reportUncaught));
}

function createContext(invocationId: number, props: unknown): ExecutionContext {
  return {
    props,
    exports: loopbackExports(),
    waitUntil(promise: Promise<unknown>) {
      addWaitUntil(invocationId, promise);
    },
    passThroughOnException() {},
  };
}

function instantiate(entry: string, ctx: ExecutionContext): { receiver: object; handlerStyle: boolean } {
  if (!ObjectPrototypeHasOwnProperty(main, entry) || main[entry] === undefined) {
    throw new TypeError(entry === "default" ? "The worker has no default export." : `The worker does not export an entrypoint named "${entry}".`);
  }
  const exported = main[entry];
  if (typeof exported === "function") {
    if (exported.prototype === undefined) throw new TypeError(`The export "${entry}" is not a class or an object of handlers.`);
    return { receiver: new (exported as new (ctx: unknown, env: unknown) => object)(ctx, env), handlerStyle: false };
  }
  if (exported !== null && typeof exported === "object") return { receiver: exported, handlerStyle: true };
  throw new TypeError(`The export "${entry}" is not a class or an object of handlers.`);
}

/** The facet's one instance of the class a facet entry names (facet.ts). */
function facetOf(invocationId: number, entry: string, props: unknown, ctx: ExecutionContext): Promise<object> {
  const exportName = facetExportName(entry);
  if (!ObjectPrototypeHasOwnProperty(main, exportName)) throw new TypeError(`The worker does not export a class named "${exportName}".`);
  // A facet's one instance keeps the ctx it was made with, across events: its waitUntil belongs to
  // the event running now (bridge.ts), as on workerd, not to the first event's (whose work, once it
  // had ended, no one waited for: the host drops a sandbox's timers when no call is in flight).
  const waitUntil = (promise: Promise<unknown>) => addWaitUntil(currentInvocation() || invocationId, promise);
  return facetReceiver(exportName, main[exportName], props, env, { exports: ctx.exports, waitUntil, classOf: loopbackClass });
}

async function run(invocationId: number, entry: string, method: string, args: unknown[], props: unknown, isFetch: boolean, inbound?: unknown): Promise<unknown> {
  const ctx = createContext(invocationId, props);
  const { receiver, handlerStyle } = isFacetEntry(entry) ? { receiver: await facetOf(invocationId, entry, props, ctx), handlerStyle: false } : instantiate(entry, ctx);
  if (method === FACET_ALARM_METHOD && isFacetEntry(entry)) return facetAlarm(receiver, args[0], args[1], args[2]);
  const fn = findMethod(receiver, method);
  if (inbound !== undefined) {
    // An inbound connection (the host registered its socket): the connect(socket) handler, as Cloudflare's.
    if (fn === undefined) throw new TypeError(entry === "default" ? "The worker's default export has no connect() handler." : `The entrypoint "${entry}" has no connect() handler.`);
    const socket = web().socketAccept(inbound);
    await (handlerStyle ? ReflectApply(fn, receiver, [socket, env, ctx]) : ReflectApply(fn, receiver, [socket]));
    return undefined;
  }
  if (fn === undefined) throw isFetch ? new TypeError(entry === "default" ? "The worker's default export has no fetch() handler." : `The entrypoint "${entry}" has no fetch() handler.`) : missingMethod(method);
  if (isFetch) {
    const { IncomingSignal, requestFromRecord, responseToStreamingRecord, Response } = web();
    // The request's signal, which the host aborts (abortRequest) while the caller waits for the response.
    const signal = new IncomingSignal();
    MapPrototypeSet(incomingSignals, invocationId, signal);
    let kept = false;
    try {
      const request = requestFromRecord(args[0] as RequestRecord, signal);
      const response = await (handlerStyle ? ReflectApply(fn, receiver, [request, env, ctx]) : ReflectApply(fn, receiver, [request]));
      if (!(response instanceof Response)) throw new TypeError("The fetch handler must return a Response.");
      const { record, stream } = await responseToStreamingRecord(response);
      // A streamed body stays here: the host pulls it a chunk at a time (bodyPull) while the
      // invocation stays in flight, watched, until the body ends or the host cancels it. The
      // caller may still give up meanwhile: the request's signal is kept until then.
      if (stream !== null) {
        const id = nextResponseBody++;
        // A chunk larger than a piece is not copied as read: bodyPull copies each piece it hands the host (see MAX_PULL_BYTES).
        MapPrototypeSet(responseBodies, id, streams().byteReader(stream, MAX_PULL_BYTES));
        MapPrototypeSet(responseBodyInvocations, id, invocationId);
        kept = true;
        (record as { bodyStream?: number }).bodyStream = id;
      }
      return record;
    } finally {
      if (!kept) MapPrototypeDelete(incomingSignals, invocationId);
    }
  }
  return ReflectApply(fn, receiver, args);
}

async function settleResult(invocationId: number, work: () => unknown, encodeValue: boolean): Promise<Result> {
  const result = await outcome(work, encodeValue);
  // Logs waiting past the first 800 go before the result, which counts them among its posts.
  flushLogTail();
  // A polluted Object.prototype.then can swap the result for anything; the host rejects that shape.
  if (!isArray(result)) return result;
  if (MapPrototypeHas(waitUntils, invocationId)) result[2] = 1;
  result[3] = postCount();
  return result;
}

/**
 * A result array without a prototype: resolving a promise with it looks up `then`, which must not
 * find one user code put on Object.prototype (it would replace the answer).
 */
function resultOf(result: Result): Result {
  return ObjectSetPrototypeOf(result, null) as Result;
}

async function outcome(work: () => unknown, encodeValue: boolean): Promise<Result> {
  let value: unknown;
  try {
    value = await work();
  } catch (error) {
    return resultOf([0, errorToRecord(error), 0]);
  }
  try {
    return resultOf([1, encodeValue ? encodeForHost(value, undefined, true) : value, 0]);
  } catch (error) {
    // The handler succeeded but its result cannot cross: the host reports a DataCloneError.
    return resultOf([2, errorToRecord(error), 0]);
  }
}

async function dispatch(invocationId: number, entry: string, method: string, encodedArgs: unknown, encodedProps: unknown, now: number, inbound?: unknown): Promise<Result> {
  // Deferred by itself, as boot defers the other entries: user code runs only inside a microtask.
  await undefined;
  enterInvocation(invocationId);
  setClock(now);
  refillLogBudget();
  const isFetch = method === "fetch";
  // Awaited here: returning the promise would resolve this one through its `then`, which user code may have replaced.
  return await settleResult(
    invocationId,
    () => {
      runFinalizationCleanups();
      const args = isFetch ? (encodedArgs as unknown[]) : (decode(encodedArgs, importer) as unknown[]);
      // Each call from the host starts in the empty async context (a no-op unless node:async_hooks is imported).
      return runInRootContext(() => run(invocationId, entry, method, args, decode(encodedProps, importer), isFetch, inbound === null ? undefined : inbound));
    },
    !isFetch,
  );
}

/** The host calls a function or RpcTarget this sandbox handed out earlier. */
async function invoke(invocationId: number, capId: number, method: string | null, encodedArgs: unknown, now: number): Promise<Result> {
  // Deferred by itself, as boot defers the other entries: user code runs only inside a microtask.
  await undefined;
  enterInvocation(invocationId);
  setClock(now);
  refillLogBudget();
  // Awaited here: returning the promise would resolve this one through its `then`, which user code may have replaced.
  return await settleResult(
    invocationId,
    () => {
      runFinalizationCleanups();
      const target = exportedCap(capId);
      if (target === undefined) throw new Error("This stub was disposed; the capability it pointed to can no longer be called.");
      const args = decode(encodedArgs, importer) as unknown[];
      // The members rule of src/protocol/cap-table.ts: an RpcTarget's class methods and getters, not its own properties.
      return runInRootContext(() => table.callMember(target, method, args));
    },
    true,
  );
}

/** Resolves once every promise passed to ctx.waitUntil by this invocation has settled. */
async function drain(invocationId: number): Promise<number> {
  enterInvocation(invocationId);
  for (let list = MapPrototypeGet(waitUntils, invocationId); list !== undefined && list.length > 0; list = MapPrototypeGet(waitUntils, invocationId)) {
    MapPrototypeSet(waitUntils, invocationId, []);
    // One by one, not Promise.all: that runs the array iterator. None of them rejects (see waitUntil).
    for (let i = 0; i < list.length; i++) await list[i];
  }
  MapPrototypeDelete(waitUntils, invocationId);
  flushLogTail();
  return postCount();
}

// ctx.exports: loopback entrypoints to this worker's own exports, called in-process.
let loopback: Record<string, unknown> | undefined;

function loopbackExports(): Record<string, unknown> {
  if (loopback !== undefined) return loopback;
  const stubs: Record<string, unknown> = {};
  const names = ObjectKeys(main);
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const exported = main[name];
    if (exported === null || (typeof exported !== "object" && typeof exported !== "function")) continue;
    stubs[name] = loopbackEntrypoint(name, {}, undefined);
  }
  return (loopback = ObjectFreeze(stubs));
}

let loopbackIds = -1;

/** Each `ctx.exports` stub, as the class a facet may start as one of its own facets (facet.ts): its export and props. */
const loopbackClasses = new WeakMap<object, OwnClass>();

function loopbackClass(value: unknown): OwnClass | undefined {
  return value !== null && (typeof value === "object" || typeof value === "function") ? WeakMapPrototypeGet(loopbackClasses, value) : undefined;
}

function loopbackEntrypoint(entry: string, props: unknown, classProps: unknown): unknown {
  const specialise = (options?: { props?: unknown }) => {
    const given = options?.props;
    return loopbackEntrypoint(entry, given ?? {}, given);
  };
  // The one stub factory (src/protocol/cap-table.ts), callable: `ctx.exports.Name({ props })`.
  const stub = loopbackStub(entry, props, specialise);
  WeakMapPrototypeSet(loopbackClasses, stub, { __proto__: null, exportName: entry, props: classProps } as unknown as OwnClass);
  return stub;
}

function loopbackStub(entry: string, props: unknown, specialise: (options?: { props?: unknown }) => unknown): object {
  return targetStub({
    callable: specialise as (...args: unknown[]) => unknown,
    method: (key) => {
      if (key === "fetch") return (input: unknown, init?: unknown) => loopbackFetch(entry, props, input, init);
      if (key === "connect") {
        return () => {
          throw new TypeError("connect() on a ctx.exports stub is not supported by islet: connect through a service binding in env instead.");
        };
      }
      return async (...args: unknown[]) => {
        const id = loopbackIds--;
        const caller = currentInvocation();
        if (caller > 0) MapPrototypeSet(loopbackCallers, id, caller);
        try {
          return await run(id, entry, key, args, props, false);
        } finally {
          MapPrototypeDelete(loopbackCallers, id);
          MapPrototypeDelete(waitUntils, id);
        }
      };
    },
  });
}

/**
 * `ctx.exports.Name.fetch(input, init)`, as a service binding's fetch (Cloudflare's Fetcher): a
 * Request made from the arguments goes to the entrypoint's fetch handler (an object of handlers
 * gets env and ctx too), whose Response is the answer. It runs here, in this sandbox, as the
 * loopback's other calls do.
 */
async function loopbackFetch(entry: string, props: unknown, input: unknown, init: unknown): Promise<unknown> {
  const { Request, Response } = web();
  const request = new Request(input as never, init as never);
  const id = loopbackIds--;
  const caller = currentInvocation();
  if (caller > 0) MapPrototypeSet(loopbackCallers, id, caller);
  try {
    const ctx = createContext(id, props);
    const { receiver, handlerStyle } = instantiate(entry, ctx);
    const fn = findMethod(receiver, "fetch");
    if (fn === undefined) throw new TypeError(entry === "default" ? "The worker's default export has no fetch() handler." : `The entrypoint "${entry}" has no fetch() handler.`);
    const response = await (handlerStyle ? ReflectApply(fn, receiver, [request, env, ctx]) : ReflectApply(fn, receiver, [request]));
    if (!(response instanceof Response)) throw new TypeError("The fetch handler must return a Response.");
    return response;
  } finally {
    MapPrototypeDelete(loopbackCallers, id);
    MapPrototypeDelete(waitUntils, id);
  }
}


// Null prototype: a name the host passes selects one of these and nothing inherited.
const entries = ObjectAssign(ObjectCreate(null) as {}, {
  setEnv,
  setMain,
  putData,
  parseJson,
  putSourceMap,
  settle,
  fire,
  idle,
  release,
  dispatch,
  invoke,
  drain,
  bodyPull,
  bodyCancel,
  abortRequest,
  linkBridge,
  receiveChunk,
  awaitMain,
  // Queued after the answers to import() calls: once it returns, they and the code they resumed
  // have run (engine/sandbox.ts). Answers the posts made so far.
  ping: () => postCount(),
  // The host hands the blocking Reference only to a sandbox that needs it (a facet), before its env.
  setBlocking: (ref: BlockingReference) => setBlocking(ref),
} satisfies Record<EntryName, (...args: never[]) => unknown>);
