// Fresh canonical workers per second (load + first RPC + dispose each) at a given concurrency:
// islet in this process (on one thread, or sharded over child processes or worker threads),
// workerd inside workerd (load + first RPC: it has no dispose to call).

import { isletThroughputSubject } from "./islet.ts";
import { startWorkerd, type Workerd } from "./peers/workerd.ts";
import type { Subject } from "./stats.ts";

const SHARDS = 2;

export function throughputSubjects(concurrency: number, ms: number, shared: { workerd?: Promise<Workerd> }): Subject[] {
  return [
    isletThroughputSubject("islet", concurrency, ms),
    isletThroughputSubject(`islet, isolation: "process" (${SHARDS} children)`, concurrency, ms, { isolation: "process", processes: SHARDS }, "the same loads spread over child processes, each creating isolates on its own core"),
    isletThroughputSubject(`islet, isolation: "thread" (${SHARDS} threads)`, concurrency, ms, { isolation: "thread", threads: SHARDS }, "the same loads spread over worker threads of the host process"),
    {
      name: "workerd Worker Loader",
      perRound: 1,
      note: "loops inside the parent worker (one workerd process, one thread)",
      async setup() {
        await (shared.workerd ??= startWorkerd());
      },
      async sample() {
        const wd = await shared.workerd!;
        return [(await wd.get<{ perSecond: number }>(`/throughput?c=${concurrency}&ms=${ms}`)).perSecond];
      },
    },
  ];
}
