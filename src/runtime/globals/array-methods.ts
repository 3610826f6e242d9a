// Array.prototype's methods that loop over their receiver's `length`, and Array.from, replaced at
// boot by wrappers that call the original directly when the loop is known to be short and
// otherwise on an interruptible view of the receiver (array-likes.ts says why and how). Each
// wrapper has the original's name, length and attributes; the originals are unreachable.
//
// Not wrapped, because every index they visit calls a function (an interrupt check, measured):
// find, findIndex, findLast, findLastIndex, and Array.from with a mapper. Nor keys, values,
// entries and [Symbol.iterator]: their iterators advance one element per next(), and every
// built-in that drains one (spread, new Set, Iterator.prototype.drop...) was stopped on time.
// Nor at, pop, push and toString (one element, the arguments, a call of join).
//
// Through a view the original behaves as on the receiver itself: elements are read and written on
// the receiver with the receiver as `this` of its accessors; a callback gets the receiver, not
// the view, as its array argument; a method that returns its receiver returns the receiver.

import { primordials } from "../primordials.ts";
import { proxyTarget } from "./proxies.ts";
import {
  boxed,
  callWatching,
  chainLength,
  directLength,
  interruptible,
  knownLength,
  plainTraps,
  release,
  replaceMethod,
  rewatch,
  viewWith,
  watch,
  WORK_BUDGET,
} from "./array-likes.ts";

const {
  ArrayIsArray: isArray,
  ArrayPrototype,
  MathFloor: floor,
  MathTrunc: trunc,
  ReflectApply: apply,
  ReflectGetPrototypeOf: getPrototypeOf,
  Symbol: SymbolCtor,
  SymbolIterator,
  SymbolToPrimitive,
} = primordials;
const SymbolIsConcatSpreadable: symbol = SymbolCtor.isConcatSpreadable;

type Method = (this: unknown, ...args: unknown[]) => unknown;

/**
 * Work per element besides the lookups, in lookups (~25 ns): join converts each element to a
 * string (a double took ~0.3 µs); toLocaleString formats each through ICU (~1.5 µs measured), so
 * it always runs through a view, whose traps cost less than its own work.
 */
const WEIGHTS: Record<string, number> = {
  __proto__: null as never,
  copyWithin: 1,
  every: 1,
  fill: 1,
  filter: 1,
  forEach: 1,
  includes: 1,
  indexOf: 1,
  join: 12,
  lastIndexOf: 1,
  map: 1,
  reduce: 1,
  reduceRight: 1,
  reverse: 2,
  shift: 2,
  slice: 1,
  some: 1,
  splice: 2,
  toLocaleString: WORK_BUDGET,
  toReversed: 1,
  toSpliced: 2,
  unshift: 2,
  with: 1,
};
/** Where each callback-taking method passes its array to the callback (reduce: the accumulator comes first). */
const ARRAY_ARGUMENT: Record<string, number> = { __proto__: null as never, every: 2, filter: 2, forEach: 2, map: 2, some: 2, reduce: 3, reduceRight: 3 };

/** `callback` as the original would call it, but handed `target` where it would hand the view. */
function handingTarget(callback: unknown, target: object, position: number): unknown {
  if (typeof callback !== "function") return callback;
  return position === 2
    ? function (this: unknown, value: unknown, index: unknown) {
        return apply(callback as Method, this, [value, index, target]);
      }
    : function (this: unknown, accumulator: unknown, value: unknown, index: unknown) {
        return apply(callback as Method, this, [accumulator, value, index, target]);
      };
}

/** Calls `original` on a view of `self`; `callbackAt`, if not -1, is where its callback is in `args`. */
function throughView(original: Method, self: unknown, args: unknown[], callbackAt: number, position: number): unknown {
  const target = boxed(self);
  const view = interruptible(target);
  if (callbackAt >= 0 && args.length > callbackAt) args[callbackAt] = handingTarget(args[callbackAt], target, position);
  const result = apply(original, view, args);
  return result === view ? target : result;
}

function loopingMethod(name: string, original: Method, weight: number, position: number): Method {
  const callbackAt = position === 0 ? -1 : 0;
  const inJavaScript = LOOPS_IN_JAVASCRIPT[name];
  return {
    [name](this: unknown, ...args: unknown[]) {
      const length = directLength(this, weight);
      if (length === 0) return apply(original, this, args);
      if (length > 0) return callWatching(original, this, args, this as object, length, weight);
      if (inJavaScript !== undefined && typeof this === "object" && this !== null && proxyTarget(this) === undefined && isArray(this)) return inJavaScript(this as unknown[], args, original);
      return throughView(original, this, args, callbackAt, position);
    },
  }[name];
}

/** ToIntegerOrInfinity, running a valueOf once as the original would. */
function toIntegerOrInfinity(value: unknown): number {
  const number = +(value as number);
  return number !== number ? 0 : number === Infinity || number === -Infinity ? number : trunc(number) + 0;
}

// Some methods over an Array too long for a direct call: the spec's loops in JavaScript, which
// V8 compiles to about the built-in's speed (through a view, 8 to 160 times slower) and
// interrupts at every turn. On an Array (not a proxy) reading its length runs no user code, so
// every step a caller could observe (each element's lookup, in order; each call of the callback,
// with the Array; the one conversion of fromIndex, after the length) is the original's. Their
// TypeErrors are the original's own, thrown by it for an empty Array.
type InJavaScript = (array: unknown[], args: unknown[], original: Method) => unknown;
const LOOPS_IN_JAVASCRIPT: Record<string, InJavaScript | undefined> = {
  __proto__: null as never,
  forEach(array, args, original) {
    const callback = args[0];
    if (typeof callback !== "function") return apply(original, [], args);
    const thisArg = args.length > 1 ? args[1] : undefined;
    const length = array.length;
    for (let k = 0; k < length; k++) if (k in array) apply(callback, thisArg, [array[k], k, array]);
    return undefined;
  },
  some(array, args, original) {
    const callback = args[0];
    if (typeof callback !== "function") return apply(original, [], args);
    const thisArg = args.length > 1 ? args[1] : undefined;
    const length = array.length;
    for (let k = 0; k < length; k++) if (k in array && apply(callback, thisArg, [array[k], k, array])) return true;
    return false;
  },
  every(array, args, original) {
    const callback = args[0];
    if (typeof callback !== "function") return apply(original, [], args);
    const thisArg = args.length > 1 ? args[1] : undefined;
    const length = array.length;
    for (let k = 0; k < length; k++) if (k in array && !apply(callback, thisArg, [array[k], k, array])) return false;
    return true;
  },
  reduce(array, args, original) {
    const callback = args[0];
    if (typeof callback !== "function") return apply(original, [], args);
    const length = array.length;
    let k = 0;
    let accumulator: unknown;
    if (args.length > 1) accumulator = args[1];
    else {
      while (k < length && !(k in array)) k++;
      if (k >= length) return apply(original, [], [callback]); // no element: its TypeError
      accumulator = array[k++];
    }
    for (; k < length; k++) if (k in array) accumulator = apply(callback, undefined, [accumulator, array[k], k, array]);
    return accumulator;
  },
  reduceRight(array, args, original) {
    const callback = args[0];
    if (typeof callback !== "function") return apply(original, [], args);
    let k = array.length - 1;
    let accumulator: unknown;
    if (args.length > 1) accumulator = args[1];
    else {
      while (k >= 0 && !(k in array)) k--;
      if (k < 0) return apply(original, [], [callback]);
      accumulator = array[k--];
    }
    for (; k >= 0; k--) if (k in array) accumulator = apply(callback, undefined, [accumulator, array[k], k, array]);
    return accumulator;
  },
  includes(array, args) {
    const length = array.length;
    const search = args[0];
    let k = args.length > 1 ? toIntegerOrInfinity(args[1]) : 0;
    if (k === Infinity) return false;
    if (k < 0) k = k + length < 0 ? 0 : k + length;
    if (search !== search) {
      for (; k < length; k++) {
        const element = array[k];
        if (element !== element) return true;
      }
      return false;
    }
    for (; k < length; k++) if (array[k] === search) return true;
    return false;
  },
  indexOf(array, args) {
    const length = array.length;
    const search = args[0];
    let k = args.length > 1 ? toIntegerOrInfinity(args[1]) : 0;
    if (k === Infinity) return -1;
    if (k < 0) k = k + length < 0 ? 0 : k + length;
    for (; k < length; k++) if (k in array && array[k] === search) return k;
    return -1;
  },
  lastIndexOf(array, args) {
    const length = array.length;
    const search = args[0];
    let k = args.length > 1 ? toIntegerOrInfinity(args[1]) : length - 1;
    if (k === -Infinity) return -1;
    k = k >= 0 ? (k < length - 1 ? k : length - 1) : length + k;
    for (; k >= 0; k--) if (k in array && array[k] === search) return k;
    return -1;
  },
};

// The default order of sort: by ToString of each element (undefined last, holes removed, before
// any comparison). Natively each comparison is ~0.1 µs without an interrupt check (sorting 2
// million numbers ran 5 s past its kill); as a JavaScript comparator each one is a check. A
// comparator gets the same pairs in the same order, so every ToString runs as it would.
const compareAsStrings = (x: unknown, y: unknown): number => {
  const a = `${x as string}`;
  const b = `${y as string}`;
  return a < b ? -1 : a > b ? 1 : 0;
};
/** Up to this many elements the default order stays native: 32,768 x 15 comparisons of doubles, ~0.1 s. */
const NATIVE_SORT_MAX = 32_768;

function sortingMethod(name: string, original: Method): Method {
  return {
    [name](this: unknown, ...args: unknown[]) {
      if (args.length === 0 || args[0] === undefined) {
        const length = this !== null && this !== undefined ? (typeof this === "string" ? this.length : knownLength(boxed(this))) : 0;
        if (length < 0 || length > NATIVE_SORT_MAX) args = [compareAsStrings];
      }
      const length = directLength(this, 1);
      if (length === 0) return apply(original, this, args);
      if (length > 0) return callWatching(original, this, args, this as object, length, 1);
      return throughView(original, this, args, -1, 0);
    },
  }[name];
}

/** ToIntegerOrInfinity of a number, at least 0 (flat's depth). */
function depthOf(number: number): number {
  if (!(number > 0)) return 0;
  return number === Infinity ? Infinity : trunc(number);
}

/**
 * A view for flat(): an element the original will flatten (an array, while depth remains) is
 * handed over as a view too, unless it is flattened last and its own loop is short. That inner
 * array is watched (array-likes.ts) until the original next reads through a view.
 */
function flattening(real: object, depth: () => number, mark: number): object {
  const traps = plainTraps(real as Record<PropertyKey, unknown>);
  traps.get = (_target: object, key: PropertyKey) => {
    rewatch(mark, undefined, 0, 0);
    const value = (real as Record<PropertyKey, unknown>)[key];
    const remaining = depth();
    if (remaining > 0 && key !== "length" && key !== "constructor" && isArray(value)) {
      const inner = remaining - 1;
      if (inner === 0) {
        const length = directLength(value, 1);
        if (length >= 0) {
          if (length > 0) rewatch(mark, value as object, length, 1);
          return value;
        }
      }
      return flattening(value as object, () => inner, mark);
    }
    return value;
  };
  traps.has = (_target: object, key: PropertyKey) => {
    rewatch(mark, undefined, 0, 0);
    return key in real;
  };
  return viewWith(real, traps);
}

/** flatMap, and flat() to one level: flatMap with the identity does exactly what flat(1) does. */
function flatMapping(original: Method, self: unknown, args: unknown[]): unknown {
  const callback = args.length > 0 ? args[0] : undefined;
  // A callback that is not callable is a TypeError before the loop.
  if (self === null || self === undefined || typeof callback !== "function") return apply(original, self, args);
  const length = directLength(self, 1);
  const target = length >= 0 ? undefined : boxed(self);
  const receiver = target === undefined ? self : interruptible(target);
  const mark = watch(length > 0 ? (self as object) : undefined, length, 1);
  const inner = watch(undefined, 0, 0);
  args[0] = function (this: unknown, value: unknown, index: unknown, array: unknown) {
    rewatch(inner, undefined, 0, 0);
    const result = apply(callback as Method, this, [value, index, target === undefined ? array : target]);
    if (!isArray(result)) return result;
    // The original flattens an array result one level: directly if its loop is short.
    const resultLength = directLength(result, 1);
    if (resultLength < 0) return interruptible(result);
    if (resultLength > 0) rewatch(inner, result as object, resultLength, 1);
    return result;
  };
  try {
    return apply(original, receiver, args);
  } finally {
    release(mark);
  }
}

const identity = (value: unknown) => value;

function flatMethod(original: Method, flatMap: Method): Method {
  return {
    flat(this: unknown, ...args: unknown[]) {
      if (this === null || this === undefined) return apply(original, this, args);
      let depth = 1;
      const given = args.length > 0 ? args[0] : undefined;
      if (typeof given === "number") depth = depthOf(given);
      else if (given !== undefined) {
        // The original converts the depth after it reads the length: it does so through this
        // object, which converts the caller's value then (its valueOf runs once, in order).
        args[0] = {
          __proto__: null,
          [SymbolToPrimitive]() {
            const number = +(given as number);
            depth = depthOf(number);
            return number;
          },
        };
      }
      if (depth === 1 && (given === undefined || typeof given === "number")) return flatMapping(flatMap, this, [identity]);
      const mark = watch(undefined, 0, 0);
      try {
        return apply(original, flattening(boxed(this), () => depth, mark), args);
      } finally {
        release(mark);
      }
    },
  }.flat;
}

function flatMapMethod(original: Method): Method {
  return {
    flatMap(this: unknown, ...args: unknown[]) {
      return flatMapping(original, this, args);
    },
  }.flatMap;
}

/**
 * The chain of `object` if it holds at most `cap` objects and no proxy, so that a lookup on it
 * runs no user code: its length, or -1.
 */
function plainChainLength(object: object, cap: number): number {
  let n = 0;
  for (let current: object | null = object; current !== null; current = getPrototypeOf(current) as object | null) {
    if (++n > cap || proxyTarget(current) !== undefined) return -1;
  }
  return n;
}

/**
 * A view for concat(): once the original has read Symbol.isConcatSpreadable (through the view,
 * so a getter runs as it would), an object it would not spread shows itself as a list of one
 * element, itself. The original then places the object itself, as it would have.
 */
function concatenating(real: object): object {
  let single = false;
  const traps = plainTraps(real as Record<PropertyKey, unknown>);
  traps.get = (_target: object, key: PropertyKey) => {
    if (key === SymbolIsConcatSpreadable) {
      const flag = (real as Record<PropertyKey, unknown>)[key];
      if (!(flag !== undefined ? !!flag : isArray(real))) single = true;
      return true;
    }
    if (single) return key === "length" ? 1 : key === "0" ? real : undefined;
    return (real as Record<PropertyKey, unknown>)[key];
  };
  traps.has = (_target: object, key: PropertyKey) => (single ? key === "0" : key in real);
  return viewWith(real, traps);
}

/**
 * What concat() may spread of `item` (the receiver if `first`), for a direct call: its length
 * (0 if it is surely not spread, or spread without a lookup), or -1 if it must go through a view.
 */
function spreadLength(item: unknown, first: boolean): number {
  if (typeof item === "string") return first ? item.length : 0;
  if (item === null || (typeof item !== "object" && typeof item !== "function")) return first ? -1 : 0; // a number's wrapper may be spread through its prototype
  // A proxy first: Array.isArray or a lookup would run its traps (or throw, revoked).
  if (proxyTarget(item as object) !== undefined) return -1;
  const length = knownLength(item as object);
  if (length >= 0) return length;
  return plainChainLength(item as object, 64) < 0 || SymbolIsConcatSpreadable in (item as object) ? -1 : 0;
}

function concatMethod(original: Method): Method {
  return {
    concat(this: unknown, ...items: unknown[]) {
      if (this === null || this === undefined) return apply(original, this, items);
      // Which of the receiver and the arguments the original may spread, and how many elements.
      let total = spreadLength(this, true);
      for (let i = 0; i < items.length && total >= 0; i++) {
        const length = spreadLength(items[i], false);
        total = length < 0 ? -1 : total + length;
      }
      if (total === 0) return apply(original, this, items);
      if (total > 0) {
        // Every object it may spread has a chain within the budget's share of all of them.
        const cap = floor(WORK_BUDGET / total) - 1;
        let direct = true;
        for (let i = -1; i < items.length && direct; i++) {
          const item = i < 0 ? this : items[i];
          if (item !== null && (typeof item === "object" || typeof item === "function") && knownLength(item) > 0 && chainLength(item, cap) > cap) direct = false;
        }
        if (direct) {
          const mark = watch(undefined, 0, 0);
          try {
            for (let i = -1; i < items.length; i++) {
              const item = i < 0 ? this : items[i];
              if (item !== null && (typeof item === "object" || typeof item === "function") && knownLength(item) > 0) watch(item, total, 1);
            }
            return apply(original, this, items);
          } finally {
            release(mark);
          }
        }
      }
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        if (item !== null && (typeof item === "object" || typeof item === "function")) items[i] = concatenating(item as object);
      }
      return apply(original, concatenating(boxed(this)), items);
    },
  }.concat;
}

/**
 * `value` as an argument an original reads as a list, iterable or array-like: itself if that is
 * short, else a view. If the view has an iterator method after all, the original calls it with
 * the caller's value as `this`, not the view.
 */
export function readableSource(value: unknown): unknown {
  if (value === null || value === undefined || directLength(value, 1) >= 0) return value;
  const real = boxed(value);
  const traps = plainTraps(real as Record<PropertyKey, unknown>);
  traps.get = (_target: object, key: PropertyKey) => {
    const found = (real as Record<PropertyKey, unknown>)[key];
    if (key !== SymbolIterator || typeof found !== "function") return found;
    return function () {
      return apply(found as Method, value, []);
    };
  };
  return viewWith(real, traps);
}

function fromMethod(original: Method): Method {
  return {
    from(this: unknown, ...args: unknown[]) {
      // With a mapper, every index is a call.
      if (args.length > 1 && args[1] !== undefined) return apply(original, this, args);
      if (args.length > 0) args[0] = readableSource(args[0]);
      return apply(original, this, args);
    },
  }.from;
}

/** Replaces Array.prototype's looping methods and Array.from (the originals become unreachable). */
export function guardArrayMethods(ArrayCtor: { from: unknown }): void {
  const prototype = ArrayPrototype as unknown as Record<string, Method>;
  const names = ["copyWithin", "every", "fill", "filter", "forEach", "includes", "indexOf", "join", "lastIndexOf", "map", "reduce", "reduceRight", "reverse", "shift", "slice", "some", "splice", "toLocaleString", "toReversed", "toSpliced", "unshift", "with"];
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const original = prototype[name];
    if (typeof original !== "function") continue;
    const position = ARRAY_ARGUMENT[name] ?? 0;
    replaceMethod(prototype, name, loopingMethod(name, original, WEIGHTS[name], position));
  }
  const sorts = ["sort", "toSorted"];
  for (let i = 0; i < sorts.length; i++) if (typeof prototype[sorts[i]] === "function") replaceMethod(prototype, sorts[i], sortingMethod(sorts[i], prototype[sorts[i]]));
  replaceMethod(prototype, "flat", flatMethod(prototype.flat, prototype.flatMap));
  replaceMethod(prototype, "flatMap", flatMapMethod(prototype.flatMap));
  replaceMethod(prototype, "concat", concatMethod(prototype.concat));
  replaceMethod(ArrayCtor, "from", fromMethod(ArrayCtor.from as Method));
}
