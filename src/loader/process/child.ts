// The child process of process isolation: a shard (../shard/runner.ts) over Node's IPC channel.

import { runShard } from "../shard/runner.ts";
import { decodeMessage, encodeMessage } from "./codec.ts";

if (typeof process.send !== "function") {
  console.error("islet: src/loader/process/child is started by WorkerLoader({ isolation: \"process\" }), not directly.");
  process.exit(2);
}

const send = process.send.bind(process) as (message: Buffer) => boolean;
// The parent is gone (or closed the channel): nothing may outlive it.
process.on("disconnect", () => process.exit(0));

runShard({
  // Messages cross as V8-serialized buffers both ways (codec.ts), so typed arrays arrive exact.
  send: (message) => void send(encodeMessage(message)),
  onMessage: (listener) =>
    void process.on("message", (data) => {
      let message: unknown;
      try {
        message = decodeMessage(data);
      } catch (error) {
        console.error(`islet: the host sent a message the sandbox process could not decode: ${(error as Error)?.message}`);
        process.exit(1);
      }
      listener(message);
    }),
  exit: (code) => process.exit(code),
  describe: () => ({}),
});
