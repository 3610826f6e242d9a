// The per-key quota of live workers (maxWorkersPerKey): one key's new workers evict only that key's
// own least recently used ones, never another key's warm workers (the December review's
// findings/08: bob's 520 named workers evicted alice's counter through the shared maxWorkers LRU).
// Real servers on loopback ports, real HTTP and real WebSockets (islet/client), small caps.

import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "../../src/client/index.ts";
import { resolveOptions, ServerConfigError } from "../../src/server/index.ts";
import { testServer } from "./helpers.ts";

const KEY_A = "quota-key-a-0123456789";
const KEY_B = "quota-key-b-0123456789";
const COUNTER = "let n = 0; export default { run() { return ++n; } }";
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

test("another key's many workers (over /v1/run and /v1/rpc) do not evict a key's warm worker; the global cap holds", { timeout: 30_000 }, async () => {
  // maxWorkers 6 split between two keys: 3 each. Before the quota, key b's workers pushed key a's
  // counter out of the shared LRU and its next call started from scratch (1).
  const server = await testServer({ apiKeys: [{ id: "a", key: KEY_A }, { id: "b", key: KEY_B }], loader: { maxWorkers: 6 } });
  const client = await connect(server.url.replace("http:", "ws:") + "/v1/rpc", { apiKey: KEY_B });
  try {
    const alice = async () => {
      const answer = await server.post("/v1/run", { id: "victim", code: COUNTER, method: "run" }, bearer(KEY_A));
      assert.equal(answer.status, 200, JSON.stringify(answer.json));
      return answer.json.result;
    };
    assert.equal(await alice(), 1);
    assert.equal(await alice(), 2);
    for (let i = 0; i < 12; i++) {
      const answer = await server.post("/v1/run", { id: `b${i}`, code: COUNTER, method: "run" }, bearer(KEY_B));
      assert.equal(answer.status, 200, JSON.stringify(answer.json));
      assert.equal(answer.json.result, 1);
      assert.ok(server.service.loader.stats.liveWorkers <= 6, `live workers ${server.service.loader.stats.liveWorkers}`);
    }
    for (let i = 0; i < 6; i++) {
      assert.equal(await client.get(`r${i}`, { code: COUNTER }).getEntrypoint().run(), 1);
      assert.equal(await client.load({ code: COUNTER }).getEntrypoint().run(), 1);
      assert.ok(server.service.loader.stats.liveWorkers <= 6, `live workers ${server.service.loader.stats.liveWorkers}`);
    }
    assert.equal(await alice(), 3, "key a's worker stayed warm: its module state survived key b's 24 workers");
    assert.equal(server.service.options.maxWorkersPerKey, 3, "maxWorkers 6 split between two keys");
  } finally {
    client.close();
    await server.close();
  }
});

test("a key past its quota evicts its own least recently used worker and gets no error: the oldest's state is lost, the newest's kept", { timeout: 30_000 }, async () => {
  const server = await testServer({ apiKeys: [{ id: "a", key: KEY_A }, { id: "b", key: KEY_B }], maxWorkersPerKey: 3, loader: { maxWorkers: 20 } });
  const run = async (key: string, id: string) => {
    const answer = await server.post("/v1/run", { id, code: COUNTER, method: "run" }, bearer(key));
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.equal(answer.json.error, undefined, JSON.stringify(answer.json));
    return answer.json.result;
  };
  try {
    assert.equal(await run(KEY_B, "other"), 1);
    assert.equal(await run(KEY_B, "other"), 2);
    for (const id of ["w0", "w1", "w2"]) assert.equal(await run(KEY_A, id), 1);
    assert.equal(await run(KEY_A, "w0"), 2, "w0 is warm and now the most recently used");
    assert.equal(server.service.loader.stats.liveWorkers, 4);
    // A fourth worker: key a's least recently used (w1) goes, not key b's worker.
    assert.equal(await run(KEY_A, "w3"), 1);
    assert.equal(server.service.loader.stats.liveWorkers, 4, "key a still holds 3 live workers, key b 1");
    assert.equal(await run(KEY_A, "w3"), 2, "the newest keeps its state");
    assert.equal(await run(KEY_A, "w0"), 3, "the recently used one keeps its state");
    assert.equal(await run(KEY_B, "other"), 3, "the other key's worker was not touched");
    // w1 was evicted: it starts again from scratch (and pushes out key a's now oldest, w2).
    assert.equal(await run(KEY_A, "w1"), 1, "the least recently used lost its state");
    assert.equal(await run(KEY_A, "w2"), 1, "w2 was the oldest when w1 came back");
    assert.equal(server.service.loader.stats.liveWorkers, 4);
    // A one-shot call (no id) counts too while it runs: it took the room of key a's oldest (w0),
    // and leaves nothing behind.
    assert.equal((await server.post("/v1/run", { code: COUNTER, method: "run" }, bearer(KEY_A))).json.result, 1);
    assert.equal(server.service.loader.stats.liveWorkers, 3);
    assert.equal(await run(KEY_A, "w2"), 2);
    assert.equal(await run(KEY_A, "w0"), 1, "w0 made room for the one-shot call");
    assert.equal(await run(KEY_B, "other"), 4);
  } finally {
    await server.close();
  }
});

test("a /v1/rpc worker the client disposes, or whose session closes, no longer counts against its key's quota", { timeout: 30_000 }, async () => {
  const server = await testServer({ apiKeys: [{ id: "a", key: KEY_A }], maxWorkersPerKey: 2, loader: { maxWorkers: 10 } });
  const run = async (id: string) => (await server.post("/v1/run", { id, code: COUNTER, method: "run" }, bearer(KEY_A))).json.result;
  try {
    assert.equal(await run("keep"), 1);
    const client = await connect(server.url.replace("http:", "ws:") + "/v1/rpc", { apiKey: KEY_A });
    const first = client.load({ code: COUNTER });
    assert.equal(await first.getEntrypoint().run(), 1);
    await first.dispose();
    // Had the disposed worker still counted, this one would have evicted "keep" (then the oldest).
    const second = client.load({ code: COUNTER });
    assert.equal(await second.getEntrypoint().run(), 1);
    assert.equal(await run("keep"), 2);
    // "keep" is key a's least recently used again when the session closes.
    assert.equal(await second.getEntrypoint().run(), 2);
    client.close();
    for (let i = 0; i < 200 && server.service.loader.stats.liveWorkers > 1; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(server.service.loader.stats.liveWorkers, 1, "the session's load() worker ended with it");
    assert.equal(await run("other"), 1);
    assert.equal(await run("keep"), 3, "the closed session's worker left room: nothing of key a was evicted");
  } finally {
    await server.close();
  }
});

test("a key whose every worker is in a call gets 429 for one more instead of going past its quota", { timeout: 30_000 }, async () => {
  const server = await testServer({ apiKeys: [{ id: "a", key: KEY_A }], maxWorkersPerKey: 2, maxConcurrencyPerKey: 4, loader: { maxWorkers: 10 } });
  try {
    const slow = `export default { async run() { await scheduler.wait(400); return "done"; } }`;
    const held = [server.post("/v1/run", { id: "s0", code: slow, method: "run" }, bearer(KEY_A)), server.post("/v1/run", { id: "s1", code: slow, method: "run" }, bearer(KEY_A))];
    await new Promise((resolve) => setTimeout(resolve, 150));
    const refused = await server.post("/v1/run", { id: "s2", code: slow, method: "run" }, bearer(KEY_A));
    assert.equal(refused.status, 429);
    assert.match(refused.json.error.message, /The API key "a" holds 2 live workers, its limit \(maxWorkersPerKey\), and every one is in a call/);
    assert.equal(refused.headers.get("retry-after"), "1");
    for (const answer of await Promise.all(held)) assert.equal(answer.json.result, "done");
    assert.equal((await server.post("/v1/run", { id: "s2", code: slow, method: "run" }, bearer(KEY_A))).json.result, "done", "once one is idle it makes room");
  } finally {
    await server.close();
  }
});

test("maxWorkersPerKey: a positive integer at most loader.maxWorkers; default the global cap split between the keys, none without keys", () => {
  const keys = [{ id: "a", key: KEY_A }, { id: "b", key: KEY_B }];
  assert.equal(resolveOptions({ apiKeys: keys }).maxWorkersPerKey, 250);
  assert.equal(resolveOptions({ apiKeys: keys, loader: { maxWorkers: 7 } }).maxWorkersPerKey, 3);
  assert.equal(resolveOptions({ apiKeys: [{ id: "a", key: KEY_A }], loader: { maxWorkers: 7 } }).maxWorkersPerKey, 7);
  const many = Array.from({ length: 12 }, (_, i) => ({ id: `k${i}`, key: `quota-many-${i}-0123456789` }));
  assert.equal(resolveOptions({ apiKeys: many, loader: { maxWorkers: 10 } }).maxWorkersPerKey, 1, "at least 1");
  assert.equal(resolveOptions({ apiKeys: keys, maxWorkersPerKey: 40 }).maxWorkersPerKey, 40, "an explicit setting wins");
  assert.equal(resolveOptions({}).maxWorkersPerKey, undefined, "without keys: no quota, the loader's LRU as before");
  assert.equal(resolveOptions({ maxWorkersPerKey: 5 }).maxWorkersPerKey, 5, "set explicitly, it applies to the keyless caller too");
  for (const bad of [0, -1, 2.5, "10", null]) {
    assert.throws(() => resolveOptions({ apiKeys: keys, maxWorkersPerKey: bad as never }), (error: Error) => {
      assert.ok(error instanceof ServerConfigError, String(error));
      assert.match(error.message, /^maxWorkersPerKey: /);
      return true;
    });
  }
  assert.throws(() => resolveOptions({ apiKeys: keys, maxWorkersPerKey: 11, loader: { maxWorkers: 10 } }), /^ServerConfigError: maxWorkersPerKey: must be at most loader.maxWorkers \(10\), got 11$|maxWorkersPerKey: must be at most loader.maxWorkers \(10\), got 11/);
  assert.throws(() => resolveOptions({ apiKeys: keys, maxWorkersPerKey: 501 }), /maxWorkersPerKey: must be at most loader.maxWorkers \(500\)/);
});
