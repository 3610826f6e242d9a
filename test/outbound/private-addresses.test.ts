// denyPrivateAddresses(): the check is made on the address a connection actually goes to, with
// Node's real fetch against real servers on loopback.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { denyPrivateAddresses, isPrivateAddress, limitBodies, outbound, OutboundError, type LookupFunction } from "../../src/outbound/index.ts";

let v4: Server;
let v6: Server;
let port4 = 0;
let port6 = 0;
const hits: string[] = [];
before(async () => {
  const handler = (request: { url?: string; headers: { host?: string } }, response: { end(body: string): void }) => {
    hits.push(`${request.headers.host} ${request.url}`);
    response.end("internal");
  };
  v4 = createServer(handler);
  v6 = createServer(handler);
  await new Promise<void>((resolve) => v4.listen(0, "127.0.0.1", resolve));
  await new Promise<void>((resolve) => v6.listen(0, "::1", resolve));
  port4 = (v4.address() as AddressInfo).port;
  port6 = (v6.address() as AddressInfo).port;
});
after(() => {
  v4.close();
  v6.close();
});

/** What the chain answers: the body, or the refusal's class and message. */
async function attempt(send: (request: Request) => Promise<Response>, url: string): Promise<string> {
  try {
    return await (await send(new Request(url))).text();
  } catch (error) {
    return `${(error as Error).constructor.name}: ${(error as Error).message}`;
  }
}

test("isPrivateAddress: loopback, RFC 1918, metadata, CGNAT, unspecified, reserved, and IPv6 forms that carry them", () => {
  const refused = [
    "127.0.0.1", "127.255.255.254", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.0.1", "169.254.169.254", "100.64.0.1", "100.127.255.255",
    "0.0.0.0", "0.1.2.3", "192.0.0.8", "198.18.0.1", "224.0.0.1", "255.255.255.255", "240.0.0.1",
    "::", "::1", "[::1]", "fe80::1", "fe80::1%eth0", "fd00::1", "fc00::1", "fec0::1", "ff02::1",
    "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:169.254.169.254", "::ffff:a9fe:a9fe", "::ffff:10.0.0.1", "::127.0.0.1", "::7f00:1",
    "::ffff:0:127.0.0.1", "64:ff9b::127.0.0.1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::1", "2002:7f00:1::1", "2002:a9fe:a9fe::", "2001::1", "2001:db8::1", "100::1",
  ];
  const allowed = ["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "192.0.1.1", "2001:4860:4860::8888", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1", "example.com", "localhost"];
  for (const address of refused) assert.equal(isPrivateAddress(address), true, address);
  for (const address of allowed) assert.equal(isPrivateAddress(address), false, address);
});

test("every spelling of a loopback, unspecified or metadata IP literal is refused before any connection", async () => {
  const send = outbound(denyPrivateAddresses(), fetch);
  const urls = [
    `http://127.0.0.1:${port4}/`, `http://2130706433:${port4}/`, `http://0177.0.0.1:${port4}/`, `http://0x7f.0.0.1:${port4}/`, `http://0x7f000001:${port4}/`,
    `http://127.1:${port4}/`, `http://017700000001:${port4}/`, `http://0.0.0.0:${port4}/`, `http://0:${port4}/`,
    `http://[::1]:${port6}/`, `http://[0:0:0:0:0:0:0:1]:${port6}/`, `http://[::ffff:127.0.0.1]:${port4}/`, `http://[::]:${port6}/`,
    "http://169.254.169.254/latest/meta-data/", "http://[::ffff:169.254.169.254]/", "http://[fd00:ec2::254]/", "http://100.100.100.200/",
    `http://localhost:${port4}/`, `http://LOCALHOST.:${port4}/`, `http://api.localhost:${port4}/`,
  ];
  for (const url of urls) assert.match(await attempt(send, url), /^OutboundError: The host \S+ is a private or loopback address/, url);
  assert.deepEqual(hits, []);
});

test("a hostname that resolves to loopback when fetch connects is refused; the name is resolved once, by the connection", async () => {
  const asked: string[] = [];
  // Stands in for DNS that answers a public address to a checker and 127.0.0.1 to the connection:
  // here the connection's own lookup is the only one, and it says 127.0.0.1 (or ::1).
  const lookup: LookupFunction = (hostname, options, callback) => {
    asked.push(hostname);
    const answers = hostname === "rebind.test" ? [{ address: "127.0.0.1", family: 4 }] : hostname === "rebind6.test" ? [{ address: "::1", family: 6 }] : [{ address: "::ffff:127.0.0.1", family: 6 }];
    if (options.all) callback(null, answers);
    else callback(null, answers[0].address, answers[0].family);
  };
  const send = outbound(limitBodies({ timeoutMs: 5_000 }), denyPrivateAddresses({ lookup }), fetch);
  assert.match(await attempt(send, `http://rebind.test:${port4}/`), /^OutboundError: The host rebind.test is a private or loopback address/);
  assert.match(await attempt(send, `http://rebind6.test:${port6}/`), /^OutboundError: The host rebind6.test is a private or loopback address/);
  assert.match(await attempt(send, `http://mapped.test:${port4}/`), /^OutboundError: The host mapped.test is a private or loopback address/);
  assert.deepEqual(asked, ["rebind.test", "rebind6.test", "mapped.test"]);
  assert.deepEqual(hits, []);
});

test("the same servers answer without the guard, and with it the refusal is an OutboundError the sandbox may read", async () => {
  // Proof that the refusals above are the guard's doing, not an unreachable server.
  assert.equal(await attempt(outbound(fetch), `http://127.0.0.1:${port4}/open`), "internal");
  assert.equal(await attempt(outbound(fetch), `http://[::1]:${port6}/open`), "internal");
  assert.equal(hits.length, 2);
  hits.length = 0;
  const guard = denyPrivateAddresses();
  await assert.rejects(outbound(guard, fetch)(new Request(`http://127.0.0.1:${port4}/`)), OutboundError);
  await guard.close();
});

test("a redirect from an allowed host to loopback or the metadata address is refused at the hop", async () => {
  // The first hop stands in for a public host (this machine has none): it redirects; the next hop
  // goes through Node's real fetch to a real loopback server, which must never be reached.
  const targets = [`http://127.0.0.1:${port4}/admin`, "http://169.254.169.254/latest/meta-data/", `http://localhost:${port4}/admin`, `http://[::ffff:7f00:1]:${port4}/`];
  const guarded = outbound(denyPrivateAddresses(), (request: Request) => {
    const url = new URL(request.url);
    if (url.hostname === "public.test") return new Response(null, { status: 302, headers: { location: decodeURIComponent(url.search.slice(1)) } });
    return fetch(request);
  });
  for (const target of targets) {
    assert.match(await attempt(guarded, `https://public.test/?${encodeURIComponent(target)}`), /^OutboundError: The host \S+ is a private or loopback address/, target);
  }
  assert.deepEqual(hits, []);
});
