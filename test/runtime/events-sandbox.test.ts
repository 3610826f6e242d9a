// The events chunk's globals inside a real sandbox: DOMException, EventTarget, AbortController and
// AbortSignal, structuredClone, atob/btoa and scheduler, loaded lazily by the isolate's runtime.

import { test } from "node:test";
import assert from "node:assert/strict";
import { WorkerLoader, type TailEvent } from "islet";
import { js, sleep } from "../helpers.ts";

const loader = new WorkerLoader();
test.after(() => loader.close());

function run(body: string, extra?: Parameters<typeof js>[1]): Promise<unknown> {
  return loader.load(js(`export default { async run() { ${body} } };`, extra)).getEntrypoint().run() as Promise<unknown>;
}

test("DOMException is an Error with a code, a stack and the class string", async () => {
  assert.deepEqual(
    await run(`
      const e = new DOMException("gone", "NotFoundError");
      return [e instanceof Error, e instanceof DOMException, e.name, e.message, e.code, DOMException.NOT_FOUND_ERR, String(e),
        e.stack.split("\\n")[0], Object.prototype.toString.call(e), DOMException.name, Object.getPrototypeOf(DOMException.prototype) === Error.prototype];
    `),
    [true, true, "NotFoundError", "gone", 8, 8, "NotFoundError: gone", "NotFoundError: gone", "[object DOMException]", "DOMException", true],
  );
});

test("EventTarget dispatches, and a throwing listener is reported as uncaught without stopping the others", async () => {
  const events: TailEvent[] = [];
  const result = await run(
    `
      const target = new EventTarget();
      const seen = [];
      target.addEventListener("ping", (e) => seen.push(["capture", e.eventPhase]), { capture: true });
      target.addEventListener("ping", () => { throw new RangeError("listener failed"); });
      target.addEventListener("ping", { handleEvent: (e) => seen.push(["object", e.detail, e.isTrusted]) }, { once: true });
      const first = target.dispatchEvent(new CustomEvent("ping", { detail: 7, cancelable: true }));
      target.dispatchEvent(new CustomEvent("ping", { detail: 8 }));
      const stamp = new Event("x").timeStamp === performance.now();
      return [first, seen, stamp];
    `,
    { tails: [(batch) => void events.push(...batch)] },
  );
  assert.deepEqual(result, [true, [["capture", 2], ["object", 7, false], ["capture", 2]], true]);
  const errors = events.flatMap((event) => event.logs).filter((log) => log.level === "error");
  assert.equal(errors.length, 2);
  assert.match(String(errors[0].message[0]), /^Uncaught RangeError: listener failed\n\s+at /);
  assert.equal(events[0].outcome, "ok");
});

test("AbortSignal.timeout aborts with a TimeoutError while the invocation is in flight", async () => {
  assert.deepEqual(
    await run(`
      const signal = AbortSignal.timeout(10);
      const event = await new Promise((resolve) => signal.addEventListener("abort", resolve));
      return [signal.aborted, signal.reason.name, signal.reason instanceof DOMException, event.isTrusted, event.type];
    `),
    [true, "TimeoutError", true, true, "abort"],
  );
});

test("a timeout that comes due after its invocation ended does not abort (runtime timers fire only during an invocation)", async () => {
  const stub = loader.get("events-late-timeout", () =>
    js(`export default { arm() { globalThis.signal = AbortSignal.timeout(10); return "armed"; },
      async check() { await scheduler.wait(30); return globalThis.signal.aborted; } };`),
  );
  assert.equal(await stub.getEntrypoint().arm(), "armed");
  await sleep(40);
  assert.equal(await stub.getEntrypoint().check(), false);
});

test("AbortController, AbortSignal.any and scheduler.wait work together", async () => {
  assert.deepEqual(
    await run(`
      const controller = new AbortController();
      const any = AbortSignal.any([controller.signal, AbortSignal.timeout(60_000)]);
      const order = [];
      any.onabort = () => order.push("any");
      setTimeout(() => controller.abort(new Error("stop")), 5);
      const waited = await scheduler.wait(10_000, { signal: any }).then(() => "resolved", (reason) => reason.message);
      const plain = await scheduler.wait(5);
      let early;
      try { await scheduler.wait(1, { signal: AbortSignal.abort() }); } catch (error) { early = [error.name, error instanceof DOMException]; }
      return [waited, plain, early, order, any.reason === controller.signal.reason];
    `),
    ["stop", undefined, ["AbortError", true], ["any"], true],
  );
});

test("structuredClone copies a Map with cycles, shared buffers and errors, and refuses functions", async () => {
  assert.deepEqual(
    await run(`
      const map = new Map();
      const buffer = new ArrayBuffer(8);
      map.set("self", map);
      map.set("views", [new Uint8Array(buffer, 0, 4), new DataView(buffer, 4)]);
      map.set("error", new TypeError("bad", { cause: map }));
      map.set("when", new Date(5));
      const copy = structuredClone(map);
      const [bytes, view] = copy.get("views");
      let refused;
      try { structuredClone({ f() {} }); } catch (error) { refused = [error instanceof DOMException, error.name, error.code]; }
      return [
        copy !== map, copy.get("self") === copy, bytes.buffer === view.buffer, bytes.buffer !== buffer,
        copy.get("error") instanceof TypeError, copy.get("error").cause === copy, copy.get("when").getTime(), refused,
      ];
    `),
    [true, true, true, true, true, true, 5, [true, "DataCloneError", 25]],
  );
});

test("structuredClone copies the web chunk's Blob and File", async () => {
  assert.deepEqual(
    await run(`
      const file = new File(["hello"], "a.txt", { type: "text/plain", lastModified: 42 });
      const [blob, copy] = structuredClone([new Blob(["xy"]), file]);
      return [blob instanceof Blob, await blob.text(), copy instanceof File, copy !== file, copy.name, copy.lastModified, await copy.text()];
    `),
    [true, "xy", true, true, "a.txt", 42, "hello"],
  );
});

test("atob and btoa", async () => {
  assert.deepEqual(
    await run(`
      let bad;
      try { atob("a"); } catch (error) { bad = [error.name, error.code, error instanceof DOMException]; }
      return [btoa("hi\\u00ff"), atob(" aGn/ "), bad];
    `),
    ["aGn/", "hi\u00ff", ["InvalidCharacterError", 5, true]],
  );
});

test("replacing the DOMException global does not change the runtime's own exceptions", async () => {
  assert.deepEqual(
    await run(`
      globalThis.DOMException = class Impostor {};
      const controller = new AbortController();
      controller.abort();
      const reason = controller.signal.reason;
      let cloneError;
      try { structuredClone(Symbol()); } catch (error) { cloneError = error; }
      return [reason.name, reason instanceof Error, reason instanceof DOMException, Object.prototype.toString.call(reason),
        cloneError.name, Object.getPrototypeOf(reason) === Object.getPrototypeOf(cloneError)];
    `),
    ["AbortError", true, false, "[object DOMException]", "DataCloneError", true],
  );
});

test("a DOMException thrown by the worker reaches the host with its name", async () => {
  await assert.rejects(run(`throw new DOMException("no access", "SecurityError");`), { name: "SecurityError", message: "no access" });
});
