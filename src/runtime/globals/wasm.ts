import { primordials } from "../primordials.ts";

const { ArrayBuffer, DataView, FinalizationRegistry, Math, Object, ObjectGetPrototypeOf, Reflect, Uint8Array, WeakMap } = primordials;
// WebAssembly within the sandbox's limits. Two holes are closed here:
//
// - Shared memory: a SharedArrayBuffer and a second thread make a high-resolution timer. Memories
//   declared shared, by the Memory constructor or in a module, are refused.
// - Memory outside the heap limit: a WebAssembly memory is not part of the V8 heap, and neither V8
//   nor isolated-vm counts it against memoryMb, so `new WebAssembly.Memory({ initial: 65536 })`
//   would let a 32 MB sandbox commit 4 GiB of the host's memory. Every memory gets a maximum, and
//   what a sandbox's live memories are charged together stays within its memoryMb: a memory wasm
//   code can grow (one a module defines, or one an instance imports) is charged its maximum, as
//   nothing sees its memory.grow; a memory only JavaScript can grow (made by the constructor and
//   linked to no instance) is charged its size, and Memory.prototype.grow charges the pages it adds
//   first. Memories a module defines are capped by rewriting its memory section before V8 compiles it.
// - Compiled modules outside the heap limit: a WebAssembly.Module keeps its wire bytes and the code
//   V8 compiles from them outside the V8 heap, so 100 modules of 4 MiB (one custom section each,
//   no memory, table or instance) held ~420 MiB in a 16 MB sandbox. Every module is charged
//   MODULE_BYTES_FACTOR times its byte length against the same memoryMb budget as memories, and
//   counted with the other WebAssembly objects, until it is collected.
// - Suspended stacks (JSPI): WebAssembly.Suspending and WebAssembly.promising let every suspended
//   call keep its own stack (up to ~1 MiB, outside the heap and isolated-vm's allocator) for as
//   long as its promise is pending; 1,000 deep ones held ~820 MiB. They are removed, with
//   SuspendError (workerd turns JSPI on for Python Workers, not by default).
//
// Everything used after user code starts is captured first, so a sandbox that replaces Reflect,
// Object, a prototype method or a getter cannot turn a check off.

import type { OffHeapBudget } from "./buffers.ts";

type Ctor = new (...args: unknown[]) => object;

const construct = Reflect.construct;
const apply = Reflect.apply;
const getOwnDescriptor = Object.getOwnPropertyDescriptor;
const defineProperty = Object.defineProperty;
const setPrototypeOf = Object.setPrototypeOf;
const toNumber = Number;
const min = Math.min;
const floor = Math.floor;
const ceil = Math.ceil;
const U8 = Uint8Array;
const u8Slice = Uint8Array.prototype.slice;
const u8Subarray = Uint8Array.prototype.subarray;
const typedArrayProto = ObjectGetPrototypeOf(Uint8Array.prototype) as object;
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
const weakHas = WeakMap.prototype.has;
const weakSet = WeakMap.prototype.set;
const weakDelete = WeakMap.prototype.delete;
const Registry = FinalizationRegistry;
const register = FinalizationRegistry.prototype.register;
const TypeErrorCtor = TypeError;
const RangeErrorCtor = RangeError;

const PAGE = 65_536;

/** Web IDL's [EnforceRange] unsigned long, as V8 converts Memory.prototype.grow's delta. */
function toUnsignedLong(value: unknown): number {
  const number = +(value as number);
  if (number !== number || number === Infinity || number === -Infinity) throw new TypeErrorCtor("WebAssembly.Memory.grow(): Argument 0 must be convertible to a valid number");
  const integer = number < 0 ? ceil(number) : floor(number);
  if (integer < 0 || integer > 0xffffffff) throw new TypeErrorCtor("WebAssembly.Memory.grow(): Argument 0 must be non-negative and at most 4294967295");
  return integer + 0;
}
const MAX_MEMORIES_PER_MODULE = 100;
/**
 * Live WebAssembly modules, memories, tables and instances one sandbox may hold, whatever their
 * size. Each is also charged at least one page against the memoryMb budget.
 */
export const MAX_WASM_OBJECTS = 1_000;
/**
 * Live WebAssembly memories (including those instances define) one sandbox may hold. On 64-bit
 * V8 reserves 8 GiB of address space for every memory, even one of zero pages, and about 16,000
 * exhaust a process: past this many, and past the host's process-wide count, a RangeError.
 */
export const MAX_WASM_MEMORIES = 64;
/**
 * A module is charged this many times its byte length (at least one page). Measured on Node 24
 * (V8 13.6), RSS per MiB of module bytes: 1.8 for a module of one custom section, 1.6-2.2 for
 * QuickJS's emscripten builds (compiled lazily), 3.3 for a module of 2,000 arithmetic-heavy
 * functions once compiled, 4.7 once every function had run (tier-up).
 */
export const MODULE_BYTES_FACTOR = 4;
/** The JSPI surface, removed from the sandbox's namespace. */
const JSPI = ["Suspending", "promising", "SuspendError"];
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
  advance(n: number): void {
    if (this.offset + n > this.end) throw malformed();
    this.offset += n;
  }
  sub(size: number): Reader {
    const start = this.offset;
    this.advance(size);
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
 * The module's bytes with every memory it defines given a maximum of at most `maxPages`, the sum
 * of their maxima (what one instance may commit) and how many memories it defines. Throws for shared memories, memories whose
 * minimum is over the cap, and anything this parser cannot follow (V8 would not compile it either).
 */
function capMemories(bytes: Uint8Array, maxPages: number): { bytes: Uint8Array; pages: number; memories: number } {
  const r = new Reader(bytes);
  r.advance(8);
  // A rewritten memory takes at most 11 bytes (flags, two 5-byte LEB128s) plus 5 for the section size.
  const w = new Writer(new U8(r.end + 16 + 11 * MAX_MEMORIES_PER_MODULE));
  w.copy(bytes, 0, 8);
  let pages = 0;
  let memories = 0;
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
    memories += count;
    const body = new Writer(new U8(5 + 11 * count));
    body.leb(count);
    for (let m = 0; m < count; m++) {
      const flags = section.byte();
      if (flags & 2) throw new TypeErrorCtor(sharedMessage);
      if (flags > 1) throw malformed();
      const initial = section.u32();
      const declaredMax = flags & 1 ? section.u32() : Infinity;
      if (initial > maxPages) throw new RangeErrorCtor(`WebAssembly.Module(): a memory of ${initial} pages is over the sandbox's limit: ${maxPages} pages left of memoryMb.`);
      const max = min(declaredMax, maxPages);
      pages += max;
      body.byte(1);
      body.leb(initial);
      body.leb(max);
    }
    if (section.offset !== section.end) throw malformed();
    w.byte(5);
    w.leb(body.length);
    w.copy(body.bytes, 0, body.length);
  }
  return { bytes: apply(u8Slice, w.bytes, [0, w.length]) as Uint8Array, pages, memories };
}

/** Imported memories must not be shared either (and the walk checks the section is well formed). */
function checkImports(r: Reader): void {
  const count = r.u32();
  for (let i = 0; i < count; i++) {
    r.advance(r.u32());
    r.advance(r.u32());
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
 * Asks the host for (n > 0) or gives back (n < 0) process-wide wasm memory slots; false when the
 * host refuses. The host also counts per sandbox and takes a dead sandbox's slots back.
 */
export type ReserveMemories = (n: number) => boolean;

/**
 * Patches `wasm` (the sandbox's WebAssembly namespace) in place; memoryMb is the sandbox's limit.
 * Runs before any user code, like everything it captures.
 */
export function confineWebAssembly(
  wasm: unknown,
  memoryMb: number,
  reserveMemories: ReserveMemories = () => true,
  offHeap: OffHeapBudget = { used: 0, limit: memoryMb * 1024 * 1024 },
): void {
  const ns = wasm as Record<string, unknown>;
  const RealMemory = ns.Memory as Ctor | undefined;
  const RealInstance = ns.Instance as Ctor | undefined;
  const RealModule = ns.Module as Ctor | undefined;
  const RealTable = ns.Table as Ctor | undefined;
  if (typeof RealMemory !== "function" || typeof RealInstance !== "function" || typeof RealModule !== "function" || typeof RealTable !== "function") return;
  // Instances link memories only as V8 lists a module's imports (see linkedImports): without that
  // list, WebAssembly stays unavailable (confineWebAssemblyOnFirstUse) rather than unconfined.
  if (typeof (RealModule as unknown as { imports?: unknown }).imports !== "function") throw new TypeErrorCtor("WebAssembly.Module.imports is missing");
  const budgetPages = floor((memoryMb * 1024 * 1024) / PAGE);
  // Pages are charged in bytes to the sandbox's off-heap budget, shared with resizable ArrayBuffers.
  let liveObjects = 0;
  let liveMemories = 0;
  // Held: [pages, memories]. Runs when V8 collects a memory, table or instance.
  const refunds = new Registry<readonly [number, number]>((held) => {
    offHeap.used -= held[0] * PAGE;
    liveObjects--;
    if (held[1] > 0) {
      liveMemories -= held[1];
      try {
        reserveMemories(-held[1]);
      } catch {
        // The host is gone; it takes the sandbox's slots back when the sandbox dies.
      }
    }
  });
  /** Pages of the budget not charged yet: the maximum a memory declared without one gets. */
  const leftPages = () => {
    const left = budgetPages - ceil(offHeap.used / PAGE);
    return left > 0 ? left : 0;
  };
  /** What each module compiled here defines: [sum of its memories' maxima in pages, number of memories]. */
  const modules = new WeakMapCtor<object, readonly [number, number]>();
  /**
   * Memories made by the constructor that no instance links yet, charged their size (charge[0]
   * pages, at least one) up to their maximum: only JavaScript can grow them, through `grow` below.
   */
  const growable = new WeakMapCtor<object, { readonly charge: [number, number]; readonly max: number }>();
  /** Charges `pages` more to the sandbox's budget, or throws its RangeError. */
  const chargeMore = (pages: number): void => {
    if (offHeap.used + pages * PAGE > budgetPages * PAGE) {
      throw new RangeErrorCtor(
        `WebAssembly memory over the sandbox's limit: ${ceil(offHeap.used / PAGE) + pages} pages of ${budgetPages} (memoryMb, shared with WebAssembly modules and resizable ArrayBuffers).`,
      );
    }
    offHeap.used += pages * PAGE;
  };

  /**
   * Takes `pages` (at least one: every object costs the host something) and `memories` address
   * space reservations before the object exists, so nothing is made past a limit. Returns the
   * charge, to be handed to `keep` once the object exists, or to `undo` if making it failed.
   */
  const reserve = (pages: number, memories: number, moduleBytes = -1): readonly [number, number] => {
    if (pages < 1) pages = 1;
    if (liveObjects + 1 > MAX_WASM_OBJECTS) {
      throw new RangeErrorCtor(`WebAssembly objects over the sandbox's limit: at most ${MAX_WASM_OBJECTS} live modules, memories, tables and instances.`);
    }
    if (offHeap.used + pages * PAGE > budgetPages * PAGE) {
      if (moduleBytes >= 0) {
        throw new RangeErrorCtor(
          `WebAssembly.Module(): a module of ${moduleBytes} bytes (charged ${MODULE_BYTES_FACTOR} times its size for its compiled code) is over the sandbox's limit: ${ceil(offHeap.used / PAGE) + pages} pages of ${budgetPages} (memoryMb, shared with WebAssembly memories and resizable ArrayBuffers).`,
        );
      }
      throw new RangeErrorCtor(
        `WebAssembly memory over the sandbox's limit: ${ceil(offHeap.used / PAGE) + pages} pages of ${budgetPages} (memoryMb, shared with WebAssembly modules and resizable ArrayBuffers).`,
      );
    }
    if (memories > 0) {
      if (liveMemories + memories > MAX_WASM_MEMORIES) {
        throw new RangeErrorCtor(`WebAssembly memories over the sandbox's limit: at most ${MAX_WASM_MEMORIES} live memories.`);
      }
      if (!reserveMemories(memories)) throw new RangeErrorCtor("WebAssembly memories over the host's limit: the process has no address space to spare for another memory.");
      liveMemories += memories;
    }
    offHeap.used += pages * PAGE;
    liveObjects++;
    return [pages, memories] as const;
  };
  const undo = (charge: readonly [number, number]) => {
    offHeap.used -= charge[0] * PAGE;
    liveObjects--;
    if (charge[1] > 0) {
      liveMemories -= charge[1];
      reserveMemories(-charge[1]);
    }
  };
  /** Constructs through V8 with the charge taken first, refunded when the object is collected. */
  const make = (Real: Ctor, args: unknown[], newTarget: unknown, charge: readonly [number, number]): object => {
    let made: object;
    try {
      made = construct(Real, args, newTarget as Ctor);
    } catch (error) {
      undo(charge);
      throw error;
    }
    apply(register, refunds, [made, charge]);
    return made;
  };

  const Module = function Module(this: unknown, source: unknown) {
    if (new.target === undefined) throw new TypeErrorCtor("WebAssembly.Module must be called with new");
    const bytes = bytesOf(source);
    if (bytes === undefined) throw new TypeErrorCtor("WebAssembly.Module(): Argument 0 must be a buffer source");
    // The module's bytes (and the code compiled from them) are charged first; the memories it
    // defines are capped at what is then left of the budget, so one instance of it still fits.
    const length = lengthOf(bytes);
    const charge = reserve(ceil((length * MODULE_BYTES_FACTOR) / PAGE), 0, length);
    let capped: { bytes: Uint8Array; pages: number; memories: number };
    try {
      capped = capMemories(bytes, leftPages());
    } catch (error) {
      undo(charge);
      throw error;
    }
    const module = make(RealModule, [capped.bytes], new.target, charge);
    apply(weakSet, modules, [module, [capped.pages, capped.memories] as const]);
    return module;
  };
  const Memory = function Memory(this: unknown, descriptor: unknown) {
    if (new.target === undefined) throw new TypeErrorCtor("WebAssembly.Memory must be called with new");
    if (descriptor === null || typeof descriptor !== "object") throw new TypeErrorCtor("WebAssembly.Memory(): Argument 0 must be a memory descriptor");
    // Each member is read and converted once, into a fresh copy without a prototype: neither a
    // getter, a valueOf nor anything inherited from Object.prototype can answer V8 differently.
    const source = descriptor as { initial?: unknown; minimum?: unknown; maximum?: unknown; shared?: unknown };
    const initial = source.initial;
    const minimum = initial === undefined ? source.minimum : undefined;
    const maximum = source.maximum;
    if (source.shared) throw new TypeErrorCtor(sharedMessage);
    const given = initial !== undefined ? initial : minimum;
    const initialPages = given === undefined ? undefined : toNumber(given);
    if (initialPages !== undefined && initialPages > budgetPages) {
      throw new RangeErrorCtor(`WebAssembly.Memory(): ${initialPages} pages are over the sandbox's limit of ${budgetPages} pages (memoryMb).`);
    }
    // Without a maximum, a memory may grow into what is left of the budget, less the page an
    // instance that links it is charged. It is charged its initial size only (see `growable`).
    const room = leftPages() - 1;
    const max = maximum === undefined ? (initialPages !== undefined && initialPages > room ? initialPages : room) : min(toNumber(maximum), budgetPages);
    const copy = bare({ initial: initialPages, maximum: max, shared: false });
    const charge = reserve(initialPages !== undefined && initialPages === initialPages ? initialPages : 0, 1) as [number, number];
    const memory = make(RealMemory, [copy], new.target, charge);
    apply(weakSet, growable, [memory, bare({ charge, max })]);
    return memory;
  };
  // Memory.prototype.grow: a memory only JavaScript can grow is charged the pages it adds before V8
  // adds them (the delta converted once, so V8 is handed the number that was charged).
  const realGrow = (RealMemory.prototype as { grow?: unknown }).grow;
  const memoryBuffer = getOwnDescriptor(RealMemory.prototype, "buffer")?.get;
  const { grow } = {
    grow(this: unknown, delta: unknown): unknown {
      const state = this !== null && typeof this === "object" ? (apply(weakGet, growable, [this]) as { charge: [number, number]; max: number } | undefined) : undefined;
      if (state === undefined) return apply(realGrow as (delta: unknown) => unknown, this, [delta]);
      const pages = toUnsignedLong(delta);
      const target = (apply(bufferLength, apply(memoryBuffer!, this, []), []) as number) / PAGE + pages;
      const extra = target <= state.max && target > state.charge[0] ? target - state.charge[0] : 0;
      if (extra > 0) chargeMore(extra);
      state.charge[0] += extra;
      try {
        return apply(realGrow as (delta: number) => unknown, this, [pages]);
      } catch (error) {
        state.charge[0] -= extra;
        offHeap.used -= extra * PAGE;
        throw error;
      }
    },
  };
  if (typeof realGrow === "function" && typeof memoryBuffer === "function") {
    defineProperty(RealMemory.prototype, "grow", bare({ value: grow, writable: true, enumerable: true, configurable: true }));
  }
  const Table = function Table(this: unknown, descriptor: unknown, ...value: unknown[]) {
    if (new.target === undefined) throw new TypeErrorCtor("WebAssembly.Table must be called with new");
    if (descriptor === null || typeof descriptor !== "object") throw new TypeErrorCtor("WebAssembly.Table(): Argument 0 must be a table descriptor");
    const source = descriptor as { element?: unknown; initial?: unknown; minimum?: unknown; maximum?: unknown };
    const element = source.element;
    const initial = source.initial;
    const minimum = initial === undefined ? source.minimum : undefined;
    const maximum = source.maximum;
    const given = initial !== undefined ? initial : minimum;
    const copy = bare({ element, initial: given === undefined ? undefined : toNumber(given), maximum: maximum === undefined ? undefined : toNumber(maximum) });
    if (copy.maximum === undefined) delete copy.maximum;
    return make(RealTable, value.length > 0 ? [copy, value[0]] : [copy], new.target, reserve(1, 0));
  };
  const Instance = function Instance(this: unknown, module: unknown, imports?: unknown) {
    if (new.target === undefined) throw new TypeErrorCtor("WebAssembly.Instance must be called with new");
    // Only a module compiled here is known: what it defines is charged before V8 makes any of it
    // (at least a page, for an instance that defines no memory).
    const known = module !== null && typeof module === "object" ? (apply(weakGet, modules, [module]) as readonly [number, number] | undefined) : undefined;
    if (known === undefined) throw new TypeErrorCtor("WebAssembly.Instance(): Argument 0 must be a WebAssembly.Module compiled in this sandbox");
    // A memory the module imports can be grown by its code: see linkedImports.
    const linked = linkedImports(module as object, imports);
    try {
      // make() gives the instance's own charge back if V8 refuses it; the memories' is given back here.
      return make(RealInstance, [module, linked.imports], new.target, reserve(known[0], known[1]));
    } catch (error) {
      linked.giveBack();
      throw error;
    }
  };
  const realImports = (RealModule as unknown as { imports?: (module: object) => readonly { readonly module: string; readonly name: string; readonly kind: string }[] }).imports;
  /**
   * The import object V8 is handed. For a module that imports a memory (as V8 lists its imports),
   * each import it declares is read once from `imports`, in order, into a copy that V8 then reads,
   * so the memory V8 links is the one checked here; every memory among them that only JavaScript
   * could grow so far is charged its maximum now, as wasm code can grow it (giveBack() undoes that
   * if instantiation fails). Other modules get `imports` as it is.
   */
  const linkedImports = (module: object, imports: unknown): { imports: unknown; giveBack(): void } => {
    // Each memory charged its maximum here, with what it was charged before.
    const charged: [memory: object, state: { charge: [number, number]; max: number }, before: number][] = [];
    const giveBack = () => {
      for (let i = 0; i < charged.length; i++) {
        const state = charged[i][1];
        offHeap.used -= (state.charge[0] - charged[i][2]) * PAGE;
        state.charge[0] = charged[i][2];
        apply(weakSet, growable, [charged[i][0], state]);
      }
    };
    if (imports === null || (typeof imports !== "object" && typeof imports !== "function")) return { imports, giveBack };
    const list = apply(realImports!, RealModule, [module]) as readonly { readonly module: string; readonly name: string; readonly kind: string }[];
    let importsMemory = false;
    for (let i = 0; i < list.length; i++) if (list[i].kind === "memory") importsMemory = true;
    if (!importsMemory) return { imports, giveBack };
    const copy = bare({}) as Record<string, unknown>;
    try {
      for (let i = 0; i < list.length; i++) {
        const moduleName = list[i].module;
        const space = (imports as Record<string, unknown>)[moduleName];
        if (space === null || (typeof space !== "object" && typeof space !== "function")) {
          // V8 refuses this import: the copy holds what it will refuse.
          defineProperty(copy, moduleName, bare({ value: space, writable: true, enumerable: true, configurable: true }));
          break;
        }
        const value = (space as Record<string, unknown>)[list[i].name];
        let target = getOwnDescriptor(copy, moduleName)?.value as Record<string, unknown> | undefined;
        if (target === undefined) defineProperty(copy, moduleName, bare({ value: (target = bare({})), writable: true, enumerable: true, configurable: true }));
        defineProperty(target, list[i].name, bare({ value, writable: true, enumerable: true, configurable: true }));
        if (list[i].kind !== "memory" || value === null || typeof value !== "object") continue;
        const state = apply(weakGet, growable, [value]) as { charge: [number, number]; max: number } | undefined;
        if (state === undefined) continue;
        const before = state.charge[0];
        if (state.max > before) {
          chargeMore(state.max - before);
          state.charge[0] = state.max;
        }
        apply(weakDelete, growable, [value as object]);
        charged[charged.length] = [value as object, state, before];
      }
    } catch (error) {
      giveBack();
      throw error;
    }
    return { imports: copy, giveBack };
  };
  adopt(Module, RealModule);
  adopt(Memory, RealMemory);
  adopt(Instance, RealInstance);
  adopt(Table, RealTable);
  const statics = ["imports", "exports", "customSections"];
  for (let i = 0; i < statics.length; i++) {
    const value = (RealModule as unknown as Record<string, unknown>)[statics[i]];
    if (value !== undefined) defineProperty(Module, statics[i], bare({ value, writable: true, configurable: true }));
  }

  // Compiled and instantiated here, synchronously, through the wrappers above: no user code (a
  // replaced Promise.prototype.then) sits between the bytes and the checks.
  const compile = async function compile(source: unknown) {
    return new (Module as unknown as Ctor)(source);
  };
  const instantiate = async function instantiate(source: unknown, imports?: unknown) {
    if (source !== null && typeof source === "object" && (apply(weakHas, modules, [source]) as boolean)) return new (Instance as unknown as Ctor)(source, imports);
    const module = new (Module as unknown as Ctor)(source);
    return bare({ module, instance: new (Instance as unknown as Ctor)(module, imports) });
  };
  const replaced: [string, unknown][] = [["Module", Module], ["Memory", Memory], ["Instance", Instance], ["Table", Table], ["compile", compile], ["instantiate", instantiate]];
  for (let i = 0; i < replaced.length; i++) defineProperty(ns, replaced[i][0], bare({ value: replaced[i][1], writable: true, configurable: true }));
  delete ns.instantiateStreaming;
  delete ns.compileStreaming;
  for (let i = 0; i < JSPI.length; i++) delete ns[JSPI[i]];
}

/** Makes `wrapper` stand in for `real`: same prototype (whose constructor now points back). */
function adopt(wrapper: (...args: never[]) => unknown, real: Ctor): void {
  defineProperty(wrapper, "prototype", bare({ value: real.prototype }));
  defineProperty(wrapper, "length", bare({ value: 1, configurable: true }));
  defineProperty(real.prototype, "constructor", bare({ value: wrapper, writable: true, configurable: true }));
}

/**
 * A descriptor without a prototype: confinement may run after user code (on first touch of the
 * WebAssembly global), and an inherited Object.prototype.get or .writable must not reach V8.
 */
function bare<T extends object>(fields: T): T {
  return setPrototypeOf(fields, null) as T;
}

/**
 * Makes the global WebAssembly confined on first touch: the namespace is reachable only through
 * this global, so until then nothing can use or alter it, and a sandbox that never runs
 * WebAssembly does not pay (in memory and time) for the wrappers. Confinement runs once; if it
 * fails (a sandbox broke something it needs), WebAssembly stays unavailable rather than unconfined.
 * `memoryMb` answers the sandbox's limit on that first touch.
 */
export function confineWebAssemblyOnFirstUse(global: Record<string, unknown>, memoryMb: () => number, reserveMemories?: ReserveMemories, offHeap?: OffHeapBudget): void {
  const ns = global.WebAssembly;
  if (ns === undefined) return;
  let state: "pending" | "confined" | "failed" = "pending";
  const settle = (value: unknown) => {
    defineProperty(global, "WebAssembly", bare({ value, writable: true, configurable: true, enumerable: false }));
    return value;
  };
  defineProperty(
    global,
    "WebAssembly",
    bare({
      configurable: true,
      enumerable: false,
      get() {
        if (state === "pending") {
          state = "failed";
          // The sandbox's limit, read now: the getter was installed before the sandbox had one.
          confineWebAssembly(ns, memoryMb(), reserveMemories, offHeap);
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
