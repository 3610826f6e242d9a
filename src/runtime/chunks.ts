// Parts of the runtime that load on first use. The host compiles each chunk (with its own code
// cache) and runs it in this isolate during a synchronous callback, then hands its exports to
// receiveChunk(); a name from the sandbox only ever selects one of islet's own chunks. Each chunk
// is bound to the platform below before anything else can use it.

import { Op, request, send } from "./bridge.ts";
import { CHUNK_SERVICE } from "../protocol/ops.ts";
import { clearTimer, setTimer } from "./globals/timers.ts";
import { bindPlatform, type ChunkName, type Platform } from "./platform.ts";
import { finishPrimordials, primordials, type Primordials } from "./primordials.ts";
import { errorFromRecord, type ErrorRecord } from "../protocol/errors.ts";
import { markPlatformObject } from "./brands.ts";
import { asyncContextEnabled, bindAsyncContext, getAsyncContext, setAsyncContext } from "./async-context.ts";

const { ArrayPrototypeUnshift, Error, Map, MapPrototypeDelete, MapPrototypeGet, MapPrototypeHas, MapPrototypeSet, ReflectApply } = primordials;

export { web, events, streams, url, crypto, node, socketConnect } from "./platform.ts";

type HostCall = (service: string, a?: unknown, b?: unknown, c?: unknown, d?: unknown) => [ok: 1, value: unknown] | [ok: 0, error: ErrorRecord];

/** The synchronous host service that runs one of islet's runtime chunks in this isolate. */
export { CHUNK_SERVICE };

let hostCall: HostCall = () => {
  throw new Error("islet runtime used before setup");
};
const loaded = new Map<ChunkName, unknown>();

/** Chunks whose code is running now (receiveChunk): one that needs itself then fails, not loops. */
const running = new Map<ChunkName, true>();

function load(name: ChunkName): unknown {
  let exports = MapPrototypeGet(loaded, name);
  if (exports === undefined) {
    if (!MapPrototypeHas(running, name)) hostCall(CHUNK_SERVICE, name);
    exports = MapPrototypeGet(loaded, name);
    if (exports === undefined) throw new Error(`islet: the ${name} runtime chunk failed to load`);
  }
  return exports;
}

/** Whether the worker's globalOutbound has a connect method: cloudflare:sockets' connect() (and node:net over it) is refused without one. */
let connectAllowed = false;

export function setConnectAllowed(allowed: boolean): void {
  connectAllowed = allowed;
}

const platform: Platform = {
  load,
  host(service, ...args) {
    // ReflectApply, not a spread: a spread runs the array iterator, which user code can replace.
    ArrayPrototypeUnshift(args, service);
    const answer = ReflectApply(hostCall, undefined, args) as ReturnType<HostCall>;
    if (answer[0] === 1) return answer[1];
    throw errorFromRecord(answer[1]);
  },
  hostAsync(service, ...args) {
    return request(Op.Service, service, args);
  },
  readHostBody(id) {
    return request(Op.BodyRead, id) as Promise<{ readonly value: Uint8Array | null }>;
  },
  cancelHostBody(id) {
    send(Op.BodyCancel, id);
  },
  requestOp(op, a, b, c) {
    return request(op as Op, a, b, c);
  },
  sendOp(op, a) {
    send(op as Op, a);
  },
  setTimer,
  clearTimer,
  asyncContext: { enabled: asyncContextEnabled, get: getAsyncContext, set: setAsyncContext, bind: bindAsyncContext },
  brand: markPlatformObject,
  socketConnect(address, options) {
    return (load("web") as { socketConnect(address: unknown, options: unknown, allowed: boolean): unknown }).socketConnect(address, options, connectAllowed);
  },
};
bindPlatform(platform);

/** The synchronous host service that counts wasm memories process-wide (engine/sandbox.ts). */
export const WASM_MEMORY_SERVICE = "islet:wasm-memories";

/** Reserves (n > 0) or returns (n < 0) process-wide wasm memory slots; false when the host refuses. */
export function reserveWasmMemories(n: number): boolean {
  const answer = hostCall(WASM_MEMORY_SERVICE, n);
  return answer[0] === 1 && answer[1] === true;
}

/** The synchronous host service that counts resizable ArrayBuffers process-wide (engine/sandbox.ts). */
export const RESIZABLE_BUFFER_SERVICE = "islet:resizable-buffers";

/** Reserves (n = 1) or returns (n = -1) one resizable ArrayBuffer of `bytes` of address space; false when the host refuses. */
export function reserveResizableBuffer(n: 1 | -1, bytes: number): boolean {
  const answer = hostCall(RESIZABLE_BUFFER_SERVICE, n, bytes);
  return answer[0] === 1 && answer[1] === true;
}

export function setChunkLoader(callHost: HostCall): void {
  hostCall = callHost;
}

/**
 * `chunk` is the value of the chunk's script: a function of the primordials the core captured at
 * boot, returning the chunk's exports (see scripts/build.mjs). The chunk's own code runs now.
 */
export function receiveChunk(name: ChunkName, chunk: (primordials: Primordials) => { bindPlatform(platform: Platform): void }): void {
  if (MapPrototypeHas(loaded, name) || MapPrototypeHas(running, name)) return;
  finishPrimordials();
  MapPrototypeSet(running, name, true);
  try {
    const exports = chunk(primordials);
    exports.bindPlatform(platform);
    MapPrototypeSet(loaded, name, exports);
  } finally {
    MapPrototypeDelete(running, name);
  }
}
