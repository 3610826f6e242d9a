// Egress: a sandbox tries to reach what the host's policy does not allow, to carry the host's
// credentials somewhere else, or to flood the network through the host.

import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { SubrequestLimitError, WorkerLoader, type Fetcher, type TailEvent, type WorkerCode } from "islet";
import { allowHosts, denyPrivateAddresses, injectCredentials, outbound, OutboundError, type LookupFunction } from "islet/outbound";
import { ISOLATION, isolationOptions, js, rejectsWith, securitySuite } from "./harness.ts";

const suite = securitySuite();
const { attack, call } = suite;

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

attack("an upstream that quotes the bearer token without its scheme, or re-encodes a query secret as Go does (* as %2A), hands the sandbox only [redacted]", async () => {
  const TOKEN = "ghp_HeaderS3cretT0ken";
  const QSECRET = "k*Query*S3cret (é)";
  const upstream = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://x");
    if (url.pathname === "/api") {
      const token = (request.headers.authorization ?? "").replace(/^Bearer /, "");
      response.writeHead(401, { "www-authenticate": `Bearer realm="api", error="invalid_token", error_description="token ${token} expired"`, "x-debug-token": token }).end();
      return;
    }
    // Go's url.Values.Encode: every byte outside A-Za-z0-9-._~ percent-encoded, space as +.
    const go = (value: string) => [...Buffer.from(value)].map((b) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : b === 32 ? "+" : "%" + b.toString(16).toUpperCase().padStart(2, "0"))).join("");
    response.writeHead(301, { location: "/dir/?" + [...url.searchParams].map(([k, v]) => `${k}=${go(v)}`).join("&") }).end();
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  try {
    const host = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const globalOutbound = outbound(injectCredentials({ [host]: { headers: { authorization: `Bearer ${TOKEN}` }, query: { key: QSECRET } } }), fetch);
    const code = `export default { async run(u) {
      const a = await fetch(u + "/api");
      const b = await fetch(u + "/dir?x=1", { redirect: "manual" });
      return { wwwAuthenticate: a.headers.get("www-authenticate"), debug: a.headers.get("x-debug-token"), location: b.headers.get("location") };
    } };`;
    const result = await call(code, "run", [`http://${host}`], { globalOutbound });
    assert.deepEqual(result, {
      wwwAuthenticate: 'Bearer realm="api", error="invalid_token", error_description="token [redacted] expired"',
      debug: "[redacted]",
      location: "/dir/?x=1&key=[redacted]",
    });
  } finally {
    upstream.close();
  }
});

attack("a flood of 10,000 concurrent fetches is cut at the subrequest limit; the upstream sees no more", async () => {
  let upstream = 0;
  // Making 10,000 Requests takes the sandbox a few hundred ms of CPU on a busy machine before the
  // 51st reaches the host: this attack is about the subrequest limit, so its loader has CPU to spare.
  const roomy = new WorkerLoader({ ...suite.options, limits: { cpuMs: 10_000, wallMs: 10_000 } });
  try {
    const stub = roomy.load(
      js(`export default { async run() { await Promise.all(Array.from({ length: 10000 }, (_, i) => fetch("https://api.test/" + i))); } };`, {
        limits: { subRequests: 50 },
        globalOutbound: () => (upstream++, new Response("ok")),
      }),
    );
    await rejectsWith((stub.getEntrypoint() as any).run(), SubrequestLimitError);
  } finally {
    await roomy.close();
  }
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

// ---------------------------------------------------------------------------------------------
// Redirects through Node's real fetch against real loopback servers, in every isolation mode. The
// host sends each request with redirect: "manual"; the sandbox's fetch follows every hop itself,
// through globalOutbound again, so the allow-list, credential rules, subrequest limit and audit log
// see each URL. Two servers on 127.0.0.1 with different ports are two origins.

interface Hit {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

async function recordingServer(route: (path: string, method: string) => { status: number; location?: string } | null) {
  const hits: Hit[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const path = request.url ?? "/";
      hits.push({ method: request.method ?? "", path, headers: request.headers, body: Buffer.concat(chunks).toString() });
      const answer = route(path, request.method ?? "GET");
      if (answer !== null) {
        response.writeHead(answer.status, answer.location === undefined ? {} : { location: answer.location });
        response.end("redirecting");
        return;
      }
      response.writeHead(200, { "content-type": "text/plain" });
      response.end(`${request.method} ${path} ${Buffer.concat(chunks).toString()}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { hits, server, origin, host: new URL(origin).host };
}

const follow = `export default { async go(url, init) {
  try {
    const r = await fetch(url, init);
    return { status: r.status, url: r.url, redirected: r.redirected, location: r.headers.get("location"), body: await r.text() };
  } catch (e) { return { error: e.name + ": " + e.message }; }
} };`;

// One mode per run (ISLET_ISOLATION; `npm test` runs all three).
for (const isolation of [ISOLATION]) {
  describe(`redirects through Node's fetch (isolation: "${isolation}")`, () => {
    const traces: TailEvent[] = [];
    const loader = new WorkerLoader({
      ...isolationOptions(isolation),
      limits: { cpuMs: 500, wallMs: 5_000 },
      tails: [(events) => void traces.push(...events)],
    });
    let second: Awaited<ReturnType<typeof recordingServer>>;
    let first: Awaited<ReturnType<typeof recordingServer>>;
    before(async () => {
      second = await recordingServer((path) => (path.startsWith("/chain/") && path !== "/chain/0" ? { status: 302, location: `/chain/${Number(path.slice(7)) - 1}` } : null));
      first = await recordingServer((path) => {
        // A trailing-slash redirect that keeps the query string, as most web frameworks do.
        if (path.startsWith("/dir?")) return { status: 301, location: path.replace("/dir?", "/dir/?") };
        const match = /^\/to\/(\d+)\?(.*)$/.exec(path);
        return match === null ? null : { status: Number(match[1]), location: decodeURIComponent(match[2]) };
      });
    });
    after(async () => {
      await loader.close();
      first.server.close();
      second.server.close();
    });
    const go = (globalOutbound: Fetcher, url: string, init?: RequestInit, limits?: WorkerCode["limits"]) =>
      (loader.load(js(follow, { globalOutbound, limits })).getEntrypoint() as any).go(url, init);
    const lastTrace = () => traces[traces.length - 1].fetches.map((f) => `${f.method} ${f.url} ${f.status ?? f.error}`);

    test("an allowed host that redirects to a host off the allow-list is refused; the other host is never reached", async () => {
      const result = await go(outbound(allowHosts([first.host]), fetch), `${first.origin}/to/302?${encodeURIComponent(`${second.origin}/secret`)}`);
      assert.deepEqual(result, { error: `TypeError: The host ${second.host} is not on this worker's allow-list.` });
      assert.equal(second.hits.length, 0, "the disallowed host was reached");
      assert.deepEqual(lastTrace(), [
        `GET ${first.origin}/to/302?${encodeURIComponent(`${second.origin}/secret`)} 302`,
        `GET ${second.origin}/secret The host ${second.host} is not on this worker's allow-list.`,
      ]);
    });

    test("a custom credential header injected for one origin is not sent to the origin a redirect leads to", async () => {
      const before = second.hits.length;
      const globalOutbound = outbound(
        allowHosts([first.host, second.host]),
        injectCredentials({ [first.host]: { headers: { "x-api-key": "sk-live-secret", authorization: "Bearer sk-other" } } }),
        fetch,
      );
      const result = await go(globalOutbound, `${first.origin}/to/307?${encodeURIComponent(`${second.origin}/collect`)}`);
      assert.equal(result.status, 200);
      assert.equal(result.redirected, true);
      assert.equal(result.url, `${second.origin}/collect`);
      assert.equal(first.hits.at(-1)!.headers["x-api-key"], "sk-live-secret", "the credential reached its own host");
      const hits = second.hits.slice(before);
      assert.equal(hits.length, 1);
      assert.equal(hits[0].headers["x-api-key"], undefined, "the custom credential followed the redirect");
      assert.equal(hits[0].headers.authorization, undefined);
      assert.ok(!JSON.stringify(result).includes("sk-"), "the sandbox saw a credential");
    });

    test("the audit log lists every hop, and every hop counts against subRequests", async () => {
      const globalOutbound = outbound(allowHosts([first.host, second.host]), fetch);
      const result = await go(globalOutbound, `${second.origin}/chain/3`);
      assert.deepEqual(result, { status: 200, url: `${second.origin}/chain/0`, redirected: true, location: null, body: "GET /chain/0 " });
      assert.deepEqual(lastTrace(), [`GET ${second.origin}/chain/3 302`, `GET ${second.origin}/chain/2 302`, `GET ${second.origin}/chain/1 302`, `GET ${second.origin}/chain/0 200`]);
      const before = second.hits.length;
      await rejectsWith(go(globalOutbound, `${second.origin}/chain/3`, undefined, { subRequests: 2 }), SubrequestLimitError);
      assert.equal(second.hits.length - before, 2, "the upstream saw more hops than the limit");
    });

    test('redirect: "manual" hands the sandbox the 3xx with its Location; "error" rejects; neither reaches the target', async () => {
      const before = second.hits.length;
      const globalOutbound = outbound(allowHosts([first.host, second.host]), fetch);
      const url = `${first.origin}/to/302?${encodeURIComponent(`${second.origin}/target`)}`;
      assert.deepEqual(await go(globalOutbound, url, { redirect: "manual" }), { status: 302, url, redirected: false, location: `${second.origin}/target`, body: "redirecting" });
      assert.deepEqual(await go(globalOutbound, url, { redirect: "error" }), { error: 'TypeError: fetch failed: the response is a redirect and the request\'s redirect mode is "error".' });
      assert.equal(second.hits.length, before);
    });

    test("303 turns a POST into a GET without a body; 307 and 308 keep the method and the body", async () => {
      const globalOutbound = outbound(allowHosts([first.host, second.host]), fetch);
      const post = { method: "POST", body: "payload", headers: { "content-type": "text/plain" } };
      const via = (status: number) => `${first.origin}/to/${status}?${encodeURIComponent(`${second.origin}/landing`)}`;
      assert.equal((await go(globalOutbound, via(303), post)).body, "GET /landing ");
      assert.equal(second.hits.at(-1)!.headers["content-type"], undefined);
      assert.equal((await go(globalOutbound, via(302), post)).body, "GET /landing ");
      assert.equal((await go(globalOutbound, via(307), post)).body, "POST /landing payload");
      assert.equal((await go(globalOutbound, via(308), post)).body, "POST /landing payload");
      assert.equal(second.hits.at(-1)!.headers["content-type"], "text/plain");
    });

    test("denyPrivateAddresses: a redirect to loopback or metadata, and a name resolving to loopback at connect time, are refused", async () => {
      const before = first.hits.length + second.hits.length;
      // The connection's own lookup: this name resolves to 127.0.0.1 only when fetch connects.
      const lookup: LookupFunction = (_hostname, options, callback) => (options.all ? callback(null, [{ address: "127.0.0.1", family: 4 }]) : callback(null, "127.0.0.1", 4));
      const secondPort = new URL(second.origin).port;
      const globalOutbound = outbound(
        allowHosts(["public.test", `rebind.test:${secondPort}`, second.host, "169.254.169.254", "[::ffff:127.0.0.1]"]),
        denyPrivateAddresses({ lookup }),
        (request: Request) => {
          // Stands in for a public host (this machine has none) that redirects where it is told.
          const url = new URL(request.url);
          if (url.hostname === "public.test") return new Response(null, { status: 302, headers: { location: decodeURIComponent(url.search.slice(1)) } });
          return fetch(request);
        },
      );
      const refused = /^TypeError: The host \S+ is a private or loopback address, which workers on this server may not reach\.$/;
      for (const target of [`${second.origin}/admin`, "http://169.254.169.254/latest/meta-data/", `http://2130706433:${secondPort}/`, `http://[::ffff:127.0.0.1]:${secondPort}/`]) {
        const result = await go(globalOutbound, `https://public.test/?${encodeURIComponent(target)}`);
        assert.match(result.error ?? JSON.stringify(result), refused, target);
      }
      assert.match((await go(globalOutbound, `http://rebind.test:${secondPort}/admin`)).error, refused);
      assert.equal(first.hits.length + second.hits.length, before, "a loopback server was reached");
    });

    test("injected credentials never come back to the sandbox or its trace: a Location that quotes the query, the followed URL, errors quoting the URL", async () => {
      const before = first.hits.length;
      const SECRET = "SUPERSECRET123";
      const HEADER = "hdr-SECRET-456";
      const globalOutbound = outbound(
        allowHosts([first.host]),
        injectCredentials({ [first.host]: { query: { key: SECRET }, headers: { "x-api-key": HEADER } } }),
        (request: Request) => {
          const path = new URL(request.url).pathname;
          if (path === "/fail") throw new TypeError(`fetch failed for ${request.url} (${request.headers.get("x-api-key")})`);
          if (path === "/refuse") throw new OutboundError(`refused ${request.url} (${request.headers.get("x-api-key")})`);
          return fetch(request);
        },
      );
      const code = `export default { async run(u) {
        const a = await fetch(u + "/dir?x=1", { redirect: "manual" });
        const b = await fetch(u + "/dir?x=1");
        console.log("location", a.headers.get("location"), "url", b.url);
        const failed = [];
        for (const path of ["/fail?x=2", "/refuse?x=3"]) try { await fetch(u + path); } catch (e) { failed.push(e.name + ": " + e.message); console.log(e.message); }
        return { manualLocation: a.headers.get("location"), followedUrl: b.url, followedStatus: b.status, body: await b.text(), failed };
      } };`;
      const result = await (loader.load(js(code, { globalOutbound })).getEntrypoint() as any).run(first.origin);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(result, {
        manualLocation: "/dir/?x=1&key=[redacted]",
        followedUrl: `${first.origin}/dir/?x=1&key=[redacted]`,
        followedStatus: 200,
        body: `GET /dir/?x=1&key=${SECRET} `, // the upstream's body quotes its URL: bodies are not scanned
        // A host error's message stays on the host; an OutboundError's reaches the sandbox, redacted.
        failed: ["TypeError: fetch failed", `TypeError: refused ${first.origin}/refuse?x=3&key=[redacted] ([redacted])`],
      });
      const trace = JSON.stringify(traces[traces.length - 1]);
      assert.ok(!trace.includes(SECRET) && !trace.includes(HEADER), trace);
      assert.match(trace, /dir\/\?x=1&key=\[redacted\]/);
      // The upstream got the credentials on every hop, the followed one included.
      const hops = first.hits.slice(before).filter((hit) => hit.path.startsWith("/dir"));
      assert.deepEqual(hops.map((hit) => `${hit.path} ${hit.headers["x-api-key"]}`), [`/dir?x=1&key=${SECRET} ${HEADER}`, `/dir?x=1&key=${SECRET} ${HEADER}`, `/dir/?x=1&key=${SECRET} ${HEADER}`]);
    });

    test("a redirect loop through real fetch ends after 20 redirects, each one a counted subrequest", async () => {
      const before = second.hits.length;
      const result = await go(outbound(allowHosts([second.host]), fetch), `${second.origin}/chain/40`, undefined, { subRequests: 100 });
      assert.deepEqual(result, { error: "TypeError: fetch failed: more than 20 redirects." });
      assert.equal(second.hits.length - before, 21);
      assert.equal(traces[traces.length - 1].fetches.length, 21);
    });
  });
}
