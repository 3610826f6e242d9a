// Egress control: what a sandbox's fetch() can reach, and what it can learn on the way.

import { test } from "node:test";
import assert from "node:assert/strict";
import { SubrequestLimitError, WorkerLoader, type TailEvent } from "islet";
import { allowHosts, injectCredentials, limitBodies, outbound, OutboundError } from "islet/outbound";
import { js, sleep } from "../helpers.ts";

const loader = new WorkerLoader();
test.after(() => loader.close());

const run = (source: string, extra: Parameters<typeof js>[1] = {}) => (loader.load(js(source, extra)).getEntrypoint() as any).run();

test("by default a loader blocks every fetch, with a message naming the way out", async () => {
  const result = await run(`export default { async run() { try { await fetch("https://example.com/"); return "reached"; } catch (e) { return [e.name, e.message]; } } };`);
  assert.equal(result[0], "TypeError");
  assert.match(result[1], /capabilities \(such as bindings in env\)/);
  const strict = new WorkerLoader({ globalOutbound: () => new Response("from default") });
  try {
    assert.equal(await (strict.load(js(`export default { async run() { return (await fetch("https://x.test/")).text(); } };`)).getEntrypoint() as any).run(), "from default");
    const overridden = strict.load(js(`export default { async run() { try { await fetch("https://x.test/"); } catch (e) { return e.name; } } };`, { globalOutbound: null }));
    assert.equal(await (overridden.getEntrypoint() as any).run(), "TypeError");
  } finally {
    await strict.close();
  }
});

test("globalOutbound sees method, URL, headers and body, and may rewrite or answer", async () => {
  const seen: unknown[] = [];
  const result = await run(
    `export default { async run() {
      const r = await fetch("https://api.test/items?q=1", { method: "POST", headers: { "x-token": "abc", "content-type": "application/json" }, body: JSON.stringify({ a: 1 }) });
      return [r.status, r.headers.get("x-answer"), await r.json(), r.url, r.redirected];
    } };`,
    {
      globalOutbound: async (request: Request) => {
        seen.push(request.method, request.url, request.headers.get("x-token"), await request.text());
        return Response.json({ ok: true }, { status: 201, headers: { "x-answer": "42" } });
      },
    },
  );
  assert.deepEqual(seen, ["POST", "https://api.test/items?q=1", "abc", '{"a":1}']);
  assert.deepEqual(result, [201, "42", { ok: true }, "https://api.test/items?q=1", false]);
});

test("another worker's entrypoint can be the globalOutbound", async () => {
  const upstream = loader.load(js(`export default { async fetch(request) { return new Response("upstream saw " + request.method + " " + new URL(request.url).pathname); } };`));
  const result = await run(`export default { async run() { return (await fetch("https://anything.test/path", { method: "PUT", body: "x" })).text(); } };`, {
    globalOutbound: upstream.getEntrypoint(),
  });
  assert.equal(result, "upstream saw PUT /path");
});

test("redirects are followed in the sandbox, each hop through globalOutbound; manual and error modes", async () => {
  const hops: string[] = [];
  const globalOutbound = outbound(allowHosts(["a.test", "b.test"]), (request: Request) => {
    hops.push(`${request.method} ${request.url}`);
    const url = new URL(request.url);
    if (url.pathname === "/start") return new Response(null, { status: 303, headers: { location: "https://b.test/next" } });
    if (url.pathname === "/next") return new Response(null, { status: 307, headers: { location: "/final" } });
    if (url.pathname === "/evil") return new Response(null, { status: 302, headers: { location: "https://evil.test/steal" } });
    return new Response(`done ${request.method}`);
  });
  const result = await run(
    `export default { async run() {
      const followed = await fetch("https://a.test/start", { method: "POST", body: "payload" });
      const manual = await fetch("https://a.test/start", { method: "POST", body: "p", redirect: "manual" });
      let error; try { await fetch("https://a.test/start", { redirect: "error" }); } catch (e) { error = e.name; }
      let blocked; try { await fetch("https://a.test/evil"); } catch (e) { blocked = e.message; }
      return [await followed.text(), followed.url, followed.redirected, manual.status, manual.headers.get("location"), error, blocked];
    } };`,
    { globalOutbound },
  );
  assert.deepEqual(result.slice(0, 6), ["done GET", "https://b.test/final", true, 303, "https://b.test/next", "TypeError"]);
  assert.match(result[6], /evil\.test is not on this worker's allow-list/);
  assert.deepEqual(hops.slice(0, 3), ["POST https://a.test/start", "GET https://b.test/next", "GET https://b.test/final"]);
});

test("an upstream failure is fetch's TypeError, without the host's details", async () => {
  const result = await run(`export default { async run() { try { await fetch("https://down.test/"); } catch (e) { return [e.name, e.message, String(e.stack)]; } } };`, {
    globalOutbound: () => {
      throw new Error("connect ECONNREFUSED 10.1.2.3:443 at /srv/secret/path.js");
    },
  });
  assert.equal(result[0], "TypeError");
  assert.equal(result[1], "fetch failed");
  assert.ok(!result.join(" ").includes("10.1.2.3") && !result.join(" ").includes("/srv/secret"));
});

test("an aborted fetch rejects with the signal's reason, and the host's request is aborted too", async () => {
  let hostSignal: AbortSignal | undefined;
  const result = await run(
    `export default { async run() {
      const controller = new AbortController();
      const pending = fetch("https://slow.test/", { signal: controller.signal });
      setTimeout(() => controller.abort(), 5);
      try { await pending; return "finished"; } catch (e) { return [e.name, controller.signal.aborted]; }
    } };`,
    {
      globalOutbound: (request: Request) => {
        hostSignal = request.signal;
        return new Promise<Response>((resolve) => setTimeout(() => resolve(new Response("late")), 300));
      },
    },
  );
  assert.deepEqual(result, ["AbortError", true]);
  for (let i = 0; i < 50 && !hostSignal?.aborted; i++) await sleep(2);
  assert.equal(hostSignal?.aborted, true);
});

test("credential injection: the upstream gets the secret, the sandbox can find it nowhere", async () => {
  const SECRET = "sk-live-51f0c0ffee";
  let upstreamSaw: string[] = [];
  const events: TailEvent[] = [];
  const globalOutbound = outbound(
    allowHosts(["api.test"]),
    injectCredentials({ "api.test": { headers: { authorization: `Bearer ${SECRET}` }, query: { key: SECRET } } }),
    (request: Request) => {
      upstreamSaw = [request.headers.get("authorization") ?? "", new URL(request.url).searchParams.get("key") ?? ""];
      if (new URL(request.url).pathname === "/hop") return new Response(null, { status: 302, headers: { location: "https://api.test/landing" } });
      return new Response("ok", { headers: { "x-request-url-length": String(request.url.length) } });
    },
  );
  const seen: string = await run(
    `export default { async run(env) {
      const request = new Request("https://api.test/data");
      const response = await fetch(request);
      const hop = await fetch("https://api.test/hop");
      let failure = ""; try { await fetch("https://other.test/"); } catch (e) { failure = e.message + e.stack; }
      console.log(response.url, [...response.headers]);
      const everything = [
        JSON.stringify([...request.headers]), request.url, response.url, JSON.stringify([...response.headers]), await response.text(),
        hop.url, JSON.stringify([...hop.headers]), await hop.text(), failure,
        JSON.stringify(Object.getOwnPropertyNames(globalThis)), JSON.stringify(this.env ?? null),
      ];
      return everything.join("\\n");
    } };`,
    { globalOutbound, tails: [(e: TailEvent[]) => void events.push(...e)] },
  );
  assert.deepEqual(upstreamSaw, [`Bearer ${SECRET}`, SECRET]);
  assert.ok(!seen.includes(SECRET), "the sandbox saw the secret");
  assert.ok(!JSON.stringify(events).includes(SECRET), "the trace event holds the secret");
  assert.deepEqual(
    events[0].fetches.map((f) => [f.method, f.url, f.status ?? f.error]),
    [
      ["GET", "https://api.test/data", 200],
      ["GET", "https://api.test/hop", 302],
      ["GET", "https://api.test/landing", 200],
      ["GET", "https://other.test/", "The host other.test is not on this worker's allow-list."],
    ],
  );
});

test("limitBodies caps request and response bodies and the time an exchange may take", async () => {
  const globalOutbound = outbound(limitBodies({ maxRequestBytes: 10, maxResponseBytes: 100, timeoutMs: 50 }), async (request: Request) => {
    const url = new URL(request.url);
    if (url.pathname === "/big") return new Response("x".repeat(1000));
    if (url.pathname === "/slow") return new Promise<Response>((resolve) => setTimeout(() => resolve(new Response("late")), 500));
    return new Response(`echo ${await request.text()}`);
  });
  const result = await run(
    `export default { async run() {
      const attempt = async (url, init) => { try { return await (await fetch(url, init)).text(); } catch (e) { return e.name + ": " + e.message; } };
      return [await attempt("https://l.test/ok", { method: "POST", body: "small" }), await attempt("https://l.test/ok", { method: "POST", body: "far too large a body" }), await attempt("https://l.test/big"), await attempt("https://l.test/slow")];
    } };`,
    { globalOutbound },
  );
  assert.equal(result[0], "echo small");
  assert.match(result[1], /^TypeError: The outbound request body is larger than the limit of 10 bytes/);
  assert.match(result[2], /^TypeError: The outbound response body is larger than the limit of 100 bytes/);
  assert.match(result[3], /^TypeError: The outbound request took longer than 50 ms/);
});

test("subRequests counts fetches and binding calls; the next one throws SubrequestLimitError", async () => {
  const result = await run(
    `import { env } from "cloudflare:workers";
    export default { async run() {
      const out = [];
      for (let i = 0; i < 4; i++) { try { await (i % 2 ? fetch("https://x.test/") : env.ping()); out.push("ok"); } catch (e) { out.push(e.name); } }
      return out;
    } };`,
    { globalOutbound: () => new Response("x"), env: { ping: () => "pong" }, limits: { subRequests: 3 } },
  ).catch((error: Error) => error);
  assert.ok(result instanceof SubrequestLimitError, String(result));
});

test("OutboundError is the policy's way to explain a refusal", () => {
  assert.equal(new OutboundError("no").name, "OutboundError");
});

test("a response body streams into the sandbox chunk by chunk, and cancelling reaches the upstream", async () => {
  let releaseSecond!: () => void;
  const secondMayGo = new Promise<void>((resolve) => (releaseSecond = resolve));
  let cancelled = false;
  const globalOutbound = (request: Request) => {
    if (new URL(request.url).pathname === "/endless") {
      return new Response(new ReadableStream({ pull(c) { c.enqueue(new TextEncoder().encode("tick ")); }, cancel() { cancelled = true; } }));
    }
    return new Response(
      new ReadableStream({
        async start(controller) {
          controller.enqueue(new TextEncoder().encode("first;"));
          await secondMayGo;
          controller.enqueue(new TextEncoder().encode("second"));
          controller.close();
        },
      }),
    );
  };
  const ep = loader.load(js(`export default {
    async run(unblock) {
      const response = await fetch("https://stream.test/");
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      const first = decoder.decode((await reader.read()).value);
      await unblock();
      let rest = "";
      for (let r = await reader.read(); !r.done; r = await reader.read()) rest += decoder.decode(r.value);
      const endless = await fetch("https://stream.test/endless");
      const endlessReader = endless.body.getReader();
      await endlessReader.read();
      await endlessReader.cancel();
      return [first, rest];
    },
  };`, { globalOutbound })).getEntrypoint() as any;
  // The sandbox has the first chunk while the upstream still holds back the second.
  assert.deepEqual(await ep.run(() => releaseSecond()), ["first;", "second"]);
  for (let i = 0; i < 50 && !cancelled; i++) await sleep(2);
  assert.equal(cancelled, true);
});

test("a body that fails after the headers fails where the sandbox reads it; a complete one arrives whole", async () => {
  const globalOutbound = (request: Request) => {
    if (new URL(request.url).pathname === "/broken") {
      return new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("part")); c.error(new Error("upstream reset: secret-host-detail")); } }));
    }
    return new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("a")); c.enqueue(new TextEncoder().encode("b")); c.close(); } }), { status: 201 });
  };
  const ep = loader.load(js(`export default {
    async run() {
      const whole = await fetch("https://body.test/whole");
      const broken = await fetch("https://body.test/broken");
      let failure;
      try { await broken.text(); } catch (error) { failure = error.name + ": " + error.message; }
      return [whole.status, await whole.text(), broken.status, failure];
    },
  };`, { globalOutbound })).getEntrypoint() as any;
  const [status, text, brokenStatus, failure] = await ep.run();
  assert.deepEqual([status, text, brokenStatus], [201, "ab", 200]);
  assert.match(failure, /^TypeError: /);
  assert.doesNotMatch(failure, /secret-host-detail/);
});
