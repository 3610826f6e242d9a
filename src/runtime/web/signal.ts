// A Request's AbortSignal. Every Request has its own signal that follows the one it was given;
// it is made on first read of `request.signal`, so Requests that nobody asks for a signal never
// load the events chunk. Following lazily is indistinguishable from following at construction:
// the new signal starts aborted if its parent already is.

import { events } from "../platform.ts";
import { primordials } from "../primordials.ts";

const { TypeError } = primordials;

export type AbortSignal = InstanceType<ReturnType<typeof events>["AbortSignal"]>;

/** `AbortSignal?` conversion of RequestInit.signal: null, or an AbortSignal of this sandbox. */
export function toAbortSignal(value: unknown): AbortSignal | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "object" || !(value instanceof events().AbortSignal)) {
    throw new TypeError("Failed to construct 'Request': member signal is not of type AbortSignal.");
  }
  return value;
}

/** A new signal that aborts, with the same reason, when `parent` does. */
export function followingSignal(parent: AbortSignal | null): AbortSignal {
  // DOM's "follow": an abort algorithm on the parent, through the events chunk's own functions,
  // never addEventListener or abort() (prototype methods user code may have replaced).
  const { abortReason, addAbortAlgorithm, createSignal, signalAbort } = events();
  const signal = createSignal();
  if (parent === null) return signal;
  const reason = abortReason(parent);
  if (reason !== undefined) signalAbort(signal, reason);
  else addAbortAlgorithm(parent, () => signalAbort(signal, abortReason(parent)));
  return signal;
}

/**
 * The signal a fetch handler's request follows: the host aborts it when the caller gives up on the
 * call (its Request's signal aborted; for a worker's entrypoint used as another worker's
 * globalOutbound, the calling worker's invocation ended), as workerd aborts it when the client
 * disconnects. It is made on first use (`request.signal`, `fetch(request)`): most handlers never
 * ask for it, and making one loads the events chunk. Only the runtime holds one: user code sees
 * the AbortSignal it makes, never this object.
 */
export class IncomingSignal {
  #controller: InstanceType<ReturnType<typeof events>["AbortController"]> | undefined;
  #signal: AbortSignal | undefined;
  #aborted = false;

  static is(value: unknown): value is IncomingSignal {
    // A private brand: `instanceof` would read the prototype chain, which a Proxy answers.
    return typeof value === "object" && value !== null && #aborted in value;
  }

  get(): AbortSignal {
    if (this.#signal === undefined) {
      const { AbortController, abortControllerAbort, abortControllerSignal } = events();
      const controller = new AbortController();
      this.#controller = controller;
      this.#signal = abortControllerSignal(controller) as AbortSignal;
      if (this.#aborted) abortControllerAbort(controller);
    }
    return this.#signal;
  }

  /** Aborts the signal (with the default reason, an AbortError DOMException), now or when it is made. */
  abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    if (this.#controller !== undefined) events().abortControllerAbort(this.#controller);
  }
}

/** What a Request's own signal follows: a signal, the incoming request's (made when first needed), or nothing. */
export type SignalParent = AbortSignal | IncomingSignal | null;

/** The signal `parent` stands for, made now if it is the incoming request's. */
export function parentSignal(parent: SignalParent): AbortSignal | null {
  return IncomingSignal.is(parent) ? parent.get() : parent;
}
