// Differential tests: node:events' EventEmitter and helpers against Node's, run side by side on
// the same script of calls; the recorded trace (listener calls, return values, errors) must match.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as nodeEvents from "node:events";
import { nodeModule, outcome } from "./compat.ts";

type Events = typeof nodeEvents;
const ours = nodeModule("events") as unknown as Events["EventEmitter"] & Events;
const node = nodeEvents.EventEmitter as unknown as Events["EventEmitter"] & Events;

/** Runs the same script with both implementations and compares what it recorded. */
function same(label: string, script: (E: Events["EventEmitter"] & Events, log: unknown[]) => void): void {
  const trace = (E: Events["EventEmitter"] & Events) => {
    const log: unknown[] = [];
    log.push(outcome(() => script(E, log)));
    return log;
  };
  assert.deepEqual(trace(ours), trace(node), label);
}

describe("node:events EventEmitter", () => {
  it("calls listeners in order, with once, prepend and removal during emit", () => {
    same("order", (E, log) => {
      const e = new E();
      const a = (x: unknown) => log.push(["a", x]);
      e.on("x", a);
      e.once("x", (x: unknown) => log.push(["once", x]));
      e.prependListener("x", (x: unknown) => log.push(["first", x]));
      e.prependOnceListener("x", () => log.push("first-once"));
      e.on("x", function (this: unknown) {
        log.push(["this", this === e]);
        e.removeListener("x", a);
      });
      log.push(e.emit("x", 1), e.emit("x", 2), e.emit("y"), e.listenerCount("x"), e.eventNames());
    });
  });

  it("emits newListener and removeListener, and removeAllListeners works per event and overall", () => {
    same("meta events", (E, log) => {
      const e = new E();
      e.on("newListener", (name: unknown) => log.push(["new", name]));
      e.on("removeListener", (name: unknown) => log.push(["removed", name]));
      const f = () => {};
      e.on("a", f);
      e.once("b", f);
      e.on("b", () => {});
      e.off("a", f);
      e.removeAllListeners("b");
      e.on("c", f);
      e.removeAllListeners();
      log.push(e.eventNames(), e.listenerCount("newListener"));
    });
  });

  it("throws an 'error' without listeners: the error itself, or ERR_UNHANDLED_ERROR for other values", () => {
    for (const value of [new TypeError("boom"), "text", 42, undefined, { a: 1 }]) {
      same(`emit error ${String(value)}`, (E) => {
        new E().emit("error", value);
      });
    }
    same("with a listener", (E, log) => {
      const e = new E();
      e.on("error", (err: Error) => log.push(err.message));
      log.push(e.emit("error", new Error("handled")));
    });
  });

  it("runs errorMonitor listeners before throwing", () => {
    same("errorMonitor", (E, log) => {
      const e = new E();
      e.on(E.errorMonitor, (err: Error) => log.push(["monitor", err.message]));
      e.emit("error", new Error("seen"));
    });
  });

  it("lists listeners, raw listeners and counts as Node does", () => {
    same("listeners", (E, log) => {
      const e = new E();
      const f = () => {};
      e.once("x", f);
      e.on("x", f);
      log.push(e.listeners("x").map((l) => l === f), e.rawListeners("x").map((l) => l === f), e.listenerCount("x"), e.listenerCount("x", f), e.getMaxListeners());
      e.setMaxListeners(1);
      log.push(e.getMaxListeners());
    });
    same("bad listener", (E) => {
      new E().on("x", "nope" as unknown as () => void);
    });
    same("bad max", (E) => {
      new E().setMaxListeners(-1);
    });
  });

  it("works as a base class through util.inherits-style calls and class extends", () => {
    same("subclass", (E, log) => {
      function Legacy(this: InstanceType<typeof E>) {
        E.call(this);
      }
      Object.setPrototypeOf(Legacy.prototype, E.prototype);
      const legacy = new (Legacy as unknown as new () => InstanceType<typeof E>)();
      legacy.on("x", () => log.push("legacy"));
      legacy.emit("x");
      class Modern extends E {}
      const modern = new Modern();
      modern.on("x", () => log.push("modern"));
      modern.emit("x");
      log.push(modern instanceof E, Object.keys(modern).sort());
    });
  });

  it("exposes the same static members", () => {
    assert.equal(ours.defaultMaxListeners, 10);
    assert.equal(ours.EventEmitter, ours);
    assert.equal(ours.captureRejectionSymbol, Symbol.for("nodejs.rejection"));
    assert.equal(typeof ours.errorMonitor, "symbol");
    assert.equal(ours.name, "EventEmitter");
    assert.throws(() => {
      ours.defaultMaxListeners = -1;
    }, { code: "ERR_OUT_OF_RANGE" });
  });
});

describe("node:events helpers", () => {
  it("once() resolves with the arguments and rejects on 'error'", async () => {
    const e = new ours();
    const pending = ours.once(e, "ready");
    e.emit("ready", 1, 2);
    assert.deepEqual(await pending, [1, 2]);
    const failing = ours.once(e, "ready");
    e.emit("error", new Error("bad"));
    await assert.rejects(failing, { message: "bad" });
    assert.equal(e.listenerCount("error"), 0);
    assert.equal(e.listenerCount("ready"), 0);
  });

  it("once() works with an EventTarget and honours an AbortSignal", async () => {
    const target = new EventTarget();
    const pending = ours.once(target, "ping");
    target.dispatchEvent(new Event("ping"));
    const [event] = await pending;
    assert.equal((event as Event).type, "ping");
    const controller = new AbortController();
    const aborted = ours.once(new ours(), "never", { signal: controller.signal });
    controller.abort();
    await assert.rejects(aborted, { name: "AbortError", code: "ABORT_ERR" });
  });

  it("on() iterates events until 'error' or return()", async () => {
    const e = new ours();
    const iterator = ours.on(e, "data");
    e.emit("data", 1);
    e.emit("data", 2);
    assert.deepEqual(await iterator.next(), { value: [1], done: false });
    assert.deepEqual(await iterator.next(), { value: [2], done: false });
    const next = iterator.next();
    e.emit("data", 3);
    assert.deepEqual(await next, { value: [3], done: false });
    e.emit("error", new Error("stop"));
    await assert.rejects(iterator.next(), { message: "stop" });
    assert.deepEqual(await iterator.next(), { value: undefined, done: true });
    assert.equal(e.listenerCount("data"), 0);
    const second = ours.on(e, "data");
    await second.return!();
    assert.equal(e.listenerCount("data"), 0);
  });

  it("warns once when an event has more listeners than the limit", async () => {
    const process = nodeModule("process") as { on(name: string, listener: (w: Error) => void): void; removeAllListeners(name: string): void };
    const warnings: Error[] = [];
    process.removeAllListeners("warning");
    process.on("warning", (warning) => warnings.push(warning));
    const e = new ours();
    e.setMaxListeners(1);
    e.on("x", () => {});
    e.on("x", () => {});
    e.on("x", () => {});
    await new Promise((resolve) => setTimeout(resolve, 1));
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0].name, "MaxListenersExceededWarning");
    assert.equal(warnings[0].message, "Possible EventEmitter memory leak detected. 2 x listeners added to [EventEmitter]. Use emitter.setMaxListeners() to increase limit");
  });

  it("captureRejections routes a listener's rejected promise to 'error'", async () => {
    const e = new ours({ captureRejections: true });
    const seen = new Promise((resolve) => e.on("error", resolve));
    e.on("x", async () => {
      throw new Error("async failure");
    });
    e.emit("x");
    assert.equal(((await seen) as Error).message, "async failure");
  });

  it("getEventListeners, setMaxListeners and addAbortListener", async () => {
    const e = new ours();
    const f = () => {};
    e.on("x", f);
    assert.deepEqual(ours.getEventListeners(e, "x"), [f]);
    ours.setMaxListeners(3, e);
    assert.equal(e.getMaxListeners(), 3);
    const controller = new AbortController();
    let called = 0;
    const disposable = ours.addAbortListener(controller.signal, () => called++);
    controller.abort();
    assert.equal(called, 1);
    assert.equal(typeof (disposable as unknown as Record<symbol, unknown>)[(Symbol as { dispose?: symbol }).dispose ?? Symbol.for("nodejs.dispose")], "function");
  });
});
