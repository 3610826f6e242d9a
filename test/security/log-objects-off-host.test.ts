// A log of many small objects must not hold the host's event loop for time that grows with the
// count (findings23/02): with a streaming tail consumer, one console.log of 20,000 empty objects
// (about 200 KB of the 1 MiB log budget) held the host's thread for 0.6–0.9 s in process isolation,
// 35 µs an object: the host weighed the line again with brand checks that each threw (a buffer's,
// a Map's, a Set's, a RegExp's, a boxed BigInt's) for every object, and the codec's check of what
// arrived (clonable.ts received) did the same for every Date, Map, Set, RegExp or boxed primitive,
// with or without a streaming consumer. A copy's objects are now told by their prototype and one
// brand check that passes.
//
// Each attack measures, while the worker logs, the longest gap of a 5 ms timer and the most CPU
// time the host's thread spent between two of its ticks (as derived-off-host.test.ts does). The
// counts are chosen so that the host's thread computed well over a second at a stretch before the
// fix, in every mode; the bounds leave room for a loaded machine.

import assert from "node:assert/strict";
import { WorkerLoader, type TailEvent, type TailStreamEvent } from "islet";
import { compatibilityDate } from "../helpers.ts";
import { securitySuite } from "./harness.ts";
import { assertLoopFree, longestStall } from "./loop-stall.ts";

const { attack, isolation, options } = securitySuite();

/**
 * The most CPU time the host's thread may spend without letting its event loop turn, and the
 * longest stall of the loop. Before the fix the host's thread computed 1.3–3.2 s at a stretch for
 * these logs, in every mode (its loop stalled 1.7–7.9 s); after it, 85–200 ms (the whole line
 * decoded, checked, weighed and copied for the consumer: 1–3 µs a value), with stalls of 140–710 ms
 * on a loaded 2-core machine (the gap also counts time the thread waited for a core, once 1.4 s
 * at 60,000 values: the CPU time is what is bounded tightly, the stall on top of a control's).
 */
const MAX_BUSY_MS = 500;
const MAX_STALL_MS = 1_000;

const LOGGER = `export default {
  run(n, kind) {
    const make = {
      object: () => ({}),
      array: () => [],
      mixed: (i) => [() => new Date(0), () => new Map(), () => new Set(), () => /a/, () => Object(1), () => Object("s"), () => Object(1n), () => new Uint8Array(0), () => new ArrayBuffer(0)][i % 9](),
    }[kind];
    console.log(Array.from({ length: n }, (_, i) => make(i)));
    return n;
  },
};`;

async function logAndMeasure(count: number, kind: string): Promise<void> {
  const streamed: unknown[][] = [];
  const tailed: unknown[][] = [];
  const loader = new WorkerLoader({
    ...options,
    limits: { cpuMs: 20_000, wallMs: 60_000, memoryMb: 256 },
    tails: [(events: TailEvent[]) => void events.forEach((event) => event.logs.forEach((log) => tailed.push(log.message)))],
    streamingTails: [() => (event: TailStreamEvent) => void (event.event.type === "log" && streamed.push(event.event.message))],
  });
  try {
    const worker = loader.load({ compatibilityDate, mainModule: "main.js", modules: { "main.js": LOGGER } });
    const entry = worker.getEntrypoint() as unknown as { run(n: number, kind: string): Promise<number> };
    assert.equal(await entry.run(10, kind), 10);
    // The last events reach the consumers after the call returns: the timer watches 100 ms more.
    const measured = await longestStall(
      async () => {
        assert.equal(await entry.run(count, kind), count);
      },
      { settleMs: 100 },
    );
    // The line was kept whole (not cut as too large) and reached both the consumer and the tail.
    assert.equal((streamed.at(-1)?.[0] as unknown[] | undefined)?.length, count);
    assert.equal((tailed.at(-1)?.[0] as unknown[] | undefined)?.length, count);
    await assertLoopFree(
      measured,
      { maxBusyMs: MAX_BUSY_MS, maxStallMs: MAX_STALL_MS },
      (control) =>
        `[${isolation}] a log of ${count} ${kind} values with a streaming tail: the host's thread computed at most ${measured.busyMs.toFixed(0)} ms at a stretch, its event loop stalled at most ${measured.stallMs.toFixed(0)} ms (${control.toFixed(0)} ms with no work)`,
    );
  } finally {
    await loader.close();
  }
}

attack("findings23/02: a log of 90,000 empty objects with a streaming tail holds the host's thread for no time that grows with them", async () => {
  await logAndMeasure(90_000, "object");
});

attack("findings23/02: a log of 90,000 empty arrays with a streaming tail holds the host's thread for no time that grows with them", async () => {
  await logAndMeasure(90_000, "array");
});

attack("findings23/02: a log of 60,000 Dates, Maps, Sets, RegExps, boxed primitives, views and buffers holds the host's thread for no time that grows with them", async () => {
  await logAndMeasure(60_000, "mixed");
});
