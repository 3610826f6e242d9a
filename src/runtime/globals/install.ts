// The eager part of the sandbox's global scope. Keep it tiny: every line here is paid by every
// fresh sandbox. Anything heavier goes behind defineLazy.

import { installFrozenClock } from "../clock.ts";
import { createConsole } from "./console.ts";
import { defineLazy, defineValue } from "./lazy.ts";
import { installTimers } from "./timers.ts";
import * as web from "../web/fetch.ts";
import * as encoding from "../web/encoding.ts";
import { fetch } from "./fetch.ts";

export function installGlobals(global: Record<string, unknown>): void {
  installFrozenClock(global);
  installTimers(global);
  defineValue(global, "console", createConsole());
  defineValue(global, "self", global);
  defineValue(global, "fetch", fetch);
  defineLazy(global, "Headers", () => web.Headers);
  defineLazy(global, "Request", () => web.Request);
  defineLazy(global, "Response", () => web.Response);
  defineLazy(global, "TextEncoder", () => encoding.TextEncoder);
  defineLazy(global, "TextDecoder", () => encoding.TextDecoder);
  removeSharedMemory(global);
}

// No SharedArrayBuffer: together with a second thread it is a high-resolution timer.
function removeSharedMemory(global: Record<string, unknown>): void {
  delete global.SharedArrayBuffer;
  const wasm = global.WebAssembly as { Memory?: new (descriptor: { shared?: boolean }) => unknown } | undefined;
  if (wasm && typeof wasm.Memory === "function") {
    const RealMemory = wasm.Memory;
    const Memory = function Memory(this: unknown, descriptor: { shared?: boolean }) {
      if (new.target === undefined) throw new TypeError("WebAssembly.Memory must be called with new");
      if (descriptor && descriptor.shared) throw new TypeError("Shared WebAssembly memory is not available in the sandbox.");
      return Reflect.construct(RealMemory, [descriptor], new.target);
    };
    Object.defineProperty(Memory, "prototype", { value: RealMemory.prototype });
    Object.defineProperty(RealMemory.prototype, "constructor", { value: Memory, writable: true, configurable: true });
    Object.defineProperty(wasm, "Memory", { value: Memory, writable: true, configurable: true });
  }
}
