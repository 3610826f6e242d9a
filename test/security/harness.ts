// The adversarial suite's one rule: every attack is followed by proof that nothing else was hurt.
// Each file gets one loader and one long-lived neighbour worker; after every attack the host's
// event loop must turn, the neighbour must answer with its module state intact (its counter goes
// up by exactly one, so it was not restarted) and unpolluted globals, and the host's own
// prototypes and globals must be as they were when the file started.
//
// Every file runs in one isolation mode per process, named by ISLET_ISOLATION ("isolate", the
// default, "thread" or "process"); `npm test` (scripts/test.mjs) runs the suite once in each.
// Test names start with the mode, so a failure says where it happened.

import { test } from "node:test";
import assert from "node:assert/strict";
import { WorkerLoader, type WorkerCode, type WorkerLoaderOptions, type WorkerStub } from "islet";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { js, sleep } from "../helpers.ts";
import { inspectShard, processPoolOf, threadPoolOf } from "../../src/testing.ts";

export { js };

const NEIGHBOUR = js(`
  let calls = 0;
  export default {
    ping() { return ++calls; },
    fingerprint() {
      return {
        objectProto: Object.getOwnPropertyNames(Object.prototype).sort().join(),
        arrayProto: Object.getOwnPropertyNames(Array.prototype).sort().join(),
        promiseThen: Promise.prototype.then.name,
        json: JSON.parse('{"a":[1]}').a[0],
        polluted: [({}).polluted, [].polluted, (() => {}).polluted].join(),
        globals: Object.getOwnPropertyNames(globalThis).sort().join(),
        sharedArrayBuffer: typeof SharedArrayBuffer,
      };
    },
  };`);

function hostFingerprint(): Record<string, unknown> {
  return {
    objectProto: Object.getOwnPropertyNames(Object.prototype).sort().join(),
    arrayProto: Object.getOwnPropertyNames(Array.prototype).sort().join(),
    functionProto: Object.getOwnPropertyNames(Function.prototype).sort().join(),
    promiseThen: Promise.prototype.then,
    jsonParse: JSON.parse,
    prepareStackTrace: (Error as { prepareStackTrace?: unknown }).prepareStackTrace,
    polluted: [({} as Record<string, unknown>).polluted, ([] as unknown as Record<string, unknown>).polluted].join(),
    globals: Object.getOwnPropertyNames(globalThis).sort().join(),
  };
}

export type Isolation = "isolate" | "thread" | "process";

function isolationFromEnvironment(): Isolation {
  const value = process.env.ISLET_ISOLATION ?? "isolate";
  if (value !== "isolate" && value !== "thread" && value !== "process") throw new Error(`ISLET_ISOLATION must be "isolate", "thread" or "process", not ${JSON.stringify(value)}.`);
  return value;
}

/** The isolation mode this run of the adversarial suite attacks (ISLET_ISOLATION). */
export const ISOLATION: Isolation = isolationFromEnvironment();

/** WorkerLoader options for `isolation`: one shard, so that every worker shares it with the neighbour. */
export function isolationOptions(isolation: Isolation = ISOLATION): WorkerLoaderOptions {
  return isolation === "thread" ? { isolation, threads: 1 } : isolation === "process" ? { isolation, processes: 1 } : { isolation };
}

/** Why an attack does not run in a mode: a one-line reason per mode it skips. */
export type SkipIn = Partial<Record<Isolation, string>>;

export interface Suite {
  loader: WorkerLoader;
  /** The mode this suite's loader runs in. */
  isolation: Isolation;
  /** Options for another loader in the same mode (spread them first). */
  options: WorkerLoaderOptions;
  /**
   * Registers one attack: a test that runs `attack`, then checks that the host and the neighbour
   * still stand. `skip` names the modes where the attack cannot apply, each with its reason.
   */
  attack(name: string, attack: () => Promise<void> | void, skip?: SkipIn): void;
  /** A fresh worker with `source` as its main module; `extra` may add env, limits, outbound. */
  load(source: string, extra?: Partial<WorkerCode>): WorkerStub;
  /** Calls `method` on a fresh worker running `source`. */
  call(source: string, method: string, args?: unknown[], extra?: Partial<WorkerCode>): Promise<any>;
}

export function securitySuite(options: WorkerLoaderOptions = {}): Suite {
  const isolation: Isolation = options.isolation ?? ISOLATION;
  const modeOptions = isolationOptions(isolation);
  // wallMs 6 s in process isolation: its children run niced (src/loader/process/pool.ts), and beside
  // a CPU hog one got too little of a core to spend its 250 ms of CPU within 3 s (WallTimeLimitError
  // where CpuLimitError was asserted).
  const wallMs = isolation === "process" ? 6_000 : 3_000;
  const loader = new WorkerLoader({ ...modeOptions, ...options, limits: { cpuMs: 250, wallMs, memoryMb: 32, ...options.limits } });
  const neighbour = loader.get("neighbour", () => NEIGHBOUR);
  const hostBefore = hostFingerprint();
  let pings = 0;
  let neighbourBefore: unknown;

  test.before(async () => {
    pings = (await neighbour.getEntrypoint().ping()) as number;
    neighbourBefore = await neighbour.getEntrypoint().fingerprint();
  });
  test.after(() => loader.close());

  async function stillStanding(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await neighbour.getEntrypoint().ping(), ++pings, "the neighbour kept its state (it was not restarted)");
    assert.deepEqual(await neighbour.getEntrypoint().fingerprint(), neighbourBefore, "the neighbour's globals are untouched");
    assert.deepEqual(hostFingerprint(), hostBefore, "the host's prototypes and globals are untouched");
  }

  const load = (source: string, extra: Partial<WorkerCode> = {}) => loader.load(js(source, extra));
  return {
    loader,
    isolation,
    options: modeOptions,
    load,
    call: (source, method, args = [], extra = {}) => (load(source, extra).getEntrypoint() as any)[method](...args),
    attack(name, attack, skip = {}) {
      const titled = name.startsWith(`[${isolation}] `) ? name : `[${isolation}] ${name}`;
      const reason = skip[isolation];
      test(titled, reason === undefined ? {} : { skip: reason }, async () => {
        await attack();
        await stillStanding();
      });
    },
  };
}

/** Asserts that `promise` rejects with an instance of `Class` whose message matches `message`. */
export async function rejectsWith(promise: Promise<unknown>, Class: abstract new (...args: any[]) => Error, message?: RegExp): Promise<Error> {
  let error: unknown;
  await assert.rejects(promise, (e: unknown) => {
    error = e;
    return true;
  });
  assert.ok(error instanceof Class, `expected ${Class.name}, got ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`);
  if (message !== undefined) assert.match((error as Error).message, message);
  return error as Error;
}

/**
 * Bytes of JavaScript heap and array buffers still referenced on the host, plus the shard's (slot 0)
 * in thread and process isolation, after a full collection: what a sandbox made the host hold.
 */
export async function liveBytes(loader: WorkerLoader): Promise<number> {
  const pool = processPoolOf(loader) ?? threadPoolOf(loader);
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  for (let i = 0; i < 3; i++) {
    await sleep(20);
    gc();
  }
  const own = process.memoryUsage();
  if (pool === undefined) return own.heapUsed + own.arrayBuffers;
  const { memory } = (await inspectShard(pool, 0, { collect: true })) as { memory: NodeJS.MemoryUsage };
  return own.heapUsed + own.arrayBuffers + memory.heapUsed + memory.arrayBuffers;
}
