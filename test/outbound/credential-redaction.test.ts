// Redaction of injected credentials from what an upstream sends back, against an upstream that
// quotes them the way real servers do: the bearer token alone (RFC 6750's WWW-Authenticate), a
// Basic password decoded, and a query secret re-encoded by whatever encoder the upstream uses
// (Go's url.Values.Encode: RFC 3986 strict, `*` as `%2A`, space as `+`; lower-case hex; doubly
// encoded; raw UTF-8 bytes in a header). Real fetch, a real server on loopback.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { injectCredentials, outbound } from "../../src/outbound/index.ts";

const TOKEN = "ghp_HeaderS3cretT0ken";
const USER = "user";
const PASSWORD = "hunter2-Basic-Pa55";
const QUERY = "q*!'() é€😀+%/=&~Z";

/** Every byte outside RFC 3986's unreserved set percent-encoded (Go's url.QueryEscape, but space as %20). */
function strict(value: string, hex: (byte: number) => string): string {
  let out = "";
  for (const byte of Buffer.from(value, "utf8")) out += /[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : "%" + hex(byte);
  return out;
}
const upper = (byte: number) => byte.toString(16).toUpperCase().padStart(2, "0");
const lower = (byte: number) => byte.toString(16).padStart(2, "0");
const spellings: Record<string, (value: string) => string> = {
  "Go url.Values.Encode (strict, upper-case hex, + for space)": (value) => strict(value, upper).replaceAll("%20", "+"),
  "RFC 3986 strict, upper-case hex": (value) => strict(value, upper),
  "RFC 3986 strict, lower-case hex": (value) => strict(value, lower),
  "lower-case hex, + for space": (value) => strict(value, lower).replaceAll("%20", "+"),
  encodeURIComponent: (value) => encodeURIComponent(value),
  "form (URLSearchParams)": (value) => new URLSearchParams([["", value]]).toString().slice(1),
  "mixed: encodeURIComponent with only * and ( as lower-case escapes": (value) => encodeURIComponent(value).replaceAll("*", "%2a").replaceAll("(", "%28"),
  "Go-style, then encoded again": (value) => encodeURIComponent(strict(value, upper).replaceAll("%20", "+")),
  "lower-case hex, encoded again in upper case": (value) => strict(strict(value, lower), upper),
};

let server: Server;
let host = "";
const received: string[] = [];

before(async () => {
  server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://x");
    const token = (request.headers.authorization ?? "").replace(/^Bearer /, "");
    if (url.pathname === "/api") {
      // RFC 6750 §3: the token quoted without its scheme, in a challenge, a debug header, the status text.
      response.writeHead(401, `Bad token ${token}`, {
        "www-authenticate": `Bearer realm="api", error="invalid_token", error_description="token ${token} expired"`,
        "x-debug-token": token,
        "x-note": "Bearer tokens expire; renew the credential",
        // The token in a header's name (HTTP lower-cases it): found by the fourth outside review.
        [`x-echo-${token}`]: "1",
        [`x-${encodeURIComponent(token)}-seen`]: "1",
        // Its upper-case letters percent-encoded, so that folding the name to lower case keeps them (findings5/35).
        [`x-upper-${token.replace(/[A-Z]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase())}`]: "1",
      });
      response.end();
      return;
    }
    if (url.pathname === "/login") {
      response.writeHead(302, { location: `http://${request.headers.host}/signin?access_token=${encodeURIComponent(token)}&next=%2Fapi` }).end();
      return;
    }
    if (url.pathname === "/basic") {
      const decoded = Buffer.from((request.headers.authorization ?? "").replace(/^Basic /, ""), "base64").toString("utf8");
      response.writeHead(403, { "x-user": decoded, "x-password": decoded.slice(decoded.indexOf(":") + 1), "x-who": decoded.slice(0, decoded.indexOf(":")) }).end();
      return;
    }
    if (url.pathname === "/canon") {
      // A canonicalising redirect that re-encodes the query with the named encoder.
      const key = url.searchParams.get("key") ?? "";
      received.push(key);
      const spell = spellings[url.searchParams.get("spelling") ?? ""];
      const raw = Buffer.from(key, "utf8").toString("latin1"); // the UTF-8 bytes as they go on the wire
      response.writeHead(301, { location: `/canon/?key=${spell(key)}`, "x-echo": `key=${spell(key)}; raw=${raw}` }).end();
      return;
    }
    response.end("ok");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

test("a bearer token quoted without its scheme is redacted: WWW-Authenticate, a custom header, status text, a Location URL, an error, a header's name (dropped); scheme words and ordinary text stay", async () => {
  const send = outbound(injectCredentials({ [host]: { headers: { authorization: `Bearer ${TOKEN}` } } }), fetch);
  const api = await send(new Request(`http://${host}/api`, { redirect: "manual" }));
  assert.equal(api.status, 401);
  assert.equal(api.headers.get("www-authenticate"), 'Bearer realm="api", error="invalid_token", error_description="token [redacted] expired"');
  assert.equal(api.headers.get("x-debug-token"), "[redacted]");
  assert.equal(api.statusText, "Bad token [redacted]");
  // Not a false positive: the scheme word and ordinary words in a response are left alone.
  assert.equal(api.headers.get("x-note"), "Bearer tokens expire; renew the credential");
  // A header whose name quotes the token, in any case, is dropped whole ("[redacted]" cannot be a name).
  assert.deepEqual([...api.headers.keys()].filter((name) => name.includes(TOKEN.toLowerCase())), []);
  assert.ok(![...api.headers.keys()].some((name) => name.startsWith("x-echo-") || name.endsWith("-seen") || name.startsWith("x-upper-")), [...api.headers.keys()].join());
  const login = await send(new Request(`http://${host}/login`, { redirect: "manual" }));
  assert.equal(login.headers.get("location"), `http://${host}/signin?access_token=[redacted]&next=%2Fapi`);

  const failing = outbound(injectCredentials({ "127.0.0.1": { headers: { authorization: `Bearer ${TOKEN}` } } }), (request: Request) => {
    throw new TypeError(`token ${request.headers.get("authorization")?.slice(7)} was refused`);
  });
  await assert.rejects(failing(new Request("http://127.0.0.1:9/x", { redirect: "manual" })), (error: Error) => error.message === "token [redacted] was refused");
});

test("Basic auth: the decoded user:password and the password alone are redacted; a short user name is not", async () => {
  const basic = Buffer.from(`${USER}:${PASSWORD}`).toString("base64");
  const send = outbound(injectCredentials({ [host]: { headers: { authorization: `Basic ${basic}` } } }), fetch);
  const response = await send(new Request(`http://${host}/basic`, { redirect: "manual" }));
  assert.equal(response.headers.get("x-user"), "[redacted]");
  assert.equal(response.headers.get("x-password"), "[redacted]");
  assert.equal(response.headers.get("x-who"), USER);
});

for (const [name] of Object.entries(spellings)) {
  test(`a query secret with * ! ' ( ) space, non-ASCII and reserved characters, re-encoded by the upstream (${name}), is redacted in Location and a header`, async () => {
    const send = outbound(injectCredentials({ [host]: { query: { key: QUERY } } }), fetch);
    const before = received.length;
    const response = await send(new Request(`http://${host}/canon?spelling=${encodeURIComponent(name)}`, { redirect: "manual" }));
    assert.deepEqual(received.slice(before), [QUERY], "the upstream got the secret");
    assert.equal(response.status, 301);
    assert.equal(response.headers.get("location"), "/canon/?key=[redacted]");
    assert.equal(response.headers.get("x-echo"), "key=[redacted]; raw=[redacted]");
  });
}

test("a followed hop after a redacted, re-encoded Location gets the secret again", async () => {
  const send = outbound(injectCredentials({ [host]: { query: { key: QUERY } } }), fetch);
  const before = received.length;
  const response = await send(new Request(`http://${host}/canon?spelling=${encodeURIComponent("Go url.Values.Encode (strict, upper-case hex, + for space)")}`));
  assert.equal(response.status, 200);
  assert.equal(await response.text(), "ok");
  assert.equal(response.url, `http://${host}/canon/?key=[redacted]`);
  assert.deepEqual(received.slice(before), [QUERY]);
});
