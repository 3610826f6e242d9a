// The one capability table (src/protocol/cap-table.ts) behind the host's Peer, the shard Link and
// the runtime: ids, scopes, the cap, release, revoke, close, stub identity, and the members rule,
// which the last tests check end to end on every side (run with ISLET_ISOLATION=thread / process
// for the shard's side).

import { test } from "node:test";
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { RpcTarget, StubDisposedError } from "islet";
import { CapKind, CapTable, classMember, disposeSymbol, targetStub, type CapTableOptions } from "../../src/protocol/cap-table.ts";
import { RpcTarget as HostRpcTarget } from "../../src/rpc/rpc-target.ts";
import { rejectsWith, securitySuite } from "../security/harness.ts";

class Base {}

function table(options: Partial<CapTableOptions> = {}, calls: unknown[][] = [], released: number[] = []): CapTable {
  return new CapTable({
    classify: (value) => (value instanceof Base ? CapKind.Target : -1),
    invoke: async (id, method, args) => {
      calls.push([id, method, args]);
      return "answer";
    },
    release: (id) => released.push(id),
    disposedError: () => new StubDisposedError("disposed"),
    returnedMissing: () => new StubDisposedError("gone"),
    maxExports: 3,
    tooManyExports: "too many exports",
    weakImports: false,
    bases: [Base.prototype],
    ...options,
  });
}

test("exports: one id per value and scope, lookup by id only, release and revoke take it back", () => {
  const caps = table();
  const a = new Base();
  const id = caps.export(a);
  assert.equal(caps.export(a), id, "the same value in the same scope keeps its id");
  const other = caps.export(a, "w2");
  assert.notEqual(other, id, "another scope gets its own id");
  assert.equal(caps.lookup(id), a);
  assert.equal(caps.lookup(String(id)), undefined, "ids are numbers: a string names nothing");
  assert.equal(caps.scopeOf(other), "w2");
  assert.equal(caps.idOf(a, "w2"), other);
  assert.equal(caps.exportedCount, 2);
  assert.equal(caps.revoke(a, "w2"), true);
  assert.equal(caps.lookup(other), undefined, "revoked for w2");
  assert.equal(caps.lookup(id), a, "the other scope's access is left alone");
  assert.equal(caps.revoke(a, "w2"), false);
  caps.release(id);
  assert.equal(caps.lookup(id), undefined);
  assert.equal(caps.exportedCount, 0);
  assert.notEqual(caps.export(a), id, "a released value comes back under a new id (old stubs stay dead)");
});

test("exports: past maxExports a RangeError with the side's message; release makes room; rollback takes back a failed value's exports", () => {
  const caps = table();
  const mark = caps.nextId;
  caps.export(new Base());
  caps.export(new Base());
  caps.export(new Base());
  assert.throws(() => caps.export(new Base()), { name: "RangeError", message: "too many exports" });
  caps.rollback(mark);
  assert.equal(caps.exportedCount, 0);
  caps.export(new Base());
});

test("dropScope forgets which values went to a scope, and the ids it holds still work", () => {
  const caps = table();
  const a = new Base();
  const id = caps.export(a, "w1");
  caps.dropScope("w1");
  assert.equal(caps.lookup(id), a);
  assert.equal(caps.revoke(a, "w1"), false);
});

test("imports: one stub per (kind, id), handed back as the other side's id; returned ids decode to our own object", () => {
  const calls: unknown[][] = [];
  const caps = table({}, calls);
  const fn = caps.importer.import(CapKind.Function, 7) as (...args: unknown[]) => Promise<unknown>;
  const target = caps.importer.import(CapKind.Target, 7) as Record<string, (...args: unknown[]) => Promise<unknown>>;
  assert.equal(typeof fn, "function");
  assert.notEqual(fn, target, "kinds do not share ids");
  assert.equal(caps.importer.import(CapKind.Function, 7), fn, "the same stub again");
  const exporter = caps.exporter();
  assert.equal(exporter.classify(fn), CapKind.Returned);
  assert.equal(exporter.export(fn, CapKind.Returned), 7);
  const own = new Base();
  const id = caps.export(own);
  assert.equal(caps.importer.import(CapKind.Returned, id), own, "our own object, not a stub");
  assert.throws(() => caps.importer.import(CapKind.Returned, 999), StubDisposedError);
  assert.throws(() => caps.importer.import(5 as CapKind, 1), TypeError);
  return Promise.all([fn(1), target.add(2)]).then((answers) => {
    assert.deepEqual(answers, ["answer", "answer"]);
    assert.deepEqual(calls, [
      [7, null, [1]],
      [7, "add", [2]],
    ]);
  });
});

test("stubs: disposing releases once and later calls reject as disposed; close(error) fails every stub with it and sends no release", async () => {
  const released: number[] = [];
  const caps = table({}, [], released);
  const fn = caps.importer.import(CapKind.Function, 1) as any;
  const target = caps.importer.import(CapKind.Target, 2) as any;
  fn[disposeSymbol]();
  fn[disposeSymbol]();
  assert.deepEqual(released, [1]);
  await rejectsWith(fn(), StubDisposedError, /disposed/);
  assert.equal(await target.m(), "answer");
  const own = new Base();
  const id = caps.export(own);
  caps.close(new Error("connection lost"));
  await assert.rejects(target.m(), { message: "connection lost" });
  target[disposeSymbol]();
  assert.deepEqual(released, [1], "no release after close");
  assert.equal(caps.lookup(id), undefined, "exports are dropped");
});

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const tick = () => new Promise((resolve) => setTimeout(resolve, 10));

test("weak imports: a collected stub is released once; an id sent again before its finalizer ran is not released under the new stub", async () => {
  const released: number[] = [];
  const caps = table({ weakImports: true }, [], released);
  // Made and dropped in a job of its own (a WeakRef's target lives until the job that made it ends).
  (() => void caps.importer.import(CapKind.Function, 5))();
  await tick();
  gc();
  // Collected; its finalizer has not run yet. The other side hands the same capability again.
  const again = caps.importer.import(CapKind.Function, 5);
  for (let i = 0; i < 3; i++) await tick();
  assert.deepEqual(released, [], "the capability the new stub stands for is not released under it");
  assert.equal(caps.importedCount, 1);
  assert.equal(typeof again, "function");
  // An adopted token releases its id when it is collected.
  (() => void caps.adopt(9))();
  for (let i = 0; i < 3; i++) {
    await tick();
    gc();
  }
  await tick();
  assert.deepEqual(released, [9]);
});

test("target stubs: `then` is undefined, nothing can be set or defined, symbols are undefined but the brand and dispose", () => {
  const brand = Symbol("brand");
  const dispose = () => {};
  const stub = targetStub({ method: (name) => () => name, dispose, brand }) as any;
  assert.equal(stub.then, undefined);
  assert.equal(stub[Symbol.iterator], undefined);
  assert.equal(stub[brand], true);
  assert.equal(stub[disposeSymbol], dispose);
  assert.equal(stub.anything(), "anything");
  assert.equal(stub.anything, stub.anything, "one function per name");
  assert.throws(() => {
    "use strict";
    stub.x = 1;
  }, TypeError);
  assert.throws(() => Object.defineProperty(stub, "x", { value: 1 }), TypeError);
  assert.equal(disposeSymbol in stub, true);
  assert.equal("anything" in stub, false);
});

test("the members rule: class methods and getters below the base, never own properties, constructor or then", () => {
  class Target extends HostRpcTarget {
    secret: () => string;
    constructor() {
      super();
      this.secret = () => "leak";
    }
    method() {
      return "method";
    }
    get value() {
      return "value";
    }
    then() {
      return "then";
    }
  }
  const target = new Target();
  const bases = [HostRpcTarget.prototype];
  assert.equal(classMember(target, "method", bases)!.call(target), "method");
  assert.equal(classMember(target, "value", bases)!.call(target), "value");
  assert.equal(classMember(target, "secret", bases), undefined, "an own function-valued property is not exposed");
  for (const name of ["constructor", "then", "__proto__", "toString", "hasOwnProperty", 1, Symbol.iterator]) {
    assert.equal(classMember(target, name, bases), undefined, String(name));
  }
});

// The same rule end to end: the host's targets called by a sandbox, a sandbox's targets called by the host.
const { attack, call } = securitySuite();

class HostTarget extends RpcTarget {
  secret: () => string;
  constructor() {
    super();
    this.secret = () => "leaked";
  }
  method(): string {
    return "method";
  }
  get value(): string {
    return "value";
  }
}

attack("the members rule on the host's side: a sandbox reaches an RpcTarget's class methods and getters, not its own function properties", async () => {
  const result = await call(
    `import { WorkerEntrypoint } from "cloudflare:workers";
    export default class extends WorkerEntrypoint {
      async probe() {
        const out = [await this.env.target.method(), await this.env.target.value()];
        try { out.push(await this.env.target.secret()); } catch (e) { out.push(e.name + ": " + e.message); }
        return out;
      }
    }`,
    "probe",
    [],
    { env: { target: new HostTarget() } },
  );
  assert.deepEqual(result, ["method", "value", 'TypeError: The RPC receiver does not implement the method "secret".']);
});

attack("the members rule on the sandbox's side: the host reaches a sandbox RpcTarget's class methods and getters, not its own function properties", async () => {
  const stub = await call(
    `import { RpcTarget } from "cloudflare:workers";
    class Target extends RpcTarget {
      constructor() { super(); this.secret = () => "leaked"; }
      method() { return "method"; }
      get value() { return "value"; }
    }
    export default { make() { return new Target(); } };`,
    "make",
  );
  assert.equal(await stub.method(), "method");
  assert.equal(await stub.value(), "value");
  await rejectsWith(stub.secret(), TypeError, /does not implement the method "secret"/);
});
