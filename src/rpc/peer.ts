// The host's half of one sandbox's boundary: the table of host capabilities the sandbox may call
// (and nothing else), and stubs for the capabilities the sandbox handed out.

import { DataCloneError, StubDisposedError } from "../errors.ts";
import { decode, encode, type Encoded, type LeafCopier } from "../protocol/wire.ts";
import { CapKind, CapTable, type CapExporter, type CapImporter } from "../protocol/cap-table.ts";
import { MAX_OBJECTS_PER_VALUE, type Meter } from "../protocol/clonable.ts";
import { errorFromSandbox } from "./errors.ts";
import { hostCopier } from "./host-errors.ts";
import { RpcTarget, isFetcher, isRemoteCapability, remoteCapability } from "./rpc-target.ts";

/** What the peer needs from the worker that owns the sandbox. */
export interface SandboxCalls {
  /** Calls a capability the sandbox exported; resolves to the encoded result. */
  invoke(capId: number, method: string | null, args: Encoded): Promise<unknown>;
  release(capId: number): void;
}

export const MAX_HOST_CAPS = 100_000;
/** Stubs the host may hold for one sandbox's own functions and RpcTargets (the runtime's MAX_EXPORTED_CAPS). */
export const MAX_SANDBOX_CAPS = 100_000;

export class Peer {
  /** The table: host capabilities the sandbox may call, stubs for the sandbox's (src/protocol/cap-table.ts). */
  readonly table: CapTable;

  /** `maxPendingArgBytes`: the budget for the arguments of the sandbox's host calls in flight (see admitCall). */
  constructor(
    private readonly calls: SandboxCalls,
    private readonly maxPendingArgBytes = Infinity,
  ) {
    this.table = new CapTable({
      classify: (value) => {
        if (value instanceof RpcTarget) return CapKind.Target;
        // Another worker's function stub travels as a function, its entrypoints as service
        // bindings (the sandbox's stub then has Fetcher.connect), its targets as targets.
        if (isRemoteCapability(value)) return typeof value === "function" ? CapKind.Function : isFetcher(value) ? CapKind.Fetcher : CapKind.Target;
        return -1;
      },
      invoke: async (id, method, args) => this.decode(await this.calls.invoke(id, method, this.encode(args))),
      release: (id) => this.calls.release(id),
      disposedError: () => new StubDisposedError("This stub was disposed; the capability it pointed to can no longer be called."),
      returnedMissing: () => new StubDisposedError("A capability handed back by the sandbox was already released or revoked."),
      maxExports: MAX_HOST_CAPS,
      tooManyExports: "Too many capabilities passed to this sandbox.",
      // The sandbox's runtime keeps to the same cap (caps.ts); this holds against one that does not.
      maxImports: MAX_SANDBOX_CAPS,
      tooManyImports: `Too many functions and RpcTargets handed to the host by this sandbox (at most ${MAX_SANDBOX_CAPS} it holds at once).`,
      weakImports: true,
      brand: remoteCapability,
      brandFunctions: true,
      markHandled: true,
      bases: [RpcTarget.prototype],
      forwards: isRemoteCapability,
    });
    this.exporter = this.table.exporter();
    this.importer = this.table.importer;
    this.copier = hostCopier((value) => this.exporter.classify(value) !== -1);
  }

  readonly exporter: CapExporter;
  readonly importer: CapImporter;

  /** What crosses is checked in the codec's walk: host errors stripped (host-errors.ts), partial views compacted. */
  private readonly copier: LeafCopier;

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
      // At most the sandbox's memoryMb, each string or BigInt weighed per reference (the runtime checks first).
      return decode(value, this.importer, MAX_OBJECTS_PER_VALUE, meter, this.maxPendingArgBytes);
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
   * `answer`, if given, sees the capability and its answer first, and gives back what the sandbox gets;
   * `failed`, if given, sees the capability and its error first.
   */
  admitCall(
    capId: unknown,
    method: unknown,
    args: unknown,
    answer?: (target: object, value: unknown) => unknown,
    failed?: (target: object, error: unknown) => void,
  ): (before?: () => Promise<void>) => Promise<Encoded> {
    const target = this.table.lookup(capId);
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
        let value: unknown;
        try {
          value = await this.table.callMember(target, method, decodedArgs);
        } catch (error) {
          failed?.(target, error);
          throw error;
        }
        return this.encode(answer === undefined ? value : answer(target, value));
      } finally {
        this.pendingArgBytes -= meter.bytes;
      }
    };
  }

  /** The sandbox dropped its stub for a host capability; the host may also revoke one with this. */
  release(capId: unknown): void {
    this.table.release(capId);
  }

  /** Revokes a host function or RpcTarget previously passed into this sandbox. */
  revoke(value: object): boolean {
    return this.table.revoke(value);
  }

  close(): void {
    this.table.close();
  }
}

export { errorFromSandbox };
