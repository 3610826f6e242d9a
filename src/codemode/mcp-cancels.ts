// MCP's own cancel, `notifications/cancelled` (what the SDK's client sends when a call's AbortSignal
// aborts), over stateless Streamable HTTP. Each POST is answered by an SDK Server of its own, and
// the cancel comes in a later POST, whose server never saw the call: the SDK's own handling finds
// nothing to abort. The calls in flight are kept here instead, by caller and JSON-RPC id, so a
// cancel from the same caller reaches the call wherever it runs.

/** A tool call in flight: its signal aborts when its caller cancels it. */
export interface CancellableCall {
  readonly signal: AbortSignal;
  /** The call is over: a later cancel of its id no longer reaches it. */
  release(): void;
}

export class McpCallCancels {
  /** Calls in flight by caller and id (two clients of one key may use the same ids). */
  private readonly calls = new Map<string, Set<AbortController>>();

  /** Registers a call of `scope` (the caller's API key id; undefined: no keys) with JSON-RPC id `id`. */
  register(scope: string | undefined, id: string | number): CancellableCall {
    const key = callKey(scope, id);
    const controller = new AbortController();
    let same = this.calls.get(key);
    if (same === undefined) this.calls.set(key, (same = new Set()));
    same.add(controller);
    let released = false;
    return {
      signal: controller.signal,
      release: () => {
        if (released) return;
        released = true;
        same.delete(controller);
        if (same.size === 0 && this.calls.get(key) === same) this.calls.delete(key);
      },
    };
  }

  /**
   * Cancels the call of `scope` with id `id`, if exactly one is in flight: never a call of another
   * caller, and, when two clients of the same caller have a call with that id in flight at once,
   * neither (the cancel cannot say whose it is). Returns whether a call was cancelled.
   */
  cancel(scope: string | undefined, id: string | number, reason?: string): boolean {
    const same = this.calls.get(callKey(scope, id));
    if (same === undefined || same.size !== 1) return false;
    const [controller] = same;
    controller.abort(new DOMException(`The client cancelled the call${typeof reason === "string" && reason !== "" ? `: ${reason.slice(0, 200)}` : ""}.`, "AbortError"));
    return true;
  }
}

/** 1 and "1" are different ids; no scope (a keyless server) is not the key "". */
function callKey(scope: string | undefined, id: string | number): string {
  return JSON.stringify([scope ?? null, id]);
}
