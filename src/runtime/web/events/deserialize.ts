// StructuredDeserialize (HTML §2.7.6): builds the clone from the records. No user code runs here:
// every object is made by a captured constructor and its properties are created as data properties
// (CreateDataProperty), so neither setters on the prototypes nor a "__proto__" key can interfere.

import { DOMException } from "./dom-exception.ts";
import type { Serialized, SerializedRecord } from "./serialize.ts";
import { primordials } from "../../primordials.ts";

const { ArrayPrototype, BigInt64Array, BigUint64Array, DataView, Error, EvalError, Float32Array, Float64Array, Int16Array, Int32Array, Int8Array, Map, MapFrom, MapPrototypeGet, MapPrototypeSet, ObjectPrototype, Originals, RangeError, ReferenceError, ReflectApply, ReflectDefineProperty, ReflectDeleteProperty, ReflectGetOwnPropertyDescriptor, ReflectOwnKeys, ReflectSetPrototypeOf, Set, Symbol, SyntaxError, TypeError, URIError, Uint16Array, Uint32Array, Uint8Array, Uint8ClampedArray } = primordials;

export interface DeserializeMemory {
  values: Map<SerializedRecord, unknown>;
  /** Whether array indices may be assigned; found on the first array with properties. */
  assignIndices?: boolean;
}

const defineProperty = ReflectDefineProperty;
const setPrototypeOf = ReflectSetPrototypeOf;
const ownKeys = ReflectOwnKeys;
const deleteProperty = ReflectDeleteProperty;
const getOwnPropertyDescriptor = ReflectGetOwnPropertyDescriptor;
const apply = ReflectApply;
const ArrayConstructor = Array;
const BooleanConstructor = Boolean;
const NumberConstructor = Number;
const StringConstructor = String;
const ObjectConstructor = Object;
const DateConstructor = Date;
const RegExpConstructor = RegExp;
const MapConstructor = Map;
const SetConstructor = Set;
const mapSet = Originals["Map.prototype.set"]!;
const setAdd = Originals["Set.prototype.add"]!;

type ViewConstructor = new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView;

// Keyed by [[TypedArrayName]], spelled out: a constructor's `name` property can be redefined.
const VIEW_CONSTRUCTORS = MapFrom<string, ViewConstructor>([
  ["Int8Array", Int8Array],
  ["Uint8Array", Uint8Array],
  ["Uint8ClampedArray", Uint8ClampedArray],
  ["Int16Array", Int16Array],
  ["Uint16Array", Uint16Array],
  ["Int32Array", Int32Array],
  ["Uint32Array", Uint32Array],
  ["Float32Array", Float32Array],
  ["Float64Array", Float64Array],
  ["BigInt64Array", BigInt64Array],
  ["BigUint64Array", BigUint64Array],
  ["DataView", DataView],
] as [string, ViewConstructor][]);
const Float16ArrayConstructor = (globalThis as { Float16Array?: ViewConstructor }).Float16Array;
if (Float16ArrayConstructor !== undefined) MapPrototypeSet(VIEW_CONSTRUCTORS, "Float16Array", Float16ArrayConstructor);

const ERROR_CONSTRUCTORS = MapFrom<string, ErrorConstructor>([
  ["Error", Error],
  ["EvalError", EvalError],
  ["RangeError", RangeError],
  ["ReferenceError", ReferenceError],
  ["SyntaxError", SyntaxError],
  ["TypeError", TypeError],
  ["URIError", URIError],
]);

// One descriptor reused for every property: its prototype is null so that nothing inherited
// (a `get` on ObjectPrototype, say) can turn it into an accessor.
const dataProperty: PropertyDescriptor = { __proto__: null, value: undefined, writable: true, enumerable: true, configurable: true } as PropertyDescriptor;
const hiddenProperty: PropertyDescriptor = { __proto__: null, value: undefined, writable: true, enumerable: false, configurable: true } as PropertyDescriptor;

function createDataProperty(object: object, key: string, value: unknown, descriptor = dataProperty): void {
  descriptor.value = value;
  defineProperty(object, key, descriptor);
  descriptor.value = undefined;
}

// Assignment creates the same data property as defineProperty, several times faster, wherever no
// prototype can intercept it: on an object while its prototype is null, and on an array's index
// while neither ArrayPrototype nor ObjectPrototype has indexed properties (checked once per clone).
function fillObject(object: object, properties: Serialized[], memory: DeserializeMemory): void {
  setPrototypeOf(object, null);
  for (let index = 0; index < properties.length; index += 2) {
    (object as Record<string, unknown>)[properties[index] as string] = deserialize(properties[index + 1], memory);
  }
  setPrototypeOf(object, ObjectPrototype);
}

function fillArray(array: unknown[], properties: Serialized[], memory: DeserializeMemory): void {
  const assignIndices = (memory.assignIndices ??= !hasIndexedProperties(ArrayPrototype) && !hasIndexedProperties(ObjectPrototype));
  for (let index = 0; index < properties.length; index += 2) {
    const key = properties[index] as string;
    const value = deserialize(properties[index + 1], memory);
    if (assignIndices && isArrayIndex(key)) array[key as unknown as number] = value;
    else createDataProperty(array, key, value);
  }
}

function hasIndexedProperties(object: object): boolean {
  // Integer keys come first in [[OwnPropertyKeys]].
  const keys = ownKeys(object);
  return keys.length > 0 && typeof keys[0] === "string" && isArrayIndex(keys[0]);
}

function isArrayIndex(key: string): boolean {
  const index = +key;
  return `${index >>> 0}` === key && index !== 4_294_967_295;
}

export function deserialize(serialized: Serialized, memory: DeserializeMemory): unknown {
  if (typeof serialized !== "object" || serialized === null) return serialized;
  const remembered = MapPrototypeGet(memory.values, serialized);
  if (remembered !== undefined) return remembered;
  const value = shallowValue(serialized, memory);
  MapPrototypeSet(memory.values, serialized, value);
  switch (serialized.type) {
    case "Map":
      for (let index = 0; index < serialized.entries.length; index += 2) {
        const key = deserialize(serialized.entries[index], memory);
        apply(mapSet, value, [key, deserialize(serialized.entries[index + 1], memory)]);
      }
      break;
    case "Set":
      for (let index = 0; index < serialized.values.length; index++) apply(setAdd, value, [deserialize(serialized.values[index], memory)]);
      break;
    case "Array":
      fillArray(value as unknown[], serialized.properties, memory);
      break;
    case "Object":
      fillObject(value as object, serialized.properties, memory);
      break;
    case "Error":
      if (serialized.hasCause) createDataProperty(value as object, "cause", deserialize(serialized.cause, memory), hiddenProperty);
      break;
  }
  return value;
}

function shallowValue(serialized: SerializedRecord, memory: DeserializeMemory): unknown {
  switch (serialized.type) {
    case "Boolean":
      return new BooleanConstructor(serialized.value);
    case "Number":
      return new NumberConstructor(serialized.value);
    case "BigInt":
      return ObjectConstructor(serialized.value);
    case "String":
      return new StringConstructor(serialized.value);
    case "Date":
      return new DateConstructor(serialized.value);
    case "RegExp":
      return new RegExpConstructor(serialized.source, serialized.flags);
    case "ArrayBuffer":
      return serialized.data;
    case "ArrayBufferView": {
      const buffer = deserialize(serialized.buffer, memory) as ArrayBuffer;
      return new (MapPrototypeGet(VIEW_CONSTRUCTORS, serialized.constructor)!)(buffer, serialized.byteOffset, serialized.length);
    }
    case "Map":
      return new MapConstructor();
    case "Set":
      return new SetConstructor();
    case "Array": {
      // ArrayCreate(length). new Array(x) would build [x] from a length that is not a number,
      // which only a Proxy's trap can give.
      if (typeof serialized.length === "number") return new ArrayConstructor(serialized.length);
      const array: unknown[] = [];
      array.length = serialized.length;
      return array;
    }
    case "Object":
      return {};
    case "Error": {
      const error = new (MapPrototypeGet(ERROR_CONSTRUCTORS, serialized.name)!)();
      if (serialized.message !== undefined) createDataProperty(error, "message", serialized.message, hiddenProperty);
      restoreStack(error, serialized.stack);
      return error;
    }
    case "DOMException": {
      const exception = new DOMException(serialized.message, serialized.name);
      restoreStack(exception, serialized.stack);
      return exception;
    }
    case "Blob":
      return serialized.copy;
  }
}

// A new error's own `stack` is V8's accessor (V8 13.6); its setter, captured from a fresh error,
// replaces what the accessor returns and keeps the property's shape, as V8's deserializer does.
// A clone without a stack keeps the accessor, answering undefined.
// Taken from an error V8 itself throws, so that a replaced Error global cannot supply it.
const stackSetter = ((): ((value: unknown) => void) | undefined => {
  try {
    ReflectApply(Originals["Symbol.prototype.toString"]!, null, []);
  } catch (error) {
    return getOwnPropertyDescriptor(error as object, "stack")?.set;
  }
  return undefined;
})();

function restoreStack(error: object, stack: string | undefined): void {
  const own = getOwnPropertyDescriptor(error, "stack");
  if (stackSetter !== undefined && own !== undefined && own.set === stackSetter) apply(stackSetter, error, [stack]);
  else if (stack === undefined) deleteProperty(error, "stack");
  else createDataProperty(error, "stack", stack, hiddenProperty);
}
