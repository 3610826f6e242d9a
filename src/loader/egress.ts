// A sandbox's fetch() on the host: the one path from a sandbox to the network, through the
// globalOutbound its loader or code was given. In-process workers (worker-egress.ts) and the shard
// pool (shard/host-requests.ts, for fetches its shards' sandboxes make) both call it.

import { OutboundError } from "../errors.ts";
import type { RequestRecord } from "../protocol/records.ts";
import { CONNECT_BLOCKED } from "../protocol/ops.ts";
import { outboundRequest, responseHeaders } from "./fetch-records.ts";
import { HostBody, type HostBodies } from "./host-body.ts";
import type { Fetcher, SocketConnector } from "./code/types.ts";

/** Whether `outbound` answers fetch(): a function, or an object with a fetch method. */
export function canFetch(outbound: Fetcher | null): boolean {
  return outbound !== null && (typeof outbound === "function" || typeof outbound.fetch === "function");
}

/** globalOutbound's connect (Cloudflare's Fetcher.connect), or undefined: connect() is then refused. */
export function connectorOf(outbound: Fetcher | null): SocketConnector | undefined {
  if (outbound === null || typeof outbound !== "object") return undefined;
  const connect = outbound.connect;
  return typeof connect === "function" ? (address, options) => connect.call(outbound, address, options) : undefined;
}

// Cloudflare's words, then how to open the network in islet.
export const FETCH_BLOCKED =
  "This worker is not permitted to access the internet via global functions like fetch(). It must use capabilities (such as bindings in env) to talk to the outside world. " +
  'To allow hosts in islet: give the loader or the WorkerCode a globalOutbound (islet/outbound: outbound(allowHosts(["api.example.com"]), fetch)); ' +
  'for islet serve, "outbound": { "allowHosts": [...] } in the config file or "allowHosts" in the request; on the command line, --allow-host api.example.com.';

export { CONNECT_BLOCKED };

/** What a sandbox's fetch() gets: the response head, and its body whole or held in a HostBodies table under `bodyId`. */
export interface OutboundAnswer {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: Uint8Array | null;
  bodyId?: number;
}

/**
 * Sends `record` through `fetcher`. The body stays on the host, in `bodies`, and the sandbox pulls
 * it a chunk at a time: buffering it whole would let an endless upstream body fill the host's heap.
 * With `eagerBytes`, a body already complete within one turn of the event loop (an in-memory
 * Response, a small reply already buffered) and no bigger crosses whole instead, saving the sandbox
 * a round trip per chunk. Errors are the fetcher's own: callers decide what of them the sandbox sees.
 */
export async function sendOutbound(fetcher: Fetcher, record: RequestRecord, signal: AbortSignal | undefined, bodies: HostBodies, eagerBytes = 0): Promise<OutboundAnswer> {
  const request = outboundRequest(record, signal);
  if (!canFetch(fetcher)) throw new OutboundError(FETCH_BLOCKED);
  const response = typeof fetcher === "function" ? await fetcher(request) : await fetcher.fetch!(request);
  if (!(response instanceof Response)) throw new TypeError("globalOutbound did not return a Response.");
  const head = { status: response.status, statusText: response.statusText, headers: responseHeaders(response, true) };
  if (response.body === null) return { ...head, body: null };
  const body = new HostBody(response.body.getReader());
  if (eagerBytes > 0) {
    const whole = await body.readAvailable(eagerBytes);
    if (whole !== undefined) return { ...head, body: whole };
  }
  const bodyId = bodies.add(body, (max) => new OutboundError(`Too many response bodies open (at most ${max}); read or cancel earlier ones first.`));
  return { ...head, body: null, bodyId };
}
