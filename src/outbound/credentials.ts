// Credential injection: the host adds a secret header or query parameter to requests for a given
// host. The secret lives only in this closure; the sandbox never receives it.
//
// Redirects: the request this policy passes on always has redirect: "manual", so nothing after it
// (Node's fetch) can carry an injected header or parameter to the URL a 3xx points at. A redirect
// is followed by whoever asked: the sandbox's fetch, or outbound() for a host caller's "follow"
// request. Each hop is a fresh request through the whole chain, built from the headers the caller
// sent, so this policy matches every hop against its own host again: a hop to a host no rule names
// gets none of the injected headers, custom names included, not only `authorization`.

import { checkPatterns, hostMatches, type HostPattern } from "./allow-hosts.ts";
import type { OutboundPolicy } from "./index.ts";

export interface Credential {
  headers?: Record<string, string>;
  query?: Record<string, string>;
}

export function injectCredentials(rules: Record<string, Credential> | [HostPattern, Credential][]): OutboundPolicy {
  const list: [HostPattern, Credential][] = Array.isArray(rules) ? [...rules] : Object.entries(rules);
  checkPatterns(
    list.map(([pattern]) => pattern),
    "injectCredentials()",
  );
  return (request, next) => {
    const url = new URL(request.url);
    const rule = list.find(([pattern]) => hostMatches(url, pattern));
    if (rule === undefined || (url.protocol !== "https:" && !isLoopback(url))) return next(request);
    const [, credential] = rule;
    const headers = new Headers(request.headers);
    for (const [name, value] of Object.entries(credential.headers ?? {})) headers.set(name, value);
    const query = Object.entries(credential.query ?? {});
    // Derived from the request itself where the URL stays, so what a policy before this one set on
    // it (an undici dispatcher, say) goes on with it.
    if (query.length === 0) return next(new Request(request, { headers, redirect: "manual" }));
    for (const [name, value] of query) url.searchParams.set(name, value);
    return next(new Request(url, { method: request.method, headers, body: request.body, redirect: "manual", signal: request.signal, duplex: "half" } as RequestInit));
  };
}

// Secrets go only over TLS, except to this machine (tests, local services).
function isLoopback(url: URL): boolean {
  return url.hostname === "localhost" || url.hostname === "127.0.0.1" || url.hostname === "[::1]";
}
