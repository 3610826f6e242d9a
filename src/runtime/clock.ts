// Spectre hygiene: time stands still while the sandbox computes and moves only when the host
// enters the isolate (a call, a reply, a timer), so code cannot time itself at high resolution.

let now = 0;
let origin = 0;

export function setClock(ms: number): void {
  if (ms > now) now = ms;
  if (origin === 0) origin = ms;
}

export function installFrozenClock(global: Record<string, unknown>, RealDate: DateConstructor): void {
  const FrozenDate = function Date(this: unknown, ...args: unknown[]) {
    if (new.target === undefined) return new RealDate(now).toString();
    return Reflect.construct(RealDate, args.length === 0 ? [now] : args, new.target);
  } as unknown as DateConstructor;
  Object.defineProperties(FrozenDate, {
    now: { value: function now_() { return now; }, writable: true, configurable: true },
    parse: { value: RealDate.parse, writable: true, configurable: true },
    UTC: { value: RealDate.UTC, writable: true, configurable: true },
    prototype: { value: RealDate.prototype },
    length: { value: 7 },
  });
  Object.defineProperty(RealDate.prototype, "constructor", { value: FrozenDate, writable: true, configurable: true });
  Object.defineProperty(global, "Date", { value: FrozenDate, writable: true, configurable: true });

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
  Object.defineProperty(performance, Symbol.toStringTag, { value: "Performance" });
  Object.defineProperty(global, "performance", { value: performance, writable: true, configurable: true });
  freezeIntlClock(global);
}

/**
 * Intl.DateTimeFormat's format() and formatToParts() read the real clock when given no date, and
 * with fractionalSecondDigits they show milliseconds: they get the frozen time instead.
 */
function freezeIntlClock(global: Record<string, unknown>): void {
  const DateTimeFormat = (global.Intl as { DateTimeFormat?: { prototype: object } } | undefined)?.DateTimeFormat;
  if (DateTimeFormat === undefined) return;
  const proto = DateTimeFormat.prototype;
  // Captured now: a sandbox that replaced WeakMap.prototype.get could otherwise catch the real format.
  const apply = Reflect.apply;
  const defineProperty = Object.defineProperty;
  const weakGet = WeakMap.prototype.get;
  const weakSet = WeakMap.prototype.set;
  const realFormat = Object.getOwnPropertyDescriptor(proto, "format")?.get;
  const realFormatToParts = (proto as { formatToParts?: (date?: unknown) => unknown }).formatToParts;
  if (realFormat === undefined || realFormatToParts === undefined) return;
  // format is a getter returning the same bound function every time; so is the replacement.
  const bound = new WeakMap<object, (date?: unknown) => string>();
  Object.defineProperty(proto, "format", {
    configurable: true,
    get(this: object) {
      const real = apply(realFormat, this, []) as (date?: unknown) => string;
      let format = apply(weakGet, bound, [real]) as ((date?: unknown) => string) | undefined;
      if (format === undefined) {
        format = (date?: unknown) => real(date === undefined ? now : date);
        defineProperty(format, "name", { value: "" });
        apply(weakSet, bound, [real, format]);
      }
      return format;
    },
  });
  Object.defineProperty(proto, "formatToParts", {
    writable: true,
    configurable: true,
    value: function formatToParts(this: object, date?: unknown) {
      return apply(realFormatToParts, this, [date === undefined ? now : date]);
    },
  });
}
