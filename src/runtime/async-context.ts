// The async context AsyncLocalStorage reads (node:async_hooks), kept by the core because the core
// schedules what must carry it: timers, queueMicrotask, promise reactions and each call the host
// makes into the sandbox. The isolate has no V8 API for async context that JavaScript can reach
// (Node's AsyncContextFrame rests on v8::Context::SetContinuationPreservedEmbedderData), so a worker
// that imports node:async_hooks gets it this way instead (README.md, "How AsyncLocalStorage follows `await`"):
// - the host lowers its async functions and generators to generators driven by esbuild's helper,
//   whose every resumption is a call of Promise.prototype.then (src/loader/code/async-lowering.ts);
// - enableAsyncContext() (at setEnv, before any user module runs) makes the sandbox's
//   Promise.prototype.then, queueMicrotask and timers capture the current frame when a callback is
//   handed over and restore it around the call;
// - each call from the host starts from the empty frame (runInRootContext).
// A worker that does not import it never turns this on: every check below is one boolean read.

import { primordials } from "./primordials.ts";

const { ObjectDefineProperty, Originals, ReflectApply } = primordials;

/** Whether this sandbox carries async context (the worker imports node:async_hooks). */
let enabled = false;
/** The current frame: an immutable Map from AsyncLocalStorage to its store (node/async-hooks.ts), or undefined. */
let current: unknown = undefined;

export function asyncContextEnabled(): boolean {
  return enabled;
}

export function getAsyncContext(): unknown {
  return current;
}

export function setAsyncContext(frame: unknown): void {
  current = frame;
}

/** fn, made to run in the frame current now (and to restore the caller's after); fn itself while disabled. */
export function bindAsyncContext<F extends (...args: never[]) => unknown>(fn: F): F {
  if (!enabled) return fn;
  const frame = current;
  return function (this: unknown, ...args: unknown[]) {
    const prior = current;
    current = frame;
    try {
      return ReflectApply(fn, this, args);
    } finally {
      current = prior;
    }
  } as unknown as F;
}

/** A call from the host: it runs in the empty frame, and what it leaves (enterWith) does not outlive it. */
export function runInRootContext<T>(fn: () => T): T {
  if (!enabled) return fn();
  const prior = current;
  current = undefined;
  try {
    return fn();
  } finally {
    current = prior;
  }
}

/**
 * Turns async context on for this sandbox, before any user code: Promise.prototype.then binds its
 * callbacks (the lowered async functions resume through it; catch and finally call it). The
 * timers and queueMicrotask bind theirs through bindAsyncContext (globals/timers.ts).
 */
export function enableAsyncContext(): void {
  if (enabled) return;
  enabled = true;
  const then = Originals["Promise.prototype.then"]!;
  const wrap = (callback: unknown): unknown => (typeof callback === "function" ? bindAsyncContext(callback as () => unknown) : callback);
  const patched = {
    then(this: unknown, onFulfilled: unknown, onRejected: unknown): unknown {
      return ReflectApply(then, this, [wrap(onFulfilled), wrap(onRejected)]);
    },
  }.then;
  ObjectDefineProperty(primordials.PromisePrototype, "then", { value: patched, writable: true, enumerable: false, configurable: true });
}
