// The `islet mcp` configuration file: which upstream MCP servers and OpenAPI documents to expose.
// `${VAR}` in a value is replaced by the environment variable when the config is loaded; values
// that come from the environment into `env`, `headers` or `auth.value` count as secrets and are
// scrubbed from everything the sandbox receives and everything islet logs.

import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { limitsSchema } from "../protocol/limits.ts";
import { fieldOf, formatProblems, problemsOf } from "../protocol/schema.ts";
import { CodeModeError } from "./errors.ts";

/** The config file is malformed; `field` is the path of the culprit, e.g. `servers.github.env.TOKEN`. */
export class ConfigError extends CodeModeError {
  readonly field: string;
  constructor(field: string, message: string, options?: ErrorOptions) {
    super(field === "" ? message : `${field}: ${message}`, options);
    this.field = field;
  }
}

interface SourceCommon {
  /** One line shown to the model next to the namespace. */
  description?: string;
  /** Tool names (MCP) or operationIds (OpenAPI) that need approval: `islet mcp` asks its client through MCP elicitation and rejects the call when the client cannot be asked. */
  needsApproval?: string[];
}

export interface StdioServerConfig extends SourceCommon {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
}

export interface HttpServerConfig extends SourceCommon {
  url: string;
  headers: Record<string, string>;
  timeoutMs?: number;
  /** "auto" (default: streamable HTTP, the older HTTP+SSE transport when refused), "streamable-http" or "sse". */
  transport?: "auto" | "streamable-http" | "sse";
}

export interface OpenApiSourceConfig extends SourceCommon {
  /** A path (relative to the config file) or an http(s) URL of an OpenAPI 3.0/3.1 document, JSON or YAML. */
  spec: string;
  /** Where requests go; defaults to the document's first `servers` entry. */
  baseUrl?: string;
  auth?: { header: string; value: string };
  headers: Record<string, string>;
  /** The longest one request may take (fromOpenApi's timeoutMs; default 60 s). */
  timeoutMs?: number;
}

export interface LimitsConfig {
  cpuMs?: number;
  memoryMb?: number;
  wallMs?: number;
  subRequests?: number;
}

export interface IsletMcpConfig {
  servers: Record<string, StdioServerConfig | HttpServerConfig>;
  openapi: Record<string, OpenApiSourceConfig>;
  limits: LimitsConfig;
  /** Values taken from the environment into env/headers/auth: never shown to the sandbox or logged. */
  secrets: string[];
  /** The directory relative paths (spec, cwd) are resolved against. */
  baseDir: string;
  /** Sessions for execute (`"sessions": { "dir": "./sessions" }`); absent: execute keeps no sessions. */
  sessions?: { dir?: string; storageMb?: number };
  /** `"typecheck": true`: execute type-checks the code against the API before it runs (needs `typescript` installed). */
  typecheck?: boolean;
  /** `"approvals": { "dir": "./approvals" }`: executions paused for approval and the approval history outlive a restart. */
  approvals?: { dir: string };
}

/** Secrets shorter than this are not scrubbed: replacing a 3-character value everywhere would mangle results. */
export const MIN_SECRET_LENGTH = 6;

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

type Env = Record<string, string | undefined>;

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const isHttpUrl = (value: string) => /^https?:\/\//i.test(value) && URL.canParse(value);

/**
 * The config's schema, for one parse: strings have their `${VAR}` replaced from `env` (a missing
 * variable is a problem of that field), and values read into env/headers/auth.value join `secrets`.
 */
function configSchema(env: Env, secrets: Set<string>) {
  const text = (options: { secret?: boolean; required?: string } = {}) =>
    z
      .string({ error: (issue) => (issue.input === undefined && options.required !== undefined ? options.required : `must be a string, got ${describe(issue.input)}`) })
      .transform((value, context) =>
        value.replace(VARIABLE, (_, name: string) => {
          const resolved = env[name];
          if (resolved === undefined) {
            context.addIssue({ code: "custom", message: `environment variable ${name} is not set` });
            return "";
          }
          if (options.secret && resolved.length >= MIN_SECRET_LENGTH) secrets.add(resolved);
          return resolved;
        }),
      );
  const nonEmpty = (required?: string) => text({ required }).refine((value) => value !== "", { error: "must not be empty" });
  const httpUrl = text().refine(isHttpUrl, { error: (issue) => `must be an http(s) URL, got ${describe(issue.input)}` });
  const strings = z.array(text(), { error: (issue) => `must be an array of strings, got ${describe(issue.input)}` });
  const secretMap = z.record(z.string(), text({ secret: true }), { error: (issue) => `must be an object, got ${describe(issue.input)}` });
  const positive = z
    .number({ error: (issue) => `must be a positive number, got ${describe(issue.input)}` })
    .positive({ error: (issue) => `must be a positive number, got ${describe(issue.input)}` });
  const strict = <Shape extends z.ZodRawShape>(shape: Shape) =>
    z.strictObject(shape, {
      error: (issue) =>
        issue.code === "invalid_type"
          ? `must be an object, got ${describe(issue.input)}`
          : issue.code === "unrecognized_keys"
            ? `unknown field (expected one of: ${Object.keys(shape).join(", ")})`
            : undefined,
    });
  const shared = { description: text().optional(), needsApproval: strings.optional(), timeoutMs: positive.optional() };
  const stdio = strict({ command: nonEmpty(), args: strings.optional(), env: secretMap.optional(), cwd: text().optional(), ...shared });
  const http = strict({ url: httpUrl, headers: secretMap.optional(), transport: z.enum(["auto", "streamable-http", "sse"], { error: (issue) => `must be "auto", "streamable-http" or "sse", got ${describe(issue.input)}` }).optional(), ...shared });
  // A stdio server has "command", an HTTP one "url": the entry's own keys say which schema applies.
  const server = z.unknown().transform((value, context): z.infer<typeof stdio> | z.infer<typeof http> => {
    if (!isObject(value)) {
      context.addIssue({ code: "custom", message: `must be an object, got ${describe(value)}` });
      return z.NEVER;
    }
    if (value.command !== undefined && value.url !== undefined) {
      context.addIssue({ code: "custom", message: 'give either "command" (stdio) or "url" (streamable HTTP), not both' });
      return z.NEVER;
    }
    if (value.command === undefined && value.url === undefined) {
      context.addIssue({ code: "custom", message: 'needs "command" (a stdio server) or "url" (a streamable HTTP server)' });
      return z.NEVER;
    }
    const parsed = (value.command !== undefined ? stdio : http).safeParse(value);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) context.addIssue(issue as Parameters<typeof context.addIssue>[0]);
    return z.NEVER;
  });
  const openapi = strict({
    spec: nonEmpty("is required (a path or an http(s) URL of the OpenAPI document)"),
    baseUrl: httpUrl.optional(),
    auth: strict({
      header: text()
        .refine((value) => HEADER_NAME.test(value), { error: (issue) => `is not a valid header name: ${describe(issue.input)}` })
        .optional(),
      value: text({ secret: true, required: 'is required, e.g. "Bearer ${API_TOKEN}"' }),
    }).optional(),
    headers: secretMap.optional(),
    description: text().optional(),
    needsApproval: strings.optional(),
    timeoutMs: positive.optional(),
  });
  const section = <T extends z.ZodType>(entry: T) => z.record(z.string(), entry, { error: (issue) => `must be an object, got ${describe(issue.input)}` });
  const sessions = strict({
    dir: z.string({ error: (issue) => `must be a directory path, got ${describe(issue.input)}` }).optional(),
    storageMb: z.number({ error: (issue) => `must be a number of MiB, got ${describe(issue.input)}` }).int().positive().optional(),
  });
  return strict({ $schema: z.unknown().optional(), servers: section(server).optional(), openapi: section(openapi).optional(), limits: limitsSchema.optional(), sessions: sessions.optional(), approvals: strict({ dir: z.string({ error: (issue) => `must be a directory path, got ${describe(issue.input)}` }) }).optional(), typecheck: z.boolean({ error: (issue) => `must be true or false, got ${describe(issue.input)}` }).optional() });
}

function commonOf(entry: { description?: string; needsApproval?: string[] }): SourceCommon {
  const result: SourceCommon = {};
  if (entry.description !== undefined) result.description = entry.description;
  if (entry.needsApproval !== undefined) result.needsApproval = entry.needsApproval;
  return result;
}

/**
 * Validates a parsed config file and resolves `${VAR}` references from `env`. Throws one
 * `ConfigError` listing every problem; its `field` names the first.
 */
export function parseConfig(value: unknown, options: { env?: Env; baseDir?: string } = {}): IsletMcpConfig {
  const baseDir = options.baseDir ?? process.cwd();
  const secrets = new Set<string>();
  const parsed = configSchema(options.env ?? process.env, secrets).safeParse(value);
  const problems = parsed.success ? [] : problemsOf(parsed.error);
  const servers: IsletMcpConfig["servers"] = {};
  const openapi: IsletMcpConfig["openapi"] = {};
  if (parsed.success) {
    const seen = new Set<string>();
    const namespace = (name: string, field: string) => {
      if (name.trim() === "") problems.push({ field, message: "a namespace must not be empty" });
      else if (seen.has(name)) problems.push({ field, message: `namespace "${name}" is used twice (servers and openapi share one set of namespaces)` });
      seen.add(name);
    };
    for (const [name, entry] of Object.entries(parsed.data.servers ?? {})) {
      namespace(name, fieldOf([name], "servers"));
      const timeout = entry.timeoutMs === undefined ? {} : { timeoutMs: entry.timeoutMs };
      if ("command" in entry) {
        servers[name] = { ...commonOf(entry), command: entry.command, args: entry.args ?? [], env: entry.env ?? {}, ...(entry.cwd === undefined ? {} : { cwd: resolve(baseDir, entry.cwd) }), ...timeout };
      } else {
        servers[name] = { ...commonOf(entry), url: entry.url, headers: entry.headers ?? {}, ...timeout, ...(entry.transport !== undefined ? { transport: entry.transport } : {}) };
      }
    }
    for (const [name, entry] of Object.entries(parsed.data.openapi ?? {})) {
      namespace(name, fieldOf([name], "openapi"));
      const result: OpenApiSourceConfig = { ...commonOf(entry), spec: /^https?:\/\//i.test(entry.spec) ? entry.spec : resolve(baseDir, entry.spec), headers: entry.headers ?? {} };
      if (entry.baseUrl !== undefined) result.baseUrl = entry.baseUrl;
      if (entry.timeoutMs !== undefined) result.timeoutMs = entry.timeoutMs;
      if (entry.auth !== undefined) result.auth = { header: entry.auth.header ?? "Authorization", value: entry.auth.value };
      openapi[name] = result;
    }
    if (seen.size === 0) problems.push({ field: "servers", message: 'the config lists no sources: add at least one entry under "servers" or "openapi"' });
  }
  if (problems.length > 0 || !parsed.success) {
    const [first, ...rest] = problems;
    throw new ConfigError(first.field, rest.length === 0 ? first.message : `${first.message}; ${formatProblems(rest)}`);
  }
  const limits: LimitsConfig = {};
  for (const [key, limit] of Object.entries(parsed.data.limits ?? {}) as [keyof LimitsConfig, number | undefined][]) if (limit !== undefined) limits[key] = limit;
  const sessions = parsed.data.sessions;
  return {
    servers,
    openapi,
    limits,
    secrets: [...secrets],
    baseDir,
    ...(sessions !== undefined ? { sessions: { ...sessions, ...(sessions.dir !== undefined ? { dir: resolve(baseDir, sessions.dir) } : {}) } } : {}),
    ...(parsed.data.typecheck !== undefined ? { typecheck: parsed.data.typecheck } : {}),
    ...(parsed.data.approvals !== undefined ? { approvals: { dir: resolve(baseDir, parsed.data.approvals.dir) } } : {}),
  };
}

/** Reads and validates a config file; relative paths in it are resolved against its directory. */
export async function loadConfig(file: string, env: Env = process.env): Promise<IsletMcpConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError("", `cannot read config file ${file}: ${code === "ENOENT" ? "no such file" : (error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError("", `config file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  return parseConfig(json, { env, baseDir: dirname(resolve(file)) });
}

/** Replaces every secret in a string with `[redacted]`. */
export function redactText(text: string, secrets: readonly string[]): string {
  let result = text;
  // Longest first: a secret that holds another (a whole header value and its token) goes whole.
  const ordered = secrets.length > 1 ? [...secrets].sort((a, b) => b.length - a.length) : secrets;
  for (const secret of ordered) if (result.includes(secret)) result = result.split(secret).join("[redacted]");
  return result;
}

/**
 * Deep-copies a structured-clone value with every secret in its strings (and object keys) redacted.
 * Used on every value an upstream returns before the sandbox sees it: an upstream that echoes
 * its environment or request headers must not leak the credentials islet gave it.
 */
export function redactValue<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  const seen = new Map<object, unknown>();
  const walk = (item: unknown): unknown => {
    if (typeof item === "string") return redactText(item, secrets);
    if (typeof item !== "object" || item === null) return item;
    if (seen.has(item)) return seen.get(item);
    if (Array.isArray(item)) {
      const copy: unknown[] = [];
      seen.set(item, copy);
      // The elements it holds, holes left as holes: an iterator would visit every index of a
      // sparse array's length (2^32 − 1 of them) and fill a dense copy.
      copy.length = item.length;
      for (const key of Object.keys(item)) {
        const index = Number(key);
        if (Number.isInteger(index) && index < item.length && String(index) === key) copy[index] = walk(item[index]);
      }
      return copy;
    }
    if (item instanceof Error) {
      // Only name and message cross into a sandbox, so a plain Error carries all that matters.
      const copy = new Error(redactText(item.message, secrets));
      copy.name = item.name;
      return copy;
    }
    if (item instanceof Map) {
      const copy = new Map();
      seen.set(item, copy);
      for (const [key, element] of item) copy.set(walk(key), walk(element));
      return copy;
    }
    if (item instanceof Set) {
      const copy = new Set();
      seen.set(item, copy);
      for (const element of item) copy.add(walk(element));
      return copy;
    }
    if (Object.getPrototypeOf(item) !== Object.prototype && Object.getPrototypeOf(item) !== null) return item;
    const copy: Record<string, unknown> = {};
    seen.set(item, copy);
    for (const [key, element] of Object.entries(item)) copy[redactText(key, secrets)] = walk(element);
    return copy;
  };
  return walk(value) as T;
}
