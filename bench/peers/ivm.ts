// The raw isolated-vm floor under islet: what a fresh isolate and one call cost with no islet runtime.

import ivm from "isolated-vm";
import { GREET_SOURCE } from "../fixtures.ts";
import { now, type Subject } from "../stats.ts";

/**
 * new Isolate + context + compile/instantiate/evaluate the module + call greet (sync API) +
 * isolate.dispose(), all timed (issue 17's floor: "a bare isolated-vm isolate + context + one ES
 * module + one call"). The module is the plain object worker: a bare isolate has no
 * cloudflare:workers to import.
 */
export function ivmFresh(perRound: number): Subject {
  const once = () => {
    const isolate = new ivm.Isolate({ memoryLimit: 128 });
    try {
      const context = isolate.createContextSync();
      const mod = isolate.compileModuleSync(GREET_SOURCE, { filename: "w.js" });
      mod.instantiateSync(context, () => {
        throw new Error("no imports");
      });
      mod.evaluateSync();
      const def = mod.namespace.getSync("default", { reference: true }) as ivm.Reference<any>;
      const greet = def.getSync("greet", { reference: true }) as ivm.Reference<any>;
      return greet.applySync(def.derefInto(), ["x"], { result: { copy: true } }) as string;
    } finally {
      isolate.dispose();
    }
  };
  return {
    name: "isolated-vm bare (floor)",
    perRound,
    note: "no islet runtime; sync API; the plain object module; dispose() timed",
    async setup() {
      if (once() !== "hi x") throw new Error("isolated-vm: unexpected answer");
    },
    async sample(count) {
      const out: number[] = [];
      for (let i = 0; i < count; i++) {
        const t = now();
        const answer = once();
        out.push(now() - t);
        if (answer !== "hi x") throw new Error("isolated-vm: unexpected answer");
      }
      return out;
    },
  };
}

/** A live isolate whose functions are called with isolated-vm's async `apply` (one thread hop each way). */
export async function ivmRpc() {
  const isolate = new ivm.Isolate({ memoryLimit: 128 });
  const context = await isolate.createContext();
  const fn = (await context.eval("(x) => x", { reference: true })) as ivm.Reference<(x: unknown) => unknown>;
  const opts = { arguments: { copy: true }, result: { copy: true } } as const;
  return {
    ping: (x: unknown): Promise<unknown> => fn.apply(undefined, [x], opts),
    echo: (s: string): Promise<string> => fn.apply(undefined, [s], opts) as Promise<string>,
    callback: (): Promise<number> => Promise.reject(new Error("not measured for the raw floor")),
    relay: (): Promise<number> => Promise.reject(new Error("not measured for the raw floor")),
    close: async () => isolate.dispose(),
  };
}
