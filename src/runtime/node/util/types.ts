// util.types: brand checks made with built-in getters and methods that throw on the wrong
// receiver, so a fake SymbolToStringTag does not fool them where JavaScript allows a real check.
// Where it does not (promises, iterators, arguments), the built-in tag is used, as far as it goes.

import { crypto } from "../../platform.ts";
import { primordials, SymbolToStringTag } from "../../primordials.ts";

const { ArrayBuffer, ArrayBufferIsView, BigInt, Boolean, DataView, DatePrototypeGetTime, Error, Map, Number, Object, ObjectGetOwnPropertyDescriptor, ObjectGetPrototypeOf, ObjectPrototypeToString, Originals, ReflectApply, RegExp, RegExpPrototypeExec, Set, String, Symbol, Uint8Array, WeakMapPrototypeHas, WeakSet } = primordials;

const tagOf = (value: unknown): string => ObjectPrototypeToString(value);
const getter = (proto: object, key: PropertyKey) => ObjectGetOwnPropertyDescriptor(proto, key)!.get!;

const typedArrayTag = Originals["get TypedArray.prototype[Symbol.toStringTag]"]!;
const arrayBufferLength = Originals["get ArrayBuffer.prototype.byteLength"]!;
const dataViewLength = Originals["get DataView.prototype.byteLength"]!;
const mapSize = Originals["get Map.prototype.size"]!;
const setSize = Originals["get Set.prototype.size"]!;
const regExpSource = Originals["get RegExp.prototype.source"]!;
const sharedArrayBuffer = (globalThis as { SharedArrayBuffer?: { prototype: object } }).SharedArrayBuffer;
const sharedLength = sharedArrayBuffer ? Originals["get SharedArrayBuffer.prototype.byteLength"] : undefined;

function passes(check: () => unknown): boolean {
  try {
    check();
    return true;
  } catch {
    return false;
  }
}

const isObjectLike = (value: unknown): value is object => (typeof value === "object" && value !== null) || typeof value === "function";

export const isTypedArray = (value: unknown): boolean => ReflectApply(typedArrayTag, value, []) !== undefined;
const typedArrayOf = (name: string) => (value: unknown): boolean => ReflectApply(typedArrayTag, value, []) === name;
export const isUint8Array = typedArrayOf("Uint8Array");
export const isUint8ClampedArray = typedArrayOf("Uint8ClampedArray");
export const isUint16Array = typedArrayOf("Uint16Array");
export const isUint32Array = typedArrayOf("Uint32Array");
export const isInt8Array = typedArrayOf("Int8Array");
export const isInt16Array = typedArrayOf("Int16Array");
export const isInt32Array = typedArrayOf("Int32Array");
export const isFloat16Array = typedArrayOf("Float16Array");
export const isFloat32Array = typedArrayOf("Float32Array");
export const isFloat64Array = typedArrayOf("Float64Array");
export const isBigInt64Array = typedArrayOf("BigInt64Array");
export const isBigUint64Array = typedArrayOf("BigUint64Array");
export const isArrayBufferView = (value: unknown): boolean => ArrayBufferIsView(value);

export const isArrayBuffer = (value: unknown): boolean => isObjectLike(value) && passes(() => ReflectApply(arrayBufferLength, value, []));
export const isSharedArrayBuffer = (value: unknown): boolean => sharedLength !== undefined && isObjectLike(value) && passes(() => ReflectApply(sharedLength, value, []));
export const isAnyArrayBuffer = (value: unknown): boolean => isArrayBuffer(value) || isSharedArrayBuffer(value);
export const isDataView = (value: unknown): boolean => isObjectLike(value) && passes(() => ReflectApply(dataViewLength, value, []));

export const isDate = (value: unknown): boolean => isObjectLike(value) && passes(() => DatePrototypeGetTime(value));
export const isRegExp = (value: unknown): boolean => isObjectLike(value) && value !== RegExp.prototype && passes(() => ReflectApply(regExpSource, value, []));
export const isMap = (value: unknown): boolean => isObjectLike(value) && passes(() => ReflectApply(mapSize, value, []));
export const isSet = (value: unknown): boolean => isObjectLike(value) && passes(() => ReflectApply(setSize, value, []));
export const isWeakMap = (value: unknown): boolean => isObjectLike(value) && passes(() => WeakMapPrototypeHas(value, {}));
export const isWeakSet = (value: unknown): boolean => isObjectLike(value) && passes(() => ReflectApply(Originals["WeakSet.prototype.has"]!, value, [{}]));

export const isMapIterator = (value: unknown): boolean => tagOf(value) === "[object Map Iterator]";
export const isSetIterator = (value: unknown): boolean => tagOf(value) === "[object Set Iterator]";
export const isGeneratorObject = (value: unknown): boolean => tagOf(value) === "[object Generator]";
export const isArgumentsObject = (value: unknown): boolean => tagOf(value) === "[object Arguments]";
export const isPromise = (value: unknown): boolean => tagOf(value) === "[object Promise]";

export const isAsyncFunction = (value: unknown): boolean => typeof value === "function" && (RegExpPrototypeExec(/^\[object Async(Generator)?Function\]$/, tagOf(value)) !== null);
export const isGeneratorFunction = (value: unknown): boolean => typeof value === "function" && (RegExpPrototypeExec(/^\[object (Async)?GeneratorFunction\]$/, tagOf(value)) !== null);

const errorIsError = (Error as { isError?: (value: unknown) => boolean }).isError;
export const isNativeError = (value: unknown): boolean => (errorIsError !== undefined ? errorIsError(value) : isObjectLike(value) && tagOf(value) === "[object Error]");

const boxed = (valueOf: () => unknown) => (value: unknown): boolean => typeof value === "object" && value !== null && passes(() => ReflectApply(valueOf, value, []));
export const isNumberObject = boxed(Originals["Number.prototype.valueOf"]!);
export const isStringObject = boxed(Originals["String.prototype.valueOf"]!);
export const isBooleanObject = boxed(Originals["Boolean.prototype.valueOf"]!);
export const isBigIntObject = boxed(Originals["BigInt.prototype.valueOf"]!);
export const isSymbolObject = boxed(Originals["Symbol.prototype.valueOf"]!);
export const isBoxedPrimitive = (value: unknown): boolean =>
  isNumberObject(value) || isStringObject(value) || isBooleanObject(value) || isBigIntObject(value) || isSymbolObject(value);

/** A namespace object is null-prototyped, non-extensible and tagged "Module" unwritably. */
export function isModuleNamespaceObject(value: unknown): boolean {
  if (typeof value !== "object" || value === null || ObjectGetPrototypeOf(value) !== null || Object.isExtensible(value)) return false;
  const tag = ObjectGetOwnPropertyDescriptor(value, SymbolToStringTag);
  return tag !== undefined && tag.value === "Module" && !tag.writable && !tag.configurable;
}

/** The sandbox has no native External values and no KeyObject class. */
export const isExternal = (_value: unknown): boolean => false;
export const isKeyObject = (_value: unknown): boolean => false;

export function isCryptoKey(value: unknown): boolean {
  if (!isObjectLike(value)) return false;
  const CryptoKey = (crypto() as { CryptoKey?: abstract new () => object }).CryptoKey;
  return typeof CryptoKey === "function" && value instanceof CryptoKey;
}

export const types = {
  isExternal,
  isDate,
  isArgumentsObject,
  isBigIntObject,
  isBooleanObject,
  isNumberObject,
  isStringObject,
  isSymbolObject,
  isNativeError,
  isRegExp,
  isAsyncFunction,
  isGeneratorFunction,
  isGeneratorObject,
  isPromise,
  isMap,
  isSet,
  isMapIterator,
  isSetIterator,
  isWeakMap,
  isWeakSet,
  isArrayBuffer,
  isDataView,
  isSharedArrayBuffer,
  isModuleNamespaceObject,
  isAnyArrayBuffer,
  isBoxedPrimitive,
  isArrayBufferView,
  isTypedArray,
  isUint8Array,
  isUint8ClampedArray,
  isUint16Array,
  isUint32Array,
  isInt8Array,
  isInt16Array,
  isInt32Array,
  isFloat16Array,
  isFloat32Array,
  isFloat64Array,
  isBigInt64Array,
  isBigUint64Array,
  isKeyObject,
  isCryptoKey,
};
