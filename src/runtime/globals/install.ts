// The sandbox's global scope. Almost every global islet adds is an accessor that builds its value
// on first touch, so a fresh sandbox pays only for defining them: keep this list cheap. The clock
// and WebAssembly's confinement are the exceptions (see below).

import { crypto, events, streams, url, web } from "../chunks.ts";
import { installFrozenClock } from "../clock.ts";
import { createConsole } from "./console.ts";
import { fetch } from "./fetch.ts";
import { defineLazy, defineValue } from "./lazy.ts";
import { timerGlobals } from "./timers.ts";
import { confineWebAssembly } from "./wasm.ts";
import { CRYPTO_GLOBALS, EVENTS_GLOBALS, STREAMS_GLOBALS, WEB_GLOBALS } from "./names.ts";

export const NAVIGATOR_USER_AGENT = "islet";


/** Set by the build: false only in dist/runtime-bare.js, the start-cost benchmark's baseline. */
declare const ISLET_WEB_PLATFORM: boolean;

export function installGlobals(global: Record<string, unknown>, memoryMb: number): void {
  // The clock is installed at once, not on first touch: a Date the host passes in would otherwise
  // lead, through its constructor, to the real Date before the sandbox ever named the global.
  installFrozenClock(global, global.Date as DateConstructor);
  defineLazy(global, "console", createConsole);
  for (const [name, value] of timerGlobals()) defineValue(global, name, value);
  defineValue(global, "self", global);
  delete global.SharedArrayBuffer;
  // At once, not on first touch: until then user code could replace what the confinement uses.
  confineWebAssembly(global.WebAssembly, memoryMb);
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
