// Outbound fetches of a service's workers, built from islet/outbound's own policies so the server
// behaves as the library does: allowHosts (the config's list, then the request's, which can only
// narrow it), injectCredentials (values read from environment variables at start), limitBodies and,
// unless the config sets outbound.allowPrivate, denyPrivateAddresses(), then Node's fetch.
//
// The private-address guard checks the address each connection actually goes to (not a DNS answer
// fetched beforehand, which a rebinding name can change before fetch resolves it again), and the
// sandbox's fetch follows redirects itself, each hop through this chain again, so a public host's
// redirect to 127.0.0.1 or 169.254.169.254 (or to a host not on the list) is refused.
//
// Every hop is audited: method, URL (as the sandbox asked for it, before any credential is added),
// the decision and which policy made it, whether credentials were injected (never their value),
// and the status or error. The entry goes to the server log and to the calls in flight on the
// worker (the `fetches` of a /v1/run answer).

import { AsyncLocalStorage } from "node:async_hooks";
import type { Fetcher } from "../index.ts";
import {
  allowHosts,
  denyPrivateAddresses,
  injectCredentials,
  limitBodies,
  outbound,
  OutboundError,
  type OutboundPolicy,
  type PrivateAddressPolicy,
} from "../outbound/index.ts";
import type { ResolvedCredential } from "./outbound-config.ts";

export { isPrivateAddress } from "../outbound/index.ts";

export interface EgressOptions {
  allowPrivate: boolean;
  maxRequestBytes: number;
  /** The config's server-wide list: the default for requests without allowHosts, and their ceiling. */
  allowHosts?: string[];
  credentials?: [string, ResolvedCredential][];
  maxResponseBytes?: number;
  timeoutMs?: number;
  /** Where every hop's audit entry goes besides the worker's calls (the server log). */
  audit?: (entry: OutboundAuditEntry & { key?: string }) => void;
}

/** Characters of a hop's method, URL and error the audit entry keeps; longer ones end with "…". */
export const AUDIT_METHOD_CHARS = 64;
export const AUDIT_URL_CHARS = 2048;
export const AUDIT_ERROR_CHARS = 500;

function clip(text: string, chars: number): string {
  return text.length > chars ? `${text.slice(0, chars)}…` : text;
}

/** One outbound hop, as the audit log records it. */
export interface OutboundAuditEntry {
  method: string;
  /** The URL the sandbox asked for: an injected query parameter never appears here. */
  url: string;
  /** "allowed": the policies let it through (it may still have failed upstream: see error). */
  decision: "allowed" | "denied";
  /** The policy that refused it. */
  policy?: "allowHosts" | "denyPrivateAddresses" | "limitBodies";
  /** Whether a credential rule added headers or query parameters (their values are never recorded). */
  credentials: boolean;
  status?: number;
  error?: string;
  durationMs: number;
}

/** The calls in flight on one worker, which receive its audit entries. */
export class AuditHub {
  readonly listeners = new Set<(entry: OutboundAuditEntry) => void>();
  emit(entry: OutboundAuditEntry): void {
    for (const listener of this.listeners) listener(entry);
  }
}

/** Checks host patterns the way allowHosts() does (a TypeError for one that can never match). */
export function checkPatternsForConfig(patterns: readonly string[]): void {
  allowHosts(patterns);
}

// One guard (one connection pool) for the whole server; made on first use.
let guard: PrivateAddressPolicy | undefined;
const current = new AsyncLocalStorage<OutboundAuditEntry>();

/** Runs `policy`, recording in the hop's audit entry when it (not something after it) refuses or adds credentials. */
function judged(name: "allowHosts" | "injectCredentials" | "limitBodies" | "denyPrivateAddresses", policy: OutboundPolicy): OutboundPolicy {
  return async (request, next) => {
    const entry = current.getStore();
    let passed = false;
    try {
      return await policy(request, (forwarded) => {
        passed = true;
        if (name === "injectCredentials" && entry !== undefined) entry.credentials = forwarded !== request;
        return next(forwarded);
      });
    } catch (error) {
      // The guard refuses inside the connection, after passing the request on; its refusals are
      // OutboundErrors it makes itself.
      const refused = !passed || (name === "denyPrivateAddresses" && error instanceof OutboundError);
      if (entry !== undefined && entry.decision === "allowed" && entry.policy === undefined && refused && name !== "injectCredentials") {
        entry.decision = "denied";
        entry.policy = name;
      }
      throw error;
    }
  };
}

/**
 * null (no network) when neither the config nor the request names a host; else the policy chain.
 * `hub` receives this worker's audit entries.
 */
export function egressFor(hosts: readonly string[] | undefined, options: EgressOptions, hub?: AuditHub): Fetcher | null {
  const requestHosts = hosts !== undefined && hosts.length > 0 ? hosts : undefined;
  if (options.allowHosts === undefined && requestHosts === undefined) return null;
  const policies: OutboundPolicy[] = [];
  if (options.allowHosts !== undefined) policies.push(judged("allowHosts", allowHosts(options.allowHosts)));
  if (requestHosts !== undefined) policies.push(judged("allowHosts", allowHosts(requestHosts)));
  if (options.credentials !== undefined && options.credentials.length > 0) policies.push(judged("injectCredentials", injectCredentials(options.credentials)));
  policies.push(
    judged(
      "limitBodies",
      limitBodies({ maxRequestBytes: options.maxRequestBytes, maxResponseBytes: options.maxResponseBytes ?? 10 * 1024 * 1024, timeoutMs: options.timeoutMs ?? 30_000 }),
    ),
  );
  // Last before fetch, so the request fetch gets carries the guard's dispatcher.
  if (!options.allowPrivate) policies.push(judged("denyPrivateAddresses", (guard ??= denyPrivateAddresses())));
  const audit: OutboundPolicy = async (request, next) => {
    const started = performance.now();
    // The method and URL are the sandbox's choice: cut, as the library's trace events cut them, so
    // a worker cannot write megabytes to the log and the answer per fetch (findings16/01).
    const entry: OutboundAuditEntry = { method: clip(request.method, AUDIT_METHOD_CHARS), url: clip(request.url, AUDIT_URL_CHARS), decision: "allowed", credentials: false, durationMs: 0 };
    try {
      const response = await current.run(entry, () => next(request));
      entry.status = response.status;
      return response;
    } catch (error) {
      entry.error = clip(error instanceof Error ? error.message : String(error), AUDIT_ERROR_CHARS);
      throw error;
    } finally {
      entry.durationMs = Math.round((performance.now() - started) * 1000) / 1000;
      options.audit?.(entry);
      hub?.emit(entry);
    }
  };
  return outbound(audit, ...policies, fetch);
}
