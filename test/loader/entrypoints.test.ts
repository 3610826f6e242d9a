import { test } from "node:test";
import assert from "node:assert/strict";
import { WorkerLoader } from "islet";
import { js, sleep } from "../helpers.ts";

const loader = new WorkerLoader();
test.after(() => loader.close());

test("object-style handlers get (request, env, ctx) and return a real Response", async () => {
  const ep = loader.load(js(`
    export default {
      async fetch(request, env, ctx) {
        const body = await request.text();
        return new Response(JSON.stringify({ method: request.method, url: request.url, body, greeting: env.GREETING,
          header: request.headers.get("x-test"), hasWaitUntil: typeof ctx.waitUntil }), {
          status: 201, headers: { "content-type": "application/json", "x-from": "sandbox" } });
      },
    };`, { env: { GREETING: "hello" } })).getEntrypoint();
  const res = await ep.fetch("https://example.com/path?q=1", { method: "POST", body: "hi", headers: { "X-Test": "yes" } });
  assert.ok(res instanceof Response);
  assert.equal(res.status, 201);
  assert.equal(res.headers.get("x-from"), "sandbox");
  assert.deepEqual(await res.json(), { method: "POST", url: "https://example.com/path?q=1", body: "hi", greeting: "hello", header: "yes", hasWaitUntil: "function" });
});

test("WorkerEntrypoint classes see this.env and this.ctx.props; named entrypoints", async () => {
  const stub = loader.load(js(`
    import { WorkerEntrypoint } from "cloudflare:workers";
    export default class extends WorkerEntrypoint {
      greet(name) { return "Hello, " + name + " from " + this.env.PLACE; }
    }
    export class Named extends WorkerEntrypoint {
      greet(name) { return this.ctx.props.greeting + ", " + name; }
    }
    export class Fetchy extends WorkerEntrypoint {
      fetch(request) { return new Response("class fetch " + new URL(request.url).pathname); }
    }`.replace("new URL(request.url).pathname", "request.url"), { env: { PLACE: "islet" } }));
  assert.equal(await stub.getEntrypoint().greet("Alice"), "Hello, Alice from islet");
  assert.equal(await stub.getEntrypoint("Named", { props: { greeting: "Hi" } }).greet("Bob"), "Hi, Bob");
  assert.equal(await stub.getEntrypoint("Named", { props: { greeting: "Yo" } }).greet("Cy"), "Yo, Cy");
  assert.equal(await (await stub.getEntrypoint("Fetchy").fetch("https://x/y")).text(), "class fetch https://x/y");
});

test("missing methods and entrypoints are TypeErrors that name them", async () => {
  const stub = loader.load(js(`export default { a() { return 1; } }; export const data = 5; export class K {}`));
  await assert.rejects(stub.getEntrypoint().nope(), { name: "TypeError", message: 'The RPC receiver does not implement the method "nope".' });
  await assert.rejects(stub.getEntrypoint().fetch("https://x/"), { name: "TypeError", message: "The worker's default export has no fetch() handler." });
  await assert.rejects(stub.getEntrypoint("Missing").a(), { name: "TypeError", message: /entrypoint named "Missing"/ });
  await assert.rejects(stub.getEntrypoint("data").a(), { name: "TypeError", message: /not a class or an object of handlers/ });
  await assert.rejects(stub.getEntrypoint("K").constructor(), { name: "TypeError", message: /method "constructor"/ });
  // The stub sends Object.prototype's names as calls too: typed as Object's methods, they return a promise.
  await assert.rejects(stub.getEntrypoint().toString() as unknown as Promise<string>, { name: "TypeError", message: /method "toString"/ });
  await assert.rejects(stub.getEntrypoint().hasOwnProperty("a") as unknown as Promise<boolean>, { name: "TypeError", message: /method "hasOwnProperty"/ });
});

test("handler exceptions keep their name and message, and the sandbox's stack", async () => {
  const ep = loader.load(js(`
    class QuotaError extends Error { constructor(m) { super(m); this.name = "QuotaError"; } }
    export default {
      type() { null.x; },
      custom() { throw new QuotaError("over quota"); },
      async later() { await 0; throw new RangeError("too far"); },
      str() { throw "a string"; },
    };`)).getEntrypoint();
  await assert.rejects(ep.type(), (e: Error) => e instanceof TypeError && /null/.test(e.message));
  await assert.rejects(ep.custom(), (e: Error) => e.name === "QuotaError" && e.message === "over quota" && /worker\.js/.test(e.stack ?? ""));
  await assert.rejects(ep.later(), (e: Error) => e instanceof RangeError && e.message === "too far");
  await assert.rejects(ep.str(), { message: "Uncaught a string" });
});

test("ctx.waitUntil work finishes after the response, inside the invocation", async () => {
  const events: unknown[] = [];
  const done: string[] = [];
  const ep = loader.load(js(`
    export default { run(_a, env, ctx) {} };
    export class W { constructor(ctx, env) { this.ctx = ctx; this.env = env; }
      run() { this.ctx.waitUntil(new Promise(r => setTimeout(r, 30)).then(() => this.env.done("background"))); return "answered"; } }`, {
    env: { done: (what: string) => void done.push(what) },
    tails: [(e) => void events.push(...e)],
  })).getEntrypoint("W");
  assert.equal(await ep.run(), "answered");
  assert.deepEqual(done, []);
  await sleep(150);
  assert.deepEqual(done, ["background"]);
  assert.equal(events.length, 1);
});

test("ctx.exports gives loopback stubs to the worker's own entrypoints", async () => {
  const ep = loader.load(js(`
    import { WorkerEntrypoint } from "cloudflare:workers";
    export class Helper extends WorkerEntrypoint { twice(n) { return n * 2 + (this.ctx.props.bonus ?? 0); } }
    export default class extends WorkerEntrypoint {
      async run() { return [await this.ctx.exports.Helper.twice(4), await this.ctx.exports.Helper({ props: { bonus: 1 } }).twice(4)]; }
    }`)).getEntrypoint();
  assert.deepEqual(await ep.run(), [8, 9]);
});

test("ctx.exports stubs have fetch() as a service binding's: a Request to the entrypoint's fetch handler (an object of handlers gets env and ctx), its Response back, its waitUntil the caller's; connect() is a named TypeError", async () => {
  const notes: string[] = [];
  const ep = loader.load(
    js(
      `import { WorkerEntrypoint } from "cloudflare:workers";
      export class Api extends WorkerEntrypoint {
        async fetch(request) {
          // Work after the answer stays in flight with the caller's invocation (it was dropped).
          this.ctx.waitUntil(scheduler.wait(30).then(() => this.env.note("waited")));
          return new Response(request.method + " " + new URL(request.url).pathname + " " + (await request.text()) + " " + this.ctx.props.tag, { status: 201, headers: { "x-from": "Api" } });
        }
      }
      export const Plain = { run() { return 1; } };
      export default {
        fetch(request, env, ctx) { return new Response(env.greeting + " " + request.headers.get("x-q") + " " + typeof ctx.waitUntil); },
      };
      export class Caller extends WorkerEntrypoint {
        async run() {
          const ctx = this.ctx;
          const api = await ctx.exports.Api({ props: { tag: "p" } }).fetch("https://self.example/items", { method: "POST", body: "b" });
          const own = await ctx.exports.default.fetch(new Request("https://self.example/", { headers: { "x-q": "q" } }));
          const out = [api.status, api.headers.get("x-from"), await api.text(), await own.text()];
          try { await ctx.exports.Plain.fetch("https://self.example/"); } catch (e) { out.push(e.name + ": " + e.message); }
          try { ctx.exports.Api.connect("self.example:1"); } catch (e) { out.push(e.name); }
          return out;
        }
      }`,
      { env: { greeting: "hi", note: (text: string) => void notes.push(text) } },
    ),
  ).getEntrypoint("Caller") as any;
  assert.deepEqual(await ep.run(), [201, "Api", "POST /items b p", "hi q function", 'TypeError: The entrypoint "Plain" has no fetch() handler.', "TypeError"]);
  for (let i = 0; i < 50 && notes.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(notes, ["waited"]);
});

test("an entrypoint is not thenable and calls are independent", async () => {
  const ep = loader.load(js(`export default { id(x) { return x; } }`)).getEntrypoint();
  assert.equal(await ep, ep);
  assert.deepEqual(await Promise.all([1, 2, 3].map((n) => ep.id(n))), [1, 2, 3]);
});
