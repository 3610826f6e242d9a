// islet/sandbox: types for code that runs INSIDE an islet sandbox (a worker), not for the host.
//
//   /// <reference types="islet/sandbox" />          at the top of a worker file, or
//   "compilerOptions": { "types": ["islet/sandbox"] }  in the tsconfig of the worker's folder
//
// It declares the `cloudflare:workers` module, the web globals (through TypeScript's "webworker"
// lib) with islet's additions (scheduler.wait, crypto.subtle.timingSafeEqual), and the Node
// modules of the `nodejs_compat` flag (node:buffer, events, util, path, url, assert,
// string_decoder, crypto, process) with the globals Buffer and process.
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

  /** The base class only: islet gives Durable Objects no storage. */
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
