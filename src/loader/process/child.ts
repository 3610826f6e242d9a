// The child process of process isolation: a shard (../shard/runner.ts) over Node's IPC channel.

import { runShard } from "../shard/runner.ts";
import type { Message } from "../shard/protocol.ts";

if (typeof process.send !== "function") {
  console.error("islet: src/loader/process/child is started by WorkerLoader({ isolation: \"process\" }), not directly.");
  process.exit(2);
}

const send = process.send.bind(process) as (message: Message) => boolean;
// The parent is gone (or closed the channel): nothing may outlive it.
process.on("disconnect", () => process.exit(0));

runShard({
  send: (message) => void send(message),
  onMessage: (listener) => void process.on("message", listener),
  exit: (code) => process.exit(code),
  describe: () => ({}),
});
