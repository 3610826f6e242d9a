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
  const controller = new (events().AbortController)();
  if (parent === null) return controller.signal;
  if (parent.aborted) controller.abort(parent.reason);
  else parent.addEventListener("abort", () => controller.abort(parent.reason), { once: true });
  return controller.signal;
}
