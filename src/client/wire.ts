// The conventions islet's Cap'n Web endpoint (/v1/rpc) adds on top of plain Cap'n Web, shared by
// the server and islet/client. Any Cap'n Web client can follow them by hand:
//
// - A function meant to be *called* inside the sandbox travels as `{ "$fn": theFunction }`. Cap'n
//   Web sends functions and RpcTargets alike as bare stubs, and a sandbox stub is either callable
//   or has methods, so the server needs to know which. A bare stub becomes an object with methods.
// - Errors carry their original name in an `errorName` property (Cap'n Web only keeps the names
//   of the built-in error classes), and LimitError's `limit`, WorkerCodeError's `module`.

import type { RpcTransport } from "capnweb";

export const FUNCTION_TAG = "$fn";

/** An Error to send in place of `error`: message and name only, never a host stack. */
export function errorForWire(error: Error): Error {
  const out = new Error(error.message) as Error & Record<string, unknown>;
  delete (out as { stack?: string }).stack;
  out.errorName = error.name;
  const extra = error as unknown as Record<string, unknown>;
  if (typeof extra.limit === "string") out.limit = extra.limit;
  if (typeof extra.module === "string") out.module = extra.module;
  return out;
}

/** Gives an error received over the wire its original name back. */
export function errorFromWire(error: unknown): unknown {
  if (error instanceof Error) {
    const carried = (error as Error & { errorName?: unknown }).errorName;
    if (typeof carried === "string") {
      Object.defineProperty(error, "name", { value: carried, configurable: true, writable: true, enumerable: false });
      delete (error as { errorName?: unknown }).errorName;
    }
  }
  return error;
}

/**
 * A Cap'n Web transport fed by whatever socket API is at hand (ws on both ends here): the owner
 * calls deliver() for each text message and fail() when the socket closes.
 */
export class MessageQueueTransport implements RpcTransport {
  private readonly queue: string[] = [];
  private waiting: { resolve: (message: string) => void; reject: (error: Error) => void } | undefined;
  private error: Error | undefined;

  constructor(
    private readonly sendText: (message: string) => void,
    private readonly closeSocket: (reason: string) => void,
  ) {}

  async send(message: string): Promise<void> {
    if (this.error === undefined) this.sendText(message);
  }

  receive(): Promise<string> {
    const next = this.queue.shift();
    if (next !== undefined) return Promise.resolve(next);
    if (this.error !== undefined) return Promise.reject(this.error);
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  abort(reason: unknown): void {
    this.fail(reason instanceof Error ? reason : new Error(String(reason)));
    this.closeSocket(reason instanceof Error ? reason.message : String(reason));
  }

  deliver(message: string): void {
    if (this.error !== undefined) return;
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) waiting.resolve(message);
    else this.queue.push(message);
  }

  fail(error: Error): void {
    if (this.error !== undefined) return;
    this.error = error;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(error);
  }
}
