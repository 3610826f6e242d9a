// fetch() inside the sandbox: the request is copied to the host, which hands it to the worker's
// globalOutbound (or refuses it). Nothing here can open a connection by itself. Redirects are
// followed here, each hop going out through globalOutbound again, so the host's policy (an
// allow-list, say) sees and judges every URL the worker ends up talking to.

import { cancellableRequest, Op, send } from "../bridge.ts";
import { events, url, web } from "../chunks.ts";
import type { RequestRecord, ResponseRecord } from "../web/fetch.ts";
import { primordials } from "../primordials.ts";

const { TypeError } = primordials;

const MAX_REDIRECTS = 20;
const BODY_HEADERS = ["content-encoding", "content-language", "content-location", "content-type", "content-length"];
const CROSS_ORIGIN_HEADERS = ["authorization", "cookie", "proxy-authorization"];
// Captured before user code runs: the loop below must not call anything the sandbox can replace.
const TypeErrorCtor = TypeError;

function isRedirectStatus(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** A request's AbortSignal (the events chunk's class): read only through the chunk's functions. */
type Signal = object;

// The signal the request follows, if any: reading `request.signal` would make one (and load the
// events chunk) for every request, though only a given signal can ever abort.
function signalOf(request: unknown): Signal | null {
  return web().requestAbortSignal(request as never) as Signal | null;
}

/** Sends one request to the host; an abort rejects at once and tells the host to give up too. */
/** The host's answer, boxed without a prototype (see requestToRecord in web/request.ts). */
interface Answer {
  readonly record: ResponseRecord;
}

/**
 * The request of one exchange: Op.Fetch through globalOutbound, or (`binding`, a host capability's
 * id) Op.StubFetch through a service binding the sandbox holds (Cloudflare's Fetcher.fetch).
 */
function exchangeRequest(binding: number | undefined, record: RequestRecord, abortable: boolean) {
  return binding === undefined ? cancellableRequest(Op.Fetch, record, abortable) : cancellableRequest(Op.StubFetch, binding, record, abortable);
}

async function exchange(record: RequestRecord, signal: Signal | null, binding: number | undefined): Promise<Answer> {
  if (signal === null) return { __proto__: null, record: (await exchangeRequest(binding, record, false).promise).value as ResponseRecord } as Answer;
  // The signal's state and an abort algorithm through the events chunk's own functions (a signal
  // exists, so the chunk is loaded), never `aborted`, `reason` or addEventListener, which user code
  // may have replaced on the prototypes.
  const { abortReason, addAbortAlgorithm, removeAbortAlgorithm } = events();
  const target = signal as unknown as Parameters<typeof abortReason>[0];
  const early = abortReason(target);
  if (early !== undefined) throw early;
  // The host gives the outbound Request an AbortSignal only when this side can abort it.
  const call = exchangeRequest(binding, record, true);
  const onAbort = () => {
    call.abandon(abortReason(target));
    send(Op.FetchAbort, call.callId);
  };
  addAbortAlgorithm(target, onAbort);
  try {
    return { __proto__: null, record: (await call.promise).value as ResponseRecord } as Answer;
  } finally {
    removeAbortAlgorithm(target, onAbort);
  }
}

export function fetch(input: unknown, init?: unknown): Promise<unknown> {
  return fetchVia(undefined, input, init);
}

/**
 * `binding.fetch(input, init)` on a service binding the sandbox holds (another worker's entrypoint,
 * host capability `binding`), as Cloudflare's Fetcher.fetch: the request (its body whole, as
 * fetch() sends one) goes to that worker's fetch handler, and its Response comes back with its body
 * streamed. Redirects are followed through the binding, as fetch() follows them through globalOutbound.
 */
export function fetchThrough(binding: number, input: unknown, init?: unknown): Promise<unknown> {
  return fetchVia(binding, input, init);
}

async function fetchVia(binding: number | undefined, input: unknown, init?: unknown): Promise<unknown> {
  // Request's, Response's and Headers' accessors and methods as the web chunk captured them (not
  // through their prototypes, which user code may have replaced).
  const { Request, copyHeaders, requestToRecord, responseFromRecord, requestUrl, requestMethod, requestRedirect, requestHeaders, responseStatus, responseHeaders, headersGet, headersDelete } = web();
  let request = new Request(input as never, init as never);
  const signal = signalOf(request);
  // Every URL this fetch went to, for response.url and response.redirected. Each hop is a new
  // request through the host's globalOutbound, which sends it with redirect: "manual": the host's
  // policies judge it, the subrequest limit counts it and the trace event's audit log lists it.
  const urls: string[] = [];
  for (;;) {
    urls[urls.length] = requestUrl(request);
    const record = await requestToRecord(request);
    const answer = (await exchange(record, signal, binding)).record;
    const response = responseFromRecord({ ...answer, urlList: urls });
    const status = responseStatus(response);
    const location = isRedirectStatus(status) ? headersGet(responseHeaders(response), "location") : null;
    if (location === null || requestRedirect(request) === "manual") return response;
    // The hop's own body is never read: let the host drop it now rather than hold it open.
    if (typeof answer.bodyStream === "number") send(Op.BodyCancel, answer.bodyStream);
    if (requestRedirect(request) === "error") throw new TypeErrorCtor('fetch failed: the response is a redirect and the request\'s redirect mode is "error".');
    if (urls.length > MAX_REDIRECTS) throw new TypeErrorCtor(`fetch failed: more than ${MAX_REDIRECTS} redirects.`);
    const URL = url().URL;
    let next: InstanceType<typeof URL>;
    try {
      next = new URL(location, requestUrl(request));
    } catch {
      throw new TypeErrorCtor("fetch failed: the redirect's Location is not a valid URL.");
    }
    if (next.protocol !== "http:" && next.protocol !== "https:") throw new TypeErrorCtor("fetch failed: a redirect to a URL that is not HTTP(S).");
    // 303 (except HEAD), and 301/302 after a POST, become a GET without a body (Fetch §4.4 step 12).
    const toGet = status === 303 ? requestMethod(request) !== "HEAD" : (status === 301 || status === 302) && requestMethod(request) === "POST";
    const headers = copyHeaders(requestHeaders(request));
    if (toGet) for (let i = 0; i < BODY_HEADERS.length; i++) headersDelete(headers, BODY_HEADERS[i]);
    // Credentials do not follow a redirect to another origin (Fetch §4.4 step 13).
    if (next.origin !== new URL(requestUrl(request)).origin) for (let i = 0; i < CROSS_ORIGIN_HEADERS.length; i++) headersDelete(headers, CROSS_ORIGIN_HEADERS[i]);
    request = new Request(next.href, {
      method: toGet ? "GET" : requestMethod(request),
      headers,
      body: toGet || record.body === null ? null : record.body,
      redirect: requestRedirect(request),
      signal: signal ?? undefined,
    } as never);
  }
}
