// findings8/02: the server writes a sandbox's result as JSON (/v1/run, /v1/codemode/execute) or as
// a Cap'n Web message (/v1/rpc) on its own event loop, and the writing was unbounded: a sparse
// array of length 2^32 − 1 (a few bytes in the sandbox) held the loop for minutes, a 120 MB
// Uint8Array became 240 MB of JSON and 11 s of a blocked loop. Now what is written is counted,
// within maxResultBytes (32 MiB by default), and a result past it is answered with a RangeError.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { connect } from "islet/client";
import { OutputBudget, toJson } from "../../src/server/json-value.ts";
import { testServer, type TestServer } from "./helpers.ts";

const KEY = "result-budget-key-0123456789";
const auth = { authorization: `Bearer ${KEY}` };
const SMALL = 256 * 1024;
const pastBudget = (limit: number, as = "as JSON") => (error: { name: string; message: string }) =>
  error.name === "RangeError" && error.message.startsWith(`The result is more than ${limit} bytes ${as}, this server's limit (maxResultBytes)`);

const SPARSE = (length: string) => `const a = []; a[7] = 1; a.length = ${length}; return a;`;

test("toJson counts an array's length, not its elements: a sparse array of length 2^32 − 1 is refused before any walk", () => {
  const sparse: unknown[] = [];
  sparse[7] = 1;
  sparse.length = 2 ** 22;
  const started = performance.now();
  // Before: value.map visited every index (2^32 − 1 of them held the server for minutes; 2^22 here).
  assert.throws(() => toJson(sparse, new OutputBudget(1024 * 1024)), pastBudget(1024 * 1024));
  sparse.length = 2 ** 32 - 1;
  assert.throws(() => toJson(sparse), pastBudget(32 * 1024 * 1024));
  assert.ok(performance.now() - started < 100, "refused at once");
  // Within the budget the mapping is the same as before: holes are null.
  assert.deepEqual(toJson([1, , 3]), [1, null, 3]);
});

// findings11/02: strings were counted by length, and JSON writes a control character as \u0001
// (33 M of them passed 32 MiB and came out as 198 MB); findings11/01: a BigInt of 64 M bits was
// turned into 19.3 MB of digits in one uninterruptible call (13.2 s with every route held).
test("toJson counts JSON's escapes, in values and keys, and refuses a BigInt of more than a million digits before converting it", () => {
  const budget = 1024 * 1024;
  assert.throws(() => toJson("\x01".repeat(300_000), new OutputBudget(budget)), pastBudget(budget));
  assert.throws(() => toJson({ ["\x01".repeat(300_000)]: 1 }, new OutputBudget(budget)), pastBudget(budget));
  assert.equal(toJson("x".repeat(300_000), new OutputBudget(budget)), "x".repeat(300_000));
  assert.equal(toJson("😀 and \"quotes\""), "😀 and \"quotes\"");
  const started = performance.now();
  assert.throws(() => toJson((1n << 64_000_000n) - 1n), (error: Error) => error.name === "RangeError" && /BigInts have about \d+ decimal digits together/.test(error.message));
  assert.ok(performance.now() - started < 1_000, "refused without converting");
  assert.equal(toJson(2n ** 64n), "18446744073709551616");
  // findings12/01: the million digits are for one result's BigInts together, not each.
  assert.throws(() => toJson(Array(30).fill((1n << 3_321_000n) - 1n)), (error: Error) => error.name === "RangeError" && /BigInts have about \d+ decimal digits together/.test(error.message));
  assert.deepEqual(toJson([2n ** 64n, 3n]), ["18446744073709551616", "3"]);
});

test("toJson writes each reference to a shared array again, counted: a value of 31 arrays that is 2^30 arrays as JSON is refused", () => {
  let shared: unknown = [1];
  for (let i = 0; i < 30; i++) shared = [shared, shared];
  const started = performance.now();
  assert.throws(() => toJson(shared, new OutputBudget(1024 * 1024)), pastBudget(1024 * 1024));
  assert.throws(() => toJson(shared), (error: Error) => error.name === "RangeError" && /more than 1000000 objects and arrays as JSON/.test(error.message));
  assert.ok(performance.now() - started < 5_000);
});

describe("results past maxResultBytes are a RangeError in the answer", () => {
  let server: TestServer;
  before(async () => {
    server = await testServer({ apiKeys: [{ id: "budget", key: KEY }], maxResultBytes: SMALL });
  });
  after(async () => {
    await server.close();
  });

  // findings12/02: the body was capped in bytes, then written as JSON text with an escape per byte.
  test("/v1/run: a response body whose JSON escapes would pass maxResultBytes is answered as base64", async () => {
    const { json } = await server.post("/v1/run", { code: `export default { fetch() { return new Response(new Uint8Array(100_000).fill(1)); } }`, request: { url: "https://x.test/" } }, auth);
    assert.equal(json.error, undefined, JSON.stringify(json.error));
    assert.equal(json.response.bodyEncoding, "base64");
    assert.deepEqual(Buffer.from(json.response.body, "base64"), Buffer.alloc(100_000, 1));
    // findings13/01: base64 is 4/3 of the bytes; a body whose base64 passes the budget is refused.
    const binary = await server.post("/v1/run", { code: `export default { fetch() { return new Response(new Uint8Array(${Math.floor(SMALL * 0.9)}).fill(255)); } }`, request: { url: "https://x.test/" } }, auth);
    assert.match(binary.json.error?.message ?? "", /more than \d+ bytes as base64/);
    const plain = await server.post("/v1/run", { code: `export default { fetch() { return new Response("hello"); } }`, request: { url: "https://x.test/" } }, auth);
    assert.deepEqual([plain.json.response.body, plain.json.response.bodyEncoding], ["hello", undefined]);
  });

  test("/v1/run: a sparse array, a typed array and a big plain array; what fits is answered as before", async () => {
    for (const body of [SPARSE("200_000"), "return new Uint8Array(100_000).fill(100);", "return Array.from({ length: 30_000 }, (_, i) => ({ i }));"]) {
      const { status, json } = await server.post("/v1/run", { code: `export default { run() { ${body} } }`, limits: { memoryMb: 16 } }, auth);
      assert.equal(status, 200);
      assert.ok(pastBudget(SMALL)(json.error), JSON.stringify(json.error));
      assert.equal(json.result, undefined);
      // The worker itself did fine: its outcome says so.
      assert.equal(json.outcome, "ok");
    }
    const fits = await server.post("/v1/run", { code: `export default { run() { return { bytes: new Uint8Array([1, 2, 255]), holes: [1, , 3], n: 2n ** 70n }; } }` }, auth);
    assert.deepEqual(fits.json.result, { bytes: [1, 2, 255], holes: [1, null, 3], n: "1180591620717411303424" });
    assert.equal(fits.json.error, undefined);
  });

  test("/v1/run: a worker's logs have their own budget; a log past it is cut, the result still answered", async () => {
    const { json } = await server.post("/v1/run", { code: `export default { run() { console.log(new Uint8Array(200_000)); console.log("after"); return 1; } }` }, auth);
    assert.equal(json.result, 1);
    assert.match(json.logs[0].message[0], /^\[islet: log cut: The result is more than 262144 bytes as JSON/);
    assert.deepEqual(json.logs[1].message, ["after"]);
  });

  test("/v1/rpc: a sparse array and a typed array are refused as the Cap'n Web message they would be", async () => {
    const session = await connect(server.url, { apiKey: KEY });
    try {
      const entry = session.load({ code: `export default { sparse() { ${SPARSE("200_000")} }, bytes() { return new Uint8Array(300_000); }, fits() { return [new Uint8Array([1, 2]), [1, , 3]]; } }` }).getEntrypoint();
      await assert.rejects(entry.sparse(), pastBudget(SMALL, "as a Cap'n Web message"));
      await assert.rejects(entry.bytes(), pastBudget(SMALL, "as a Cap'n Web message"));
      const [bytes, holes] = (await entry.fits()) as [Uint8Array, unknown[]];
      assert.deepEqual([...bytes], [1, 2]);
      assert.deepEqual(holes, [1, undefined, 3]);
    } finally {
      session.close();
    }
  });

  test("/v1/rpc: a sandbox's functions in a refused result are not left counted against the session", async () => {
    const session = await connect(server.url, { apiKey: KEY });
    try {
      const entry = session.load({ code: `export default { many() { const f = () => 1; const out = Array.from({ length: 5_000 }, () => f); out.push(new Uint8Array(300_000)); return out; }, one() { return () => 2; } }` }).getEntrypoint();
      // Each refused answer had exported 5,000 functions; before they were released, 4 of them filled the session's 20,000.
      for (let i = 0; i < 5; i++) await assert.rejects(entry.many(), pastBudget(SMALL, "as a Cap'n Web message"));
      assert.equal(await ((await entry.one()) as () => Promise<number>)(), 2);
    } finally {
      session.close();
    }
  });
});

describe("with the default maxResultBytes (32 MiB)", () => {
  let server: TestServer;
  before(async () => {
    server = await testServer({ apiKeys: [{ id: "budget", key: KEY }] });
  });
  after(async () => {
    await server.close();
  });

  test("/v1/run: a 20 MB Uint8Array (40 MB as JSON) is refused without holding the server's event loop", { timeout: 60_000 }, async () => {
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const { status, json } = await server.post("/v1/run", { code: `export default { run() { return new Uint8Array(20_000_000).fill(7); } }` }, auth);
    delay.disable();
    assert.equal(status, 200);
    assert.ok(pastBudget(32 * 1024 * 1024)(json.error), JSON.stringify(json.error));
    // Before: a 20-million-element array and 40 MB of JSON, the loop held for seconds.
    const longestMs = delay.max / 1e6;
    assert.ok(longestMs < 1_500, `the event loop was held ${longestMs.toFixed(0)} ms`);
  });

  test("/v1/run: a fetch handler's body streamed without end is cut off at maxResultBytes, not gathered until the wall limit", { timeout: 60_000 }, async () => {
    const started = performance.now();
    const { status, json } = await server.post(
      "/v1/run",
      {
        code: `export default { fetch() { const chunk = new Uint8Array(65536).fill(65); return new Response(new ReadableStream({ pull(c) { c.enqueue(chunk); } })); } }`,
        request: { url: "https://x.test/" },
        limits: { wallMs: 5_000 },
      },
      auth,
    );
    assert.equal(status, 200);
    // Before: the server gathered the body until the worker's wall limit (2.4 GB in 8 s), then answered WallTimeLimitError.
    assert.equal(json.error?.name, "RangeError", JSON.stringify(json.error));
    assert.match(json.error.message, /^The response body is more than 33554432 bytes, this server's limit \(maxResultBytes\)/);
    assert.equal(json.response, undefined);
    assert.ok(performance.now() - started < 5_000);
  });
});
