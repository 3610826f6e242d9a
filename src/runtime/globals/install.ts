// The sandbox's global scope. Almost every global islet adds is an accessor that builds its value
// on first touch, so a fresh sandbox pays only for defining them: keep this list cheap. The clock
// is the exception (see below); WebAssembly and Intl are confined on their first touch, with every
// intrinsic the confinement uses captured before user code runs (wasm.ts, clock.ts).

import { crypto, events, reserveResizableBuffer, reserveWasmMemories, streams, url, web } from "../chunks.ts";
import { confineArrayBuffers } from "./buffers.ts";
import { installFrozenClock } from "../clock.ts";
import { createConsole } from "./console.ts";
import { fetch } from "./fetch.ts";
import { defineLazy, defineLazyFrom, defineValue } from "./lazy.ts";
import { timerGlobals } from "./timers.ts";
import { confineWebAssemblyOnFirstUse } from "./wasm.ts";
import { confineFinalizationRegistry } from "./finalization.ts";
import { recordingProxy } from "./proxies.ts";
import { CRYPTO_GLOBALS, EVENTS_GLOBALS, STREAMS_GLOBALS, WEB_GLOBALS } from "./names.ts";
import { primordials, setConfinedArrayBuffer } from "../primordials.ts";
import { guardPrototypeChanges } from "./array-likes.ts";
import { guardArrayMethods } from "./array-methods.ts";
import { guardListReaders } from "./list-readers.ts";

const { ObjectFreeze } = primordials;

export const NAVIGATOR_USER_AGENT = "islet";


/**
 * The part of the globals that concerns what V8 adds to a context only when the context is made,
 * not when a startup snapshot's script runs (SharedArrayBuffer, WebAssembly; the list is in
 * test/engine/snapshot.test.ts): run by boot, in every sandbox, before any user code.
 */
export function installLateGlobals(global: Record<string, unknown>): void {
  delete global.SharedArrayBuffer;
  // Temporal (V8 14, Node 26): Temporal.Now reads the real clock, a timer the frozen clock exists to
  // deny (SECURITY.md P8). Nothing else of it can reach Temporal.Now, so the namespace goes.
  delete global.Temporal;
  // Confined on first touch with intrinsics captured now, before any user code runs (wasm.ts).
  confineWebAssemblyOnFirstUse(global, sandboxMemoryMb, reserveWasmMemories, offHeap);
}

/** Set by the build: false only in dist/runtime-bare.js, the start-cost benchmark's baseline. */
declare const ISLET_WEB_PLATFORM: boolean;

/**
 * The sandbox's memoryMb and the budget of memory outside the V8 heap (WebAssembly memories' maxima
 * and modules, what resizable ArrayBuffers have held, the strings Intl objects copy), which shares
 * one memoryMb: with the heap, a sandbox holds about twice memoryMb. Both are 0 (nothing allowed)
 * until boot sets them, before any user code runs: the globals below are installed earlier, when
 * the core's snapshot is made, and read them only when used.
 */
let memoryMb = 0;
const offHeap = { __proto__: null, used: 0, limit: 0 } as unknown as { used: number; limit: number };
const sandboxMemoryMb = (): number => memoryMb;

/** Sets the sandbox's memoryMb and its off-heap budget (boot, once). */
export function setMemoryLimit(mb: number): void {
  memoryMb = mb;
  offHeap.limit = mb * 1024 * 1024;
}

/**
 * Installs the globals on `global`. Per-sandbox values (the limit, the host's callbacks, the clock's
 * time) are not read here but when used, as this runs once for all sandboxes when the snapshot is made.
 */
export function installGlobals(global: Record<string, unknown>): void {
  // The clock is installed at once, not on first touch: a Date the host passes in would otherwise
  // lead, through its constructor, to the real Date before the sandbox ever named the global.
  installFrozenClock(global, global.Date as DateConstructor, sandboxMemoryMb, offHeap);
  // Built-in loops over an array-like end when the sandbox is killed (array-likes.ts).
  guardPrototypeChanges(global);
  guardArrayMethods(global.Array as { from: unknown });
  guardListReaders(global);
  defineLazy(global, "console", createConsole);
  for (let i85 = 0, a85 = timerGlobals(); i85 < a85.length; i85++) {
    const name = a85[i85][0], value = a85[i85][1];
    defineValue(global, name, value);
  }
  defineValue(global, "self", global);
  // Cleanup callbacks wait for the next call, which watches them (finalization.ts).
  confineFinalizationRegistry(global);
  // Every Proxy user code makes is recorded, so that the boundary refuses it (proxies.ts).
  defineLazy(global, "Proxy", recordingProxy);
  const confined = confineArrayBuffers(global, offHeap, reserveResizableBuffer);
  setConfinedArrayBuffer(confined.ArrayBuffer, confined.transfer);
  if (!ISLET_WEB_PLATFORM) return;
  defineValue(global, "fetch", fetch);
  defineLazyFrom(global, ["Headers", "Request", "Response", "TextEncoder", "TextDecoder"], web);
  defineLazyFrom(global, ["URL", "URLSearchParams"], url);
  defineLazyFrom(global, EVENTS_GLOBALS, events);
  defineLazyFrom(global, STREAMS_GLOBALS, streams);
  defineLazyFrom(global, WEB_GLOBALS, web);
  defineLazyFrom(global, CRYPTO_GLOBALS, crypto);
  defineLazy(global, "navigator", () => ObjectFreeze({ userAgent: NAVIGATOR_USER_AGENT, language: "en", languages: ObjectFreeze(["en"]), hardwareConcurrency: 1 }));
}
