import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServerConfigError, resolveOptions, startServer } from "../../src/server/index.ts";
import { testServer, type TestServer } from "./helpers.ts";

const KEY_A = "key-a-0123456789";
const KEY_B = "key-b-0123456789";
const slow = { code: `export default { async run(ms) { await scheduler.wait(ms); return "done"; } }`, args: [400] };
const quick = { code: `export default { run() { return "ok"; } }` };

async function untilInFlight(server: TestServer, count: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (server.service.inFlight >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`never reached ${count} calls in flight`);
}

test("API keys: 401 without or with a wrong key; Bearer and X-Api-Key work; logs name the key id, never the key", async () => {
  const server = await testServer({ apiKeys: [{ id: "team-a", key: KEY_A }] });
  try {
    const none = await server.post("/v1/run", quick);
    assert.equal(none.status, 401);
    assert.match(none.json.error.message, /An API key is required/);
    assert.match(none.headers.get("www-authenticate") ?? "", /Bearer/);
    const wrong = await server.post("/v1/run", quick, { authorization: "Bearer not-the-key" });
    assert.equal(wrong.status, 401);
    assert.match(wrong.json.error.message, /not valid/);
    assert.equal((await server.post("/v1/run", quick, { authorization: `Bearer ${KEY_A}` })).json.result, "ok");
    assert.equal((await server.post("/v1/run", quick, { "x-api-key": KEY_A })).json.result, "ok");
    assert.equal((await fetch(server.url + "/metrics")).status, 401, "metrics need a key too");
    assert.equal((await fetch(server.url + "/healthz")).status, 200, "health checks do not");
    const runs = server.logs.filter((entry) => entry.path === "/v1/run");
    assert.deepEqual(runs.map((entry) => [entry.status, entry.key]), [[401, null], [401, null], [200, "team-a"], [200, "team-a"]]);
    assert.ok(!JSON.stringify(server.logs).includes(KEY_A));
    for (const entry of runs) assert.deepEqual(Object.keys(entry).sort(), ["key", "method", "ms", "path", "status", "time"]);
  } finally {
    await server.close();
  }
});

test("per-key ceilings: a key's limits cap what its requests may ask for", async () => {
  const server = await testServer({ apiKeys: [{ id: "small", key: KEY_A, limits: { cpuMs: 50 } }, { id: "big", key: KEY_B }] });
  try {
    const refused = await server.post("/v1/run", { ...quick, limits: { cpuMs: 100 } }, { authorization: `Bearer ${KEY_A}` });
    assert.equal(refused.status, 400);
    assert.match(refused.json.error.message, /limits\.cpuMs: 100 is above the ceiling of 50 for API key "small"/);
    const spin = await server.post("/v1/run", { code: `export default { run() { while (true) {} } }` }, { authorization: `Bearer ${KEY_A}` });
    assert.equal(spin.json.error.name, "CpuLimitError", "the ceiling applies without asking");
    assert.equal((await server.post("/v1/run", { ...quick, limits: { cpuMs: 100 } }, { authorization: `Bearer ${KEY_B}` })).json.result, "ok");
  } finally {
    await server.close();
  }
});

test("ISLET_API_KEYS adds keys beside the config file's, whose per-key limits still hold over HTTP", async () => {
  const dir = mkdtempSync(join(tmpdir(), "islet-keys-"));
  const file = join(dir, "islet.json");
  writeFileSync(file, JSON.stringify({ apiKeys: [{ id: "small", key: KEY_A, limits: { cpuMs: 50 } }] }));
  const server = await testServer({}, { ISLET_CONFIG: file, ISLET_API_KEYS: `env-key:${KEY_B}` });
  try {
    const refused = await server.post("/v1/run", { ...quick, limits: { cpuMs: 100 } }, { authorization: `Bearer ${KEY_A}` });
    assert.equal(refused.status, 400);
    assert.match(refused.json.error.message, /above the ceiling of 50 for API key "small"/);
    assert.equal((await server.post("/v1/run", { ...quick, limits: { cpuMs: 100 } }, { authorization: `Bearer ${KEY_B}` })).json.result, "ok");
    assert.deepEqual(server.logs.filter((l) => l.path === "/v1/run").map((l) => l.key), ["small", "env-key"]);
  } finally {
    await server.close();
  }
});

test("missing environment variables of a config are named all at once", async () => {
  await assert.rejects(
    startServer(
      {
        port: 0,
        log: false,
        codemode: { openapi: { api: { spec: "./x.json", baseUrl: "https://api.example.com", auth: { header: "Authorization", value: "Bearer ${MISSING_ONE}" } } }, servers: { m: { command: "x", env: { A: "${MISSING_TWO}" } } } },
        outbound: { credentials: { "api.example.com": { headers: { authorization: "Bearer ${MISSING_THREE}" } } } },
      },
      {},
    ),
    (error: Error) => {
      // The outbound section is checked first; its missing variables are all in one message.
      assert.match(error.message, /MISSING_THREE/);
      return true;
    },
  );
  await assert.rejects(
    startServer(
      {
        port: 0,
        log: false,
        codemode: { openapi: { api: { spec: "./x.json", baseUrl: "https://api.example.com", auth: { header: "Authorization", value: "Bearer ${MISSING_ONE}" } } }, servers: { m: { command: "x", env: { A: "${MISSING_TWO}" } } } },
      },
      {},
    ),
    (error: Error) => {
      assert.ok(error instanceof ServerConfigError);
      assert.match(error.message, /^codemode: environment variables are not set: openapi\.api\.auth\.value needs MISSING_ONE; servers\.m\.env\.A needs MISSING_TWO$/);
      return true;
    },
  );
});

test("per-key concurrency caps: 429 with Retry-After for that key only", async () => {
  const server = await testServer({ apiKeys: [{ id: "one", key: KEY_A, maxConcurrency: 1 }, { id: "other", key: KEY_B }] });
  try {
    const first = server.post("/v1/run", slow, { authorization: `Bearer ${KEY_A}` });
    await untilInFlight(server, 1);
    const second = await server.post("/v1/run", quick, { authorization: `Bearer ${KEY_A}` });
    assert.equal(second.status, 429);
    assert.equal(second.headers.get("retry-after"), "1");
    assert.match(second.json.error.message, /API key "one" already has 1 calls in flight/);
    assert.equal((await server.post("/v1/run", quick, { authorization: `Bearer ${KEY_B}` })).json.result, "ok");
    assert.equal((await first).json.result, "done");
    assert.equal((await server.post("/v1/run", quick, { authorization: `Bearer ${KEY_A}` })).json.result, "ok", "the slot is free again");
  } finally {
    await server.close();
  }
});

test("load shedding: beyond the global in-flight cap requests get 429 at once", async () => {
  const server = await testServer({ maxInFlight: 2 });
  try {
    const running = [server.post("/v1/run", slow), server.post("/v1/run", slow)];
    await untilInFlight(server, 2);
    const shed = await server.post("/v1/run", quick);
    assert.equal(shed.status, 429);
    assert.equal(shed.headers.get("retry-after"), "1");
    assert.match(shed.json.error.message, /at capacity \(2 calls in flight\)/);
    for (const response of await Promise.all(running)) assert.equal(response.json.result, "done");
    const metrics = await (await fetch(server.url + "/metrics")).text();
    assert.match(metrics, /^islet_shed_total\{reason="global"\} 1$/m);
  } finally {
    await server.close();
  }
});

test("request-size limit: 413 for a body over maxRequestBytes, with or without Content-Length", async () => {
  const server = await testServer({ maxRequestBytes: 2048 });
  try {
    const big = await server.post("/v1/run", { code: `export default { run() { return 1; } } // ${"x".repeat(4000)}` });
    assert.equal(big.status, 413);
    assert.match(big.json.error.message, /larger than 2048 bytes/);
    const chunks = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(new TextEncoder().encode("x".repeat(1000)));
        controller.close();
      },
    });
    const streamed = await fetch(server.url + "/v1/run", { method: "POST", headers: { "content-type": "application/json" }, body: chunks, duplex: "half" } as RequestInit);
    assert.equal(streamed.status, 413);
    assert.equal((await server.post("/v1/run", quick)).status, 200);
  } finally {
    await server.close();
  }
});

test("configuration: flags over environment over config file, each validated with the setting named", async () => {
  const dir = mkdtempSync(join(tmpdir(), "islet-config-"));
  const file = join(dir, "islet.json");
  writeFileSync(file, JSON.stringify({ port: 9000, host: "127.0.0.1", maxInFlight: 5, apiKeys: [{ id: "from-file", key: KEY_A }], limits: { cpuMs: 100 } }));
  const fromFile = resolveOptions({}, { ISLET_CONFIG: file });
  assert.equal(fromFile.port, 9000);
  assert.equal(fromFile.maxInFlight, 5);
  assert.equal(fromFile.limits.cpuMs, 100);
  assert.deepEqual(fromFile.apiKeys.map((k) => k.id), ["from-file"]);
  const fromEnv = resolveOptions({}, { ISLET_CONFIG: file, ISLET_PORT: "9001", ISLET_API_KEYS: `ci:${KEY_B}` });
  assert.equal(fromEnv.port, 9001);
  // ISLET_API_KEYS adds to the file's keys (with default limits); it does not replace them.
  assert.deepEqual(fromEnv.apiKeys.map((k) => k.id), ["from-file", "ci"]);
  assert.equal(resolveOptions({ port: 9002 }, { ISLET_CONFIG: file, ISLET_PORT: "9001" }).port, 9002);

  const bad: [Parameters<typeof resolveOptions>[0], NodeJS.ProcessEnv, RegExp][] = [
    [{}, { ISLET_PORT: "eighty" }, /^ISLET_PORT: must be a port number/],
    [{}, { ISLET_CONFIG: join(dir, "missing.json") }, /^config: no such file/],
    [{ limits: { cpuMs: -5 } }, {}, /^limits\.cpuMs: must be a positive number/],
    [{ apiKeys: [{ id: "x", key: "short" }] }, {}, /^apiKeys\[0\]\.key: must be a string of at least 8/],
    [{ apiKeys: [{ id: "x", key: KEY_A }, { id: "x", key: KEY_B }] }, {}, /^apiKeys\[1\]\.id: the id "x" is used twice/],
    [{ maxInFlight: 0 }, {}, /^maxInFlight: must be a positive integer/],
    [{ host: "0.0.0.0" }, {}, /^apiKeys: refusing to serve 0\.0\.0\.0 without API keys/],
    [{}, { ISLET_CONFIG: file, ISLET_API_KEYS: `ci:${KEY_A}` }, /^apiKeys: ISLET_API_KEYS \(id "ci"\) and the config file \(.*islet\.json\) \(id "from-file"\) define the same key: keep one of them/],
    [{}, { ISLET_CONFIG: file, ISLET_API_KEYS: `from-file:${KEY_B}` }, /^apiKeys: ISLET_API_KEYS and the config file \(.*\) both define the key id "from-file"/],
  ];
  writeFileSync(join(dir, "broken.json"), "{ nope");
  bad.push([{}, { ISLET_CONFIG: join(dir, "broken.json") }, /^config: .*broken\.json is not valid JSON/]);
  for (const [options, env, message] of bad) {
    assert.throws(() => resolveOptions(options, env), (error: Error) => error instanceof ServerConfigError && message.test(error.message));
  }
  // Every problem at once (one zod schema), each naming its setting; a typo in a setting's name is one too.
  assert.throws(
    () => resolveOptions({ maxInFlight: 0, limits: { cpuMs: 0, gpus: 1 }, loader: { warmPool: -1 }, maxInFlite: 4 } as never, {}),
    (error: Error) =>
      error instanceof ServerConfigError &&
      error.message ===
        "limits.cpuMs: must be a positive number of milliseconds, got 0; limits.gpus: unknown limit (known: cpuMs, memoryMb, wallMs, subRequests); " +
          "maxInFlight: must be a positive integer, got 0; loader.warmPool: must be a non-negative integer, got -1; maxInFlite: unknown setting (a typo?)",
  );
  assert.equal(resolveOptions({ host: "0.0.0.0", allowUnauthenticated: true }).host, "0.0.0.0");
  assert.equal(resolveOptions({ host: "0.0.0.0" }, { ISLET_API_KEYS: KEY_A }).apiKeys.length, 1);
});

test("a port in use is a ServerConfigError that suggests --port", async () => {
  const first = await testServer();
  try {
    await assert.rejects(startServer({ port: first.port, log: false }, {}), (error: Error) => error instanceof ServerConfigError && /port \d+ on 127\.0\.0\.1 is already in use.*--port/.test(error.message));
  } finally {
    await first.close();
  }
});

test("without API keys only loopback Host names are served (DNS rebinding); with keys any name is", async () => {
  const { request } = await import("node:http");
  const ask = (port: number, host: string, headers: Record<string, string> = {}) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path: "/v1/run", method: "POST", headers: { host, "content-type": "application/json", ...headers } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end(JSON.stringify(quick));
    });
  const open = await testServer();
  try {
    assert.equal(await ask(open.port, "attacker.example"), 403);
    assert.equal(await ask(open.port, `127.0.0.1:${open.port}`), 200);
    assert.equal(await ask(open.port, `localhost:${open.port}`), 200);
    assert.equal(await ask(open.port, "islet.localhost"), 200);
  } finally {
    await open.close();
  }
  const keyed = await testServer({ apiKeys: [{ id: "a", key: KEY_A }] });
  try {
    assert.equal(await ask(keyed.port, "islet.example.com", { authorization: `Bearer ${KEY_A}` }), 200);
  } finally {
    await keyed.close();
  }
});

test("private address ranges: loopback, RFC 1918, link-local/metadata, CGNAT, IPv6 local and mapped forms", async () => {
  const { isPrivateAddress } = await import("../../src/server/egress.ts");
  for (const address of ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "::", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1"]) {
    assert.equal(isPrivateAddress(address), true, address);
  }
  for (const address of ["8.8.8.8", "1.1.1.1", "172.32.0.1", "2001:4860:4860::8888", "::ffff:8.8.8.8", "example.com"]) {
    assert.equal(isPrivateAddress(address), false, address);
  }
});
