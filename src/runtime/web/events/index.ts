// Entry of the events chunk (dist/runtime-events.js).

export { bindPlatform } from "../../platform.ts";
export { DOMException } from "./dom-exception.ts";
export { Event } from "./event.ts";
export { CustomEvent } from "./custom-event.ts";
export { EventTarget } from "./event-target.ts";
export { AbortSignal } from "./abort-signal.ts";
// DOM's signal algorithms, for the runtime's own signal plumbing (a Request following its
// parent, fetch() abandoning its host call): never through prototypes user code may replace.
export { abortReason, addAbortAlgorithm, createSignal, removeAbortAlgorithm, signalAbort } from "./abort-signal.ts";
export { AbortController } from "./abort-controller.ts";
import { AbortController as AbortControllerClass } from "./abort-controller.ts";
import { ownGetter, ownMethod } from "../own.ts";
/** AbortController's signal getter and abort(), as defined (for node:stream's pipeline). */
export const abortControllerSignal = ownGetter<unknown>(AbortControllerClass.prototype, "signal");
export const abortControllerAbort = ownMethod<[reason?: unknown], void>(AbortControllerClass.prototype, "abort");
export { structuredClone } from "./structured-clone.ts";
export { atob, btoa } from "./base64.ts";
export { scheduler } from "./scheduler.ts";
