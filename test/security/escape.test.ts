// Walks from sandbox values back towards the host: constructors, prototypes, stack frames,
// globals, module namespaces and code generation. Every walk must end in the sandbox's own realm.

import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { RpcTarget } from "islet";
import { securitySuite } from "./harness.ts";

const { attack, call, load } = securitySuite();

/** Evaluated in the sandbox: does this value lead to the sandbox's own Function, with no `process` in reach? */
const SANDBOX_REALM = `const ownRealm = (v) => v.constructor.constructor === Function && v.constructor.constructor("return typeof process + typeof require")() === "undefinedundefined";`;

attack('this.constructor.constructor("return process")() from a handler is a ReferenceError', async () => {
  const result = await call(
    `export default { run() { try { return this.constructor.constructor("return process")(); } catch (e) { return [e.name, e.message]; } } };`,
    "run",
  );
  assert.deepEqual(result, ["ReferenceError", "process is not defined"]);
});

attack("a WorkerEntrypoint's this, env, ctx and props all lead to the sandbox's Function", async () => {
  class Db extends RpcTarget {
    get(): string {
      return "row";
    }
  }
  const stub = load(`import { WorkerEntrypoint } from "cloudflare:workers";
    ${SANDBOX_REALM}
    export class E extends WorkerEntrypoint { run() {
      return [this, this.env, this.ctx, this.ctx.props, this.ctx.props.nested, this.env.list].map(ownRealm);
    } }`, { env: { db: new Db(), list: [1, 2] } });
  const result = await (stub.getEntrypoint("E", { props: { nested: { deep: true } } }) as any).run();
  assert.deepEqual(result, [true, true, true, true, true, true]);
});

attack("promises returned by host functions and RpcTarget methods are the sandbox's promises", async () => {
  class Service extends RpcTarget {
    lookup(): object {
      return { id: 1 };
    }
  }
  const result = await call(
    `${SANDBOX_REALM}
    export default { async run(fn, service) {
      const p = fn(), q = service.lookup();
      return [Object.getPrototypeOf(p) === Promise.prototype, Object.getPrototypeOf(q) === Promise.prototype, ownRealm(p), ownRealm(await p), ownRealm(await q)];
    } };`,
    "run",
    [() => ({ secret: 1 }), new Service()],
  );
  assert.deepEqual(result, [true, true, true, true, true]);
});

attack("every kind of value the host returns is rebuilt with the sandbox's own classes", async () => {
  const values = () => [{}, [], new Date(0), new Map([[1, 2]]), new Set([1]), /x/g, new Uint8Array(2), new ArrayBuffer(2), new DataView(new ArrayBuffer(2)), new RangeError("r"), Object(1n)];
  const result = await call(`${SANDBOX_REALM} export default { async run(get) { return (await get()).map(ownRealm); } };`, "run", [values]);
  assert.deepEqual(result, values().map(() => true));
});

attack("every kind of argument the host passes in is rebuilt with the sandbox's own classes", async () => {
  const args = [{ a: 1 }, [1], new Date(0), new Map(), new Set(), /y/, new Float64Array(1), new ArrayBuffer(1), new TypeError("t"), new Error("e", { cause: { secret: 1 } })];
  const result = await call(
    `${SANDBOX_REALM} export default { run(...args) { return [...args.map(ownRealm), Object.getPrototypeOf(args[9]) === Error.prototype]; } };`,
    "run",
    args,
  );
  assert.deepEqual(result, [...args.map(() => true), true]);
});

attack("a host error reaches the sandbox as name and message only: no cause, own properties or host stack", async () => {
  const hostError = Object.assign(new TypeError("refused"), { code: "E_SECRET", secret: "host-secret-value" });
  (hostError as Error).cause = { token: "host-secret-value" };
  const result = await call(
    `${SANDBOX_REALM}
    export default { async run(fn) { try { await fn(); } catch (e) {
      return [e.name, e.message, Object.keys(e), "cause" in e, e.constructor === TypeError, ownRealm(e), JSON.stringify(e) + String(e.stack)];
    } } };`,
    "run",
    [
      () => {
        throw hostError;
      },
    ],
  );
  assert.deepEqual(result.slice(0, 6), ["TypeError", "refused", [], false, true, true]);
  assert.ok(!result[6].includes("host-secret-value") && !result[6].includes("/work/") && !result[6].includes("node:"), result[6]);
});

attack("a host error that crosses as a value (a result, Promise.allSettled's reason, an argument, env, inside a Map, Set or class instance) arrives as name and message only", async () => {
  // A port nothing listens on: Node's real fetch fails with undici's cause naming the address.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const secretError = () => Object.assign(new RangeError("lookup failed", { cause: new Error("db password=HOST-SECRET") }), { code: "E_HOST", secret: "HOST-SECRET" });
  class Holder {
    error = secretError();
  }
  // The second reason is a DOMException (AbortError): a native error of no standard class, so a plain Error.
  const settle = () => Promise.allSettled([fetch(`http://127.0.0.1:${port}/internal-db`), fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.abort() })]);
  const result = await call(
    `${SANDBOX_REALM}
    import { env } from "cloudflare:workers";
    const describe = (e) => [e.name, e.message, e.constructor.name, ownRealm(e), "cause" in e, Object.getOwnPropertyNames(e).sort().join(","), String(e.stack)];
    export default { async run(settle, fromArgument, values) {
      const [settled, aborted] = await settle();
      const got = await values();
      return [describe(settled.reason), describe(aborted.reason), describe(fromArgument), describe(env.configError), describe(got.error), describe(got.map.get("k")), describe([...got.set][0]), describe(got.holder.error), got.pair[0] === got.pair[1]];
    } };`,
    "run",
    [settle, secretError(), () => { const error = secretError(); return { error, map: new Map([["k", secretError()]]), set: new Set([secretError()]), holder: new Holder(), pair: [error, error] }; }],
    { env: { configError: secretError() } },
  );
  const bare = (name: string, message: string) => [name, message, name, true, false, "message,stack", `${name}: ${message}`];
  assert.deepEqual(result, [bare("TypeError", "fetch failed"), bare("Error", "This operation was aborted"), ...Array.from({ length: 6 }, () => bare("RangeError", "lookup failed")), true]);
  const text = JSON.stringify(result);
  for (const leak of ["HOST-SECRET", "ECONNREFUSED", String(port), "file://", "/work/", "node:", "E_HOST"]) assert.ok(!text.includes(leak), `${leak} reached the sandbox: ${text}`);
});

attack("a Request handed to fetch() and everything reachable from it belong to the sandbox", async () => {
  const stub = load(
    `${SANDBOX_REALM}
    export default { async fetch(request) {
      const reader = request.body.getReader();
      const chunk = await reader.read();
      const reached = [request, request.headers, request.signal, reader, chunk.value, request.body].map(ownRealm);
      return Response.json([...reached, request instanceof Request]);
    } };`,
    {},
  );
  const response = await stub.getEntrypoint().fetch("https://example.test/", { method: "POST", body: "payload" });
  assert.deepEqual(await response.json(), [true, true, true, true, true, true, true]);
});

attack("a Response from globalOutbound carries none of the host's objects or extra properties", async () => {
  const upstream = () => Object.assign(new Response("body", { headers: { "x-a": "1" } }), { secret: "host-secret-value" });
  const result = await call(
    `${SANDBOX_REALM}
    export default { async run() {
      const response = await fetch("https://upstream.test/");
      return [...[response, response.headers, response.body].map(ownRealm), response instanceof Response, response.secret === undefined, await response.text()];
    } };`,
    "run",
    [],
    { globalOutbound: upstream },
  );
  assert.deepEqual(result, [true, true, true, true, true, "body"]);
});

attack("a function stub shows no host source and no caller chain", async () => {
  const hostFunction = function hostOnlyMarker() {
    return "HOST_SOURCE_MARKER";
  };
  const result = await call(
    `export default { run(fn) {
      const tryGet = (f) => { try { return String(f()); } catch (e) { return e.name; } };
      return [String(fn).includes("HOST_SOURCE_MARKER"), fn.name.includes("hostOnlyMarker"), tryGet(() => fn.caller), tryGet(() => fn.arguments), Object.getOwnPropertyNames(fn).includes("prototype") ? typeof fn.prototype.constructor.constructor("return typeof process")() : "none"];
    } };`,
    "run",
    [hostFunction],
  );
  assert.deepEqual(result.slice(0, 4), [false, false, "TypeError", "TypeError"]);
  assert.ok(result[4] === "none" || result[4] === "string");
});

attack("an RpcTarget stub refuses every Object.prototype method and the target's own data", async () => {
  class Vault extends RpcTarget {
    secret = "host-secret-value";
    open(): string {
      return "opened";
    }
  }
  const names = ["constructor", "__proto__", "__defineGetter__", "__lookupGetter__", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "toLocaleString", "valueOf", "toString", "secret", "then"];
  const result = await call(
    `export default { async run(vault, names) {
      const out = [Reflect.getPrototypeOf(vault), Reflect.ownKeys(vault).length, await vault.open()];
      for (const name of names) { try { out.push(await vault[name]("x")); } catch (e) { out.push(e.name + ": " + e.message); } }
      return out;
    } };`,
    "run",
    [new Vault(), names],
  );
  assert.deepEqual(result.slice(0, 3), [null, 0, "opened"]);
  assert.deepEqual(
    result.slice(3),
    names.map((name) => (name === "then" ? "TypeError: vault[name] is not a function" : `TypeError: The RPC receiver does not implement the method "${name}".`)),
  );
});

attack("Error.prepareStackTrace sees only sandbox call sites, also during a host callback", async () => {
  const result = await call(
    `export default { async run(fn) {
      const files = new Set(), receivers = new Set();
      Error.prepareStackTrace = (error, sites) => {
        for (const site of sites) { files.add(String(site.getFileName())); receivers.add(typeof site.getThis()); receivers.add(typeof site.getFunction()); }
        return "captured";
      };
      try { await fn(() => new Error("inside a host callback").stack); } catch (e) { e.stack; }
      new Error("plain").stack;
      return [[...files].sort(), [...receivers].sort()];
    } };`,
    "run",
    [
      async (callback: () => Promise<string>) => {
        assert.equal(await callback(), "captured");
        throw new Error("host failure");
      },
    ],
  );
  const [files, receivers] = result as [string[], string[]];
  for (const file of files) assert.match(file, /^(worker\.js|islet:runtime\.js|null|undefined)$/);
  assert.deepEqual(receivers, ["undefined"]);
});

attack("the sandbox's global scope has no host names and import.meta is empty", async () => {
  const result = await call(
    `export default { run() {
      const names = Object.getOwnPropertyNames(globalThis);
      const hostish = ["process", "require", "module", "exports", "global", "Buffer", "setImmediate", "_ivm", "ivm", "isolatedVm", "__dirname", "__filename", "Deno", "Bun"];
      return [hostish.filter((n) => names.includes(n) || typeof globalThis[n] !== "undefined"), names.filter((n) => /^(islet|ivm|host|_)/i.test(n)), JSON.stringify(import.meta), Object.keys(import.meta)];
    } };`,
    "run",
  );
  assert.deepEqual(result, [[], [], "{}", []]);
});

attack("cloudflare:workers exports only its four names; import() gives the same module, and refuses islet:runtime and islet's generated modules", async () => {
  const result = await call(
    `import * as cf from "cloudflare:workers";
    export default { async run() {
      const dynamic = [];
      for (const specifier of ["islet:runtime", "islet:entry", "islet:require:worker.js", "islet:import:worker.js", "cloudflare:workers"]) {
        try { dynamic.push((await import(specifier)) === cf ? "the same module" : "another module"); } catch (e) { dynamic.push(e.message); }
      }
      return [Object.keys(cf).sort(), dynamic];
    } };`,
    "run",
  );
  const internal = (s: string) => `No such module "${s}" imported from worker.js: it is internal to islet.`;
  assert.deepEqual(result, [
    ["DurableObject", "RpcTarget", "WorkerEntrypoint", "env"],
    [internal("islet:runtime"), internal("islet:entry"), internal("islet:require:worker.js"), internal("islet:import:worker.js"), "the same module"],
  ]);
});

attack("eval, new Function and indirect eval run in the sandbox's scope; setTimeout refuses strings", async () => {
  const result = await call(
    `export default { run() {
      const out = [eval("typeof process"), new Function("return typeof require")(), (0, eval)("typeof module"), Function("return this")() === globalThis];
      try { setTimeout("globalThis.ran = 1", 0); out.push("accepted"); } catch (e) { out.push(e.name); }
      return out;
    } };`,
    "run",
  );
  assert.deepEqual(result, ["undefined", "undefined", "undefined", true, "TypeError"]);
});

attack("import() reaches the worker's own modules only: file, node, data, http, absolute and escaping specifiers are refused, without host detail", async () => {
  // With nodejs_compat, node:fs, node:child_process and node:module import as on workerd (fs in
  // memory, the rest throwing when called: test/runtime/node/long-tail-sandbox.test.ts); what no
  // runtime serves stays refused.
  const specifiers = ["node:test", "test", "node:sea", "_http_agent", "file:///etc/passwd", "data:text/javascript,export default 1", "https://example.com/x.js", "/etc/passwd", "../outside.js", "./../../etc/passwd", "worker.js/../../x.js", "%2e%2e/x.js"];
  const result = await call(
    `const self = { async run(specifiers) {
      const out = [];
      for (const s of specifiers) {
        try { const m = await import(s); out.push(s + " imported: " + Object.keys(m)); } catch (e) { out.push([e.name, e.message, String(e.stack).split("\\n")[0]]); }
      }
      out.push((await import("./worker.js")).default === self ? "itself" : "another");
      return out;
    } };
    export default self;`,
    "run",
    [specifiers],
    { compatibilityFlags: ["nodejs_compat"] },
  );
  assert.equal(result.pop(), "itself");
  assert.equal(result.length, specifiers.length);
  for (let i = 0; i < specifiers.length; i++) {
    const [name, message, firstLine] = result[i] as string[];
    assert.equal(name, "Error", `${specifiers[i]}: ${result[i]}`);
    assert.ok(message.startsWith(`No such module "${specifiers[i]}" imported from worker.js: `), message);
    assert.equal(firstLine, `Error: ${message}`);
  }
});

attack("a small Node Buffer the host passes in carries only its own bytes, not Node's shared allocation pool", async () => {
  const secret = Buffer.from("host-secret-in-the-pool");
  const result = await call(
    `export default { run(small, nested, get) { return get().then((fromHost) => [small.byteLength, small.buffer.byteLength, nested.b.buffer.byteLength, fromHost.buffer.byteLength, new TextDecoder().decode(small)]); } };`,
    "run",
    [Buffer.from("hi"), { b: Buffer.from("abc") }, () => Buffer.from("x")],
  );
  assert.deepEqual(result, [2, 2, 3, 1, "hi"]);
  assert.ok(secret.buffer.byteLength > 1_000, "the host's Buffers do share a pool (else this test proves nothing)");
});

attack("a small Node Buffer inside an instance of a host class, a Map or a Set carries only its own bytes, not Node's pool", async () => {
  class Holder {
    b = Buffer.from("in-a-class");
  }
  const result = await call(
    `export default { run(held, map, set) { return [held.b.buffer.byteLength, Object.getPrototypeOf(held) === Object.prototype, map.get("k").buffer.byteLength, [...set][0].buffer.byteLength]; } };`,
    "run",
    [new Holder(), new Map([["k", Buffer.from("in-a-map")]]), new Set([Buffer.from("in-a-set")])],
  );
  // A class instance crossed whole before: the sandbox read the host's 64 KiB pool through it.
  assert.deepEqual(result, [10, true, 8, 8]);
});

attack("a Uint8Array or DataView the host makes over a small Buffer's memory carries only its own bytes, not Node's pool", async () => {
  const b = Buffer.from("pp");
  assert.ok(b.buffer.byteLength >= Buffer.poolSize, "the Buffer sits in Node's pool (else this test proves nothing)");
  const result = await call(
    `export default { async run(u8, dv, get) { const fromHost = await get(); return [u8.buffer.byteLength, u8.byteOffset, Object.prototype.toString.call(dv), dv.buffer.byteLength, fromHost.buffer.byteLength, [...u8].join()]; } };`,
    "run",
    [new Uint8Array(b.buffer, b.byteOffset, 2), new DataView(b.buffer, b.byteOffset, 2), () => new Uint16Array(b.buffer, b.byteOffset - (b.byteOffset % 2), 1)],
  );
  assert.deepEqual(result, [2, 0, "[object DataView]", 2, 2, "112,112"]);
});
