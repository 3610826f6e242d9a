// StructuredSerializeInternal (HTML §2.7.3), step by step. Serialization is where user code can
// run (getters, proxies' traps, the name getter of an error), so it follows the spec's order of
// reads exactly; the records it builds hold copies, never the original objects.

import { web } from "../../platform.ts";
import { classify, describeKind, type Kind } from "./clone-kinds.ts";
import { domException, exceptionFields } from "./dom-exception.ts";
import { primordials, SymbolToStringTag } from "../../primordials.ts";

const { ArrayBuffer, ArrayBufferIsView, ArrayIsArray, ArrayPrototypeFilter, BigInt, Boolean, DataView, Map, MapPrototypeGet, MapPrototypeSet, Number, Object, ObjectKeys, Originals, ReflectApply, ReflectGetOwnPropertyDescriptor, ReflectGetPrototypeOf, RegExp, Set, SetFrom, SetPrototypeHas, String, Symbol, Uint8Array } = primordials;

export type Serialized = undefined | null | boolean | number | bigint | string | SerializedRecord;

export type SerializedRecord =
  | { type: "Boolean"; value: boolean }
  | { type: "Number"; value: number }
  | { type: "BigInt"; value: bigint }
  | { type: "String"; value: string }
  | { type: "Date"; value: number }
  | { type: "RegExp"; source: string; flags: string }
  /** `data` is already the clone's buffer: a private copy, or for a transfer the moved buffer. */
  | { type: "ArrayBuffer"; data: ArrayBuffer | undefined }
  | { type: "ArrayBufferView"; constructor: string; buffer: SerializedRecord; byteOffset: number; length: number }
  | { type: "Map"; entries: Serialized[] }
  | { type: "Set"; values: Serialized[] }
  | { type: "Error"; name: string; message: string | undefined; stack: string | undefined; cause: Serialized; hasCause: boolean }
  | { type: "DOMException"; name: string; message: string; stack: string | undefined }
  | { type: "Array"; length: number; properties: Serialized[] }
  | { type: "Object"; properties: Serialized[] }
  /** A Blob or File already copied by its own serialization steps. */
  | { type: "Blob"; copy: object };

export type SerializeMemory = Map<object, SerializedRecord>;

const apply = ReflectApply;
const getOwnPropertyDescriptor = ReflectGetOwnPropertyDescriptor;
const hasOwnProperty = Originals["Object.prototype.hasOwnProperty"]!;
const objectKeys = ObjectKeys;
const isArray = ArrayIsArray;
const isView = ArrayBufferIsView;
const ArrayBufferConstructor = ArrayBuffer;
const Uint8ArrayConstructor = Uint8Array;
const symbolToString = Originals["Symbol.prototype.toString"]!;

function getter(prototype: object, key: PropertyKey): ((...args: unknown[]) => unknown) | undefined {
  return getOwnPropertyDescriptor(prototype, key)?.get;
}

const booleanValueOf = Originals["Boolean.prototype.valueOf"]!;
const numberValueOf = Originals["Number.prototype.valueOf"]!;
const stringValueOf = Originals["String.prototype.valueOf"]!;
const bigintValueOf = Originals["BigInt.prototype.valueOf"]!;
const dateGetTime = Originals["Date.prototype.getTime"]!;
const regExpSource = Originals["get RegExp.prototype.source"]!;
// The flags in the order RegExp.prototype.flags lists them; read from the slots, never from
// properties a regexp could shadow.
const regExpFlags = ArrayPrototypeFilter<[string, ((...args: unknown[]) => unknown) | undefined]>([
  ["d", Originals["get RegExp.prototype.hasIndices"]],
  ["g", Originals["get RegExp.prototype.global"]],
  ["i", Originals["get RegExp.prototype.ignoreCase"]],
  ["m", Originals["get RegExp.prototype.multiline"]],
  ["s", Originals["get RegExp.prototype.dotAll"]],
  ["u", Originals["get RegExp.prototype.unicode"]],
  ["v", Originals["get RegExp.prototype.unicodeSets"]],
  ["y", Originals["get RegExp.prototype.sticky"]],
], (entry) => entry[1] !== undefined) as [string, (...args: unknown[]) => unknown][];
const arrayBufferByteLength = Originals["get ArrayBuffer.prototype.byteLength"]!;
const arrayBufferResizable = Originals["get ArrayBuffer.prototype.resizable"];
const arrayBufferMaxByteLength = Originals["get ArrayBuffer.prototype.maxByteLength"];
const arrayBufferDetached = Originals["get ArrayBuffer.prototype.detached"];
const TypedArrayPrototype = ReflectGetPrototypeOf(Uint8Array.prototype)!;
const typedArrayName = Originals["get TypedArray.prototype[Symbol.toStringTag]"]!;
const typedArrayBuffer = Originals["get TypedArray.prototype.buffer"]!;
const typedArrayByteOffset = Originals["get TypedArray.prototype.byteOffset"]!;
const typedArrayLength = Originals["get TypedArray.prototype.length"]!;
const typedArraySet = Originals["TypedArray.prototype.set"]!;
const dataViewBuffer = Originals["get DataView.prototype.buffer"]!;
const dataViewByteOffset = Originals["get DataView.prototype.byteOffset"]!;
const dataViewByteLength = Originals["get DataView.prototype.byteLength"]!;
const mapForEach = Originals["Map.prototype.forEach"]!;
const setForEach = Originals["Set.prototype.forEach"]!;

const ERROR_NAMES = SetFrom<unknown>(["Error", "EvalError", "RangeError", "ReferenceError", "SyntaxError", "TypeError", "URIError"]);

export function dataCloneError(message: string): Error {
  return domException(message, "DataCloneError");
}

function hasOwn(object: object, key: PropertyKey): boolean {
  return apply(hasOwnProperty, object, [key]) as boolean;
}

/** The [[Value]] of an own data property, or `absent` for none or an accessor. */
function ownDataValue(object: object, key: string, absent: unknown): unknown {
  const descriptor = getOwnPropertyDescriptor(object, key);
  return descriptor !== undefined && hasOwn(descriptor, "value") ? descriptor.value : absent;
}

const ABSENT = Symbol("absent");

export function serialize(value: unknown, memory: SerializeMemory): Serialized {
  if (value === null) return null;
  const type = typeof value;
  if (type === "symbol") throw dataCloneError(`${apply(symbolToString, value, []) as string} could not be cloned.`);
  if (type !== "object" && type !== "function") return value as Serialized;
  const object = value as object;
  const remembered = MapPrototypeGet(memory, object);
  if (remembered !== undefined) return remembered;
  if (type === "function") throw dataCloneError("A function could not be cloned.");
  if (isArray(object)) return serializeArray(object, memory);
  if (isView(object)) return serializeView(object, memory);
  const kind = classify(object);
  const record = shallowRecord(object, kind);
  MapPrototypeSet(memory, object, record);
  switch (record.type) {
    case "Map": {
      // The entries as they are now: what serializing them adds to the map is not copied.
      const copied: unknown[] = [];
      apply(mapForEach, object, [
        (entryValue: unknown, key: unknown) => {
          copied[copied.length] = key;
          copied[copied.length] = entryValue;
        },
      ]);
      for (let index = 0; index < copied.length; index++) record.entries[index] = serialize(copied[index], memory);
      break;
    }
    case "Set": {
      const copied: unknown[] = [];
      apply(setForEach, object, [(entry: unknown) => void (copied[copied.length] = entry)]);
      for (let index = 0; index < copied.length; index++) record.values[index] = serialize(copied[index], memory);
      break;
    }
    case "Error":
      if (record.hasCause) record.cause = serialize(ownDataValue(object, "cause", undefined), memory);
      break;
    case "Object":
      serializeProperties(object, record.properties, memory);
      break;
  }
  return record;
}

function shallowRecord(object: object, kind: Kind): SerializedRecord {
  switch (kind) {
    case "Object":
      return { type: "Object", properties: [] };
    case "Boolean":
      return { type: "Boolean", value: apply(booleanValueOf, object, []) as boolean };
    case "Number":
      return { type: "Number", value: apply(numberValueOf, object, []) as number };
    case "BigInt":
      return { type: "BigInt", value: apply(bigintValueOf, object, []) as bigint };
    case "String":
      return { type: "String", value: apply(stringValueOf, object, []) as string };
    case "Date":
      return { type: "Date", value: apply(dateGetTime, object, []) as number };
    case "RegExp": {
      let flags = "";
      for (let index = 0; index < regExpFlags.length; index++) if (apply(regExpFlags[index][1], object, [])) flags += regExpFlags[index][0];
      return { type: "RegExp", source: apply(regExpSource, object, []) as string, flags };
    }
    case "ArrayBuffer":
      return { type: "ArrayBuffer", data: copyArrayBuffer(object as ArrayBuffer) };
    case "Map":
      return { type: "Map", entries: [] };
    case "Set":
      return { type: "Set", values: [] };
    case "Error":
      return errorRecord(object);
    case "DOMException": {
      const { name, message } = exceptionFields(object);
      return { type: "DOMException", name, message, stack: errorStack(object) };
    }
    case "Blob":
    case "File":
      return { type: "Blob", copy: copyBlob(object, kind) };
    case "SharedArrayBuffer":
      throw dataCloneError("A SharedArrayBuffer could not be cloned: shared memory is not available here.");
    default:
      throw dataCloneError(`${describeKind(kind, object)} could not be cloned.`);
  }
}

function errorRecord(error: object): SerializedRecord {
  const name = (error as { name?: unknown }).name;
  const messageValue = ownDataValue(error, "message", ABSENT);
  const message = messageValue === ABSENT ? undefined : `${messageValue as string}`;
  // Beyond the spec's name and message, what V8 also keeps: the stack and an own cause.
  const stack = errorStack(error);
  const hasCause = ownDataValue(error, "cause", ABSENT) !== ABSENT;
  return { type: "Error", name: SetPrototypeHas(ERROR_NAMES, name) ? (name as string) : "Error", message, stack, cause: undefined, hasCause };
}

// V8 13.6 gives each error an own `stack` accessor and its serializer reads the stack with a
// plain Get, running a getter the error (or its prototype chain) defines; a stack that is not a
// string is dropped.
function errorStack(error: object): string | undefined {
  const stack = (error as { stack?: unknown }).stack;
  return typeof stack === "string" ? stack : undefined;
}

function serializeArray(array: unknown[], memory: SerializeMemory): SerializedRecord {
  const record: SerializedRecord = { type: "Array", length: array.length, properties: [] };
  MapPrototypeSet(memory, array, record);
  serializeProperties(array, record.properties, memory);
  return record;
}

// Own enumerable string keys, each still own when its turn comes (a getter may delete the next).
function serializeProperties(object: object, properties: Serialized[], memory: SerializeMemory): void {
  const keys = objectKeys(object);
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index];
    if (!hasOwn(object, key)) continue;
    const input = (object as Record<string, unknown>)[key];
    properties[properties.length] = key;
    properties[properties.length] = serialize(input, memory);
  }
}

function serializeView(view: ArrayBufferView, memory: SerializeMemory): SerializedRecord {
  const name = apply(typedArrayName, view, []) as string | undefined;
  let buffer: ArrayBuffer;
  let byteOffset: number;
  let length: number;
  if (name === undefined) {
    buffer = apply(dataViewBuffer, view, []) as ArrayBuffer;
    try {
      byteOffset = apply(dataViewByteOffset, view, []) as number;
      length = apply(dataViewByteLength, view, []) as number;
    } catch {
      throw dataCloneError("A DataView whose buffer is detached or out of bounds could not be cloned.");
    }
  } else {
    buffer = apply(typedArrayBuffer, view, []) as ArrayBuffer;
    byteOffset = apply(typedArrayByteOffset, view, []) as number;
    length = apply(typedArrayLength, view, []) as number;
  }
  const bufferRecord = serialize(buffer, memory) as SerializedRecord;
  const record: SerializedRecord = { type: "ArrayBufferView", constructor: name ?? "DataView", buffer: bufferRecord, byteOffset, length };
  MapPrototypeSet(memory, view, record);
  return record;
}

export function isDetached(buffer: ArrayBuffer): boolean {
  if (arrayBufferDetached !== undefined) return apply(arrayBufferDetached, buffer, []) as boolean;
  if ((apply(arrayBufferByteLength, buffer, []) as number) !== 0) return false;
  // Before the `detached` getter, only a detached buffer refuses a view.
  try {
    new Uint8ArrayConstructor(buffer);
    return false;
  } catch {
    return true;
  }
}

/** A copy of the bytes, resizable with the same maximum if the original is. */
export function copyArrayBuffer(buffer: ArrayBuffer): ArrayBuffer {
  if (isDetached(buffer)) throw dataCloneError("A detached ArrayBuffer could not be cloned.");
  const length = apply(arrayBufferByteLength, buffer, []) as number;
  const resizable = arrayBufferResizable !== undefined && (apply(arrayBufferResizable, buffer, []) as boolean);
  const copy = resizable
    ? // Charged like the sandbox's own resizable buffers (globals/buffers.ts).
      new primordials.ArrayBufferConfined(length, { __proto__: null, maxByteLength: apply(arrayBufferMaxByteLength!, buffer, []) as number } as { maxByteLength: number })
    : new ArrayBufferConstructor(length);
  if (length > 0) apply(typedArraySet, new Uint8ArrayConstructor(copy), [new Uint8ArrayConstructor(buffer, 0, length)]);
  return copy;
}

// The Blob and File serialization steps keep the same bytes (a snapshot) and the same type, and
// for a File its name and last-modified time; a new object made here carries exactly those.
function copyBlob(blob: object, kind: "Blob" | "File"): object {
  const { Blob, File } = web();
  const blobPrototype = Blob.prototype as object;
  const size = apply(getter(blobPrototype, "size")!, blob, []) as number;
  const type = apply(getter(blobPrototype, "type")!, blob, []) as string;
  if (kind === "Blob") return apply(Blob.prototype.slice, blob, [0, size, type]) as object;
  const filePrototype = File.prototype as object;
  const name = apply(getter(filePrototype, "name")!, blob, []) as string;
  const lastModified = apply(getter(filePrototype, "lastModified")!, blob, []) as number;
  return new File([blob], name, { type, lastModified });
}
