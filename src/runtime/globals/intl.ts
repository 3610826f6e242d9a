// Intl objects within the sandbox's limits. Each keeps its ICU state outside the V8 heap, which
// neither V8 nor isolated-vm counts against memoryMb: an Intl.DateTimeFormat costs about 26 KiB of
// the host's memory and 0.2 KiB of heap, so 12,000 of them held ~309 MiB in a 16 MB sandbox. The
// live Intl objects a sandbox holds are counted (every Intl constructor, the Segments and segment
// iterators Intl.Segmenter makes, the Locales maximize() and minimize() make), at most
// MAX_INTL_OBJECTS_PER_MB per MB of memoryMb; past that a RangeError. Date's toLocaleString,
// toLocaleDateString and toLocaleTimeString make an uncounted ICU formatter per call unless given
// neither locales nor options: they format through counted, cached ones (date-locale.ts). Number
// and BigInt toLocaleString and String localeCompare, with options too, keep nothing (measured:
// the host's RSS is flat over 10⁵ calls of each in a 16 MB heap).
//
// Some Intl objects also copy a string outside the heap, which the count does not see: every
// Segments object Intl.Segmenter's segment(s) makes keeps its own UTF-16 copy of s (100 over one
// 4 Mi-character string held ~812 MiB), so does every iterator over it (200 held ~1.6 GiB), and
// an Intl.Locale keeps its whole tag (200 with a 1 MiB private-use tag held ~224 MiB). segment()
// and each Segments iterator are charged 2 bytes per code unit of the input (less the first
// 4 KiB, which the count covers) against the sandbox's off-heap budget (memoryMb, shared with
// WebAssembly and resizable ArrayBuffers) until the object is collected. A language tag longer
// than MAX_TAG_LENGTH, or a list of more than MAX_LOCALES, is a RangeError, as V8 throws for an
// invalid tag (a locale list with a 900 KB tag kept new Intl.DateTimeFormat past cpuMs, after
// which the host process crashed). The non-standard Intl.v8BreakIterator (whose adoptText copies
// its text the same way: 200 held ~1.6 GiB) is removed, as Node.js and Deno remove it.
//
// Applied on the first touch of the Intl global (clock.ts), with every intrinsic it uses captured
// before user code runs.

import { primordials } from "../primordials.ts";

const {
  ReflectApply: apply,
  ReflectConstruct: construct,
  ReflectDefineProperty: defineProperty,
  ReflectGetOwnPropertyDescriptor: getOwnDescriptor,
  ReflectOwnKeys: ownKeys,
  ObjectSetPrototypeOf: setPrototypeOf,
  FinalizationRegistry: Registry,
  ReflectDeleteProperty: deleteProperty,
  WeakMap: WeakMapCtor,
  WeakMapPrototypeGet: weakGet,
  WeakMapPrototypeSet: weakSet,
  MathTrunc: trunc,
  RangeError: RangeErrorCtor,
  SymbolIterator,
} = primordials;
import type { OffHeapBudget } from "./buffers.ts";
const register = Registry.prototype.register;

/**
 * Live Intl objects a sandbox may hold per MB of memoryMb. Charged at 32 KiB each (a
 * DateTimeFormat, the costliest measured, takes about 26 KiB outside the heap), the cap keeps them
 * within half of memoryMb: 256 in a 16 MB sandbox, 2,048 with the default 128.
 */
export const MAX_INTL_OBJECTS_PER_MB = 16;

/** The longest language tag an Intl constructor accepts in the sandbox (BCP 47 tags are short). */
export const MAX_TAG_LENGTH = 1_024;
/** Bytes of each string copy not charged to the off-heap budget (the count bounds them). */
export const FREE_COPY_BYTES = 4_096;
/** The most locales a locales list may name in the sandbox. */
export const MAX_LOCALES = 100;

const CONSTRUCTORS = [
  "Collator",
  "DateTimeFormat",
  "DisplayNames",
  "DurationFormat",
  "ListFormat",
  "Locale",
  "NumberFormat",
  "PluralRules",
  "RelativeTimeFormat",
  "Segmenter",
];

function bare<T extends object>(fields: T): T {
  return setPrototypeOf(fields, null) as T;
}

/** Makes one Intl object through `make`, counted (and charged `copied` bytes of the off-heap budget, less FREE_COPY_BYTES) until it is collected. */
export type IntlCounter = (what: string, make: () => unknown, copied?: number) => unknown;

/** The count of one sandbox's live Intl objects, shared by the Intl constructors and Date's toLocale*String. */
export function intlCounter(memoryMb: number, offHeap: OffHeapBudget = { used: 0, limit: memoryMb * 1024 * 1024 }): IntlCounter {
  const limit = memoryMb * MAX_INTL_OBJECTS_PER_MB;
  let live = 0;
  // Held: the bytes the object copied outside the heap, charged to offHeap.
  const refunds = new Registry<number>((bytes) => {
    live--;
    offHeap.used -= bytes;
  });
  return (what, make, copied = 0) => {
    // The first FREE_COPY_BYTES of each copy are covered by the count (at most 1/16 of memoryMb
    // in all), so short strings still work when a memory without a maximum took the budget.
    const bytes = copied > FREE_COPY_BYTES ? copied - FREE_COPY_BYTES : 0;
    if (live >= limit) {
      throw new RangeErrorCtor(`${what}: Intl objects over the sandbox's limit: at most ${limit} live (${MAX_INTL_OBJECTS_PER_MB} per MB of memoryMb).`);
    }
    if (offHeap.used + bytes > offHeap.limit) {
      throw new RangeErrorCtor(
        `${what}: a copy of ${copied} bytes outside the heap is over the sandbox's limit (${offHeap.used + bytes} bytes of ${offHeap.limit}, memoryMb, shared with WebAssembly and resizable ArrayBuffers).`,
      );
    }
    live++;
    offHeap.used += bytes;
    let made: unknown;
    try {
      made = make();
    } catch (error) {
      live--;
      offHeap.used -= bytes;
      throw error;
    }
    if (made !== null && typeof made === "object") apply(register, refunds, [made, bytes]);
    else {
      live--;
      offHeap.used -= bytes;
    }
    return made;
  };
}

export interface LocaleChecks {
  /** A language tag given as a string, checked for length before V8 copies it. */
  checkTag(what: string, tag: unknown): void;
  /** One language tag: a Locale as it is, another object converted to a string once, checked. */
  oneTag(what: string, tag: unknown): unknown;
  /** A locales argument as a fresh list without a prototype, each tag checked (a Locale as it is). */
  localeList(what: string, locales: unknown): unknown;
  /** The tag of an Intl.Locale, or undefined for anything else. */
  localeTag(value: object): string | undefined;
}

/** The checks of language tags and locale lists, with `intl`'s Locale captured now (before user code). */
export function localeChecks(intl: Record<string, unknown>): LocaleChecks {
  const RealLocale = getOwnDescriptor(intl, "Locale")?.value as { prototype: { toString: () => string } } | undefined;
  const localeToString = RealLocale?.prototype.toString;
  const localeTag = (value: object): string | undefined => {
    if (localeToString === undefined) return undefined;
    try {
      return apply(localeToString, value, []) as string;
    } catch {
      return undefined;
    }
  };
  const checkTag = (what: string, tag: unknown) => {
    if (typeof tag === "string" && tag.length > MAX_TAG_LENGTH) {
      throw new RangeErrorCtor(`${what}: Incorrect locale information provided (a tag of ${tag.length} characters; at most ${MAX_TAG_LENGTH} in the sandbox).`);
    }
  };
  /**
   * One language tag (Intl.Locale's argument, or an element of a list): a Locale as it is,
   * another object converted to a string here, once, so the string V8 reads is the one checked.
   */
  const oneTag = (what: string, tag: unknown): unknown => {
    if (tag !== null && typeof tag === "object" && localeTag(tag) === undefined) tag = `${tag as unknown as string}`;
    checkTag(what, tag);
    return tag;
  };
  /**
   * A locales argument (a string, a Locale, or a list of them) as a fresh list without a
   * prototype, each tag checked; anything else V8 rejects itself.
   */
  const localeList = (what: string, locales: unknown): unknown => {
    if (locales === null || typeof locales !== "object") {
      checkTag(what, locales);
      return locales;
    }
    if (localeTag(locales) !== undefined) return locales;
    const source = locales as { length?: unknown; [index: number]: unknown };
    const number = +(source.length as number);
    const length = number > 0 ? trunc(number) : 0;
    if (length > MAX_LOCALES) throw new RangeErrorCtor(`${what}: a list of ${length} locales; at most ${MAX_LOCALES} in the sandbox.`);
    const copy = setPrototypeOf({ length }, null) as Record<string, unknown>;
    for (let k = 0; k < length; k++) {
      if (k in source) defineProperty(copy, k, bare({ value: oneTag(what, source[k]), writable: true, enumerable: true, configurable: true }));
    }
    return copy;
  };
  return { checkTag, oneTag, localeList, localeTag };
}

/** Replaces `intl`'s constructors (and Segmenter's makers) with counting wrappers. Runs before user code can reach `intl`. */
export function capIntlObjects(
  intl: Record<string, unknown>,
  memoryMb: number,
  offHeap: OffHeapBudget = { used: 0, limit: memoryMb * 1024 * 1024 },
  counted: IntlCounter = intlCounter(memoryMb, offHeap),
  checks: LocaleChecks = localeChecks(intl),
): void {
  deleteProperty(intl, "v8BreakIterator");
  /** The bytes each Segments object's string took outside the heap (its iterators copy it again). */
  const copied = new WeakMapCtor<object, number>();
  const { oneTag, localeList } = checks;
  const wrap = (holder: object, key: PropertyKey, name: string) => {
    const real = getOwnDescriptor(holder, key)?.value as ((...args: unknown[]) => unknown) | undefined;
    if (typeof real !== "function") return;
    const wrapper = function (this: unknown, ...args: unknown[]) {
      return counted(name, () => apply(real, this, args));
    };
    defineProperty(wrapper, "name", bare({ value: real.name, configurable: true }));
    defineProperty(wrapper, "length", bare({ value: real.length, configurable: true }));
    defineProperty(holder, key, bare({ value: wrapper, writable: true, configurable: true }));
  };

  /** Replaces holder[key], a function taking a locales list first, with one that checks the list. */
  const checkLocalesOf = (holder: object, key: string, what: string) => {
    const real = getOwnDescriptor(holder, key)?.value as ((...args: unknown[]) => unknown) | undefined;
    if (typeof real !== "function") return;
    const wrapper = function (this: unknown, ...args: unknown[]) {
      if (args.length > 0) args[0] = localeList(what, args[0]);
      return apply(real, this, args);
    };
    defineProperty(wrapper, "name", bare({ value: real.name, configurable: true }));
    defineProperty(wrapper, "length", bare({ value: real.length, configurable: true }));
    defineProperty(holder, key, bare({ value: wrapper, writable: true, configurable: true }));
  };
  checkLocalesOf(intl, "getCanonicalLocales", "Intl.getCanonicalLocales");

  for (let i = 0; i < CONSTRUCTORS.length; i++) {
    const name = CONSTRUCTORS[i];
    const Real = getOwnDescriptor(intl, name)?.value as (new (...args: unknown[]) => object) | undefined;
    if (typeof Real !== "function") continue;
    const what = `Intl.${name}`;
    const Wrapper = function (this: unknown, ...args: unknown[]) {
      if (args.length > 0) args[0] = name === "Locale" ? oneTag(what, args[0]) : localeList(what, args[0]);
      // Called without new: DateTimeFormat, NumberFormat and Collator make one (legacy), the
      // others throw their own TypeError.
      return counted(what, new.target === undefined ? () => apply(Real, this, args) : () => construct(Real, args, new.target));
    };
    // Statics (supportedLocalesOf) and the prototype are the original's; the prototype's
    // constructor now points back, so the original is unreachable.
    const keys = ownKeys(Real);
    for (let k = 0; k < keys.length; k++) {
      const descriptor = getOwnDescriptor(Real, keys[k])!;
      defineProperty(Wrapper, keys[k], descriptor);
    }
    checkLocalesOf(Wrapper, "supportedLocalesOf", `${what}.supportedLocalesOf`);
    const prototype = (Real as { prototype: object }).prototype;
    defineProperty(prototype, "constructor", bare({ value: Wrapper, writable: true, configurable: true }));
    defineProperty(intl, name, bare({ value: Wrapper, writable: true, configurable: true }));
    if (name === "Locale") {
      // maximize() and minimize() make new Locale objects.
      wrap(prototype, "maximize", "Intl.Locale.prototype.maximize");
      wrap(prototype, "minimize", "Intl.Locale.prototype.minimize");
    }
    if (name === "Segmenter") {
      // segment() makes a Segments object, and its iterator another ICU break iterator.
      const segmentsPrototype = setPrototypeOf({}, null);
      try {
        const segments = apply((prototype as { segment: (s: string) => object }).segment, construct(Real, []), [""]);
        setPrototypeOf(segmentsPrototype, primordials.ReflectGetPrototypeOf(segments));
      } catch {
        // no Segments to find
      }
      // segment(s) copies s (UTF-16) outside the heap: 2 bytes per code unit, converted here once.
      const realSegment = getOwnDescriptor(prototype, "segment")?.value as ((s: string) => object) | undefined;
      if (typeof realSegment === "function") {
        const segment = function segment(this: unknown, input: unknown) {
          const string = `${input as string}`;
          const made = counted("Intl.Segmenter.prototype.segment", () => apply(realSegment, this, [string]), 2 * string.length) as object;
          weakSet(copied, made, 2 * string.length);
          return made;
        };
        defineProperty(segment, "name", bare({ value: "segment", configurable: true }));
        defineProperty(segment, "length", bare({ value: 1, configurable: true }));
        defineProperty(prototype, "segment", bare({ value: segment, writable: true, configurable: true }));
      }
      // Each iterator copies the Segments object's string again (200 iterators of one Segments
      // over 4 Mi characters held ~1.6 GiB): charged the same bytes.
      const found = primordials.ReflectGetPrototypeOf(segmentsPrototype);
      const realIterator = found === null ? undefined : (getOwnDescriptor(found, SymbolIterator)?.value as (() => object) | undefined);
      if (found !== null && typeof realIterator === "function") {
        const iterator = function (this: unknown) {
          const bytes = this !== null && typeof this === "object" ? ((weakGet(copied, this) as number | undefined) ?? 0) : 0;
          return counted("Intl.Segments.prototype[Symbol.iterator]", () => apply(realIterator, this, []), bytes);
        };
        defineProperty(iterator, "name", bare({ value: realIterator.name, configurable: true }));
        defineProperty(iterator, "length", bare({ value: 0, configurable: true }));
        defineProperty(found, SymbolIterator, bare({ value: iterator, writable: true, configurable: true }));
      }
    }
  }
}
