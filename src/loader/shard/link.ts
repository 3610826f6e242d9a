// Capabilities across the process or thread hop, one Link on each side of a host <-> shard connection.
// A function or RpcTarget sent to the other side stays here in a table and crosses as an id (using
// the boundary's own value format, src/protocol/wire.ts); the other side gets a stub whose calls
// come back as requests naming that id, which is checked against this table. A stub handed back
// decodes to the original object. Exports are grouped by scope (the worker they were sent to), so
// revoking a capability for one worker leaves the others' access alone, as in-process.

import { viewCopier } from "../../rpc/compact-views.ts";
import { hostCopier } from "../../rpc/host-errors.ts";
import { DataCloneError, StubDisposedError } from "../../errors.ts";
import { RpcTarget, isRemoteCapability, remoteCapability, targetMethod } from "../../rpc/rpc-target.ts";
import { CapKind, decode, encode, type CapExporter, type CapImporter, type Encoded, type LeafCopier } from "../../protocol/wire.ts";
import type { Meter } from "../../protocol/clonable.ts";

export interface LinkTransport {
  /** Calls capability `capId` of the other side; resolves to the encoded result. */
  invoke(capId: number, method: string | null, args: Encoded): Promise<unknown>;
  /** This side dropped its stub for the other side's capability `capId`. */
  release(capId: number): void;
}

export const MAX_LINK_CAPS = 1_000_000;

const disposeSymbol: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for("Symbol.dispose");

export class Link {
  private readonly exported = new Map<number, object>();
  private readonly exportScopes = new Map<number, string>();
  private readonly scopes = new Map<string, Map<object, number>>();
  private nextId = 1;
  private readonly imported = new Map<string, WeakRef<object>>();
  private readonly importedIds = new WeakMap<object, number>();
  private readonly finalizer = new FinalizationRegistry<[string, number]>(([key, capId]) => {
    if (this.imported.get(key)?.deref() === undefined) this.imported.delete(key);
    if (this.closedError === undefined) this.transport.release(capId);
  });
  private closedError: Error | undefined;

  /**
   * `markFunctions`: function stubs carry the remote-capability brand, as the host's stubs for
   * sandbox functions do. A shard's stubs for host functions must not: its in-process boundary
   * sends branded values as RpcTarget stubs, and a sandbox must receive a host function as a function.
   */
  constructor(
    private readonly transport: LinkTransport,
    private readonly markFunctions: boolean,
    /** The host's side: its Errors cross as name and message only (host-errors.ts), as in-process. */
    stripErrors = false,
    /** The most objects a value from the other side may hold: MAX_OBJECTS_PER_VALUE on the host's side (its values come from sandboxes). */
    private readonly maxObjects = Infinity,
    /**
     * On the host's side: the bytes of arguments the calls of one scope (a worker's sandbox) may
     * hold here while they are in flight (its memoryMb). The shard checks the same budget first;
     * this holds against a shard that does not.
     */
    private readonly argBudget?: (scope: string) => number,
  ) {
    this.copier = stripErrors ? hostCopier((value) => this.exporter("").classify(value) !== -1) : viewCopier;
  }

  private readonly copier: LeafCopier;

  private readonly pendingArgBytes = new Map<string, number>();

  get exportedCount(): number {
    return this.exported.size;
  }

  private exporter(scope: string): CapExporter {
    return {
      // A function, branded or not, crosses as a function (-1 lets the codec classify it so).
      classify: (value) =>
        this.importedIds.has(value) ? CapKind.Returned : typeof value !== "function" && (value instanceof RpcTarget || isRemoteCapability(value)) ? CapKind.Target : -1,
      export: (value, kind) => (kind === CapKind.Returned ? this.importedIds.get(value)! : this.exportValue(value, scope)),
    };
  }

  /** Puts `value` in the table for `scope` (once per scope) and returns its id. */
  exportValue(value: object, scope: string): number {
    let ids = this.scopes.get(scope);
    if (ids === undefined) this.scopes.set(scope, (ids = new Map()));
    let id = ids.get(value);
    if (id === undefined) {
      if (this.exported.size >= MAX_LINK_CAPS) throw new RangeError("Too many capabilities passed to this sandbox process or thread.");
      id = this.nextId++;
      ids.set(value, id);
      this.exported.set(id, value);
      this.exportScopes.set(id, scope);
    }
    return id;
  }

  /** The exported value with this id, for requests that are not method calls (outbound fetch). */
  lookup(capId: unknown): object | undefined {
    return typeof capId === "number" ? this.exported.get(capId) : undefined;
  }

  private readonly importer: CapImporter = {
    import: (kind, id) => {
      if (kind === CapKind.Returned) {
        const own = this.exported.get(id);
        if (own === undefined) throw new StubDisposedError("A capability handed back was already released or revoked.");
        return own;
      }
      const key = `${kind}:${id}`;
      const existing = this.imported.get(key)?.deref();
      if (existing !== undefined) return existing;
      const stub = kind === CapKind.Function ? this.functionStub(id) : this.targetStub(id);
      this.imported.set(key, new WeakRef(stub));
      this.importedIds.set(stub, id);
      this.finalizer.register(stub, [key, id]);
      return stub;
    },
  };

  /**
   * A token standing for the other side's capability `capId` where no stub is needed (the
   * outbound fetcher is called by id): when it is garbage-collected, the capability is released.
   */
  adopt(capId: number): object {
    const token = {};
    this.finalizer.register(token, [`adopted:${capId}`, capId]);
    return token;
  }

  encode(value: unknown, scope = ""): Encoded {
    try {
      return encode(value, this.exporter(scope), this.copier);
    } catch (error) {
      if (error instanceof Error && error.name === "DataCloneError" && !(error instanceof DataCloneError)) throw new DataCloneError(error.message);
      throw error;
    }
  }

  /** Malformed data can only come from a broken or compromised other side: a DataCloneError. */
  decode(value: unknown, meter?: Meter): unknown {
    try {
      return decode(value, this.importer, this.maxObjects, meter);
    } catch (error) {
      if (error instanceof StubDisposedError || error instanceof DataCloneError) throw error;
      throw new DataCloneError(`A value from the sandbox process or thread could not be decoded: ${(error as Error).message}`);
    }
  }

  /** The other side calls our capability `capId`. Unknown ids and non-methods are refused. */
  async call(capId: unknown, method: unknown, args: unknown): Promise<Encoded> {
    const target = this.lookup(capId);
    if (target === undefined) throw new StubDisposedError("This stub was disposed; the capability it pointed to can no longer be called.");
    const meter = { bytes: 0 };
    const decodedArgs = this.decode(args, meter);
    if (!Array.isArray(decodedArgs)) throw new TypeError("Malformed call arguments.");
    const scope = this.exportScopes.get(capId as number) ?? "";
    const held = this.pendingArgBytes.get(scope) ?? 0;
    if (this.argBudget !== undefined) {
      const budget = this.argBudget(scope);
      if (held + meter.bytes > budget) {
        throw new RangeError(`The arguments of this sandbox's host calls in flight would hold more than ${Math.round(budget / 2 ** 20)} MiB on the host (its memoryMb); wait for earlier calls to finish.`);
      }
    }
    this.pendingArgBytes.set(scope, held + meter.bytes);
    try {
      let result: unknown;
      if (method === null || method === undefined) {
        if (typeof target !== "function") throw new TypeError("This stub is not a function.");
        result = await (target as (...a: unknown[]) => unknown)(...decodedArgs);
      } else {
        const fn = targetMethod(target, method);
        // A method name that is not a string came from a broken or compromised shard: it is not printed.
        if (fn === undefined) throw new TypeError(`The RPC receiver does not implement the method "${typeof method === "string" ? method : typeof method}".`);
        result = await fn.apply(target, decodedArgs);
      }
      return this.encode(result);
    } finally {
      const left = (this.pendingArgBytes.get(scope) ?? 0) - meter.bytes;
      if (left > 0) this.pendingArgBytes.set(scope, left);
      else this.pendingArgBytes.delete(scope);
    }
  }

  release(capId: unknown): void {
    if (typeof capId !== "number") return;
    const value = this.exported.get(capId);
    if (value === undefined) return;
    this.exported.delete(capId);
    const ids = this.scopes.get(this.exportScopes.get(capId)!);
    if (ids?.get(value) === capId) ids.delete(value);
    this.exportScopes.delete(capId);
  }

  /** Cuts `scope` off from `value`: its stubs' later calls fail with StubDisposedError. */
  revoke(scope: string, value: object): boolean {
    const id = this.scopes.get(scope)?.get(value);
    if (id === undefined) return false;
    this.scopes.get(scope)!.delete(value);
    this.exported.delete(id);
    this.exportScopes.delete(id);
    return true;
  }

  /** Forgets which values went to `scope` (its worker record is gone); the stubs it holds still work. */
  dropScope(scope: string): void {
    this.scopes.delete(scope);
  }

  /** The connection is gone: stubs from the other side fail with `error`, our exports are dropped. */
  close(error: Error): void {
    if (this.closedError !== undefined) return;
    this.closedError = error;
    this.exported.clear();
    this.exportScopes.clear();
    this.scopes.clear();
  }

  /**
   * The language calls some methods of a value by itself (JSON.stringify calls toJSON) and drops
   * the promise: it is marked handled so a rejection cannot end the process; callers that await
   * it still see the rejection.
   */
  private invoke(id: number, method: string | null, args: unknown[], isDisposed: () => boolean): Promise<unknown> {
    const call = this.invokeNow(id, method, args, isDisposed);
    call.catch(() => {});
    return call;
  }

  private async invokeNow(id: number, method: string | null, args: unknown[], isDisposed: () => boolean): Promise<unknown> {
    if (this.closedError !== undefined) throw this.closedError;
    if (isDisposed()) throw new StubDisposedError("This stub was disposed; the capability it pointed to can no longer be called.");
    const result = await this.transport.invoke(id, method, this.encode(args));
    return this.decode(result);
  }

  private functionStub(id: number): object {
    let disposed = false;
    const stub = (...args: unknown[]) => this.invoke(id, null, args, () => disposed);
    if (this.markFunctions) Object.defineProperty(stub, remoteCapability, { value: true });
    Object.defineProperty(stub, disposeSymbol, {
      value: () => {
        if (disposed) return;
        disposed = true;
        if (this.closedError === undefined) this.transport.release(id);
      },
    });
    return stub;
  }

  private targetStub(id: number): object {
    let disposed = false;
    const methods = new Map<string, unknown>();
    const dispose = () => {
      if (disposed) return;
      disposed = true;
      if (this.closedError === undefined) this.transport.release(id);
    };
    return new Proxy(Object.create(null) as object, {
      get: (_target, key) => {
        if (key === remoteCapability) return true;
        if (key === disposeSymbol) return dispose;
        if (typeof key !== "string" || key === "then") return undefined;
        let method = methods.get(key);
        if (method === undefined) {
          method = (...args: unknown[]) => this.invoke(id, key, args, () => disposed);
          methods.set(key, method);
        }
        return method;
      },
      set: () => false,
    });
  }
}
