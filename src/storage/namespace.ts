// A Durable Object namespace on the host: many objects of one class, each addressed by a name or
// an id, created on first use, each with its own SQLite database (a file under the storage
// directory, or memory). Alarms are kept in each object's database and in an index beside them,
// so they fire after a restart.

import { existsSync, mkdirSync } from "node:fs";
import { targetStub } from "../protocol/cap-table.ts";
import { join } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { DurableObjectId, hashName, idFromName, idFromString, newUniqueId } from "./object-id.ts";
import { ObjectHost, type DurableObjectClass, type DurableObjectState } from "./object-host.ts";
import { DurableObjectStorage } from "./storage.ts";
import { Facets, type FacetAlarmOutcome, type FacetStartupOptions } from "./facets.ts";
import { DEFAULT_STORAGE_PROCESS_MB, StorageProcess } from "./storage-process.ts";

/** The methods of a Durable Object class, each returning a Promise, as a stub offers them. */
export type DurableObjectStub<T = object> = {
  [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
} & {
  readonly id: DurableObjectId;
  readonly name: string | undefined;
};

export interface DurableObjectNamespaceOptions<Env> {
  /** The namespace's name; its objects' files live in a directory named by its hash. */
  name: string;
  /** Where databases live: `{ dir }`, or omitted for memory (gone when the namespace closes). */
  storage?: { dir: string };
  /** Handed to every object as its `env`. */
  env?: Env;
  /** The most one object's database may hold, in MiB. Default 1024. */
  storageMb?: number;
  /** An object with nothing in flight this long is evicted (its database closed). Default 60 s. */
  idleTimeoutMs?: number;
  /**
   * Facets' storage: the most one facet's database may hold (default: storageMb), how long one
   * storage call may run (default 5 s), how many facet databases the namespace keeps (default
   * 100,000), the storage process's resident memory in MiB past which a running call kills it
   * with StorageMemoryError (Linux; default 512).
   */
  facets?: {
    storageMb?: number;
    callTimeoutMs?: number;
    maxFacets?: number;
    processMemoryMb?: number;
    /** @internal How long a facet's transaction may stay open with no storage call before it is rolled back (default 60 s). */
    spanIdleMs?: number;
    /**
     * Facets a host object's facet may have of its own (its ctx.facets), theirs included (default
     * 1,000): each is a database the facet's untrusted code makes the storage process keep.
     */
    maxNestedFacets?: number;
    /**
     * The shortest time between the end of one firing of a facet's alarm and the start of its next
     * (default 1,000 ms): facet code is untrusted, and an alarm() that sets its alarm to now again
     * would otherwise keep a core busy with no request from anyone.
     */
    alarmIntervalMs?: number;
  };
  /** @internal The first retry of a failed alarm waits this long, each later one twice the one before (default 2,000 ms, as on Cloudflare). */
  alarmRetryMs?: number;
  /** @internal Extra members of every object's ctx. */
  extendState?: (state: DurableObjectState, host: ObjectHost) => object;
}

/** A facet's alarm, as the namespace schedules it. */
interface FacetAlarm {
  parent: DurableObjectId;
  facet: string;
  /** The alarm's time as last committed. */
  time: number;
  /** What the facet last started with in this process: how it is started when its parent names no class. */
  startup?: FacetStartupOptions;
  timer?: NodeJS.Timeout;
  /** It fired and no class was known: it fires when the parent next calls facets.get(). */
  waiting?: boolean;
  running?: boolean;
  /** When its last firing ended (Date.now()): the next one waits at least alarmIntervalMs after it. */
  lastEnded?: number;
}

/** A facet's database name in the storage process (facets.ts names them the same way). */
function facetDatabase(parentKey: string, facet: string): string {
  return `${parentKey}\u0000${facet}`;
}

/**
 * Alarm retries wait 2 s, 4 s, 8 s …, six times at most, as on Cloudflare; once the sixth fails the
 * alarm is cleared ("not re-run until the next setAlarm", Cloudflare's alarms page), so neither it
 * nor a restart runs it again.
 */
const ALARM_RETRIES = 6;
const MAX_TIMER_MS = 2 ** 31 - 1;

export class DurableObjectNamespace<T extends object = object, Env = unknown> {
  readonly name: string;
  readonly #class: DurableObjectClass<Env>;
  readonly #options: DurableObjectNamespaceOptions<Env>;
  readonly #dir: string | undefined;
  readonly #hosts = new Map<string, ObjectHost<Env>>();
  readonly #idleTimers = new Map<string, NodeJS.Timeout>();
  readonly #alarmTimers = new Map<string, NodeJS.Timeout>();
  readonly #index: { db: DatabaseSync; put: StatementSync; delete: StatementSync; putFacet: StatementSync; deleteFacet: StatementSync } | undefined;
  /** Facets' alarms by facet database (parent key NUL facet name), as committed in their databases. */
  readonly #facetAlarms = new Map<string, FacetAlarm>();
  #closed = false;

  get #alarmIntervalMs(): number {
    return this.#options.facets?.alarmIntervalMs ?? 1_000;
  }

  /** When the retry after the firing with `retryCount` fails: 2 s, 4 s, 8 s … after it. */
  #retryAt(retryCount: number): number {
    return Date.now() + (this.#options.alarmRetryMs ?? 2_000) * 2 ** retryCount;
  }

  constructor(objectClass: DurableObjectClass<Env> & (new (...args: never[]) => T), options: DurableObjectNamespaceOptions<Env>) {
    if (typeof objectClass !== "function") throw new TypeError("DurableObjectNamespace: pass the Durable Object class");
    if (typeof options?.name !== "string" || options.name === "") throw new TypeError("DurableObjectNamespace: options.name must be a non-empty string");
    this.#class = objectClass;
    this.#options = options;
    this.name = options.name;
    if (options.storage?.dir !== undefined) {
      this.#dir = join(options.storage.dir, `ns-${hashName(options.name)}`);
      mkdirSync(this.#dir, { recursive: true });
      const db = new DatabaseSync(join(this.#dir, "index.sqlite"));
      db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
      db.exec("CREATE TABLE IF NOT EXISTS alarms (id TEXT PRIMARY KEY, name TEXT, time INTEGER NOT NULL) WITHOUT ROWID");
      // A facet's alarm lives in its own database (in the storage process); this says which facet of
      // which object to wake, and when.
      db.exec("CREATE TABLE IF NOT EXISTS facet_alarms (parent TEXT NOT NULL, parent_name TEXT, facet TEXT NOT NULL, time INTEGER NOT NULL, PRIMARY KEY (parent, facet)) WITHOUT ROWID");
      this.#index = {
        db,
        put: db.prepare("INSERT INTO alarms (id, name, time) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET time = excluded.time"),
        delete: db.prepare("DELETE FROM alarms WHERE id = ?"),
        putFacet: db.prepare("INSERT INTO facet_alarms (parent, parent_name, facet, time) VALUES (?, ?, ?, ?) ON CONFLICT(parent, facet) DO UPDATE SET time = excluded.time, parent_name = excluded.parent_name"),
        deleteFacet: db.prepare("DELETE FROM facet_alarms WHERE parent = ? AND facet = ?"),
      };
      for (const row of db.prepare("SELECT id, name, time FROM alarms").all() as { id: string; name: string | null; time: number }[]) {
        this.#scheduleAlarm(new DurableObjectId(row.id, row.name ?? undefined), Number(row.time));
      }
      for (const row of db.prepare("SELECT parent, parent_name, facet, time FROM facet_alarms").all() as { parent: string; parent_name: string | null; facet: string; time: number }[]) {
        const alarm: FacetAlarm = { parent: new DurableObjectId(row.parent, row.parent_name ?? undefined), facet: row.facet, time: Number(row.time) };
        this.#facetAlarms.set(facetDatabase(row.parent, row.facet), alarm);
        this.#scheduleFacetAlarm(alarm, alarm.time, 0);
      }
    }
  }

  idFromName(name: string): DurableObjectId {
    return idFromName(this.name, name);
  }

  newUniqueId(): DurableObjectId {
    return newUniqueId();
  }

  idFromString(hex: string): DurableObjectId {
    return idFromString(hex);
  }

  /** A stub for the object with this id; the object is created when the stub is first used. */
  get(id: DurableObjectId): DurableObjectStub<T> {
    if (!(id instanceof DurableObjectId)) throw new TypeError("get: pass an id from idFromName, newUniqueId or idFromString");
    return this.#stub(id);
  }

  getByName(name: string): DurableObjectStub<T> {
    return this.get(this.idFromName(name));
  }

  #stub(id: DurableObjectId): DurableObjectStub<T> {
    const call = (method: string, args: unknown[]): Promise<unknown> => this.#host(id).call(method, args);
    // islet's one stub factory: every name but `then` a method (a stub is not a thenable), `id` and `name` as they are.
    return targetStub({ method: (method) => (...args: unknown[]) => call(method, args), fixed: Object.assign(Object.create(null), { id, name: id.name }) }) as DurableObjectStub<T>;
  }

  #host(id: DurableObjectId): ObjectHost<Env> {
    if (this.#closed) throw new Error(`DurableObjectNamespace "${this.name}" is closed`);
    const key = id.toString();
    const idle = this.#idleTimers.get(key);
    if (idle !== undefined) {
      clearTimeout(idle);
      this.#idleTimers.delete(key);
    }
    let host = this.#hosts.get(key);
    if (host === undefined) {
      // Its deleteAll() deletes its facets' storage too (their databases are part of the object's).
      let facets: Facets | undefined;
      const storage = new DurableObjectStorage({
        path: this.#dir === undefined ? undefined : join(this.#dir, `${key}.sqlite`),
        storageMb: this.#options.storageMb ?? 1024,
        onAlarmChange: (time) => this.#alarmChanged(id, time),
        afterDeleteAll: () => (this.#mayHaveFacets() ? facets?.deleteAll() : undefined),
      });
      const extend = this.#options.extendState;
      facets = new Facets(key, () => this.#facetProcess(), {
        started: (facet, options) => {
          const alarm = this.#facetAlarms.get(facetDatabase(key, facet));
          if (alarm !== undefined) alarm.startup = options;
        },
        gotten: (facet) => {
          // An alarm that found no class for its facet fires now that the parent named one.
          const alarm = this.#facetAlarms.get(facetDatabase(key, facet));
          if (alarm?.waiting === true) this.#scheduleFacetAlarm(alarm, Date.now(), 0);
        },
      });
      const made: ObjectHost<Env> = new ObjectHost<Env>({
        id,
        class: this.#class,
        env: this.#options.env as Env,
        storage,
        facets,
        extendState: extend === undefined ? undefined : (state) => extend(state, made as ObjectHost),
        onIdle: () => this.#idle(key),
      });
      host = made;
      this.#hosts.set(key, host);
    }
    return host;
  }

  #facetStorage: StorageProcess | undefined;

  /** Whether any object of this namespace may have facets' storage (else deleteAll() starts no storage process to find none). */
  #mayHaveFacets(): boolean {
    return this.#facetStorage !== undefined || (this.#dir !== undefined && existsSync(join(this.#dir, "facets")));
  }

  /** The storage process of this namespace's facets, started on first use. */
  #facetProcess(): StorageProcess {
    if (this.#closed) throw new Error(`DurableObjectNamespace "${this.name}" is closed`);
    const options = this.#options.facets ?? {};
    this.#facetStorage ??= new StorageProcess({
      dir: this.#dir === undefined ? undefined : join(this.#dir, "facets"),
      storageMb: options.storageMb ?? this.#options.storageMb ?? 1024,
      callTimeoutMs: options.callTimeoutMs ?? 5_000,
      // One answer the host receives and decodes at once (its event loop waits for it): 8 MiB.
      maxAnswerChars: 8 * 1024 * 1024,
      maxOpen: 64,
      maxDatabases: options.maxFacets ?? 100_000,
      memoryMb: options.processMemoryMb ?? DEFAULT_STORAGE_PROCESS_MB,
      onAlarms: (changes) => this.#facetAlarmsChanged(changes),
      spanIdleMs: options.spanIdleMs,
      maxNestedFacets: options.maxNestedFacets,
    });
    return this.#facetStorage;
  }

  #idle(key: string): void {
    // Objects in memory keep their data only while open: they are never evicted.
    if (this.#dir === undefined || this.#closed) return;
    clearTimeout(this.#idleTimers.get(key));
    const timer = setTimeout(() => {
      this.#idleTimers.delete(key);
      const host = this.#hosts.get(key);
      if (host === undefined || !host.idle) return;
      this.#hosts.delete(key);
      host.close("evicted while idle");
    }, this.#options.idleTimeoutMs ?? 60_000);
    timer.unref();
    this.#idleTimers.set(key, timer);
  }

  // ---- alarms ----

  #alarmChanged(id: DurableObjectId, time: number | null): void {
    if (this.#index !== undefined) {
      if (time === null) this.#index.delete.run(id.toString());
      else this.#index.put.run(id.toString(), id.name ?? null, time);
    }
    this.#scheduleAlarm(id, time);
  }

  #scheduleAlarm(id: DurableObjectId, time: number | null, retryCount = 0): void {
    const key = id.toString();
    clearTimeout(this.#alarmTimers.get(key));
    this.#alarmTimers.delete(key);
    if (time === null || this.#closed) return;
    const wait = Math.min(Math.max(0, time - Date.now()), MAX_TIMER_MS);
    const timer = setTimeout(() => {
      this.#alarmTimers.delete(key);
      void this.#fireAlarm(id, retryCount);
    }, wait);
    // A pending alarm does not keep the process alive: it is on disk and fires after a restart.
    timer.unref();
    this.#alarmTimers.set(key, timer);
  }

  async #fireAlarm(id: DurableObjectId, retryCount: number): Promise<void> {
    if (this.#closed) return;
    const host = this.#host(id);
    let due: number | null = null;
    try {
      await host.run(async (instance) => {
        due = await host.storage.getAlarm();
        if (due === null) return;
        if (due > Date.now()) {
          // Woken early (a long wait is split): wait again.
          this.#scheduleAlarm(id, due);
          due = null;
          return;
        }
        if (typeof instance.alarm === "function") {
          await (instance.alarm as (info: { retryCount: number; isRetry: boolean }) => unknown).call(instance, { retryCount, isRetry: retryCount > 0 });
        }
        // The handler may have set a new alarm; only the one that fired is cleared.
        if ((await host.storage.getAlarm()) === due) await host.storage.deleteAlarm();
      });
    } catch {
      if (due === null || this.#closed) return;
      if (retryCount < ALARM_RETRIES) return this.#scheduleAlarm(id, this.#retryAt(retryCount), retryCount + 1);
      // The last retry failed: the alarm is cleared, unless the handler set another.
      const fired: number = due;
      await host
        .run(async () => {
          if ((await host.storage.getAlarm()) === fired) await host.storage.deleteAlarm();
        })
        .catch(() => {});
    }
  }

  // ---- facets' alarms ----
  //
  // A facet's alarm is kept in its own database, in the storage process, and committed there; the
  // storage process reports every committed change (#facetAlarmsChanged), which this index keeps
  // (in index.sqlite with a storage dir, so it outlives a restart). To run the facet's alarm() the
  // host needs the facet's class, which only its parent can name (as on Cloudflare, where a facet
  // exists through its parent's facets.get()). When the alarm is due the parent is woken: an
  // event of its own (its constructor runs if it is not live), in which the facet is started, if
  // it is not running, with the parent's latest facets.get(name) callback (its constructor may
  // call facets.get), else with the class it last started with in this process. When neither is
  // known (after a restart, a parent that does not call facets.get in its constructor) the alarm
  // waits, and fires as soon as the parent next calls facets.get(name).

  #facetAlarmsChanged(changes: [string, number | null][]): void {
    if (this.#closed) return;
    for (const [database, time] of changes) {
      const split = database.indexOf("\u0000");
      if (split < 0) continue;
      const parentKey = database.slice(0, split);
      const facet = database.slice(split + 1);
      const alarm = this.#facetAlarms.get(database);
      if (time === null) {
        if (alarm === undefined) continue;
        clearTimeout(alarm.timer);
        this.#facetAlarms.delete(database);
        this.#index?.deleteFacet.run(parentKey, facet);
        continue;
      }
      if (alarm !== undefined && alarm.time === time) continue;
      const host = this.#hosts.get(parentKey);
      const entry: FacetAlarm = alarm ?? { parent: host?.id ?? new DurableObjectId(parentKey), facet, time };
      entry.time = time;
      entry.startup = host?.facets.startedWith(facet) ?? entry.startup;
      this.#facetAlarms.set(database, entry);
      this.#index?.putFacet.run(parentKey, entry.parent.name ?? null, facet, time);
      // One firing at a time: a change made while it runs is scheduled when it ends.
      if (!entry.running) this.#scheduleFacetAlarm(entry, time, 0);
    }
  }

  #scheduleFacetAlarm(alarm: FacetAlarm, at: number, retryCount: number): void {
    clearTimeout(alarm.timer);
    alarm.timer = undefined;
    alarm.waiting = false;
    if (this.#closed) return;
    // Not sooner than alarmIntervalMs after its last firing ended, whatever time the facet set.
    const earliest = alarm.lastEnded === undefined ? 0 : alarm.lastEnded + this.#alarmIntervalMs;
    const wait = Math.min(Math.max(0, at - Date.now(), earliest - Date.now()), MAX_TIMER_MS);
    alarm.timer = setTimeout(() => {
      alarm.timer = undefined;
      void this.#fireFacetAlarm(alarm, retryCount);
    }, wait);
    // As for objects' alarms: on disk, it fires after a restart.
    alarm.timer.unref();
  }

  async #fireFacetAlarm(alarm: FacetAlarm, retryCount: number): Promise<void> {
    if (this.#closed || alarm.running === true) return;
    alarm.running = true;
    let outcome: FacetAlarmOutcome | undefined;
    try {
      const host = this.#host(alarm.parent);
      // An event of the parent's: it is constructed first, and is not evicted while its facet runs.
      // The last retry clears the alarm when its handler throws too (the facet does, in its gate).
      outcome = (await host.run(() => host.facets.runAlarm(alarm.facet, retryCount, alarm.startup, retryCount >= ALARM_RETRIES))) as FacetAlarmOutcome;
    } catch {
      outcome = undefined;
    } finally {
      alarm.running = false;
      alarm.lastEnded = Date.now();
    }
    // Deleted meanwhile (the handler or another event cleared it, or facets.delete()).
    if (this.#closed || this.#facetAlarms.get(facetDatabase(alarm.parent.toString(), alarm.facet)) !== alarm) return;
    if (outcome === undefined) {
      // The handler threw: retried after 2 s, 4 s, 8 s …, six times at most, as on Cloudflare.
      if (retryCount < ALARM_RETRIES) this.#scheduleFacetAlarm(alarm, this.#retryAt(retryCount), retryCount + 1);
    } else if ("waiting" in outcome) {
      alarm.waiting = true;
    } else if ("early" in outcome) {
      this.#scheduleFacetAlarm(alarm, outcome.early, 0);
    } else if (outcome.done !== null && alarm.time > outcome.done) {
      // The handler set another alarm (or one was set while it ran).
      this.#scheduleFacetAlarm(alarm, alarm.time, 0);
    } else {
      // The facet's database holds no alarm (or no later one) while the index did: the index goes.
      this.#facetAlarms.delete(facetDatabase(alarm.parent.toString(), alarm.facet));
      this.#index?.deleteFacet.run(alarm.parent.toString(), alarm.facet);
    }
  }

  /** Closes every object (committing what they wrote) and stops the alarms. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of [...this.#idleTimers.values(), ...this.#alarmTimers.values()]) clearTimeout(timer);
    for (const alarm of this.#facetAlarms.values()) clearTimeout(alarm.timer);
    this.#facetAlarms.clear();
    this.#idleTimers.clear();
    this.#alarmTimers.clear();
    for (const host of this.#hosts.values()) host.close("the namespace closed");
    this.#hosts.clear();
    this.#facetStorage?.close();
    this.#index?.db.close();
  }
}
