// node:timers and node:timers/promises over the sandbox's own timers (platform setTimer, which
// fire only while an invocation is in flight, like the globals, and count toward the same 10,000).
// setTimeout and setInterval return a Timeout (ref/unref/hasRef/refresh/close, and a number as its
// primitive, which the global clearTimeout also takes); setImmediate is a timer of 0 ms, in order.

import { AbortError } from "./events.ts";
import { validateAbortSignal, validateBoolean, validateFunction, validateObject } from "./validators.ts";
import { asyncContext, clearTimer, setTimer } from "../platform.ts";
import { primordials, SymbolAsyncIterator, SymbolToPrimitive } from "../primordials.ts";

const { ArrayPrototypePush, ArrayPrototypeShift, Map, MapPrototypeDelete, MapPrototypeGet, MapPrototypeSet, NumberIsFinite, ObjectDefineProperty, Promise, PromiseReject, PromiseResolve, ReflectApply, Symbol, SymbolFor } = primordials;

const TIMEOUT_MAX = 2 ** 31 - 1;
// Defined once, by the core, in src/protocol/dispose.ts (non-configurable); read off the captured Symbol.
const disposeSymbol: symbol = (Symbol as unknown as { dispose: symbol }).dispose;
const inspectSymbol = SymbolFor("nodejs.util.inspect.custom");

/** Node's delay rule: a number in [1, 2^31-1], anything else is 1. */
function delayOf(value: unknown): number {
  const ms = +(value as number);
  return ms >= 1 && ms <= TIMEOUT_MAX && NumberIsFinite(ms) ? ms : 1;
}

/** Timeouts whose primitive (id) was read: clearTimeout(id) finds them, as Node's knownTimersById. */
const byId = new Map<number, Timeout>();

export class Timeout {
  #callback: (...args: unknown[]) => void;
  #args: unknown[];
  #delay: number;
  #repeat: boolean;
  #timer = 0;
  #id = 0;
  #ref = true;
  #destroyed = false;

  constructor(callback: (...args: unknown[]) => void, delay: number, args: unknown[], repeat: boolean) {
    this.#callback = asyncContext().bind(callback);
    this.#args = args;
    this.#delay = delay;
    this.#repeat = repeat;
    this.#start();
  }

  #start(): void {
    this.#timer = setTimer(() => this.#fire(), this.#delay);
    if (this.#id === 0) this.#id = this.#timer;
  }

  #fire(): void {
    if (this.#repeat) this.#start();
    else this.#destroy();
    ReflectApply(this.#callback, this, this.#args);
  }

  #destroy(): void {
    this.#destroyed = true;
    MapPrototypeDelete(byId, this.#id);
  }

  get _destroyed(): boolean {
    return this.#destroyed;
  }

  get _idleTimeout(): number {
    return this.#destroyed ? -1 : this.#delay;
  }

  ref(): this {
    this.#ref = true;
    return this;
  }

  unref(): this {
    this.#ref = false;
    return this;
  }

  hasRef(): boolean {
    return this.#ref;
  }

  /** Starts the timer again from now, with the same delay; a cleared or finished timer stays so. */
  refresh(): this {
    if (!this.#destroyed) {
      clearTimer(this.#timer);
      this.#start();
    }
    return this;
  }

  close(): this {
    clearTimer(this.#timer);
    this.#destroy();
    return this;
  }

  [SymbolToPrimitive](): number {
    if (!this.#destroyed) MapPrototypeSet(byId, this.#id, this);
    return this.#id;
  }
}
ObjectDefineProperty(Timeout.prototype, disposeSymbol, {
  value(this: Timeout) {
    this.close();
  },
  writable: true,
  configurable: true,
});

export class Immediate {
  #callback: ((...args: unknown[]) => void) | undefined;
  #args: unknown[];
  #timer: number;
  #ref = true;

  constructor(callback: (...args: unknown[]) => void, args: unknown[]) {
    this.#callback = asyncContext().bind(callback);
    this.#args = args;
    this.#timer = setTimer(() => {
      const callback = this.#callback;
      this.#callback = undefined;
      if (callback !== undefined) ReflectApply(callback, this, this.#args);
    }, 0);
  }

  get _destroyed(): boolean {
    return this.#callback === undefined;
  }

  ref(): this {
    this.#ref = true;
    return this;
  }

  unref(): this {
    this.#ref = false;
    return this;
  }

  hasRef(): boolean {
    return this.#ref;
  }

  /** Called by clearImmediate. */
  _clear(): void {
    if (this.#callback === undefined) return;
    this.#callback = undefined;
    clearTimer(this.#timer);
  }
}
ObjectDefineProperty(Immediate.prototype, disposeSymbol, {
  value(this: Immediate) {
    this._clear();
  },
  writable: true,
  configurable: true,
});
ObjectDefineProperty(Immediate.prototype, inspectSymbol, {
  value: () => "Immediate {}",
  writable: true,
  configurable: true,
});

export function setTimeout(callback: unknown, delay?: unknown, ...args: unknown[]): Timeout {
  validateFunction(callback, "callback");
  return new Timeout(callback as (...a: unknown[]) => void, delayOf(delay), args, false);
}

export function setInterval(callback: unknown, delay?: unknown, ...args: unknown[]): Timeout {
  validateFunction(callback, "callback");
  return new Timeout(callback as (...a: unknown[]) => void, delayOf(delay), args, true);
}

export function setImmediate(callback: unknown, ...args: unknown[]): Immediate {
  validateFunction(callback, "callback");
  return new Immediate(callback as (...a: unknown[]) => void, args);
}

/** Takes a Timeout, the number or string its primitive gave, or a global timer's id. */
export function clearTimeout(timer: unknown): void {
  if (timer instanceof Timeout) {
    timer.close();
    return;
  }
  if (typeof timer === "number" || typeof timer === "string") {
    const known = MapPrototypeGet(byId, +timer);
    if (known !== undefined) known.close();
    else clearTimer(+timer);
  }
}

export const clearInterval = clearTimeout;

export function clearImmediate(immediate: unknown): void {
  if (immediate instanceof Immediate) immediate._clear();
}

// ---- timers/promises

interface Signal {
  aborted: boolean;
  reason: unknown;
  addEventListener(type: string, listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: string, listener: () => void): void;
}

function checkOptions(options: unknown): Signal | undefined {
  validateObject(options, "options");
  const { signal, ref } = options as { signal?: unknown; ref?: unknown };
  validateAbortSignal(signal, "options.signal");
  if (ref !== undefined) validateBoolean(ref, "options.ref");
  return signal as Signal | undefined;
}

function abortError(signal: Signal): AbortError {
  return new AbortError(undefined, { cause: signal.reason });
}

/** A promise of `value` after `start(done)` calls done, rejected with an AbortError if the signal aborts first. */
function cancellable<T>(signal: Signal | undefined, value: T, start: (done: () => void) => number, cancel: (handle: number) => void): Promise<T> {
  if (signal?.aborted) return PromiseReject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    let onAbort: (() => void) | undefined;
    const handle = start(() => {
      if (onAbort !== undefined) signal!.removeEventListener("abort", onAbort);
      resolve(value);
    });
    if (signal !== undefined) {
      onAbort = () => {
        cancel(handle);
        reject(abortError(signal));
      };
      signal.addEventListener("abort", onAbort, { once: true });
    }
  });
}

function promiseSetTimeout<T = void>(delay?: unknown, value?: T, options: unknown = {}): Promise<T> {
  let signal: Signal | undefined;
  try {
    signal = checkOptions(options);
  } catch (error) {
    return PromiseReject(error);
  }
  return cancellable(signal, value as T, (done) => setTimer(done, delayOf(delay)), clearTimer);
}

function promiseSetImmediate<T = void>(value?: T, options: unknown = {}): Promise<T> {
  let signal: Signal | undefined;
  try {
    signal = checkOptions(options);
  } catch (error) {
    return PromiseReject(error);
  }
  return cancellable(signal, value as T, (done) => setTimer(done, 0), clearTimer);
}

/** An async iterator yielding `value` every `delay` ms; ticks missed while nobody waits are yielded at once, as Node does. */
function promiseSetInterval<T = void>(delay?: unknown, value?: T, options: unknown = {}): AsyncIterableIterator<T> {
  validateObject(options, "options");
  const signal = checkOptions(options);
  const ms = delayOf(delay);
  let pending = 0;
  let done = false;
  let timer = 0;
  const waiters: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }[] = [];
  const stop = () => {
    if (done) return;
    done = true;
    clearTimer(timer);
    if (signal !== undefined) signal.removeEventListener("abort", onAbort);
  };
  const tick = () => {
    timer = setTimer(tick, ms);
    const waiter = ArrayPrototypeShift(waiters);
    if (waiter !== undefined) waiter.resolve({ value: value as T, done: false });
    else pending++;
  };
  const onAbort = () => {
    stop();
    for (let w = ArrayPrototypeShift(waiters); w !== undefined; w = ArrayPrototypeShift(waiters)) w.reject(abortError(signal!));
  };
  if (signal?.aborted) done = true;
  else {
    timer = setTimer(tick, ms);
    if (signal !== undefined) signal.addEventListener("abort", onAbort, { once: true });
  }
  const iterator = {
    next(): Promise<IteratorResult<T>> {
      if (signal?.aborted) return PromiseReject(abortError(signal));
      if (pending > 0) {
        pending--;
        return PromiseResolve({ value: value as T, done: false });
      }
      if (done) return PromiseResolve({ value: undefined as T, done: true });
      return new Promise((resolve, reject) => ArrayPrototypePush(waiters, { resolve, reject }));
    },
    return(): Promise<IteratorResult<T>> {
      stop();
      for (let w = ArrayPrototypeShift(waiters); w !== undefined; w = ArrayPrototypeShift(waiters)) w.resolve({ value: undefined as T, done: true });
      return PromiseResolve({ value: undefined as T, done: true });
    },
    [SymbolAsyncIterator]() {
      return this;
    },
  };
  return iterator as AsyncIterableIterator<T>;
}

const scheduler = {
  wait(delay: unknown, options?: unknown): Promise<void> {
    return promiseSetTimeout(delay, undefined, options);
  },
  yield(): Promise<void> {
    return promiseSetImmediate();
  },
};

let promisesModule: Record<string, unknown> | undefined;

export function createTimersPromises(): Record<string, unknown> {
  return (promisesModule ??= { setTimeout: promiseSetTimeout, setImmediate: promiseSetImmediate, setInterval: promiseSetInterval, scheduler });
}

export function createTimersModule(): Record<string, unknown> {
  return { setTimeout, clearTimeout, setImmediate, clearImmediate, setInterval, clearInterval, promises: createTimersPromises() };
}
