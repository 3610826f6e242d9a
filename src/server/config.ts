// The server's options, from (highest precedence first) explicit options or CLI flags, the
// environment (ISLET_PORT, ISLET_HOST, ISLET_API_KEYS, ISLET_CONFIG, ISLET_ALLOW_UNAUTHENTICATED)
// and a JSON config file. Everything is validated up front so a bad setting stops the server
// with a message naming it instead of failing on the first request.

import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { availableParallelism, hostname } from "node:os";
import type { Limits, WorkerLoaderOptions } from "../index.ts";
import { DEFAULT_LIMITS } from "../index.ts";
import { z } from "zod";
import { limitsSchema } from "../protocol/limits.ts";
import { describeValue, formatProblems, got, nonNegativeInteger, positiveInteger, problemsOf } from "../protocol/schema.ts";
import { ServerConfigError } from "./errors.ts";
import { DEFAULT_MAX_RPC_SESSIONS_PER_KEY } from "./rpc-sessions.ts";
import { DEFAULT_MAX_RESULT_BYTES } from "./json-value.ts";
import { missingInSection, resolveOutbound, type OutboundConfig, type ResolvedOutbound } from "./outbound-config.ts";

// The main thread saturates (isolate creation, JSON, HTTP) at a few hundred calls per second per
// core long before 64 calls are in flight on a small node: a cap of 8 per core sheds the excess at
// once with 429 instead of letting every request queue for seconds (measured by npm run load).
const DEFAULT_MAX_IN_FLIGHT = 8 * availableParallelism();

export interface ApiKeyConfig {
  /** A name for the key in logs and metrics; the key itself is never logged. */
  id: string;
  key: string;
  /** Ceilings for this key's workers, below the server's `limits`. */
  limits?: Limits;
  /** Calls this key may have in flight at once; more get 429. */
  maxConcurrency?: number;
}

export interface ServerOptions {
  /** Default 8787; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Keys accepted in `Authorization: Bearer <key>` (or `X-Api-Key`). None: no authentication, loopback only. */
  apiKeys?: ApiKeyConfig[];
  /** Serve without API keys on a non-loopback host. Off by default: the server refuses to start. */
  allowUnauthenticated?: boolean;
  /** Ceilings for every worker; keys and requests can only lower them. */
  limits?: Limits;
  /**
   * Calls one key may have in flight. Default: with API keys, half of maxInFlight (at least 1), so
   * one key cannot take every slot from the others; without keys (one caller), maxInFlight.
   */
  maxConcurrencyPerKey?: number;
  /**
   * Live workers one key may hold at once (named, `/v1/rpc` ones and one-shot calls alike); a key
   * that starts one more evicts its own least recently used idle worker, never another key's.
   * Default: with API keys, `loader.maxWorkers` (500) divided by the number of keys (at least 1),
   * so the keys' quotas add up to at most the global cap; without keys, no quota (one caller:
   * the loader's `maxWorkers` LRU alone, as before). At most `loader.maxWorkers`.
   */
  maxWorkersPerKey?: number;
  /**
   * `/v1/rpc` sessions (WebSockets) one key may hold open at once (default 16); one more is refused
   * with 429. Each session may hold 20,000 objects and 32 MiB of code, env and props for its
   * client, so this bounds what one key makes the server hold.
   */
  maxRpcSessionsPerKey?: number;
  /** Calls the whole server has in flight before it sheds load with 429 (default 8 per core). */
  maxInFlight?: number;
  /** Largest request body and WebSocket message, in bytes (default 1 MiB). */
  maxRequestBytes?: number;
  /**
   * The most one result may become as the server writes it (default 32 MiB): the JSON of a
   * `/v1/run` or `/v1/codemode/execute` answer's `result` (and, separately, of its logs), a `/v1/rpc`
   * answer's Cap'n Web message. Past it the call's answer is a `RangeError`. A typed array is an
   * array of numbers in JSON (up to 4 bytes for one of a byte), a sparse array a `null` for each hole.
   */
  maxResultBytes?: number;
  /** How long shutdown waits for in-flight calls (default 30 s). */
  shutdownTimeoutMs?: number;
  /**
   * How long a client has to take a call's answer once it is ready (default 30 s): the call keeps
   * its slot until the answer is written out, and a connection whose client does not read it in
   * time is closed, so unread answers cannot pile up in the server's memory.
   */
  answerTimeoutMs?: number;
  /**
   * How long a request body may take to arrive, from its first read (default 30 s): past it the
   * request is answered 408 and its connection closed. Bodies being read are budgeted too: at most
   * `maxInFlight` at once (one key: its `maxConcurrency`) and 16 × `maxRequestBytes` of them (one
   * key: half, with API keys), 429 past either.
   */
  bodyTimeoutMs?: number;
  /**
   * How long a /v1/rpc client's `getCode()` callback may take to answer before the call that
   * started the worker fails with GetCodeTimeoutError and frees its slot (default 10 s).
   */
  getCodeTimeoutMs?: number;
  /** Options for the server's WorkerLoader (its `limits` come from `limits` above). */
  loader?: Pick<WorkerLoaderOptions, "maxWorkers" | "idleTimeoutMs" | "warmPool">;
  /**
   * Outbound fetches of workers: a server-wide `allowHosts` list (the default for requests that
   * send none, and the ceiling of those that do), `credentials` added on the host from
   * `${ENV_VAR}` templates, body and time limits, `log` (one audit line per hop, default true).
   * Private and loopback addresses are refused unless `allowPrivate`.
   */
  outbound?: OutboundConfig;
  /**
   * Durable Objects over `/v1/run` (`object: { namespace, id, class }`): each object a facet with its
   * own SQLite database, under `dir` (default: ISLET_DATA_DIR; without either, in memory until the
   * server stops); `storageMb` per object (default 1024), `callTimeoutMs` per storage call (default 5 s).
   */
  storage?: { dir?: string; storageMb?: number; callTimeoutMs?: number };
  /** The code-mode section, handed to islet/codemode to build the server's tool sources. */
  codemode?: unknown;
  /** This node's name, sent as X-Islet-Node on every answer (default: ISLET_NODE_ID, else the host name). */
  nodeId?: string;
  /** One JSON object per request; default: a line on stdout. `false` silences it. */
  log?: ((entry: Record<string, unknown>) => void) | false;
}

export interface ResolvedServerOptions {
  port: number;
  host: string;
  apiKeys: ApiKeyConfig[];
  allowUnauthenticated: boolean;
  limits: Required<Limits>;
  maxConcurrencyPerKey: number;
  /** undefined: no per-key quota (no API keys and none set). */
  maxWorkersPerKey: number | undefined;
  maxRpcSessionsPerKey: number;
  maxInFlight: number;
  maxRequestBytes: number;
  maxResultBytes: number;
  shutdownTimeoutMs: number;
  answerTimeoutMs: number;
  bodyTimeoutMs: number;
  getCodeTimeoutMs: number;
  loader: Pick<WorkerLoaderOptions, "maxWorkers" | "idleTimeoutMs" | "warmPool">;
  outbound: ResolvedOutbound;
  storage: { dir: string | undefined; storageMb: number; callTimeoutMs: number };
  codemode: unknown;
  nodeId: string;
  log: (entry: Record<string, unknown>) => void;
}

/** Reads ISLET_CONFIG or `path`: a JSON object with the keys of ServerOptions. */
export function readConfigFile(path: string): ServerOptions {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ServerConfigError(code === "ENOENT" ? `no such file ${path}` : `cannot read ${path}: ${(error as Error).message}`, "config");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ServerConfigError(`${path} is not valid JSON: ${(error as Error).message}`, "config");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new ServerConfigError(`${path} must hold a JSON object`, "config");
  return parsed as ServerOptions;
}

/** ISLET_API_KEYS: comma-separated `id:key` pairs, or bare keys (named key1, key2, …). */
export function parseApiKeysEnv(value: string): ApiKeyConfig[] {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "")
    .map((item, index) => {
      const colon = item.indexOf(":");
      return colon > 0 ? { id: item.slice(0, colon), key: item.slice(colon + 1) } : { id: `key${index + 1}`, key: item };
    });
}

/** Merges explicit options over the environment over the config file, and validates the result. */
export function resolveOptions(options: ServerOptions = {}, env: NodeJS.ProcessEnv = {}): ResolvedServerOptions {
  const configPath = env.ISLET_CONFIG;
  const file = configPath ? readConfigFile(configPath) : {};
  const fromEnv: ServerOptions = {};
  if (env.ISLET_PORT !== undefined && env.ISLET_PORT !== "") fromEnv.port = parsePort(env.ISLET_PORT, "ISLET_PORT");
  if (env.ISLET_HOST) fromEnv.host = env.ISLET_HOST;
  if (env.ISLET_API_KEYS) fromEnv.apiKeys = parseApiKeysEnv(env.ISLET_API_KEYS);
  if (env.ISLET_ALLOW_UNAUTHENTICATED === "1" || env.ISLET_ALLOW_UNAUTHENTICATED === "true") fromEnv.allowUnauthenticated = true;
  if (env.ISLET_NODE_ID) fromEnv.nodeId = env.ISLET_NODE_ID;
  if (env.ISLET_DATA_DIR) fromEnv.storage = { dir: env.ISLET_DATA_DIR };
  const explicit = stripUndefined(options);
  const merged: ServerOptions = { ...file, ...fromEnv, ...explicit };
  // ISLET_DATA_DIR sets the directory; the file's other storage settings stay.
  if (fromEnv.storage !== undefined && explicit.storage === undefined) merged.storage = { ...file.storage, ...fromEnv.storage };
  // Keys add up: the config file's (with their limits), ISLET_API_KEYS', the flags'. A key that two
  // of them define is refused rather than letting one silently replace the other's limits.
  merged.apiKeys = mergeApiKeys([
    [`the config file (${configPath})`, file.apiKeys],
    ["ISLET_API_KEYS", fromEnv.apiKeys],
    ["--api-key (or the apiKeys option)", explicit.apiKeys],
  ]);
  // Flags set single outbound fields (--allow-host): the file's credentials and the rest stay.
  if (explicit.outbound !== undefined && file.outbound !== undefined) merged.outbound = { ...file.outbound, ...stripUndefined(explicit.outbound as ServerOptions) } as OutboundConfig;
  return validate(merged, env);
}

function mergeApiKeys(sources: [string, ApiKeyConfig[] | undefined][]): ApiKeyConfig[] | undefined {
  const seenIds = new Map<string, string>();
  const seenKeys = new Map<string, [string, string]>();
  const out: ApiKeyConfig[] = [];
  let any = false;
  for (const [source, list] of sources) {
    if (list === undefined) continue;
    any = true;
    // Shape errors are reported by validate(), naming the entry.
    if (!Array.isArray(list)) return list;
    const startIds = new Set(seenIds.keys());
    list.forEach((entry, index) => {
      out.push(entry);
      if (entry === null || typeof entry !== "object") return;
      const id = entry.id ?? `key${index + 1}`;
      if (typeof id === "string" && startIds.has(id)) {
        throw new ServerConfigError(`${source} and ${seenIds.get(id)} both define the key id "${id}": keep one of them (or rename one). Keys from several places add up; none replaces another.`, "apiKeys");
      }
      const other = typeof entry.key === "string" ? seenKeys.get(entry.key) : undefined;
      if (other !== undefined && other[0] !== source) {
        throw new ServerConfigError(`${source} (id "${id}") and ${other[0]} (id "${other[1]}") define the same key: keep one of them. Keys from several places add up; none replaces another.`, "apiKeys");
      }
      if (typeof id === "string") seenIds.set(id, source);
      if (typeof entry.key === "string") seenKeys.set(entry.key, [source, String(id)]);
    });
  }
  return any ? out : undefined;
}

function stripUndefined<T extends object>(options: T): T {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as T;
}

const PORT_MESSAGE = "must be a port number from 0 to 65535";

export function parsePort(value: string | number, setting: string): number {
  const port = typeof value === "number" ? value : Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ServerConfigError(`${PORT_MESSAGE}, got ${JSON.stringify(value)}`, setting);
  return port;
}

// The options' schema: shapes, types and ranges, every problem reported at once. What depends on
// several settings (keys defined twice, unauthenticated non-loopback hosts, defaults derived from
// other settings) is checked after it.
const portSchema = z
  .number({ error: (issue) => `${PORT_MESSAGE}, got ${JSON.stringify(issue.input) ?? describeValue(issue.input)}` })
  .int({ error: (issue) => `${PORT_MESSAGE}, got ${JSON.stringify(issue.input)}` })
  .min(0, { error: (issue) => `${PORT_MESSAGE}, got ${JSON.stringify(issue.input)}` })
  .max(65535, { error: (issue) => `${PORT_MESSAGE}, got ${JSON.stringify(issue.input)}` });

const apiKeySchema = z.strictObject(
  {
    id: z.string({ error: "must be 1-64 letters, digits, '_', '.' or '-'" }).regex(/^[\w.-]{1,64}$/, { error: "must be 1-64 letters, digits, '_', '.' or '-'" }).optional(),
    key: z.string({ error: "must be a string of at least 8 characters" }).min(8, { error: "must be a string of at least 8 characters" }),
    limits: limitsSchema.optional(),
    maxConcurrency: positiveInteger().optional(),
  },
  { error: (issue) => (issue.code === "invalid_type" ? "must be an object {id, key}" : undefined) },
);

const serverSchema = z.strictObject({
  port: portSchema.optional(),
  host: z.string({ error: "must be a host name or address" }).min(1, { error: "must be a host name or address" }).optional(),
  apiKeys: z
    .array(apiKeySchema, { error: "must be an array of {id, key}" })
    .superRefine((keys, context) => {
      const ids = new Set<string>();
      keys.forEach((entry, index) => {
        const id = entry.id ?? `key${index + 1}`;
        if (ids.has(id)) context.addIssue({ code: "custom", path: [index, "id"], message: `the id "${id}" is used twice` });
        ids.add(id);
      });
    })
    .optional(),
  allowUnauthenticated: z.boolean({ error: (issue) => `must be true or false${got(issue)}` }).optional(),
  limits: limitsSchema.optional(),
  maxConcurrencyPerKey: positiveInteger().optional(),
  maxWorkersPerKey: positiveInteger().optional(),
  maxRpcSessionsPerKey: positiveInteger().optional(),
  maxInFlight: positiveInteger().optional(),
  maxRequestBytes: positiveInteger().optional(),
  maxResultBytes: positiveInteger().optional(),
  shutdownTimeoutMs: positiveInteger().optional(),
  answerTimeoutMs: positiveInteger().optional(),
  bodyTimeoutMs: positiveInteger().optional(),
  getCodeTimeoutMs: positiveInteger().optional(),
  loader: z
    .strictObject(
      { maxWorkers: positiveInteger().optional(), idleTimeoutMs: positiveInteger().optional(), warmPool: nonNegativeInteger().optional() },
      { error: (issue) => (issue.code === "invalid_type" ? `must be an object${got(issue)}` : undefined) },
    )
    .optional(),
  storage: z
    .strictObject(
      {
        dir: z.string({ error: (issue) => `must be a directory path${got(issue)}` }).min(1, { error: "must be a directory path" }).optional(),
        storageMb: positiveInteger().optional(),
        callTimeoutMs: positiveInteger().optional(),
      },
      { error: (issue) => (issue.code === "invalid_type" ? `must be an object${got(issue)}` : undefined) },
    )
    .optional(),
  // Checked by its own schema (outbound-config.ts) and by islet/codemode.
  outbound: z.unknown().optional(),
  codemode: z.unknown().optional(),
  nodeId: z
    .string({ error: (issue) => `must be 1-128 letters, digits or . _ : - (it is sent as a header), got ${JSON.stringify(issue.input)}` })
    .regex(/^[\w.:-]{1,128}$/, { error: (issue) => `must be 1-128 letters, digits or . _ : - (it is sent as a header), got ${JSON.stringify(issue.input)}` })
    .optional(),
  log: z.union([z.function(), z.literal(false)], { error: "must be a function or false" }).optional(),
}, { error: (issue) => (issue.code === "unrecognized_keys" ? "unknown setting (a typo?)" : undefined) });

/** The config's problems as one ServerConfigError: `setting` is the field when there is one problem. */
function configError(error: z.ZodError): ServerConfigError {
  const problems = problemsOf(error);
  if (problems.length === 1 && problems[0].field !== "") return new ServerConfigError(problems[0].message, problems[0].field);
  return new ServerConfigError(formatProblems(problems));
}

export function isLoopback(host: string): boolean {
  if (host === "localhost" || host === "::1") return true;
  return isIP(host) === 4 && host.startsWith("127.");
}

function validate(options: ServerOptions, env: NodeJS.ProcessEnv): ResolvedServerOptions {
  const parsed = serverSchema.safeParse(options);
  if (!parsed.success) throw configError(parsed.error);
  const checked = parsed.data;
  const port = checked.port ?? 8787;
  const host = checked.host ?? "127.0.0.1";
  const limits = { ...DEFAULT_LIMITS, ...stripUndefined(checked.limits ?? {}) };
  const apiKeys: ApiKeyConfig[] = (checked.apiKeys ?? []).map((entry, index) => ({
    id: entry.id ?? `key${index + 1}`,
    key: entry.key,
    limits: stripUndefined(entry.limits ?? {}),
    maxConcurrency: entry.maxConcurrency,
  }));
  const allowUnauthenticated = checked.allowUnauthenticated === true;
  if (apiKeys.length === 0 && !allowUnauthenticated && !isLoopback(host)) {
    throw new ServerConfigError(
      `refusing to serve ${host} without API keys: anyone who can reach it could run code on this machine. ` +
        "Set ISLET_API_KEYS (or --api-key, or apiKeys in the config file), bind to 127.0.0.1, or pass --allow-unauthenticated if something in front of islet authenticates.",
      "apiKeys",
    );
  }
  const maxInFlight = checked.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  // With keys, one key's default share is half the server's slots: a key that holds all its calls
  // open (slow code, a getCode that takes its time) still leaves the other half to everyone else.
  const maxConcurrencyPerKey = checked.maxConcurrencyPerKey ?? (apiKeys.length > 0 ? Math.max(1, Math.floor(maxInFlight / 2)) : maxInFlight);
  const loader = checked.loader ?? {};
  // With keys, each key's default share of live workers is the global cap split evenly: the
  // quotas add up to at most maxWorkers, so no key's workers push out another's.
  const maxWorkers = loader.maxWorkers ?? 500;
  if (checked.maxWorkersPerKey !== undefined && checked.maxWorkersPerKey > maxWorkers) {
    throw new ServerConfigError(`must be at most loader.maxWorkers (${maxWorkers}), got ${checked.maxWorkersPerKey}`, "maxWorkersPerKey");
  }
  const maxWorkersPerKey = checked.maxWorkersPerKey ?? (apiKeys.length > 0 ? Math.max(1, Math.floor(maxWorkers / apiKeys.length)) : undefined);
  const log = options.log === false ? () => {} : (options.log ?? ((entry) => process.stdout.write(JSON.stringify(entry) + "\n")));
  return {
    port,
    host,
    apiKeys,
    allowUnauthenticated,
    limits,
    maxConcurrencyPerKey,
    maxWorkersPerKey,
    maxRpcSessionsPerKey: checked.maxRpcSessionsPerKey ?? DEFAULT_MAX_RPC_SESSIONS_PER_KEY,
    maxInFlight,
    maxRequestBytes: checked.maxRequestBytes ?? 1024 * 1024,
    maxResultBytes: checked.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES,
    shutdownTimeoutMs: checked.shutdownTimeoutMs ?? 30_000,
    answerTimeoutMs: checked.answerTimeoutMs ?? 30_000,
    bodyTimeoutMs: checked.bodyTimeoutMs ?? 30_000,
    getCodeTimeoutMs: checked.getCodeTimeoutMs ?? 10_000,
    loader: { maxWorkers: loader.maxWorkers, idleTimeoutMs: loader.idleTimeoutMs, warmPool: loader.warmPool ?? 0 },
    // The codemode section is read later (openCodeMode), but a config lacking variables in both
    // sections gets them all named in one error, not the outbound ones first.
    outbound: resolveOutbound(options.outbound, env, "outbound", {}, missingInSection(options.codemode ?? null, env, "codemode")),
    storage: { dir: checked.storage?.dir, storageMb: checked.storage?.storageMb ?? 1024, callTimeoutMs: checked.storage?.callTimeoutMs ?? 5_000 },
    codemode: options.codemode,
    nodeId: checked.nodeId ?? hostname().slice(0, 128),
    log,
  };
}
