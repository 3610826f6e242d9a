// node:events: EventEmitter with Node's semantics (listener order, once wrappers, newListener /
// removeListener events, an 'error' without listeners throws, errorMonitor, captureRejections,
// the max-listeners warning) and the static helpers once(), on(), getEventListeners() and more.

import { invalidArgType, makeError, outOfRange } from "./errors.ts";
import { emitWarning, nextTick, queueTask } from "./process.ts";
import { inspect } from "./util/inspect.ts";
import { validateAbortSignal, validateBoolean, validateFunction, validateNumber, validateObject } from "./validators.ts";
import { primordials, SymbolAsyncIterator } from "../primordials.ts";

const { ArrayPrototypeFilter, ArrayPrototypeMap, ArrayPrototypePush, ArrayPrototypePushApply, ArrayPrototypeShift, ArrayPrototypeSlice, ArrayPrototypeSplice, ArrayPrototypeUnshift, Boolean, Error, FunctionPrototypeBind, NumberIsNaN, ObjectCreate, ObjectDefineProperty, ObjectEntries, ObjectGetPrototypeOf, Promise, PromiseReject, PromiseResolve, ReflectApply, ReflectOwnKeys, String, Symbol, SymbolFor } = primordials;

type Listener = ((...args: unknown[]) => unknown) & { listener?: Listener };
type ListenerList = Listener[] & { warned?: boolean };
type EventMap = Record<string | symbol, Listener | ListenerList | undefined>;

const kCapture = Symbol("kCapture");
export const errorMonitor = Symbol("events.errorMonitor");
export const captureRejectionSymbol = SymbolFor("nodejs.rejection");
// Defined once, by the core, in src/protocol/dispose.ts (non-configurable); read off the captured Symbol.
const disposeSymbol: symbol = (Symbol as unknown as { dispose: symbol }).dispose;

let defaultMaxListeners = 10;
let captureRejections = false;

export class AbortError extends Error {
  code = "ABORT_ERR";
  constructor(message = "The operation was aborted", options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AbortError";
  }
}

function checkListener(listener: unknown): asserts listener is Listener {
  validateFunction(listener, "listener");
}

interface EmitterFields {
  _events: EventMap | undefined;
  _eventsCount: number;
  _maxListeners: number | undefined;
  [kCapture]: boolean;
}

type EventName = string | symbol;

export interface EventEmitter extends EmitterFields {
  emit(type: EventName, ...args: unknown[]): boolean;
  on(type: EventName, listener: unknown): this;
  once(type: EventName, listener: unknown): this;
  prependListener(type: EventName, listener: unknown): this;
  removeListener(type: EventName, listener: unknown): this;
  removeAllListeners(type?: EventName): this;
  listeners(type: EventName): unknown[];
  listenerCount(type: EventName, listener?: unknown): number;
  setMaxListeners(n: number): this;
  getMaxListeners(): number;
  [key: string]: unknown;
}

/** Callable without `new` only through util.inherits-style subclassing, as in Node. */
export const EventEmitter = function EventEmitter(this: EventEmitter, options?: { captureRejections?: boolean }) {
  ReflectApply(init, this, [options]);
} as unknown as {
  new (options?: { captureRejections?: boolean }): EventEmitter;
  (this: EventEmitter, options?: { captureRejections?: boolean }): void;
  prototype: EventEmitter & Record<string, unknown>;
  [key: string]: unknown;
};

function init(this: EventEmitter, options?: { captureRejections?: boolean }): void {
  if (this._events === undefined || this._events === ObjectGetPrototypeOf(this)._events) {
    this._events = ObjectCreate(null);
    this._eventsCount = 0;
  }
  this._maxListeners = this._maxListeners || undefined;
  if (options?.captureRejections) {
    validateBoolean(options.captureRejections, "options.captureRejections");
    this[kCapture] = Boolean(options.captureRejections);
  } else this[kCapture] = EventEmitter.prototype[kCapture];
}

function addCatch(emitter: EventEmitter, promise: unknown, type: string | symbol, args: unknown[]): void {
  if (!emitter[kCapture]) return;
  try {
    const then = (promise as { then?: unknown }).then;
    if (typeof then === "function") ReflectApply(then, promise, [undefined, (error: unknown) => nextTick(emitUnhandledRejectionOrError, emitter, error, type, args)]);
  } catch (error) {
    emitter.emit("error", error);
  }
}

function emitUnhandledRejectionOrError(emitter: EventEmitter, error: unknown, type: string | symbol, args: unknown[]): void {
  const handler = emitter[captureRejectionSymbol as unknown as string];
  if (typeof handler === "function") {
    const previous = emitter[kCapture];
    try {
      emitter[kCapture] = false;
      const handlerArgs: unknown[] = [error, type];
      ArrayPrototypePushApply(handlerArgs, args);
      ReflectApply(handler, emitter, handlerArgs);
    } finally {
      emitter[kCapture] = previous;
    }
  } else {
    const previous = emitter[kCapture];
    try {
      emitter[kCapture] = false;
      emitter.emit("error", error);
    } finally {
      emitter[kCapture] = previous;
    }
  }
}

function maxListenersOf(emitter: EventEmitter): number {
  return emitter._maxListeners === undefined ? defaultMaxListeners : emitter._maxListeners;
}

function addListener(target: EventEmitter, type: string | symbol, listener: unknown, prepend: boolean): EventEmitter {
  checkListener(listener);
  let events = target._events;
  let existing: Listener | ListenerList | undefined;
  if (events === undefined) {
    events = target._events = ObjectCreate(null) as EventMap;
    target._eventsCount = 0;
  } else {
    if (events.newListener !== undefined) {
      target.emit("newListener", type, listener.listener ?? listener);
      events = target._events!;
    }
    existing = events[type];
  }
  if (existing === undefined) {
    events[type] = listener;
    ++target._eventsCount;
  } else {
    let list: ListenerList;
    if (typeof existing === "function") list = events[type] = prepend ? [listener, existing] : [existing, listener];
    else {
      list = existing;
      if (prepend) ArrayPrototypeUnshift(list, listener);
      else ArrayPrototypePush(list, listener);
    }
    const max = maxListenersOf(target);
    if (max > 0 && list.length > max && !list.warned) {
      list.warned = true;
      const warning = new Error(
        `Possible EventEmitter memory leak detected. ${list.length} ${String(type)} listeners added to ${inspect(target, { depth: -1 })}. Use emitter.setMaxListeners() to increase limit`,
      ) as Error & { emitter: unknown; type: unknown; count: number };
      warning.name = "MaxListenersExceededWarning";
      warning.emitter = target;
      warning.type = type;
      warning.count = list.length;
      emitWarning(warning);
    }
  }
  return target;
}

interface OnceState {
  fired: boolean;
  wrapFn: Listener | undefined;
  target: EventEmitter;
  type: string | symbol;
  listener: Listener;
}

function onceWrapper(this: OnceState, ...args: unknown[]): unknown {
  if (this.fired) return undefined;
  this.target.removeListener(this.type, this.wrapFn);
  this.fired = true;
  return ReflectApply(this.listener, this.target, args);
}

function onceWrap(target: EventEmitter, type: string | symbol, listener: Listener): Listener {
  const state: OnceState = { fired: false, wrapFn: undefined, target, type, listener };
  const wrapped = FunctionPrototypeBind(onceWrapper, state) as Listener;
  wrapped.listener = listener;
  state.wrapFn = wrapped;
  return wrapped;
}

function unwrapListeners(list: ListenerList): Listener[] {
  return ArrayPrototypeMap(list, (listener) => listener.listener ?? listener);
}

const methods: Record<string, unknown> = {
  setMaxListeners(this: EventEmitter, n: unknown) {
    validateNumber(n, "setMaxListeners", 0);
    this._maxListeners = n;
    return this;
  },
  getMaxListeners(this: EventEmitter) {
    return maxListenersOf(this);
  },
  emit(this: EventEmitter, type: string | symbol, ...args: unknown[]): boolean {
    let doError = type === "error";
    const events = this._events;
    if (events !== undefined) {
      if (doError && events[errorMonitor] !== undefined) {
        const monitorArgs: unknown[] = [errorMonitor];
        ArrayPrototypePushApply(monitorArgs, args);
        ReflectApply(this.emit, this, monitorArgs);
      }
      doError = doError && events.error === undefined;
    } else if (!doError) return false;
    if (doError) {
      const error = args.length > 0 ? args[0] : undefined;
      if (error instanceof Error) throw error;
      let shown: unknown;
      try {
        shown = inspect(error);
      } catch {
        shown = error;
      }
      const unhandled = makeError(Error, "ERR_UNHANDLED_ERROR", `Unhandled error. (${String(shown)})`) as Error & { context?: unknown };
      unhandled.context = error;
      throw unhandled;
    }
    const handler = events![type];
    if (handler === undefined) return false;
    if (typeof handler === "function") {
      const result = ReflectApply(handler, this, args);
      if (result !== undefined && result !== null) addCatch(this, result, type, args);
    } else {
      for (let i65 = 0, a65 = ArrayPrototypeSlice(handler); i65 < a65.length; i65++) {
        const listener = a65[i65];
        const result = ReflectApply(listener, this, args);
        if (result !== undefined && result !== null) addCatch(this, result, type, args);
      }
    }
    return true;
  },
  addListener(this: EventEmitter, type: string | symbol, listener: unknown) {
    return addListener(this, type, listener, false);
  },
  prependListener(this: EventEmitter, type: string | symbol, listener: unknown) {
    return addListener(this, type, listener, true);
  },
  once(this: EventEmitter, type: string | symbol, listener: unknown) {
    checkListener(listener);
    this.on(type, onceWrap(this, type, listener));
    return this;
  },
  prependOnceListener(this: EventEmitter, type: string | symbol, listener: unknown) {
    checkListener(listener);
    this.prependListener(type, onceWrap(this, type, listener));
    return this;
  },
  removeListener(this: EventEmitter, type: string | symbol, listener: unknown) {
    checkListener(listener);
    const events = this._events;
    if (events === undefined) return this;
    const list = events[type];
    if (list === undefined) return this;
    if (list === listener || (list as Listener).listener === listener) {
      this._eventsCount -= 1;
      if (this._eventsCount === 0) this._events = ObjectCreate(null);
      else {
        delete events[type];
        if (events.removeListener) this.emit("removeListener", type, (list as Listener).listener ?? listener);
      }
    } else if (typeof list !== "function") {
      let position = -1;
      for (let i = list.length - 1; i >= 0; i--) {
        if (list[i] === listener || list[i].listener === listener) {
          position = i;
          break;
        }
      }
      if (position < 0) return this;
      ArrayPrototypeSplice(list, position, 1);
      if (list.length === 1) events[type] = list[0];
      if (events.removeListener !== undefined) this.emit("removeListener", type, listener);
    }
    return this;
  },
  removeAllListeners(this: EventEmitter, ...rest: [type?: string | symbol]) {
    const events = this._events;
    if (events === undefined) return this;
    const type = rest[0] as string | symbol;
    if (events.removeListener === undefined) {
      if (rest.length === 0) {
        this._events = ObjectCreate(null);
        this._eventsCount = 0;
      } else if (events[type] !== undefined) {
        if (--this._eventsCount === 0) this._events = ObjectCreate(null);
        else delete events[type];
      }
      return this;
    }
    if (rest.length === 0) {
      for (let i66 = 0, a66 = ReflectOwnKeys(events); i66 < a66.length; i66++) {
        const key = a66[i66];
        if (key !== "removeListener") this.removeAllListeners(key);
      }
      this.removeAllListeners("removeListener");
      this._events = ObjectCreate(null);
      this._eventsCount = 0;
      return this;
    }
    const listeners = events[type];
    if (typeof listeners === "function") this.removeListener(type, listeners);
    else if (listeners !== undefined) for (let i = listeners.length - 1; i >= 0; i--) this.removeListener(type, listeners[i]);
    return this;
  },
  listeners(this: EventEmitter, type: string | symbol) {
    const listener = this._events?.[type];
    if (listener === undefined) return [];
    return typeof listener === "function" ? [listener.listener ?? listener] : unwrapListeners(listener);
  },
  rawListeners(this: EventEmitter, type: string | symbol) {
    const listener = this._events?.[type];
    if (listener === undefined) return [];
    return typeof listener === "function" ? [listener] : ArrayPrototypeSlice(listener);
  },
  listenerCount(this: EventEmitter, type: string | symbol, listener?: unknown) {
    const found = this._events?.[type];
    if (found === undefined) return 0;
    const list = typeof found === "function" ? [found] : found;
    if (listener == null) return list.length;
    return ArrayPrototypeFilter(list, (item) => item === listener || item.listener === listener).length;
  },
  eventNames(this: EventEmitter) {
    return this._eventsCount > 0 ? ReflectOwnKeys(this._events!) : [];
  },
};
methods.on = methods.addListener;
methods.off = methods.removeListener;

const proto = EventEmitter.prototype as unknown as Record<string | symbol, unknown>;
proto._events = undefined;
proto._eventsCount = 0;
proto._maxListeners = undefined;
for (let i67 = 0, a67 = ObjectEntries(methods); i67 < a67.length; i67++) {
  const name = a67[i67][0], value = a67[i67][1];
  ObjectDefineProperty(proto, name, { value, writable: true, configurable: true, enumerable: true });
}
ObjectDefineProperty(proto, kCapture, { value: false, writable: true, enumerable: false });

function isEmitter(value: unknown): value is EventEmitter {
  return value !== null && typeof value === "object" && typeof (value as EventEmitter).on === "function" && typeof (value as EventEmitter).removeListener === "function";
}

interface TargetLike {
  addEventListener(type: string, listener: (...args: unknown[]) => void, options?: object): void;
  removeEventListener(type: string, listener: (...args: unknown[]) => void, options?: object): void;
}

function isTargetLike(value: unknown): value is TargetLike {
  return value !== null && typeof value === "object" && typeof (value as TargetLike).addEventListener === "function";
}

function addAgnostic(emitter: unknown, name: string | symbol, listener: Listener, once: boolean): void {
  if (isEmitter(emitter)) {
    if (once) emitter.once(name, listener);
    else emitter.on(name, listener);
  } else if (isTargetLike(emitter)) emitter.addEventListener(name as string, listener, { once });
  else throw invalidArgType("emitter", "EventEmitter", emitter);
}

function removeAgnostic(emitter: unknown, name: string | symbol, listener: Listener): void {
  if (isEmitter(emitter)) emitter.removeListener(name, listener);
  else if (isTargetLike(emitter)) emitter.removeEventListener(name as string, listener);
}

type Signal = TargetLike & { aborted: boolean; reason?: unknown };

export function once(emitter: unknown, name: string | symbol, options: { signal?: Signal } = {}): Promise<unknown[]> {
  try {
    validateObject(options, "options");
    validateAbortSignal(options.signal, "options.signal");
  } catch (error) {
    return PromiseReject(error);
  }
  const signal = options.signal;
  if (signal?.aborted) return PromiseReject(new AbortError(undefined, { cause: signal.reason }));
  return new Promise((resolve, reject) => {
    const errorListener: Listener = (error) => {
      removeAgnostic(emitter, name, resolver);
      if (signal != null) signal.removeEventListener("abort", abortListener);
      reject(error);
    };
    const resolver: Listener = (...args) => {
      if (isEmitter(emitter)) emitter.removeListener("error", errorListener);
      if (signal != null) signal.removeEventListener("abort", abortListener);
      resolve(args);
    };
    const abortListener = () => {
      removeAgnostic(emitter, name, resolver);
      removeAgnostic(emitter, "error", errorListener);
      reject(new AbortError(undefined, { cause: signal?.reason }));
    };
    addAgnostic(emitter, name, resolver, true);
    // Only emitters have 'error' semantics; an EventTarget's "error" is an ordinary event.
    if (name !== "error" && isEmitter(emitter)) emitter.once("error", errorListener);
    if (signal != null) signal.addEventListener("abort", abortListener, { once: true });
  });
}

/** An async iterator over an emitter's events; an 'error' event rejects, `close` events end it. */
export function on(emitter: unknown, event: string | symbol, options: { signal?: Signal; close?: (string | symbol)[] } = {}): AsyncIterableIterator<unknown[]> {
  validateObject(options, "options");
  const signal = options.signal;
  validateAbortSignal(signal, "options.signal");
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
  const unconsumed: unknown[][] = [];
  const pending: { resolve(value: IteratorResult<unknown[]>): void; reject(error: unknown): void }[] = [];
  let error: unknown = null;
  let finished = false;
  const eventHandler: Listener = (...args) => {
    const waiter = ArrayPrototypeShift(pending);
    if (waiter) waiter.resolve({ value: args, done: false });
    else ArrayPrototypePush(unconsumed, args);
  };
  const errorHandler: Listener = (err) => {
    finished = true;
    const waiter = ArrayPrototypeShift(pending);
    if (waiter) waiter.reject(err);
    else error = err;
    void iterator.return();
  };
  const abortListener = () => errorHandler(new AbortError(undefined, { cause: signal?.reason }));
  const closeHandler: Listener = () => {
    void iterator.return();
  };
  const cleanup = () => {
    removeAgnostic(emitter, event, eventHandler);
    removeAgnostic(emitter, "error", errorHandler);
    for (let i68 = 0, a68 = options.close ?? []; i68 < a68.length; i68++) {
      const name = a68[i68];
      removeAgnostic(emitter, name, closeHandler);
    }
    signal?.removeEventListener("abort", abortListener);
  };
  const iterator = {
    next(): Promise<IteratorResult<unknown[]>> {
      const value = ArrayPrototypeShift(unconsumed);
      if (value) return PromiseResolve({ value, done: false });
      if (error) {
        const failure = PromiseReject(error as Error);
        error = null;
        return failure;
      }
      if (finished) return PromiseResolve({ value: undefined, done: true });
      return new Promise<IteratorResult<unknown[]>>((resolve, reject) => ArrayPrototypePush(pending, { resolve, reject }));
    },
    return(): Promise<IteratorResult<unknown[]>> {
      cleanup();
      finished = true;
      for (let i69 = 0, a69 = ArrayPrototypeSplice(pending, 0); i69 < a69.length; i69++) {
        const waiter = a69[i69];
        waiter.resolve({ value: undefined, done: true });
      }
      return PromiseResolve({ value: undefined, done: true as const });
    },
    throw(err: unknown): Promise<IteratorResult<unknown[]>> {
      if (!(err instanceof Error)) throw invalidArgType("EventEmitter.AsyncIterator", "Error", err);
      error = err;
      cleanup();
      return PromiseReject(err);
    },
    [SymbolAsyncIterator]() {
      return this;
    },
  };
  addAgnostic(emitter, event, eventHandler, false);
  if (event !== "error" && isEmitter(emitter)) emitter.on("error", errorHandler);
  for (let i70 = 0, a70 = options.close ?? []; i70 < a70.length; i70++) {
    const name = a70[i70];
    addAgnostic(emitter, name, closeHandler, false);
  }
  signal?.addEventListener("abort", abortListener, { once: true });
  return iterator;
}

export function getEventListeners(emitter: unknown, type: string | symbol): unknown[] {
  if (isEmitter(emitter)) return (emitter.listeners as (type: string | symbol) => unknown[])(type);
  throw invalidArgType("emitter", ["EventEmitter"], emitter);
}

export function getMaxListeners(emitter: unknown): number {
  if (isEmitter(emitter) && typeof emitter.getMaxListeners === "function") return (emitter.getMaxListeners as () => number)();
  throw invalidArgType("emitter", ["EventEmitter"], emitter);
}

export function setMaxListeners(n: unknown = defaultMaxListeners, ...targets: unknown[]): void {
  validateNumber(n, "n", 0);
  if (targets.length === 0) {
    defaultMaxListeners = n;
    return;
  }
  for (let i71 = 0, a71 = targets; i71 < a71.length; i71++) {
    const target = a71[i71];
    if (isEmitter(target) && typeof target.setMaxListeners === "function") (target.setMaxListeners as (n: number) => void)(n);
    // An EventTarget here never warns about its listener count, so there is no limit to set.
    else if (!isTargetLike(target)) throw invalidArgType("eventTargets", ["EventEmitter", "EventTarget"], target);
  }
}

export function listenerCount(emitter: EventEmitter, type: string | symbol): number {
  return (emitter.listenerCount as (type: string | symbol) => number)(type);
}

export function addAbortListener(signal: unknown, listener: unknown): { [key: symbol]: () => void } {
  if (signal === undefined) throw invalidArgType("signal", "AbortSignal", signal);
  validateAbortSignal(signal, "signal");
  validateFunction(listener, "listener");
  const target = signal as Signal;
  let remove: (() => void) | undefined;
  if (target.aborted) queueTask(() => (listener as () => void)());
  else {
    target.addEventListener("abort", listener as () => void, { once: true });
    remove = () => target.removeEventListener("abort", listener as () => void);
  }
  return { [disposeSymbol]: () => remove?.() };
}

const statics: Record<string, unknown> = {
  once,
  on,
  getEventListeners,
  getMaxListeners,
  EventEmitter,
  usingDomains: false,
  captureRejectionSymbol,
  errorMonitor,
  setMaxListeners,
  init,
  listenerCount,
  addAbortListener,
};
for (let i72 = 0, a72 = ObjectEntries(statics); i72 < a72.length; i72++) {
  const name = a72[i72][0], value = a72[i72][1];
  ObjectDefineProperty(EventEmitter, name, { value, writable: true, configurable: true, enumerable: true });
}
ObjectDefineProperty(EventEmitter, "captureRejections", {
  get: () => captureRejections,
  set(value: unknown) {
    validateBoolean(value, "EventEmitter.captureRejections");
    captureRejections = value;
    proto[kCapture] = value;
  },
  enumerable: true,
  configurable: true,
});
ObjectDefineProperty(EventEmitter, "defaultMaxListeners", {
  get: () => defaultMaxListeners,
  set(value: unknown) {
    if (typeof value !== "number" || value < 0 || NumberIsNaN(value)) throw outOfRange("defaultMaxListeners", "a non-negative number", value);
    defaultMaxListeners = value;
  },
  enumerable: true,
  configurable: true,
});

