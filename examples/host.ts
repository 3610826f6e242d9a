// The README's example: a host program runs model-written code in a fresh isolate and lends it
// exactly one capability.
import { RpcTarget, WorkerLoader } from "islet";

class Inventory extends RpcTarget {
  count(item: string): number {
    return item === "apples" ? 3 : 0;
  }
}

const loader = new WorkerLoader({ limits: { cpuMs: 50, memoryMb: 64 } });
const worker = loader.load({
  compatibilityDate: "2026-11-01",
  mainModule: "agent.js",
  modules: {
    "agent.js": `
      import { WorkerEntrypoint } from "cloudflare:workers";
      export default class extends WorkerEntrypoint {
        async report(item) { return item + ": " + (await this.env.inventory.count(item)); }
      }`,
  },
  env: { inventory: new Inventory() },
});
console.log(await worker.getEntrypoint().report("apples")); // apples: 3
await loader.close();
