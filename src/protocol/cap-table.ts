// The capability table, one for every side of a boundary: the host's Peer (one per sandbox), the
// Link on each end of a process or thread hop, and the runtime inside the isolate.
//
// Exports: the functions and RpcTargets this side handed out, by id; the other side can reach
// nothing else, and every call names an id checked here. Imports: stubs for the other side's
// capabilities, one per (kind, id), so a stub handed back decodes to this side's original object.
// The table plugs into the value codec (wire.ts) as its CapExporter / CapImporter.
//
// This file is part of src/protocol: it imports nothing from other folders of islet, and it is
// bundled into the isolate's runtime core, so it only calls intrinsics captured below, when the
// module is evaluated (the core evaluates it before any user code runs). It must not be bundled
// into a lazily loaded chunk.
//
// Decisions:
// - Members (one rule on every side, Cloudflare's for RpcTarget): a target exposes the methods and
//   getters declared on its class, below the side's base classes (RpcTarget, WorkerEntrypoint) and
//   Object.prototype; never an instance's own properties (`this.fn = () => {}` in a constructor is
//   not callable), never `constructor`, `then`, `catch`, `finally`, `__proto__`. A getter is read
//   when called as a method. A stub of a remote capability (the host forwarding another worker's
//   stub) forwards any name: its own side applies the rule.
// - Imports are held weakly (WeakRef, FinalizationRegistry) where the side has a GC hook that can
//   tell the other side a stub is gone: the host and the shard link. The runtime holds its stubs
//   strongly: the host's exports for a sandbox live as long as the sandbox or until revoked or
//   disposed by the sandbox, and the isolate's finalizers would run user-observable work at GC
//   times; `weakImports: false` there.

import { disposeSymbol } from "./dispose.ts";

export { disposeSymbol };

// ---- Intrinsics, captured once at evaluation. -------------------------------------------------

const ReflectApply = Reflect.apply;
const uncurry = <A extends unknown[], R>(fn: (...args: A) => R): ((self: unknown, ...args: A) => R) =>
  ReflectApply(Function.prototype.bind, Function.prototype.call, [fn]) as (self: unknown, ...args: A) => R;
const MapCtor = Map;
const MapGet = uncurry(Map.prototype.get) as (map: Map<unknown, unknown>, key: unknown) => unknown;
const MapSet = uncurry(Map.prototype.set) as (map: Map<unknown, unknown>, key: unknown, value: unknown) => void;
const MapDelete = uncurry(Map.prototype.delete) as (map: Map<unknown, unknown>, key: unknown) => boolean;
const MapForEach = uncurry(Map.prototype.forEach) as (map: Map<unknown, unknown>, fn: (value: unknown, key: unknown) => void) => void;
const WeakMapCtor = WeakMap;
const WeakMapGet = uncurry(WeakMap.prototype.get) as (map: WeakMap<object, unknown>, key: object) => unknown;
const WeakMapSet = uncurry(WeakMap.prototype.set) as (map: WeakMap<object, unknown>, key: object, value: unknown) => void;
const WeakMapHas = uncurry(WeakMap.prototype.has) as (map: WeakMap<object, unknown>, key: object) => boolean;
const WeakRefCtor = typeof WeakRef === "function" ? WeakRef : undefined;
const WeakRefDeref = WeakRefCtor === undefined ? undefined : (uncurry(WeakRefCtor.prototype.deref) as (ref: WeakRef<object>) => object | undefined);
const FinalizationRegistryCtor = typeof FinalizationRegistry === "function" ? FinalizationRegistry : undefined;
const FinalizationRegister =
  FinalizationRegistryCtor === undefined
    ? undefined
    : (uncurry(FinalizationRegistryCtor.prototype.register) as (registry: FinalizationRegistry<unknown>, target: object, held: unknown) => void);
const ProxyCtor = Proxy;
const ObjectCreate = Object.create;
const ObjectDefineProperty = Object.defineProperty;
const ObjectGetPrototypeOf = Object.getPrototypeOf;
const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
const ObjectPrototype = Object.prototype;
const ObjectHasOwn = uncurry(Object.prototype.hasOwnProperty) as (object: object, key: PropertyKey) => boolean;
const PromiseCtor = Promise;
const PromiseRejectFn = Promise.reject;
const PromiseReject = (error: unknown): Promise<never> => ReflectApply(PromiseRejectFn, PromiseCtor, [error]) as Promise<never>;
const PromiseThen = uncurry(Promise.prototype.then) as (promise: Promise<unknown>, onFulfilled: undefined, onRejected: () => void) => unknown;
const RangeErrorCtor = RangeError;
const TypeErrorCtor = TypeError;
const noop = () => {};

// ---- The codec's interfaces (wire.ts takes these shapes). ------------------------------------

/**
 * The codec's CapKind: 0 a function, 1 a target, 2 one of the receiver's own capabilities handed
 * back, 3 a target that is also a service binding (a worker's entrypoint, Cloudflare's Fetcher):
 * where the receiving table is told how (`fetcher`), its stub's `connect` opens a socket to the
 * worker's connect(socket) handler instead of being an RPC method; elsewhere it is a target.
 */
export const CapKind = { Function: 0, Target: 1, Returned: 2, Fetcher: 3 } as const;
export type CapKind = (typeof CapKind)[keyof typeof CapKind];

export interface CapExporter {
  /** Returns CapKind for values that travel by reference, -1 for data. */
  classify(value: object): CapKind | -1;
  /** Registers a capability in this side's export table and returns its id. */
  export(value: object, kind: CapKind): number;
}

export interface CapImporter {
  import(kind: CapKind, id: number): unknown;
}

// ---- The members rule. -----------------------------------------------------------------------

const FORBIDDEN_MEMBERS = new MapCtor<string, true>();
MapSet(FORBIDDEN_MEMBERS, "constructor", true);
MapSet(FORBIDDEN_MEMBERS, "then", true);
MapSet(FORBIDDEN_MEMBERS, "catch", true);
MapSet(FORBIDDEN_MEMBERS, "finally", true);
MapSet(FORBIDDEN_MEMBERS, "__proto__", true);

type Method = (...args: unknown[]) => unknown;

/**
 * The method `target` exposes under `name` (the rule above): a function or getter declared on its
 * class chain, stopping at any of `bases` or Object.prototype. Undefined when it exposes none.
 */
export function classMember(target: object, name: unknown, bases: readonly object[]): Method | undefined {
  if (typeof name !== "string" || MapGet(FORBIDDEN_MEMBERS, name) !== undefined) return undefined;
  for (let proto = ObjectGetPrototypeOf(target) as object | null; proto !== null && proto !== ObjectPrototype; proto = ObjectGetPrototypeOf(proto) as object | null) {
    for (let i = 0; i < bases.length; i++) if (proto === bases[i]) return undefined;
    const descriptor = ObjectGetOwnPropertyDescriptor(proto, name);
    if (descriptor === undefined) continue;
    // Own fields only: a descriptor inherits from Object.prototype, where code may have put `get`.
    if (ObjectHasOwn(descriptor, "value")) return typeof descriptor.value === "function" ? (descriptor.value as Method) : undefined;
    const get = descriptor.get;
    if (typeof get === "function") {
      return function (this: object) {
        return ReflectApply(get, this, []);
      };
    }
    return undefined;
  }
  return undefined;
}

// ---- The stub factory. -----------------------------------------------------------------------

/** A descriptor with no prototype: one inheriting from Object.prototype would read `get` or `set` put there. */
function valueDescriptor(value: unknown): PropertyDescriptor {
  const descriptor = ObjectCreate(null) as PropertyDescriptor;
  descriptor.value = value;
  return descriptor;
}

/** A function stub: calling it calls `call` with the arguments (an array). */
export function functionStub(call: (args: unknown[]) => unknown, dispose?: () => void, brand?: symbol): Method {
  const stub = (...args: unknown[]) => call(args);
  if (brand !== undefined) ObjectDefineProperty(stub, brand, valueDescriptor(true));
  if (dispose !== undefined) ObjectDefineProperty(stub, disposeSymbol, valueDescriptor(dispose));
  return stub;
}

export interface TargetStubOptions {
  /** The function member `name` is, made once per name. */
  method(name: string): Method;
  dispose?: () => void;
  /** A symbol the stub answers `true` for (the host's remote-capability brand). */
  brand?: symbol;
  /** Members answered as they are instead of by `method` (an entrypoint's `fetch`); a null-prototype object. */
  fixed?: Record<string, unknown>;
  /** Makes the stub callable: the Proxy wraps this function (the runtime's `ctx.exports` loopback). */
  callable?: Method;
}

/**
 * A stub whose every string member is a method (made by `method`, one per name). `then` is
 * undefined (a stub is not a thenable: awaiting it gives the stub), other symbols are undefined
 * but the brand and Symbol.dispose, and nothing can be set or defined on it.
 */
export function targetStub(options: TargetStubOptions): object {
  const { method, dispose, brand, fixed } = options;
  const methods = new MapCtor<string, Method>();
  // The handler has no prototype: a trap inherited from Object.prototype (`apply`, `ownKeys`) would be used.
  const handler = ObjectCreate(null) as ProxyHandler<object>;
  handler.get = (_target, key) => {
    if (typeof key !== "string") {
      if (key === brand && brand !== undefined) return true;
      if (key === disposeSymbol) return dispose;
      return undefined;
    }
    if (key === "then") return undefined;
    if (fixed !== undefined && ObjectHasOwn(fixed, key)) return fixed[key];
    let fn = MapGet(methods, key) as Method | undefined;
    if (fn === undefined) {
      fn = method(key);
      MapSet(methods, key, fn);
    }
    return fn;
  };
  handler.has = (_target, key) => (key === disposeSymbol && dispose !== undefined) || (key === brand && brand !== undefined);
  handler.set = () => false;
  handler.defineProperty = () => false;
  return new ProxyCtor((options.callable ?? ObjectCreate(null)) as object, handler);
}

// ---- The table. ------------------------------------------------------------------------------

export interface CapTableOptions {
  /** Which of this side's values travel by reference (stubs it imported are recognised by the table). */
  classify(value: object): CapKind | -1;
  /** Calls the other side's capability `id` (a stub was called and is live); resolves to the result. */
  invoke(id: number, method: string | null, args: unknown[]): Promise<unknown>;
  /** This side dropped its stub for the other side's capability `id` (disposed or collected). Not called once closed. */
  release(id: number): void;
  /** The error a disposed stub's calls reject with. */
  disposedError(): Error;
  /** The error for one of this side's capabilities handed back after it was released or revoked. */
  returnedMissing(): Error;
  /** The most exports held at once, and the RangeError's message past it. */
  maxExports: number;
  tooManyExports: string;
  /** The most stubs held at once (counting only live ones where imports are weak), and the RangeError's message past it. */
  maxImports?: number;
  tooManyImports?: string;
  /** Stubs held by WeakRef and released to the other side when collected (see the decision above). */
  weakImports: boolean;
  /** Target stubs answer `brand`; function stubs too when `brandFunctions`. */
  brand?: symbol;
  brandFunctions?: boolean;
  /** Mark every stub call's promise handled (the host: a dropped rejection must not end the process). */
  markHandled?: boolean;
  /** The members rule's stopping classes on this side (RpcTarget.prototype, WorkerEntrypoint.prototype). */
  bases: readonly object[];
  /** Values (stubs of a third party) whose members are forwarded by name instead of by the rule. */
  forwards?(target: object): boolean;
  /**
   * How this side's stubs of the other side's service bindings (CapKind.Fetcher) differ from a
   * target's: `members(id)` are answered as they are (the `connect` that opens a socket), and
   * `made(stub)` sees each such stub once it is made. Without it, they are plain target stubs.
   */
  fetcher?: { members(id: number): Record<string, unknown>; made?(stub: object): void };
}

type Held = object | WeakRef<object>;

export class CapTable {
  readonly #options: CapTableOptions;
  #exported = new MapCtor<number, object>();
  #exportScopes = new MapCtor<number, string>();
  #scopes = new MapCtor<string, Map<object, number>>();
  #nextId = 1;
  #exportCount = 0;
  /** Imports by kind (Function, Target), then id. */
  readonly #imports: [Map<number, Held>, Map<number, Held>] = [new MapCtor(), new MapCtor()];
  #importCount = 0;
  readonly #importedIds = new WeakMapCtor<object, number>();
  readonly #finalizer: FinalizationRegistry<[number, number]> | undefined;
  #closedError: Error | undefined;
  #closed = false;
  readonly #exporters = new MapCtor<string, CapExporter>();

  constructor(options: CapTableOptions) {
    this.#options = options;
    if (options.weakImports) {
      if (WeakRefCtor === undefined || FinalizationRegistryCtor === undefined) throw new TypeError("weakImports needs WeakRef and FinalizationRegistry.");
      this.#finalizer = new FinalizationRegistryCtor<[number, number]>((held) => this.#collected(held[0], held[1]));
    }
  }

  // -- exports

  /** Live exports. */
  get exportedCount(): number {
    return this.#exportCount;
  }

  /** The id the next export gets: with rollback(), takes back the exports of a value that failed to cross. */
  get nextId(): number {
    return this.#nextId;
  }

  /** The codec's exporter for values sent to `scope` (the shard link's worker; "" elsewhere). */
  exporter(scope = ""): CapExporter {
    let exporter = MapGet(this.#exporters, scope) as CapExporter | undefined;
    if (exporter === undefined) {
      exporter = {
        classify: (value) => (WeakMapHas(this.#importedIds, value) ? CapKind.Returned : this.#options.classify(value)),
        export: (value, kind) => (kind === CapKind.Returned ? (WeakMapGet(this.#importedIds, value) as number) : this.export(value, scope)),
      };
      // Only the unscoped one is kept: scopes come and go with workers.
      if (scope === "") MapSet(this.#exporters, scope, exporter);
    }
    return exporter;
  }

  /** Puts `value` in the table for `scope` (once per scope) and returns its id. */
  export(value: object, scope = ""): number {
    let ids = MapGet(this.#scopes, scope) as Map<object, number> | undefined;
    if (ids === undefined) MapSet(this.#scopes, scope, (ids = new MapCtor()));
    let id = MapGet(ids, value) as number | undefined;
    if (id === undefined) {
      if (this.#exportCount >= this.#options.maxExports) throw new RangeErrorCtor(this.#options.tooManyExports);
      id = this.#nextId++;
      MapSet(ids, value, id);
      MapSet(this.#exported, id, value);
      MapSet(this.#exportScopes, id, scope);
      this.#exportCount++;
    }
    return id;
  }

  /** The exported value with this id (any value may be asked: ids come from the other side). */
  lookup(id: unknown): object | undefined {
    return typeof id === "number" ? (MapGet(this.#exported, id) as object | undefined) : undefined;
  }

  /** The id `value` was exported under to `scope`, or to any scope when none is given. */
  idOf(value: object, scope?: string): number | undefined {
    if (scope !== undefined) {
      const ids = MapGet(this.#scopes, scope) as Map<object, number> | undefined;
      return ids === undefined ? undefined : (MapGet(ids, value) as number | undefined);
    }
    let found: number | undefined;
    MapForEach(this.#scopes, (ids) => {
      found ??= MapGet(ids as Map<object, number>, value) as number | undefined;
    });
    return found;
  }

  /** The scope export `id` was made for. */
  scopeOf(id: unknown): string {
    return (typeof id === "number" ? (MapGet(this.#exportScopes, id) as string | undefined) : undefined) ?? "";
  }

  /** The other side dropped its stub for export `id`, or this side takes it back. */
  release(id: unknown): void {
    if (typeof id !== "number") return;
    const value = MapGet(this.#exported, id) as object | undefined;
    if (value === undefined) return;
    MapDelete(this.#exported, id);
    const ids = MapGet(this.#scopes, MapGet(this.#exportScopes, id)) as Map<object, number> | undefined;
    if (ids !== undefined && MapGet(ids, value) === id) MapDelete(ids, value);
    MapDelete(this.#exportScopes, id);
    this.#exportCount--;
  }

  /** Takes back every export made since `mark` (nextId before a value was encoded): the other side never saw them. */
  rollback(mark: number): void {
    for (let id = mark; id < this.#nextId; id++) this.release(id);
  }

  /** Cuts `scope` off from `value`: its stubs' later calls fail as disposed. */
  revoke(value: object, scope = ""): boolean {
    const id = this.idOf(value, scope);
    if (id === undefined) return false;
    this.release(id);
    return true;
  }

  /** Forgets which values went to `scope` (its worker record is gone); the stubs it holds still work. */
  dropScope(scope: string): void {
    MapDelete(this.#scopes, scope);
  }

  /**
   * The other side calls export `target` (looked up by the caller, with its own checks between):
   * a function with no method, else the member the rule allows; a TypeError otherwise.
   */
  callMember(target: object, method: unknown, args: unknown[]): unknown {
    if (method === null || method === undefined) {
      if (typeof target !== "function") throw new TypeErrorCtor("This stub is not a function.");
      return ReflectApply(target as Method, undefined, args);
    }
    const fn = this.member(target, method);
    // A method name that is not a string came from a broken or compromised other side: it is not printed.
    if (fn === undefined) throw new TypeErrorCtor(`The RPC receiver does not implement the method "${typeof method === "string" ? method : typeof method}".`);
    return ReflectApply(fn, target, args);
  }

  /** The member `target` exposes under `name` (the rule above). */
  member(target: object, name: unknown): Method | undefined {
    if (this.#options.forwards !== undefined && this.#options.forwards(target)) {
      if (typeof name !== "string" || MapGet(FORBIDDEN_MEMBERS, name) !== undefined) return undefined;
      const fn = (target as Record<string, unknown>)[name];
      return typeof fn === "function" ? (fn as Method) : undefined;
    }
    return classMember(target, name, this.#options.bases);
  }

  // -- imports

  /** Stubs held (where imports are weak, entries whose stub was collected count until their finalizer runs). */
  get importedCount(): number {
    return this.#importCount;
  }

  /** Whether `value` is a stub of this table's. */
  isImported(value: object): boolean {
    return WeakMapHas(this.#importedIds, value);
  }

  /** The other side's id of the capability `value` is a stub of (undefined for anything else). */
  importedId(value: object): number | undefined {
    return WeakMapGet(this.#importedIds, value) as number | undefined;
  }

  readonly importer: CapImporter = {
    import: (kind, id) => {
      if (kind === CapKind.Returned) {
        const own = MapGet(this.#exported, id);
        if (own === undefined) throw this.#options.returnedMissing();
        return own;
      }
      if (kind !== CapKind.Function && kind !== CapKind.Target && kind !== CapKind.Fetcher) throw new TypeErrorCtor("Unknown capability kind.");
      // A service binding is a target (one id is one capability, whatever kind it was sent as).
      const slot = kind === CapKind.Function ? CapKind.Function : CapKind.Target;
      const imports = this.#imports[slot];
      const held = MapGet(imports, id) as Held | undefined;
      if (held !== undefined) {
        const stub = this.#finalizer === undefined ? held : WeakRefDeref!(held as WeakRef<object>);
        if (stub !== undefined) return stub;
      }
      const max = this.#options.maxImports;
      if (max !== undefined && this.#importCount >= max) this.#prune(max);
      const fetcher = kind === CapKind.Fetcher ? this.#options.fetcher : undefined;
      const stub = slot === CapKind.Function ? this.#functionStub(id) : this.#targetStub(id, fetcher?.members(id));
      if (this.#finalizer === undefined) MapSet(imports, id, stub);
      else {
        MapSet(imports, id, new WeakRefCtor!(stub));
        FinalizationRegister!(this.#finalizer, stub, [slot, id]);
      }
      if (fetcher?.made !== undefined) fetcher.made(stub);
      if (held === undefined) this.#importCount++;
      WeakMapSet(this.#importedIds, stub, id);
      return stub;
    },
  };

  /**
   * A token standing for the other side's capability `id` where no stub is needed (the shard's
   * outbound fetcher is called by id): when it is collected, the capability is released.
   */
  adopt(id: number): object {
    if (this.#finalizer === undefined) throw new TypeErrorCtor("adopt() needs weakImports.");
    const token = {};
    FinalizationRegister!(this.#finalizer, token, [-1, id]);
    return token;
  }

  /** At the cap: entries whose stub was collected (finalizer not run yet) are dropped; if still at it, a RangeError. */
  #prune(max: number): void {
    if (this.#finalizer !== undefined) {
      for (let kind = 0; kind < 2; kind++) {
        const imports = this.#imports[kind];
        const dead: number[] = [];
        MapForEach(imports, (ref, id) => {
          if (WeakRefDeref!(ref as WeakRef<object>) === undefined) dead[dead.length] = id as number;
        });
        for (let i = 0; i < dead.length; i++) MapDelete(imports, dead[i]);
        this.#importCount -= dead.length;
      }
    }
    if (this.#importCount >= max) throw new RangeErrorCtor(this.#options.tooManyImports ?? "Too many capabilities held.");
  }

  #collected(kind: number, id: number): void {
    // The entry goes with its stub: a side handed fresh functions call after call must not grow
    // this table for as long as it lives.
    if (kind !== -1) {
      const imports = this.#imports[kind as 0 | 1];
      const ref = MapGet(imports, id) as WeakRef<object> | undefined;
      if (ref !== undefined) {
        // The other side sent the id again after this stub was collected and before this ran: the
        // new stub still needs the capability (the other side's table does not count stubs), and
        // its own finalizer releases it.
        if (WeakRefDeref!(ref) !== undefined) return;
        MapDelete(imports, id);
        this.#importCount--;
      }
    }
    if (!this.#closed) this.#options.release(id);
  }


  #call(id: number, method: string | null, args: unknown[], disposed: boolean): Promise<unknown> {
    const options = this.#options;
    const call = this.#closedError !== undefined ? PromiseReject(this.#closedError) : disposed ? PromiseReject(options.disposedError()) : options.invoke(id, method, args);
    // The language calls some methods of a value by itself (JSON.stringify calls toJSON) and drops
    // the promise: where asked, it is marked handled; a caller that awaits it still sees the rejection.
    if (options.markHandled) PromiseThen(call, undefined, noop);
    return call;
  }

  #functionStub(id: number): object {
    let disposed = false;
    const options = this.#options;
    return functionStub(
      (args) => this.#call(id, null, args, disposed),
      () => {
        if (disposed) return;
        disposed = true;
        if (!this.#closed) options.release(id);
      },
      options.brandFunctions ? options.brand : undefined,
    );
  }

  #targetStub(id: number, fixed?: Record<string, unknown>): object {
    let disposed = false;
    const options = this.#options;
    return targetStub({
      fixed,
      method:
        (name) =>
        (...args: unknown[]) =>
          this.#call(id, name, args, disposed),
      dispose: () => {
        if (disposed) return;
        disposed = true;
        if (!this.#closed) options.release(id);
      },
      brand: options.brand,
    });
  }

  // -- the end

  /**
   * The other side is gone: exports are dropped; with `error`, stubs from the other side fail with
   * it from now on and no more releases are sent.
   */
  close(error?: Error): void {
    if (this.#closed) return;
    this.#exported = new MapCtor();
    this.#exportScopes = new MapCtor();
    this.#scopes = new MapCtor();
    this.#exportCount = 0;
    if (error !== undefined) {
      this.#closedError = error;
      this.#closed = true;
    }
  }
}
