// The `islet mcp` configuration file: which upstream MCP servers and OpenAPI documents to expose.
// `${VAR}` in a value is replaced by the environment variable when the config is loaded; values
// that come from the environment into `env`, `headers` or `auth.value` count as secrets and are
// scrubbed from everything the sandbox receives and everything islet logs.

import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
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
}

export interface OpenApiSourceConfig extends SourceCommon {
  /** A path (relative to the config file) or an http(s) URL of an OpenAPI 3.0/3.1 document, JSON or YAML. */
  spec: string;
  /** Where requests go; defaults to the document's first `servers` entry. */
  baseUrl?: string;
  auth?: { header: string; value: string };
  headers: Record<string, string>;
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
}

/** Secrets shorter than this are not scrubbed: replacing a 3-character value everywhere would mangle results. */
export const MIN_SECRET_LENGTH = 6;

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

type Env = Record<string, string | undefined>;

class Reader {
  readonly secrets = new Set<string>();
  constructor(
    private readonly env: Env,
    readonly baseDir: string,
  ) {}

  object(value: unknown, field: string): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new ConfigError(field, `must be an object, got ${describe(value)}`);
    }
    return value as Record<string, unknown>;
  }

  onlyKeys(value: Record<string, unknown>, field: string, allowed: string[]): void {
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) throw new ConfigError(join(field, key), `unknown field (expected one of: ${allowed.join(", ")})`);
    }
  }

  string(value: unknown, field: string, options: { secret?: boolean } = {}): string {
    if (typeof value !== "string") throw new ConfigError(field, `must be a string, got ${describe(value)}`);
    return value.replace(VARIABLE, (_, name: string) => {
      const resolved = this.env[name];
      if (resolved === undefined) throw new ConfigError(field, `environment variable ${name} is not set`);
      if (options.secret && resolved.length >= MIN_SECRET_LENGTH) this.secrets.add(resolved);
      return resolved;
    });
  }

  optionalString(value: unknown, field: string): string | undefined {
    return value === undefined ? undefined : this.string(value, field);
  }

  strings(value: unknown, field: string): string[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) throw new ConfigError(field, `must be an array of strings, got ${describe(value)}`);
    return value.map((item, index) => this.string(item, `${field}[${index}]`));
  }

  stringMap(value: unknown, field: string, options: { secret?: boolean } = {}): Record<string, string> {
    if (value === undefined) return {};
    const map = this.object(value, field);
    const result: Record<string, string> = {};
    for (const [key, item] of Object.entries(map)) result[key] = this.string(item, join(field, key), options);
    return result;
  }

  positive(value: unknown, field: string): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      throw new ConfigError(field, `must be a positive number, got ${describe(value)}`);
    }
    return value;
  }
}

function join(field: string, key: string): string {
  if (!/^[A-Za-z_$][\w$-]*$/.test(key)) return `${field}[${JSON.stringify(key)}]`;
  return field === "" ? key : `${field}.${key}`;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}

function common(reader: Reader, entry: Record<string, unknown>, field: string): SourceCommon {
  const result: SourceCommon = {};
  const description = reader.optionalString(entry.description, join(field, "description"));
  if (description !== undefined) result.description = description;
  if (entry.needsApproval !== undefined) result.needsApproval = reader.strings(entry.needsApproval, join(field, "needsApproval"));
  return result;
}

function readServer(reader: Reader, value: unknown, field: string): StdioServerConfig | HttpServerConfig {
  const entry = reader.object(value, field);
  const shared = ["description", "needsApproval", "timeoutMs"];
  const timeoutMs = reader.positive(entry.timeoutMs, join(field, "timeoutMs"));
  if (entry.command !== undefined && entry.url !== undefined) throw new ConfigError(field, 'give either "command" (stdio) or "url" (streamable HTTP), not both');
  if (entry.command !== undefined) {
    reader.onlyKeys(entry, field, ["command", "args", "env", "cwd", ...shared]);
    const command = reader.string(entry.command, join(field, "command"));
    if (command === "") throw new ConfigError(join(field, "command"), "must not be empty");
    const cwd = reader.optionalString(entry.cwd, join(field, "cwd"));
    return {
      ...common(reader, entry, field),
      command,
      args: reader.strings(entry.args, join(field, "args")),
      env: reader.stringMap(entry.env, join(field, "env"), { secret: true }),
      ...(cwd === undefined ? {} : { cwd: resolve(reader.baseDir, cwd) }),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    };
  }
  if (entry.url !== undefined) {
    reader.onlyKeys(entry, field, ["url", "headers", ...shared]);
    const url = reader.string(entry.url, join(field, "url"));
    if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) throw new ConfigError(join(field, "url"), `must be an http(s) URL, got ${describe(url)}`);
    return {
      ...common(reader, entry, field),
      url,
      headers: reader.stringMap(entry.headers, join(field, "headers"), { secret: true }),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    };
  }
  throw new ConfigError(field, 'needs "command" (a stdio server) or "url" (a streamable HTTP server)');
}

function readOpenApi(reader: Reader, value: unknown, field: string): OpenApiSourceConfig {
  const entry = reader.object(value, field);
  reader.onlyKeys(entry, field, ["spec", "baseUrl", "auth", "headers", "description", "needsApproval"]);
  if (entry.spec === undefined) throw new ConfigError(join(field, "spec"), "is required (a path or an http(s) URL of the OpenAPI document)");
  let spec = reader.string(entry.spec, join(field, "spec"));
  if (spec === "") throw new ConfigError(join(field, "spec"), "must not be empty");
  if (!/^https?:\/\//i.test(spec)) spec = resolve(reader.baseDir, spec);
  const result: OpenApiSourceConfig = { ...common(reader, entry, field), spec, headers: reader.stringMap(entry.headers, join(field, "headers"), { secret: true }) };
  const baseUrl = reader.optionalString(entry.baseUrl, join(field, "baseUrl"));
  if (baseUrl !== undefined) {
    if (!/^https?:\/\//i.test(baseUrl) || !URL.canParse(baseUrl)) throw new ConfigError(join(field, "baseUrl"), `must be an http(s) URL, got ${describe(baseUrl)}`);
    result.baseUrl = baseUrl;
  }
  if (entry.auth !== undefined) {
    const authField = join(field, "auth");
    const auth = reader.object(entry.auth, authField);
    reader.onlyKeys(auth, authField, ["header", "value"]);
    const header = reader.string(auth.header ?? "Authorization", join(authField, "header"));
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) throw new ConfigError(join(authField, "header"), `is not a valid header name: ${describe(header)}`);
    if (auth.value === undefined) throw new ConfigError(join(authField, "value"), 'is required, e.g. "Bearer ${API_TOKEN}"');
    result.auth = { header, value: reader.string(auth.value, join(authField, "value"), { secret: true }) };
  }
  return result;
}

/**
 * Validates a parsed config file and resolves `${VAR}` references from `env`.
 * Throws `ConfigError` naming the field at the first problem.
 */
export function parseConfig(value: unknown, options: { env?: Env; baseDir?: string } = {}): IsletMcpConfig {
  const reader = new Reader(options.env ?? process.env, options.baseDir ?? process.cwd());
  const root = reader.object(value, "");
  reader.onlyKeys(root, "", ["$schema", "servers", "openapi", "limits"]);
  const servers: IsletMcpConfig["servers"] = {};
  const openapi: IsletMcpConfig["openapi"] = {};
  const seen = new Set<string>();
  const checkNamespace = (name: string, field: string) => {
    if (name.trim() === "") throw new ConfigError(field, "a namespace must not be empty");
    if (seen.has(name)) throw new ConfigError(field, `namespace "${name}" is used twice (servers and openapi share one set of namespaces)`);
    seen.add(name);
  };
  if (root.servers !== undefined) {
    for (const [name, entry] of Object.entries(reader.object(root.servers, "servers"))) {
      const field = join("servers", name);
      checkNamespace(name, field);
      servers[name] = readServer(reader, entry, field);
    }
  }
  if (root.openapi !== undefined) {
    for (const [name, entry] of Object.entries(reader.object(root.openapi, "openapi"))) {
      const field = join("openapi", name);
      checkNamespace(name, field);
      openapi[name] = readOpenApi(reader, entry, field);
    }
  }
  if (seen.size === 0) throw new ConfigError("servers", 'the config lists no sources: add at least one entry under "servers" or "openapi"');
  const limits: LimitsConfig = {};
  if (root.limits !== undefined) {
    const entry = reader.object(root.limits, "limits");
    reader.onlyKeys(entry, "limits", ["cpuMs", "memoryMb", "wallMs", "subRequests"]);
    for (const key of ["cpuMs", "memoryMb", "wallMs", "subRequests"] as const) {
      const number = reader.positive(entry[key], `limits.${key}`);
      if (number !== undefined) limits[key] = number;
    }
  }
  return { servers, openapi, limits, secrets: [...reader.secrets], baseDir: reader.baseDir };
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
  for (const secret of secrets) if (result.includes(secret)) result = result.split(secret).join("[redacted]");
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
      for (const element of item) copy.push(walk(element));
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
