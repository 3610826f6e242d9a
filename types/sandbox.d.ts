// islet/sandbox: types for code that runs INSIDE an islet sandbox (a worker), not for the host.
//
//   /// <reference types="islet/sandbox" />          at the top of a worker file, or
//   "compilerOptions": { "types": ["islet/sandbox"] }  in the tsconfig of the worker's folder
//
// It declares the `cloudflare:workers` module, the web globals (through TypeScript's "webworker"
// lib) with islet's additions (scheduler.wait, crypto.subtle.timingSafeEqual), and the Node
// modules of the `nodejs_compat` flag (node:buffer, events, util, path, url, assert,
// string_decoder, crypto, process, timers, querystring, os, diagnostics_channel, async_hooks, and
// the long tail: fs, stream, zlib, net, http and every other module workerd serves, their
// unimplemented parts typed IsletNotImplemented) with the globals Buffer and process.
//
// Keep worker code in its own tsconfig: these declarations conflict with lib "dom" and with
// @types/node, which describe other platforms. The "webworker" lib also declares a few globals
// islet lacks (caches, WebSocket, EventSource, importScripts, indexedDB, …; see README's Web
// platform compatibility); the Node modules and the Buffer and process globals exist only with the
// nodejs_compat compatibility flag.

/// <reference lib="es2023" />
/// <reference lib="webworker" />
/// <reference lib="webworker.iterable" />

declare namespace Cloudflare {
  /** The type of `env` (`import { env } from "cloudflare:workers"`): redeclare it to add your bindings. */
  interface Env {}
}

declare module "cloudflare:sockets" {
  export interface SocketAddress {
    hostname: string;
    port: number;
  }
  export interface SocketOptions {
    /** "off" (default), "on" (TLS from the start) or "starttls" (plain text until startTls()). */
    secureTransport?: "off" | "on" | "starttls";
    /** Keep the writable side open once the peer ended its side (default false). */
    allowHalfOpen?: boolean;
  }
  export interface SocketInfo {
    remoteAddress?: string;
    localAddress?: string;
  }
  export interface TlsOptions {
    expectedServerHostname?: string;
  }
  /** A TCP connection the host made for this worker through its globalOutbound's connect. */
  export interface Socket {
    readonly readable: ReadableStream<Uint8Array>;
    readonly writable: WritableStream<ArrayBuffer | ArrayBufferView>;
    readonly opened: Promise<SocketInfo>;
    readonly closed: Promise<void>;
    readonly upgraded: boolean;
    readonly secureTransport: "off" | "on" | "starttls";
    close(): Promise<void>;
    startTls(options?: TlsOptions): Socket;
  }
  /** Opens a TCP connection: refused (it throws) unless the worker's globalOutbound has a connect method. */
  export function connect(address: SocketAddress | string, options?: SocketOptions): Socket;
}

declare module "cloudflare:workers" {
  /** `this.ctx` of an entrypoint, the third argument of an object handler's methods. */
  export interface ExecutionContext<Props = unknown> {
    /** What the host passed as `getEntrypoint(name, { props })`. */
    readonly props: Props;
    /** Loopback stubs to this worker's own named exports. */
    readonly exports: Record<string, unknown>;
    /** Work that may finish after the answer, still inside the invocation (and its limits). */
    waitUntil(promise: Promise<unknown>): void;
    passThroughOnException(): void;
  }

  /** Instances cross the boundary as stubs: the host (or another worker) calls their class methods. */
  export class RpcTarget {}

  /** A class entrypoint: its methods are RPC methods, `fetch` answers `entrypoint.fetch()`. */
  export abstract class WorkerEntrypoint<Env = Cloudflare.Env, Props = unknown> {
    protected readonly ctx: ExecutionContext<Props>;
    protected readonly env: Env;
    constructor(ctx: ExecutionContext<Props>, env: Env);
    fetch?(request: Request): Response | Promise<Response>;
  }

  /**
   * The base class. Run as a facet of a host Durable Object, `ctx` is Cloudflare's DurableObjectState
   * (`storage`, `facets`, `id`, `props`, `exports`, `blockConcurrencyWhile`, `waitUntil`, `abort`),
   * not described here.
   */
  export abstract class DurableObject<Env = Cloudflare.Env> {
    protected readonly ctx: unknown;
    protected readonly env: Env;
    constructor(ctx: unknown, env: Env);
    fetch?(request: Request): Response | Promise<Response>;
  }

  /** An object-style default export: `export default { fetch(request, env, ctx) { … } } satisfies ExportedHandler<Env>`. */
  export interface ExportedHandler<Env = Cloudflare.Env, Props = unknown> {
    fetch?(request: Request, env: Env, ctx: ExecutionContext<Props>): Response | Promise<Response>;
  }

  /** The worker's `env` (the WorkerCode's `env`: data copied, functions and RpcTargets as stubs). */
  export const env: Cloudflare.Env;
}

interface SubtleCrypto {
  /** A Workers extension: compares two buffers of equal length in constant time. */
  timingSafeEqual(a: ArrayBuffer | ArrayBufferView, b: ArrayBuffer | ArrayBufferView): boolean;
}

// islet's `scheduler` has only Workers' wait(), not the Prioritized Task Scheduling API's postTask() and yield().
interface Scheduler {
  /** As in Workers: `await scheduler.wait(ms)` is a promise-based setTimeout (fires within the invocation only). */
  wait(ms: number, options?: { signal?: AbortSignal }): Promise<void>;
}

// ---- nodejs_compat -----------------------------------------------------------------------------

type IsletBufferEncoding = "ascii" | "utf8" | "utf-8" | "utf16le" | "utf-16le" | "ucs2" | "ucs-2" | "base64" | "base64url" | "latin1" | "binary" | "hex";

interface IsletBuffer extends Uint8Array<ArrayBuffer> {
  toString(encoding?: IsletBufferEncoding, start?: number, end?: number): string;
  toJSON(): { type: "Buffer"; data: number[] };
  equals(other: Uint8Array): boolean;
  compare(target: Uint8Array, targetStart?: number, targetEnd?: number, sourceStart?: number, sourceEnd?: number): -1 | 0 | 1;
  copy(target: Uint8Array, targetStart?: number, sourceStart?: number, sourceEnd?: number): number;
  write(string: string, encoding?: IsletBufferEncoding): number;
  write(string: string, offset: number, encoding?: IsletBufferEncoding): number;
  write(string: string, offset: number, length: number, encoding?: IsletBufferEncoding): number;
  slice(start?: number, end?: number): IsletBuffer;
  subarray(start?: number, end?: number): IsletBuffer;
  fill(value: string | number | Uint8Array, offset?: number, end?: number, encoding?: IsletBufferEncoding): this;
  indexOf(value: string | number | Uint8Array, byteOffset?: number, encoding?: IsletBufferEncoding): number;
  lastIndexOf(value: string | number | Uint8Array, byteOffset?: number, encoding?: IsletBufferEncoding): number;
  includes(value: string | number | Uint8Array, byteOffset?: number, encoding?: IsletBufferEncoding): boolean;
  swap16(): this;
  swap32(): this;
  swap64(): this;
  readUInt8(offset?: number): number;
  readUInt16LE(offset?: number): number;
  readUInt16BE(offset?: number): number;
  readUInt32LE(offset?: number): number;
  readUInt32BE(offset?: number): number;
  readInt8(offset?: number): number;
  readInt16LE(offset?: number): number;
  readInt16BE(offset?: number): number;
  readInt32LE(offset?: number): number;
  readInt32BE(offset?: number): number;
  readFloatLE(offset?: number): number;
  readFloatBE(offset?: number): number;
  readDoubleLE(offset?: number): number;
  readDoubleBE(offset?: number): number;
  readBigUInt64LE(offset?: number): bigint;
  readBigUInt64BE(offset?: number): bigint;
  readBigInt64LE(offset?: number): bigint;
  readBigInt64BE(offset?: number): bigint;
  readUIntLE(offset: number, byteLength: number): number;
  readUIntBE(offset: number, byteLength: number): number;
  readIntLE(offset: number, byteLength: number): number;
  readIntBE(offset: number, byteLength: number): number;
  writeUInt8(value: number, offset?: number): number;
  writeUInt16LE(value: number, offset?: number): number;
  writeUInt16BE(value: number, offset?: number): number;
  writeUInt32LE(value: number, offset?: number): number;
  writeUInt32BE(value: number, offset?: number): number;
  writeInt8(value: number, offset?: number): number;
  writeInt16LE(value: number, offset?: number): number;
  writeInt16BE(value: number, offset?: number): number;
  writeInt32LE(value: number, offset?: number): number;
  writeInt32BE(value: number, offset?: number): number;
  writeFloatLE(value: number, offset?: number): number;
  writeFloatBE(value: number, offset?: number): number;
  writeDoubleLE(value: number, offset?: number): number;
  writeDoubleBE(value: number, offset?: number): number;
  writeBigUInt64LE(value: bigint, offset?: number): number;
  writeBigUInt64BE(value: bigint, offset?: number): number;
  writeBigInt64LE(value: bigint, offset?: number): number;
  writeBigInt64BE(value: bigint, offset?: number): number;
  writeUIntLE(value: number, offset: number, byteLength: number): number;
  writeUIntBE(value: number, offset: number, byteLength: number): number;
  writeIntLE(value: number, offset: number, byteLength: number): number;
  writeIntBE(value: number, offset: number, byteLength: number): number;
}

interface IsletBufferConstructor {
  readonly prototype: IsletBuffer;
  from(string: string, encoding?: IsletBufferEncoding): IsletBuffer;
  from(data: ArrayLike<number> | Iterable<number> | Uint8Array): IsletBuffer;
  from(arrayBuffer: ArrayBuffer, byteOffset?: number, length?: number): IsletBuffer;
  alloc(size: number, fill?: string | number | Uint8Array, encoding?: IsletBufferEncoding): IsletBuffer;
  allocUnsafe(size: number): IsletBuffer;
  allocUnsafeSlow(size: number): IsletBuffer;
  isBuffer(value: unknown): value is IsletBuffer;
  isEncoding(encoding: string): encoding is IsletBufferEncoding;
  byteLength(value: string | ArrayBuffer | ArrayBufferView, encoding?: IsletBufferEncoding): number;
  concat(list: readonly Uint8Array[], totalLength?: number): IsletBuffer;
  compare(a: Uint8Array, b: Uint8Array): -1 | 0 | 1;
  copyBytesFrom(view: ArrayBufferView, offset?: number, length?: number): IsletBuffer;
  readonly poolSize: number;
}

interface IsletEventEmitter {
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  addListener(event: string | symbol, listener: (...args: any[]) => void): this;
  prependListener(event: string | symbol, listener: (...args: any[]) => void): this;
  once(event: string | symbol, listener: (...args: any[]) => void): this;
  prependOnceListener(event: string | symbol, listener: (...args: any[]) => void): this;
  off(event: string | symbol, listener: (...args: any[]) => void): this;
  removeListener(event: string | symbol, listener: (...args: any[]) => void): this;
  removeAllListeners(event?: string | symbol): this;
  emit(event: string | symbol, ...args: any[]): boolean;
  listenerCount(event: string | symbol, listener?: (...args: any[]) => void): number;
  listeners(event: string | symbol): ((...args: any[]) => void)[];
  rawListeners(event: string | symbol): ((...args: any[]) => void)[];
  eventNames(): (string | symbol)[];
  setMaxListeners(n: number): this;
  getMaxListeners(): number;
}

interface IsletProcess extends IsletEventEmitter {
  /** The string values of the worker's `env`, nothing of the host's. */
  env: Record<string, string | undefined>;
  readonly version: string;
  readonly versions: Record<string, string>;
  readonly platform: "linux";
  readonly release: { name: string };
  readonly argv: string[];
  readonly execArgv: string[];
  /** Always "/". */
  cwd(): string;
  nextTick(callback: (...args: any[]) => void, ...args: any[]): void;
  emitWarning(warning: string | Error, type?: string, code?: string): void;
}

/** nodejs_compat only. */
declare var Buffer: IsletBufferConstructor;
/** nodejs_compat only. */
declare var process: IsletProcess;

declare module "node:buffer" {
  export type BufferEncoding = IsletBufferEncoding;
  export type Buffer = IsletBuffer;
  export const Buffer: IsletBufferConstructor;
  export const SlowBuffer: IsletBufferConstructor;
  export function isUtf8(input: ArrayBuffer | ArrayBufferView): boolean;
  export function isAscii(input: ArrayBuffer | ArrayBufferView): boolean;
  export function atob(data: string): string;
  export function btoa(data: string): string;
  export const kMaxLength: number;
  export const kStringMaxLength: number;
  export const INSPECT_MAX_BYTES: number;
  export const constants: { readonly MAX_LENGTH: number; readonly MAX_STRING_LENGTH: number };
  const buffer: {
    Buffer: IsletBufferConstructor;
    isUtf8: typeof isUtf8;
    isAscii: typeof isAscii;
    atob: typeof atob;
    btoa: typeof btoa;
    kMaxLength: number;
    constants: typeof constants;
  };
  export default buffer;
}

declare module "node:events" {
  interface EventEmitter extends IsletEventEmitter {}
  class EventEmitter {
    constructor(options?: { captureRejections?: boolean });
    static defaultMaxListeners: number;
    static captureRejections: boolean;
    static readonly errorMonitor: unique symbol;
    static readonly captureRejectionSymbol: unique symbol;
    static once(emitter: IsletEventEmitter | EventTarget, event: string | symbol, options?: { signal?: AbortSignal }): Promise<any[]>;
    static on(emitter: IsletEventEmitter | EventTarget, event: string | symbol, options?: { signal?: AbortSignal }): AsyncIterableIterator<any[]>;
    static listenerCount(emitter: IsletEventEmitter, event: string | symbol): number;
    static getEventListeners(emitter: IsletEventEmitter | EventTarget, event: string | symbol): ((...args: any[]) => void)[];
    static getMaxListeners(emitter: IsletEventEmitter | EventTarget): number;
    static setMaxListeners(n?: number, ...targets: (IsletEventEmitter | EventTarget)[]): void;
    static addAbortListener(signal: AbortSignal, listener: (event: Event) => void): object;
    static EventEmitter: typeof EventEmitter;
  }
  export const once: typeof EventEmitter.once;
  export const on: typeof EventEmitter.on;
  export const listenerCount: typeof EventEmitter.listenerCount;
  export const getEventListeners: typeof EventEmitter.getEventListeners;
  export const getMaxListeners: typeof EventEmitter.getMaxListeners;
  export const setMaxListeners: typeof EventEmitter.setMaxListeners;
  export const addAbortListener: typeof EventEmitter.addAbortListener;
  export const errorMonitor: typeof EventEmitter.errorMonitor;
  export const captureRejectionSymbol: typeof EventEmitter.captureRejectionSymbol;
  export let captureRejections: boolean;
  export let defaultMaxListeners: number;
  export { EventEmitter };
  export default EventEmitter;
}

declare module "node:util" {
  export interface InspectOptions {
    depth?: number | null;
    colors?: boolean;
    showHidden?: boolean;
    compact?: boolean | number;
    breakLength?: number;
    sorted?: boolean | ((a: string, b: string) => number);
    getters?: boolean | "get" | "set";
    maxArrayLength?: number | null;
    maxStringLength?: number | null;
    numericSeparator?: boolean;
    customInspect?: boolean;
    showProxy?: boolean;
  }
  export function format(format?: any, ...args: any[]): string;
  export function formatWithOptions(options: InspectOptions, format?: any, ...args: any[]): string;
  export const inspect: {
    (value: unknown, options?: InspectOptions): string;
    readonly custom: unique symbol;
    defaultOptions: InspectOptions;
  };
  export function promisify<T extends (...args: any[]) => void>(fn: T): (...args: any[]) => Promise<any>;
  export namespace promisify {
    const custom: unique symbol;
  }
  export function callbackify(fn: (...args: any[]) => Promise<any>): (...args: any[]) => void;
  export function inherits(constructor: unknown, superConstructor: unknown): void;
  export function deprecate<T extends (...args: any[]) => any>(fn: T, message: string, code?: string): T;
  export function debuglog(section: string): ((message: string, ...args: any[]) => void) & { enabled: boolean };
  export const debug: typeof debuglog;
  export function isDeepStrictEqual(a: unknown, b: unknown): boolean;
  export function isArray(value: unknown): value is unknown[];
  export function toUSVString(value: string): string;
  export function stripVTControlCharacters(value: string): string;
  export const TextEncoder: typeof globalThis.TextEncoder;
  export const TextDecoder: typeof globalThis.TextDecoder;
  export const types: typeof import("node:util/types");
  const util: {
    format: typeof format;
    inspect: typeof inspect;
    promisify: typeof promisify;
    callbackify: typeof callbackify;
    inherits: typeof inherits;
    deprecate: typeof deprecate;
    debuglog: typeof debuglog;
    isDeepStrictEqual: typeof isDeepStrictEqual;
    types: typeof types;
  };
  export default util;
}

declare module "node:util/types" {
  export function isDate(value: unknown): value is Date;
  export function isRegExp(value: unknown): value is RegExp;
  export function isMap(value: unknown): value is Map<unknown, unknown>;
  export function isSet(value: unknown): value is Set<unknown>;
  export function isWeakMap(value: unknown): value is WeakMap<object, unknown>;
  export function isWeakSet(value: unknown): value is WeakSet<object>;
  export function isPromise(value: unknown): value is Promise<unknown>;
  export function isNativeError(value: unknown): value is Error;
  export function isArrayBuffer(value: unknown): value is ArrayBuffer;
  export function isAnyArrayBuffer(value: unknown): value is ArrayBuffer;
  export function isArrayBufferView(value: unknown): value is ArrayBufferView;
  export function isTypedArray(value: unknown): value is ArrayBufferView;
  export function isUint8Array(value: unknown): value is Uint8Array;
  export function isDataView(value: unknown): value is DataView;
  export function isAsyncFunction(value: unknown): boolean;
  export function isGeneratorFunction(value: unknown): boolean;
  export function isGeneratorObject(value: unknown): boolean;
  export function isBoxedPrimitive(value: unknown): boolean;
  export function isModuleNamespaceObject(value: unknown): boolean;
  import * as self from "node:util/types";
  const _default: typeof self;
  export default _default;
}

declare module "node:path" {
  export interface ParsedPath {
    root: string;
    dir: string;
    base: string;
    ext: string;
    name: string;
  }
  export interface PlatformPath {
    resolve(...paths: string[]): string;
    normalize(path: string): string;
    isAbsolute(path: string): boolean;
    join(...paths: string[]): string;
    relative(from: string, to: string): string;
    dirname(path: string): string;
    basename(path: string, suffix?: string): string;
    extname(path: string): string;
    format(path: Partial<ParsedPath>): string;
    parse(path: string): ParsedPath;
    toNamespacedPath(path: string): string;
    readonly sep: "/";
    readonly delimiter: ":";
    readonly posix: PlatformPath;
  }
  const path: PlatformPath;
  export const resolve: PlatformPath["resolve"];
  export const normalize: PlatformPath["normalize"];
  export const isAbsolute: PlatformPath["isAbsolute"];
  export const join: PlatformPath["join"];
  export const relative: PlatformPath["relative"];
  export const dirname: PlatformPath["dirname"];
  export const basename: PlatformPath["basename"];
  export const extname: PlatformPath["extname"];
  export const format: PlatformPath["format"];
  export const parse: PlatformPath["parse"];
  export const toNamespacedPath: PlatformPath["toNamespacedPath"];
  export const sep: "/";
  export const delimiter: ":";
  export const posix: PlatformPath;
  export default path;
}

declare module "node:path/posix" {
  export * from "node:path";
  export { default } from "node:path";
}

declare module "node:url" {
  export const URL: typeof globalThis.URL;
  export type URL = globalThis.URL;
  export const URLSearchParams: typeof globalThis.URLSearchParams;
  export type URLSearchParams = globalThis.URLSearchParams;
  export function fileURLToPath(url: string | URL): string;
  export function pathToFileURL(path: string): URL;
  export function domainToASCII(domain: string): string;
  export function domainToUnicode(domain: string): string;
  export function format(url: URL, options?: { auth?: boolean; fragment?: boolean; search?: boolean; unicode?: boolean }): string;
  export function urlToHttpOptions(url: URL): { protocol: string; hostname: string; hash: string; search: string; pathname: string; path: string; href: string; port?: number; auth?: string };
  const url: {
    URL: typeof URL;
    URLSearchParams: typeof URLSearchParams;
    fileURLToPath: typeof fileURLToPath;
    pathToFileURL: typeof pathToFileURL;
    domainToASCII: typeof domainToASCII;
    domainToUnicode: typeof domainToUnicode;
    format: typeof format;
    urlToHttpOptions: typeof urlToHttpOptions;
  };
  export default url;
}

declare module "node:assert" {
  type AssertPredicate = RegExp | (new () => object) | ((thrown: unknown) => boolean) | object | Error;
  export class AssertionError extends Error {
    actual: unknown;
    expected: unknown;
    operator: string;
    generatedMessage: boolean;
    code: "ERR_ASSERTION";
    constructor(options: { message?: string; actual?: unknown; expected?: unknown; operator?: string; stackStartFn?: Function });
  }
  export interface Assert {
    (value: unknown, message?: string | Error): asserts value;
    AssertionError: typeof AssertionError;
    fail(message?: string | Error): never;
    ok(value: unknown, message?: string | Error): asserts value;
    equal(actual: unknown, expected: unknown, message?: string | Error): void;
    notEqual(actual: unknown, expected: unknown, message?: string | Error): void;
    deepEqual(actual: unknown, expected: unknown, message?: string | Error): void;
    notDeepEqual(actual: unknown, expected: unknown, message?: string | Error): void;
    strictEqual<T>(actual: unknown, expected: T, message?: string | Error): asserts actual is T;
    notStrictEqual(actual: unknown, expected: unknown, message?: string | Error): void;
    deepStrictEqual<T>(actual: unknown, expected: T, message?: string | Error): asserts actual is T;
    notDeepStrictEqual(actual: unknown, expected: unknown, message?: string | Error): void;
    throws(block: () => unknown, message?: string | Error): void;
    throws(block: () => unknown, error: AssertPredicate, message?: string | Error): void;
    doesNotThrow(block: () => unknown, message?: string | Error): void;
    doesNotThrow(block: () => unknown, error: AssertPredicate, message?: string | Error): void;
    rejects(block: (() => Promise<unknown>) | Promise<unknown>, message?: string | Error): Promise<void>;
    rejects(block: (() => Promise<unknown>) | Promise<unknown>, error: AssertPredicate, message?: string | Error): Promise<void>;
    doesNotReject(block: (() => Promise<unknown>) | Promise<unknown>, message?: string | Error): Promise<void>;
    doesNotReject(block: (() => Promise<unknown>) | Promise<unknown>, error: AssertPredicate, message?: string | Error): Promise<void>;
    ifError(value: unknown): asserts value is null | undefined;
    match(value: string, regExp: RegExp, message?: string | Error): void;
    doesNotMatch(value: string, regExp: RegExp, message?: string | Error): void;
    /** The same functions with strict (deep)equality: `equal` is `strictEqual`. */
    strict: Assert;
  }
  const assert: Assert;
  export const fail: Assert["fail"];
  export const ok: Assert["ok"];
  export const equal: Assert["equal"];
  export const notEqual: Assert["notEqual"];
  export const deepEqual: Assert["deepEqual"];
  export const notDeepEqual: Assert["notDeepEqual"];
  export const strictEqual: Assert["strictEqual"];
  export const notStrictEqual: Assert["notStrictEqual"];
  export const deepStrictEqual: Assert["deepStrictEqual"];
  export const notDeepStrictEqual: Assert["notDeepStrictEqual"];
  export const throws: Assert["throws"];
  export const doesNotThrow: Assert["doesNotThrow"];
  export const rejects: Assert["rejects"];
  export const doesNotReject: Assert["doesNotReject"];
  export const ifError: Assert["ifError"];
  export const match: Assert["match"];
  export const doesNotMatch: Assert["doesNotMatch"];
  export const strict: Assert;
  export default assert;
}

declare module "node:assert/strict" {
  export * from "node:assert";
  import { strict } from "node:assert";
  export default strict;
}

declare module "node:string_decoder" {
  export class StringDecoder {
    constructor(encoding?: IsletBufferEncoding);
    readonly encoding: IsletBufferEncoding;
    write(buffer: string | ArrayBufferView): string;
    end(buffer?: string | ArrayBufferView): string;
  }
  const stringDecoder: { StringDecoder: typeof StringDecoder };
  export default stringDecoder;
}

declare module "node:crypto" {
  type BinaryLike = string | ArrayBuffer | ArrayBufferView;
  type BinaryToTextEncoding = "hex" | "base64" | "base64url" | "latin1" | "binary";
  export interface Hash {
    update(data: BinaryLike, inputEncoding?: IsletBufferEncoding): Hash;
    digest(): IsletBuffer;
    digest(encoding: BinaryToTextEncoding): string;
    copy(): Hash;
  }
  export interface Hmac {
    update(data: BinaryLike, inputEncoding?: IsletBufferEncoding): Hmac;
    digest(): IsletBuffer;
    digest(encoding: BinaryToTextEncoding): string;
  }
  /** md5, sha1, sha224/256/384/512, sha512-224/256, sha3-*, ripemd160, blake2b512, blake2s256; hashed on the host, at most 16 MiB per digest. */
  export function createHash(algorithm: string, options?: { outputLength?: number }): Hash;
  export function createHmac(algorithm: string, key: BinaryLike): Hmac;
  export function hash(algorithm: string, data: BinaryLike, outputEncoding?: BinaryToTextEncoding | "buffer"): string;
  export function getHashes(): string[];
  export function randomBytes(size: number): IsletBuffer;
  export function randomBytes(size: number, callback: (error: Error | null, buffer: IsletBuffer) => void): void;
  export function randomFillSync<T extends ArrayBufferView>(buffer: T, offset?: number, size?: number): T;
  export function randomFill<T extends ArrayBufferView>(buffer: T, callback: (error: Error | null, buffer: T) => void): void;
  export function randomFill<T extends ArrayBufferView>(buffer: T, offset: number, callback: (error: Error | null, buffer: T) => void): void;
  export function randomFill<T extends ArrayBufferView>(buffer: T, offset: number, size: number, callback: (error: Error | null, buffer: T) => void): void;
  export function randomInt(max: number): number;
  export function randomInt(min: number, max: number): number;
  export function randomInt(max: number, callback: (error: Error | null, value: number) => void): void;
  export function randomInt(min: number, max: number, callback: (error: Error | null, value: number) => void): void;
  export function randomUUID(): `${string}-${string}-${string}-${string}-${string}`;
  export function timingSafeEqual(a: ArrayBufferView, b: ArrayBufferView): boolean;
  export function getRandomValues<T extends ArrayBufferView | null>(array: T): T;
  export const webcrypto: Crypto;
  export const subtle: SubtleCrypto;
  const crypto: {
    createHash: typeof createHash;
    createHmac: typeof createHmac;
    hash: typeof hash;
    getHashes: typeof getHashes;
    randomBytes: typeof randomBytes;
    randomFillSync: typeof randomFillSync;
    randomFill: typeof randomFill;
    randomInt: typeof randomInt;
    randomUUID: typeof randomUUID;
    timingSafeEqual: typeof timingSafeEqual;
    getRandomValues: typeof getRandomValues;
    webcrypto: Crypto;
    subtle: SubtleCrypto;
  };
  export default crypto;
}

declare module "node:process" {
  const process: IsletProcess;
  export const env: IsletProcess["env"];
  export const version: string;
  export const versions: Record<string, string>;
  export const platform: "linux";
  export const release: { name: string };
  export const argv: string[];
  export const execArgv: string[];
  export const cwd: IsletProcess["cwd"];
  export const nextTick: IsletProcess["nextTick"];
  export const emitWarning: IsletProcess["emitWarning"];
  export default process;
}

// Bare specifiers: a worker may import these without the node: prefix.
declare module "buffer" {
  export * from "node:buffer";
  export { default } from "node:buffer";
}
declare module "events" {
  export * from "node:events";
  export { default } from "node:events";
}
declare module "util" {
  export * from "node:util";
  export { default } from "node:util";
}
declare module "util/types" {
  export * from "node:util/types";
  export { default } from "node:util/types";
}
declare module "path" {
  export * from "node:path";
  export { default } from "node:path";
}
declare module "path/posix" {
  export * from "node:path";
  export { default } from "node:path";
}
declare module "url" {
  export * from "node:url";
  export { default } from "node:url";
}
declare module "assert" {
  export * from "node:assert";
  export { default } from "node:assert";
}
declare module "assert/strict" {
  export * from "node:assert/strict";
  export { default } from "node:assert/strict";
}
declare module "string_decoder" {
  export * from "node:string_decoder";
  export { default } from "node:string_decoder";
}
declare module "crypto" {
  export * from "node:crypto";
  export { default } from "node:crypto";
}
declare module "process" {
  export * from "node:process";
  export { default } from "node:process";
}

// ---- nodejs_compat: timers, querystring, os, diagnostics_channel, async_hooks --------------------

interface IsletTimeout {
  ref(): this;
  unref(): this;
  hasRef(): boolean;
  refresh(): this;
  close(): this;
  [Symbol.toPrimitive](): number;
}
interface IsletImmediate {
  ref(): this;
  unref(): this;
  hasRef(): boolean;
}

declare module "node:timers" {
  export function setTimeout<A extends any[]>(callback: (...args: A) => void, delay?: number, ...args: A): IsletTimeout;
  export function setInterval<A extends any[]>(callback: (...args: A) => void, delay?: number, ...args: A): IsletTimeout;
  export function setImmediate<A extends any[]>(callback: (...args: A) => void, ...args: A): IsletImmediate;
  export function clearTimeout(timer: IsletTimeout | number | string | undefined | null): void;
  export function clearInterval(timer: IsletTimeout | number | string | undefined | null): void;
  export function clearImmediate(immediate: IsletImmediate | undefined | null): void;
  export const promises: typeof import("node:timers/promises");
  import * as self from "node:timers";
  const _default: typeof self;
  export default _default;
}

declare module "node:timers/promises" {
  export function setTimeout<T = void>(delay?: number, value?: T, options?: { signal?: AbortSignal; ref?: boolean }): Promise<T>;
  export function setImmediate<T = void>(value?: T, options?: { signal?: AbortSignal; ref?: boolean }): Promise<T>;
  export function setInterval<T = void>(delay?: number, value?: T, options?: { signal?: AbortSignal; ref?: boolean }): AsyncIterableIterator<T>;
  export const scheduler: { wait(delay: number, options?: { signal?: AbortSignal }): Promise<void>; yield(): Promise<void> };
  import * as self from "node:timers/promises";
  const _default: typeof self;
  export default _default;
}

declare module "node:querystring" {
  export type ParsedUrlQuery = Record<string, string | string[]>;
  export type ParsedUrlQueryInput = Record<string, string | number | boolean | bigint | readonly (string | number | boolean | bigint)[] | null | undefined>;
  export function stringify(obj?: ParsedUrlQueryInput, sep?: string, eq?: string, options?: { encodeURIComponent?: (s: string) => string }): string;
  export function parse(str: string, sep?: string, eq?: string, options?: { maxKeys?: number; decodeURIComponent?: (s: string) => string }): ParsedUrlQuery;
  export const encode: typeof stringify;
  export const decode: typeof parse;
  export function escape(str: string): string;
  export function unescape(str: string): string;
  export function unescapeBuffer(str: string, decodeSpaces?: boolean): IsletBuffer;
  import * as self from "node:querystring";
  const _default: typeof self;
  export default _default;
}

declare module "node:os" {
  // Fixed values that say nothing about the host (README's node module table).
  export function arch(): string;
  export function availableParallelism(): number;
  export function cpus(): { model: string; speed: number; times: { user: number; nice: number; sys: number; idle: number; irq: number } }[];
  export function endianness(): "BE" | "LE";
  export function freemem(): number;
  export function getPriority(pid?: number): number;
  export function homedir(): string;
  export function hostname(): string;
  export function loadavg(): number[];
  export function networkInterfaces(): Record<string, unknown[]>;
  export function platform(): string;
  export function release(): string;
  export function setPriority(pid: number, priority?: number): void;
  export function tmpdir(): string;
  export function totalmem(): number;
  export function type(): string;
  export function userInfo(): Record<string, unknown>;
  export function uptime(): number;
  export function version(): string;
  export function machine(): string;
  export const constants: { readonly UV_UDP_REUSEADDR: number; readonly dlopen: Readonly<Record<string, number>>; readonly errno: Readonly<Record<string, number>>; readonly signals: Readonly<Record<string, number>>; readonly priority: Readonly<Record<string, number>> };
  export const EOL: string;
  export const devNull: string;
  import * as self from "node:os";
  const _default: typeof self;
  export default _default;
}

declare module "node:diagnostics_channel" {
  export type ChannelListener = (message: unknown, name: string | symbol) => void;
  export class Channel {
    readonly name: string | symbol;
    readonly hasSubscribers: boolean;
    publish(message: unknown): void;
    subscribe(listener: ChannelListener): void;
    unsubscribe(listener: ChannelListener): boolean;
    bindStore(store: unknown, transform?: (message: unknown) => unknown): void;
    unbindStore(store: unknown): boolean;
    runStores<R>(message: unknown, fn: (...args: any[]) => R, thisArg?: unknown, ...args: any[]): R;
  }
  export interface TracingChannelSubscribers {
    start?: (message: any) => void;
    end?: (message: any) => void;
    asyncStart?: (message: any) => void;
    asyncEnd?: (message: any) => void;
    error?: (message: any) => void;
  }
  export interface TracingChannel {
    readonly start: Channel;
    readonly end: Channel;
    readonly asyncStart: Channel;
    readonly asyncEnd: Channel;
    readonly error: Channel;
    readonly hasSubscribers: boolean;
    subscribe(subscribers: TracingChannelSubscribers): void;
    unsubscribe(subscribers: TracingChannelSubscribers): boolean;
    traceSync<R>(fn: (...args: any[]) => R, context?: object, thisArg?: unknown, ...args: any[]): R;
    tracePromise<R>(fn: (...args: any[]) => Promise<R>, context?: object, thisArg?: unknown, ...args: any[]): Promise<R>;
    traceCallback(fn: (...args: any[]) => unknown, position?: number, context?: object, thisArg?: unknown, ...args: any[]): unknown;
  }
  export function channel(name: string | symbol): Channel;
  export function hasSubscribers(name: string | symbol): boolean;
  export function subscribe(name: string | symbol, listener: ChannelListener): void;
  export function unsubscribe(name: string | symbol, listener: ChannelListener): boolean;
  export function tracingChannel(nameOrChannels: string | { start: Channel; end: Channel; asyncStart: Channel; asyncEnd: Channel; error: Channel }): TracingChannel;
  import * as self from "node:diagnostics_channel";
  const _default: typeof self;
  export default _default;
}

declare module "node:async_hooks" {
  // AsyncLocalStorage follows await only in a worker whose code names node:async_hooks (README).
  export class AsyncLocalStorage<T> {
    constructor(options?: { defaultValue?: T; name?: string });
    static bind<F extends (...args: any[]) => any>(fn: F): F;
    static snapshot(): <R, A extends any[]>(fn: (...args: A) => R, ...args: A) => R;
    readonly name: string;
    getStore(): T | undefined;
    run<R, A extends any[]>(store: T, callback: (...args: A) => R, ...args: A): R;
    exit<R, A extends any[]>(callback: (...args: A) => R, ...args: A): R;
    enterWith(store: T): void;
    disable(): void;
  }
  export class AsyncResource {
    constructor(type: string, options?: { triggerAsyncId?: number; requireManualDestroy?: boolean });
    static bind<F extends (...args: any[]) => any>(fn: F, type?: string, thisArg?: unknown): F;
    bind<F extends (...args: any[]) => any>(fn: F): F;
    runInAsyncScope<R, A extends any[]>(fn: (...args: A) => R, thisArg?: unknown, ...args: A): R;
    emitDestroy(): this;
    asyncId(): number;
    triggerAsyncId(): number;
  }
  export function createHook(callbacks: object): { enable(): unknown; disable(): unknown };
  export function executionAsyncId(): number;
  export function triggerAsyncId(): number;
  export function executionAsyncResource(): object;
  export const asyncWrapProviders: Readonly<Record<string, number>>;
  import * as self from "node:async_hooks";
  const _default: typeof self;
  export default _default;
}

declare module "timers" {
  export * from "node:timers";
  export { default } from "node:timers";
}
declare module "timers/promises" {
  export * from "node:timers/promises";
  export { default } from "node:timers/promises";
}
declare module "querystring" {
  export * from "node:querystring";
  export { default } from "node:querystring";
}
declare module "os" {
  export * from "node:os";
  export { default } from "node:os";
}
declare module "diagnostics_channel" {
  export * from "node:diagnostics_channel";
  export { default } from "node:diagnostics_channel";
}
declare module "async_hooks" {
  export * from "node:async_hooks";
  export { default } from "node:async_hooks";
}

// ---- nodejs_compat: the long tail (src/runtime/node/stubs.ts) -----------------------------------
// Every other module workerd serves imports, with workerd's export names. What islet does not
// implement is typed IsletNotImplemented: calling it (or constructing, for a class) throws an Error
// whose code is ERR_METHOD_NOT_IMPLEMENTED. The real parts carry real signatures.

/** A Node API islet does not implement: calling it throws an Error with code ERR_METHOD_NOT_IMPLEMENTED. */
type IsletNotImplemented = (...args: any[]) => never;
/** A Node class islet does not implement: it can be extended, constructing it throws ERR_METHOD_NOT_IMPLEMENTED. */
declare class IsletNotImplementedClass {
  constructor(...args: any[]);
  [key: string]: any;
}
/** fs.Stats of the in-memory file system: sizes and kinds are real, owners 0, timestamps the epoch. */
interface IsletStats {
  dev: number; mode: number; nlink: number; uid: number; gid: number; rdev: number; blksize: number; ino: number; size: number; blocks: number;
  atimeMs: number; mtimeMs: number; ctimeMs: number; birthtimeMs: number; readonly atime: Date; readonly mtime: Date; readonly ctime: Date; readonly birthtime: Date;
  isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean; isBlockDevice(): boolean; isCharacterDevice(): boolean; isFIFO(): boolean; isSocket(): boolean;
}

declare module "node:child_process" {
  export const _forkChild: IsletNotImplemented;
  export const exec: IsletNotImplemented;
  export const execFile: IsletNotImplemented;
  export const execFileSync: IsletNotImplemented;
  export const execSync: IsletNotImplemented;
  export const fork: IsletNotImplemented;
  export const spawn: IsletNotImplemented;
  export const spawnSync: IsletNotImplemented;
  export const ChildProcess: typeof IsletNotImplementedClass;
  import * as self from "node:child_process";
  const _default: typeof self;
  export default _default;
}
declare module "node:cluster" {
  export const disconnect: IsletNotImplemented;
  export const fork: IsletNotImplemented;
  export const setupMaster: IsletNotImplemented;
  export const setupPrimary: IsletNotImplemented;
  export const Cluster: typeof IsletNotImplementedClass;
  export const Worker: typeof IsletNotImplementedClass;
  export const SCHED_NONE: number;
  export const SCHED_RR: number;
  export const isMaster: true;
  export const isPrimary: true;
  export const isWorker: false;
  export const schedulingPolicy: number;
  export const settings: any;
  export const workers: any;
  import * as self from "node:cluster";
  const _default: typeof self;
  export default _default;
}
declare module "node:console" {
  export const assert: Console["assert"];
  export const clear: Console["clear"];
  export const context: IsletNotImplemented;
  export const count: Console["count"];
  export const countReset: Console["countReset"];
  export const createTask: IsletNotImplemented;
  export const debug: Console["debug"];
  export const dir: Console["dir"];
  export const dirxml: Console["dirxml"];
  export const error: Console["error"];
  export const group: Console["group"];
  export const groupCollapsed: Console["groupCollapsed"];
  export const groupEnd: Console["groupEnd"];
  export const info: Console["info"];
  export const log: Console["log"];
  export const profile: IsletNotImplemented;
  export const profileEnd: IsletNotImplemented;
  export const table: Console["table"];
  export const time: Console["time"];
  export const timeEnd: Console["timeEnd"];
  export const timeLog: Console["timeLog"];
  export const timeStamp: Console["timeStamp"];
  export const trace: Console["trace"];
  export const warn: Console["warn"];
  export const Console: typeof IsletNotImplementedClass;
  import * as self from "node:console";
  const _default: typeof self;
  export default _default;
}
declare module "node:constants" {
  export const RTLD_LAZY: number;
  export const RTLD_NOW: number;
  export const RTLD_GLOBAL: number;
  export const RTLD_LOCAL: number;
  export const RTLD_DEEPBIND: number;
  export const E2BIG: number;
  export const EACCES: number;
  export const EADDRINUSE: number;
  export const EADDRNOTAVAIL: number;
  export const EAFNOSUPPORT: number;
  export const EAGAIN: number;
  export const EALREADY: number;
  export const EBADF: number;
  export const EBADMSG: number;
  export const EBUSY: number;
  export const ECANCELED: number;
  export const ECHILD: number;
  export const ECONNABORTED: number;
  export const ECONNREFUSED: number;
  export const ECONNRESET: number;
  export const EDEADLK: number;
  export const EDESTADDRREQ: number;
  export const EDOM: number;
  export const EDQUOT: number;
  export const EEXIST: number;
  export const EFAULT: number;
  export const EFBIG: number;
  export const EHOSTUNREACH: number;
  export const EIDRM: number;
  export const EILSEQ: number;
  export const EINPROGRESS: number;
  export const EINTR: number;
  export const EINVAL: number;
  export const EIO: number;
  export const EISCONN: number;
  export const EISDIR: number;
  export const ELOOP: number;
  export const EMFILE: number;
  export const EMLINK: number;
  export const EMSGSIZE: number;
  export const EMULTIHOP: number;
  export const ENAMETOOLONG: number;
  export const ENETDOWN: number;
  export const ENETRESET: number;
  export const ENETUNREACH: number;
  export const ENFILE: number;
  export const ENOBUFS: number;
  export const ENODATA: number;
  export const ENODEV: number;
  export const ENOENT: number;
  export const ENOEXEC: number;
  export const ENOLCK: number;
  export const ENOLINK: number;
  export const ENOMEM: number;
  export const ENOMSG: number;
  export const ENOPROTOOPT: number;
  export const ENOSPC: number;
  export const ENOSR: number;
  export const ENOSTR: number;
  export const ENOSYS: number;
  export const ENOTCONN: number;
  export const ENOTDIR: number;
  export const ENOTEMPTY: number;
  export const ENOTSOCK: number;
  export const ENOTSUP: number;
  export const ENOTTY: number;
  export const ENXIO: number;
  export const EOPNOTSUPP: number;
  export const EOVERFLOW: number;
  export const EPERM: number;
  export const EPIPE: number;
  export const EPROTO: number;
  export const EPROTONOSUPPORT: number;
  export const EPROTOTYPE: number;
  export const ERANGE: number;
  export const EROFS: number;
  export const ESPIPE: number;
  export const ESRCH: number;
  export const ESTALE: number;
  export const ETIME: number;
  export const ETIMEDOUT: number;
  export const ETXTBSY: number;
  export const EWOULDBLOCK: number;
  export const EXDEV: number;
  export const PRIORITY_LOW: number;
  export const PRIORITY_BELOW_NORMAL: number;
  export const PRIORITY_NORMAL: number;
  export const PRIORITY_ABOVE_NORMAL: number;
  export const PRIORITY_HIGH: number;
  export const PRIORITY_HIGHEST: number;
  export const SIGHUP: number;
  export const SIGINT: number;
  export const SIGQUIT: number;
  export const SIGILL: number;
  export const SIGTRAP: number;
  export const SIGABRT: number;
  export const SIGIOT: number;
  export const SIGBUS: number;
  export const SIGFPE: number;
  export const SIGKILL: number;
  export const SIGUSR1: number;
  export const SIGSEGV: number;
  export const SIGUSR2: number;
  export const SIGPIPE: number;
  export const SIGALRM: number;
  export const SIGTERM: number;
  export const SIGCHLD: number;
  export const SIGCONT: number;
  export const SIGSTOP: number;
  export const SIGTSTP: number;
  export const SIGTTIN: number;
  export const SIGTTOU: number;
  export const SIGURG: number;
  export const SIGXCPU: number;
  export const SIGXFSZ: number;
  export const SIGVTALRM: number;
  export const SIGPROF: number;
  export const SIGWINCH: number;
  export const SIGIO: number;
  export const SIGINFO: number;
  export const SIGSYS: number;
  export const SIGPOLL: number;
  export const SIGPWR: number;
  export const SIGSTKFLT: number;
  export const UV_FS_SYMLINK_DIR: number;
  export const UV_FS_SYMLINK_JUNCTION: number;
  export const O_RDONLY: number;
  export const O_WRONLY: number;
  export const O_RDWR: number;
  export const UV_DIRENT_UNKNOWN: number;
  export const UV_DIRENT_FILE: number;
  export const UV_DIRENT_DIR: number;
  export const UV_DIRENT_LINK: number;
  export const UV_DIRENT_FIFO: number;
  export const UV_DIRENT_SOCKET: number;
  export const UV_DIRENT_CHAR: number;
  export const UV_DIRENT_BLOCK: number;
  export const S_IFMT: number;
  export const S_IFREG: number;
  export const S_IFDIR: number;
  export const S_IFCHR: number;
  export const S_IFBLK: number;
  export const S_IFIFO: number;
  export const S_IFLNK: number;
  export const S_IFSOCK: number;
  export const O_CREAT: number;
  export const O_EXCL: number;
  export const UV_FS_O_FILEMAP: number;
  export const O_NOCTTY: number;
  export const O_TRUNC: number;
  export const O_APPEND: number;
  export const O_DIRECTORY: number;
  export const O_NOFOLLOW: number;
  export const O_SYNC: number;
  export const O_DSYNC: number;
  export const O_SYMLINK: number;
  export const O_NONBLOCK: number;
  export const O_DIRECT: number;
  export const O_NOATIME: number;
  export const S_IRWXU: number;
  export const S_IRUSR: number;
  export const S_IWUSR: number;
  export const S_IXUSR: number;
  export const S_IRWXG: number;
  export const S_IRGRP: number;
  export const S_IWGRP: number;
  export const S_IXGRP: number;
  export const S_IRWXO: number;
  export const S_IROTH: number;
  export const S_IWOTH: number;
  export const S_IXOTH: number;
  export const F_OK: number;
  export const R_OK: number;
  export const W_OK: number;
  export const X_OK: number;
  export const UV_FS_COPYFILE_EXCL: number;
  export const COPYFILE_EXCL: number;
  export const UV_FS_COPYFILE_FICLONE: number;
  export const COPYFILE_FICLONE: number;
  export const UV_FS_COPYFILE_FICLONE_FORCE: number;
  export const COPYFILE_FICLONE_FORCE: number;
  export const OPENSSL_VERSION_NUMBER: number;
  export const SSL_OP_ALL: number;
  export const SSL_OP_ALLOW_NO_DHE_KEX: number;
  export const SSL_OP_ALLOW_UNSAFE_LEGACY_RENEGOTIATION: number;
  export const SSL_OP_CIPHER_SERVER_PREFERENCE: number;
  export const SSL_OP_CISCO_ANYCONNECT: number;
  export const SSL_OP_COOKIE_EXCHANGE: number;
  export const SSL_OP_CRYPTOPRO_TLSEXT_BUG: number;
  export const SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS: number;
  export const SSL_OP_LEGACY_SERVER_CONNECT: number;
  export const SSL_OP_NO_COMPRESSION: number;
  export const SSL_OP_NO_ENCRYPT_THEN_MAC: number;
  export const SSL_OP_NO_QUERY_MTU: number;
  export const SSL_OP_NO_RENEGOTIATION: number;
  export const SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION: number;
  export const SSL_OP_NO_SSLv2: number;
  export const SSL_OP_NO_SSLv3: number;
  export const SSL_OP_NO_TICKET: number;
  export const SSL_OP_NO_TLSv1: number;
  export const SSL_OP_NO_TLSv1_1: number;
  export const SSL_OP_NO_TLSv1_2: number;
  export const SSL_OP_NO_TLSv1_3: number;
  export const SSL_OP_PRIORITIZE_CHACHA: number;
  export const SSL_OP_TLS_ROLLBACK_BUG: number;
  export const ENGINE_METHOD_RSA: number;
  export const ENGINE_METHOD_DSA: number;
  export const ENGINE_METHOD_DH: number;
  export const ENGINE_METHOD_RAND: number;
  export const ENGINE_METHOD_EC: number;
  export const ENGINE_METHOD_CIPHERS: number;
  export const ENGINE_METHOD_DIGESTS: number;
  export const ENGINE_METHOD_PKEY_METHS: number;
  export const ENGINE_METHOD_PKEY_ASN1_METHS: number;
  export const ENGINE_METHOD_ALL: number;
  export const ENGINE_METHOD_NONE: number;
  export const DH_CHECK_P_NOT_SAFE_PRIME: number;
  export const DH_CHECK_P_NOT_PRIME: number;
  export const DH_UNABLE_TO_CHECK_GENERATOR: number;
  export const DH_NOT_SUITABLE_GENERATOR: number;
  export const RSA_PKCS1_PADDING: number;
  export const RSA_NO_PADDING: number;
  export const RSA_PKCS1_OAEP_PADDING: number;
  export const RSA_X931_PADDING: number;
  export const RSA_PKCS1_PSS_PADDING: number;
  export const RSA_PSS_SALTLEN_DIGEST: number;
  export const RSA_PSS_SALTLEN_MAX_SIGN: number;
  export const RSA_PSS_SALTLEN_AUTO: number;
  export const defaultCoreCipherList: string;
  export const defaultCipherList: string;
  export const EXTENSIONLESS_FORMAT_JAVASCRIPT: number;
  export const EXTENSIONLESS_FORMAT_WASM: number;
  export const TLS1_VERSION: number;
  export const TLS1_1_VERSION: number;
  export const TLS1_2_VERSION: number;
  export const TLS1_3_VERSION: number;
  export const POINT_CONVERSION_COMPRESSED: number;
  export const POINT_CONVERSION_UNCOMPRESSED: number;
  export const POINT_CONVERSION_HYBRID: number;
  import * as self from "node:constants";
  const _default: typeof self;
  export default _default;
}
declare module "node:dgram" {
  export const createSocket: IsletNotImplemented;
  export const Socket: typeof IsletNotImplementedClass;
  import * as self from "node:dgram";
  const _default: typeof self;
  export default _default;
}
declare module "node:dns" {
  export const getDefaultResultOrder: IsletNotImplemented;
  export const getServers: IsletNotImplemented;
  export const lookup: IsletNotImplemented;
  export const lookupService: IsletNotImplemented;
  export const resolve: IsletNotImplemented;
  export const resolve4: IsletNotImplemented;
  export const resolve6: IsletNotImplemented;
  export const resolveAny: IsletNotImplemented;
  export const resolveCaa: IsletNotImplemented;
  export const resolveCname: IsletNotImplemented;
  export const resolveMx: IsletNotImplemented;
  export const resolveNaptr: IsletNotImplemented;
  export const resolveNs: IsletNotImplemented;
  export const resolvePtr: IsletNotImplemented;
  export const resolveSoa: IsletNotImplemented;
  export const resolveSrv: IsletNotImplemented;
  export const resolveTxt: IsletNotImplemented;
  export const reverse: IsletNotImplemented;
  export const setDefaultResultOrder: IsletNotImplemented;
  export const setServers: IsletNotImplemented;
  export const Resolver: typeof IsletNotImplementedClass;
  export const ADDRCONFIG: number;
  export const ADDRGETNETWORKPARAMS: string;
  export const ALL: number;
  export const BADFAMILY: string;
  export const BADFLAGS: string;
  export const BADHINTS: string;
  export const BADNAME: string;
  export const BADQUERY: string;
  export const BADRESP: string;
  export const BADSTR: string;
  export const CANCELLED: string;
  export const CONNREFUSED: string;
  export const DESTRUCTION: string;
  export const EOF: string;
  export const FILE: string;
  export const FORMERR: string;
  export const LOADIPHLPAPI: string;
  export const NODATA: string;
  export const NOMEM: string;
  export const NONAME: string;
  export const NOTFOUND: string;
  export const NOTIMP: string;
  export const NOTINITIALIZED: string;
  export const REFUSED: string;
  export const SERVFAIL: string;
  export const TIMEOUT: string;
  export const V4MAPPED: number;
  export const promises: typeof import("node:dns/promises");
  import * as self from "node:dns";
  const _default: typeof self;
  export default _default;
}
declare module "node:dns/promises" {
  export const getDefaultResultOrder: IsletNotImplemented;
  export const getServers: IsletNotImplemented;
  export const lookup: IsletNotImplemented;
  export const lookupService: IsletNotImplemented;
  export const resolve: IsletNotImplemented;
  export const resolve4: IsletNotImplemented;
  export const resolve6: IsletNotImplemented;
  export const resolveAny: IsletNotImplemented;
  export const resolveCaa: IsletNotImplemented;
  export const resolveCname: IsletNotImplemented;
  export const resolveMx: IsletNotImplemented;
  export const resolveNaptr: IsletNotImplemented;
  export const resolveNs: IsletNotImplemented;
  export const resolvePtr: IsletNotImplemented;
  export const resolveSoa: IsletNotImplemented;
  export const resolveSrv: IsletNotImplemented;
  export const resolveTxt: IsletNotImplemented;
  export const reverse: IsletNotImplemented;
  export const setDefaultResultOrder: IsletNotImplemented;
  export const setServers: IsletNotImplemented;
  export const Resolver: typeof IsletNotImplementedClass;
  export const ADDRCONFIG: number;
  export const ADDRGETNETWORKPARAMS: string;
  export const ALL: number;
  export const BADFAMILY: string;
  export const BADFLAGS: string;
  export const BADHINTS: string;
  export const BADNAME: string;
  export const BADQUERY: string;
  export const BADRESP: string;
  export const BADSTR: string;
  export const CANCELLED: string;
  export const CONNREFUSED: string;
  export const DESTRUCTION: string;
  export const EOF: string;
  export const FILE: string;
  export const FORMERR: string;
  export const LOADIPHLPAPI: string;
  export const NODATA: string;
  export const NOMEM: string;
  export const NONAME: string;
  export const NOTFOUND: string;
  export const NOTIMP: string;
  export const NOTINITIALIZED: string;
  export const REFUSED: string;
  export const SERVFAIL: string;
  export const TIMEOUT: string;
  export const V4MAPPED: number;
  import * as self from "node:dns/promises";
  const _default: typeof self;
  export default _default;
}
declare module "node:domain" {
  export const create: IsletNotImplemented;
  export const createDomain: IsletNotImplemented;
  export const Domain: typeof IsletNotImplementedClass;
  export const active: null;
  import * as self from "node:domain";
  const _default: typeof self;
  export default _default;
}
declare module "node:fs" {
  // The in-memory file system: /tmp writable, /bundle and /dev read-only; the basics below are real, the rest throws ERR_METHOD_NOT_IMPLEMENTED.
  export function access(path: string | Uint8Array | URL, ...rest: [callback: (error: Error | null) => void] | [mode: number, callback: (error: Error | null) => void]): void;
  export function accessSync(path: string | Uint8Array | URL, mode?: number): void;
  export function appendFile(path: string | Uint8Array | URL, data: string | ArrayBufferView, ...rest: [callback: (error: Error | null) => void] | [options: IsletBufferEncoding | { encoding?: IsletBufferEncoding }, callback: (error: Error | null) => void]): void;
  export function appendFileSync(path: string | Uint8Array | URL, data: string | ArrayBufferView, options?: IsletBufferEncoding | { encoding?: IsletBufferEncoding }): void;
  export const chmod: IsletNotImplemented;
  export const chmodSync: IsletNotImplemented;
  export const chown: IsletNotImplemented;
  export const chownSync: IsletNotImplemented;
  export const close: IsletNotImplemented;
  export const closeSync: IsletNotImplemented;
  export const copyFile: IsletNotImplemented;
  export const copyFileSync: IsletNotImplemented;
  export const cp: IsletNotImplemented;
  export const cpSync: IsletNotImplemented;
  export const createReadStream: IsletNotImplemented;
  export const createWriteStream: IsletNotImplemented;
  export function exists(path: string | Uint8Array | URL, callback: (exists: boolean) => void): void;
  export function existsSync(path: string | Uint8Array | URL): boolean;
  export const fchmod: IsletNotImplemented;
  export const fchmodSync: IsletNotImplemented;
  export const fchown: IsletNotImplemented;
  export const fchownSync: IsletNotImplemented;
  export const fdatasync: IsletNotImplemented;
  export const fdatasyncSync: IsletNotImplemented;
  export const fstat: IsletNotImplemented;
  export const fstatSync: IsletNotImplemented;
  export const fsync: IsletNotImplemented;
  export const fsyncSync: IsletNotImplemented;
  export const ftruncate: IsletNotImplemented;
  export const ftruncateSync: IsletNotImplemented;
  export const futimes: IsletNotImplemented;
  export const futimesSync: IsletNotImplemented;
  export const glob: IsletNotImplemented;
  export const globSync: IsletNotImplemented;
  export const lchmod: IsletNotImplemented;
  export const lchmodSync: IsletNotImplemented;
  export const lchown: IsletNotImplemented;
  export const lchownSync: IsletNotImplemented;
  export const link: IsletNotImplemented;
  export const linkSync: IsletNotImplemented;
  export const lstat: typeof stat;
  export const lstatSync: typeof statSync;
  export const lutimes: IsletNotImplemented;
  export const lutimesSync: IsletNotImplemented;
  export function mkdir(path: string | Uint8Array | URL, ...rest: [callback: (error: Error | null, path?: string) => void] | [options: { recursive?: boolean }, callback: (error: Error | null, path?: string) => void]): void;
  export function mkdirSync(path: string | Uint8Array | URL, options?: { recursive?: boolean; mode?: number }): string | undefined;
  export const mkdtemp: IsletNotImplemented;
  export const mkdtempSync: IsletNotImplemented;
  export const open: IsletNotImplemented;
  export const openAsBlob: IsletNotImplemented;
  export const openSync: IsletNotImplemented;
  export const opendir: IsletNotImplemented;
  export const opendirSync: IsletNotImplemented;
  export const read: IsletNotImplemented;
  export function readFile(path: string | Uint8Array | URL, options: IsletBufferEncoding | { encoding: IsletBufferEncoding }, callback: (error: Error | null, data: string) => void): void;
  export function readFile(path: string | Uint8Array | URL, callback: (error: Error | null, data: IsletBuffer) => void): void;
  export function readFileSync(path: string | Uint8Array | URL, options: IsletBufferEncoding | { encoding: IsletBufferEncoding; flag?: string }): string;
  export function readFileSync(path: string | Uint8Array | URL, options?: { encoding?: null; flag?: string } | null): IsletBuffer;
  export const readSync: IsletNotImplemented;
  export function readdir(path: string | Uint8Array | URL, callback: (error: Error | null, files: string[]) => void): void;
  export function readdirSync(path: string | Uint8Array | URL, options?: IsletBufferEncoding | { encoding?: IsletBufferEncoding }): string[];
  export const readlink: IsletNotImplemented;
  export const readlinkSync: IsletNotImplemented;
  export const readv: IsletNotImplemented;
  export const readvSync: IsletNotImplemented;
  export const realpath: IsletNotImplemented;
  export const realpathSync: IsletNotImplemented;
  export const rename: IsletNotImplemented;
  export const renameSync: IsletNotImplemented;
  export function rm(path: string | Uint8Array | URL, ...rest: [callback: (error: Error | null) => void] | [options: { recursive?: boolean; force?: boolean }, callback: (error: Error | null) => void]): void;
  export function rmSync(path: string | Uint8Array | URL, options?: { recursive?: boolean; force?: boolean }): void;
  export function rmdir(path: string | Uint8Array | URL, callback: (error: Error | null) => void): void;
  export function rmdirSync(path: string | Uint8Array | URL, options?: { recursive?: boolean }): void;
  export function stat(path: string | Uint8Array | URL, callback: (error: Error | null, stats: IsletStats) => void): void;
  export function statSync(path: string | Uint8Array | URL, options?: { throwIfNoEntry?: true }): IsletStats;
  export function statSync(path: string | Uint8Array | URL, options: { throwIfNoEntry: false }): IsletStats | undefined;
  export const statfs: IsletNotImplemented;
  export const statfsSync: IsletNotImplemented;
  export const symlink: IsletNotImplemented;
  export const symlinkSync: IsletNotImplemented;
  export const truncate: IsletNotImplemented;
  export const truncateSync: IsletNotImplemented;
  export function unlink(path: string | Uint8Array | URL, callback: (error: Error | null) => void): void;
  export function unlinkSync(path: string | Uint8Array | URL): void;
  export const unwatchFile: IsletNotImplemented;
  export const utimes: IsletNotImplemented;
  export const utimesSync: IsletNotImplemented;
  export const watch: IsletNotImplemented;
  export const watchFile: IsletNotImplemented;
  export const write: IsletNotImplemented;
  export function writeFile(path: string | Uint8Array | URL, data: string | ArrayBufferView, ...rest: [callback: (error: Error | null) => void] | [options: IsletBufferEncoding | { encoding?: IsletBufferEncoding; flag?: string }, callback: (error: Error | null) => void]): void;
  export function writeFileSync(path: string | Uint8Array | URL, data: string | ArrayBufferView, options?: IsletBufferEncoding | { encoding?: IsletBufferEncoding; flag?: "w" | "wx" | "a" | "ax" }): void;
  export const writeSync: IsletNotImplemented;
  export const writev: IsletNotImplemented;
  export const writevSync: IsletNotImplemented;
  export const Dir: typeof IsletNotImplementedClass;
  export const Dirent: typeof IsletNotImplementedClass;
  export const FileReadStream: typeof IsletNotImplementedClass;
  export const FileWriteStream: typeof IsletNotImplementedClass;
  export const ReadStream: typeof IsletNotImplementedClass;
  export const Stats: { new (): IsletStats; prototype: IsletStats };
  export type Stats = IsletStats;
  export const WriteStream: typeof IsletNotImplementedClass;
  export const F_OK: number;
  export const R_OK: number;
  export const W_OK: number;
  export const X_OK: number;
  export const constants: Readonly<Record<string, number>>;
  export const promises: typeof import("node:fs/promises");
  import * as self from "node:fs";
  const _default: typeof self;
  export default _default;
}
declare module "node:fs/promises" {
  export function access(path: string | Uint8Array | URL, mode?: number): Promise<void>;
  export function appendFile(path: string | Uint8Array | URL, data: string | ArrayBufferView, options?: IsletBufferEncoding | { encoding?: IsletBufferEncoding }): Promise<void>;
  export const chmod: IsletNotImplemented;
  export const chown: IsletNotImplemented;
  export const copyFile: IsletNotImplemented;
  export const cp: IsletNotImplemented;
  export const glob: IsletNotImplemented;
  export const lchmod: IsletNotImplemented;
  export const lchown: IsletNotImplemented;
  export const link: IsletNotImplemented;
  export function lstat(path: string | Uint8Array | URL): Promise<IsletStats>;
  export const lutimes: IsletNotImplemented;
  export function mkdir(path: string | Uint8Array | URL, options?: { recursive?: boolean }): Promise<string | undefined>;
  export const mkdtemp: IsletNotImplemented;
  export const open: IsletNotImplemented;
  export const opendir: IsletNotImplemented;
  export function readFile(path: string | Uint8Array | URL, options: IsletBufferEncoding | { encoding: IsletBufferEncoding }): Promise<string>;
  export function readFile(path: string | Uint8Array | URL, options?: { encoding?: null } | null): Promise<IsletBuffer>;
  export function readdir(path: string | Uint8Array | URL): Promise<string[]>;
  export const readlink: IsletNotImplemented;
  export const realpath: IsletNotImplemented;
  export const rename: IsletNotImplemented;
  export function rm(path: string | Uint8Array | URL, options?: { recursive?: boolean; force?: boolean }): Promise<void>;
  export function rmdir(path: string | Uint8Array | URL): Promise<void>;
  export function stat(path: string | Uint8Array | URL): Promise<IsletStats>;
  export const statfs: IsletNotImplemented;
  export const symlink: IsletNotImplemented;
  export const truncate: IsletNotImplemented;
  export function unlink(path: string | Uint8Array | URL): Promise<void>;
  export const utimes: IsletNotImplemented;
  export const watch: IsletNotImplemented;
  export function writeFile(path: string | Uint8Array | URL, data: string | ArrayBufferView, options?: IsletBufferEncoding | { encoding?: IsletBufferEncoding; flag?: string }): Promise<void>;
  export const FileHandle: typeof IsletNotImplementedClass;
  export const constants: Readonly<Record<string, number>>;
  import * as self from "node:fs/promises";
  const _default: typeof self;
  export default _default;
}
declare module "node:http" {
  export const _connectionListener: IsletNotImplemented;
  export const createServer: IsletNotImplemented;
  export const get: IsletNotImplemented;
  export const request: IsletNotImplemented;
  export const setMaxIdleHTTPParsers: IsletNotImplemented;
  export const validateHeaderName: IsletNotImplemented;
  export const validateHeaderValue: IsletNotImplemented;
  export const Agent: typeof IsletNotImplementedClass;
  export const ClientRequest: typeof IsletNotImplementedClass;
  export const CloseEvent: typeof IsletNotImplementedClass;
  export const IncomingMessage: typeof IsletNotImplementedClass;
  export const MessageEvent: typeof IsletNotImplementedClass;
  export const OutgoingMessage: typeof IsletNotImplementedClass;
  export const Server: typeof IsletNotImplementedClass;
  export const ServerResponse: typeof IsletNotImplementedClass;
  export const WebSocket: typeof IsletNotImplementedClass;
  export const METHODS: string[];
  export const STATUS_CODES: Record<string, string>;
  export const maxHeaderSize: number;
  export const globalAgent: any;
  import * as self from "node:http";
  const _default: typeof self;
  export default _default;
}
declare module "node:http2" {
  export const connect: IsletNotImplemented;
  export const createSecureServer: IsletNotImplemented;
  export const createServer: IsletNotImplemented;
  export const getDefaultSettings: IsletNotImplemented;
  export const getPackedSettings: IsletNotImplemented;
  export const getUnpackedSettings: IsletNotImplemented;
  export const performServerHandshake: IsletNotImplemented;
  export const Http2ServerRequest: typeof IsletNotImplementedClass;
  export const Http2ServerResponse: typeof IsletNotImplementedClass;
  export const constants: any;
  export const sensitiveHeaders: unique symbol;
  import * as self from "node:http2";
  const _default: typeof self;
  export default _default;
}
declare module "node:https" {
  export const createServer: IsletNotImplemented;
  export const get: IsletNotImplemented;
  export const request: IsletNotImplemented;
  export const Agent: typeof IsletNotImplementedClass;
  export const Server: typeof IsletNotImplementedClass;
  export const globalAgent: any;
  import * as self from "node:https";
  const _default: typeof self;
  export default _default;
}
declare module "node:inspector" {
  export const close: IsletNotImplemented;
  export const open: IsletNotImplemented;
  export const url: IsletNotImplemented;
  export const waitForDebugger: IsletNotImplemented;
  export const Session: typeof IsletNotImplementedClass;
  export const Network: any;
  export const console: any;
  import * as self from "node:inspector";
  const _default: typeof self;
  export default _default;
}
declare module "node:inspector/promises" {
  export const close: IsletNotImplemented;
  export const open: IsletNotImplemented;
  export const url: IsletNotImplemented;
  export const waitForDebugger: IsletNotImplemented;
  export const Session: typeof IsletNotImplementedClass;
  export const Network: any;
  export const console: any;
  import * as self from "node:inspector/promises";
  const _default: typeof self;
  export default _default;
}
declare module "node:module" {
  export const _debug: IsletNotImplemented;
  export const _findPath: IsletNotImplemented;
  export const _initPaths: IsletNotImplemented;
  export const _load: IsletNotImplemented;
  export const _nodeModulePaths: IsletNotImplemented;
  export const _preloadModules: IsletNotImplemented;
  export const _resolveFilename: IsletNotImplemented;
  export const _resolveLookupPaths: IsletNotImplemented;
  export const enableCompileCache: IsletNotImplemented;
  export const findPackageJSON: IsletNotImplemented;
  export const findSourceMap: IsletNotImplemented;
  export const flushCompileCache: IsletNotImplemented;
  export const getCompileCacheDir: IsletNotImplemented;
  export const getSourceMapsSupport: IsletNotImplemented;
  export const register: IsletNotImplemented;
  export const registerHooks: IsletNotImplemented;
  export const runMain: IsletNotImplemented;
  export const setSourceMapsSupport: IsletNotImplemented;
  export const stripTypeScriptTypes: IsletNotImplemented;
  export const syncBuiltinESMExports: IsletNotImplemented;
  export const wrap: IsletNotImplemented;
  export const SourceMap: typeof IsletNotImplementedClass;
  export const Module: typeof IsletNotImplementedClass;
  export const builtinModules: string[];
  export function createRequire(path: string | URL): (id: string) => any;
  export function isBuiltin(name: string): boolean;
  export const _cache: any;
  export const _pathCache: any;
  export const _extensions: any;
  export const globalPaths: any;
  export const constants: any;
  import * as self from "node:module";
  const _default: typeof self;
  export default _default;
}
declare module "node:net" {
  import { Duplex, type DuplexOptions } from "node:stream";
  /** A client TCP connection over cloudflare:sockets' connect(): the worker's globalOutbound's connect decides. */
  export interface TcpSocketConnectOpts {
    port: number | string;
    /** Default "localhost". The host resolves the name. */
    host?: string;
    /** Idle timeout in ms (as setTimeout()). */
    timeout?: number;
    /** Accepted and ignored: the host resolves and connects. */
    family?: number;
    lookup?: unknown;
    localAddress?: string;
    localPort?: number;
    noDelay?: boolean;
    keepAlive?: boolean;
    keepAliveInitialDelay?: number;
  }
  export interface SocketConstructorOpts extends Omit<DuplexOptions, "objectMode" | "readableObjectMode" | "writableObjectMode"> {
    allowHalfOpen?: boolean;
  }
  export interface AddressInfo {
    address: string;
    family: string;
    port: number;
  }
  export class Socket extends Duplex {
    constructor(options?: SocketConstructorOpts);
    connect(options: TcpSocketConnectOpts, connectionListener?: () => void): this;
    connect(port: number | string, host?: string, connectionListener?: () => void): this;
    connect(port: number | string, connectionListener?: () => void): this;
    readonly connecting: boolean;
    readonly pending: boolean;
    readonly readyState: "opening" | "open" | "readOnly" | "writeOnly" | "closed";
    /** After 'connect': the address the host connected to (as its connector reports it). */
    readonly remoteAddress: string | undefined;
    readonly remotePort: number | undefined;
    readonly remoteFamily: string | undefined;
    /** After 'connect': the host socket's local address, when its connector reports it. */
    readonly localAddress: string | undefined;
    readonly localPort: number | undefined;
    readonly localFamily: string | undefined;
    readonly bytesRead: number;
    readonly bytesWritten: number;
    readonly bufferSize: number | undefined;
    timeout: number;
    address(): AddressInfo | {};
    setEncoding(encoding?: string): this;
    /** Real: 'timeout' after `timeout` ms without a read or a write (0 turns it off). */
    setTimeout(timeout: number, callback?: () => void): this;
    /** Accepted, no effect: the host's socket is its own. */
    setNoDelay(noDelay?: boolean): this;
    /** Accepted, no effect: the host's socket is its own. */
    setKeepAlive(enable?: boolean, initialDelay?: number): this;
    ref(): this;
    unref(): this;
    destroySoon(): void;
    resetAndDestroy(): this;
    on(event: "connect" | "ready" | "end" | "finish" | "drain" | "timeout", listener: () => void): this;
    on(event: "close", listener: (hadError: boolean) => void): this;
    on(event: "data", listener: (data: any) => void): this;
    on(event: "error", listener: (error: Error) => void): this;
    on(event: string | symbol, listener: (...args: any[]) => void): this;
    once(event: "connect" | "ready" | "end" | "finish" | "drain" | "timeout", listener: () => void): this;
    once(event: "close", listener: (hadError: boolean) => void): this;
    once(event: "data", listener: (data: any) => void): this;
    once(event: "error", listener: (error: Error) => void): this;
    once(event: string | symbol, listener: (...args: any[]) => void): this;
  }
  export const Stream: typeof Socket;
  export function connect(options: TcpSocketConnectOpts & SocketConstructorOpts, connectionListener?: () => void): Socket;
  export function connect(port: number | string, host?: string, connectionListener?: () => void): Socket;
  export function connect(port: number | string, connectionListener?: () => void): Socket;
  export const createConnection: typeof connect;
  export function _normalizeArgs(args: unknown[]): unknown[];
  export function getDefaultAutoSelectFamily(): false;
  export function setDefaultAutoSelectFamily(value: false): void;
  export function getDefaultAutoSelectFamilyAttemptTimeout(): number;
  export function setDefaultAutoSelectFamilyAttemptTimeout(value: number): void;
  export const createServer: IsletNotImplemented;
  export const BlockList: typeof IsletNotImplementedClass;
  export const BoundSocket: typeof IsletNotImplementedClass;
  export const Server: typeof IsletNotImplementedClass;
  export const SocketAddress: typeof IsletNotImplementedClass;
  export function isIP(input: string): 0 | 4 | 6;
  export function isIPv4(input: string): boolean;
  export function isIPv6(input: string): boolean;
  import * as self from "node:net";
  const _default: typeof self;
  export default _default;
}
declare module "node:path/win32" {
  export const basename: IsletNotImplemented;
  export const dirname: IsletNotImplemented;
  export const extname: IsletNotImplemented;
  export const format: IsletNotImplemented;
  export const isAbsolute: IsletNotImplemented;
  export const join: IsletNotImplemented;
  export const matchesGlob: IsletNotImplemented;
  export const normalize: IsletNotImplemented;
  export const parse: IsletNotImplemented;
  export const relative: IsletNotImplemented;
  export const resolve: IsletNotImplemented;
  export const toNamespacedPath: IsletNotImplemented;
  export const sep: "\\";
  export const delimiter: ";";
  export const posix: typeof import("node:path");
  export const win32: typeof import("node:path/win32");
  import * as self from "node:path/win32";
  const _default: typeof self;
  export default _default;
}
declare module "node:perf_hooks" {
  export const createHistogram: IsletNotImplemented;
  export const eventLoopUtilization: IsletNotImplemented;
  export const monitorEventLoopDelay: IsletNotImplemented;
  export const timerify: IsletNotImplemented;
  export const Performance: typeof IsletNotImplementedClass;
  export const PerformanceEntry: typeof IsletNotImplementedClass;
  export const PerformanceMark: typeof IsletNotImplementedClass;
  export const PerformanceMeasure: typeof IsletNotImplementedClass;
  export const PerformanceObserver: typeof IsletNotImplementedClass;
  export const PerformanceObserverEntryList: typeof IsletNotImplementedClass;
  export const PerformanceResourceTiming: typeof IsletNotImplementedClass;
  export const performance: Performance;
  export const constants: any;
  import * as self from "node:perf_hooks";
  const _default: typeof self;
  export default _default;
}
declare module "node:punycode" {
  export const decode: IsletNotImplemented;
  export const encode: IsletNotImplemented;
  export const toASCII: IsletNotImplemented;
  export const toUnicode: IsletNotImplemented;
  export const ucs2: any;
  export const version: string;
  import * as self from "node:punycode";
  const _default: typeof self;
  export default _default;
}
declare module "node:readline" {
  export const clearLine: IsletNotImplemented;
  export const clearScreenDown: IsletNotImplemented;
  export const createInterface: IsletNotImplemented;
  export const cursorTo: IsletNotImplemented;
  export const emitKeypressEvents: IsletNotImplemented;
  export const moveCursor: IsletNotImplemented;
  export const Interface: typeof IsletNotImplementedClass;
  export const promises: typeof import("node:readline/promises");
  import * as self from "node:readline";
  const _default: typeof self;
  export default _default;
}
declare module "node:readline/promises" {
  export const createInterface: IsletNotImplemented;
  export const Interface: typeof IsletNotImplementedClass;
  export const Readline: typeof IsletNotImplementedClass;
  import * as self from "node:readline/promises";
  const _default: typeof self;
  export default _default;
}
declare module "node:repl" {
  export const start: IsletNotImplemented;
  export const writer: IsletNotImplemented;
  export const REPLServer: typeof IsletNotImplementedClass;
  export const Recoverable: typeof IsletNotImplementedClass;
  export const REPL_MODE_SLOPPY: unique symbol;
  export const REPL_MODE_STRICT: unique symbol;
  export const builtinModules: string[];
  export const _builtinLibs: string[];
  import * as self from "node:repl";
  const _default: typeof self;
  export default _default;
}
declare module "node:sqlite" {
  export const backup: IsletNotImplemented;
  export const DatabaseSync: typeof IsletNotImplementedClass;
  export const StatementSync: typeof IsletNotImplementedClass;
  export const constants: any;
  import * as self from "node:sqlite";
  const _default: typeof self;
  export default _default;
}
declare module "node:stream" {
  // Node's streams (compose() and Duplex.from() throw ERR_METHOD_NOT_IMPLEMENTED).
  type Callback = (error?: Error | null) => void;
  interface StreamOptions {
    highWaterMark?: number;
    objectMode?: boolean;
    emitClose?: boolean;
    autoDestroy?: boolean;
    signal?: AbortSignal;
    destroy?(this: any, error: Error | null, callback: Callback): void;
    construct?(this: any, callback: Callback): void;
  }
  export interface ReadableOptions extends StreamOptions {
    encoding?: string;
    read?(this: Readable, size: number): void;
  }
  export interface WritableOptions extends StreamOptions {
    decodeStrings?: boolean;
    defaultEncoding?: string;
    write?(this: Writable, chunk: any, encoding: string, callback: Callback): void;
    writev?(this: Writable, chunks: { chunk: any; encoding: string }[], callback: Callback): void;
    final?(this: Writable, callback: Callback): void;
  }
  export interface DuplexOptions extends ReadableOptions, WritableOptions {
    allowHalfOpen?: boolean;
    readable?: boolean;
    writable?: boolean;
    readableObjectMode?: boolean;
    writableObjectMode?: boolean;
    readableHighWaterMark?: number;
    writableHighWaterMark?: number;
  }
  export interface TransformOptions extends DuplexOptions {
    transform?(this: Transform, chunk: any, encoding: string, callback: (error?: Error | null, data?: any) => void): void;
    flush?(this: Transform, callback: (error?: Error | null, data?: any) => void): void;
  }
  export class Stream implements IsletEventEmitter {
    constructor(options?: StreamOptions);
    pipe<T extends Writable>(destination: T, options?: { end?: boolean }): T;
  }
  export interface Stream extends IsletEventEmitter {}
  export class Readable extends Stream implements AsyncIterable<any> {
    constructor(options?: ReadableOptions);
    static from(iterable: Iterable<any> | AsyncIterable<any> | string | Uint8Array, options?: ReadableOptions): Readable;
    static fromWeb(stream: ReadableStream, options?: { encoding?: string; highWaterMark?: number; objectMode?: boolean; signal?: AbortSignal }): Readable;
    static toWeb(stream: Readable, options?: { strategy?: { highWaterMark?: number } }): ReadableStream;
    readable: boolean;
    readonly readableEnded: boolean;
    readonly readableFlowing: boolean | null;
    readonly readableHighWaterMark: number;
    readonly readableLength: number;
    readonly readableObjectMode: boolean;
    readonly readableEncoding: string | null;
    readonly readableAborted: boolean;
    readonly readableDidRead: boolean;
    readonly errored: Error | null;
    readonly closed: boolean;
    destroyed: boolean;
    _read(size: number): void;
    _destroy(error: Error | null, callback: Callback): void;
    read(size?: number): any;
    push(chunk: any, encoding?: string): boolean;
    unshift(chunk: any, encoding?: string): void;
    setEncoding(encoding: string): this;
    pause(): this;
    resume(): this;
    isPaused(): boolean;
    unpipe(destination?: Writable): this;
    wrap(stream: IsletEventEmitter): this;
    destroy(error?: Error): this;
    iterator(options?: { destroyOnReturn?: boolean }): AsyncIterableIterator<any>;
    [Symbol.asyncIterator](): AsyncIterableIterator<any>;
  }
  export class Writable extends Stream {
    constructor(options?: WritableOptions);
    static fromWeb(stream: WritableStream, options?: { decodeStrings?: boolean; highWaterMark?: number; objectMode?: boolean; signal?: AbortSignal }): Writable;
    static toWeb(stream: Writable): WritableStream;
    readonly writable: boolean;
    readonly writableEnded: boolean;
    readonly writableFinished: boolean;
    readonly writableHighWaterMark: number;
    readonly writableLength: number;
    readonly writableObjectMode: boolean;
    readonly writableCorked: number;
    readonly writableNeedDrain: boolean;
    readonly writableAborted: boolean;
    readonly errored: Error | null;
    readonly closed: boolean;
    destroyed: boolean;
    _write(chunk: any, encoding: string, callback: Callback): void;
    _writev?(chunks: { chunk: any; encoding: string }[], callback: Callback): void;
    _final(callback: Callback): void;
    _destroy(error: Error | null, callback: Callback): void;
    write(chunk: any, callback?: Callback): boolean;
    write(chunk: any, encoding: string, callback?: Callback): boolean;
    end(callback?: () => void): this;
    end(chunk: any, callback?: () => void): this;
    end(chunk: any, encoding: string, callback?: () => void): this;
    cork(): void;
    uncork(): void;
    setDefaultEncoding(encoding: string): this;
    destroy(error?: Error): this;
  }
  export class Duplex extends Readable {
    constructor(options?: DuplexOptions);
    allowHalfOpen: boolean;
    readonly writable: boolean;
    readonly writableEnded: boolean;
    readonly writableFinished: boolean;
    readonly writableHighWaterMark: number;
    readonly writableLength: number;
    readonly writableObjectMode: boolean;
    readonly writableCorked: number;
    readonly writableNeedDrain: boolean;
    _write(chunk: any, encoding: string, callback: Callback): void;
    _final(callback: Callback): void;
    write(chunk: any, callback?: Callback): boolean;
    write(chunk: any, encoding: string, callback?: Callback): boolean;
    end(callback?: () => void): this;
    end(chunk: any, callback?: () => void): this;
    end(chunk: any, encoding: string, callback?: () => void): this;
    cork(): void;
    uncork(): void;
    setDefaultEncoding(encoding: string): this;
    static from: IsletNotImplemented;
  }
  export class Transform extends Duplex {
    constructor(options?: TransformOptions);
    _transform(chunk: any, encoding: string, callback: (error?: Error | null, data?: any) => void): void;
    _flush(callback: (error?: Error | null, data?: any) => void): void;
  }
  export class PassThrough extends Transform {}
  type PipelineSource = Iterable<any> | AsyncIterable<any> | Readable | ((options: { signal: AbortSignal }) => Iterable<any> | AsyncIterable<any>);
  type PipelineStage = Readable | Writable | Duplex | ((source: AsyncIterable<any>, options: { signal: AbortSignal }) => AsyncIterable<any> | Promise<any>);
  export function pipeline<T extends PipelineStage>(source: PipelineSource, ...rest: [...PipelineStage[], (error: (Error & { code?: string }) | null | undefined, value?: any) => void]): T;
  export function finished(stream: Readable | Writable, callback: (error?: Error | null) => void): () => void;
  export function finished(stream: Readable | Writable, options: { readable?: boolean; writable?: boolean; error?: boolean; signal?: AbortSignal }, callback: (error?: Error | null) => void): () => void;
  export function addAbortSignal<T extends Readable | Writable>(signal: AbortSignal, stream: T): T;
  export const compose: IsletNotImplemented;
  export function destroy(stream: Readable | Writable, error?: Error): void;
  export function duplexPair(options?: DuplexOptions): [Duplex, Duplex];
  export function getDefaultHighWaterMark(objectMode: boolean): number;
  export function setDefaultHighWaterMark(objectMode: boolean, value: number): void;
  export function isDestroyed(stream: unknown): boolean;
  export function isDisturbed(stream: unknown): boolean;
  export function isErrored(stream: unknown): boolean;
  export function isReadable(stream: unknown): boolean | null;
  export function isWritable(stream: unknown): boolean | null;
  export function _isArrayBufferView(value: unknown): value is ArrayBufferView;
  export function _isUint8Array(value: unknown): value is Uint8Array;
  export function _uint8ArrayToBuffer(value: Uint8Array): IsletBuffer;
  export const promises: typeof import("node:stream/promises");
  import * as self from "node:stream";
  const _default: typeof Stream & typeof self;
  export default _default;
}
declare module "node:stream/consumers" {
  type Source = AsyncIterable<any> | ReadableStream;
  export function arrayBuffer(stream: Source): Promise<ArrayBuffer>;
  export function blob(stream: Source): Promise<Blob>;
  export function buffer(stream: Source): Promise<IsletBuffer>;
  export function json(stream: Source): Promise<any>;
  export function text(stream: Source): Promise<string>;
  import * as self from "node:stream/consumers";
  const _default: typeof self;
  export default _default;
}
declare module "node:stream/promises" {
  export function finished(stream: import("node:stream").Readable | import("node:stream").Writable, options?: { readable?: boolean; writable?: boolean; error?: boolean; signal?: AbortSignal }): Promise<void>;
  export function pipeline(...stages: any[]): Promise<any>;
  export const promises: typeof import("node:stream/promises");
  import * as self from "node:stream/promises";
  const _default: typeof self;
  export default _default;
}
declare module "node:stream/web" {
  export const ReadableStream: typeof globalThis.ReadableStream;
  export type ReadableStream = globalThis.ReadableStream;
  export const ReadableStreamDefaultReader: typeof globalThis.ReadableStreamDefaultReader;
  export type ReadableStreamDefaultReader = globalThis.ReadableStreamDefaultReader;
  export const ReadableStreamBYOBReader: typeof globalThis.ReadableStreamBYOBReader;
  export type ReadableStreamBYOBReader = globalThis.ReadableStreamBYOBReader;
  export const ReadableStreamBYOBRequest: typeof globalThis.ReadableStreamBYOBRequest;
  export type ReadableStreamBYOBRequest = globalThis.ReadableStreamBYOBRequest;
  export const ReadableStreamDefaultController: typeof globalThis.ReadableStreamDefaultController;
  export type ReadableStreamDefaultController = globalThis.ReadableStreamDefaultController;
  export const ReadableByteStreamController: typeof globalThis.ReadableByteStreamController;
  export type ReadableByteStreamController = globalThis.ReadableByteStreamController;
  export const WritableStream: typeof globalThis.WritableStream;
  export type WritableStream = globalThis.WritableStream;
  export const WritableStreamDefaultWriter: typeof globalThis.WritableStreamDefaultWriter;
  export type WritableStreamDefaultWriter = globalThis.WritableStreamDefaultWriter;
  export const WritableStreamDefaultController: typeof globalThis.WritableStreamDefaultController;
  export type WritableStreamDefaultController = globalThis.WritableStreamDefaultController;
  export const TransformStream: typeof globalThis.TransformStream;
  export type TransformStream = globalThis.TransformStream;
  export const TransformStreamDefaultController: typeof globalThis.TransformStreamDefaultController;
  export type TransformStreamDefaultController = globalThis.TransformStreamDefaultController;
  export const ByteLengthQueuingStrategy: typeof globalThis.ByteLengthQueuingStrategy;
  export type ByteLengthQueuingStrategy = globalThis.ByteLengthQueuingStrategy;
  export const CountQueuingStrategy: typeof globalThis.CountQueuingStrategy;
  export type CountQueuingStrategy = globalThis.CountQueuingStrategy;
  export const TextEncoderStream: typeof globalThis.TextEncoderStream;
  export type TextEncoderStream = globalThis.TextEncoderStream;
  export const TextDecoderStream: typeof globalThis.TextDecoderStream;
  export type TextDecoderStream = globalThis.TextDecoderStream;
  export const CompressionStream: typeof globalThis.CompressionStream;
  export type CompressionStream = globalThis.CompressionStream;
  export const DecompressionStream: typeof globalThis.DecompressionStream;
  export type DecompressionStream = globalThis.DecompressionStream;
  import * as self from "node:stream/web";
  const _default: typeof self;
  export default _default;
}
declare module "node:sys" {
  export * from "node:util";
  export { default } from "node:util";
}
declare module "sys" {
  export * from "node:util";
  export { default } from "node:util";
}

declare module "node:tls" {
  import { Socket, type TcpSocketConnectOpts, type SocketConstructorOpts } from "node:net";
  /**
   * TLS from the first byte, over cloudflare:sockets' connect(). The host makes the handshake and
   * checks the certificate (its CAs, connectTcp's `tls.ca`): `ca`, `cert` and `key` here are not
   * used, and `rejectUnauthorized: false` throws ERR_OPTION_NOT_IMPLEMENTED.
   */
  export interface ConnectionOptions extends Partial<TcpSocketConnectOpts>, SocketConstructorOpts {
    /** The name the certificate is checked against (default: host). */
    servername?: string;
    rejectUnauthorized?: true;
    ca?: unknown;
    cert?: unknown;
    key?: unknown;
  }
  export class TLSSocket extends Socket {
    readonly encrypted: true;
    /** true once 'secureConnect' was emitted (the host checked the certificate). */
    readonly authorized: boolean;
    readonly servername: string | null;
    setServername(name: string): void;
    getProtocol(): null;
    getCipher(): null;
    getPeerCertificate: IsletNotImplemented;
    on(event: "secureConnect" | "secure", listener: () => void): this;
    on(event: string | symbol, listener: (...args: any[]) => void): this;
    once(event: "secureConnect" | "secure", listener: () => void): this;
    once(event: string | symbol, listener: (...args: any[]) => void): this;
  }
  export function connect(options: ConnectionOptions, secureConnectListener?: () => void): TLSSocket;
  export function connect(port: number, host?: string, options?: ConnectionOptions, secureConnectListener?: () => void): TLSSocket;
  export function connect(port: number, options?: ConnectionOptions, secureConnectListener?: () => void): TLSSocket;
  export const checkServerIdentity: IsletNotImplemented;
  export const convertALPNProtocols: IsletNotImplemented;
  export const createSecureContext: IsletNotImplemented;
  export const createSecurePair: IsletNotImplemented;
  export const createServer: IsletNotImplemented;
  export const getCiphers: IsletNotImplemented;
  export const SecureContext: typeof IsletNotImplementedClass;
  export const Server: typeof IsletNotImplementedClass;
  export const CLIENT_RENEG_LIMIT: number;
  export const CLIENT_RENEG_WINDOW: number;
  export const DEFAULT_CIPHERS: string;
  export const DEFAULT_ECDH_CURVE: string;
  export const DEFAULT_MAX_VERSION: string;
  export const DEFAULT_MIN_VERSION: string;
  export const rootCertificates: readonly string[];
  import * as self from "node:tls";
  const _default: typeof self;
  export default _default;
}
declare module "node:trace_events" {
  export const createTracing: IsletNotImplemented;
  export const getEnabledCategories: IsletNotImplemented;
  import * as self from "node:trace_events";
  const _default: typeof self;
  export default _default;
}
declare module "node:tty" {
  export const ReadStream: typeof IsletNotImplementedClass;
  export const WriteStream: typeof IsletNotImplementedClass;
  export function isatty(fd: number): false;
  import * as self from "node:tty";
  const _default: typeof self;
  export default _default;
}
declare module "node:v8" {
  export const cachedDataVersionTag: IsletNotImplemented;
  export const deserialize: IsletNotImplemented;
  export const getCppHeapStatistics: IsletNotImplemented;
  export const getHeapCodeStatistics: IsletNotImplemented;
  export const getHeapSnapshot: IsletNotImplemented;
  export const getHeapSpaceStatistics: IsletNotImplemented;
  export const getHeapStatistics: IsletNotImplemented;
  export const isStringOneByteRepresentation: IsletNotImplemented;
  export const queryObjects: IsletNotImplemented;
  export const serialize: IsletNotImplemented;
  export const setFlagsFromString: IsletNotImplemented;
  export const setHeapSnapshotNearHeapLimit: IsletNotImplemented;
  export const stopCoverage: IsletNotImplemented;
  export const takeCoverage: IsletNotImplemented;
  export const writeHeapSnapshot: IsletNotImplemented;
  export const DefaultDeserializer: typeof IsletNotImplementedClass;
  export const DefaultSerializer: typeof IsletNotImplementedClass;
  export const Deserializer: typeof IsletNotImplementedClass;
  export const GCProfiler: typeof IsletNotImplementedClass;
  export const Serializer: typeof IsletNotImplementedClass;
  export const promiseHooks: any;
  export const startupSnapshot: any;
  import * as self from "node:v8";
  const _default: typeof self;
  export default _default;
}
declare module "node:vm" {
  export const compileFunction: IsletNotImplemented;
  export const createContext: IsletNotImplemented;
  export const createScript: IsletNotImplemented;
  export const isContext: IsletNotImplemented;
  export const measureMemory: IsletNotImplemented;
  export const runInContext: IsletNotImplemented;
  export const runInNewContext: IsletNotImplemented;
  export const runInThisContext: IsletNotImplemented;
  export const Script: typeof IsletNotImplementedClass;
  export const constants: any;
  import * as self from "node:vm";
  const _default: typeof self;
  export default _default;
}
declare module "node:wasi" {
  export const WASI: typeof IsletNotImplementedClass;
  import * as self from "node:wasi";
  const _default: typeof self;
  export default _default;
}
declare module "node:worker_threads" {
  export const isMarkedAsUntransferable: IsletNotImplemented;
  export const markAsUncloneable: IsletNotImplemented;
  export const markAsUntransferable: IsletNotImplemented;
  export const moveMessagePortToContext: IsletNotImplemented;
  export const postMessageToThread: IsletNotImplemented;
  export const receiveMessageOnPort: IsletNotImplemented;
  export const BroadcastChannel: typeof IsletNotImplementedClass;
  export const MessageChannel: typeof IsletNotImplementedClass;
  export const MessagePort: typeof IsletNotImplementedClass;
  export const Worker: typeof IsletNotImplementedClass;
  export const SHARE_ENV: unique symbol;
  export const isInternalThread: false;
  export const isMainThread: true;
  export const parentPort: null;
  export const resourceLimits: {};
  export const threadId: 0;
  export const workerData: null;
  export function getEnvironmentData(key: unknown): unknown;
  export function setEnvironmentData(key: unknown, value: unknown): void;
  import * as self from "node:worker_threads";
  const _default: typeof self;
  export default _default;
}
declare module "node:zlib" {
  // Over fflate: deflate, inflate, deflateRaw, inflateRaw, gzip, gunzip and unzip (Sync, callback and
  // stream forms) and crc32. Brotli and zstd throw ERR_METHOD_NOT_IMPLEMENTED (the constants are real).
  interface ZlibOptions { level?: number; memLevel?: number; windowBits?: number; strategy?: number; chunkSize?: number; finishFlush?: number; maxOutputLength?: number }
  type Input = string | ArrayBuffer | ArrayBufferView;
  type ZlibCallback = (error: (Error & { code?: string; errno?: number }) | null, result: IsletBuffer) => void;
  import { Transform } from "node:stream";
  class ZlibBase extends Transform {
    constructor(options?: ZlibOptions);
    readonly bytesWritten: number;
    flush(kind?: number, callback?: () => void): void;
    flush(callback?: () => void): void;
    params(level: number, strategy: number, callback?: () => void): void;
    reset(): void;
    close(callback?: () => void): void;
  }
  export class Deflate extends ZlibBase {}
  export function createDeflate(options?: ZlibOptions): Deflate;
  export function deflateSync(buffer: Input, options?: ZlibOptions): IsletBuffer;
  export function deflate(buffer: Input, callback: ZlibCallback): void;
  export function deflate(buffer: Input, options: ZlibOptions, callback: ZlibCallback): void;
  export class Inflate extends ZlibBase {}
  export function createInflate(options?: ZlibOptions): Inflate;
  export function inflateSync(buffer: Input, options?: ZlibOptions): IsletBuffer;
  export function inflate(buffer: Input, callback: ZlibCallback): void;
  export function inflate(buffer: Input, options: ZlibOptions, callback: ZlibCallback): void;
  export class DeflateRaw extends ZlibBase {}
  export function createDeflateRaw(options?: ZlibOptions): DeflateRaw;
  export function deflateRawSync(buffer: Input, options?: ZlibOptions): IsletBuffer;
  export function deflateRaw(buffer: Input, callback: ZlibCallback): void;
  export function deflateRaw(buffer: Input, options: ZlibOptions, callback: ZlibCallback): void;
  export class InflateRaw extends ZlibBase {}
  export function createInflateRaw(options?: ZlibOptions): InflateRaw;
  export function inflateRawSync(buffer: Input, options?: ZlibOptions): IsletBuffer;
  export function inflateRaw(buffer: Input, callback: ZlibCallback): void;
  export function inflateRaw(buffer: Input, options: ZlibOptions, callback: ZlibCallback): void;
  export class Gzip extends ZlibBase {}
  export function createGzip(options?: ZlibOptions): Gzip;
  export function gzipSync(buffer: Input, options?: ZlibOptions): IsletBuffer;
  export function gzip(buffer: Input, callback: ZlibCallback): void;
  export function gzip(buffer: Input, options: ZlibOptions, callback: ZlibCallback): void;
  export class Gunzip extends ZlibBase {}
  export function createGunzip(options?: ZlibOptions): Gunzip;
  export function gunzipSync(buffer: Input, options?: ZlibOptions): IsletBuffer;
  export function gunzip(buffer: Input, callback: ZlibCallback): void;
  export function gunzip(buffer: Input, options: ZlibOptions, callback: ZlibCallback): void;
  export class Unzip extends ZlibBase {}
  export function createUnzip(options?: ZlibOptions): Unzip;
  export function unzipSync(buffer: Input, options?: ZlibOptions): IsletBuffer;
  export function unzip(buffer: Input, callback: ZlibCallback): void;
  export function unzip(buffer: Input, options: ZlibOptions, callback: ZlibCallback): void;
  export function crc32(data: string | ArrayBufferView, value?: number): number;
  export const brotliCompress: IsletNotImplemented;
  export const brotliCompressSync: IsletNotImplemented;
  export const brotliDecompress: IsletNotImplemented;
  export const brotliDecompressSync: IsletNotImplemented;
  export const createBrotliCompress: IsletNotImplemented;
  export const createBrotliDecompress: IsletNotImplemented;
  export const createZstdCompress: IsletNotImplemented;
  export const createZstdDecompress: IsletNotImplemented;
  export const zstdCompress: IsletNotImplemented;
  export const zstdCompressSync: IsletNotImplemented;
  export const zstdDecompress: IsletNotImplemented;
  export const zstdDecompressSync: IsletNotImplemented;
  export const BrotliCompress: typeof IsletNotImplementedClass;
  export const BrotliDecompress: typeof IsletNotImplementedClass;
  export const ZstdCompress: typeof IsletNotImplementedClass;
  export const ZstdDecompress: typeof IsletNotImplementedClass;
  export const Z_NO_FLUSH: number;
  export const Z_PARTIAL_FLUSH: number;
  export const Z_SYNC_FLUSH: number;
  export const Z_FULL_FLUSH: number;
  export const Z_FINISH: number;
  export const Z_BLOCK: number;
  export const Z_OK: number;
  export const Z_STREAM_END: number;
  export const Z_NEED_DICT: number;
  export const Z_ERRNO: number;
  export const Z_STREAM_ERROR: number;
  export const Z_DATA_ERROR: number;
  export const Z_MEM_ERROR: number;
  export const Z_BUF_ERROR: number;
  export const Z_VERSION_ERROR: number;
  export const Z_NO_COMPRESSION: number;
  export const Z_BEST_SPEED: number;
  export const Z_BEST_COMPRESSION: number;
  export const Z_DEFAULT_COMPRESSION: number;
  export const Z_FILTERED: number;
  export const Z_HUFFMAN_ONLY: number;
  export const Z_RLE: number;
  export const Z_FIXED: number;
  export const Z_DEFAULT_STRATEGY: number;
  export const ZLIB_VERNUM: number;
  export const DEFLATE: number;
  export const INFLATE: number;
  export const GZIP: number;
  export const GUNZIP: number;
  export const DEFLATERAW: number;
  export const INFLATERAW: number;
  export const UNZIP: number;
  export const BROTLI_DECODE: number;
  export const BROTLI_ENCODE: number;
  export const Z_MIN_WINDOWBITS: number;
  export const Z_MAX_WINDOWBITS: number;
  export const Z_DEFAULT_WINDOWBITS: number;
  export const Z_MIN_CHUNK: number;
  export const Z_MAX_CHUNK: number;
  export const Z_DEFAULT_CHUNK: number;
  export const Z_MIN_MEMLEVEL: number;
  export const Z_MAX_MEMLEVEL: number;
  export const Z_DEFAULT_MEMLEVEL: number;
  export const Z_MIN_LEVEL: number;
  export const Z_MAX_LEVEL: number;
  export const Z_DEFAULT_LEVEL: number;
  export const BROTLI_OPERATION_PROCESS: number;
  export const BROTLI_OPERATION_FLUSH: number;
  export const BROTLI_OPERATION_FINISH: number;
  export const BROTLI_OPERATION_EMIT_METADATA: number;
  export const BROTLI_PARAM_MODE: number;
  export const BROTLI_MODE_GENERIC: number;
  export const BROTLI_MODE_TEXT: number;
  export const BROTLI_MODE_FONT: number;
  export const BROTLI_DEFAULT_MODE: number;
  export const BROTLI_PARAM_QUALITY: number;
  export const BROTLI_MIN_QUALITY: number;
  export const BROTLI_MAX_QUALITY: number;
  export const BROTLI_DEFAULT_QUALITY: number;
  export const BROTLI_PARAM_LGWIN: number;
  export const BROTLI_MIN_WINDOW_BITS: number;
  export const BROTLI_MAX_WINDOW_BITS: number;
  export const BROTLI_LARGE_MAX_WINDOW_BITS: number;
  export const BROTLI_DEFAULT_WINDOW: number;
  export const BROTLI_PARAM_LGBLOCK: number;
  export const BROTLI_MIN_INPUT_BLOCK_BITS: number;
  export const BROTLI_MAX_INPUT_BLOCK_BITS: number;
  export const BROTLI_PARAM_DISABLE_LITERAL_CONTEXT_MODELING: number;
  export const BROTLI_PARAM_LARGE_WINDOW: number;
  export const BROTLI_PARAM_NPOSTFIX: number;
  export const BROTLI_PARAM_NDIRECT: number;
  export const BROTLI_DECODER_RESULT_ERROR: number;
  export const BROTLI_DECODER_RESULT_SUCCESS: number;
  export const BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT: number;
  export const BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT: number;
  export const BROTLI_DECODER_PARAM_DISABLE_RING_BUFFER_REALLOCATION: number;
  export const BROTLI_DECODER_PARAM_LARGE_WINDOW: number;
  export const BROTLI_DECODER_NO_ERROR: number;
  export const BROTLI_DECODER_SUCCESS: number;
  export const BROTLI_DECODER_NEEDS_MORE_INPUT: number;
  export const BROTLI_DECODER_NEEDS_MORE_OUTPUT: number;
  export const BROTLI_DECODER_ERROR_FORMAT_EXUBERANT_NIBBLE: number;
  export const BROTLI_DECODER_ERROR_FORMAT_RESERVED: number;
  export const BROTLI_DECODER_ERROR_FORMAT_EXUBERANT_META_NIBBLE: number;
  export const BROTLI_DECODER_ERROR_FORMAT_SIMPLE_HUFFMAN_ALPHABET: number;
  export const BROTLI_DECODER_ERROR_FORMAT_SIMPLE_HUFFMAN_SAME: number;
  export const BROTLI_DECODER_ERROR_FORMAT_CL_SPACE: number;
  export const BROTLI_DECODER_ERROR_FORMAT_HUFFMAN_SPACE: number;
  export const BROTLI_DECODER_ERROR_FORMAT_CONTEXT_MAP_REPEAT: number;
  export const BROTLI_DECODER_ERROR_FORMAT_BLOCK_LENGTH_1: number;
  export const BROTLI_DECODER_ERROR_FORMAT_BLOCK_LENGTH_2: number;
  export const BROTLI_DECODER_ERROR_FORMAT_TRANSFORM: number;
  export const BROTLI_DECODER_ERROR_FORMAT_DICTIONARY: number;
  export const BROTLI_DECODER_ERROR_FORMAT_WINDOW_BITS: number;
  export const BROTLI_DECODER_ERROR_FORMAT_PADDING_1: number;
  export const BROTLI_DECODER_ERROR_FORMAT_PADDING_2: number;
  export const BROTLI_DECODER_ERROR_FORMAT_DISTANCE: number;
  export const BROTLI_DECODER_ERROR_DICTIONARY_NOT_SET: number;
  export const BROTLI_DECODER_ERROR_INVALID_ARGUMENTS: number;
  export const BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MODES: number;
  export const BROTLI_DECODER_ERROR_ALLOC_TREE_GROUPS: number;
  export const BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MAP: number;
  export const BROTLI_DECODER_ERROR_ALLOC_RING_BUFFER_1: number;
  export const BROTLI_DECODER_ERROR_ALLOC_RING_BUFFER_2: number;
  export const BROTLI_DECODER_ERROR_ALLOC_BLOCK_TYPE_TREES: number;
  export const BROTLI_DECODER_ERROR_UNREACHABLE: number;
  export const ZSTD_ENCODE: number;
  export const ZSTD_DECODE: number;
  export const ZSTD_COMPRESS: number;
  export const ZSTD_DECOMPRESS: number;
  export const ZSTD_error_no_error: number;
  export const ZSTD_error_GENERIC: number;
  export const ZSTD_error_prefix_unknown: number;
  export const ZSTD_error_version_unsupported: number;
  export const ZSTD_error_frameParameter_unsupported: number;
  export const ZSTD_error_frameParameter_windowTooLarge: number;
  export const ZSTD_error_corruption_detected: number;
  export const ZSTD_error_checksum_wrong: number;
  export const ZSTD_error_literals_headerWrong: number;
  export const ZSTD_error_dictionary_corrupted: number;
  export const ZSTD_error_dictionary_wrong: number;
  export const ZSTD_error_dictionaryCreation_failed: number;
  export const ZSTD_error_parameter_unsupported: number;
  export const ZSTD_error_parameter_combination_unsupported: number;
  export const ZSTD_error_parameter_outOfBound: number;
  export const ZSTD_error_tableLog_tooLarge: number;
  export const ZSTD_error_maxSymbolValue_tooLarge: number;
  export const ZSTD_error_maxSymbolValue_tooSmall: number;
  export const ZSTD_error_stabilityCondition_notRespected: number;
  export const ZSTD_error_stage_wrong: number;
  export const ZSTD_error_init_missing: number;
  export const ZSTD_error_memory_allocation: number;
  export const ZSTD_error_workSpace_tooSmall: number;
  export const ZSTD_error_dstSize_tooSmall: number;
  export const ZSTD_error_srcSize_wrong: number;
  export const ZSTD_error_dstBuffer_null: number;
  export const ZSTD_error_noForwardProgress_destFull: number;
  export const ZSTD_error_noForwardProgress_inputEmpty: number;
  export const codes: any;
  export const constants: any;
  import * as self from "node:zlib";
  const _default: typeof self;
  export default _default;
}

declare module "child_process" {
  export * from "node:child_process";
  export { default } from "node:child_process";
}
declare module "cluster" {
  export * from "node:cluster";
  export { default } from "node:cluster";
}
declare module "console" {
  export * from "node:console";
  export { default } from "node:console";
}
declare module "constants" {
  export * from "node:constants";
  export { default } from "node:constants";
}
declare module "dgram" {
  export * from "node:dgram";
  export { default } from "node:dgram";
}
declare module "dns" {
  export * from "node:dns";
  export { default } from "node:dns";
}
declare module "dns/promises" {
  export * from "node:dns/promises";
  export { default } from "node:dns/promises";
}
declare module "domain" {
  export * from "node:domain";
  export { default } from "node:domain";
}
declare module "fs" {
  export * from "node:fs";
  export { default } from "node:fs";
}
declare module "fs/promises" {
  export * from "node:fs/promises";
  export { default } from "node:fs/promises";
}
declare module "http" {
  export * from "node:http";
  export { default } from "node:http";
}
declare module "http2" {
  export * from "node:http2";
  export { default } from "node:http2";
}
declare module "https" {
  export * from "node:https";
  export { default } from "node:https";
}
declare module "inspector" {
  export * from "node:inspector";
  export { default } from "node:inspector";
}
declare module "inspector/promises" {
  export * from "node:inspector/promises";
  export { default } from "node:inspector/promises";
}
declare module "module" {
  export * from "node:module";
  export { default } from "node:module";
}
declare module "net" {
  export * from "node:net";
  export { default } from "node:net";
}
declare module "path/win32" {
  export * from "node:path/win32";
  export { default } from "node:path/win32";
}
declare module "perf_hooks" {
  export * from "node:perf_hooks";
  export { default } from "node:perf_hooks";
}
declare module "punycode" {
  export * from "node:punycode";
  export { default } from "node:punycode";
}
declare module "readline" {
  export * from "node:readline";
  export { default } from "node:readline";
}
declare module "readline/promises" {
  export * from "node:readline/promises";
  export { default } from "node:readline/promises";
}
declare module "repl" {
  export * from "node:repl";
  export { default } from "node:repl";
}
declare module "sqlite" {
  export * from "node:sqlite";
  export { default } from "node:sqlite";
}
declare module "stream" {
  export * from "node:stream";
  export { default } from "node:stream";
}
declare module "stream/consumers" {
  export * from "node:stream/consumers";
  export { default } from "node:stream/consumers";
}
declare module "stream/promises" {
  export * from "node:stream/promises";
  export { default } from "node:stream/promises";
}
declare module "stream/web" {
  export * from "node:stream/web";
  export { default } from "node:stream/web";
}
declare module "tls" {
  export * from "node:tls";
  export { default } from "node:tls";
}
declare module "trace_events" {
  export * from "node:trace_events";
  export { default } from "node:trace_events";
}
declare module "tty" {
  export * from "node:tty";
  export { default } from "node:tty";
}
declare module "v8" {
  export * from "node:v8";
  export { default } from "node:v8";
}
declare module "vm" {
  export * from "node:vm";
  export { default } from "node:vm";
}
declare module "wasi" {
  export * from "node:wasi";
  export { default } from "node:wasi";
}
declare module "worker_threads" {
  export * from "node:worker_threads";
  export { default } from "node:worker_threads";
}
declare module "zlib" {
  export * from "node:zlib";
  export { default } from "node:zlib";
}
