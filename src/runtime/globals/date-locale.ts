// Date.prototype.toLocaleString, toLocaleDateString and toLocaleTimeString within the sandbox's
// Intl count (findings8/05). Given locales or options, V8 makes a fresh ICU DateTimeFormat for
// each call (it keeps only the last formatter made without options, so alternating locales makes
// one a call too), outside the heap and outside islet's count, and frees it only when the small
// heap needs a collection: a loop of such calls took the host of two 16 MB sandboxes to 1.1 GB,
// still held after close(). Here such a call formats through an Intl.DateTimeFormat made for its
// (method, locales, options), counted like one the sandbox constructs (globals/intl.ts), and kept
// in a small cache per sandbox, so a loop of the same call makes one formatter and a loop of new
// ones meets the Intl cap. A call with neither locales nor options keeps V8's own cached
// formatter. Number and BigInt toLocaleString and String localeCompare keep nothing (measured
// flat), so they are left as they are.
//
// Everything is captured at install, before user code runs; the formatter never reaches the code.

import { primordials } from "../primordials.ts";
import type { IntlCounter, LocaleChecks } from "./intl.ts";

const {
  ReflectApply: apply,
  ReflectConstruct: construct,
  ReflectDefineProperty: defineProperty,
  ReflectDeleteProperty: deleteProperty,
  ReflectGetOwnPropertyDescriptor: getOwnDescriptor,
  ObjectSetPrototypeOf: setPrototypeOf,
  DatePrototypeGetTime: getTime,
  NumberIsNaN: isNaN,
  Proxy: ProxyCtor,
  TypeError: TypeErrorCtor,
} = primordials;

/** Formatters one sandbox keeps for its toLocale*String calls (each counts as a live Intl object). */
export const DATE_LOCALE_CACHE_SIZE = 16;

/** ECMA-402's DateTimeFormat options, in the order V8 reads them (joined by any V8 reads besides). */
const SPEC_OPTIONS = [
  "localeMatcher", "calendar", "numberingSystem", "hour12", "hourCycle", "timeZone", "weekday", "era", "year", "month", "day",
  "dayPeriod", "hour", "minute", "second", "fractionalSecondDigits", "timeZoneName", "formatMatcher", "dateStyle", "timeStyle",
];
const DATE_FIELDS = ["weekday", "year", "month", "day"];
const TIME_FIELDS = ["dayPeriod", "hour", "minute", "second", "fractionalSecondDigits"];

/** Which components a method requires and which it fills in when none is given (ECMA-402 CreateDateTimeFormat). */
const METHODS = [
  { name: "toLocaleString", required: "any", defaults: "all" },
  { name: "toLocaleDateString", required: "date", defaults: "date" },
  { name: "toLocaleTimeString", required: "time", defaults: "time" },
] as const;

type Format = (time: number) => string;

function bare<T extends object>(fields: T): T {
  return setPrototypeOf(fields, null) as T;
}

/** Injective text for one primitive: its type, and a string's length before it. */
function part(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return `s${value.length}:${value}`;
    case "number":
    case "boolean":
    case "bigint":
      return `${(typeof value)[0]}${value as number}`;
    case "object":
      return value === null ? "n" : undefined;
    default:
      return undefined;
  }
}

/**
 * Replaces Date.prototype's toLocale*String with ones that count their formatters. `intl` is the
 * real Intl (its DateTimeFormat and format getter captured now); `counted` the sandbox's count.
 */
export function capDateLocaleMethods(datePrototype: object, intl: Record<string, unknown>, counted: IntlCounter, checks: LocaleChecks): void {
  const RealDateTimeFormat = getOwnDescriptor(intl, "DateTimeFormat")?.value as (new (...args: unknown[]) => object) | undefined;
  if (typeof RealDateTimeFormat !== "function") return;
  const formatGetter = getOwnDescriptor(RealDateTimeFormat.prototype, "format")?.get;
  if (formatGetter === undefined) return;

  /** The option names V8 reads, found on first use by handing it a recording proxy (a newer V8 may read more). */
  let optionNames: string[] | undefined;
  const namesOf = (): string[] => {
    if (optionNames !== undefined) return optionNames;
    const names: string[] = [];
    const seen = bare({}) as Record<string, boolean>;
    const add = (name: string) => {
      if (seen[name] === true) return;
      seen[name] = true;
      defineProperty(names, names.length, bare({ value: name, writable: true, enumerable: true, configurable: true }));
    };
    const recorder = new ProxyCtor(bare({}), bare({ get: (_target: object, key: PropertyKey) => void (typeof key === "string" && add(key)) }));
    try {
      construct(RealDateTimeFormat, [undefined, recorder]);
    } catch {
      // the spec's names are enough
    }
    for (let i = 0; i < SPEC_OPTIONS.length; i++) add(SPEC_OPTIONS[i]);
    return (optionNames = names);
  };

  const cache = bare({}) as Record<string, Format>;
  const ring = bare({}) as Record<number, string>;
  let next = 0;

  for (let m = 0; m < METHODS.length; m++) {
    const { name, required, defaults } = METHODS[m];
    const real = getOwnDescriptor(datePrototype, name)?.value as ((...args: unknown[]) => string) | undefined;
    if (typeof real !== "function") continue;
    const what = `Date.prototype.${name}`;

    /** The locales argument as V8 will get it, and its key (undefined: not cached). */
    const localesOf = (locales: unknown): [unknown, string | undefined] => {
      if (locales === undefined) return [locales, "u"];
      if (typeof locales === "string") {
        checks.checkTag(what, locales);
        return [locales, part(locales)];
      }
      if (locales === null || typeof locales !== "object") return [locales, undefined];
      const tag = checks.localeTag(locales);
      if (tag !== undefined) return [locales, `L${part(tag)}`];
      const list = checks.localeList(what, locales) as { length: number; [index: number]: unknown };
      let key = `l${list.length}`;
      for (let k = 0; k < list.length; k++) {
        if (!(k in list)) {
          key += "h";
          continue;
        }
        const element = list[k];
        const text = typeof element === "string" ? part(element) : element !== null && typeof element === "object" ? checks.localeTag(element) : undefined;
        if (text === undefined) return [list, undefined];
        key += typeof element === "string" ? text : `L${part(text)}`;
      }
      return [list, key];
    };

    /** A formatter for these options, made as V8 makes the method's own (defaults filled in), counted. */
    const make = (localesArg: unknown, options: Record<string, unknown>): Format => {
      const has = (fields: readonly string[]) => {
        for (let i = 0; i < fields.length; i++) if (options[fields[i]] !== undefined) return true;
        return false;
      };
      if (options.dateStyle !== undefined || options.timeStyle !== undefined) {
        if (required === "date" && options.timeStyle !== undefined) throw new TypeErrorCtor("Invalid option : timeStyle");
        if (required === "time" && options.dateStyle !== undefined) throw new TypeErrorCtor("Invalid option : dateStyle");
      } else if (!((required !== "time" && has(DATE_FIELDS)) || (required !== "date" && has(TIME_FIELDS)))) {
        if (defaults !== "time") options.year = options.month = options.day = "numeric";
        if (defaults !== "date") options.hour = options.minute = options.second = "numeric";
      }
      const formatter = counted(what, () => construct(RealDateTimeFormat, [localesArg, options])) as object;
      return apply(formatGetter, formatter, []) as Format;
    };

    // A method, as the built-in is: no prototype, not a constructor.
    const wrapper = { [name](this: unknown, locales?: unknown, options?: unknown): string {
      let time: number;
      try {
        time = getTime(this);
      } catch {
        // Not a Date: the method's own TypeError, before it reads anything.
        return apply(real, this, [locales, options]);
      }
      if (isNaN(time)) return "Invalid Date";
      // Neither locales nor options: V8's one cached default formatter.
      if (locales === undefined && options === undefined) return apply(real, this, []);
      if (options === null) return apply(real, this, [locales, options]);
      const [localesArg, localesKey] = localesOf(locales);
      // Each option read once, in V8's order, into a copy V8 reads instead.
      const copy = bare({}) as Record<string, unknown>;
      let key = localesKey === undefined ? undefined : `${m}|${localesKey}|`;
      if (options !== undefined) {
        const names = namesOf();
        for (let i = 0; i < names.length; i++) {
          const value = (options as Record<string, unknown>)[names[i]];
          if (value === undefined) continue;
          copy[names[i]] = value;
          const text = part(value);
          key = text === undefined || key === undefined ? undefined : `${key}${names[i]}=${text};`;
        }
      }
      if (key === undefined) return make(localesArg, copy)(time);
      let format = cache[key];
      if (format === undefined) {
        format = make(localesArg, copy);
        const old = ring[next];
        if (old !== undefined) deleteProperty(cache, old);
        ring[next] = key;
        next = (next + 1) % DATE_LOCALE_CACHE_SIZE;
        cache[key] = format;
      }
      return format(time);
    } }[name];
    defineProperty(wrapper, "length", bare({ value: 0, configurable: true }));
    defineProperty(datePrototype, name, bare({ value: wrapper, writable: true, configurable: true }));
  }
}
