// What may cross the boundary: a closed list of structured-clone types. Used on both sides (this
// file is bundled into the isolate and imported by the host), with every intrinsic captured when
// it loads, before any user code runs.
//
// isolated-vm's copy and worker_threads' postMessage both accept more than plain data: a
// SharedArrayBuffer (or a view over one) crosses *shared*, a WebAssembly.Module crosses as the
// same compiled module. So two checks:
//
// - received: on every value that arrived by a copy (in the sandbox from the host, on the
//   host from a sandbox, between a shard and the host), before anything else sees it. A fresh copy
//   holds only what the deserializer made, so each object must be one of the listed kinds, told by
//   its brand and prototype: plain object, array, Date, RegExp, Map, Set, ArrayBuffer (not
//   shared), a typed array or DataView over one, a boxed primitive, an Error. Anything else (a
//   SharedArrayBuffer, a WebAssembly.Module, whatever a future engine learns to clone) is refused.
//   This is the allow-list the boundary stands on. It hands back the copy with every resizable
//   ArrayBuffer in it made fixed-length (see fixedLength).
// - sendKind: before a value is handed to the copy, so that the sender gets the DataCloneError
//   at once, with a message that names the type.

import { protocolPrimordials as primordials } from "./primordials.ts";

const { Array, ArrayBuffer, ArrayIsArray, ArrayPrototype, ArrayPrototypePush, BigInt, Boolean, DataView, Error, ErrorPrototype, EvalError, Map, MapPrototypeEntries, MapPrototypeGet, MapPrototypeSet, Number, Object, ObjectDefineOwnProperty, ObjectGetOwnPropertyDescriptor, ObjectGetPrototypeOf, ObjectKeys, ObjectPrototype, RangeError, ReferenceError, ReflectApply, RegExp, Set, SetPrototypeAdd, SetPrototypeValues, String, Symbol, SyntaxError, TypeError, URIError, Uint8Array } = primordials;

type Getter = (this: unknown) => unknown;

const apply = ReflectApply;
const getProto = ObjectGetPrototypeOf;
const getOwn = ObjectGetOwnPropertyDescriptor;
const objectKeys = ObjectKeys;
const isArray = ArrayIsArray;
const objectToString = Object.prototype.toString;
const ObjectProto = ObjectPrototype;
const ArrayProto = ArrayPrototype;
const TypeErrorCtor = TypeError;

const getter = (proto: object | undefined, name: string): Getter | undefined => (proto === undefined ? undefined : (getOwn(proto, name)?.get as Getter | undefined));
const typedArrayProto = getProto(Uint8Array.prototype) as object;
const datePrototype = Date.prototype;
const dateGetTime = datePrototype.getTime as Getter;
const regexpSource = getter(RegExp.prototype, "source")!;
const regexpProto = RegExp.prototype;
const mathRound = Math.round;
const mapSize = getter(Map.prototype, "size")!;
const mapEntries = Map.prototype.entries as Getter;
const mapIteratorNext = getProto(MapPrototypeEntries(new Map())).next as Getter;
const setSize = getter(Set.prototype, "size")!;
const setValues = Set.prototype.values as Getter;
const setIteratorNext = getProto(SetPrototypeValues(new Set())).next as Getter;
const bufferLength = getter(ArrayBuffer.prototype, "byteLength")!;
const bufferDetached = getter(ArrayBuffer.prototype, "detached");
/** Captured by captureLateIntrinsics() below, with the rest V8 adds to a context only when it is made. */
let sharedBufferLength: Getter | undefined;
const viewBuffer = getter(typedArrayProto, "buffer")!;
const dataViewBuffer = getter(DataView.prototype, "buffer")!;
const bufferResizable = getter(ArrayBuffer.prototype, "resizable");
const bufferSlice = ArrayBuffer.prototype.slice as Getter;
const bufferTransferToFixedLength = (ArrayBuffer.prototype as { transferToFixedLength?: Getter }).transferToFixedLength;
const viewByteOffset = getter(typedArrayProto, "byteOffset")!;
const viewByteLength = getter(typedArrayProto, "byteLength")!;
const dataViewByteOffset = getter(DataView.prototype, "byteOffset")!;
const dataViewByteLength = getter(DataView.prototype, "byteLength")!;
const mapClear = Map.prototype.clear as Getter;
const setClear = Set.prototype.clear as Getter;
/** Each typed array's constructor by its prototype, as captured when this module loads (Float16Array by captureLateIntrinsics). */
const typedArrayConstructors = new Map<object, new (buffer: ArrayBuffer) => object>();
const typedArrayNames = ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "Float16Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"];
const boxes: Getter[] = [Number.prototype.valueOf, String.prototype.valueOf, Boolean.prototype.valueOf, BigInt.prototype.valueOf] as Getter[];
const symbolValueOf = Symbol.prototype.valueOf as Getter;
let isError: ((value: unknown) => boolean) | undefined;
const errorProtos: object[] = [ErrorPrototype, TypeError.prototype, RangeError.prototype, SyntaxError.prototype, ReferenceError.prototype, EvalError.prototype, URIError.prototype];
const arrayIncludes = Array.prototype.includes;
const hasOwn = Object.prototype.hasOwnProperty;
const SetCtor = Set;
const setHas = Set.prototype.has;
const setAdd = Set.prototype.add;

/** Made by makeUsualKinds when first needed (after captureLateIntrinsics, which clears it). */
let usualKinds: Map<object, (object: object) => number | undefined> | undefined;

/** Brand checks of the WebAssembly objects: each throws for anything else. */
let wasmBrands: [string, Getter][] = [];

/**
 * Captures what V8 adds to a context only when the context is made, and not when a startup
 * snapshot's script runs: SharedArrayBuffer, Float16Array, Error.isError, WebAssembly (the list:
 * test/engine/snapshot.test.ts). Runs when this module loads, and again when a sandbox made from
 * the core's snapshot boots (runtime/index.ts), before any user code: the core was evaluated
 * without them. Reads globals, so only ever before user code runs in the isolate.
 */
export function captureLateIntrinsics(): void {
  const global = globalThis as unknown as Record<string, unknown>;
  const shared = global.SharedArrayBuffer as ({ prototype: object } & (() => void)) | undefined;
  sharedBufferLength = typeof shared === "function" ? getter(shared.prototype, "byteLength") : undefined;
  for (let i = 0; i < typedArrayNames.length; i++) {
    const constructor = global[typedArrayNames[i]] as (new (buffer: ArrayBuffer) => object) | undefined;
    if (typeof constructor === "function") MapPrototypeSet(typedArrayConstructors, constructor.prototype as object, constructor);
  }
  isError = (Error as unknown as { isError?: (value: unknown) => boolean }).isError;
  usualKinds = undefined;
  const brands: [string, Getter][] = [];
  const wasm = global.WebAssembly as Record<string, { prototype?: object } | undefined> | undefined;
  if (wasm !== undefined) {
    const moduleExports = (wasm.Module as unknown as { exports?: (module: unknown) => unknown } | undefined)?.exports;
    if (typeof moduleExports === "function") ArrayPrototypePush(brands, ["WebAssembly.Module", function (this: unknown) { return moduleExports(this); }]);
    const probes: [string, string][] = [["Memory", "buffer"], ["Instance", "exports"], ["Table", "length"], ["Global", "value"]];
    for (let i86 = 0, a86 = probes; i86 < a86.length; i86++) {
      const name = a86[i86][0], member = a86[i86][1];
      const probe = getter(wasm[name]?.prototype, member);
      if (probe !== undefined) ArrayPrototypePush(brands, [`WebAssembly.${name}`, probe]);
    }
  }
  wasmBrands = brands;
}
captureLateIntrinsics();

function has(brand: Getter | undefined, value: object): boolean {
  if (brand === undefined) return false;
  try {
    apply(brand, value, []);
    return true;
  } catch {
    return false;
  }
}

export function dataCloneError(message: string): Error {
  const error = new TypeErrorCtor(message);
  error.name = "DataCloneError";
  return error;
}

/**
 * A value from a sandbox may hold at most this many objects (and Map or Set entries). Each hop
 * (isolated-vm's copy, the check here, the link to a thread or process, the parent's check) walks
 * every object, tens of microseconds each on a loaded machine: 600,000 small objects held a shard's
 * event loop for over 10 s. At this cap one hop takes a fraction of a second.
 */
export const MAX_OBJECTS_PER_VALUE = 100_000;

/**
 * How deep a value from a sandbox may nest (objects, arrays, Maps, Sets, errors' causes). The
 * host's deserializer recurses once a level: an argument of a host call nested 2,000 deep failed
 * to arrive, and as such posts are fire-and-forget the call waited for wallMs (findings7c/10).
 */
export const MAX_VALUE_DEPTH = 1_000;

/**
 * The most a value from a sandbox may weigh (Meter: strings at 2 bytes a code unit, BigInts by
 * their size, buffers, keys, RegExp sources, and a charge per object), counted per occurrence: a
 * string or BigInt referenced 300 times is copied 300 times, so it weighs 300 times. The sandbox's
 * runtime passes its memoryMb (as the host's own check does), before the value is copied.
 */
export function tooHeavy(maxBytes: number): Error {
  return sizeRefusal(
    `A value may hold at most ${maxBytes} bytes (${mathRound(maxBytes / 1048576)} MiB, the sandbox's memoryMb) to cross the sandbox boundary; each reference to a string or BigInt is copied, and counts, again.`,
  );
}

export function tooManyObjects(max: number): Error {
  return sizeRefusal(`A value may hold at most ${max} objects (and Map or Set entries) to cross the sandbox boundary.`);
}

const WeakSetCtor = WeakSet;
const weakSetAdd = WeakSet.prototype.add;
const weakSetHas = WeakSet.prototype.has;
const sizeRefusals = new WeakSetCtor<object>();

function sizeRefusal(message: string): Error {
  const error = dataCloneError(message);
  apply(weakSetAdd, sizeRefusals, [error]);
  return error;
}

/** True for the DataCloneError of a value over its weight or object count (tooHeavy, tooManyObjects). */
export function isSizeRefusal(error: unknown): boolean {
  return error !== null && typeof error === "object" && (apply(weakSetHas, sizeRefusals, [error]) as boolean);
}

function refused(what: string): Error {
  return dataCloneError(`${what} could not be cloned: it cannot cross the sandbox boundary.`);
}

/** An ArrayBuffer (not shared, not detached); a SharedArrayBuffer or a detached buffer is refused. */
export function checkBuffer(buffer: object): void {
  if (has(bufferLength, buffer)) {
    if (bufferDetached !== undefined && apply(bufferDetached, buffer, []) === true) throw dataCloneError("An ArrayBuffer is detached and could not be cloned.");
    return;
  }
  throw refused(has(sharedBufferLength, buffer) ? "A SharedArrayBuffer" : "A buffer of an unknown kind");
}

/** What the walk does with an object: walk its own keys, its entries, or nothing more. */
export const Kind = { Keys: 0, Map: 1, Set: 2, Leaf: 3, Error: 4 } as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

/**
 * How an object of the sender's is cloned, for one that is neither a plain object nor an array;
 * throws a DataCloneError for a type the boundary refuses. Objects of no listed kind (instances of
 * the sender's classes) are cloned as their own keys, as V8 does; what V8 would clone differently
 * is caught by received on the other side.
 */
export function sendKind(object: object): Kind {
  if (has(viewBuffer, object)) {
    checkBuffer(apply(viewBuffer, object, []) as object);
    return Kind.Leaf;
  }
  if (has(dataViewBuffer, object)) {
    checkBuffer(apply(dataViewBuffer, object, []) as object);
    return Kind.Leaf;
  }
  if (has(bufferLength, object) || has(sharedBufferLength, object)) {
    checkBuffer(object);
    return Kind.Leaf;
  }
  if (has(mapSize, object)) return Kind.Map;
  if (has(setSize, object)) return Kind.Set;
  if (has(dateGetTime, object) || (object !== regexpProto && has(regexpSource, object))) return Kind.Leaf;
  for (let i = 0; i < boxes.length; i++) if (has(boxes[i], object)) return Kind.Leaf;
  if (has(symbolValueOf, object)) throw refused("A Symbol object");
  for (let i = 0; i < wasmBrands.length; i++) if (has(wasmBrands[i][1], object)) throw refused(`A ${wasmBrands[i][0]}`);
  if (isError !== undefined ? isError(object) : (apply(arrayIncludes, errorProtos, [getProto(object)]) as boolean)) return Kind.Error;
  return Kind.Keys;
}

/** Own data property `key` of `object`, or undefined (never a getter's answer). */
function ownData(object: object, key: string): unknown {
  const descriptor = getOwn(object, key);
  return descriptor !== undefined && (apply(hasOwn, descriptor, ["value"]) as boolean) ? descriptor.value : undefined;
}

/** receivedKind's answers for the leaves that hold bytes: an ArrayBuffer, a typed array, a DataView. */
export const BUFFER = 5;
export const TYPED_ARRAY = 6;
export const DATA_VIEW = 7;
export type ReceivedKind = Kind | -1 | typeof BUFFER | typeof TYPED_ARRAY | typeof DATA_VIEW;

/** A typed array's or a DataView's kind: refused over a buffer of another kind (a SharedArrayBuffer). */
const viewKind = (object: object, buffer: Getter, kind: typeof TYPED_ARRAY | typeof DATA_VIEW): ReceivedKind => (has(bufferLength, apply(buffer, object, []) as object) ? kind : -1);

/**
 * For each listed kind's usual prototype, the one brand check that confirms an object of it (undefined:
 * not confirmed). A copy's objects have their kind's usual prototype, and the brands exclude each
 * other, so one check that passes tells the kind without the others, each of which would throw
 * (findings23/02: a thrown check costs microseconds, and a log of 20,000 Dates stalled the host's
 * loop for half a second).
 */
function makeUsualKinds(): Map<object, (object: object) => ReceivedKind | undefined> {
  const kinds = new Map<object, (object: object) => ReceivedKind | undefined>();
  MapPrototypeSet(kinds, Map.prototype, (object: object) => (has(mapSize, object) ? Kind.Map : undefined));
  MapPrototypeSet(kinds, Set.prototype, (object: object) => (has(setSize, object) ? Kind.Set : undefined));
  MapPrototypeSet(kinds, datePrototype, (object: object) => (has(dateGetTime, object) ? Kind.Leaf : undefined));
  MapPrototypeSet(kinds, regexpProto, (object: object) => (has(regexpSource, object) ? Kind.Leaf : undefined));
  const boxProtos = [Number.prototype, String.prototype, Boolean.prototype, BigInt.prototype];
  for (let i = 0; i < boxes.length; i++) {
    const box = boxes[i];
    MapPrototypeSet(kinds, boxProtos[i], (object: object) => (has(box, object) ? Kind.Leaf : undefined));
  }
  MapPrototypeSet(kinds, ArrayBuffer.prototype, (object: object) => (has(bufferLength, object) ? BUFFER : undefined));
  MapPrototypeSet(kinds, DataView.prototype, (object: object) => (has(dataViewBuffer, object) ? viewKind(object, dataViewBuffer, DATA_VIEW) : undefined));
  const typedArray = (object: object) => (has(viewBuffer, object) ? viewKind(object, viewBuffer, TYPED_ARRAY) : undefined);
  const constructors = apply(mapEntries, typedArrayConstructors, []) as object;
  for (let step = apply(mapIteratorNext, constructors, []) as IteratorResult<[object, unknown]>; !step.done; step = apply(mapIteratorNext, constructors, []) as IteratorResult<[object, unknown]>) MapPrototypeSet(kinds, step.value[0], typedArray);
  const errorCheck = isError;
  if (errorCheck !== undefined) {
    const error = (object: object) => (errorCheck(object) ? Kind.Error : undefined);
    for (let i = 0; i < errorProtos.length; i++) MapPrototypeSet(kinds, errorProtos[i], error);
  }
  return kinds;
}

/**
 * The kind of an object whose prototype is `proto` (not a plain object's), as its prototype tells
 * it and one brand check confirms; undefined when it has no listed kind's prototype or the check
 * fails (the caller probes every brand).
 */
export function usualKind(object: object, proto: object | null): ReceivedKind | undefined {
  const usual = proto === null ? undefined : (MapPrototypeGet((usualKinds ??= makeUsualKinds()), proto) as ((object: object) => ReceivedKind | undefined) | undefined);
  return usual === undefined ? undefined : usual(object);
}

/** The kind of a freshly copied object, or -1 when it is none of the listed kinds. */
function receivedKind(object: object): ReceivedKind {
  const proto = getProto(object);
  if (proto === ObjectProto || proto === null) return Kind.Keys;
  if (proto === ArrayProto && isArray(object)) return Kind.Keys;
  const told = usualKind(object, proto);
  if (told !== undefined) return told;
  if (has(viewBuffer, object)) return viewKind(object, viewBuffer, TYPED_ARRAY);
  if (has(dataViewBuffer, object)) return viewKind(object, dataViewBuffer, DATA_VIEW);
  if (has(bufferLength, object)) return BUFFER;
  if (has(mapSize, object)) return Kind.Map;
  if (has(setSize, object)) return Kind.Set;
  if (has(dateGetTime, object) || (object !== regexpProto && has(regexpSource, object))) return Kind.Leaf;
  for (let i = 0; i < boxes.length; i++) if (has(boxes[i], object)) return Kind.Leaf;
  if (apply(arrayIncludes, errorProtos, [proto]) as boolean) return Kind.Error;
  return -1;
}

/**
 * Throws a DataCloneError unless every object in `value`, a fresh copy that arrived across the
 * boundary, is one of the listed kinds. Reads only own data properties, never a getter. Returns
 * the value to use in its place: the same, with every resizable ArrayBuffer in it made
 * fixed-length (fixedLength). Only for a fresh copy nothing else holds: it is patched in place.
 */
export function received(value: unknown, maxObjects = Infinity, meter?: Meter, maxBytes = Infinity): unknown {
  if (maxBytes !== Infinity && meter === undefined) meter = { bytes: 0 };
  if (value === null || typeof value !== "object") {
    if (meter !== undefined && (meter.bytes += primitiveBytes(value)) > maxBytes) throw tooHeavy(maxBytes);
    return value;
  }
  const start = meter === undefined ? 0 : meter.bytes;
  let objects = 0;
  let bytes = 0;
  let resizable = false;
  // A linked stack of object literals and captured Set methods: nothing here calls a method that
  // code in the sandbox could have replaced.
  const seen = new SetCtor<object>();
  let stack: Link | undefined = { item: value, next: undefined };
  const push = (item: unknown) => {
    if (item !== null && (typeof item === "object" || typeof item === "function")) stack = { item, next: stack };
    else if (meter !== undefined && (bytes += primitiveBytes(item)) + start > maxBytes) throw tooHeavy(maxBytes);
  };
  /** A buffer's bytes count once, however many views share it. */
  const buffer = (held: object) => {
    if (apply(setHas, seen, [held]) as boolean) return;
    apply(setAdd, seen, [held]);
    bytes += apply(bufferLength, held, []) as number;
  };
  while (stack !== undefined) {
    const item: unknown = stack.item;
    stack = stack.next;
    if (typeof item === "function") throw refused("A function");
    const object = item as object;
    if (apply(setHas, seen, [object]) as boolean) continue;
    apply(setAdd, seen, [object]);
    if (++objects > maxObjects) throw tooManyObjects(maxObjects);
    if ((bytes += OBJECT_BYTES) + start > maxBytes) throw tooHeavy(maxBytes);
    const kind = receivedKind(object);
    if (kind === -1) throw refused(`A value of type ${String(apply(objectToString, object, []))}`);
    if (kind === Kind.Keys) {
      const keys = objectKeys(object);
      for (let i = 0; i < keys.length; i++) {
        bytes += stringBytes(keys[i]) + 8;
        push(ownData(object, keys[i]));
      }
    } else if (kind === Kind.Map) {
      const entries = apply(mapEntries, object, []) as object;
      for (let step = apply(mapIteratorNext, entries, []) as IteratorResult<[unknown, unknown]>; !step.done; step = apply(mapIteratorNext, entries, []) as IteratorResult<[unknown, unknown]>) {
        if (++objects > maxObjects) throw tooManyObjects(maxObjects);
        push(step.value[0]);
        push(step.value[1]);
      }
    } else if (kind === Kind.Set) {
      const values = apply(setValues, object, []) as object;
      for (let step = apply(setIteratorNext, values, []) as IteratorResult<unknown>; !step.done; step = apply(setIteratorNext, values, []) as IteratorResult<unknown>) {
        if (++objects > maxObjects) throw tooManyObjects(maxObjects);
        push(step.value);
      }
    } else if (kind === Kind.Error) {
      push(ownData(object, "message"));
      push(ownData(object, "stack"));
      push(ownData(object, "cause"));
    } else if (kind === BUFFER || kind === TYPED_ARRAY || kind === DATA_VIEW) {
      const held = kind === BUFFER ? object : (apply(kind === TYPED_ARRAY ? viewBuffer : dataViewBuffer, object, []) as object);
      if (!resizable && isResizable(held)) resizable = true;
      if (meter !== undefined) {
        if (kind === BUFFER) bytes += apply(bufferLength, object, []) as number;
        else buffer(held);
      }
    } else if (meter !== undefined) {
      bytes += leafBytes(object);
    }
    if (bytes + start > maxBytes) throw tooHeavy(maxBytes);
  }
  if (meter !== undefined) meter.bytes += bytes;
  return resizable ? fixedLength(value) : value;
}

function isResizable(buffer: object): boolean {
  return bufferResizable !== undefined && apply(bufferResizable, buffer, []) === true;
}

/**
 * A resizable ArrayBuffer keeps its maxByteLength through a copy, and V8 reserves that much address
 * space, with a memory mapping of its own, for each one it makes: a sandbox's resizable buffers
 * reached the host still resizable, outside every budget, and a host that kept about 30 results of
 * 990 tiny ones died at the kernel's mapping limit (findings7a/11). So a received value holding one
 * is rebuilt here, before anything else sees it: each resizable buffer becomes a fixed-length copy of
 * the bytes it holds now, and each view over one a view of the same type over a copy of the bytes
 * it shows (offset 0, as the host's own views cross the other way, src/rpc/compact-views.ts). Then
 * every original is detached, which releases its reservation at once rather than at V8's next
 * collection (a host that dropped such results still reached 36,000 mappings).
 *
 * Containers keep their identity and are patched in place (an object's or array's property, a Map's
 * or Set's entries in their order, an error's cause); only a root that is itself a buffer or view
 * is replaced. The value passed the walk above, so it holds only the listed kinds and own data.
 */
function fixedLength(value: unknown): unknown {
  const copies = new Map<object, object>();
  const originals: object[] = [];
  const fixed = (item: unknown): unknown => {
    if (item === null || typeof item !== "object") return item;
    const done = MapPrototypeGet(copies, item) as object | undefined;
    if (done !== undefined) return done;
    const kind = receivedKind(item);
    let copy: object | undefined;
    if (kind === BUFFER) {
      if (isResizable(item)) {
        copy = sliceOf(item, 0, apply(bufferLength, item, []) as number);
        ArrayPrototypePush(originals, item);
      }
    } else if (kind === TYPED_ARRAY || kind === DATA_VIEW) {
      const typed = kind === TYPED_ARRAY;
      const held = apply(typed ? viewBuffer : dataViewBuffer, item, []) as object;
      if (isResizable(held)) {
        const offset = apply(typed ? viewByteOffset : dataViewByteOffset, item, []) as number;
        const bytes = sliceOf(held, offset, offset + (apply(typed ? viewByteLength : dataViewByteLength, item, []) as number));
        const Constructor = typed ? (MapPrototypeGet(typedArrayConstructors, getProto(item)) as (new (buffer: ArrayBuffer) => object) | undefined) : DataView;
        copy = Constructor === undefined ? bytes : new Constructor(bytes as ArrayBuffer);
        ArrayPrototypePush(originals, held);
      }
    }
    if (copy === undefined) return item;
    MapPrototypeSet(copies, item, copy);
    return copy;
  };
  const root = fixed(value);
  // Containers by a linked stack, as in the walk (a value may be nested as deep as a copy allows).
  const seen = new SetCtor<object>();
  let stack: Link | undefined = { item: root, next: undefined };
  const visit = (item: unknown) => {
    if (item !== null && typeof item === "object" && !(apply(setHas, seen, [item]) as boolean)) stack = { item, next: stack };
  };
  while (stack !== undefined) {
    const object = stack.item as object;
    stack = stack.next;
    if (apply(setHas, seen, [object]) as boolean) continue;
    apply(setAdd, seen, [object]);
    const kind = receivedKind(object);
    if (kind === Kind.Keys) {
      const keys = objectKeys(object);
      for (let i = 0; i < keys.length; i++) {
        const child = ownData(object, keys[i]);
        const replaced = fixed(child);
        if (replaced !== child) setOwn(object, keys[i], replaced, true);
        else visit(child);
      }
    } else if (kind === Kind.Map) {
      const entries: unknown[] = [];
      let changed = false;
      const iterator = apply(mapEntries, object, []) as object;
      for (let step = apply(mapIteratorNext, iterator, []) as IteratorResult<[unknown, unknown]>; !step.done; step = apply(mapIteratorNext, iterator, []) as IteratorResult<[unknown, unknown]>) {
        const k = fixed(step.value[0]);
        const v = fixed(step.value[1]);
        if (k !== step.value[0] || v !== step.value[1]) changed = true;
        ArrayPrototypePush(entries, k, v);
        visit(k);
        visit(v);
      }
      if (changed) {
        apply(mapClear, object, []);
        for (let i = 0; i < entries.length; i += 2) MapPrototypeSet(object, entries[i], entries[i + 1]);
      }
    } else if (kind === Kind.Set) {
      const values: unknown[] = [];
      let changed = false;
      const iterator = apply(setValues, object, []) as object;
      for (let step = apply(setIteratorNext, iterator, []) as IteratorResult<unknown>; !step.done; step = apply(setIteratorNext, iterator, []) as IteratorResult<unknown>) {
        const v = fixed(step.value);
        if (v !== step.value) changed = true;
        ArrayPrototypePush(values, v);
        visit(v);
      }
      if (changed) {
        apply(setClear, object, []);
        for (let i = 0; i < values.length; i++) SetPrototypeAdd(object, values[i]);
      }
    } else if (kind === Kind.Error) {
      const cause = ownData(object, "cause");
      const replaced = fixed(cause);
      if (replaced !== cause) setOwn(object, "cause", replaced, false);
      else visit(cause);
    }
  }
  // Detached only now: views met after their buffer still read it above.
  for (let i = 0; i < originals.length; i++) {
    try {
      if (bufferTransferToFixedLength !== undefined) apply(bufferTransferToFixedLength, originals[i], [0]);
    } catch {
      // Already detached (two parts of one log shared it): nothing left to release.
    }
  }
  return root;
}

/** A fixed-length ArrayBuffer holding bytes `start` to `end` of `buffer` (slice makes one); empty for a detached one. */
function sliceOf(buffer: object, start: number, end: number): object {
  if (bufferDetached !== undefined && apply(bufferDetached, buffer, []) === true) return new ArrayBuffer(0);
  return apply(bufferSlice, buffer, [start, end]) as object;
}

/** Replaces an own data property of a fresh copy, as the deserializer made it (an error's cause is not enumerable). */
function setOwn(object: object, key: string, value: unknown, enumerable: boolean): void {
  ObjectDefineOwnProperty(object, key, { __proto__: null, value, writable: true, enumerable, configurable: true } as PropertyDescriptor);
}

/** What a received value holds, estimated as it is walked: string lengths, buffer sizes, and a small charge per object and key. */
export interface Meter {
  bytes: number;
}

export const OBJECT_BYTES = 16;

/**
 * Bytes a leaf holds: an ArrayBuffer, a typed array or DataView (its whole buffer, which is what a
 * copy carries), a RegExp (its source and flags), a boxed string or BigInt; 0 for others.
 */
export function leafBytes(object: object): number {
  if (has(viewBuffer, object)) return apply(bufferLength, apply(viewBuffer, object, []) as object, []) as number;
  if (has(dataViewBuffer, object)) return apply(bufferLength, apply(dataViewBuffer, object, []) as object, []) as number;
  if (has(bufferLength, object)) return apply(bufferLength, object, []) as number;
  if (has(boxes[1], object)) return stringBytes(apply(boxes[1], object, []) as string);
  if (has(boxes[3], object)) return bigintBytes(apply(boxes[3], object, []) as bigint);
  // Its flags are a few letters (read through getters user code may replace): 16 bytes for them.
  if (object !== regexpProto && has(regexpSource, object)) return stringBytes(apply(regexpSource, object, []) as string) + 16;
  return 0;
}

const regexpExec = RegExp.prototype.exec;
const NOT_LATIN1 = /[^\x00-\xff]/;

/**
 * A string's weight, as V8's serializer copies it: 1 byte a code unit when every unit is Latin-1,
 * else 2. A short string is counted at 2 without looking; a long one is scanned (natively, once
 * per occurrence: the scans of one value add up to at most its cap before it is refused).
 */
export function stringBytes(value: string): number {
  const length = value.length;
  if (length < 1024) return length * 2;
  return apply(regexpExec, NOT_LATIN1, [value]) === null ? length : length * 2;
}

const bigintToString = BigInt.prototype.toString as (this: bigint, radix: number) => string;

/** A BigInt's weight: its magnitude's bytes (from its hex digits, linear time) plus a header. */
export function bigintBytes(value: bigint): number {
  if (value <= 9007199254740991 && value >= -9007199254740991) return 16;
  return 16 + ((apply(bigintToString, value, [16]) as string).length + 1) / 2;
}

/** The weight of a primitive: a string's or BigInt's size, 8 for the others. */
export function primitiveBytes(value: unknown): number {
  return typeof value === "string" ? stringBytes(value) : typeof value === "bigint" ? bigintBytes(value) : 8;
}

interface Link {
  item: unknown;
  next: Link | undefined;
}
