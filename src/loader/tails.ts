import type { TailEvent, TailReceiver } from "./code/types.ts";

/** Delivers one trace event to each receiver; a failing receiver never affects the call or the others. */
export function deliverTail(receivers: readonly TailReceiver[], event: TailEvent): void {
  for (const receiver of receivers) {
    try {
      const result = typeof receiver === "function" ? receiver([event]) : receiver.tail([event]);
      if (result && typeof (result as Promise<unknown>).catch === "function") (result as Promise<unknown>).catch(() => {});
    } catch {
      // Tail receivers are observers: their failures are theirs.
    }
  }
}
