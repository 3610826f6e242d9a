// Host Request/Response <-> the plain records that cross the boundary.

import type { RequestRecord, ResponseRecord } from "../runtime/web/fetch.ts";

const nullBodyStatus = new Set([101, 103, 204, 205, 304]);

export async function requestRecord(request: Request): Promise<RequestRecord> {
  const body = request.body === null ? null : new Uint8Array(await request.arrayBuffer());
  return { url: request.url, method: request.method, headers: [...request.headers], body, redirect: request.redirect };
}

export function hostRequest(record: RequestRecord, signal?: AbortSignal): Request {
  const hasBody = record.body !== null && record.method !== "GET" && record.method !== "HEAD";
  return new Request(record.url, {
    method: record.method,
    headers: record.headers,
    body: hasBody ? record.body : undefined,
    redirect: record.redirect as Request["redirect"],
    signal,
  });
}

export async function responseRecord(response: Response): Promise<ResponseRecord> {
  const body = response.body === null ? null : new Uint8Array(await response.arrayBuffer());
  return { status: response.status, statusText: response.statusText, headers: [...response.headers], body };
}

export function hostResponse(record: ResponseRecord): Response {
  const status = typeof record.status === "number" ? record.status : 500;
  return new Response(nullBodyStatus.has(status) ? null : record.body, {
    status,
    statusText: typeof record.statusText === "string" ? record.statusText : "",
    headers: record.headers,
  });
}
