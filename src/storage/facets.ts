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
// - A facet has facets of its own (its ctx.facets, as workerd allows), of its own worker's classes
//   (ctx.exports.Name), to a depth of 4 with the host object (facet-keys.ts): each with its own
//   database, named by its path, under the same limits as the facet that made it; deleted and
//   cloned with it (the storage process keeps which facet has which).

import { randomUUID } from "node:crypto";
import { RpcTarget } from "../rpc/rpc-target.ts";
import { targetStub } from "../protocol/cap-table.ts";
import { DurableObjectClass, durableObjectClassData, type ClassData } from "../loader/durable-object-class.ts";
import type { WorkerStub } from "../loader/worker-loader.ts";
import { FACET_ALARM_METHOD, FACET_ENTRY_PREFIX, FACET_STORAGE_BINDING } from "../protocol/facets.ts";
import { hashName } from "./object-id.ts";
import { childFacetKey, FACET_DEPTH_MESSAGE, MAX_FACET_DEPTH, rootFacetKey } from "./facet-keys.ts";
import type { StorageProcess } from "./storage-process.ts";
import type { DurableObjectStub } from "./namespace.ts";
import type { Limits } from "../loader/limits.ts";
import { storageAnswer, type StorageAnswer } from "../loader/storage-rows.ts";

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
  /** The facet's own ctx.facets (undefined at the deepest depth, where it can have none). */
  readonly #children: Facets | undefined;
  /** A facet of a facet: it cannot set alarms. */
  readonly #nested: boolean;

  constructor(process: StorageProcess, database: string, onAbort: (error: Error) => void, children: Facets | undefined, nested: boolean) {
    super();
    this.#process = process;
    this.#database = database;
    this.#onAbort = onAbort;
    this.#children = children;
    this.#nested = nested;
  }

  /** Transactions (spans) this facet has open in the storage process, as far as this side knows. */
  #spans = 0;

  /**
   * Every call says how many transactions it expects open: the storage process refuses it if one
   * was lost. The answer carries the rows the call read and wrote (storage-rows.ts): the facet's
   * worker charges them to the invocation that made the call and hands its sandbox `value` only.
   */
  async #call(op: string, args: unknown[], answer: (value: unknown) => unknown = (value) => value): Promise<StorageAnswer> {
    if (this.#aborted !== undefined) throw this.#aborted;
    try {
      const { value, rowsRead, rowsWritten, cpuNs } = await this.#process.callCounted(this.#database, op, args, this.#spans);
      return storageAnswer(answer(value), rowsRead, rowsWritten, cpuNs);
    } catch (error) {
      if ((error as Error)?.name === "TransactionLostError") this.#spans = 0;
      throw error;
    }
  }

  exec(query: unknown, bindings: unknown): Promise<unknown> {
    if (typeof query !== "string") throw new TypeError("sql.exec: the query must be a string");
    if (!Array.isArray(bindings)) throw new TypeError("sql.exec: bindings must be an array");
    return this.#call("exec", [query, bindings], (answer) => {
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
  /**
   * Its database and its facets' (the storage process drops those, at every depth, as workerd
   * does): its running facets end first, so none writes into a database being dropped.
   */
  async deleteAll(): Promise<StorageAnswer> {
    if (this.#aborted !== undefined) throw this.#aborted;
    await this.#children?.endAll(new Error("The parent facet deleted its storage (deleteAll())."));
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
    if (this.#nested) throw new NestedFacetAlarmError("A facet of a facet cannot set alarms: islet runs the alarms of a host object's facets only (workerd runs no facet's).");
    return this.#call("setAlarm", [time]);
  }

  // ---- the facet's own ctx.facets (runtime/facet.ts), asynchronous calls ----

  #ownFacets(): Facets {
    if (this.#aborted !== undefined) throw this.#aborted;
    if (this.#children === undefined) throw new Error(FACET_DEPTH_MESSAGE);
    return this.#children;
  }

  /** A call of the facet's facet `name`: [0, result], or [1] when it is not running and `startup` is null (the sandbox then runs its callback). */
  facetCall(name: unknown, startup: unknown, method: unknown, args: unknown): Promise<[1] | [0, unknown]> {
    return this.#ownFacets().callFromFacet(name, startup, method, args);
  }
  facetAbort(name: unknown, reason: unknown): void {
    this.#ownFacets().abort(checkName(name, "facets.abort"), typeof reason === "string" && reason !== "" ? new Error(reason.slice(0, 1_000)) : undefined);
  }
  facetDelete(name: unknown): Promise<void> {
    return this.#ownFacets().delete(checkName(name, "facets.delete"));
  }
  facetClone(source: unknown, target: unknown): Promise<void> {
    return this.#ownFacets().clone(checkName(source, "facets.clone"), checkName(target, "facets.clone"));
  }
  deleteAlarm(): Promise<unknown> {
    return this.#call("deleteAlarm", []);
  }
  /** After the alarm at `due` fired and its handler ended: cleared, unless the handler set another. */
  alarmDone(due: unknown): Promise<unknown> {
    if (typeof due !== "number") throw new TypeError("alarmDone: the time of the alarm that fired");
    return this.#call("alarmDone", [due]);
  }
  /**
   * @internal Its facet was aborted, deleted or replaced by its parent: every later call of this
   * instance fails (a call its sandbox makes before the sandbox is gone must not write, nor make a
   * database again once the facet's was dropped).
   */
  revoke(error: Error): void {
    this.#aborted ??= error;
    this.#spans = 0;
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

/** A facet of a facet tried to set an alarm. */
export class NestedFacetAlarmError extends Error {
  override name = "NestedFacetAlarmError";
}

/** The sandbox asked for a facet that is not running without saying what to start (see Facets.callFromFacet). */
class NotRunning extends Error {}

interface RunningFacet {
  stub: WorkerStub;
  entry: string;
  /** ctx.props, ctx.id, the name, and the facet's depth (the host object is 1). */
  props: [unknown, string, string, number];
  limits: Limits | undefined;
  /** Its own facets, which end with it. */
  children: Facets | undefined;
  /** Its storage capability, revoked when it ends. */
  storage: FacetStorage;
}

const FACET_NAME = /^[\s\S]{1,256}$/;

function checkName(name: unknown, what: string): string {
  if (typeof name !== "string" || !FACET_NAME.test(name) || !name.isWellFormed()) throw new TypeError(`${what}: a facet name is a well-formed string of 1 to 256 characters`);
  return name;
}

/**
 * What a facet's code asked to start as its own facet: [export name, props, id?] (runtime/facet.ts
 * sends it), a class of the facet's own worker with the facet's own limits (it cannot raise them).
 */
function nestedStartup(worker: ClassData, startup: unknown): FacetStartupOptions {
  if (!Array.isArray(startup)) throw new TypeError("facets.get: the callback must return { class } with a class of this worker's own (ctx.exports.Name)");
  const [exportName, props, id] = startup as unknown[];
  if (typeof exportName !== "string" || exportName === "" || exportName.length > 256) throw new TypeError("facets.get: the class must be an export of this worker (ctx.exports.Name)");
  if (id !== undefined && (typeof id !== "string" || id.length > 1_024)) throw new TypeError("facets.get: an id is a string of at most 1,024 characters");
  const cls = new DurableObjectClass({ loader: worker.loader, getCode: worker.getCode, exportName, props, limits: worker.limits });
  return { class: cls, id: id as string | undefined };
}

/** A facet started (or starting) and not ended since. */
interface FacetEntry {
  starting: Promise<RunningFacet>;
  /** Set when the facet was aborted (by itself or its parent): its calls in flight fail with it. */
  aborted?: Error;
  /** A nested facet counted in its host object's facet's NestedBudget until it ends. */
  counted?: boolean;
}

/**
 * Nested facets that may run at once under one host object's facet, at every depth together: each
 * is a sandbox its untrusted code started (a started one counts until it is aborted, deleted or
 * its parent ends).
 */
export const MAX_RUNNING_NESTED_FACETS = 64;

/** The nested facets running under one host object's facet. */
interface NestedBudget {
  running: number;
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

/** @internal How deep a `Facets` is, and, for a facet's own, what its classes are. */
export interface FacetsOptions {
  /** The depth of the object whose facets these are: 1 for a host object (default). */
  depth?: number;
  /** For a facet's own facets: the class the facet runs (its worker's code, loader and limits). */
  worker?: ClassData;
  /** For a facet's own facets: the count of those running under its host object's facet. */
  budget?: NestedBudget;
}

/** `ctx.facets` of one host Durable Object, or of one facet (its code's, relayed by FacetStorage). */
export class Facets {
  readonly #parentKey: string;
  readonly #process: () => StorageProcess;
  readonly #hooks: FacetHooks;
  readonly #depth: number;
  readonly #worker: ClassData | undefined;
  readonly #budget: NestedBudget | undefined;
  /** Facets started and not aborted since. */
  readonly #facets = new Map<string, FacetEntry>();
  /** The callback of the latest facets.get() of each name: how an alarm starts a facet that is not running. */
  readonly #callbacks = new Map<string, GetStartupOptions>();
  /** What each facet last started with. */
  readonly #resolved = new Map<string, FacetStartupOptions>();

  /** @internal `parentKey`: the host object's id, or the facet's database name for a facet's own. */
  constructor(parentKey: string, process: () => StorageProcess, hooks: FacetHooks = {}, options: FacetsOptions = {}) {
    this.#parentKey = parentKey;
    this.#process = process;
    this.#hooks = hooks;
    this.#depth = options.depth ?? 1;
    this.#worker = options.worker;
    this.#budget = options.budget;
  }

  #database(name: string): string {
    return this.#depth === 1 ? rootFacetKey(this.#parentKey, name) : childFacetKey(this.#parentKey, name);
  }

  /**
   * A stub for the facet `name`, started on first use with the class `getStartupOptions()` names.
   * The same name always reaches the same facet and the same database.
   */
  get<T extends object = object>(name: string, getStartupOptions: GetStartupOptions): DurableObjectStub<T> {
    if (this.#depth >= MAX_FACET_DEPTH) throw new Error(FACET_DEPTH_MESSAGE);
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
      const budget = this.#budget;
      if (budget !== undefined) {
        if (budget.running >= MAX_RUNNING_NESTED_FACETS) throw new RangeError(`at most ${MAX_RUNNING_NESTED_FACETS} nested facets run at once under one facet of a host object; abort some first`);
        budget.running++;
      }
      const made: FacetEntry = { starting: undefined!, counted: budget !== undefined };
      made.starting = this.#start(name, getStartupOptions, made);
      this.#facets.set(name, made);
      // A start that failed is tried again by the next call.
      made.starting.catch(() => this.#forget(name, made));
      entry = made;
    }
    return entry;
  }

  /** Facet `name` (if it is still `entry`) is no longer running. */
  #forget(name: string, entry: FacetEntry): void {
    if (this.#facets.get(name) !== entry) return;
    this.#facets.delete(name);
    if (entry.counted === true) {
      entry.counted = false;
      this.#budget!.running--;
    }
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
    const database = this.#database(name);
    // Indexed under its parent before it runs (for a facet's facet the storage process checks the
    // depth and the count; a host object's facets are indexed so its deleteAll() and a backup find them).
    await this.#process().call(this.#parentKey, "facetChild", [name]);
    const id = options.id !== undefined ? String(options.id) : this.#depth === 1 ? hashName(`${this.#parentKey}\u0000facet\u0000${name}`) : hashName(`facet\u0001${database}`);
    const depth = this.#depth + 1;
    // Its own ctx.facets: of its own worker's classes, under its limits; none at the deepest depth.
    const budget = this.#budget ?? { running: 0 };
    const children = depth < MAX_FACET_DEPTH ? new Facets(database, this.#process, {}, { depth, worker: data, budget }) : undefined;
    let stub: WorkerStub | undefined;
    // The facet's own ctx.abort(): its worker ends from here, at once.
    const storage = new FacetStorage(
      this.#process(),
      database,
      (error) => {
        entry.aborted ??= error;
        this.#forget(name, entry);
        stub?.dispose();
        children?.closeAll();
      },
      children,
      depth > 2,
    );
    const { getCode } = data;
    // A worker of its own, under an id no one else can name.
    stub = data.loader.get(`facet:${randomUUID()}`, async () => {
      const code = await getCode();
      return { ...code, env: { ...(code.env ?? {}), [FACET_STORAGE_BINDING]: storage } };
    });
    return { stub, entry: FACET_ENTRY_PREFIX + data.exportName, props: [data.props, id, name, depth], limits: data.limits, children, storage };
  }

  /**
   * @internal A facet's code calls facet `name` of its own (FacetStorage relays it). Not running
   * and no `startup`: [1], and the sandbox runs its getStartupOptions callback (only then, as on
   * Cloudflare) and calls again with `startup`: [export name, props, id], a class of the facet's
   * own worker, started under the facet's own limits.
   */
  async callFromFacet(name: unknown, startup: unknown, method: unknown, args: unknown): Promise<[1] | [0, unknown]> {
    const worker = this.#worker;
    if (worker === undefined) throw new TypeError("facets: not a facet's own facets");
    if (this.#depth >= MAX_FACET_DEPTH) throw new Error(FACET_DEPTH_MESSAGE);
    const checked = checkName(name, "facets.get");
    if (typeof method !== "string" || method === "" || method.length > 256 || method.startsWith("\u0000")) throw new TypeError("facets.get: a method name is a string of 1 to 256 characters");
    if (!Array.isArray(args)) throw new TypeError("facets.get: the arguments are an array");
    if (startup === null && !this.#facets.has(checked)) return [1];
    const getStartupOptions: GetStartupOptions =
      startup === null
        ? () => {
            throw new NotRunning();
          }
        : () => nestedStartup(worker, startup);
    try {
      return [0, await this.#invoke(checked, getStartupOptions, method, args)];
    } catch (error) {
      if (error instanceof NotRunning) return [1];
      throw error;
    }
  }

  /** Ends the facet now: its calls in flight reject with `reason`; the next call starts it afresh. Its storage stays. */
  abort(name: string, reason?: unknown): void {
    checkName(name, "facets.abort");
    const entry = this.#facets.get(name);
    if (entry === undefined) return;
    this.#forget(name, entry);
    entry.aborted ??= reason instanceof Error ? reason : new Error(reason === undefined ? "The facet was aborted." : String(reason));
    void entry.starting.then(
      (facet) => {
        facet.storage.revoke(entry.aborted!);
        facet.stub.dispose();
        // Its own facets end with it.
        facet.children?.closeAll();
      },
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
    await this.#stop(name, "The facet was deleted.");
    await this.#process().call(this.#database(name), "drop", []);
  }

  /**
   * A fork: facet `target` starts with a copy of `source`'s storage (committed first). A target that
   * exists is replaced, as on workerd: it is ended if running (its calls in flight fail) and its
   * storage, its facets' included, is dropped before the copy is made. Cloning a facet onto itself
   * only ends it (workerd: "replaces it with an exact copy of its own data").
   */
  async clone(source: string, target: string): Promise<void> {
    checkName(source, "facets.clone");
    checkName(target, "facets.clone");
    await this.#stop(target, "The facet was replaced by a clone.");
    if (source === target) return;
    await this.#process().call(this.#database(source), "clone", [this.#database(target)]);
  }

  async #stop(name: string, reason = "The facet was deleted."): Promise<void> {
    const entry = this.#facets.get(name);
    if (entry === undefined) return;
    this.abort(name, new Error(reason));
    await entry.starting.catch(() => {});
  }

  /** @internal Every running facet ends with `reason`, once its sandbox is told to go. */
  async endAll(reason: Error): Promise<void> {
    await Promise.all([...this.#facets.keys()].map(async (name) => {
      const entry = this.#facets.get(name)!;
      this.abort(name, reason);
      await entry.starting.catch(() => {});
    }));
  }

  /**
   * @internal The host object's deleteAll(): every facet ends, and its storage (its facets'
   * included, at every depth) is dropped, as on Cloudflare, where an object's storage holds its
   * facets' databases. Not undone if the turn that called it rolls back.
   */
  async deleteAll(): Promise<void> {
    if (this.#depth !== 1) throw new TypeError("facets.deleteAll: a host object's only");
    await this.endAll(new Error("The parent object deleted its storage (deleteAll())."));
    // The names this process knows, in case an index made before islet indexed host facets lacks them.
    const names = [...new Set([...this.#resolved.keys(), ...this.#callbacks.keys()])];
    this.#resolved.clear();
    await this.#process().call(this.#parentKey, "dropFacets", [names]);
  }

  /** @internal Every facet ends (the parent closed). */
  closeAll(): void {
    for (const name of [...this.#facets.keys()]) this.abort(name, new Error("The parent object closed."));
  }
}
