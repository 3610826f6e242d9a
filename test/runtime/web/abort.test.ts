// Differential tests: the sandbox's AbortController and AbortSignal against Node's, the DOM
// Standard where Node differs, dependent signals' lifetime, and scheduler.wait.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import "../platform.ts";
import * as events from "../../../src/runtime/web/events/index.ts";
import { namedOutcome } from "./differential.ts";

interface Impl {
  DOMException: typeof globalThis.DOMException;
  Event: typeof globalThis.Event;
  EventTarget: typeof globalThis.EventTarget;
  AbortController: typeof globalThis.AbortController;
  AbortSignal: typeof globalThis.AbortSignal;
}

const ours = events as unknown as Impl;
const node: Impl = { DOMException, Event, EventTarget, AbortController, AbortSignal };

const attempt = namedOutcome;

function assertSame(scenario: (impl: Impl) => unknown, message?: string): unknown {
  const result = attempt(() => scenario(ours));
  assert.deepEqual(result, attempt(() => scenario(node)), message);
  return result;
}

/** What a reason looks like, comparable across implementations. */
function describeReason(reason: unknown, impl: Impl): unknown {
  if (reason instanceof impl.DOMException) return ["DOMException", reason.name, reason.message, reason.code];
  return reason;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("AbortController and AbortSignal against Node", () => {
  it("have the Web IDL shape", () => {
    assertSame(({ AbortController, AbortSignal }) => {
      const members = (object: object) => Object.getOwnPropertyNames(object).sort();
      return [
        members(AbortController.prototype),
        members(AbortSignal.prototype),
        Object.getOwnPropertyNames(AbortSignal).sort(),
        Object.prototype.toString.call(new AbortController()),
        Object.prototype.toString.call(new AbortController().signal),
        new AbortController().signal instanceof EventTargetOf(AbortSignal),
        attempt(() => new (AbortSignal as unknown as new () => unknown)()),
        AbortController.length,
        AbortSignal.length,
      ];
    });
  });

  it("aborts once, with an AbortError by default, and fires a trusted abort event", () => {
    assertSame((impl) => {
      const controller = new impl.AbortController();
      const { signal } = controller;
      const seen: unknown[] = [signal.aborted, signal.reason, controller.signal === signal];
      signal.addEventListener("abort", function (this: unknown, event) {
        seen.push([event.type, event.isTrusted, event.bubbles, event.cancelable, event.target === signal, this === signal, signal.aborted]);
      });
      controller.abort();
      const first = signal.reason;
      controller.abort("again");
      seen.push(signal.aborted, describeReason(signal.reason, impl), signal.reason === first, attempt(() => signal.throwIfAborted()));
      return seen;
    });
  });

  it("keeps any reason but undefined, which means the default", () => {
    assertSame((impl) => {
      const reasons = [null, 0, "", false, { why: 1 }, new Error("e"), undefined];
      return reasons.map((reason) => {
        const controller = new impl.AbortController();
        controller.abort(reason);
        let thrown: unknown;
        try {
          controller.signal.throwIfAborted();
        } catch (error) {
          thrown = error;
        }
        return [describeReason(controller.signal.reason, impl), thrown === controller.signal.reason];
      });
    });
  });

  it("AbortSignal.abort() is born aborted and fires nothing", () => {
    assertSame((impl) => {
      const signal = impl.AbortSignal.abort();
      const withReason = impl.AbortSignal.abort("why");
      return [signal.aborted, describeReason(signal.reason, impl), withReason.reason, impl.AbortSignal.abort(undefined).reason instanceof impl.DOMException];
    });
  });

  it("onabort is an event handler: null by default, called in its place, replaced in place, removed by null", () => {
    assertSame((impl) => {
      const controller = new impl.AbortController();
      const { signal } = controller;
      const calls: string[] = [];
      const initial = signal.onabort;
      signal.addEventListener("abort", () => calls.push("before"));
      signal.onabort = () => calls.push("first handler");
      signal.addEventListener("abort", () => calls.push("after"));
      const handler = function (this: unknown) {
        calls.push(`second handler ${this === signal}`);
      };
      signal.onabort = handler;
      const read = signal.onabort === handler;
      controller.abort();
      const other = new impl.AbortController();
      other.signal.onabort = () => calls.push("removed");
      other.signal.onabort = null;
      other.abort();
      return [initial, read, calls, other.signal.onabort];
    });
  });

  it("dependent signals of AbortSignal.any() follow their sources", () => {
    assertSame((impl) => {
      const a = new impl.AbortController();
      const b = new impl.AbortController();
      const any = impl.AbortSignal.any([a.signal, b.signal]);
      const nested = impl.AbortSignal.any([any]);
      const order: string[] = [];
      a.signal.addEventListener("abort", () => order.push("a"));
      any.addEventListener("abort", () => order.push(`any ${describeReason(any.reason, impl)}`));
      nested.addEventListener("abort", () => order.push(`nested ${nested.reason === any.reason}`));
      const before = [any.aborted, nested.aborted];
      a.abort("reason a");
      b.abort("reason b");
      return [before, order, any.reason, nested.reason];
    });
  });

  it("AbortSignal.any() of aborted signals takes the first one's reason at once", () => {
    assertSame((impl) => {
      const live = new impl.AbortController().signal;
      const first = impl.AbortSignal.abort("first");
      const second = impl.AbortSignal.abort("second");
      const result = impl.AbortSignal.any([live, first, second]);
      const empty = impl.AbortSignal.any([]);
      return [result.aborted, result.reason, empty.aborted, impl.AbortSignal.any([first]) !== first];
    });
  });

  it("AbortSignal.any() rejects what is not an AbortSignal", () => {
    assertSame(({ AbortSignal }) => [
      attempt(() => AbortSignal.any([1 as unknown as AbortSignal])),
      attempt(() => AbortSignal.any([new AbortController().signal, {} as AbortSignal])),
      attempt(() => AbortSignal.any(5 as unknown as AbortSignal[])),
      attempt(() => (AbortSignal.any as () => unknown)()),
    ]);
  });

  it("AbortSignal.timeout() aborts with a TimeoutError", async () => {
    const results = [];
    // Node's timeout timers do not keep the process alive.
    const keepAlive = setTimeout(() => {}, 10_000);
    for (const impl of [ours, node]) {
      const signal = impl.AbortSignal.timeout(5);
      const fired = new Promise<unknown>((resolve) => signal.addEventListener("abort", (event) => resolve(event.isTrusted)));
      const before = signal.aborted;
      results.push([before, await fired, signal.aborted, describeReason(signal.reason, impl)]);
    }
    clearTimeout(keepAlive);
    assert.deepEqual(results[0], results[1]);
    assert.deepEqual(results[0], [false, true, true, ["DOMException", "TimeoutError", "The operation was aborted due to timeout", 23]]);
  });
});

function EventTargetOf(AbortSignalClass: Impl["AbortSignal"]): new () => object {
  return Object.getPrototypeOf(AbortSignalClass) as new () => object;
}

describe("AbortSignal per the DOM Standard (where Node differs)", () => {
  it("has enumerable members, as Web IDL's are (Node 20: not)", () => {
    for (const holder of [events.AbortSignal.prototype, events.AbortController.prototype]) {
      for (const key of Object.getOwnPropertyNames(holder)) {
        if (key !== "constructor") assert.equal(Object.getOwnPropertyDescriptor(holder, key)!.enumerable, true, key);
      }
    }
    for (const key of ["abort", "timeout", "any"]) assert.equal(Object.getOwnPropertyDescriptor(events.AbortSignal, key)!.enumerable, true, key);
  });

  it("marks every dependent aborted before the source's abort event fires", () => {
    const a = new events.AbortController();
    const any = events.AbortSignal.any([a.signal]);
    const nested = events.AbortSignal.any([any, a.signal]);
    const order: unknown[] = [];
    a.signal.addEventListener("abort", () => order.push(["a", any.aborted, nested.aborted]));
    any.addEventListener("abort", () => order.push(["any", nested.aborted]));
    nested.addEventListener("abort", () => order.push(["nested"]));
    a.abort("r");
    assert.deepEqual(order, [["a", true, true], ["any", true], ["nested"]]);
  });

  it("timeout() converts milliseconds as [EnforceRange] unsigned long long", () => {
    // Node 20 throws RangeError for -1 and NaN and TypeError for "5"; Web IDL says TypeError, TypeError, 5.
    for (const bad of [-1, NaN, Infinity, -Infinity, 2 ** 53, Symbol("s"), 1n]) {
      assert.throws(() => events.AbortSignal.timeout(bad as number), TypeError, String(bad));
    }
    assert.throws(() => (events.AbortSignal.timeout as () => unknown)(), TypeError);
    for (const good of ["0", 0.9, -0.5, null, false]) assert.equal(events.AbortSignal.timeout(good as number).aborted, false, String(good));
  });

  it("any() accepts any iterable of signals (Node 20: arrays only)", () => {
    const controller = new events.AbortController();
    const signal = events.AbortSignal.any(new Set([controller.signal, controller.signal]));
    controller.abort("set");
    assert.equal(signal.reason, "set");
    const items = (function* () {
      yield events.AbortSignal.abort("from generator");
    })();
    assert.equal(events.AbortSignal.any(items).reason, "from generator");
  });

  it("a listener's signal may be a dependent signal", () => {
    const controller = new events.AbortController();
    const target = new events.EventTarget();
    const calls: number[] = [];
    target.addEventListener("x", () => calls.push(1), { signal: events.AbortSignal.any([controller.signal]) });
    target.dispatchEvent(new events.Event("x"));
    controller.abort();
    target.dispatchEvent(new events.Event("x"));
    assert.deepEqual(calls, [1]);
  });

  it("onabort ignores values that are not objects and does not call non-callable objects", () => {
    const controller = new events.AbortController();
    const { signal } = controller;
    signal.onabort = 5 as unknown as null;
    assert.equal(signal.onabort, null);
    const object = { handleEvent: () => assert.fail("an event handler is not an EventListener") };
    signal.onabort = object as unknown as null;
    assert.equal(signal.onabort, object);
    controller.abort();
    const descriptor = Object.getOwnPropertyDescriptor(events.AbortSignal.prototype, "onabort")!;
    assert.throws(() => descriptor.get!.call(new events.EventTarget()), TypeError);
  });

  it("reports an onabort handler's exception and still aborts dependents", async () => {
    const { mock } = await import("node:test");
    const errors = mock.method(console, "error", () => {});
    try {
      const controller = new events.AbortController();
      const dependent = events.AbortSignal.any([controller.signal]);
      controller.signal.onabort = () => {
        throw new Error("handler failed");
      };
      controller.abort();
      assert.equal(dependent.aborted, true);
      assert.match(String(errors.mock.calls[0].arguments[0]), /^Uncaught Error: handler failed/);
    } finally {
      errors.mock.restore();
    }
  });
});

describe("Dependent signals' lifetime", () => {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;

  async function collect(): Promise<void> {
    // WeakRef targets stay alive until the current job ends.
    await sleep(0);
    gc();
    await sleep(0);
    gc();
  }

  it("a source does not keep alive dependents nothing observes", async () => {
    const controller = new events.AbortController();
    let dependent: events.AbortSignal | undefined = events.AbortSignal.any([controller.signal]);
    const reference = new WeakRef(dependent);
    dependent = undefined;
    await collect();
    assert.equal(reference.deref(), undefined);
  });

  it("a source keeps alive a dependent with an abort listener, until it is removed", async () => {
    const controller = new events.AbortController();
    const calls: string[] = [];
    const listener = () => calls.push("listened");
    let dependent: events.AbortSignal | undefined = events.AbortSignal.any([controller.signal]);
    dependent.addEventListener("abort", listener);
    const reference = new WeakRef(dependent);
    dependent = undefined;
    await collect();
    assert.notEqual(reference.deref(), undefined);
    reference.deref()!.removeEventListener("abort", listener);
    await collect();
    assert.equal(reference.deref(), undefined);
    // An onabort handler keeps an otherwise unreachable dependent alive too.
    events.AbortSignal.any([controller.signal]).onabort = () => calls.push("handler");
    await collect();
    controller.abort();
    assert.deepEqual(calls, ["handler"]);
  });

  it("a source keeps alive a dependent used as a listener's signal", async () => {
    const controller = new events.AbortController();
    const target = new events.EventTarget();
    const calls: number[] = [];
    target.addEventListener("x", () => calls.push(1), { signal: events.AbortSignal.any([controller.signal]) });
    await collect();
    controller.abort();
    target.dispatchEvent(new events.Event("x"));
    assert.deepEqual(calls, []);
  });
});

describe("scheduler.wait", () => {
  const { scheduler } = events;

  it("resolves with undefined after the delay", async () => {
    const started = performance.now();
    assert.equal(await scheduler.wait(15), undefined);
    assert.ok(performance.now() - started >= 12);
    assert.equal(await scheduler.wait(-5), undefined);
    assert.equal(await scheduler.wait(NaN), undefined);
  });

  it("rejects with the signal's reason when aborted, before or during the wait", async () => {
    await assert.rejects(scheduler.wait(10, { signal: events.AbortSignal.abort("early") }), (reason) => reason === "early");
    const controller = new events.AbortController();
    const waiting = scheduler.wait(10_000, { signal: controller.signal });
    controller.abort();
    await assert.rejects(waiting, (reason: Error) => reason instanceof events.DOMException && reason.name === "AbortError");
    const timeout = events.AbortSignal.timeout(5);
    await assert.rejects(scheduler.wait(10_000, { signal: timeout }), (reason: Error) => reason.name === "TimeoutError");
  });

  it("rejects bad arguments instead of throwing", async () => {
    await assert.rejects(scheduler.wait(1, { signal: {} as AbortSignal }), TypeError);
    await assert.rejects(scheduler.wait(1, 5 as unknown as object), TypeError);
    await assert.rejects(scheduler.wait(Symbol() as unknown as number), TypeError);
    await assert.rejects((scheduler.wait as (ms: number) => Promise<void>).call(undefined, 1), TypeError);
    assert.equal(Object.prototype.toString.call(scheduler), "[object Scheduler]");
  });
});
