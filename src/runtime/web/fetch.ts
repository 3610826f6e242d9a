// The Fetch API classes the sandbox exposes, and the plain records that carry requests and
// responses across the sandbox boundary.

export { BODY_SOURCE } from "./body.ts";
export { Headers, type HeadersInit } from "./headers.ts";
export {
  Request,
  requestFromRecord,
  requestToRecord,
  type BodyInit,
  type RequestInit,
  type RequestRecord,
} from "./request.ts";
export { Response, responseFromRecord, responseToRecord, type ResponseInit, type ResponseRecord } from "./response.ts";
export { setUrlParser, type UrlParser } from "./url-parser.ts";
