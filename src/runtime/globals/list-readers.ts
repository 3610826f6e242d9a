// Built-ins besides Array.prototype's that read an array-like argument element by element in a loop
// without an interrupt check (array-likes.ts): Function.prototype.apply, Reflect.apply and
// Reflect.construct (CreateListFromArrayLike: `Math.max.apply(null, { length: 2 ** 24 })` ran
// 0.5 s past its kill; over a prototype chain 10,000 long, each missing index costs 0.2 ms),
// %TypedArray%.from and %TypedArray%.prototype.set, and String.raw. Each now reads a long or
// unknown array-like through an interruptible view. Array.from is array-methods.ts's;
// JSON.stringify checks for interrupts itself, and so does every built-in that drains an
// iterator (measured).

import { primordials } from "../primordials.ts";
import { boxed, directLength, interruptible, plainTraps, replaceMethod, viewWith } from "./array-likes.ts";
import { readableSource } from "./array-methods.ts";
import { proxyTarget } from "./proxies.ts";

const {
  Originals: originals,
  ReflectApply: apply,
  ReflectGetPrototypeOf: getPrototypeOf,
  TypedArray,
} = primordials;

type Method = (this: unknown, ...args: unknown[]) => unknown;

const typedArrayName = originals["get TypedArray.prototype[Symbol.toStringTag]"]!;

/** A list CreateListFromArrayLike reads (anything but an object is its TypeError): itself if its loop is short, else a view. */
function listSource(value: unknown): unknown {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return value;
  return directLength(value, 1) >= 0 ? value : interruptible(value);
}

/** An array-like an original converts with ToObject, then reads by index: itself if that is short, else a view. */
function objectSource(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  return directLength(value, 1) >= 0 ? value : interruptible(value);
}

function guardApplies(global: Record<string, unknown>): void {
  const FunctionPrototype = getPrototypeOf(global.Object as object) as { apply: Method };
  const realApply = FunctionPrototype.apply;
  replaceMethod(FunctionPrototype, "apply", {
    apply(this: unknown, thisArg: unknown, list: unknown) {
      return list === undefined ? apply(realApply, this, [thisArg]) : apply(realApply, this, [thisArg, listSource(list)]);
    },
  }.apply);
  const ReflectGlobal = global.Reflect as { apply: Method; construct: Method };
  const reflectApply = ReflectGlobal.apply;
  const reflectConstruct = ReflectGlobal.construct;
  replaceMethod(ReflectGlobal, "apply", {
    apply(this: unknown, ...args: unknown[]) {
      if (args.length > 2) args[2] = listSource(args[2]);
      return apply(reflectApply, this, args);
    },
  }.apply);
  replaceMethod(ReflectGlobal, "construct", {
    construct(this: unknown, ...args: unknown[]) {
      if (args.length > 1) args[1] = listSource(args[1]);
      return apply(reflectConstruct, this, args);
    },
  }.construct);
}

// The typed array constructors read an array-like argument the same way, but are left as they
// are: a wrapper would have to become each prototype's `constructor`, and V8 then looks up
// Symbol.species on every slice(), subarray(), map() and filter() of a typed array (as it does
// not for the original constructor), the runtime's own included. Their loop is bounded by the
// array they allocate first (memoryMb).
function guardTypedArrays(): void {
  const TypedArrayStatics = TypedArray as unknown as { from: Method };
  const realFrom = TypedArrayStatics.from;
  replaceMethod(TypedArrayStatics, "from", {
    from(this: unknown, ...args: unknown[]) {
      // With a mapper, every index is a call.
      if (args.length > 0 && !(args.length > 1 && args[1] !== undefined)) args[0] = readableSource(args[0]);
      return apply(realFrom, this, args);
    },
  }.from);
  const prototype = primordials.TypedArrayPrototype as unknown as { set: Method };
  const realSet = prototype.set;
  replaceMethod(prototype, "set", {
    set(this: unknown, ...args: unknown[]) {
      // A typed array is copied by the original without a lookup.
      const source = args.length > 0 ? args[0] : undefined;
      if (args.length > 0 && !(typeof source === "object" && source !== null && proxyTarget(source) === undefined && apply(typedArrayName, source, []) !== undefined)) args[0] = objectSource(source);
      return apply(realSet, this, args);
    },
  }.set);
}

function guardStringRaw(global: Record<string, unknown>): void {
  const StringGlobal = global.String as { raw: Method };
  const realRaw = StringGlobal.raw;
  replaceMethod(StringGlobal, "raw", {
    raw(this: unknown, ...args: unknown[]) {
      const template = args.length > 0 ? args[0] : undefined;
      if (template !== null && template !== undefined) {
        // String.raw reads `raw` from its first argument, then every element of that.
        const real = boxed(template);
        const traps = plainTraps(real as Record<PropertyKey, unknown>);
        traps.get = (_target: object, key: PropertyKey) => {
          const value = (real as Record<PropertyKey, unknown>)[key];
          return key === "raw" ? objectSource(value) : value;
        };
        args[0] = viewWith(real, traps);
      }
      return apply(realRaw, this, args);
    },
  }.raw);
}

/** Replaces the built-ins above (the originals become unreachable). */
export function guardListReaders(global: Record<string, unknown>): void {
  guardApplies(global);
  guardTypedArrays();
  guardStringRaw(global);
}
