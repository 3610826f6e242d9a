// Facets: a host Durable Object runs a dynamic worker's Durable Object class as a child object,
// `ctx.facets.get(name, () => ({ class: stub.getDurableObjectClass("App") }))`, with a SQLite
// database of its own, separate from the parent's and from every other facet's.
//
// - Each facet runs in a worker of its own (its own isolate): facets of one class under different
//   parents never share memory. The worker is a named one of the class's loader, evicted when
//   idle like any other; the next event constructs the instance again, as a Durable Object is.
// - Its storage lives in the storage process (storage-process.ts): SQL written by the sandbox runs
//   in a child that can be killed, never on the host's thread. The sandbox reaches it through one
//   capability, FacetStorage, which knows one database; the sandbox's synchronous calls block its
//   own isolate only (runtime/facet.ts).
// - Databases are named by (parent object, facet name), hashed into file names by the process.

import { randomUUID } from "node:crypto";
import { RpcTarget } from "../rpc/rpc-target.ts";
import { targetStub } from "../protocol/cap-table.ts";
import { durableObjectClassData, type DurableObjectClass } from "../loader/durable-object-class.ts";
import type { WorkerStub } from "../loader/worker-loader.ts";
import { FACET_ALARM_METHOD, FACET_ENTRY_PREFIX, FACET_STORAGE_BINDING } from "../protocol/facets.ts";
import { hashName } from "./object-id.ts";
import type { StorageProcess } from "./storage-process.ts";
import type { DurableObjectStub } from "./namespace.ts";
import type { Limits } from "../loader/limits.ts";

/** What `ctx.facets.get()`'s callback returns. */
export interface FacetStartupOptions {
  class: DurableObjectClass;
  /** The facet's `ctx.id` (its string form); default: derived from the parent's id and the name. */
  id?: { toString(): string } | string;
}

/** The one capability a facet's sandbox holds: its own database, nothing else. */
class FacetStorage extends RpcTarget {
  readonly #process: StorageProcess;
  readonly #database: string;
  /** Told when the facet aborts itself (ctx.abort()): ends its worker from the host's side. */
  readonly #onAbort: (error: Error) => void;
  /** Set by abort(): every later call fails with it. */
  #aborted: Error | undefined;

  constructor(process: StorageProcess, database: string, onAbort: (error: Error) => void) {
    super();
    this.#process = process;
    this.#database = database;
    this.#onAbort = onAbort;
  }

  /** Transactions (spans) this facet has open in the storage process, as far as this side knows. */
  #spans = 0;

  /** Every call says how many transactions it expects open: the storage process refuses it if one was lost. */
  async #call(op: string, args: unknown[]): Promise<unknown> {
    if (this.#aborted !== undefined) throw this.#aborted;
    try {
      return await this.#process.call(this.#database, op, args, this.#spans);
    } catch (error) {
      if ((error as Error)?.name === "TransactionLostError") this.#spans = 0;
      throw error;
    }
  }

  exec(query: unknown, bindings: unknown): Promise<unknown> {
    if (typeof query !== "string") throw new TypeError("sql.exec: the query must be a string");
    if (!Array.isArray(bindings)) throw new TypeError("sql.exec: bindings must be an array");
    return this.#call("exec", [query, bindings]).then((answer) => {
      // Blobs as Cloudflare gives them: ArrayBuffers.
      const { rows } = answer as { rows: unknown[][] };
      for (const row of rows) {
        for (let i = 0; i < row.length; i++) {
          const cell = row[i];
          if (cell instanceof Uint8Array) row[i] = cell.buffer.slice(cell.byteOffset, cell.byteOffset + cell.byteLength);
        }
      }
      return answer;
    });
  }
  size(): Promise<unknown> {
    return this.#call("size", []);
  }
  kvGet(key: unknown): Promise<unknown> {
    return this.#call("kvGet", [key]);
  }
  kvGetMany(keys: unknown): Promise<unknown> {
    return this.#call("kvGetMany", [keys]);
  }
  kvPut(key: unknown, value: unknown): Promise<unknown> {
    return this.#call("kvPut", [key, value]);
  }
  kvPutMany(entries: unknown): Promise<unknown> {
    return this.#call("kvPutMany", [entries]);
  }
  kvDelete(key: unknown): Promise<unknown> {
    return this.#call("kvDelete", [key]);
  }
  kvDeleteMany(keys: unknown): Promise<unknown> {
    return this.#call("kvDeleteMany", [keys]);
  }
  kvList(options: unknown): Promise<unknown> {
    return this.#call("kvList", [options ?? {}]);
  }
  deleteAll(): Promise<unknown> {
    return this.#call("deleteAll", []);
  }
  async span(action: unknown): Promise<unknown> {
    if (action !== "open" && action !== "commit" && action !== "rollback") throw new TypeError("span: open, commit or rollback");
    // A transaction already lost has nothing left to roll back.
    if (action === "rollback" && this.#spans === 0) return undefined;
    const result = await this.#call("span", [action]);
    this.#spans += action === "open" ? 1 : -1;
    return result;
  }
  getAlarm(): Promise<unknown> {
    return this.#call("getAlarm", []);
  }
  setAlarm(time: unknown): Promise<unknown> {
    if (typeof time !== "number" || !Number.isFinite(time)) throw new TypeError("setAlarm: give a Date or milliseconds since the epoch");
    return this.#call("setAlarm", [time]);
  }
  deleteAlarm(): Promise<unknown> {
    return this.#call("deleteAlarm", []);
  }
  /** After the alarm at `due` fired and its handler ended: cleared, unless the handler set another. */
  alarmDone(due: unknown): Promise<unknown> {
    if (typeof due !== "number") throw new TypeError("alarmDone: the time of the alarm that fired");
    return this.#call("alarmDone", [due]);
  }
  async abortSpans(): Promise<unknown> {
    if (this.#aborted !== undefined) throw this.#aborted;
    this.#spans = 0;
    return this.#process.call(this.#database, "abortSpans", []);
  }

  /**
   * The facet's ctx.abort(): its sandbox is blocked in this call while the host ends it. From now
   * on every storage call of this instance fails; the transaction it had open is rolled back; its
   * worker is disposed (which kills the sandbox, so the code after abort() never runs on, caught
   * or not); the next event starts a new sandbox, with fresh module state.
   */
  async abort(reason: unknown): Promise<never> {
    if (this.#aborted === undefined) {
      const message = typeof reason === "string" && reason !== "" ? reason.slice(0, 1_000) : "The facet was aborted.";
      const error = new Error(message);
      this.#aborted = error;
      this.#spans = 0;
      this.#onAbort(error);
      // Queued behind nothing of this facet's (its sandbox is blocked here), ahead of its next instance's calls.
      await this.#process.call(this.#database, "abortSpans", []).catch(() => {});
    }
    throw this.#aborted;
  }
}

interface RunningFacet {
  stub: WorkerStub;
  entry: string;
  props: [unknown, string, string];
  limits: Limits | undefined;
}

const FACET_NAME = /^[\s\S]{1,256}$/;

function checkName(name: unknown, what: string): string {
  if (typeof name !== "string" || !FACET_NAME.test(name) || !name.isWellFormed()) throw new TypeError(`${what}: a facet name is a well-formed string of 1 to 256 characters`);
  return name;
}

/** A facet started (or starting) and not ended since. */
interface FacetEntry {
  starting: Promise<RunningFacet>;
  /** Set when the facet was aborted (by itself or its parent): its calls in flight fail with it. */
  aborted?: Error;
}

type GetStartupOptions = () => FacetStartupOptions | Promise<FacetStartupOptions>;

/** @internal What the namespace hears of its objects' facets (for their alarms). */
export interface FacetHooks {
  /** Facet `name` started with `options`. */
  started?(name: string, options: FacetStartupOptions): void;
  /** The parent called facets.get(name). */
  gotten?(name: string): void;
}

/** @internal How one firing of a facet's alarm went (namespace.ts schedules what comes next). */
export type FacetAlarmOutcome =
  /** No class is known for the facet yet: it fires once the parent next calls facets.get(name). */
  | { waiting: true }
  /** Not due yet (a timer woke early): fires at `due`. */
  | { early: number }
  /** The handler of the alarm at `due` ran; `due` is null when the facet had no alarm set. */
  | { done: number | null };

/** `ctx.facets` of one host Durable Object. */
export class Facets {
  readonly #parentKey: string;
  readonly #process: () => StorageProcess;
  readonly #hooks: FacetHooks;
  /** Facets started and not aborted since. */
  readonly #facets = new Map<string, FacetEntry>();
  /** The callback of the latest facets.get() of each name: how an alarm starts a facet that is not running. */
  readonly #callbacks = new Map<string, GetStartupOptions>();
  /** What each facet last started with. */
  readonly #resolved = new Map<string, FacetStartupOptions>();

  /** @internal */
  constructor(parentKey: string, process: () => StorageProcess, hooks: FacetHooks = {}) {
    this.#parentKey = parentKey;
    this.#process = process;
    this.#hooks = hooks;
  }

  #database(name: string): string {
    return `${this.#parentKey}\u0000${name}`;
  }

  /**
   * A stub for the facet `name`, started on first use with the class `getStartupOptions()` names.
   * The same name always reaches the same facet and the same database.
   */
  get<T extends object = object>(name: string, getStartupOptions: GetStartupOptions): DurableObjectStub<T> {
    checkName(name, "facets.get");
    if (typeof getStartupOptions !== "function") throw new TypeError("facets.get: pass a function returning { class }");
    this.#callbacks.set(name, getStartupOptions);
    this.#hooks.gotten?.(name);
    const call = (method: string, args: unknown[]): Promise<unknown> => this.#invoke(name, getStartupOptions, method, args);
    // islet's one stub factory: every name but `then` a method, `name` answered as it is.
    return targetStub({ method: (method) => (...args: unknown[]) => call(method, args), fixed: Object.assign(Object.create(null), { name }) }) as DurableObjectStub<T>;
  }

  /** The running facet `name`, started with `getStartupOptions` when it is not. */
  #running(name: string, getStartupOptions: GetStartupOptions): FacetEntry {
    let entry = this.#facets.get(name);
    if (entry === undefined) {
      const made: FacetEntry = { starting: undefined! };
      made.starting = this.#start(name, getStartupOptions, made);
      this.#facets.set(name, made);
      // A start that failed is tried again by the next call.
      made.starting.catch(() => {
        if (this.#facets.get(name) === made) this.#facets.delete(name);
      });
      entry = made;
    }
    return entry;
  }

  /** Calls `method` of facet `name`; a call in flight when the facet is aborted fails with the abort's reason. */
  async #invoke(name: string, getStartupOptions: GetStartupOptions, method: string, args: unknown[]): Promise<unknown> {
    const entry = this.#running(name, getStartupOptions);
    const facet = await entry.starting;
    const entrypoint = facet.stub.getEntrypoint(facet.entry, { props: facet.props, limits: facet.limits }) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    let result: unknown;
    try {
      result = await entrypoint[method](...args);
    } catch (error) {
      throw entry.aborted ?? error;
    }
    // An answer the sandbox gave on its way out of an abort is not one.
    if (entry.aborted !== undefined) throw entry.aborted;
    return result;
  }

  async #start(name: string, getStartupOptions: GetStartupOptions, entry: FacetEntry): Promise<RunningFacet> {
    const options = await getStartupOptions();
    const data = durableObjectClassData(options?.class);
    if (data === undefined) throw new TypeError("facets.get: the callback must return { class } with a class from getDurableObjectClass()");
    const resolved: FacetStartupOptions = { class: options.class, id: options.id };
    this.#resolved.set(name, resolved);
    this.#hooks.started?.(name, resolved);
    const id = options.id !== undefined ? String(options.id) : hashName(`${this.#parentKey}\u0000facet\u0000${name}`);
    let stub: WorkerStub | undefined;
    // The facet's own ctx.abort(): its worker ends from here, at once.
    const storage = new FacetStorage(this.#process(), this.#database(name), (error) => {
      entry.aborted ??= error;
      if (this.#facets.get(name) === entry) this.#facets.delete(name);
      stub?.dispose();
    });
    const { getCode } = data;
    // A worker of its own, under an id no one else can name.
    stub = data.loader.get(`facet:${randomUUID()}`, async () => {
      const code = await getCode();
      return { ...code, env: { ...(code.env ?? {}), [FACET_STORAGE_BINDING]: storage } };
    });
    return { stub, entry: FACET_ENTRY_PREFIX + data.exportName, props: [data.props, id, name], limits: data.limits };
  }

  /** Ends the facet now: its calls in flight reject with `reason`; the next call starts it afresh. Its storage stays. */
  abort(name: string, reason?: unknown): void {
    checkName(name, "facets.abort");
    const entry = this.#facets.get(name);
    if (entry === undefined) return;
    this.#facets.delete(name);
    entry.aborted ??= reason instanceof Error ? reason : new Error(reason === undefined ? "The facet was aborted." : String(reason));
    void entry.starting.then(
      (facet) => facet.stub.dispose(),
      () => {},
    );
  }

  /** @internal What facet `name` last started with, if it started since its parent did. */
  startedWith(name: string): FacetStartupOptions | undefined {
    return this.#resolved.get(name);
  }

  /**
   * @internal Facet `name`'s alarm fires (namespace.ts, inside an event of the parent): the facet
   * is started if need be (with the parent's latest facets.get() callback, else with `remembered`,
   * what it last started with in this process), and its alarm(), if due, is called. Throws when
   * the handler does (the namespace retries); on the `last` try the facet clears the alarm first.
   */
  async runAlarm(name: string, retryCount: number, remembered: FacetStartupOptions | undefined, last = false): Promise<FacetAlarmOutcome> {
    const getStartupOptions = this.#callbacks.get(name) ?? (remembered === undefined ? undefined : () => remembered);
    if (getStartupOptions === undefined && !this.#facets.has(name)) return { waiting: true };
    // The facet reads its alarm inside its own gate, and calls its handler when it is due.
    const answer = await this.#invoke(name, getStartupOptions!, FACET_ALARM_METHOD, [retryCount, Date.now(), last]);
    if (!Array.isArray(answer) || typeof answer[1] !== "number") return { done: null };
    if (answer[0] === 1) return { early: answer[1] };
    return { done: answer[1] };
  }

  /** Ends the facet and deletes its storage. */
  async delete(name: string): Promise<void> {
    checkName(name, "facets.delete");
    this.#resolved.delete(name);
    await this.#stop(name);
    await this.#process().call(this.#database(name), "drop", []);
  }

  /**
   * A fork: facet `target` starts with a copy of `source`'s storage (committed first). The target
   * must have no storage yet; it is stopped if running.
   */
  async clone(source: string, target: string): Promise<void> {
    checkName(source, "facets.clone");
    checkName(target, "facets.clone");
    if (source === target) throw new TypeError("facets.clone: the source and the target are the same facet");
    await this.#stop(target);
    await this.#process().call(this.#database(source), "clone", [this.#database(target)]);
  }

  async #stop(name: string): Promise<void> {
    const entry = this.#facets.get(name);
    if (entry === undefined) return;
    this.abort(name, new Error("The facet was deleted or replaced."));
    await entry.starting.catch(() => {});
  }

  /** @internal Every facet ends (the parent closed). */
  closeAll(): void {
    for (const name of [...this.#facets.keys()]) this.abort(name, new Error("The parent object closed."));
  }
}
