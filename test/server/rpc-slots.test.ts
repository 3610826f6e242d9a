// Call slots over /v1/rpc: a client whose getCode never answers must not hold server slots for as
// long as its socket stays open, and one key must not be able to take every slot from the others.
// Two keys, real WebSockets (islet/client), a real server on a loopback port.

import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "../../src/client/index.ts";
import { resolveOptions } from "../../src/server/index.ts";
import { testServer, type TestServer } from "./helpers.ts";

const KEY_A = "slots-key-a-0123456789";
const KEY_B = "slots-key-b-0123456789";

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`never: ${what}`);
}

test("per-key concurrency defaults to half the global cap (at least 1) when the server has keys; explicit settings win", () => {
  assert.equal(resolveOptions({ maxInFlight: 16, apiKeys: [{ id: "a", key: KEY_A }] }).maxConcurrencyPerKey, 8);
  assert.equal(resolveOptions({ maxInFlight: 4, apiKeys: [{ id: "a", key: KEY_A }] }).maxConcurrencyPerKey, 2);
  assert.equal(resolveOptions({ maxInFlight: 1, apiKeys: [{ id: "a", key: KEY_A }] }).maxConcurrencyPerKey, 1);
  assert.equal(resolveOptions({ maxInFlight: 16, maxConcurrencyPerKey: 12, apiKeys: [{ id: "a", key: KEY_A }] }).maxConcurrencyPerKey, 12);
  // Without keys there is one caller: it may use every slot.
  assert.equal(resolveOptions({ maxInFlight: 4 }).maxConcurrencyPerKey, 4);
});

test("one key with getCode callbacks that never answer holds at most its share of slots, for at most getCodeTimeoutMs; the other key keeps running", { timeout: 20_000 }, async () => {
  let server: TestServer | undefined;
  server = await testServer({ apiKeys: [{ id: "a", key: KEY_A }, { id: "b", key: KEY_B }], maxInFlight: 4, getCodeTimeoutMs: 500 });
  const url = server.url.replace("http:", "ws:") + "/v1/rpc";
  const a = await connect(url, { apiKey: KEY_A });
  const b = await connect(url, { apiKey: KEY_B });
  try {
    const never = () => new Promise<never>(() => {});
    const started = performance.now();
    const hanging = Array.from({ length: 4 }, (_, i) =>
      a
        .get(`hang-${i}`, never)
        .getEntrypoint()
        .run()
        .then(
          () => "answered",
          (error: Error) => error,
        ),
    );
    await until(() => server!.service.inFlight >= 2, "key a holds two slots");
    // Key b gets a slot while key a's getCode callbacks hang.
    const worker = b.load({ code: `export default { run() { return "b runs"; } }` });
    assert.equal(await worker.getEntrypoint().run(), "b runs");
    const outcomes = await Promise.all(hanging);
    const refused = outcomes.filter((o) => o instanceof Error && /already has 2 calls in flight/.test(o.message));
    const timedOut = outcomes.filter((o) => o instanceof Error && o.name === "GetCodeTimeoutError");
    assert.equal(refused.length, 2, `key a's calls beyond its share are refused: ${outcomes.map(String).join(" | ")}`);
    assert.equal(timedOut.length, 2, `the two admitted calls end with GetCodeTimeoutError: ${outcomes.map(String).join(" | ")}`);
    assert.match((timedOut[0] as Error).message, /getCode\(\) for the worker "hang-\d" did not answer within 500 ms/);
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 5_000, `the slots were held ${Math.round(elapsed)} ms`);
    assert.equal(server.service.inFlight, 0, "every slot is free again while the socket stays open");
    // The same key works again, and a getCode that answers in time is unaffected.
    assert.equal(await a.get("fine", async () => ({ code: `export default { run() { return "a runs"; } }` })).getEntrypoint().run(), "a runs");
  } finally {
    a.close();
    b.close();
    await server.close();
  }
});
