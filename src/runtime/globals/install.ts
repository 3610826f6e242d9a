// The sandbox's global scope. Every global islet adds is an accessor that builds its value on
// first touch, so a fresh sandbox pays only for defining them: keep this list cheap.

import { crypto, events, streams, url, web } from "../chunks.ts";
import { installFrozenClock } from "../clock.ts";
import { createConsole } from "./console.ts";
import { fetch } from "./fetch.ts";
import { defineLazy, defineValue } from "./lazy.ts";
import { timerGlobals } from "./timers.ts";
import { CRYPTO_GLOBALS, EVENTS_GLOBALS, STREAMS_GLOBALS, WEB_GLOBALS } from "./names.ts";

export const NAVIGATOR_USER_AGENT = "islet";


/** Set by the build: false only in dist/runtime-bare.js, the start-cost benchmark's baseline. */
declare const ISLET_WEB_PLATFORM: boolean;

export function installGlobals(global: Record<string, unknown>): void {
  // Date and performance are replaced the first time either is touched, together.
  const RealDate = global.Date as DateConstructor;
  let installed = false;
  const clock = () => {
    if (!installed) installFrozenClock(global, RealDate);
    installed = true;
  };
  defineLazy(global, "Date", () => (clock(), global.Date));
  defineLazy(global, "performance", () => (clock(), global.performance));
  defineLazy(global, "console", createConsole);
  for (const [name, value] of timerGlobals()) defineValue(global, name, value);
  defineValue(global, "self", global);
  delete global.SharedArrayBuffer;
  const wasm = global.WebAssembly;
  defineLazy(global, "WebAssembly", () => withoutSharedMemory(wasm));
  if (!ISLET_WEB_PLATFORM) return;
  defineValue(global, "fetch", fetch);
  for (const name of ["Headers", "Request", "Response", "TextEncoder", "TextDecoder"] as const) defineLazy(global, name, () => web()[name]);
  for (const name of ["URL", "URLSearchParams"] as const) defineLazy(global, name, () => url()[name]);
  for (const name of EVENTS_GLOBALS) defineLazy(global, name, () => events()[name]);
  for (const name of STREAMS_GLOBALS) defineLazy(global, name, () => streams()[name]);
  for (const name of WEB_GLOBALS) defineLazy(global, name, () => web()[name]);
  for (const name of CRYPTO_GLOBALS) defineLazy(global, name, () => crypto()[name]);
  defineLazy(global, "navigator", () => Object.freeze({ userAgent: NAVIGATOR_USER_AGENT, language: "en", languages: Object.freeze(["en"]), hardwareConcurrency: 1 }));
}

// No shared memory: together with a second thread it is a high-resolution timer.
function withoutSharedMemory(wasm: unknown): unknown {
  const RealMemory = (wasm as { Memory?: new (descriptor: { shared?: boolean }) => unknown }).Memory;
  if (typeof RealMemory !== "function") return wasm;
  const Memory = function Memory(this: unknown, descriptor: { shared?: boolean }) {
    if (new.target === undefined) throw new TypeError("WebAssembly.Memory must be called with new");
    if (descriptor && descriptor.shared) throw new TypeError("Shared WebAssembly memory is not available in the sandbox.");
    return Reflect.construct(RealMemory, [descriptor], new.target);
  };
  Object.defineProperty(Memory, "prototype", { value: RealMemory.prototype });
  Object.defineProperty(RealMemory.prototype, "constructor", { value: Memory, writable: true, configurable: true });
  Object.defineProperty(wasm, "Memory", { value: Memory, writable: true, configurable: true });
  return wasm;
}
