// Differential tests: node:timers, node:timers/promises and node:diagnostics_channel against
// Node's own, and AsyncLocalStorage/AsyncResource within synchronous code (the async propagation
// needs a sandbox: test/loader/async-context.test.ts). Run in Node, the chunk's timers are Node's.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as nodeTimers from "node:timers";
import * as nodeTimersPromises from "node:timers/promises";
import * as nodeChannels from "node:diagnostics_channel";
import * as nodeHooks from "node:async_hooks";
import { nodeModule, outcome } from "./compat.ts";

const timers = nodeModule("timers") as typeof nodeTimers;
const timersPromises = nodeModule("timers/promises") as typeof nodeTimersPromises;
const channels = nodeModule("diagnostics_channel") as typeof nodeChannels;
const hooks = nodeModule("async_hooks") as typeof nodeHooks;

async function sameAsync(label: string, script: (t: typeof nodeTimers, p: typeof nodeTimersPromises, log: unknown[]) => Promise<void>): Promise<void> {
  const trace = async (t: typeof nodeTimers, p: typeof nodeTimersPromises) => {
    const log: unknown[] = [];
    try {
      await script(t, p, log);
    } catch (error) {
      const { name, code, message, cause } = error as Error & { code?: string };
      log.push(["threw", name, code, message, String(cause)]);
    }
    return log;
  };
  assert.deepEqual(await trace(timers, timersPromises), await trace(nodeTimers, nodeTimersPromises), label);
}

describe("node:timers", () => {
  it("runs timeouts, intervals and immediates with their arguments, and clears each kind", async () => {
    await sameAsync("order", async (t, _p, log) => {
      await new Promise<void>((done) => {
        // Each kind is started from the one before, so that their order does not depend on how
        // long a loaded machine takes between them (a 5 ms timeout once ran before an immediate).
        const cleared = t.setTimeout(() => log.push("cleared timeout"), 1);
        t.clearTimeout(cleared);
        let n = 0;
        const startInterval = () => {
          const interval = t.setInterval(() => {
            log.push(["tick", ++n]);
            if (n === 3) {
              t.clearInterval(interval);
              t.setTimeout(done, 20);
            }
          }, 10);
        };
        const immediate = t.setImmediate((x: unknown) => {
          log.push(["immediate", x]);
          t.setTimeout((a: unknown, b: unknown) => (log.push(["timeout", a, b]), startInterval()), 5, 1, 2);
        }, "i");
        t.clearImmediate(t.setImmediate(() => log.push("cleared immediate")));
        log.push(immediate.hasRef(), immediate.unref().hasRef(), immediate.ref().hasRef());
      });
    });
  });

  it("Timeout: ref/unref/hasRef, refresh restarts it, close and dispose clear it, its primitive clears it", async () => {
    await sameAsync("Timeout", async (t, _p, log) => {
      const timeout = t.setTimeout(() => log.push("not cleared"), 5);
      log.push(timeout.hasRef(), timeout.unref().hasRef(), timeout.ref().hasRef(), typeof +timeout);
      t.clearTimeout(+timeout);
      const closed = t.setTimeout(() => log.push("closed ran"), 1);
      log.push(closed.close() === closed);
      const disposed = t.setTimeout(() => log.push("disposed ran"), 1);
      (disposed as unknown as { [Symbol.dispose](): void })[Symbol.dispose]();
      const refreshed = t.setTimeout(() => log.push("refreshed ran"), 30);
      await new Promise((resolve) => setTimeout(resolve, 20));
      refreshed.refresh();
      await new Promise((resolve) => setTimeout(resolve, 20));
      log.push("before refreshed");
      await new Promise((resolve) => setTimeout(resolve, 30));
    });
  });

  it("refuses a callback that is not a function with ERR_INVALID_ARG_TYPE", async () => {
    for (const name of ["setTimeout", "setInterval", "setImmediate"] as const) {
      await sameAsync(name, async (t) => {
        (t[name] as (x: unknown) => unknown)("nope");
      });
    }
  });
});

describe("node:timers/promises", () => {
  it("setTimeout and setImmediate resolve with the value; scheduler.wait and yield", async () => {
    await sameAsync("values", async (_t, p, log) => {
      log.push(await p.setTimeout(5, "later"), await p.setImmediate("soon"), await p.scheduler.wait(2), await p.scheduler.yield());
    });
  });

  it("rejects with an AbortError carrying the signal's reason, before or while waiting", async () => {
    await sameAsync("aborted before", async (_t, p) => {
      await p.setTimeout(5, "x", { signal: AbortSignal.abort("why") });
    });
    await sameAsync("aborted during", async (_t, p) => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error("stop")), 5);
      await p.setTimeout(1000, "x", { signal: controller.signal });
    });
    await sameAsync("immediate aborted", async (_t, p) => {
      await p.setImmediate("x", { signal: AbortSignal.abort() });
    });
    await sameAsync("bad options", async (_t, p) => {
      await p.setTimeout(1, "x", "options" as never);
    });
    await sameAsync("bad signal", async (_t, p) => {
      await p.setTimeout(1, "x", { signal: "s" as never });
    });
  });

  it("setInterval is an async iterator of the value, stopped by return and by its signal", async () => {
    await sameAsync("interval", async (_t, p, log) => {
      let n = 0;
      for await (const value of p.setInterval(5, "v")) {
        log.push(value);
        if (++n === 3) break;
      }
      const controller = new AbortController();
      const iterator = p.setInterval(5, "w", { signal: controller.signal });
      log.push(await iterator.next());
      controller.abort("done");
      await iterator.next();
    });
  });
});

describe("node:diagnostics_channel", () => {
  type Channels = typeof nodeChannels;
  function same(label: string, script: (dc: Channels, log: unknown[]) => unknown): void {
    const trace = (dc: Channels) => {
      const log: unknown[] = [];
      log.push(outcome(() => script(dc, log)));
      return log;
    };
    assert.deepEqual(trace(channels), trace(nodeChannels), label);
  }

  it("channels by name: subscribe, publish, unsubscribe, hasSubscribers", () => {
    same("channels", (dc, log) => {
      const name = `test:${Math.random()}`;
      const ch = dc.channel(name);
      log.push(ch === dc.channel(name), ch.name === name, ch.hasSubscribers, dc.hasSubscribers(name));
      const a = (message: unknown, n: unknown) => log.push(["a", message, n === name]);
      dc.subscribe(name, a);
      ch.subscribe((message: unknown) => log.push(["b", message]));
      log.push(ch.hasSubscribers, dc.hasSubscribers(name));
      ch.publish({ x: 1 });
      log.push(dc.unsubscribe(name, a), dc.unsubscribe(name, a));
      ch.publish(2);
      const symbolic = dc.channel(Symbol.for("dc-test"));
      log.push(typeof symbolic.name);
    });
    same("bad name", (dc) => dc.channel(42 as never));
    same("bad subscriber", (dc) => dc.channel("test:bad").subscribe("x" as never));
  });

  it("runStores enters each bound store with its transform and publishes first", () => {
    const run = (dc: Channels, H: typeof nodeHooks, log: unknown[]) => {
      const ch = dc.channel(`stores:${Math.random()}`);
      const storage = new H.AsyncLocalStorage();
      const other = new H.AsyncLocalStorage();
      ch.bindStore(storage, (data: unknown) => ({ wrapped: data }));
      ch.bindStore(other);
      ch.subscribe((message: unknown) => log.push(["published", message, storage.getStore()]));
      log.push(ch.hasSubscribers);
      const result = ch.runStores({ id: 7 }, function (this: unknown, a: unknown) {
        log.push(["inside", storage.getStore(), other.getStore(), this, a]);
        return "result";
      }, "self", "arg");
      log.push(result, storage.getStore(), ch.unbindStore(storage), ch.unbindStore(storage));
    };
    const ours: unknown[] = [];
    const theirs: unknown[] = [];
    run(channels, hooks, ours);
    run(nodeChannels, nodeHooks, theirs);
    assert.deepEqual(ours, theirs);
  });

  it("tracingChannel: traceSync, tracePromise and traceCallback publish start/end/asyncStart/asyncEnd/error", async () => {
    const run = async (dc: Channels, log: unknown[]) => {
      const tc = dc.tracingChannel(`trace:${Math.random()}`);
      log.push(tc.hasSubscribers);
      const handlers = Object.fromEntries(["start", "end", "asyncStart", "asyncEnd", "error"].map((event) => [event, (context: Record<string, unknown>) => log.push([event, { ...context, error: context.error && String(context.error) }])]));
      tc.subscribe(handlers as never);
      log.push(tc.hasSubscribers);
      log.push(tc.traceSync((a: number) => a * 2, { n: 1 }, undefined, 21));
      try {
        tc.traceSync(() => {
          throw new Error("sync boom");
        }, { n: 2 });
      } catch (error) {
        log.push(String(error));
      }
      log.push(await tc.tracePromise(async (a: number) => a + 1, { n: 3 }, undefined, 1));
      await tc.tracePromise(() => Promise.reject(new Error("async boom")), { n: 4 }).catch((error: unknown) => log.push(String(error)));
      await new Promise<void>((resolve) => {
        tc.traceCallback((x: number, cb: (err: unknown, value: unknown) => void) => setTimeout(() => cb(null, x * 3), 1), -1, { n: 5 }, undefined, 5, (err: unknown, value: unknown) => {
          log.push(["callback", err, value]);
          resolve();
        });
      });
      log.push(tc.unsubscribe(handlers as never), tc.hasSubscribers);
      log.push(outcome(() => dc.tracingChannel(7 as never)));
    };
    const ours: unknown[] = [];
    const theirs: unknown[] = [];
    await run(channels, ours);
    await run(nodeChannels, theirs);
    assert.deepEqual(ours, theirs);
  });
});

describe("node:async_hooks in synchronous code", () => {
  it("run, nested run, exit, enterWith, disable, getStore, defaultValue, name, snapshot and AsyncResource", () => {
    const run = (H: typeof nodeHooks) => {
      const log: unknown[] = [];
      const a = new H.AsyncLocalStorage();
      const b = new H.AsyncLocalStorage({ defaultValue: "default", name: "b" } as never);
      log.push(a.getStore(), b.getStore(), (b as unknown as { name: string }).name);
      a.run(1, (x: unknown) => {
        log.push(["outer", a.getStore(), x]);
        b.run(2, () => {
          a.run(3, () => log.push(["inner", a.getStore(), b.getStore()]));
          log.push(["after inner", a.getStore(), b.getStore()]);
          a.exit(() => log.push(["exit", a.getStore(), b.getStore()]));
        });
        const snapshot = H.AsyncLocalStorage.snapshot();
        const resource = new H.AsyncResource("test");
        a.run(9, () => {
          log.push(["snapshot", snapshot(() => a.getStore())]);
          log.push(["resource", resource.runInAsyncScope(function (this: unknown, y: unknown) {
            return [a.getStore(), this, y];
          }, "self", "y")]);
          const bound = H.AsyncLocalStorage.bind(() => a.getStore());
          log.push(["bound here", bound()]);
        });
      }, "arg");
      log.push(["after", a.getStore()]);
      a.run("r", () => {
        a.enterWith("entered");
        log.push(["entered", a.getStore()]);
      });
      log.push(["after run with enterWith", a.getStore()]);
      a.enterWith("top");
      a.disable();
      log.push(["disabled", a.getStore()]);
      log.push(outcome(() => new H.AsyncResource(undefined as never)), outcome(() => new H.AsyncLocalStorage(1 as never)));
      log.push(H.executionAsyncId() >= 0, typeof H.createHook({}).enable);
      return log;
    };
    assert.deepEqual(run(hooks), run(nodeHooks));
  });
});
