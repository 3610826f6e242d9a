// /v1/rpc: the WorkerLoader API over Cap'n Web. The client's main stub is an IsletApi (`load`,
// `get`), whose workers hand out entrypoints that behave like local ones: any method name is an
// RPC into the sandbox, `fetch` takes and returns a real Request/Response.
//
// Two capability systems meet here. Cap'n Web stubs from the client (its callbacks) become islet
// capabilities the sandbox can call; islet stubs the sandbox returns become Cap'n Web exports the
// client can call. Both directions are wrapped, never passed raw, so each side only ever holds
// objects of its own system.

import { RpcStub, RpcTarget as CapnTarget } from "capnweb";
import type { Entrypoint, Limits, WorkerCode, WorkerLoader, WorkerStub } from "../index.ts";
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

const WORKER_ID = /^[\w.:-]{1,128}$/;
const MAX_BRIDGE_DEPTH = 64;
/** Objects one session may hold exported to its client at once (see RpcSessionScope.countExport). */
export const MAX_EXPORTS_PER_SESSION = 20_000;

export const rpcSessionOptions = { onSendError: (error: Error) => errorForWire(error) };

/** Named workers' code sources, shared by every session: the latest `get(id, …)` for an id wins. */
export class NamedSources {
  readonly sources = new Map<string, { session: RpcSessionScope; spec: unknown }>();
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
}

let loadedWorkers = 0;

/** What one WebSocket session owns: its workers and the client stubs it keeps past a call. */
export class RpcSessionScope {
  private readonly workers = new Set<WorkerStub>();
  /** The quota slots of this session's load() workers, forgotten when it closes. */
  readonly slots = new Set<string>();
  private readonly kept = new Set<{ [Symbol.dispose](): void }>();
  private readonly release = new FinalizationRegistry<{ [Symbol.dispose](): void }>((stub) => {
    if (this.kept.delete(stub)) stub[Symbol.dispose]();
  });
  closed = false;
  /** Objects this session exported to its client (workers, entrypoints, sandbox objects and functions) not yet released. */
  private exported = 0;

  constructor(readonly deps: SessionDeps) {}

  /**
   * Counts one more object exported to the client, which the server keeps until the client
   * releases it (about 3 KB each: 300,000 never released took a server to 1 GB, findings5/38).
   * Returns its release; past MAX_EXPORTS_PER_SESSION the call that would export it fails.
   */
  countExport(): () => void {
    if (this.exported >= MAX_EXPORTS_PER_SESSION) {
      throw new RangeError(`This RPC session holds ${MAX_EXPORTS_PER_SESSION} objects its client has not released (workers, entrypoints, sandbox objects); dispose some first.`);
    }
    this.exported++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.exported--;
    };
  }

  /** Ends the session: its workers that hold its callbacks are disposed, its stubs released. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const worker of this.workers) worker.dispose();
    this.workers.clear();
    for (const slot of this.slots) this.deps.quota?.forget(this.deps.caller.keyId, slot);
    this.slots.clear();
    for (const [id, entry] of this.deps.named.sources) if (entry.session === this) this.deps.named.sources.delete(id);
    for (const stub of this.kept) stub[Symbol.dispose]();
    this.kept.clear();
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
   * dies when the call returns, but the sandbox may keep what it was given) and released when the
   * sandbox drops the capability or the session ends.
   */
  fromClient(value: unknown, depth = 0): unknown {
    if (depth > MAX_BRIDGE_DEPTH) throw new TypeError("A value from the client is nested too deeply.");
    if (value instanceof RpcStub) return this.islandTarget(this.keep(value as unknown as CapnStub));
    if (Array.isArray(value)) return value.map((item) => this.fromClient(item, depth + 1));
    if (isPlainObject(value)) {
      const keys = Object.keys(value);
      if (keys.length === 1 && keys[0] === FUNCTION_TAG && value[FUNCTION_TAG] instanceof RpcStub) {
        return this.islandFunction(this.keep(value[FUNCTION_TAG] as unknown as CapnStub));
      }
      const out: Record<string, unknown> = {};
      for (const key of keys) out[key] = this.fromClient(value[key], depth + 1);
      return out;
    }
    return value;
  }

  /** islet values → client values: sandbox capabilities become Cap'n Web exports. */
  toClient(value: unknown, depth = 0): unknown {
    if (depth > MAX_BRIDGE_DEPTH) throw new TypeError("A value from the sandbox is nested too deeply for RPC.");
    if (value === null || (typeof value !== "object" && typeof value !== "function")) return value;
    if (isRemoteCapability(value as object)) {
      const release = this.countExport();
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
    if (Array.isArray(value)) return value.map((item) => this.toClient(item, depth + 1));
    if (isPlainObject(value)) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) out[key] = this.toClient(item, depth + 1);
      return out;
    }
    return value;
  }

  private async bridgeCall(call: () => Promise<unknown>): Promise<unknown> {
    return this.toClient(await call());
  }

  private keep(stub: CapnStub): CapnStub {
    const copy = stub.dup();
    this.kept.add(copy);
    return copy;
  }

  private islandFunction(stub: CapnStub): (...args: unknown[]) => Promise<unknown> {
    const fn = async (...args: unknown[]) => {
      try {
        return this.fromClient(await stub(...(this.toClient(args) as unknown[])));
      } catch (error) {
        throw errorFromWire(error);
      }
    };
    this.release.register(fn, stub);
    return fn;
  }

  private islandTarget(stub: CapnStub): object {
    const target = targetStub({
      brand: remoteCapability,
      method: (key) => async (...args: unknown[]) => {
        try {
          return this.fromClient(await (stub[key] as CapnStub)(...(this.toClient(args) as unknown[])));
        } catch (error) {
          throw errorFromWire(error);
        }
      },
    });
    this.release.register(target, stub);
    return target;
  }
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
      if (Object.hasOwn(special, key)) return special[key];
      if (key === "then" || key in Object.prototype) return undefined;
      return (...args: unknown[]) => call(key, args);
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
    const scope = this.#scope;
    const stub = scope.deps.loader.load(buildCode(scope, code));
    scope.own(stub);
    const slot = `rpc-load:${scope.deps.caller.keyId}:#${++loadedWorkers}`;
    scope.slots.add(slot);
    return new RemoteWorker(scope, stub, true, slot);
  }

  /** The worker with this id, started on first use from `code`, or from what `getCode()` returns. */
  get(id: unknown, codeOrGetCode: unknown): RemoteWorker {
    const scope = this.#scope;
    if (typeof id !== "string" || !WORKER_ID.test(id)) throw invalid("id", "must be 1-128 letters, digits or . _ : -");
    const key = `rpc:${scope.deps.caller.keyId}:${id}`;
    const source = codeOrGetCode instanceof RpcStub ? scope.fromClient({ [FUNCTION_TAG]: codeOrGetCode }) : codeOrGetCode;
    if (typeof source !== "function" && !isPlainObject(source)) throw invalid("code", "must be a worker description object or a function returning one");
    scope.deps.named.sources.set(key, { session: scope, spec: source });
    const named = scope.deps.named;
    let stub!: WorkerStub;
    stub = scope.deps.loader.get(key, async () => {
      const entry = named.sources.get(key);
      if (entry === undefined) throw new RequestError(503, `No open session defines the worker "${id}" any more; call get() with its code again.`);
      const spec = typeof entry.spec === "function" ? await answerInTime(entry.spec as () => Promise<unknown>, id, entry.session.deps.getCodeTimeoutMs) : entry.spec;
      const code = buildCode(entry.session, spec);
      // A worker whose env holds a session's callbacks cannot outlive that session.
      if (containsCapability(code.env)) entry.session.own(stub);
      return code;
    });
    return new RemoteWorker(scope, stub, false, key);
  }
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

function buildCode(scope: RpcSessionScope, spec: unknown): WorkerCode {
  if (!isPlainObject(spec)) throw invalid("code", "must be an object like {code: \"export default {…}\"} or {modules, mainModule}");
  const env = spec.env === undefined || spec.env === null ? {} : spec.env;
  if (!isPlainObject(env)) throw invalid("env", "must be an object");
  return toWorkerCode(spec, scope.deps.caller, scope.deps.egress, scope.fromClient(env) as Record<string, unknown>);
}

export class RemoteWorker extends CapnTarget {
  #scope: RpcSessionScope;
  #stub: WorkerStub;
  #anonymous: boolean;
  /** Its id in the key's worker quota: the loader id of a named worker, a unique one for load(). */
  #slot: string;

  #release: () => void;

  constructor(scope: RpcSessionScope, stub: WorkerStub, anonymous: boolean, slot: string) {
    super();
    this.#release = scope.countExport();
    this.#scope = scope;
    this.#stub = stub;
    this.#anonymous = anonymous;
    this.#slot = slot;
  }

  /** The default export's entrypoint, or a named export's; `options.props` and lower `options.limits` as in islet. */
  getEntrypoint(name?: unknown, options?: unknown): CapnTarget {
    const scope = this.#scope;
    if (name !== undefined && name !== null && typeof name !== "string") throw invalid("name", "must be a string");
    const opts = options === undefined || options === null ? {} : options;
    if (!isPlainObject(opts)) throw invalid("options", "must be an object {props?, limits?}");
    const limits = callLimits(scope.deps.caller, opts.limits);
    const entrypoint = this.#stub.getEntrypoint(name as string | undefined, { props: scope.fromClient(opts.props), limits });
    const stub = this.#stub;
    return entrypointTarget(scope, entrypoint, this.#slot, () => stub.dispose());
  }

  /** Terminates the worker's isolate now. */
  dispose(): void {
    this.#stub.dispose();
    this.#forget();
  }

  [disposeSymbol](): void {
    this.#release();
    // The client dropped its stub: an anonymous worker is unreachable from now on.
    if (this.#anonymous) {
      this.#stub.dispose();
      this.#forget();
    }
  }

  #forget(): void {
    const { quota, caller } = this.#scope.deps;
    quota?.forget(caller.keyId, this.#slot);
    if (this.#anonymous) this.#scope.slots.delete(this.#slot);
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

function entrypointTarget(scope: RpcSessionScope, entrypoint: Entrypoint, slot: string, dispose: () => void): CapnTarget {
  const release = scope.countExport();
  const admitted = async <T>(call: () => Promise<T>): Promise<T> => {
    const release = scope.deps.admission.admit(scope.deps.caller);
    try {
      // The worker counts against its key's quota; this call may start it, so a key at its quota
      // evicts its own least recently used idle worker first (never another key's).
      const used = scope.deps.quota?.use(scope.deps.caller.keyId, slot, dispose);
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
    (method, args) => admitted(async () => scope.toClient(await entrypoint[method](...(scope.fromClient(args) as unknown[])))),
    {
    fetch: (input: unknown, init?: unknown) =>
      admitted(async () => {
        if (!(input instanceof Request) && typeof input !== "string") throw invalid("fetch", "takes a Request or a URL string");
        return entrypoint.fetch(input as Request | string, init as RequestInit | undefined);
      }),
    },
    release,
  );
}
