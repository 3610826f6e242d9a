// Differential tests: the sandbox's DOMException, Event, CustomEvent and EventTarget against
// Node's built-ins, plus the places where the DOM Standard and Node differ (asserted for ours).

import assert from "node:assert/strict";
import { describe, it, mock } from "node:test";
import "../platform.ts";
import * as events from "../../../src/runtime/web/events/index.ts";
import { namedOutcome } from "./differential.ts";

interface Impl {
  DOMException: typeof globalThis.DOMException;
  Event: typeof globalThis.Event;
  CustomEvent: typeof globalThis.CustomEvent;
  EventTarget: typeof globalThis.EventTarget;
  AbortController: typeof globalThis.AbortController;
  AbortSignal: typeof globalThis.AbortSignal;
}

const ours = events as unknown as Impl;
const node: Impl = { DOMException, Event, CustomEvent, EventTarget, AbortController, AbortSignal };

/** The value returned, or the class and name of the error thrown. */
const attempt = namedOutcome;

function assertSame(scenario: (impl: Impl) => unknown, message?: string): unknown {
  const result = attempt(() => scenario(ours));
  assert.deepEqual(result, attempt(() => scenario(node)), message);
  return result;
}

/** Each own property: [key, "method" | "value" | "accessor", enumerable, configurable, writable, has a setter]. */
function shape(object: object): [string, string, boolean | undefined, boolean | undefined, boolean | null, boolean | null][] {
  return Object.getOwnPropertyNames(object)
    .sort()
    .map((key) => {
      const descriptor = Object.getOwnPropertyDescriptor(object, key)!;
      const kind = "value" in descriptor ? (typeof descriptor.value === "function" ? "method" : "value") : "accessor";
      return [key, kind, descriptor.enumerable, descriptor.configurable, descriptor.writable ?? null, "set" in descriptor ? descriptor.set !== undefined : null];
    });
}

describe("DOMException against Node", () => {
  const NAMES = [
    "IndexSizeError", "HierarchyRequestError", "WrongDocumentError", "InvalidCharacterError", "NoModificationAllowedError", "NotFoundError",
    "NotSupportedError", "InUseAttributeError", "InvalidStateError", "SyntaxError", "InvalidModificationError", "NamespaceError",
    "InvalidAccessError", "TypeMismatchError", "SecurityError", "NetworkError", "AbortError", "URLMismatchError", "QuotaExceededError",
    "TimeoutError", "InvalidNodeTypeError", "DataCloneError", "EncodingError", "NotReadableError", "OperationError", "Error", "ValidationError",
    "DOMStringSizeError", "abortError", "", "constructor", "toString", "__proto__",
  ];

  it("has the Web IDL shape: prototype getters, constants on both objects, class string", () => {
    assertSame(({ DOMException }) => [
      shape(DOMException.prototype),
      shape(DOMException).filter(([key]) => key !== "name" && key !== "length" && key !== "prototype"),
      DOMException.length,
      DOMException.name,
      Object.getPrototypeOf(DOMException) === Function.prototype,
      Object.getPrototypeOf(DOMException.prototype) === Error.prototype,
      Object.getOwnPropertyDescriptor(DOMException.prototype, Symbol.toStringTag),
      Object.getOwnPropertyDescriptor(DOMException, "prototype")!.writable,
    ]);
  });

  it("maps every name to its legacy code", () => {
    assertSame(({ DOMException }) => NAMES.map((name) => [name, new DOMException("m", name).code, new DOMException("m", name).name]));
  });

  it("converts its arguments like Web IDL DOMStrings with defaults", () => {
    assertSame(({ DOMException }) => {
      const read = (e: DOMException) => [e.name, e.message, e.code, String(e), Object.prototype.toString.call(e)];
      return [
        read(new DOMException()),
        read(new DOMException(undefined, undefined)),
        read(new DOMException(null as unknown as string, null as unknown as string)),
        read(new DOMException(42 as unknown as string, "AbortError")),
        read(new DOMException({ toString: () => "obj" } as unknown as string, "TimeoutError")),
        attempt(() => new DOMException(Symbol("s") as unknown as string)),
        attempt(() => new DOMException("m", Symbol("s") as unknown as string)),
      ];
    });
  });

  it("is an Error with an own stack whose first line names it, and nothing else own", () => {
    assertSame(({ DOMException }) => {
      const exception = new DOMException("boom", "AbortError");
      return [exception instanceof Error, exception instanceof DOMException, Object.getOwnPropertyNames(exception), exception.stack!.split("\n")[0]];
    });
    const stack = new events.DOMException("here", "AbortError").stack!.split("\n");
    assert.match(stack[1], /events\.test\.ts/, "the stack starts at the caller, not inside the constructor");
  });

  it("brand-checks its getters and requires new", () => {
    assertSame(({ DOMException }) => {
      const getter = (key: string) => Object.getOwnPropertyDescriptor(DOMException.prototype, key)!.get!;
      return [
        attempt(() => getter("name").call({})),
        attempt(() => getter("message").call(Object.create(DOMException.prototype))),
        attempt(() => getter("code").call(new Error("x"))),
        attempt(() => (DOMException as unknown as () => unknown)()),
      ];
    });
  });

  it("can be subclassed", () => {
    assertSame(({ DOMException }) => {
      class QuotaError extends DOMException {
        constructor() {
          super("full", "QuotaExceededError");
        }
      }
      const error = new QuotaError();
      return [error instanceof QuotaError, error instanceof DOMException, error instanceof Error, error.name, error.code, error.message];
    });
  });
});

describe("Event against Node", () => {
  it("has the Web IDL shape (isTrusted, returnValue's setter and the constants aside)", () => {
    const constants = new Set(["NONE", "CAPTURING_PHASE", "AT_TARGET", "BUBBLING_PHASE", "isTrusted", "returnValue"]);
    assertSame(({ Event }) => [
      shape(Event.prototype).filter(([key]) => !constants.has(key as string)),
      shape(Event).filter(([key]) => key !== "name" && key !== "length" && key !== "prototype"),
      Event.length,
      Event.name,
      Object.getOwnPropertyDescriptor(Event.prototype, Symbol.toStringTag),
    ]);
  });

  it("has the phase constants on the prototype too, as Web IDL requires (Node: only on Event)", () => {
    for (const [key, value] of [["NONE", 0], ["CAPTURING_PHASE", 1], ["AT_TARGET", 2], ["BUBBLING_PHASE", 3]] as const) {
      for (const holder of [events.Event, events.Event.prototype]) {
        assert.deepEqual(Object.getOwnPropertyDescriptor(holder, key), { value, writable: false, enumerable: true, configurable: false });
      }
    }
  });

  it("has isTrusted as an own unforgeable accessor, as Web IDL's [LegacyUnforgeable] requires (Node: on the prototype)", () => {
    const event = new events.Event("x");
    const descriptor = Object.getOwnPropertyDescriptor(event, "isTrusted")!;
    assert.equal(descriptor.configurable, false);
    assert.equal(descriptor.enumerable, true);
    assert.equal(descriptor.get!.call(event), false);
    assert.equal(descriptor.get, Object.getOwnPropertyDescriptor(new events.Event("y"), "isTrusted")!.get);
    assert.throws(() => descriptor.get!.call({}), TypeError);
    assert.deepEqual(Object.keys(event), ["isTrusted"]);
  });

  it("starts with the defaults and converts EventInit", () => {
    assertSame(({ Event }) => {
      const read = (e: Event) => [
        e.type, e.bubbles, e.cancelable, e.composed, e.defaultPrevented, e.returnValue, e.cancelBubble, e.eventPhase,
        e.target, e.currentTarget, e.srcElement, e.composedPath(), e.isTrusted, typeof e.timeStamp,
      ];
      return [
        read(new Event("x")),
        read(new Event("x", { bubbles: 1, cancelable: "yes", composed: {} } as unknown as EventInit)),
        read(new Event("x", null as unknown as EventInit)),
        read(new Event(undefined as unknown as string)),
        read(new Event(12 as unknown as string)),
        attempt(() => new (Event as unknown as new () => Event)()),
        attempt(() => new Event("x", 5 as unknown as EventInit)),
        attempt(() => new Event(Symbol() as unknown as string)),
      ];
    });
  });

  it("reads EventInit members in Web IDL order", () => {
    const log: string[] = [];
    const init = new Proxy({}, { get: (_target, key) => void log.push(String(key)) });
    new events.CustomEvent("x", init);
    assert.deepEqual(log, ["bubbles", "cancelable", "composed", "detail"]);
  });

  it("cancels only cancelable events", () => {
    assertSame(({ Event }) => {
      const plain = new Event("x");
      plain.preventDefault();
      const cancelable = new Event("x", { cancelable: true });
      const before = [cancelable.defaultPrevented, cancelable.returnValue];
      cancelable.preventDefault();
      return [plain.defaultPrevented, plain.returnValue, before, cancelable.defaultPrevented, cancelable.returnValue];
    });
  });

  it("cancels through the legacy returnValue setter too (Node 20: no setter)", () => {
    const plain = new events.Event("x");
    plain.returnValue = false;
    const cancelable = new events.Event("x", { cancelable: true });
    cancelable.returnValue = false;
    const afterFalse = [cancelable.defaultPrevented, cancelable.returnValue];
    cancelable.returnValue = true;
    assert.deepEqual([plain.defaultPrevented, plain.returnValue, afterFalse, cancelable.defaultPrevented], [false, true, [true, false], true]);
  });

  it("sets the stop propagation flag through stopPropagation and cancelBubble, never clears it", () => {
    assertSame(({ Event }) => {
      const a = new Event("x");
      a.cancelBubble = true;
      const afterSet = a.cancelBubble;
      a.cancelBubble = false;
      const b = new Event("x");
      b.stopPropagation();
      const c = new Event("x");
      c.stopImmediatePropagation();
      return [afterSet, a.cancelBubble, b.cancelBubble, c.cancelBubble];
    });
  });

  it("initEvent reinitializes, except while the event is dispatched", () => {
    assertSame(({ Event, EventTarget }) => {
      const event = new Event("a");
      event.initEvent("b", true, true);
      const reset = [event.type, event.bubbles, event.cancelable, event.defaultPrevented];
      const target = new EventTarget();
      let during: unknown;
      target.addEventListener("b", () => {
        event.initEvent("c", false, false);
        during = [event.type, event.bubbles];
      });
      target.dispatchEvent(event);
      event.initEvent("d");
      return [reset, during, event.type, event.bubbles, event.cancelable, attempt(() => (event.initEvent as () => void)())];
    });
  });

  it("initEvent clears the canceled and stop propagation flags (Node 20 keeps them)", () => {
    const event = new events.Event("a", { cancelable: true });
    event.preventDefault();
    event.stopImmediatePropagation();
    event.initEvent("b", true, true);
    assert.deepEqual([event.defaultPrevented, event.cancelBubble, event.returnValue], [false, false, true]);
    const target = new events.EventTarget();
    const calls: string[] = [];
    target.addEventListener("b", () => calls.push("listener"));
    target.dispatchEvent(event);
    assert.deepEqual(calls, ["listener"], "stopImmediatePropagation before initEvent no longer applies");
  });

  it("has a timeStamp from the (frozen) performance clock", () => {
    const before = performance.now();
    const time = new events.Event("x").timeStamp;
    assert.ok(time >= before && time <= performance.now());
  });
});

describe("CustomEvent against Node", () => {
  it("carries detail, null by default, and reinitializes with initCustomEvent", () => {
    assertSame(({ CustomEvent, Event }) => {
      const empty = new CustomEvent("x");
      const withDetail = new CustomEvent("y", { detail: { n: 1 }, bubbles: true });
      const undefinedDetail = new CustomEvent("z", { detail: undefined });
      return [
        empty.detail, withDetail.detail, withDetail.bubbles, undefinedDetail.detail, withDetail instanceof Event,
        CustomEvent.length, Object.prototype.toString.call(empty),
        attempt(() => new (CustomEvent as unknown as new () => unknown)()),
      ];
    });
  });

  it("has the legacy initCustomEvent (Node 20 lacks it)", () => {
    const event = new events.CustomEvent("x", { detail: 1 });
    event.initCustomEvent("w", true, false, "d");
    assert.deepEqual([event.type, event.bubbles, event.cancelable, event.detail], ["w", true, false, "d"]);
    event.initCustomEvent("v");
    assert.deepEqual([event.type, event.bubbles, event.detail], ["v", false, null]);
    assert.throws(() => events.CustomEvent.prototype.initCustomEvent.call(new events.Event("x"), "y"), TypeError);
  });
});

describe("EventTarget against Node", () => {
  it("checks its arguments", () => {
    assertSame(({ EventTarget, AbortController }) => {
      const target = new EventTarget() as unknown as Record<string, (...args: unknown[]) => unknown>;
      return [
        attempt(() => target.addEventListener()),
        attempt(() => target.addEventListener("x")),
        attempt(() => target.addEventListener("x", 5)),
        attempt(() => target.addEventListener("x", "listener")),
        attempt(() => target.addEventListener("x", () => {}, { signal: 1 })),
        attempt(() => target.addEventListener("x", () => {}, { signal: null })),
        attempt(() => target.addEventListener("x", () => {}, { signal: new AbortController().signal })),
        attempt(() => target.removeEventListener("x")),
        attempt(() => target.removeEventListener("x", 5)),
        attempt(() => target.dispatchEvent()),
        attempt(() => target.dispatchEvent({ type: "x" })),
        attempt(() => EventTarget.prototype.addEventListener.call({}, "x", () => {})),
        attempt(() => EventTarget.prototype.dispatchEvent.call({}, new Event("x"))),
        EventTarget.length,
        EventTarget.prototype.addEventListener.length,
        EventTarget.prototype.removeEventListener.length,
        EventTarget.prototype.dispatchEvent.length,
      ];
    });
  });

  it("ignores a null listener", () => {
    const target = new events.EventTarget();
    target.addEventListener("x", null);
    target.removeEventListener("x", null);
    assert.equal(target.dispatchEvent(new events.Event("x")), true);
  });

  it("adds a listener once per (type, callback, capture)", () => {
    assertSame(({ EventTarget, Event }) => {
      const target = new EventTarget();
      const calls: string[] = [];
      const listener = (e: Event) => calls.push(e.type);
      target.addEventListener("x", listener);
      target.addEventListener("x", listener);
      target.addEventListener("x", listener, { once: true, passive: true });
      target.addEventListener("x", listener, true);
      target.addEventListener("x", listener, { capture: true });
      target.addEventListener("y", listener);
      target.dispatchEvent(new Event("x"));
      target.removeEventListener("x", listener, { capture: true });
      target.dispatchEvent(new Event("x"));
      target.removeEventListener("x", listener);
      target.dispatchEvent(new Event("x"));
      return calls;
    });
  });

  it("sees removals made during dispatch, but not additions", () => {
    assertSame(({ EventTarget, Event }) => {
      const target = new EventTarget();
      const calls: string[] = [];
      const c = () => calls.push("c");
      const b = () => calls.push("b");
      const a = () => {
        calls.push("a");
        target.removeEventListener("x", b);
        target.addEventListener("x", c);
        target.removeEventListener("x", a);
      };
      target.addEventListener("x", a);
      target.addEventListener("x", b);
      target.dispatchEvent(new Event("x"));
      calls.push("|");
      target.dispatchEvent(new Event("x"));
      return calls;
    });
  });

  it("removes a once listener before calling it", () => {
    assertSame(({ EventTarget, Event }) => {
      const target = new EventTarget();
      const calls: number[] = [];
      const listener = () => {
        calls.push(1);
        target.dispatchEvent(new Event("x"));
      };
      target.addEventListener("x", listener, { once: true });
      target.dispatchEvent(new Event("x"));
      target.dispatchEvent(new Event("x"));
      return calls;
    });
  });

  it("stops at stopImmediatePropagation; stopPropagation in the same phase does not", () => {
    assertSame(({ EventTarget, Event }) => {
      const target = new EventTarget();
      const calls: string[] = [];
      target.addEventListener("x", (e) => {
        calls.push("1");
        e.stopPropagation();
      });
      target.addEventListener("x", () => calls.push("2"));
      target.addEventListener("y", (e) => {
        calls.push("3");
        e.stopImmediatePropagation();
      });
      target.addEventListener("y", () => calls.push("4"));
      target.dispatchEvent(new Event("x"));
      const y = new Event("y");
      target.dispatchEvent(y);
      return calls;
    });
  });

  it("calls functions with the target as this and handleEvent objects as themselves, looked up at each dispatch", () => {
    assertSame(({ EventTarget, Event }) => {
      const target = new EventTarget();
      const seen: unknown[] = [];
      target.addEventListener("x", function (this: unknown, e: Event) {
        seen.push(["fn", this === target, e.target === target, e.currentTarget === target, e.eventPhase, e.composedPath().length]);
      });
      const object: { handleEvent: (e: Event) => void } = {
        handleEvent(e: Event) {
          seen.push(["first", this === object, e.type]);
        },
      };
      target.addEventListener("x", object);
      target.dispatchEvent(new Event("x"));
      object.handleEvent = function (this: unknown) {
        seen.push(["second", this === object]);
      };
      const event = new Event("x");
      target.dispatchEvent(event);
      seen.push([event.target === target, event.currentTarget, event.eventPhase, event.composedPath()]);
      return seen;
    });
  });

  it("returns false from dispatchEvent when a listener canceled the event", () => {
    assertSame(({ EventTarget, Event }) => {
      const target = new EventTarget();
      target.addEventListener("active", (e) => e.preventDefault());
      target.addEventListener("falsy", (e) => e.preventDefault(), { passive: 0 } as unknown as AddEventListenerOptions);
      const active = new Event("active", { cancelable: true });
      const notCancelable = new Event("active");
      const falsy = new Event("falsy", { cancelable: true });
      return [target.dispatchEvent(active), active.defaultPrevented, target.dispatchEvent(notCancelable), target.dispatchEvent(falsy)];
    });
  });

  it("drops listeners added with an aborted signal and removes them when their signal aborts", () => {
    assertSame(({ EventTarget, Event, AbortController, AbortSignal }) => {
      const target = new EventTarget();
      const calls: string[] = [];
      target.addEventListener("x", () => calls.push("pre-aborted"), { signal: AbortSignal.abort() });
      const controller = new AbortController();
      target.addEventListener("x", () => calls.push("signal"), { signal: controller.signal });
      target.addEventListener("x", () => calls.push("signal-once"), { signal: controller.signal, once: true });
      target.dispatchEvent(new Event("x"));
      controller.abort();
      target.dispatchEvent(new Event("x"));
      return calls;
    });
  });

  it("throws InvalidStateError when an event is dispatched twice at once", () => {
    const target = new events.EventTarget();
    const event = new events.Event("x");
    let thrown: unknown;
    target.addEventListener("x", () => {
      try {
        target.dispatchEvent(event);
      } catch (error) {
        thrown = error;
      }
    });
    target.dispatchEvent(event);
    assert.ok(thrown instanceof events.DOMException);
    assert.equal((thrown as DOMException).name, "InvalidStateError");
    assert.equal(target.dispatchEvent(event), true, "the same event can be dispatched again afterwards");
  });

  it("supports subclasses of EventTarget and Event", () => {
    assertSame(({ EventTarget, Event }) => {
      class Emitter extends EventTarget {
        fire(): boolean {
          return this.dispatchEvent(new Ping());
        }
      }
      class Ping extends Event {
        constructor() {
          super("ping", { cancelable: true });
        }
      }
      const emitter = new Emitter();
      const seen: unknown[] = [];
      emitter.addEventListener("ping", (e) => {
        seen.push(e instanceof Ping, e.target === emitter);
        e.preventDefault();
      });
      return [emitter.fire(), seen, Object.prototype.toString.call(emitter), Object.prototype.toString.call(new Ping())];
    });
  });
});

describe("EventTarget per the DOM Standard (where Node differs)", () => {
  it("ignores preventDefault in passive listeners (Node 20 honours it)", () => {
    const target = new events.EventTarget();
    let prevented: unknown;
    target.addEventListener("x", (e: Event) => {
      e.preventDefault();
      prevented = [e.defaultPrevented, e.returnValue];
    }, { passive: true });
    target.addEventListener("x", (e: Event) => e.preventDefault());
    const event = new events.Event("x", { cancelable: true });
    assert.deepEqual(prevented, undefined);
    assert.equal(target.dispatchEvent(event), false, "the non-passive listener still cancels");
    assert.deepEqual(prevented, [false, true]);
  });

  it("clears the stop propagation flags when dispatch ends (Node 20 keeps them)", () => {
    const target = new events.EventTarget();
    target.addEventListener("x", (e: Event) => e.stopImmediatePropagation());
    const event = new events.Event("x");
    target.dispatchEvent(event);
    assert.equal(event.cancelBubble, false);
  });

  it("is AT_TARGET in both passes and gives composedPath() [target] only during dispatch", () => {
    const target = new ours.EventTarget();
    const seen: unknown[] = [];
    const record = (e: Event) => seen.push([e.eventPhase, e.composedPath()[0] === target, e.currentTarget === target]);
    target.addEventListener("x", record, true);
    target.addEventListener("x", record);
    const event = new ours.Event("x");
    target.dispatchEvent(event);
    assert.deepEqual(seen, [[2, true, true], [2, true, true]]);
    assert.deepEqual([event.eventPhase, event.composedPath(), event.currentTarget, event.target === target], [0, [], null, true]);
  });

  it("runs capture listeners at the target before the others, and stopPropagation there skips the others", () => {
    // Node runs them in registration order; the DOM Standard (and browsers since 2021) does not.
    const target = new events.EventTarget();
    const calls: string[] = [];
    target.addEventListener("x", () => calls.push("bubble1"));
    target.addEventListener("x", () => calls.push("capture"), true);
    target.addEventListener("x", () => calls.push("bubble2"));
    target.dispatchEvent(new events.Event("x"));
    assert.deepEqual(calls, ["capture", "bubble1", "bubble2"]);
    const stopped: string[] = [];
    const other = new events.EventTarget();
    other.addEventListener("x", () => stopped.push("bubble"));
    other.addEventListener("x", (e: Event) => (stopped.push("capture"), e.stopPropagation()), { capture: true });
    other.dispatchEvent(new events.Event("x"));
    assert.deepEqual(stopped, ["capture"]);
  });

  it("reads AddEventListenerOptions in Web IDL order: capture, then once, passive, signal", () => {
    const log: string[] = [];
    const options = new Proxy({}, { get: (_target, key) => void log.push(String(key)) });
    new events.EventTarget().addEventListener("x", () => {}, options);
    assert.deepEqual(log, ["capture", "once", "passive", "signal"]);
    const removeLog: string[] = [];
    new events.EventTarget().removeEventListener("x", () => {}, new Proxy({}, { get: (_target, key) => void removeLog.push(String(key)) }));
    assert.deepEqual(removeLog, ["capture"]);
  });

  it("reports a listener's exception and goes on with the other listeners", () => {
    const errors = mock.method(console, "error", () => {});
    try {
      const target = new events.EventTarget();
      const calls: string[] = [];
      target.addEventListener("x", () => {
        throw new RangeError("first");
      });
      target.addEventListener("x", { handleEvent: 42 } as unknown as EventListener);
      target.addEventListener("x", () => {
        throw "a string";
      });
      target.addEventListener("x", () => calls.push("last"));
      assert.equal(target.dispatchEvent(new events.Event("x")), true);
      assert.deepEqual(calls, ["last"]);
      const messages = errors.mock.calls.map((call) => String(call.arguments[0]));
      assert.equal(messages.length, 3);
      assert.match(messages[0], /^Uncaught RangeError: first\n\s+at /);
      assert.match(messages[1], /^Uncaught TypeError: .*handleEvent/);
      assert.equal(messages[2], "Uncaught a string");
    } finally {
      errors.mock.restore();
    }
  });

  it("keeps the class names and lengths the minifier would otherwise change", () => {
    for (const [Class, name, length] of [
      [events.Event, "Event", 1],
      [events.CustomEvent, "CustomEvent", 1],
      [events.EventTarget, "EventTarget", 0],
      [events.AbortController, "AbortController", 0],
      [events.AbortSignal, "AbortSignal", 0],
      [events.DOMException, "DOMException", 0],
      [events.structuredClone, "structuredClone", 1],
      [events.atob, "atob", 1],
      [events.btoa, "btoa", 1],
    ] as const) {
      assert.equal((Class as { name: string }).name, name);
      assert.equal((Class as { length: number }).length, length, name);
    }
  });
});
