// The `outbound` section of a server (or `islet dev`) config: which hosts workers may reach, which
// credentials the host adds for which hosts (read from environment variables named in the config,
// never written in it), and the audit log. Checked with a zod schema up front, so a typo stops the
// server with the field's name instead of refusing requests later.

import { z } from "zod";
import { checkPatternsForConfig } from "./egress.ts";
import { ServerConfigError } from "./errors.ts";

const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

const template = z
  .string()
  .refine((value) => new RegExp(ENV_REFERENCE.source).test(value), {
    message: 'must name an environment variable, like "Bearer ${GITHUB_TOKEN}": the config file never holds the secret itself',
  });

const credentialSchema = z
  .object({
    headers: z.record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "is not a valid header name"), template).optional(),
    query: z.record(z.string().min(1), template).optional(),
  })
  .strict();

export const outboundSchema = z
  .object({
    /** Let workers reach loopback, private and link-local addresses (off: denyPrivateAddresses()). */
    allowPrivate: z.boolean().optional(),
    /** Hosts every worker may reach; a request's own allowHosts can only narrow it. */
    allowHosts: z.array(z.string().min(1)).optional(),
    /** Host pattern → headers/query parameters added on the host, from `${ENV_VAR}` templates. */
    credentials: z.record(z.string().min(1), credentialSchema).optional(),
    /** Largest upstream response body (default 10 MiB). */
    maxResponseBytes: z.number().int().positive().optional(),
    /** Time for one outbound exchange (default 30 s). */
    timeoutMs: z.number().int().positive().optional(),
    /** One line per outbound hop in the server log (default true). */
    log: z.boolean().optional(),
  })
  .strict();

export type OutboundConfig = z.input<typeof outboundSchema>;

export interface ResolvedCredential {
  headers?: Record<string, string>;
  query?: Record<string, string>;
}

export interface ResolvedOutbound {
  allowPrivate: boolean;
  /** undefined: no server-wide list (a request's allowHosts alone decides; none means no network). */
  allowHosts: string[] | undefined;
  /** [host pattern, credential with the environment's values]: kept on the host only. */
  credentials: [string, ResolvedCredential][];
  maxResponseBytes: number;
  timeoutMs: number;
  log: boolean;
}

/** A zod issue path as a config field: outbound.credentials["api.github.com"].headers.authorization */
function fieldOf(path: readonly PropertyKey[], prefix: string): string {
  let field = prefix;
  for (const part of path) {
    if (typeof part === "number") field += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(String(part))) field += `.${String(part)}`;
    else field += `[${JSON.stringify(String(part))}]`;
  }
  return field;
}

/** Every `${NAME}` in a template that `env` does not set. */
export function missingVariables(text: string, env: NodeJS.ProcessEnv): string[] {
  const missing: string[] = [];
  for (const match of text.matchAll(ENV_REFERENCE)) if (env[match[1]] === undefined || env[match[1]] === "") missing.push(match[1]);
  return missing;
}

/**
 * Every `${NAME}` anywhere in a config section (a codemode section, an islet mcp file) that `env`
 * does not set, as "field needs NAME": so a config is fixed in one go, not one variable per start.
 */
export function missingInSection(value: unknown, env: NodeJS.ProcessEnv, prefix: string): string[] {
  const out: string[] = [];
  const walk = (item: unknown, path: PropertyKey[], depth: number) => {
    if (depth > 32) return;
    if (typeof item === "string") {
      const absent = [...item.matchAll(ENV_REFERENCE)].map((m) => m[1]).filter((name) => env[name] === undefined);
      if (absent.length > 0) out.push(`${fieldOf(path, prefix).replace(/^\./, "")} needs ${[...new Set(absent)].join(", ")}`);
    } else if (Array.isArray(item)) item.forEach((child, i) => walk(child, [...path, i], depth + 1));
    else if (item !== null && typeof item === "object") for (const [key, child] of Object.entries(item)) walk(child, [...path, key], depth + 1);
  };
  walk(value, [], 0);
  return out;
}

function substitute(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(ENV_REFERENCE, (_, name: string) => env[name] as string);
}

/**
 * Validates the section and reads the credentials' environment variables. Every problem of the
 * schema, then every missing variable, is reported in one ServerConfigError.
 */
export function resolveOutbound(
  value: unknown,
  env: NodeJS.ProcessEnv,
  prefix = "outbound",
  defaults: { allowPrivate?: boolean } = {},
  /** Variables other sections of the same config lack ("codemode.… needs NAME"), named in the same error. */
  alsoMissing: readonly string[] = [],
): ResolvedOutbound {
  const parsed = outboundSchema.safeParse(value ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${fieldOf(issue.path, prefix)}: ${issue.message}`);
    throw new ServerConfigError(problems.join("; "));
  }
  const section = parsed.data;
  try {
    if (section.allowHosts !== undefined) checkPatternsForConfig(section.allowHosts);
    checkPatternsForConfig(Object.keys(section.credentials ?? {}));
  } catch (error) {
    throw new ServerConfigError((error as Error).message, prefix);
  }
  const missing: string[] = [];
  const credentials: [string, ResolvedCredential][] = [];
  for (const [host, credential] of Object.entries(section.credentials ?? {})) {
    const resolved: ResolvedCredential = {};
    for (const kind of ["headers", "query"] as const) {
      const entries = Object.entries(credential[kind] ?? {});
      if (entries.length === 0) continue;
      resolved[kind] = {};
      for (const [name, text] of entries) {
        const absent = missingVariables(text, env);
        if (absent.length > 0) missing.push(`${fieldOf(["credentials", host, kind, name], prefix)} needs ${absent.join(", ")}`);
        else resolved[kind][name] = substitute(text, env);
      }
    }
    credentials.push([host, resolved]);
  }
  if (missing.length > 0) {
    const advice = "Set them (the config names them so the secret never sits in the file).";
    if (alsoMissing.length > 0) throw new ServerConfigError(`environment variables are not set: ${[...missing, ...alsoMissing].join("; ")}. ${advice}`);
    throw new ServerConfigError(`environment variables are not set: ${missing.join("; ")}. ${advice}`, prefix);
  }
  return {
    allowPrivate: section.allowPrivate ?? defaults.allowPrivate ?? false,
    allowHosts: section.allowHosts,
    credentials,
    maxResponseBytes: section.maxResponseBytes ?? 10 * 1024 * 1024,
    timeoutMs: section.timeoutMs ?? 30_000,
    log: section.log ?? true,
  };
}
