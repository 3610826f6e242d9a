// Issue 17's method: each headline scenario measured on a quiet machine and beside a CPU hog, in the
// same interleaved rounds. The loaded subjects' samples run while the hog spins, the quiet ones while
// it is stopped; the hog itself is a real spinning process that is stopped and continued.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { bothLoads, processHog, type Hog } from "../../bench/hog.ts";
import { sleep, type Subject } from "../../bench/stats.ts";

test("bothLoads: quiet samples with the hog stopped, loaded ones with it spinning, two scenarios", async () => {
  let spinning = false;
  const events: string[] = [];
  const hog: Hog = {
    resume: async () => void ((spinning = true), events.push("resume")),
    pause: async () => void ((spinning = false), events.push("pause")),
    close: async () => {},
  };
  const made: string[] = [];
  const subject = (name: string): Subject => ({ name, perRound: 2, sample: async (count) => Array.from({ length: count }, () => (spinning ? 10 : 1)) });
  const [quiet, loaded] = await bothLoads(
    {
      id: "x",
      title: "X",
      unit: "ms",
      better: "lower",
      rounds: 3,
      subjects: (load) => (made.push(load), [subject("a"), subject("b")]),
      finish: (rows, load) => void (rows[0].note = load),
    },
    hog,
  );
  assert.deepEqual(made, ["quiet", "hog"], "each condition has subjects of its own");
  assert.deepEqual([quiet.id, quiet.load, loaded.id, loaded.load], ["x", "quiet", "x@hog", "hog"]);
  assert.equal(loaded.title, "X, beside a CPU hog on the other core");
  assert.deepEqual(quiet.rows.map((r) => [r.name, r.summary?.max, r.summary?.n]), [["a", 1, 6], ["b", 1, 6]]);
  assert.deepEqual(loaded.rows.map((r) => [r.name, r.summary?.min, r.summary?.n]), [["a", 10, 6], ["b", 10, 6]]);
  assert.deepEqual([quiet.rows[0].note, loaded.rows[0].note], ["quiet", "hog"]);
  // Interleaved: per round (one warm-up round + 3), the two loaded subjects each resume and pause it.
  assert.equal(events.length, 4 * 2 * 2);
  assert.equal(spinning, false, "stopped after the last loaded sample");
});

const state = (pid: number) => readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "")[0];

/** Polls until the process is in `want` (a signal can wait while a starting process pages in its binary). */
async function reaches(pid: number, want: string): Promise<string> {
  let got = state(pid);
  for (let deadline = Date.now() + 5_000; got !== want && Date.now() < deadline; got = state(pid)) await sleep(10);
  return got;
}

test("processHog: one process spinning when resumed, stopped when paused, gone when closed", { skip: process.platform !== "linux" && "reads /proc" }, async () => {
  const hog = processHog();
  assert.equal(hog.pid, undefined, "nothing runs before the first resume");
  try {
    await hog.resume();
    const pid = hog.pid!;
    assert.equal(await reaches(pid, "R"), "R", "spinning");
    const ticks = () => Number(readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ")[11]);
    await hog.pause();
    assert.equal(await reaches(pid, "T"), "T", "stopped");
    const before = ticks();
    await sleep(100);
    assert.equal(ticks(), before, "no CPU time while stopped");
    await hog.resume();
    await sleep(100);
    assert.ok(ticks() > before, "CPU time again once continued");
    await hog.close();
    assert.throws(() => readFileSync(`/proc/${pid}/stat`), "the process is gone");
  } finally {
    await hog.close();
  }
});
