// node:async_hooks: AsyncLocalStorage and AsyncResource on the core's async context
// (src/runtime/async-context.ts), with Node 24's semantics (its AsyncContextFrame: a frame is an
// immutable map from storage to store; enterWith replaces the current frame, run() restores the
// storage's prior store when it returns). The store follows await, then, timers, queueMicrotask
// and process.nextTick only in a worker whose code imports node:async_hooks (the host then lowers
// its async functions, loader/code/async-lowering.ts); elsewhere run() and getStore() still work
// within synchronous code. createHook and the async ids exist, as in workerd, and do nothing.

import { invalidArgType } from "./errors.ts";
import { validateFunction, validateObject, validateString } from "./validators.ts";
import { asyncContext } from "../platform.ts";
import { primordials } from "../primordials.ts";

const { ArrayPrototypeUnshift, Map, MapPrototypeDelete, MapPrototypeGet, MapPrototypeHas, MapPrototypeSet, ObjectCreate, ObjectDefineProperty, ObjectFreeze, ObjectIs, ReflectApply, SafeMapIterator, String, Symbol } = primordials;

type Frame = Map<AsyncLocalStorage, unknown>;

const disposeSymbol: symbol = (Symbol as unknown as { dispose: symbol }).dispose;

function currentFrame(): Frame | undefined {
  return asyncContext().get() as Frame | undefined;
}

/** A new frame: the current one's entries plus storage → store. */
function frameWith(storage: AsyncLocalStorage, store: unknown): Frame {
  const frame: Frame = new Map();
  const prior = currentFrame();
  // Entries read by index: destructuring would run the array iterator, which user code can replace.
  if (prior !== undefined) for (const entry of SafeMapIterator(prior)) MapPrototypeSet(frame, entry[0], entry[1]);
  MapPrototypeSet(frame, storage, store);
  return frame;
}

let nextAsyncId = 1;

export class AsyncResource {
  #frame: Frame | undefined;
  #asyncId: number;
  #triggerAsyncId: number;

  constructor(type: unknown, options?: unknown) {
    validateString(type, "type");
    let trigger = 0;
    if (typeof options === "number") trigger = options;
    else if (options !== undefined && options !== null && typeof options === "object") {
      const value = (options as { triggerAsyncId?: unknown }).triggerAsyncId;
      if (typeof value === "number") trigger = value;
    }
    this.#frame = currentFrame();
    this.#asyncId = ++nextAsyncId;
    this.#triggerAsyncId = trigger;
  }

  runInAsyncScope<T>(fn: (...args: unknown[]) => T, thisArg?: unknown, ...args: unknown[]): T {
    const context = asyncContext();
    const prior = context.get();
    context.set(this.#frame);
    try {
      return ReflectApply(fn, thisArg, args);
    } finally {
      context.set(prior);
    }
  }

  emitDestroy(): this {
    return this;
  }

  asyncId(): number {
    return this.#asyncId;
  }

  triggerAsyncId(): number {
    return this.#triggerAsyncId;
  }

  bind<F extends (...args: never[]) => unknown>(fn: F, thisArg?: unknown): F {
    validateFunction(fn, "fn");
    const resource = this;
    const bound =
      thisArg === undefined
        ? function (this: unknown, ...args: unknown[]) {
            ArrayPrototypeUnshift(args, fn, this);
            return ReflectApply(resource.runInAsyncScope, resource, args);
          }
        : (...args: unknown[]) => {
            ArrayPrototypeUnshift(args, fn, thisArg);
            return ReflectApply(resource.runInAsyncScope, resource, args);
          };
    ObjectDefineProperty(bound, "length", { value: fn.length, configurable: true });
    ObjectDefineProperty(bound, "asyncResource", { value: resource, configurable: true, writable: true, enumerable: true });
    return bound as unknown as F;
  }

  static bind<F extends (...args: never[]) => unknown>(fn: F, type?: unknown, thisArg?: unknown): F {
    return new AsyncResource(type === undefined ? (fn.name || "bound-anonymous-fn") : type).bind(fn, thisArg);
  }
}

export class AsyncLocalStorage {
  #defaultValue: unknown;
  #name: string | undefined;

  constructor(options: unknown = {}) {
    validateObject(options, "options");
    const { defaultValue, name } = options as { defaultValue?: unknown; name?: unknown };
    this.#defaultValue = defaultValue;
    if (name !== undefined) this.#name = String(name);
  }

  get name(): string {
    return this.#name ?? "";
  }

  static bind<F extends (...args: never[]) => unknown>(fn: F): F {
    return AsyncResource.bind(fn);
  }

  /** A function that runs a callback in the frame current now. */
  static snapshot(): <R>(fn: (...args: unknown[]) => R, ...args: unknown[]) => R {
    return AsyncResource.bind(<R>(fn: (...args: unknown[]) => R, ...args: unknown[]) => ReflectApply(fn, undefined, args));
  }

  /** Removes this storage from the current frame, as Node's does (the frame is shared by what captured it). */
  disable(): void {
    const frame = currentFrame();
    if (frame !== undefined) MapPrototypeDelete(frame, this);
  }

  enterWith(store: unknown): void {
    asyncContext().set(frameWith(this, store));
  }

  run<R>(store: unknown, fn: (...args: unknown[]) => R, ...args: unknown[]): R {
    const prior = this.getStore();
    if (ObjectIs(prior, store)) return ReflectApply(fn, null, args);
    this.enterWith(store);
    try {
      return ReflectApply(fn, null, args);
    } finally {
      this.enterWith(prior);
    }
  }

  exit<R>(fn: (...args: unknown[]) => R, ...args: unknown[]): R {
    ArrayPrototypeUnshift(args, undefined, fn);
    return ReflectApply(this.run, this, args) as R;
  }

  getStore(): unknown {
    const frame = currentFrame();
    if (frame === undefined || !MapPrototypeHas(frame, this)) return this.#defaultValue;
    return MapPrototypeGet(frame, this);
  }

  /** enterWith(store) until the returned scope is disposed, which restores the prior store. */
  withScope(store: unknown): { [key: symbol]: () => void } {
    const prior = this.getStore();
    this.enterWith(store);
    let disposed = false;
    const scope = ObjectCreate(null) as { [key: symbol]: () => void };
    scope[disposeSymbol] = () => {
      if (disposed) return;
      disposed = true;
      this.enterWith(prior);
    };
    return scope;
  }
}

class AsyncHook {
  enable(): this {
    return this;
  }

  disable(): this {
    return this;
  }
}

export function createAsyncHooksModule(): Record<string, unknown> {
  return {
    AsyncLocalStorage,
    createHook(callbacks?: unknown): AsyncHook {
      if (callbacks !== undefined && (callbacks === null || typeof callbacks !== "object")) throw invalidArgType("callbacks", "Object", callbacks);
      return new AsyncHook();
    },
    executionAsyncId: () => 0,
    triggerAsyncId: () => 0,
    executionAsyncResource: () => ObjectCreate(null),
    asyncWrapProviders: ObjectFreeze({ __proto__: null, NONE: 0 }),
    AsyncResource,
  };
}
