// AbortController (DOM §3.1): the signal's owner, the only one that can abort it.

import { brandPlatformObject } from "../../platform.ts";
import { type AbortSignal, createSignal, signalAbort } from "./abort-signal.ts";
import { defineInterface } from "./idl.ts";

let hasSignalSlot: (value: object) => boolean;

export class AbortController {
  #signal: AbortSignal = createSignal();

  static {
    hasSignalSlot = (value) => #signal in value;
  }

  constructor() {
    brandPlatformObject(this, "AbortController");
  }

  get signal(): AbortSignal {
    return this.#signal;
  }

  abort(reason: unknown = undefined): void {
    signalAbort(this.#signal, reason);
  }
}

defineInterface(AbortController, "AbortController", { length: 0 });

export function isAbortController(value: unknown): value is AbortController {
  return typeof value === "object" && value !== null && hasSignalSlot(value);
}
