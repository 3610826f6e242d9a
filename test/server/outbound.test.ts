// islet serve's outbound configuration: a server-wide allow-list, credentials read from environment
// variables named in the config, and the audit log, against real loopback upstreams through Node's fetch.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { startServer } from "../../src/server/index.ts";
import { testServer, type TestServer } from "./helpers.ts";

const SECRET = "s3cret-token-for-the-test";
let upstreamA: Server;
let upstreamB: Server;
let a = "";
let b = "";
const seenByA: (string | undefined)[] = [];
let hitsOnB = 0;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

before(async () => {
  upstreamB = createServer((_req, res) => {
    hitsOnB++;
    res.end("B");
  });
  b = await listen(upstreamB);
  upstreamA = createServer((req, res) => {
    seenByA.push(req.headers.authorization);
    if (req.url === "/redirect") return void res.writeHead(302, { location: `http://${b}/` }).end();
    if (req.url === "/echo") return void res.writeHead(200, { "x-echo": req.headers.authorization ?? "" }).end(`you sent ${req.headers.authorization}`);
    res.end("A");
  });
  a = await listen(upstreamA);
});

after(() => {
  upstreamA.close();
  upstreamB.close();
});

function config(section: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), "islet-outbound-"));
  const path = join(dir, "islet.json");
  writeFileSync(path, JSON.stringify({ outbound: section }));
  return path;
}

const fetcher = `export default { async run(url) {
  try { const r = await fetch(url); return [r.status, await r.text()]; } catch (e) { return [e.name, e.message]; }
} }`;

test("outbound config: the allowed host gets the credential from the environment, others are refused, a redirect to a refused host too; every hop is audited", async () => {
  const path = config({ allowPrivate: true, allowHosts: [a], credentials: { [a]: { headers: { authorization: "Bearer ${UPSTREAM_TOKEN}" } } } });
  const server: TestServer = await testServer({}, { ISLET_CONFIG: path, UPSTREAM_TOKEN: SECRET });
  try {
    seenByA.length = 0;
    hitsOnB = 0;
    const allowed = await server.post("/v1/run", { code: fetcher, args: [`http://${a}/`] });
    assert.deepEqual(allowed.json.result, [200, "A"]);
    assert.deepEqual(seenByA, [`Bearer ${SECRET}`]);
    assert.equal(allowed.json.fetches.length, 1);
    assert.deepEqual(
      { ...allowed.json.fetches[0], durationMs: 0 },
      { method: "GET", url: `http://${a}/`, decision: "allowed", credentials: true, status: 200, durationMs: 0 },
    );

    const denied = await server.post("/v1/run", { code: fetcher, args: [`http://${b}/`] });
    assert.equal(denied.json.result[0], "TypeError");
    assert.match(denied.json.result[1], new RegExp(`The host ${b} is not on this worker's allow-list`));
    assert.equal(denied.json.fetches[0].decision, "denied");
    assert.equal(denied.json.fetches[0].policy, "allowHosts");
    assert.equal(denied.json.fetches[0].credentials, false);

    const redirected = await server.post("/v1/run", { code: fetcher, args: [`http://${a}/redirect`] });
    assert.equal(redirected.json.result[0], "TypeError");
    assert.match(redirected.json.result[1], /not on this worker's allow-list/);
    assert.deepEqual(
      redirected.json.fetches.map((f: { url: string; decision: string; status?: number }) => [f.url, f.decision, f.status]),
      [
        [`http://${a}/redirect`, "allowed", 302],
        [`http://${b}/`, "denied", undefined],
      ],
    );
    assert.equal(hitsOnB, 0, "the denied host was never contacted");

    // A request's own allowHosts narrows the server's list; it cannot widen it.
    const narrowed = await server.post("/v1/run", { code: fetcher, args: [`http://${a}/`], allowHosts: ["example.com"] });
    assert.match(narrowed.json.result[1], /not on this worker's allow-list/);
    const widened = await server.post("/v1/run", { code: fetcher, args: [`http://${b}/`], allowHosts: [b] });
    assert.match(widened.json.result[1], /not on this worker's allow-list/);
    assert.equal(hitsOnB, 0);

    // The server log has one line per hop, with the key; the secret is nowhere.
    const lines = server.logs.filter((entry) => entry.event === "outbound");
    assert.equal(lines.length, 6);
    assert.deepEqual(
      lines.slice(0, 2).map((l) => [l.method, l.url, l.decision, l.credentials, typeof l.key]),
      [
        ["GET", `http://${a}/`, "allowed", true, "string"],
        ["GET", `http://${b}/`, "denied", false, "string"],
      ],
    );
    assert.ok(!JSON.stringify(server.logs).includes(SECRET));
    assert.ok(!JSON.stringify([allowed, denied, redirected].map((r) => r.json)).includes(SECRET));
  } finally {
    await server.close();
  }
});

test("outbound config: an upstream that echoes the credential back: a header has it as [redacted], the body (not scanned) hands it to the worker", async () => {
  const path = config({ allowPrivate: true, allowHosts: [a], credentials: { [a]: { headers: { authorization: "Bearer ${UPSTREAM_TOKEN}" } } } });
  const server: TestServer = await testServer({}, { ISLET_CONFIG: path, UPSTREAM_TOKEN: SECRET });
  try {
    const echoed = await server.post("/v1/run", {
      code: `export default { async run(url) { const r = await fetch(url); return [r.headers.get("x-echo"), await r.text()]; } }`,
      args: [`http://${a}/echo`],
    });
    assert.deepEqual(echoed.json.result, ["[redacted]", `you sent Bearer ${SECRET}`]);
    // The answer carries the worker's result as it is: the echoed body with the secret in it.
    assert.ok(JSON.stringify(echoed.json).includes(SECRET));
  } finally {
    await server.close();
  }
});

test("outbound config: a warm worker (id) reports its own fetches on every call", async () => {
  const server = await testServer({ outbound: { allowPrivate: true, allowHosts: [a] } });
  try {
    for (let i = 0; i < 2; i++) {
      const { json } = await server.post("/v1/run", { id: "warm", code: fetcher, args: [`http://${a}/`] });
      assert.deepEqual(json.result, [200, "A"]);
      assert.equal(json.fetches.length, 1, JSON.stringify(json));
      assert.equal(json.fetches[0].credentials, false);
    }
  } finally {
    await server.close();
  }
});

test("outbound config: without allowPrivate the loopback upstream is refused by denyPrivateAddresses, and audited so", async () => {
  const server = await testServer({ outbound: { allowHosts: [a] } });
  try {
    const { json } = await server.post("/v1/run", { code: fetcher, args: [`http://${a}/`] });
    assert.equal(json.result[0], "TypeError");
    assert.equal(json.fetches[0].decision, "denied");
    assert.equal(json.fetches[0].policy, "denyPrivateAddresses");
  } finally {
    await server.close();
  }
});

test("outbound config errors: a literal secret is refused, every missing variable is named at once, a bad pattern is named", async () => {
  await assert.rejects(startServer({ port: 0, log: false, outbound: { credentials: { "api.example.com": { headers: { authorization: "Bearer abc" } } } } }, {}), /outbound\.credentials\["api\.example\.com"\]\.headers\.authorization: must name an environment variable/);
  await assert.rejects(
    startServer({ port: 0, log: false, outbound: { credentials: { "a.example.com": { headers: { authorization: "Bearer ${TOKEN_A}" } }, "b.example.com": { query: { key: "${TOKEN_B}" } } } } }, {}),
    (error: Error) => {
      assert.match(error.message, /TOKEN_A/);
      assert.match(error.message, /TOKEN_B/);
      return true;
    },
  );
  await assert.rejects(startServer({ port: 0, log: false, outbound: { allowHosts: ["::1"] } }, {}), /outbound: .*IPv6 address in brackets/);
  await assert.rejects(startServer({ port: 0, log: false, outbound: { allowHost: ["x"] } as never }, {}), /outbound: Unrecognized key/);
});

test("a worker without network gets Cloudflare's message plus how to allow a host in islet", async () => {
  const server = await testServer();
  try {
    const { json } = await server.post("/v1/run", { code: fetcher, args: ["https://api.example.com/"] });
    assert.equal(json.result[0], "TypeError");
    const message: string = json.result[1];
    assert.match(message, /^This worker is not permitted to access the internet via global functions like fetch\(\)\. It must use capabilities \(such as bindings in env\) to talk to the outside world\./);
    assert.match(message, /globalOutbound/);
    assert.match(message, /allowHosts\(\["api\.example\.com"\]\)/);
    assert.match(message, /"outbound": \{ "allowHosts": \[\.\.\.\] \} in the config file/);
    assert.match(message, /--allow-host/);
  } finally {
    await server.close();
  }
});

test("a hop's method, URL and error are cut in the audit log and the answer's fetches: a worker cannot write megabytes there per fetch (findings16/01)", async () => {
  const server = await testServer({ outbound: { allowHosts: ["allowed.example"] } });
  try {
    const code = `export default { async run() {
      const out = [];
      for (let i = 0; i < 20; i++) {
        try { await fetch("https://refused.example/" + "p".repeat(100_000), { method: "X".repeat(100_000) }); } catch (e) { out.push(e.name); }
      }
      return out;
    } }`;
    const { json } = await server.post("/v1/run", { code });
    assert.deepEqual(json.result, Array(20).fill("TypeError"));
    assert.equal(json.fetches.length, 20);
    for (const entry of json.fetches) {
      assert.equal(entry.decision, "denied");
      assert.equal(entry.method, `${"X".repeat(64)}…`);
      assert.equal(entry.url.length, 2049);
      assert.ok(entry.url.startsWith("https://refused.example/ppp") && entry.url.endsWith("…"));
      assert.ok((entry.error ?? "").length <= 501);
    }
    const logged = server.logs.filter((line) => line.event === "outbound");
    assert.equal(logged.length, 20);
    assert.ok(JSON.stringify(logged).length < 20 * 4_000, `${JSON.stringify(logged).length} characters of audit log`);
  } finally {
    await server.close();
  }
});
