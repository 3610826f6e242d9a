// The outbound chain never lets Node's fetch follow a redirect: every request it passes on has
// redirect: "manual", and a host caller's "follow" request is followed by outbound() itself, each
// hop through every policy again. Real fetch, real servers on loopback (two ports, two origins).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { allowHosts, hostMatches, injectCredentials, limitBodies, outbound, OutboundError } from "../../src/outbound/index.ts";

interface Hit {
  path: string;
  method: string;
  headers: IncomingHttpHeaders;
}
let first: Server;
let second: Server;
let v6: Server;
let a = "";
let b = "";
let c = "";
const hits: Record<string, Hit[]> = { a: [], b: [], c: [] };

function serve(name: string): Server {
  return createServer((request, response) => {
    hits[name].push({ path: request.url ?? "", method: request.method ?? "", headers: request.headers });
    const redirect = /^\/to\/(\d+)\?(.*)$/.exec(request.url ?? "");
    if (redirect !== null) {
      response.writeHead(Number(redirect[1]), { location: decodeURIComponent(redirect[2]) });
      response.end();
      return;
    }
    response.end(`${name} ${request.method} ${request.url}`);
  });
}

before(async () => {
  first = serve("a");
  second = serve("b");
  v6 = serve("c");
  await new Promise<void>((resolve) => first.listen(0, "127.0.0.1", resolve));
  await new Promise<void>((resolve) => second.listen(0, "127.0.0.1", resolve));
  await new Promise<void>((resolve) => v6.listen(0, "::1", resolve));
  a = `127.0.0.1:${(first.address() as AddressInfo).port}`;
  b = `127.0.0.1:${(second.address() as AddressInfo).port}`;
  c = `[::1]:${(v6.address() as AddressInfo).port}`;
});
after(() => {
  first.close();
  second.close();
  v6.close();
});

const via = (status: number, target: string) => `http://${a}/to/${status}?${encodeURIComponent(target)}`;

test("a host caller's request: the allow-list judges every hop, so a redirect off the list is refused", async () => {
  const before = hits.b.length;
  const send = outbound(allowHosts([a]), fetch);
  await assert.rejects(send(new Request(via(302, `http://${b}/secret`))), (error: Error) => error instanceof OutboundError && error.message === `The host ${b} is not on this worker's allow-list.`);
  assert.equal(hits.b.length, before, "the disallowed host was reached");
});

test("every header injectCredentials adds stays with its own origin; the followed response says where it ended", async () => {
  const send = outbound(
    allowHosts([a, b]),
    injectCredentials({ [a]: { headers: { "x-api-key": "sk-live-1", "x-tenant": "acme", authorization: "Bearer sk-2" } } }),
    limitBodies({ maxResponseBytes: 1000 }),
    fetch,
  );
  const response = await send(new Request(via(307, `http://${b}/landing`), { headers: { "x-mine": "kept" } }));
  assert.equal(await response.text(), "b GET /landing");
  assert.equal(response.redirected, true);
  assert.equal(response.url, `http://${b}/landing`);
  assert.equal(hits.a.at(-1)!.headers["x-api-key"], "sk-live-1");
  const landed = hits.b.at(-1)!.headers;
  assert.equal(landed["x-api-key"], undefined);
  assert.equal(landed["x-tenant"], undefined);
  assert.equal(landed.authorization, undefined);
  assert.equal(landed["x-mine"], "kept");
});

test("injectCredentials never hands Node's fetch a request that follows, even in a chain without outbound()", async () => {
  const before = hits.b.length;
  const policy = injectCredentials({ [a]: { headers: { "x-api-key": "sk-live-1" }, query: { key: "sk-q" } } });
  const response = await policy(new Request(via(302, `http://${b}/collect`)), (request) => fetch(request));
  assert.equal(response.status, 302);
  assert.equal(hits.b.length, before, "the credential followed the redirect");
  const headerOnly = injectCredentials({ [a]: { headers: { "x-api-key": "sk-live-1" } } });
  assert.equal((await headerOnly(new Request(via(301, `http://${b}/collect`)), (request) => fetch(request))).status, 301);
  assert.equal(hits.b.length, before);
});

test('redirect: "manual" returns the 3xx; "error" rejects; 303 turns a POST into a GET', async () => {
  const send = outbound(allowHosts([a, b]), fetch);
  const before = hits.b.length;
  const manual = await send(new Request(via(302, `http://${b}/x`), { redirect: "manual" }));
  assert.equal(manual.status, 302);
  assert.equal(manual.headers.get("location"), `http://${b}/x`);
  await assert.rejects(send(new Request(via(302, `http://${b}/x`), { redirect: "error" })), /redirect mode is "error"/);
  assert.equal(hits.b.length, before);
  const posted = await send(new Request(via(303, `http://${b}/after`), { method: "POST", body: "data" }));
  assert.equal(await posted.text(), "b GET /after");
  const kept = await send(new Request(via(308, `http://${b}/after`), { method: "POST", body: "data" }));
  assert.equal(await kept.text(), "b POST /after");
});

test("allowHosts: bracketed IPv6 patterns with and without a port, checked up front", async () => {
  const port = c.slice(c.lastIndexOf(":") + 1);
  for (const pattern of [c, "[::1]", "[0:0:0:0:0:0:0:1]", `[0::1]:${port}`]) {
    assert.equal(await (await outbound(allowHosts([pattern]), fetch)(new Request(`http://${c}/v6`))).text(), "c GET /v6", pattern);
  }
  await assert.rejects(outbound(allowHosts(["[::1]:1"]), fetch)(new Request(`http://${c}/`)), OutboundError);
  await assert.rejects(outbound(allowHosts(["[::2]"]), fetch)(new Request(`http://${c}/`)), OutboundError);
  for (const bad of ["::1", "::1:8080", "[::1", "[::1]8080", "[zz::1]", "example.com:http", "example.com:123456"]) {
    assert.throws(() => allowHosts([bad]), TypeError, bad);
  }
  assert.throws(() => injectCredentials({ "::1": { headers: { a: "b" } } }), TypeError);
});

test("a RegExp pattern with the g or y flag matches the same way on every call", () => {
  for (const pattern of [/^api\.test$/g, /^api\.test$/y, /api\.test/gy]) {
    const results = Array.from({ length: 4 }, () => hostMatches(new URL("https://api.test/"), pattern));
    assert.deepEqual(results, [true, true, true, true], String(pattern));
  }
  const policy = allowHosts([/^api\.test$/g]);
  const answers: string[] = [];
  for (let i = 0; i < 3; i++) {
    try {
      policy(new Request("https://api.test/"), async () => new Response("ok"));
      answers.push("allowed");
    } catch {
      answers.push("refused");
    }
  }
  assert.deepEqual(answers, ["allowed", "allowed", "allowed"]);
});

// An upstream that quotes what it was sent: a trailing-slash 301 that keeps the query string (as
// most web frameworks do), URL-bearing headers that repeat the request URL, and a header and body
// that echo the injected header value.
async function quotingServer(): Promise<{ host: string; seen: string[]; close(): void }> {
  const seen: string[] = [];
  const server = createServer((request, response) => {
    const url = request.url ?? "/";
    seen.push(`${url} ${request.headers["x-api-key"] ?? ""}`);
    if (url.startsWith("/dir?")) {
      response.writeHead(301, { location: url.replace("/dir?", "/dir/?") }).end();
      return;
    }
    const absolute = `http://${request.headers.host}${url}`;
    response.writeHead(200, "OK " + url, {
      "content-location": absolute,
      link: `<${absolute}>; rel="canonical"`,
      refresh: `0; url=${absolute}`,
      "x-echo": `key ${request.headers["x-api-key"] ?? ""}`,
      "set-cookie": ["a=1", `url=${encodeURIComponent(absolute)}`],
    });
    response.end(`body echo ${request.headers["x-api-key"] ?? ""}`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => server.close() };
}

test("injected values never come back: Location, URL-bearing and echoing headers, status text and response.url are redacted; a followed hop gets the credential again", async () => {
  const upstream = await quotingServer();
  try {
    const secret = "sk live/1+2=3";
    const send = outbound(allowHosts([upstream.host]), injectCredentials({ [upstream.host]: { query: { key: secret }, headers: { "x-api-key": "hdr-SECRET-9" } } }), fetch);
    const manual = await send(new Request(`http://${upstream.host}/dir?x=1`, { redirect: "manual" }));
    assert.equal(manual.status, 301);
    assert.equal(manual.headers.get("location"), "/dir/?x=1&key=[redacted]");
    assert.equal(manual.url, `http://${upstream.host}/dir?x=1`);
    const followed = await send(new Request(`http://${upstream.host}/dir?x=1`));
    assert.equal(followed.status, 200);
    assert.equal(followed.redirected, true);
    assert.equal(followed.url, `http://${upstream.host}/dir/?x=1&key=[redacted]`);
    const shown = JSON.stringify({ url: followed.url, statusText: followed.statusText, headers: [...followed.headers], location: manual.headers.get("location") });
    assert.ok(!shown.includes("sk") && !shown.includes("SECRET"), shown);
    assert.equal(followed.headers.get("x-echo"), "key [redacted]");
    assert.equal(followed.headers.get("content-location"), `http://${upstream.host}/dir/?x=1&key=[redacted]`);
    assert.deepEqual(followed.headers.getSetCookie(), ["a=1", `url=${encodeURIComponent(`http://${upstream.host}/dir/?x=1&key=`)}[redacted]`]);
    // Bodies are not scanned: an upstream that echoes a credential in its body hands it over.
    assert.equal(await followed.text(), "body echo hdr-SECRET-9");
    // The upstream got the secret on every hop, the followed one included (set again, not "[redacted]").
    const encoded = new URLSearchParams([["key", secret]]).toString();
    assert.deepEqual(upstream.seen, [`/dir?x=1&${encoded} hdr-SECRET-9`, `/dir?x=1&${encoded} hdr-SECRET-9`, `/dir/?x=1&${encoded} hdr-SECRET-9`]);
  } finally {
    upstream.close();
  }
});

test("an error the rest of the chain throws has the injected values redacted from its message", async () => {
  const send = outbound(
    injectCredentials({ "127.0.0.1": { query: { key: "q-SECRET" }, headers: { authorization: "Bearer h-SECRET" } } }),
    (request: Request) => {
      throw new TypeError(`upstream refused ${request.url} with ${request.headers.get("authorization")}`);
    },
  );
  await assert.rejects(send(new Request("http://127.0.0.1:9/x?y=1", { redirect: "manual" })), (error: Error) => {
    assert.equal(error.name, "TypeError");
    assert.equal(error.message, "upstream refused http://127.0.0.1:9/x?y=1&key=[redacted] with [redacted]");
    return true;
  });
});
