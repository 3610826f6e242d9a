// Credential injection: the host adds a secret header or query parameter to requests for a given
// host. The secret lives only in this closure; the sandbox never receives it, and redirects are
// followed inside the sandbox, so each hop is matched again against its own host.

import { hostMatches, type HostPattern } from "./allow-hosts.ts";
import type { OutboundPolicy } from "./index.ts";

export interface Credential {
  headers?: Record<string, string>;
  query?: Record<string, string>;
}

export function injectCredentials(rules: Record<string, Credential> | [HostPattern, Credential][]): OutboundPolicy {
  const list: [HostPattern, Credential][] = Array.isArray(rules) ? [...rules] : Object.entries(rules);
  return (request, next) => {
    const url = new URL(request.url);
    const rule = list.find(([pattern]) => hostMatches(url, pattern));
    if (rule === undefined || url.protocol !== "https:" && !isLoopback(url)) return next(request);
    const [, credential] = rule;
    for (const [name, value] of Object.entries(credential.query ?? {})) url.searchParams.set(name, value);
    const headers = new Headers(request.headers);
    for (const [name, value] of Object.entries(credential.headers ?? {})) headers.set(name, value);
    return next(new Request(url, { method: request.method, headers, body: request.body, redirect: request.redirect, signal: request.signal, duplex: "half" } as RequestInit));
  };
}

// Secrets go only over TLS, except to this machine (tests, local services).
function isLoopback(url: URL): boolean {
  return url.hostname === "localhost" || url.hostname === "127.0.0.1" || url.hostname === "[::1]";
}
