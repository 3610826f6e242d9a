// Outbound fetches of a service's workers. A caller names the hosts its worker may reach; the
// server adds what a multi-tenant host must: no loopback, private, link-local or metadata addresses
// (the server's own network is not the tenant's), body and time limits, and Node's fetch.

import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { OutboundError, type Fetcher } from "../index.ts";
import { allowHosts, limitBodies, outbound, type OutboundPolicy } from "../outbound/index.ts";

const privateRanges = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  privateRanges.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  privateRanges.addSubnet(network, prefix, "ipv6");
}

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return privateRanges.check(mapped[1], "ipv4");
    return privateRanges.check(address, "ipv6");
  }
  return privateRanges.check(address, "ipv4");
}

/** Refuses URLs whose host is, or resolves to, a private address. */
export function denyPrivateAddresses(resolve: (host: string) => Promise<string[]> = defaultResolve): OutboundPolicy {
  return async (request, next) => {
    const host = new URL(request.url).hostname.replace(/^\[|\]$/g, "");
    const refuse = () => new OutboundError(`The host ${host} is a private or loopback address, which workers on this server may not reach.`);
    if (host === "localhost" || host.endsWith(".localhost")) throw refuse();
    const addresses = isIP(host) !== 0 ? [host] : await resolve(host).catch(() => []);
    if (addresses.some(isPrivateAddress)) throw refuse();
    return next(request);
  };
}

async function defaultResolve(host: string): Promise<string[]> {
  return (await lookup(host, { all: true })).map((entry) => entry.address);
}

export interface EgressOptions {
  allowPrivate: boolean;
  maxRequestBytes: number;
}

/** null (no network) for an empty list, else the policy chain for these host patterns. */
export function egressFor(hosts: readonly string[] | undefined, options: EgressOptions): Fetcher | null {
  if (hosts === undefined || hosts.length === 0) return null;
  const policies: OutboundPolicy[] = [allowHosts(hosts)];
  if (!options.allowPrivate) policies.push(denyPrivateAddresses());
  policies.push(limitBodies({ maxRequestBytes: options.maxRequestBytes, maxResponseBytes: 10 * 1024 * 1024, timeoutMs: 30_000 }));
  return outbound(...policies, fetch);
}
