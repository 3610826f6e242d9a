// Values a sandbox hands to the host (results, errors, logs) and values too big or too deep for
// the boundary, in both directions. The host gets a copy or a named error, never a sandbox object,
// and any sandbox code these values carry (getters, traps) runs inside the invocation's limits.

import assert from "node:assert/strict";
import { CpuLimitError, DataCloneError, IsletError, LimitError, MemoryLimitError, WorkerLoader, type TailEvent } from "islet";
import { js, rejectsWith, securitySuite } from "./harness.ts";

const { attack, call, load, options } = securitySuite();

/**
 * Runs `use` with a loader of this suite's mode whose cpuMs is roomy, for attacks about size or
 * depth: walking or copying a big value costs CPU time, which on a busy machine can pass 250 ms
 * before the limit the attack is about is reached.
 */
async function roomy<T>(use: (call: (source: string, method: string, args?: unknown[]) => Promise<any>) => Promise<T>): Promise<T> {
  const loader = new WorkerLoader({ ...options, limits: { cpuMs: 10_000, memoryMb: 32 } });
  try {
    return await use((source, method, args = []) => (loader.load(js(source)).getEntrypoint() as any)[method](...args));
  } finally {
    await loader.close();
  }
}

attack("a Proxy nested deep inside a result is a DataCloneError", async () => {
  await rejectsWith(call(`export default { run() { return { a: [1, { b: new Map([["k", { c: new Proxy({}, {}) }]]) }] }; } };`, "run"), DataCloneError, /could not be cloned/);
});

attack("a revoked Proxy in a result is a DataCloneError", async () => {
  await rejectsWith(call(`export default { run() { const { proxy, revoke } = Proxy.revocable({}, {}); revoke(); return { proxy }; } };`, "run"), DataCloneError, /revoked/);
});

attack("a Proxy whose traps never return is stopped by cpuMs while the boundary inspects it", async () => {
  await rejectsWith(call(`export default { run() { return { p: new Proxy({}, { getPrototypeOf() { for (;;) {} } }) }; } };`, "run"), CpuLimitError);
});

// findings5/01: a host answer holding a getter was lost on its way into the isolate, and the
// sandbox's await hung until wallMs (in-process); thread and process mode copied it.
attack("a host answer holding a getter (a function's result, an RpcTarget method's, inside a Map) is a DataCloneError in the sandbox at once, in every mode", async () => {
  const withGetter = () => Object.defineProperty({ ok: 1 }, "x", { enumerable: true, get: () => 42 });
  const started = performance.now();
  const result = await call(
    `import { env } from "cloudflare:workers";
    export default { async run() {
      const out = [];
      for (const k of ["fn", "nested"]) { try { await env[k](); out.push("accepted"); } catch (e) { out.push(e.name + ": " + e.message.slice(0, 39)); } }
      return out;
    } };`,
    "run",
    [],
    { env: { fn: withGetter, nested: () => [new Map([["k", withGetter()]])] } },
  );
  assert.deepEqual(result, ["DataCloneError: The value holds a getter (property \"x\")", "DataCloneError: The value holds a getter (property \"x\")"]);
  assert.ok(performance.now() - started < 2_500, "refused at once, not at wallMs");
});

attack("a getter that throws while the result is read is a DataCloneError carrying its message", async () => {
  await rejectsWith(call(`export default { run() { return { get secret() { throw new RangeError("getter refused"); } }; } };`, "run"), DataCloneError, /getter refused/);
});

// isolated-vm 7 runs no JavaScript while it copies: a getter that would answer differently (or
// spin) on the copy's read is never called a second time; the copy fails instead.
attack("a getter that spins only on its second read (while isolated-vm copies) is never run again: DataCloneError", async () => {
  await rejectsWith(call(`export default { run() { let reads = 0; return { get x() { if (reads++) for (;;) {} return 1; } }; } };`, "run"), DataCloneError, /holds a getter/);
});

attack("a getter that turns into a function on its second read is a DataCloneError", async () => {
  await rejectsWith(call(`export default { run() { let reads = 0; return { get x() { return reads++ ? () => "smuggled" : 1; } }; } };`, "run"), DataCloneError, /holds a getter/);
});

attack("a result nested 100,000 deep is a DataCloneError, not a stack overflow", async () => {
  await roomy((call) => rejectsWith(call(`export default { run() { const root = {}; let o = root; for (let i = 0; i < 1e5; i++) o = o.a = {}; return root; } };`, "run"), DataCloneError, /nested too deeply/));
});

// findings7c/10: the host's deserializer failed on an argument nested 2,000 deep, and as the
// sandbox's posts are fire-and-forget the call was never answered: it waited for wallMs.
attack("a host call's argument nested 2,000 deep (objects, arrays, Maps) is a DataCloneError in the sandbox at once", async () => {
  const source = `export default { async run(kind, host) {
    let v = {};
    for (let i = 0; i < 2000; i++) v = kind === "object" ? { v } : kind === "array" ? [v] : new Map([["v", v]]);
    try { await host(v); return "sent"; } catch (error) { return error.name + ": " + error.message; }
  } };`;
  // Before, the call waited for wallMs (3 s here) and failed with WallTimeLimitError.
  for (const kind of ["object", "array", "map"]) {
    const answer = (await call(source, "run", [kind, () => "received"])) as string;
    assert.match(answer, /^DataCloneError: .*nested too deeply/, kind);
  }
  // 1,000 levels still cross.
  assert.equal(await call(`export default { async run(host) { let v = {}; for (let i = 0; i < 999; i++) v = { v }; return host(v); } };`, "run", [(v: unknown) => typeof v]), "object");
});

// findings8/02: a sparse array weighed a few bytes and one object, and islet serve turned its
// length into JSON on its event loop (335 MB from a 16 MB sandbox; minutes blocked at 2^32 - 1).
attack("a sparse array's holes weigh as elements: length 2^26 or 2^32 - 1 is refused in a result and in a host call's argument; a short one still crosses", async () => {
  for (const length of ["2 ** 26", "2 ** 32 - 1"]) {
    await rejectsWith(call(`export default { run() { const a = []; a[5] = 1; a.length = ${length}; return a; } };`, "run"), DataCloneError, /at most \d+ bytes/);
    const sent = await call(`export default { async run(host) { const a = []; a.length = ${length}; try { await host(a); return "sent"; } catch (error) { return error.name; } } };`, "run", [() => "received"]);
    assert.equal(sent, "DataCloneError");
  }
  const short = await call(`export default { run() { const a = []; a[3] = "x"; a.length = 1000; return a; } };`, "run");
  assert.equal(short.length, 1000);
  assert.equal(short[3], "x");
  assert.ok(!(0 in short), "holes stay holes");
});

attack("an array result nested 10,000 deep is a DataCloneError", async () => {
  await roomy((call) => rejectsWith(call(`export default { run() { const root = []; let o = root; for (let i = 0; i < 1e4; i++) o = o[0] = []; return root; } };`, "run"), DataCloneError));
});

attack("an argument nested 100,000 deep is a DataCloneError on the host, before the sandbox is entered", async () => {
  const root: Record<string, unknown> = {};
  let node = root;
  for (let i = 0; i < 1e5; i++) node = node.a = {};
  await rejectsWith(call(`export default { run(x) { return typeof x; } };`, "run", [root]), DataCloneError, /nested too deeply/);
});

attack("huge values cross both ways: 16 MiB strings out, a 64 MiB string in and 64 MiB from a host function into a sandbox of 160 MB; one of 32 MB ends when the call returns", async () => {
  // Copying 64 MiB into an isolate takes isolated-vm 7 about 0.3 s on these machines (more when
  // the machine is busy), charged to the call: this is about size, so the CPU limit is roomy.
  const roomy = new WorkerLoader({ ...options, limits: { cpuMs: 10_000, memoryMb: 160 } });
  try {
    const ep = (source: string, memoryMb = 32) => roomy.load(js(source, { limits: { memoryMb } })).getEntrypoint() as any;
    assert.equal((await ep(`export default { run() { return "x".repeat(16 << 20); } };`).run()).length, 16 << 20);
    assert.equal(await ep(`export default { run(big) { return big.length; } };`, 160).run("y".repeat(64 << 20)), 64 << 20);
    assert.equal(await ep(`export default { async run(get) { return (await get()).length; } };`, 160).run(() => "z".repeat(64 << 20)), 64 << 20);
    // V8 places a string copied in outside its heap limit; islet reads the heap when the call ends
    // and ends the sandbox: the next call learns so (or starts a fresh sandbox).
    const small = roomy.load(js(`let kept; export default { run(big) { kept = big; return big.length; }, still() { return kept === undefined ? "gone" : "kept"; } };`, { limits: { memoryMb: 32 } })).getEntrypoint() as any;
    await small.run("y".repeat(64 << 20)).catch((error: Error) => assert.ok(error instanceof MemoryLimitError, String(error)));
    const later = await small.still().catch((error: Error) => (error instanceof MemoryLimitError ? "ended" : String(error)));
    assert.ok(later === "gone" || later === "ended", later);
  } finally {
    await roomy.close();
  }
});

attack("two 64 MiB strings in a 32 MB sandbox exhaust its heap: MemoryLimitError, whichever copy hit the limit", async () => {
  // CPU to spare: copying 64 MiB twice (host to shard to isolate, in thread and process mode) must end on memory.
  await roomy((call) => rejectsWith(call(`export default { async run(big, get) { return [big.length, (await get()).length]; } };`, "run", ["y".repeat(64 << 20), () => "z".repeat(64 << 20)]), MemoryLimitError));
});

attack("a buffer argument larger than the sandbox's memory is refused with RangeError, and the sandbox lives on", async () => {
  // Time to spare: copying 64 MiB beside a CPU hog can take longer than the suite's 3 s wallMs,
  // and this attack is about memory.
  const roomy = new WorkerLoader({ ...options, limits: { cpuMs: 5_000, wallMs: 30_000, memoryMb: 32 } });
  try {
    const stub = roomy.load(js(`export default { size(x) { return x.byteLength; } };`));
    await rejectsWith((stub.getEntrypoint() as any).size(new Uint8Array(64 << 20)), RangeError, /Array buffer allocation failed/);
    assert.equal(await (stub.getEntrypoint() as any).size(new Uint8Array(16)), 16);
  } finally {
    await roomy.close();
  }
});

attack("a million-object argument or result fills the heap: MemoryLimitError, the host unharmed", async () => {
  // CPU to spare, so that memory is the limit reached.
  const roomy = new WorkerLoader({ ...options, limits: { cpuMs: 10_000, memoryMb: 32 } });
  try {
    const ep = (source: string) => roomy.load(js(source)).getEntrypoint() as any;
    await rejectsWith(ep(`export default { run() { return Array.from({ length: 1e6 }, (_, i) => ({ i })); } };`).run(), MemoryLimitError);
    await rejectsWith(ep(`export default { run(x) { return x.length; } };`).run(Array.from({ length: 1e6 }, (_, i) => ({ i }))), MemoryLimitError);
  } finally {
    await roomy.close();
  }
});

attack("a cycle through an object that also carries a function arrives as the same cycle, with a stub", async () => {
  const result = await call(`export default { run() { const o = { name: "loop", f: () => "called" }; o.self = o; o.list = [o]; return o; } };`, "run");
  assert.equal(result.self, result);
  assert.equal(result.list[0], result);
  assert.equal(await result.f(), "called");
});

attack('a "__proto__" key in a result (also beside a function) stays an own property', async () => {
  const result = await call(`export default { run() { const o = JSON.parse('{"__proto__": {"polluted": "yes"}, "inner": {"__proto__": {"polluted": "yes"}}}'); o.inner.f = () => 1; return o; } };`, "run");
  assert.equal(Object.getPrototypeOf(result), Object.prototype);
  assert.equal(result.polluted, undefined);
  assert.deepEqual(Object.keys(result), ["__proto__", "inner"]);
  assert.equal(Object.getOwnPropertyDescriptor(result.inner, "__proto__")?.value.polluted, "yes");
  assert.equal(typeof result.inner.f, "function");
});

attack("an error whose name getter throws arrives as a plain Error", async () => {
  const error = await rejectsWith(call(`export default { run() { throw Object.defineProperty(new TypeError("m"), "name", { get() { throw new Error("no name"); } }); } };`, "run"), Error);
  assert.equal(error.name, "Error");
  assert.ok(!(error instanceof IsletError));
});

attack("a sandbox cannot forge islet's errors: a thrown CpuLimitError or DataCloneError is only a name", async () => {
  for (const name of ["CpuLimitError", "MemoryLimitError", "WorkerDisposedError", "DataCloneError", "StubDisposedError"]) {
    const error = await rejectsWith(call(`export default { run(name) { const e = new Error("forged"); e.name = name; throw e; } };`, "run", [name]), Error);
    assert.equal(error.name, name);
    assert.ok(!(error instanceof IsletError) && !(error instanceof LimitError), `${name} became an islet error`);
  }
});

attack("an error name of a megabyte is cut to 200 characters", async () => {
  const error = await rejectsWith(call(`export default { run() { const e = new Error("m"); e.name = "N".repeat(1 << 20); throw e; } };`, "run"), Error);
  assert.equal(error.name.length, 200);
});

attack("hostile console.log parts (proxies, functions, symbols, throwing getters) arrive as copies or text", async () => {
  const events: TailEvent[] = [];
  const result = await call(
    `export default { run() {
      const { proxy, revoke } = Proxy.revocable({}, {}); revoke();
      console.log(new Proxy({}, {}), proxy, () => 1, Symbol("s"), { get boom() { throw new Error("x"); } }, { toString() { throw new Error("y"); } });
      return "logged";
    } };`,
    "run",
    [],
    { tails: [(e: TailEvent[]) => void events.push(...e)] },
  );
  assert.equal(result, "logged");
  const parts = events[0].logs[0].message;
  assert.equal(parts.length, 6);
  for (const part of parts) assert.ok(typeof part === "string" || (typeof part === "object" && part !== null), typeof part);
});

// Found by the December 2026 review: in-process, an answer isolated-vm cannot copy was dropped and
// the sandbox waited for it until wallMs.
for (const [what, make] of [
  ["a WeakRef", () => new WeakRef({})],
  ["a Proxy", () => new Proxy({}, {})],
  ["a WeakRef nested in an object", () => ({ ok: 1, ref: new WeakRef({}) })],
] as const) {
  attack(`a host function's answer holding ${what} is a DataCloneError in the sandbox, at once`, async () => {
    const started = performance.now();
    const result = await call(`export default { async run(h) { try { await h(); return "no error"; } catch (e) { return e.name; } } };`, "run", [make]);
    assert.equal(result, "DataCloneError");
    assert.ok(performance.now() - started < 2_000, "answered before wallMs");
  });
}

// findings5/07: the runtime's own platform objects (their state is in private fields, which a copy
// does not see) crossed to the host, and to another worker, as `{}`. SECURITY.md P2: any other
// type is a DataCloneError in every direction.
const PLATFORM_OBJECTS: Record<string, string> = {
  Response: `new Response("body", { status: 201, headers: { a: "b" } })`,
  Request: `new Request("https://example.com/", { method: "POST", body: "x" })`,
  Headers: `new Headers({ x: "y" })`,
  URL: `new URL("http://x/?q=1")`,
  URLSearchParams: `new URLSearchParams("a=1")`,
  Blob: `new Blob(["xyz"])`,
  File: `new File(["xyz"], "f.txt")`,
  FormData: `(() => { const f = new FormData(); f.set("a", "b"); return f; })()`,
  AbortSignal: `AbortSignal.abort("why")`,
  AbortController: `new AbortController()`,
  Event: `new Event("x")`,
  EventTarget: `new (class Store extends EventTarget { data = 1; })()`,
  CryptoKey: `crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, true, ["sign"])`,
  TextDecoder: `new TextDecoder()`,
  "Headers Iterator": `new Headers({ x: "y" }).entries()`,
  CompressionStream: `new CompressionStream("gzip")`,
};

attack("the runtime's platform objects in a result are a DataCloneError naming them, not an empty object (findings5/07)", async () => {
  const methods = Object.entries(PLATFORM_OBJECTS).map(([name, make], i) => `async m${i}() { return { nested: [await ${make}] }; }`);
  const stub = load(`export default { ${methods.join(", ")} };`).getEntrypoint() as any;
  const names = Object.keys(PLATFORM_OBJECTS);
  for (let i = 0; i < names.length; i++) await rejectsWith(stub[`m${i}`](), DataCloneError, new RegExp(`${names[i]} object could not be cloned`));
});

attack("a platform object stays refused whatever user code does to its prototype or to the intrinsics (findings5/07)", async () => {
  const stub = load(`export default {
    protoObject() { return Object.setPrototypeOf(new Headers({ a: "b" }), Object.prototype); },
    protoNull() { return { u: Object.setPrototypeOf(new URL("http://x/"), null) }; },
    replaced() {
      WeakMap.prototype.get = () => undefined; WeakMap.prototype.has = () => false;
      Object.defineProperty(Response.prototype, Symbol.toStringTag, { value: "Object" });
      return new Response("x");
    },
  };`).getEntrypoint() as any;
  await rejectsWith(stub.protoObject(), DataCloneError, /Headers object could not be cloned/);
  await rejectsWith(stub.protoNull(), DataCloneError, /URL object could not be cloned/);
  await rejectsWith(stub.replaced(), DataCloneError, /Response object could not be cloned/);
});

attack("objects that only look like platform objects, and class instances, still cross as their own keys (findings5/07)", async () => {
  const result = await call(`export default { run() {
    class Fake { constructor() { this.status = 200; } get [Symbol.toStringTag]() { return "Response"; } }
    const borrowed = Object.create(Headers.prototype); borrowed.x = 1;
    return { fake: new Fake(), borrowed, plain: { constructor: Response.name, a: 1 } };
  } };`, "run");
  assert.deepEqual(result, { fake: { status: 200 }, borrowed: { x: 1 }, plain: { constructor: "Response", a: 1 } });
});

attack("a platform object passed to a host function, or returned to another worker, is a DataCloneError there (findings5/07)", async () => {
  let called = 0;
  const b = load(`export default { url() { return new URL("http://x/"); } };`);
  const out = await call(
    `import { env } from "cloudflare:workers";
    const describe = (e) => e.name + ": " + e.message;
    export default { async run() {
      const host = await env.seen({ h: new Headers() }).then(() => "accepted", describe);
      const worker = await env.B.url().then(() => "accepted", describe);
      return { host, worker };
    } };`,
    "run",
    [],
    { env: { seen: () => ++called, B: b.getEntrypoint() } },
  );
  assert.equal(called, 0, "the host function was never called");
  assert.match(out.host, /^DataCloneError: Headers object could not be cloned/);
  assert.match(out.worker, /^DataCloneError: .*URL object could not be cloned/);
});

// findings5/03: any sandbox error whose message mentioned "DataCloneError" or "could not be cloned"
// reached the host as islet's own DataCloneError. SECURITY.md P2: a sandbox cannot forge islet's errors.
attack("a sandbox error worded like a failed copy stays the sandbox's error, thrown or left unhandled (findings5/03)", async () => {
  const stub = load(`export default {
    thrown(name, message) { const e = new Error(message); e.name = name; throw e; },
    unhandledError() { const e = new TypeError("#<Object> could not be cloned."); e.stack = "TypeError: #<Object> could not be cloned."; Promise.reject(e); return 1; },
    unhandledString() { Promise.reject("#<Object> could not be cloned."); return 1; },
    real() { return { w: new WeakMap() }; },
  };`).getEntrypoint() as any;
  for (const [name, message] of [["Error", "payment declined; DataCloneError"], ["TypeError", "x could not be cloned"], ["DataCloneError", "#<Object> could not be cloned."]]) {
    const error = await rejectsWith(stub.thrown(name, message), Error);
    assert.ok(!(error instanceof IsletError), `${name}(${message}) became ${error.constructor.name}`);
    assert.equal(error.message, message);
  }
  for (const method of ["unhandledError", "unhandledString"]) {
    const error = await rejectsWith(stub[method](), Error);
    assert.ok(!(error instanceof IsletError), `${method} became ${error.constructor.name}: ${error.message}`);
    assert.match(error.message, /#<Object> could not be cloned/);
  }
  // A copy that really failed is still islet's DataCloneError.
  await rejectsWith(stub.real(), DataCloneError, /#<WeakMap> could not be cloned/);
});

// findings5/02: in thread and process isolation, V8's refusal of a host function ("<source> could
// not be cloned.") reached the sandbox quoting the function's source, with any path or key in it.
attack("a DataCloneError for a host function names the kind of value, never its source (findings5/02)", async () => {
  class Client {
    apiKey = "k";
    sign = (body: string) => /* /srv/app/src/billing/client.ts */ `sk_live_51HxSECRETxx${body}`;
  }
  const stub = load(
    `import { env, WorkerEntrypoint } from "cloudflare:workers";
    export default class extends WorkerEntrypoint {
      async fromFn() { try { await env.getClient(); return "accepted"; } catch (e) { return e.name + ": " + e.message; } }
      async fromArg(x) { return "accepted"; }
    }`,
    { env: { getClient: () => ({ client: new Client() }) } },
  ).getEntrypoint() as any;
  const seen = await stub.fromFn();
  assert.match(seen, /^DataCloneError: /);
  assert.doesNotMatch(seen, /sk_live|SECRET|billing|=>/);
  const error = await rejectsWith(stub.fromArg({ client: new Client() }), DataCloneError);
  assert.doesNotMatch(error.message, /sk_live|SECRET|billing|=>/);
});
