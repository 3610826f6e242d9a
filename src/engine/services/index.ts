// Host services: the few primitives a sandbox is better served by Node for (WHATWG URL parsing,
// random bytes, Web Crypto, the Encoding Standard's index tables). A service receives copies of plain values and returns a plain value;
// it never sees or hands out a Reference, so a sandbox can ask for work, not for host objects.
// Synchronous services run on the host thread while the isolate waits, so each bounds its input,
// and the host's time each call takes is charged to the sandbox's cpuMs (callService).

import { errorToRecord } from "../../protocol/errors.ts";
import { urlServices } from "./url.ts";
import { cryptoServices, cryptoAsyncServices } from "./crypto.ts";
import { nodeCryptoServices } from "./node-crypto.ts";
import { encodingServices } from "./encoding.ts";

/** Per-sandbox state a service may keep (e.g. Web Crypto keys); dropped with the sandbox. */
export class ServiceState {
  private readonly handles = new Map<number, unknown>();
  private nextHandle = 1;

  static readonly MAX_HANDLES = 100_000;

  store(value: unknown): number {
    if (this.handles.size >= ServiceState.MAX_HANDLES) throw new RangeError(`Too many live host objects (at most ${ServiceState.MAX_HANDLES}).`);
    const id = this.nextHandle++;
    this.handles.set(id, value);
    return id;
  }

  lookup<T>(id: unknown, check: (value: unknown) => value is T, what: string): T {
    const value = typeof id === "number" ? this.handles.get(id) : undefined;
    if (value === undefined || !check(value)) throw new TypeError(`Invalid ${what}.`);
    return value;
  }

  /** Forgets a handle, but only one holding the kind of value `check` accepts. */
  release<T>(id: unknown, check: (value: unknown) => value is T): void {
    if (typeof id === "number" && check(this.handles.get(id))) this.handles.delete(id);
  }

  clear(): void {
    this.handles.clear();
    this.closed = true;
    this.generation++;
  }

  private closed = false;
  /** Bumped when the work asked for so far is no longer wanted (see cancelQueued). */
  generation = 0;

  /** True while work queued at `generation` is still wanted. */
  current(generation: number): boolean {
    return !this.closed && generation === this.generation;
  }

  /** No invocation waits for the work queued so far: it is dropped before it starts. */
  cancelQueued(): void {
    this.generation++;
  }

  /** Host CPU time charged so far, in nanoseconds, operations still running included. */
  private chargedNs = 0;
  private readonly running = new Set<{ started: number }>();

  /**
   * Starts charging host time to this sandbox; the returned function ends it, with the measured
   * CPU time in nanoseconds if there is one (otherwise the time it ran). With `whileRunning`, the
   * time so far counts before it ends.
   */
  startCharge(whileRunning = true): (measuredNs?: number) => void {
    const token = { started: performance.now() };
    if (whileRunning) this.running.add(token);
    let ended = false;
    return (measuredNs) => {
      if (ended) return;
      ended = true;
      this.running.delete(token);
      this.chargedNs += measuredNs ?? (performance.now() - token.started) * 1e6;
    };
  }

  /** Charges host CPU time measured elsewhere (a synchronous service's, see callService). */
  charge(ns: number): void {
    if (ns > 0) this.chargedNs += ns;
  }

  /** Host CPU time spent in services for this sandbox, in nanoseconds (see crypto-pool.ts). */
  hostCpuNs(): bigint {
    let ns = this.chargedNs;
    if (this.running.size > 0) {
      const now = performance.now();
      for (const { started } of this.running) ns += (now - started) * 1e6;
    }
    return BigInt(Math.round(ns));
  }
}

export type SyncService = (state: ServiceState, args: unknown[]) => unknown;
export type AsyncService = (state: ServiceState, args: unknown[]) => Promise<unknown>;

const syncServices = new Map<string, SyncService>(Object.entries({ ...urlServices, ...cryptoServices, ...nodeCryptoServices, ...encodingServices }));
const asyncServices = new Map<string, AsyncService>(Object.entries(cryptoAsyncServices));

export interface ServiceError {
  name: string;
  message: string;
}

/** Only the name and message of a service's error reach the sandbox, never a host stack. */
export function serviceError(error: unknown): ServiceError {
  if (error === null || typeof error !== "object") return { name: "Error", message: "The host service failed." };
  const record = errorToRecord(error, false);
  const name = /^[A-Za-z]{1,40}$/.test(record.name) ? record.name : "Error";
  return { name, message: record.message === "" ? "The host service failed." : record.message.slice(0, 1000) };
}

/**
 * Host CPU one synchronous host call costs beyond the service's own work, in nanoseconds. The
 * isolate's thread hands the call to the host's thread and waits: two wake-ups through the kernel,
 * isolated-vm's locking and the copy of the answer, none of it inside the service where
 * threadCpuUsage could see it, and the isolate's CPU clock stops while it waits. On the 2-core
 * machines the tests run on, a loop of new URL() calls cost the host process 53-62 µs per call in
 * every isolation mode (50,000 calls: 2.7-3.1 s), the parse itself a few of them; uncharged, a
 * sandbox under cpuMs 1000 made 200,000 cheap calls and the host spent 3.9-5.0 s (findings26/01).
 */
export const SYNC_HOST_CALL_NS = 50_000;

/**
 * Host CPU an argument's copy costs before a service sees it, in nanoseconds per byte: isolated-vm
 * copies each string and byte array into the host's heap, and the fresh pages it fills cost the
 * host's thread 2-7 ns a byte on the 2-core machines the tests run on (more than OpenSSL's SHA-512
 * of the same bytes, and about 3 times ada's parse of a URL made of spaces). That copy happens
 * before the service runs, where nothing can measure it, so it is charged at this rate.
 */
export const COPY_NS_PER_BYTE = 4;

/** Bytes the host copied for a service's arguments: strings, byte arrays and lists of them. */
function argumentBytes(args: unknown[]): number {
  let bytes = 0;
  const add = (value: unknown) => {
    if (typeof value === "string") bytes += value.length;
    else if (ArrayBuffer.isView(value)) bytes += value.byteLength;
  };
  for (const arg of args) {
    if (Array.isArray(arg)) for (const part of arg) add(part);
    else add(arg);
  }
  return bytes;
}

/**
 * Runs a synchronous service and charges the host's time for it to the sandbox's cpuMs: a sandbox
 * that loops on URL parsing or node:crypto hashing spends the host's CPU, not its isolate's (its
 * thread only waits), and is ended like one that spins. The charge is this thread's CPU time during
 * the call plus the copy of its arguments at COPY_NS_PER_BYTE. The thread's CPU counter moves at the
 * scheduler's ticks (a call of microseconds reads 0 or one tick), but the tick lands on a call in
 * proportion to the CPU it used, so over the many calls that can matter the charge is what the host
 * spent; the clock would instead charge a sandbox for every moment the host's thread was
 * descheduled, so on a busy machine ordinary URL parsing ended sandboxes with CpuLimitError.
 */
export function callService(state: ServiceState, service: unknown, args: unknown): [1, unknown] | [0, ServiceError] {
  const fn = typeof service === "string" ? syncServices.get(service) : undefined;
  if (fn === undefined) return [0, { name: "TypeError", message: `Unknown host service ${String(service).slice(0, 100)}.` }];
  const list = Array.isArray(args) ? args : [];
  const started = process.threadCpuUsage();
  try {
    return [1, fn(state, list)];
  } catch (error) {
    return [0, serviceError(error)];
  } finally {
    const used = process.threadCpuUsage(started);
    state.charge((used.user + used.system) * 1e3 + argumentBytes(list) * COPY_NS_PER_BYTE);
  }
}

export async function callAsyncService(state: ServiceState, service: unknown, args: unknown): Promise<unknown> {
  const fn = typeof service === "string" ? asyncServices.get(service) : undefined;
  if (fn === undefined) throw new TypeError(`Unknown host service ${String(service).slice(0, 100)}.`);
  try {
    return await fn(state, Array.isArray(args) ? args : []);
  } catch (error) {
    const { name, message } = serviceError(error);
    const copy = new Error(message);
    copy.name = name;
    throw copy;
  }
}

/** Checks a string argument of a service against a size bound. */
export function stringArg(value: unknown, what: string, maxChars: number): string {
  if (typeof value !== "string") throw new TypeError(`${what} must be a string.`);
  if (value.length > maxChars) throw new RangeError(`${what} is too long (at most ${maxChars} characters).`);
  return value;
}

/** Checks a bytes argument of a service against a size bound. */
export function bytesArg(value: unknown, what: string, maxBytes: number): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array.`);
  if (value.byteLength > maxBytes) throw new RangeError(`${what} is too large (at most ${maxBytes} bytes).`);
  return value;
}
