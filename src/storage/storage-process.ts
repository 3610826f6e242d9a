// Storage for code islet does not trust, in a child process that can be killed.
//
// node:sqlite cannot interrupt a statement: on the host's thread one recursive CTE of 3·10⁷ rows
// held it 3.8 s and a 3-way cross join of 1,000 rows 35 s (measured on these machines). So SQL
// written by a sandbox runs here instead: every call has a deadline, and a call past it kills the
// child (SIGKILL; SQLite's WAL keeps every committed write), rejects what was in flight with
// StorageTimeoutError, and the next call starts a new child. The child runs under Node's
// permission model with reads and writes of the storage directory only.
//
// Its memory is bounded the same way. SQLite's own limit (PRAGMA hard_heap_limit) never holds in
// Node: node:sqlite is built with SQLITE_DEFAULT_MEMSTATUS=0 (see PRAGMA compile_options) and
// offers no sqlite3_config(), so SQLite counts no memory and checks no limit (sqlite3Malloc only
// consults the limit when memory status is on); one group_concat took the child to 915 MB and an
// in-memory ORDER BY to 1.4 GB under a 256 MiB "limit" (findings8/04). So on Linux the parent
// reads the child's resident memory every SAMPLE_MS while a call runs, and a child past
// `memoryMb` is killed as at a deadline: the calls in flight fail with StorageMemoryError.

import { STORAGE_CPU_NS } from "../loader/storage-rows.ts";
import { fork, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { IsletError, StorageLimitError } from "../errors.ts";

/** A storage call ran past its deadline; the storage process was killed and restarted. */
export class StorageTimeoutError extends IsletError {}

/** The storage process passed its memory budget while running a call; it was killed and restarted. */
export class StorageMemoryError extends StorageLimitError {}

/**
 * The child's resident memory budget unless told otherwise, in MiB: Node itself takes about 50,
 * answers are at most 8 MiB, and its V8 heap is capped at 512 MB (which it never nears).
 */
export const DEFAULT_STORAGE_PROCESS_MB = 512;

/** How often the child's resident memory is read while a call runs. */
const SAMPLE_MS = 50;

export interface StorageProcessOptions {
  /**
   * Where databases live (one file per name, named by its hash); omitted: a temporary directory,
   * removed by close() (so a restart after a timeout keeps every other database's data).
   */
  dir?: string;
  /** The most one database may hold, in MiB. */
  storageMb: number;
  /** The longest one call may run. */
  callTimeoutMs: number;
  /** Characters of JSON one answer may hold. */
  maxAnswerChars: number;
  /** Databases kept open at once in the child (3 descriptors and about 2 MB each). */
  maxOpen: number;
  /** Databases the directory may hold. */
  maxDatabases: number;
  /**
   * The child's resident memory (RSS, all databases together), in MiB: read every SAMPLE_MS while
   * a call runs, on Linux only (elsewhere nothing reads it, and only callTimeoutMs bounds a call).
   */
  memoryMb: number;
  /**
   * Told of the alarm times (or null) the child committed, by database name, before the answer
   * that carries them settles its call (facets' alarms: namespace.ts).
   */
  onAlarms?: (changes: [string, number | null][]) => void;
  /**
   * @internal How long a facet's transaction may stay open with no call on its database before the
   * child rolls it back (default 60 s; tests shorten it).
   */
  spanIdleMs?: number;
  /** Nested facets one host object's facet may have, at every depth together (default MAX_NESTED_FACETS). */
  maxNestedFacets?: number;
}

interface Pending {
  /** The child the call was sent to: only its end fails the call. */
  child: ChildProcess;
  resolve: (answer: CountedAnswer) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
}

/** The resident memory of process `pid` in MiB (Linux), or undefined where it cannot be read. */
async function residentMb(pid: number): Promise<number | undefined> {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(await readFile(`/proc/${pid}/status`, "utf8"));
    return match === null ? undefined : Number(match[1]) / 1024;
  } catch {
    return undefined;
  }
}

type Reply = ({ id: number; ok: true; value: unknown; rows?: [number, number, number] } | { id: number; ok: false; error: { name: string; message: string }; cpuUs?: number }) & { alarms?: [string, number | null][] };

/** What a call answered, with the rows it read and wrote and the CPU it cost (storage-child.ts measures them). */
export interface CountedAnswer {
  value: unknown;
  rowsRead: number;
  rowsWritten: number;
  /** The storage process's thread CPU time for the operation, in nanoseconds. */
  cpuNs: number;
}

function childSpec(dir: string): { entry: string; execArgv: string[]; env: NodeJS.ProcessEnv; cwd: string } {
  const here = fileURLToPath(import.meta.url);
  const fromSource = here.endsWith(".ts");
  const root = resolve(dirname(here), "..", "..");
  const flags = process.allowedNodeEnvironmentFlags;
  // A backstop: one call at a time, each answer and value capped, keeps the child's heap far
  // below this; past it the child dies and its calls fail, as after a timeout.
  const execArgv: string[] = ["--max-old-space-size=512"];
  if (flags.has("--disable-warning")) execArgv.push("--disable-warning=ExperimentalWarning", "--disable-warning=SecurityWarning");
  if (flags.has("--permission")) {
    execArgv.push("--permission", `--allow-fs-read=${root}`);
    execArgv.push(`--allow-fs-read=${dir}`, `--allow-fs-write=${dir}`);
    // tsx (islet's own tests, from TypeScript source) needs a worker thread and esbuild's process.
    if (fromSource) execArgv.push("--allow-worker", "--allow-child-process", `--allow-fs-read=${invertCase(root)}`);
  }
  if (fromSource) execArgv.push("--import", "tsx");
  return { entry: join(dirname(here), fromSource ? "storage-child.ts" : "storage-child.js"), execArgv, env: fromSource ? { TSX_DISABLE_CACHE: "1" } : {}, cwd: root };
}

function invertCase(text: string): string {
  return [...text].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join("");
}

const ERROR_CLASSES: Record<string, new (message: string) => Error> = { TypeError, RangeError };

export class StorageProcess {
  readonly #options: StorageProcessOptions;
  readonly #dir: string;
  readonly #temporary: boolean;
  #child: ChildProcess | undefined;
  /** Resolves when the current child can take calls: its start is not charged to any call's deadline. */
  #ready: Promise<void> | undefined;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;
  /** Children started so far (a restart after a timeout counts). */
  starts = 0;

  constructor(options: StorageProcessOptions) {
    this.#options = options;
    this.#temporary = options.dir === undefined;
    this.#dir = options.dir === undefined ? mkdtempSync(join(tmpdir(), "islet-storage-")) : resolve(options.dir);
    mkdirSync(this.#dir, { recursive: true });
  }

  #start(): ChildProcess {
    const spec = childSpec(this.#dir);
    const { storageMb, maxAnswerChars, maxOpen, maxDatabases, spanIdleMs, maxNestedFacets } = this.#options;
    const child = fork(spec.entry, [JSON.stringify({ dir: this.#dir, storageMb, maxAnswerChars, maxOpen, maxDatabases, spanIdleMs, maxNestedFacets })], {
      cwd: spec.cwd,
      env: spec.env,
      execArgv: spec.execArgv,
      serialization: "advanced",
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    this.starts++;
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => void (stderr = (stderr + chunk).slice(-2000)));
    let ready!: () => void;
    this.#ready = new Promise<void>((resolve) => (ready = resolve));
    child.on("message", (message: Reply | { ready: true }) => {
      if ("ready" in message) ready();
      else this.#reply(message);
    });
    child.once("exit", (code, signal) => {
      if (this.#child === child) this.#child = undefined;
      ready();
      this.#failAll(new IsletError(`The storage process ended (${signal ?? `exit code ${code}`})${stderr ? `: ${stderr.trim()}` : ""}`), child);
    });
    child.channel?.unref();
    child.unref();
    return child;
  }

  #reply(message: Reply): void {
    // Committed whatever becomes of the call (it may have been failed already): the index hears of it first.
    if (message.alarms !== undefined && message.alarms.length > 0) {
      try {
        this.#options.onAlarms?.(message.alarms);
      } catch {
        // the index is the namespace's to keep; a failure there must not lose this answer
      }
    }
    const pending = this.#pending.get(message.id);
    if (pending === undefined) return;
    this.#pending.delete(message.id);
    clearTimeout(pending.timer);
    if (message.ok) pending.resolve({ value: message.value, rowsRead: message.rows?.[0] ?? 0, rowsWritten: message.rows?.[1] ?? 0, cpuNs: (message.rows?.[2] ?? 0) * 1000 } satisfies CountedAnswer);
    else {
      const Class = ERROR_CLASSES[message.error.name];
      const error = Class !== undefined ? new Class(message.error.message) : Object.assign(new Error(message.error.message), { name: message.error.name });
      // What the failed operation cost the storage process: the worker that runs the facet charges
      // it to the facet's cpuMs, and removes it before the facet sees the error (op-dispatch.ts).
      if (typeof message.cpuUs === "number" && message.cpuUs > 0) (error as { [STORAGE_CPU_NS]?: number })[STORAGE_CPU_NS] = message.cpuUs * 1000;
      pending.reject(error);
    }
  }

  /** Fails the calls in flight (on `child` only, when given). */
  #failAll(error: Error, child?: ChildProcess): void {
    for (const [id, pending] of this.#pending) {
      if (child !== undefined && pending.child !== child) continue;
      clearTimeout(pending.timer);
      this.#pending.delete(id);
      pending.reject(error);
    }
  }

  /** Calls waiting for the child, per database name, taken in turn (one name cannot starve another). */
  readonly #waiting = new Map<string, { op: string; args: unknown[]; spans: number | undefined; resolve: (answer: CountedAnswer) => void; reject: (error: unknown) => void }[]>();
  #inFlight = false;

  /**
   * Runs `op` on the database named `name`; resolves once what it wrote is committed. One call is
   * in the child at a time, so a call's deadline counts its own run, not its wait behind others.
   */
  async call(name: string, op: string, args: unknown[], spans?: number): Promise<unknown> {
    return (await this.callCounted(name, op, args, spans)).value;
  }

  /** call(), answering with the rows the call read and wrote as well (a facet's trace event carries them). */
  callCounted(name: string, op: string, args: unknown[], spans?: number): Promise<CountedAnswer> {
    if (this.#closed) return Promise.reject(new IsletError("The storage process is closed."));
    return new Promise((resolve, reject) => {
      let queue = this.#waiting.get(name);
      if (queue === undefined) this.#waiting.set(name, (queue = []));
      queue.push({ op, args, spans, resolve, reject });
      void this.#pump();
    });
  }

  async #pump(): Promise<void> {
    if (this.#inFlight || this.#closed) return;
    const next = this.#waiting.entries().next();
    if (next.done === true) return;
    const [name, queue] = next.value;
    const call = queue.shift()!;
    // Round robin: this name goes to the back of the line.
    this.#waiting.delete(name);
    if (queue.length > 0) this.#waiting.set(name, queue);
    this.#inFlight = true;
    try {
      call.resolve(await this.#send(name, call.op, call.args, call.spans));
    } catch (error) {
      call.reject(error);
    } finally {
      this.#inFlight = false;
      void this.#pump();
    }
  }

  async #send(name: string, op: string, args: unknown[], spans: number | undefined): Promise<CountedAnswer> {
    this.#child ??= this.#start();
    const child = this.#child;
    await this.#ready;
    if (child.exitCode !== null || child.signalCode !== null) throw new IsletError("The storage process ended while starting.");
    const id = this.#nextId++;
    const answered = new Promise<CountedAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        // The statement cannot be interrupted: the process goes, with it.
        this.#kill(child, new StorageTimeoutError(`A storage call ran past ${this.#options.callTimeoutMs} ms; the storage process was restarted and what that call had not committed was rolled back.`));
      }, this.#options.callTimeoutMs);
      this.#pending.set(id, { child, resolve, reject, timer });
      try {
        child.send({ id, name, op, args, spans });
      } catch (error) {
        this.#reply({ id, ok: false, error: { name: "DataCloneError", message: (error as Error).message } });
      }
    });
    const watch = this.#watchMemory(child, id);
    try {
      return await answered;
    } finally {
      clearTimeout(watch.timer);
    }
  }

  /**
   * Reads the child's resident memory every SAMPLE_MS while call `id` is in flight, asynchronously
   * (the host's thread never waits), and kills the child past its budget. A call that answers
   * within SAMPLE_MS is never read: it cannot allocate much in that time.
   */
  #watchMemory(child: ChildProcess, id: number): { timer: NodeJS.Timeout | undefined } {
    const watch: { timer: NodeJS.Timeout | undefined } = { timer: undefined };
    const pid = child.pid;
    if (process.platform !== "linux" || pid === undefined) return watch;
    const budgetMb = this.#options.memoryMb;
    const sample = async () => {
      const mb = await residentMb(pid);
      if (!this.#pending.has(id) || this.#pending.get(id)!.child !== child) return;
      if (mb === undefined) return;
      if (mb > budgetMb) {
        this.#kill(child, new StorageMemoryError(`The storage process passed its memory budget of ${budgetMb} MiB (${Math.round(mb)} MiB resident) running a storage call; it was restarted and what that call had not committed was rolled back.`));
        return;
      }
      watch.timer = setTimeout(sample, SAMPLE_MS);
      watch.timer.unref();
    };
    watch.timer = setTimeout(sample, SAMPLE_MS);
    watch.timer.unref();
    return watch;
  }

  /** Kills `child` for a call it was running: its calls in flight fail with `error`; the next call starts another. */
  #kill(child: ChildProcess, error: Error): void {
    this.#failAll(error, child);
    if (this.#child === child) this.#child = undefined;
    child.kill("SIGKILL");
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const closed = new IsletError("The storage process is closed.");
    this.#failAll(closed);
    for (const queue of this.#waiting.values()) for (const call of queue) call.reject(closed);
    this.#waiting.clear();
    const child = this.#child;
    this.#child = undefined;
    if (child === undefined) {
      if (this.#temporary) rmSync(this.#dir, { recursive: true, force: true });
      return;
    }
    child.once("exit", () => {
      if (this.#temporary) rmSync(this.#dir, { recursive: true, force: true });
    });
    // A child running a statement never sees the channel go (findings9/04: an endless query kept
    // one at full CPU after its host had exited): it is killed, and what that call had not
    // committed is rolled back. An idle one commits and closes its databases when the channel
    // goes, then exits.
    if (this.#inFlight) child.kill("SIGKILL");
    else child.disconnect();
  }
}
