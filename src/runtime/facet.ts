// A facet inside its sandbox: the one instance of the worker's Durable Object class (a facet has a
// worker of its own), and the `ctx` it is constructed with. `ctx.storage` is the facet's own
// SQLite database, reached through one host capability (src/storage/facets.ts). Cloudflare's API
// is synchronous for SQL and the KV (`sql.exec()` returns a cursor), so those calls block this
// isolate until the host answers (caps.ts callHostBlocking); the host's thread never waits.
//
// Gates: a storage call returns (or its promise resolves) before anything else can run here, so no
// other event interleaves with it (the input gate); blockConcurrencyWhile() holds new events until
// its callback settles. Each storage call is committed before it returns, except inside
// transactionSync()/transaction(), which commit or roll back as one.

import { callHostAsync, callHostBlocking } from "./caps.ts";
import { markPlatformObject } from "./brands.ts";
import { primordials } from "./primordials.ts";
import { targetStub } from "../protocol/cap-table.ts";
import { FACET_DEPTH_MESSAGE, FACET_ENTRY_PREFIX, MAX_FACET_DEPTH } from "../protocol/facets.ts";

const {
  ArrayIsArray,
  DatePrototypeGetTime,
  NumberIsFinite,
  ArrayPrototypePush,
  Error,
  Map,
  MapPrototypeSet,
  ObjectCreate,
  ObjectDefineProperty,
  ObjectEntries,
  ObjectFreeze,
  Promise,
  PromisePrototypeThen,
  PromiseReject,
  PromiseResolve,
  ReflectApply,
  StringPrototypeSlice,
  SymbolIterator,
  TypeError,
} = primordials;

type Value = unknown;

function call(stub: object, method: string, args: unknown[]): unknown {
  return callHostBlocking(stub, method, args);
}

/** An async API over a synchronous call: the call runs now (the input gate), its outcome is a promise. */
function later<T>(fn: () => T): Promise<T> {
  try {
    return PromiseResolve(fn());
  } catch (error) {
    return PromiseReject(error);
  }
}

interface ExecAnswer {
  columns: string[];
  rows: Value[][];
  rowsRead: number;
  rowsWritten: number;
}

/** A cell as the host sent it (a blob is already an ArrayBuffer, as Cloudflare gives it). */
function cellOf(value: Value): Value {
  return value;
}

class SqlStorageCursor {
  readonly columnNames: readonly string[];
  readonly rowsRead: number;
  readonly rowsWritten: number;
  #rows: Value[][];
  #next = 0;

  constructor(answer: ExecAnswer) {
    this.columnNames = ObjectFreeze(answer.columns);
    this.#rows = answer.rows;
    this.rowsRead = answer.rowsRead;
    this.rowsWritten = answer.rowsWritten;
  }

  #take(): Value[] | undefined {
    return this.#next < this.#rows.length ? this.#rows[this.#next++] : undefined;
  }

  #object(row: Value[]): Record<string, Value> {
    const object: Record<string, Value> = {};
    const names = this.columnNames;
    for (let i = 0; i < names.length; i++) ObjectDefineProperty(object, names[i], { value: cellOf(row[i]), enumerable: true, writable: true, configurable: true });
    return object;
  }

  next(): IteratorResult<Record<string, Value>> {
    const row = this.#take();
    return row === undefined ? { done: true, value: undefined } : { done: false, value: this.#object(row) };
  }

  [SymbolIterator](): this {
    return this;
  }

  toArray(): Record<string, Value>[] {
    const rows: Record<string, Value>[] = [];
    for (let row = this.#take(); row !== undefined; row = this.#take()) ArrayPrototypePush(rows, this.#object(row));
    return rows;
  }

  one(): Record<string, Value> {
    const rows = this.toArray();
    if (rows.length !== 1) throw new Error(rows.length === 0 ? "Expected exactly one result from SQL query, but got no results." : "Expected exactly one result from SQL query, but got multiple results.");
    return rows[0];
  }

  raw(): IterableIterator<Value[]> {
    const take = () => this.#take();
    const iterator = {
      next(): IteratorResult<Value[]> {
        const row = take();
        if (row === undefined) return { done: true, value: undefined };
        const copy: Value[] = [];
        for (let i = 0; i < row.length; i++) ArrayPrototypePush(copy, cellOf(row[i]));
        return { done: false, value: copy };
      },
      [SymbolIterator]() {
        return iterator;
      },
      toArray(): Value[][] {
        const rows: Value[][] = [];
        for (let r = iterator.next(); r.done !== true; r = iterator.next()) ArrayPrototypePush(rows, r.value);
        return rows;
      },
    };
    return iterator as unknown as IterableIterator<Value[]>;
  }
}

function entriesToMap(entries: [string, Value][]): Map<string, Value> {
  const map = new Map<string, Value>();
  for (let i = 0; i < entries.length; i++) MapPrototypeSet(map, entries[i][0], entries[i][1]);
  return map;
}

function listIterator(entries: [string, Value][]): IterableIterator<[string, Value]> {
  let next = 0;
  const iterator = {
    next(): IteratorResult<[string, Value]> {
      return next < entries.length ? { done: false, value: entries[next++] } : { done: true, value: undefined };
    },
    [SymbolIterator]() {
      return iterator;
    },
  };
  return iterator as unknown as IterableIterator<[string, Value]>;
}

function makeStorage(stub: object): object {
  const sql = ObjectFreeze({
    exec(query: unknown, ...bindings: unknown[]) {
      if (typeof query !== "string") throw new TypeError("sql.exec: the query must be a string");
      return new SqlStorageCursor(call(stub, "exec", [query, bindings]) as ExecAnswer);
    },
    get databaseSize(): number {
      return call(stub, "size", []) as number;
    },
  });
  const kv = ObjectFreeze({
    get: (key: unknown) => call(stub, "kvGet", [key]),
    put: (key: unknown, value: unknown) => void call(stub, "kvPut", [key, value]),
    delete: (key: unknown) => call(stub, "kvDelete", [key]) as boolean,
    list: (options?: unknown) => listIterator(call(stub, "kvList", [options ?? {}]) as [string, Value][]),
  });

  const transactionSync = <T>(fn: () => T): T => {
    if (typeof fn !== "function") throw new TypeError("transactionSync: pass a function");
    call(stub, "span", ["open"]);
    let result: T;
    try {
      result = fn();
    } catch (error) {
      call(stub, "span", ["rollback"]);
      throw error;
    }
    call(stub, "span", ["commit"]);
    return result;
  };

  const storage: Record<string, unknown> = {
    sql,
    kv,
    get: (keyOrKeys: unknown) => later(() => (ArrayIsArray(keyOrKeys) ? entriesToMap(call(stub, "kvGetMany", [keyOrKeys]) as [string, Value][]) : call(stub, "kvGet", [keyOrKeys]))),
    put: (keyOrEntries: unknown, value?: unknown) =>
      later(() => {
        if (typeof keyOrEntries === "string") return void call(stub, "kvPut", [keyOrEntries, value]);
        if (keyOrEntries === null || typeof keyOrEntries !== "object") throw new TypeError("storage.put: give a key and a value, or an object of entries");
        return void call(stub, "kvPutMany", [ObjectEntries(keyOrEntries)]);
      }),
    delete: (keyOrKeys: unknown) => later(() => (ArrayIsArray(keyOrKeys) ? call(stub, "kvDeleteMany", [keyOrKeys]) : call(stub, "kvDelete", [keyOrKeys]))),
    list: (options?: unknown) => later(() => entriesToMap(call(stub, "kvList", [options ?? {}]) as [string, Value][])),
    deleteAll: () => later(() => void call(stub, "deleteAll", [])),
    transactionSync,
    // The asynchronous transaction: other events wait (the gate holds), a throw or rollback() undoes it.
    transaction: <T>(fn: (txn: object) => Promise<T> | T): Promise<T> =>
      holdGate(async () => {
        if (typeof fn !== "function") throw new TypeError("transaction: pass a function");
        call(stub, "span", ["open"]);
        let rolledBack = false;
        const txn = ObjectCreate(storage) as Record<string, unknown>;
        ObjectDefineProperty(txn, "rollback", { value: () => void (rolledBack = true) });
        let result: T;
        try {
          result = await fn(txn);
        } catch (error) {
          call(stub, "span", ["rollback"]);
          throw error;
        }
        call(stub, "span", [rolledBack ? "rollback" : "commit"]);
        return result;
      }),
    sync: () => PromiseResolve(undefined),
    // The alarm is kept in the facet's own database; the host indexes it and calls alarm() when it fires.
    getAlarm: () => later(() => call(stub, "getAlarm", []) as number | null),
    setAlarm: (scheduledTime: unknown) =>
      later(() => {
        let time = scheduledTime;
        if (typeof time !== "number") {
          try {
            // A Date's own time (a brand check, not a lookup user code can replace).
            time = DatePrototypeGetTime(time as Date);
          } catch {
            throw new TypeError("setAlarm: give a Date or milliseconds since the epoch");
          }
        }
        if (!NumberIsFinite(time)) throw new TypeError("setAlarm: give a Date or milliseconds since the epoch");
        return void call(stub, "setAlarm", [time]);
      }),
    deleteAlarm: () => later(() => void call(stub, "deleteAlarm", [])),
  };
  return ObjectFreeze(storage);
}

// ---- the facet's own facets ----

/** What a class token from `ctx.exports` stands for (index.ts keeps the registry). */
export interface OwnClass {
  exportName: string;
  props: unknown;
}

/**
 * `ctx.facets` of a facet: facets of its own, of its own worker's classes (`ctx.exports.Name`, or
 * `ctx.exports.Name({ props })`), each with its own database, as workerd allows (to a depth of 4
 * with the host object). Calls are asynchronous host calls, relayed by the facet's storage
 * capability (src/storage/facets.ts); the startup callback runs only when the facet is not running.
 */
function makeFacets(stub: object, depth: number, classOf: (value: unknown) => OwnClass | undefined): object {
  const message = (reason: unknown): string => (reason instanceof Error ? reason.message : reason === undefined ? "" : `${reason as string}`);
  return ObjectFreeze({
    get(name: unknown, getStartupOptions: unknown): object {
      if (depth >= MAX_FACET_DEPTH) throw new Error(FACET_DEPTH_MESSAGE);
      if (typeof name !== "string") throw new TypeError("facets.get: a facet name is a string");
      if (typeof getStartupOptions !== "function") throw new TypeError("facets.get: pass a function returning { class }");
      const invoke = async (method: string, args: unknown[]): Promise<unknown> => {
        let answer = (await callHostAsync(stub, "facetCall", [name, null, method, args])) as [number, unknown];
        if (answer[0] === 1) {
          // Not running: its startup callback says what to start.
          const options = (await ReflectApply(getStartupOptions, undefined, [])) as { class?: unknown; id?: unknown } | undefined;
          const own = options === null || typeof options !== "object" ? undefined : classOf(options.class);
          if (own === undefined) throw new TypeError("facets.get: the callback must return { class } with a class of this worker's own, from ctx.exports (ctx.exports.Name)");
          const id = options!.id === undefined ? undefined : `${options!.id as string}`;
          answer = (await callHostAsync(stub, "facetCall", [name, [own.exportName, own.props, id], method, args])) as [number, unknown];
          if (answer[0] !== 0) throw new Error("The facet could not be started.");
        }
        return answer[1];
      };
      const fixed = ObjectCreate(null) as Record<string, unknown>;
      fixed.name = name;
      const facetStub = targetStub({ method: (method) => (...args: unknown[]) => invoke(method, args), fixed });
      // It cannot be handed on (a copy would be an empty object): a DataCloneError, as on workerd.
      markPlatformObject(facetStub, "DurableObjectStub");
      return facetStub;
    },
    abort(name: unknown, reason?: unknown): void {
      // Synchronous, as workerd's: the facet has ended when it returns (the host ends it while this isolate waits).
      call(stub, "facetAbort", [name, message(reason)]);
    },
    delete(name: unknown): Promise<void> {
      return callHostAsync(stub, "facetDelete", [name]) as Promise<void>;
    },
    clone(source: unknown, target: unknown): Promise<void> {
      return callHostAsync(stub, "facetClone", [source, target]) as Promise<void>;
    },
  });
}

// ---- the gate and the instance ----

/** Set while blockConcurrencyWhile() or transaction() runs: new events wait for it. */
let gate: Promise<unknown> | undefined;

function holdGate<T>(fn: () => Promise<T>): Promise<T> {
  const run = (async () => fn())();
  const held = PromisePrototypeThen(run, () => {}, () => {});
  gate = held;
  PromisePrototypeThen(held, () => {
    if (gate === held) gate = undefined;
  });
  return run;
}

interface Facet {
  exportName: string;
  instance: object;
}

let facet: Facet | undefined;
let storageStub: object | undefined;

/** The facet's storage capability, taken out of env by setEnv (index.ts). */
export function setFacetStorage(stub: unknown): void {
  if (stub !== null && (typeof stub === "object" || typeof stub === "function")) storageStub = stub as object;
}

export interface FacetContextBase {
  exports: Record<string, unknown>;
  waitUntil(promise: Promise<unknown>): void;
  /** What a value from `exports` stands for as a Durable Object class (its facets' classes). */
  classOf(value: unknown): OwnClass | undefined;
}

/**
 * The facet's instance of `exported` (the class named `exportName`), constructed on the first
 * event, and after an abort. Resolves once no blockConcurrencyWhile() holds the gate.
 */
export async function facetReceiver(exportName: string, exported: unknown, props: unknown, env: unknown, base: FacetContextBase): Promise<object> {
  while (gate !== undefined) await gate;
  if (facet !== undefined && facet.exportName === exportName) return facet.instance;
  if (typeof exported !== "function" || exported.prototype === undefined) throw new TypeError(`The export "${exportName}" is not a Durable Object class.`);
  if (storageStub === undefined) throw new TypeError("This worker is not a facet: it has no storage.");
  const [userProps, rawId, name, rawDepth] = ArrayIsArray(props) ? (props as [unknown, unknown, unknown, unknown]) : [undefined, "", undefined, undefined];
  const id = typeof rawId === "string" ? rawId : "";
  // The host object is 1, its facets 2 (facet-keys.ts).
  const depth = typeof rawDepth === "number" ? rawDepth : 2;
  const idObject = ObjectFreeze({
    name: typeof name === "string" ? name : undefined,
    toString: () => id,
    equals: (other: unknown) => other !== null && typeof other === "object" && ReflectApply((other as { toString(): string }).toString, other, []) === id,
  });
  // A transaction an earlier instance left open (its sandbox was killed inside it) is undone first.
  call(storageStub, "abortSpans", []);
  const storage = makeStorage(storageStub);
  const ctx = ObjectFreeze({
    id: idObject,
    storage,
    facets: makeFacets(storageStub, depth, base.classOf),
    props: userProps,
    exports: base.exports,
    waitUntil: base.waitUntil,
    blockConcurrencyWhile: <T>(fn: () => Promise<T> | T): Promise<T> => {
      if (typeof fn !== "function") return PromiseReject(new TypeError("blockConcurrencyWhile: pass a function"));
      const run = holdGate(async () => fn());
      // A callback that throws resets the object, as on Cloudflare.
      PromisePrototypeThen(run, undefined, () => void (facet = undefined));
      return run;
    },
    abort: (reason?: unknown) => {
      facet = undefined;
      // A template, not the global String (user code may have replaced it).
      const error = reason instanceof Error ? reason : new Error(reason === undefined ? "The facet was aborted." : `${reason as string}`);
      // The host ends this sandbox while this call blocks (FacetStorage.abort): nothing after it
      // runs, so a catch around abort() cannot carry on. Only when the host cannot end it now (no
      // invocation in flight) does the call return; the instance is dropped all the same.
      try {
        call(storageStub!, "abort", [reason === undefined ? "" : error.message]);
      } catch {
        // the abort's own error, or the host refused the call: the instance goes either way
      }
      throw error;
    },
  });
  const instance = new (exported as new (ctx: unknown, env: unknown) => object)(ctx, env);
  facet = { exportName, instance };
  // A constructor's blockConcurrencyWhile() holds this first event too.
  while (gate !== undefined) await gate;
  if (facet === undefined) throw new Error("The facet's constructor failed in blockConcurrencyWhile().");
  return instance;
}

export function isFacetEntry(entry: string): boolean {
  // (Only primordials the core captures outright: the chunk-only ones are not ready before a chunk loads.)
  return entry.length > FACET_ENTRY_PREFIX.length && StringPrototypeSlice(entry, 0, FACET_ENTRY_PREFIX.length) === FACET_ENTRY_PREFIX;
}

/** The class's export name in a facet entry. */
export function facetExportName(entry: string): string {
  return StringPrototypeSlice(entry, FACET_ENTRY_PREFIX.length);
}

/**
 * The facet's alarm, for the host's FACET_ALARM_METHOD call, inside the facet's gate (after any
 * blockConcurrencyWhile() or transaction() of another event): null when no alarm is set; [1, due]
 * when it is not due at `now` (the host's clock); else the instance's own `alarm` (if it has one)
 * is called with Cloudflare's { retryCount, isRetry }; once it settles the alarm that fired is
 * cleared, unless the handler set another, and the answer is [0, due]. On the `last` try (the
 * sixth retry) it is cleared when the handler throws too: the namespace does not retry it again.
 */
export async function facetAlarm(receiver: object, retryCount: unknown, now: unknown, last?: unknown): Promise<[number, number] | null> {
  const due = call(storageStub!, "getAlarm", []);
  if (typeof due !== "number") return null;
  if (typeof now === "number" && due > now) return [1, due];
  const handler = (receiver as { alarm?: unknown }).alarm;
  if (typeof handler === "function") {
    const count = typeof retryCount === "number" && NumberIsFinite(retryCount) ? retryCount : 0;
    try {
      await ReflectApply(handler, receiver, [ObjectFreeze({ retryCount: count, isRetry: count > 0 })]);
    } catch (error) {
      if (last === true) call(storageStub!, "alarmDone", [due]);
      throw error;
    }
  }
  // Cleared unless the handler set another meanwhile.
  call(storageStub!, "alarmDone", [due]);
  return [0, due];
}
