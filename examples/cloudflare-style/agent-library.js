// A library written for Cloudflare's Worker Loader, unmodified: it imports its base classes from
// "cloudflare:workers" and expects a Worker Loader binding in env.LOADER. Under Node it runs with
// `node --import islet/register`, which maps "cloudflare:workers" to islet/workers.

import { RpcTarget, WorkerEntrypoint } from "cloudflare:workers";

/** A capability handed to the agent's code: it can add notes, and read back only its own. */
export class Notebook extends RpcTarget {
  #notes = [];
  add(text) {
    this.#notes.push(String(text));
    return this.#notes.length;
  }
  list() {
    return [...this.#notes];
  }
}

/** An entrypoint-style capability, constructed the way Cloudflare constructs them. */
export class Clock extends WorkerEntrypoint {
  now() {
    return this.env.fixedTime;
  }
}

/** Runs model-written code in a fresh dynamic worker, passing it the capabilities as RPC targets. */
export async function runAgent(env, agentCode) {
  const worker = env.LOADER.load({
    compatibilityDate: "2026-11-01",
    mainModule: "agent.js",
    modules: { "agent.js": agentCode },
    globalOutbound: null,
  });
  const notebook = new Notebook();
  const clock = new Clock({ waitUntil() {}, passThroughOnException() {} }, { fixedTime: "2026-11-21T12:00:00Z" });
  const answer = await worker.getEntrypoint().run({ notebook, clock });
  return { answer, notes: notebook.list() };
}
