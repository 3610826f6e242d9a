// An inbound connection to a worker's connect(socket) handler (Cloudflare's connect handler):
// `getEntrypoint().connect(address)` on the host makes one pipe, whose host end is the Socket the
// caller gets and whose worker end is a HostSocket that the worker's table of sockets holds, as it
// holds one a globalOutbound's connect opened: the sandbox reads and writes it with the same
// socket ops, in every isolation mode (in a shard, the shard's connection holds it, as an outbound
// socket). Each direction is a rendezvous: a write is handed over only when the reader asks for a
// chunk (highWaterMark 0), so neither side runs ahead of the other by more than the chunk in hand.

import { OutboundError } from "../errors.ts";
import { copyOwnBytes } from "../protocol/own-bytes.ts";
import type { HostSocket, SocketInfo } from "./code/types.ts";
import { CONNECTION_LOST } from "./sockets.ts";

/** The most bytes handed over at once: larger writes are cut into pieces of this size. */
export const INBOUND_PIECE_BYTES = 64 * 1024;

/** The Socket `Entrypoint.connect()` returns: web streams of bytes, as cloudflare:sockets' Socket. */
export interface InboundSocket {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  /** Resolves once the worker holds the socket and its handler was called. */
  readonly opened: Promise<SocketInfo>;
  /** Resolves once the socket is closed (by either side, or the handler's end); rejects with the handler's failure. */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

type State = "open" | "ended" | "cancelled" | "failed";

/** One direction: chunks written are handed to the reader one per read, never ahead of it. */
class Rendezvous {
  state: State = "open";
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  /** The reader's pending pull, resolved once a chunk was enqueued for it. */
  private demand: (() => void) | undefined;
  /** A writer waiting for demand (or for the end). */
  private supply: (() => void) | undefined;
  private failure: unknown;
  readonly readable: ReadableStream<Uint8Array>;

  constructor() {
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        pull: () =>
          new Promise<void>((resolve) => {
            this.demand = resolve;
            this.wake();
          }),
        cancel: () => {
          if (this.state === "open") this.state = "cancelled";
          this.release();
        },
      },
      { highWaterMark: 0 },
    );
  }

  private wake(): void {
    const supply = this.supply;
    this.supply = undefined;
    supply?.();
  }

  private release(): void {
    const demand = this.demand;
    this.demand = undefined;
    demand?.();
    this.wake();
  }

  async write(chunk: Uint8Array): Promise<void> {
    for (let offset = 0; offset < chunk.byteLength || offset === 0; offset += INBOUND_PIECE_BYTES) {
      const piece = chunk.byteLength <= INBOUND_PIECE_BYTES ? chunk : chunk.subarray(offset, offset + INBOUND_PIECE_BYTES);
      while (this.state === "open" && this.demand === undefined) await new Promise<void>((resolve) => (this.supply = resolve));
      if (this.state === "failed") throw this.failure;
      if (this.state !== "open") throw new OutboundError(CONNECTION_LOST);
      const demand = this.demand!;
      this.demand = undefined;
      // A copy of exactly the piece's bytes, never the rest of its buffer (a Node Buffer's is Node's
      // shared pool, P2); and the writer may reuse its buffer once write() resolved.
      if (piece.byteLength > 0) this.controller.enqueue(copyOwnBytes(piece));
      demand();
      if (chunk.byteLength <= INBOUND_PIECE_BYTES) return;
    }
  }

  /** The writer is done: the reader reads the end. */
  end(): void {
    if (this.state !== "open") return;
    this.state = "ended";
    try {
      this.controller.close();
    } catch {
      // already closed
    }
    this.release();
  }

  fail(error: unknown): void {
    if (this.state === "failed") return;
    const wasOpen = this.state === "open";
    this.state = "failed";
    this.failure = error;
    if (wasOpen) {
      try {
        this.controller.error(error);
      } catch {
        // already closed
      }
    }
    this.release();
  }
}

/** The bytes the writer gave, as a plain Uint8Array over exactly them (write() copies each piece it hands on). */
function bytesOf(chunk: unknown): Uint8Array {
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  throw new TypeError("A socket's writable side takes an ArrayBuffer or an ArrayBufferView.");
}

/** The text of the address the caller passed to connect(), as the worker's `opened.localAddress` shows it. */
export function inboundAddress(address: unknown): string | undefined {
  if (address === undefined || address === null) return undefined;
  let text: string;
  if (typeof address === "string") text = address;
  else if (typeof address === "object") {
    const { hostname, port } = address as { hostname?: unknown; port?: unknown };
    if (typeof hostname !== "string" || typeof port !== "number") throw new TypeError("The address must be a string or an object with hostname and port.");
    text = `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
  } else throw new TypeError("The address must be a string or an object with hostname and port.");
  if (text.length > 256) throw new TypeError("The address is too long (at most 256 characters).");
  return text;
}

export class InboundPipe {
  /** Host -> worker. */
  private readonly down = new Rendezvous();
  /** Worker -> host. */
  private readonly up = new Rendezvous();
  private ended = false;
  /** The worker died with the socket open: its close is not an end, the failure that follows is. */
  private abandoned = false;
  private resolveOpened!: (info: SocketInfo) => void;
  private rejectOpened!: (error: unknown) => void;
  private resolveClosed!: () => void;
  private rejectClosed!: (error: unknown) => void;
  readonly host: InboundSocket;
  readonly worker: HostSocket & { abandon(): void };

  constructor(readonly address: string | undefined) {
    const opened = new Promise<SocketInfo>((resolve, reject) => {
      this.resolveOpened = resolve;
      this.rejectOpened = reject;
    });
    const closed = new Promise<void>((resolve, reject) => {
      this.resolveClosed = resolve;
      this.rejectClosed = reject;
    });
    opened.catch(() => {});
    closed.catch(() => {});
    const down = this.down;
    const up = this.up;
    const hostWritable = new WritableStream<Uint8Array>({
      write: (chunk) => down.write(bytesOf(chunk)),
      close: () => down.end(),
      abort: () => down.end(),
    });
    this.host = {
      readable: up.readable,
      writable: hostWritable,
      opened,
      closed,
      close: () => {
        this.shut();
        return closed;
      },
    };
    const workerWritable = new WritableStream<Uint8Array>({
      write: (chunk) => up.write(bytesOf(chunk)),
      close: () => up.end(),
    });
    this.worker = {
      readable: down.readable,
      writable: workerWritable,
      opened: Promise.resolve({ localAddress: address }),
      close: () => {
        if (!this.abandoned) this.shut();
      },
      abandon: () => {
        if (!this.ended) this.abandoned = true;
      },
    };
  }

  /** The worker holds the socket: `opened` resolves. */
  open(): void {
    this.resolveOpened({ remoteAddress: this.address });
  }

  /** Closed by either side, or by the end of the handler: both directions end, `closed` resolves. */
  shut(): void {
    if (this.ended) return;
    this.ended = true;
    this.down.end();
    this.up.end();
    this.resolveOpened({ remoteAddress: this.address });
    this.resolveClosed();
  }

  /** The handler's invocation ended: a socket it left open is closed (or failed, if the worker died). */
  handlerEnded(): void {
    this.abandoned = false;
    this.shut();
  }

  /** The handler could not start, threw, hit a limit, or its worker was disposed. */
  fail(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.down.fail(error);
    this.up.fail(error);
    this.rejectOpened(error);
    this.rejectClosed(error);
  }
}
