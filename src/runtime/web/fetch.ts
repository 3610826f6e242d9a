// The Fetch API classes the sandbox exposes, and the plain records that carry requests and
// responses across the sandbox boundary.

export { Headers, type HeadersInit } from "./headers.ts";
export {
  Request,
  requestAbortSignal,
  requestFromRecord,
  requestToRecord,
  type BodyInit,
  type RequestInit,
  type RequestRecord,
} from "./request.ts";
export { Response, responseFromRecord, responseToRecord, type ResponseInit, type ResponseRecord } from "./response.ts";
export { Blob } from "./blob.ts";
export { File } from "./file.ts";
export { FormData } from "./form-data.ts";
export type { UrlParser } from "./url-parser.ts";
