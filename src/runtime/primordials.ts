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

/** Set by the build: true in a chunk's bundle, false in the core's; not set in Node. */
declare const ISLET_CHUNK: boolean | undefined;
/** Inside a chunk's bundle only: the parameter of the chunk's wrapper, the core's primordials. */
declare const __isletPrimordials: Primordials;

type Uncurried<F> = F extends (...args: infer A) => infer R ? (self: unknown, ...args: A) => R : never;

function capture() {
  const { apply, construct, defineProperty, getOwnPropertyDescriptor, getPrototypeOf, ownKeys } = Reflect;
  const { bind, call } = Function.prototype;
  // uncurryThis(f)(self, ...args) is f.call(self, ...args), with no lookup on f or Function.prototype.
  const uncurryThis = <F extends (...args: never[]) => unknown>(fn: F): Uncurried<F> => apply(bind, call, [fn]) as Uncurried<F>;
  const getter = (object: object, key: PropertyKey) => uncurryThis(getOwnPropertyDescriptor(object, key)!.get! as () => unknown);
  const TypedArray = getPrototypeOf(Uint8Array) as unknown as { prototype: Uint8Array };
  const TypedArrayPrototype = TypedArray.prototype;
  const AsyncIteratorPrototype = getPrototypeOf((getPrototypeOf(async function* () {}) as { prototype: object }).prototype) as object;
  const PromisePrototypeThen = uncurryThis(Promise.prototype.then) as <T, R1 = T, R2 = never>(
    promise: Promise<T>,
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ) => Promise<R1 | R2>;
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
  // One literal without a prototype: a name missing here reads undefined, never something user
  // code put on Object.prototype. Not frozen: it never reaches user code, and freezing an object
  // this size costs every new isolate time.
  const P = {
    __proto__: null,
    globalThis,

    ReflectApply: apply,
    ReflectConstruct: construct,
    ReflectDefineProperty: (target: object, key: PropertyKey, descriptor: PropertyDescriptor): boolean => defineProperty(target, key, ownDescriptor(descriptor)),
    ReflectGetOwnPropertyDescriptor: getOwnPropertyDescriptor,
    ReflectGetPrototypeOf: getPrototypeOf,
    ReflectSetPrototypeOf: Reflect.setPrototypeOf,
    ReflectOwnKeys: ownKeys,
    ReflectDeleteProperty: Reflect.deleteProperty,

    FunctionPrototypeToString: uncurryThis(Function.prototype.toString),

    Object,
    ObjectPrototype: Object.prototype,
    ObjectAssign: Object.assign,
    ObjectCreate: ((proto: object | null, descriptors?: PropertyDescriptorMap) =>
      descriptors === undefined ? objectCreate(proto) : objectCreate(proto, ownDescriptors(descriptors))) as typeof Object.create,
    ObjectDefineProperty: (<T>(target: T, key: PropertyKey, descriptor: PropertyDescriptor & ThisType<unknown>): T =>
      objectDefineProperty(target, key, ownDescriptor(descriptor))) as typeof Object.defineProperty,
    ObjectDefineProperties: (<T>(target: T, descriptors: PropertyDescriptorMap & ThisType<unknown>): T =>
      objectDefineProperties(target, ownDescriptors(descriptors))) as typeof Object.defineProperties,
    ObjectEntries: Object.entries,
    ObjectFreeze: Object.freeze,
    ObjectGetOwnPropertyDescriptor: Object.getOwnPropertyDescriptor,
    ObjectGetOwnPropertyDescriptors: Object.getOwnPropertyDescriptors,
    ObjectGetOwnPropertyNames: Object.getOwnPropertyNames,
    ObjectGetOwnPropertySymbols: Object.getOwnPropertySymbols,
    ObjectGetPrototypeOf: Object.getPrototypeOf,
    ObjectSetPrototypeOf: Object.setPrototypeOf,
    ObjectIs: Object.is,
    ObjectKeys: Object.keys,
    ObjectSeal: Object.seal,
    ObjectPrototypeHasOwnProperty: uncurryThis(Object.prototype.hasOwnProperty),
    ObjectPrototypeToString: uncurryThis(Object.prototype.toString),
    ObjectPrototypeIsPrototypeOf: uncurryThis(Object.prototype.isPrototypeOf),
    ObjectPrototypePropertyIsEnumerable: uncurryThis(Object.prototype.propertyIsEnumerable),

    Array,
    ArrayPrototype: Array.prototype,
    ArrayIsArray: Array.isArray,
    ArrayFrom: Array.from,
    ArrayPrototypeMap: uncurryThis(Array.prototype.map),
    ArrayPrototypePush: uncurryThis(Array.prototype.push),
    ArrayPrototypeSlice: uncurryThis(Array.prototype.slice),
    ArrayPrototypeUnshift: uncurryThis(Array.prototype.unshift),

    ArrayBuffer,
    ArrayBufferIsView: ArrayBuffer.isView,
    // The sandbox's charged ArrayBuffer constructor and transfer (globals/buffers.ts), for the
    // runtime's own resizable buffers (structuredClone); set when the globals are installed, the
    // originals until then (and in Node).
    ArrayBufferConfined: ArrayBuffer as ArrayBufferConstructor,
    ArrayBufferPrototypeTransferConfined: (ArrayBuffer.prototype as { transfer?: (this: ArrayBuffer, newLength?: number) => ArrayBuffer }).transfer,
    DataView,
    TypedArray,
    TypedArrayPrototype,
    Uint8Array,
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

    Map,
    MapPrototypeGet: uncurryThis(Map.prototype.get),
    MapPrototypeSet: uncurryThis(Map.prototype.set),
    MapPrototypeHas: uncurryThis(Map.prototype.has),
    MapPrototypeDelete: uncurryThis(Map.prototype.delete),
    MapPrototypeClear: uncurryThis(Map.prototype.clear),
    MapPrototypeForEach: uncurryThis(Map.prototype.forEach),
    MapPrototypeGetSize: getter(Map.prototype, "size") as (map: unknown) => number,
    Set,
    SetPrototypeAdd: uncurryThis(Set.prototype.add),
    SetPrototypeHas: uncurryThis(Set.prototype.has),
    SetPrototypeForEach: uncurryThis(Set.prototype.forEach),
    SetPrototypeGetSize: getter(Set.prototype, "size") as (set: unknown) => number,
    WeakMap,
    WeakMapPrototypeGet: uncurryThis(WeakMap.prototype.get),
    WeakMapPrototypeSet: uncurryThis(WeakMap.prototype.set),
    WeakMapPrototypeHas: uncurryThis(WeakMap.prototype.has),
    WeakMapPrototypeDelete: uncurryThis(WeakMap.prototype.delete),
    WeakSet,
    WeakRef,
    FinalizationRegistry,

    String,
    StringFromCharCode: String.fromCharCode,
    StringFromCodePoint: String.fromCodePoint,
    StringPrototypeSlice: uncurryThis(String.prototype.slice),
    StringPrototypeValueOf: uncurryThis(String.prototype.valueOf),
    RegExp,
    RegExpPrototypeTest: uncurryThis(RegExp.prototype.test),

    Number,
    NumberIsFinite: Number.isFinite,
    NumberIsInteger: Number.isInteger,
    NumberIsNaN: Number.isNaN,
    NumberIsSafeInteger: Number.isSafeInteger,
    NumberParseInt: Number.parseInt,
    NumberParseFloat: Number.parseFloat,
    NumberPrototypeValueOf: uncurryThis(Number.prototype.valueOf),
    BooleanPrototypeValueOf: uncurryThis(Boolean.prototype.valueOf),
    BigInt,
    BigIntPrototypeValueOf: uncurryThis(BigInt.prototype.valueOf),
    Symbol,
    SymbolFor: Symbol.for,
    SymbolPrototypeToString: uncurryThis(Symbol.prototype.toString),
    SymbolIterator: Symbol.iterator,
    SymbolAsyncIterator: Symbol.asyncIterator,
    SymbolToStringTag: Symbol.toStringTag,
    SymbolToPrimitive: Symbol.toPrimitive,
    SymbolSpecies: Symbol.species,
    AsyncIteratorPrototype,
    MathMin: Math.min,
    MathMax: Math.max,
    MathFloor: Math.floor,
    MathCeil: Math.ceil,
    MathTrunc: Math.trunc,
    MathAbs: Math.abs,
    MathRound: Math.round,

    // Not Date itself nor Date.now: the real clock must never be reachable from the runtime.
    DatePrototype: Date.prototype,
    DatePrototypeGetTime: uncurryThis(Date.prototype.getTime),
    DatePrototypeToString: uncurryThis(Date.prototype.toString),
    DatePrototypeToISOString: uncurryThis(Date.prototype.toISOString),

    JSONParse: JSON.parse,
    JSONStringify: JSON.stringify,

    Error,
    ErrorPrototype: Error.prototype,
    ErrorPrototypeToString: uncurryThis(Error.prototype.toString),
    TypeError,
    RangeError,
    SyntaxError,
    ReferenceError,
    EvalError,
    URIError,
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

/** The one set of captured intrinsics: the core's, in every bundle of the runtime. */
export const primordials: Primordials = typeof ISLET_CHUNK === "boolean" && ISLET_CHUNK ? __isletPrimordials : (capture() as Primordials);

// Destructuring would widen these to `symbol`; as named constants they stay usable as computed keys.
export const SymbolIterator: typeof Symbol.iterator = primordials.SymbolIterator;
export const SymbolAsyncIterator: typeof Symbol.asyncIterator = primordials.SymbolAsyncIterator;
export const SymbolToStringTag: typeof Symbol.toStringTag = primordials.SymbolToStringTag;
export const SymbolToPrimitive: typeof Symbol.toPrimitive = primordials.SymbolToPrimitive;
