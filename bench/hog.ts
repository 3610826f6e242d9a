// Issue 17's method: "every scenario run twice, once on a quiet machine and once beside a CPU hog on
// the other core, and both shown". The hog is one plain Node process spinning (`for (;;) {}`): on
// this 2-core machine it takes the core the bench's own process is not on. It is started once and
// stopped (SIGSTOP) whenever a quiet sample is taken, continued (SIGCONT) around every loaded one.
//
// `bothLoads` measures one scenario's subjects in both conditions in the same interleaved rounds
// (quiet A, quiet B, …, loaded A, loaded B, … per round), so drift of a noisy machine hits both
// alike, and returns two scenarios: `<id>` (quiet) and `<id>@hog` (beside the hog).

import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import type { Scenario } from "./report.ts";
import { roundRobin, sleep, type Subject, type SubjectResult } from "./stats.ts";

/** What competes with the bench beside a loaded sample. */
export interface Hog {
  /** Starts (or continues) spinning; resolves once it is at full speed. */
  resume(): Promise<void>;
  /** Stops spinning (the process stays, stopped). */
  pause(): Promise<void>;
  close(): Promise<void>;
  /** The hog's process id, once started (for tests). */
  readonly pid?: number;
}

export const HOG_SUFFIX = "@hog";
export const HOG_TITLE = "beside a CPU hog on the other core";
export const HOG_DESCRIPTION = "one plain Node process spinning (`for (;;) {}`), continued (SIGCONT) around each loaded sample and stopped (SIGSTOP) around each quiet one";

/** How long a continued hog runs before a loaded sample starts (it spins at once; this lets the scheduler place it). */
const SETTLE_MS = 5;

const running = new Set<ChildProcess>();

/** Kills every hog this process started (for exit and signal handlers, which cannot await). */
export function killAllHogs(): void {
  for (const child of running) child.kill("SIGKILL");
}

/** One `node -e "for (;;) {}"` child, started on the first resume(). */
export function processHog(): Hog {
  let child: ChildProcess | undefined;
  const ensure = () => {
    if (child === undefined) {
      const c = spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" });
      running.add(c);
      c.once("exit", () => running.delete(c));
      c.unref();
      child = c;
    }
    return child;
  };
  return {
    get pid() {
      return child?.pid;
    },
    async resume() {
      const starting = child === undefined;
      ensure().kill("SIGCONT");
      // A new process first pages in Node's binary: let it reach its loop before the first sample.
      await sleep(starting ? 200 : SETTLE_MS);
    },
    async pause() {
      child?.kill("SIGSTOP");
    },
    async close() {
      if (child === undefined) return;
      const c = child;
      child = undefined;
      c.ref(); // unref'd while it ran: waiting for its exit must keep the event loop alive
      c.kill("SIGKILL");
      if (c.exitCode === null && c.signalCode === null) await once(c, "exit");
    },
  };
}

/** `subject` with its every sample() taken beside the hog (setup and teardown quiet). */
export function besideHog(subject: Subject, hog: Hog): Subject {
  return {
    ...subject,
    setup: subject.setup?.bind(subject),
    teardown: subject.teardown?.bind(subject),
    async sample(count) {
      await hog.resume();
      try {
        return await subject.sample(count);
      } finally {
        await hog.pause();
      }
    },
  };
}

export interface BothLoadsSpec {
  id: string;
  title: string;
  unit: Scenario["unit"];
  better: Scenario["better"];
  note?: string;
  rounds: number;
  warmupRounds?: number;
  /** A new set of subjects, called once per condition (each condition's subjects have their own state). */
  subjects(load: "quiet" | "hog"): Subject[];
  /** Adjusts a condition's rows once measured (pool hit rates, renamed rows). */
  finish?(rows: SubjectResult[], load: "quiet" | "hog"): void;
}

/** The quiet scenario and the same beside the hog, measured in the same interleaved rounds. */
export async function bothLoads(spec: BothLoadsSpec, hog: Hog): Promise<[Scenario, Scenario]> {
  const quiet = spec.subjects("quiet");
  const loaded = spec.subjects("hog").map((s) => besideHog(s, hog));
  const rows = await roundRobin([...quiet, ...loaded], spec.rounds, spec.warmupRounds ?? 1);
  const quietRows = rows.slice(0, quiet.length);
  const loadedRows = rows.slice(quiet.length);
  spec.finish?.(quietRows, "quiet");
  spec.finish?.(loadedRows, "hog");
  const base = { unit: spec.unit, better: spec.better };
  return [
    { id: spec.id, title: spec.title, ...base, load: "quiet", note: spec.note, rows: quietRows },
    { id: spec.id + HOG_SUFFIX, title: `${spec.title}, ${HOG_TITLE}`, ...base, load: "hog", note: spec.note, rows: loadedRows },
  ];
}
