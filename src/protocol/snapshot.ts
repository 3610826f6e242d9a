// What a sandbox sends the host (a result, a host call's arguments, a log part) is first read into
// a snapshot, and the snapshot is what is weighed and what isolated-vm copies. Weighing the value
// itself and handing it to the copy let the two see different values: isolated-vm's copy of a
// callback's arguments runs the sandbox's getters again, so a getter answered "small" to the weight
// and 300 MiB to the copy (findings7a/08, 09: twenty logs of one from a 16 MB sandbox ended the
// host with V8's heap OOM); a getter could also turn itself into a data property on its first read,
// and a result could be changed by the sandbox's own microtasks between the weight and the copy,
// which happens when its promise settles.
//
// So each property is read once, here, inside the sandbox's limits: plain objects, arrays and class
// instances become fresh objects whose prototype chain holds nothing user code can reach (no setter
// of user code's sees them being filled, and nothing in them runs code when V8's serializer reads
// them back), errors fresh errors of their built-in class with their message, stack and cause as
// own data, Maps and Sets fresh ones. Leaves whose size cannot change are kept (a Date, a boxed
// primitive, a fixed-length ArrayBuffer and views over one); a RegExp, which `compile()` can change,
// is copied when the value crosses later (a result). The snapshot is unreachable from user code, so
// between the weight and the copy nothing can change it.
//
// Refused, as V8's serializer would (a DataCloneError, before any copy): a Proxy (the runtime
// records every one user code makes, since JavaScript cannot tell one from its target), the global
// object, a module namespace, and the engine's objects that carry no data a clone keeps (a Promise,
// a WeakMap, an iterator...). Functions and RpcTargets become capabilities in plain objects and
// arrays, as before; inside anything else they are refused.
//
// Runs in the sandbox: every intrinsic is captured when the core boots, before user code runs, and
// only index loops and captured methods are used.

import { protocolPrimordials as primordials } from "./primordials.ts";
import { Kind, MAX_VALUE_DEPTH, OBJECT_BYTES, bigintBytes, checkBuffer, dataCloneError, primitiveBytes, sendKind, stringBytes, tooHeavy, tooManyObjects, type Meter } from "./clonable.ts";
import { CapKind, type CapExporter } from "./cap-table.ts";
import { MAX_CAPS_PER_VALUE, isStackOverflow, type CapSlot, type Encoded, type PathKey } from "./wire.ts";

const {
  ArrayBuffer,
  ArrayIsArray,
  DataView,
  Error,
  EvalError,
  Map,
  MapPrototypeEntries,
  MapPrototypeForEach,
  MapPrototypeGet,
  MapPrototypeSet,
  ObjectCreate,
  ObjectDefineOwnProperty,
  ObjectGetOwnPropertyDescriptor,
  ObjectGetPrototypeOf,
  ObjectKeys,
  ObjectPrototype,
  ObjectPrototypeHasOwnProperty,
  ObjectSetPrototypeOf,
  RangeError,
  ReferenceError,
  ReflectApply,
  RegExp,
  Set,
  SetPrototypeAdd,
  SetPrototypeForEach,
  SetPrototypeValues,
  StringPrototypeSlice,
  SyntaxError,
  TypeError,
  URIError,
  Uint8Array,
} = primordials;

type Getter = (this: unknown) => unknown;

const apply = ReflectApply;
const getOwn = ObjectGetOwnPropertyDescriptor;
const getProto = ObjectGetPrototypeOf;
const hasOwn = ObjectPrototypeHasOwnProperty;
const objectKeys = ObjectKeys;
const isArray = ArrayIsArray;
const defineOwn = ObjectDefineOwnProperty;
const objectCreate = ObjectCreate;
const setProto = ObjectSetPrototypeOf;
const objectToString = Object.prototype.toString;
const theGlobal: object = globalThis;
const toStringTag = Symbol.toStringTag;
const MapCtor = Map;
const SetCtor = Set;
const RegExpCtor = RegExp;

const accessor = (proto: object, name: string): Getter | undefined => getOwn(proto, name)?.get as Getter | undefined;
const regexpSource = accessor(RegExp.prototype, "source")!;
/** The flag letters in the order RegExp.prototype.flags gives them, each read by its own (brand-checked) getter. */
const regexpFlags: [string, Getter | undefined][] = [
  ["d", accessor(RegExp.prototype, "hasIndices")],
  ["g", accessor(RegExp.prototype, "global")],
  ["i", accessor(RegExp.prototype, "ignoreCase")],
  ["m", accessor(RegExp.prototype, "multiline")],
  ["s", accessor(RegExp.prototype, "dotAll")],
  ["u", accessor(RegExp.prototype, "unicode")],
  ["v", accessor(RegExp.prototype, "unicodeSets")],
  ["y", accessor(RegExp.prototype, "sticky")],
];
const bufferResizable = accessor(ArrayBuffer.prototype, "resizable");
const bufferLength = accessor(ArrayBuffer.prototype, "byteLength")!;
const typedArrayPrototype = getProto(Uint8Array.prototype) as object;
const viewBuffer = accessor(typedArrayPrototype, "buffer")!;
const viewByteOffset = accessor(typedArrayPrototype, "byteOffset")!;
const viewByteLength = accessor(typedArrayPrototype, "byteLength")!;
const viewName = getOwn(typedArrayPrototype, Symbol.toStringTag)!.get as Getter;
const typedArraySet = (typedArrayPrototype as { set: (this: unknown, source: unknown) => void }).set;
const dataViewBuffer = accessor(DataView.prototype, "buffer")!;
const dataViewByteOffset = accessor(DataView.prototype, "byteOffset")!;
const dataViewByteLength = accessor(DataView.prototype, "byteLength")!;
const ArrayBufferCtor = ArrayBuffer;
const Uint8ArrayCtor = Uint8Array;
const DataViewCtor = DataView;
/** Captured by captureLateSnapshotIntrinsics() below. */
let isError: ((value: unknown) => boolean) | undefined;
const stringValueOf = String.prototype.valueOf as Getter;
const bigintValueOf = BigInt.prototype.valueOf as Getter;

/** The leaves a copy keeps, each weighed as clonable.ts's leafBytes weighs it. */
const Leaf = { Weightless: 0, String: 1, BigInt: 2, RegExp: 3, Buffer: 4, View: 5, DataView: 6 } as const;
type Leaf = (typeof Leaf)[keyof typeof Leaf];

interface Known {
  kind: Kind;
  leaf?: Leaf;
  /** The brand test: an object that merely inherits from the prototype takes the slow path (sendKind). */
  confirm: Getter;
}

interface Opaque {
  name: string;
  /** Tests the brand; absent where no test is free of side effects, and the prototype decides. */
  confirm?: (value: object) => boolean;
}

// What the tables below are made of, read when the core boots (before user code can replace a
// global or a prototype's method); the tables are made when a snapshot first needs them, so a new
// isolate pays only these reads.
const global = globalThis as unknown as Record<string, { prototype?: Record<string, unknown> } | undefined>;
const VIEWS = ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "Float16Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"];
const viewPrototypes: (object | undefined)[] = [];
/** The typed array classes by name, for the fixed-length copy of a view over a resizable buffer. */
const viewClasses: Record<string, new (buffer: ArrayBuffer) => object> = ObjectCreate(null);

/**
 * Captures what V8 adds to a context only when it is made, not when a startup snapshot's script
 * runs (Float16Array, Error.isError; see clonable.ts captureLateIntrinsics): when this module
 * loads, and again when a sandbox made from the core's snapshot boots, before any user code. The
 * tables made from them are made again on their next use.
 */
export function captureLateSnapshotIntrinsics(): void {
  for (let i = 0; i < VIEWS.length; i++) {
    viewPrototypes[i] = global[VIEWS[i]]?.prototype;
    if (global[VIEWS[i]] !== undefined) viewClasses[VIEWS[i]] = global[VIEWS[i]] as unknown as new (buffer: ArrayBuffer) => object;
  }
  isError = (Error as unknown as { isError?: (value: unknown) => boolean }).isError;
  known = undefined;
  errorClasses = undefined;
}
const errorList: ErrorConstructor[] = [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError];
const datePrototype = Date.prototype;
const dateGetTime = Date.prototype.getTime as Getter;
const numberPrototype = Number.prototype;
const numberValueOf = Number.prototype.valueOf as Getter;
const booleanPrototype = Boolean.prototype;
const booleanValueOf = Boolean.prototype.valueOf as Getter;
const stringPrototype = String.prototype;
const bigintPrototype = BigInt.prototype;
const regexpPrototype = RegExp.prototype;
const arrayBufferPrototype = ArrayBuffer.prototype;
const dataViewPrototype = DataView.prototype;
const mapPrototype = Map.prototype;
const mapSize = accessor(Map.prototype, "size");
const setPrototype = Set.prototype;
const setSize = accessor(Set.prototype, "size");
const promisePrototype = Promise.prototype;
const weakPrototypes: [string, object | undefined, Getter | undefined, unknown[]][] = [
  ["WeakMap", global.WeakMap?.prototype, global.WeakMap?.prototype?.has as Getter | undefined, [{}]],
  ["WeakSet", global.WeakSet?.prototype, global.WeakSet?.prototype?.has as Getter | undefined, [{}]],
  ["WeakRef", global.WeakRef?.prototype, global.WeakRef?.prototype?.deref as Getter | undefined, []],
  ["FinalizationRegistry", global.FinalizationRegistry?.prototype, global.FinalizationRegistry?.prototype?.unregister as Getter | undefined, [{}]],
];
const arrayValues = Array.prototype.values as Getter;
const stringIterator = String.prototype[Symbol.iterator] as Getter;
const regexpMatchAll = RegExp.prototype[Symbol.matchAll] as (this: RegExp, text: string) => object;
const iteratorMap = (getProto(getProto(apply(arrayValues, [], []) as object) as object) as { map?: Getter }).map;

let known: Map<object, Known> | undefined;
let opaque: Map<object, Opaque> | undefined;
let errorClasses: Record<string, ErrorConstructor> | undefined;
captureLateSnapshotIntrinsics();

/**
 * The built-in prototypes of what crosses as more than its keys: one brand test (one call that does
 * not throw) tells an object of the usual kind, where sendKind's tests in turn throw several times.
 * And the error classes a copy keeps, by name (V8's serializer picks one by `name`). Made when the
 * first object that is not a plain object or array is sent.
 */
function makeKnown(): Map<object, Known> {
  known = new MapCtor();
  const add = (proto: object | undefined, kind: Kind, confirm: Getter | undefined, leaf?: Leaf) => {
    if (proto !== undefined && confirm !== undefined) MapPrototypeSet(known!, proto, { __proto__: null, kind, leaf, confirm } as Known);
  };
  add(datePrototype, Kind.Leaf, dateGetTime, Leaf.Weightless);
  add(numberPrototype, Kind.Leaf, numberValueOf, Leaf.Weightless);
  add(booleanPrototype, Kind.Leaf, booleanValueOf, Leaf.Weightless);
  add(stringPrototype, Kind.Leaf, stringValueOf, Leaf.String);
  add(bigintPrototype, Kind.Leaf, bigintValueOf, Leaf.BigInt);
  add(regexpPrototype, Kind.Leaf, regexpSource, Leaf.RegExp);
  add(arrayBufferPrototype, Kind.Leaf, bufferLength, Leaf.Buffer);
  add(dataViewPrototype, Kind.Leaf, dataViewBuffer, Leaf.DataView);
  for (let i = 0; i < viewPrototypes.length; i++) add(viewPrototypes[i], Kind.Leaf, viewBuffer, Leaf.View);
  add(mapPrototype, Kind.Map, mapSize);
  add(setPrototype, Kind.Set, setSize);
  errorClasses = objectCreate(null);
  for (let i = 0; i < errorList.length; i++) {
    errorClasses![errorList[i].name] = errorList[i];
    const brand = isError;
    if (brand !== undefined) add(errorList[i].prototype, Kind.Error, (function (this: unknown) { if (!brand(this)) throw 0; }) as Getter);
  }
  return known;
}

/**
 * The engine's objects a clone refuses, by a prototype they inherit from: a class instance (a plain
 * JavaScript object whatever its prototype) is none of these and crosses as its own keys. Made when
 * the first object of no listed kind (a class instance, most often) is sent.
 */
function makeOpaque(): Map<object, Opaque> {
  opaque = new MapCtor();
  const refuse = (proto: object | undefined | null, name: string, confirm?: (value: object) => boolean) => {
    if (proto !== undefined && proto !== null) MapPrototypeSet(opaque!, proto, { __proto__: null, name, confirm } as Opaque);
  };
  for (let i = 0; i < weakPrototypes.length; i++) {
    const [name, proto, check, args] = weakPrototypes[i];
    if (check !== undefined) refuse(proto, name, (value) => has(check, value, args));
  }
  // No brand test of these is free of side effects (then() subscribes, next() runs a generator).
  refuse(promisePrototype, "Promise");
  refuse(getProto(function* () {}.prototype as object), "Generator");
  refuse(getProto(async function* () {}.prototype as object), "AsyncGenerator");
  const arrayIterator = apply(arrayValues, [], []) as object;
  refuse(getProto(arrayIterator), "Array Iterator");
  refuse(getProto(MapPrototypeEntries(new MapCtor())), "Map Iterator");
  refuse(getProto(SetPrototypeValues(new SetCtor())), "Set Iterator");
  refuse(getProto(apply(stringIterator, "", []) as object), "String Iterator");
  // matchAll reads `constructor` and `flags` (its species and flags): this RegExp answers both itself.
  const pattern = /(?:)/;
  defineOwn(pattern, "constructor", { __proto__: null, value: undefined } as PropertyDescriptor);
  defineOwn(pattern, "flags", { __proto__: null, value: "" } as PropertyDescriptor);
  refuse(getProto(apply(regexpMatchAll, pattern, [""]) as object), "RegExp String Iterator");
  if (typeof iteratorMap === "function") refuse(getProto(apply(iteratorMap, arrayIterator, [(value: unknown) => value]) as object), "Iterator Helper");
  return opaque;
}

/** Tests a brand: whether `check` accepts `value` as its receiver. */
function has(check: Getter | undefined, value: object, args: unknown[] = []): boolean {
  if (check === undefined) return false;
  try {
    apply(check, value, args);
    return true;
  } catch {
    return false;
  }
}

const INTL_TAG = /^\[object (Intl\.\w+)\]$/;
const regexpExec = RegExp.prototype.exec;

/** The engine object `object` is (one a clone refuses), or undefined for a plain JavaScript object. */
function opaqueKind(object: object, guard: SnapshotGuard): string | undefined {
  for (let proto = getProto(object) as object | null, steps = 0; proto !== null && steps < 64; proto = getProto(proto) as object | null, steps++) {
    // A Proxy in the chain would run user code for each step: the walk ends there.
    if (guard.isProxy(proto)) return undefined;
    const found = MapPrototypeGet(opaque ?? makeOpaque(), proto) as Opaque | undefined;
    if (found === undefined) continue;
    return found.confirm === undefined || found.confirm(object) ? found.name : undefined;
  }
  // Intl's objects, by the tag their prototypes carry (touching Intl when the core boots would cost
  // every new isolate its setup).
  const intl = apply(regexpExec, INTL_TAG, [apply(objectToString, object, [])]) as RegExpExecArray | null;
  return intl === null ? undefined : intl[1];
}

function refused(what: string): Error {
  return dataCloneError(`${what} could not be cloned: it cannot cross the sandbox boundary.`);
}

function getterError(key: string): Error {
  return dataCloneError(`The value holds a getter (property "${key.length > 64 ? StringPrototypeSlice(key, 0, 64) + "…" : key}"): a getter cannot cross the sandbox boundary; pass plain data.`);
}

function capInsideError(): Error {
  return dataCloneError("Functions and RpcTargets cannot be sent inside a Map, a Set, an error or a class instance; use a plain object.");
}

/** What the runtime tells the snapshot about the sandbox's objects. */
export interface SnapshotGuard {
  /** The DataCloneError for an object that must not cross (one of the runtime's platform objects, a Proxy), or undefined. */
  refuse(object: object): Error | undefined;
  /** True for a Proxy: its traps are user code, so a prototype walk stops there. */
  isProxy(object: object): boolean;
}

export interface SnapshotOptions {
  exporter: CapExporter;
  guard: SnapshotGuard;
  /** Past this many objects (and Map or Set entries) the value is a DataCloneError. */
  maxObjects: number;
  /** Past this weight (clonable.ts's Meter) the value is a DataCloneError; Infinity (with no meter): not weighed. */
  maxBytes: number;
  /** Receives the weight, when the caller needs it (the budget of host calls in flight). */
  meter?: Meter;
  /**
   * A result: a getter is refused (its first answer is not taken for plain data: a result never
   * held one, since the copy of a result runs no code), and the value crosses after user code may
   * have run again (its promise settles later), so a RegExp, which `compile()` changes, is copied.
   */
  result?: boolean;
}

interface State {
  readonly options: SnapshotOptions;
  readonly guard: SnapshotGuard;
  readonly meter: Meter;
  readonly weighs: boolean;
  objects: number;
  /** The snapshot of each object seen so far: shared references and cycles stay so (made at the second object). */
  copies: Map<object, unknown> | undefined;
  /** The first object read and its snapshot: most values sent (a call's arguments) hold one or two. */
  first: object | undefined;
  firstCopy: unknown;
  /** The keys from the root to the value being read, for the capabilities' paths (plain objects and arrays only). */
  readonly path: PathKey[];
  caps: CapSlot[] | undefined;
}

/** An array without a prototype: filling it runs no setter user code put on Array.prototype. */
function bareArray<T>(): T[] {
  return setProto([], null) as T[];
}

/**
 * The prototype of a snapshot's plain objects: an empty object without a prototype, which user code
 * never reaches, so filling one runs no setter put on Object.prototype. (An object whose own
 * prototype is null is kept by V8 as a dictionary, twice as slow to fill and to serialize.) The
 * copy does not carry prototypes: the host gets plain objects.
 */
export const SNAPSHOT_OBJECT_PROTOTYPE: object = objectCreate(null);

/** Records `copy` as the snapshot of `object`. */
function remember(state: State, object: object, copy: unknown): void {
  if (state.first === undefined) {
    state.first = object;
    state.firstCopy = copy;
  } else MapPrototypeSet((state.copies ??= new MapCtor()), object, copy);
}

/** The snapshot already made of `object`, or undefined. */
function recall(state: State, object: object): unknown {
  if (object === state.first) return state.firstCopy;
  return state.copies === undefined ? undefined : MapPrototypeGet(state.copies, object);
}

function weigh(state: State, bytes: number): void {
  if ((state.meter.bytes += bytes) > state.options.maxBytes) throw tooHeavy(state.options.maxBytes);
}

function weighValue(state: State, value: unknown): void {
  if (state.weighs) weigh(state, primitiveBytes(value));
}

function countObject(state: State): void {
  if (++state.objects > state.options.maxObjects) throw tooManyObjects(state.options.maxObjects);
}

/**
 * The snapshot of `value`, encoded as wire.ts's `encode` does (the body, and where capabilities
 * were cut out), weighed and counted as the copy will carry it.
 */
export function snapshot(value: unknown, options: SnapshotOptions): Encoded {
  const state: State = {
    options,
    guard: options.guard,
    meter: options.meter ?? { bytes: 0 },
    // A long string's weight takes a scan: skipped where nothing is weighed (a log part, measured by log-size.ts).
    weighs: options.maxBytes !== Infinity || options.meter !== undefined,
    objects: 0,
    copies: undefined,
    first: undefined,
    firstCopy: undefined,
    path: bareArray(),
    caps: undefined,
  };
  let body: unknown;
  try {
    body = read(value, state, 0, true);
  } catch (error) {
    if (isStackOverflow(error)) throw dataCloneError("The value is nested too deeply to cross the boundary.");
    throw error;
  }
  return state.caps === undefined ? [body] : [body, state.caps];
}

/** The snapshot of one value at `depth` (state.path[0..depth) leads to it); `cuttable` while every container above is a plain object or array. */
function read(value: unknown, state: State, depth: number, cuttable: boolean): unknown {
  const type = typeof value;
  if (value === null || (type !== "object" && type !== "function")) {
    if (type === "symbol") throw refused("A symbol");
    weighValue(state, value);
    return value;
  }
  const object = value as object;
  let capKind = state.options.exporter.classify(object);
  if (capKind === -1 && type === "function") capKind = CapKind.Function;
  if (capKind !== -1) return cut(object, capKind, state, depth, cuttable);
  const seen = recall(state, object);
  if (seen !== undefined) return seen;
  if (depth > MAX_VALUE_DEPTH) throw dataCloneError(`The value is nested too deeply to cross the boundary (more than ${MAX_VALUE_DEPTH} levels).`);
  countObject(state);
  weigh(state, OBJECT_BYTES);
  const refusal = state.guard.refuse(object);
  if (refusal !== undefined) throw refusal;
  if (object === theGlobal) throw refused("The global object");
  if (isArray(object)) return readArray(object as unknown[], state, depth, cuttable);
  const proto = getProto(object);
  if (proto === ObjectPrototype || proto === null) {
    if (proto === null) {
      const tag = getOwn(object, toStringTag);
      if (tag !== undefined && hasOwn(tag, "value") && tag.value === "Module") throw refused("A module namespace");
    }
    if (hasOwn(object, "callee") && apply(objectToString, object, []) === "[object Arguments]") throw refused("An arguments object");
    return readKeys(object, state, depth, cuttable);
  }
  const usual = MapPrototypeGet(known ?? makeKnown(), proto) as Known | undefined;
  const confirmed = usual !== undefined && has(usual.confirm, object);
  switch (confirmed ? usual.kind : sendKind(object)) {
    case Kind.Map:
      return readMap(object as Map<unknown, unknown>, state, depth);
    case Kind.Set:
      return readSet(object as Set<unknown>, state, depth);
    case Kind.Error:
      return readError(object as Error, state, depth);
    case Kind.Leaf:
      return readLeaf(object, state, confirmed ? usual.leaf : undefined);
    default: {
      const kind = opaqueKind(object, state.guard);
      if (kind !== undefined) throw dataCloneError(`#<${kind}> could not be cloned.`);
      return readKeys(object, state, depth, false);
    }
  }
}

/** A function or RpcTarget: null in the body, and its place in the capability list. */
function cut(object: object, kind: CapKind, state: State, depth: number, cuttable: boolean): null {
  if (!cuttable) throw capInsideError();
  countObject(state);
  weigh(state, OBJECT_BYTES);
  const caps = (state.caps ??= bareArray());
  if (caps.length >= MAX_CAPS_PER_VALUE) throw new RangeError(`A value may carry at most ${MAX_CAPS_PER_VALUE} functions or RpcTargets.`);
  const path = bareArray<PathKey>();
  for (let i = 0; i < depth; i++) path[i] = state.path[i];
  caps[caps.length] = [path, kind, state.options.exporter.export(object, kind)];
  return null;
}

/** What own() answers for a key that is gone (a getter read earlier deleted it). */
const MISSING = {};

/** An own property's value, read once: a data property's value, or its getter's answer (a result's getter is refused once it has answered). */
function own(object: object, key: string, state: State): unknown {
  const descriptor = getOwn(object, key);
  if (descriptor === undefined) return MISSING;
  // The descriptor inherits from Object.prototype: only its own fields are read.
  if (hasOwn(descriptor, "value")) return descriptor.value;
  const get = hasOwn(descriptor, "get") ? (descriptor.get as Getter | undefined) : undefined;
  if (get === undefined) return undefined;
  const answer = apply(get, object, []);
  if (state.options.result === true) throw getterError(key);
  return answer;
}

function readKeys(object: object, state: State, depth: number, cuttable: boolean): object {
  const copy = objectCreate(SNAPSHOT_OBJECT_PROTOTYPE) as Record<string, unknown>;
  remember(state, object, copy);
  const keys = objectKeys(object);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (state.weighs) weigh(state, stringBytes(key) + 8);
    const property = own(object, key, state);
    if (property === MISSING) continue;
    if (cuttable) state.path[depth] = key;
    copy[key] = read(property, state, depth + 1, cuttable);
  }
  return copy;
}

function readArray(array: unknown[], state: State, depth: number, cuttable: boolean): unknown[] {
  const copy = bareArray<unknown>();
  remember(state, array, copy);
  const length = array.length;
  // Own keys, as the clone copies them: the indices present (holes stay holes) and any other key.
  const keys = objectKeys(array);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (state.weighs) weigh(state, stringBytes(key) + 8);
    const property = own(array, key, state);
    if (property === MISSING) continue;
    if (cuttable) state.path[depth] = key;
    (copy as unknown as Record<string, unknown>)[key] = read(property, state, depth + 1, cuttable);
  }
  // Holes weigh too: a sparse array of length 2^32 - 1 is one object and a few bytes here, but
  // whatever walks it on the host (JSON for islet serve, the user's own loops) visits every index
  // (findings8/02: 335 MB of JSON from a 16 MB sandbox, a server blocked for minutes).
  if (state.weighs && length > keys.length) weigh(state, (length - keys.length) * HOLE_BYTES);
  if (copy.length < length) copy.length = length;
  return copy;
}

/** What a hole of a sparse array weighs: as much as an element (a JSON "null," is 5 bytes). */
const HOLE_BYTES = 8;

function readMap(map: Map<unknown, unknown>, state: State, depth: number): Map<unknown, unknown> {
  const copy = new MapCtor<unknown, unknown>();
  remember(state, map, copy);
  MapPrototypeForEach(map, (value: unknown, key: unknown) => {
    countObject(state);
    MapPrototypeSet(copy, read(key, state, depth + 1, false), read(value, state, depth + 1, false));
  });
  return copy;
}

function readSet(set: Set<unknown>, state: State, depth: number): Set<unknown> {
  const copy = new SetCtor<unknown>();
  remember(state, set, copy);
  SetPrototypeForEach(set, (value: unknown) => {
    countObject(state);
    SetPrototypeAdd(copy, read(value, state, depth + 1, false));
  });
  return copy;
}

/**
 * A fresh error of the built-in class its `name` gives, with what V8's serializer copies of it:
 * its own data `message`, its `stack` (read once, whatever formats it) and its own data `cause`.
 * `name` and `stack` are own data properties of the copy, so the serializer's reads of them (it
 * looks `name` up the prototype chain) find them there and run no code.
 */
function readError(error: Error, state: State, depth: number): Error {
  const name = error.name;
  const classes = errorClasses ?? (makeKnown(), errorClasses!);
  const Class = typeof name === "string" && hasOwn(classes, name) ? classes[name] : Error;
  const messageDescriptor = getOwn(error, "message");
  let message: string | undefined;
  if (messageDescriptor !== undefined && hasOwn(messageDescriptor, "value")) {
    const raw = messageDescriptor.value;
    message = typeof raw === "string" ? raw : `${raw as string}`;
  }
  const stack = error.stack;
  const causeDescriptor = getOwn(error, "cause");
  const copy = message === undefined ? new Class() : new Class(message);
  defineOwn(copy, "name", { __proto__: null, value: Class.name, writable: true, configurable: true } as PropertyDescriptor);
  defineOwn(copy, "stack", { __proto__: null, value: typeof stack === "string" ? stack : undefined, writable: true, configurable: true } as PropertyDescriptor);
  remember(state, error, copy);
  if (message !== undefined) weighValue(state, message);
  if (typeof stack === "string") weighValue(state, stack);
  if (causeDescriptor !== undefined && hasOwn(causeDescriptor, "value")) {
    defineOwn(copy, "cause", { __proto__: null, value: read(causeDescriptor.value, state, depth + 1, false), writable: true, configurable: true } as PropertyDescriptor);
  }
  return copy;
}

/** The buffer a leaf of this kind holds, refused if shared or detached (as sendKind refuses it). */
function leafBuffer(leaf: object, type: Leaf): object | undefined {
  if (type === Leaf.Buffer) {
    checkBuffer(leaf);
    return leaf;
  }
  if (type !== Leaf.View && type !== Leaf.DataView) return undefined;
  const buffer = apply(type === Leaf.View ? viewBuffer : dataViewBuffer, leaf, []) as object;
  checkBuffer(buffer);
  return buffer;
}

/** A leaf's weight: a buffer's bytes (a view's whole buffer), a boxed string's or BigInt's, a RegExp's source. */
function leafWeight(leaf: object, type: Leaf, buffer: object | undefined): number {
  if (buffer !== undefined) return apply(bufferLength, buffer, []) as number;
  if (type === Leaf.String) return stringBytes(apply(stringValueOf, leaf, []) as string);
  if (type === Leaf.BigInt) return bigintBytes(apply(bigintValueOf, leaf, []) as bigint);
  if (type === Leaf.RegExp) return stringBytes(apply(regexpSource, leaf, []) as string) + 16;
  return 0;
}

/** A fixed-length ArrayBuffer holding `length` bytes of `buffer` from `offset` (no user code: no species, no slice). */
function fixedBytes(buffer: object, offset: number, length: number): ArrayBuffer {
  const copy = new ArrayBufferCtor(length);
  apply(typedArraySet, new Uint8ArrayCtor(copy), [new Uint8ArrayCtor(buffer as ArrayBuffer, offset, length)]);
  return copy;
}

/**
 * A resizable buffer, or a view over one, as a fixed-length copy of the bytes it holds (a view: of
 * the same type, over the bytes it shows, at offset 0), as clonable.ts makes what arrives. The
 * sandbox could grow the buffer before the copy (a result's promise settles later), and the host
 * would create it resizable, reserving its maxByteLength (findings7a/10, 11).
 */
function fixedLeaf(leaf: object, type: Leaf, buffer: object): object {
  if (type === Leaf.Buffer) return fixedBytes(buffer, 0, apply(bufferLength, buffer, []) as number);
  const view = type === Leaf.View;
  const bytes = fixedBytes(buffer, apply(view ? viewByteOffset : dataViewByteOffset, leaf, []) as number, apply(view ? viewByteLength : dataViewByteLength, leaf, []) as number);
  if (!view) return new DataViewCtor(bytes);
  const Class = viewClasses[apply(viewName, leaf, []) as string];
  return Class === undefined ? bytes : new Class(bytes);
}

/** The leaf type of an object sendKind found to be a leaf (one that does not inherit from its usual prototype). */
function leafType(leaf: object): Leaf {
  if (has(viewBuffer, leaf)) return Leaf.View;
  if (has(dataViewBuffer, leaf)) return Leaf.DataView;
  if (has(bufferLength, leaf)) return Leaf.Buffer;
  if (has(stringValueOf, leaf)) return Leaf.String;
  if (has(bigintValueOf, leaf)) return Leaf.BigInt;
  if (has(regexpSource, leaf)) return Leaf.RegExp;
  return Leaf.Weightless;
}

/** A leaf: kept where its size cannot change before the copy, weighed as clonable.ts weighs it. */
function readLeaf(leaf: object, state: State, type: Leaf = leafType(leaf)): object {
  const buffer = leafBuffer(leaf, type);
  if (buffer !== undefined && bufferResizable !== undefined && apply(bufferResizable, buffer, []) === true) {
    const copy = fixedLeaf(leaf, type, buffer);
    remember(state, leaf, copy);
    if (state.weighs) weigh(state, leafWeight(copy, type, type === Leaf.Buffer ? copy : (apply(type === Leaf.View ? viewBuffer : dataViewBuffer, copy, []) as object)));
    return copy;
  }
  remember(state, leaf, leaf);
  if (state.weighs) weigh(state, leafWeight(leaf, type, buffer));
  if (state.options.result !== true || type !== Leaf.RegExp) return leaf;
  // RegExp.prototype.compile changes a RegExp in place: a result crosses a fresh one.
  let flags = "";
  for (let i = 0; i < regexpFlags.length; i++) {
    const flag = regexpFlags[i][1];
    if (flag !== undefined && apply(flag, leaf, []) === true) flags += regexpFlags[i][0];
  }
  const copy = new RegExpCtor(apply(regexpSource, leaf, []) as string, flags);
  remember(state, leaf, copy);
  return copy;
}
