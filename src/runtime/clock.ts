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
}
