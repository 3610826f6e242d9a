// Where the host does a sandbox's Web Crypto work, and what it charges for it.
//
// Node's Web Crypto runs every operation on libuv's thread pool, which the host shares with
// dns.lookup and the file system: 32 RSA key generations from one sandbox held all four of its
// threads for seconds, and the host's DNS lookups waited behind them. Here every operation waits
// for a slot in a process-wide queue:
//
// - the expensive ones (RSA key generation, large digests) run on islet's own thread (a
//   worker_thread with synchronous node:crypto), one operation at a time, so libuv's pool never
//   sees them;
// - the rest still run in Node's Web Crypto, at most LIBUV_SLOTS at once, so that libuv always has
//   threads free for everyone else.
//
// The time each operation holds its slot is the sandbox's: charged to its cpuMs, so the watchdog
// ends a sandbox whose crypto passes its limit. On islet's thread the charge is the thread's own
// CPU time, measured there, when the operation ends (one operation can overrun cpuMs by its own
// cost: at most about a second for the largest RSA key); in a libuv slot it is the time the slot
// is held, counted while it runs (the work is alone on its thread, so that is its CPU time). Work
// still queued when the invocation that asked for it ends, or the sandbox dies, is never started.
// Where worker threads are refused (a process child under Node's permission model), the expensive
// operations take the libuv queue too; that child's pool serves only its own sandboxes.

import { Worker } from "node:worker_threads";
import type { ServiceState } from "./index.ts";
import { errorFromRecord } from "../../protocol/errors.ts";

/** libuv threads Web Crypto may hold at once; the others stay free for DNS and files. */
const LIBUV_SLOTS = Math.max(1, (Number(process.env.UV_THREADPOOL_SIZE) || 4) - 2);
/** Operations islet's own crypto thread runs at once (one thread). */
const THREAD_SLOTS = 1;

const THREAD_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash, generateKeyPairSync } = require("node:crypto");
const ops = {
  rsa: ({ bits, exponent }) => generateKeyPairSync("rsa", { modulusLength: bits, publicExponent: exponent }),
  digest: ({ hash, data }) => new Uint8Array(createHash(hash).update(data).digest()),
};
parentPort.on("message", ({ id, op, args }) => {
  const before = process.threadCpuUsage();
  let ok = true, value;
  try { value = ops[op](args); } catch (error) { ok = false; value = { name: String(error && error.name), message: String(error && error.message) }; }
  const used = process.threadCpuUsage(before);
  parentPort.postMessage({ id, ok, value, cpuUs: used.user + used.system });
});`;

type Lane = "thread" | "libuv";

interface Job {
  state: ServiceState;
  generation: number;
  start(done: () => void): void;
  cancel(error: Error): void;
}

function cancelled(): Error {
  const error = new Error("The operation was cancelled: the invocation that asked for it ended.");
  error.name = "AbortError";
  return error;
}

class Queue {
  private active = 0;
  private readonly waiting: Job[] = [];

  constructor(private readonly slots: number) {}

  push(job: Job): void {
    this.waiting.push(job);
    this.next();
  }

  private next(): void {
    while (this.active < this.slots && this.waiting.length > 0) {
      const job = this.waiting.shift()!;
      if (!job.state.current(job.generation)) {
        job.cancel(cancelled());
        continue;
      }
      this.active++;
      let released = false;
      job.start(() => {
        if (released) return;
        released = true;
        this.active--;
        this.next();
      });
    }
  }

  get length(): number {
    return this.waiting.length;
  }
}

const queues: Record<Lane, Queue> = { thread: new Queue(THREAD_SLOTS), libuv: new Queue(LIBUV_SLOTS) };

interface ThreadReply {
  id: number;
  ok: boolean;
  value: unknown;
  cpuUs: number;
}

let thread: Worker | null | undefined;
const threadCalls = new Map<number, (reply: ThreadReply) => void>();
let nextThreadCall = 1;

/** islet's crypto thread, started on first use; null where worker threads are refused. */
function cryptoThread(): Worker | null {
  if (thread !== undefined) return thread;
  try {
    const worker = new Worker(THREAD_SOURCE, { eval: true, env: {}, stdout: false, stderr: false });
    worker.unref();
    worker.on("message", (reply: ThreadReply) => {
      const callback = threadCalls.get(reply.id);
      threadCalls.delete(reply.id);
      callback?.(reply);
    });
    const lost = () => {
      if (thread === worker) thread = undefined;
      for (const callback of threadCalls.values()) callback({ id: 0, ok: false, value: { name: "OperationError", message: "The crypto thread ended." }, cpuUs: 0 });
      threadCalls.clear();
    };
    worker.on("error", lost);
    worker.on("exit", lost);
    thread = worker;
  } catch {
    thread = null;
  }
  return thread;
}

/** True when the expensive operations can run on islet's own thread here. */
export function hasCryptoThread(): boolean {
  return cryptoThread() !== null;
}

/**
 * Runs `work` in Node's Web Crypto once a libuv slot is free, charging the time it holds the slot
 * to `state`. Rejects without running it when the sandbox's invocation ended first.
 */
export function onLibuv<T>(state: ServiceState, work: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    queues.libuv.push({
      state,
      generation: state.generation,
      cancel: reject,
      start(done) {
        const charge = state.startCharge();
        let promise: Promise<T>;
        try {
          promise = work();
        } catch (error) {
          promise = Promise.reject(error);
        }
        promise.then(
          (value) => (charge(), done(), resolve(value)),
          (error) => (charge(), done(), reject(error)),
        );
      },
    });
  });
}

/**
 * Runs an operation on islet's crypto thread once it is free, charging the thread's CPU time to
 * `state`. Returns undefined where there is no crypto thread (the caller uses onLibuv instead).
 */
export function onThread(state: ServiceState, op: "rsa" | "digest", args: Record<string, unknown>): Promise<unknown> | undefined {
  if (cryptoThread() === null) return undefined;
  return new Promise((resolve, reject) => {
    queues.thread.push({
      state,
      generation: state.generation,
      cancel: reject,
      start(done) {
        const worker = cryptoThread();
        if (worker === null) return void (done(), reject(cancelled()));
        // Charged what the thread measured, when it is done: a provisional charge by the clock
        // would bill a busy machine's waits (and the thread's start) to the sandbox.
        const charge = state.startCharge(false);
        const id = nextThreadCall++;
        if (threadCalls.size === 0) worker.ref();
        threadCalls.set(id, (reply) => {
          if (threadCalls.size === 0) worker.unref();
          charge(reply.cpuUs * 1000);
          done();
          if (reply.ok) return resolve(reply.value);
          reject(errorFromRecord(reply.value));
        });
        worker.postMessage({ id, op, args });
      },
    });
  });
}

/** Operations waiting for a slot, process-wide (for tests and metrics). */
export function queuedCryptoOperations(): number {
  return queues.thread.length + queues.libuv.length;
}
