// One V8 isolate with one context and the islet runtime evaluated in it. The host talks to the
// runtime only through one Reference to its entry function, which never leaves this file; the
// isolate gets plain copies, a fire-and-forget callback and a synchronous one, never a Reference.

import { isMainThread } from "node:worker_threads";
import IVM from "./ivm.ts";
import type ivm from "isolated-vm";
import { WorkerCodeError } from "../errors.ts";
import { chunkFile, chunkNames, compileChunk, compileRuntime, markRuntimeWarm, recordCodeCache, runtimeNeedsWarmUp, runtimeSnapshot, SNAPSHOT_BOOT_GLOBAL } from "./runtime-code.ts";
import { callAsyncService, callService, ServiceState, SYNC_HOST_CALL_NS } from "./services/index.ts";
import type { EntryName } from "../protocol/entries.ts";
import { CHUNK_SERVICE } from "../protocol/ops.ts";

/** A call that used this much of the isolate's CPU has its heap read when it ends (checkHeap). */
const HEAP_CHECK_CPU_NS = 1_000_000n;

export type DeathReason = "exceededCpu" | "exceededMemory" | "exceededWall" | "canceled";
export type PostHandler = (op: number, a: unknown, b: unknown, c: unknown, d: unknown) => void;
/** CPU a process may use after a kill before its killed isolate counts as a runaway (killedRunningMs). */
const RUNAWAY_CPU_MS = 3_000;
/** How long a killed isolate may run on, however little CPU it gets, before it counts as a runaway. */
const RUNAWAY_WALL_MS = 15_000;

/** Answers a blocking post: [1, value] or [0, error record]; the isolate waits for it. `d`: the invocation the runtime says made it. */
export type BlockingHandler = (op: number, a: unknown, b: unknown, c: unknown, d: unknown) => Promise<[number, unknown]>;

type RuntimeFunction = EntryName;
/** The synchronous host service that counts wasm memories (the runtime's WASM_MEMORY_SERVICE). */
const WASM_MEMORY_SERVICE = "islet:wasm-memories";
/** The synchronous host service that counts resizable ArrayBuffers (the runtime's RESIZABLE_BUFFER_SERVICE). */
const RESIZABLE_BUFFER_SERVICE = "islet:resizable-buffers";

/**
 * Live WebAssembly memories all sandboxes of this process (or thread) may hold together. On 64-bit
 * V8 reserves 8 GiB of address space for each, even a memory of zero pages, and about 16,000
 * exhaust a process's 128 TiB: after that no isolate, the host's included, can make one. 4,096
 * take 32 TiB at most. One sandbox may hold at most MAX_WASM_MEMORIES_PER_SANDBOX of them.
 */
export const MAX_PROCESS_WASM_MEMORIES = 4_096;
export const MAX_WASM_MEMORIES_PER_SANDBOX = 64;
/** What V8 reserves for one wasm memory, counted in the address-space budgets below. */
const WASM_MEMORY_RESERVATION = 8 * 1024 ** 3;
/**
 * Address space one sandbox, and all sandboxes of this process (or thread), may hold reserved:
 * every live wasm memory counts 8 GiB, every live resizable ArrayBuffer its maxByteLength (V8
 * reserves all of it when the buffer is made, whatever its length). The same 512 GiB and 32 TiB
 * the wasm memory counts above allow.
 */
export const MAX_SANDBOX_ADDRESS_SPACE = MAX_WASM_MEMORIES_PER_SANDBOX * WASM_MEMORY_RESERVATION;
export const MAX_PROCESS_ADDRESS_SPACE = MAX_PROCESS_WASM_MEMORIES * WASM_MEMORY_RESERVATION;
/**
 * Live resizable ArrayBuffers one sandbox, and all sandboxes of a process (or thread), may hold:
 * each is a mapping of its own (two once it has grown), and Linux allows a process 65,530.
 */
export const MAX_RESIZABLE_BUFFERS_PER_SANDBOX = 1_000;
export const MAX_PROCESS_RESIZABLE_BUFFERS = 8_192;

const copyInOut = { arguments: { copy: true }, result: { copy: true, promise: true } } as const;
const copyIn = { arguments: { copy: true } } as const;

export interface ModuleSource {
  name: string;
  source: string;
  /** May import `islet:runtime` (generated modules only, never user code). */
  internal?: boolean;
}

const SYNC_COMPILE_MAX_CHARS = 64 * 1024;

/** How a worker answers `import()` (see Sandbox.importModuleDynamically). */
export interface DynamicImports {
  /** Whether an answer may reach the sandbox now: only while an invocation is in flight (its code runs watched). */
  admit(): boolean;
  /**
   * The module `specifier` names, imported from the module compiled under the name `referrer`
   * (code outside the worker's modules gets whatever its caller passes), as a static import of
   * that module would resolve it; "cloudflare:workers" for that module. Throws an Error whose
   * message the sandbox may see when the worker has no such module.
   */
  resolve(specifier: string, referrer: string): string;
}

/** What a worker's modules are, kept after loadModules so that import() links into the same graph. */
interface ModuleGraph {
  lookup: (name: string) => ModuleSource;
  resolve: (specifier: string, referrer: ModuleSource) => string;
  dynamic: DynamicImports;
  /** Every module instantiated so far, by name: the static graph, then what each import() linked. */
  linked: Map<string, ivm.Module>;
  sources: Map<ivm.Module, ModuleSource>;
  /** The import() that is compiling and linking now: one at a time, so a module is never compiled twice. */
  linking: Promise<unknown>;
  /** The evaluations import() started, by the module at their root (every other module was evaluated within a graph). */
  evaluations: Map<ivm.Module, Promise<void>>;
}

/** An answer to import() that never comes: a late answer is dropped, as a late host reply is. */
const NEVER = new Promise<never>(() => {});

/**
 * An error for the sandbox from the host: its stack is only its name and message, so no host
 * frame (a path on the host) reaches the sandbox with it.
 */
function sandboxFacing(ErrorClass: ErrorConstructor, message: string): Error {
  const error = new ErrorClass(message);
  error.stack = `${error.name}: ${message}`;
  facingErrors.add(error);
  return error;
}

const facingErrors = new WeakSet<Error>();

/**
 * Module code must run inside a microtask, as the runtime's entries do (runtime/index.ts, boot):
 * isolated-vm ends every synchronous host call into an isolate that is running asynchronously
 * (the compile and run of a runtime chunk, made during a first touch of a lazy global) with a
 * microtask checkpoint, which V8 skips only while microtasks already run; otherwise microtasks
 * user code queued before that touch ran in the middle of its synchronous code.
 *
 * So the one module of a worker's code starts by awaiting (DEFER_PREFIX, on its first line, the
 * column offset taking it back out of every position): its body then runs as the continuation,
 * in a microtask. A module importing it (islet:entry) must be asynchronous too (DEFER_SUFFIX):
 * V8 (13.6) aborts the process when a synchronous module that waited for an asynchronous one is
 * terminated (a cpuMs kill) while its body runs. A worker with several modules of code keeps them
 * synchronous: making each asynchronous changes their order (V8 starts every asynchronous module
 * whose imports have settled, and a module's microtasks run before the modules importing it), so
 * their top level runs outside a microtask as before (see README.md).
 */
const DEFER_PREFIX = "await undefined;";
const DEFER_SUFFIX = "\nif (0) await 0;";

/** The deferred module's source: DEFER_PREFIX first (a hashbang, allowed only there, becomes a comment of its length). */
function deferredSource(source: string): string {
  return DEFER_PREFIX + (source.startsWith("#!") ? "//" + source.slice(2) : source);
}

/**
 * Messages a sandbox may post to the host before the host's event loop gets a turn. isolated-vm
 * runs queued callbacks until its queue is empty, so an isolate that posts faster than the host
 * handles them (`for (;;) console.log(1)`) would hold the event loop, and the watchdog with it,
 * forever. Past this many the sandbox is terminated as over its CPU limit: it was spending the
 * host's CPU. Legitimate bursts stay far below (timers are capped at 10,000, logs at 1,000).
 */
export const MAX_POSTS_PER_TURN = 20_000;

/**
 * import() calls a sandbox may make before the host's event loop gets a turn: each costs the host
 * about 30 µs (a post, a few µs), so each counts as MAX_POSTS_PER_TURN / MAX_IMPORTS_PER_TURN
 * posts. 10,000 in one turn held the host's loop for 300 ms; 1,000 hold it about 30 ms. A worker
 * has at most 1,000 modules, so Promise.all over all of them still fits.
 */
export const MAX_IMPORTS_PER_TURN = 1_000;

const WORKERS_SOURCE = 'export { WorkerEntrypoint, RpcTarget, DurableObject, env } from "islet:runtime";';

const BRIDGE_SOURCE = `
export let WorkerEntrypoint, RpcTarget, DurableObject, env, takeData, takeJson, mainReady, nodeModule, socketsModule;
export function link(runtime) {
  ({ WorkerEntrypoint, RpcTarget, DurableObject, takeData, takeJson, mainReady, nodeModule, socketsModule } = runtime);
  runtime.onEnv((value) => { env = value; });
}`;

// A tiny worker that walks the runtime's everyday paths (an RPC call, a fetch, console, the
// boundary codec, the web platform's common classes) so that the functions on them are compiled
// when the code cache is made. Each platform line is guarded: a missing API must not stop the rest.
const WARM_UP_WORKER = `export default {
  echo(value) { console.log("warm", value, [1]); return { value, list: [1, 2], at: new Date(Date.now()) }; },
  fetch(request) { return new Response("ok", { status: 200, headers: { "content-type": "text/plain" } }); },
  platform() {
    const steps = [
      () => new URL("https://a.example/b?c=d#e").searchParams.get("c"),
      () => new TextDecoder().decode(new TextEncoder().encode("warm")),
      () => new AbortController().signal.aborted,
      () => new EventTarget().dispatchEvent(new Event("warm")),
      () => structuredClone({ a: [1, new Date(0)] }),
      () => new ReadableStream({ start(c) { c.enqueue(1); c.close(); } }).getReader().read(),
      () => crypto.getRandomValues(new Uint8Array(8)),
      () => crypto.randomUUID(),
      () => btoa(atob("d2FybQ==")),
      () => crypto.subtle.digest("SHA-256", new Uint8Array(1)),
      () => new Response(new Blob(["warm"])).text(),
      () => new Request("https://warm.up/", { method: "POST", body: "x" }).arrayBuffer(),
      () => new Response("warm").body.getReader().read(),
    ];
    for (const step of steps) { try { step(); } catch {} }
  },
};`;

/**
 * The same walk for the core's startup snapshot, as a script: it boots the core in a second context
 * of the snapshot's isolate (which isolated-vm discards) with stand-ins for the host's callbacks, so
 * the functions on those paths are kept compiled in the snapshot. Chunks cannot load there (the
 * stand-in host answers nothing): their paths end in errors, which are caught.
 */
const SNAPSHOT_WARM_UP = `(function () {
  const enter = globalThis[${JSON.stringify(SNAPSHOT_BOOT_GLOBAL)}](function post() {}, function hostCall() { return [1, undefined]; }, 0, 64);
  ${WARM_UP_WORKER.replace(/^export default /, "const worker = ")}
  const request = { url: "https://warm.up/", method: "POST", headers: [["x-a", "b"]], body: new Uint8Array([104, 105]), redirect: "follow" };
  enter("setMain", { __proto__: null, default: worker });
  enter("setEnv", [{ key: "value" }], 1);
  for (let i = 0; i < 2; i++) {
    enter("dispatch", i * 3 + 1, "default", "echo", [["x", { a: [1] }]], [{}], 2);
    enter("dispatch", i * 3 + 2, "default", "fetch", [request], [{}], 3);
    enter("dispatch", i * 3 + 3, "default", "platform", [[]], [{}], 4);
  }
})();`;

function warmUp(): void {
  markRuntimeWarm();
  (Sandbox as unknown as { warmUp(): void }).warmUp();
}

export class SandboxDiedError extends Error {
  constructor(readonly reason: DeathReason) {
    super(`The sandbox was terminated (${reason}).`);
  }
}

export class Sandbox {
  readonly memoryMb: number;
  /** Whether the isolate was made from the core's startup snapshot (else the core was compiled and run in it). */
  readonly fromSnapshot: boolean;
  private readonly isolate: ivm.Isolate;
  // Set by the constructor, or by bootAhead() before the sandbox is handed to anyone.
  private context!: ivm.Context;
  /** The runtime's one entry function: (name of an entry, its arguments). */
  private enter!: ivm.Reference<(name: RuntimeFunction, ...args: unknown[]) => unknown>;
  private handler: PostHandler | undefined;
  private deathReasonValue: DeathReason | undefined;
  private readonly deathListeners: ((reason: DeathReason) => void)[] = [];
  /** Rejects when the sandbox dies; callers race their calls against it. */
  readonly died: Promise<never>;
  private rejectDied!: (error: SandboxDiedError) => void;
  private bridgeModule: ivm.Module | undefined;
  private workersModule: ivm.Module | undefined;
  /**
   * islet:runtime and cloudflare:workers compiled and instantiated ahead in a sandbox made for the
   * warm pool (bootAhead), never evaluated: the first module that imports them takes them (bridge(),
   * cloudflareWorkers()), as if they were made then. Both are islet's own fixed source.
   */
  private preparedBridge: ivm.Module | undefined;
  private preparedWorkers: ivm.Module | undefined;
  private lastCpuNs = 0n;
  /** Host-side state of this sandbox's services (Web Crypto keys). */
  private readonly services = new ServiceState();

  /**
   * Makes the isolate, from the core's snapshot when there is one. With `ahead` (a sandbox made for
   * the warm pool from the snapshot), only the isolate is made here: isolated-vm has no asynchronous
   * Isolate constructor, but its context and the boot call have asynchronous forms, which run on
   * isolated-vm's own threads while this one serves requests (bootAhead). Both ways run the same
   * steps on the same snapshot in the same order: a sandbox made ahead is as fresh as one made now.
   */
  private constructor(memoryMb: number, ahead = false) {
    this.memoryMb = memoryMb;
    // Some allocations (a large hash table growing past the limit) make V8 give up on the heap
    // outright. Without this handler isolated-vm aborts the whole process; with it, the isolate's
    // thread is parked for good and the sandbox is declared dead here (see lost()).
    // The isolate starts from the core's snapshot (made once per process or thread, from islet's
    // own runtime only: runtime-code.ts), so its contexts hold the core already evaluated.
    const snapshot = runtimeSnapshot(SNAPSHOT_WARM_UP);
    this.fromSnapshot = snapshot !== undefined;
    this.died = new Promise<never>((_, reject) => (this.rejectDied = reject));
    this.died.catch(() => {});
    this.isolate = new IVM.Isolate({
      memoryLimit: memoryMb,
      onCatastrophicError: () => this.lost(),
      importModuleDynamically: (specifier, referrer) => this.importModuleDynamically(specifier, referrer),
      snapshot,
    });
    if (ahead && this.fromSnapshot) return;
    this.context = this.isolate.createContextSync();
    // Every synchronous call into a new isolate has a fixed cost: the core's boot function is taken
    // (from the snapshot's self-deleting global, or by running the core), then called once to hand
    // back its single entry function.
    const boot = (
      snapshot !== undefined
        ? this.context.global.getSync(SNAPSHOT_BOOT_GLOBAL, { reference: true })
        : (compileRuntime(this.isolate).runSync(this.context, { reference: true }) as ivm.Reference<Record<string, unknown>>).getSync("boot", { reference: true })
    ) as ivm.Reference<(...args: unknown[]) => unknown>;
    this.enter = boot.applySync(undefined, this.bootArguments(), { arguments: { copy: true }, result: { reference: true } }) as ivm.Reference<
      (name: RuntimeFunction, ...args: unknown[]) => unknown
    >;
  }

  /** What the core's boot function is called with: the two host callbacks, the clock, the heap limit. */
  private bootArguments(): unknown[] {
    const post = new IVM.Callback(
      (op: number, a: unknown, b: unknown, c: unknown, d: unknown) => {
        this.postsReceivedValue++;
        if (this.countPost()) this.handler?.(op, a, b, c, d);
      },
      { ignored: true },
    );
    const hostCall = new IVM.Callback((service: unknown, ...args: unknown[]) => {
      // What the crossing costs the host whatever the service (see SYNC_HOST_CALL_NS).
      this.services.charge(SYNC_HOST_CALL_NS);
      if (service === WASM_MEMORY_SERVICE) return [1, this.reserveWasmMemories(args[0])];
      if (service === RESIZABLE_BUFFER_SERVICE) return [1, this.reserveResizableBuffers(args[0], args[1])];
      if (service !== CHUNK_SERVICE) return callService(this.services, service, args);
      this.loadChunk(args[0]);
      return [1, undefined];
    });
    return [post, hostCall, Date.now(), this.memoryMb];
  }

  /**
   * The rest of a sandbox made ahead (constructor's `ahead`): its context, the boot function taken
   * from the snapshot's self-deleting global and the boot call, each on isolated-vm's threads. Runs
   * only islet's own code. A sandbox whose boot fails (its isolate disposed meanwhile) is killed.
   */
  private async bootAhead(): Promise<void> {
    if (this.enter !== undefined) return;
    try {
      this.context = await this.isolate.createContext();
      const boot = (await this.context.global.get(SNAPSHOT_BOOT_GLOBAL, { reference: true })) as ivm.Reference<(...args: unknown[]) => unknown>;
      this.enter = (await boot.apply(undefined, this.bootArguments(), { arguments: { copy: true }, result: { reference: true } })) as ivm.Reference<
        (name: RuntimeFunction, ...args: unknown[]) => unknown
      >;
      // The modules most workers import (README's WorkerEntrypoint imports cloudflare:workers),
      // compiled and linked here rather than on the load's path; nothing is evaluated.
      const bridge = await this.isolate.compileModule(BRIDGE_SOURCE, { filename: "islet:runtime" });
      await bridge.instantiate(this.context, () => {
        throw new Error("the bridge has no imports");
      });
      const workers = await this.isolate.compileModule(WORKERS_SOURCE, { filename: "cloudflare:workers" });
      await workers.instantiate(this.context, () => bridge);
      this.preparedBridge = bridge;
      this.preparedWorkers = workers;
    } catch (error) {
      this.kill("canceled");
      throw error;
    }
  }

  /** Live wasm memories of all sandboxes in this process (or thread), and of this one. */
  static wasmMemories = 0;
  private wasmMemories = 0;

  /** Reserves (n > 0) or returns (n < 0) wasm memory slots for this sandbox; false when over a limit. */
  private reserveWasmMemories(n: unknown): boolean {
    if (typeof n !== "number" || !Number.isInteger(n) || n === 0 || !this.alive) return false;
    if (n < 0) {
      const returned = Math.min(-n, this.wasmMemories);
      this.wasmMemories -= returned;
      Sandbox.wasmMemories -= returned;
      return true;
    }
    if (this.wasmMemories + n > MAX_WASM_MEMORIES_PER_SANDBOX || Sandbox.wasmMemories + n > MAX_PROCESS_WASM_MEMORIES) return false;
    if (!this.addressSpaceFor(n * WASM_MEMORY_RESERVATION)) return false;
    this.wasmMemories += n;
    Sandbox.wasmMemories += n;
    return true;
  }

  /** Live resizable ArrayBuffers of all sandboxes in this process (or thread) and the bytes they reserve; and this one's. */
  static resizableBuffers = 0;
  static resizableBytes = 0;
  private resizableBuffers = 0;
  private resizableBytes = 0;

  /** True if `bytes` more of address space fit this sandbox's and the process's budgets. */
  private addressSpaceFor(bytes: number): boolean {
    const mine = this.wasmMemories * WASM_MEMORY_RESERVATION + this.resizableBytes;
    const all = Sandbox.wasmMemories * WASM_MEMORY_RESERVATION + Sandbox.resizableBytes;
    return mine + bytes <= MAX_SANDBOX_ADDRESS_SPACE && all + bytes <= MAX_PROCESS_ADDRESS_SPACE;
  }

  /**
   * Reserves (n = 1) or returns (n = -1) one resizable ArrayBuffer of `bytes` of address space
   * (its maxByteLength, rounded up by the runtime); false when over a limit.
   */
  private reserveResizableBuffers(n: unknown, bytes: unknown): boolean {
    if ((n !== 1 && n !== -1) || typeof bytes !== "number" || !Number.isSafeInteger(bytes) || bytes < 0 || !this.alive) return false;
    if (n < 0) {
      if (this.resizableBuffers === 0) return true;
      const returned = Math.min(bytes, this.resizableBytes);
      this.resizableBuffers--;
      this.resizableBytes -= returned;
      Sandbox.resizableBuffers--;
      Sandbox.resizableBytes -= returned;
      return true;
    }
    if (this.resizableBuffers + 1 > MAX_RESIZABLE_BUFFERS_PER_SANDBOX || Sandbox.resizableBuffers + 1 > MAX_PROCESS_RESIZABLE_BUFFERS) return false;
    if (!this.addressSpaceFor(bytes)) return false;
    this.resizableBuffers++;
    this.resizableBytes += bytes;
    Sandbox.resizableBuffers++;
    Sandbox.resizableBytes += bytes;
    return true;
  }

  private postsThisTurn = 0;
  private turnWatched = false;

  /** Counts a message from the isolate; false (and the sandbox terminated) past MAX_POSTS_PER_TURN. */
  private postsReceivedValue = 0;

  /** Every post the runtime made that has reached the host (the runtime counts the same; see postCount). */
  get postsReceived(): number {
    return this.postsReceivedValue;
  }

  private countPost(weight = 1): boolean {
    if (!this.alive) return false;
    if (!this.turnWatched) {
      this.turnWatched = true;
      setImmediate(() => {
        this.turnWatched = false;
        this.postsThisTurn = 0;
      });
    }
    this.postsThisTurn += weight;
    if (this.postsThisTurn <= MAX_POSTS_PER_TURN) return true;
    this.kill("exceededCpu");
    return false;
  }

  private readonly loadedChunks = new Set<string>();

  /**
   * Runs one of islet's runtime chunks in this isolate, re-entering it from inside the sandbox's
   * synchronous request, and hands the chunk's exports to the runtime.
   */
  private loadChunk(name: unknown): void {
    const chunk = chunkNames().find((known) => known === name);
    if (chunk === undefined || this.loadedChunks.has(chunk) || !this.alive) return;
    const exports = compileChunk(this.isolate, chunk).runSync(this.context, { reference: true }) as ivm.Reference<unknown>;
    this.enter.applySync(undefined, ["receiveChunk", chunk, exports.derefInto()]);
    // Counted once it has run: where the calls above still run microtasks (module code not deferred,
    // see DEFER_PREFIX), one that needs this chunk loads it in full, and this load's receiveChunk is
    // then ignored. A chunk that needs itself while it runs fails in the runtime (chunks.ts).
    this.loadedChunks.add(chunk);
  }

  /** Creates the isolate, its context and the runtime. Runs only trusted code, synchronously. */
  static create(memoryMb: number): Sandbox {
    if (runtimeNeedsWarmUp()) warmUp();
    return new Sandbox(memoryMb);
  }

  /**
   * The same sandbox, made for the warm pool: only the isolate is made on this thread (isolated-vm's
   * constructor is synchronous), its context and boot on isolated-vm's threads. Sandboxes that
   * compile the core (no snapshot) are made as create() makes them.
   */
  static async createAhead(memoryMb: number): Promise<Sandbox> {
    if (runtimeNeedsWarmUp()) warmUp();
    const sandbox = new Sandbox(memoryMb, true);
    await sandbox.bootAhead();
    return sandbox;
  }

  /** Runs an asynchronous host service (Web Crypto) for this sandbox. */
  service(name: unknown, args: unknown): Promise<unknown> {
    return callAsyncService(this.services, name, args);
  }

  /**
   * Fills the code caches: runs the warm-up worker (islet's own fixed code) in a private sandbox,
   * then records a cache for the runtime and every chunk that ran (see recordCodeCache).
   */
  private static warmUp(): void {
    const sandbox = new Sandbox(64);
    try {
      const worker = sandbox.isolate.compileModuleSync(WARM_UP_WORKER, { filename: "warm-up.js" });
      worker.instantiateSync(sandbox.context, () => {
        throw new Error("the warm-up worker has no imports");
      });
      worker.evaluateSync();
      const copy = { arguments: { copy: true } } as const;
      sandbox.enter.applySync(undefined, ["setMain", worker.namespace.derefInto()]);
      sandbox.enter.applySync(undefined, ["setEnv", [{ key: "value" }], Date.now()], copy);
      const request = { url: "https://warm.up/", method: "POST", headers: [["x-a", "b"]], body: new Uint8Array([104, 105]), redirect: "follow" };
      for (let i = 0; i < 2; i++) {
        sandbox.enter.applySync(undefined, ["dispatch", i * 3 + 1, "default", "echo", [["x", { a: [1] }]], [{}], Date.now()], copy);
        sandbox.enter.applySync(undefined, ["dispatch", i * 3 + 2, "default", "fetch", [request], [{}], Date.now()], copy);
        sandbox.enter.applySync(undefined, ["dispatch", i * 3 + 3, "default", "platform", [[]], [{}], Date.now()], copy);
      }
      // A sandbox made from the snapshot never compiles the core: only its chunks need caches.
      if (!sandbox.fromSnapshot) recordCodeCache(sandbox.isolate);
      for (const chunk of sandbox.loadedChunks) recordCodeCache(sandbox.isolate, chunkFile(chunk));
    } catch {
      // Without the warm-up the caches are simply made on first compile, with fewer functions in them.
    } finally {
      sandbox.kill("canceled");
    }
  }

  attach(handler: PostHandler): void {
    this.handler = handler;
  }

  private blockingHandler: BlockingHandler | undefined;
  private blockingEnabled = false;

  /** Answers the runtime's blocking posts (synchronous capability calls: a facet's storage). */
  attachBlocking(handler: BlockingHandler): void {
    this.blockingHandler = handler;
  }

  /**
   * Gives the runtime its blocking Reference, before any user code runs: only a sandbox that needs
   * one gets it (a facet's), as it costs each isolate about 22 KB. Not in a worker thread (below).
   */
  enableBlocking(): void {
    if (this.blockingEnabled || !isMainThread || !this.alive) return;
    this.blockingEnabled = true;
    // The one Reference the isolate holds: a host function it calls with applySyncPromise, which
    // blocks the isolate's thread (not the host's) until the answer's promise settles. The runtime
    // keeps it in a closure taken before user code runs (bridge.ts): user code that reached it could
    // walk from it to host objects. It is handed only copies and gives back only a copy.
    // Only on a process's main thread: isolated-vm keeps the function that waits for the answer's
    // promise in one process-wide static, made in the first Node isolate that uses it; a second
    // thread's Node isolate would run another isolate's function (thread isolation refuses facets).
    const blocking = new IVM.Reference(async (op: unknown, a: unknown, b: unknown, c: unknown, d: unknown): Promise<unknown> => {
      // Counted as a post: the runtime counts it too, and a result says how many came before it.
      this.postsReceivedValue++;
      const handler = this.blockingHandler;
      let reply: [number, unknown];
      if (handler === undefined || typeof op !== "number" || !this.alive || !this.countPost()) reply = [0, { name: "Error", message: "This sandbox cannot make blocking calls now." }];
      // A sandbox that dies while it waits is let go at once (its kill then takes effect).
      else reply = await Promise.race([handler(op, a, b, c, d), this.died.catch(() => [0, { name: "Error", message: "The sandbox was terminated." }] as [number, unknown])]);
      // applySyncPromise takes a transferable answer: a copy made here, read into the isolate there.
      try {
        return new IVM.ExternalCopy(reply).copyInto({ release: true });
      } catch {
        return new IVM.ExternalCopy([0, { name: "DataCloneError", message: "The host's answer could not be copied into the sandbox." }]).copyInto({ release: true });
      }
    });
    this.syncStep(() => this.enter.applySync(undefined, ["setBlocking", blocking], { arguments: { copy: true } }));
  }

  get deathReason(): DeathReason | undefined {
    return this.deathReasonValue;
  }

  get alive(): boolean {
    return this.deathReasonValue === undefined && !this.isolate.isDisposed;
  }

  /**
   * CPU time the isolate has used (after its death, the last value seen), plus the host's CPU time
   * spent in services for it (Web Crypto: see services/crypto-pool.ts), so cpuMs bounds both.
   */
  get cpuTimeNs(): bigint {
    return this.isolateCpuNs + this.services.hostCpuNs();
  }

  /** The isolate's own CPU time as isolated-vm reads it (see watchdog.ts for what that counts). */
  get isolateCpuNs(): bigint {
    if (this.deathReasonValue === undefined && !this.isolate.isDisposed) {
      try {
        this.lastCpuNs = this.isolate.cpuTime;
      } catch {
        // Disposed between the check and the read.
      }
    }
    return this.lastCpuNs;
  }

  /** CPU time spent for this sandbox outside its isolate, in host services (crypto, URL, hashing). */
  get serviceCpuNs(): bigint {
    return this.services.hostCpuNs();
  }

  /**
   * Charges CPU spent for this sandbox elsewhere (a facet's SQL in the storage process) to its
   * cpuMs: the watchdog ends it once the total passes the limit.
   */
  chargeHostCpu(ns: number): void {
    if (!(ns > 0)) return;
    this.services.charge(ns);
    // Checked now, before the answer that carried the charge reaches the sandbox: a charge that
    // passes cpuMs ends the call even if the code would return before the watchdog's next look.
    for (const watcher of [...this.chargeWatchers]) watcher();
  }

  private readonly chargeWatchers = new Set<() => void>();

  /** Calls `watcher` after each chargeHostCpu(); returns the function that stops it (the watchdog's). */
  watchCharges(watcher: () => void): () => void {
    this.chargeWatchers.add(watcher);
    return () => this.chargeWatchers.delete(watcher);
  }

  /** Host service work this sandbox asked for and no invocation waits for any more is not started. */
  cancelServices(): void {
    this.services.cancelQueued();
  }

  onDeath(listener: (reason: DeathReason) => void): void {
    if (this.deathReasonValue !== undefined) listener(this.deathReasonValue);
    else this.deathListeners.push(listener);
  }

  /** Calls into any sandbox that have not answered yet: the pool refills only when this is 0. */
  static pending = 0;
  private static idleWaiters: (() => void)[] = [];

  private static callStarted(): void {
    Sandbox.pending++;
  }

  private static callEnded(): void {
    Sandbox.pending--;
    if (Sandbox.pending === 0 && Sandbox.idleWaiters.length > 0) for (const waiter of Sandbox.idleWaiters.splice(0)) waiter();
  }

  /** Calls `waiter` once no call into any sandbox of this thread is pending (now, if none is). */
  static whenIdle(waiter: () => void): void {
    if (Sandbox.pending === 0) waiter();
    else Sandbox.idleWaiters.push(waiter);
  }

  /**
   * isolated-vm operations started on this thread (applies, module evaluations, compiles) whose
   * own promise has not settled, whether or not a caller still waits for it (a call on a killed
   * sandbox stops waiting at once; isolated-vm settles its promise later, from another thread).
   */
  static unsettled = 0;
  private static settledWaiters: (() => void)[] = [];

  /** Resolves once no isolated-vm operation started on this thread is unsettled. */
  static settled(): Promise<void> {
    if (Sandbox.unsettled === 0) return Promise.resolve();
    return new Promise((resolve) => Sandbox.settledWaiters.push(resolve));
  }

  /** This sandbox's share of `unsettled`; a lost isolate's operations never settle and leave the count. */
  private unsettledHere = 0;

  /** `promise`, counted in `unsettled` until isolated-vm settles it. */
  private track<T>(promise: Promise<T>): Promise<T> {
    Sandbox.unsettled++;
    this.unsettledHere++;
    if (this.deathReasonValue !== undefined) Sandbox.countKilled(1);
    const done = () => {
      Sandbox.lastSettleAt = performance.now();
      if (this.unsettledHere === 0) return;
      this.unsettledHere--;
      if (this.deathReasonValue !== undefined) Sandbox.uncountKilled(1);
      Sandbox.uncount(1);
    };
    promise.then(done, done);
    return promise;
  }

  private static uncount(n: number): void {
    Sandbox.unsettled -= n;
    if (Sandbox.unsettled === 0) for (const resolve of Sandbox.settledWaiters.splice(0)) resolve();
  }

  /**
   * Operations still running on isolates already killed or disposed. V8 stops a terminated
   * isolate only at its next interrupt check, and a loop of slow built-in calls (a fill() of
   * 32 MiB) checks rarely until it is optimized: such an isolate ran on for 1 s of CPU after its
   * kill (2 s beside a CPU hog), and a process that exited meanwhile died with SIGSEGV.
   */
  static killedUnsettled = 0;
  private static killedWaiters: (() => void)[] = [];

  private static uncountKilled(n: number): void {
    Sandbox.killedUnsettled -= n;
    if (Sandbox.killedUnsettled === 0) {
      Sandbox.killedSince = undefined;
      for (const resolve of Sandbox.killedWaiters.splice(0)) resolve();
    }
  }

  /** Since when some killed isolate of this thread has still been running (undefined: none is). */
  private static killedSince: number | undefined;
  /** This process's CPU time (µs) at killedSince. */
  private static killedSinceCpuUs = 0;

  private static countKilled(n: number): void {
    if (n <= 0) return;
    if (Sandbox.killedUnsettled === 0) {
      Sandbox.killedSince = performance.now();
      const { user, system } = process.cpuUsage();
      Sandbox.killedSinceCpuUs = user + system;
    }
    Sandbox.killedUnsettled += n;
  }

  /**
   * How long some isolate of this thread has kept running after its kill, once that counts as a
   * runaway (0: none is, or not yet). V8 checks for termination only between steps of a built-in:
   * one long step (a BigInt's decimal string, a huge RegExp's compilation, lastIndexOf's search)
   * runs to its end, seconds or minutes, uncharged. Process isolation replaces a child in that
   * state (shard/host-requests.ts). A runaway is one whose process has used RUNAWAY_CPU_MS of CPU
   * since the kill, or that has run RUNAWAY_WALL_MS: the clock alone (5 s) replaced a child
   * starved of CPU (niced, beside busy processes) whose kill was finishing a deeply nested
   * JSON.parse, its neighbours restarted with it; CPU alone let a starved runaway run past 20 s.
   */
  static killedRunningMs(): number {
    if (Sandbox.killedSince === undefined) return 0;
    const { user, system } = process.cpuUsage();
    const cpuMs = (user + system - Sandbox.killedSinceCpuUs) / 1000;
    const wallMs = performance.now() - Sandbox.killedSince;
    return cpuMs >= RUNAWAY_CPU_MS || wallMs >= RUNAWAY_WALL_MS ? wallMs : 0;
  }

  /** Resolves once no killed isolate of this thread is still running an operation. */
  static killedSettled(): Promise<void> {
    if (Sandbox.killedUnsettled === 0) return Promise.resolve();
    return new Promise((resolve) => Sandbox.killedWaiters.push(resolve));
  }

  /** Calls a runtime function with copied arguments and awaits its (copied) result. */
  async call(name: RuntimeFunction, args: unknown[]): Promise<unknown> {
    if (!this.alive) throw new SandboxDiedError(this.deathReasonValue ?? "canceled");
    // A heap check still on its way (see checkHeap) goes first: no call runs on a heap past its limit.
    if (this.heapCheck !== undefined) {
      await this.heapCheck;
      if (!this.alive) throw new SandboxDiedError(this.deathReasonValue ?? "canceled");
    }
    Sandbox.callStarted();
    const cpuBefore = this.cpuTimeNs;
    try {
      return await this.orDeath(this.track(this.enter.apply(undefined, [name, ...args], copyInOut)));
    } catch (error) {
      throw this.translate(error);
    } finally {
      Sandbox.callEnded();
      // Filling memory costs time (about 1 ms per 10 MB): a call that used less CPU cannot have
      // placed much past the limit, and its heap is not read (reading it after every call made a
      // warm round trip 27 % slower).
      if (this.cpuTimeNs - cpuBefore >= HEAP_CHECK_CPU_NS) this.checkHeap();
    }
  }

  /** The heap check in flight, if any (see checkHeap). */
  private heapCheck: Promise<void> | undefined;

  /**
   * isolated-vm enforces memoryLimit after V8's garbage collections, and V8 lets the first large
   * object of the young generation be allocated whatever its size: inside an asynchronous call, a
   * sandbox of 8 MB flattened a 512 MiB string, returned, and kept it for later calls (V8's heap
   * limit 11.5 MB; findings5/34). So after every call the heap is read, and a heap past V8's own
   * limit ends the sandbox with exceededMemory (calls in flight on it included); the next call
   * waits for the check. Read asynchronously, on the isolate's own queue: the synchronous read
   * waits for code running in the isolate, which would stop this thread, and with it the watchdog
   * that ends that code.
   */
  private checkHeap(): void {
    if (this.heapCheck !== undefined || !this.alive || this.isolate.isDisposed) return;
    const check = this.track(this.isolate.getHeapStatistics()).then(
      (stats) => {
        if (this.alive && stats.used_heap_size > stats.heap_size_limit) this.kill("exceededMemory");
      },
      () => {},
    );
    // One check at a time (the guard above), so the one that ends is this one.
    this.heapCheck = check.finally(() => (this.heapCheck = undefined));
  }

  /** Calls a runtime function that runs only islet's code (no user code) in place. */
  callSync(name: RuntimeFunction, args: unknown[]): unknown {
    return this.syncStep(() => this.enter.applySync(undefined, [name, ...args], { arguments: { copy: true }, result: { copy: true } }));
  }

  private syncStep<T>(step: () => T): T {
    if (!this.alive) throw new SandboxDiedError(this.deathReasonValue ?? "canceled");
    try {
      return step();
    } catch (error) {
      throw this.translate(error);
    }
  }

  /**
   * Fire-and-forget call (timer fires, replies to requests). Returns the error when the arguments
   * could not be copied into a live isolate (a host value isolated-vm cannot copy), so the caller
   * can answer otherwise; undefined when it was sent or the isolate is gone.
   */
  send(name: RuntimeFunction, args: unknown[]): Error | undefined {
    if (!this.alive) return undefined;
    try {
      this.enter.applyIgnored(undefined, [name, ...args], copyIn);
    } catch (error) {
      const translated = this.translate(error);
      if (this.alive && translated instanceof Error && !(translated instanceof SandboxDiedError)) return translated;
    }
    return undefined;
  }

  private translate(error: unknown): unknown {
    if (this.deathReasonValue !== undefined) return new SandboxDiedError(this.deathReasonValue);
    if (this.isolate.isDisposed) {
      // Only kill() and isolated-vm's memory limit dispose an isolate, and kill() records its reason
      // first: an isolate found disposed here ran out of memory, whichever call noticed it (the
      // one that allocated says so; a call waiting beside it only learns the isolate is gone).
      this.kill("exceededMemory");
      return new SandboxDiedError("exceededMemory");
    }
    return error;
  }

  /**
   * Compiles the reachable module graph from `main`, links it and evaluates it. `resolve` maps an
   * import specifier of a module to another module's name, or throws an error naming the module.
   * Resolves to the number of posts the runtime had made by the end (see Worker.postsArrived).
   */
  async loadModules(
    main: string,
    lookup: (name: string) => ModuleSource,
    resolve: (specifier: string, referrer: ModuleSource) => string,
    beforeEvaluate: () => void,
    mayAwaitAtTopLevel = false,
    dynamic?: DynamicImports,
    deferred?: string,
  ): Promise<number | undefined> {
    const compiled = new Map<string, ivm.Module>();
    const sources = new Map<ivm.Module, ModuleSource>();
    const compile = async (name: string): Promise<ivm.Module> => {
      const existing = compiled.get(name);
      if (existing !== undefined) return existing;
      const source = lookup(name);
      let module: ivm.Module;
      try {
        module = name === deferred ? await this.compileModule(deferredSource(source.source), name, -DEFER_PREFIX.length) : await this.compileModule(source.source, name);
      } catch (error) {
        if (error instanceof SandboxDiedError) throw error;
        throw new WorkerCodeError(`${(error as Error).name}: ${(error as Error).message}`, name);
      }
      compiled.set(name, module);
      sources.set(module, source);
      for (const specifier of module.dependencySpecifiers) {
        if (specifier === "islet:runtime" && !source.internal) {
          throw new WorkerCodeError(`cannot import "islet:runtime": it is internal to islet.`, name);
        }
        if (specifier === "islet:runtime" || specifier === "cloudflare:workers") continue;
        await compile(resolve(specifier, source));
      }
      return module;
    };
    const root = await compile(main);
    // isolated-vm's evaluate() does not wait for a top-level await. An entry module that imports
    // the main module runs only once main has settled, and tells the runtime so.
    const entry = mayAwaitAtTopLevel
      ? this.isolate.compileModuleSync(`import * as main from ${JSON.stringify(main)}; import { mainReady } from "islet:runtime"; mainReady(main);${deferred !== undefined ? DEFER_SUFFIX : ""}`, {
          filename: "islet:entry",
        })
      : root;
    if (entry !== root) sources.set(entry, { name: "islet:entry", source: "", internal: true });
    await this.guard(
      entry.instantiate(this.context, (specifier, referrer) => {
        if (referrer === entry && specifier === main) return root;
        const from = sources.get(referrer)!;
        if (specifier === "islet:runtime") {
          if (!from.internal) throw new Error(`Cannot import "islet:runtime" from ${from.name}`);
          return this.bridge();
        }
        if (specifier === "cloudflare:workers") return this.cloudflareWorkers();
        return compiled.get(resolve(specifier, from))!;
      }),
    );
    // From here on, import() links into this graph (the same module instances).
    if (dynamic !== undefined) this.graph = { lookup, resolve, dynamic, linked: compiled, sources, linking: Promise.resolve(), evaluations: new Map() };
    // A cloudflare:workers the static graph imports is evaluated within it.
    if (this.workersModule !== undefined) this.workersEvaluated = true;
    beforeEvaluate();
    if (this.bridgeModule !== undefined) {
      // Fill the bridge's bindings before any user module reads them.
      this.bridgeModule.evaluateSync();
      const link = this.bridgeModule.namespace.getSync("link", { reference: true }) as ivm.Reference<(runtime: unknown) => void>;
      this.bridgeLinked = true;
      await this.guard(this.enter.apply(undefined, ["linkBridge", link.derefInto()]));
    }
    // A deferred module runs in the microtasks this evaluation ends with (its throw reaches
    // evaluate() as an unhandled rejection, as one at any module's top level does).
    await this.guard(entry.evaluate());
    // Both answer the runtime's count of posts so far: the caller waits for the top-level logs.
    const posts = entry === root ? this.syncStep(() => this.enter.applySync(undefined, ["setMain", root.namespace.derefInto()], { result: { copy: true } })) : await this.call("awaitMain", []);
    return typeof posts === "number" ? posts : undefined;
  }

  /**
   * `islet:runtime` as a module, made only when a module imports it: the runtime itself is a
   * script (it compiles faster), so this small module re-exports what the runtime hands it.
   */
  private bridge(): ivm.Module {
    if (this.bridgeModule === undefined && this.preparedBridge !== undefined) {
      this.bridgeModule = this.preparedBridge;
      this.preparedBridge = undefined;
    }
    if (this.bridgeModule === undefined) {
      this.bridgeModule = this.isolate.compileModuleSync(BRIDGE_SOURCE, { filename: "islet:runtime" });
      this.bridgeModule.instantiateSync(this.context, () => {
        throw new Error("the bridge has no imports");
      });
    }
    return this.bridgeModule;
  }

  /** Parsing runs no user code but holds the calling thread: small sources compile in place (saving a thread hop), large ones on isolated-vm's pool so the host loop stays free. */
  private async compileModule(text: string, filename: string, columnOffset = 0): Promise<ivm.Module> {
    const options = { filename, columnOffset };
    return text.length <= SYNC_COMPILE_MAX_CHARS ? this.isolate.compileModuleSync(text, options) : await this.guard(this.isolate.compileModule(text, options));
  }

  private cloudflareWorkers(): ivm.Module {
    if (this.workersModule === undefined && this.preparedWorkers !== undefined) {
      // Instantiated against the prepared bridge, which bridge() hands out first.
      this.bridge();
      this.workersModule = this.preparedWorkers;
      this.preparedWorkers = undefined;
    }
    if (this.workersModule === undefined) {
      this.workersModule = this.isolate.compileModuleSync(WORKERS_SOURCE, { filename: "cloudflare:workers" });
      this.workersModule.instantiateSync(this.context, () => this.bridge());
    }
    return this.workersModule;
  }

  /** The worker's modules once loaded: what import() links into. */
  private graph: ModuleGraph | undefined;
  /** The bridge's bindings were filled (linkBridge): done once, before any module that reads them runs. */
  private bridgeLinked = false;
  /** cloudflare:workers was evaluated (within a graph that imports it, or on its own). */
  private workersEvaluated = false;

  /**
   * isolated-vm's callback for `import()` anywhere in the sandbox. It resolves the specifier as a
   * static import of the calling module would (the worker's own modules, "cloudflare:workers",
   * and with nodejs_compat Node's built-ins; never islet:runtime, another worker's modules or a
   * host file), links any module not linked yet into the worker's graph and evaluates it, and
   * answers with the module: the sandbox gets its namespace, the same one a static import gives.
   *
   * Code may run in the sandbox meanwhile (this runs on the host while the isolate goes on), so
   * nothing here enters the isolate synchronously: a sync call would hold the host's thread, and
   * with it the watchdog, for as long as the sandbox runs. An answer reaches the sandbox only while
   * an invocation is in flight (later ones are dropped, as late host replies are), and the
   * invocation does not end before the answers given during it have been delivered and the code
   * they resumed has run to its next wait (importsDelivered), so that code runs watched.
   */
  private importModuleDynamically(specifier: unknown, referrer: unknown): ivm.Module | Promise<ivm.Module> {
    const graph = this.graph;
    if (graph === undefined || !this.alive) throw sandboxFacing(Error, "import() is not available here.");
    // Counted as posts: a loop of import() calls must not hold the host's event loop.
    if (!this.countPost(MAX_POSTS_PER_TURN / MAX_IMPORTS_PER_TURN) || !graph.dynamic.admit()) return NEVER;
    // Until its answer has been delivered (or dropped), the import keeps the invocation in flight.
    let done!: () => void;
    const work = new Promise<void>((resolve) => (done = resolve));
    this.importWork.add(work);
    void work.then(() => this.importWork.delete(work));
    let name: string;
    try {
      name = graph.dynamic.resolve(String(specifier), typeof referrer === "string" ? referrer : "");
    } catch (error) {
      void this.importAnswered().then(done);
      throw sandboxFacing(Error, (error as Error).message);
    }
    const linking = graph.linking.then(() => this.linkForImport(graph, name));
    graph.linking = linking.catch(() => {});
    const answer = linking
      .then(async (module) => {
        // A module import() linked is handed over once its evaluation (top-level await included)
        // has finished; one evaluated within another module's graph, at once. A module that threw
        // gives the sandbox its error when the namespace is taken (isolated-vm rethrows it there).
        await graph.evaluations.get(module);
        return module;
      })
      .then(
        (module) => {
          if (!this.alive || !graph.dynamic.admit()) return done(), NEVER;
          void this.importAnswered().then(done);
          return module;
        },
        (error: unknown) => {
          if (!this.alive || !graph.dynamic.admit()) return done(), NEVER;
          void this.importAnswered().then(done);
          throw error instanceof SandboxDiedError ? sandboxFacing(Error, "The sandbox was terminated.") : error;
        },
      );
    answer.catch(() => {});
    return answer;
  }

  /**
   * The module `name`, linked into the worker's graph: one linked before is answered as it is;
   * otherwise it and the modules it imports that are not linked yet are compiled (on isolated-vm's
   * pool) and instantiated against those already linked. A failure leaves nothing half-linked.
   */
  private async linkForImport(graph: ModuleGraph, name: string): Promise<ivm.Module> {
    if (name === "cloudflare:workers") {
      const workers = await this.workersModuleAsync();
      // Evaluated within the worker's graph if any module imported it; else here, once.
      if (!this.workersEvaluated) this.evaluateRoot(graph, workers);
      return workers;
    }
    const existing = graph.linked.get(name);
    if (existing !== undefined) return existing;
    const fresh = new Map<string, ivm.Module>();
    let needsBridge = false;
    let needsWorkers = false;
    const compile = async (moduleName: string): Promise<void> => {
      if (graph.linked.has(moduleName) || fresh.has(moduleName)) return;
      const source = graph.lookup(moduleName);
      let module: ivm.Module;
      try {
        module = await this.guard(this.isolate.compileModule(source.source, { filename: moduleName }));
      } catch (error) {
        if (error instanceof SandboxDiedError) throw error;
        throw sandboxFacing(SyntaxError, `${(error as Error).message} [${moduleName}]`);
      }
      fresh.set(moduleName, module);
      graph.sources.set(module, source);
      for (const specifier of module.dependencySpecifiers) {
        if (specifier === "islet:runtime") {
          if (!source.internal) throw sandboxFacing(Error, `Module "${moduleName}": cannot import "islet:runtime": it is internal to islet.`);
          needsBridge = true;
        } else if (specifier === "cloudflare:workers") needsWorkers = true;
        else {
          let target: string;
          try {
            target = graph.resolve(specifier, source);
          } catch (error) {
            throw sandboxFacing(Error, (error as Error).message);
          }
          await compile(target);
        }
      }
    };
    try {
      await compile(name);
      if (needsBridge) await this.bridgeAsync();
      if (needsWorkers) await this.workersModuleAsync();
      const root = fresh.get(name)!;
      await this.guard(
        root.instantiate(this.context, (specifier, referrer) => {
          const from = graph.sources.get(referrer)!;
          if (specifier === "islet:runtime" && from.internal) return this.bridgeModule!;
          if (specifier === "cloudflare:workers") return this.workersModule!;
          const target = graph.resolve(specifier, from);
          return graph.linked.get(target) ?? fresh.get(target)!;
        }),
      );
      for (const [moduleName, module] of fresh) graph.linked.set(moduleName, module);
      // Not awaited here: a module whose top-level await waits must not hold up other imports.
      this.evaluateRoot(graph, root);
      if (needsWorkers) this.workersEvaluated = true;
      return root;
    } catch (error) {
      for (const module of fresh.values()) graph.sources.delete(module);
      if (error instanceof SandboxDiedError || facingErrors.has(error as Error)) throw error;
      // Instantiation failed: an import of a name the module does not export, say.
      throw sandboxFacing(SyntaxError, (error as Error).message);
    }
  }

  /**
   * Starts evaluating a module import() linked as the root of its own graph, once. Never a module
   * evaluated within another's graph: isolated-vm 7's evaluate() of such a module crashes the
   * process (SIGSEGV, on V8 13.6), and such a module needs no evaluation anyway.
   */
  private evaluateRoot(graph: ModuleGraph, root: ivm.Module): void {
    if (graph.evaluations.has(root)) return;
    graph.evaluations.set(
      root,
      this.guard(root.evaluate({ promise: true })).then(
        () => {},
        () => {},
      ),
    );
  }

  /** The bridge for a module import() links, made and filled without entering the isolate synchronously. */
  private async bridgeAsync(): Promise<ivm.Module> {
    if (this.bridgeModule === undefined && this.preparedBridge !== undefined) this.bridge();
    if (this.bridgeModule === undefined) {
      const bridge = await this.guard(this.isolate.compileModule(BRIDGE_SOURCE, { filename: "islet:runtime" }));
      await this.guard(
        bridge.instantiate(this.context, () => {
          throw new Error("the bridge has no imports");
        }),
      );
      this.bridgeModule = bridge;
    }
    if (!this.bridgeLinked) {
      this.bridgeLinked = true;
      await this.guard(this.bridgeModule.evaluate());
      const link = (await this.guard(this.bridgeModule.namespace.get("link", { reference: true }))) as ivm.Reference<(runtime: unknown) => void>;
      await this.guard(this.enter.apply(undefined, ["linkBridge", link.derefInto()]));
    }
    return this.bridgeModule;
  }

  /** `cloudflare:workers` for import(), made without entering the isolate synchronously. */
  private async workersModuleAsync(): Promise<ivm.Module> {
    if (this.workersModule === undefined && this.preparedWorkers !== undefined) {
      await this.bridgeAsync();
      this.workersModule = this.preparedWorkers;
      this.preparedWorkers = undefined;
    }
    if (this.workersModule === undefined) {
      const bridge = await this.bridgeAsync();
      const workers = await this.guard(this.isolate.compileModule(WORKERS_SOURCE, { filename: "cloudflare:workers" }));
      await this.guard(workers.instantiate(this.context, () => bridge));
      this.workersModule = workers;
    }
    return this.workersModule;
  }

  /** The import() calls whose answer has not been delivered yet (see importModuleDynamically). */
  private readonly importWork = new Set<Promise<void>>();
  /** The ping queued after this turn's answers, if any. */
  private nextPing: Promise<void> | undefined;
  /** The runtime's count of posts at the last ping. */
  private postsAtPing: number | undefined;

  /**
   * An answer to import() was handed to isolated-vm, which queues its delivery in the isolate. A
   * call queued after it (the runtime's ping, once per turn) returns only once the answer was
   * delivered and the code it resumed has run to its next wait.
   */
  private importAnswered(): Promise<void> {
    if (this.nextPing !== undefined) return this.nextPing;
    const ping = new Promise<void>((resolve) =>
      setImmediate(() => {
        this.nextPing = undefined;
        if (!this.alive) return resolve();
        this.guard(this.enter.apply(undefined, ["ping"], copyInOut)).then(
          (posts) => {
            if (typeof posts === "number") this.postsAtPing = posts;
            resolve();
          },
          () => resolve(),
        );
      }),
    );
    this.nextPing = ping;
    return ping;
  }

  /**
   * Resolves once the import() calls made so far have been answered and their answers delivered,
   * to the runtime's count of posts by then (undefined: no import waits).
   */
  importsDelivered(): Promise<number | undefined> | undefined {
    if (this.importWork.size === 0) return undefined;
    return Promise.all(this.importWork).then(() => this.postsAtPing);
  }

  /** Calls waiting for an answer: each is rejected if the sandbox dies first (see orDeath). */
  private readonly waiting = new Set<(error: SandboxDiedError) => void>();

  /**
   * `promise`, or a SandboxDiedError when the sandbox dies first. Not Promise.race with `died`:
   * each race leaves a reaction on `died` holding its result, so a long-lived sandbox kept every
   * answer it ever gave (and the host stubs in them) on the host's heap until it died.
   */
  private orDeath<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.deathReasonValue !== undefined) return reject(new SandboxDiedError(this.deathReasonValue));
      this.waiting.add(reject);
      promise.then(
        (value) => (this.waiting.delete(reject), resolve(value)),
        (error: unknown) => (this.waiting.delete(reject), reject(error)),
      );
    });
  }

  private async guard<T>(promise: Promise<T>): Promise<T> {
    Sandbox.callStarted();
    try {
      return await this.orDeath(this.track(promise));
    } catch (error) {
      throw this.translate(error);
    } finally {
      Sandbox.callEnded();
    }
  }

  /** Isolates lost to a catastrophic out-of-memory error: their memory and thread are never returned. */
  static lostIsolates = 0;

  /**
   * V8 lost control of the isolate's heap. Its thread sleeps forever inside isolated-vm, holding
   * the isolate: the sandbox is marked dead and dropped, without touching the isolate, and every
   * call on it fails with MemoryLimitError. The isolate's memory and thread are never returned, and
   * isolated-vm waits for that thread when the process exits: a host that saw this can only end
   * with SIGKILL. SECURITY.md says when to prefer process isolation.
   */
  private lost(): void {
    Sandbox.lostIsolates++;
    const unsettled = this.unsettledHere;
    this.unsettledHere = 0;
    if (unsettled > 0) {
      if (this.deathReasonValue !== undefined) Sandbox.uncountKilled(unsettled);
      Sandbox.uncount(unsettled);
    }
    this.kill("exceededMemory", false);
  }

  /**
   * When an isolate of this thread last died (killed for a limit, disposed, or out of memory):
   * isolated-vm deletes it on one of its own threads some time later (see lastDeathOrSettle()).
   */
  private static lastDeathAt = -Infinity;

  private static lastSettleAt = -Infinity;

  /**
   * performance.now() of the last isolate death, or of the last isolated-vm operation settling, on
   * this thread (-Infinity if none): isolated-vm deletes a dead isolate once the operations it ran
   * on it have settled, on one of its own threads, a moment later.
   */
  static lastDeathOrSettle(): number {
    return Math.max(Sandbox.lastDeathAt, Sandbox.lastSettleAt);
  }

  /** Terminates the isolate at once. Safe to call more than once. */
  kill(reason: DeathReason, dispose = true): void {
    if (this.deathReasonValue !== undefined) return;
    Sandbox.lastDeathAt = performance.now();
    if (dispose) void this.cpuTimeNs;
    this.deathReasonValue = reason;
    Sandbox.countKilled(this.unsettledHere);
    this.services.clear();
    // A dead sandbox's memories are V8's to free with the isolate; their slots are free now. (A
    // lost isolate keeps its memories reserved; so few are lost that they are not counted apart.)
    Sandbox.wasmMemories -= this.wasmMemories;
    this.wasmMemories = 0;
    Sandbox.resizableBuffers -= this.resizableBuffers;
    Sandbox.resizableBytes -= this.resizableBytes;
    this.resizableBuffers = 0;
    this.resizableBytes = 0;
    this.handler = undefined;
    this.blockingHandler = undefined;
    if (dispose && !this.isolate.isDisposed) {
      try {
        this.isolate.dispose();
      } catch {
        // Already gone.
      }
    }
    this.rejectDied(new SandboxDiedError(reason));
    for (const reject of this.waiting) reject(new SandboxDiedError(reason));
    this.waiting.clear();
    for (const listener of this.deathListeners.splice(0)) listener(reason);
  }
}
