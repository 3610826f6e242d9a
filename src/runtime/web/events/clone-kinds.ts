// Which branch of HTML's StructuredSerializeInternal an object takes, from its internal slots.
//
// JavaScript tests an internal slot only by calling a brand-checked intrinsic, which throws when
// the slot is missing, and a throw costs about a microsecond: far more than cloning the object.
// So the prototype chain picks the one slot worth testing, and only that one is tested. Objects
// whose chain holds no telling prototype (plain objects, class instances, null-prototype objects)
// get one cheap Object.prototype.toString call, which sees the built-in tags of errors, wrappers,
// dates, regexps and arguments whatever their prototype, and the tags of platform objects.

import { web } from "../../platform.ts";
import { AbortController, isAbortController } from "./abort-controller.ts";
import { DOMException, isDOMException } from "./dom-exception.ts";
import { Event, isEvent } from "./event.ts";
import { EventTarget, isEventTarget } from "./event-target.ts";
import { isScheduler, scheduler } from "./scheduler.ts";
import { CRYPTO_GLOBALS, STREAMS_GLOBALS } from "../../globals/names.ts";
import { primordials, SymbolIterator } from "../../primordials.ts";

const { ArrayBuffer, ArrayBufferIsView, ArrayIsArray, ArrayIteratorPrototype, BigInt, Boolean, DatePrototype, Error, ErrorPrototype, Map, MapFrom, MapIteratorPrototype, MapPrototypeGet, MapPrototypeSet, Number, Object, ObjectPrototype, Originals, PromisePrototype, ReflectApply, ReflectGetOwnPropertyDescriptor, ReflectGetPrototypeOf, RegExp, RegExpStringIteratorPrototype, Set, SetFrom, SetIteratorPrototype, SetPrototypeAdd, SetPrototypeHas, String, StringIteratorPrototype, StringPrototypeEndsWith, StringPrototypeSlice, Symbol, WeakMap, WeakSet } = primordials;

export type Kind =
  // Serializable.
  | "Object"
  | "Boolean"
  | "Number"
  | "BigInt"
  | "String"
  | "Date"
  | "RegExp"
  | "ArrayBuffer"
  | "Map"
  | "Set"
  | "Error"
  | "DOMException"
  | "Blob"
  | "File"
  // Not serializable: DataCloneError.
  | "SharedArrayBuffer"
  | "Symbol"
  | "Promise"
  | "WeakMap"
  | "WeakSet"
  | "WeakRef"
  | "FinalizationRegistry"
  | "Generator"
  | "Iterator"
  | "Arguments"
  | "Platform";

const apply = ReflectApply;
const getPrototypeOf = ReflectGetPrototypeOf;
const getOwnPropertyDescriptor = ReflectGetOwnPropertyDescriptor;
const objectToString = Originals["Object.prototype.toString"]!;
const isError = (Error as { isError?: (value: unknown) => boolean }).isError;

function getter(prototype: object, key: PropertyKey): (...args: unknown[]) => unknown {
  return getOwnPropertyDescriptor(prototype, key)!.get!;
}

/** Whether the intrinsic accepts the value as its receiver: that is, whether the slot is there. */
function hasSlot(brandCheck: (...args: never[]) => unknown, value: object, args: unknown[] = []): boolean {
  try {
    apply(brandCheck, value, args);
    return true;
  } catch {
    return false;
  }
}

const SharedArrayBufferConstructor = (globalThis as { SharedArrayBuffer?: SharedArrayBufferConstructor }).SharedArrayBuffer;
const WeakRefConstructor = (globalThis as { WeakRef?: WeakRefConstructor }).WeakRef;
const FinalizationRegistryConstructor = (globalThis as { FinalizationRegistry?: FinalizationRegistryConstructor }).FinalizationRegistry;

const booleanValueOf = Originals["Boolean.prototype.valueOf"]!;
const numberValueOf = Originals["Number.prototype.valueOf"]!;
const stringValueOf = Originals["String.prototype.valueOf"]!;
const bigintValueOf = Originals["BigInt.prototype.valueOf"]!;
const symbolValueOf = Originals["Symbol.prototype.valueOf"]!;
const dateGetTime = Originals["Date.prototype.getTime"]!;
const regExpSource = Originals["get RegExp.prototype.source"]!;
const arrayBufferByteLength = Originals["get ArrayBuffer.prototype.byteLength"]!;
const sharedArrayBufferByteLength = Originals["get SharedArrayBuffer.prototype.byteLength"];
const mapSize = Originals["get Map.prototype.size"]!;
const setSize = Originals["get Set.prototype.size"]!;
const weakMapHas = Originals["WeakMap.prototype.has"]!;
const weakSetHas = Originals["WeakSet.prototype.has"]!;

function confirmError(value: object): boolean {
  // Before Error.isError, [[ErrorData]] shows only in Object.prototype.toString's built-in tag.
  return isError !== undefined ? isError(value) : apply(objectToString, value, []) === "[object Error]";
}

interface Candidate {
  kind: Kind | "stop";
  /** Tests the slot; absent where no side-effect-free test exists and the prototype decides. */
  confirm?: (value: object) => boolean;
}

const generatorPrototype = getPrototypeOf(function* () {}.prototype as object)!;
const asyncGeneratorPrototype = getPrototypeOf(async function* () {}.prototype as object)!;
const iteratorPrototypes = [ArrayIteratorPrototype, MapIteratorPrototype, SetIteratorPrototype, StringIteratorPrototype, RegExpStringIteratorPrototype];

const candidates = MapFrom<object, Candidate>([
  [ObjectPrototype, { kind: "stop" }],
  [Boolean.prototype, { kind: "Boolean", confirm: (value: object) => hasSlot(booleanValueOf, value) }],
  [Number.prototype, { kind: "Number", confirm: (value: object) => hasSlot(numberValueOf, value) }],
  [String.prototype, { kind: "String", confirm: (value: object) => hasSlot(stringValueOf, value) }],
  [BigInt.prototype, { kind: "BigInt", confirm: (value: object) => hasSlot(bigintValueOf, value) }],
  [Symbol.prototype, { kind: "Symbol", confirm: (value: object) => hasSlot(symbolValueOf, value) }],
  [DatePrototype, { kind: "Date", confirm: (value: object) => hasSlot(dateGetTime, value) }],
  [RegExp.prototype, { kind: "RegExp", confirm: (value: object) => hasSlot(regExpSource, value) }],
  [ArrayBuffer.prototype, { kind: "ArrayBuffer", confirm: (value: object) => hasSlot(arrayBufferByteLength, value) }],
  [Map.prototype, { kind: "Map", confirm: (value: object) => hasSlot(mapSize, value) }],
  [Set.prototype, { kind: "Set", confirm: (value: object) => hasSlot(setSize, value) }],
  [ErrorPrototype, { kind: "Error", confirm: confirmError }],
  [WeakMap.prototype, { kind: "WeakMap", confirm: (value: object) => hasSlot(weakMapHas, value, [{}]) }],
  [WeakSet.prototype, { kind: "WeakSet", confirm: (value: object) => hasSlot(weakSetHas, value, [{}]) }],
  // No brand check of these is free of side effects (Promise.prototype.then subscribes, next()
  // runs a generator), so an object that inherits from their prototypes counts as one of them.
  [PromisePrototype, { kind: "Promise" }],
  [generatorPrototype, { kind: "Generator" }],
  [asyncGeneratorPrototype, { kind: "Generator" }],
  // This chunk's platform objects.
  [DOMException.prototype, { kind: "DOMException", confirm: isDOMException }],
  [Event.prototype, { kind: "Platform", confirm: isEvent }],
  [EventTarget.prototype, { kind: "Platform", confirm: isEventTarget }],
  [AbortController.prototype, { kind: "Platform", confirm: isAbortController }],
  [getPrototypeOf(scheduler)!, { kind: "Platform", confirm: isScheduler }],
]);
for (let i = 0; i < iteratorPrototypes.length; i++) MapPrototypeSet(candidates, iteratorPrototypes[i], { kind: "Iterator" });
if (SharedArrayBufferConstructor !== undefined) {
  MapPrototypeSet(candidates, SharedArrayBufferConstructor.prototype, { kind: "SharedArrayBuffer", confirm: (value: object) => hasSlot(sharedArrayBufferByteLength!, value) });
}
if (WeakRefConstructor !== undefined) {
  const deref = Originals["WeakRef.prototype.deref"]!;
  MapPrototypeSet(candidates, WeakRefConstructor.prototype, { kind: "WeakRef", confirm: (value: object) => hasSlot(deref, value) });
}
if (FinalizationRegistryConstructor !== undefined) {
  const unregister = Originals["FinalizationRegistry.prototype.unregister"]!;
  MapPrototypeSet(candidates, FinalizationRegistryConstructor.prototype, { kind: "FinalizationRegistry", confirm: (value: object) => hasSlot(unregister, value, [{}]) });
}

// The other chunks' interfaces: platform objects that are neither serializable nor transferable
// here (ReadableStream and friends are transferable in browsers; see the README).
const PLATFORM_INTERFACES = SetFrom<string>([
  "Headers",
  "Request",
  "Response",
  "FormData",
  "URL",
  "URLSearchParams",
  "TextEncoder",
  "TextDecoder",
  "Performance",
]);
for (let i = 0; i < STREAMS_GLOBALS.length; i++) SetPrototypeAdd(PLATFORM_INTERFACES, STREAMS_GLOBALS[i]);
for (let i = 0; i < CRYPTO_GLOBALS.length; i++) if (CRYPTO_GLOBALS[i] !== "crypto") SetPrototypeAdd(PLATFORM_INTERFACES, CRYPTO_GLOBALS[i]);

/**
 * The kind of an object that is neither an Array nor an ArrayBufferView (the caller tests those
 * with ArrayIsArray and ArrayBufferIsView, which never throw).
 */
export function classify(value: object): Kind {
  for (let prototype = getPrototypeOf(value); prototype !== null; prototype = getPrototypeOf(prototype)) {
    const candidate = MapPrototypeGet(candidates, prototype);
    if (candidate === undefined) continue;
    if (candidate.kind === "stop" || (candidate.confirm !== undefined && !candidate.confirm(value))) break;
    // A DOMException is an Error too, but a platform object: its own serialization steps apply.
    return candidate.kind === "Error" && isDOMException(value) ? "DOMException" : candidate.kind;
  }
  return classifyByTag(value);
}

function classifyByTag(value: object): Kind {
  if (isDOMException(value)) return "DOMException";
  if (isEventTarget(value) || isEvent(value) || isAbortController(value) || isScheduler(value)) return "Platform";
  const tag = apply(objectToString, value, []) as string;
  switch (tag) {
    case "[object Object]":
      return "Object";
    case "[object Arguments]":
      return "Arguments";
    case "[object Error]":
      return confirmError(value) ? "Error" : "Object";
    case "[object Boolean]":
      return hasSlot(booleanValueOf, value) ? "Boolean" : "Object";
    case "[object Number]":
      return hasSlot(numberValueOf, value) ? "Number" : "Object";
    case "[object String]":
      return hasSlot(stringValueOf, value) ? "String" : "Object";
    case "[object Date]":
      return hasSlot(dateGetTime, value) ? "Date" : "Object";
    case "[object RegExp]":
      return hasSlot(regExpSource, value) ? "RegExp" : "Object";
    case "[object Blob]":
    case "[object File]":
      return blobKind(value);
  }
  const name = StringPrototypeSlice(tag, 8, -1);
  return SetPrototypeHas(PLATFORM_INTERFACES, name) || StringPrototypeEndsWith(name, " Iterator") ? "Platform" : "Object";
}

// Blob and File live in the web chunk, loaded only for an object that claims to be one; their
// brand-checked getters tell a real one from an object that merely inherits from the prototype.
function blobKind(value: object): Kind {
  const { Blob, File } = web();
  const fileName = getOwnPropertyDescriptor(File.prototype, "name")?.get;
  if (fileName !== undefined && hasSlot(fileName, value)) return "File";
  const blobSize = getOwnPropertyDescriptor(Blob.prototype, "size")?.get;
  return blobSize !== undefined && hasSlot(blobSize, value) ? "Blob" : "Object";
}

/** A short name for an uncloneable object, for a DataCloneError's message. */
export function describeKind(kind: Kind, value: object): string {
  if (kind !== "Platform") return `#<${kind}>`;
  // Platform objects carry their interface name as their class string.
  return `#<${StringPrototypeSlice((apply(objectToString, value, []) as string), 8, -1)}>`;
}
