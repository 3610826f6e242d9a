// The host's half of one sandbox's boundary: the table of host capabilities the sandbox may call
// (and nothing else), and stubs for the capabilities the sandbox handed out.

import { DataCloneError, StubDisposedError } from "../errors.ts";
import { CapKind, decode, encode, type CapExporter, type CapImporter, type Encoded } from "../protocol/wire.ts";
import { MAX_OBJECTS_PER_VALUE, type Meter } from "../protocol/clonable.ts";
import { errorFromSandbox } from "./errors.ts";
import { hostCopier } from "./host-errors.ts";
import { RpcTarget, isRemoteCapability, remoteCapability, targetMethod } from "./rpc-target.ts";

/** What the peer needs from the worker that owns the sandbox. */
export interface SandboxCalls {
  /** Calls a capability the sandbox exported; resolves to the encoded result. */
  invoke(capId: number, method: string | null, args: Encoded): Promise<unknown>;
  release(capId: number): void;
}

export const MAX_HOST_CAPS = 100_000;
/** Stubs the host may hold for one sandbox's own functions and RpcTargets (the runtime's MAX_EXPORTED_CAPS). */
export const MAX_SANDBOX_CAPS = 100_000;

const disposeSymbol: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for("Symbol.dispose");

export class Peer {
  private readonly exported = new Map<number, object>();
  private readonly exportIds = new Map<object, number>();
  private nextId = 1;
  private readonly imported = new Map<string, WeakRef<object>>();
  /** The sandbox's id for each stub the host holds: passing one back gives the sandbox its own object. */
  private readonly importedIds = new WeakMap<object, number>();
  private readonly finalizer = new FinalizationRegistry<[string, number]>(([key, capId]) => {
    // The entry goes with its stub: a sandbox that hands the host fresh functions call after call
    // must not grow this table for as long as it lives.
    if (this.imported.get(key)?.deref() === undefined) this.imported.delete(key);
    this.calls.release(capId);
  });

  /** `maxPendingArgBytes`: the budget for the arguments of the sandbox's host calls in flight (see admitCall). */
  constructor(
    private readonly calls: SandboxCalls,
    private readonly maxPendingArgBytes = Infinity,
  ) {}

  readonly exporter: CapExporter = {
    classify: (value) => {
      if (this.importedIds.has(value)) return CapKind.Returned;
      if (value instanceof RpcTarget) return CapKind.Target;
      // Another worker's function stub travels as a function, its entrypoints and targets as targets.
      if (isRemoteCapability(value)) return typeof value === "function" ? CapKind.Function : CapKind.Target;
      return -1;
    },
    export: (value, kind) => {
      if (kind === CapKind.Returned) return this.importedIds.get(value)!;
      let id = this.exportIds.get(value);
      if (id === undefined) {
        if (this.exported.size >= MAX_HOST_CAPS) throw new RangeError("Too many capabilities passed to this sandbox.");
        id = this.nextId++;
        this.exportIds.set(value, id);
        this.exported.set(id, value);
      }
      return id;
    },
  };

  /** What crosses is checked in the codec's walk: host errors stripped (host-errors.ts), partial views compacted. */
  private readonly copier = hostCopier((value) => this.exporter.classify(value) !== -1);

  readonly importer: CapImporter = {
    import: (kind, id) => {
      if (kind === CapKind.Returned) {
        const own = this.exported.get(id);
        if (own === undefined) throw new StubDisposedError("A capability handed back by the sandbox was already released or revoked.");
        return own;
      }
      const key = `${kind}:${id}`;
      const existing = this.imported.get(key)?.deref();
      if (existing !== undefined) return existing;
      if (this.imported.size >= MAX_SANDBOX_CAPS) this.pruneImported();
      const stub = kind === CapKind.Function ? this.functionStub(id) : this.targetStub(id);
      this.imported.set(key, new WeakRef(stub));
      this.importedIds.set(stub, id);
      this.finalizer.register(stub, [key, id]);
      return stub;
    },
  };

  /**
   * At the cap on stubs for the sandbox's capabilities: entries whose stub was collected (their
   * finalizer has not run yet) are dropped; if the host still holds MAX_SANDBOX_CAPS, a RangeError.
   * The sandbox's runtime keeps to the same cap (caps.ts); this holds against one that does not.
   */
  private pruneImported(): void {
    for (const [key, ref] of this.imported) if (ref.deref() === undefined) this.imported.delete(key);
    if (this.imported.size >= MAX_SANDBOX_CAPS) {
      throw new RangeError(`Too many functions and RpcTargets handed to the host by this sandbox (at most ${MAX_SANDBOX_CAPS} it holds at once).`);
    }
  }

  encode(value: unknown): Encoded {
    try {
      return encode(value, this.exporter, this.copier);
    } catch (error) {
      if (error instanceof Error && error.name === "DataCloneError") throw new DataCloneError(error.message);
      throw error;
    }
  }

  /** Malformed wire data can only come from a sandbox that corrupted its own runtime: a DataCloneError. */
  decode(value: unknown, meter?: Meter): unknown {
    try {
      return decode(value, this.importer, MAX_OBJECTS_PER_VALUE, meter);
    } catch (error) {
      if (error instanceof StubDisposedError || error instanceof RangeError) throw error;
      throw new DataCloneError(`A value from the sandbox could not be decoded: ${(error as Error).message}`);
    }
  }

  /** Bytes of arguments held by this sandbox's host calls in flight (estimated as they are checked). */
  private pendingArgBytes = 0;

  /** The sandbox calls host capability `capId`. Unknown ids and non-methods are refused. */
  async call(capId: unknown, method: unknown, args: unknown): Promise<Encoded> {
    return this.admitCall(capId, method, args)();
  }

  /**
   * Checks a call of the sandbox's at once, as it arrives: the capability, the arguments, and the
   * budget for the arguments of its host calls in flight (maxPendingArgBytes, the sandbox's
   * memoryMb): a sandbox must not make the host hold its memory many times over by calling a slow
   * host function again and again with the same large buffer. Returns the call to run, after
   * `before` (the subrequest count) if given; the arguments count against the budget until it settles.
   */
  admitCall(capId: unknown, method: unknown, args: unknown): (before?: () => Promise<void>) => Promise<Encoded> {
    const target = typeof capId === "number" ? this.exported.get(capId) : undefined;
    if (target === undefined) throw new StubDisposedError("This stub was disposed; the capability it pointed to can no longer be called.");
    const meter = { bytes: 0 };
    const decodedArgs = this.decode(args, meter);
    if (!Array.isArray(decodedArgs)) throw new TypeError("Malformed call arguments.");
    if (this.pendingArgBytes + meter.bytes > this.maxPendingArgBytes) {
      throw new RangeError(
        `The arguments of this sandbox's host calls in flight would hold more than ${Math.round(this.maxPendingArgBytes / 2 ** 20)} MiB on the host (its memoryMb); wait for earlier calls to finish.`,
      );
    }
    this.pendingArgBytes += meter.bytes;
    return async (before) => {
      try {
        if (before !== undefined) await before();
        let result: unknown;
        if (method === null || method === undefined) {
          if (typeof target !== "function") throw new TypeError("This stub is not a function.");
          result = await (target as (...a: unknown[]) => unknown)(...decodedArgs);
        } else {
          const fn = targetMethod(target, method);
          if (fn === undefined) throw new TypeError(`The RPC receiver does not implement the method "${typeof method === "string" ? method : typeof method}".`);
          result = await fn.apply(target, decodedArgs);
        }
        return this.encode(result);
      } finally {
        this.pendingArgBytes -= meter.bytes;
      }
    };
  }

  /** The sandbox dropped its stub for a host capability; the host may also revoke one with this. */
  release(capId: unknown): void {
    if (typeof capId !== "number") return;
    const value = this.exported.get(capId);
    if (value === undefined) return;
    this.exported.delete(capId);
    this.exportIds.delete(value);
  }

  /** Revokes a host function or RpcTarget previously passed into this sandbox. */
  revoke(value: object): boolean {
    const id = this.exportIds.get(value);
    if (id === undefined) return false;
    this.release(id);
    return true;
  }

  close(): void {
    this.exported.clear();
    this.exportIds.clear();
  }

  /**
   * Calls a capability of the sandbox. The language calls some methods of a value by itself
   * (`JSON.stringify` calls toJSON, a template string toString): when the value came from a
   * sandbox those are stubs, and the promise such a call returns is dropped. The sandbox decides
   * whether it rejects, and an unhandled rejection would end the host process; so the promise is
   * marked handled here, and a caller that awaits it still sees the rejection.
   */
  private invoke(id: number, method: string | null, args: unknown[], isDisposed: () => boolean): Promise<unknown> {
    const call = this.invokeNow(id, method, args, isDisposed);
    call.catch(() => {});
    return call;
  }

  private async invokeNow(id: number, method: string | null, args: unknown[], isDisposed: () => boolean): Promise<unknown> {
    // Once the worker is gone, calls.invoke fails with the reason it went (limit, disposal).
    if (isDisposed()) throw new StubDisposedError("This stub was disposed; the capability it pointed to can no longer be called.");
    const result = await this.calls.invoke(id, method, this.encode(args));
    return this.decode(result);
  }

  private functionStub(id: number): object {
    let disposed = false;
    const stub = (...args: unknown[]) => this.invoke(id, null, args, () => disposed);
    Object.defineProperty(stub, remoteCapability, { value: true });
    Object.defineProperty(stub, disposeSymbol, {
      value: () => {
        if (disposed) return;
        disposed = true;
        this.calls.release(id);
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
      this.calls.release(id);
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

export { errorFromSandbox };
