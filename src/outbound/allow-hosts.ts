// An allow-list of hosts: anything else is refused before it leaves the host process.

import { OutboundError } from "../errors.ts";
import type { OutboundPolicy } from "./index.ts";

/**
 * "example.com" (that host only), "*.example.com" (its subdomains, not itself), a RegExp tested
 * against the hostname, or "example.com:8443" to pin a port. Schemes other than http(s) never pass.
 */
export type HostPattern = string | RegExp;

export function hostMatches(url: URL, pattern: HostPattern): boolean {
  if (pattern instanceof RegExp) return pattern.test(url.hostname);
  const [host, port] = pattern.toLowerCase().split(":") as [string, string | undefined];
  if (port !== undefined && url.port !== port && !(url.port === "" && port === (url.protocol === "https:" ? "443" : "80"))) return false;
  if (host.startsWith("*.")) return url.hostname.endsWith(host.slice(1)) && url.hostname.length > host.length - 1;
  return url.hostname === host;
}

export function allowHosts(patterns: readonly HostPattern[]): OutboundPolicy {
  const list = [...patterns];
  for (const pattern of list) if (typeof pattern !== "string" && !(pattern instanceof RegExp)) throw new TypeError("allowHosts(): patterns are strings or RegExps.");
  return (request, next) => {
    const url = new URL(request.url);
    if ((url.protocol === "http:" || url.protocol === "https:") && list.some((pattern) => hostMatches(url, pattern))) return next(request);
    throw new OutboundError(`The host ${url.host} is not on this worker's allow-list.`);
  };
}
