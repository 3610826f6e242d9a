// Host Request/Response <-> the plain records that cross the boundary.

import { OutboundError } from "../errors.ts";
import { checkHeaderBytes, type RequestRecord, type ResponseRecord } from "../protocol/records.ts";

const nullBodyStatus = new Set([101, 103, 204, 205, 304]);

export async function requestRecord(request: Request): Promise<RequestRecord> {
  const body = request.body === null ? null : new Uint8Array(await request.arrayBuffer());
  const headers = [...request.headers];
  checkHeaderBytes(headers, "a request");
  return { url: request.url, method: request.method, headers, body, redirect: request.redirect };
}

/** A request on its way into a worker's fetch handler, its body not read yet: the caller's stream, read as the sandbox reads it. */
export interface IncomingRequest extends Omit<RequestRecord, "body" | "bodyStream"> {
  body: ReadableStream<Uint8Array> | null;
}

/** A worker's response as the host receives it: the body whole, or still streaming from the sandbox. */
export interface WorkerResponse extends Omit<ResponseRecord, "body" | "bodyStream"> {
  body: Uint8Array | ReadableStream<Uint8Array> | null;
}

export function incomingRequest(request: Request): IncomingRequest {
  const headers = [...request.headers];
  checkHeaderBytes(headers, "a request");
  return { url: request.url, method: request.method, headers, body: request.body as ReadableStream<Uint8Array> | null, redirect: request.redirect };
}

/** A request coming into a sandbox (its fetch handler sees the caller's redirect mode). */
export function hostRequest(record: RequestRecord, signal?: AbortSignal, stream?: ReadableStream<Uint8Array>): Request {
  return toRequest(record, record.redirect as Request["redirect"], signal, stream);
}

/**
 * A sandbox's fetch() on its way to globalOutbound. Its redirect mode is always "manual", whatever
 * the sandbox asked: the sandbox's fetch follows each hop itself, through globalOutbound again, so
 * the host's policies judge (and count, and log) every URL. A Request left on "follow" would let
 * Node's fetch follow a 3xx past the allow-list, carrying whatever headers a policy added.
 */
export function outboundRequest(record: RequestRecord, signal?: AbortSignal): Request {
  return toRequest(record, "manual", signal);
}

function toRequest(record: RequestRecord, redirect: Request["redirect"], signal: AbortSignal | undefined, stream?: ReadableStream<Uint8Array>): Request {
  // The host's own check, for a runtime that skipped its own.
  checkHeaderBytes(record.headers, "a request");
  const body = stream ?? record.body;
  const hasBody = body !== null && record.method !== "GET" && record.method !== "HEAD";
  return new Request(record.url, {
    method: record.method,
    headers: record.headers,
    body: hasBody ? body : undefined,
    redirect,
    signal,
    ...(stream !== undefined && hasBody ? { duplex: "half" } : {}),
  } as RequestInit);
}

/**
 * A response's headers as they cross the boundary: past MAX_HEADER_BYTES a TypeError ("Headers too
 * large"), and its body is cancelled. `outbound`: globalOutbound's answer to a sandbox's fetch(),
 * whose failure the sandbox sees with this message (an OutboundError, which the bridge passes on).
 */
export function responseHeaders(response: Response, outbound = false): [string, string][] {
  const headers = [...response.headers];
  try {
    checkHeaderBytes(headers, "a response", response.statusText);
  } catch (error) {
    response.body?.cancel().catch(() => {});
    throw outbound ? new OutboundError((error as Error).message) : error;
  }
  return headers;
}

export async function responseRecord(response: Response, outbound = false): Promise<ResponseRecord> {
  const headers = responseHeaders(response, outbound);
  const body = response.body === null ? null : new Uint8Array(await response.arrayBuffer());
  return { status: response.status, statusText: response.statusText, headers, body };
}

export function hostResponse(record: WorkerResponse): Response {
  // The host's own check, for a runtime that skipped its own.
  checkHeaderBytes(record.headers, "a response", record.statusText);
  const status = typeof record.status === "number" ? record.status : 500;
  const body = record.body;
  if (nullBodyStatus.has(status) && body instanceof ReadableStream) body.cancel().catch(() => {});
  return new Response(nullBodyStatus.has(status) ? null : record.body, {
    status,
    statusText: typeof record.statusText === "string" ? record.statusText : "",
    headers: record.headers,
  });
}
