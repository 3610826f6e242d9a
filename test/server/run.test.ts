import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { testServer, type TestServer } from "./helpers.ts";

describe("POST /v1/run", () => {
  let server: TestServer;
  before(async () => {
    server = await testServer();
  });
  after(() => server.close());

  test("calls an RPC method and returns result, logs, outcome and timings", async () => {
    const { status, json } = await server.post("/v1/run", {
      code: `export default { greet(name) { console.log("greeting", name, { n: 1 }); return "Hello, " + name; } }`,
      method: "greet",
      args: ["Ada"],
    });
    assert.equal(status, 200);
    assert.equal(json.result, "Hello, Ada");
    assert.equal(json.outcome, "ok");
    assert.deepEqual(
      json.logs.map((log: { level: string; message: unknown[] }) => [log.level, log.message]),
      [["log", ["greeting", "Ada", { n: 1 }]]],
    );
    assert.ok(json.cpuMs > 0 && json.wallMs >= json.cpuMs * 0.5, JSON.stringify(json));
    assert.equal(json.error, undefined);
  });

  test("method defaults to run; modules with mainModule, TypeScript and named entrypoints work", async () => {
    const { json } = await server.post("/v1/run", {
      modules: {
        "main.ts": `import { double } from "./util.js"; export default { run(): number { return double(21); } }; export const other = { run: () => "other" };`,
        "util.ts": `export const double = (n: number): number => n * 2;`,
      },
      mainModule: "main.ts",
    });
    assert.equal(json.result, 42);
    const named = await server.post("/v1/run", { code: `export const other = { run: () => "other" }; export default {};`, entrypoint: "other" });
    assert.equal(named.json.result, "other");
  });

  test("a plain-object default export's RPC method gets the caller's arguments only, no env or ctx after them; it reads env from cloudflare:workers", async () => {
    const { json } = await server.post("/v1/run", {
      code: `import { env } from "cloudflare:workers"; export default { run(...args) { return { count: args.length, args, greeting: env.GREETING }; } }`,
      args: ["a", 2],
      env: { GREETING: "hi" },
    });
    assert.deepEqual(json.result, { count: 2, args: ["a", 2], greeting: "hi" });
  });

  test("a request goes to fetch and the response comes back with status, headers and body", async () => {
    const { json } = await server.post("/v1/run", {
      code: `export default { async fetch(request, env) {
        const body = await request.text();
        return new Response(request.method + " " + new URL(request.url).pathname + " " + body + " " + env.GREETING + " " + request.headers.get("x-who"), { status: 201, headers: { "x-answer": "yes" } });
      } }`,
      request: { url: "https://example.com/a/b?q=1", method: "POST", headers: { "x-who": "me" }, body: "payload" },
      env: { GREETING: "hi" },
    });
    assert.equal(json.response.status, 201);
    assert.equal(json.response.headers["x-answer"], "yes");
    assert.equal(json.response.body, "POST /a/b payload hi me");
    const binary = await server.post("/v1/run", { code: `export default { fetch() { return new Response(new Uint8Array([0xff, 0xfe, 0])); } }`, request: { url: "https://x.test/" } });
    assert.deepEqual(binary.json.response, { status: 200, headers: {}, body: Buffer.from([0xff, 0xfe, 0]).toString("base64"), bodyEncoding: "base64" });
  });

  test("results that JSON cannot hold are mapped: bigint, Map, Set, Date, undefined, typed arrays", async () => {
    const { json } = await server.post("/v1/run", {
      code: `export default { run() { return { big: 2n ** 70n, map: new Map([["a", 1]]), set: new Set([1, 2]), date: new Date(0), none: undefined, list: [undefined, NaN], bytes: new Uint8Array([1, 2]) }; } }`,
    });
    assert.deepEqual(json.result, { big: "1180591620717411303424", map: [["a", 1]], set: [1, 2], date: "1970-01-01T00:00:00.000Z", list: [null, null], bytes: [1, 2] });
  });

  test("worker failures are 200 with a named error: exceptions, limits, bad modules", async () => {
    const thrown = await server.post("/v1/run", { code: `export default { run() { throw new RangeError("out of range"); } }` });
    assert.equal(thrown.status, 200);
    assert.deepEqual(thrown.json.error, { name: "RangeError", message: "out of range" });
    assert.equal(thrown.json.outcome, "exception");
    const spin = await server.post("/v1/run", { code: `export default { run() { while (true) {} } }`, limits: { cpuMs: 30 } });
    assert.equal(spin.json.error.name, "CpuLimitError");
    assert.equal(spin.json.error.limit, "cpuMs");
    assert.equal(spin.json.outcome, "exceededCpu");
    const syntax = await server.post("/v1/run", { code: `export default { run( }` });
    assert.equal(syntax.status, 200);
    assert.equal(syntax.json.error.name, "WorkerCodeError");
    assert.equal(syntax.json.error.module, "worker.js");
    const missing = await server.post("/v1/run", { code: `export default {}`, method: "nope" });
    assert.equal(missing.json.error.name, "TypeError");
    assert.match(missing.json.error.message, /nope/);
  });

  test("a limit hit while the module evaluates is that limit's outcome, with the time spent and the logs before it; a memory kill reports its CPU time", async () => {
    const spin = await server.post("/v1/run", { code: `console.log("loading"); for (;;) {}\nexport default { run() { return 1; } }`, limits: { cpuMs: 50 } });
    assert.equal(spin.status, 200);
    assert.equal(spin.json.error.name, "CpuLimitError");
    assert.equal(spin.json.outcome, "exceededCpu", JSON.stringify(spin.json));
    assert.ok(spin.json.cpuMs >= 50 && spin.json.wallMs >= spin.json.cpuMs * 0.9, JSON.stringify(spin.json));
    assert.deepEqual(spin.json.logs.map((log: { message: unknown[] }) => log.message), [["loading"]]);
    const bomb = `const a = []; for (;;) a.push(new Array(1e5).fill(Math.random()));`;
    const filled = await server.post("/v1/run", { code: `${bomb}\nexport default { run() { return 1; } }`, limits: { memoryMb: 32 } });
    assert.equal(filled.json.outcome, "exceededMemory", JSON.stringify(filled.json));
    assert.ok(filled.json.cpuMs > 0 && filled.json.wallMs >= filled.json.cpuMs * 0.9, JSON.stringify(filled.json));
    const waited = await server.post("/v1/run", { code: `await new Promise(() => {});\nexport default { run() { return 1; } }`, limits: { wallMs: 100 } });
    assert.equal(waited.json.outcome, "exceededWall", JSON.stringify(waited.json));
    assert.ok(waited.json.wallMs >= 100, JSON.stringify(waited.json));
    const thrown = await server.post("/v1/run", { code: `throw new TypeError("no config");\nexport default { run() { return 1; } }` });
    assert.equal(thrown.json.outcome, "exception");
    assert.ok(thrown.json.cpuMs > 0 && thrown.json.wallMs > 0, JSON.stringify(thrown.json));
    const inCall = await server.post("/v1/run", { code: `export default { run() { ${bomb} } }`, limits: { memoryMb: 32 } });
    assert.equal(inCall.json.outcome, "exceededMemory", JSON.stringify(inCall.json));
    assert.ok(inCall.json.cpuMs > 0 && inCall.json.wallMs >= inCall.json.cpuMs * 0.9, JSON.stringify(inCall.json));
  });

  test("a plain object's RPC methods get the caller's arguments only (env from cloudflare:workers); its fetch gets (request, env, ctx)", async () => {
    const code = `import { env } from "cloudflare:workers";
      export default {
        run(...args) { return { received: args.length, env: env.greeting }; },
        fetch(request, env, ctx) { return Response.json([env.greeting, typeof ctx.waitUntil]); },
      }`;
    const rpc = await server.post("/v1/run", { code, args: ["only"], env: { greeting: "hi" } });
    assert.deepEqual(rpc.json.result, { received: 1, env: "hi" });
    const fetched = await server.post("/v1/run", { code, request: { url: "https://example.com/" }, env: { greeting: "hi" } });
    assert.equal(fetched.json.response.body, JSON.stringify(["hi", "function"]));
  });

  test("validation errors are 400 with a message naming the field", async () => {
    const cases: [unknown, RegExp][] = [
      [{ code: 1 }, /^code: must be a string/],
      [{}, /^modules: missing/],
      [{ modules: { "a.js": "", "b.js": "" } }, /^mainModule: missing: say which of "a.js", "b.js"/],
      [{ modules: { "a.js": "" }, mainModule: "c.js" }, /^mainModule: "c.js" is not one of the modules/],
      [{ modules: { "a.js": { python: "x" } } }, /^modules\["a.js"\]: must have exactly one key of js, cjs/],
      [{ code: "", modules: { "a.js": "" } }, /^code: give either "code"/],
      [{ code: "", args: {} }, /^args: must be an array/],
      [{ code: "", env: [] }, /^env: must be an object/],
      [{ code: "", limits: { cpuMs: -1 } }, /^limits\.cpuMs: must be a positive number/],
      [{ code: "", limits: { gpus: 1 } }, /^limits\.gpus: unknown limit/],
      [{ code: "", limits: { cpuMs: 60_000 } }, /^limits\.cpuMs: 60000 is above the ceiling of 5000 for API key "anonymous"; limits can only be lowered/],
      [{ code: "", metod: "x" }, /^metod: unknown field/],
      [{ code: "", request: { url: "/relative" } }, /^request\.url: is not an absolute URL/],
      [{ code: "", request: { url: "https://x.test/", body: "b" } }, /^request\.body: a GET request cannot have a body/],
      [{ code: "", request: { url: "https://x.test/" }, method: "run" }, /^method: give either "method"/],
      [{ code: "", allowHosts: "example.com" }, /^allowHosts: must be an array/],
      [{ code: "", id: "has space" }, /^id: must be 1-128/],
      [{ code: "", compatibilityDate: "tomorrow" }, /^compatibilityDate: must look like/],
      [[1, 2], /The body must be a JSON object/],
    ];
    for (const [body, message] of cases) {
      const { status, json } = await server.post("/v1/run", body);
      assert.equal(status, 400, JSON.stringify(body));
      assert.equal(json.error.name, "InvalidRequest");
      assert.match(json.error.message, message, JSON.stringify(body));
    }
    const notJson = await server.post("/v1/run", "{not json");
    assert.equal(notJson.status, 400);
    assert.match(notJson.json.error.message, /not valid JSON/);
    const wrongType = await server.post("/v1/run", "{}", { "content-type": "text/plain" });
    assert.equal(wrongType.status, 400);
    assert.match(wrongType.json.error.message, /Content-Type: application\/json/);
  });

  test("an id keeps a warm worker (module state) per API key; the X-Islet-Worker-Id header names it too", async () => {
    const code = `let count = 0; export default { run() { return ++count; } }`;
    assert.equal((await server.post("/v1/run", { id: "counter", code })).json.result, 1);
    assert.equal((await server.post("/v1/run", { id: "counter", code })).json.result, 2);
    assert.equal((await server.post("/v1/run", { code }, { "x-islet-worker-id": "counter" })).json.result, 3);
    assert.equal((await server.post("/v1/run", { code })).json.result, 1, "no id: a fresh worker");
    const clash = await server.post("/v1/run", { id: "a", code }, { "x-islet-worker-id": "b" });
    assert.equal(clash.status, 400);
    assert.match(clash.json.error.message, /^id: differs from the X-Islet-Worker-Id header/);
  });

  test("ctx.waitUntil work finishes before the answer reports its logs", async () => {
    const { json } = await server.post("/v1/run", {
      code: `export default { run(_a, _env, ctx) { return "now"; }, fetch(request, env, ctx) { ctx.waitUntil(scheduler.wait(20).then(() => console.log("later"))); return new Response("now"); } }`,
      request: { url: "https://x.test/" },
    });
    assert.equal(json.response.body, "now");
    assert.deepEqual(json.logs.map((log: { message: unknown[] }) => log.message), [["later"]]);
  });

  test("unknown routes are 404 with a hint; GET / serves a page", async () => {
    const missing = await fetch(server.url + "/v2/nothing");
    assert.equal(missing.status, 404);
    assert.match(((await missing.json()) as { error: { message: string } }).error.message, /POST \/v1\/run/);
    const page = await fetch(server.url + "/");
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
  });
});

describe("POST /v1/run outbound access", () => {
  let upstream: Server;
  let upstreamHost: string;
  before(async () => {
    upstream = createServer((req, res) => res.end(`upstream saw ${req.url}`));
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    upstreamHost = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });
  after(() => upstream.close());
  const fetcher = (host: string) => ({
    code: `export default { async run() { try { return await (await fetch("http://${host}/data")).text(); } catch (e) { return e.name + ": " + e.message; } } }`,
  });

  test("no allowHosts: no network", async () => {
    const server = await testServer({ outbound: { allowPrivate: true } });
    try {
      const { json } = await server.post("/v1/run", fetcher(upstreamHost));
      assert.match(json.result, /^TypeError/);
    } finally {
      await server.close();
    }
  });

  test("allowHosts lets the worker reach the listed host only", async () => {
    const server = await testServer({ outbound: { allowPrivate: true } });
    try {
      assert.equal((await server.post("/v1/run", { ...fetcher(upstreamHost), allowHosts: [upstreamHost] })).json.result, "upstream saw /data");
      const other = await server.post("/v1/run", { ...fetcher(upstreamHost), allowHosts: ["example.com"] });
      assert.match(other.json.result, /not on this worker's allow-list/);
    } finally {
      await server.close();
    }
  });

  test("private and loopback addresses are refused unless the server allows them", async () => {
    const server = await testServer();
    try {
      const { json } = await server.post("/v1/run", { ...fetcher(upstreamHost), allowHosts: [upstreamHost] });
      assert.match(json.result, /TypeError: .*private or loopback address/);
      const localhost = await server.post("/v1/run", { ...fetcher("localhost:1"), allowHosts: ["localhost:1"] });
      assert.match(localhost.json.result, /private or loopback address/);
    } finally {
      await server.close();
    }
  });
});

test("an RPC method that returns a Response answers /v1/run with a DataCloneError naming it, as README says (not an empty object)", async () => {
  const server = await testServer();
  try {
    const { status, json } = await server.post("/v1/run", { code: `export default { run() { return new Response("hello"); } }` });
    assert.equal(status, 200);
    assert.equal(json.error?.name, "DataCloneError");
    assert.match(json.error?.message ?? "", /Response/);
    assert.equal(json.result, undefined);
  } finally {
    await server.close();
  }
});
