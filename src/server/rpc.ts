// /v1/rpc: the WorkerLoader API over Cap'n Web. The client's main stub is an IsletApi (`load`,
// `get`), whose workers hand out entrypoints that behave like local ones: any method name is an
// RPC into the sandbox, `fetch` takes and returns a real Request/Response.
//
// Two capability systems meet here. Cap'n Web stubs from the client (its callbacks) become islet
// capabilities the sandbox can call; islet stubs the sandbox returns become Cap'n Web exports the
// client can call. Both directions are wrapped, never passed raw, so each side only ever holds
// objects of its own system.

import { RpcStub, RpcTarget as CapnTarget } from "capnweb";
import { WorkerDisposedError, type Entrypoint, type Limits, type WorkerCode, type WorkerLoader, type WorkerStub } from "../index.ts";
import { isRemoteCapability, remoteCapability } from "../rpc/rpc-target.ts";
import { errorForWire, errorFromWire, FUNCTION_TAG } from "../client/wire.ts";
import type { Admission } from "./admission.ts";
import type { WorkerQuota } from "./quota.ts";
import type { Caller } from "./auth.ts";
import type { EgressOptions } from "./egress.ts";
import { GetCodeTimeoutError, RequestError } from "./errors.ts";
import { invalid, isPlainObject, toWorkerCode } from "./worker-spec.ts";
import { CALL_LIMIT_KEYS, checkLimits, formatLimitProblems } from "../protocol/limits.ts";
import { disposeSymbol, targetStub } from "../protocol/cap-table.ts";
import { keptSize, SessionBudget, type StubGroup } from "./rpc-budget.ts";
import { parseObjectAddress, type ServerObjects } from "./objects.ts";
import { codeHash } from "./run.ts";
import { jsonWidth, OutputBudget } from "./json-value.ts";

const WORKER_ID = /^[\w.:-]{1,128}$/;
const MAX_BRIDGE_DEPTH = 64;

export const rpcSessionOptions = { onSendError: (error: Error) => errorForWire(error) };

/** A named worker's code as its latest `get(id, …)` gave it: a client's getCode(), or the code itself. */
interface NamedSource {
  session: RpcSessionScope;
  /** Calls the client's getCode(); the capabilities in its answer are kept in `group`. */
  getCode?: (group: StubGroup) => Promise<unknown>;
  code?: WorkerCode;
  /** What `code` keeps, counted in its session's budget until this source is replaced or its session ends. */
  bytes: number;
  release: () => void;
}

/**
 * Named workers' code sources, shared by every session of the server: the latest `get(id, …)` for
 * an id wins. And the client stubs in the env of each named worker started from a getCode(),
 * released when the worker is started again or disposed.
 */
export class NamedSources {
  readonly sources = new Map<string, NamedSource>();
  private readonly envs = new Map<string, StubGroup>();

  /** The worker `key` starts with `env`: its previous start's isolate is gone, so is that env. */
  started(key: string, env: StubGroup): void {
    this.ended(key);
    if (env.size === 0) return;
    this.envs.set(key, env);
    env.emptied = () => {
      if (this.envs.get(key) === env) this.envs.delete(key);
    };
  }

  /** The worker `key` was disposed: the client stubs in its env go with its isolate. */
  ended(key: string): void {
    const env = this.envs.get(key);
    this.envs.delete(key);
    env?.release();
  }
}

interface SessionDeps {
  loader: WorkerLoader;
  /** How long a client's getCode() may take (ServerOptions.getCodeTimeoutMs). */
  getCodeTimeoutMs: number;
  caller: Caller;
  egress: EgressOptions;
  admission: Admission;
  named: NamedSources;
  /** The per-key quota of live workers (maxWorkersPerKey); none without keys unless configured. */
  quota?: WorkerQuota;
  /** Durable Objects (object()). */
  objects?: ServerObjects;
  /** The most a value from a sandbox may become as a Cap'n Web message (ServerOptions.maxResultBytes). */
  maxResultBytes: number;
}

let loadedWorkers = 0;

/** What one WebSocket session owns: its workers and the client stubs it keeps past a call. */
export class RpcSessionScope {
  private readonly workers = new Set<WorkerStub>();
  /** The quota slots of this session's load() workers, forgotten when it closes. */
  readonly slots = new Set<string>();
  /** Everything this session makes the server hold for its client, in one budget. */
  readonly budget = new SessionBudget();
  closed = false;

  constructor(readonly deps: SessionDeps) {}

  /** Counts one more object exported to the client, which the server keeps until the client releases it; returns its release. */
  countExport(): () => void {
    return this.budget.countExport();
  }

  /** Ends the session: its workers that hold its callbacks are disposed, its stubs released. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const worker of this.workers) worker.dispose();
    this.workers.clear();
    for (const slot of this.slots) this.deps.quota?.forget(this.deps.caller.keyId, slot);
    this.slots.clear();
    for (const [id, entry] of this.deps.named.sources) {
      if (entry.session !== this) continue;
      this.deps.named.sources.delete(id);
      entry.release();
    }
    this.budget.close();
  }

  own(worker: WorkerStub): void {
    if (this.closed) {
      worker.dispose();
      throw new RequestError(503, "The RPC session is closed.");
    }
    this.workers.add(worker);
  }

  /**
   * Client values → islet values. Cap'n Web stubs are duplicated (a stub in a call's parameters
   * dies when the call returns, but the sandbox may keep what it was given), counted in the
   * session's budget (a value that would pass it is refused whole), and released when the sandbox
   * drops the capability, when `group` is released (the worker they were given to ended) or when
   * the session ends.
   */
  fromClient(value: unknown, group?: StubGroup): unknown {
    this.budget.reserve(countCapabilities(value, 0));
    return this.convert(value, group, 0);
  }

  private convert(value: unknown, group: StubGroup | undefined, depth: number): unknown {
    if (value instanceof RpcStub) return this.capability(value as unknown as CapnStub, false, group);
    if (Array.isArray(value)) return value.map((item) => this.convert(item, group, depth + 1));
    if (isPlainObject(value)) {
      if (isTaggedFunction(value)) return this.capability(value[FUNCTION_TAG] as unknown as CapnStub, true, group);
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value)) out[key] = this.convert(value[key], group, depth + 1);
      return out;
    }
    return value;
  }

  /**
   * islet values → client values: sandbox capabilities become Cap'n Web exports. What Cap'n Web
   * will write for the value is counted on the way, within maxResultBytes: it writes an array
   * index by index (`["undefined"]` for a hole) and bytes as base64.
   */
  toClient(value: unknown): unknown {
    const conversion: Conversion = { budget: new OutputBudget(this.deps.maxResultBytes, "as a Cap'n Web message"), exports: [] };
    try {
      return this.clientValue(value, conversion, 0);
    } catch (error) {
      // Refused part way (too large, too deep): the exports made so far never reach the client.
      for (const release of conversion.exports) release();
      throw error;
    }
  }

  private clientValue(value: unknown, conversion: Conversion, depth: number): unknown {
    if (depth > MAX_BRIDGE_DEPTH) throw new TypeError("A value from the sandbox is nested too deeply for RPC.");
    const { budget } = conversion;
    // Cap'n Web writes a BigInt in decimal, one uninterruptible conversion each (findings11/01, 12/01).
    if (typeof value === "bigint") budget.chargeBigInt(value);
    budget.charge(capnWebWidth(value));
    if (value === null || (typeof value !== "object" && typeof value !== "function")) return value;
    // A function here is a sandbox's, or the client's own handed back by a sandbox (the island
    // function around its stub): either is exported anew each time, so each counts.
    if (typeof value === "function" || isRemoteCapability(value as object)) {
      const release = this.countExport();
      conversion.exports.push(release);
      if (typeof value === "function") {
        const fn = value as (...args: unknown[]) => Promise<unknown>;
        const exported = (...args: unknown[]) => this.bridgeCall(() => fn(...(this.fromClient(args) as unknown[])));
        Object.defineProperty(exported, disposeSymbol, { value: release });
        return exported;
      }
      const target = value as Record<string, (...args: unknown[]) => Promise<unknown>>;
      return dynamicTarget((method, args) => this.bridgeCall(() => target[method](...(this.fromClient(args) as unknown[]))), {}, release);
    }
    if (value instanceof Map || value instanceof Set) throw new TypeError(`A ${value.constructor.name} cannot travel over Cap'n Web; convert it to an array or object first.`);
    if (Array.isArray(value)) {
      // By index, as Cap'n Web will: a sparse array is charged for its length before any walk.
      budget.enter();
      budget.reserve(value.length, 2);
      const out: unknown[] = [];
      for (let index = 0; index < value.length; index++) out.push(this.clientValue(value[index], conversion, depth + 1));
      return out;
    }
    if (isPlainObject(value)) {
      budget.enter();
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        budget.charge(key.length + 4);
        out[key] = this.clientValue(item, conversion, depth + 1);
      }
      return out;
    }
    return value;
  }

  private async bridgeCall(call: () => Promise<unknown>): Promise<unknown> {
    return this.toClient(await call());
  }

  private capability(stub: CapnStub, callable: boolean, group: StubGroup | undefined): object {
    const copy = stub.dup();
    const holder = callable ? this.islandFunction(copy) : this.islandTarget(copy);
    this.budget.keep(copy, holder, group);
    return holder;
  }

  /**
   * A client's getCode() (a bare Cap'n Web stub), kept as the session's other client functions
   * are; the capabilities in each answer are kept in the group the call gives, the env of the
   * worker it starts.
   */
  clientGetCode(stub: CapnStub): (group: StubGroup) => Promise<unknown> {
    this.budget.reserve(1);
    const copy = stub.dup();
    const getCode = (group: StubGroup) => this.answer(() => copy(), group);
    this.budget.keep(copy, getCode, undefined);
    return getCode;
  }

  /**
   * A client call's answer as islet values. Stubs in an answer belong to whoever receives it:
   * fromClient() keeps its own copies, the originals are disposed here (left, each would hold its
   * import on the session until it ends).
   */
  private async answer(call: () => Promise<unknown>, group?: StubGroup): Promise<unknown> {
    let result: unknown;
    try {
      result = await call();
    } catch (error) {
      throw errorFromWire(error);
    }
    try {
      return this.fromClient(result, group);
    } finally {
      if ((typeof result === "object" || typeof result === "function") && result !== null && Symbol.dispose in result) (result as Disposable)[Symbol.dispose]();
    }
  }

  private islandFunction(stub: CapnStub): (...args: unknown[]) => Promise<unknown> {
    return (...args: unknown[]) => this.answer(() => stub(...(this.toClient(args) as unknown[])));
  }

  private islandTarget(stub: CapnStub): object {
    return targetStub({
      brand: remoteCapability,
      method: (key) => (...args: unknown[]) => this.answer(() => (stub[key] as CapnStub)(...(this.toClient(args) as unknown[]))),
    });
  }
}

/**
 * Runs a method Cap'n Web called, with the stack of any error it throws (or its promise rejects
 * with) formatted. Until then V8 keeps each frame's receiver, Cap'n Web's RpcPayload of the call's
 * arguments among them, and Cap'n Web keeps a rejected call until the client releases it: each
 * refused get() of 900 KB of code kept its 900 KB for the rest of the session.
 */
function shedFrames<T>(call: () => T): T {
  let result: T;
  try {
    result = call();
  } catch (error) {
    throw formatted(error);
  }
  if (result instanceof Promise) {
    return result.catch((error: unknown) => {
      throw formatted(error);
    }) as T;
  }
  return result;
}

function formatted(error: unknown): unknown {
  if (error instanceof Error) void error.stack;
  return error;
}

/** One toClient(): what it may still write, and the exports it made (released if it fails). */
interface Conversion {
  budget: OutputBudget;
  exports: (() => void)[];
}

/** About what Cap'n Web writes for a value itself (its elements and entries are counted on their own), with a comma. */
function capnWebWidth(value: unknown): number {
  switch (typeof value) {
    case "string":
      return jsonWidth(value) + 1;
    case "number":
      return Number.isFinite(value) ? String(value).length + 1 : 8;
    case "bigint":
      return value.toString(16).length * 1.21 + 14;
    case "undefined":
      return 14;
    case "function":
      return 16;
    case "object":
      if (value === null) return 5;
      if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return Math.ceil(value.byteLength / 3) * 4 + 32;
      if (value instanceof Error) return String(value.name).length + String(value.message).length + (typeof value.stack === "string" ? value.stack.length : 0) + 24;
      return 16;
    default:
      return 8;
  }
}

function isTaggedFunction(value: Record<string, unknown>): boolean {
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === FUNCTION_TAG && value[FUNCTION_TAG] instanceof RpcStub;
}

/** The client's functions and RpcTargets in a value, as fromClient() will keep them. */
function countCapabilities(value: unknown, depth: number): number {
  if (depth > MAX_BRIDGE_DEPTH) throw new TypeError("A value from the client is nested too deeply.");
  if (value instanceof RpcStub) return 1;
  let count = 0;
  if (Array.isArray(value)) {
    for (const item of value) count += countCapabilities(item, depth + 1);
  } else if (isPlainObject(value)) {
    if (isTaggedFunction(value)) return 1;
    for (const key of Object.keys(value)) count += countCapabilities(value[key], depth + 1);
  }
  return count;
}

type CapnStub = ((...args: unknown[]) => Promise<unknown>) & { [key: string]: unknown; dup(): CapnStub; [Symbol.dispose](): void };

class DynamicTarget extends CapnTarget {
  constructor(onDispose: () => void) {
    super();
    // Cap'n Web calls this once the client released its last reference. An own value, not a
    // method reading `this`: `this` would be the Proxy, whose every string member is a sandbox method.
    Object.defineProperty(this, disposeSymbol, { value: onDispose });
  }
}

/**
 * A Cap'n Web RpcTarget answering any method name, for entrypoints and sandbox objects whose
 * methods are not known in advance. Cap'n Web reads methods through the prototype chain, never
 * own properties, which is what a Proxy's get trap gives it.
 */
function dynamicTarget(call: (method: string, args: unknown[]) => Promise<unknown>, special: Record<string, unknown>, onDispose: () => void): CapnTarget {
  return new Proxy(new DynamicTarget(onDispose), {
    get(target, key, receiver) {
      if (typeof key === "symbol") return Reflect.get(target, key, receiver);
      if (Object.hasOwn(special, key)) {
        const member = special[key];
        return typeof member === "function" ? (...args: unknown[]) => shedFrames(() => member(...args)) : member;
      }
      if (key === "then" || key in Object.prototype) return undefined;
      return (...args: unknown[]) => shedFrames(() => call(key, args));
    },
    has(target, key) {
      if (typeof key === "symbol") return Reflect.has(target, key);
      return key !== "then";
    },
  });
}

/** The main object a client reaches at /v1/rpc. */
export class IsletApi extends CapnTarget {
  #scope: RpcSessionScope;

  constructor(scope: RpcSessionScope) {
    super();
    this.#scope = scope;
  }

  /** A brand-new worker running `code` (the JSON API's worker fields: modules/code, env, limits, allowHosts…). */
  load(code: unknown): RemoteWorker {
    return shedFrames(() => this.#load(code));
  }

  #load(code: unknown): RemoteWorker {
    const scope = this.#scope;
    // Its code is kept while the client holds the worker (it may start again), within the session's bytes.
    const releaseBytes = scope.budget.keepBytes(keptSize(code), "the code of load()");
    // What the client hands this worker (env, props, arguments) lives with it.
    const held = scope.budget.group();
    let built: WorkerCode | undefined;
    try {
      built = buildCode(scope, code, held);
    } catch (error) {
      releaseBytes();
      throw error;
    }
    // The loader starts a worker again after a limit or an eviction; one whose env held the
    // client's functions or RpcTargets cannot start again once they are released with it.
    const holdsClient = held.size > 0;
    let gone: WorkerDisposedError | undefined;
    const stub = scope.deps.loader.get(null, () => {
      if (built === undefined) throw gone!;
      return built;
    });
    scope.own(stub);
    const slot = `rpc-load:${scope.deps.caller.keyId}:#${++loadedWorkers}`;
    scope.slots.add(slot);
    const life: WorkerLife = {
      anonymous: true,
      held,
      end(reason) {
        stub.dispose();
        // Ended with the client's stubs of its env, it cannot start again; released by the client,
        // nobody can call it again. Either way its code is not kept any more.
        if ((holdsClient || reason === "released") && gone === undefined) {
          gone = new WorkerDisposedError(
            holdsClient ? `This worker was ${END_REASONS[reason]}; its env held the client's functions or RpcTargets, which were released with it. load() it again.` : "This worker was released by the client; load() it again.",
          );
          built = undefined;
          releaseBytes();
        }
        held.release();
      },
      check() {
        if (gone !== undefined) throw gone;
      },
    };
    try {
      return new RemoteWorker(scope, stub, slot, life);
    } catch (error) {
      // Refused (the session's budget): nothing of it reaches the client.
      life.end("released");
      releaseBytes();
      scope.slots.delete(slot);
      throw error;
    }
  }

  /** The Durable Object {namespace, id, class} of this key, running `code`'s class: its methods and fetch. */
  object(address: unknown, code: unknown): CapnTarget {
    return shedFrames(() => objectTarget(this.#scope, address, code));
  }

  /** The worker with this id, started on first use from `code`, or from what `getCode()` returns. */
  get(id: unknown, codeOrGetCode: unknown): RemoteWorker {
    return shedFrames(() => this.#get(id, codeOrGetCode));
  }

  #get(id: unknown, codeOrGetCode: unknown): RemoteWorker {
    const scope = this.#scope;
    if (typeof id !== "string" || !WORKER_ID.test(id)) throw invalid("id", "must be 1-128 letters, digits or . _ : -");
    const key = `rpc:${scope.deps.caller.keyId}:${id}`;
    const named = scope.deps.named;
    // An id keeps one source, its latest: the one this replaces stops counting once this is taken.
    const replaced = named.sources.get(key);
    let source: NamedSource;
    if (codeOrGetCode instanceof RpcStub) {
      source = { session: scope, getCode: scope.clientGetCode(codeOrGetCode as unknown as CapnStub), bytes: 0, release: () => {} };
    } else if (isPlainObject(codeOrGetCode)) {
      // Kept until a later get(id) replaces it or the session ends, whether the worker starts or not.
      const bytes = keptSize(codeOrGetCode);
      const release = scope.budget.keepBytes(bytes, `the code of get("${id}")`, replaced?.session === scope ? replaced.bytes : 0);
      try {
        // Built now: the client's stubs in its env are this call's parameters, which die when it
        // returns (findings7b/20). Every start of the worker from this source shares them.
        source = { session: scope, code: buildCode(scope, codeOrGetCode), bytes, release };
      } catch (error) {
        release();
        throw error;
      }
    } else {
      throw invalid("code", "must be a worker description object or a function returning one");
    }
    named.sources.set(key, source);
    replaced?.release();
    let stub!: WorkerStub;
    stub = scope.deps.loader.get(key, async () => {
      const entry = named.sources.get(key);
      if (entry === undefined) throw new RequestError(503, `No open session defines the worker "${id}" any more; call get() with its code again.`);
      let code = entry.code;
      if (code === undefined) {
        const env = entry.session.budget.group();
        const spec = await answerInTime(() => entry.getCode!(env), id, entry.session.deps.getCodeTimeoutMs);
        code = buildCode(entry.session, spec, env);
        named.started(key, env);
      }
      // A worker whose env holds a session's callbacks cannot outlive that session.
      if (containsCapability(code.env)) entry.session.own(stub);
      return code;
    });
    return new RemoteWorker(scope, stub, key, {
      anonymous: false,
      held: undefined,
      end() {
        stub.dispose();
        named.ended(key);
      },
      check() {},
    });
  }
}

/**
 * IsletApi.object(): the Durable Object `address` ({namespace, id, class}) of the session's key,
 * running `code`'s class, as /v1/run's `object` does. Its env is plain data: an object outlives
 * the session, so it cannot keep the client's functions.
 */
function objectTarget(scope: RpcSessionScope, address: unknown, code: unknown): CapnTarget {
  const objects = scope.deps.objects;
  if (objects === undefined) throw new RequestError(501, "Durable Objects are not available on this server.");
  const parsed = parseObjectAddress(address);
  if (!isPlainObject(code)) throw invalid("code", "must be an object like {code: \"export class …\"} or {modules, mainModule}");
  if (containsCapability(code.env)) throw invalid("code.env", "an object's env is plain data: an object outlives the session, so it cannot keep the client's functions");
  // Kept for the calls of the stub the client gets, until it releases it.
  const releaseBytes = scope.budget.keepBytes(keptSize(code), "the code of object()");
  let built: WorkerCode;
  try {
    built = buildCode(scope, code);
  } catch (error) {
    releaseBytes();
    throw error;
  }
  const hash = codeHash(code);
  const keyId = scope.deps.caller.keyId;
  const limits = callLimits(scope.deps.caller, undefined);
  const object = async () => objects.target(keyId, parsed, built, hash, limits);
  const entrypoint = new Proxy(Object.create(null) as Entrypoint, {
    get: (_target, method) => (typeof method !== "string" || method === "then" ? undefined : async (...args: unknown[]) => (await object())[method](...args)),
  });
  const life: WorkerLife = { anonymous: false, held: undefined, end: () => objects.end(keyId, parsed), check() {} };
  try {
    return entrypointTarget(scope, entrypoint, `object:${keyId}:${parsed.namespace}:${parsed.id}`, life, releaseBytes);
  } catch (error) {
    releaseBytes();
    throw error;
  }
}

const END_REASONS = {
  disposed: "disposed",
  evicted: "evicted to make room for another of this API key's workers (maxWorkersPerKey)",
  released: "released by the client",
} as const;

/** How a RemoteWorker ends its worker, for the client (dispose, release) or the key's quota (eviction). */
interface WorkerLife {
  anonymous: boolean;
  /** Where the client stubs handed to the worker are kept (an anonymous worker's), released when it ends. */
  held: StubGroup | undefined;
  end(reason: keyof typeof END_REASONS): void;
  /** Throws when the worker cannot be called any more. */
  check(): void;
}

/**
 * Calls a client's getCode() over the socket. The call that needs the worker holds an admission
 * slot meanwhile, so a client that never answers would hold it for as long as its socket stays
 * open: past the timeout the call fails with GetCodeTimeoutError (a later call asks again).
 */
async function answerInTime(getCode: () => Promise<unknown>, id: string, timeoutMs: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new GetCodeTimeoutError(`getCode() for the worker "${id}" did not answer within ${timeoutMs} ms.`)), timeoutMs);
  });
  try {
    return await Promise.race([getCode(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function containsCapability(value: unknown, depth = 0): boolean {
  if (depth > MAX_BRIDGE_DEPTH || value === null || value === undefined) return false;
  if (typeof value === "function") return true;
  if (typeof value !== "object") return false;
  if (isRemoteCapability(value)) return true;
  return Object.values(value).some((item) => containsCapability(item, depth + 1));
}

function buildCode(scope: RpcSessionScope, spec: unknown, held?: StubGroup): WorkerCode {
  if (!isPlainObject(spec)) throw invalid("code", "must be an object like {code: \"export default {…}\"} or {modules, mainModule}");
  const env = spec.env === undefined || spec.env === null ? {} : spec.env;
  if (!isPlainObject(env)) throw invalid("env", "must be an object");
  const group = held ?? scope.budget.group();
  const islandEnv = scope.fromClient(env, group) as Record<string, unknown>;
  try {
    return toWorkerCode(spec, scope.deps.caller, scope.deps.egress, islandEnv);
  } catch (error) {
    group.release();
    throw error;
  }
}

export class RemoteWorker extends CapnTarget {
  #scope: RpcSessionScope;
  #stub: WorkerStub;
  #life: WorkerLife;
  /** Its id in the key's worker quota: the loader id of a named worker, a unique one for load(). */
  #slot: string;
  #release: () => void;
  /** This stub and the entrypoints it handed out that the client still holds. */
  #refs = 1;

  constructor(scope: RpcSessionScope, stub: WorkerStub, slot: string, life: WorkerLife) {
    super();
    this.#release = scope.countExport();
    this.#scope = scope;
    this.#stub = stub;
    this.#slot = slot;
    this.#life = life;
  }

  /** The default export's entrypoint, or a named export's; `options.props` and lower `options.limits` as in islet. */
  getEntrypoint(name?: unknown, options?: unknown): CapnTarget {
    return shedFrames(() => this.#getEntrypoint(name, options));
  }

  #getEntrypoint(name: unknown, options: unknown): CapnTarget {
    const scope = this.#scope;
    this.#life.check();
    if (name !== undefined && name !== null && typeof name !== "string") throw invalid("name", "must be a string");
    // An export's name; the session keeps it with the entrypoint (findings11/03: 700 names of 900 KB held 900 MB).
    if (typeof name === "string" && name.length > 256) throw invalid("name", "must be at most 256 characters (the name of an export)");
    const opts = options === undefined || options === null ? {} : options;
    if (!isPlainObject(opts)) throw invalid("options", "must be an object {props?, limits?}");
    const limits = callLimits(scope.deps.caller, opts.limits);
    // The entrypoint keeps its props for as long as the client holds it.
    const releaseBytes = opts.props === undefined ? () => {} : scope.budget.keepBytes(keptSize(opts.props), "the props of getEntrypoint()");
    let target: CapnTarget;
    try {
      const entrypoint = this.#stub.getEntrypoint(name as string | undefined, { props: scope.fromClient(opts.props, this.#life.held), limits });
      target = entrypointTarget(scope, entrypoint, this.#slot, this.#life, () => {
        releaseBytes();
        this.#unref();
      });
    } catch (error) {
      releaseBytes();
      throw error;
    }
    this.#refs++;
    return target;
  }

  /** Terminates the worker's isolate now. */
  dispose(): void {
    this.#life.end("disposed");
    this.#forget();
  }

  [disposeSymbol](): void {
    this.#release();
    this.#unref();
  }

  #unref(): void {
    // The client holds nothing of an anonymous worker any more: nobody can call it again.
    if (--this.#refs > 0 || !this.#life.anonymous) return;
    this.#life.end("released");
    this.#forget();
  }

  #forget(): void {
    const { quota, caller } = this.#scope.deps;
    quota?.forget(caller.keyId, this.#slot);
    if (this.#life.anonymous) this.#scope.slots.delete(this.#slot);
  }
}

function callLimits(caller: Caller, requested: unknown): Limits {
  const ceiling = caller.limits;
  const out: Limits = { cpuMs: ceiling.cpuMs, wallMs: ceiling.wallMs, subRequests: ceiling.subRequests };
  if (requested === undefined) return out;
  // The rule of getEntrypoint's limits (src/protocol/limits.ts): no memoryMb per call.
  const checked = checkLimits(requested, "call", "options.limits");
  if (checked.limits === undefined) throw new RequestError(400, formatLimitProblems(checked.problems));
  for (const key of CALL_LIMIT_KEYS) {
    const value = checked.limits[key];
    if (value === undefined) continue;
    if (value > ceiling[key]) throw invalid(`options.limits.${key}`, `${value} is above the ceiling of ${ceiling[key]} for API key "${caller.keyId}"`);
    out[key] = value;
  }
  return out;
}

function entrypointTarget(scope: RpcSessionScope, entrypoint: Entrypoint, slot: string, life: WorkerLife, onRelease: () => void): CapnTarget {
  const release = scope.countExport();
  const admitted = async <T>(call: () => Promise<T>): Promise<T> => {
    const release = scope.deps.admission.admit(scope.deps.caller);
    try {
      life.check();
      // The worker counts against its key's quota; this call may start it, so a key at its quota
      // evicts its own least recently used idle worker first (never another key's).
      const used = scope.deps.quota?.use(scope.deps.caller.keyId, slot, () => life.end("evicted"));
      try {
        return await call();
      } finally {
        used?.();
      }
    } finally {
      release();
    }
  };
  return dynamicTarget(
    (method, args) => admitted(async () => scope.toClient(await entrypoint[method](...(scope.fromClient(args, life.held) as unknown[])))),
    {
    fetch: (input: unknown, init?: unknown) =>
      admitted(async () => {
        if (!(input instanceof Request) && typeof input !== "string") throw invalid("fetch", "takes a Request or a URL string");
        return entrypoint.fetch(input as Request | string, init as RequestInit | undefined);
      }),
    },
    () => {
      release();
      onRelease();
    },
  );
}
