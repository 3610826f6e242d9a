// The one error-record codec (src/protocol/errors.ts) and islet's class lookup for it (src/errors.ts).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { errorFromRecord, errorToRecord } from "../../src/protocol/errors.ts";
import { CpuLimitError, IsletError, isIsletErrorClass, isletError, SandboxProcessError, WorkerCodeError } from "../../src/errors.ts";
import { errorFromWire, errorToWire } from "../../src/loader/shard/protocol.ts";

describe("error records", () => {
  it("a thrown error becomes name, message and (only when asked) stack", () => {
    const error = new TypeError("bad");
    assert.deepEqual(errorToRecord(error, false), { name: "TypeError", message: "bad" });
    const withStack = errorToRecord(error);
    assert.equal(withStack.stack, error.stack);
  });

  it("a value that is not an object, and an object whose getters throw", () => {
    assert.deepEqual(errorToRecord(42), { name: "Error", message: "Uncaught 42" });
    assert.deepEqual(errorToRecord(Symbol("s")), { name: "Error", message: "Uncaught Symbol(s)" });
    const hostile = {
      get name(): string {
        throw new Error("no");
      },
    };
    assert.deepEqual(errorToRecord(hostile), { name: "Error", message: "" });
  });

  it("an error's data: own enumerable primitives, bounded, checked again when rebuilt", () => {
    const error = Object.assign(new TypeError("t"), { status: 404, code: "E_X", ok: false, none: null, nested: { a: 1 }, fn() {}, long: "x".repeat(5000) });
    const record = errorToRecord(error, false);
    assert.deepEqual({ ...record.data }, { status: 404, code: "E_X", ok: false, none: null, long: "x".repeat(1024) });
    assert.deepEqual(errorToRecord(error, false, ["status"]).data && { ...errorToRecord(error, false, ["status"]).data }, { status: 404 }, "only the keys asked for");
    // Keys that name an error's or Object's members, or that start with __, never become data.
    const hostile = Object.assign(new Error("h"), { toString: 1, constructor: 2, then: 3, __defineGetter__: 4, __x: 5, cause: "c", "a-b": 6, ok_1$: 7 });
    assert.deepEqual({ ...errorToRecord(hostile, false).data }, { ok_1$: 7 });
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]));
    assert.equal(Object.keys(errorToRecord(Object.assign(new Error(), many), false).data!).length, 16);
    const throwing = Object.defineProperty(new Error("g"), "bad", { enumerable: true, get() { throw new Error("no"); } });
    assert.equal(errorToRecord(throwing, false).data, undefined);
    // A forged record: the same checks on the way in; the error's own members are never replaced.
    const rebuilt = errorFromRecord({ name: "Error", message: "m", data: { status: 500, toString: "x", __proto__x: 1, obj: { a: 1 }, message: "forged" } });
    assert.equal((rebuilt as Error & { status?: number }).status, 500);
    assert.equal(rebuilt.message, "m");
    assert.equal(Object.prototype.hasOwnProperty.call(rebuilt, "toString"), false);
    assert.deepEqual(Object.keys(rebuilt), ["status"]);
    // A thrown object that is no error says what it held.
    assert.equal(errorToRecord({ code: 42, detail: "gone" }).message, 'Uncaught { code: 42, detail: "gone" }');
  });

  it("rebuilds built-in classes by name, anything else as a named Error; the stack only when kept", () => {
    const range = errorFromRecord({ name: "RangeError", message: "r", stack: "RangeError: r\n    at w.js:1" });
    assert.ok(range instanceof RangeError);
    assert.notEqual(range.stack, "RangeError: r\n    at w.js:1");
    assert.equal(errorFromRecord({ name: "RangeError", message: "r", stack: "S" }, true).stack, "S");
    for (const name of ["toString", "__proto__", "constructor", "CpuLimitError"]) {
      const error = errorFromRecord({ name, message: "m" });
      assert.equal(Object.getPrototypeOf(error), Error.prototype, name);
      assert.equal(error.name, name);
    }
    assert.equal(errorFromRecord({ name: "x".repeat(500), message: "" }).name.length, 200);
    const junk = errorFromRecord("not a record");
    assert.equal(junk.name, "Error");
    assert.equal(junk.message, "");
  });

  it("islet's classes come back as themselves only through the lookup, and only when marked", () => {
    const cpu = errorFromRecord({ name: "CpuLimitError", message: "slow", islet: true }, false, isletError);
    assert.ok(cpu instanceof CpuLimitError);
    assert.ok(!(errorFromRecord({ name: "CpuLimitError", message: "slow" }, false, isletError) instanceof IsletError));
    const code = errorFromRecord({ name: "WorkerCodeError", message: "m", islet: true, module: "a.js" }, false, isletError);
    assert.ok(code instanceof WorkerCodeError);
    assert.equal((code as WorkerCodeError).module, "a.js");
    const died = errorFromRecord({ name: "SandboxProcessError", message: "gone", islet: true, exitCode: 3, signal: null }, false, isletError);
    assert.ok(died instanceof SandboxProcessError);
    assert.equal((died as SandboxProcessError).exitCode, 3);
    // A name that is islet's but not one of the classes that cross: a plain Error of that name.
    assert.equal(Object.getPrototypeOf(errorFromRecord({ name: "InvalidLimitsError", message: "", islet: true }, false, isletError)), Error.prototype);
    assert.ok(isIsletErrorClass(new CpuLimitError("x")));
    assert.ok(!isIsletErrorClass(new Error("x")));
  });

  it("the shard hop keeps islet classes and a sandbox's own errors as in-process", () => {
    const back = errorFromWire(errorToWire(new CpuLimitError("slow"), true), true);
    assert.ok(back instanceof CpuLimitError);
    const user = errorFromWire(errorToWire(new TypeError("t"), false), false);
    assert.ok(user instanceof TypeError);
    assert.equal(user.message, "t");
    const forged = errorFromWire({ name: "CpuLimitError", message: "forged" }, false);
    assert.ok(!(forged instanceof IsletError));
  });
});
