// Deep equality as assert.deepEqual (loose) and assert.deepStrictEqual / util.isDeepStrictEqual
// (strict) define it: strict compares prototypes, symbol keys and primitives with ObjectIs;
// loose uses == for primitives and ignores prototypes. Cycles are followed once.

import {
  isAnyArrayBuffer,
  isArrayBufferView,
  isBigIntObject,
  isBooleanObject,
  isBoxedPrimitive,
  isDate,
  isFloat32Array,
  isFloat64Array,
  isMap,
  isNativeError,
  isNumberObject,
  isRegExp,
  isSet,
  isStringObject,
  isSymbolObject,
} from "./types.ts";
import { primordials } from "../../primordials.ts";

const { ArrayBufferIsView, ArrayIsArray, BigIntPrototypeValueOf, BooleanPrototypeValueOf, DatePrototypeGetTime, Error, Map, NumberIsNaN, NumberPrototypeValueOf, ObjectGetOwnPropertySymbols, ObjectGetPrototypeOf, ObjectIs, ObjectKeys, ObjectPrototypeHasOwnProperty, ObjectPrototypePropertyIsEnumerable, ObjectPrototypeToString, Set, StringPrototypeValueOf, Symbol, Uint8Array } = primordials;

type Memos = Map<object, Set<object>>;

const tagOf = (value: unknown): string => ObjectPrototypeToString(value);
const hasOwn = (object: object, key: PropertyKey) => ObjectPrototypeHasOwnProperty(object, key);
const isEnumerable = (object: object, key: PropertyKey) => ObjectPrototypePropertyIsEnumerable(object, key);

function ownKeys(value: object, strict: boolean, skipIndices: boolean): PropertyKey[] {
  let keys: PropertyKey[] = ObjectKeys(value);
  if (skipIndices) keys = keys.filter((key) => !/^(0|[1-9][0-9]*)$/.test(key as string));
  if (strict) for (const symbol of ObjectGetOwnPropertySymbols(value)) if (isEnumerable(value, symbol)) keys.push(symbol);
  return keys;
}

function bytesOf(view: ArrayBufferView | ArrayBuffer): Uint8Array {
  return ArrayBufferIsView(view) ? new Uint8Array(view.buffer, view.byteOffset, view.byteLength) : new Uint8Array(view);
}

function sameBytes(a: ArrayBufferView | ArrayBuffer, b: ArrayBufferView | ArrayBuffer): boolean {
  const x = bytesOf(a);
  const y = bytesOf(b);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function sameBoxed(a: object, b: object): boolean {
  if (isNumberObject(a)) return isNumberObject(b) && ObjectIs(NumberPrototypeValueOf(a), NumberPrototypeValueOf(b));
  if (isStringObject(a)) return isStringObject(b) && StringPrototypeValueOf(a) === StringPrototypeValueOf(b);
  if (isBooleanObject(a)) return isBooleanObject(b) && BooleanPrototypeValueOf(a) === BooleanPrototypeValueOf(b);
  if (isBigIntObject(a)) return isBigIntObject(b) && BigIntPrototypeValueOf(a) === BigIntPrototypeValueOf(b);
  if (isSymbolObject(a)) return isSymbolObject(b) && Symbol.prototype.valueOf.call(a) === Symbol.prototype.valueOf.call(b);
  return false;
}

function primitivesEqual(a: unknown, b: unknown, strict: boolean): boolean {
  if (strict) return ObjectIs(a, b);
  // eslint-disable-next-line eqeqeq
  return a == b || (NumberIsNaN(a) && NumberIsNaN(b));
}

export function deepEqual(a: unknown, b: unknown, strict: boolean, memos: Memos = new Map()): boolean {
  if (a === b) return a !== 0 || ObjectIs(a, b) || !strict;
  if (strict) {
    if (typeof a !== "object") return typeof a === "number" && NumberIsNaN(a) && NumberIsNaN(b);
    if (typeof b !== "object" || a === null || b === null) return false;
    if (ObjectGetPrototypeOf(a) !== ObjectGetPrototypeOf(b)) return false;
  } else {
    if (a === null || typeof a !== "object") return (b === null || typeof b !== "object") && primitivesEqual(a, b, false);
    if (b === null || typeof b !== "object") return false;
  }
  if (tagOf(a) !== tagOf(b)) return false;
  const x = a as Record<PropertyKey, unknown>;
  const y = b as Record<PropertyKey, unknown>;
  if (ArrayIsArray(x)) {
    if (!ArrayIsArray(y) || x.length !== y.length) return false;
    return sameKeys(x, y, strict, memos, "array");
  }
  if (isDate(x)) {
    if (!isDate(y) || DatePrototypeGetTime(x) !== DatePrototypeGetTime(y)) return false;
  } else if (isRegExp(x)) {
    const [rx, ry] = [x as unknown as RegExp, y as unknown as RegExp];
    if (!isRegExp(y) || rx.source !== ry.source || rx.flags !== ry.flags || rx.lastIndex !== ry.lastIndex) return false;
  } else if (isNativeError(x) || x instanceof Error) {
    if ((!isNativeError(y) && !(y instanceof Error)) || (x as unknown as Error).message !== (y as unknown as Error).message || (x as unknown as Error).name !== (y as unknown as Error).name) return false;
  } else if (isArrayBufferView(x)) {
    if (!isArrayBufferView(y)) return false;
    if (!strict && (isFloat32Array(x) || isFloat64Array(x))) {
      const [fx, fy] = [x as unknown as Float64Array, y as unknown as Float64Array];
      if (fx.length !== fy.length) return false;
      for (let i = 0; i < fx.length; i++) if (fx[i] !== fy[i]) return false;
    } else if (!sameBytes(x as unknown as ArrayBufferView, y as unknown as ArrayBufferView)) return false;
    return sameKeys(x, y, strict, memos, "view");
  } else if (isSet(x)) {
    if (!isSet(y) || (x as unknown as Set<unknown>).size !== (y as unknown as Set<unknown>).size) return false;
    return sameKeys(x, y, strict, memos, "set");
  } else if (isMap(x)) {
    if (!isMap(y) || (x as unknown as Map<unknown, unknown>).size !== (y as unknown as Map<unknown, unknown>).size) return false;
    return sameKeys(x, y, strict, memos, "map");
  } else if (isAnyArrayBuffer(x)) {
    if (!isAnyArrayBuffer(y) || !sameBytes(x as unknown as ArrayBuffer, y as unknown as ArrayBuffer)) return false;
  } else if (isBoxedPrimitive(x)) {
    if (!sameBoxed(x, y)) return false;
  } else if (ArrayIsArray(y) || isArrayBufferView(y) || isSet(y) || isMap(y) || isDate(y) || isRegExp(y) || isAnyArrayBuffer(y) || isBoxedPrimitive(y) || isNativeError(y) || y instanceof Error) {
    return false;
  }
  return sameKeys(x, y, strict, memos, "object");
}

function sameKeys(a: object, b: object, strict: boolean, memos: Memos, kind: "array" | "view" | "set" | "map" | "object"): boolean {
  const skipIndices = kind === "array" || kind === "view";
  const keysA = ownKeys(a, strict, skipIndices);
  const keysB = ownKeys(b, strict, skipIndices);
  if (keysA.length !== keysB.length) return false;
  for (const key of keysA) if (!hasOwn(b, key) || !isEnumerable(b, key)) return false;
  // A pair already being compared further up counts as equal: that is how cycles end.
  let seen = memos.get(a);
  if (seen?.has(b)) return true;
  if (seen === undefined) memos.set(a, (seen = new Set()));
  seen.add(b);
  try {
    const x = a as Record<PropertyKey, unknown>;
    const y = b as Record<PropertyKey, unknown>;
    if (kind === "array") {
      const length = (x as unknown as unknown[]).length;
      for (let i = 0; i < length; i++) {
        const hasA = hasOwn(x, i);
        if (hasA !== hasOwn(y, i)) return false;
        if (hasA && !deepEqual(x[i], y[i], strict, memos)) return false;
      }
    } else if (kind === "set" && !sameSets(a as Set<unknown>, b as Set<unknown>, strict, memos)) return false;
    else if (kind === "map" && !sameMaps(a as Map<unknown, unknown>, b as Map<unknown, unknown>, strict, memos)) return false;
    for (const key of keysA) if (!deepEqual(x[key], y[key], strict, memos)) return false;
    return true;
  } finally {
    seen.delete(b);
  }
}

function takeMatch(pool: unknown[], item: unknown, strict: boolean, memos: Memos): boolean {
  for (let i = 0; i < pool.length; i++) {
    if (deepEqual(item, pool[i], strict, memos)) {
      pool.splice(i, 1);
      return true;
    }
  }
  return false;
}

function sameSets(a: Set<unknown>, b: Set<unknown>, strict: boolean, memos: Memos): boolean {
  const rest: unknown[] = [];
  for (const item of a) {
    if ((item === null || typeof item !== "object") && strict) {
      if (!b.has(item)) return false;
    } else if (!b.has(item)) rest.push(item);
  }
  if (rest.length === 0) return true;
  const pool: unknown[] = [];
  for (const item of b) if (!a.has(item)) pool.push(item);
  for (const item of rest) if (!takeMatch(pool, item, strict, memos)) return false;
  return pool.length === 0;
}

function sameMaps(a: Map<unknown, unknown>, b: Map<unknown, unknown>, strict: boolean, memos: Memos): boolean {
  const rest: [unknown, unknown][] = [];
  for (const [key, value] of a) {
    if (b.has(key)) {
      if (!deepEqual(value, b.get(key), strict, memos)) {
        if (strict || (key !== null && typeof key === "object")) return false;
        rest.push([key, value]);
      }
    } else {
      if (strict && (key === null || typeof key !== "object")) return false;
      rest.push([key, value]);
    }
  }
  if (rest.length === 0) return true;
  const pool: [unknown, unknown][] = [];
  for (const entry of b) if (!a.has(entry[0]) || !deepEqual(a.get(entry[0]), entry[1], strict, memos)) pool.push(entry);
  for (const entry of rest) {
    const index = pool.findIndex((candidate) => deepEqual(entry[0], candidate[0], strict, memos) && deepEqual(entry[1], candidate[1], strict, memos));
    if (index === -1) return false;
    pool.splice(index, 1);
  }
  return pool.length === 0;
}

export function isDeepStrictEqual(a: unknown, b: unknown): boolean {
  return deepEqual(a, b, true);
}
