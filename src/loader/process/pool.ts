// Process isolation, the parent's side: a pool of child processes, each running an in-process
// WorkerLoader (child.ts), behind the same WorkerStub/Entrypoint API. A V8 bug that lets code out
// of its isolate then lands in a process with an empty environment, under Node's permission model
// (no file writes, reads only of islet's own files, no child processes or worker threads), holding
// only the capabilities its workers were given. Named workers live in the child their id hashes to,
// so get(id) stays warm; a child that dies is restarted, and calls pending on it reject with
// SandboxProcessError while the other children keep serving.

import { fork, type ChildProcess } from "node:child_process";
import { availableParallelism, getPriority, setPriority } from "node:os";
import { createRequire } from "node:module";
import { dirname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { OutboundError, SandboxProcessError, SubrequestLimitError, WorkerDisposedError } from "../../errors.ts";
import type { RequestRecord, ResponseRecord } from "../../runtime/web/fetch.ts";
import { createEntrypoint, type EntrypointOptions } from "../entrypoint.ts";
import { hostRequest, responseRecord } from "../fetch-records.ts";
import { validateLimits, type Limits } from "../limits.ts";
import { deliverTail } from "../tails.ts";
import { normalizeName, prepareModules, validateWorkerCode, type Fetcher, type TailEvent, type TailReceiver, type WorkerCode } from "../worker-code.ts";
import type { GetCode, WorkerStub } from "../worker-loader.ts";
import type { Worker } from "../worker.ts";
import { Link } from "./link.ts";
import { Channel, errorFromWire, errorToWire, type ChildInit, type CodeMessage, type Message, type WireError } from "./protocol.ts";

export interface ProcessPoolOptions {
  processes: number;
  /** The loader's own limits, as given (the children apply them exactly as an in-process loader would). */
  limits?: Limits;
  /** Live workers kept at most, over all children (each child keeps its share). */
  maxWorkers?: number;
  idleTimeoutMs?: number;
  /** Warm sandboxes over all children (each child keeps its share). */
  warmPool?: number;
  globalOutbound: Fetcher | null;
  tails: readonly TailReceiver[];
  /** A child with calls pending that has sent nothing (not even its heartbeat) this long is killed. */
  unresponsiveMs?: number;
}

export const DEFAULT_UNRESPONSIVE_MS = 10_000;

/**
 * Children run this much nicer than the host: sandboxes spinning at their CPU limits then yield to
 * the host's own work (its event loop relays every call), and the threads a child makes later
 * (isolated-vm's, which run the sandboxes) inherit it.
 */
export const CHILD_NICENESS = 5;

export interface ChildReport {
  pid: number;
  envKeys: string[];
  execArgv: string[];
  permission: Record<string, boolean> | null;
  memory: NodeJS.MemoryUsage;
}

export function defaultProcessCount(): number {
  return Math.max(1, Math.min(availableParallelism(), 8));
}

/** FNV-1a: which child a named worker lives in, the same for an id every time. */
export function processSlotFor(id: string, processes: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % processes;
}

interface LaunchSpec {
  entry: string;
  cwd: string;
  execArgv: string[];
  env: Record<string, string>;
  /** Why the permission model is off, when it is. */
  permissionOff?: string;
}

let launchSpec: LaunchSpec | undefined;

/**
 * How a child starts. From the built package (dist/*.js) it runs under Node's permission model
 * (Node 20: `--experimental-permission`): reads of islet's own directory and its dependencies'
 * only; no writes, child processes or worker threads. isolated-vm is a native addon, so the model
 * needs `--allow-addons` (Node 20.20 has it; without it loading isolated-vm fails with
 * ERR_DLOPEN_DISABLED "Cannot load native addon because loading addons is disabled."), and an
 * addon is native code the model cannot watch: a V8 escape that runs native code in the child is
 * not held by it, which is why the child also gets no secrets and only its workers' capabilities.
 * Node 20's model has no network permission: sockets stay possible for such an escape.
 * esbuild runs in a process of its own (ERR_ACCESS_DENIED, permission "ChildProcess", in the
 * child), so the parent transpiles TypeScript and hands the result over.
 * From TypeScript source (islet's own tests) tsx must run in the child, and tsx needs a worker
 * thread for its loader hooks and esbuild's process to transpile: those two permissions are added
 * then, and the cache tsx would write is turned off.
 */
function spec(): LaunchSpec {
  if (launchSpec !== undefined) return launchSpec;
  const here = fileURLToPath(import.meta.url);
  const fromSource = here.endsWith(".ts");
  const root = resolve(dirname(here), "..", "..", "..");
  const readable = new Set([root]);
  const require = createRequire(import.meta.url);
  for (const dependency of ["isolated-vm", "esbuild"]) {
    try {
      const path = require.resolve(dependency);
      const at = path.lastIndexOf(`${sep}node_modules${sep}`);
      const modules = at >= 0 ? path.slice(0, at + sep.length + "node_modules".length) : undefined;
      if (modules !== undefined && !modules.startsWith(root + sep)) readable.add(modules);
    } catch {
      // Not resolvable from here: the child fails to start and says why.
    }
  }
  const flags = process.allowedNodeEnvironmentFlags;
  const execArgv: string[] = [];
  if (flags.has("--disable-warning")) execArgv.push("--disable-warning=ExperimentalWarning", "--disable-warning=SecurityWarning");
  const permission = flags.has("--permission") ? "--permission" : flags.has("--experimental-permission") ? "--experimental-permission" : undefined;
  let permissionOff: string | undefined;
  if (permission === undefined) permissionOff = `Node ${process.version} has no permission model`;
  else if (!flags.has("--allow-addons")) permissionOff = `Node ${process.version} has no --allow-addons, and isolated-vm is a native addon`;
  else {
    execArgv.push(permission, "--allow-addons", ...[...readable].map((dir) => `--allow-fs-read=${dir}`));
    // tsx asks whether the file system is case-sensitive by looking up the working directory with its case inverted.
    if (fromSource) execArgv.push("--allow-worker", "--allow-child-process", `--allow-fs-read=${invertCase(root)}`);
  }
  if (fromSource) execArgv.push("--import", "tsx");
  launchSpec = {
    entry: join(dirname(here), fromSource ? "child.ts" : "child.js"),
    cwd: root,
    execArgv,
    env: fromSource ? { TSX_DISABLE_CACHE: "1" } : {},
    permissionOff,
  };
  return launchSpec;
}

function invertCase(text: string): string {
  return [...text].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join("");
}

/** A value getCode (or validating its result) threw: the child hands it back and the caller gets this very object. */
class HostThrown {
  constructor(readonly value: unknown) {}
}

const MAX_HOST_ERRORS = 256;
const STDERR_TAIL_CHARS = 2_000;

class Connection {
  readonly child: ChildProcess;
  readonly channel: Channel;
  readonly link: Link;
  readonly startedAt = performance.now();
  lastSeen = performance.now();
  stats = { liveWorkers: 0, warmSandboxes: 0 };
  ready = false;
  dead: Error | undefined;
  inflight = 0;
  readonly exited: Promise<void>;
  readonly aborts = new Map<number, AbortController>();
  private stderrTail = "";

  constructor(
    private readonly pool: ProcessPool,
    readonly slot: Slot,
    init: ChildInit,
  ) {
    const launch = spec();
    this.child = fork(launch.entry, [], {
      cwd: launch.cwd,
      env: launch.env,
      execArgv: launch.execArgv,
      serialization: "advanced",
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    const child = this.child;
    if (child.pid !== undefined) {
      try {
        setPriority(child.pid, Math.min(19, getPriority() + CHILD_NICENESS));
      } catch {
        // Not permitted or not supported here: the child runs at the host's priority.
      }
    }
    this.channel = new Channel((message) => this.post(message), {
      request: (name, payload) => pool.handleRequest(this, name, payload),
      notify: (name, payload) => pool.handleNotify(this, name, payload),
      errorOut: (error) => pool.errorOut(error),
      errorIn: (record) => pool.errorIn(record),
    });
    this.link = new Link(
      {
        invoke: (capId, method, args) => this.request("invoke", [capId, method, args]),
        release: (capId) => this.channel.notify("release", capId),
      },
      true,
    );
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL_CHARS);
    });
    child.on("message", (message) => {
      this.lastSeen = performance.now();
      this.channel.receive(message);
    });
    let resolveExit!: () => void;
    this.exited = new Promise((resolve) => (resolveExit = resolve));
    child.once("exit", (exitCode, signal) => {
      this.die(this.exitError(exitCode, signal));
      resolveExit();
      pool.exited(this);
    });
    child.on("error", (error) => {
      // Failing to spawn: there will be no exit event.
      if (child.pid === undefined) {
        this.die(new SandboxProcessError(`The sandbox process could not be started: ${error.message}`));
        resolveExit();
        pool.exited(this);
      }
    });
    this.unrefHandles();
    this.channel.notify("init", init);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private post(message: Message): void {
    if (this.dead !== undefined) throw this.dead;
    if (!this.child.connected) throw new SandboxProcessError(`The sandbox process (pid ${this.pid}) is no longer connected.`);
    this.child.send(message, (error) => {
      // Asynchronous write failures mean the pipe is gone; the exit event fails what is pending.
      if (error) this.child.kill("SIGKILL");
    });
  }

  /** A request the parent waits on: the process stays referenced (keeps Node running) meanwhile. */
  async request(name: string, payload: unknown): Promise<unknown> {
    if (this.inflight++ === 0) this.refHandles();
    try {
      return await this.channel.request(name, payload);
    } finally {
      if (--this.inflight === 0) this.unrefHandles();
    }
  }

  private refHandles(): void {
    this.child.ref();
    (this.child.channel as { ref?(): void } | null | undefined)?.ref?.();
  }

  private unrefHandles(): void {
    // A dying process stays referenced until its exit is seen (see kill).
    if (this.dead !== undefined) return;
    this.child.unref();
    (this.child.channel as { unref?(): void } | null | undefined)?.unref?.();
    (this.child.stderr as { unref?(): void } | null)?.unref?.();
  }

  private exitError(exitCode: number | null, signal: NodeJS.Signals | null): Error {
    if (this.dead !== undefined) return this.dead;
    const how = signal !== null ? `was killed by ${signal}` : `exited with code ${exitCode}`;
    const early = this.ready ? "" : " before it was ready";
    const detail = !this.ready && this.stderrTail.trim() !== "" ? `: ${this.stderrTail.trim().split("\n").slice(-6).join("\n")}` : "";
    return new SandboxProcessError(`The sandbox process (pid ${this.pid}) ${how}${early}; its pending calls were lost${detail}`, { exitCode, signal });
  }

  /** Fails everything pending on this process with `error`; idempotent. */
  die(error: Error): void {
    if (this.dead !== undefined) return;
    this.dead = error;
    this.channel.fail(error);
    this.link.close(error);
    for (const controller of this.aborts.values()) controller.abort();
    this.aborts.clear();
  }

  kill(error: Error): void {
    this.die(error);
    // Held until the exit is seen, so close() can wait for it.
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.ref();
    this.child.kill("SIGKILL");
  }
}

interface Slot {
  index: number;
  conn: Connection | undefined;
  /** A restart waiting out its back-off. */
  restarting: Promise<Connection> | undefined;
  restartTimer: NodeJS.Timeout | undefined;
  cancelRestart: ((error: Error) => void) | undefined;
  failuresInRow: number;
}

/** A worker as the parent sees it: which child it lives in, and how to (re)make its code. */
class RemoteWorker {
  tails: readonly TailReceiver[] = [];

  constructor(
    private readonly pool: ProcessPool,
    readonly key: string,
    readonly named: boolean,
    public getCode: GetCode,
    readonly slot: Slot,
  ) {}

  async call(entry: string, method: string, args: unknown[], props: unknown, limits: Limits | undefined): Promise<unknown> {
    const conn = await this.pool.connection(this.slot);
    const encodedArgs = conn.link.encode(args, this.key);
    const encodedProps = conn.link.encode(props ?? {}, this.key);
    const result = await conn.request("call", [this.key, this.named, entry, method, encodedArgs, encodedProps, limits]);
    return conn.link.decode(result);
  }

  async fetch(entry: string, request: RequestRecord, props: unknown, limits: Limits | undefined): Promise<ResponseRecord> {
    const conn = await this.pool.connection(this.slot);
    const encodedProps = conn.link.encode(props ?? {}, this.key);
    return (await conn.request("fetch", [this.key, this.named, entry, request, encodedProps, limits])) as ResponseRecord;
  }
}

export class ProcessPool {
  private readonly slots: Slot[];
  private readonly workers = new Map<string, WeakRef<RemoteWorker>>();
  private readonly forget = new FinalizationRegistry<[string, Slot]>(([key, slot]) => {
    if (this.workers.get(key)?.deref() !== undefined) return;
    this.workers.delete(key);
    const conn = slot.conn;
    if (conn !== undefined && conn.dead === undefined) {
      conn.channel.notify("forget", key);
      conn.link.dropScope(key);
    }
  });
  private readonly hostErrors = new Map<number, unknown>();
  private nextHostError = 1;
  private nextAnonymous = 1;
  private roundRobin = 0;
  private restarts = 0;
  private closed = false;
  private readonly unresponsiveMs: number;
  private readonly monitor: NodeJS.Timeout;
  private lastCheck = performance.now();
  private readonly init: ChildInit;

  constructor(private readonly options: ProcessPoolOptions) {
    this.unresponsiveMs = options.unresponsiveMs ?? DEFAULT_UNRESPONSIVE_MS;
    const share = (total: number | undefined) => (total === undefined ? undefined : Math.ceil(total / options.processes));
    this.init = { limits: options.limits, maxWorkers: share(options.maxWorkers), idleTimeoutMs: options.idleTimeoutMs, warmPool: share(options.warmPool) };
    this.slots = Array.from({ length: options.processes }, (_, index) => ({ index, conn: undefined, restarting: undefined, restartTimer: undefined, cancelRestart: undefined, failuresInRow: 0 }));
    for (const slot of this.slots) slot.conn = new Connection(this, slot, this.init);
    const period = Math.max(50, Math.min(1_000, this.unresponsiveMs / 3));
    this.monitor = setInterval(() => this.checkResponsive(period), period);
    this.monitor.unref();
  }

  /** Why children run without Node's permission model, or undefined when they run with it. */
  static get permissionOff(): string | undefined {
    return spec().permissionOff;
  }

  get(id: string | undefined, getCode: GetCode): WorkerStub {
    const worker = id === undefined ? this.anonymous(getCode) : this.named(id, getCode);
    const acquire = async (): Promise<Worker> => {
      if (this.closed) throw new WorkerDisposedError("The WorkerLoader is closed.");
      return worker as unknown as Worker;
    };
    return {
      getEntrypoint: (name, options: EntrypointOptions = {}) => {
        if (name !== undefined && name !== null && typeof name !== "string") throw new TypeError("getEntrypoint: name must be a string.");
        if (options === null || typeof options !== "object") throw new TypeError("getEntrypoint: options must be an object.");
        const limits = validateLimits(options.limits, "getEntrypoint");
        return createEntrypoint(acquire, name ?? "default", { props: options.props, limits });
      },
      revoke: (capability) => {
        const conn = worker.slot.conn;
        return conn !== undefined && conn.dead === undefined && conn.link.revoke(worker.key, capability);
      },
      dispose: () => {
        const conn = worker.slot.conn;
        if (conn !== undefined && conn.dead === undefined) conn.channel.notify("dispose", [worker.key, worker.named]);
      },
    };
  }

  private named(id: string, getCode: GetCode): RemoteWorker {
    const key = `n${id}`;
    const existing = this.workers.get(key)?.deref();
    if (existing !== undefined) {
      // The next start of this worker (after eviction or a limit) uses the latest getCode.
      existing.getCode = getCode;
      return existing;
    }
    return this.track(new RemoteWorker(this, key, true, getCode, this.slots[processSlotFor(id, this.slots.length)]));
  }

  private anonymous(getCode: GetCode): RemoteWorker {
    // The least busy child, round-robin among equals.
    let best = this.slots[this.roundRobin++ % this.slots.length];
    for (const slot of this.slots) if ((slot.conn?.inflight ?? 0) < (best.conn?.inflight ?? 0)) best = slot;
    return this.track(new RemoteWorker(this, `a${this.nextAnonymous++}`, false, getCode, best));
  }

  private track(worker: RemoteWorker): RemoteWorker {
    this.workers.set(worker.key, new WeakRef(worker));
    this.forget.register(worker, [worker.key, worker.slot]);
    return worker;
  }

  /** The slot's live process, or the one its restart will bring. */
  connection(slot: Slot): Connection | Promise<Connection> {
    if (this.closed) throw new WorkerDisposedError("The WorkerLoader is closed.");
    if (slot.conn !== undefined && slot.conn.dead === undefined) return slot.conn;
    if (slot.restarting !== undefined) return slot.restarting;
    return this.start(slot);
  }

  private start(slot: Slot): Connection {
    clearTimeout(slot.restartTimer);
    slot.restartTimer = undefined;
    slot.restarting = undefined;
    slot.cancelRestart = undefined;
    slot.conn = new Connection(this, slot, this.init);
    return slot.conn;
  }

  /** @internal A child exited: restart it, at once unless it keeps dying young. */
  exited(conn: Connection): void {
    const slot = conn.slot;
    if (this.closed || slot.conn !== conn) return;
    this.restarts++;
    const livedLong = conn.ready && performance.now() - conn.startedAt > 2_000;
    slot.failuresInRow = livedLong ? 0 : slot.failuresInRow + 1;
    const delay = slot.failuresInRow <= 1 ? 0 : Math.min(5_000, 100 * 2 ** (slot.failuresInRow - 2));
    if (delay === 0) {
      this.start(slot);
      return;
    }
    slot.restarting = new Promise((resolveStart, rejectStart) => {
      slot.restartTimer = setTimeout(() => resolveStart(this.start(slot)), delay);
      slot.cancelRestart = rejectStart;
    });
    slot.restarting.catch(() => {});
  }

  private checkResponsive(period: number): void {
    const now = performance.now();
    const gap = now - this.lastCheck;
    this.lastCheck = now;
    // This process was blocked: the children's silence may be its own.
    if (gap > period * 3) return;
    for (const slot of this.slots) {
      const conn = slot.conn;
      if (conn === undefined || conn.dead !== undefined || conn.inflight === 0) continue;
      if (now - conn.lastSeen > this.unresponsiveMs) {
        conn.kill(new SandboxProcessError(`The sandbox process (pid ${conn.pid}) sent nothing for ${this.unresponsiveMs} ms with calls pending and was killed; its pending calls were lost.`));
      }
    }
  }

  /** @internal Requests a child makes. */
  handleRequest(conn: Connection, name: string, payload: unknown): unknown {
    switch (name) {
      case "code":
        return this.code(conn, String(payload));
      case "invoke": {
        const [capId, method, args] = payload as [unknown, unknown, unknown];
        return conn.link.call(capId, method, args);
      }
      case "outbound": {
        const [capId, request, abortId] = payload as [unknown, RequestRecord, unknown];
        return this.outbound(conn, capId, request, abortId);
      }
      default:
        throw new TypeError(`Unknown request "${name}" from a sandbox process.`);
    }
  }

  /** @internal Notifications from a child. */
  handleNotify(conn: Connection, name: string, payload: unknown): void {
    switch (name) {
      case "beat":
        conn.ready = true;
        if (Array.isArray(payload) && typeof payload[0] === "number" && typeof payload[1] === "number") conn.stats = { liveWorkers: payload[0], warmSandboxes: payload[1] };
        return;
      case "release":
        return conn.link.release(payload);
      case "abort":
        return void (typeof payload === "number" ? conn.aborts.get(payload)?.abort(new DOMException("The operation was aborted.", "AbortError")) : undefined);
      case "tail": {
        if (!Array.isArray(payload) || !Array.isArray(payload[1])) return;
        const worker = this.workers.get(String(payload[0]))?.deref();
        const receivers = [...(worker?.tails ?? []), ...this.options.tails];
        for (const event of payload[1] as TailEvent[]) deliverTail(receivers, event);
        return;
      }
    }
  }

  /** Runs the worker's getCode here and sends the child what it needs to start the worker. */
  private async code(conn: Connection, key: string): Promise<CodeMessage> {
    const worker = this.workers.get(key)?.deref();
    let code: WorkerCode;
    let typeScript: CodeMessage["typeScript"];
    try {
      if (worker === undefined) throw new WorkerDisposedError("The worker's stub is gone.");
      if (this.closed) throw new WorkerDisposedError("The WorkerLoader is closed.");
      code = await worker.getCode();
      if (this.closed) throw new WorkerDisposedError("The WorkerLoader is closed.");
      // The same checks, in the same order, as an in-process start; TypeScript is transpiled here
      // because the child may not start esbuild's process.
      validateWorkerCode(code);
      validateLimits(code.limits, "WorkerCode");
      const prepared = prepareModules(code);
      typeScript = [];
      const sources = new Map<string, unknown>();
      for (const [name, content] of Object.entries(code.modules)) sources.set(normalizeName(name), typeof content === "string" ? content : (content as { ts?: unknown }).ts);
      for (const module of prepared.modules.values()) {
        if (module.kind === "ts") typeScript.push([module.name, String(sources.get(module.name)), module.source, module.sourceMap ?? ""]);
      }
      worker.tails = code.tails ?? [];
      const outbound = code.globalOutbound === undefined ? this.options.globalOutbound : code.globalOutbound;
      return {
        compatibilityDate: code.compatibilityDate,
        compatibilityFlags: code.compatibilityFlags,
        mainModule: code.mainModule,
        modules: cloneableModules(code.modules),
        env: conn.link.encode(code.env ?? {}, key),
        outbound: outbound === null ? null : conn.link.exportValue(outbound as object, key),
        limits: code.limits,
        tails: worker.tails.length + this.options.tails.length > 0,
        typeScript,
      };
    } catch (error) {
      throw new HostThrown(error);
    }
  }

  /** One fetch() of a sandbox in a child, answered by the worker's globalOutbound here. */
  private async outbound(conn: Connection, capId: unknown, record: RequestRecord, abortId: unknown): Promise<ResponseRecord> {
    const fetcher = conn.link.lookup(capId) as Fetcher | undefined;
    if (fetcher === undefined) throw new TypeError("fetch failed");
    const controller = new AbortController();
    if (typeof abortId === "number") conn.aborts.set(abortId, controller);
    try {
      const request = hostRequest(record, controller.signal);
      const response = typeof fetcher === "function" ? await fetcher(request) : await fetcher.fetch(request);
      if (!(response instanceof Response)) throw new TypeError("globalOutbound did not return a Response.");
      return await responseRecord(response);
    } catch (error) {
      // Only a policy's own words (and the subrequest limit) cross; host details stay here.
      if (error instanceof OutboundError || error instanceof SubrequestLimitError) throw error;
      throw new TypeError("fetch failed");
    } finally {
      if (typeof abortId === "number") conn.aborts.delete(abortId);
    }
  }

  /** @internal What a child gets for an error thrown here: no stack; getCode's errors by reference. */
  errorOut(error: unknown): WireError {
    if (error instanceof HostThrown) {
      const ref = this.nextHostError++;
      this.hostErrors.set(ref, error.value);
      if (this.hostErrors.size > MAX_HOST_ERRORS) this.hostErrors.delete(this.hostErrors.keys().next().value as number);
      return { ...errorToWire(error.value, false), ref };
    }
    return errorToWire(error, false);
  }

  /** @internal An error from a child, as the caller sees it. */
  errorIn(record: WireError): unknown {
    if (typeof record?.ref === "number" && this.hostErrors.has(record.ref)) {
      const original = this.hostErrors.get(record.ref);
      this.hostErrors.delete(record.ref);
      return original;
    }
    return errorFromWire(record, true);
  }

  get stats(): { liveWorkers: number; warmSandboxes: number; processes: { alive: number; restarts: number } } {
    let liveWorkers = 0;
    let warmSandboxes = 0;
    let alive = 0;
    for (const slot of this.slots) {
      const conn = slot.conn;
      if (conn === undefined || conn.dead !== undefined) continue;
      alive++;
      liveWorkers += conn.stats.liveWorkers;
      warmSandboxes += conn.stats.warmSandboxes;
    }
    return { liveWorkers, warmSandboxes, processes: { alive, restarts: this.restarts } };
  }

  /** Process ids of the children, by slot (undefined while one restarts). */
  get pids(): (number | undefined)[] {
    return this.slots.map((slot) => (slot.conn?.dead === undefined ? slot.conn?.pid : undefined));
  }

  /**
   * For tests and diagnostics: what a child reports about itself (pid, environment keys,
   * permissions, memory), after a full garbage collection if `collect` is set.
   */
  async inspect(slot: number, options: { collect?: boolean } = {}): Promise<ChildReport> {
    const conn = await this.connection(this.slots[slot]);
    return (await conn.request("debug", { collect: options.collect === true })) as ChildReport;
  }

  /** Kills every child; pending calls reject with WorkerDisposedError. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.monitor);
    const error = new WorkerDisposedError("The WorkerLoader was closed.");
    const exits: Promise<void>[] = [];
    for (const slot of this.slots) {
      clearTimeout(slot.restartTimer);
      slot.cancelRestart?.(error);
      const conn = slot.conn;
      if (conn === undefined) continue;
      conn.kill(error);
      exits.push(conn.exited);
    }
    await Promise.all(exits);
  }
}

/** Module contents as they cross to the child: a json module's value goes as its JSON, as the sandbox would see it. */
function cloneableModules(modules: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, content] of Object.entries(modules)) {
    const json = content !== null && typeof content === "object" && !ArrayBuffer.isView(content) && "json" in content ? (content as { json: unknown }).json : undefined;
    out[name] = json !== undefined ? { json: JSON.parse(JSON.stringify(json) ?? "null") as unknown } : content;
  }
  return out;
}
