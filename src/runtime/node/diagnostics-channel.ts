// node:diagnostics_channel: named channels with subscribers and bound AsyncLocalStorage stores,
// and tracing channels (start/end/asyncStart/asyncEnd/error) with traceSync, tracePromise and
// traceCallback, with Node 24's semantics. A subscriber that throws does not stop the others: its
// error is rethrown from a microtask (Node rethrows it as an uncaught exception on the next tick).
// Channels are kept by name for the life of the sandbox (Node lets one with no subscribers be
// collected; here a worker that makes channels under ever new names keeps them all).

import { invalidArgType } from "./errors.ts";
import { queueTask } from "./process.ts";
import { validateFunction } from "./validators.ts";
import { primordials } from "../primordials.ts";

const { ArrayPrototypeIndexOf, ArrayPrototypePush, ArrayPrototypeSlice, ArrayPrototypeSplice, Map, MapPrototypeDelete, MapPrototypeGet, MapPrototypeGetSize, MapPrototypeHas, MapPrototypeSet, Promise, PromisePrototypeThen, PromiseReject, PromiseResolve, ReflectApply, SafeMapIterator } = primordials;

type Subscriber = (message: unknown, name: string | symbol) => void;
interface Store {
  run(store: unknown, fn: () => unknown): unknown;
}

function reportLater(error: unknown): void {
  queueTask(() => {
    throw error;
  });
}

export class Channel {
  _subscribers: Subscriber[] = [];
  _stores = new Map<Store, ((data: unknown) => unknown) | undefined>();
  readonly name: string | symbol;

  constructor(name: string | symbol) {
    this.name = name;
  }

  get hasSubscribers(): boolean {
    return this._subscribers.length > 0 || MapPrototypeGetSize(this._stores) > 0;
  }

  subscribe(subscription: unknown): void {
    validateFunction(subscription, "subscription");
    // A new array: a publish in progress keeps iterating the one it started with.
    const next = ArrayPrototypeSlice(this._subscribers);
    ArrayPrototypePush(next, subscription as Subscriber);
    this._subscribers = next;
  }

  unsubscribe(subscription: unknown): boolean {
    const index = ArrayPrototypeIndexOf(this._subscribers, subscription as Subscriber);
    if (index === -1) return false;
    const next = ArrayPrototypeSlice(this._subscribers);
    ArrayPrototypeSplice(next, index, 1);
    this._subscribers = next;
    return true;
  }

  bindStore(store: Store, transform?: (data: unknown) => unknown): void {
    MapPrototypeSet(this._stores, store, transform);
  }

  unbindStore(store: Store): boolean {
    if (!MapPrototypeHas(this._stores, store)) return false;
    MapPrototypeDelete(this._stores, store);
    return true;
  }

  publish(data: unknown): void {
    const subscribers = this._subscribers;
    for (let i = 0; i < subscribers.length; i++) {
      try {
        const onMessage = subscribers[i];
        onMessage(data, this.name);
      } catch (error) {
        reportLater(error);
      }
    }
  }

  /** Runs fn with each bound store entered (its transform applied to data), publishing data first. */
  runStores<R>(data: unknown, fn: (...args: unknown[]) => R, thisArg?: unknown, ...args: unknown[]): R {
    let run = (): unknown => {
      this.publish(data);
      return ReflectApply(fn, thisArg, args);
    };
    for (const entry of SafeMapIterator(this._stores)) {
      const store = entry[0];
      const transform = entry[1];
      const next = run;
      run = () => {
        let value: unknown;
        try {
          value = transform === undefined ? data : transform(data);
        } catch (error) {
          reportLater(error);
          return next();
        }
        return store.run(value, next);
      };
    }
    return run() as R;
  }
}

const channels = new Map<string | symbol, Channel>();

export function channel(name: unknown): Channel {
  let found = MapPrototypeGet(channels, name as string);
  if (found !== undefined) return found;
  if (typeof name !== "string" && typeof name !== "symbol") throw invalidArgType("channel", ["string", "symbol"], name);
  found = new Channel(name);
  MapPrototypeSet(channels, name, found);
  return found;
}

export function subscribe(name: unknown, subscription: unknown): void {
  channel(name).subscribe(subscription);
}

export function unsubscribe(name: unknown, subscription: unknown): boolean {
  return channel(name).unsubscribe(subscription);
}

export function hasSubscribers(name: unknown): boolean {
  const found = MapPrototypeGet(channels, name as string);
  return found !== undefined && found.hasSubscribers;
}

const traceEvents = ["start", "end", "asyncStart", "asyncEnd", "error"] as const;
type TraceEvent = (typeof traceEvents)[number];
type Context = Record<string, unknown>;

export class TracingChannel {
  start!: Channel;
  end!: Channel;
  asyncStart!: Channel;
  asyncEnd!: Channel;
  error!: Channel;

  constructor(nameOrChannels: unknown) {
    for (let i = 0; i < traceEvents.length; i++) {
      const event = traceEvents[i];
      let value: Channel;
      if (typeof nameOrChannels === "string") value = channel(`tracing:${nameOrChannels}:${event}`);
      else if (nameOrChannels !== null && typeof nameOrChannels === "object") {
        const given = (nameOrChannels as Record<string, unknown>)[event];
        if (!(given instanceof Channel)) throw invalidArgType(`nameOrChannels.${event}`, ["Channel"], given);
        value = given;
      } else throw invalidArgType("nameOrChannels", ["string", "object", "TracingChannel"], nameOrChannels);
      primordials.ObjectDefineProperty(this, event, { value, writable: false, enumerable: false, configurable: true });
    }
  }

  get hasSubscribers(): boolean {
    return this.start.hasSubscribers || this.end.hasSubscribers || this.asyncStart.hasSubscribers || this.asyncEnd.hasSubscribers || this.error.hasSubscribers;
  }

  subscribe(handlers: Partial<Record<TraceEvent, Subscriber>>): void {
    for (let i = 0; i < traceEvents.length; i++) {
      const handler = handlers[traceEvents[i]];
      if (handler !== undefined) this[traceEvents[i]].subscribe(handler);
    }
  }

  unsubscribe(handlers: Partial<Record<TraceEvent, Subscriber>>): boolean {
    let done = true;
    for (let i = 0; i < traceEvents.length; i++) {
      const handler = handlers[traceEvents[i]];
      if (handler !== undefined && !this[traceEvents[i]].unsubscribe(handler)) done = false;
    }
    return done;
  }

  traceSync<R>(fn: (...args: unknown[]) => R, context: Context = {}, thisArg?: unknown, ...args: unknown[]): R {
    if (!this.hasSubscribers) return ReflectApply(fn, thisArg, args);
    const { end, error } = this;
    return this.start.runStores(context, () => {
      try {
        const result = ReflectApply(fn, thisArg, args);
        context.result = result;
        return result;
      } catch (err) {
        context.error = err;
        error.publish(context);
        throw err;
      } finally {
        end.publish(context);
      }
    });
  }

  tracePromise<R>(fn: (...args: unknown[]) => R, context: Context = {}, thisArg?: unknown, ...args: unknown[]): Promise<Awaited<R>> | R {
    if (!this.hasSubscribers) return ReflectApply(fn, thisArg, args);
    const { end, asyncStart, asyncEnd, error } = this;
    const resolve = (result: unknown) => {
      context.result = result;
      asyncStart.publish(context);
      asyncEnd.publish(context);
      return result;
    };
    const reject = (err: unknown) => {
      context.error = err;
      error.publish(context);
      asyncStart.publish(context);
      asyncEnd.publish(context);
      return PromiseReject(err);
    };
    return this.start.runStores(context, () => {
      try {
        let promise = ReflectApply(fn, thisArg, args) as unknown;
        if (!(promise instanceof Promise)) promise = PromiseResolve(promise);
        return PromisePrototypeThen(promise as Promise<unknown>, resolve, reject) as Promise<Awaited<R>>;
      } catch (err) {
        context.error = err;
        error.publish(context);
        throw err;
      } finally {
        end.publish(context);
      }
    });
  }

  traceCallback<R>(fn: (...args: unknown[]) => R, position = -1, context: Context = {}, thisArg?: unknown, ...args: unknown[]): R {
    if (!this.hasSubscribers) return ReflectApply(fn, thisArg, args);
    const { start, end, asyncStart, asyncEnd, error } = this;
    const at = position < 0 ? args.length + position : position;
    const callback = args[at];
    validateFunction(callback, "callback");
    function wrappedCallback(this: unknown, err: unknown, result: unknown) {
      if (err) {
        context.error = err;
        error.publish(context);
      } else context.result = result;
      // eslint-disable-next-line prefer-rest-params
      const callArgs = arguments;
      const self = this;
      return asyncStart.runStores(context, () => {
        try {
          return ReflectApply(callback as (...a: unknown[]) => unknown, self, callArgs);
        } finally {
          asyncEnd.publish(context);
        }
      });
    }
    ArrayPrototypeSplice(args, at, 1, wrappedCallback);
    return start.runStores(context, () => {
      try {
        return ReflectApply(fn, thisArg, args);
      } catch (err) {
        context.error = err;
        error.publish(context);
        throw err;
      } finally {
        end.publish(context);
      }
    });
  }
}

export function tracingChannel(nameOrChannels: unknown): TracingChannel {
  return new TracingChannel(nameOrChannels);
}

export function createDiagnosticsChannelModule(): Record<string, unknown> {
  return { channel, hasSubscribers, subscribe, tracingChannel, unsubscribe, Channel };
}
