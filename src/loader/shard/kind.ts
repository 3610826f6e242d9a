// What a shard is to the pool: the interface child processes (../process/pool.ts) and worker
// threads (../thread/pool.ts) implement, so that the pool, its connections and its restarts
// (pool.ts, connection.ts) are written once for both.

import type { Message } from "./protocol.ts";

/** What a started shard tells the pool. */
export interface ShardEvents {
  message(message: unknown): void;
  /** Text the shard wrote to stderr: kept to explain a death before it was ready. */
  diagnostic(text: string): void;
  /** The shard is gone (exited, killed, or never started). Called once. */
  exit(info: ShardExit): void;
}

export interface ShardExit {
  exitCode: number | null;
  signal: string | null;
  /** Why it ended, when the shard's runtime says (a worker thread's uncaught error or heap exhaustion). */
  reason?: string;
  /** It never started. */
  startError?: Error;
}

/** One running shard, as the pool drives it. */
export interface ShardHandle {
  /** The pid or thread id; undefined if it never started. */
  readonly id: number | undefined;
  /** Still able to take messages. */
  readonly connected: boolean;
  /** Throws if the message cannot be copied or the shard is gone. */
  post(message: Message): void;
  /** Keep the host's event loop alive for this shard (while calls are pending) or not. */
  ref(): void;
  unref(): void;
  /** Ends the shard at once; its exit event follows. */
  kill(): void;
}

/** Child processes or worker threads. */
export interface ShardKind {
  /** "process" or "thread", for messages. */
  readonly noun: string;
  /** How the shard's id is named in messages: "pid" or "id". */
  readonly idName: string;
  launch(events: ShardEvents): ShardHandle;
  /** The named error calls lost with a shard reject with. */
  lostError(message: string, exit?: { exitCode: number | null; signal: string | null }): Error;
  /** Replace a shard whose killed sandbox runs on (a process can be killed; a thread cannot stop an isolate either). */
  readonly replaceRunaway?: boolean;
}
