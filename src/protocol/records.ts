// The plain records a request and a response cross the sandbox boundary as: made by the runtime's
// Request and Response (src/runtime/web) and by the host's fetch bridge (src/loader/fetch-records.ts).

import { protocolPrimordials as primordials } from "./primordials.ts";

const { ArrayIsArray, TypeError } = primordials;

/** A request as it crosses the sandbox boundary. */
export interface RequestRecord {
  url: string;
  method: string;
  headers: [string, string][];
  body: Uint8Array | null;
  redirect: string;
  /** A body the host streams in chunk by chunk (a caller's streamed request body): its id on the host. */
  bodyStream?: number;
}

/** A response as it crosses the sandbox boundary. */
export interface ResponseRecord {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: Uint8Array | null;
  /** A body the host streams in chunk by chunk (fetch() responses): its id on the host. */
  bodyStream?: number;
  /** Set by fetch(): every URL the request went to, so `url` and `redirected` can be given. */
  urlList?: string[];
}

/**
 * The most a request's or response's headers may hold as they cross the sandbox boundary, names
 * and values together (in UTF-16 code units, as sent): 256 KiB, generous for real use (Node's
 * HTTP server accepts 16 KiB of headers, nginx 32 KiB by default). Each header counts its own
 * value: 200 headers that all hold one 1 MiB string are 200 MiB on the other side.
 */
export const MAX_HEADER_BYTES = 256 * 1024;

/** The error past MAX_HEADER_BYTES: a TypeError whose message starts "Headers too large". */
export function headersTooLarge(what: string): TypeError {
  return new TypeError(`Headers too large: the headers of ${what} may hold at most ${MAX_HEADER_BYTES} bytes (names and values, and a response's status text) to cross the sandbox boundary.`);
}

/**
 * Throws headersTooLarge unless `pairs` (a record's headers) hold at most MAX_HEADER_BYTES; a
 * response's status text counts with them (`statusText`), as the status line is part of the head.
 */
export function checkHeaderBytes(pairs: unknown, what: string, statusText?: unknown): void {
  let total = typeof statusText === "string" ? statusText.length : 0;
  if (total > MAX_HEADER_BYTES) throw headersTooLarge(what);
  if (!ArrayIsArray(pairs)) return;
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i] as unknown;
    if (!ArrayIsArray(pair)) continue;
    for (let j = 0; j < pair.length; j++) {
      const part = pair[j] as unknown;
      if (typeof part === "string") total += part.length;
    }
    if (total > MAX_HEADER_BYTES) throw headersTooLarge(what);
  }
}
