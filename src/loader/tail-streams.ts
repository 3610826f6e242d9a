// Streaming tails: each invocation's events (onset, every log line, exceptions, outcome) reach the
// consumers while the invocation runs, as Cloudflare's streamingTails do. The worker emits them as
// they happen (worker.ts); in thread and process isolation its shard sends each one to the host at
// once (shard/runner.ts), and the host delivers them here. Delivery never holds the worker up: every
// consumer has a queue of its own, delivered one event at a time (a handler's promise is awaited
// before its next event), and what the queues hold is bounded. Each consumer gets its own copy of
// every event, plain data only.

import { AsyncResource } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import type { StreamingTail, TailStreamEvent, TailStreamEventBody, TailStreamHandler, TailStreamOnset } from "./code/types.ts";

/**
 * Events one consumer may have queued for one invocation; past it, later events are dropped and
 * counted. An invocation's own log sends at most 1,001 lines (the runtime's 800 first, its note and
 * the last 200), so only a consumer that has fallen behind loses any.
 */
export const MAX_QUEUED_EVENTS_PER_STREAM = 1_000;
/**
 * Events queued for all the consumers of one loader at once (the outcome included). Shared fairly:
 * when an event does not fit, the consumer holding the largest share (events or bytes) that is
 * larger than the newcomer's loses its oldest queued event to make room, so a consumer that never
 * settles holds at most what the others do not need, and only its own events are dropped.
 */
export const MAX_QUEUED_EVENTS = 10_000;
/** Bytes queued for all the consumers of one loader at once (log parts weighed as the log budget weighs them), shared as the events are. */
export const MAX_QUEUED_BYTES = 16 * 1024 * 1024;
/** What an event costs beyond its log parts (the envelope, a short exception). */
const EVENT_OVERHEAD = 128;

/** An event as the worker emits it (the host adds the invocation id). */
export interface LiveEnvelope {
  sequence: number;
  timestamp: number;
  event: TailStreamEventBody;
}

/** Takes one invocation's events after its onset; `size` is what the event's log parts weigh. */
export type LiveSink = (envelope: LiveEnvelope, size: number) => void;

/** Opens one invocation's live trace; undefined: nobody listens. */
export type OpenLiveTrace = (onset: LiveEnvelope) => LiveSink | undefined;

/**
 * Set by a shard's runner on the code it starts: the worker's live events go to the host at once
 * (the host's hub delivers them), instead of to consumers here.
 */
export const LIVE_SINK = Symbol("islet.liveSink");

/** Whether `value` is a streaming tail (a function, or an object with a tailStream method). */
export function isStreamingTail(value: unknown): value is StreamingTail {
  return typeof value === "function" || (typeof value === "object" && value !== null && typeof (value as { tailStream?: unknown }).tailStream === "function");
}

interface Queued {
  envelope: TailStreamEvent;
  cost: number;
  /** Events dropped (the loader's bound was reached) while the queue was empty, just before this one: [count, last sequence]. */
  droppedBefore?: [number, number];
  /** Events dropped right after this one (the queue was full): [count, last sequence]. */
  droppedAfter?: [number, number];
}

/** What one consumer has queued, over all its invocations. */
class ConsumerShare {
  events = 0;
  bytes = 0;
  /** Its streams with a queued event, oldest first. */
  readonly streams = new Set<ConsumerStream>();

  /** Its part of the loader's budget: the larger of its shares of events and of bytes. */
  load(extraEvents = 0, extraBytes = 0): number {
    return Math.max((this.events + extraEvents) / MAX_QUEUED_EVENTS, (this.bytes + extraBytes) / MAX_QUEUED_BYTES);
  }
}

/** One consumer's view of one invocation. */
class ConsumerStream {
  readonly queue: Queued[] = [];
  /** Starts delivery if there is something to deliver (set by the hub when the stream opens). */
  pump: () => void = () => {};
  /** undefined: the onset's answer is not known yet; null: the consumer ignores this invocation. */
  handler: TailStreamHandler | null | undefined;
  /** Events dropped while the queue was empty (the loader's bound was reached), before the next one queued. */
  dropped = 0;
  lastDropped = 0;
  busy = false;
  done = false;

  constructor(
    readonly consumer: StreamingTail,
    readonly invocationId: string,
  ) {}

  /** Whether there is something to deliver: a queued event, or the note of drops after the last one. */
  get pending(): boolean {
    return this.queue.length > 0 || (this.done && this.dropped > 0);
  }

  /** Whether the consumer wants events of this type (an object handler without the method does not). */
  wants(type: string): boolean {
    const handler = this.handler;
    if (handler === null || this.done) return false;
    if (handler === undefined || typeof handler === "function") return true;
    return typeof (handler as Record<string, unknown>)[type] === "function";
  }
}

/** The queues of one loader's streaming tails (in thread and process isolation: the host's). */
export class TailStreamHub {
  private queuedEvents = 0;
  private queuedBytes = 0;
  /** What each consumer with a queued event holds. */
  private readonly shares = new Map<StreamingTail, ConsumerShare>();

  /** @internal For tests (src/testing.ts): what the queues hold now. */
  get queued(): { events: number; bytes: number } {
    return { events: this.queuedEvents, bytes: this.queuedBytes };
  }

  /**
   * Opens an invocation's streams, one per consumer: each consumer is called with the onset at once
   * (as tails are called with their event), in `scope`'s async context (default: the caller's), so
   * AsyncLocalStorage in a consumer reads the store of the code that made the call. Later events
   * are queued and delivered in that context, never while the worker waits.
   */
  open(consumers: readonly StreamingTail[], onset: LiveEnvelope, scope?: AsyncResource): LiveSink | undefined {
    if (consumers.length === 0) return undefined;
    const invocationId = randomUUID();
    const resource = scope ?? new AsyncResource("islet.tailStream");
    const pump = (stream: ConsumerStream) => {
      if (stream.busy || stream.handler === undefined || !stream.pending) return;
      stream.busy = true;
      queueMicrotask(() => resource.runInAsyncScope(() => void this.drain(stream)));
    };
    const streams: ConsumerStream[] = [];
    for (const consumer of consumers) {
      const stream = new ConsumerStream(consumer, invocationId);
      stream.pump = () => pump(stream);
      streams.push(stream);
      let answer: unknown;
      try {
        const copy = structuredClone({ invocationId, sequence: onset.sequence, timestamp: new Date(onset.timestamp), event: onset.event }) as TailStreamEvent<TailStreamOnset>;
        answer = resource.runInAsyncScope(() => (typeof consumer === "function" ? consumer(copy) : consumer.tailStream(copy)));
      } catch {
        answer = undefined;
      }
      if (answer !== null && typeof answer === "object" && typeof (answer as PromiseLike<unknown>).then === "function") {
        // Its handler comes later: events queue meanwhile.
        Promise.resolve(answer as PromiseLike<unknown>).then(
          (handler) => {
            stream.handler = asHandler(handler);
            if (stream.handler === null) this.discard(stream);
            else pump(stream);
          },
          () => {
            stream.handler = null;
            this.discard(stream);
          },
        );
      } else stream.handler = asHandler(answer);
    }
    if (streams.every((stream) => stream.handler === null)) return undefined;
    return (envelope, size) => {
      const cost = size + EVENT_OVERHEAD;
      const ending = envelope.event.type === "outcome";
      for (const stream of streams) {
        if (!stream.wants(envelope.event.type)) {
          if (ending) {
            stream.done = true;
            pump(stream);
          }
          continue;
        }
        const full = (!ending && stream.queue.length >= MAX_QUEUED_EVENTS_PER_STREAM) || !this.makeRoom(stream.consumer, cost);
        if (full) {
          // Counted where it happened: after the last event queued, or before the next one (or
          // after the last one delivered, if none comes: an outcome that did not fit).
          this.countDropped(stream, 1, envelope.sequence);
        } else {
          let copy: TailStreamEvent;
          try {
            // The consumer's own copy: nothing it changes reaches the tails, another consumer or the worker.
            copy = structuredClone({ invocationId, sequence: envelope.sequence, timestamp: new Date(envelope.timestamp), event: envelope.event });
          } catch {
            if (ending) {
              stream.done = true;
              pump(stream);
            }
            continue;
          }
          stream.queue.push({ envelope: copy, cost, droppedBefore: stream.dropped > 0 ? [stream.dropped, stream.lastDropped] : undefined });
          stream.dropped = 0;
          this.queuedEvents++;
          this.queuedBytes += cost;
          const share = this.shareOf(stream.consumer);
          share.events++;
          share.bytes += cost;
          share.streams.add(stream);
        }
        if (ending) stream.done = true;
        pump(stream);
      }
    };
  }

  private shareOf(consumer: StreamingTail): ConsumerShare {
    let share = this.shares.get(consumer);
    if (share === undefined) this.shares.set(consumer, (share = new ConsumerShare()));
    return share;
  }

  /**
   * Whether an event of `cost` for `consumer` fits in the loader's budget, after taking what it
   * needs from consumers that hold a larger share than `consumer` would (their oldest events are
   * dropped, and they are told).
   */
  private makeRoom(consumer: StreamingTail, cost: number): boolean {
    if (cost > MAX_QUEUED_BYTES) return false;
    while (this.queuedEvents + 1 > MAX_QUEUED_EVENTS || this.queuedBytes + cost > MAX_QUEUED_BYTES) {
      const own = this.shares.get(consumer);
      const ownLoad = own === undefined ? 0 : own.load();
      let largest: ConsumerShare | undefined;
      for (const [other, share] of this.shares) {
        if (other !== consumer && share.load() > ownLoad && (largest === undefined || share.load() > largest.load())) largest = share;
      }
      if (largest === undefined || !this.evictOldest(largest)) return false;
    }
    return true;
  }

  /** Drops the oldest event queued for a consumer (to make room for another's), counted where it was. */
  private evictOldest(share: ConsumerShare): boolean {
    const stream = share.streams.values().next().value;
    if (stream === undefined) return false;
    const evicted = this.take(stream);
    if (evicted === undefined) return false;
    const count = (evicted.droppedBefore?.[0] ?? 0) + 1 + (evicted.droppedAfter?.[0] ?? 0);
    const next = stream.queue[0];
    if (next !== undefined) {
      // The drops before it, it and the drops after it are now all before the next one.
      next.droppedBefore = [count + (next.droppedBefore?.[0] ?? 0), next.droppedBefore?.[1] ?? evicted.droppedAfter?.[1] ?? evicted.envelope.sequence];
    } else {
      stream.dropped += count;
      stream.lastDropped = evicted.droppedAfter?.[1] ?? evicted.envelope.sequence;
      stream.pump();
    }
    return true;
  }

  /** Counts `count` events dropped for a stream, the last of them numbered `sequence`. */
  private countDropped(stream: ConsumerStream, count: number, sequence: number): void {
    const last = stream.queue.at(-1);
    if (last !== undefined) last.droppedAfter = [(last.droppedAfter?.[0] ?? 0) + count, sequence];
    else {
      stream.dropped += count;
      stream.lastDropped = sequence;
    }
  }

  private take(stream: ConsumerStream): Queued | undefined {
    const next = stream.queue.shift();
    if (next !== undefined) {
      this.queuedEvents--;
      this.queuedBytes -= next.cost;
      const share = this.shares.get(stream.consumer);
      if (share !== undefined) {
        share.events--;
        share.bytes -= next.cost;
        if (stream.queue.length === 0) share.streams.delete(stream);
        if (share.events === 0) this.shares.delete(stream.consumer);
      }
    }
    return next;
  }

  /** A consumer that ignores the invocation: what was queued for it goes. */
  private discard(stream: ConsumerStream): void {
    while (this.take(stream) !== undefined);
  }

  private async drain(stream: ConsumerStream): Promise<void> {
    try {
      for (;;) {
        const next = this.take(stream);
        if (next === undefined) {
          // Its last events did not fit (an outcome too): it is told so after the last one it got.
          if (!stream.done || stream.dropped === 0) break;
          const note: [number, number] = [stream.dropped, stream.lastDropped];
          stream.dropped = 0;
          await this.deliver(stream, dropNote(stream.invocationId, note));
          continue;
        }
        const { envelope } = next;
        // The events it missed are said where they would have been.
        if (next.droppedBefore !== undefined) await this.deliver(stream, dropNote(envelope.invocationId, next.droppedBefore));
        await this.deliver(stream, envelope);
        if (next.droppedAfter !== undefined) await this.deliver(stream, dropNote(envelope.invocationId, next.droppedAfter));
      }
    } finally {
      stream.busy = false;
    }
  }

  private async deliver(stream: ConsumerStream, envelope: TailStreamEvent): Promise<void> {
    const handler = stream.handler;
    if (handler === null || handler === undefined) return;
    if (typeof handler === "function") return void (await settle(() => handler(envelope)));
    const method = (handler as Record<string, unknown>)[envelope.event.type];
    if (typeof method === "function") await settle(() => (method as (event: TailStreamEvent) => unknown).call(handler, envelope));
  }
}

/** What a consumer's answer to an onset is: a handler, or null (it ignores the invocation). */
function asHandler(value: unknown): TailStreamHandler | null {
  return typeof value === "function" || (typeof value === "object" && value !== null) ? (value as TailStreamHandler) : null;
}

/** The event that says a consumer missed `count` events, the last of them numbered `sequence`. */
function dropNote(invocationId: string, [count, sequence]: [number, number]): TailStreamEvent {
  return { invocationId, sequence, timestamp: new Date(), event: { type: "streamDiagnostic", diagnostic: { diagnosticsType: "droppedEvents", count } } };
}

/** Runs a consumer's code: its exception or rejection is its own (undefined), never the worker's. */
async function settle(run: () => unknown): Promise<unknown> {
  try {
    return await run();
  } catch {
    return undefined;
  }
}
