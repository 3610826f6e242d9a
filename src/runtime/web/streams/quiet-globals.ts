// Only where the polyfill runs as published (the runtime's tests in Node): in islet's bundles the
// build hands its module these values directly (polyfill-intrinsics.ts), and this does nothing.
//
// Evaluated just before web-streams-polyfill: ponyfill.ts imports it first, and calls
// restoreGlobals() once the ponyfill has loaded and made its first uses of them (see
// hide-globals.ts). What the ponyfill takes from the global object, and gets instead meanwhile:
// - DOMException (read at load): the AbortError of a pipe aborted by a signal without a reason.
//   A forwarder to the events chunk's DOMException, which cannot be reached during the load.
// - queueMicrotask (kept at first use): a queue on intrinsics captured here.
// - structuredClone (consulted at the first ArrayBuffer transfer only where ArrayBuffer.prototype
//   .transfer is missing): hidden. V8 13.6 has transfer(), so the ponyfill settles on
//   `buffer.transfer()` and byte streams detach what they transfer, as the spec says; that call
//   reads `transfer` from the buffer at call time, like the other built-ins the ponyfill uses.

import { events } from "../../platform.ts";
import { hideGlobals } from "./hide-globals.ts";
import { primordials } from "../../primordials.ts";

const { PromiseResolve, ReflectApply, ReflectDefineProperty } = primordials;

const resolved = PromiseResolve();
const then = Promise.prototype.then;
const apply = ReflectApply;

/** Constructs the events chunk's DOMException; before the platform is bound, does nothing. */
function DOMException(this: object, message?: string, name?: string): object {
  let Real: new (message?: string, name?: string) => object;
  try {
    Real = (events() as unknown as { DOMException: typeof Real }).DOMException;
  } catch {
    return this; // the ponyfill's load-time probe `new DOMException()`, while the chunk loads
  }
  return new Real(message, name);
}
// The ponyfill checks the name; the minifier would rename the function.
ReflectDefineProperty(DOMException, "name", { value: "DOMException" });

function queueMicrotask(callback: () => void): void {
  apply(then, resolved, [() => callback()]);
}

/** Set by the build: true in a chunk's bundle. */
declare const ISLET_CHUNK: boolean | undefined;
/** Whether the polyfill is the published one, reading these globals (not islet's bundle). */
export const publishedPolyfill = typeof ISLET_CHUNK !== "boolean";

export const restoreGlobals = publishedPolyfill ? hideGlobals({ DOMException, queueMicrotask, structuredClone: undefined }) : () => {};
