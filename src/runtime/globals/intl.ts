// Intl objects within the sandbox's limits. Each keeps its ICU state outside the V8 heap, which
// neither V8 nor isolated-vm counts against memoryMb: an Intl.DateTimeFormat costs about 26 KiB of
// the host's memory and 0.2 KiB of heap, so 12,000 of them held ~309 MiB in a 16 MB sandbox. The
// live Intl objects a sandbox holds are counted (every Intl constructor, the Segments and segment
// iterators Intl.Segmenter makes, the Locales maximize() and minimize() make), at most
// MAX_INTL_OBJECTS_PER_MB per MB of memoryMb; past that a RangeError. Date/Number/String
// toLocaleString and localeCompare make Intl objects internally that they do not keep (measured:
// the host's RSS is flat after the first few thousand calls).
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
  RangeError: RangeErrorCtor,
  SymbolIterator,
} = primordials;
const register = Registry.prototype.register;

/**
 * Live Intl objects a sandbox may hold per MB of memoryMb. Charged at 32 KiB each (a
 * DateTimeFormat, the costliest measured, takes about 26 KiB outside the heap), the cap keeps them
 * within half of memoryMb: 256 in a 16 MB sandbox, 2,048 with the default 128.
 */
export const MAX_INTL_OBJECTS_PER_MB = 16;

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
  "v8BreakIterator",
];

function bare<T extends object>(fields: T): T {
  return setPrototypeOf(fields, null) as T;
}

/** Replaces `intl`'s constructors (and Segmenter's makers) with counting wrappers. Runs before user code can reach `intl`. */
export function capIntlObjects(intl: Record<string, unknown>, memoryMb: number): void {
  const limit = memoryMb * MAX_INTL_OBJECTS_PER_MB;
  let live = 0;
  const refunds = new Registry<number>(() => {
    live--;
  });
  /** Makes one Intl object through `make`, counted until it is collected. */
  const counted = (what: string, make: () => unknown): unknown => {
    if (live >= limit) {
      throw new RangeErrorCtor(`${what}: Intl objects over the sandbox's limit: at most ${limit} live (${MAX_INTL_OBJECTS_PER_MB} per MB of memoryMb).`);
    }
    live++;
    let made: unknown;
    try {
      made = make();
    } catch (error) {
      live--;
      throw error;
    }
    if (made !== null && typeof made === "object") apply(register, refunds, [made, 0]);
    else live--;
    return made;
  };
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

  for (let i = 0; i < CONSTRUCTORS.length; i++) {
    const name = CONSTRUCTORS[i];
    const Real = getOwnDescriptor(intl, name)?.value as (new (...args: unknown[]) => object) | undefined;
    if (typeof Real !== "function") continue;
    const what = `Intl.${name}`;
    const Wrapper = function (this: unknown, ...args: unknown[]) {
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
      wrap(prototype, "segment", "Intl.Segmenter.prototype.segment");
      const found = primordials.ReflectGetPrototypeOf(segmentsPrototype);
      if (found !== null) wrap(found, SymbolIterator, "Intl.Segments.prototype[Symbol.iterator]");
    }
  }
}
