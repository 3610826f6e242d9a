// CryptoKey (WebCrypto §13). The key material stays on the host; a CryptoKey here holds, in a
// WeakMap no script can reach, the host's handle for it and copies of its public description.
// An object that merely looks like a CryptoKey, or a handle number, unlocks nothing.

import { brandPlatformObject, host } from "../../platform.ts";
import { domException } from "./errors.ts";
import type { KeyUsage } from "./idl.ts";
import { primordials, SymbolToStringTag } from "../../primordials.ts";

const { ArrayPrototypeIncludes, ArrayPrototypePush, ArrayPrototypeSlice, MathMax, ObjectCreate, ObjectDefineProperty, String, TypeError, WeakMap, WeakMapPrototypeGet, WeakMapPrototypeHas, WeakMapPrototypeSet, WeakRef } = primordials;

export type KeyType = "public" | "private" | "secret";

/** What the host sends for each key it creates (engine/services/crypto.ts). */
export interface KeyDescription {
  handle: number;
  type: KeyType;
  extractable: boolean;
  algorithm: Record<string, unknown>;
  usages: KeyUsage[];
}

interface KeyState {
  readonly handle: number;
  readonly type: KeyType;
  readonly extractable: boolean;
  readonly algorithmName: string;
  readonly usageList: readonly KeyUsage[];
  /** The objects the getters return: [SameObject]-like, and mutating them changes nothing here. */
  readonly algorithm: Record<string, unknown>;
  readonly usages: KeyUsage[];
}

const states = new WeakMap<object, KeyState>();

// Every key's handle, with a weak reference to the key: handles of collected keys are sent back
// to the host in batches, so a long-lived worker that keeps making keys does not pile them up
// there. (WeakRef, not FinalizationRegistry: isolated-vm never runs finalization callbacks.) A
// sweep runs once the list has doubled since the last one, so its cost per key is constant.
const tracked: { ref: WeakRef<CryptoKey>; handle: number }[] = [];
let sweepAt = 64;

/** Returns whether any handle was released; `force` sweeps whatever the list's length. */
export function releaseCollectedKeys(force = false): boolean {
  if (!force && tracked.length < sweepAt) return false;
  const collected: number[] = [];
  let kept = 0;
  for (let i11 = 0, a11 = tracked; i11 < a11.length; i11++) {
    const entry = a11[i11];
    if (entry.ref.deref() === undefined) ArrayPrototypePush(collected, entry.handle);
    else tracked[kept++] = entry;
  }
  tracked.length = kept;
  sweepAt = MathMax(64, kept * 2);
  if (collected.length > 0) host("crypto.release", collected);
  return collected.length > 0;
}

function state(key: unknown): KeyState {
  const value = typeof key === "object" && key !== null ? WeakMapPrototypeGet(states, key) : undefined;
  if (value === undefined) throw new TypeError("Illegal invocation");
  return value;
}

export class CryptoKey {
  constructor() {
    throw new TypeError("Illegal constructor");
  }
  get type(): KeyType {
    return state(this).type;
  }
  get extractable(): boolean {
    return state(this).extractable;
  }
  get algorithm(): Record<string, unknown> {
    return state(this).algorithm;
  }
  get usages(): KeyUsage[] {
    return state(this).usages;
  }
}

for (let i12 = 0, a12 = ["type", "extractable", "algorithm", "usages"]; i12 < a12.length; i12++) {
  const name = a12[i12];
  ObjectDefineProperty(CryptoKey.prototype, name, { enumerable: true });
}
ObjectDefineProperty(CryptoKey.prototype, SymbolToStringTag, { value: "CryptoKey", configurable: true });

export function keyFromHost(description: KeyDescription): CryptoKey {
  const key = ObjectCreate(CryptoKey.prototype) as CryptoKey;
  brandPlatformObject(key, "CryptoKey");
  const { handle, type, extractable, algorithm, usages } = description;
  WeakMapPrototypeSet(states, key, { handle, type, extractable, algorithmName: String(algorithm.name), usageList: ArrayPrototypeSlice(usages), algorithm, usages });
  ArrayPrototypePush(tracked, { ref: new WeakRef(key), handle });
  return key;
}

/** The CryptoKey IDL type: a TypeError for anything that is not one of this sandbox's keys. */
export function toCryptoKey(value: unknown, what: string): CryptoKey {
  if (typeof value !== "object" || value === null || !WeakMapPrototypeHas(states, value)) throw new TypeError(`${what} is not of type 'CryptoKey'.`);
  return value as CryptoKey;
}

export function handleOf(key: CryptoKey): number {
  return state(key).handle;
}

/** The checks every operation makes before it runs (WebCrypto §14.3, "If the name member..."). */
export function requireUsage(key: CryptoKey, algorithmName: string | undefined, usage: KeyUsage): void {
  const { algorithmName: keyAlgorithm, usageList } = state(key);
  if (algorithmName !== undefined && algorithmName !== keyAlgorithm) {
    throw domException(`The requested operation is not valid for the provided key: it is a ${keyAlgorithm} key, not a ${algorithmName} key.`, "InvalidAccessError");
  }
  if (!ArrayPrototypeIncludes(usageList, usage)) throw domException(`The requested operation is not valid for the provided key: its usages do not include '${usage}'.`, "InvalidAccessError");
}

export function requireExtractable(key: CryptoKey): void {
  if (!state(key).extractable) throw domException("The key is not extractable.", "InvalidAccessError");
}
