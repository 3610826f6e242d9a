// Outbound fetches of a service's workers. A caller names the hosts its worker may reach; the
// server adds what a multi-tenant host must: no loopback, private, link-local or metadata addresses
// (the server's own network is not the tenant's), body and time limits, and Node's fetch.
//
// The private-address guard is islet/outbound's denyPrivateAddresses(): it checks the address each
// connection actually goes to (not a DNS answer fetched beforehand, which a rebinding name can
// change before fetch resolves it again), and the sandbox's fetch follows redirects itself, each hop
// through this chain again, so a public host's redirect to 127.0.0.1 or 169.254.169.254 is refused.

import type { Fetcher } from "../index.ts";
import { allowHosts, denyPrivateAddresses, limitBodies, outbound, type OutboundPolicy, type PrivateAddressPolicy } from "../outbound/index.ts";

export { isPrivateAddress } from "../outbound/index.ts";

export interface EgressOptions {
  allowPrivate: boolean;
  maxRequestBytes: number;
}

// One guard (one connection pool) for the whole server; made on first use.
let guard: PrivateAddressPolicy | undefined;

/** null (no network) for an empty list, else the policy chain for these host patterns. */
export function egressFor(hosts: readonly string[] | undefined, options: EgressOptions): Fetcher | null {
  if (hosts === undefined || hosts.length === 0) return null;
  const policies: OutboundPolicy[] = [allowHosts(hosts), limitBodies({ maxRequestBytes: options.maxRequestBytes, maxResponseBytes: 10 * 1024 * 1024, timeoutMs: 30_000 })];
  // Last before fetch, so the request fetch gets carries the guard's dispatcher.
  if (!options.allowPrivate) policies.push((guard ??= denyPrivateAddresses()));
  return outbound(...policies, fetch);
}
