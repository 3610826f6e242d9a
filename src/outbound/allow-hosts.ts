// An allow-list of hosts: anything else is refused before it leaves the host process.

import { trace } from "@opentelemetry/api";
import { OutboundError } from "../errors.ts";
import type { OutboundPolicy } from "./index.ts";

/**
 * "example.com" (that host only), "*.example.com" (its subdomains, not itself), "[::1]" (an IPv6
 * address, in brackets as in a URL), a RegExp tested against the hostname (IPv6 in brackets), or
 * any of the string forms with ":port" to pin a port ("example.com:8443", "[::1]:8080"). Schemes
 * other than http(s) never pass. A RegExp's `g` and `y` flags are ignored: every call matches the
 * same way, whatever the pattern's lastIndex.
 */
export type HostPattern = string | RegExp;

interface Parsed {
  host: string;
  port: string | undefined;
  wildcard: boolean;
}

const parsedPatterns = new Map<string, Parsed>();
const statelessCopies = new WeakMap<RegExp, RegExp>();

/** The hostname and optional port of a string pattern; a TypeError for one that can never match. */
function parsePattern(pattern: string): Parsed {
  const cached = parsedPatterns.get(pattern);
  if (cached !== undefined) return cached;
  const lower = pattern.toLowerCase();
  let host: string;
  let port: string | undefined;
  if (lower.startsWith("[")) {
    const end = lower.indexOf("]");
    const rest = end === -1 ? "" : lower.slice(end + 1);
    if (end === -1 || (rest !== "" && !rest.startsWith(":"))) throw new TypeError(`allowHosts(): "${pattern}" is not a host pattern.`);
    // The URL parser writes an IPv6 address one way ("[0:0::1]" becomes "[::1]"): so must the pattern.
    try {
      host = new URL(`http://${lower.slice(0, end + 1)}/`).hostname;
    } catch {
      throw new TypeError(`allowHosts(): "${pattern}" is not a valid IPv6 address.`);
    }
    port = rest === "" ? undefined : rest.slice(1);
  } else {
    const colon = lower.indexOf(":");
    if (colon !== lower.lastIndexOf(":")) throw new TypeError(`allowHosts(): "${pattern}": write an IPv6 address in brackets, as "[::1]" or "[::1]:8080".`);
    host = colon === -1 ? lower : lower.slice(0, colon);
    port = colon === -1 ? undefined : lower.slice(colon + 1);
  }
  if (port !== undefined && !/^\d{1,5}$/.test(port)) throw new TypeError(`allowHosts(): "${pattern}" has an invalid port.`);
  if (port !== undefined) port = String(Number(port));
  const parsed = { host, port, wildcard: host.startsWith("*.") };
  if (parsedPatterns.size < 10_000) parsedPatterns.set(pattern, parsed);
  return parsed;
}

function stateless(pattern: RegExp): RegExp {
  if (!pattern.global && !pattern.sticky) return pattern;
  let copy = statelessCopies.get(pattern);
  if (copy === undefined) statelessCopies.set(pattern, (copy = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ""))));
  return copy;
}

export function hostMatches(url: URL, pattern: HostPattern): boolean {
  if (pattern instanceof RegExp) return stateless(pattern).test(url.hostname);
  const { host, port, wildcard } = parsePattern(pattern);
  if (port !== undefined && url.port !== port && !(url.port === "" && port === (url.protocol === "https:" ? "443" : "80"))) return false;
  if (wildcard) return url.hostname.endsWith(host.slice(1)) && url.hostname.length > host.length - 1;
  return url.hostname === host;
}

/** Checks a list of patterns once, up front: a typo is a TypeError at startup, not a silent refusal. */
export function checkPatterns(patterns: readonly HostPattern[], who: string): HostPattern[] {
  const list = [...patterns];
  for (const pattern of list) {
    if (typeof pattern === "string") parsePattern(pattern);
    else if (!(pattern instanceof RegExp)) throw new TypeError(`${who}: patterns are strings or RegExps.`);
  }
  return list;
}

export function allowHosts(patterns: readonly HostPattern[]): OutboundPolicy {
  const list = checkPatterns(patterns, "allowHosts()");
  return (request, next) => {
    const url = new URL(request.url);
    if ((url.protocol === "http:" || url.protocol === "https:") && list.some((pattern) => hostMatches(url, pattern))) {
      trace.getActiveSpan()?.setAttribute("islet.outbound.allowed_by", "allowHosts");
      return next(request);
    }
    trace.getActiveSpan()?.setAttribute("islet.outbound.refused_by", "allowHosts");
    throw new OutboundError(`The host ${url.host} is not on this worker's allow-list.`);
  };
}
