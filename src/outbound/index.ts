// islet/outbound: ready-made egress policies for globalOutbound. A policy is a middleware
// `(request, next) => response`; `outbound(...policies, handler)` composes them into the function
// a WorkerLoader takes. Policies run on the host, so whatever they add (a credential, say) is never
// visible to the sandbox: the sandbox sees only the response.
//
//   globalOutbound: outbound(
//     allowHosts(["api.github.com", "*.example.com"]),
//     injectCredentials({ "api.github.com": { headers: { authorization: `Bearer ${process.env.GITHUB_TOKEN}` } } }),
//     limitBodies({ maxResponseBytes: 5_000_000, timeoutMs: 10_000 }),
//     denyPrivateAddresses(), // last before fetch: checks the address each connection goes to
//     fetch,
//   )
//
// Redirects: the chain never follows one. Every request it passes on has redirect: "manual"; a
// sandbox's fetch follows each hop itself, through globalOutbound again, so every policy judges
// every URL (and each hop counts as a subrequest and appears in the audit log).

import { followRedirects } from "./redirects.ts";

export { OutboundError } from "../errors.ts";
export { allowHosts, hostMatches, type HostPattern } from "./allow-hosts.ts";
export { injectCredentials, type Credential } from "./credentials.ts";
export { limitBodies, type BodyLimits } from "./limits.ts";
export { denyPrivateAddresses, isPrivateAddress, type LookupFunction, type PrivateAddressOptions, type PrivateAddressPolicy } from "./private-addresses.ts";

/** What answers a request: a function, or any object with fetch() (another worker's entrypoint too). */
export type OutboundHandler = ((request: Request) => Response | Promise<Response>) | { fetch(request: Request): Response | Promise<Response> };
export type OutboundPolicy = (request: Request, next: (request: Request) => Promise<Response>) => Response | Promise<Response>;

function asFunction(handler: OutboundHandler): (request: Request) => Promise<Response> {
  if (typeof handler === "function") return async (request) => handler(request);
  if (handler !== null && typeof handler === "object" && typeof handler.fetch === "function") return async (request) => handler.fetch(request);
  throw new TypeError("outbound(): the last argument must be a function or an object with fetch().");
}

/**
 * Composes policies, outermost first, in front of the handler that finally answers. The chain
 * never follows a redirect: every request it passes on has redirect: "manual". A request that
 * asks for "follow" (or "error") is followed here, each hop through every policy again, as a
 * sandbox's fetch does with its own hops.
 */
export function outbound(...steps: [...OutboundPolicy[], OutboundHandler]): (request: Request) => Promise<Response> {
  if (steps.length === 0) throw new TypeError("outbound() needs at least a handler.");
  const handler = asFunction(steps[steps.length - 1] as OutboundHandler);
  const policies = steps.slice(0, -1) as OutboundPolicy[];
  for (const policy of policies) if (typeof policy !== "function") throw new TypeError("outbound(): every policy must be a function.");
  const chain = policies.reduceRight<(request: Request) => Promise<Response>>((next, policy) => async (request) => policy(request, next), handler);
  return async (request) => (request.redirect === "manual" ? chain(request) : followRedirects(request, chain));
}
export { connectTcp, type ConnectTcpOptions, type HostSocket, type SocketAddress, type SocketConnector, type SocketInfo, type SocketOptions } from "./sockets.ts";
