// Egress: a sandbox tries to reach what the host's policy does not allow, to carry the host's
// credentials somewhere else, or to flood the network through the host.

import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { SubrequestLimitError } from "islet";
import { allowHosts, injectCredentials, outbound } from "islet/outbound";
import { rejectsWith, securitySuite } from "./harness.ts";

const { attack, call } = securitySuite();

let server: Server;
let origin = "";
const hits: string[] = [];
test.before(async () => {
  server = createServer((request, response) => {
    hits.push(`${request.method} ${request.url} ${request.headers.authorization ?? ""}`);
    response.end("loopback");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
test.after(() => server.close());

const tryFetch = `export default { async run(urls) {
  const out = [];
  for (const url of urls) { try { const r = await fetch(url); out.push(r.status + " " + (await r.text())); } catch (e) { out.push(e.name + ": " + e.message); } }
  return out;
} };`;

attack("with Node's own fetch as globalOutbound, file:, data:, blob: and ftp: URLs read nothing from the host", async () => {
  const urls = ["file:///etc/passwd", "ftp://127.0.0.1/", "blob:nodedata:1234", "javascript:alert(1)"];
  const result = await call(tryFetch, "run", [urls], { globalOutbound: (request: Request) => fetch(request) });
  for (const line of result) assert.match(line, /^TypeError: /);
  assert.ok(!result.join("\n").includes("root:"), "no file content");
});

attack("URL tricks do not get past allowHosts: userinfo, suffixes, trailing dots, other ports, IP forms", async () => {
  const upstream: string[] = [];
  const globalOutbound = outbound(allowHosts(["api.test"]), (request: Request) => {
    upstream.push(new URL(request.url).host);
    return new Response("allowed");
  });
  const refused = /^TypeError: The host \S+ is not on this worker's allow-list\.$/;
  const cases: [string, RegExp][] = [
    ["https://api.test@evil.test/", /^TypeError: Request cannot be constructed from a URL that includes credentials/],
    ["https://evil.test#@api.test/", refused],
    ["https://evil.test\\@api.test/", refused],
    ["https://api.test.evil.test/", refused],
    ["https://evilapi.test/", refused],
    ["https://api.test./", refused],
    ["http://127.0.0.1/", refused],
    ["http://[::1]/", refused],
    ["http://2130706433/", refused],
    // The same host: a pattern without a port allows any port (pin one with "api.test:443").
    ["https://API.TEST:8443/", /^200 allowed$/],
  ];
  const result = await call(tryFetch, "run", [cases.map(([url]) => url)], { globalOutbound });
  cases.forEach(([url, expected], i) => assert.match(result[i], expected, url));
  assert.deepEqual(upstream, ["api.test:8443"]);
});

attack("a loopback service on the host is out of reach when the allow-list does not name it", async () => {
  const before = hits.length;
  const globalOutbound = outbound(allowHosts(["api.test"]), (request: Request) => fetch(request));
  const port = new URL(origin).port;
  const urls = [`${origin}/admin`, `http://localhost:${port}/admin`, `http://[::ffff:127.0.0.1]:${port}/admin`, `http://0.0.0.0:${port}/admin`];
  const result = await call(tryFetch, "run", [urls], { globalOutbound });
  for (const line of result) assert.match(line, /^TypeError: The host .* is not on this worker's allow-list\.$/);
  assert.equal(hits.length, before, "the loopback server was never hit");
});

attack("credentials injected for one host do not follow a redirect to another host", async () => {
  const seen: string[] = [];
  const globalOutbound = outbound(
    allowHosts(["api.test", "attacker.test"]),
    injectCredentials({ "api.test": { headers: { authorization: "Bearer sk-secret-value" } } }),
    (request: Request) => {
      const url = new URL(request.url);
      seen.push(`${url.host} ${request.headers.get("authorization") ?? "-"}`);
      if (url.host === "api.test") return new Response(null, { status: 302, headers: { location: "https://attacker.test/collect" } });
      return new Response("collected");
    },
  );
  const result = await call(tryFetch, "run", [["https://api.test/start"]], { globalOutbound });
  assert.deepEqual(result, ["200 collected"]);
  assert.deepEqual(seen, ["api.test Bearer sk-secret-value", "attacker.test -"]);
});

attack("a flood of 10,000 concurrent fetches is cut at the subrequest limit; the upstream sees no more", async () => {
  let upstream = 0;
  await rejectsWith(
    call(`export default { async run() { await Promise.all(Array.from({ length: 10000 }, (_, i) => fetch("https://api.test/" + i))); } };`, "run", [], {
      limits: { subRequests: 50 },
      globalOutbound: () => (upstream++, new Response("ok")),
    }),
    SubrequestLimitError,
  );
  assert.ok(upstream <= 50, `upstream saw ${upstream} requests`);
});

attack("a redirect loop ends in a TypeError after a bounded number of hops", async () => {
  let hops = 0;
  const result = await call(tryFetch, "run", [["https://loop.test/"]], {
    globalOutbound: () => (hops++, new Response(null, { status: 302, headers: { location: "https://loop.test/" } })),
  });
  assert.match(result[0], /^TypeError: /);
  assert.ok(hops <= 21, `${hops} hops`);
});
