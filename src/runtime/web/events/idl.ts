// The Web IDL JavaScript binding details this chunk's classes need beyond what `class` gives:
// enumerable members, constants, the class string, and names and lengths that survive the
// minifier (which renames every class and function in the bundle).

import { primordials, SymbolIterator, SymbolToStringTag } from "../../primordials.ts";

const { MathTrunc, Number, NumberIsFinite, ObjectKeys, ReflectApply, ReflectDefineProperty, ReflectGetOwnPropertyDescriptor, ReflectOwnKeys, TypeError } = primordials;

const defineProperty = ReflectDefineProperty;
const getOwnPropertyDescriptor = ReflectGetOwnPropertyDescriptor;
const ownKeys = ReflectOwnKeys;
const apply = ReflectApply;
const iteratorSymbol = SymbolIterator;
const isFinite = NumberIsFinite;
const trunc = MathTrunc;
const MAX_SAFE_INTEGER = Number.MAX_SAFE_INTEGER;

export interface InterfaceShape {
  /** The number of required constructor arguments (0 for interfaces without a constructor). */
  length: number;
  constants?: Readonly<Record<string, number>>;
}

/** Gives a class the shape of a Web IDL interface object and interface prototype object. */
export function defineInterface(Class: abstract new (...args: never[]) => unknown, name: string, shape: InterfaceShape): void {
  defineProperty(Class, "name", { value: name, configurable: true });
  defineProperty(Class, "length", { value: shape.length, configurable: true });
  const prototype = Class.prototype as object;
  // Operations and attributes are enumerable in Web IDL; class syntax makes them non-enumerable.
  for (let i25 = 0, a25 = ownKeys(prototype); i25 < a25.length; i25++) {
    const key = a25[i25];
    if (key === "constructor") continue;
    defineProperty(prototype, key, { enumerable: true });
  }
  for (let i26 = 0, a26 = ownKeys(Class); i26 < a26.length; i26++) {
    const key = a26[i26];
    if (key === "length" || key === "name" || key === "prototype") continue;
    defineProperty(Class, key, { enumerable: true });
  }
  for (let i27 = 0, a27 = ObjectKeys(shape.constants ?? {}); i27 < a27.length; i27++) {
    const key = a27[i27];
    const constant = { value: shape.constants![key], writable: false, enumerable: true, configurable: false };
    defineProperty(Class, key, constant);
    defineProperty(prototype, key, constant);
  }
  defineProperty(prototype, SymbolToStringTag, { value: name, writable: false, enumerable: false, configurable: true });
}

/** Names a function (and sets its Web IDL length) where the minifier would have renamed it. */
export function defineFunction<T extends (...args: never[]) => unknown>(fn: T, name: string, length: number): T {
  defineProperty(fn, "name", { value: name, configurable: true });
  defineProperty(fn, "length", { value: length, configurable: true });
  return fn;
}

/** The descriptor of an accessor written in an object literal, ready to copy onto a prototype. */
export function accessorOf(holder: object, key: string): PropertyDescriptor {
  return getOwnPropertyDescriptor(holder, key)!;
}

/**
 * sequence<T> conversion: gets @@iterator once and walks the iterator it returns, converting
 * each item as it comes (so a bad item stops the walk where a browser would stop it).
 */
export function toSequence<T>(value: unknown, convert: (item: unknown, index: number) => T, what: string): T[] {
  if ((typeof value !== "object" && typeof value !== "function") || value === null) throw new TypeError(`${what} is not iterable.`);
  const method = (value as Record<symbol, unknown>)[iteratorSymbol];
  if (typeof method !== "function") throw new TypeError(`${what} is not iterable.`);
  const iterator = apply(method, value, []) as Iterator<unknown>;
  if ((typeof iterator !== "object" && typeof iterator !== "function") || iterator === null) throw new TypeError(`${what}: the iterator is not an object.`);
  const next = iterator.next;
  const items: T[] = [];
  for (;;) {
    const result = apply(next, iterator, []) as IteratorResult<unknown>;
    if ((typeof result !== "object" && typeof result !== "function") || result === null) throw new TypeError(`${what}: the iterator result is not an object.`);
    if (result.done) return items;
    items[items.length] = convert(result.value, items.length);
  }
}

/** `[EnforceRange] unsigned long long`. */
export function toEnforcedUnsignedLongLong(value: unknown, what: string): number {
  const number = +(value as number);
  if (!isFinite(number)) throw new TypeError(`${what} must be a finite number.`);
  const integer = trunc(number);
  if (integer < 0 || integer > MAX_SAFE_INTEGER) throw new TypeError(`${what} is outside the range 0 to ${MAX_SAFE_INTEGER}.`);
  return integer === 0 ? 0 : integer;
}
