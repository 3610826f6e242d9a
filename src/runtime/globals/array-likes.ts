// Built-in loops over an array-like that a killed sandbox cannot stop. V8 ends a terminated isolate
// at its next interrupt check, and the C++ and Torque loops of many built-ins check none:
// `Array.prototype.includes.call({ length: 2 ** 53 - 1 }, 1)` kept a host core busy for ever after
// its CpuLimitError (close() then waited 30 s, and process.exit() hung or crashed). A JavaScript
// function call is an interrupt check, so the built-ins that loop over an object's `length`
// (array-methods.ts, list-readers.ts) run the original directly only on a receiver whose loop is
// known to be short, and otherwise on a view: a Proxy of the receiver whose traps are JavaScript,
// so that every element the original reads or writes is an interrupt check.
//
// The work of such a loop is its length times what one missing index costs: a lookup walks the
// object and every prototype (a proxy without traps forwards to its target), ~25 ns each, with no
// JavaScript on the way. A direct call is allowed when length x chain length x weight stays under
// WORK_BUDGET (about 0.1 s of uninterruptible CPU); the length is read where no user code can run
// (an Array's own length; an own data property `length` of an object that is not a proxy), so it
// is the one the original reads next.
//
// User code the original calls (a callback, a getter, a valueOf) may lengthen the chain while the
// loop runs: Object.setPrototypeOf onto a chain a million objects long made each missing index
// cost 27 ms. The three ways to change an existing object's prototype are wrapped: while a direct
// call runs, a change that would make the chain of an object it loops over longer than its share
// of the budget is refused with a RangeError (a legitimate program never builds chains that deep
// under an array method: thousands of links for arrays of a thousand elements).

import { primordials } from "../primordials.ts";
import { proxyTarget } from "./proxies.ts";

const {
  ArrayIsArray: isArray,
  ArrayPrototype,
  MathFloor: floor,
  MathTrunc: trunc,
  ObjectPrototype,
  Object: ObjectCtor,
  Proxy: RealProxy,
  RangeError: RangeErrorCtor,
  ReflectApply: apply,
  ReflectDefineProperty: defineProperty,
  ReflectGetOwnPropertyDescriptor: getOwnDescriptor,
  ReflectGetPrototypeOf: getPrototypeOf,
  ObjectPrototypeHasOwnProperty: hasOwn,
} = primordials;

/** Lookups (one object of a chain each, ~25 ns) a direct call may make without an interrupt check: ~0.1 s. */
export const WORK_BUDGET = 2 ** 22;
const MAX_SAFE_INTEGER = 9_007_199_254_740_991;

/**
 * Objects a lookup of a missing index visits from `object`: itself, its prototypes, and through a
 * proxy its target; Infinity past `cap`. Reads no property, so runs no user code.
 */
export function chainLength(object: object | null, cap: number): number {
  let n = 0;
  while (object !== null) {
    if (++n > cap) return Infinity;
    const target = proxyTarget(object);
    object = target !== undefined ? target : (getPrototypeOf(object) as object | null);
  }
  return n;
}

/**
 * The length an original will read from `object`, if reading it runs no user code: an Array's, or
 * an own data property holding a number; -1 otherwise (a proxy, a getter, an inherited length).
 */
export function knownLength(object: object): number {
  if (proxyTarget(object) !== undefined) return -1;
  if (isArray(object)) return (object as unknown[]).length;
  let descriptor: PropertyDescriptor | undefined;
  try {
    descriptor = getOwnDescriptor(object, "length");
  } catch {
    return -1; // a module namespace's binding not yet initialized: the original throws the same
  }
  if (descriptor === undefined || !hasOwn(descriptor, "value")) return -1;
  const value = descriptor.value;
  if (typeof value !== "number") return -1;
  // ToLength
  if (!(value > 0)) return 0;
  return value > MAX_SAFE_INTEGER ? MAX_SAFE_INTEGER : trunc(value);
}

/** Whether Array.prototype's prototype is Object.prototype (kept by the wrappers of guardPrototypeChanges). */
let plainArrayPrototype = getPrototypeOf(ArrayPrototype) === ObjectPrototype;

/**
 * Whether an original may loop over `value` (with `weight` work per element besides the lookups)
 * directly: its length if so (0: no loop at all, or a receiver the original rejects at once),
 * -1 if it must go through a view.
 */
export function directLength(value: unknown, weight: number): number {
  // The common case first: an ordinary Array, whose chain is itself, Array.prototype and Object.prototype.
  if (typeof value === "object" && value !== null && proxyTarget(value) === undefined && isArray(value) && plainArrayPrototype && getPrototypeOf(value) === ArrayPrototype) {
    const length = (value as unknown[]).length;
    return length * (3 + weight) <= WORK_BUDGET ? length : -1;
  }
  if (value === null || value === undefined) return 0;
  // A string's elements are its own: no lookup walks its chain.
  if (typeof value === "string") return value.length * (1 + weight) <= WORK_BUDGET ? 0 : -1;
  if (typeof value !== "object" && typeof value !== "function") return -1;
  const length = knownLength(value as object);
  if (length <= 0) return length;
  const cap = capOf(length, weight);
  return cap >= 1 && chainLength(value as object, cap) <= cap ? length : -1;
}

/** The most objects a chain may hold while an original loops over `length` elements of it. */
function capOf(length: number, weight: number): number {
  return floor(WORK_BUDGET / length) - weight;
}

// The objects direct calls now running loop over, with their lengths and weights: what their
// chains may grow to while the calls run.
const watched: (object | undefined)[] = [];
const lengths: number[] = [];
const weights: number[] = [];
let depth = 0;

/** apply(original, self, args), with `object`'s chain held within its share of the budget until it returns. */
export function callWatching(original: (...args: never[]) => unknown, self: unknown, args: readonly unknown[], object: object, length: number, weight: number): unknown {
  const at = depth++;
  watched[at] = object;
  lengths[at] = length;
  weights[at] = weight;
  try {
    return apply(original, self, args);
  } finally {
    depth = at;
    watched[at] = undefined;
  }
}

/** Holds `object`'s chain within its share until release(mark) (for loops the runtime starts inside an original). */
export function watch(object: object | undefined, length: number, weight: number): number {
  const at = depth++;
  watched[at] = object;
  lengths[at] = length;
  weights[at] = weight;
  return at;
}

/** Ends watch(): every object watched since `mark`. */
export function release(mark: number): void {
  for (let i = mark; i < depth; i++) watched[i] = undefined;
  depth = mark;
}

/** Replaces what object `mark` watches (the inner array flat() and flatMap() leave to the original). */
export function rewatch(mark: number, object: object | undefined, length: number, weight: number): void {
  watched[mark] = object;
  lengths[mark] = length;
  weights[mark] = weight;
}

/** Throws if making `proto` the prototype of `object` would lengthen a watched chain past its cap. */
function checkPrototypeChange(object: unknown, proto: unknown): void {
  if (depth === 0) return;
  if (object === null || (typeof object !== "object" && typeof object !== "function")) return;
  if (proto !== null && typeof proto !== "object" && typeof proto !== "function") return;
  let changed = object as object;
  // A proxy without a setPrototypeOf trap changes its target's.
  for (let target = proxyTarget(changed); target !== undefined; target = proxyTarget(changed)) changed = target;
  for (let i = 0; i < depth; i++) {
    let current = watched[i] as object | null | undefined;
    if (current === undefined) continue;
    const cap = capOf(lengths[i], weights[i]);
    for (let position = 1; current !== null && current !== undefined && position <= cap; position++) {
      if (current === changed) {
        if (position + chainLength(proto as object | null, cap) > cap) {
          throw new RangeErrorCtor(
            "Object.setPrototypeOf: this prototype chain is too long to give an object an array method is looping over, while it runs (islet bounds what one built-in call can do before the sandbox's cpuMs can stop it).",
          );
        }
        break;
      }
      const target = proxyTarget(current);
      current = target !== undefined ? target : (getPrototypeOf(current) as object | null);
    }
  }
}

/** Wraps Object.setPrototypeOf, Reflect.setPrototypeOf and the Object.prototype.__proto__ setter with checkPrototypeChange. */
export function guardPrototypeChanges(global: Record<string, unknown>): void {
  const ObjectGlobal = global.Object as { setPrototypeOf: (o: unknown, p: unknown) => unknown };
  const ReflectGlobal = global.Reflect as { setPrototypeOf: (o: unknown, p: unknown) => boolean };
  const objectSet = ObjectGlobal.setPrototypeOf;
  const reflectSet = ReflectGlobal.setPrototypeOf;
  replaceMethod(ObjectGlobal, "setPrototypeOf", {
    setPrototypeOf(object: unknown, proto: unknown) {
      checkPrototypeChange(object, proto);
      try {
        return apply(objectSet, undefined, [object, proto]);
      } finally {
        plainArrayPrototype = getPrototypeOf(ArrayPrototype) === ObjectPrototype;
      }
    },
  }.setPrototypeOf);
  replaceMethod(ReflectGlobal, "setPrototypeOf", {
    setPrototypeOf(object: unknown, proto: unknown) {
      checkPrototypeChange(object, proto);
      try {
        return apply(reflectSet, undefined, [object, proto]);
      } finally {
        plainArrayPrototype = getPrototypeOf(ArrayPrototype) === ObjectPrototype;
      }
    },
  }.setPrototypeOf);
  const descriptor = getOwnDescriptor(ObjectPrototype, "__proto__");
  const realSetter = descriptor?.set;
  if (descriptor === undefined || realSetter === undefined) return;
  const setter = {
    set __proto__(proto: unknown) {
      checkPrototypeChange(this, proto);
      try {
        apply(realSetter, this, [proto]);
      } finally {
        plainArrayPrototype = getPrototypeOf(ArrayPrototype) === ObjectPrototype;
      }
    },
  };
  const set = getOwnDescriptor(setter, "__proto__")!.set!;
  defineProperty(set, "name", { __proto__: null, value: "set __proto__", configurable: true } as PropertyDescriptor);
  defineProperty(ObjectPrototype, "__proto__", { __proto__: null, get: descriptor.get, set, enumerable: false, configurable: true } as PropertyDescriptor);
}

/** Puts `wrapper` where `holder[key]` was, with the original's name, length and attributes. */
export function replaceMethod(holder: object, key: PropertyKey, wrapper: (...args: never[]) => unknown): void {
  const descriptor = getOwnDescriptor(holder, key);
  const original = descriptor?.value as ((...args: never[]) => unknown) | undefined;
  if (descriptor === undefined || typeof original !== "function") return;
  defineProperty(wrapper, "length", { __proto__: null, value: original.length, configurable: true } as PropertyDescriptor);
  defineProperty(wrapper, "name", { __proto__: null, value: original.name, configurable: true } as PropertyDescriptor);
  defineProperty(holder, key, { __proto__: null, value: wrapper, writable: descriptor.writable, enumerable: descriptor.enumerable, configurable: descriptor.configurable } as PropertyDescriptor);
}

// A view is a Proxy whose traps read and write the real object themselves, with it as the
// receiver (as the original would on the receiver), and fail as the original would: strict-mode
// code throws V8's own TypeError for a failed assignment or delete. Its proxy target is a
// stand-in, an empty array if the real object is an array (Array.isArray sees through a proxy),
// an empty object otherwise: the invariant checks V8 makes after each trap read the target's own
// property, which on a proxy the sandbox made would run its getOwnPropertyDescriptor trap.

/** The traps of a view of `real`, one handler per view. */
export interface ViewTraps {
  get(target: object, key: PropertyKey): unknown;
  has(target: object, key: PropertyKey): boolean;
  set(target: object, key: PropertyKey, value: unknown): boolean;
  deleteProperty(target: object, key: PropertyKey): boolean;
}

export function plainTraps(real: Record<PropertyKey, unknown>): ViewTraps {
  return {
    __proto__: null,
    get: (_target: object, key: PropertyKey) => real[key],
    has: (_target: object, key: PropertyKey) => key in real,
    set(_target: object, key: PropertyKey, value: unknown) {
      real[key] = value;
      return true;
    },
    deleteProperty(_target: object, key: PropertyKey) {
      delete real[key];
      return true;
    },
  } as ViewTraps;
}

/**
 * The stand-in target for a view of `real`, or undefined if `real` is a revoked proxy: every
 * operation on that throws, so the original cannot loop over it and may take it as it is.
 */
export function standIn(real: object): object | undefined {
  try {
    return isArray(real) ? [] : {};
  } catch {
    return undefined;
  }
}

/** A view of `real` with `traps`, or `real` itself if it is a revoked proxy. */
export function viewWith(real: object, traps: ViewTraps): object {
  const target = standIn(real);
  return target === undefined ? real : new RealProxy(target, traps as ProxyHandler<object>);
}

/** A view of `value` (boxed if a primitive) whose every element access runs JavaScript. */
export function interruptible(value: unknown): object {
  const real = boxed(value);
  return viewWith(real, plainTraps(real as Record<PropertyKey, unknown>));
}

/** ToObject for a value that is not null or undefined. */
export function boxed(value: unknown): object {
  return typeof value === "object" || typeof value === "function" ? (value as object) : (ObjectCtor(value) as object);
}
