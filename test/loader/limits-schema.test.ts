// One rule for limits (src/protocol/limits.ts), held at every entry point: the loader's options,
// a WorkerCode, getEntrypoint (in all three isolation modes: process and thread carry limits over
// the shard protocol), the server's /v1/run body and code mode's executor accept and refuse exactly
// the same values, with the same messages.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { InvalidLimitsError, LimitError, SubrequestLimitError, WorkerCodeError, WorkerLoader, type WorkerCode } from "islet";
import { connect } from "islet/client";
import { createExecutor } from "islet/codemode";
import { js } from "../helpers.ts";
import { testServer, type TestServer } from "../server/helpers.ts";

const MS = "must be a positive number of milliseconds";
const OBJECT = 'must be an object like {"cpuMs": 100}';
const PER_CALL = "cannot be set per call: the heap is fixed when the isolate starts (set it on the loader or in the WorkerCode)";

interface Row {
  limits: unknown;
  /** Problems on the loader, a WorkerCode, the server, code mode; [] = accepted. */
  isolate: string[];
  /** Problems on getEntrypoint (no memoryMb per call); default: as isolate. */
  call?: string[];
  /** Whether the value survives JSON (the server's body is JSON). */
  json?: false;
}

const rows: Row[] = [
  { limits: {}, isolate: [] },
  { limits: { cpuMs: 1 }, isolate: [] },
  { limits: { cpuMs: 0.5, wallMs: 100 }, isolate: [] },
  // Not sent to the server: above its default ceiling of 30 s (a different refusal).
  { limits: { wallMs: 2 ** 31 - 1 }, isolate: [], json: false },
  { limits: { subRequests: 3 }, isolate: [] },
  { limits: { cpuMs: undefined, wallMs: 1_000 }, isolate: [] },
  { limits: { memoryMb: 8 }, isolate: [], call: [`limits.memoryMb: ${PER_CALL}`] },
  { limits: { memoryMb: 64.5 }, isolate: [], call: [`limits.memoryMb: ${PER_CALL}`] },
  { limits: { cpuMs: 0 }, isolate: [`limits.cpuMs: ${MS}, got 0`] },
  { limits: { wallMs: -0 }, isolate: [`limits.wallMs: ${MS}, got 0`], json: false },
  { limits: { wallMs: -1 }, isolate: [`limits.wallMs: ${MS}, got -1`] },
  { limits: { cpuMs: NaN }, isolate: [`limits.cpuMs: ${MS}, got NaN`], json: false },
  { limits: { wallMs: Infinity }, isolate: [`limits.wallMs: ${MS}, got Infinity`], json: false },
  { limits: { cpuMs: "5" }, isolate: [`limits.cpuMs: ${MS}, got "5"`] },
  { limits: { cpuMs: null }, isolate: [`limits.cpuMs: ${MS}, got null`] },
  { limits: { wallMs: 2 ** 31 }, isolate: [`limits.wallMs: must be at most 2147483647 (about 24.8 days), got 2147483648`] },
  { limits: { memoryMb: 7 }, isolate: ["limits.memoryMb: must be at least 8, got 7"], call: [`limits.memoryMb: ${PER_CALL}`] },
  { limits: { memoryMb: 0 }, isolate: ["limits.memoryMb: must be at least 8, got 0"], call: [`limits.memoryMb: ${PER_CALL}`] },
  { limits: { subRequests: 0 }, isolate: ["limits.subRequests: must be a positive integer, got 0"] },
  { limits: { subRequests: 2.5 }, isolate: ["limits.subRequests: must be a positive integer, got 2.5"] },
  {
    limits: { gpus: 1, cpuMs: 0 },
    isolate: [`limits.cpuMs: ${MS}, got 0`, "limits.gpus: unknown limit (known: cpuMs, memoryMb, wallMs, subRequests)"],
    call: [`limits.cpuMs: ${MS}, got 0`, "limits.gpus: unknown limit (known: cpuMs, wallMs, subRequests)"],
  },
  { limits: null, isolate: [`limits: ${OBJECT}, got null`] },
  { limits: 5, isolate: [`limits: ${OBJECT}, got 5`] },
  { limits: [], isolate: [`limits: ${OBJECT}, got an array`] },
];

const code = (limits: unknown): WorkerCode => ({ ...js(`export default { ping() { return "pong"; } };`), limits: limits as WorkerCode["limits"] });
const label = (row: Row) => JSON.stringify(row.limits, (_key, value) => (value === undefined ? "undefined" : typeof value === "number" && !Number.isFinite(value) ? String(value) : value));

/** Runs `fn`; the error it throws (or rejects with), or undefined. */
async function failure(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
    return undefined;
  } catch (error) {
    return error;
  }
}

function assertRefused(error: unknown, Class: new (...args: never[]) => Error, where: string, problems: string[], row: Row): void {
  assert.ok(error instanceof Class, `${label(row)}: expected ${Class.name}, got ${String(error)}`);
  assert.equal((error as Error).message, `${where}: ${problems.join("; ")}`, label(row));
}

function assertAccepted(error: unknown, row: Row): void {
  // A tiny cpuMs may end the call with a LimitError; anything else means the limits were refused.
  if (error !== undefined && !(error instanceof LimitError)) assert.fail(`${label(row)} was refused: ${String(error)}`);
}

for (const isolation of ["isolate", "thread", "process"] as const) {
  const modeOptions = isolation === "thread" ? { isolation, threads: 1 } : isolation === "process" ? { isolation, processes: 1 } : { isolation };

  describe(`limits, isolation "${isolation}"`, () => {
    let loader: WorkerLoader;
    before(() => {
      loader = new WorkerLoader(modeOptions);
    });
    after(() => loader.close());

    test("the WorkerLoader constructor", async () => {
      for (const row of rows) {
        let made: WorkerLoader | undefined;
        const error = await failure(() => (made = new WorkerLoader({ ...modeOptions, limits: row.limits as never })));
        await made?.close();
        if (row.isolate.length === 0) assertAccepted(error, row);
        else {
          assertRefused(error, InvalidLimitsError, "WorkerLoader", row.isolate, row);
          assert.deepEqual((error as InvalidLimitsError).problems, row.isolate);
        }
      }
    });

    test("a WorkerCode's limits", async () => {
      for (const row of rows) {
        const error = await failure(() => loader.load(code(row.limits)).getEntrypoint<{ ping(): string }>().ping());
        if (row.isolate.length === 0) assertAccepted(error, row);
        else assertRefused(error, WorkerCodeError, "WorkerCode", row.isolate, row);
      }
    });

    test("a loader's limits are its workers' ceilings, above the defaults too (they replaced only memoryMb)", async () => {
      const raised = new WorkerLoader({ ...modeOptions, limits: { subRequests: 1_200 } });
      try {
        const code = js(`export default { async calls(fn, n) { for (let i = 0; i < n; i++) await fn(); return "done"; } };`);
        const entrypoint = raised.load(code).getEntrypoint<{ calls(fn: () => number, n: number): string }>();
        assert.equal(await entrypoint.calls(() => 1, 1_100), "done");
        await assert.rejects(entrypoint.calls(() => 1, 1_201), SubrequestLimitError);
        // A WorkerCode and an entrypoint still only lower them.
        await assert.rejects(raised.load({ ...code, limits: { subRequests: 5_000 } }).getEntrypoint<{ calls(fn: () => number, n: number): string }>().calls(() => 1, 1_201), SubrequestLimitError);
      } finally {
        await raised.close();
      }
    });

    test("getEntrypoint's limits", async () => {
      const stub = loader.get("limits", () => code(undefined));
      for (const row of rows) {
        const problems = row.call ?? row.isolate;
        const error = await failure(() => stub.getEntrypoint<{ ping(): string }>(null, { limits: row.limits as never }).ping());
        if (problems.length === 0) assertAccepted(error, row);
        else {
          assertRefused(error, InvalidLimitsError, "getEntrypoint", problems, row);
          // Refused before anything is sent: synchronously, by getEntrypoint itself.
          assert.throws(() => stub.getEntrypoint(null, { limits: row.limits as never }), InvalidLimitsError);
        }
      }
    });
  });
}

describe("limits in the server and code mode", () => {
  let server: TestServer;
  before(async () => {
    server = await testServer();
  });
  after(() => server.close());

  test("the server's /v1/run body, over HTTP", async () => {
    for (const row of rows) {
      if (row.json === false) continue;
      const body: Record<string, unknown> = { code: `export default { run() { return "pong"; } };` };
      if (row.limits !== undefined) body.limits = row.limits;
      const { status, json } = await server.post("/v1/run", body);
      if (row.isolate.length === 0) assert.equal(status, 200, `${label(row)}: ${JSON.stringify(json)}`);
      else {
        assert.equal(status, 400, label(row));
        assert.equal(json.error.message, row.isolate.join("; "), label(row));
      }
    }
  });

  test("the server's /v1/rpc (islet/client): a worker's limits and getEntrypoint's", async () => {
    const remote = await connect(server.url.replace("http:", "ws:") + "/v1/rpc");
    try {
      const accepted = (error: unknown, row: Row) => {
        if (error !== undefined && !/LimitError$/.test((error as Error).name)) assert.fail(`${label(row)} was refused: ${String(error)}`);
      };
      const warm = remote.get("limits-rpc", { code: `export default { run() { return "pong"; } };` });
      for (const row of rows) {
        if (row.json === false) continue;
        const spec: Record<string, unknown> = { code: `export default { run() { return "pong"; } };` };
        if (row.limits !== undefined) spec.limits = row.limits;
        const worker = await failure(() => remote.load(spec as never).getEntrypoint<{ run(): string }>().run());
        if (row.isolate.length === 0) accepted(worker, row);
        else assert.equal((worker as Error).message, row.isolate.join("; "), label(row));
        const problems = (row.call ?? row.isolate).map((problem) => `options.${problem}`);
        const call = await failure(() => warm.getEntrypoint<{ run(): string }>(null, { limits: row.limits as never }).run());
        if (problems.length === 0) accepted(call, row);
        else assert.equal((call as Error).message, problems.join("; "), label(row));
      }
    } finally {
      remote.close();
    }
  });

  test("code mode's executor options", async () => {
    for (const row of rows) {
      let executor: ReturnType<typeof createExecutor> | undefined;
      const error = await failure(() => (executor = createExecutor({ limits: row.limits as never })));
      await executor?.close();
      if (row.isolate.length === 0) assertAccepted(error, row);
      else assertRefused(error, InvalidLimitsError, "codemode", row.isolate, row);
    }
  });
});
