// cloudflare:sockets inside the sandbox: connect() and Socket. Nothing here opens a connection:
// the address goes to the host, whose globalOutbound's connect decides and connects (or refuses).
// The readable side pulls what the host read, a chunk at a time, as a fetch() response body does
// (it is one of the host's bodies); writes cross in pieces of at most 64 KiB, each answered once
// the host's socket took it. The host closes every socket when no invocation is in flight.

import { brandPlatformObject, cancelHostBody, readHostBody, requestOp, sendOp, streams, url } from "../platform.ts";
import { primordials, SymbolToStringTag } from "../primordials.ts";
import { Op, CONNECT_BLOCKED } from "../../protocol/ops.ts";
import { viewBufferSource } from "./webidl.ts";

const { Error, MathMin, NumberIsInteger, ObjectFreeze, Promise, PromisePrototypeThen, PromiseResolve, RegExpPrototypeExec, StringPrototypeSlice, Symbol, TypeError, TypedArrayPrototypeGetByteLength, Uint8ArrayCopyRange } = primordials;

/** The most bytes one write message carries. */
const WRITE_PIECE = 64 * 1024;

interface HostAnswer {
  socket: number;
  body: number;
  remoteAddress?: string;
  localAddress?: string;
}

interface Address {
  hostname: string;
  port: number;
}

export interface SocketInfo {
  remoteAddress?: string;
  localAddress?: string;
}

type SecureTransport = "off" | "on" | "starttls";

const internal = Symbol("islet socket");

/** Set by Socket's static block: opens a Socket over an inbound connection's host answer. */
let acceptSocket: (answer: HostAnswer) => Socket;

function parseSecureTransport(value: unknown): SecureTransport {
  if (value === undefined) return "off";
  const text = `${value as string}`;
  if (text === "off" || text === "on" || text === "starttls") return text;
  throw new TypeError(`Unsupported value in secureTransport socket option: ${text}`);
}

/** workerd's isValidHost: 1 to 255 characters of letters, digits and `-._[]:`. */
function isValidHost(text: string): boolean {
  return text.length > 0 && text.length <= 255 && RegExpPrototypeExec(/^[A-Za-z0-9._:\-[\]]+$/, text) !== null;
}

function parseAddress(address: unknown): Address {
  let hostname: string;
  let port: number;
  if (typeof address === "string") {
    if (!isValidHost(address)) throw new TypeError("Specified address is empty string, contains unsupported characters or is too long.");
    const URL = url().URL;
    let parsed: InstanceType<typeof URL>;
    try {
      parsed = new URL(`https://${address}`);
    } catch {
      throw new TypeError("Specified address could not be parsed.");
    }
    hostname = parsed.hostname;
    if (hostname === "") throw new TypeError("Specified address is missing hostname.");
    // As workerd: an address without a port (or with :443, which the URL parser drops) is port 443.
    port = parsed.port === "" ? 443 : +parsed.port;
  } else if (address !== null && typeof address === "object") {
    const record = address as { hostname?: unknown; port?: unknown };
    hostname = `${record.hostname as string}`;
    port = +(record.port as number);
    if (!isValidHost(hostname)) throw new TypeError("Specified address is empty string, contains unsupported characters or is too long.");
    if (!NumberIsInteger(port) || port < 0 || port > 65535) throw new TypeError("The specified port is not valid.");
  } else {
    throw new TypeError("The address must be a string or an object with hostname and port.");
  }
  if (hostname[0] === "[" && hostname[hostname.length - 1] === "]") hostname = StringPrototypeSlice(hostname, 1, -1);
  return { hostname, port };
}

/** One connection's state, shared by its streams and its Socket. */
class Connection {
  socketId: number | undefined;
  bodyId: number | undefined;
  readDone = false;
  writeDone = false;
  ended = false;
  readController: unknown;
  writeController: unknown;
  /** The write in flight, if any: startTls() waits for it. */
  lastWrite: Promise<unknown> = PromiseResolve();
  readonly answered: Promise<HostAnswer>;
  resolveClosed!: () => void;
  rejectClosed!: (error: unknown) => void;
  readonly closed: Promise<void>;

  constructor(
    answer: Promise<HostAnswer>,
    readonly allowHalfOpen: boolean,
  ) {
    this.closed = new Promise<void>((resolve, reject) => {
      this.resolveClosed = resolve;
      this.rejectClosed = reject;
    });
    PromisePrototypeThen(this.closed, undefined, () => {});
    this.answered = PromisePrototypeThen(
      answer,
      (value: HostAnswer) => {
        this.socketId = value.socket;
        this.bodyId = value.body;
        // Closed before the host answered: let the host go of it now.
        if (this.ended) this.release();
        return value;
      },
      (error: unknown) => {
        this.fail(error);
        throw error;
      },
    ) as Promise<HostAnswer>;
    PromisePrototypeThen(this.answered, undefined, () => {});
  }

  /** The host forgets the socket (closing it); the sandbox's streams are already done. */
  release(): void {
    if (this.socketId !== undefined) sendOp(Op.SocketClose, this.socketId);
  }

  /** Both sides done: the socket is closed. */
  settleIfDone(): void {
    if (this.ended || !this.readDone || !this.writeDone) return;
    this.ended = true;
    this.release();
    this.resolveClosed();
  }

  fail(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.readDone = this.writeDone = true;
    const { byteControllerError, writableControllerError } = streams();
    try {
      byteControllerError(this.readController, error);
    } catch {
      // already closed
    }
    try {
      writableControllerError(this.writeController, error);
    } catch {
      // already closed
    }
    this.release();
    this.rejectClosed(error);
  }

  /** close(), or the end of a startTls(): both sides stop now and `closed` resolves. */
  shut(): void {
    if (this.ended) return;
    this.ended = true;
    const { byteControllerClose, byteControllerByobRequest, byobRequestRespond, writableControllerError } = streams();
    if (!this.readDone) {
      this.readDone = true;
      try {
        byteControllerClose(this.readController);
        const byob = byteControllerByobRequest(this.readController);
        if (byob !== null && byob !== undefined) byobRequestRespond(byob, 0);
      } catch {
        // already closed or errored
      }
    }
    if (!this.writeDone) {
      this.writeDone = true;
      try {
        writableControllerError(this.writeController, new TypeError("The socket is closed."));
      } catch {
        // already closed or errored
      }
    }
    if (this.bodyId !== undefined) cancelHostBody(this.bodyId);
    this.release();
    this.resolveClosed();
  }
}

function readableOf(connection: Connection) {
  const { ReadableStream, byteControllerClose, byteControllerEnqueue, byteControllerByobRequest, byobRequestRespond } = streams();
  return new ReadableStream({
    type: "bytes",
    start(controller: unknown) {
      connection.readController = controller;
    },
    async pull(controller: unknown) {
      const { body } = await connection.answered;
      if (connection.readDone) return;
      let chunk: Uint8Array | null;
      try {
        chunk = (await readHostBody(body)).value;
      } catch (error) {
        // The connection broke (or the handler at its other end failed): `closed` rejects too.
        if (!connection.readDone) connection.fail(error);
        throw error;
      }
      if (connection.readDone) return;
      if (chunk === null) {
        connection.readDone = true;
        byteControllerClose(controller);
        const byob = byteControllerByobRequest(controller);
        if (byob !== null && byob !== undefined) byobRequestRespond(byob, 0);
        // Without allowHalfOpen the end of what the peer sends closes this side's writing too.
        if (!connection.allowHalfOpen && !connection.writeDone) {
          connection.writeDone = true;
          try {
            streams().writableControllerError(connection.writeController, new TypeError("The socket is closed: the peer ended it."));
          } catch {
            // already closed
          }
        }
        connection.settleIfDone();
      } else if (TypedArrayPrototypeGetByteLength(chunk) > 0) byteControllerEnqueue(controller, chunk);
    },
    cancel() {
      connection.readDone = true;
      if (connection.bodyId !== undefined) cancelHostBody(connection.bodyId);
      connection.settleIfDone();
    },
  });
}

function writableOf(connection: Connection) {
  const { WritableStream } = streams();
  return new WritableStream({
    start(controller: unknown) {
      connection.writeController = controller;
    },
    async write(chunk: unknown) {
      const view = viewBufferSource(chunk);
      if (view === undefined) throw new TypeError("A socket's writable side takes an ArrayBuffer or an ArrayBufferView.");
      const { socket } = await connection.answered;
      const length = TypedArrayPrototypeGetByteLength(view);
      // Copied now, whole, before any await: the writer may reuse its buffer once write() resolves.
      const bytes = Uint8ArrayCopyRange(view, 0, length);
      let written: Promise<unknown> = PromiseResolve();
      for (let offset = 0; offset < length; offset += WRITE_PIECE) {
        if (connection.writeDone) throw new TypeError("The socket is closed.");
        const piece = offset === 0 && length <= WRITE_PIECE ? bytes : Uint8ArrayCopyRange(bytes, offset, MathMin(WRITE_PIECE, length - offset));
        written = requestOp(Op.SocketWrite, socket, piece);
        connection.lastWrite = written;
        await written;
      }
    },
    async close() {
      const { socket } = await connection.answered;
      await requestOp(Op.SocketEnd, socket);
      connection.writeDone = true;
      connection.settleIfDone();
    },
    abort() {
      connection.writeDone = true;
      connection.settleIfDone();
    },
  });
}

export class Socket {
  #connection!: Connection;
  #readable: unknown;
  #writable: unknown;
  #opened!: Promise<SocketInfo>;
  #secureTransport!: SecureTransport;
  #upgraded = false;

  constructor(key?: unknown) {
    if (key !== internal) throw new TypeError("Illegal constructor");
    brandPlatformObject(this, "Socket");
  }

  static #open(socket: Socket, answer: Promise<HostAnswer>, secureTransport: SecureTransport, allowHalfOpen: boolean): Socket {
    const connection = new Connection(answer, allowHalfOpen);
    socket.#connection = connection;
    socket.#secureTransport = secureTransport;
    socket.#readable = readableOf(connection);
    socket.#writable = writableOf(connection);
    socket.#opened = PromisePrototypeThen(connection.answered, (value: HostAnswer) => {
      // A literal defines its properties: no setter user code put on Object.prototype runs.
      const info: SocketInfo = { remoteAddress: typeof value.remoteAddress === "string" ? value.remoteAddress : undefined, localAddress: typeof value.localAddress === "string" ? value.localAddress : undefined };
      return info;
    }) as Promise<SocketInfo>;
    PromisePrototypeThen(socket.#opened, undefined, () => {});
    return socket;
  }

  /** `binding`: the id of the service binding whose connect() this is (Fetcher.connect); undefined for cloudflare:sockets' own. */
  static connect(address: unknown, options: unknown, connectAllowed: boolean, binding?: number): Socket {
    const target = parseAddress(address);
    const record = options !== null && typeof options === "object" ? (options as { secureTransport?: unknown; allowHalfOpen?: unknown }) : {};
    const secureTransport = parseSecureTransport(record.secureTransport);
    const allowHalfOpen = !!record.allowHalfOpen;
    if (!connectAllowed) throw new Error(CONNECT_BLOCKED);
    const addressRecord = { __proto__: null, hostname: target.hostname, port: target.port };
    const optionsRecord = { __proto__: null, secureTransport, allowHalfOpen };
    const request = binding === undefined ? requestOp(Op.Connect, addressRecord, optionsRecord) : requestOp(Op.StubConnect, binding, addressRecord, optionsRecord);
    const answer = PromisePrototypeThen(request, (box: { readonly value: unknown }) => box.value as HostAnswer) as Promise<HostAnswer>;
    return Socket.#open(new Socket(internal), answer, secureTransport, allowHalfOpen);
  }

  static {
    // Not a static method: user code reaches the class (socket.constructor), and must not make a
    // Socket over ids of its choosing.
    acceptSocket = (answer) => Socket.#open(new Socket(internal), PromiseResolve(answer), "off", true);
  }

  get readable(): unknown {
    return this.#readable;
  }

  get writable(): unknown {
    return this.#writable;
  }

  get opened(): Promise<SocketInfo> {
    return this.#opened;
  }

  get closed(): Promise<void> {
    return this.#connection.closed;
  }

  get upgraded(): boolean {
    return this.#upgraded;
  }

  get secureTransport(): SecureTransport {
    return this.#secureTransport;
  }

  close(): Promise<void> {
    this.#connection.shut();
    return this.#connection.closed;
  }

  startTls(options?: unknown): Socket {
    if (this.#secureTransport === "on") throw new TypeError("Cannot startTls on a TLS socket.");
    if (this.#upgraded) throw new TypeError("startTls can only be called once.");
    if (this.#secureTransport !== "starttls") throw new TypeError("The `secureTransport` socket option must be set to 'starttls' for startTls to be used.");
    const record = options !== null && typeof options === "object" ? (options as { expectedServerHostname?: unknown }) : {};
    const expected = record.expectedServerHostname === undefined ? undefined : `${record.expectedServerHostname as string}`;
    this.#upgraded = true;
    const old = this.#connection;
    const answer = PromisePrototypeThen(
      // The plain-text write in flight reaches the peer first; then the old streams stop (closed resolves).
      PromisePrototypeThen(old.lastWrite, () => old.answered, () => old.answered),
      (previous: HostAnswer) => {
        const request = requestOp(Op.SocketStartTls, previous.socket, expected);
        old.socketId = undefined; // the host let go of it: no close message for it
        old.bodyId = undefined;
        old.shut();
        return PromisePrototypeThen(request, (box: { readonly value: unknown }) => box.value as HostAnswer);
      },
    ) as Promise<HostAnswer>;
    return Socket.#open(new Socket(internal), answer, this.#secureTransport, old.allowHalfOpen);
  }

  get [SymbolToStringTag](): string {
    return "Socket";
  }
}

ObjectFreeze(Socket.prototype);

/** cloudflare:sockets' connect(address, options); `allowed`: whether the worker's globalOutbound has a connect method. */
export function connect(address: unknown, options: unknown, allowed: boolean): Socket {
  return Socket.connect(address, options, allowed);
}

/**
 * `binding.connect(address, options)` on a service binding the sandbox holds (another worker's
 * entrypoint, host capability `binding`): a Socket whose other end is that worker's connect(socket)
 * handler, as Cloudflare's Fetcher.connect. The host decides nothing here but that the capability
 * is a service binding: it needs no globalOutbound.
 */
export function connectThrough(binding: number, address: unknown, options: unknown): Socket {
  return Socket.connect(address, options, true, binding);
}

/**
 * The Socket a connect(socket) handler receives, over the socket the host registered as `answer`
 * (allowHalfOpen: the handler decides when its side ends).
 */
export function accept(answer: unknown): Socket {
  const record = answer as HostAnswer;
  return acceptSocket({ socket: record.socket, body: record.body, localAddress: typeof record.localAddress === "string" ? record.localAddress : undefined });
}
