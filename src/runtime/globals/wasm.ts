// WebAssembly within the sandbox's limits. Two holes are closed here:
//
// - Shared memory: a SharedArrayBuffer and a second thread make a high-resolution timer. Memories
//   declared shared, by the Memory constructor or in a module, are refused.
// - Memory outside the heap limit: a WebAssembly memory is not part of the V8 heap, and neither V8
//   nor isolated-vm counts it against memoryMb, so `new WebAssembly.Memory({ initial: 65536 })`
//   would let a 32 MB sandbox commit 4 GiB of the host's memory. Every memory gets a maximum, and
//   the maxima of a sandbox's live memories together stay within its memoryMb. Memories a module
//   defines are capped by rewriting the module's memory section before V8 compiles it.
//
// Everything used after user code starts is captured first, so a sandbox that replaces Reflect,
// Object, a prototype method or a getter cannot turn a check off.

type Ctor = new (...args: unknown[]) => object;

const construct = Reflect.construct;
const apply = Reflect.apply;
const getOwnDescriptor = Object.getOwnPropertyDescriptor;
const defineProperty = Object.defineProperty;
const setPrototypeOf = Object.setPrototypeOf;
const toNumber = Number;
const min = Math.min;
const floor = Math.floor;
const U8 = Uint8Array;
const u8Slice = Uint8Array.prototype.slice;
const u8Subarray = Uint8Array.prototype.subarray;
const typedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object;
const viewBuffer = getOwnDescriptor(typedArrayProto, "buffer")!.get!;
const viewOffset = getOwnDescriptor(typedArrayProto, "byteOffset")!.get!;
const viewLength = getOwnDescriptor(typedArrayProto, "byteLength")!.get!;
const dataViewBuffer = getOwnDescriptor(DataView.prototype, "buffer")!.get!;
const dataViewOffset = getOwnDescriptor(DataView.prototype, "byteOffset")!.get!;
const dataViewLength = getOwnDescriptor(DataView.prototype, "byteLength")!.get!;
const bufferLength = getOwnDescriptor(ArrayBuffer.prototype, "byteLength")!.get!;
const u8Length = getOwnDescriptor(typedArrayProto, "length")!.get!;
const lengthOf = (bytes: Uint8Array) => apply(u8Length, bytes, []) as number;
const WeakMapCtor = WeakMap;
const weakGet = WeakMap.prototype.get;
const weakSet = WeakMap.prototype.set;
const Registry = FinalizationRegistry;
const register = FinalizationRegistry.prototype.register;
const TypeErrorCtor = TypeError;
const RangeErrorCtor = RangeError;

const PAGE = 65_536;
const MAX_MEMORIES_PER_MODULE = 100;
const sharedMessage = "Shared WebAssembly memory is not available in the sandbox.";

/** A copy of the bytes of a BufferSource (read through the intrinsics); undefined for anything else. */
function bytesOf(source: unknown): Uint8Array | undefined {
  if (source === null || typeof source !== "object") return undefined;
  try {
    const buffer = apply(viewBuffer, source, []) as ArrayBuffer;
    return apply(u8Slice, construct(U8, [buffer, apply(viewOffset, source, []), apply(viewLength, source, [])]), []) as Uint8Array;
  } catch {
    // not a typed array
  }
  try {
    const buffer = apply(dataViewBuffer, source, []) as ArrayBuffer;
    return apply(u8Slice, construct(U8, [buffer, apply(dataViewOffset, source, []), apply(dataViewLength, source, [])]), []) as Uint8Array;
  } catch {
    // not a DataView
  }
  try {
    apply(bufferLength, source, []);
  } catch {
    return undefined;
  }
  return apply(u8Slice, construct(U8, [source]), []) as Uint8Array;
}

const malformed = () => new TypeErrorCtor("WebAssembly.Module(): the module is malformed.");

class Reader {
  offset = 0;
  readonly end: number;
  constructor(readonly bytes: Uint8Array) {
    this.end = lengthOf(bytes);
  }
  byte(): number {
    if (this.offset >= this.end) throw malformed();
    return this.bytes[this.offset++];
  }
  u32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
    throw malformed();
  }
  skip(n: number): void {
    if (this.offset + n > this.end) throw malformed();
    this.offset += n;
  }
  sub(size: number): Reader {
    const start = this.offset;
    this.skip(size);
    return new Reader(apply(u8Subarray, this.bytes, [start, start + size]) as Uint8Array);
  }
}

/** Bytes written into a typed array: indexed writes on a plain array could meet a setter on Array.prototype. */
class Writer {
  length = 0;
  readonly capacity: number;
  constructor(readonly bytes: Uint8Array) {
    this.capacity = lengthOf(bytes);
  }
  byte(b: number): void {
    if (this.length >= this.capacity) throw malformed();
    this.bytes[this.length++] = b;
  }
  leb(value: number): void {
    do {
      let b = value % 128;
      value = floor(value / 128);
      if (value > 0) b |= 0x80;
      this.byte(b);
    } while (value > 0);
  }
  copy(from: Uint8Array, start: number, end: number): void {
    for (let i = start; i < end; i++) this.byte(from[i]);
  }
}

/**
 * The module's bytes with every memory it defines given a maximum of at most `maxPages`, and the
 * largest maximum (0 when it defines no memory). Throws for shared memories, memories whose
 * minimum is over the cap, and anything this parser cannot follow (V8 would not compile it either).
 */
function capMemories(bytes: Uint8Array, maxPages: number): { bytes: Uint8Array; pages: number } {
  const r = new Reader(bytes);
  r.skip(8);
  // A rewritten memory takes at most 11 bytes (flags, two 5-byte LEB128s) plus 5 for the section size.
  const w = new Writer(new U8(r.end + 16 + 11 * MAX_MEMORIES_PER_MODULE));
  w.copy(bytes, 0, 8);
  let pages = 0;
  while (r.offset < r.end) {
    const start = r.offset;
    const id = r.byte();
    const section = r.sub(r.u32());
    if (id === 2) checkImports(section);
    if (id !== 5) {
      w.copy(bytes, start, r.offset);
      continue;
    }
    const count = section.u32();
    if (count > MAX_MEMORIES_PER_MODULE) throw malformed();
    const body = new Writer(new U8(5 + 11 * count));
    body.leb(count);
    for (let m = 0; m < count; m++) {
      const flags = section.byte();
      if (flags & 2) throw new TypeErrorCtor(sharedMessage);
      if (flags > 1) throw malformed();
      const initial = section.u32();
      const declaredMax = flags & 1 ? section.u32() : Infinity;
      if (initial > maxPages) throw new RangeErrorCtor(`WebAssembly.Module(): a memory of ${initial} pages is over the sandbox's limit of ${maxPages} pages (memoryMb).`);
      const max = min(declaredMax, maxPages);
      if (max > pages) pages = max;
      body.byte(1);
      body.leb(initial);
      body.leb(max);
    }
    if (section.offset !== section.end) throw malformed();
    w.byte(5);
    w.leb(body.length);
    w.copy(body.bytes, 0, body.length);
  }
  return { bytes: apply(u8Slice, w.bytes, [0, w.length]) as Uint8Array, pages };
}

/** Imported memories must not be shared either (and the walk checks the section is well formed). */
function checkImports(r: Reader): void {
  const count = r.u32();
  for (let i = 0; i < count; i++) {
    r.skip(r.u32());
    r.skip(r.u32());
    const kind = r.byte();
    if (kind === 0) r.u32();
    else if (kind === 1 || kind === 2) {
      if (kind === 1) r.byte();
      const flags = r.byte();
      if (kind === 2 && flags & 2) throw new TypeErrorCtor(sharedMessage);
      r.u32();
      if (flags & 1) r.u32();
    } else if (kind === 3) {
      r.byte();
      r.byte();
    } else if (kind === 4) {
      r.byte();
      r.u32();
    } else throw malformed();
  }
}

/**
 * Patches `wasm` (the sandbox's WebAssembly namespace) in place; memoryMb is the sandbox's limit.
 * Runs before any user code, like everything it captures.
 */
export function confineWebAssembly(wasm: unknown, memoryMb: number): void {
  const ns = wasm as Record<string, unknown>;
  const RealMemory = ns.Memory as Ctor | undefined;
  const RealInstance = ns.Instance as Ctor | undefined;
  const RealModule = ns.Module as Ctor | undefined;
  if (typeof RealMemory !== "function" || typeof RealInstance !== "function" || typeof RealModule !== "function") return;
  const budgetPages = floor((memoryMb * 1024 * 1024) / PAGE);
  let livePages = 0;
  const refunds = new Registry<number>((pages) => (livePages -= pages));
  const modulePages = new WeakMapCtor<object, number>();

  /** Charges a memory's maximum against the budget for as long as `owner` lives. */
  const charge = (owner: object, pages: number) => {
    if (pages === 0) return;
    if (livePages + pages > budgetPages) {
      throw new RangeErrorCtor(`WebAssembly memory over the sandbox's limit: ${livePages + pages} pages of ${budgetPages} (memoryMb).`);
    }
    livePages += pages;
    apply(register, refunds, [owner, pages]);
  };

  const Module = function Module(this: unknown, source: unknown) {
    if (new.target === undefined) throw new TypeErrorCtor("WebAssembly.Module must be called with new");
    const bytes = bytesOf(source);
    if (bytes === undefined) throw new TypeErrorCtor("WebAssembly.Module(): Argument 0 must be a buffer source");
    const capped = capMemories(bytes, budgetPages);
    const module = construct(RealModule, [capped.bytes], new.target);
    apply(weakSet, modulePages, [module, capped.pages]);
    return module;
  };
  const Memory = function Memory(this: unknown, descriptor: unknown) {
    if (new.target === undefined) throw new TypeErrorCtor("WebAssembly.Memory must be called with new");
    if (descriptor === null || typeof descriptor !== "object") return construct(RealMemory, [descriptor], new.target);
    // Each member is read and converted once: a getter or valueOf cannot answer differently to V8.
    const { initial, maximum, shared } = descriptor as { initial?: unknown; maximum?: unknown; shared?: unknown };
    if (shared) throw new TypeErrorCtor(sharedMessage);
    const initialPages = initial === undefined ? undefined : toNumber(initial);
    const max = maximum === undefined ? budgetPages : min(toNumber(maximum), budgetPages);
    if (initialPages !== undefined && initialPages > budgetPages) {
      throw new RangeErrorCtor(`WebAssembly.Memory(): ${initialPages} pages are over the sandbox's limit of ${budgetPages} pages (memoryMb).`);
    }
    const memory = construct(RealMemory, [{ initial: initialPages, maximum: max }], new.target);
    charge(memory, max);
    return memory;
  };
  const Instance = function Instance(this: unknown, module: unknown, imports?: unknown) {
    if (new.target === undefined) throw new TypeErrorCtor("WebAssembly.Instance must be called with new");
    const pages = module !== null && typeof module === "object" ? ((apply(weakGet, modulePages, [module]) as number | undefined) ?? 0) : 0;
    const instance = construct(RealInstance, [module, imports], new.target);
    charge(instance, pages);
    return instance;
  };
  adopt(Module, RealModule);
  adopt(Memory, RealMemory);
  adopt(Instance, RealInstance);
  const statics = ["imports", "exports", "customSections"];
  for (let i = 0; i < statics.length; i++) {
    const value = (RealModule as unknown as Record<string, unknown>)[statics[i]];
    if (value !== undefined) defineProperty(Module, statics[i], descriptor({ value, writable: true, configurable: true }));
  }

  // Compiled and instantiated here, synchronously, through the wrappers above: no user code (a
  // replaced Promise.prototype.then) sits between the bytes and the checks.
  const compile = async function compile(source: unknown) {
    return new (Module as unknown as Ctor)(source);
  };
  const instantiate = async function instantiate(source: unknown, imports?: unknown) {
    if (source instanceof RealModule) return new (Instance as unknown as Ctor)(source, imports);
    const module = new (Module as unknown as Ctor)(source);
    return { module, instance: new (Instance as unknown as Ctor)(module, imports) };
  };
  const replaced: [string, unknown][] = [["Module", Module], ["Memory", Memory], ["Instance", Instance], ["compile", compile], ["instantiate", instantiate]];
  for (let i = 0; i < replaced.length; i++) defineProperty(ns, replaced[i][0], descriptor({ value: replaced[i][1], writable: true, configurable: true }));
  delete ns.instantiateStreaming;
  delete ns.compileStreaming;
}

/** Makes `wrapper` stand in for `real`: same prototype (whose constructor now points back). */
function adopt(wrapper: (...args: never[]) => unknown, real: Ctor): void {
  defineProperty(wrapper, "prototype", descriptor({ value: real.prototype }));
  defineProperty(wrapper, "length", descriptor({ value: 1, configurable: true }));
  defineProperty(real.prototype, "constructor", descriptor({ value: wrapper, writable: true, configurable: true }));
}

/**
 * A descriptor without a prototype: confinement may run after user code (on first touch of the
 * WebAssembly global), and an inherited Object.prototype.get or .writable must not reach V8.
 */
function descriptor(fields: PropertyDescriptor): PropertyDescriptor {
  return setPrototypeOf(fields, null) as PropertyDescriptor;
}

/**
 * Makes the global WebAssembly confined on first touch: the namespace is reachable only through
 * this global, so until then nothing can use or alter it, and a sandbox that never runs
 * WebAssembly does not pay (in memory and time) for the wrappers. Confinement runs once; if it
 * fails (a sandbox broke something it needs), WebAssembly stays unavailable rather than unconfined.
 */
export function confineWebAssemblyOnFirstUse(global: Record<string, unknown>, memoryMb: number): void {
  const ns = global.WebAssembly;
  if (ns === undefined) return;
  let state: "pending" | "confined" | "failed" = "pending";
  const settle = (value: unknown) => {
    defineProperty(global, "WebAssembly", descriptor({ value, writable: true, configurable: true, enumerable: false }));
    return value;
  };
  defineProperty(
    global,
    "WebAssembly",
    descriptor({
      configurable: true,
      enumerable: false,
      get() {
        if (state === "pending") {
          state = "failed";
          confineWebAssembly(ns, memoryMb);
          state = "confined";
        }
        if (state === "failed") throw new TypeErrorCtor("WebAssembly is not available in this sandbox.");
        return settle(ns);
      },
      set(value: unknown) {
        settle(value);
      },
    }),
  );
}
