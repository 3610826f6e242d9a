// Capability tables on the sandbox side (one CapTable, src/protocol/cap-table.ts). Exports: the
// sandbox's own functions and RpcTargets the host may call back. Imports: stubs for the host's
// functions and RpcTargets; calling one only sends (capId, method, copied args) to the host, which
// checks the id against this sandbox's table. Imports are held strongly here (see cap-table.ts):
// the host's capabilities live as long as the sandbox, or until disposed or revoked.

import { Op, request, requestBlocking, send } from "./bridge.ts";
import { decode, type Encoded } from "../protocol/wire.ts";
import { MAX_OBJECTS_PER_VALUE } from "../protocol/clonable.ts";
import { snapshot } from "../protocol/snapshot.ts";
import { RpcTarget, WorkerEntrypoint } from "./workers.ts";
import { CapKind, CapTable, type CapExporter, type CapImporter } from "../protocol/cap-table.ts";
import { primordials } from "./primordials.ts";
import { runtimeGuard } from "./brands.ts";
import { web } from "./platform.ts";
import { fetchThrough } from "./globals/fetch.ts";

const { Error, MathRound, ObjectCreate, RangeError, PromisePrototypeThen, PromiseReject, TypeError } = primordials;

/**
 * The most functions and RpcTargets of this sandbox's the host may hold stubs for at once, as the
 * host allows a sandbox 100,000 of its own: each costs the host a table entry and a stub until the
 * host drops it (its release comes back here).
 */
export const MAX_EXPORTED_CAPS = 100_000;

function stubDisposedError(): Error {
  const error = new Error("This stub was disposed; the capability it pointed to can no longer be called.");
  error.name = "StubDisposedError";
  return error;
}

export const table = new CapTable({
  classify: (value) => (value instanceof RpcTarget || value instanceof WorkerEntrypoint ? CapKind.Target : -1),
  invoke: (id, method, args) => callHost(id, method ?? undefined, args),
  release: (id) => send(Op.Release, id),
  disposedError: stubDisposedError,
  returnedMissing: () => new TypeError("A capability handed back to this sandbox was already released."),
  maxExports: MAX_EXPORTED_CAPS,
  tooManyExports: `Too many functions and RpcTargets handed to the host (at most ${MAX_EXPORTED_CAPS} it holds at once); they are released as the host drops them.`,
  weakImports: false,
  bases: [RpcTarget.prototype, WorkerEntrypoint.prototype],
  // A service binding (another worker's entrypoint in env, props or an answer): Cloudflare's
  // Fetcher.connect, a cloudflare:sockets Socket to that worker's connect(socket) handler, and
  // Fetcher.fetch, a Response from that worker's fetch handler.
  fetcher: {
    members: (id) => {
      const members = ObjectCreate(null) as Record<string, unknown>;
      members.connect = function connect(address: unknown, options?: unknown): unknown {
        return web().socketConnectThrough(id, address, options);
      };
      members.fetch = function fetch(input: unknown, init?: unknown): Promise<unknown> {
        return fetchThrough(id, input, init);
      };
      return members;
    },
  },
});

export const exporter: CapExporter = table.exporter();
export const importer: CapImporter = table.importer;

export function exportedCap(id: number): object | undefined {
  return table.lookup(id);
}

export function releaseExport(id: number): void {
  table.release(id);
}

/**
 * Encodes a value for the host (a result, a call's arguments), at most MAX_OBJECTS_PER_VALUE
 * objects. When it cannot cross, the capabilities exported for it so far are taken back: the host
 * never saw them, so it would never release them.
 */
export function encodeForHost(value: unknown, meter?: { bytes: number }, result = false): Encoded {
  const mark = table.nextId;
  try {
    // A snapshot, read once, is what is weighed and what isolated-vm copies (snapshot.ts): at most
    // the sandbox's memoryMb, each reference to a string or BigInt weighed again. The runtime's
    // own platform objects (a Response, Headers...) and Proxies are refused (brands.ts).
    return snapshot(value, { exporter, guard: runtimeGuard, maxObjects: MAX_OBJECTS_PER_VALUE, maxBytes: maxPendingArgBytes, meter, result });
  } catch (error) {
    table.rollback(mark);
    throw error;
  }
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
  const mark = table.nextId;
  try {
    payload = encodeForHost(args, meter);
  } catch (error) {
    return PromiseReject(error);
  }
  const bytes = meter.bytes;
  if (pendingArgBytes + bytes > maxPendingArgBytes) {
    table.rollback(mark);
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

/** Calls `method` of the host capability `stub` (one the runtime holds, not user code) as any host call is made. */
export function callHostAsync(stub: object, method: string, args: unknown[]): Promise<unknown> {
  const capId = table.importedId(stub);
  if (capId === undefined) return PromiseReject(new TypeError("Not a capability of the host."));
  return callHost(capId, method, args);
}

/**
 * Calls `method` of the host capability `stub` and waits for the answer with this isolate blocked
 * (bridge.ts requestBlocking): what must be synchronous inside the sandbox, a facet's
 * `ctx.storage.sql.exec()` and `ctx.storage.kv`. The arguments are weighed and copied as an
 * asynchronous call's are; the host counts the call as a subrequest and checks the id the same way.
 */
export function callHostBlocking(stub: object, method: string, args: unknown[]): unknown {
  const capId = table.importedId(stub);
  if (capId === undefined) throw new TypeError("Not a capability of the host.");
  const meter = { bytes: 0 };
  const mark = table.nextId;
  const payload = encodeForHost(args, meter);
  if (meter.bytes > maxPendingArgBytes) {
    table.rollback(mark);
    throw new RangeError(`The arguments of one host call may hold at most ${MathRound(maxPendingArgBytes / 1048576)} MiB (this sandbox's memoryMb).`);
  }
  return decode(requestBlocking(Op.Call, capId, method, payload) as Encoded, importer);
}
