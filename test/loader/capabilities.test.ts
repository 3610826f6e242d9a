// Capabilities between workers: entrypoints passed in env, props and arguments; ctx.exports; and
// hostile code trying to get from a stub to the host object behind it.

import { test } from "node:test";
import assert from "node:assert/strict";
import { RpcTarget, WorkerLoader } from "islet";
import { js } from "../helpers.ts";

const loader = new WorkerLoader();
test.after(() => loader.close());

const counter = loader.load(
  js(`import { WorkerEntrypoint } from "cloudflare:workers";
  let count = 0;
  export default class extends WorkerEntrypoint {
    increment(by) { count += by; return count; }
    whoAmI() { return this.ctx.props.name ?? "nobody"; }
  }`),
);

test("one worker's entrypoint works in another's env, props and call arguments", async () => {
  const caller = loader.load(
    js(`import { WorkerEntrypoint } from "cloudflare:workers";
    export default class extends WorkerEntrypoint {
      viaEnv() { return this.env.COUNTER.increment(1); }
      viaProps() { return this.ctx.props.counter.increment(10); }
      viaArgument(counter) { return counter.increment(100); }
      named(counter) { return counter.whoAmI(); }
    }`, { env: { COUNTER: counter.getEntrypoint() } }),
  );
  const ep = caller.getEntrypoint(undefined, { props: { counter: counter.getEntrypoint() } }) as any;
  assert.equal(await ep.viaEnv(), 1);
  assert.equal(await ep.viaProps(), 11);
  assert.equal(await ep.viaArgument(counter.getEntrypoint()), 111);
  assert.equal(await ep.named(counter.getEntrypoint(undefined, { props: { name: "alice" } })), "alice");
});

test("ctx.exports gives loopback stubs to the worker's own entrypoints", async () => {
  const ep = loader.load(
    js(`import { WorkerEntrypoint } from "cloudflare:workers";
    export class Helper extends WorkerEntrypoint { double(x) { return x * 2; } }
    export default class extends WorkerEntrypoint { run(x) { return this.ctx.exports.Helper.double(x); } }`),
  ).getEntrypoint() as any;
  assert.equal(await ep.run(21), 42);
});

class Vault extends RpcTarget {
  secret = "host-only-value";
  open() {
    return "opened";
  }
}

test("a stub leads to nothing but its methods: no host object, no host Function", async () => {
  const vault = new Vault();
  const probe = loader.load(
    js(`export default { async probe(vault) {
      const out = {};
      const tryIt = async (name, fn) => { try { out[name] = await fn(); } catch (e) { out[name] = "threw " + e.name; } };
      await tryIt("open", () => vault.open());
      await tryIt("secret", () => vault.secret);
      await tryIt("ctorProcess", () => vault.constructor.constructor("return typeof process")());
      await tryIt("protoProcess", () => Object.getPrototypeOf(vault).constructor.constructor("return typeof process")());
      await tryIt("callCtor", () => vault.constructor("return process"));
      await tryIt("names", () => Object.getOwnPropertyNames(vault).join(","));
      await tryIt("toString", () => vault.toString());
      await tryIt("then", () => typeof vault.then);
      await tryIt("dunder", () => vault.__proto__);
      return out;
    } };`),
  ).getEntrypoint() as any;
  const out = await probe.probe(vault);
  assert.equal(out.open, "opened");
  assert.notEqual(out.secret, "host-only-value");
  // Whatever Function the sandbox reaches is its own: the host's `process` is never in scope.
  for (const key of ["ctorProcess", "protoProcess", "callCtor"]) assert.ok(out[key] === "undefined" || String(out[key]).startsWith("threw"), `${key}: ${out[key]}`);
  assert.ok(!JSON.stringify(out).includes("host-only-value"));
});

test("a capability handed back to the host is the host's own object again", async () => {
  const vault = new Vault();
  const ep = loader.load(js(`export default { give(v) { return { back: v }; } };`)).getEntrypoint() as any;
  const { back } = await ep.give(vault);
  assert.equal(back, vault);
});
