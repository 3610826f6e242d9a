// What a remote caller sends to describe a worker (the HTTP API's JSON body, the RPC API's
// argument), checked field by field so a mistake comes back as a 400 naming the field, and turned
// into a WorkerCode under the caller's ceilings.

import type { Limits, ModuleContent, WorkerCode } from "../index.ts";
import type { ResolvedLimits } from "../loader/limits.ts";
import { LIMIT_KEYS, checkLimits, formatLimitProblems } from "../protocol/limits.ts";
import type { Caller } from "./auth.ts";
import { egressFor, type AuditHub, type EgressOptions } from "./egress.ts";
import { RequestError } from "./errors.ts";

export const DEFAULT_COMPATIBILITY_DATE = "2026-11-01";
const MODULE_KINDS = ["js", "cjs", "ts", "text", "json", "data", "wasm"] as const;

export interface WorkerSpec {
  modules?: Record<string, unknown>;
  mainModule?: string;
  /** One module's source: shorthand for `{ modules: { [mainModule ?? "worker.js"]: code } }`. */
  code?: string;
  compatibilityDate?: string;
  compatibilityFlags?: string[];
  env?: Record<string, unknown>;
  limits?: Limits;
  /** Hosts the worker's fetch() may reach (see islet/outbound's allowHosts); none: no network. */
  allowHosts?: string[];
}

export function invalid(field: string, message: string): RequestError {
  return new RequestError(400, `${field}: ${message}`);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function optionalString(body: Record<string, unknown>, field: string, where = field): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw invalid(where, `must be a string, got ${describe(value)}`);
  return value;
}

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)?.slice(0, 40)}`;
}

function bytesFrom(value: unknown, field: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (typeof value === "string" && /^[A-Za-z0-9+/]*={0,2}$/.test(value) && value.length % 4 === 0) return new Uint8Array(Buffer.from(value, "base64"));
  throw invalid(field, "must be base64 text (or bytes over RPC)");
}

function moduleContent(value: unknown, field: string): ModuleContent {
  if (typeof value === "string") return value;
  if (!isPlainObject(value)) throw invalid(field, `must be a source string or one of ${MODULE_KINDS.map((k) => `{"${k}": …}`).join(", ")}; got ${describe(value)}`);
  const keys = Object.keys(value);
  const kind = keys[0] as (typeof MODULE_KINDS)[number];
  if (keys.length !== 1 || !MODULE_KINDS.includes(kind)) throw invalid(field, `must have exactly one key of ${MODULE_KINDS.join(", ")}; got ${keys.length === 0 ? "none" : keys.join(", ")}`);
  const content = value[kind];
  if (kind === "json") return { json: content };
  if (kind === "data") return { data: bytesFrom(content, `${field}.data`) };
  if (kind === "wasm") return { wasm: bytesFrom(content, `${field}.wasm`) };
  if (typeof content !== "string") throw invalid(`${field}.${kind}`, `must be a string, got ${describe(content)}`);
  return { [kind]: content } as ModuleContent;
}

function limitsWithin(value: unknown, ceilings: ResolvedLimits, keyId: string): Limits | undefined {
  if (value === undefined) return undefined;
  // The one rule for limits (src/protocol/limits.ts), every problem at once; then the key's ceilings.
  const checked = checkLimits(value, "isolate");
  if (checked.limits === undefined) throw new RequestError(400, formatLimitProblems(checked.problems));
  for (const key of LIMIT_KEYS) {
    const limit = checked.limits[key];
    if (limit !== undefined && limit > ceilings[key]) throw invalid(`limits.${key}`, `${limit} is above the ceiling of ${ceilings[key]} for API key "${keyId}"; limits can only be lowered`);
  }
  return checked.limits;
}

function stringList(value: unknown, field: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw invalid(field, `must be an array of strings, got ${describe(value)}`);
  value.forEach((item, i) => {
    if (typeof item !== "string" || item === "") throw invalid(`${field}[${i}]`, `must be a non-empty string, got ${describe(item)}`);
  });
  return value as string[];
}

/**
 * Checks a worker description and builds its WorkerCode. `env` is passed through as given: the
 * HTTP API has checked it is plain JSON, the RPC API has bridged its capabilities.
 */
export function toWorkerCode(body: Record<string, unknown>, caller: Caller, egress: EgressOptions, env?: Record<string, unknown>, hub?: AuditHub): WorkerCode {
  const code = optionalString(body, "code");
  let mainModule = optionalString(body, "mainModule");
  const modulesValue = body.modules;
  let modules: Record<string, ModuleContent>;
  if (code !== undefined) {
    if (modulesValue !== undefined && modulesValue !== null) throw invalid("code", 'give either "code" (one module) or "modules", not both');
    mainModule ??= "worker.js";
    modules = { [mainModule]: code };
  } else {
    if (modulesValue === undefined || modulesValue === null) throw invalid("modules", 'missing: give "modules" (with "mainModule") or "code"');
    if (!isPlainObject(modulesValue)) throw invalid("modules", `must be an object mapping module names to sources, got ${describe(modulesValue)}`);
    const names = Object.keys(modulesValue);
    if (names.length === 0) throw invalid("modules", "must name at least one module");
    modules = {};
    for (const name of names) modules[name] = moduleContent(modulesValue[name], `modules["${name}"]`);
    if (mainModule === undefined) {
      if (names.length !== 1) throw invalid("mainModule", `missing: say which of ${names.map((n) => `"${n}"`).join(", ")} is the main module`);
      mainModule = names[0];
    } else if (!(mainModule in modules)) {
      throw invalid("mainModule", `"${mainModule}" is not one of the modules (${names.map((n) => `"${n}"`).join(", ")})`);
    }
  }
  const compatibilityDate = optionalString(body, "compatibilityDate") ?? DEFAULT_COMPATIBILITY_DATE;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(compatibilityDate)) throw invalid("compatibilityDate", `must look like "2026-11-01", got ${JSON.stringify(compatibilityDate)}`);
  const compatibilityFlags = stringList(body.compatibilityFlags, "compatibilityFlags");
  const allowHosts = stringList(body.allowHosts, "allowHosts");
  const limits = limitsWithin(body.limits, caller.limits, caller.keyId);
  let globalOutbound: ReturnType<typeof egressFor>;
  try {
    const audit = egress.audit;
    // The server log names the key whose worker made the request.
    globalOutbound = egressFor(allowHosts, audit === undefined ? egress : { ...egress, audit: (entry) => audit({ ...entry, key: caller.keyId }) }, hub);
  } catch (error) {
    // A pattern allowHosts() cannot read ("::1" without brackets, a bad port) is the caller's error.
    if (error instanceof TypeError) throw invalid("allowHosts", error.message);
    throw error;
  }
  return {
    compatibilityDate,
    ...(compatibilityFlags ? { compatibilityFlags } : {}),
    mainModule,
    modules,
    env: env ?? {},
    limits: { ...caller.limits, ...limits },
    globalOutbound,
  };
}
