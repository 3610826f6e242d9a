// A worker thread of thread isolation: a shard (../shard/runner.ts) over the thread's parentPort.

import { isMainThread, parentPort, threadId } from "node:worker_threads";
import { runShard } from "../shard/runner.ts";

if (isMainThread || parentPort === null) {
  console.error("islet: src/loader/thread/entry is started by WorkerLoader({ isolation: \"thread\" }), not directly.");
  process.exit(2);
}

const port = parentPort;
runShard({
  send: (message) => port.postMessage(message),
  onMessage: (listener) => void port.on("message", listener),
  // In a worker thread, process.exit ends the thread, not the process.
  exit: (code) => process.exit(code),
  // The thread then ends when its event loop has nothing left, isolated-vm's work included.
  release: () => {
    port.removeAllListeners("message");
    port.unref();
  },
  describe: () => ({ threadId }),
});
