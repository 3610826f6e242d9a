// FinalizationRegistry with its cleanup callbacks run inside an invocation. V8 calls a registry's
// callback whenever it likes after a collection, outside any call the host is watching: a callback
// that spins took a core for good (findings14/01). The sandbox's FinalizationRegistry hands V8 a
// callback of the runtime's that only queues (the user's callback, the held value); the queue runs
// at the start of the next call into the sandbox, under that call's CPU and wall limits. The
// original constructor is out of reach: the global and its prototype's `constructor` are replaced.

import { primordials } from "../primordials.ts";

const { FinalizationRegistry: OriginalRegistry, ObjectDefineProperty, ObjectSetPrototypeOf, ReflectApply, ReflectConstruct, TypeError } = primordials;

/**
 * Cleanups waiting for the next call, as pairs (callback, held value). Without a prototype: an
 * index setter user code put on Array.prototype would otherwise run here, outside any call.
 */
const emptyList = (): unknown[] => ObjectSetPrototypeOf([], null) as unknown[];
let waiting: unknown[] = emptyList();

function queueCleanup(cleanup: (held: unknown) => void, held: unknown): void {
  // Runs outside any call: nothing of the user's here.
  const list = waiting;
  list[list.length] = cleanup;
  list[list.length] = held;
}

/** Runs the cleanups that V8 asked for since the last call. A cleanup that throws is skipped, as V8 would report it. */
export function runFinalizationCleanups(): void {
  if (waiting.length === 0) return;
  const list = waiting;
  waiting = emptyList();
  for (let i = 0; i < list.length; i += 2) {
    try {
      ReflectApply(list[i] as (held: unknown) => void, undefined, [list[i + 1]]);
    } catch {
      // As an uncaught error in a cleanup: it does not stop the others.
    }
  }
}

export function confineFinalizationRegistry(global: Record<string, unknown>): void {
  const FinalizationRegistry = function FinalizationRegistry(this: unknown, cleanup: unknown) {
    if (new.target === undefined) throw new TypeError("Constructor FinalizationRegistry requires 'new'");
    if (typeof cleanup !== "function") throw new TypeError("FinalizationRegistry: cleanup must be callable");
    const user = cleanup as (held: unknown) => void;
    return ReflectConstruct(OriginalRegistry, [(held: unknown) => queueCleanup(user, held)], new.target);
  } as unknown as FinalizationRegistryConstructor;
  const prototype = OriginalRegistry.prototype;
  ObjectDefineProperty(FinalizationRegistry, "prototype", { __proto__: null, value: prototype, writable: false } as PropertyDescriptor);
  ObjectDefineProperty(prototype, "constructor", { __proto__: null, value: FinalizationRegistry, writable: true, enumerable: false, configurable: true } as PropertyDescriptor);
  ObjectDefineProperty(global, "FinalizationRegistry", { __proto__: null, value: FinalizationRegistry, writable: true, enumerable: false, configurable: true } as PropertyDescriptor);
}
