// Capabilities across the process or thread hop, one Link on each side of a host <-> shard connection.
// A function or RpcTarget sent to the other side stays here in a table and crosses as an id (using
// the boundary's own value format, src/protocol/wire.ts); the other side gets a stub whose calls
// come back as requests naming that id, which is checked against this table. A stub handed back
// decodes to the original object. Exports are grouped by scope (the worker they were sent to), so
// revoking a capability for one worker leaves the others' access alone, as in-process.

import { viewCopier } from "../../rpc/compact-views.ts";
import { hostCopier } from "../../rpc/host-errors.ts";
import { DataCloneError, StubDisposedError } from "../../errors.ts";
import { RpcTarget, isFetcher, isRemoteCapability, markFetcher, remoteCapability } from "../../rpc/rpc-target.ts";
import { decode, encode, type Encoded, type LeafCopier } from "../../protocol/wire.ts";
import { CapKind, CapTable, type CapImporter } from "../../protocol/cap-table.ts";
import type { Meter } from "../../protocol/clonable.ts";

export interface LinkTransport {
  /** Calls capability `capId` of the other side; resolves to the encoded result. */
  invoke(capId: number, method: string | null, args: Encoded): Promise<unknown>;
  /** This side dropped its stub for the other side's capability `capId`. */
  release(capId: number): void;
}

export const MAX_LINK_CAPS = 1_000_000;

export class Link {
  /** Exports grouped by scope, stubs for the other side's capabilities (src/protocol/cap-table.ts). */
  readonly table: CapTable;
  private closedError: Error | undefined;

  /**
   * `markFunctions`: function stubs carry the remote-capability brand, as the host's stubs for
   * sandbox functions do. A shard's stubs for host functions must not: its in-process boundary
   * sends branded values as RpcTarget stubs, and a sandbox must receive a host function as a function.
   */
  constructor(
    private readonly transport: LinkTransport,
    markFunctions: boolean,
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
    /**
     * On the shard's side: how its stub of a service binding the host sent (a worker's entrypoint)
     * connects and fetches, given the host's id of it. The stub is then a service binding here too.
     */
    fetcherCalls?: {
      connect(capId: number, address: unknown, options: unknown): Promise<unknown>;
      fetch(capId: number, request: Request): Promise<Response>;
    },
  ) {
    this.table = new CapTable({
      // A function, branded or not, crosses as a function (-1 lets the codec classify it so); a
      // service binding as one (its sandbox's stub has Fetcher.connect).
      classify: (value) => (typeof value !== "function" && (value instanceof RpcTarget || isRemoteCapability(value)) ? (isFetcher(value) ? CapKind.Fetcher : CapKind.Target) : -1),
      invoke: async (id, method, args) => this.decode(await this.transport.invoke(id, method, this.encode(args))),
      release: (id) => this.transport.release(id),
      disposedError: () => new StubDisposedError("This stub was disposed; the capability it pointed to can no longer be called."),
      returnedMissing: () => new StubDisposedError("A capability handed back was already released or revoked."),
      maxExports: MAX_LINK_CAPS,
      tooManyExports: "Too many capabilities passed to this sandbox process or thread.",
      weakImports: true,
      brand: remoteCapability,
      brandFunctions: markFunctions,
      markHandled: true,
      bases: [RpcTarget.prototype],
      forwards: isRemoteCapability,
      fetcher:
        fetcherCalls === undefined
          ? undefined
          : {
              members: (id) => {
                const members = Object.create(null) as Record<string, unknown>;
                members.connect = (address: unknown, options: unknown) => fetcherCalls.connect(id, address, options);
                members.fetch = (request: Request) => fetcherCalls.fetch(id, request);
                return members;
              },
              made: markFetcher,
            },
    });
    this.importer = this.table.importer;
    const isCapability = (value: object) => this.table.exporter().classify(value) !== -1;
    this.copier = stripErrors ? hostCopier(isCapability) : viewCopier(isCapability);
  }

  private readonly copier: LeafCopier;
  private readonly importer: CapImporter;

  private readonly pendingArgBytes = new Map<string, number>();

  get exportedCount(): number {
    return this.table.exportedCount;
  }

  /** Puts `value` in the table for `scope` (once per scope) and returns its id. */
  exportValue(value: object, scope: string): number {
    return this.table.export(value, scope);
  }

  /** The exported value with this id, for requests that are not method calls (outbound fetch). */
  lookup(capId: unknown): object | undefined {
    return this.table.lookup(capId);
  }

  /**
   * A token standing for the other side's capability `capId` where no stub is needed (the
   * outbound fetcher is called by id): when it is garbage-collected, the capability is released.
   */
  adopt(capId: number): object {
    return this.table.adopt(capId);
  }

  encode(value: unknown, scope = ""): Encoded {
    try {
      return encode(value, this.table.exporter(scope), this.copier);
    } catch (error) {
      if (error instanceof Error && error.name === "DataCloneError" && !(error instanceof DataCloneError)) throw new DataCloneError(error.message);
      throw error;
    }
  }

  /** Malformed data can only come from a broken or compromised other side: a DataCloneError. */
  decode(value: unknown, meter?: Meter, maxBytes = Infinity): unknown {
    try {
      return decode(value, this.importer, this.maxObjects, meter, maxBytes);
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
    const scope = this.table.scopeOf(capId);
    // One call's arguments heavier than the whole budget are refused as they are walked.
    const decodedArgs = this.decode(args, meter, this.argBudget === undefined ? Infinity : this.argBudget(scope));
    if (!Array.isArray(decodedArgs)) throw new TypeError("Malformed call arguments.");
    const held = this.pendingArgBytes.get(scope) ?? 0;
    if (this.argBudget !== undefined) {
      const budget = this.argBudget(scope);
      if (held + meter.bytes > budget) {
        throw new RangeError(`The arguments of this sandbox's host calls in flight would hold more than ${Math.round(budget / 2 ** 20)} MiB on the host (its memoryMb); wait for earlier calls to finish.`);
      }
    }
    this.pendingArgBytes.set(scope, held + meter.bytes);
    try {
      return this.encode(await this.table.callMember(target, method, decodedArgs));
    } finally {
      const left = (this.pendingArgBytes.get(scope) ?? 0) - meter.bytes;
      if (left > 0) this.pendingArgBytes.set(scope, left);
      else this.pendingArgBytes.delete(scope);
    }
  }

  release(capId: unknown): void {
    this.table.release(capId);
  }

  /** Cuts `scope` off from `value`: its stubs' later calls fail with StubDisposedError. */
  revoke(scope: string, value: object): boolean {
    return this.table.revoke(value, scope);
  }

  /** Forgets which values went to `scope` (its worker record is gone); the stubs it holds still work. */
  dropScope(scope: string): void {
    this.table.dropScope(scope);
  }

  /** The connection is gone: stubs from the other side fail with `error`, our exports are dropped. */
  close(error: Error): void {
    if (this.closedError !== undefined) return;
    this.closedError = error;
    this.table.close(error);
  }
}
