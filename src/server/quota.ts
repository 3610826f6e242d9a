// Per-key quota of live workers (maxWorkersPerKey). The loader keeps one least-recently-used list
// for the whole server (maxWorkers): on its own, a key that starts many workers would evict every
// other key's warm ones. Here each key has its own list: before a call that may start a worker of
// a key at its quota, the key's own least recently used idle worker is disposed, never another
// key's. With the default share (maxWorkers split between the keys) the keys' quotas add up to at
// most maxWorkers, so the loader's global eviction never has to run.

import { RequestError } from "./errors.ts";

interface Slot {
  /** Ends the worker (its state is lost; a later call starts it again). */
  dispose: () => void;
  /** Calls in flight on it: a worker in a call is never evicted. */
  busy: number;
  /** performance.now() when a call last ended on it. */
  lastUsed: number;
}

export class WorkerQuota {
  /** keyId → the key's workers by loader id, least recently used first. */
  private readonly keys = new Map<string, Map<string, Slot>>();
  /** After this long unused, the loader has surely evicted the worker (its idle timeout plus a sweep). */
  private readonly forgetAfterMs: number;

  constructor(
    readonly perKey: number,
    idleTimeoutMs = 300_000,
  ) {
    this.forgetAfterMs = idleTimeoutMs + Math.min(Math.max(idleTimeoutMs / 2, 10), 10_000) + 1000;
  }

  /**
   * Before a call on the worker `id` of the key `keyId`: counts the worker as the key's (most
   * recently used). A worker the key does not hold yet takes room first: the key's least recently
   * used idle workers are disposed until it holds fewer than its quota. When every worker it holds
   * is in a call, the call is refused with 429. Returns what to call when the call ends.
   */
  use(keyId: string, id: string, dispose: () => void): () => void {
    let slots = this.keys.get(keyId);
    if (slots === undefined) this.keys.set(keyId, (slots = new Map()));
    let slot = slots.get(id);
    if (slot !== undefined) {
      slots.delete(id);
    } else {
      this.makeRoom(keyId, slots);
      slot = { dispose, busy: 0, lastUsed: performance.now() };
    }
    slots.set(id, slot);
    slot.busy++;
    const used = slot;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      used.busy--;
      used.lastUsed = performance.now();
    };
  }

  /** The worker ended (disposed, failed to start, terminated by a limit): it no longer counts. */
  forget(keyId: string, id: string): void {
    const slots = this.keys.get(keyId);
    if (slots === undefined) return;
    const slot = slots.get(id);
    if (slot === undefined || slot.busy > 0) return;
    slots.delete(id);
    if (slots.size === 0) this.keys.delete(keyId);
  }

  /** Workers the key holds now (idle ones the loader may have evicted already included). */
  count(keyId: string): number {
    return this.keys.get(keyId)?.size ?? 0;
  }

  private makeRoom(keyId: string, slots: Map<string, Slot>): void {
    if (slots.size < this.perKey) return;
    const now = performance.now();
    // Idle past the loader's timeout: already gone, nothing to dispose.
    for (const [id, slot] of slots) if (slot.busy === 0 && now - slot.lastUsed > this.forgetAfterMs) slots.delete(id);
    for (const [id, slot] of slots) {
      if (slots.size < this.perKey) return;
      if (slot.busy > 0) continue;
      slots.delete(id);
      slot.dispose();
    }
    if (slots.size >= this.perKey) {
      throw new RequestError(
        429,
        `The API key "${keyId}" holds ${slots.size} live workers, its limit (maxWorkersPerKey), and every one is in a call; retry when one finishes.`,
        { "retry-after": "1" },
      );
    }
  }
}
