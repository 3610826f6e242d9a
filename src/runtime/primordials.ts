// The intrinsics the runtime calls, captured once before any user code runs, in the spirit of
// Node's and Deno's primordials. User code may replace any global or prototype method
// (`Reflect.construct`, `Array.prototype.push`, `Function.prototype.call`, a `then` getter on
// Object.prototype); the runtime calls the originals held here instead.
//
// Captured once per isolate, by the core (dist/runtime.js) while it boots, before the host runs any
// user module. A lazily loaded chunk is a separate bundle that runs after user code may have run:
// it must not capture anything itself. The build wraps each chunk in a function of one parameter,
// `__isletPrimordials` (scripts/build.mjs), and the core calls it with this same object when the
// chunk loads (chunks.ts), so this module, bundled into a chunk, only reads what the core captured.
// In Node (the runtime's differential tests) nothing injects it and the module captures its own.
//
// Naming follows Node: `ArrayPrototypePush(array, value)` is `Array.prototype.push` with its
// receiver as first argument (uncurried); `ReflectApply` is `Reflect.apply`; a getter is
// `TypedArrayPrototypeGetLength(view)`.

import { protocolPrimordials } from "../protocol/primordials.ts";

/** Set by the build: true in a chunk's bundle, false in the core's; not set in Node. */
declare const ISLET_CHUNK: boolean | undefined;
/** Inside a chunk's bundle only: the parameter of the chunk's wrapper, the core's primordials. */
declare const __isletPrimordials: Primordials;

/** A chunk-only primordial's captured function, uncurried by finishPrimordials(). */
class Deferred {
  constructor(readonly fn: (...args: never[]) => unknown) {}
}

type Uncurried<F> = F extends (...args: infer A) => infer R ? (self: unknown, ...args: A) => R : never;

function capture() {
  const { apply, construct, defineProperty, getOwnPropertyDescriptor, getPrototypeOf, ownKeys } = Reflect;
  const { bind, call } = Function.prototype;
  // uncurryThis(f)(self, ...args) is f.call(self, ...args), with no lookup on f or Function.prototype.
  const uncurryThis = <F extends (...args: never[]) => unknown>(fn: F): Uncurried<F> => apply(bind, call, [fn]) as Uncurried<F>;
  const deleteProperty = Reflect.deleteProperty;
  const getter = (object: object, key: PropertyKey) => uncurryThis(getOwnPropertyDescriptor(object, key)!.get! as () => unknown);
  const TypedArray = getPrototypeOf(Uint8Array) as unknown as { prototype: Uint8Array };
  const TypedArrayPrototype = TypedArray.prototype;
  const AsyncIteratorPrototype = getPrototypeOf((getPrototypeOf(async function* () {}) as { prototype: object }).prototype) as object;
  const promiseThen = uncurryThis(Promise.prototype.then) as <T, R1 = T, R2 = never>(
    promise: Promise<T>,
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ) => Promise<R1 | R2>;
  // Promise.prototype.then makes its result through SpeciesConstructor: it reads the promise's
  // `constructor` and that constructor's Symbol.species, both of which user code can replace (and
  // so be handed, or construct, the promise the runtime chains). With an own `constructor` of
  // undefined for the length of the call, it uses %Promise% without reading either.
  const promiseConstructorKey = "constructor";
  const hiddenConstructor = { __proto__: null, value: undefined, configurable: true } as PropertyDescriptor;
  const PromisePrototypeThen = ((promise: Promise<unknown>, onFulfilled?: unknown, onRejected?: unknown) => {
    if (hasOwn(promise, promiseConstructorKey) || !defineProperty(promise, promiseConstructorKey, hiddenConstructor)) return promiseThen(promise, onFulfilled as never, onRejected as never);
    try {
      return promiseThen(promise, onFulfilled as never, onRejected as never);
    } finally {
      deleteProperty(promise, promiseConstructorKey);
    }
  }) as typeof promiseThen;
  // Descriptors are read through their own properties only: a descriptor literal inherits from
  // Object.prototype, where user code may have put `get`, `value` or `enumerable` (accessors that
  // would also be handed the descriptor, and with it the value being defined).
  const hasOwn = Object.hasOwn;
  const objectDefineProperty = Object.defineProperty;
  const objectDefineProperties = Object.defineProperties;
  const objectCreate = Object.create;
  const descriptorKeys = ["value", "writable", "get", "set", "enumerable", "configurable"] as const;
  const ownDescriptor = (descriptor: PropertyDescriptor): PropertyDescriptor => {
    if (getPrototypeOf(descriptor) === null) return descriptor;
    const own = objectCreate(null) as Record<string, unknown>;
    for (let i = 0; i < 6; i++) {
      const key = descriptorKeys[i];
      if (hasOwn(descriptor, key)) own[key] = (descriptor as Record<string, unknown>)[key];
    }
    return own as PropertyDescriptor;
  };
  const ownDescriptors = (descriptors: PropertyDescriptorMap): PropertyDescriptorMap => {
    const own = objectCreate(null) as PropertyDescriptorMap;
    const keys = ownKeys(descriptors);
    for (let i = 0; i < keys.length; i++) own[keys[i] as string] = ownDescriptor((descriptors as Record<PropertyKey, PropertyDescriptor>)[keys[i]]);
    return own;
  };
  const regExpExec = uncurryThis(RegExp.prototype.exec) as (re: RegExp, string: string) => RegExpExecArray | null;
  const regExpGlobal = getter(RegExp.prototype, "global") as (re: RegExp) => boolean;
  const regExpUnicode = getter(RegExp.prototype, "unicode") as (re: RegExp) => boolean;
  const stringSlice = uncurryThis(String.prototype.slice);
  const stringCharCodeAt = uncurryThis(String.prototype.charCodeAt);
  const stringIndexOf = uncurryThis(String.prototype.indexOf);
  const arrayPush = uncurryThis(Array.prototype.push);
  const mapEntries = uncurryThis(Map.prototype.entries) as (map: unknown) => Iterator<never>;
  const setValues = uncurryThis(Set.prototype.values) as (set: unknown) => Iterator<never>;
  const stringIterator = uncurryThis(String.prototype[Symbol.iterator]) as (string: string) => Iterator<string>;
  const mapIteratorNext = uncurryThis((getPrototypeOf(new Map().entries()) as Iterator<never>).next) as (iterator: unknown) => IteratorResult<never>;
  const setIteratorNext = uncurryThis((getPrototypeOf(new Set().values()) as Iterator<never>).next) as (iterator: unknown) => IteratorResult<never>;
  const stringIteratorNext = uncurryThis((getPrototypeOf(""[Symbol.iterator]()) as Iterator<string>).next) as (iterator: unknown) => IteratorResult<string>;
  // String.prototype.replace with a RegExp calls the RegExp's Symbol.replace, which reads exec,
  // flags and lastIndex through the prototype user code can change; this loop calls only exec.
  const regExpReplace = (re: RegExp, string: string, replacement: string | ((match: string, ...rest: any[]) => string)): string => {
    const global = regExpGlobal(re);
    let out = "";
    let last = 0;
    re.lastIndex = 0;
    for (;;) {
      const match = regExpExec(re, string);
      if (match === null) break;
      const matched = match[0];
      const index = match.index;
      let replaced: string;
      if (typeof replacement === "function") {
        const args: unknown[] = [];
        for (let i = 0; i < match.length; i++) arrayPush(args, match[i]);
        arrayPush(args, index, string);
        if (match.groups !== undefined) arrayPush(args, match.groups);
        replaced = `${apply(replacement, undefined, args)}`;
      } else replaced = expandReplacement(replacement, match, string);
      out += stringSlice(string, last, index) + replaced;
      last = index + matched.length;
      if (!global) break;
      if (matched.length === 0) re.lastIndex = advance(string, re.lastIndex, regExpUnicode(re));
    }
    if (!global) re.lastIndex = 0;
    return out + stringSlice(string, last);
  };
  const advance = (string: string, index: number, unicode: boolean): number => {
    if (!unicode || index + 1 >= string.length) return index + 1;
    const c = stringCharCodeAt(string, index);
    return c >= 0xd800 && c <= 0xdbff ? index + 2 : index + 1;
  };
  const expandReplacement = (replacement: string, match: RegExpExecArray, string: string): string => {
    if (stringIndexOf(replacement, "$") === -1) return replacement;
    let out = "";
    for (let i = 0; i < replacement.length; i++) {
      const c = replacement[i];
      const n = replacement[i + 1];
      if (c !== "$" || n === undefined) out += c;
      else if (n === "$") (out += "$"), i++;
      else if (n === "&") (out += match[0]), i++;
      else if (n === "`") (out += stringSlice(string, 0, match.index)), i++;
      else if (n === "'") (out += stringSlice(string, match.index + match[0].length)), i++;
      else if (n >= "0" && n <= "9") {
        const two = replacement[i + 2];
        const twoDigit = two !== undefined && two >= "0" && two <= "9" ? +(n + two) : -1;
        if (twoDigit > 0 && twoDigit < match.length) (out += match[twoDigit] ?? ""), (i += 2);
        else if (+n > 0 && +n < match.length) (out += match[+n] ?? ""), i++;
        else out += c;
      } else if (n === "<" && match.groups !== undefined) {
        const end = stringIndexOf(replacement, ">", i);
        if (end === -1) out += c;
        else (out += match.groups[stringSlice(replacement, i + 2, end)] ?? ""), (i = end);
      } else out += c;
    }
    return out;
  };
  // String.prototype.split/replace/replaceAll look up Symbol.split/Symbol.replace on their pattern
  // even when it is a primitive string, through String.prototype to Object.prototype, where user
  // code may have put one (findings15's held list): with a string pattern these call only
  // indexOf and slice. (A RegExp pattern is the caller's to avoid: see regExpReplace.)
  const nativeSplit = uncurryThis(String.prototype.split) as (string: string, separator: unknown, limit?: number) => string[];
  const nativeReplace = uncurryThis(String.prototype.replace) as (string: string, pattern: unknown, replacement: unknown) => string;
  const nativeReplaceAll = uncurryThis(String.prototype.replaceAll) as (string: string, pattern: unknown, replacement: unknown) => string;
  const stringSplit = (string: string, separator: string, limit?: number): string[] => {
    if (typeof separator !== "string") return nativeSplit(string, separator, limit);
    const text = `${string}`;
    const max = limit === undefined ? 0xffffffff : limit >>> 0;
    const out: string[] = [];
    if (max === 0) return out;
    if (separator.length === 0) {
      for (let i = 0; i < text.length && out.length < max; i++) out[out.length] = text[i];
      return out;
    }
    let from = 0;
    for (;;) {
      const at = stringIndexOf(text, separator, from);
      if (at === -1) break;
      out[out.length] = stringSlice(text, from, at);
      if (out.length >= max) return out;
      from = at + separator.length;
    }
    out[out.length] = stringSlice(text, from);
    return out;
  };
  const literalMatch = (matched: string, index: number): RegExpExecArray => ({ __proto__: null, 0: matched, length: 1, index, groups: undefined }) as unknown as RegExpExecArray;
  const stringReplace = (string: string, pattern: string, replacement: string): string => {
    if (typeof pattern !== "string" || typeof replacement !== "string") return nativeReplace(string, pattern, replacement);
    const text = `${string}`;
    const at = stringIndexOf(text, pattern);
    if (at === -1) return text;
    return stringSlice(text, 0, at) + expandReplacement(replacement, literalMatch(pattern, at), text) + stringSlice(text, at + pattern.length);
  };
  const stringReplaceAll = (string: string, pattern: string, replacement: string): string => {
    if (typeof pattern !== "string" || typeof replacement !== "string") return nativeReplaceAll(string, pattern, replacement);
    const text = `${string}`;
    let out = "";
    if (pattern.length === 0) {
      // An empty pattern matches before every code unit and at the end.
      for (let i = 0; i <= text.length; i++) out += expandReplacement(replacement, literalMatch("", i), text) + (i < text.length ? text[i] : "");
      return out;
    }
    let from = 0;
    for (let at = stringIndexOf(text, pattern); at !== -1; at = stringIndexOf(text, pattern, from)) {
      out += stringSlice(text, from, at) + expandReplacement(replacement, literalMatch(pattern, at), text);
      from = at + pattern.length;
    }
    return out + stringSlice(text, from);
  };
  // An iterator over a Map, Set or string that calls the captured next(); its prototype chain
  // ends without Object.prototype, so a for-of's lookup of `return` finds nothing user code put there.
  class SafeIterator<T = unknown> {
    readonly i: unknown;
    readonly n: (iterator: unknown) => IteratorResult<T>;
    constructor(iterator: unknown, next: (iterator: unknown) => IteratorResult<T>) {
      this.i = iterator;
      this.n = next;
    }
    next(): IteratorResult<T> {
      return this.n(this.i);
    }
    [Symbol.iterator](): this {
      return this;
    }
  }
  Reflect.setPrototypeOf(SafeIterator.prototype, null);
  // Raw methods and accessors, for code that brand-checks a receiver with apply(method, value, args)
  // (structured clone, util.types): "Map.prototype.forEach", "get RegExp.prototype.source".
  const originals = objectCreate(null) as Record<string, ((...args: any[]) => any) | undefined>;
  const SharedArrayBufferPrototype = (globalThis as { SharedArrayBuffer?: { prototype: object } }).SharedArrayBuffer?.prototype;
  const originalSources: [object | undefined, string, string[], string[]][] = [
    [Object.prototype, "Object", ["toString", "hasOwnProperty", "propertyIsEnumerable"], []],
    [Symbol.prototype, "Symbol", ["toString", "valueOf"], ["description"]],
    [Boolean.prototype, "Boolean", ["valueOf"], []],
    [Number.prototype, "Number", ["valueOf"], []],
    [String.prototype, "String", ["valueOf"], []],
    [BigInt.prototype, "BigInt", ["valueOf"], []],
    [Date.prototype, "Date", ["getTime"], []],
    [Map.prototype, "Map", ["forEach", "set", "get", "has"], ["size"]],
    [Set.prototype, "Set", ["forEach", "add", "has"], ["size"]],
    [WeakMap.prototype, "WeakMap", ["has", "get", "set"], []],
    [WeakSet.prototype, "WeakSet", ["has", "add"], []],
    [WeakRef.prototype, "WeakRef", ["deref"], []],
    [FinalizationRegistry.prototype, "FinalizationRegistry", ["unregister"], []],
    [Promise.prototype, "Promise", ["then"], []],
    [Array.prototype, "Array", ["sort"], []],
    [RegExp.prototype, "RegExp", ["toString", "exec"], ["source", "flags", "hasIndices", "global", "ignoreCase", "multiline", "dotAll", "unicode", "unicodeSets", "sticky"]],
    [ArrayBuffer.prototype, "ArrayBuffer", ["transfer", "slice"], ["byteLength", "resizable", "maxByteLength", "detached"]],
    [SharedArrayBufferPrototype, "SharedArrayBuffer", [], ["byteLength"]],
    [TypedArrayPrototype, "TypedArray", ["set"], ["buffer", "byteOffset", "byteLength", "length"]],
    [DataView.prototype, "DataView", [], ["buffer", "byteOffset", "byteLength"]],
  ];
  for (let i = 0; i < originalSources.length; i++) {
    const [prototype, name, methodNames, getterNames] = originalSources[i];
    if (prototype === undefined) continue;
    for (let j = 0; j < methodNames.length; j++) originals[`${name}.prototype.${methodNames[j]}`] = (prototype as Record<string, never>)[methodNames[j]];
    for (let j = 0; j < getterNames.length; j++) originals[`get ${name}.prototype.${getterNames[j]}`] = getOwnPropertyDescriptor(prototype, getterNames[j])?.get;
  }
  originals["get TypedArray.prototype[Symbol.toStringTag]"] = getOwnPropertyDescriptor(TypedArrayPrototype, Symbol.toStringTag)!.get;
  const typedArrayTag = getter(TypedArrayPrototype, Symbol.toStringTag);
  const typedArrayBuffer = getter(TypedArrayPrototype, "buffer");
  const typedArrayByteLength = getter(TypedArrayPrototype, "byteLength");
  const typedArrayByteOffset = getter(TypedArrayPrototype, "byteOffset");
  const typedArraySetOriginal = TypedArrayPrototype.set;
  const Uint8ArrayCtor = Uint8Array;
  const dataViewBuffer = getter(DataView.prototype, "buffer");
  const dataViewByteLength = getter(DataView.prototype, "byteLength");
  const dataViewByteOffset = getter(DataView.prototype, "byteOffset");
  const arrayIsArray = Array.isArray;
  const mathMax = Math.max;
  const mathMin = Math.min;
  const mapSet = uncurryThis(Map.prototype.set);
  const setAdd = uncurryThis(Set.prototype.add);
  /**
   * sequence<T> and friends: an Array is read by index (its iterator, which user code may have
   * replaced, is not called); any other iterable through its own iterator, as Web IDL says.
   */
  const iterableToArray = <T>(value: Iterable<T>): T[] => {
    const out: T[] = [];
    if (arrayIsArray(value)) {
      const array = value as T[];
      for (let i = 0; i < array.length; i++) out[i] = array[i];
      return out;
    }
    const iterator = (value as { [Symbol.iterator](): Iterator<T> })[Symbol.iterator]();
    for (;;) {
      const result = iterator.next();
      if (result.done) return out;
      out[out.length] = result.value;
    }
  };
  // Only the chunks use these: captured now, uncurried when the first chunk loads (each bind costs
  // every new isolate time, and most isolates never load a chunk). See finishPrimordials().
  const deferUncurry = <F extends (...args: never[]) => unknown>(fn: F): Uncurried<F> => new Deferred(fn) as unknown as Uncurried<F>;
  const deferGetter = (object: object, key: PropertyKey) => new Deferred(getOwnPropertyDescriptor(object, key)!.get! as () => unknown) as unknown as (self: unknown) => unknown;
  // Replaces each Deferred in `table` (the primordials) with its uncurried function; idempotent.
  let finished = false;
  const finishDeferred = (table: object): void => {
    if (finished) return;
    finished = true;
    const keys = ownKeys(table) as string[];
    for (let i = 0; i < keys.length; i++) {
      const value = (table as Record<string, unknown>)[keys[i]];
      if (value instanceof Deferred) (table as Record<string, unknown>)[keys[i]] = uncurryThis(value.fn);
    }
  };
  // One literal without a prototype: a name missing here reads undefined, never something user
  // code put on Object.prototype. Not frozen: it never reaches user code, and freezing an object
  // this size costs every new isolate time.
  const P = {
    __proto__: null,
    // What the boundary's codec needs, captured by src/protocol/primordials.ts (once, at boot).
    ...protocolPrimordials,
    globalThis,
    FinishDeferred: finishDeferred,

    ReflectConstruct: construct,
    ReflectDefineProperty: (target: object, key: PropertyKey, descriptor: PropertyDescriptor): boolean => defineProperty(target, key, ownDescriptor(descriptor)),
    ReflectGetOwnPropertyDescriptor: getOwnPropertyDescriptor,
    ReflectGetPrototypeOf: getPrototypeOf,
    ReflectSetPrototypeOf: Reflect.setPrototypeOf,
    ReflectOwnKeys: ownKeys,
    ReflectDeleteProperty: Reflect.deleteProperty,

    Reflect,
    FunctionPrototypeBind: deferUncurry(bind) as <F extends (...args: any[]) => unknown>(fn: F, self: unknown, ...args: unknown[]) => F,
    FunctionPrototypeToString: deferUncurry(Function.prototype.toString),

    ObjectAssign: Object.assign,
    ObjectCreate: ((proto: object | null, descriptors?: PropertyDescriptorMap) =>
      descriptors === undefined ? objectCreate(proto) : objectCreate(proto, ownDescriptors(descriptors))) as typeof Object.create,
    ObjectDefineProperty: (<T>(target: T, key: PropertyKey, descriptor: PropertyDescriptor & ThisType<unknown>): T =>
      objectDefineProperty(target, key, ownDescriptor(descriptor))) as typeof Object.defineProperty,
    ObjectDefineProperties: (<T>(target: T, descriptors: PropertyDescriptorMap & ThisType<unknown>): T =>
      objectDefineProperties(target, ownDescriptors(descriptors))) as typeof Object.defineProperties,
    ObjectEntries: Object.entries,
    ObjectFromEntries: Object.fromEntries,
    ObjectFreeze: Object.freeze,
    ObjectGetOwnPropertyDescriptors: Object.getOwnPropertyDescriptors,
    ObjectGetOwnPropertyNames: Object.getOwnPropertyNames,
    ObjectGetOwnPropertySymbols: Object.getOwnPropertySymbols,
    ObjectSetPrototypeOf: Object.setPrototypeOf,
    ObjectIs: Object.is,
    ObjectSeal: Object.seal,
    ObjectPrototypeToString: deferUncurry(Object.prototype.toString),
    ObjectPrototypeIsPrototypeOf: deferUncurry(Object.prototype.isPrototypeOf),
    ObjectPrototypePropertyIsEnumerable: deferUncurry(Object.prototype.propertyIsEnumerable),

    ArrayFrom: Array.from,
    // map, filter, slice and splice are loops here: the built-ins make their result through the
    // array's constructor[Symbol.species], a lookup user code can answer with its own constructor
    // (and so be handed, and keep, the runtime's new array).
    ArrayPrototypeMap: <T, U>(array: readonly T[], callback: (value: T, index: number, array: T[]) => U): U[] => {
      const out: U[] = [];
      for (let i = 0; i < array.length; i++) out[i] = callback(array[i], i, array as T[]);
      return out;
    },
    ArrayPrototypeFilter: <T>(array: readonly T[], callback: (value: T, index: number, array: T[]) => unknown): T[] => {
      const out: T[] = [];
      for (let i = 0; i < array.length; i++) if (callback(array[i], i, array as T[])) out[out.length] = array[i];
      return out;
    },
    ArrayPrototypeFind: deferUncurry(Array.prototype.find) as <T>(array: readonly T[], callback: (value: T, index: number, array: T[]) => unknown) => T | undefined,
    ArrayPrototypeFindIndex: deferUncurry(Array.prototype.findIndex) as <T>(array: readonly T[], callback: (value: T, index: number, array: T[]) => unknown) => number,
    ArrayPrototypeSome: deferUncurry(Array.prototype.some) as <T>(array: readonly T[], callback: (value: T, index: number, array: T[]) => unknown) => boolean,
    ArrayPrototypeIncludes: deferUncurry(Array.prototype.includes) as <T>(array: readonly T[], value: T, from?: number) => boolean,
    ArrayPrototypeIndexOf: deferUncurry(Array.prototype.indexOf) as <T>(array: readonly T[], value: T, from?: number) => number,
    ArrayPrototypeJoin: uncurryThis(Array.prototype.join) as (array: ArrayLike<unknown>, separator?: string) => string,
    ArrayPrototypePop: deferUncurry(Array.prototype.pop) as <T>(array: T[]) => T | undefined,
    ArrayPrototypeShift: deferUncurry(Array.prototype.shift) as <T>(array: T[]) => T | undefined,
    ArrayPrototypeSlice: <T>(array: ArrayLike<T>, start?: number, end?: number): T[] => {
      const length = array.length;
      let from = start === undefined ? 0 : start < 0 ? mathMax(length + start, 0) : mathMin(start, length);
      const to = end === undefined ? length : end < 0 ? mathMax(length + end, 0) : mathMin(end, length);
      const out: T[] = [];
      for (; from < to; from++) out[out.length] = array[from];
      return out;
    },
    ArrayPrototypeSort: deferUncurry(Array.prototype.sort) as <T>(array: T[], compare?: (a: T, b: T) => number) => T[],
    /** Array.prototype.splice for an array without holes (see ArrayPrototypeMap). */
    ArrayPrototypeSplice: <T>(array: T[], start: number, deleteCount?: number, ...items: T[]): T[] => {
      const length = array.length;
      const from = start < 0 ? mathMax(length + start, 0) : mathMin(start, length);
      const count = deleteCount === undefined ? length - from : mathMin(mathMax(deleteCount, 0), length - from);
      const removed: T[] = [];
      for (let i = 0; i < count; i++) removed[i] = array[from + i];
      const tail: T[] = [];
      for (let i = from + count; i < length; i++) tail[tail.length] = array[i];
      array.length = from;
      for (let i = 0; i < items.length; i++) array[array.length] = items[i];
      for (let i = 0; i < tail.length; i++) array[array.length] = tail[i];
      return removed;
    },
    /** `target.push(...source)` without the spread's iterator. */
    ArrayPrototypePushApply: <T>(target: T[], source: ArrayLike<T>): number => {
      for (let i = 0; i < source.length; i++) target[target.length] = source[i];
      return target.length;
    },
    IterableToArray: iterableToArray,
    /** Array.from({ length }, make) as a loop. */
    ArrayFromLength: <T>(length: number, make: (index: number) => T): T[] => {
      const out: T[] = [];
      for (let i = 0; i < length; i++) out[i] = make(i);
      return out;
    },
    /** Object.fromEntries for an array of pairs: no iterators, and no setters Object.prototype may have. */
    ObjectFromPairs: <V>(pairs: readonly (readonly [PropertyKey, V])[]): Record<PropertyKey, V> => {
      const out: Record<PropertyKey, V> = {};
      for (let i = 0; i < pairs.length; i++) defineProperty(out, pairs[i][0], ownDescriptor({ value: pairs[i][1], writable: true, enumerable: true, configurable: true }));
      return out;
    },
    /** A view's byteLength (core: usable before any chunk loads). */
    ViewByteLength: (view: ArrayBufferView): number => typedArrayByteLength(view) as number,
    /** A fresh Uint8Array holding a copy of `length` bytes of `view` from byte `start` (core). */
    Uint8ArrayCopyRange: (view: Uint8Array, start: number, length: number): Uint8Array => {
      const out = new Uint8ArrayCtor(length);
      apply(typedArraySetOriginal, out, [new Uint8ArrayCtor(typedArrayBuffer(view) as ArrayBuffer, (typedArrayByteOffset(view) as number) + start, length)]);
      return out;
    },
    /** `new Ctor(values)` for an array of numbers, without the array's iterator. */
    TypedArrayOf: <T extends { [index: number]: number }>(Ctor: new (length: number) => T, values: readonly number[]): T => {
      const view = new Ctor(values.length);
      for (let i = 0; i < values.length; i++) view[i] = values[i];
      return view;
    },
    /** The typed array's [[TypedArrayName]] ("Uint8Array", also for a Buffer), or undefined for anything else. */
    TypedArrayPrototypeGetSymbolToStringTag: deferGetter(TypedArrayPrototype, Symbol.toStringTag) as (value: unknown) => string | undefined,
    /** `new Map(entries)` without the array iterator or a lookup of Map.prototype.set. */
    MapFrom: <K, V>(entries: readonly (readonly [K, V])[]): Map<K, V> => {
      const map = new Map<K, V>();
      for (let i = 0; i < entries.length; i++) mapSet(map, entries[i][0], entries[i][1]);
      return map;
    },
    /** `new Set(values)` without the array iterator or a lookup of Set.prototype.add. */
    SetFrom: <T>(values: readonly T[]): Set<T> => {
      const set = new Set<T>();
      for (let i = 0; i < values.length; i++) setAdd(set, values[i]);
      return set;
    },
    ArrayIteratorPrototype: getPrototypeOf([][Symbol.iterator]()) as object,
    MapIteratorPrototype: getPrototypeOf(new Map()[Symbol.iterator]()) as object,
    SetIteratorPrototype: getPrototypeOf(new Set()[Symbol.iterator]()) as object,
    StringIteratorPrototype: getPrototypeOf(""[Symbol.iterator]()) as object,
    RegExpStringIteratorPrototype: getPrototypeOf(/(?:)/[Symbol.matchAll]("")) as object,
    ArrayPrototypeUnshift: uncurryThis(Array.prototype.unshift) as <T>(array: T[], ...items: T[]) => number,

    ArrayBufferIsView: ArrayBuffer.isView,
    ArrayBufferPrototypeGetByteLength: deferGetter(ArrayBuffer.prototype, "byteLength") as (buffer: ArrayBufferLike) => number,
    ArrayBufferPrototypeSlice: deferUncurry(ArrayBuffer.prototype.slice) as <T extends ArrayBufferLike>(buffer: T, start?: number, end?: number) => T,
    // The sandbox's charged ArrayBuffer constructor and transfer (globals/buffers.ts), for the
    // runtime's own resizable buffers (structuredClone); set when the globals are installed, the
    // originals until then (and in Node).
    ArrayBufferConfined: ArrayBuffer as ArrayBufferConstructor,
    ArrayBufferPrototypeTransferConfined: (ArrayBuffer.prototype as { transfer?: (this: ArrayBuffer, newLength?: number) => ArrayBuffer }).transfer,
    TypedArray,
    TypedArrayPrototype,
    TypedArrayPrototypeGetLength: deferGetter(TypedArrayPrototype, "length") as (view: ArrayBufferView) => number,
    TypedArrayPrototypeGetByteLength: deferGetter(TypedArrayPrototype, "byteLength") as (view: ArrayBufferView) => number,
    TypedArrayPrototypeGetByteOffset: deferGetter(TypedArrayPrototype, "byteOffset") as (view: ArrayBufferView) => number,
    TypedArrayPrototypeGetBuffer: deferGetter(TypedArrayPrototype, "buffer") as <T extends ArrayBufferLike>(view: ArrayBufferView<T>) => T,
    // An ArrayBufferView is a typed array or a DataView, whose getters are different functions.
    ArrayBufferViewGetBuffer: (view: ArrayBufferView): ArrayBufferLike => (typedArrayTag(view) === undefined ? dataViewBuffer(view) : typedArrayBuffer(view)) as ArrayBufferLike,
    ArrayBufferViewGetByteLength: (view: ArrayBufferView): number => (typedArrayTag(view) === undefined ? dataViewByteLength(view) : typedArrayByteLength(view)) as number,
    ArrayBufferViewGetByteOffset: (view: ArrayBufferView): number => (typedArrayTag(view) === undefined ? dataViewByteOffset(view) : typedArrayByteOffset(view)) as number,
    TypedArrayPrototypeFill: deferUncurry(TypedArrayPrototype.fill),
    TypedArrayPrototypeIndexOf: deferUncurry(TypedArrayPrototype.indexOf),
    TypedArrayPrototypeLastIndexOf: deferUncurry(TypedArrayPrototype.lastIndexOf),
    TypedArrayPrototypeSet: deferUncurry(TypedArrayPrototype.set) as (target: ArrayBufferView, source: ArrayLike<number> | ArrayLike<bigint>, offset?: number) => void,
    TypedArrayPrototypeSlice: deferUncurry(TypedArrayPrototype.slice) as <T extends ArrayBufferView>(view: T, start?: number, end?: number) => T,
    TypedArrayPrototypeSubarray: deferUncurry(TypedArrayPrototype.subarray) as <T extends ArrayBufferView>(view: T, start?: number, end?: number) => T,
    Uint8ClampedArray,
    Uint16Array,
    Uint32Array,
    Int8Array,
    Int16Array,
    Int32Array,
    Float32Array,
    Float64Array,
    BigInt64Array,
    BigUint64Array,

    Promise,
    PromisePrototype: Promise.prototype,
    PromisePrototypeThen,
    PromiseResolve: apply(bind, Promise.resolve, [Promise]) as { (): Promise<void>; <T>(value: T): Promise<Awaited<T>> },
    PromiseReject: apply(bind, Promise.reject, [Promise]) as <T = never>(reason?: unknown) => Promise<T>,
    PromiseAll: apply(bind, Promise.all, [Promise]) as <T>(values: Iterable<T | PromiseLike<T>>) => Promise<Awaited<T>[]>,
    /**
     * Promise.all for an array, resolved with undefined: Promise.all itself runs the array's
     * iterator, Promise.resolve and each promise's then, all of which user code can replace. A
     * value that is not a promise of this realm counts as settled.
     */
    SafePromiseAllReturnVoid: (values: readonly unknown[]): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        let remaining = values.length;
        if (remaining === 0) return resolve();
        const settled = () => {
          if (--remaining === 0) resolve();
        };
        for (let i = 0; i < values.length; i++) {
          const value = values[i];
          if (value instanceof Promise) PromisePrototypeThen(value, settled, reject);
          else settled();
        }
      }),

    MapPrototypeHas: uncurryThis(Map.prototype.has),
    MapPrototypeDelete: uncurryThis(Map.prototype.delete),
    MapPrototypeClear: uncurryThis(Map.prototype.clear),
    MapPrototypeGetSize: getter(Map.prototype, "size") as (map: unknown) => number,
    SetPrototypeDelete: uncurryThis(Set.prototype.delete),
    SetPrototypeGetSize: getter(Set.prototype, "size") as (set: unknown) => number,
    WeakMap,
    WeakMapPrototypeGet: uncurryThis(WeakMap.prototype.get),
    WeakMapPrototypeSet: uncurryThis(WeakMap.prototype.set),
    WeakMapPrototypeHas: uncurryThis(WeakMap.prototype.has),
    WeakMapPrototypeDelete: uncurryThis(WeakMap.prototype.delete),
    WeakSet,
    WeakRef,
    FinalizationRegistry,

    StringFromCharCode: String.fromCharCode,
    StringFromCodePoint: String.fromCodePoint,
    StringPrototypeCharCodeAt: deferUncurry(String.prototype.charCodeAt),
    StringPrototypeCodePointAt: deferUncurry(String.prototype.codePointAt),
    StringPrototypeEndsWith: deferUncurry(String.prototype.endsWith),
    StringPrototypeIncludes: uncurryThis(String.prototype.includes),
    StringPrototypeIndexOf: deferUncurry(String.prototype.indexOf),
    StringPrototypeLastIndexOf: deferUncurry(String.prototype.lastIndexOf),
    StringPrototypeNormalize: deferUncurry(String.prototype.normalize),
    StringPrototypePadEnd: deferUncurry(String.prototype.padEnd),
    StringPrototypePadStart: deferUncurry(String.prototype.padStart),
    StringPrototypeRepeat: deferUncurry(String.prototype.repeat),
    // Only with a string pattern: with a RegExp, String.prototype.replace/split call the
    // RegExp's own (replaceable) Symbol.replace/Symbol.split; see RegExpPrototypeSymbolReplace.
    StringPrototypeReplace: stringReplace,
    StringPrototypeReplaceAll: stringReplaceAll,
    StringPrototypeSplit: stringSplit,
    StringPrototypeStartsWith: deferUncurry(String.prototype.startsWith),
    StringPrototypeToLowerCase: deferUncurry(String.prototype.toLowerCase),
    StringPrototypeToUpperCase: deferUncurry(String.prototype.toUpperCase),
    StringPrototypeToWellFormed: deferUncurry(String.prototype.toWellFormed),
    StringPrototypeTrim: deferUncurry(String.prototype.trim),
    StringPrototypeTrimEnd: deferUncurry(String.prototype.trimEnd),
    StringPrototypeValueOf: deferUncurry(String.prototype.valueOf),
    // exec reads only the RegExp's internal slots and its own lastIndex: no replaceable lookup.
    RegExpPrototypeExec: regExpExec,
    RegExpPrototypeGetFlags: deferGetter(RegExp.prototype, "flags") as (re: RegExp) => string,
    RegExpPrototypeGetSource: deferGetter(RegExp.prototype, "source") as (re: RegExp) => string,
    RegExpPrototypeSymbolReplace: (re: RegExp, string: string, replacement: string | ((match: string, ...rest: any[]) => string)): string =>
      regExpReplace(re, string, replacement),

    NumberIsFinite: Number.isFinite,
    NumberIsInteger: Number.isInteger,
    NumberIsNaN: Number.isNaN,
    NumberIsSafeInteger: Number.isSafeInteger,
    NumberParseInt: Number.parseInt,
    NumberParseFloat: Number.parseFloat,
    NumberPrototypeToString: deferUncurry(Number.prototype.toString),
    NumberPrototypeValueOf: deferUncurry(Number.prototype.valueOf),
    BooleanPrototypeValueOf: deferUncurry(Boolean.prototype.valueOf),
    BigIntPrototypeValueOf: deferUncurry(BigInt.prototype.valueOf),
    SymbolFor: Symbol.for,
    SymbolPrototypeToString: uncurryThis(Symbol.prototype.toString),
    SymbolIterator: Symbol.iterator,
    SymbolAsyncIterator: Symbol.asyncIterator,
    SymbolToStringTag: Symbol.toStringTag,
    SymbolToPrimitive: Symbol.toPrimitive,
    SymbolSpecies: Symbol.species,
    AsyncIteratorPrototype,
    Math,
    MathMin: Math.min,
    MathSqrt: Math.sqrt,
    MathMax: Math.max,
    MathFloor: Math.floor,
    MathCeil: Math.ceil,
    MathTrunc: Math.trunc,
    MathAbs: Math.abs,
    MathRound: Math.round,
    MathLog: Math.log,

    // Not Date itself nor Date.now: the real clock must never be reachable from the runtime.
    DatePrototype: Date.prototype,
    DatePrototypeGetTime: uncurryThis(Date.prototype.getTime),
    DatePrototypeToString: uncurryThis(Date.prototype.toString),
    DatePrototypeToISOString: uncurryThis(Date.prototype.toISOString),

    SafeIterator: (iterator: Iterator<unknown>, next: (iterator: unknown) => IteratorResult<unknown>) => new SafeIterator(iterator, next),
    SafeMapIterator: <K, V>(map: ReadonlyMap<K, V>) => new SafeIterator(mapEntries(map), mapIteratorNext) as SafeIterator<[K, V]>,
    SafeSetIterator: <T>(set: ReadonlySet<T>) => new SafeIterator(setValues(set), setIteratorNext) as SafeIterator<T>,
    SafeStringIterator: (string: string) => new SafeIterator(stringIterator(string), stringIteratorNext) as SafeIterator<string>,

    /** Raw captured methods and accessors by name ("Map.prototype.set", "get Map.prototype.size"); undefined where V8 lacks one. */
    Originals: originals,

    JSONParse: JSON.parse,
    JSONStringify: JSON.stringify,

    ErrorPrototypeToString: deferUncurry(Error.prototype.toString),
    Proxy,
    decodeURIComponent,
  } as const;
  return P as Omit<typeof P, "__proto__">;
}

/** Well-known symbols keep their unique types (an object literal widens them to `symbol`). */
interface WellKnownSymbols {
  readonly SymbolIterator: typeof Symbol.iterator;
  readonly SymbolAsyncIterator: typeof Symbol.asyncIterator;
  readonly SymbolToStringTag: typeof Symbol.toStringTag;
  readonly SymbolToPrimitive: typeof Symbol.toPrimitive;
  readonly SymbolSpecies: typeof Symbol.species;
}

export type Primordials = Omit<ReturnType<typeof capture>, keyof WellKnownSymbols> & WellKnownSymbols;

/** Hands the runtime (core and chunks) the sandbox's charged ArrayBuffer constructor and transfer. */
export function setConfinedArrayBuffer(ctor: ArrayBufferConstructor, transfer: ((this: ArrayBuffer, newLength?: number) => ArrayBuffer) | undefined): void {
  const slots = primordials as { ArrayBufferConfined: ArrayBufferConstructor; ArrayBufferPrototypeTransferConfined: typeof transfer };
  slots.ArrayBufferConfined = ctor;
  slots.ArrayBufferPrototypeTransferConfined = transfer;
}

/**
 * Captures the originals of what V8 adds to a context only when it is made, not when a startup
 * snapshot's script runs (SharedArrayBuffer; see src/protocol/clonable.ts captureLateIntrinsics):
 * the core's boot calls it, before any user code, for a core evaluated into the snapshot.
 */
export function captureLatePrimordials(): void {
  const shared = (globalThis as { SharedArrayBuffer?: { prototype: object } }).SharedArrayBuffer?.prototype;
  primordials.Originals["get SharedArrayBuffer.prototype.byteLength"] = shared === undefined ? undefined : primordials.ReflectGetOwnPropertyDescriptor(shared, "byteLength")?.get;
}

/** The one set of captured intrinsics: the core's, in every bundle of the runtime. */
export const primordials: Primordials = typeof ISLET_CHUNK === "boolean" && ISLET_CHUNK ? __isletPrimordials : (capture() as Primordials);

/**
 * Uncurries the chunk-only primordials (captured at boot as Deferred). The core calls this before
 * it runs the first chunk (chunks.ts); in Node (the runtime's tests) it runs at once.
 */
export function finishPrimordials(): void {
  primordials.FinishDeferred(primordials);
}
if (typeof ISLET_CHUNK !== "boolean") finishPrimordials();

// Destructuring would widen these to `symbol`; as named constants they stay usable as computed keys.
export const SymbolIterator: typeof Symbol.iterator = primordials.SymbolIterator;
export const SymbolAsyncIterator: typeof Symbol.asyncIterator = primordials.SymbolAsyncIterator;
export const SymbolToStringTag: typeof Symbol.toStringTag = primordials.SymbolToStringTag;
export const SymbolToPrimitive: typeof Symbol.toPrimitive = primordials.SymbolToPrimitive;
