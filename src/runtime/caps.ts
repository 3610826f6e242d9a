// Capability tables on the sandbox side. Exports: the sandbox's own functions and RpcTargets the
// host may call back. Imports: stubs for the host's functions and RpcTargets; calling one only
// sends (capId, method, copied args) to the host, which checks the id against this sandbox's table.

import { Op, request, send } from "./bridge.ts";
import { CapKind, decode, encode, type CapExporter, type CapImporter, type Encoded } from "../protocol/wire.ts";
import { MAX_OBJECTS_PER_VALUE } from "../protocol/clonable.ts";
import { RpcTarget, WorkerEntrypoint } from "./workers.ts";
import { disposeSymbol } from "./symbols.ts";
import { primordials } from "./primordials.ts";

const { Error, MathRound, RangeError, Map, MapPrototypeDelete, MapPrototypeGet, MapPrototypeSet, ObjectCreate, ObjectDefineProperty, PromisePrototypeThen, PromiseReject, Proxy, TypeError, WeakMap, WeakMapPrototypeDelete, WeakMapPrototypeGet, WeakMapPrototypeHas, WeakMapPrototypeSet } = primordials;

const exported = new Map<number, object>();
const exportIds = new WeakMap<object, number>();
let nextExportId = 1;
/** Live entries of `exported` (counted here: Map.prototype.size is a getter user code can replace). */
let exportedCount = 0;

/**
 * The most functions and RpcTargets of this sandbox's the host may hold stubs for at once, as the
 * host allows a sandbox 100,000 of its own: each costs the host a table entry and a stub until the
 * host drops it (its release comes back here).
 */
export const MAX_EXPORTED_CAPS = 100_000;

export const exporter: CapExporter = {
  classify(value) {
    if (WeakMapPrototypeHas(importedIds, value)) return CapKind.Returned;
    return value instanceof RpcTarget || value instanceof WorkerEntrypoint ? CapKind.Target : -1;
  },
  export(value, kind) {
    if (kind === CapKind.Returned) return WeakMapPrototypeGet(importedIds, value)!;
    let id = WeakMapPrototypeGet(exportIds, value);
    if (id === undefined) {
      if (exportedCount >= MAX_EXPORTED_CAPS) {
        throw new RangeError(`Too many functions and RpcTargets handed to the host (at most ${MAX_EXPORTED_CAPS} it holds at once); they are released as the host drops them.`);
      }
      id = nextExportId++;
      WeakMapPrototypeSet(exportIds, value, id);
      MapPrototypeSet(exported, id, value);
      exportedCount++;
    }
    return id;
  },
};

export function exportedCap(id: number): object | undefined {
  return MapPrototypeGet(exported, id);
}

export function releaseExport(id: number): void {
  const value = MapPrototypeGet(exported, id);
  if (value === undefined) return;
  MapPrototypeDelete(exported, id);
  WeakMapPrototypeDelete(exportIds, value);
  exportedCount--;
}

/**
 * Encodes a value for the host (a result, a call's arguments), at most MAX_OBJECTS_PER_VALUE
 * objects. When it cannot cross, the capabilities exported for it so far are taken back: the host
 * never saw them, so it would never release them.
 */
export function encodeForHost(value: unknown, meter?: { bytes: number }): Encoded {
  const mark = nextExportId;
  try {
    return encode(value, exporter, undefined, MAX_OBJECTS_PER_VALUE, meter);
  } catch (error) {
    for (let id = mark; id < nextExportId; id++) releaseExport(id);
    throw error;
  }
}

/** The host's id for each stub this sandbox holds: handing a stub back hands back the host's object. */
const importedIds = new WeakMap<object, number>();

function stubDisposedError(): Error {
  const error = new Error("This stub was disposed; the capability it pointed to can no longer be called.");
  error.name = "StubDisposedError";
  return error;
}

/**
 * The budget for the arguments of this sandbox's host calls in flight: the host holds a copy of
 * each until its call settles, so a call that would make them hold more than the sandbox's memoryMb
 * is refused here, before it is sent (the host checks the same as the messages arrive).
 */
let pendingArgBytes = 0;
let maxPendingArgBytes = 128 * 1024 * 1024;

export function setHostCallBudget(memoryMb: number): void {
  maxPendingArgBytes = memoryMb * 1024 * 1024;
}

export function callHost(capId: number, method: string | undefined, args: unknown[]): Promise<unknown> {
  let payload: Encoded;
  const meter = { bytes: 0 };
  const mark = nextExportId;
  try {
    payload = encodeForHost(args, meter);
  } catch (error) {
    return PromiseReject(error);
  }
  const bytes = meter.bytes;
  if (pendingArgBytes + bytes > maxPendingArgBytes) {
    for (let id = mark; id < nextExportId; id++) releaseExport(id);
    return PromiseReject(
      new RangeError(`The arguments of this sandbox's host calls in flight would hold more than ${MathRound(maxPendingArgBytes / 1048576)} MiB on the host (its memoryMb); wait for earlier calls to finish.`),
    );
  }
  pendingArgBytes += bytes;
  const settled = () => {
    pendingArgBytes -= bytes;
  };
  const call = request(Op.Call, capId, method, payload);
  PromisePrototypeThen(call, settled, settled);
  return PromisePrototypeThen(call, (answer) => decode(answer.value, importer));
}

function makeFunctionStub(id: number): unknown {
  let disposed = false;
  const stub = function (...args: unknown[]) {
    if (disposed) return PromiseReject(stubDisposedError());
    return callHost(id, undefined, args);
  };
  ObjectDefineProperty(stub, disposeSymbol, {
    value() {
      if (!disposed) {
        disposed = true;
        send(Op.Release, id);
      }
    },
  });
  return stub;
}

function makeTargetStub(id: number): unknown {
  let disposed = false;
  const methods = new Map<string, unknown>();
  const dispose = () => {
    if (!disposed) {
      disposed = true;
      send(Op.Release, id);
    }
  };
  const stub = new Proxy(ObjectCreate(null) as object, {
    get(_target, key) {
      if (key === disposeSymbol) return dispose;
      if (typeof key !== "string" || key === "then") return undefined;
      let method = MapPrototypeGet(methods, key);
      if (method === undefined) {
        method = (...args: unknown[]) => (disposed ? PromiseReject(stubDisposedError()) : callHost(id, key, args));
        MapPrototypeSet(methods, key, method);
      }
      return method;
    },
    set() {
      return false;
    },
    has(_target, key) {
      return key === disposeSymbol;
    },
  });
  return stub;
}

const importedStubs = new Map<string, unknown>();

export const importer: CapImporter = {
  import(kind, id) {
    if (kind === CapKind.Returned) {
      const own = MapPrototypeGet(exported, id);
      if (own === undefined) throw new TypeError("A capability handed back to this sandbox was already released.");
      return own;
    }
    const key = `${kind}:${id}`;
    let stub = MapPrototypeGet(importedStubs, key);
    if (stub === undefined) {
      stub = kind === CapKind.Function ? makeFunctionStub(id) : makeTargetStub(id);
      MapPrototypeSet(importedStubs, key, stub);
      WeakMapPrototypeSet(importedIds, stub as object, id);
    }
    return stub;
  },
};
