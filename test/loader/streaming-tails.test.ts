// streamingTails: each invocation's events (onset, log lines, exceptions, outcome) reach their
// consumers while it runs, in every isolation mode (in thread and process isolation through the
// shard protocol as they happen). ISLET_ISOLATION narrows the run to one mode.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import { WorkerCodeError, WorkerLoader, type TailStreamEvent, type WorkerCode } from "islet";
import { tailStreamQueues } from "../../src/testing.ts";
import { compatibilityDate, sleep } from "../helpers.ts";

type Isolation = "isolate" | "thread" | "process";
const modes: Isolation[] = process.env.ISLET_ISOLATION === "thread" || process.env.ISLET_ISOLATION === "process" ? [process.env.ISLET_ISOLATION] : ["isolate", "thread", "process"];
const shards = (isolation: Isolation) => (isolation === "thread" ? { threads: 1 } : isolation === "process" ? { processes: 1 } : {});

/** Resolves when `check` holds (polled), or rejects after `ms`. */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const gated = (extra: Partial<WorkerCode> = {}): WorkerCode => ({
  compatibilityDate,
  mainModule: "w.js",
  modules: {
    "w.js": `import { WorkerEntrypoint } from "cloudflare:workers";
      export default class extends WorkerEntrypoint {
        async run(n) {
          console.log("before", n);
          await this.env.gate();
          console.warn("after", { n });
          return n * 2;
        }
        async fail() {
          console.error("about to fail");
          await this.env.gate();
          throw new RangeError("nope");
        }
        async flood(count) {
          for (let i = 0; i < count; i++) console.log(i);
          return count;
        }
        async floodThenThrow(count) {
          for (let i = 0; i < count; i++) console.log(i);
          throw new TypeError("after the flood");
        }
      }`,
  },
  ...extra,
});

for (const isolation of modes) {
  describe(`streamingTails (${isolation})`, () => {
    const loaders: WorkerLoader[] = [];
    const newLoader = (options: ConstructorParameters<typeof WorkerLoader>[0] = {}) => {
      const loader = new WorkerLoader({ isolation, ...shards(isolation), limits: { wallMs: 10_000 }, ...options });
      loaders.push(loader);
      return loader;
    };
    after(async () => {
      for (const loader of loaders) await loader.close();
    });

    test("a log line reaches the consumer before the invocation ends: the worker waits for a gate the test opens only once it has the line", async () => {
      const events: TailStreamEvent[] = [];
      let open!: () => void;
      const opened = new Promise<void>((resolve) => (open = resolve));
      const loader = newLoader();
      const worker = loader.load(
        gated({
          env: { gate: () => opened },
          streamingTails: [
            (onset) => {
              events.push(onset);
              return (event) => {
                events.push(event);
                // Released only by the live event: a trace delivered after the call would never open it.
                if (event.event.type === "log" && event.event.message[0] === "before") open();
              };
            },
          ],
        }),
      );
      const result = await (worker.getEntrypoint() as any).run(21);
      assert.equal(result, 42);
      await until(() => events.some((e) => e.event.type === "outcome"), 5_000, "the outcome");
      assert.deepEqual(
        events.map((e) => e.event.type),
        ["onset", "log", "log", "outcome"],
      );
      const [onset, before, afterLog, outcome] = events;
      assert.deepEqual(onset.event, { type: "onset", entrypoint: "default", method: "run", executionModel: "stateless", info: { type: "jsrpc" } });
      assert.deepEqual(before.event, { type: "log", level: "log", message: ["before", 21] });
      assert.deepEqual(afterLog.event, { type: "log", level: "warn", message: ["after", { n: 21 }] });
      assert.equal(outcome.event.type, "outcome");
      if (outcome.event.type === "outcome") {
        assert.equal(outcome.event.outcome, "ok");
        assert.ok(outcome.event.wallTime > 0 && outcome.event.cpuTime >= 0);
      }
      assert.deepEqual(events.map((e) => e.sequence), [0, 1, 2, 3]);
      assert.equal(new Set(events.map((e) => e.invocationId)).size, 1);
      assert.ok(events.every((e) => e.timestamp instanceof Date));
    });

    test("an exception and its outcome, to an object handler's methods; the loader's own consumers too, in the caller's async context", async () => {
      const context = new AsyncLocalStorage<string>();
      const seen: string[] = [];
      let open!: () => void;
      const opened = new Promise<void>((resolve) => (open = resolve));
      const loader = newLoader({
        streamingTails: [
          {
            tailStream(onset) {
              seen.push(`onset ${onset.event.method} in ${context.getStore()}`);
              return {
                log: (event) => {
                  seen.push(`log ${event.event.message.join(" ")} in ${context.getStore()}`);
                  open();
                },
                exception: (event) => void seen.push(`exception ${event.event.name}: ${event.event.message}`),
                outcome: (event) => void seen.push(`outcome ${event.event.outcome}`),
              };
            },
          },
        ],
      });
      const worker = loader.load(gated({ env: { gate: () => opened } }));
      await assert.rejects(
        context.run("request-7", () => (worker.getEntrypoint() as any).fail()),
        (error: Error) => error.name === "RangeError" && error.message === "nope",
      );
      await until(() => seen.some((line) => line.startsWith("outcome")), 5_000, "the outcome");
      assert.deepEqual(seen, ["onset fail in request-7", "log about to fail in request-7", "exception RangeError: nope", "outcome exception"]);
    });

    test("a consumer that throws, one that rejects and one that never settles neither stall nor break the worker; the others get every event", async () => {
      const good: string[] = [];
      const loader = newLoader();
      const worker = loader.load(
        gated({
          env: { gate: async () => {} },
          streamingTails: [
            () => {
              throw new Error("consumer bug");
            },
            async () => {
              throw new Error("async consumer bug");
            },
            () => () => new Promise(() => {}),
            () => (event) => {
              if (event.event.type === "log") throw new Error("handler bug");
            },
            { tailStream: () => (event) => void good.push(event.event.type) },
          ],
        }),
      );
      for (let i = 0; i < 3; i++) assert.equal(await (worker.getEntrypoint() as any).run(i), i * 2);
      await until(() => good.filter((type) => type === "outcome").length === 3, 5_000, "three outcomes");
      assert.deepEqual(good, ["log", "log", "outcome", "log", "log", "outcome", "log", "log", "outcome"]);
    });

    test("events are copies: a consumer that changes its event changes nothing another consumer or the tail event sees", async () => {
      const second: unknown[][] = [];
      const tailLogs: unknown[][] = [];
      const loader = newLoader({ tails: [(events) => void tailLogs.push(...events.flatMap((e) => e.logs.map((log) => log.message)))] });
      const worker = loader.load(
        gated({
          env: { gate: async () => {} },
          streamingTails: [
            () => (event) => {
              if (event.event.type === "log") {
                (event.event.message as unknown[]).push("tampered");
                (event.event.message[1] as Record<string, unknown>).n = "tampered";
              }
            },
            () => (event) => void (event.event.type === "log" && second.push(event.event.message)),
          ],
        }),
      );
      await (worker.getEntrypoint() as any).run(5);
      await until(() => second.length === 2 && tailLogs.length === 2, 5_000, "both logs");
      assert.deepEqual(second, [["before", 5], ["after", { n: 5 }]]);
      assert.deepEqual(tailLogs, [["before", 5], ["after", { n: 5 }]]);
    });

    test("consumers that do not keep up: the host queues at most 10,000 events for a loader, drops the rest and says how many in a droppedEvents diagnostic where they were", async () => {
      const events: TailStreamEvent[] = [];
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const loader = newLoader();
      const worker = loader.load(
        gated({
          streamingTails: [
            () => async (event) => {
              events.push(event);
              // Every invocation's consumer is stuck on its first event until the test lets go.
              await released;
            },
          ],
        }),
      );
      const calls = 16;
      const lines = 700;
      for (let i = 0; i < calls; i++) assert.equal(await (worker.getEntrypoint() as any).flood(lines), lines);
      // Every call is over while the consumers are still stuck: the host holds its bound, not the flood.
      await until(() => tailStreamQueues(loader).events >= 9_000, 30_000, "the queues to fill");
      await sleep(50);
      const queued = tailStreamQueues(loader);
      assert.ok(queued.events <= 10_000, `${queued.events} events queued`);
      // One event delivered (and stuck) per invocation: a log, or for an invocation none of whose
      // events found room, the note of how many it missed (its outcome among them).
      const heard = events.length;
      assert.equal(heard, calls, `${heard} invocations heard of`);
      assert.ok(events.some((event) => event.event.type === "streamDiagnostic"), "an invocation with no room at all is told so");
      release();
      await until(() => tailStreamQueues(loader).events === 0, 10_000, "the queues to drain");
      await sleep(50);
      assert.deepEqual(tailStreamQueues(loader), { events: 0, bytes: 0 });
      // Per invocation: what it got plus what it was told it missed is all it made (its lines and its outcome), in order.
      const byInvocation = Map.groupBy(events, (event) => event.invocationId);
      assert.equal(byInvocation.size, heard);
      let droppedInAll = 0;
      for (const stream of byInvocation.values()) {
        const logs = stream.filter((e) => e.event.type === "log");
        const dropped = stream.flatMap((e) => (e.event.type === "streamDiagnostic" ? [e.event.diagnostic.count] : []));
        const outcomes = stream.filter((e) => e.event.type === "outcome").length;
        assert.equal(logs.length + outcomes + dropped.reduce((a, b) => a + b, 0), lines + 1);
        assert.deepEqual(logs.map((e) => (e.event.type === "log" ? e.event.message[0] : undefined)), logs.map((_, i) => i), "the first lines, in order");
        droppedInAll += dropped.reduce((a, b) => a + b, 0);
        if (dropped.length > 0) assert.equal(stream.at(-1)!.event.type, outcomes === 1 ? "outcome" : "streamDiagnostic");
      }
      assert.ok(droppedInAll > 0, "some events were dropped and said so");
    });

    test("a consumer that never settles does not take the loader's queues from the others: it holds at most what nobody else needs, and the others still get every event", async () => {
      // The stuck consumer (a tail forwarder whose collector hangs) is listed first, the one that keeps up second.
      let good: TailStreamEvent[] = [];
      let stuckOnsets = 0;
      const stuck: TailStreamEvent[] = [];
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const loader = newLoader({
        streamingTails: [
          // Never settles until the test's very end.
          () => (
            stuckOnsets++,
            async (event) => {
              stuck.push(event);
              await released;
            }
          ),
          () => (event) => void good.push(event),
        ],
      });
      const flooder = loader.load(gated());
      const calls = 12;
      const lines = 900;
      for (let i = 0; i < calls; i++) assert.equal(await (flooder.getEntrypoint() as any).flood(lines), lines);
      assert.equal(stuckOnsets, calls);
      // ~10,800 events for the stuck consumer alone: more than the loader may queue. Once the good
      // consumer has every outcome, every event of the flood has been queued or dropped (the outcomes
      // are each invocation's last), so what the stuck consumer holds is final.
      await until(() => good.filter((e) => e.event.type === "outcome").length === calls, 30_000, "the good consumer's outcomes");
      await sleep(100);
      const held = tailStreamQueues(loader).events;
      assert.ok(held <= 10_000, `${held} events queued`);
      // How much it holds depends on how far behind the good consumer was when the last events came
      // (room it needed then is not given back to the stuck one's dropped events), but never less than
      // the budget less what the good one may queue for one invocation.
      assert.ok(held >= 10_000 - 1_001, `the stuck consumer holds ${held} events: it was not given the room nobody else needed`);
      const byInvocation = Map.groupBy(good, (event) => event.invocationId);
      assert.equal(byInvocation.size, calls);
      for (const stream of byInvocation.values()) {
        assert.deepEqual(stream.filter((e) => e.event.type === "streamDiagnostic"), [], "the good consumer missed nothing of the flood");
        assert.equal(stream.filter((e) => e.event.type === "log").length, lines);
        assert.equal(stream.at(-1)!.event.type, "outcome");
      }
      // Another worker of the loader, later: the consumer that keeps up gets all of it.
      good = [];
      const neighbour = loader.load(gated());
      assert.equal(await (neighbour.getEntrypoint() as any).flood(5), 5);
      await until(() => good.some((e) => e.event.type === "outcome"), 5_000, "the neighbour's outcome");
      assert.deepEqual(
        good.map((e) => (e.event.type === "log" ? `log ${e.event.message[0]}` : e.event.type)),
        ["log 0", "log 1", "log 2", "log 3", "log 4", "outcome"],
      );
      assert.ok(tailStreamQueues(loader).events <= 10_000);
      // Once it lets go, the slow consumer gets what it kept and is told what it lost, where it lost it.
      release();
      await until(() => tailStreamQueues(loader).events === 0, 10_000, "the queues to drain");
      await sleep(50);
      assert.deepEqual(tailStreamQueues(loader), { events: 0, bytes: 0 });
      const stuckByInvocation = [...Map.groupBy(stuck, (event) => event.invocationId).values()];
      assert.equal(stuckByInvocation.length, calls + 1);
      let lost = 0;
      for (const [i, stream] of stuckByInvocation.entries()) {
        const made = i < calls ? lines : 5;
        const logs = stream.flatMap((e) => (e.event.type === "log" ? [e.event.message[0] as number] : []));
        const dropped = stream.reduce((sum, e) => sum + (e.event.type === "streamDiagnostic" ? e.event.diagnostic.count : 0), 0);
        const outcomes = stream.filter((e) => e.event.type === "outcome").length;
        assert.equal(logs.length + dropped + outcomes, made + 1, "what it got and what it was told it missed is all the invocation made");
        assert.deepEqual(logs, [...logs].sort((a, b) => a - b), "in order");
        lost += dropped;
      }
      assert.ok(lost > 0, "the slow consumer lost its own events");
    });

    test("one consumer of one invocation holds at most 1,000 queued events: past them an event is dropped and said so right after the last one kept; the outcome still comes", async () => {
      const events: TailStreamEvent[] = [];
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const loader = newLoader();
      const worker = loader.load(
        gated({
          streamingTails: [
            () => async (event) => {
              events.push(event);
              if (events.length === 1) await released;
            },
          ],
        }),
      );
      // 5,000 lines send 1,001 (the first 800, a note, the last 200), then the exception: 1,002 events behind the one the consumer is stuck on.
      await assert.rejects((worker.getEntrypoint() as any).floodThenThrow(5_000), /after the flood/);
      await until(() => tailStreamQueues(loader).events >= 1_000, 5_000, "the queue to fill");
      release();
      await until(() => events.some((e) => e.event.type === "outcome"), 5_000, "the outcome");
      const types = events.map((e) => e.event.type);
      assert.equal(types.filter((type) => type === "log").length, 1_001);
      assert.deepEqual(types.slice(-2), ["streamDiagnostic", "outcome"]);
      const note = events.at(-2)!.event;
      assert.deepEqual(note.type === "streamDiagnostic" && note.diagnostic, { diagnosticsType: "droppedEvents", count: 1 }, "the exception did not fit");
      const outcome = events.at(-1)!.event;
      assert.equal(outcome.type === "outcome" && outcome.outcome, "exception");
      assert.deepEqual(tailStreamQueues(loader), { events: 0, bytes: 0 });
    });

    test("a consumer that returns nothing gets nothing more of that invocation; a fetch's onset names the request", async () => {
      const onsets: TailStreamEvent[] = [];
      const later: string[] = [];
      const loader = newLoader();
      const worker = loader.load({
        compatibilityDate,
        mainModule: "w.js",
        modules: { "w.js": `export default { async fetch(request) { console.log("hit"); return new Response("ok"); }, run() { console.log("run"); return 1; } };` },
        streamingTails: [
          (onset) => {
            onsets.push(onset);
            if (onset.event.method !== "fetch") return undefined;
            return (event) => void later.push(event.event.type);
          },
        ],
      });
      assert.equal(await (worker.getEntrypoint() as any).run(), 1);
      assert.equal(await (await worker.getEntrypoint().fetch("https://example.com/path?q=1", { method: "POST", body: "x" })).text(), "ok");
      await until(() => later.includes("outcome"), 5_000, "the fetch's outcome");
      assert.deepEqual(later, ["log", "outcome"]);
      assert.deepEqual(onsets.map((o) => o.event.type === "onset" && o.event.info), [{ type: "jsrpc" }, { type: "fetch", method: "POST", url: "https://example.com/path?q=1" }]);
    });

    test("a failed start is an invocation of its own for the streaming tails: onset with startup, its top-level logs, the exception, the outcome", async () => {
      const events: TailStreamEvent[] = [];
      const loader = newLoader();
      const worker = loader.load({
        compatibilityDate,
        mainModule: "w.js",
        modules: { "w.js": `console.log("top"); throw new TypeError("broken start"); export default {};` },
        streamingTails: [(onset) => (events.push(onset), (event) => void events.push(event))],
      });
      await assert.rejects((worker.getEntrypoint() as any).run(), /broken start/);
      await until(() => events.some((e) => e.event.type === "outcome"), 5_000, "the outcome");
      assert.deepEqual(events.map((e) => e.event.type), ["onset", "log", "exception", "outcome"]);
      assert.equal(events[0].event.type === "onset" && events[0].event.startup, true);
    });

    test("streamingTails must be functions or objects with a tailStream method", async () => {
      const loader = newLoader();
      await assert.rejects((loader.load(gated({ streamingTails: [42 as never] })).getEntrypoint() as any).run(1), (error: Error) => error instanceof WorkerCodeError && /streamingTails/.test(error.message));
      assert.throws(() => new WorkerLoader({ streamingTails: [{ tail() {} } as never] }), /streamingTails\[0\]: must be a function or an object with a tailStream method/);
    });
  });
}
