// Egress (the canonical WorkerEntrypoint worker everywhere): one sandbox fetch answered by the host's globalOutbound, on a live worker, against the
// same call without a fetch (what the fetch itself adds) and workerd's Worker Loader doing the same
// through a service binding given as globalOutbound. Samples in µs per call.

import { WorkerLoader } from "../src/index.ts";
import { CANONICAL_SOURCE, COMPAT_DATE, EGRESS_SOURCE } from "./fixtures.ts";
import { startWorkerd, WORKERD_BATCH, type Workerd } from "./peers/workerd.ts";
import { now, repeatedCalls, type Subject } from "./stats.ts";

function isletSubject(name: string, source: string, method: "get" | "greet", expected: string, perRound: number): Subject {
  let loader: WorkerLoader;
  let ep: any;
  const once = async () => {
    const t = now();
    const answer = await ep[method]("x");
    const us = (now() - t) * 1000;
    if (answer !== expected) throw new Error(`${name}: unexpected answer ${answer}`);
    return us;
  };
  return repeatedCalls({
    name,
    perRound,
    warmups: 20,
    async open() {
      loader = new WorkerLoader({ maxWorkers: 10, globalOutbound: () => new Response("ok") });
      ep = loader.get("egress", () => ({ compatibilityDate: COMPAT_DATE, mainModule: "w.js", modules: { "w.js": source } })).getEntrypoint();
    },
    once,
    close: async () => void (await loader?.close()),
  });
}

export function egressSubjects(perRound: number): Subject[] {
  let wd: Workerd | undefined;
  return [
    isletSubject("islet", EGRESS_SOURCE, "get", "ok", perRound),
    isletSubject("islet, the same call without a fetch", CANONICAL_SOURCE, "greet", "hi x", perRound),
    {
      name: "workerd Worker Loader",
      perRound: Math.max(2, Math.round(perRound / WORKERD_BATCH)),
      note: `globalOutbound is a service binding; each sample is the mean of ${WORKERD_BATCH * 10} calls timed inside workerd (1 ms timer)`,
      async setup() {
        wd = await startWorkerd();
        await wd.get("/egress?batches=1&per=20");
      },
      async sample(count) {
        return wd!.get<number[]>(`/egress?batches=${count}&per=${WORKERD_BATCH * 10}`);
      },
      async teardown() {
        await wd?.stop();
      },
    },
  ];
}
