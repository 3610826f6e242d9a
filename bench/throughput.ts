// Fresh sandboxes per second at a given concurrency: islet in this process (on one thread, or
// sharded over child processes or worker threads), workerd inside workerd.

import { isletThroughput } from "./islet.ts";
import { startWorkerd, type Workerd } from "./peers/workerd.ts";
import type { Subject } from "./stats.ts";

const SHARDS = 2;

export function throughputSubjects(concurrency: number, ms: number, shared: { workerd?: Promise<Workerd> }): Subject[] {
  return [
    { name: "islet", perRound: 1, sample: async () => [await isletThroughput(concurrency, ms)] },
    {
      name: `islet, isolation: "process" (${SHARDS} children)`,
      perRound: 1,
      note: "the same loads spread over child processes, each creating isolates on its own core",
      sample: async () => [await isletThroughput(concurrency, ms, 0, { isolation: "process", processes: SHARDS })],
    },
    {
      name: `islet, isolation: "thread" (${SHARDS} threads)`,
      perRound: 1,
      note: "the same loads spread over worker threads of the host process",
      sample: async () => [await isletThroughput(concurrency, ms, 0, { isolation: "thread", threads: SHARDS })],
    },
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
