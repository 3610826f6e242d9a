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
import type { LeafCopier } from "../protocol/wire.ts";
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
 * What the runtime hands the codec (wire.ts) for every value it sends the host: nothing to copy,
 * and its platform objects refused, including one whose prototype user code changed to
 * Object.prototype or null (so every object but an array is asked: one WeakMap lookup each).
 */
export const runtimeLeaves: LeafCopier = {
  __proto__: null,
  needsCopy: () => false,
  copy: (value: unknown) => value,
  refuse: refusePlatformObject,
  refuseWalkable: true,
} as LeafCopier;
