// What fflate (the DEFLATE codec of the compression chunk) gets for the globals it names. The
// build (scripts/build.mjs) imports these into fflate's module, where they shadow the globals,
// and rewrites fflate's calls of built-in methods and its `.length` reads into the functions
// below. The chunk is evaluated when a sandbox first touches CompressionStream or
// DecompressionStream, after user code may have replaced any global or prototype method: with
// these fflate calls only what the runtime captured at boot.
//
// (Subclasses of the typed arrays whose prototypes hold the captured methods would need fewer
// rewrites, but V8 runs fflate three to four times slower on them.)

import { primordials } from "../../../primordials.ts";

const p = primordials;
const {
  ArrayIsArray,
  MathMax,
  MathMin,
  ReflectApply,
  TypedArrayPrototypeGetBuffer,
  TypedArrayPrototypeGetByteOffset,
  TypedArrayPrototypeGetLength,
  TypedArrayPrototypeGetSymbolToStringTag,
} = p;

export const Uint8Array = p.Uint8Array;
export const Uint16Array = p.Uint16Array;
export const Int32Array = p.Int32Array;
export const Uint32Array = p.Uint32Array;
export const Error = p.Error;
export const Math = p.ObjectFreeze({ __proto__: null, max: MathMax, min: MathMin, ceil: p.MathCeil, floor: p.MathFloor, log: p.MathLog }) as unknown as globalThis.Math;

// The rewritten calls.
export const FunctionPrototypeCall = (fn: (...args: unknown[]) => unknown, self: unknown, ...args: unknown[]): unknown => ReflectApply(fn, self, args);
export const ArrayPrototypePush = p.ArrayPrototypePush;
export const ArrayPrototypeSlice = p.ArrayPrototypeSlice;
export const ArrayPrototypeSort = p.ArrayPrototypeSort;
export const TypedArrayPrototypeSet = p.TypedArrayPrototypeSet;
/** `new u8([1, 2, ...])` reads the array by index, not through its (replaceable) iterator. */
export const TypedArrayOf = p.TypedArrayOf;

/** `value.length` of a string, an Array or a typed array (the getter captured for the last). */
export const LengthOf = (value: string | ArrayLike<unknown>): number =>
  typeof value === "string" || ArrayIsArray(value) ? value.length : TypedArrayPrototypeGetLength(value as Uint8Array);

const constructors = { __proto__: null, Uint8Array: p.Uint8Array, Uint16Array: p.Uint16Array, Int32Array: p.Int32Array, Uint32Array: p.Uint32Array } as unknown as Record<string, Uint8ArrayConstructor>;

/**
 * %TypedArray%.prototype.subarray for fflate's (integer) arguments. The built-in constructs its
 * result through the species constructor, which it looks up through properties user code can
 * replace (`constructor`, `Symbol.species`); this constructs the view's own kind directly.
 */
export const TypedArrayPrototypeSubarray = <T extends Uint8Array | Uint16Array | Int32Array | Uint32Array>(view: T, start?: number, end?: number): T => {
  const length = TypedArrayPrototypeGetLength(view);
  const from = start === undefined ? 0 : start < 0 ? MathMax(length + start, 0) : MathMin(start, length);
  const to = end === undefined ? length : end < 0 ? MathMax(length + end, 0) : MathMin(end, length);
  const Ctor = constructors[TypedArrayPrototypeGetSymbolToStringTag(view)!];
  return new Ctor(TypedArrayPrototypeGetBuffer(view), TypedArrayPrototypeGetByteOffset(view) + from * Ctor.BYTES_PER_ELEMENT, to > from ? to - from : 0) as unknown as T;
};
