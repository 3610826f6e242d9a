// Parts of the runtime that load on first use. The host compiles each chunk (with its own code
// cache) and runs it in this isolate during a synchronous callback, then hands its exports to
// receiveChunk(); a name from the sandbox only ever selects one of islet's own chunks.

import type * as WebChunk from "./web/index.ts";

type ChunkName = "web";
let requestChunk: (name: ChunkName) => void = () => {
  throw new Error("islet runtime used before setup");
};
const loaded = new Map<ChunkName, unknown>();

export function setChunkLoader(fn: (name: ChunkName) => void): void {
  requestChunk = fn;
}

export function receiveChunk(name: ChunkName, exports: unknown): void {
  if (!loaded.has(name)) loaded.set(name, exports);
}

function chunk<T>(name: ChunkName): T {
  let exports = loaded.get(name);
  if (exports === undefined) {
    requestChunk(name);
    exports = loaded.get(name);
    if (exports === undefined) throw new Error(`islet: the ${name} runtime chunk failed to load`);
  }
  return exports as T;
}

export function web(): typeof WebChunk {
  return chunk<typeof WebChunk>("web");
}
