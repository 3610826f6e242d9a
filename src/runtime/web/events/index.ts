// Entry of the events chunk (dist/runtime-events.js).

export { bindPlatform } from "../../platform.ts";
export { DOMException } from "./dom-exception.ts";
export { Event } from "./event.ts";
export { CustomEvent } from "./custom-event.ts";
export { EventTarget } from "./event-target.ts";
export { AbortSignal } from "./abort-signal.ts";
export { AbortController } from "./abort-controller.ts";
export { structuredClone } from "./structured-clone.ts";
export { atob, btoa } from "./base64.ts";
export { scheduler } from "./scheduler.ts";
