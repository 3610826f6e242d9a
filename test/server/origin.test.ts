// A keyless `islet serve` (the `npm start` default) is reachable by every web page its user
// visits: the browser sends the page's requests to 127.0.0.1 with the page's Origin. Those must be
// refused, while the server's own playground (same origin) and non-browser clients (no Origin)
// keep working. Real HTTP and WebSocket clients against a real server on a loopback port.

import { test } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { connect } from "../../src/client/index.ts";
import { testServer } from "./helpers.ts";

const quick = { code: `export default { run() { return "ok"; } }` };
const KEY = "origin-key-0123456789";

/** Opens a WebSocket to /v1/rpc with these headers; resolves with the HTTP status of the answer (101 when upgraded). */
function upgrade(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace("http:", "ws:") + "/v1/rpc", { headers, ...(headers.origin !== undefined ? { origin: headers.origin } : {}) });
    ws.on("open", () => {
      ws.close();
      resolve(101);
    });
    ws.on("unexpected-response", (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    ws.on("error", (error) => {
      if (!/Unexpected server response/.test(error.message)) reject(error);
    });
  });
}

test("keyless serve: a WebSocket upgrade to /v1/rpc from another site's page is refused (403); the own origin and clients without Origin connect", async () => {
  const server = await testServer();
  try {
    assert.equal(await upgrade(server.url, { origin: "http://evil.example" }), 403, "a page on another site");
    assert.equal(await upgrade(server.url, { origin: "null" }), 403, "a sandboxed iframe or file: page");
    assert.equal(await upgrade(server.url, { origin: "http://localhost:3000" }), 403, "another local dev server (same site, other origin)");
    assert.equal(await upgrade(server.url, { "sec-fetch-site": "cross-site" }), 403, "Sec-Fetch-Site: cross-site without an Origin");
    assert.equal(await upgrade(server.url, { origin: server.url }), 101, "the server's own origin");
    assert.equal(await upgrade(server.url, {}), 101, "a non-browser client sends no Origin");
    // islet/client sends no Origin either: the whole API works.
    const loader = await connect(server.url + "/v1/rpc");
    try {
      assert.equal(await loader.load(quick).getEntrypoint().run(), "ok");
    } finally {
      loader.close();
    }
  } finally {
    await server.close();
  }
});

test("keyless serve: cross-origin state-changing requests are refused (403) before anything runs; same-origin ones (the playground) run", async () => {
  const server = await testServer();
  try {
    const evil = await server.post("/v1/run", quick, { origin: "http://evil.example" });
    assert.equal(evil.status, 403);
    assert.equal(evil.json.error.name, "Forbidden");
    assert.match(evil.json.error.message, /another origin/);
    assert.equal((await server.post("/v1/run", quick, { origin: "http://127.0.0.1:1" })).status, 403, "another port of the same host is another origin");
    assert.equal((await server.post("/v1/run", quick, { "sec-fetch-site": "cross-site" })).status, 403);
    assert.equal((await server.post("/v1/run", quick, { "sec-fetch-site": "same-site" })).status, 403, "same site is not same origin");
    assert.equal((await server.post("/v1/codemode/execute", { code: "1" }, { origin: "http://evil.example" })).status, 403);
    const mcp = await fetch(server.url + "/mcp", { method: "POST", headers: { origin: "http://evil.example", "content-type": "application/json" }, body: "{}" });
    assert.equal(mcp.status, 403);
    const text = await fetch(server.url + "/v1/run", { method: "POST", headers: { origin: "http://evil.example", "content-type": "text/plain" }, body: JSON.stringify(quick) });
    assert.equal(text.status, 403, "a simple (no-preflight) cross-site form post");
    // What the playground's own fetch sends: Origin and Sec-Fetch-Site of the server itself.
    const own = await server.post("/v1/run", quick, { origin: server.url, "sec-fetch-site": "same-origin" });
    assert.equal(own.status, 200);
    assert.equal(own.json.result, "ok");
    const localhost = server.url.replace("127.0.0.1", "localhost");
    const { request } = await import("node:http");
    const viaLocalhost = await new Promise<number>((resolve, reject) => {
      const req = request(server.url + "/v1/run", { method: "POST", headers: { host: new URL(localhost).host, origin: localhost, "content-type": "application/json" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end(JSON.stringify(quick));
    });
    assert.equal(viaLocalhost, 200, "the playground opened as http://localhost:port");
    assert.equal((await server.post("/v1/run", quick)).status, 200, "curl and SDKs send no Origin");
    assert.equal((await server.post("/v1/run", quick, { "sec-fetch-site": "none" })).status, 200, "typed into the address bar");
    const health = await fetch(server.url + "/healthz", { headers: { origin: "http://evil.example" } });
    assert.equal(health.status, 200, "reading is not state-changing (and CORS keeps the answer from the page)");
  } finally {
    await server.close();
  }
});

test("with API keys the key is the door: a cross-origin request with a valid key runs, without one it is 401", async () => {
  const server = await testServer({ apiKeys: [{ id: "a", key: KEY }] });
  try {
    assert.equal((await server.post("/v1/run", quick, { origin: "http://app.example" })).status, 401);
    assert.equal((await server.post("/v1/run", quick, { origin: "http://app.example", authorization: `Bearer ${KEY}` })).status, 200);
  } finally {
    await server.close();
  }
});

test("keyless serve: every route refuses a Host that is not a loopback name (DNS rebinding), the playground and /healthz included", async () => {
  const { request } = await import("node:http");
  const get = (url: string, path: string, host: string) =>
    new Promise<number>((resolve, reject) => {
      const { hostname, port } = new URL(url);
      const req = request({ host: hostname, port, path, headers: { host } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
  const server = await testServer();
  try {
    const port = new URL(server.url).port;
    for (const path of ["/", "/healthz", "/playground/app.js", "/v1/run", "/metrics"]) {
      assert.equal(await get(server.url, path, "rebind.attacker.example"), 403, `GET ${path} with a foreign Host`);
      assert.equal(await get(server.url, path, `rebind.attacker.example:${port}`), 403, `GET ${path} with a foreign Host and the port`);
    }
    assert.equal(await get(server.url, "/healthz", `127.0.0.1:${port}`), 200);
    assert.equal(await get(server.url, "/healthz", `localhost:${port}`), 200);
  } finally {
    await server.close();
  }
});

test("keyless serve: an absolute-form request target naming another host is refused, whatever Host says", async () => {
  const { connect: connectTcp } = await import("node:net");
  const raw = (url: string, head: string) =>
    new Promise<string>((resolve, reject) => {
      const { hostname, port } = new URL(url);
      const socket = connectTcp(Number(port), hostname, () => socket.write(head));
      let data = "";
      socket.on("data", (chunk) => {
        data += chunk;
        if (data.includes("\r\n")) {
          socket.destroy();
          resolve(data.split("\r\n")[0]);
        }
      });
      socket.on("error", reject);
    });
  const server = await testServer();
  try {
    const port = new URL(server.url).port;
    assert.match(await raw(server.url, `GET http://evil.example/ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`), / 403 /);
    assert.match(await raw(server.url, `GET http://evil.example/healthz HTTP/1.1\r\nHost: localhost:${port}\r\n\r\n`), / 403 /);
    assert.match(await raw(server.url, `GET http://127.0.0.1:${port}/healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`), / 200 /);
    assert.match(await raw(server.url, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`), / 200 /);
  } finally {
    await server.close();
  }
});
