// A response body the host holds for a sandbox's fetch: read eagerly while it is already there,
// then chunk by chunk as the sandbox asks.

import { OutboundError } from "../errors.ts";
import { ownBytes } from "../protocol/own-bytes.ts";

/** Bodies complete within one event-loop turn and at most this size cross whole with the headers. */
export const EAGER_BODY_BYTES = 256 * 1024;

type ReadResult = Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]>>;

const nextTurn = (): Promise<"turn"> => new Promise((resolve) => setImmediate(resolve, "turn"));

export class HostBody {
  /** Chunks read ahead, handed out before anything newer. */
  private readonly buffered: Uint8Array[] = [];
  /** A read started by readAvailable that had not finished by the end of its turn. */
  private pending: Promise<ReadResult> | undefined;

  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  /**
   * Reads what arrives within one turn of the event loop. Resolves to the whole body if it ended
   * within that turn, `maxBytes` and `maxChunks`, otherwise to undefined, keeping what was read for read().
   */
  async readAvailable(maxBytes: number, maxChunks = 64, within: () => Promise<"turn"> = nextTurn): Promise<Uint8Array | undefined> {
    const turn = within();
    let size = 0;
    for (;;) {
      const read = this.reader.read();
      let result: ReadResult | "turn";
      try {
        result = await Promise.race([read, turn]);
      } catch {
        result = "turn"; // a failing body fails where the sandbox reads it, as over a network
      }
      if (result === "turn") {
        read.catch(() => {}); // read() reports the failure when the sandbox gets there
        this.pending = read;
        return undefined;
      }
      if (result.done) return join(this.buffered.splice(0), size);
      if (!(result.value instanceof Uint8Array)) throw new TypeError("The response body produced a chunk that is not a Uint8Array.");
      // Only the chunk's own bytes go on, never the rest of its buffer (a Node Buffer's pool: P2).
      this.buffered.push(ownBytes(result.value));
      size += result.value.byteLength;
      if (size > maxBytes || this.buffered.length >= maxChunks) return undefined;
    }
  }

  /** The next chunk: a Uint8Array of its own bytes only (ownBytes), whatever view the stream made. */
  async read(): Promise<ReadResult> {
    const chunk = this.buffered.shift();
    if (chunk !== undefined) return { done: false, value: chunk };
    const pending = this.pending;
    this.pending = undefined;
    const result = await (pending ?? this.reader.read());
    // A chunk that is not a Uint8Array is handed on as it is, for the reader to refuse.
    return result.done || !(result.value instanceof Uint8Array) ? result : { done: false, value: ownBytes(result.value) };
  }

  cancel(): void {
    this.buffered.length = 0;
    this.reader.cancel().catch(() => {});
  }

  /** Lets go of the stream without cancelling it (a read in progress rejects): a socket upgraded to TLS. */
  release(): void {
    this.buffered.length = 0;
    try {
      this.reader.releaseLock();
    } catch {
      // already released
    }
  }
}

function join(chunks: Uint8Array[], size: number): Uint8Array {
  // Each chunk already carries its own bytes only (readAvailable), so one alone is the body.
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * The bodies the host holds for one sandbox (or one shard), read by id a chunk at a time: request
 * bodies still arriving for a fetch handler, and outbound response bodies. In-process workers and
 * the shard pool keep one table each; `max` bounds how many are open at once.
 */
export class HostBodies {
  private readonly bodies = new Map<number, HostBody>();
  private nextId = 1;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.bodies.size;
  }

  /** Registers `body` under a new id; past `max`, cancels it and throws `tooMany(max)`. */
  add(body: HostBody, tooMany: (max: number) => Error): number {
    if (this.bodies.size >= this.max) {
      body.cancel();
      throw tooMany(this.max);
    }
    const id = this.nextId++;
    this.bodies.set(id, body);
    return id;
  }

  /**
   * The next chunk of body `id`: bytes, or null at its end. A body is let go at its end and when
   * it fails; a failure is a TypeError carrying only a policy's words (an OutboundError's), never
   * the host's details, as fetch() itself.
   */
  async read(id: unknown): Promise<Uint8Array | null> {
    const body = typeof id === "number" ? this.bodies.get(id) : undefined;
    if (body === undefined) throw new TypeError("This response body is no longer available.");
    let chunk: Awaited<ReturnType<HostBody["read"]>>;
    try {
      chunk = await body.read();
    } catch (error) {
      this.cancel(id);
      throw error instanceof OutboundError ? new TypeError(error.message) : new TypeError("The response body could not be read (network error).");
    }
    if (chunk.done) {
      this.bodies.delete(id as number);
      return null;
    }
    // Only bytes cross: any other chunk fails the read, as Node's Response would.
    if (!(chunk.value instanceof Uint8Array)) {
      this.cancel(id);
      throw new TypeError("Received non-Uint8Array chunk");
    }
    return chunk.value;
  }

  cancel(id: unknown): void {
    const body = typeof id === "number" ? this.bodies.get(id) : undefined;
    if (body === undefined) return;
    this.bodies.delete(id as number);
    body.cancel();
  }

  /** Removes body `id` from the table without cancelling its stream (see HostBody.release). */
  take(id: unknown): void {
    const body = typeof id === "number" ? this.bodies.get(id) : undefined;
    if (body === undefined) return;
    this.bodies.delete(id as number);
    body.release();
  }

  cancelAll(): void {
    for (const id of [...this.bodies.keys()]) this.cancel(id);
  }
}
