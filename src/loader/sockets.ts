// The TCP sockets a sandbox opened with connect() ("cloudflare:sockets"), held on the host by id:
// the host performs the connection (globalOutbound's connect), the sandbox only sends bytes to
// write and pulls what was read, a chunk at a time, through the same table of host bodies a
// fetch() response body uses. In-process workers keep one table each; the shard pool one per
// shard, for its sandboxes' sockets.
//
// Every error thrown here is an OutboundError whose message the sandbox may see: a policy's own
// words, or a fixed message (never the host's errno, address or stack).

import { OutboundError, SubrequestLimitError } from "../errors.ts";
import { HostBody, type HostBodies } from "./host-body.ts";
import type { Fetcher, HostSocket, SocketAddress, SocketConnector, SocketInfo, SocketOptions } from "./code/types.ts";

/** Sockets one worker may hold open at once (connects in progress count). */
export const MAX_OPEN_SOCKETS = 100;
/** Sockets one shard may hold open on the host for all its workers. */
export const MAX_SHARD_SOCKETS = 1_000;
/** The most bytes one write may carry (the sandbox writes in pieces of 64 KiB). */
export const MAX_SOCKET_WRITE_BYTES = 1024 * 1024;

/** Cloudflare's words for a connection that could not be made. */
export const CONNECT_FAILED = "proxy request failed, cannot connect to the specified address";
/** Cloudflare's words for a connection that broke. */
export const CONNECTION_LOST = "Network connection lost.";

/** What the sandbox's connect() (and startTls()) gets back once the socket is open. */
export interface SocketAnswer {
  socket: number;
  /** The id of its readable side in the host bodies table (read with the body ops). */
  body: number;
  remoteAddress?: string;
  localAddress?: string;
}

interface Entry {
  socket: HostSocket;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  bodyId: number;
  options: SocketOptions;
  address: SocketAddress;
}

function asOutbound(error: unknown, fallback: string): OutboundError {
  return error instanceof OutboundError ? error : new OutboundError(fallback);
}

/** The address record from a sandbox, checked: a hostname of 1 to 255 host characters and a port. */
export function checkSocketAddress(value: unknown): SocketAddress {
  const record = value !== null && typeof value === "object" ? (value as Record<string, unknown>) : {};
  const { hostname, port } = record;
  if (typeof hostname !== "string" || hostname.length === 0 || hostname.length > 255 || !/^[A-Za-z0-9._:\-[\]]+$/.test(hostname)) {
    throw new OutboundError("Specified address is empty string, contains unsupported characters or is too long.");
  }
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) throw new OutboundError("The specified port is not valid.");
  return { hostname, port };
}

export function checkSocketOptions(value: unknown): SocketOptions {
  const record = value !== null && typeof value === "object" ? (value as Record<string, unknown>) : {};
  const secureTransport = record.secureTransport ?? "off";
  if (secureTransport !== "off" && secureTransport !== "on" && secureTransport !== "starttls") {
    throw new OutboundError(`Unsupported value in secureTransport socket option: ${String(secureTransport).slice(0, 64)}`);
  }
  return { secureTransport, allowHalfOpen: record.allowHalfOpen === true };
}

function isHostSocket(value: unknown): value is HostSocket {
  if (value === null || typeof value !== "object") return false;
  const socket = value as Partial<HostSocket>;
  return socket.readable instanceof ReadableStream && socket.writable instanceof WritableStream && typeof socket.close === "function";
}

function closeQuietly(socket: HostSocket): void {
  try {
    void Promise.resolve(socket.close()).catch(() => {});
  } catch {
    // already gone
  }
}

function infoText(value: unknown): string | undefined {
  return typeof value === "string" && value.length <= 256 ? value : undefined;
}

/** A service binding's failure as its caller's sandbox sees it: an OutboundError naming what failed (the called worker's error, a limit). */
function fetcherError(error: unknown): Error {
  if (error instanceof OutboundError || error instanceof SubrequestLimitError) return error;
  if (!(error instanceof Error)) return new OutboundError(CONNECTION_LOST);
  const name = String(error.name).slice(0, 64);
  const message = String(error.message).slice(0, 1024);
  return new OutboundError(name === "Error" || name === "TypeError" ? message : `${name}: ${message}`);
}

/** `readable` with its failure in the words fetcherError gives; one chunk handed over per read, as it comes. */
function fetcherReadable(readable: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = readable.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let result: Awaited<ReturnType<typeof reader.read>>;
        try {
          result = await reader.read();
        } catch (error) {
          throw fetcherError(error);
        }
        if (result.done) controller.close();
        else controller.enqueue(result.value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

/**
 * How a sandbox's `stub.connect(address, options)` on a service binding opens its socket
 * (Cloudflare's Fetcher.connect): through `fetcher`'s own connect (another worker's entrypoint, or
 * in a shard its stub of one), which hands the worker's connect(socket) handler the other end. The
 * bytes between the two workers are plain: secureTransport must be "off". A failure (the handler
 * missing or throwing, the called worker's budget or limits) keeps its words for the caller.
 */
export function fetcherConnector(fetcher: object): SocketConnector {
  const connect = (fetcher as { connect?: unknown }).connect;
  return async (address, options) => {
    if (options.secureTransport !== "off") {
      throw new OutboundError(`A service binding's connect() carries plain bytes between two workers: its secureTransport must be "off", not "${options.secureTransport}".`);
    }
    if (typeof connect !== "function") throw new OutboundError("This service binding cannot connect.");
    let made: unknown;
    try {
      made = await Reflect.apply(connect, fetcher, [address, options]);
    } catch (error) {
      throw fetcherError(error);
    }
    if (!isHostSocket(made)) throw new OutboundError("The service binding's connect() did not return a socket.");
    const opened = made.opened.catch((error: unknown) => {
      throw fetcherError(error);
    });
    return Object.assign(Object.create(null) as object, made, { opened, readable: fetcherReadable(made.readable) }) as HostSocket;
  };
}

/** Why fetch() on a stub that is not a service binding fails (an op the runtime would not send). */
export const NOT_A_BINDING_FETCH = "fetch() on a stub needs a service binding (another worker's entrypoint); this stub is not one.";

/**
 * How a sandbox's `stub.fetch(request)` on a service binding reaches it (Cloudflare's
 * Fetcher.fetch): through `fetcher`'s own fetch (another worker's entrypoint, or in a shard its stub
 * of one), which calls the worker's fetch handler under that worker's limits and props. A failure
 * of the response's body (the called worker killed while it streams) keeps its words, as a
 * connect()'s socket does.
 */
export function fetcherFetch(fetcher: object): Fetcher {
  const fetch = (fetcher as { fetch?: unknown }).fetch;
  return async (request) => {
    if (typeof fetch !== "function") throw new OutboundError("This service binding cannot fetch.");
    const response: unknown = await Reflect.apply(fetch, fetcher, [request]);
    if (!(response instanceof Response)) throw new OutboundError("The service binding's fetch() did not return a Response.");
    if (response.body === null) return response;
    return new Response(fetcherReadable(response.body), { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

export class HostSockets {
  private readonly sockets = new Map<number, Entry>();
  private pending = 0;
  private nextId = 1;
  /** Bumped by closeAll(): a connect still in progress when it ran closes its socket when it lands. */
  private generation = 0;
  /** Bytes written and read through this table's sockets, for tests and stats. */
  bytesWritten = 0;

  constructor(
    private readonly max: number,
    private readonly bodies: HostBodies,
  ) {}

  /** Sockets open or being opened. */
  get size(): number {
    return this.sockets.size + this.pending;
  }

  /** Opens a socket through `connect` and registers it; resolves once it is connected. */
  async open(connect: SocketConnector, address: unknown, options: unknown): Promise<SocketAnswer> {
    const checkedAddress = checkSocketAddress(address);
    const checkedOptions = checkSocketOptions(options);
    if (this.size >= this.max) throw new OutboundError(`Too many sockets open (at most ${this.max}); close earlier ones first.`);
    const generation = this.generation;
    this.pending++;
    let socket: HostSocket | undefined;
    try {
      const made: unknown = await connect(checkedAddress, checkedOptions);
      if (!isHostSocket(made)) throw new OutboundError("globalOutbound's connect() did not return a socket.");
      socket = made;
      const info = await socket.opened;
      if (generation !== this.generation) throw new OutboundError("The socket was closed: the invocation that opened it ended.");
      return this.register(socket, info, checkedAddress, checkedOptions);
    } catch (error) {
      if (socket !== undefined) closeQuietly(socket);
      throw asOutbound(error, CONNECT_FAILED);
    } finally {
      this.pending--;
    }
  }

  /**
   * Registers a socket made on the host for an inbound connection (inbound-socket.ts), counted
   * against the same budget as the sockets the sandbox opened.
   */
  adopt(socket: HostSocket, info: SocketInfo): SocketAnswer {
    if (this.size >= this.max) throw new OutboundError(`Too many sockets open (at most ${this.max}); close earlier ones first.`);
    return this.register(socket, info, { hostname: "", port: 0 }, { secureTransport: "off", allowHalfOpen: true });
  }

  private register(socket: HostSocket, info: SocketInfo | undefined, address: SocketAddress, options: SocketOptions): SocketAnswer {
    const bodyId = this.bodies.add(new HostBody(socket.readable.getReader()), (max) => new OutboundError(`Too many response bodies and sockets open (at most ${max}); read or close earlier ones first.`));
    const id = this.nextId++;
    this.sockets.set(id, { socket, writer: socket.writable.getWriter(), bodyId, options, address });
    return { socket: id, body: bodyId, remoteAddress: infoText(info?.remoteAddress), localAddress: infoText(info?.localAddress) };
  }

  private entry(id: unknown): Entry {
    const entry = typeof id === "number" ? this.sockets.get(id) : undefined;
    if (entry === undefined) throw new OutboundError("This socket is closed.");
    return entry;
  }

  async write(id: unknown, bytes: unknown): Promise<void> {
    const entry = this.entry(id);
    if (!(bytes instanceof Uint8Array)) throw new OutboundError("A socket's writable side takes bytes only.");
    if (bytes.byteLength > MAX_SOCKET_WRITE_BYTES) throw new OutboundError(`A socket write carries at most ${MAX_SOCKET_WRITE_BYTES} bytes.`);
    try {
      await entry.writer.write(bytes);
      this.bytesWritten += bytes.byteLength;
    } catch (error) {
      throw asOutbound(error, CONNECTION_LOST);
    }
  }

  /** Closes the writable side (the peer reads its end); the readable side stays open. */
  async end(id: unknown): Promise<void> {
    const entry = this.entry(id);
    try {
      await entry.writer.close();
    } catch (error) {
      throw asOutbound(error, CONNECTION_LOST);
    }
  }

  /** Socket `id`'s worker died with it open (a shard's sandbox: the shard says so before it closes it). */
  abandon(id: unknown): void {
    const entry = typeof id === "number" ? this.sockets.get(id) : undefined;
    entry?.socket.abandon?.();
  }

  close(id: unknown): void {
    const entry = typeof id === "number" ? this.sockets.get(id) : undefined;
    if (entry === undefined) return;
    this.sockets.delete(id as number);
    this.bodies.cancel(entry.bodyId);
    entry.writer.abort().catch(() => {});
    closeQuietly(entry.socket);
  }

  /** Upgrades a "starttls" socket: the old id and its readable side are gone, the answer names the new ones. */
  async startTls(id: unknown, expectedServerHostname: unknown): Promise<SocketAnswer> {
    const entry = this.entry(id);
    if (entry.options.secureTransport !== "starttls") throw new OutboundError("The `secureTransport` socket option must be set to 'starttls' for startTls to be used.");
    if (typeof entry.socket.startTls !== "function") throw new OutboundError("globalOutbound's socket cannot start TLS.");
    const expected = typeof expectedServerHostname === "string" && expectedServerHostname.length > 0 && expectedServerHostname.length <= 255 ? expectedServerHostname : undefined;
    // The plain-text streams are let go without closing the connection underneath them.
    this.sockets.delete(id as number);
    this.bodies.take(entry.bodyId);
    entry.writer.releaseLock();
    const generation = this.generation;
    this.pending++;
    let upgraded: HostSocket | undefined;
    try {
      const made: unknown = await entry.socket.startTls({ expectedServerHostname: expected ?? entry.address.hostname });
      if (!isHostSocket(made)) throw new OutboundError("globalOutbound's startTls() did not return a socket.");
      upgraded = made;
      const info = await upgraded.opened;
      if (generation !== this.generation) throw new OutboundError("The socket was closed: the invocation that opened it ended.");
      return this.register(upgraded, info, entry.address, { ...entry.options, secureTransport: "on" });
    } catch (error) {
      closeQuietly(upgraded ?? entry.socket);
      throw asOutbound(error, CONNECT_FAILED);
    } finally {
      this.pending--;
    }
  }

  /** Closes every socket; `abandoned`: their worker died (an inbound socket then fails rather than ends). */
  closeAll(abandoned = false): void {
    this.generation++;
    if (abandoned) for (const entry of this.sockets.values()) entry.socket.abandon?.();
    for (const id of [...this.sockets.keys()]) this.close(id);
  }
}
