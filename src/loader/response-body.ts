// A fetch handler's response body that the sandbox streams: the host's caller reads it through a
// ReadableStream that pulls one chunk at a time from the sandbox, and the invocation stays in
// flight (under its cpuMs and wallMs) until the body ends, fails or is cancelled. A body complete
// at once (or within a moment) is read ahead and crosses whole instead (readAhead).

import { DataCloneError, LimitError, WorkerDisposedError, type Outcome } from "../errors.ts";
import type { Sandbox } from "../engine/sandbox.ts";
import { errorFromSandbox } from "../rpc/peer.ts";
import { received } from "../protocol/clonable.ts";
import type { Result } from "../protocol/entries.ts";
import { EAGER_BODY_BYTES, HostBody } from "./host-body.ts";

/** What the stream needs of its worker. */
export interface ResponseBodySource {
  readonly sandbox: Pick<Sandbox, "call" | "died" | "alive">;
  /** The worker's mapping of a sandbox failure to the error its callers see. */
  translate(error: unknown): Error;
  /** Resolves once the posts a chunk's answer says came before it have been handled. */
  postsArrived(target: unknown): Promise<void> | void;
}

export interface BodyEnd {
  outcome: Outcome;
  error?: Error;
}

export function bodyEnd(error: Error): BodyEnd {
  const outcome: Outcome = error instanceof LimitError ? error.outcome : error instanceof WorkerDisposedError ? "canceled" : "exception";
  return { outcome, error };
}


/** A chunk as the host may hold it (a view over a resizable buffer becomes one over a fixed-length copy), or undefined when it may not cross. */
function receivedChunk(chunk: Uint8Array): unknown {
  try {
    return received(chunk);
  } catch {
    return undefined;
  }
}

/**
 * A response whose body the sandbox streams: the record gets a ReadableStream that pulls it a
 * chunk at a time (bodyPull) as the caller reads, nothing ahead (highWaterMark 0). Resolves when
 * the body ended, failed or was cancelled: the invocation stays in flight until then, its
 * cpuMs and wallMs enforced, its capabilities and timers working.
 */
export function streamResponseBody(source: ResponseBodySource, value: unknown, failed: Promise<never>): Promise<BodyEnd> | undefined {
  const record = value as { body: unknown; bodyStream?: unknown };
  const id = record.bodyStream;
  if (typeof id !== "number") return undefined;
  delete record.bodyStream;
  let ended!: (how: BodyEnd) => void;
  const done = new Promise<BodyEnd>((resolve) => (ended = resolve));
  let open = true;
  let cancelling = false;
  /** The first way the body ended is the invocation's outcome (its tail event's). */
  const end = (how: BodyEnd = { outcome: "ok" }) => {
    if (!open) return;
    open = false;
    ended(how);
  };
  const failedWith = (error: unknown) => end(bodyEnd(source.translate(error)));
  // A body nobody reads any more ends with its sandbox (past wallMs at the latest) or its invocation's failure.
  source.sandbox.died.catch(failedWith);
  failed.catch(failedWith);
  record.body = new ReadableStream<Uint8Array>(
    {
      pull: async (controller) => {
        try {
          const answer = (await Promise.race([source.sandbox.call("bodyPull", [id, Date.now()]), failed])) as Result;
          // Cancelled while this pull was on its way: cancel() ends the invocation once the sandbox has cancelled its end.
          if (cancelling) return;
          if (!Array.isArray(answer)) throw new DataCloneError("Malformed body chunk from the sandbox.");
          await source.postsArrived(answer[3]);
          if (answer[0] !== 1) throw errorFromSandbox(answer[1]);
          const chunk = answer[1] instanceof Uint8Array ? receivedChunk(answer[1]) : answer[1];
          if (chunk === null) {
            controller.close();
            end();
          } else if (chunk instanceof Uint8Array) controller.enqueue(chunk);
          else throw new TypeError("Received non-Uint8Array chunk");
        } catch (error) {
          if (cancelling) return;
          const translated = source.translate(error);
          end(bodyEnd(translated));
          throw translated;
        }
      },
      cancel: async () => {
        if (!open) return;
        cancelling = true;
        try {
          // The stream's cancel callback is the sandbox's code: it runs within the invocation.
          if (source.sandbox.alive) await Promise.race([source.sandbox.call("bodyCancel", [id]), failed]);
        } catch (error) {
          // A sandbox that died or failed has nothing more to cancel; its limit is the outcome.
          end(bodyEnd(source.translate(error)));
        } finally {
          end({ outcome: "canceled" });
        }
      },
    },
    { highWaterMark: 0 },
  );
  return done;
}

/** How long a fetch handler's streamed response body is read ahead before its head is handed over. */
const EAGER_RESPONSE_MS = 5;
const eagerWindow = (): Promise<"turn"> => new Promise((resolve) => setTimeout(resolve, EAGER_RESPONSE_MS, "turn"));

/**
 * A streamed body that is complete at once (or within EAGER_RESPONSE_MS), up to EAGER_BODY_BYTES,
 * crosses whole, ending the invocation now rather than when (and if) the caller reads it; any
 * other is handed on as a stream, what was read ahead first.
 */
export async function readAhead(body: ReadableStream<Uint8Array>): Promise<Uint8Array | ReadableStream<Uint8Array>> {
  const streamed = new HostBody(body.getReader());
  const whole = await streamed.readAvailable(EAGER_BODY_BYTES, 64, eagerWindow);
  return whole ?? hostBodyStream(streamed);
}

/** A body already being read, as a stream pulled a chunk at a time. */
function hostBodyStream(body: HostBody): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await body.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel() {
        body.cancel();
      },
    },
    { highWaterMark: 0 },
  );
}
