// Request bodies being read are a budgeted host resource (findings23/01: one API key's 1,500
// connections, each sending all but the last byte of a 4 MB POST, held 5.4 GB of `islet mcp
// --http` and slowed another key's calls from 0.1 s to 16 s, with no 429). islet serve and `islet
// mcp --http` read every POST body through one BodyBudget, before admission:
//
// - bodies being read at once: per key (its admission share, `maxConcurrency`) and in all;
// - bytes of the bodies being read at once: per key and in all. A declared Content-Length is
//   reserved whole before a byte is read; a chunked body's bytes are counted as they arrive;
// - one body at most `maxBodyBytes` (413);
// - a deadline: a body not complete within `timeoutMs` of its first read is answered 408 and its
//   connection closed (a trickling client holds nothing past it).
//
// Past a cap the request is answered 429 (as admission answers), with `connection: close`, so a
// refused body is not read on. What a body held is released when it is complete, refused, or its
// connection closes: nothing of it is kept in a map or a closure after that.

import type { IncomingMessage } from "node:http";
import { RequestError } from "./errors.ts";

export interface BodyBudgetLimits {
  /** The largest one body may be (413 past it). */
  maxBodyBytes: number;
  /** Bodies being read at once, in all. */
  maxBodies: number;
  /** Bytes of bodies being read at once, in all. */
  maxBytes: number;
  /** Bytes of one key's bodies being read at once. */
  maxBytesPerKey: number;
  /** How long a body may take to arrive, from its first read (408 past it). */
  timeoutMs: number;
}

/** Who sends the body: its key, and how many bodies it may have read at once (its admission share). */
export interface BodySender {
  keyId: string;
  maxConcurrency: number;
}

/** The client went away before its body was complete: there is no one to answer. */
export class BodyAbandoned extends Error {}

/** A body refused while it was read (408, 413, 429): answer this status and close the connection. */
export class BodyRefused extends RequestError {
  constructor(status: 408 | 413 | 429, message: string, headers: Record<string, string> = {}) {
    super(status, message, { connection: "close", ...headers });
  }
}

type Source = IncomingMessage | ReadableStream<Uint8Array> | null;

export class BodyBudget {
  private bodies = 0;
  private bytes = 0;
  private readonly perKey = new Map<string, { bodies: number; bytes: number }>();

  constructor(
    readonly limits: BodyBudgetLimits,
    private readonly onShed: (reason: "bodies" | "bytes" | "timeout") => void = () => {},
  ) {}

  /** Bodies and bytes being read now (tests, metrics). */
  get current(): { bodies: number; bytes: number; keys: number } {
    return { bodies: this.bodies, bytes: this.bytes, keys: this.perKey.size };
  }

  /**
   * Reads a body (a Node request, or a web request's stream) within the budget. Throws BodyRefused
   * (408, 413 or 429, to be answered with `connection: close`) or BodyAbandoned (the client left).
   */
  async read(sender: BodySender, source: Source, declaredLength: number | undefined): Promise<Buffer> {
    const { maxBodyBytes } = this.limits;
    // Node's parser lets only a valid length through; anything else (a web request made by hand) is counted as it comes.
    if (declaredLength !== undefined && !(Number.isSafeInteger(declaredLength) && declaredLength >= 0)) declaredLength = undefined;
    if (declaredLength !== undefined && declaredLength > maxBodyBytes) throw new BodyRefused(413, `The request body is larger than ${maxBodyBytes} bytes, this server's limit.`);
    if (source === null) return Buffer.alloc(0);
    const hold = this.open(sender, declaredLength ?? 0);
    try {
      return await (isNodeRequest(source) ? readNode(source, hold, maxBodyBytes, this.limits.timeoutMs) : readWeb(source, hold, maxBodyBytes, this.limits.timeoutMs));
    } catch (error) {
      if (error instanceof BodyRefused && error.status === 408) this.onShed("timeout");
      throw error;
    } finally {
      hold.release();
    }
  }

  /** Takes one body's place and reserves `bytes` for it; throws BodyRefused(429) past a cap. */
  private open(sender: BodySender, bytes: number): Hold {
    const mine = this.perKey.get(sender.keyId) ?? { bodies: 0, bytes: 0 };
    const retry = { "retry-after": "1" };
    if (this.bodies >= this.limits.maxBodies) {
      this.onShed("bodies");
      throw new BodyRefused(429, `The server is reading ${this.limits.maxBodies} request bodies at once, its limit; retry shortly.`, retry);
    }
    if (mine.bodies >= sender.maxConcurrency) {
      this.onShed("bodies");
      throw new BodyRefused(429, `The API key "${sender.keyId}" already has ${sender.maxConcurrency} request bodies being read, its limit; retry when one is complete.`, retry);
    }
    const fits = (more: number) => this.bytes + more <= this.limits.maxBytes && mine.bytes + more <= this.limits.maxBytesPerKey;
    const refuseBytes = () => {
      this.onShed("bytes");
      return new BodyRefused(429, `The request bodies being read at once would exceed this server's budget (${this.limits.maxBytesPerKey} bytes for one API key, ${this.limits.maxBytes} in all); retry shortly.`, retry);
    };
    if (!fits(bytes)) throw refuseBytes();
    this.bodies++;
    this.bytes += bytes;
    mine.bodies++;
    mine.bytes += bytes;
    this.perKey.set(sender.keyId, mine);
    let reserved = bytes;
    let released = false;
    return {
      grow: (total) => {
        if (released || total <= reserved) return;
        const more = total - reserved;
        if (!fits(more)) throw refuseBytes();
        this.bytes += more;
        mine.bytes += more;
        reserved = total;
      },
      release: () => {
        if (released) return;
        released = true;
        this.bodies--;
        this.bytes -= reserved;
        mine.bodies--;
        mine.bytes -= reserved;
        if (mine.bodies === 0) this.perKey.delete(sender.keyId);
      },
    };
  }
}

interface Hold {
  /** The body has `total` bytes so far: reserve up to there, or throw BodyRefused(429). */
  grow(total: number): void;
  release(): void;
}

function isNodeRequest(source: IncomingMessage | ReadableStream<Uint8Array>): source is IncomingMessage {
  return typeof (source as IncomingMessage).on === "function";
}

const tooLarge = (max: number) => new BodyRefused(413, `The request body is larger than ${max} bytes, this server's limit.`);
const tooSlow = (ms: number) => new BodyRefused(408, `The request body did not arrive within ${ms / 1000} s; send it faster or in a smaller request.`);

/**
 * A Node request's body. Read by events, not `for await`: the async iterator destroys the request
 * when it is done, and a destroyed request reads to the MCP handler as a client that went away.
 * Refused, it stops reading (the caller answers with `connection: close`, which ends the socket).
 */
function readNode(req: IncomingMessage, hold: Hold, max: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    const settle = (error: Error | undefined) => {
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
      const body = error === undefined ? Buffer.concat(chunks, size) : undefined;
      chunks = [];
      if (error !== undefined) {
        req.pause();
        reject(error);
      } else resolve(body!);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) return settle(tooLarge(max));
      try {
        hold.grow(size);
      } catch (error) {
        return settle(error as Error);
      }
      chunks.push(chunk);
    };
    const onEnd = () => settle(undefined);
    const onError = () => settle(new BodyAbandoned("the client went away before its request body was complete"));
    const onClose = () => {
      if (!req.complete) onError();
    };
    const timer = setTimeout(() => settle(tooSlow(timeoutMs)), timeoutMs);
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("error", onError);
    req.once("close", onClose);
  });
}

/** A web request's body stream (the app called without a Node server, as in tests). */
async function readWeb(stream: ReadableStream<Uint8Array>, hold: Hold, max: number, timeoutMs: number): Promise<Buffer> {
  const reader = stream.getReader();
  let chunks: Uint8Array[] = [];
  let size = 0;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(tooSlow(timeoutMs)), timeoutMs)));
  try {
    for (;;) {
      let step: Awaited<ReturnType<typeof reader.read>>;
      try {
        step = await Promise.race([reader.read(), deadline]);
      } catch (error) {
        if (error instanceof BodyRefused) throw error;
        throw new BodyAbandoned("the client went away before its request body was complete");
      }
      if (step.done) return Buffer.concat(chunks, size);
      size += step.value.byteLength;
      if (size > max) throw tooLarge(max);
      hold.grow(size);
      chunks.push(step.value);
    }
  } catch (error) {
    void reader.cancel().catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
    chunks = [];
  }
}

/** Request body limits shared by islet serve and `islet mcp --http`, from the largest body and the admission caps. */
export function bodyBudgetLimits(maxBodyBytes: number, maxInFlight: number, keyed: boolean, timeoutMs: number): BodyBudgetLimits {
  // In all: 16 bodies of the largest size (16 MiB for islet serve's 1 MiB, 64 MiB for islet mcp's
  // 4 MiB); with API keys one key at most half of it, as with call slots.
  const maxBytes = 16 * maxBodyBytes;
  return { maxBodyBytes, maxBodies: maxInFlight, maxBytes, maxBytesPerKey: keyed ? maxBytes / 2 : maxBytes, timeoutMs };
}
