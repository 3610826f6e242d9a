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

const { ArrayBufferIsView, ArrayBufferViewGetBuffer, ArrayBufferViewGetByteLength, ArrayBufferViewGetByteOffset, ArrayIsArray, ArrayPrototypeFilter, ArrayPrototypeFindIndex, ArrayPrototypePush, ArrayPrototypeSplice, BigIntPrototypeValueOf, BooleanPrototypeValueOf, DatePrototypeGetTime, Error, Map, MapPrototypeGet, MapPrototypeGetSize, MapPrototypeHas, MapPrototypeSet, NumberIsNaN, NumberPrototypeValueOf, ObjectGetOwnPropertySymbols, ObjectGetPrototypeOf, ObjectIs, ObjectKeys, ObjectPrototypeHasOwnProperty, ObjectPrototypePropertyIsEnumerable, ObjectPrototypeToString, Originals, ReflectApply, RegExpPrototypeExec, RegExpPrototypeGetFlags, RegExpPrototypeGetSource, SafeMapIterator, SafeSetIterator, Set, SetPrototypeAdd, SetPrototypeDelete, SetPrototypeGetSize, SetPrototypeHas, StringPrototypeValueOf, Symbol, TypedArrayPrototypeGetLength, Uint8Array } = primordials;

type Memos = Map<object, Set<object>>;

const tagOf = (value: unknown): string => ObjectPrototypeToString(value);
const hasOwn = (object: object, key: PropertyKey) => ObjectPrototypeHasOwnProperty(object, key);
const isEnumerable = (object: object, key: PropertyKey) => ObjectPrototypePropertyIsEnumerable(object, key);

function ownKeys(value: object, strict: boolean, skipIndices: boolean): PropertyKey[] {
  let keys: PropertyKey[] = ObjectKeys(value);
  if (skipIndices) keys = ArrayPrototypeFilter(keys, (key) => !(RegExpPrototypeExec(/^(0|[1-9][0-9]*)$/, key as string) !== null));
  if (strict) for (let i53 = 0, a53 = ObjectGetOwnPropertySymbols(value); i53 < a53.length; i53++) {
    const symbol = a53[i53];
    if (isEnumerable(value, symbol)) ArrayPrototypePush(keys, symbol);
  }
  return keys;
}

function bytesOf(view: ArrayBufferView | ArrayBuffer): Uint8Array {
  return ArrayBufferIsView(view) ? new Uint8Array(ArrayBufferViewGetBuffer(view), ArrayBufferViewGetByteOffset(view), ArrayBufferViewGetByteLength(view)) : new Uint8Array(view);
}

function sameBytes(a: ArrayBufferView | ArrayBuffer, b: ArrayBufferView | ArrayBuffer): boolean {
  const x = bytesOf(a);
  const y = bytesOf(b);
  if (TypedArrayPrototypeGetLength(x) !== TypedArrayPrototypeGetLength(y)) return false;
  for (let i = 0; i < TypedArrayPrototypeGetLength(x); i++) if (x[i] !== y[i]) return false;
  return true;
}

function sameBoxed(a: object, b: object): boolean {
  if (isNumberObject(a)) return isNumberObject(b) && ObjectIs(NumberPrototypeValueOf(a), NumberPrototypeValueOf(b));
  if (isStringObject(a)) return isStringObject(b) && StringPrototypeValueOf(a) === StringPrototypeValueOf(b);
  if (isBooleanObject(a)) return isBooleanObject(b) && BooleanPrototypeValueOf(a) === BooleanPrototypeValueOf(b);
  if (isBigIntObject(a)) return isBigIntObject(b) && BigIntPrototypeValueOf(a) === BigIntPrototypeValueOf(b);
  if (isSymbolObject(a)) return isSymbolObject(b) && ReflectApply(Originals["Symbol.prototype.valueOf"]!, a, []) === ReflectApply(Originals["Symbol.prototype.valueOf"]!, b, []);
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
    const d11 = [x as unknown as RegExp, y as unknown as RegExp], rx = d11[0], ry = d11[1];
    if (!isRegExp(y) || RegExpPrototypeGetSource(rx) !== RegExpPrototypeGetSource(ry) || RegExpPrototypeGetFlags(rx) !== RegExpPrototypeGetFlags(ry) || rx.lastIndex !== ry.lastIndex) return false;
  } else if (isNativeError(x) || x instanceof Error) {
    if ((!isNativeError(y) && !(y instanceof Error)) || (x as unknown as Error).message !== (y as unknown as Error).message || (x as unknown as Error).name !== (y as unknown as Error).name) return false;
  } else if (isArrayBufferView(x)) {
    if (!isArrayBufferView(y)) return false;
    if (!strict && (isFloat32Array(x) || isFloat64Array(x))) {
      const d12 = [x as unknown as Float64Array, y as unknown as Float64Array], fx = d12[0], fy = d12[1];
      if (TypedArrayPrototypeGetLength(fx) !== TypedArrayPrototypeGetLength(fy)) return false;
      for (let i = 0; i < TypedArrayPrototypeGetLength(fx); i++) if (fx[i] !== fy[i]) return false;
    } else if (!sameBytes(x as unknown as ArrayBufferView, y as unknown as ArrayBufferView)) return false;
    return sameKeys(x, y, strict, memos, "view");
  } else if (isSet(x)) {
    if (!isSet(y) || SetPrototypeGetSize((x as unknown as Set<unknown>)) !== SetPrototypeGetSize((y as unknown as Set<unknown>))) return false;
    return sameKeys(x, y, strict, memos, "set");
  } else if (isMap(x)) {
    if (!isMap(y) || MapPrototypeGetSize((x as unknown as Map<unknown, unknown>)) !== MapPrototypeGetSize((y as unknown as Map<unknown, unknown>))) return false;
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
  for (let i54 = 0, a54 = keysA; i54 < a54.length; i54++) {
    const key = a54[i54];
    if (!hasOwn(b, key) || !isEnumerable(b, key)) return false;
  }
  // A pair already being compared further up counts as equal: that is how cycles end.
  let seen = MapPrototypeGet(memos, a);
  if (seen?.has(b)) return true;
  if (seen === undefined) MapPrototypeSet(memos, a, (seen = new Set()));
  SetPrototypeAdd(seen, b);
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
    for (let i55 = 0, a55 = keysA; i55 < a55.length; i55++) {
      const key = a55[i55];
      if (!deepEqual(x[key], y[key], strict, memos)) return false;
    }
    return true;
  } finally {
    SetPrototypeDelete(seen, b);
  }
}

function takeMatch(pool: unknown[], item: unknown, strict: boolean, memos: Memos): boolean {
  for (let i = 0; i < pool.length; i++) {
    if (deepEqual(item, pool[i], strict, memos)) {
      ArrayPrototypeSplice(pool, i, 1);
      return true;
    }
  }
  return false;
}

function sameSets(a: Set<unknown>, b: Set<unknown>, strict: boolean, memos: Memos): boolean {
  const rest: unknown[] = [];
  for (let a56 = SafeSetIterator(a), i56 = a56.next(); !i56.done; i56 = a56.next()) {
    const item = i56.value;
    if ((item === null || typeof item !== "object") && strict) {
      if (!SetPrototypeHas(b, item)) return false;
    } else if (!SetPrototypeHas(b, item)) ArrayPrototypePush(rest, item);
  }
  if (rest.length === 0) return true;
  const pool: unknown[] = [];
  for (let a57 = SafeSetIterator(b), i57 = a57.next(); !i57.done; i57 = a57.next()) {
    const item = i57.value;
    if (!SetPrototypeHas(a, item)) ArrayPrototypePush(pool, item);
  }
  for (let i58 = 0, a58 = rest; i58 < a58.length; i58++) {
    const item = a58[i58];
    if (!takeMatch(pool, item, strict, memos)) return false;
  }
  return pool.length === 0;
}

function sameMaps(a: Map<unknown, unknown>, b: Map<unknown, unknown>, strict: boolean, memos: Memos): boolean {
  const rest: [unknown, unknown][] = [];
  for (let a59 = SafeMapIterator(a), i59 = a59.next(); !i59.done; i59 = a59.next()) {
    const key = i59.value[0], value = i59.value[1];
    if (MapPrototypeHas(b, key)) {
      if (!deepEqual(value, MapPrototypeGet(b, key), strict, memos)) {
        if (strict || (key !== null && typeof key === "object")) return false;
        ArrayPrototypePush(rest, [key, value]);
      }
    } else {
      if (strict && (key === null || typeof key !== "object")) return false;
      ArrayPrototypePush(rest, [key, value]);
    }
  }
  if (rest.length === 0) return true;
  const pool: [unknown, unknown][] = [];
  for (let a60 = SafeMapIterator(b), i60 = a60.next(); !i60.done; i60 = a60.next()) {
    const entry = i60.value;
    if (!MapPrototypeHas(a, entry[0]) || !deepEqual(MapPrototypeGet(a, entry[0]), entry[1], strict, memos)) ArrayPrototypePush(pool, entry);
  }
  for (let i61 = 0, a61 = rest; i61 < a61.length; i61++) {
    const entry = a61[i61];
    const index = ArrayPrototypeFindIndex(pool, (candidate) => deepEqual(entry[0], candidate[0], strict, memos) && deepEqual(entry[1], candidate[1], strict, memos));
    if (index === -1) return false;
    ArrayPrototypeSplice(pool, index, 1);
  }
  return pool.length === 0;
}

export function isDeepStrictEqual(a: unknown, b: unknown): boolean {
  return deepEqual(a, b, true);
}
