// node:net's client socket and node:tls's connect(), over the sandbox's cloudflare:sockets
// connect() (web/sockets.ts), as workerd's node:net is: every connection is the host's, made by
// the worker's globalOutbound's `connect`, so the allow-list, the private-address refusal, the
// subrequest count and the socket budget are exactly those of cloudflare:sockets. A Socket is a
// node:stream Duplex (stream/core.ts): Node's events ('connect', 'ready', 'data', 'end',
// 'finish', 'close' with hadError, 'error', 'timeout', 'drain'), backpressure and half-open rules.
//
// Choices, after workerd's (src/node/net.ts and internal_tls_wrap.ts): TCP only (no `path`,
// `fd`, `handle`, servers); `lookup`, `family`, `localAddress`, `localPort` are ignored (the host
// resolves the name); setNoDelay() and setKeepAlive() are accepted and do nothing (the host's
// socket is its own), ref() and unref() too; setTimeout() is real. A plain socket is opened as a
// "starttls" one, so that tls.connect({ socket }) can upgrade it in place. tls.connect() is TLS
// from the first byte: no byte is written before the handshake, which the host makes and checks
// (its CAs, connectTcp's `tls.ca`): the sandbox's `ca`, `cert` and `key` are not used, and
// `rejectUnauthorized: false` is refused (ERR_OPTION_NOT_IMPLEMENTED), as on workerd.
//
// Everything here runs on the captured primordials (SECURITY.md, P12).

/* eslint-disable @typescript-eslint/no-explicit-any */

import { Duplex, uint8ArrayToBuffer } from "./stream/core.ts";
import { concat } from "./buffer/buffer.ts";
import { invalidArgType, invalidArgValue } from "./errors.ts";
import { nextTick } from "./process.ts";
import { clearTimer, setTimer, socketConnect, streams } from "../platform.ts";
import { primordials } from "../primordials.ts";

const {
  ArrayIsArray,
  ArrayPrototypePush,
  Error,
  NumberIsFinite,
  NumberIsInteger,
  ObjectDefineProperties,
  ObjectDefineProperty,
  ObjectSetPrototypeOf,
  PromisePrototypeThen,
  RangeError,
  ReflectApply,
  RegExp,
  RegExpPrototypeExec,
  StringPrototypeLastIndexOf,
  StringPrototypeSlice,
  StringPrototypeTrim,
  Symbol,
  TypeError,
  TypedArrayPrototypeGetByteLength,
} = primordials;

type S = any;
type Callback = (error?: unknown) => void;

// ---------------------------------------------------------------------------------------------
// Addresses (Node's patterns, lib/internal/net.js)

const IPV4_SEGMENT = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])";
const IPV4 = `(?:${IPV4_SEGMENT}\\.){3}${IPV4_SEGMENT}`;
const IPV6_SEGMENT = "(?:[0-9a-fA-F]{1,4})";
const IPV4_RE = new RegExp(`^${IPV4}$`);
const IPV6_RE = new RegExp(
  "^(?:" +
    `(?:${IPV6_SEGMENT}:){7}(?:${IPV6_SEGMENT}|:)|` +
    `(?:${IPV6_SEGMENT}:){6}(?:${IPV4}|:${IPV6_SEGMENT}|:)|` +
    `(?:${IPV6_SEGMENT}:){5}(?::${IPV4}|(?::${IPV6_SEGMENT}){1,2}|:)|` +
    `(?:${IPV6_SEGMENT}:){4}(?:(?::${IPV6_SEGMENT}){0,1}:${IPV4}|(?::${IPV6_SEGMENT}){1,3}|:)|` +
    `(?:${IPV6_SEGMENT}:){3}(?:(?::${IPV6_SEGMENT}){0,2}:${IPV4}|(?::${IPV6_SEGMENT}){1,4}|:)|` +
    `(?:${IPV6_SEGMENT}:){2}(?:(?::${IPV6_SEGMENT}){0,3}:${IPV4}|(?::${IPV6_SEGMENT}){1,5}|:)|` +
    `(?:${IPV6_SEGMENT}:){1}(?:(?::${IPV6_SEGMENT}){0,4}:${IPV4}|(?::${IPV6_SEGMENT}){1,6}|:)|` +
    `(?::(?:(?::${IPV6_SEGMENT}){0,5}:${IPV4}|(?::${IPV6_SEGMENT}){1,7}|:))` +
    ")(?:%[0-9a-zA-Z-.:]{1,})?$",
);

export const isIPv4 = (input: unknown): boolean => RegExpPrototypeExec(IPV4_RE, `${input as string}`) !== null;
export const isIPv6 = (input: unknown): boolean => RegExpPrototypeExec(IPV6_RE, `${input as string}`) !== null;
export const isIP = (input: unknown): number => (isIPv4(input) ? 4 : isIPv6(input) ? 6 : 0);

function familyOf(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  return isIPv6(address) ? "IPv6" : "IPv4";
}

interface Endpoint {
  address: string;
  port: number;
  family: string | undefined;
}

/** "host:port" as the host reports it (an IPv6 address bare or in brackets). */
function parseEndpoint(text: unknown): Endpoint | undefined {
  if (typeof text !== "string") return undefined;
  const colon = StringPrototypeLastIndexOf(text, ":");
  if (colon <= 0) return undefined;
  let address = StringPrototypeSlice(text, 0, colon);
  const port = +StringPrototypeSlice(text, colon + 1);
  if (!NumberIsInteger(port)) return undefined;
  if (address[0] === "[" && address[address.length - 1] === "]") address = StringPrototypeSlice(address, 1, -1);
  return { address, port, family: familyOf(address) };
}

// ---------------------------------------------------------------------------------------------
// Errors, as Node names them (a plain Error with an enumerable code: see notImplemented in stubs.ts)

function codedError(Base: ErrorConstructor, code: string, message: string): Error & { code: string } {
  const error = new Base(message) as Error & { code: string };
  ObjectDefineProperty(error, "code", { __proto__: null, value: code, writable: true, enumerable: true, configurable: true } as PropertyDescriptor);
  return error;
}

const socketClosed = () => codedError(Error, "ERR_SOCKET_CLOSED", "Socket is closed");
const closedBeforeConnection = () => codedError(Error, "ERR_SOCKET_CLOSED_BEFORE_CONNECTION", "Socket closed before the connection was established");
export const optionNotImplemented = (name: string) => codedError(Error, "ERR_OPTION_NOT_IMPLEMENTED", `The ${name} option is not implemented`);

function epipe(): Error & { code: string } {
  const error = codedError(Error, "EPIPE", "This socket has been ended by the other party");
  ObjectDefineProperty(error, "syscall", { __proto__: null, value: "write", writable: true, enumerable: true, configurable: true } as PropertyDescriptor);
  return error;
}

function validatePort(port: unknown, name: string): number {
  if ((typeof port !== "number" && typeof port !== "string") || (typeof port === "string" && StringPrototypeTrim(port).length === 0) || +port !== +port >>> 0 || +port > 0xffff) {
    const shown = typeof port === "string" ? `type string ('${port}')` : typeof port === "number" ? `type number (${port})` : typeof port;
    throw codedError(RangeError, "ERR_SOCKET_BAD_PORT", `${name} should be >= 0 and < 65536. Received ${shown}.`);
  }
  return +port;
}

// ---------------------------------------------------------------------------------------------
// The Socket

const kHandle = Symbol("kHandle");
const kRemote = Symbol("kRemote");
const kLocal = Symbol("kLocal");
const kBytesRead = Symbol("kBytesRead");
const kBytesWritten = Symbol("kBytesWritten");
const kTimer = Symbol("kTimer");
const kReading = Symbol("kReading");
const kWantRead = Symbol("kWantRead");
const kWhenConnected = Symbol("kWhenConnected");
const kNormalized = Symbol("normalizedArgs");
/** How a socket opens its connection: plain (net) or TLS from the start (tls). */
export const kOpen = Symbol("kOpen");

/** What a connected socket holds: the cloudflare:sockets Socket, its writer, and its reader once reading. */
interface Handle {
  socket: S;
  writer: unknown;
  reader: { readonly next: () => Promise<{ readonly value: Uint8Array | null }>; readonly cancel: () => void } | undefined;
}

/** Work waiting for the connection: run once it is made, or failed if the socket is destroyed first. */
interface Waiting {
  run: () => void;
  fail: (error: unknown) => void;
}

function whenConnected(socket: S, run: () => void, fail: (error: unknown) => void): void {
  ArrayPrototypePush(socket[kWhenConnected], { run, fail } as Waiting);
}

function flushWaiting(socket: S, error?: unknown): void {
  const waiting: Waiting[] = socket[kWhenConnected];
  socket[kWhenConnected] = [];
  for (let i = 0; i < waiting.length; i++) {
    if (error === undefined) waiting[i].run();
    else waiting[i].fail(error);
  }
}

/** `value instanceof C` as a boolean (no narrowing of `this`). */
function isInstance(value: unknown, C: S): boolean {
  return value instanceof C;
}

export const Socket = function Socket(this: S, options?: S): S {
  if (!isInstance(this, Socket)) return new (Socket as any)(options);
  if (typeof options === "number") options = { fd: options };
  else options = options !== null && typeof options === "object" ? { ...options } : {};
  if (options.objectMode) throw invalidArgValue("options.objectMode", options.objectMode, "is not supported");
  if (options.readableObjectMode || options.writableObjectMode) {
    const name = options.readableObjectMode ? "readableObjectMode" : "writableObjectMode";
    throw invalidArgValue(`options.${name}`, options[name], "is not supported");
  }
  if (options.handle) throw optionNotImplemented("options.handle");
  if (options.fd !== undefined) throw optionNotImplemented("options.fd");
  ReflectApply(Duplex, this, [{ ...options, allowHalfOpen: !!options.allowHalfOpen, emitClose: false, autoDestroy: true, decodeStrings: true, objectMode: false, readable: true, writable: true }]);
  this.connecting = false;
  this._host = null;
  this.timeout = 0;
  this[kHandle] = null;
  this[kRemote] = undefined;
  this[kLocal] = undefined;
  this[kBytesRead] = 0;
  this[kBytesWritten] = 0;
  this[kTimer] = undefined;
  this[kReading] = false;
  this[kWantRead] = false;
  this[kWhenConnected] = [];
  this.once("end", onReadableEnd);
  return this;
} as unknown as S;
ObjectSetPrototypeOf(Socket.prototype, Duplex.prototype);
ObjectSetPrototypeOf(Socket, Duplex);

const SocketPrototype = Socket.prototype;
const DuplexPrototype = Duplex.prototype;

/** Without allowHalfOpen, a write after the peer ended is EPIPE (Node's writeAfterFIN). */
function onReadableEnd(this: S): void {
  if (this.allowHalfOpen) return;
  ObjectDefineProperty(this, "write", {
    __proto__: null,
    value: function writeAfterFIN(this: S, chunk: unknown, encoding?: unknown, cb?: Callback): boolean {
      if (!this.writableEnded) return ReflectApply(DuplexPrototype.write, this, [chunk, encoding, cb]);
      if (typeof encoding === "function") cb = encoding as Callback;
      const error = epipe();
      if (typeof cb === "function") nextTick(cb, error);
      this.destroy(error);
      return false;
    },
    writable: true,
    enumerable: false,
    configurable: true,
  } as PropertyDescriptor);
}

/** Node's normalizeArgs: (options[, cb]), (port[, host][, cb]), (path[, cb]). */
export function normalizeArgs(args: unknown[]): unknown[] {
  let normalized: unknown[];
  if (args.length === 0) normalized = [{}, null];
  else {
    const first = args[0];
    let options: S;
    if (first !== null && typeof first === "object") options = first;
    else if (typeof first === "string" && !(+first >= 0)) options = { path: first };
    else options = args.length > 1 && typeof args[1] === "string" ? { port: first, host: args[1] } : { port: first };
    const cb = args[args.length - 1];
    normalized = [options, typeof cb === "function" ? cb : null];
  }
  ObjectDefineProperty(normalized, kNormalized, { __proto__: null, value: true } as PropertyDescriptor);
  return normalized;
}

function isNormalized(value: unknown): value is unknown[] {
  return ArrayIsArray(value) && (value as S)[kNormalized] === true;
}

SocketPrototype.connect = function connect(this: S, ...args: unknown[]): S {
  const normalized = isNormalized(args[0]) ? args[0] : normalizeArgs(args);
  const options = normalized[0] as S;
  const cb = normalized[1] as Callback | null;
  if (this.connecting) throw codedError(Error, "ERR_SOCKET_CONNECTING", "Socket is already connecting");
  if (this.destroyed || this[kHandle] !== null) throw socketClosed();
  if (options.path != null) throw invalidArgValue("options.path", options.path, "is not supported: a sandbox connects over TCP only");
  if (options.port === undefined) throw codedError(TypeError, "ERR_MISSING_ARGS", 'The "options" or "port" or "path" argument must be specified');
  const port = validatePort(options.port, "Port");
  const host = options.host === undefined || options.host === null ? "localhost" : options.host;
  if (typeof host !== "string") throw invalidArgType("options.host", "string", host);
  if (options.autoSelectFamily) throw invalidArgValue("options.autoSelectFamily", options.autoSelectFamily, "is not supported");
  if (cb !== null) this.once("connect", cb);
  this.connecting = true;
  this._host = host;
  let handle: S;
  try {
    handle = this[kOpen](host, port, options);
  } catch (error) {
    // The connection was refused before it started (no connect hook, an invalid address): the
    // 'error' event says so, as Node reports a failed lookup.
    this.connecting = false;
    this.destroy(error);
    return this;
  }
  const state: Handle = { socket: handle, writer: undefined, reader: undefined };
  this[kHandle] = state;
  PromisePrototypeThen(
    handle.opened,
    (info: S) => afterConnect(this, state, info, host, port),
    (error: unknown) => {
      if (this[kHandle] === state) this.destroy(error);
    },
  );
  return this;
};

/** A plain TCP connection ("starttls", so that tls.connect({ socket }) can upgrade it). */
SocketPrototype[kOpen] = function (this: S, host: string, port: number): S {
  return socketConnect({ __proto__: null, hostname: host, port }, { __proto__: null, secureTransport: "starttls", allowHalfOpen: true });
};

function afterConnect(socket: S, state: Handle, info: S, host: string, port: number): void {
  if (socket[kHandle] !== state || socket.destroyed) return;
  const { writableStreamGetWriter, byteReader } = streams();
  socket.connecting = false;
  socket[kRemote] = parseEndpoint(info?.remoteAddress) ?? { address: host, port, family: familyOf(isIP(host) !== 0 ? host : undefined) };
  socket[kLocal] = parseEndpoint(info?.localAddress);
  state.writer = writableStreamGetWriter(state.socket.writable);
  state.reader = byteReader(state.socket.readable);
  touch(socket);
  socket.emit("connect");
  socket.emit("ready");
  flushWaiting(socket);
  if (socket[kWantRead] || !socket.isPaused()) {
    socket[kWantRead] = false;
    startReading(socket);
  }
}

function startReading(socket: S): void {
  const state: Handle | null = socket[kHandle];
  if (socket[kReading] || state === null || state.reader === undefined || socket.destroyed) return;
  socket[kReading] = true;
  pump(socket, state);
}

function pump(socket: S, state: Handle): void {
  PromisePrototypeThen(
    state.reader!.next(),
    (box: { readonly value: Uint8Array | null }) => {
      if (socket[kHandle] !== state || socket.destroyed) return;
      const chunk = box.value;
      if (chunk === null) {
        socket[kReading] = false;
        socket.push(null);
        return;
      }
      socket[kBytesRead] += TypedArrayPrototypeGetByteLength(chunk);
      touch(socket);
      if (socket.push(uint8ArrayToBuffer(chunk))) pump(socket, state);
      else socket[kReading] = false;
    },
    (error: unknown) => {
      socket[kReading] = false;
      if (socket[kHandle] === state) socket.destroy(error);
    },
  );
}

SocketPrototype._read = function (this: S): void {
  if (this.connecting || this[kHandle] === null || this[kHandle].reader === undefined) this[kWantRead] = true;
  else startReading(this);
};

function write(socket: S, bytes: Uint8Array, cb: Callback): void {
  if (socket.connecting) {
    whenConnected(socket, () => write(socket, bytes, cb), cb);
    return;
  }
  const state: Handle | null = socket[kHandle];
  if (state === null || state.writer === undefined) {
    cb(socketClosed());
    return;
  }
  touch(socket);
  PromisePrototypeThen(
    streams().defaultWriterWrite(state.writer as never, bytes),
    () => {
      socket[kBytesWritten] += TypedArrayPrototypeGetByteLength(bytes);
      touch(socket);
      cb();
    },
    (error: unknown) => cb(error),
  );
}

SocketPrototype._write = function (this: S, chunk: Uint8Array, _encoding: string, cb: Callback): void {
  write(this, chunk, cb);
};

// Many small writes cross as one: each write is a round trip to the host.
SocketPrototype._writev = function (this: S, chunks: { chunk: Uint8Array }[], cb: Callback): void {
  const list: Uint8Array[] = [];
  for (let i = 0; i < chunks.length; i++) ArrayPrototypePush(list, chunks[i].chunk);
  write(this, concat(list), cb);
};

SocketPrototype._final = function (this: S, cb: Callback): void {
  if (this.connecting) {
    whenConnected(this, () => this._final(cb), cb);
    return;
  }
  const state: Handle | null = this[kHandle];
  if (state === null || state.writer === undefined) {
    cb();
    return;
  }
  PromisePrototypeThen(
    streams().defaultWriterClose(state.writer as never),
    () => cb(),
    (error: unknown) => cb(error),
  );
};

SocketPrototype._destroy = function (this: S, error: unknown, cb: Callback): void {
  stopTimer(this);
  const state: Handle | null = this[kHandle];
  this[kHandle] = null;
  this.connecting = false;
  flushWaiting(this, closedBeforeConnection());
  if (state !== null) {
    if (state.reader !== undefined) state.reader.cancel();
    PromisePrototypeThen(state.socket.close(), undefined, () => {});
  }
  cb(error);
  nextTick(emitClose, this, !!error);
};

function emitClose(socket: S, hadError: boolean): void {
  socket.emit("close", hadError);
}

SocketPrototype.resume = function (this: S): S {
  if (this.destroyed) return this;
  return ReflectApply(DuplexPrototype.resume, this, []);
};

SocketPrototype.end = function (this: S, data?: unknown, encoding?: unknown, cb?: unknown): S {
  ReflectApply(DuplexPrototype.end, this, [data, encoding, cb]);
  return this;
};

SocketPrototype.destroySoon = function (this: S): void {
  if (this.destroyed) return;
  if (this.writable) this.end();
  if (this.writableFinished) this.destroy();
  else this.once("finish", () => this.destroy());
};

SocketPrototype.resetAndDestroy = function (this: S): S {
  if (this.destroyed) return this;
  if (this[kHandle] === null) this.destroy(socketClosed());
  else this.destroy();
  return this;
};

// The host's socket is its own: these are accepted and change nothing.
SocketPrototype.setNoDelay = function (this: S): S {
  return this;
};
SocketPrototype.setKeepAlive = function (this: S): S {
  return this;
};
SocketPrototype.ref = function (this: S): S {
  return this;
};
SocketPrototype.unref = function (this: S): S {
  return this;
};

const TIMEOUT_MAX = 2 ** 31 - 1;

function stopTimer(socket: S): void {
  if (socket[kTimer] !== undefined) clearTimer(socket[kTimer]);
  socket[kTimer] = undefined;
}

/** Activity: the idle timer (setTimeout) starts again. */
function touch(socket: S): void {
  if (socket.timeout > 0 && !socket.destroyed) {
    stopTimer(socket);
    socket[kTimer] = setTimer(() => {
      socket[kTimer] = undefined;
      socket.emit("timeout");
    }, socket.timeout);
  }
}

SocketPrototype.setTimeout = function (this: S, msecs: unknown, callback?: unknown): S {
  if (this.destroyed) return this;
  if (typeof msecs !== "number") throw invalidArgType("msecs", "number", msecs);
  if (msecs < 0 || !NumberIsFinite(msecs)) throw codedError(RangeError, "ERR_OUT_OF_RANGE", `The value of "msecs" is out of range. It must be a non-negative finite number. Received ${msecs}`);
  if (callback !== undefined && typeof callback !== "function") throw invalidArgType("callback", "Function", callback);
  this.timeout = msecs > TIMEOUT_MAX ? TIMEOUT_MAX : msecs;
  stopTimer(this);
  if (msecs === 0) {
    if (callback !== undefined) this.removeListener("timeout", callback);
  } else {
    if (callback !== undefined) this.once("timeout", callback);
    touch(this);
  }
  return this;
};

SocketPrototype.address = function (this: S): S {
  const local: Endpoint | undefined = this[kLocal];
  if (local === undefined || this.destroyed) return {};
  return { address: local.address, family: local.family, port: local.port };
};

function getter(get: (this: S) => unknown): PropertyDescriptor {
  return { __proto__: null, get, enumerable: true, configurable: true } as PropertyDescriptor;
}

ObjectDefineProperties(SocketPrototype, {
  __proto__: null,
  remoteAddress: getter(function (this: S) {
    return this[kRemote]?.address;
  }),
  remotePort: getter(function (this: S) {
    return this[kRemote]?.port;
  }),
  remoteFamily: getter(function (this: S) {
    return this[kRemote]?.family;
  }),
  localAddress: getter(function (this: S) {
    return this[kLocal]?.address;
  }),
  localPort: getter(function (this: S) {
    return this[kLocal]?.port;
  }),
  localFamily: getter(function (this: S) {
    return this[kLocal]?.family;
  }),
  bytesRead: getter(function (this: S) {
    return this[kBytesRead];
  }),
  bytesWritten: getter(function (this: S) {
    return this[kBytesWritten] + (this._writableState ? this._writableState.length : 0);
  }),
  _connecting: getter(function (this: S) {
    return this.connecting;
  }),
  pending: getter(function (this: S) {
    return this[kHandle] === null || this.connecting;
  }),
  readyState: getter(function (this: S) {
    if (this.connecting) return "opening";
    if (this.readable && this.writable) return "open";
    if (this.readable && !this.writable) return "readOnly";
    if (!this.readable && this.writable) return "writeOnly";
    return "closed";
  }),
  bufferSize: getter(function (this: S) {
    return this[kHandle] !== null ? this.writableLength : undefined;
  }),
} as unknown as PropertyDescriptorMap);

/** net.connect / net.createConnection. */
export function connect(...args: unknown[]): S {
  const normalized = normalizeArgs(args);
  const options = normalized[0] as S;
  const socket = new (Socket as any)(options);
  if (options.timeout) socket.setTimeout(options.timeout);
  return socket.connect(normalized);
}

// ---------------------------------------------------------------------------------------------
// node:tls

export const TLSSocket = function TLSSocket(this: S, socket?: S, options?: S): S {
  if (!isInstance(this, TLSSocket)) return new (TLSSocket as any)(socket, options);
  const record = options !== null && typeof options === "object" ? options : {};
  checkTlsOptions(record);
  ReflectApply(Socket, this, [{ allowHalfOpen: socket ? socket.allowHalfOpen : record.allowHalfOpen }]);
  this.encrypted = true;
  this.authorized = false;
  this.authorizationError = null;
  this.alpnProtocol = false;
  this.secureConnecting = true;
  this.servername = typeof record.servername === "string" ? record.servername : null;
  this.on("connect", onSecure);
  return this;
} as unknown as S;
ObjectSetPrototypeOf(TLSSocket.prototype, SocketPrototype);
ObjectSetPrototypeOf(TLSSocket, Socket);

function checkTlsOptions(options: S): void {
  // The host checks the certificate; a sandbox cannot turn that off (as on workerd).
  if (options.rejectUnauthorized === false) throw optionNotImplemented("options.rejectUnauthorized");
  if (options.isServer) throw optionNotImplemented("options.isServer");
  if (options.requestCert) throw optionNotImplemented("options.requestCert");
  if (options.pskCallback !== undefined) throw optionNotImplemented("options.pskCallback");
  if (options.ALPNProtocols !== undefined) throw optionNotImplemented("options.ALPNProtocols");
}

/** The connection (and the host's handshake) is made: 'secureConnect', once per socket. */
function onSecure(this: S): void {
  this.authorized = true;
  this.secureConnecting = false;
  this.emit("secure");
  this.emit("secureConnect");
}

/** TLS from the first byte: a "starttls" connection upgraded before anything is written. */
TLSSocket.prototype[kOpen] = function (this: S, host: string, port: number): S {
  const plain = socketConnect({ __proto__: null, hostname: host, port }, { __proto__: null, secureTransport: "starttls", allowHalfOpen: true }) as S;
  return plain.startTls({ __proto__: null, expectedServerHostname: this.servername ?? host });
};

TLSSocket.prototype.setServername = function (this: S, name: unknown): void {
  if (typeof name !== "string") throw invalidArgType("name", "string", name);
  this.servername = name;
};
TLSSocket.prototype.getProtocol = function (): null {
  return null;
};
TLSSocket.prototype.getCipher = function (): null {
  return null;
};
TLSSocket.prototype.getSession = function (): undefined {
  return undefined;
};
TLSSocket.prototype.isSessionReused = function (): boolean {
  return false;
};
TLSSocket.prototype.setSession = function (): void {};
TLSSocket.prototype.disableRenegotiation = function (): void {};
TLSSocket.prototype.setMaxSendFragment = function (): boolean {
  return false;
};
TLSSocket.prototype.getPeerCertificate = function (): never {
  throw codedError(Error, "ERR_METHOD_NOT_IMPLEMENTED", "The TLSSocket.getPeerCertificate method is not implemented");
};

/** tls.connect([port][, host][, options][, cb]) or tls.connect(options[, cb]). */
export function tlsConnect(...args: unknown[]): S {
  const normalized = normalizeArgs(args);
  // As Node: the options after port and host are merged in (options.host wins over a host argument).
  const extra = args[1] !== null && typeof args[1] === "object" ? args[1] : args[2] !== null && typeof args[2] === "object" ? args[2] : undefined;
  const options = extra === undefined ? (normalized[0] as S) : { ...(normalized[0] as S), ...(extra as S) };
  const cb = normalized[1] as Callback | null;
  if (options.socket !== undefined && options.socket !== null) throw optionNotImplemented("options.socket");
  const socket = new (TLSSocket as any)(undefined, options);
  if (cb !== null) socket.once("secureConnect", cb);
  if (options.timeout) socket.setTimeout(options.timeout);
  const connectOptions = { host: options.host, port: options.port, path: options.path };
  const list = [connectOptions, null];
  ObjectDefineProperty(list, kNormalized, { __proto__: null, value: true } as PropertyDescriptor);
  return socket.connect(list);
}
