// Durable Objects over `islet serve`: /v1/run with `object: { namespace, id, class }` — an object per
// (key, namespace, id) with its own database, its RPC methods and fetch, data surviving a restart
// of the server, keys never reaching each other's objects, new code taking over the same data.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testServer } from "./helpers.ts";
import { COUNTER } from "./processes.ts";
import { connect } from "islet/client";


const call = (namespace: string, id: string, method: string, args: unknown[], code = COUNTER) => ({ code, object: { namespace, id, class: "Counter" }, method, args });

test("objects over /v1/run: RPC and fetch, one database per (key, namespace, id), kept across a server restart; keys are apart; new code keeps the data", async () => {
  const dir = mkdtempSync(join(tmpdir(), "islet-serve-objects-"));
  const keys = [
    { id: "alice", key: "alice-key-123" },
    { id: "bob", key: "bob-key-4567" },
  ];
  const auth = (key: string) => ({ authorization: `Bearer ${key}` });
  let server = await testServer({ apiKeys: keys, storage: { dir } });
  try {
    assert.equal((await server.post("/v1/run", call("counters", "a", "add", [2]), auth("alice-key-123"))).json.result, 2);
    const second = await server.post("/v1/run", call("counters", "a", "add", [3]), auth("alice-key-123"));
    assert.equal(second.status, 200, JSON.stringify(second.json));
    assert.equal(second.json.result, 5);
    // Another id, another namespace, another key: each its own database.
    assert.equal((await server.post("/v1/run", call("counters", "b", "add", [1]), auth("alice-key-123"))).json.result, 1);
    assert.equal((await server.post("/v1/run", call("other", "a", "add", [1]), auth("alice-key-123"))).json.result, 1);
    assert.equal((await server.post("/v1/run", call("counters", "a", "add", [10]), auth("bob-key-4567"))).json.result, 10);
    const fetched = await server.post("/v1/run", { code: COUNTER, object: { namespace: "counters", id: "a", class: "Counter" }, request: { url: "https://object/x" } }, auth("alice-key-123"));
    assert.deepEqual([fetched.json.response?.status, fetched.json.response?.body], [200, "count 2 at /x"]);

    // A restart: the data is on disk.
    await server.close();
    server = await testServer({ apiKeys: keys, storage: { dir } });
    assert.equal((await server.post("/v1/run", call("counters", "a", "add", [1]), auth("alice-key-123"))).json.result, 6);

    // New code for the same object takes over its data.
    const doubled = COUNTER.replace("INSERT INTO c VALUES (?)\", n", "INSERT INTO c VALUES (?)\", n * 2");
    assert.equal((await server.post("/v1/run", call("counters", "a", "add", [1], doubled), auth("alice-key-123"))).json.result, 8);

    // Bad addresses are 400s naming the field.
    const bad = await server.post("/v1/run", { code: COUNTER, object: { namespace: "../x", id: "a", class: "Counter" }, method: "add", args: [1] }, auth("alice-key-123"));
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.json), /object\.namespace/);
    const missing = await server.post("/v1/run", { code: COUNTER, object: { namespace: "n", id: "a", class: "Nope" }, method: "add", args: [1] }, auth("alice-key-123"));
    assert.equal(missing.status, 200);
    assert.match(missing.json.error?.message ?? "", /Nope/);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("objects through islet/client: loader.object(address, code) calls the same object /v1/run does; an env with the client's functions is refused", async () => {
  const server = await testServer({ apiKeys: [{ id: "alice", key: "alice-key-123" }] });
  const client = await connect(server.url, { apiKey: "alice-key-123" });
  try {
    const counter = client.object<{ add(n: number): number }>({ namespace: "counters", id: "a", class: "Counter" }, { code: COUNTER });
    assert.equal(await counter.add(2), 2);
    assert.equal(await counter.add(3), 5);
    assert.equal((await server.post("/v1/run", call("counters", "a", "add", [1]), { authorization: "Bearer alice-key-123" })).json.result, 6);
    const response = await counter.fetch("https://object/here");
    assert.equal(await response.text(), "count 3 at /here");
    const withCallback = client.object({ namespace: "counters", id: "b", class: "Counter" }, { code: COUNTER, env: { log: () => {} } }) as any;
    await assert.rejects(withCallback.add(1), /plain data/);
  } finally {
    client.close();
    await server.close();
  }
});
