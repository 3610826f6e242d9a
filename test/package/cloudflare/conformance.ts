// Type conformance of islet's host API with Cloudflare's (@cloudflare/workers-types): checked by
// tsc in conformance.test.ts. islet's types come from the package by name (its dist/*.d.ts), in a
// compilation where the globals are Cloudflare's. A line that must not compile is marked as an
// expected error: it pins a known difference, and tsc fails if the difference goes away.

import type { Entrypoint, WorkerCode, WorkerLoader as IsletWorkerLoader, WorkerStub as IsletWorkerStub } from "islet";
import { WorkerEntrypoint } from "cloudflare:workers";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | void {}

// --- WorkerCode ------------------------------------------------------------------------------
// Cloudflare's WorkerLoaderWorkerCode, without what islet does not take (Python and compiled
// WebAssembly.Module modules, streaming tails, experimental flags) and with islet's own Fetcher
// for globalOutbound and tails, is assignable to islet's WorkerCode...
type CloudflareCode = Omit<WorkerLoaderWorkerCode, "modules" | "globalOutbound" | "tails" | "streamingTails" | "allowExperimental">;
type IsletCodeShared = Omit<WorkerCode, "modules" | "globalOutbound" | "tails">;
assertType<CloudflareCode extends IsletCodeShared ? true : false>();
// ...and islet's (minus memoryMb and wallMs, which Cloudflare does not have) is assignable back.
assertType<Omit<IsletCodeShared, "limits"> & { limits?: { cpuMs?: number; subRequests?: number } } extends CloudflareCode ? true : false>();

declare const loader: IsletWorkerLoader;
// A Cloudflare-typed worker code of every module kind both accept loads as it is.
const modules = {
  "main.js": "export default {}",
  "lib.cjs": { cjs: "module.exports = 1" },
  "esm.js": { js: "export default 1" },
  "t.txt": { text: "hello" },
  "d.json": { json: { a: 1 } },
  "b.bin": { data: new ArrayBuffer(1) },
  "m.wasm": { wasm: new Uint8Array(8) },
} satisfies WorkerLoaderWorkerCode["modules"];
const cfCode = { compatibilityDate: "2026-11-01", compatibilityFlags: ["nodejs_compat"], mainModule: "main.js", modules, env: { A: 1 }, limits: { cpuMs: 50, subRequests: 10 } } satisfies WorkerLoaderWorkerCode;
const stub: IsletWorkerStub = loader.load(cfCode);
loader.get("id", async () => cfCode);
loader.get(null, () => cfCode);
// Known differences: Python modules, compiled WebAssembly.Module values.
// @ts-expect-error islet runs no Python
loader.load({ ...cfCode, modules: { "main.py": { py: "print(1)" } } });
declare const compiled: WebAssembly.Module;
// @ts-expect-error islet takes WebAssembly as bytes, not a compiled Module
loader.load({ ...cfCode, modules: { "m.wasm": compiled } });

// --- WorkerLoader and WorkerStub -------------------------------------------------------------
// islet's WorkerLoader is Cloudflare's, minus connect() on entrypoints:
// a library typed against Cloudflare's WorkerLoader (untyped entrypoints) accepts islet's.
type CloudflareStubSubset = {
  getEntrypoint(name?: string, options?: WorkerStubEntrypointOptions): Omit<Fetcher, "connect">;
};
type CloudflareLoaderSubset = {
  get(name: string | null, getCode: () => CloudflareCode & { modules: typeof modules } | Promise<CloudflareCode & { modules: typeof modules }>): CloudflareStubSubset;
  load(code: CloudflareCode & { modules: typeof modules }): CloudflareStubSubset;
};
const asCloudflare: CloudflareLoaderSubset = loader;
void asCloudflare;
// Durable Object classes of a dynamic worker, for facets, take Cloudflare's arguments.
void stub.getDurableObjectClass();
void stub.getDurableObjectClass("App", { props: { plan: "free" }, limits: { cpuMs: 50 } });

// --- getEntrypoint<T>() against Fetcher<T> ----------------------------------------------------
class Greeter extends WorkerEntrypoint {
  greet(name: string, times: number): string {
    return name.repeat(times);
  }
  async count(): Promise<number> {
    return 1;
  }
  readonly notAMethod = 1;
}
class Methods extends WorkerEntrypoint {
  greet(name: string): string {
    return name;
  }
  async sum(values: number[]): Promise<number> {
    return values.length;
  }
}
class Data extends WorkerEntrypoint {
  async data(): Promise<{ a: number[] }> {
    return { a: [1] };
  }
}
declare const islet: Entrypoint<Greeter>;
declare const cloudflare: Fetcher<Greeter>;
assertType<Equal<Parameters<typeof islet.greet>, Parameters<typeof cloudflare.greet>>>();
assertType<Equal<Awaited<ReturnType<typeof islet.greet>>, Awaited<ReturnType<typeof cloudflare.greet>>>>();
assertType<Equal<Awaited<ReturnType<typeof islet.count>>, number>>();
assertType<Equal<ReturnType<typeof islet.greet>, Promise<string>>>();
assertType<Equal<Parameters<typeof islet.fetch>, Parameters<typeof cloudflare.fetch>>>();
// A typed islet entrypoint is a typed Cloudflare Fetcher (minus connect, and the nominal brand
// Cloudflare's Fetcher<T> copies from WorkerEntrypoint) when T's methods return data.
type Brand = typeof Rpc.__WORKER_ENTRYPOINT_BRAND;
const typed: Omit<Fetcher<Methods>, "connect" | Brand> = stub.getEntrypoint<Methods>();
void typed;
// @ts-expect-error Cloudflare's object results are also pipelined stubs (Disposable, with promise properties); islet's are plain promises
const pipelined: Omit<Fetcher<Data>, "connect" | Brand> = stub.getEntrypoint<Data>();
void pipelined;
// islet's entrypoints have connect() too (the worker's connect(socket) handler, README's TCP
// sockets), returning islet's own InboundSocket rather than Cloudflare's Socket type: the lines
// above leave it out of the comparison.
void stub.getEntrypoint<Methods>().connect("example.com:443");
// The class itself works too, as with Cloudflare's Service<typeof Greeter>.
const fromClass: Entrypoint<typeof Greeter> = islet;
void fromClass;
// @ts-expect-error wrong argument type
void islet.greet(1, 2);
// @ts-expect-error not a method of Greeter
void islet.farewell();
// @ts-expect-error properties are not callable over islet's RPC (Cloudflare's Fetcher<T> reads them as promises)
void islet.notAMethod;
