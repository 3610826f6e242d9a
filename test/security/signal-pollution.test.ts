// A worker that replaces the methods AbortSignal and AbortController inherit still gets the
// runtime's own signal plumbing: a Request's signal follows its parent, and fetch() abandons its
// host call (and tells the host to abort its request) when its signal aborts. Both used to call
// addEventListener, abort() and the aborted/reason getters through the prototypes (found by the
// fetchsignal helper's review of src/runtime).

import assert from "node:assert/strict";
import { securitySuite } from "./harness.ts";

const { attack, options } = securitySuite({ limits: { cpuMs: 2_000, wallMs: 10_000 } });

const POLLUTE = `
  const EventTargetProto = Object.getPrototypeOf(AbortSignal.prototype);
  EventTargetProto.addEventListener = function () { throw new Error("hijacked addEventListener"); };
  EventTargetProto.removeEventListener = function () { throw new Error("hijacked removeEventListener"); };
  AbortController.prototype.abort = function () { throw new Error("hijacked abort"); };
  Object.defineProperty(AbortSignal.prototype, "aborted", { get() { return false; }, configurable: true });
  Object.defineProperty(AbortSignal.prototype, "reason", { get() { return "hijacked reason"; }, configurable: true });
`;

attack("with AbortSignal's and EventTarget's prototype methods replaced, a Request's signal still follows its parent and fetch() still aborts", async () => {
  const { WorkerLoader } = await import("islet");
  let hostSaw: AbortSignal | undefined;
  const own = new WorkerLoader({ ...options, limits: { cpuMs: 2_000, wallMs: 10_000 } });
  try {
    const worker = own.load({
      compatibilityDate: "2026-11-01",
      mainModule: "m.js",
      modules: {
        "m.js": `export default {
          async run() {
            // A controller made before the pollution (its abort() bound now), and the real getter, to read the result.
            const parent = new AbortController();
            const abortParent = parent.abort.bind(parent);
            const abortedOf = Object.getOwnPropertyDescriptor(AbortSignal.prototype, "aborted").get;
            ${POLLUTE}
            const request = new Request("https://up.example/", { signal: parent.signal });
            const follower = request.signal;
            const pending = fetch("https://up.example/slow", { signal: parent.signal }).then(() => "answered", (e) => e.name);
            await scheduler.wait(50);
            abortParent();
            const outcome = await pending;
            return { outcome, followerAborted: abortedOf.call(follower), same: follower !== parent.signal };
          },
        };`,
      },
      globalOutbound: (request: Request) => {
        hostSaw = request.signal;
        return new Promise<Response>(() => {});
      },
    });
    const result = (await (worker.getEntrypoint() as any).run()) as { outcome: string; same: boolean; followerAborted: boolean };
    assert.equal(result.outcome, "AbortError", "fetch() rejected when its signal aborted");
    assert.equal(result.same, true);
    assert.equal(result.followerAborted, true, "the Request's own signal followed its parent");
    assert.ok(hostSaw !== undefined, "the request reached globalOutbound");
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(hostSaw.aborted, true, "the host's request was aborted");
  } finally {
    await own.close();
  }
});
