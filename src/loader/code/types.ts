// The shapes of a worker's code: what a caller hands to load() (WorkerCode and its module
// contents), and what preparation hands to the engine (PreparedCode).

import type { ModuleSource } from "../../engine/sandbox.ts";
import type { Limits } from "../limits.ts";
import type { PackageImports } from "./packages.ts";
import type { CommonJsAnalysis } from "./commonjs.ts";

export type ModuleContent =
  | string
  | { js: string }
  | { cjs: string }
  | { ts: string }
  | { text: string }
  | { data: ArrayBuffer | ArrayBufferView }
  | { json: unknown }
  | { wasm: ArrayBuffer | ArrayBufferView };

/**
 * What a worker's outbound traffic goes through: a function for fetch() only, or Cloudflare's
 * Fetcher shape, an object with `fetch` and, to allow `connect()` from "cloudflare:sockets", `connect`.
 */
export type Fetcher =
  | ((request: Request) => Response | Promise<Response>)
  | { fetch(request: Request): Response | Promise<Response>; connect?: SocketConnector }
  | { fetch?: undefined; connect: SocketConnector };

/** Where a sandbox's connect() asked to go: the hostname as it wrote it (IPv6 without brackets) and the port. */
export interface SocketAddress {
  hostname: string;
  port: number;
}

export interface SocketOptions {
  secureTransport: "off" | "on" | "starttls";
  allowHalfOpen: boolean;
}

export interface SocketInfo {
  remoteAddress?: string;
  localAddress?: string;
}

/**
 * A socket as a host hands it to a sandbox's connect() (Cloudflare's Socket, on the host):
 * `islet/outbound`'s connectTcp() makes them over node:net and node:tls. `opened` settles when
 * the connection is made (or fails); `startTls` is needed only for secureTransport "starttls".
 */
export interface HostSocket {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
  opened: Promise<SocketInfo>;
  close(): void | Promise<void>;
  startTls?(options: { expectedServerHostname?: string }): HostSocket | Promise<HostSocket>;
  /** @internal An inbound connection's socket (inbound-socket.ts): its worker died, so its close is a failure, not an end. */
  abandon?(): void;
}

/** globalOutbound's `connect`: opens (or refuses, throwing OutboundError) one socket for a sandbox. */
export type SocketConnector = (address: SocketAddress, options: SocketOptions) => HostSocket | Promise<HostSocket>;

export interface TailEvent {
  entrypoint: string;
  method: string;
  outcome: import("../../errors.ts").Outcome;
  eventTimestamp: number;
  logs: { level: string; message: unknown[]; timestamp: number }[];
  exceptions: { name: string; message: string; timestamp: number }[];
  /** Every fetch() the invocation made through globalOutbound (the audit log). */
  fetches: FetchRecord[];
  cpuTime: number;
  wallTime: number;
  /**
   * On a facet's events (a dynamic Durable Object class run by `ctx.facets`): the rows its storage
   * calls read and wrote in this invocation, summed over the calls (a cursor's `rowsRead` and
   * `rowsWritten`; see README for the KV API's). Not Cloudflare's: its trace events carry no such counts.
   */
  rowsRead?: number;
  rowsWritten?: number;
  /**
   * Present on the event of a call whose worker failed to start (an exception or a limit while its
   * modules evaluated): the outcome, times, logs and fetches are those of that start.
   */
  startup?: true;
}

/** One outbound request as the sandbox made it, and how it ended. */
export interface FetchRecord {
  method: string;
  /** The URL the sandbox asked for: credentials a policy adds later never appear here. */
  url: string;
  timestamp: number;
  durationMs: number;
  status?: number;
  /** Why the request failed, in the words the sandbox saw. */
  error?: string;
}

export type TailReceiver = ((events: TailEvent[]) => unknown) | { tail(events: TailEvent[]): unknown };

/**
 * One event of an invocation's live trace (Cloudflare's TailStream.TailEvent, reduced to what
 * islet reports): every event of one invocation has the same `invocationId` and a `sequence`
 * counting from 0 (the onset) in the order they happened.
 */
export interface TailStreamEvent<E extends TailStreamEventBody = TailStreamEventBody> {
  invocationId: string;
  sequence: number;
  timestamp: Date;
  event: E;
}

export interface TailStreamOnset {
  type: "onset";
  entrypoint: string;
  method: string;
  executionModel: "stateless";
  info: { type: "jsrpc" } | { type: "fetch"; method: string; url: string };
  /** Present when the invocation is the failed start of the worker (see TailEvent.startup). */
  startup?: true;
}
export interface TailStreamLog {
  type: "log";
  level: string;
  /** The console call's parts, as the tail event's logs carry them. */
  message: unknown[];
}
export interface TailStreamException {
  type: "exception";
  name: string;
  message: string;
}
export interface TailStreamOutcome {
  type: "outcome";
  outcome: import("../../errors.ts").Outcome;
  cpuTime: number;
  wallTime: number;
  /** On a facet's outcome: as TailEvent's (islet's addition to Cloudflare's outcome). */
  rowsRead?: number;
  rowsWritten?: number;
}
/** Events this consumer did not get: its queue was full (see README's streamingTails). */
export interface TailStreamDiagnostic {
  type: "streamDiagnostic";
  diagnostic: { diagnosticsType: "droppedEvents"; count: number };
}
export type TailStreamEventBody = TailStreamOnset | TailStreamLog | TailStreamException | TailStreamOutcome | TailStreamDiagnostic;

type StreamHandler<E extends TailStreamEventBody> = (event: TailStreamEvent<E>) => unknown;
/** What a streaming tail returns for an onset: a function for every later event, or one per type. */
export type TailStreamHandler =
  | StreamHandler<TailStreamEventBody>
  | {
      log?: StreamHandler<TailStreamLog>;
      exception?: StreamHandler<TailStreamException>;
      outcome?: StreamHandler<TailStreamOutcome>;
      streamDiagnostic?: StreamHandler<TailStreamDiagnostic>;
    };
/**
 * A streaming tail (Cloudflare's `tailStream` handler): called with each invocation's onset as the
 * invocation starts; what it returns (or resolves to) receives the invocation's later events as
 * they happen. Returning nothing ignores the invocation.
 */
export type StreamingTail =
  | ((onset: TailStreamEvent<TailStreamOnset>) => TailStreamHandler | void | undefined | Promise<TailStreamHandler | void | undefined>)
  | { tailStream(onset: TailStreamEvent<TailStreamOnset>): TailStreamHandler | void | undefined | Promise<TailStreamHandler | void | undefined> };

export interface WorkerCode {
  compatibilityDate: string;
  compatibilityFlags?: string[];
  /** Lets experimental compatibility flags through (Cloudflare's option; see COMPATIBILITY_FLAGS). */
  allowExperimental?: boolean;
  mainModule: string;
  modules: Record<string, ModuleContent>;
  env?: Record<string, unknown>;
  globalOutbound?: Fetcher | null;
  limits?: Limits;
  tails?: TailReceiver[];
  /** Consumers of each invocation's events as they happen (onset, logs, exceptions, outcome). */
  streamingTails?: StreamingTail[];
  /**
   * The npm packages this worker may import, narrowing the loader's `packages` (each entry must be
   * one the loader allows, or under one). Default: all the loader allows.
   */
  packages?: string[];
}

export type ModuleKind = "js" | "cjs" | "ts" | "text" | "data" | "json" | "wasm";

export interface PreparedModule extends ModuleSource {
  kind: ModuleKind;
  /** Bytes for data and wasm modules, handed to the runtime before evaluation. */
  bytes?: Uint8Array;
  /**
   * A json module's text, handed to the sandbox and parsed there before any module is evaluated
   * (the runtime's parseJson, under the worker's limits): the host never parses it.
   */
  json?: string;
  /** Source-map mappings of a module transpiled from TypeScript, or lowered (async-lowering.ts). */
  sourceMap?: string;
  /** The content key and result of this module's async lowering, which a shard is handed (async-lowering.ts). */
  lowering?: [key: string, code: string, mappings: string];
  /** A CommonJS module's content key and analysis, which a shard is handed (commonjs.ts). */
  analysis?: [key: string, analysis: CommonJsAnalysis];
}

export interface PreparedCode {
  /** The module the engine starts from: the main module, or its ES face when main is CommonJS. */
  main: string;
  /**
   * The worker's modules by normalized name, plus one generated ES module (the "face", see
   * commonjs.ts) per CommonJS module, which is what ES imports of that module resolve to.
   */
  modules: Map<string, PreparedModule>;
  /** Some module mentions `await`: it may use top-level await, which start-up must wait for. */
  mayAwaitAtTopLevel: boolean;
  /**
   * The one module that runs the worker's code, if only one does: its top level runs in a
   * microtask (engine/sandbox.ts, DEFER_PREFIX), where the first touch of a lazy global cannot run
   * microtasks queued before it.
   */
  deferredModule: string | undefined;
  /** The nodejs_compat flag: Node built-ins are importable and Buffer/process are globals. */
  nodeCompat: boolean;
  /** The code imports node:async_hooks: its async functions are lowered and the sandbox carries async context (async-lowering.ts). */
  asyncContext: boolean;
  /** The package specifiers the worker may import (their bundles are in `modules` too), see packages.ts. */
  packages: PackageImports;
}
