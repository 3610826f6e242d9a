// One worker's way out: its sandbox's fetch() and connect() ("cloudflare:sockets") through its
// globalOutbound (egress.ts), each recorded in the audit log of the invocations in flight and
// traced in a span, fetches abortable from the sandbox; and the host bodies and sockets the
// sandbox reads and writes by id. A failure reaches the sandbox in words meant for it (a
// policy's OutboundError), never with host-side detail.

import { OutboundError, StubDisposedError, SubrequestLimitError } from "../errors.ts";
import { isFetcher } from "../rpc/rpc-target.ts";
import type { RequestRecord } from "../protocol/records.ts";
import type { FetchRecord, Fetcher } from "./code/types.ts";
import { CONNECT_BLOCKED, FETCH_BLOCKED, canFetch, connectorOf, sendOutbound } from "./egress.ts";
import { EAGER_BODY_BYTES, HostBodies } from "./host-body.ts";
import type { Invocations } from "./invocations.ts";
import { HostSockets, MAX_OPEN_SOCKETS, NOT_A_BINDING_FETCH, fetcherConnector, fetcherFetch } from "./sockets.ts";
import { inSpan } from "./tracing.ts";

/** Host bodies one worker's sandbox may hold open at once (request bodies, outbound response bodies, sockets' readable sides). */
export const MAX_OPEN_BODIES = 1_000;

/** Characters of a fetch's URL kept in the trace event (1,000 records per invocation). */
export const MAX_TRACE_URL_CHARS = 8 * 1024;

/** The egress of one in-process worker. */
export class WorkerEgress {
  /** Host bodies the sandbox reads by id: request bodies still arriving, and outbound response bodies. */
  readonly bodies = new HostBodies(MAX_OPEN_BODIES);
  /** Sockets the sandbox opened with connect(); their readable sides are bodies above. Closed when no invocation is in flight. */
  readonly sockets = new HostSockets(MAX_OPEN_SOCKETS, this.bodies);
  /** The controllers of the fetches the sandbox may abort, by the call's id. */
  private readonly aborts = new Map<number, AbortController>();
  /**
   * Every fetch still waiting for its answer: aborted when no invocation is in flight or the
   * sandbox dies, as its sockets are closed (findings20/02: 1,000 per call stayed open on the host
   * after the call answered, after dispose() and after close(), until the upstream's timeout).
   */
  private readonly pending = new Set<AbortController>();

  constructor(
    private readonly globalOutbound: Fetcher | null,
    private readonly invocations: Invocations,
  ) {}

  /**
   * One fetch() from the sandbox, handed to globalOutbound. Every request is recorded in the trace
   * event as the sandbox made it (before any credential a policy adds). A failure reaches the
   * sandbox as fetch's TypeError: with the message of an OutboundError (a policy's words for
   * the sandbox), otherwise only "fetch failed", so no host-side detail leaks in.
   */
  fetch(callId: unknown, record: RequestRecord, abortable: boolean): Promise<unknown> {
    return this.traced(callId, record, abortable, undefined);
  }

  /**
   * One fetch() on a service binding the sandbox holds (Cloudflare's Fetcher.fetch): `target` is the
   * capability its stub names (undefined once released). The request goes to that worker's
   * entrypoint fetch (its limits, props and fetch handler), and its response body is held here as
   * a globalOutbound's is. Counted, recorded, traced and abortable as the sandbox's own fetch().
   * A failure keeps the called worker's words (its error's name and message, as an RPC call's).
   */
  fetchThrough(callId: unknown, target: object | undefined, record: RequestRecord, abortable: boolean): Promise<unknown> {
    return this.traced(callId, record, abortable, { target });
  }

  private traced(callId: unknown, record: RequestRecord, abortable: boolean, binding: { target: object | undefined } | undefined): Promise<unknown> {
    const method = stringField(record, "method").slice(0, 64);
    let host = "";
    try {
      host = new URL(stringField(record, "url")).host;
    } catch {
      // Not a URL: the fetch fails below, in its span.
    }
    return inSpan("islet.fetch", this.invocations.currentSpan(), { "http.request.method": method, "server.address": host }, async (span) => {
      const answer = await this.fetchUntraced(callId, record, abortable, binding);
      const status = (answer as { status?: unknown }).status;
      if (typeof status === "number") span.setAttribute("http.response.status_code", status);
      return answer;
    });
  }

  private async fetchUntraced(callId: unknown, record: RequestRecord, abortable: boolean, binding: { target: object | undefined } | undefined): Promise<unknown> {
    const outbound = binding === undefined ? this.globalOutbound : null;
    const entry: FetchRecord = { method: stringField(record, "method").slice(0, 64), url: traceUrl(stringField(record, "url")), timestamp: Date.now(), durationMs: 0 };
    this.invocations.recordFetch(entry);
    const started = performance.now();
    // Every fetch can be aborted by the host (closeAll); one made with a signal from the sandbox too.
    const controller = new AbortController();
    this.pending.add(controller);
    if (abortable && typeof callId === "number") this.aborts.set(callId, controller);
    try {
      let fetcher: Fetcher;
      if (binding === undefined) {
        if (!canFetch(outbound)) throw new OutboundError(FETCH_BLOCKED);
        fetcher = outbound!;
      } else fetcher = bindingFetcher(binding.target);
      const answer = await sendOutbound(fetcher, record, controller.signal, this.bodies, EAGER_BODY_BYTES);
      entry.status = answer.status;
      if (answer.bodyId === undefined) return answer;
      const { bodyId, ...head } = answer;
      return { ...head, bodyStream: bodyId };
    } catch (error) {
      entry.error = error instanceof OutboundError ? error.message : binding !== undefined && error instanceof Error ? `${String(error.name).slice(0, 64)}: ${String(error.message).slice(0, 1024)}` : "fetch failed";
      if (error instanceof OutboundError) throw new TypeError(error.message);
      if (error instanceof SubrequestLimitError) throw error;
      // The called worker's failure (its handler's error, a limit, no fetch handler), as an RPC
      // call on the same stub would report it: name and message.
      if (binding !== undefined && error instanceof Error) throw error;
      throw new TypeError("fetch failed");
    } finally {
      entry.durationMs = performance.now() - started;
      this.pending.delete(controller);
      if (abortable && typeof callId === "number") this.aborts.delete(callId);
    }
  }

  /** Aborts the sandbox's fetch made as call `callId` (its signal fired). */
  abort(callId: unknown): void {
    this.aborts.get(callId as number)?.abort(new DOMException("The operation was aborted.", "AbortError"));
  }

  /**
   * One connect() from the sandbox ("cloudflare:sockets"), handed to globalOutbound's connect.
   * Recorded in the trace event's audit log as method CONNECT and the address as the sandbox
   * wrote it. Without a connect hook it is refused, as fetch() is without a globalOutbound.
   */
  connect(address: unknown, options: unknown): Promise<unknown> {
    return this.audited(address, () => {
      const connector = connectorOf(this.globalOutbound);
      if (connector === undefined) throw new OutboundError(CONNECT_BLOCKED);
      return this.sockets.open(connector, address, options);
    });
  }

  /**
   * One connect() on a service binding the sandbox holds (Cloudflare's Fetcher.connect): `target`
   * is the capability its stub names (undefined once released). The socket reaches that worker's
   * connect(socket) handler; on this side it is held, counted and closed as one the sandbox's own
   * connect() opened (the called worker counts its end against its own budget). Audited as a connect.
   */
  connectTo(target: object | undefined, address: unknown, options: unknown): Promise<unknown> {
    return this.audited(address, () => {
      if (target === undefined) throw new StubDisposedError("This stub was disposed; the capability it pointed to can no longer be called.");
      if (!isFetcher(target)) throw new OutboundError("connect() on a stub needs a service binding (another worker's entrypoint); this stub is not one.");
      return this.sockets.open(fetcherConnector(target), address, options);
    });
  }

  /** Records a connect in the trace event's audit log as method CONNECT and the address as the sandbox wrote it. */
  private async audited(address: unknown, open: () => Promise<unknown>): Promise<unknown> {
    const record = address !== null && typeof address === "object" ? (address as Record<string, unknown>) : {};
    const hostname = typeof record.hostname === "string" ? record.hostname : "";
    const entry: FetchRecord = { method: "CONNECT", url: traceUrl(`${hostname.includes(":") ? `[${hostname}]` : hostname}:${String(record.port)}`), timestamp: Date.now(), durationMs: 0 };
    this.invocations.recordFetch(entry);
    const started = performance.now();
    try {
      return await open();
    } catch (error) {
      entry.error = error instanceof OutboundError ? error.message : "connect failed";
      throw sandboxError(error);
    } finally {
      entry.durationMs = performance.now() - started;
    }
  }

  /** A socket operation from the sandbox; its failure in words meant for the sandbox. */
  write(socketId: unknown, bytes: unknown): Promise<unknown> {
    return sandboxFacing(this.sockets.write(socketId, bytes));
  }

  end(socketId: unknown): Promise<unknown> {
    return sandboxFacing(this.sockets.end(socketId));
  }

  startTls(socketId: unknown, expected: unknown): Promise<unknown> {
    return sandboxFacing(this.sockets.startTls(socketId, expected));
  }

  /** Lets go of every fetch, socket and body: no invocation is in flight, or (`died`) the sandbox died. */
  closeAll(died = false): void {
    if (this.pending.size > 0) {
      const reason = new DOMException("The invocation that made this request has ended.", "AbortError");
      for (const controller of this.pending) controller.abort(reason);
      this.pending.clear();
    }
    this.sockets.closeAll(died);
    this.bodies.cancelAll();
  }
}

/** The fetcher a service binding's fetch() goes through: `target` only if it is a service binding. */
function bindingFetcher(target: object | undefined): Fetcher {
  if (target === undefined) throw new StubDisposedError("This stub was disposed; the capability it pointed to can no longer be called.");
  if (!isFetcher(target)) throw new OutboundError(NOT_A_BINDING_FETCH);
  return fetcherFetch(target);
}

/** A field of a record from the sandbox, for the audit log: a string, or "" when it is not one. */
function stringField(record: unknown, name: string): string {
  const value = record !== null && typeof record === "object" ? (record as Record<string, unknown>)[name] : undefined;
  return typeof value === "string" ? value : "";
}

/** A connect or socket operation's failure as the sandbox sees it: an OutboundError's words in a plain Error. */
function sandboxError(error: unknown): unknown {
  if (error instanceof OutboundError) return new Error(error.message);
  if (error instanceof SubrequestLimitError || error instanceof StubDisposedError) return error;
  return new Error("proxy request failed, cannot connect to the specified address");
}

function sandboxFacing<T>(work: Promise<T>): Promise<T> {
  return work.catch((error: unknown) => {
    throw sandboxError(error);
  });
}

/** A URL as the audit log keeps it: cut past MAX_TRACE_URL_CHARS, saying how much was cut. */
function traceUrl(url: string): string {
  return url.length <= MAX_TRACE_URL_CHARS ? url : `${url.slice(0, MAX_TRACE_URL_CHARS)}… [islet: ${url.length - MAX_TRACE_URL_CHARS} more characters cut]`;
}
