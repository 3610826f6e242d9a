// What the runtime's lazily loaded chunks use of the core: each chunk is bundled on its own, so
// this module is copied into every bundle and bound, once per chunk, to the core's one loader and
// host line (see chunks.ts). Chunks reach each other only through these accessors, so a class such
// as DOMException exists once per isolate however many chunks use it.

import type * as EventsChunk from "./web/events/index.ts";
import type * as StreamsChunk from "./web/streams/index.ts";
import type * as CompressionChunk from "./web/streams/codecs/index.ts";
import type * as EncodingsChunk from "./web/legacy-encodings.ts";
import type * as WebChunk from "./web/index.ts";
import type * as UrlChunk from "./web/url/index.ts";
import type * as CryptoChunk from "./web/crypto/index.ts";
import type * as NodeChunk from "./node/index.ts";

import { primordials } from "./primordials.ts";

const { ArrayPrototypePush, ArrayPrototypeUnshift, Error, ReflectApply } = primordials;

export type ChunkName = "web" | "events" | "streams" | "compression" | "encodings" | "url" | "crypto" | "node";

export interface Platform {
  /** Runs a chunk in this isolate on first use and returns its exports. */
  load(name: ChunkName): unknown;
  /** Calls a synchronous host service; arguments and result are copied, never referenced. */
  host(service: string, ...args: unknown[]): unknown;
  /** Calls an asynchronous host service; the result comes boxed (see Answer in bridge.ts). */
  hostAsync(service: string, ...args: unknown[]): Promise<{ readonly value: unknown }>;
  /** Reads the next chunk of a response body the host is streaming in (null at its end), boxed. */
  readHostBody(id: number): Promise<{ readonly value: Uint8Array | null }>;
  /** Tells the host this sandbox will not read that body any further. */
  cancelHostBody(id: number): void;
  /** Sends a request of `op` (ops.ts) to the host; its answer comes boxed (cloudflare:sockets). */
  requestOp(op: number, a?: unknown, b?: unknown, c?: unknown): Promise<{ readonly value: unknown }>;
  /** Sends a message of `op` to the host, unanswered. */
  sendOp(op: number, a?: unknown): void;
  /** Timers that fire only while an invocation is in flight, like the global ones. */
  setTimer(callback: () => void, ms: number): number;
  clearTimer(id: number): void;
  /** The core's async context (async-context.ts): node:async_hooks reads and sets the frame. */
  asyncContext: AsyncContextAccess;
  /** Marks an instance of one of the runtime's platform classes, which the boundary refuses (brands.ts). */
  brand(object: object, name: string): void;
  /** cloudflare:sockets' connect() with this worker's permission (its globalOutbound's connect): node:net and node:tls go through it. */
  socketConnect(address: unknown, options: unknown): unknown;
}

export interface AsyncContextAccess {
  enabled(): boolean;
  get(): unknown;
  set(frame: unknown): void;
  bind<F extends (...args: never[]) => unknown>(fn: F): F;
}

let platform: Platform | undefined;

/** Objects a chunk made while it ran, before it was bound (its singletons: scheduler, crypto), marked once it is. */
let unbranded: [object: object, name: string][] = [];

export function bindPlatform(value: Platform): void {
  platform ??= value;
  for (let i = 0; i < unbranded.length; i++) platform.brand(unbranded[i][0], unbranded[i][1]);
  unbranded = [];
}

function bound(): Platform {
  if (platform === undefined) throw new Error("islet runtime chunk used before it was bound");
  return platform;
}

// ReflectApply, not a spread: a spread runs the array iterator, which user code can replace.
export const host = (service: string, ...args: unknown[]): unknown => {
  const platform = bound();
  ArrayPrototypeUnshift(args, service);
  return ReflectApply(platform.host, platform, args);
};
export const hostAsync = (service: string, ...args: unknown[]): Promise<{ readonly value: unknown }> => {
  const platform = bound();
  ArrayPrototypeUnshift(args, service);
  return ReflectApply(platform.hostAsync, platform, args) as Promise<{ readonly value: unknown }>;
};
export const readHostBody = (id: number): Promise<{ readonly value: Uint8Array | null }> => bound().readHostBody(id);
export const cancelHostBody = (id: number): void => bound().cancelHostBody(id);
export const requestOp = (op: number, a?: unknown, b?: unknown, c?: unknown): Promise<{ readonly value: unknown }> => bound().requestOp(op, a, b, c);
export const sendOp = (op: number, a?: unknown): void => bound().sendOp(op, a);
export const setTimer = (callback: () => void, ms: number): number => bound().setTimer(callback, ms);
export const clearTimer = (id: number): void => bound().clearTimer(id);
export const asyncContext = (): AsyncContextAccess => bound().asyncContext;
export const socketConnect = (address: unknown, options: unknown): unknown => bound().socketConnect(address, options);
/** Called by each platform class's constructor with its interface name (brands.ts). */
export const brandPlatformObject = (object: object, name: string): void => {
  if (platform === undefined) ArrayPrototypePush(unbranded, [object, name]);
  else platform.brand(object, name);
};

export const web = (): typeof WebChunk => bound().load("web") as typeof WebChunk;
export const events = (): typeof EventsChunk => bound().load("events") as typeof EventsChunk;
export const streams = (): typeof StreamsChunk => bound().load("streams") as typeof StreamsChunk;
export const compression = (): typeof CompressionChunk => bound().load("compression") as typeof CompressionChunk;
export const encodings = (): typeof EncodingsChunk => bound().load("encodings") as typeof EncodingsChunk;
export const url = (): typeof UrlChunk => bound().load("url") as typeof UrlChunk;
export const crypto = (): typeof CryptoChunk => bound().load("crypto") as typeof CryptoChunk;
export const node = (): typeof NodeChunk => bound().load("node") as typeof NodeChunk;
