// Spectre hygiene: time stands still while the sandbox computes and moves only when the host
// enters the isolate (a call, a reply, a timer), so code cannot time itself at high resolution.

import { capDateLocaleMethods } from "./globals/date-locale.ts";
import { capIntlObjects, intlCounter, localeChecks, type IntlCounter } from "./globals/intl.ts";
import type { OffHeapBudget } from "./globals/buffers.ts";
import { primordials, SymbolToStringTag } from "./primordials.ts";

const { DatePrototypeToString, ObjectDefineProperties, ObjectDefineProperty, ReflectConstruct } = primordials;

let now = 0;
let origin = 0;

/** The frozen clock's time (what the sandbox's Date.now() answers), for the runtime's own use. */
export function clockNow(): number {
  return now;
}

export function setClock(ms: number): void {
  if (ms > now) now = ms;
  if (origin === 0) origin = ms;
}

let started = false;

/**
 * The worker's start (its env set, before any of its modules run): performance.timeOrigin is now.
 * A sandbox from the warm pool booted earlier, and a timeOrigin from its boot told its first
 * worker how long it waited in the pool, and so when the loader's previous load was (findings16/06).
 */
export function startClock(ms: number): void {
  setClock(ms);
  if (started) return;
  started = true;
  origin = ms;
}

/**
 * `memoryMb` answers the sandbox's limit: it is read on the first use of Intl, not now (the globals
 * are installed when the core's snapshot is made, before a sandbox has a limit; see index.ts prepare()).
 */
export function installFrozenClock(global: Record<string, unknown>, RealDate: DateConstructor, memoryMb?: () => number, offHeap?: OffHeapBudget): void {
  // RealDate must never reach user code: it is called only through captured intrinsics (a
  // replaced ReflectConstruct would otherwise be handed it, and with it the real clock).
  const FrozenDate = function Date(this: unknown, ...args: unknown[]) {
    if (new.target === undefined) return DatePrototypeToString(ReflectConstruct(RealDate, [now]));
    return ReflectConstruct(RealDate, args.length === 0 ? [now] : args, new.target);
  } as unknown as DateConstructor;
  ObjectDefineProperties(FrozenDate, {
    now: { __proto__: null, value: function now_() { return now; }, writable: true, configurable: true },
    parse: { __proto__: null, value: RealDate.parse, writable: true, configurable: true },
    UTC: { __proto__: null, value: RealDate.UTC, writable: true, configurable: true },
    prototype: { __proto__: null, value: RealDate.prototype },
    length: { __proto__: null, value: 7 },
  } as PropertyDescriptorMap);
  ObjectDefineProperty(RealDate.prototype, "constructor", { __proto__: null, value: FrozenDate, writable: true, configurable: true } as PropertyDescriptor);
  ObjectDefineProperty(global, "Date", { __proto__: null, value: FrozenDate, writable: true, configurable: true } as PropertyDescriptor);

  const performance = {
    get timeOrigin() {
      return origin;
    },
    now() {
      return now - origin;
    },
    toJSON() {
      return { timeOrigin: origin };
    },
  };
  ObjectDefineProperty(performance, SymbolToStringTag, { __proto__: null, value: "Performance" } as PropertyDescriptor);
  ObjectDefineProperty(global, "performance", { __proto__: null, value: performance, writable: true, configurable: true } as PropertyDescriptor);
  if (memoryMb === undefined) return freezeIntlClock(global, undefined);
  // One count of live Intl objects for the Intl constructors (capped on the first touch of Intl)
  // and Date's toLocale*String (capped now: Date is reachable without Intl), made on first use.
  const intl = global.Intl as Record<string, unknown> | undefined;
  if (intl === undefined || intl === null) return;
  let counter: IntlCounter | undefined;
  const counted: IntlCounter = (what, make, copied) => (counter ??= intlCounter(memoryMb(), offHeap))(what, make, copied);
  const checks = localeChecks(intl);
  capDateLocaleMethods(RealDate.prototype, intl, counted, checks);
  freezeIntlClock(global, (target) => capIntlObjects(target, memoryMb(), offHeap, counted, checks));
}

/**
 * Intl.DateTimeFormat's format() and formatToParts() read the real clock when given no date, and
 * with fractionalSecondDigits they show milliseconds: they get the frozen time instead. Intl is
 * reachable only through its global, so that becomes an accessor that freezes the clock on first
 * touch (most sandboxes never use Intl, and each patched prototype costs memory). Everything the
 * patch uses is captured now, and its descriptors have no prototype, so code that ran before the
 * first touch (replacing WeakMap.prototype.get, or adding Object.prototype.value) cannot change it.
 */
function freezeIntlClock(global: Record<string, unknown>, capIntl: ((intl: Record<string, unknown>) => void) | undefined): void {
  const intl = global.Intl as { DateTimeFormat?: { prototype: object } } | undefined;
  if (intl === undefined || intl === null) return;
  const { ReflectApply: apply, ObjectDefineProperty: defineProperty, ObjectGetOwnPropertyDescriptor: getOwnDescriptor, WeakMap: WeakMapCtor } = primordials;
  const weakGet = WeakMapCtor.prototype.get;
  const weakSet = WeakMapCtor.prototype.set;
  let frozen = false;
  const freeze = () => {
    if (frozen) return;
    frozen = true;
    // Live Intl objects are counted and capped (globals/intl.ts): their ICU state is off the heap.
    capIntl?.(intl as unknown as Record<string, unknown>);
    const DateTimeFormat = intl.DateTimeFormat;
    if (DateTimeFormat === undefined) return;
    const proto = DateTimeFormat.prototype;
    const realFormat = getOwnDescriptor(proto, "format")?.get;
    const realFormatToParts = (proto as { formatToParts?: (date?: unknown) => unknown }).formatToParts;
    if (realFormat === undefined || realFormatToParts === undefined) return;
    // format is a getter returning the same bound function every time; so is the replacement.
    const bound = new WeakMapCtor<object, (date?: unknown) => string>();
    defineProperty(proto, "format", {
      __proto__: null,
      configurable: true,
      get(this: object) {
        const real = apply(realFormat, this, []) as (date?: unknown) => string;
        let format = apply(weakGet, bound, [real]) as ((date?: unknown) => string) | undefined;
        if (format === undefined) {
          format = (date?: unknown) => real(date === undefined ? now : date);
          defineProperty(format, "name", { __proto__: null, value: "" } as PropertyDescriptor);
          apply(weakSet, bound, [real, format]);
        }
        return format;
      },
    } as PropertyDescriptor);
    defineProperty(proto, "formatToParts", {
      __proto__: null,
      writable: true,
      configurable: true,
      value: function formatToParts(this: object, date?: unknown) {
        return apply(realFormatToParts, this, [date === undefined ? now : date]);
      },
    } as PropertyDescriptor);
  };
  const settle = (value: unknown) => {
    defineProperty(global, "Intl", { __proto__: null, value, writable: true, configurable: true, enumerable: false } as PropertyDescriptor);
    return value;
  };
  defineProperty(global, "Intl", {
    __proto__: null,
    configurable: true,
    enumerable: false,
    get() {
      freeze();
      return settle(intl);
    },
    set(value: unknown) {
      settle(value);
    },
  } as PropertyDescriptor);
}
