import { protocolPrimordials as primordials } from "./primordials.ts";
import { SNAPSHOT_OBJECT_PROTOTYPE } from "./snapshot.ts";
import { BUFFER, DATA_VIEW, Kind, TYPED_ARRAY, usualKind } from "./clonable.ts";

const { ArrayBuffer, ArrayIsArray, ArrayPrototype, BigInt, DataView, Map, Object, ObjectGetOwnPropertyDescriptor, ObjectGetPrototypeOf, ObjectKeys, ObjectPrototype, ObjectPrototypeHasOwnProperty, ObjectSetPrototypeOf, ReflectApply, RegExp, Set, String, Uint8Array } = primordials;
// The size of a log entry, measured the same way on both sides of the boundary: the runtime cuts a
// log to the budget before it is copied to the host (so a 4 MB line is never sent a thousand
// times), and the host measures what arrives again and keeps no more than the budget (a runtime
// that skipped the cut gains nothing). Strings count by length, BigInts by their decimal length,
// RegExps by their source, errors by their message, stack and cause, ArrayBuffers by byteLength
// and views by their whole buffer's, every other value and every key 8 units plus its contents. Each occurrence counts:
// a string or BigInt referenced 200 times is copied 200 times.
//
// Runs in the sandbox: every intrinsic is captured before user code runs.

/** Bytes of logs one invocation may leave on the host. */
export const LOG_BYTES_PER_INVOCATION = 1 << 20;
/** Values visited when measuring one log part; past this a part counts as too large. */
const MAX_NODES = 100_000;

const apply = ReflectApply;
const getOwnDescriptor = ObjectGetOwnPropertyDescriptor;
const objectKeys = ObjectKeys;
const isArray = ArrayIsArray;
const stringSlice = String.prototype.slice;
const typedArrayProto = ObjectGetPrototypeOf(Uint8Array.prototype) as object;
const viewLength = getOwnDescriptor(typedArrayProto, "byteLength")!.get!;
const dataViewLength = getOwnDescriptor(DataView.prototype, "byteLength")!.get!;
const bufferLength = getOwnDescriptor(ArrayBuffer.prototype, "byteLength")!.get!;
const mapSize = getOwnDescriptor(Map.prototype, "size")!.get!;
const setSize = getOwnDescriptor(Set.prototype, "size")!.get!;
const mapForEach = Map.prototype.forEach;
const setForEach = Set.prototype.forEach;
const SetCtor = Set;
const setHas = Set.prototype.has;
const setAdd = Set.prototype.add;
const getProto = ObjectGetPrototypeOf;
const regexpSource = getOwnDescriptor(RegExp.prototype, "source")!.get!;
const regexpProto = RegExp.prototype;
const bigintProto = BigInt.prototype;
const bigintValueOf = BigInt.prototype.valueOf;
const bigintToString = BigInt.prototype.toString;

/**
 * The decimal length of a BigInt (what a log prints), bounded from its hex digits without the
 * decimal conversion (superlinear for a big one): log10(16) = 1.2041 digits a hex digit.
 */
function bigintLength(value: bigint): number {
  if (value <= 9007199254740991 && value >= -9007199254740991) return 24;
  return ((apply(bigintToString, value, [16]) as string).length * 1.2042 + 2) | 0;
}

/** The size of a primitive: a string's length, a BigInt's decimal length, 8 for the others (a symbol is logged as text, measured again as such). */
function primitiveSize(value: unknown): number {
  if (typeof value === "string") return value.length;
  if (typeof value === "bigint") return bigintLength(value);
  return 8;
}

/** What a leaf holds besides its keys: a RegExp's source, a boxed BigInt's digits, an error's message and stack (own data). */
function leafSize(item: object): number {
  if (item !== regexpProto) {
    try {
      return (apply(regexpSource, item, []) as string).length + 8;
    } catch {
      // Not a RegExp.
    }
  }
  try {
    return bigintLength(apply(bigintValueOf, item, []) as bigint);
  } catch {
    // Not a boxed BigInt.
  }
  return ownTextSize(item);
}

/** An error's message and stack (own data): what a leaf that is neither a RegExp nor a boxed BigInt holds besides its keys. */
function ownTextSize(item: object): number {
  let size = 0;
  const message = getOwnDescriptor(item, "message");
  if (message !== undefined && typeof message.value === "string") size += message.value.length;
  const stack = getOwnDescriptor(item, "stack");
  if (stack !== undefined && typeof stack.value === "string") size += stack.value.length;
  return size;
}

function isMap(value: object): boolean {
  try {
    apply(mapSize, value, []);
    return true;
  } catch {
    return false;
  }
}

function isSet(value: object): boolean {
  try {
    apply(setSize, value, []);
    return true;
  } catch {
    return false;
  }
}

const viewBuffer = getOwnDescriptor(typedArrayProto, "buffer")!.get!;
const dataViewBuffer = getOwnDescriptor(DataView.prototype, "buffer")!.get!;
const bufferGetters = [viewBuffer, dataViewBuffer];

/**
 * What copying a buffer or a view costs: a view copies its whole buffer (the structured clone
 * does), so a 1-byte view of a 1 MiB buffer weighs 1 MiB (findings5/30: 1,000 such logs put
 * 1,000 MiB on the host). console.ts compacts a view logged by itself first.
 */
function byteLength(value: object): number | undefined {
  for (let i = 0; i < bufferGetters.length; i++) {
    let buffer: unknown;
    try {
      buffer = apply(bufferGetters[i], value, []);
    } catch {
      continue; // Not this kind of view.
    }
    try {
      return apply(bufferLength, buffer, []) as number;
    } catch {
      // A view of a SharedArrayBuffer: what it shows (the boundary refuses it anyway).
      return apply(i === 0 ? viewLength : dataViewLength, value, []) as number;
    }
  }
  try {
    return apply(bufferLength, value, []) as number;
  } catch {
    return undefined; // Not a buffer.
  }
}

/** byteLength of a buffer or view whose kind usualKind told (over an ArrayBuffer: no check here throws). */
function toldByteLength(item: object, kind: number): number {
  return apply(bufferLength, kind === BUFFER ? item : apply(kind === TYPED_ARRAY ? viewBuffer : dataViewBuffer, item, []), []) as number;
}

/** leafSize of a leaf whose kind usualKind told by its prototype: no probe that would throw. */
function toldLeafSize(item: object, proto: object): number {
  if (proto === regexpProto) return (apply(regexpSource, item, []) as string).length + 8;
  if (proto === bigintProto) return bigintLength(apply(bigintValueOf, item, []) as bigint);
  return ownTextSize(item);
}

/**
 * The size of `value`, or a number above `limit` once it is known to be larger (measuring stops
 * there), or -1 when it cannot be measured (a getter threw, a Proxy trap did): such a part cannot
 * be copied either, and console formats it to text instead.
 */
export function logSize(value: unknown, limit: number, copies = false): number {
  if (typeof value !== "object" || value === null) return primitiveSize(value);
  let size = 0;
  let nodes = 0;
  const seen = new SetCtor<object>();
  // A plain index stack without a prototype: a user's Array.prototype methods are never called, nor
  // a setter put there for an index, which would be handed the parts being measured.
  const stack: unknown[] = ObjectSetPrototypeOf([value], null);
  let top = 1;
  try {
    while (top > 0) {
      const item = stack[--top];
      if (typeof item !== "object" || item === null) size += primitiveSize(item);
      else if (!apply(setHas, seen, [item])) {
        apply(setAdd, seen, [item]);
        size += 8;
        if (isArray(item)) {
          // First: an array (or a Proxy of one) is no buffer, Map or Set, and each probe for those
          // below throws (findings23/02: about 35 µs an object on the host's main thread).
          const length = (item as unknown[]).length;
          if (nodes + top + length > MAX_NODES) return limit + 1;
          for (let i = 0; i < length; i++) stack[top++] = (item as unknown[])[i];
        } else {
          // In a copy (on the host, or the sandbox's snapshot, whose plain objects have a prototype
          // of their own) an object is told by its prototype: a plain object is probed for nothing
          // else, another kind by its one brand check (usualKind), where every other probe (a
          // buffer's, a Map's, a Set's, a RegExp's, a boxed BigInt's) would throw. Elsewhere (where
          // a Map's or a RegExp's prototype may have been swapped) every object is probed.
          const proto = copies ? getProto(item) : undefined;
          const plain = copies && (proto === ObjectPrototype || proto === null || proto === SNAPSHOT_OBJECT_PROTOTYPE);
          const usual = copies && !plain ? usualKind(item, proto as object) : undefined;
          // (-1: a view over a buffer of another kind, a SharedArrayBuffer: probed, and weighed as it shows.)
          const told = usual === -1 ? undefined : usual;
          const bytes = plain ? undefined : told === undefined ? byteLength(item) : told === BUFFER || told === TYPED_ARRAY || told === DATA_VIEW ? toldByteLength(item, told) : undefined;
          if (bytes !== undefined) size += bytes;
          else if (told === Kind.Map || (told === undefined && !plain && isMap(item))) apply(mapForEach, item, [(v: unknown, k: unknown) => void ((stack[top++] = k), (stack[top++] = v))]);
          else if (told === Kind.Set || (told === undefined && !plain && isSet(item))) apply(setForEach, item, [(v: unknown) => void (stack[top++] = v)]);
          else {
            const keys = objectKeys(item);
            if (nodes + top + keys.length > MAX_NODES) return limit + 1;
            // A RegExp's source, a boxed BigInt's digits, an error's message and stack are not keys.
            // (A told leaf's brand says which: a RegExp's or a boxed BigInt's prototype, or neither.)
            if (!plain && (size += told === undefined ? leafSize(item) : toldLeafSize(item, proto as object)) > limit) return limit + 1;
            for (let i = 0; i < keys.length; i++) {
              size += keys[i].length;
              stack[top++] = (item as Record<string, unknown>)[keys[i]];
            }
            // An error's `cause` is not enumerable, but the structured clone copies it (findings5/31:
            // 1,000 logged errors sharing a 1 MiB cause put 1,000 MiB on the host).
            const cause = getOwnDescriptor(item, "cause");
            if (cause !== undefined && !cause.enumerable && ObjectPrototypeHasOwnProperty(cause, "value")) stack[top++] = cause.value;
          }
        }
      }
      if (size > limit || ++nodes > MAX_NODES) return limit + 1;
    }
  } catch {
    return -1;
  }
  return size;
}

/** What a log part too large for what is left of the budget becomes. */
export const TOO_LARGE = "[value too large to log]";

/**
 * Fits a log entry's parts into `remaining` units: a string is cut to what is left, another value
 * too large to fit becomes a short note. Returns the parts to keep, their size, and whether the
 * budget ran out (a part cut or left out). `copies`: the parts are fresh copies (the host's
 * measure), whose prototypes tell plain objects apart.
 */
export function fitLog(parts: readonly unknown[], remaining: number, copies = false): { parts: unknown[]; size: number; cut: boolean } {
  // Filled without a prototype (see logSize), given Array.prototype once full.
  const out: unknown[] = ObjectSetPrototypeOf([], null);
  let size = 0;
  let cut = false;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const left = remaining - size;
    if (left <= 0) {
      cut = true;
      break;
    }
    const partSize = logSize(part, left, copies);
    if (partSize < 0) {
      out[out.length] = part;
    } else if (partSize <= left) {
      out[out.length] = part;
      size += partSize;
    } else if (typeof part === "string") {
      out[out.length] = apply(stringSlice, part, [0, left]);
      size += left;
      cut = true;
    } else if (TOO_LARGE.length <= left) {
      // One value too large for what is left is replaced; smaller logs after it still fit.
      out[out.length] = TOO_LARGE;
      size += TOO_LARGE.length;
    } else {
      cut = true;
    }
  }
  return { parts: ObjectSetPrototypeOf(out, ArrayPrototype), size, cut };
}

export const logLimitNote = (limit: number) => `islet: log byte limit of ${limit} bytes reached; further logs dropped`;
