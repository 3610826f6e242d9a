// Named workers over /v1/rpc: what the server keeps per id once the sessions that asked for it
// ended (findings7b/17), and get(id, code) with the client's functions in env (findings7b/20).

import { test } from "node:test";
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { connect } from "islet/client";
import { namedWorkerIdsOf } from "../../src/testing.ts";
import { testServer } from "./helpers.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const KEY = "rpc-named-key-0123456789";

test("named ids asked for by a session that ended leave no record on the server (only its live workers')", { timeout: 30_000 }, async () => {
  const server = await testServer({ apiKeys: [{ id: "named", key: KEY }] });
  try {
    for (let round = 0; round < 2; round++) {
      const session = await connect(server.url, { apiKey: KEY });
      for (let i = 0; i < 1_000; i++) {
        const worker = session.get(`r${round}-${i}`, { code: `export default { hi() { return ${i}; } }` });
        if (i % 200 === 0) assert.equal(await worker.getEntrypoint().hi(), i);
      }
      session.close();
      await session.closed;
    }
    let ids = Infinity;
    for (let i = 0; i < 50 && ids > 10; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 20));
      ids = namedWorkerIdsOf(server.service.loader)!;
    }
    // The 10 workers that were called are still warm (they hold no session's callbacks); 2,000 before.
    assert.ok(ids <= 10, `${ids} named ids still have a record`);
  } finally {
    await server.close();
  }
});

test("get(id, { code, env }) with the client's functions in env calls them, also after the worker starts again", { timeout: 20_000 }, async () => {
  const server = await testServer({ apiKeys: [{ id: "named", key: KEY }] });
  const session = await connect(server.url, { apiKey: KEY });
  try {
    const code = `import { WorkerEntrypoint } from "cloudflare:workers";
      let starts = 0; starts++;
      export default class extends WorkerEntrypoint { async cb() { return (await this.env.cb()) + " " + starts; } }`;
    let calls = 0;
    const worker = session.get("with-env", { code, env: { cb: () => `called ${++calls}` } });
    assert.equal(await worker.getEntrypoint().cb(), "called 1 1");
    await worker.dispose();
    assert.equal(await worker.getEntrypoint().cb(), "called 2 1", "started again from the same code and env");
    const latest = session.get("with-env", { code, env: { cb: () => "latest" } });
    assert.equal(await latest.getEntrypoint().cb(), "called 3 1", "still warm: the same worker");
    await latest.dispose();
    assert.equal(await worker.getEntrypoint().cb(), "latest 1", "the latest get() wins on the next start");
  } finally {
    session.close();
    await server.close();
  }
});
