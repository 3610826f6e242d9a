// findings7b/14: the client's own functions and RpcTargets that the server keeps for a session's
// sandboxes were outside the session's 20,000 objects (800,000 kept took 526 MiB), and a load()
// worker's env stubs stayed after it was evicted or disposed (1.2 million with 252 live workers).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "islet/client";
import { testServer, type TestServer } from "./helpers.ts";

const KEY = "rpc-budget-key-0123456789";

const KEEPER = `const keep = [];
  export default { keep(fns) { keep.push(...fns); return keep.length; }, async callOne(i) { return await keep[i](); } }`;
const PICKER = `import { WorkerEntrypoint } from "cloudflare:workers";
  export default class extends WorkerEntrypoint { async pick(i) { return await this.env.fns[i](); } }`;
const functions = (count: number) => Array.from({ length: count }, (_, j) => () => j);
const pastBudget = (error: Error) => error.name === "RangeError" && /20000/.test(error.message) && /functions and RpcTargets/.test(error.message);

describe("/v1/rpc: the client's functions a session's sandboxes keep count against its 20,000 objects", () => {
  let server: TestServer;
  before(async () => {
    server = await testServer({ apiKeys: [{ id: "budget", key: KEY }] });
  });
  after(async () => {
    await server.close();
  });

  test("passed as call arguments: past 20,000 the call is refused, and what the sandbox holds still works", { timeout: 30_000 }, async () => {
    const session = await connect(server.url, { apiKey: KEY });
    try {
      const entry = session.load({ code: KEEPER }).getEntrypoint();
      for (let kept = 5_000; kept <= 15_000; kept += 5_000) assert.equal(await entry.keep(functions(5_000)), kept);
      await assert.rejects(entry.keep(functions(5_000)), pastBudget);
      assert.equal(await entry.callOne(5_007), 7, "the functions it kept are still called");
    } finally {
      session.close();
    }
  });

  test("handed back by the sandbox: each time is an object the session holds", { timeout: 30_000 }, async () => {
    const session = await connect(server.url, { apiKey: KEY });
    try {
      const entry = session.load({
        code: `import { WorkerEntrypoint } from "cloudflare:workers";
          export default class extends WorkerEntrypoint { echo(n) { return Array.from({ length: n }, () => this.env.cb); } }`,
        env: { cb: () => "called back" },
      }).getEntrypoint();
      const [back] = (await entry.echo(1)) as (() => Promise<string>)[];
      assert.equal(await back(), "called back");
      // Before, 25,000 of them were exported to the client and kept, uncounted.
      for (let i = 0; i < 3; i++) await entry.echo(5_000);
      await assert.rejects(entry.echo(5_000), (error: Error) => error.name === "RangeError" && /holds 20000 objects, its limit/.test(error.message));
    } finally {
      session.close();
    }
  });

  test("in env: counted while the worker lives, released when dispose() ends it (load() and get() alike)", { timeout: 30_000 }, async () => {
    const session = await connect(server.url, { apiKey: KEY });
    try {
      const w1 = session.load({ code: PICKER, env: { fns: functions(8_000) } });
      assert.equal(await w1.getEntrypoint().pick(3), 3);
      const w2 = session.load({ code: PICKER, env: { fns: functions(8_000) } });
      assert.equal(await w2.getEntrypoint().pick(4), 4);
      await assert.rejects(session.load({ code: PICKER, env: { fns: functions(8_000) } }).getEntrypoint().pick(1), pastBudget);

      await w1.dispose();
      const w3 = session.load({ code: PICKER, env: { fns: functions(8_000) } });
      assert.equal(await w3.getEntrypoint().pick(5), 5, "w1's env went with it: room for another");
      assert.equal(await w2.getEntrypoint().pick(6), 6);
      // Its env is gone, so it cannot start again with it.
      await assert.rejects(w1.getEntrypoint().pick(1), (error: Error) => error.name === "WorkerDisposedError" && /disposed.*load\(\) it again/.test(error.message));
      await w2.dispose();
      await w3.dispose();

      // A named worker's env from getCode() goes with each isolate too: three starts of 8,000.
      let starts = 0;
      for (let round = 0; round < 3; round++) {
        const named = session.get("env-holder", () => (starts++, { code: PICKER, env: { fns: functions(8_000) } }));
        assert.equal(await named.getEntrypoint().pick(2), 2);
        await named.dispose();
      }
      assert.equal(starts, 3);
    } finally {
      session.close();
    }
  });
});

test("/v1/rpc: a load() worker evicted by its key's quota releases its env and ends; later calls say so", { timeout: 30_000 }, async () => {
  const server = await testServer({ apiKeys: [{ id: "one", key: KEY }], maxWorkersPerKey: 1 });
  const session = await connect(server.url, { apiKey: KEY });
  try {
    const w1 = session.load({ code: PICKER, env: { fns: functions(8_000) } });
    assert.equal(await w1.getEntrypoint().pick(1), 1);
    const w2 = session.load({ code: PICKER, env: { fns: functions(8_000) } });
    assert.equal(await w2.getEntrypoint().pick(2), 2, "evicts w1, the key's only other worker");
    // 24,000 if w1's env had stayed.
    const w3 = session.load({ code: PICKER, env: { fns: functions(8_000) } });
    assert.equal(await w3.getEntrypoint().pick(3), 3);
    await assert.rejects(w1.getEntrypoint().pick(1), (error: Error) => error.name === "WorkerDisposedError" && /evicted.*maxWorkersPerKey.*load\(\) it again/.test(error.message));
    // A worker whose env holds no client functions still starts again after an eviction.
    const counter = `let n = 0; export default { bump() { return ++n; } }`;
    const plain = session.load({ code: counter });
    assert.equal(await plain.getEntrypoint().bump(), 1);
    assert.equal(await plain.getEntrypoint().bump(), 2);
    assert.equal(await session.load({ code: counter }).getEntrypoint().bump(), 1);
    assert.equal(await plain.getEntrypoint().bump(), 1, "evicted, then started again");
  } finally {
    session.close();
    await server.close();
  }
});
