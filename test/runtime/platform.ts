// Runs the runtime's chunks directly in Node for differential tests: binds the platform they use
// to Node's timers and to the real host services (the same code a sandbox reaches through its
// copy-only callback), and loads every chunk module into this one module graph.

import { callAsyncService, callService, ServiceState } from "../../src/engine/services/index.ts";
import { bindPlatform, type ChunkName } from "../../src/runtime/platform.ts";
import { asyncContextEnabled, bindAsyncContext, getAsyncContext, setAsyncContext } from "../../src/runtime/async-context.ts";
import { errorFromRecord } from "../../src/protocol/errors.ts";

const entries: Record<ChunkName, string> = {
  web: "../../src/runtime/web/index.ts",
  url: "../../src/runtime/web/url/index.ts",
  events: "../../src/runtime/web/events/index.ts",
  streams: "../../src/runtime/web/streams/index.ts",
  compression: "../../src/runtime/web/streams/codecs/index.ts",
  encodings: "../../src/runtime/web/legacy-encodings.ts",
  crypto: "../../src/runtime/web/crypto/index.ts",
  node: "../../src/runtime/node/index.ts",
};

const state = new ServiceState();
const chunks = new Map<ChunkName, unknown>();

bindPlatform({
  load(name) {
    const chunk = chunks.get(name);
    if (chunk === undefined) throw new Error(`test platform: chunk ${name} is not available`);
    return chunk;
  },
  host(service, ...args) {
    const answer = callService(state, service, args);
    if (answer[0] === 1) return answer[1];
    throw errorFromRecord(answer[1]);
  },
  // Boxed, as the runtime's bridge answers (src/runtime/bridge.ts: Answer).
  async hostAsync(service, ...args) {
    return { __proto__: null, value: await callAsyncService(state, service, args) } as { readonly value: unknown };
  },
  readHostBody() {
    return Promise.reject(new Error("test platform: no host bodies"));
  },
  cancelHostBody() {},
  requestOp() {
    return Promise.reject(new Error("test platform: no host requests"));
  },
  sendOp() {},
  setTimer(callback, ms) {
    // A number, as the sandbox's timers give: Node's Timeout turns into its id, which clearTimeout takes.
    return Number(setTimeout(callback, ms));
  },
  clearTimer(id) {
    clearTimeout(id);
  },
  asyncContext: { enabled: asyncContextEnabled, get: getAsyncContext, set: setAsyncContext, bind: bindAsyncContext },
  // Node has no boundary to refuse platform objects at (src/runtime/brands.ts).
  brand() {},
  socketConnect() {
    throw new Error("test platform: no sockets");
  },
});

for (const [name, path] of Object.entries(entries) as [ChunkName, string][]) {
  try {
    chunks.set(name, await import(path));
  } catch (error) {
    if ((error as { code?: string }).code !== "ERR_MODULE_NOT_FOUND") throw error;
  }
}
