// The runtime's own platform objects (Response, Headers, URL, Blob, AbortSignal, CryptoKey...),
// marked as they are constructed, so that the boundary refuses them (findings5/07). Without this a
// Response returned from an RPC method crossed to the host, or to another worker, as `{}`: its
// state lives in private fields, which a copy does not see. SECURITY.md P2: any other type is a
// DataCloneError in every direction.
//
// The mark is a WeakMap entry made by the class's own constructor (through the platform binding,
// platform.ts: there is one map per isolate, in the core, however many chunks mark objects), so
// user code can neither forge it (it cannot reach the map) nor shed it (a changed prototype, a
// Symbol.toStringTag, a replaced WeakMap.prototype.get change nothing: the map's methods are the
// captured ones). A subclass's instance is marked by its base's constructor, as the host refuses
// a subclass of its own platform classes (src/rpc/host-errors.ts).

import { dataCloneError } from "../protocol/clonable.ts";
import type { SnapshotGuard } from "../protocol/snapshot.ts";
import { isSandboxProxy } from "./globals/proxies.ts";
import { primordials } from "./primordials.ts";

const { WeakMap, WeakMapPrototypeGet, WeakMapPrototypeSet } = primordials;

const marks = new WeakMap<object, string>();

/** Marks `object` as an instance of the runtime's interface `name`; a later mark (a subclass's constructor) wins. */
export function markPlatformObject(object: object, name: string): void {
  WeakMapPrototypeSet(marks, object, name);
}

/** The interface name `object` was marked with, or undefined for any other object. */
export function platformObjectName(object: object): string | undefined {
  return WeakMapPrototypeGet(marks, object);
}

function refusePlatformObject(object: object): Error | undefined {
  const name = WeakMapPrototypeGet(marks, object);
  if (name === undefined) return undefined;
  return dataCloneError(`${name} object could not be cloned: it cannot cross the sandbox boundary; pass its data instead.`);
}

/**
 * What the runtime tells the snapshot (src/protocol/snapshot.ts) of every object in a value it
 * sends out: its platform objects are refused, including one whose prototype user code changed to
 * Object.prototype or null, and so is every Proxy user code made (one WeakMap lookup each).
 */
export const runtimeGuard: SnapshotGuard = {
  __proto__: null,
  refuse: (object: object) => (isSandboxProxy(object) ? dataCloneError("A Proxy could not be cloned: it cannot cross the sandbox boundary.") : refusePlatformObject(object)),
  isProxy: isSandboxProxy,
} as SnapshotGuard;
