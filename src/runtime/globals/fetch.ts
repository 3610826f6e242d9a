// fetch() inside the sandbox: the request is copied to the host, which hands it to the worker's
// globalOutbound (or refuses it). Nothing here can open a connection by itself. Redirects are
// followed here, each hop going out through globalOutbound again, so the host's policy (an
// allow-list, say) sees and judges every URL the worker ends up talking to.

import { cancellableRequest, Op, send } from "../bridge.ts";
import { url, web } from "../chunks.ts";
import type { RequestRecord, ResponseRecord } from "../web/fetch.ts";

const MAX_REDIRECTS = 20;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const BODY_HEADERS = ["content-encoding", "content-language", "content-location", "content-type", "content-length"];

interface Signal {
  aborted: boolean;
  reason: unknown;
  addEventListener(type: string, listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: string, listener: () => void): void;
}

// The signal the request follows, if any: reading `request.signal` would make one (and load the
// events chunk) for every request, though only a given signal can ever abort.
function signalOf(request: unknown): Signal | null {
  return web().requestAbortSignal(request as never) as Signal | null;
}

/** Sends one request to the host; an abort rejects at once and tells the host to give up too. */
async function exchange(record: RequestRecord, signal: Signal | null): Promise<ResponseRecord> {
  if (signal?.aborted) throw signal.reason;
  // The host gives the outbound Request an AbortSignal only when this side can abort it.
  const call = cancellableRequest(Op.Fetch, record, signal !== null);
  if (signal === null) return (await call.promise) as ResponseRecord;
  const onAbort = () => {
    call.abandon(signal.reason);
    send(Op.FetchAbort, call.callId);
  };
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    return (await call.promise) as ResponseRecord;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

export async function fetch(input: unknown, init?: unknown): Promise<unknown> {
  const { Request, requestToRecord, responseFromRecord } = web();
  let request = new Request(input as never, init as never);
  const signal = signalOf(request);
  const urls: string[] = [];
  for (;;) {
    urls.push(request.url);
    const record = await requestToRecord(request);
    const response = responseFromRecord({ ...(await exchange(record, signal)), urlList: urls });
    const location = REDIRECT_STATUSES.has(response.status) ? response.headers.get("location") : null;
    if (location === null || request.redirect === "manual") return response;
    if (request.redirect === "error") throw new TypeError('fetch failed: the response is a redirect and the request\'s redirect mode is "error".');
    if (urls.length > MAX_REDIRECTS) throw new TypeError(`fetch failed: more than ${MAX_REDIRECTS} redirects.`);
    const URL = url().URL;
    let next: InstanceType<typeof URL>;
    try {
      next = new URL(location, request.url);
    } catch {
      throw new TypeError("fetch failed: the redirect's Location is not a valid URL.");
    }
    if (next.protocol !== "http:" && next.protocol !== "https:") throw new TypeError("fetch failed: a redirect to a URL that is not HTTP(S).");
    // 303 (except HEAD), and 301/302 after a POST, become a GET without a body (Fetch §4.4 step 12).
    const toGet = response.status === 303 ? request.method !== "HEAD" : (response.status === 301 || response.status === 302) && request.method === "POST";
    const headers = new (web().Headers)(request.headers);
    if (toGet) for (const name of BODY_HEADERS) headers.delete(name);
    // Credentials do not follow a redirect to another origin (Fetch §4.4 step 13).
    if (next.origin !== new URL(request.url).origin) {
      headers.delete("authorization");
      headers.delete("cookie");
      headers.delete("proxy-authorization");
    }
    request = new Request(next.href, {
      method: toGet ? "GET" : request.method,
      headers,
      body: toGet || record.body === null ? null : record.body,
      redirect: request.redirect,
      signal: signal ?? undefined,
    } as never);
  }
}
