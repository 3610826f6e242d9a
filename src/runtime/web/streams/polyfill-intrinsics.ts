// What web-streams-polyfill gets for the globals it names. The build (scripts/build.mjs) imports
// these into the polyfill's module, where they shadow the globals, and rewrites the polyfill's
// own uses of built-in methods (Object.prototype.hasOwnProperty.call, Promise.prototype.then,
// Promise.all, ArrayBuffer.isView, array push/map, ...) into the primordials below. The polyfill
// is evaluated when a sandbox first touches a stream, after user code may have replaced any
// global or prototype method: with these it calls only what the runtime captured at boot.

import { events } from "../../platform.ts";
import { primordials } from "../../primordials.ts";

const p = primordials;

/** The namespace methods the polyfill calls (descriptors are read through own properties only). */
export const Object = { __proto__: null, defineProperty: p.ObjectDefineProperty, defineProperties: p.ObjectDefineProperties, create: p.ObjectCreate } as unknown as ObjectConstructor;

export const Promise = p.Promise;
export const TypeError = p.TypeError;
export const RangeError = p.RangeError;
export const Error = p.Error;
export const Uint8Array = p.Uint8Array;
export const ArrayBuffer = p.ArrayBuffer;
export const DataView = p.DataView;
export const Boolean = p.Boolean;
export const String = p.String;
export const isFinite = p.NumberIsFinite;

const NumberConversion = (value: unknown): number => p.Number(value);
p.ObjectDefineProperties(NumberConversion, {
  MAX_SAFE_INTEGER: { value: 9007199254740991 },
  isFinite: { value: p.NumberIsFinite },
  isNaN: { value: p.NumberIsNaN },
});
export const Number = NumberConversion as unknown as NumberConstructor;

const SymbolMaker = (description?: string): symbol => p.Symbol(description);
p.ObjectDefineProperties(SymbolMaker, {
  iterator: { value: p.SymbolIterator },
  asyncIterator: { value: p.SymbolAsyncIterator },
  toStringTag: { value: p.SymbolToStringTag },
  for: { value: p.SymbolFor },
});
export const Symbol = SymbolMaker as unknown as SymbolConstructor;

export const Math = { __proto__: null, min: p.MathMin, floor: p.MathFloor, ceil: p.MathCeil, trunc: p.MathTrunc } as unknown as globalThis.Math;

// The rewritten calls.
export const ObjectPrototypeHasOwnProperty = p.ObjectPrototypeHasOwnProperty;
export const ReflectApply = p.ReflectApply;
export const PromiseResolve = p.PromiseResolve;
export const PromiseReject = p.PromiseReject;
export const PromisePrototypeThen = p.PromisePrototypeThen;
export const SafePromiseAllReturnVoid = p.SafePromiseAllReturnVoid;
export const ArrayBufferIsView = p.ArrayBufferIsView;
export const ArrayPrototypePush = p.ArrayPrototypePush;
export const ArrayPrototypeMap = p.ArrayPrototypeMap;
export const ArrayPrototypeSlice = p.ArrayPrototypeSlice;
export const ArrayBufferPrototypeSlice = p.ArrayBufferPrototypeSlice;
export const TypedArrayPrototypeSet = p.TypedArrayPrototypeSet;
export const ViewBuffer = p.ArrayBufferViewGetBuffer;
export const ViewByteOffset = p.ArrayBufferViewGetByteOffset;
export const ViewByteLength = p.ArrayBufferViewGetByteLength;
/** A typed array's length (the polyfill asks only of typed arrays, not DataViews). */
export const ViewLength = p.TypedArrayPrototypeGetLength;
export const BufferByteLength = p.ArrayBufferPrototypeGetByteLength;
export const ArrayBufferPrototypeTransfer = p.Originals["ArrayBuffer.prototype.transfer"]
  ? (buffer: ArrayBuffer): ArrayBuffer => p.ReflectApply(p.Originals["ArrayBuffer.prototype.transfer"]!, buffer, [])
  : undefined;
export const ArrayBufferPrototypeGetDetached = p.Originals["get ArrayBuffer.prototype.detached"]
  ? (buffer: ArrayBuffer): boolean => p.ReflectApply(p.Originals["get ArrayBuffer.prototype.detached"]!, buffer, [])
  : undefined;

// Globals the polyfill consults, which are the sandbox's (or islet's lazy ones, whose first touch
// would load another chunk while this one loads).

/**
 * queueMicrotask: a queue on the captured then. (The global may be user code's, and islet's own
 * would be reached through the global object.)
 */
const resolved = p.PromiseResolve();
export function queueMicrotask(callback: () => void): void {
  p.PromisePrototypeThen(resolved, () => callback());
}

/**
 * structuredClone: absent, so the polyfill transfers buffers with ArrayBuffer.prototype.transfer
 * (see the rewrite of its transfer helper in scripts/build.mjs), as the spec says.
 */
export const structuredClone = undefined;

/**
 * AbortController: absent, so a WritableStreamDefaultController makes none; ponyfill.ts answers
 * its signal with an AbortController of the events chunk instead.
 */
export const AbortController = undefined;

/** Constructs the events chunk's DOMException (the AbortError of a pipe aborted without a reason). */
function DOMException(this: object, message?: string, name?: string): object {
  let Real: new (message?: string, name?: string) => object;
  try {
    Real = (events() as unknown as { DOMException: typeof Real }).DOMException;
  } catch {
    return this; // the polyfill's load-time probe `new DOMException()`, while this chunk loads
  }
  return new Real(message, name);
}
// The polyfill checks the name; the minifier would rename the function.
p.ReflectDefineProperty(DOMException, "name", { value: "DOMException" });

/** The global object as the polyfill sees it: only its DOMException. */
export const globalThis = { __proto__: null, DOMException } as unknown as object;
