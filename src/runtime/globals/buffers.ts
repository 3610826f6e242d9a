// Resizable ArrayBuffers within the sandbox's limits. Two holes are closed here:
//
// - Address space: V8 reserves the whole maxByteLength of a resizable buffer when it is made, even
//   for a length of 0 (`new ArrayBuffer(0, { maxByteLength: 2 ** 40 })` reserves 1 TiB), and
//   nothing charged it: one sandbox could reserve the process's 128 TiB, after which no isolate
//   (the host's included) could be made. Every resizable buffer is now charged its maxByteLength
//   (rounded up to 64 KiB) in the host's address-space budget, shared with WebAssembly memories, and
//   counted; a maxByteLength above the sandbox's memoryMb is refused outright.
// - Memory outside the heap limit: V8 commits a resizable buffer's pages itself, outside
//   isolated-vm's ArrayBuffer allocator, so resize() growth was not counted against memoryMb.
//   The bytes a resizable buffer has ever held (its high-water mark) are charged to the sandbox's
//   off-heap budget (memoryMb, shared with WebAssembly memories) until it is collected.
//
// The global ArrayBuffer, ArrayBuffer.prototype.constructor, resize, transfer and
// transferToFixedLength are replaced by wrappers; the originals are never reachable from user code,
// and every argument is converted here, so no user code runs while an original is on the stack.
// Every intrinsic used after user code starts is captured first, when the core boots.

import { primordials } from "../primordials.ts";

/** Bytes of memory outside the V8 heap a sandbox holds: WebAssembly memories' maxima, resizable buffers' high-water marks. */
export interface OffHeapBudget {
  used: number;
  readonly limit: number;
}

/** Asks the host for (n = 1) or gives back (n = -1) one resizable buffer of `bytes` of address space; false when the host refuses. */
export type ReserveResizable = (n: 1 | -1, bytes: number) => boolean;

interface Charge {
  /** Address space reserved with the host. */
  readonly reserved: number;
  /** Bytes charged to the off-heap budget: the most the buffer has held. */
  committed: number;
  live: boolean;
}

const {
  ReflectApply: apply,
  ReflectConstruct: construct,
  ReflectGetOwnPropertyDescriptor: getOwnDescriptor,
  ReflectDefineProperty: defineProperty,
  ObjectSetPrototypeOf: setPrototypeOf,
  ArrayBuffer: RealArrayBuffer,
  WeakMap: WeakMapCtor,
  WeakMapPrototypeGet: weakGet,
  WeakMapPrototypeSet: weakSet,
  WeakMapPrototypeDelete: weakDelete,
  FinalizationRegistry: Registry,
  MathTrunc: trunc,
  MathCeil: ceil,
  MathMax: max,
  TypeError: TypeErrorCtor,
  RangeError: RangeErrorCtor,
} = primordials;
const register = Registry.prototype.register;
const unregister = Registry.prototype.unregister;
const proto = RealArrayBuffer.prototype as unknown as Record<string, unknown>;
const getResizable = getOwnDescriptor(proto, "resizable")?.get;
const getByteLength = getOwnDescriptor(proto, "byteLength")!.get!;
const realResize = proto.resize as ((newLength: number) => void) | undefined;
const realTransfer = proto.transfer as ((newLength?: number) => ArrayBuffer) | undefined;
const realTransferToFixedLength = proto.transferToFixedLength as ((newLength?: number) => ArrayBuffer) | undefined;
const speciesDescriptor = getOwnDescriptor(RealArrayBuffer, primordials.SymbolSpecies);
const isView = RealArrayBuffer.isView;

/** Address space is reserved in units of this many bytes (at least one per buffer). */
export const RESERVATION_UNIT = 65_536;
const MAX_SAFE_INTEGER = 9_007_199_254_740_991;

/** ECMAScript ToIndex, run here (a valueOf is user code, and must not run inside an original). */
function toIndex(value: unknown, what: string): number {
  if (value === undefined) return 0;
  const number = +(value as number);
  const integer = number !== number ? 0 : trunc(number);
  if (integer < 0 || integer > MAX_SAFE_INTEGER) throw new RangeErrorCtor(`Invalid array buffer ${what}`);
  return integer === 0 ? 0 : integer;
}

function bare<T extends object>(fields: T): T {
  return setPrototypeOf(fields, null) as T;
}

const overAddressSpace = () =>
  new RangeErrorCtor(
    "Resizable ArrayBuffers over the host's limit: each reserves its maxByteLength of address space; a sandbox may hold at most 1,000 live (512 GiB reserved, with WebAssembly memories), all sandboxes of a process 8,192 (32 TiB).",
  );

/**
 * Replaces `global.ArrayBuffer` and the prototype methods that make or grow resizable buffers.
 * Returns the charged constructor and transfer, for the runtime's own structuredClone.
 */
export function confineArrayBuffers(
  global: Record<string, unknown>,
  budget: OffHeapBudget,
  reserve: ReserveResizable,
): { ArrayBuffer: ArrayBufferConstructor; transfer: ((this: ArrayBuffer, newLength?: number) => ArrayBuffer) | undefined } {
  if (getResizable === undefined || realResize === undefined) return { ArrayBuffer: RealArrayBuffer, transfer: realTransfer };
  const charges = new WeakMapCtor<object, Charge>();
  const release = (charge: Charge) => {
    if (!charge.live) return;
    charge.live = false;
    budget.used -= charge.committed;
    try {
      reserve(-1, charge.reserved);
    } catch {
      // The host is gone; it takes the sandbox's reservations back when the sandbox dies.
    }
  };
  const refunds = new Registry<Charge>(release);
  const track = (buffer: object, charge: Charge) => {
    weakSet(charges, buffer, charge);
    apply(register, refunds, [buffer, charge, buffer]);
  };
  const untrack = (buffer: object) => {
    weakDelete(charges, buffer);
    apply(unregister, refunds, [buffer]);
  };
  const chargeOf = (value: unknown): Charge | undefined =>
    value !== null && typeof value === "object" ? (weakGet(charges, value) as Charge | undefined) : undefined;
  /** Takes `bytes` more of the off-heap budget, or throws naming what was asked for. */
  const grow = (bytes: number, what: string) => {
    if (budget.used + bytes > budget.limit) {
      throw new RangeErrorCtor(
        `${what}: resizable ArrayBuffer memory over the sandbox's limit (${budget.used + bytes} bytes of ${budget.limit}, memoryMb, shared with WebAssembly memories).`,
      );
    }
    budget.used += bytes;
  };

  const makeResizable = (byteLength: number, maxByteLength: number, newTarget: unknown): ArrayBuffer => {
    if (byteLength > maxByteLength) throw new RangeErrorCtor("Invalid array buffer length: over its maxByteLength");
    if (maxByteLength > budget.limit) {
      throw new RangeErrorCtor(`ArrayBuffer maxByteLength of ${maxByteLength} bytes is over the sandbox's memory limit of ${budget.limit} bytes (memoryMb).`);
    }
    const reserved = max(1, ceil(maxByteLength / RESERVATION_UNIT)) * RESERVATION_UNIT;
    grow(byteLength, "new ArrayBuffer");
    let made: ArrayBuffer;
    try {
      if (!reserve(1, reserved)) throw overAddressSpace();
      try {
        made = construct(RealArrayBuffer, [byteLength, bare({ maxByteLength })], newTarget as ArrayBufferConstructor) as ArrayBuffer;
      } catch (error) {
        reserve(-1, reserved);
        throw error;
      }
    } catch (error) {
      budget.used -= byteLength;
      throw error;
    }
    track(made, bare({ reserved, committed: byteLength, live: true }));
    return made;
  };

  const ArrayBuffer = function ArrayBuffer(this: unknown, length: unknown, options?: unknown) {
    if (new.target === undefined) throw new TypeErrorCtor("Constructor ArrayBuffer requires 'new'");
    const byteLength = toIndex(length, "length");
    const maxOption = options !== null && (typeof options === "object" || typeof options === "function") ? (options as { maxByteLength?: unknown }).maxByteLength : undefined;
    if (maxOption === undefined) return construct(RealArrayBuffer, [byteLength], new.target);
    return makeResizable(byteLength, toIndex(maxOption, "maximum length"), new.target);
  } as unknown as ArrayBufferConstructor;

  const resize = function resize(this: unknown, newLength: unknown) {
    // Not a resizable buffer (or not an ArrayBuffer): the original throws its own TypeError.
    if (!(apply(getResizable, this, []) as boolean)) return apply(realResize, this, [newLength]);
    const length = toIndex(newLength, "length");
    const charge = chargeOf(this);
    // A resizable buffer not made here (a WebAssembly memory's) is charged by its maker.
    if (charge === undefined || length <= charge.committed) return apply(realResize, this, [length]);
    const growth = length - charge.committed;
    grow(growth, "ArrayBuffer.prototype.resize");
    try {
      apply(realResize, this, [length]);
    } catch (error) {
      budget.used -= growth;
      throw error;
    }
    charge.committed = length;
    return undefined;
  };

  const transferring = (real: (newLength?: number) => ArrayBuffer, keepsResizable: boolean, name: string) =>
    function transfer(this: unknown, newLength?: unknown) {
      const charge = chargeOf(this);
      if (charge === undefined) return apply(real, this, newLength === undefined ? [] : [toIndex(newLength, "length")]);
      const length = newLength === undefined ? (apply(getByteLength, this, []) as number) : toIndex(newLength, "length");
      const growth = keepsResizable && length > charge.committed ? length - charge.committed : 0;
      if (growth > 0) grow(growth, `ArrayBuffer.prototype.${name}`);
      let result: ArrayBuffer;
      try {
        result = apply(real, this, [length]) as ArrayBuffer;
      } catch (error) {
        budget.used -= growth;
        throw error;
      }
      untrack(this as object);
      if (keepsResizable) {
        // The reservation moves to the new buffer (V8 hands it the same backing store, or a new
        // one with the old freed); the old buffer is detached.
        charge.committed += growth;
        track(result, charge);
      } else {
        // A fixed-length copy, made through isolated-vm's allocator; the reservation is freed.
        release(charge);
      }
      return result;
    };

  adoptName(ArrayBuffer, "ArrayBuffer", 1);
  defineProperty(ArrayBuffer, "prototype", bare({ value: proto }));
  defineProperty(ArrayBuffer, "isView", bare({ value: isView, writable: true, configurable: true }));
  if (speciesDescriptor !== undefined) defineProperty(ArrayBuffer, primordials.SymbolSpecies, speciesDescriptor);
  defineProperty(proto, "constructor", bare({ value: ArrayBuffer, writable: true, configurable: true }));
  const methods: [string, (...args: never[]) => unknown, number][] = [["resize", resize, 1]];
  let transfer: ((this: ArrayBuffer, newLength?: number) => ArrayBuffer) | undefined;
  if (realTransfer !== undefined) {
    transfer = transferring(realTransfer, true, "transfer") as (this: ArrayBuffer, newLength?: number) => ArrayBuffer;
    methods.push(["transfer", transfer, 0]);
  }
  if (realTransferToFixedLength !== undefined) methods.push(["transferToFixedLength", transferring(realTransferToFixedLength, false, "transferToFixedLength"), 0]);
  for (let i = 0; i < methods.length; i++) {
    adoptName(methods[i][1], methods[i][0], methods[i][2]);
    defineProperty(proto, methods[i][0], bare({ value: methods[i][1], writable: true, configurable: true }));
  }
  defineProperty(global, "ArrayBuffer", bare({ value: ArrayBuffer, writable: true, configurable: true }));
  return { ArrayBuffer, transfer };
}

/** The name and length the original has (the core's bundle is minified without keeping names). */
function adoptName(fn: object, name: string, length: number): void {
  defineProperty(fn, "name", bare({ value: name, configurable: true }));
  defineProperty(fn, "length", bare({ value: length, configurable: true }));
}
