// The intrinsics the boundary's codec calls (wire.ts, clonable.ts, log-size.ts, errors.ts),
// captured once when this module is evaluated. Part of src/protocol: it imports nothing.
//
// - In the runtime's core bundle (dist/runtime.js) this module is evaluated at boot, before any user
//   code runs, and src/runtime/primordials.ts spreads this object into its own: the core captures
//   each of these once, and the runtime and the codec call the same functions.
// - In a lazily loaded chunk (which runs after user code may have replaced globals) nothing is
//   captured: the chunk's wrapper parameter `__isletPrimordials` (the core's primordials, a superset
//   of these) is used instead, as in src/runtime/primordials.ts.
// - On the host (and in Node tests) it captures the host's own intrinsics when first imported.
//
// Names follow src/runtime/primordials.ts: `MapPrototypeGet(map, key)` is Map.prototype.get uncurried.

/** Set by the build: true in a chunk's bundle, false in the core's; not set on the host. */
declare const ISLET_CHUNK: boolean | undefined;
/** Inside a chunk's bundle only: the core's primordials. */
declare const __isletPrimordials: ProtocolPrimordials;

type Uncurried<F> = F extends (...args: infer A) => infer R ? (self: unknown, ...args: A) => R : never;

function captureProtocol() {
  const apply = Reflect.apply;
  const { bind, call } = Function.prototype;
  const uncurryThis = <F extends (...args: never[]) => unknown>(fn: F): Uncurried<F> => apply(bind, call, [fn]) as Uncurried<F>;
  const P = {
    __proto__: null,
    ReflectApply: apply,
    Object,
    ObjectPrototype: Object.prototype,
    /** Object.defineProperty itself: only for descriptors made without a prototype (`__proto__: null`). */
    ObjectDefineOwnProperty: Object.defineProperty,
    ObjectGetOwnPropertyDescriptor: Object.getOwnPropertyDescriptor,
    ObjectGetPrototypeOf: Object.getPrototypeOf,
    ObjectKeys: Object.keys,
    ObjectPrototypeHasOwnProperty: uncurryThis(Object.prototype.hasOwnProperty),
    /** Object.create itself: only with a prototype, never with descriptors. */
    ObjectCreate: Object.create,
    ObjectSetPrototypeOf: Object.setPrototypeOf,
    Array,
    ArrayPrototype: Array.prototype,
    ArrayIsArray: Array.isArray,
    ArrayPrototypePush: uncurryThis(Array.prototype.push) as <T>(array: T[], ...items: T[]) => number,
    ArrayBuffer,
    DataView,
    Uint8Array,
    Map,
    MapPrototypeGet: uncurryThis(Map.prototype.get),
    MapPrototypeSet: uncurryThis(Map.prototype.set),
    MapPrototypeForEach: uncurryThis(Map.prototype.forEach),
    MapPrototypeEntries: uncurryThis(Map.prototype.entries),
    Set,
    SetPrototypeAdd: uncurryThis(Set.prototype.add),
    SetPrototypeHas: uncurryThis(Set.prototype.has),
    SetPrototypeValues: uncurryThis(Set.prototype.values),
    SetPrototypeForEach: uncurryThis(Set.prototype.forEach),
    String,
    StringPrototypeSlice: uncurryThis(String.prototype.slice),
    RegExp,
    RegExpPrototypeTest: uncurryThis(RegExp.prototype.test),
    Number,
    Boolean,
    BigInt,
    Symbol,
    Error,
    ErrorPrototype: Error.prototype,
    TypeError,
    RangeError,
    SyntaxError,
    ReferenceError,
    EvalError,
    URIError,
  } as const;
  return P as Omit<typeof P, "__proto__">;
}

export type ProtocolPrimordials = ReturnType<typeof captureProtocol>;

/** The codec's captured intrinsics: the core's in every runtime bundle, the host's on the host. */
export const protocolPrimordials: ProtocolPrimordials =
  typeof ISLET_CHUNK === "boolean" && ISLET_CHUNK ? __isletPrimordials : captureProtocol();
