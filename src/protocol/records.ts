// The plain records a request and a response cross the sandbox boundary as: made by the runtime's
// Request and Response (src/runtime/web) and by the host's fetch bridge (src/loader/fetch-records.ts).

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
