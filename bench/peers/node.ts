// Node's own isolation units: a worker_threads Worker and a `node -e` child process per task.

import { spawn } from "node:child_process";
import { Worker } from "node:worker_threads";
import { COMPUTE_FUNCTION } from "../fixtures.ts";
import { now, type Subject } from "../stats.ts";

const WORKER_EVAL = `const { parentPort } = require("node:worker_threads");
const mod = { greet(n) { return "hi " + n; } };
parentPort.on("message", (n) => parentPort.postMessage(mod.greet(n)));`;

/** Start a Worker with eval code, one message round trip, terminate(): all timed. */
export function workerThreadsFresh(perRound: number): Subject {
  return {
    name: "node worker_threads",
    perRound,
    async sample(count) {
      const out: number[] = [];
      for (let i = 0; i < count; i++) {
        const t = now();
        const w = new Worker(WORKER_EVAL, { eval: true });
        const answer = await new Promise<unknown>((resolve, reject) => {
          w.once("message", resolve);
          w.once("error", reject);
          w.postMessage("x");
        });
        await w.terminate();
        out.push(now() - t);
        if (answer !== "hi x") throw new Error("worker_threads: unexpected answer");
      }
      return out;
    },
  };
}

const CHILD_EVAL = `const mod = { greet(n) { return "hi " + n; } }; process.stdout.write(mod.greet("x"));`;

/** Spawn `node -e`, read one answer over stdout, until the child has exited and its pipes closed: all timed. */
export function childProcessFresh(perRound: number): Subject {
  return {
    name: "node -e child process",
    perRound,
    async sample(count) {
      const out: number[] = [];
      for (let i = 0; i < count; i++) {
        const t = now();
        const child = spawn(process.execPath, ["-e", CHILD_EVAL], { stdio: ["ignore", "pipe", "inherit"] });
        const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
        const answer = await new Promise<string>((resolve, reject) => {
          let text = "";
          child.stdout.setEncoding("utf8").on("data", (d) => {
            text += d;
            if (text.length >= 4) resolve(text);
          });
          child.once("error", reject);
          closed.then(() => resolve(text));
        });
        await closed;
        out.push(now() - t);
        if (answer !== "hi x") throw new Error("child process: unexpected answer");
      }
      return out;
    },
  };
}

/** The compute workload run directly in this process (plain Node, full JIT). */
export function plainNodeCompute(perRound: number): Subject {
  const compute = new Function(`${COMPUTE_FUNCTION}; return compute;`)() as (seed: number) => number;
  let seed = 1;
  return {
    name: "plain Node",
    perRound,
    async setup() {
      for (let i = 0; i < 3; i++) compute(seed++);
    },
    async sample(count) {
      const out: number[] = [];
      for (let i = 0; i < count; i++) {
        const t = now();
        compute(seed++);
        out.push(now() - t);
      }
      return out;
    },
  };
}
