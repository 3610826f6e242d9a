// findings8/07: over /v1/rpc each get(id, { code }) kept its code on the server for as long as the
// session lasted, and the session's budget counted objects (20,000), not bytes: 1,000 stubs of
// 900 KB of code took a server to 1.09 GB. Now what a session keeps of its client's code, env and
// props is weighed, within MAX_KEPT_BYTES_PER_SESSION (32 MiB), and an id keeps only its latest code.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { connect, type RemoteLoader } from "islet/client";
import { MAX_KEPT_BYTES_PER_SESSION } from "../../src/server/rpc-budget.ts";
import { testServer, type TestServer } from "./helpers.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const KEY = "rpc-kept-key-0123456789";
const PAD = "x".repeat(600_000);
const code = (i: number) => ({ code: `export default { run() { return ${i}; } } // ${PAD}` });
// 32 MiB of 600 KB sources: 55 fit.
const FITTING = Math.floor(MAX_KEPT_BYTES_PER_SESSION / 600_100);
const pastBytes = (error: Error) => error.name === "RangeError" && /keeps \d+ bytes of its client's code, env and props, and .* would add \d+: past its limit of 33554432 bytes/.test(error.message);

/** The server's live heap (it runs in this process), after a full collection. */
async function liveHeap(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return process.memoryUsage().heapUsed;
}

describe("/v1/rpc: the bytes a session keeps for its client are bounded", () => {
  let server: TestServer;
  before(async () => {
    server = await testServer({ apiKeys: [{ id: "kept", key: KEY }] });
  });
  after(async () => {
    await server.close();
  });

  async function withSession(run: (session: RemoteLoader) => Promise<void>): Promise<void> {
    const session = await connect(server.url, { apiKey: KEY });
    try {
      await run(session);
    } finally {
      session.close();
      await session.closed;
    }
  }

  test("get(id, { code }) for new ids: refused past 32 MiB of code, and the server's heap grows by no more", { timeout: 120_000 }, async () => {
    const heapBefore = await liveHeap();
    await withSession(async (session) => {
      const held = [];
      for (let i = 0; i < FITTING; i++) held.push(session.get(`id-${i}`, code(i)));
      assert.equal(await held[FITTING - 1].getEntrypoint().run(), FITTING - 1);
      // Before: every one was kept (1,000 of 900 KB took 1.09 GB). And a refused one must not be
      // kept either: its error's stack held the call's arguments while the client held its stub.
      for (let i = FITTING; i < FITTING + 80; i++) await assert.rejects(session.get(`id-${i}`, code(i)).getEntrypoint().run(), pastBytes);
      const grown = (await liveHeap()) - heapBefore;
      assert.ok(grown < MAX_KEPT_BYTES_PER_SESSION + 16 * 1024 * 1024, `the server's heap grew by ${(grown / 2 ** 20).toFixed(0)} MiB`);
      // What was kept still works.
      assert.equal(await held[3].getEntrypoint().run(), 3);
    });
    // A session's sources go with it: a new session has the room again.
    await withSession(async (session) => {
      assert.equal(await session.get("after", code(7)).getEntrypoint().run(), 7);
    });
  });

  test("get() of one id again and again keeps its latest code only: no refusal", { timeout: 120_000 }, async () => {
    await withSession(async (session) => {
      let last;
      for (let i = 0; i < FITTING + 20; i++) last = session.get("same-id", code(i));
      // The worker started from the code of the latest get() before the first call.
      assert.equal(await last!.getEntrypoint().run(), FITTING + 19);
    });
  });

  test("load() code and getEntrypoint() props count in the same budget", { timeout: 120_000 }, async () => {
    await withSession(async (session) => {
      const loaded = [];
      for (let i = 0; i < FITTING; i++) loaded.push(session.load(code(i)));
      assert.equal(await loaded[FITTING - 1].getEntrypoint().run(), FITTING - 1);
      // Before: 1 KB of ids and 600 KB of code each, kept until the session ended.
      await assert.rejects(session.load(code(99)).getEntrypoint().run(), pastBytes);
      await assert.rejects(session.get("one-more", code(99)).getEntrypoint().run(), pastBytes);
    });
    await withSession(async (session) => {
      const worker = session.load({ code: `import { WorkerEntrypoint } from "cloudflare:workers"; export default class extends WorkerEntrypoint { size() { return this.ctx.props.pad.length; } }` });
      for (let i = 0; i < FITTING; i++) assert.equal(await worker.getEntrypoint(undefined, { props: { pad: PAD, i } }).size(), PAD.length);
      await assert.rejects(worker.getEntrypoint(undefined, { props: { pad: PAD } }).size(), pastBytes);
    });
  });
});
