// Credential injection: the host adds a secret header or query parameter to requests for a given
// host. The secret lives only in this closure; the sandbox never receives it.
//
// Redirects: the request this policy passes on always has redirect: "manual", so nothing after it
// (Node's fetch) can carry an injected header or parameter to the URL a 3xx points at. A redirect
// is followed by whoever asked: the sandbox's fetch, or outbound() for a host caller's "follow"
// request. Each hop is a fresh request through the whole chain, built from the headers the caller
// sent, so this policy matches every hop against its own host again: a hop to a host no rule names
// gets none of the injected headers, custom names included, not only `authorization`.
//
// What comes back: an upstream may quote what it was sent. A trailing-slash 301 keeps the query
// string, injected parameter included; a debugging upstream echoes a header. So every injected
// value (headers and query parameters of every rule, as written, form-encoded, or percent-encoded
// once or twice) is
// replaced by "[redacted]" in every response header and the status text, and in the message of an
// error the rest of the chain throws; the response's url is the one the caller asked for. When the
// caller follows a Location whose parameter now reads "[redacted]", this policy sets the parameter
// to the secret again for a host its rule names (and for no other host). Response bodies are not
// scanned: an upstream that echoes a credential in its body hands it to the sandbox.

import { checkPatterns, hostMatches, type HostPattern } from "./allow-hosts.ts";
import type { OutboundPolicy } from "./index.ts";

export interface Credential {
  headers?: Record<string, string>;
  query?: Record<string, string>;
}

const REDACTED = "[redacted]";
const nullBodyStatus = new Set([101, 103, 204, 205, 304]);

export function injectCredentials(rules: Record<string, Credential> | [HostPattern, Credential][]): OutboundPolicy {
  const list: [HostPattern, Credential][] = Array.isArray(rules) ? [...rules] : Object.entries(rules);
  checkPatterns(
    list.map(([pattern]) => pattern),
    "injectCredentials()",
  );
  const redact = redactor(list.flatMap(([, credential]) => [...Object.values(credential.headers ?? {}), ...Object.values(credential.query ?? {})]));
  return async (request, next) => {
    const url = new URL(request.url);
    const rule = list.find(([pattern]) => hostMatches(url, pattern));
    if (rule === undefined || (url.protocol !== "https:" && !isLoopback(url))) return next(request);
    const [, credential] = rule;
    const headers = new Headers(request.headers);
    for (const [name, value] of Object.entries(credential.headers ?? {})) headers.set(name, value);
    const query = Object.entries(credential.query ?? {});
    // Derived from the request itself where the URL stays, so what a policy before this one set on
    // it (an undici dispatcher, say) goes on with it.
    let outgoing: Request;
    if (query.length === 0) outgoing = new Request(request, { headers, redirect: "manual" });
    else {
      for (const [name, value] of query) url.searchParams.set(name, value);
      outgoing = new Request(url, { method: request.method, headers, body: request.body, redirect: "manual", signal: request.signal, duplex: "half" } as RequestInit);
    }
    let response: Response;
    try {
      response = await next(outgoing);
    } catch (error) {
      throw redactError(error, redact);
    }
    return redactResponse(response, redact, query.length === 0 ? undefined : request.url);
  };
}

/** Replaces every spelling of every secret in a string (raw, percent-encoded, form-encoded). */
function redactor(values: string[]): (text: string) => string {
  const spellings = new Set<string>();
  for (const value of values) {
    if (typeof value !== "string" || value === "") continue;
    const percent = encodeURIComponent(value);
    const form = new URLSearchParams([["", value]]).toString().slice(1);
    // A URL that quotes the request URL may itself be percent-encoded (a cookie, a `next=` parameter).
    for (const once of [value, percent, form, encodeURIComponent(percent), encodeURIComponent(form)]) {
      spellings.add(once);
      spellings.add(once.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()));
    }
  }
  const ordered = [...spellings].sort((x, y) => y.length - x.length);
  return (text) => {
    let result = text;
    for (const spelling of ordered) if (result.includes(spelling)) result = result.split(spelling).join(REDACTED);
    return result;
  };
}

/** The response with its headers and status text redacted, and (for a query rule) the caller's own URL. */
function redactResponse(response: Response, redact: (text: string) => string, callerUrl: string | undefined): Response {
  let changed = false;
  const headers = new Headers();
  for (const [name, value] of response.headers) {
    const clean = redact(value);
    changed ||= clean !== value;
    headers.append(name, clean);
  }
  const statusText = redact(response.statusText);
  changed ||= statusText !== response.statusText;
  if (!changed && callerUrl === undefined) return response;
  let result = response;
  if (changed) {
    try {
      result = new Response(nullBodyStatus.has(response.status) ? null : response.body, { status: response.status, statusText, headers });
    } catch {
      // A status a Response cannot be built with (1xx other than the null-body ones): keep the status, drop what quoted a secret.
      result = new Response(null, { status: 502, statusText: "Bad Gateway" });
    }
  }
  const url = callerUrl ?? response.url;
  Object.defineProperty(result, "url", { value: redact(url.replace(/#.*$/s, "")), enumerable: true });
  if (response.redirected) Object.defineProperty(result, "redirected", { value: true, enumerable: true });
  return result;
}

/** An error from the rest of the chain (Node's fetch quoting a URL, say), its message redacted. */
function redactError(error: unknown, redact: (text: string) => string): unknown {
  if (!(error instanceof Error)) return typeof error === "string" ? redact(error) : error;
  const message = redact(error.message);
  if (message === error.message) return error;
  try {
    Object.defineProperty(error, "message", { value: message, writable: true, configurable: true, enumerable: false });
    if (error.message === message) return error;
  } catch {
    // A frozen error: a plain copy with its name below.
  }
  const copy = new Error(message);
  copy.name = error.name;
  return copy;
}

// Secrets go only over TLS, except to this machine (tests, local services).
function isLoopback(url: URL): boolean {
  return url.hostname === "localhost" || url.hostname === "127.0.0.1" || url.hostname === "[::1]";
}
