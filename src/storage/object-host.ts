// One live Durable Object: its instance, its storage and the events waiting for it.
//
// Gates, as Cloudflare describes them:
// - Input gate: every event (an RPC call, a fetch, an alarm) starts in a turn of its own, so the
//   continuation after a storage operation always runs before the next event starts; storage
//   operations resolve at once, so nothing interleaves with them. blockConcurrencyWhile() and an
//   asynchronous transaction() hold every new event until they end. Events do interleave at
//   awaits on other I/O (a fetch, a timer), as on Cloudflare.
// - Output gate: an event's result is handed back only after the writes made so far are committed.

import type { DurableObjectId } from "./object-id.ts";
import { DurableObjectStorage } from "./storage.ts";
import type { Facets } from "./facets.ts";

/** What a Durable Object class is constructed with: `this.ctx`. */
export interface DurableObjectState {
  readonly id: DurableObjectId;
  readonly storage: DurableObjectStorage;
  /** Child objects running dynamic workers' Durable Object classes, each with its own database. */
  readonly facets: Facets;
  /** Keeps the object alive until `promise` settles. */
  waitUntil(promise: Promise<unknown>): void;
  /** Holds every other event until `fn`'s promise settles; when it rejects, the object is reset. */
  blockConcurrencyWhile<T>(fn: () => Promise<T> | T): Promise<T>;
  /** Resets the object: its in-memory state is dropped and the next event constructs it again. */
  abort(reason?: unknown): void;
}

export type DurableObjectClass<Env = unknown> = new (ctx: DurableObjectState, env: Env) => object;

export interface ObjectHostOptions<Env> {
  id: DurableObjectId;
  class: DurableObjectClass<Env>;
  env: Env;
  storage: DurableObjectStorage;
  facets: Facets;
  /** Extra members of `ctx`, given the state being made. */
  extendState?: (state: DurableObjectState) => object;
  /** Told when the object has nothing in flight (so it may be evicted). */
  onIdle?: () => void;
}

type Event = { run: (instance: Record<string, unknown>) => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void };

export class ObjectResetError extends Error {
  constructor(reason: unknown) {
    super(`the Durable Object was reset${reason instanceof Error ? `: ${reason.message}` : reason !== undefined ? `: ${String(reason)}` : ""}`, { cause: reason });
    this.name = "Error";
  }
}

export class ObjectHost<Env = unknown> {
  readonly id: DurableObjectId;
  readonly storage: DurableObjectStorage;
  readonly #options: ObjectHostOptions<Env>;
  #instance: Record<string, unknown> | undefined;
  readonly #queue: Event[] = [];
  /** blockConcurrencyWhile() and transaction() calls holding the input gate. */
  #exclusive = 0;
  #inFlight = 0;
  readonly #waitUntil = new Set<Promise<unknown>>();
  #pumpScheduled = false;
  /** Bumped by every reset: events of an older generation do not touch the new instance. */
  #generation = 0;
  #resetReason: unknown;

  constructor(options: ObjectHostOptions<Env>) {
    this.#options = options;
    this.id = options.id;
    this.storage = options.storage;
    this.storage.setExclusive((fn) => this.#holdGate(fn));
  }

  /** @internal `ctx.facets` of this object. */
  get facets(): Facets {
    return this.#options.facets;
  }

  /** Nothing running, queued or kept alive: the object may be evicted. */
  get idle(): boolean {
    return this.#inFlight === 0 && this.#queue.length === 0 && this.#exclusive === 0 && this.#waitUntil.size === 0;
  }

  /** Runs `method` of the instance with `args` as one event. */
  call(method: string, args: unknown[]): Promise<unknown> {
    return this.#enqueue((instance) => {
      const member = instance[method];
      if (typeof member !== "function") throw new TypeError(`The Durable Object has no method "${method}"`);
      return (member as (...a: unknown[]) => unknown).apply(instance, args);
    });
  }

  /** Runs `fn` with the instance as one event (alarms use it). */
  run(fn: (instance: Record<string, unknown>) => unknown): Promise<unknown> {
    return this.#enqueue(fn);
  }

  #enqueue(run: Event["run"]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ run, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    // Each event starts in a turn of its own: the input gate.
    setImmediate(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#exclusive > 0 || this.#queue.length === 0) return;
    if (this.#instance === undefined) {
      // Constructed before its first event is taken, so a blockConcurrencyWhile() in the
      // constructor holds that event too.
      try {
        this.#ensureInstance();
      } catch (error) {
        this.reset(error);
        this.#queue.shift()!.reject(error);
        if (this.#queue.length > 0) this.#schedule();
        return;
      }
      if (this.#exclusive > 0) return;
    }
    const event = this.#queue.shift()!;
    void this.#deliver(event);
    if (this.#queue.length > 0) this.#schedule();
  }

  async #deliver(event: Event): Promise<void> {
    this.#inFlight++;
    const generation = this.#generation;
    try {
      const instance = this.#ensureInstance();
      let result: unknown;
      let failed = false;
      try {
        result = await event.run(instance);
      } catch (error) {
        result = error;
        failed = true;
      }
      // The output gate: what this event wrote is committed before anyone hears of it.
      await this.storage.flushed();
      // A reset meanwhile (a failed turn, abort()) may have undone what this event wrote.
      if (generation !== this.#generation && !failed) throw new ObjectResetError(this.#resetReason);
      if (failed) event.reject(result);
      else event.resolve(result);
    } catch (error) {
      // Construction failed or storage broke: the object starts afresh on the next event.
      if (generation === this.#generation) this.reset(error);
      event.reject(error);
    } finally {
      this.#inFlight--;
      if (this.idle) this.#options.onIdle?.();
    }
  }

  #ensureInstance(): Record<string, unknown> {
    if (this.#instance !== undefined) return this.#instance;
    const generation = this.#generation;
    const state: DurableObjectState = {
      id: this.id,
      storage: this.storage,
      facets: this.#options.facets,
      waitUntil: (promise) => this.#keepAlive(promise),
      blockConcurrencyWhile: (fn) => this.#blockConcurrencyWhile(fn, generation),
      abort: (reason) => this.reset(reason),
    };
    const ctx = this.#options.extendState === undefined ? state : Object.assign(state, this.#options.extendState(state));
    const instance = new this.#options.class(Object.freeze(ctx), this.#options.env) as Record<string, unknown>;
    this.#instance = instance;
    return instance;
  }

  #keepAlive(promise: Promise<unknown>): void {
    const tracked = Promise.resolve(promise).then(
      () => {},
      () => {},
    );
    this.#waitUntil.add(tracked);
    void tracked.then(() => {
      this.#waitUntil.delete(tracked);
      if (this.idle) this.#options.onIdle?.();
    });
  }

  async #holdGate<T>(fn: () => Promise<T>): Promise<T> {
    this.#exclusive++;
    try {
      return await fn();
    } finally {
      this.#exclusive--;
      if (this.#exclusive === 0) this.#schedule();
    }
  }

  async #blockConcurrencyWhile<T>(fn: () => Promise<T> | T, generation: number): Promise<T> {
    if (typeof fn !== "function") throw new TypeError("blockConcurrencyWhile: pass a function");
    try {
      return await this.#holdGate(async () => fn());
    } catch (error) {
      if (generation === this.#generation) this.reset(error);
      throw error;
    }
  }

  /** Drops the instance; queued events run against a new one. Storage keeps what was committed. */
  reset(reason?: unknown): void {
    this.#generation++;
    this.#resetReason = reason;
    this.#instance = undefined;
    this.storage.recover();
  }

  /** Ends the object for good: queued events reject, storage closes. */
  close(reason: unknown): void {
    this.#options.facets.closeAll();
    for (const event of this.#queue.splice(0)) event.reject(new ObjectResetError(reason));
    this.#instance = undefined;
    this.storage.close();
  }
}
