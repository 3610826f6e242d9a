// The boundary's value format, used on both sides (this file is bundled into the isolate and
// imported by the host). A value crosses as its structured-clonable body plus the list of places
// where capabilities (functions, RpcTargets) were cut out and replaced by null. Keeping stubs
// out-of-band means no shape of user data can ever be mistaken for a stub.

import { protocolPrimordials as primordials } from "./primordials.ts";



// Everything here runs on values user code built (getters, proxies, a replaced Map.prototype.get or
// array iterator): only captured intrinsics, index loops, and no spread or destructuring of arrays.
const {
  Array,
  ArrayIsArray,
  ArrayPrototypePush,
  Map,
  MapPrototypeForEach,
  MapPrototypeGet,
  MapPrototypeSet,
  ObjectDefineOwnProperty: ObjectDefineProperty,
  ObjectGetOwnPropertyDescriptor,
  ObjectGetPrototypeOf,
  ObjectKeys,
  ObjectPrototype,
  ObjectPrototypeHasOwnProperty,
  RangeError,
  RegExpPrototypeTest,
  Set,
  SetPrototypeAdd,
  SetPrototypeForEach,
  SetPrototypeHas,
  String,
  StringPrototypeSlice,
  TypeError,
} = primordials;

// CapKind and the exporter/importer shapes are the capability table's (one definition, cap-table.ts).
import { CapKind, type CapExporter, type CapImporter } from "./cap-table.ts";
export { CapKind, type CapExporter, type CapImporter };

export type PathKey = string | number;
export type CapSlot = [path: PathKey[], kind: CapKind, id: number];
export type Encoded = [body: unknown] | [body: unknown, caps: CapSlot[]];


export const MAX_CAPS_PER_VALUE = 10_000;


/**
 * The host's check on what it sends (src/rpc/compact-views.ts), made in the codec's own walk so a
 * value is walked once: `needsCopy` is asked about every leaf (a view, a buffer, a date...) and
 * every error, and when it answered true for any, `copy` rebuilds the value before it is encoded.
 * (A sandbox's runtime does not encode with this walk: it reads what it sends into a snapshot,
 * snapshot.ts, so that what it weighs is what is copied.)
 */
export interface LeafCopier {
  needsCopy(leaf: object): boolean;
  copy(value: unknown): unknown;
  /** The refusal of one of the sender's platform objects (a Response, a stream...): the DataCloneError to throw, or undefined. */
  refuse?(object: object): Error | undefined;
  /** An own getter is refused before it is read (isolated-vm cannot copy one into an isolate). */
  refuseGetters?: boolean;
}

/** What one walk found besides capabilities: whether a leaf needs copying. */
interface WalkState {
  leaves: LeafCopier | undefined;
  copy: boolean;
  /** The first object the LeafCopier refused, thrown once the walk has seen them all. */
  refusal?: Error;
}

import { Kind, received, sendKind, type Meter } from "./clonable.ts";

const objectProto = ObjectPrototype;
const arrayIsArray = ArrayIsArray;
const getProto = ObjectGetPrototypeOf;
const objectKeys = ObjectKeys;
const defineProperty = ObjectDefineProperty;
const getOwnDescriptor = ObjectGetOwnPropertyDescriptor;

function appendPath(path: PathKey[], key: PathKey): PathKey[] {
  const out: PathKey[] = new Array(path.length + 1);
  for (let i = 0; i < path.length; i++) out[i] = path[i];
  out[path.length] = key;
  return out;
}

function isWalkable(value: object): boolean {
  if (arrayIsArray(value)) return true;
  const proto = getProto(value);
  return proto === objectProto || proto === null;
}

function containsCap(value: unknown, exporter: CapExporter, seen: Set<object>, state: WalkState): boolean {
  if (value === null) return false;
  const type = typeof value;
  if (type === "function") return true;
  if (type !== "object") return false;
  const object = value as object;
  if (SetPrototypeHas(seen, object)) return false;
  SetPrototypeAdd(seen, object);
  if (exporter.classify(object) !== -1) return true;
  // Plain objects and arrays are walked below; anything else is told by its brand, and a type the
  // boundary refuses (a SharedArrayBuffer, a view over one, a WebAssembly object) throws here.
  // forEach and index loops, not for-of: user code may have replaced the iterators.
  const walkable = isWalkable(object);
  if (state.leaves?.refuse !== undefined && !walkable) {
    const refusal = state.leaves.refuse(object);
    if (refusal !== undefined) {
      // The walk goes on, so that every refused object is seen (refuse() cancels a refused
      // Response's body: a second one in the same value was left streaming, findings5/04); the
      // first refusal is thrown when the walk ends.
      state.refusal ??= refusal;
      return false;
    }
  }
  const kind = walkable ? Kind.Keys : sendKind(object);
  if (kind === Kind.Map) {
    MapPrototypeForEach(object, (v: unknown, k: unknown) => {
      if (containsCap(k, exporter, seen, state) || containsCap(v, exporter, seen, state)) throw mapCapError();
    });
    return false;
  }
  if (kind === Kind.Set) {
    SetPrototypeForEach(object, (v: unknown) => {
      if (containsCap(v, exporter, seen, state)) throw mapCapError();
    });
    return false;
  }
  if (kind === Kind.Leaf) {
    if (state.leaves !== undefined && !state.copy && state.leaves.needsCopy(object)) state.copy = true;
    return false;
  }
  if (kind === Kind.Error) {
    if (state.leaves !== undefined && !state.copy && state.leaves.needsCopy(object)) state.copy = true;
    // V8 formats an error's stack lazily, through the embedder's callback (Node's, on the host).
    // isolated-vm's serializer reads `stack` where that callback must not run ("illegal access"
    // on Node 24), so it is read here first; a cause may be an error too.
    try {
      void (object as Error).stack;
    } catch {
      // An error whose stack cannot be formatted crosses without one.
    }
    const cause = getOwnDescriptor(object, "cause");
    return cause !== undefined && ObjectPrototypeHasOwnProperty(cause, "value") && containsCap(cause.value, exporter, seen, state);
  }
  const record = object as Record<string, unknown>;
  const keys = objectKeys(record);
  let found = false;
  for (let i = 0; i < keys.length; i++) {
    // The host's values: a getter cannot be copied into an isolate (isolated-vm runs no code while
    // it copies), and a host answer holding one was lost on its way in, leaving the sandbox's
    // await hanging until wallMs (findings5/01). Refused here, at once, in every mode.
    if (state.leaves?.refuseGetters === true) {
      const descriptor = getOwnDescriptor(record, keys[i]);
      if (descriptor !== undefined && !ObjectPrototypeHasOwnProperty(descriptor, "value")) {
        throw dataCloneError(`The value holds a getter (property "${keys[i].length > 64 ? StringPrototypeSlice(keys[i], 0, 64) + "…" : keys[i]}"): a getter cannot cross the sandbox boundary; pass plain data.`);
      }
    }
    if (containsCap(record[keys[i]], exporter, seen, state)) found = true;
  }
  return found;
}

function mapCapError(): Error {
  return dataCloneError("Functions and RpcTargets cannot be sent inside a Map or Set; use a plain object.");
}

/**
 * The host's encoder (a sandbox's runtime uses snapshot.ts). `leaves`: the host's check on what it
 * sends (LeafCopier).
 */
export function encode(value: unknown, exporter: CapExporter, leaves?: LeafCopier): Encoded {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return [value];
  try {
    const state: WalkState = { leaves, copy: false };
    const hasCaps = containsCap(value, exporter, new Set(), state);
    if (state.refusal !== undefined) throw state.refusal;
    if (state.copy) value = leaves!.copy(value);
    if (!hasCaps) return [value];
    const caps: CapSlot[] = [];
    const body = copyCutting(value, [], caps, exporter, new Map());
    return [body, caps];
  } catch (error) {
    // Refused for another reason (a function in a Map, a getter, a shared buffer, nesting): the
    // walk stopped there, so the objects the copier would refuse later in the value (a Response,
    // whose body refuse() cancels) were never seen; they are looked for now (findings6/01). On
    // the host only: the host's platform objects are what holds a body open (inside the sandbox the
    // sweep made a refused result of 200 errors with 1 MiB messages 17 times slower).
    if (leaves?.refuse !== undefined && leaves.refuseGetters === true) sweepRefusals(value, leaves);
    if (isStackOverflow(error)) throw dataCloneError("The value is nested too deeply to cross the boundary.");
    throw error;
  }
}

/** Objects sweepRefusals visits at most. */
const MAX_SWEEP = 100_000;

/**
 * Shows refuse() every object of `value` it would not walk (best effort, never throwing): plain
 * objects' and arrays' own data properties (a getter is not run), Map and Set entries, an error's
 * cause, without recursion.
 */
function sweepRefusals(value: unknown, leaves: LeafCopier): void {
  const seen = new Set<object>();
  const stack: unknown[] = [value];
  let top = 1;
  let visited = 0;
  try {
    while (top > 0 && visited++ < MAX_SWEEP) {
      const item = stack[--top];
      if (item === null || typeof item !== "object" || SetPrototypeHas(seen, item)) continue;
      SetPrototypeAdd(seen, item);
      if (!isWalkable(item)) {
        if (leaves.refuse!(item) !== undefined) continue;
        let kind: Kind;
        try {
          kind = sendKind(item);
        } catch {
          continue;
        }
        if (kind === Kind.Map) MapPrototypeForEach(item, (v: unknown, k: unknown) => void ((stack[top++] = k), (stack[top++] = v)));
        else if (kind === Kind.Set) SetPrototypeForEach(item, (v: unknown) => void (stack[top++] = v));
        else if (kind === Kind.Error) {
          const cause = getOwnDescriptor(item, "cause");
          if (cause !== undefined && ObjectPrototypeHasOwnProperty(cause, "value")) stack[top++] = cause.value;
        }
        if (kind !== Kind.Keys) continue;
      }
      const keys = objectKeys(item);
      for (let i = 0; i < keys.length; i++) {
        const descriptor = getOwnDescriptor(item, keys[i]);
        if (descriptor !== undefined && ObjectPrototypeHasOwnProperty(descriptor, "value")) stack[top++] = descriptor.value;
      }
    }
  } catch {
    // Best effort: the value is refused anyway.
  }
}

export function isStackOverflow(error: unknown): boolean {
  try {
    return error !== null && typeof error === "object" && (error as Error).name === "RangeError" && RegExpPrototypeTest(/call stack size/, String((error as Error).message));
  } catch {
    return false;
  }
}

function dataCloneError(message: string): Error {
  const error = new TypeError(message);
  error.name = "DataCloneError";
  return error;
}

function copyCutting(
  value: unknown,
  path: PathKey[],
  caps: CapSlot[],
  exporter: CapExporter,
  copies: Map<object, unknown>,
): unknown {
  if (value === null) return value;
  const type = typeof value;
  if (type !== "object" && type !== "function") return value;
  const object = value as object;
  let kind = exporter.classify(object);
  if (kind === -1 && type === "function") kind = CapKind.Function;
  if (kind !== -1) {
    if (caps.length >= MAX_CAPS_PER_VALUE) throw new RangeError(`A value may carry at most ${MAX_CAPS_PER_VALUE} functions or RpcTargets.`);
    ArrayPrototypePush(caps, [path, kind, exporter.export(object, kind)]);
    return null;
  }
  if (!isWalkable(object)) return object;
  const existing = MapPrototypeGet(copies, object);
  if (existing !== undefined) return existing;
  if (arrayIsArray(object)) {
    const out: unknown[] = new Array(object.length);
    MapPrototypeSet(copies, object, out);
    for (let i = 0; i < object.length; i++) out[i] = copyCutting(object[i], appendPath(path, i), caps, exporter, copies);
    return out;
  }
  const out: Record<string, unknown> = {};
  MapPrototypeSet(copies, object, out);
  const record = object as Record<string, unknown>;
  const keys = objectKeys(record);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    defineProperty(out, key, {
      __proto__: null,
      value: copyCutting(record[key], appendPath(path, key), caps, exporter, copies),
      enumerable: true,
      writable: true,
      configurable: true,
    } as PropertyDescriptor);
  }
  return out;
}

/**
 * Rebuilds a value received from the other side. The body is a fresh copy, so it is patched in place.
 * `maxObjects`: the host passes MAX_OBJECTS_PER_VALUE for values from a sandbox (or its shard).
 */
export function decode(encoded: unknown, importer: CapImporter, maxObjects = Infinity, meter?: Meter, maxBytes = Infinity): unknown {
  if (!arrayIsArray(encoded)) throw new TypeError("Malformed value on the boundary.");
  // The copy is checked before anything else sees it: only the listed types may cross, and a
  // resizable buffer in it is made fixed-length (clonable.ts).
  let body = received(encoded[0], maxObjects, meter, maxBytes);
  const caps = encoded[1];
  if (caps === undefined) return body;
  if (!arrayIsArray(caps) || caps.length > MAX_CAPS_PER_VALUE) throw new TypeError("Malformed capability list on the boundary.");
  for (let s = 0; s < caps.length; s++) {
    const slot = caps[s];
    if (!arrayIsArray(slot) || !arrayIsArray(slot[0])) throw new TypeError("Malformed capability slot on the boundary.");
    const path = slot[0] as PathKey[];
    const kind = slot[1] as CapKind;
    const id = slot[2] as number;
    if ((kind !== CapKind.Function && kind !== CapKind.Target && kind !== CapKind.Returned && kind !== CapKind.Fetcher) || typeof id !== "number") {
      throw new TypeError("Malformed capability slot on the boundary.");
    }
    const stub = importer.import(kind, id);
    if (path.length === 0) {
      body = stub;
      continue;
    }
    let holder: unknown = body;
    for (let i = 0; i < path.length - 1; i++) holder = ownChild(holder, path[i]);
    const last = path[path.length - 1];
    if (holder === null || typeof holder !== "object" || (typeof last !== "string" && typeof last !== "number")) {
      throw new TypeError("Malformed capability path on the boundary.");
    }
    // defineProperty, never assignment: a key like "__proto__" must stay an own data property.
    defineProperty(holder, last, { __proto__: null, value: stub, enumerable: true, writable: true, configurable: true } as PropertyDescriptor);
  }
  return body;
}

function ownChild(holder: unknown, key: unknown): unknown {
  if (holder === null || typeof holder !== "object" || (typeof key !== "string" && typeof key !== "number")) {
    throw new TypeError("Malformed capability path on the boundary.");
  }
  if (!ObjectPrototypeHasOwnProperty(holder, key)) throw new TypeError("Malformed capability path on the boundary.");
  return (holder as Record<PathKey, unknown>)[key];
}
