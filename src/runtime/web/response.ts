// Response, per the Fetch Standard: constructor and the static json/redirect/error factories.

import { installBody, type Body } from "./body-mixin.ts";
import { BodyState, extractBody, ownedBytes, type ExtractedBody } from "./body.ts";
import type { ReadableStream } from "./body-stream.ts";
import { encodeUtf8 } from "./encoding.ts";
import { copyHeaders, getHeadersGuard, headerPairs, Headers, headersAppend, headersHas, setHeadersGuard, type HeadersInit } from "./headers.ts";
import { ownGetter } from "./own.ts";
import type { BodyInit } from "./request.ts";
import { parseUrl } from "./url-parser.ts";
import { requireArguments, toByteString, toDictionary, toDomString } from "./webidl.ts";
import { brandPlatformObject, cancelHostBody, readHostBody, streams } from "../platform.ts";
import { primordials, SymbolToStringTag } from "../primordials.ts";

const { ArrayIsArray, ArrayPrototypeIncludes, JSONStringify, MathTrunc, NumberIsFinite, RangeError, RegExpPrototypeExec, RegExpPrototypeSymbolReplace, TypeError, TypedArrayPrototypeGetByteLength } = primordials;

export interface ResponseInit {
  status?: number;
  statusText?: string;
  headers?: HeadersInit | Headers;
}

export type ResponseType = "default" | "error";

import type { ResponseRecord } from "../../protocol/records.ts";
export type { ResponseRecord };

const NULL_BODY_STATUSES = [101, 103, 204, 205, 304];
// Taken now: the sandbox may replace the global JSON later.
const stringifyJson = JSONStringify;
const REDIRECT_STATUSES = [301, 302, 303, 307, 308];

/** Web IDL `unsigned short`: ToNumber, truncate, wrap modulo 2^16. */
function toUnsignedShort(value: unknown): number {
  const number = +(value as number);
  if (!NumberIsFinite(number)) return 0;
  return ((MathTrunc(number) % 65536) + 65536) % 65536;
}

interface ResponseParts {
  status: number;
  statusText: string;
  headers: Headers;
  body: BodyState;
  urlList?: string[];
}

/** The standard's "initialize a response" with an already extracted body (or null). */
function initializeResponse(init: unknown, body: ExtractedBody | null): ResponseParts {
  const options = toDictionary(init, "ResponseInit");
  const headersInit = options.headers;
  const status = options.status === undefined ? 200 : toUnsignedShort(options.status);
  const statusText = options.statusText === undefined ? "" : toByteString(options.statusText);
  if (status < 200 || status > 599) throw new RangeError(`The status provided (${status}) is outside the range [200, 599].`);
  if (!(RegExpPrototypeExec(/^[\t\x20-\x7e\x80-\xff]*$/, statusText) !== null)) throw new TypeError("Invalid statusText.");
  const headers = new Headers(headersInit as HeadersInit | undefined);
  if (body !== null) {
    if (ArrayPrototypeIncludes(NULL_BODY_STATUSES, status)) throw new TypeError(`Response with null body status ${status} cannot have body.`);
    if (body.type !== null && !headersHas(headers, "content-type")) headersAppend(headers, "Content-Type", body.type);
  }
  return { status, statusText, headers, body: body === null ? BodyState.none() : body.body };
}

let partsOf: (response: unknown) => ResponseParts;
let assign: (response: Response, parts: ResponseParts) => void;

export interface Response extends Body {}

export class Response {
  #status!: number;
  #statusText!: string;
  #headers!: Headers;
  #body!: BodyState;
  #type: ResponseType = "default";
  #url = "";
  #redirected = false;

  static {
    partsOf = (response) => {
      if (typeof response !== "object" || response === null || !(#body in response)) throw new TypeError("Illegal invocation");
      const self = response as Response;
      return { status: self.#status, statusText: self.#statusText, headers: self.#headers, body: self.#body };
    };
    assign = (response, parts) => response.#assign(parts);
  }

  constructor(body: BodyInit | null = null, init?: ResponseInit) {
    brandPlatformObject(this, "Response");
    this.#assign(initializeResponse(init, body === null || body === undefined ? null : extractBody(body)));
  }

  static error(): Response {
    const response = new Response(null);
    response.#status = 0;
    response.#type = "error";
    setHeadersGuard(response.#headers, "immutable");
    return response;
  }

  static json(data: unknown, init?: ResponseInit): Response {
    const text = stringifyJson(data);
    if (text === undefined) throw new TypeError("Response.json: the data cannot be serialized to JSON.");
    const response = new Response(null);
    response.#assign(initializeResponse(init, { body: BodyState.fromBytes(encodeUtf8(text)), type: "application/json" }));
    return response;
  }

  static redirect(url: string, status: number = 302): Response {
    requireArguments(arguments.length, 1, "'redirect' on 'Response'");
    const location = parseUrl(toDomString(url));
    const code = toUnsignedShort(status);
    if (!ArrayPrototypeIncludes(REDIRECT_STATUSES, code)) throw new RangeError(`Invalid redirect status code: ${code}.`);
    const response = new Response(null, { status: code });
    headersAppend(response.#headers, "Location", location);
    setHeadersGuard(response.#headers, "immutable");
    return response;
  }

  get type(): ResponseType {
    return this.#type;
  }

  get url(): string {
    return this.#url;
  }

  get redirected(): boolean {
    return this.#redirected;
  }

  get status(): number {
    return this.#status;
  }

  get ok(): boolean {
    return this.#status >= 200 && this.#status <= 299;
  }

  get statusText(): string {
    return this.#statusText;
  }

  get headers(): Headers {
    return this.#headers;
  }

  clone(): Response {
    const body = this.#body.clone(); // throws TypeError once the body is used
    const copy = new Response(null);
    copy.#headers = copyHeaders(this.#headers);
    copy.#status = this.#status;
    copy.#statusText = this.#statusText;
    copy.#type = this.#type;
    copy.#url = this.#url;
    copy.#redirected = this.#redirected;
    copy.#body = body;
    setHeadersGuard(copy.#headers, getHeadersGuard(this.#headers));
    return copy;
  }

  get [SymbolToStringTag](): string {
    return "Response";
  }

  #assign(parts: ResponseParts): void {
    this.#status = parts.status;
    this.#statusText = parts.statusText;
    this.#headers = parts.headers;
    this.#body = parts.body;
    if (parts.urlList !== undefined && parts.urlList.length > 0) {
      this.#url = RegExpPrototypeSymbolReplace(/#.*$/s, parts.urlList[parts.urlList.length - 1], "");
      this.#redirected = parts.urlList.length > 1;
    }
  }
}

/** A body the host streams in (a fetch() response's, a caller's request's): each pull asks the host for its next chunk. */
export function hostBodyStream(id: number) {
  const { ReadableStream, byteControllerClose, byteControllerEnqueue, byteControllerByobRequest, byobRequestRespond } = streams();
  return new ReadableStream({
    type: "bytes",
    async pull(controller) {
      const chunk = (await readHostBody(id)).value;
      if (chunk === null) {
        byteControllerClose(controller);
        const byobRequest = byteControllerByobRequest(controller);
        if (byobRequest !== null && byobRequest !== undefined) byobRequestRespond(byobRequest, 0);
      } else if (TypedArrayPrototypeGetByteLength(chunk) > 0) byteControllerEnqueue(controller, chunk);
    },
    cancel() {
      cancelHostBody(id);
    },
  });
}

// Captured now, before user code can see Response (see own.ts).
export const responseStatus = ownGetter<number>(Response.prototype, "status");
export const responseHeaders = ownGetter<Headers>(Response.prototype, "headers");

/** Builds the Response fetch() resolves with. Its headers are immutable, as the standard says. */
export function responseFromRecord(record: ResponseRecord): Response {
  const response = new Response(null);
  const headers = new Headers(record.headers);
  setHeadersGuard(headers, "immutable");
  // The host's status and reason phrase are taken as they are: the constructor's range checks
  // apply to responses made by code, not to ones that arrived over the network.
  assign(response, {
    status: record.status,
    statusText: record.statusText,
    headers,
    body: typeof record.bodyStream === "number" ? BodyState.fromStream(hostBodyStream(record.bodyStream)) : record.body === null ? BodyState.none() : BodyState.fromBytes(ownedBytes(record.body)),
    urlList: ArrayIsArray(record.urlList) ? record.urlList : undefined,
  });
  return response;
}

/**
 * Copies a fetch handler's Response out for the host. A body made from bytes crosses whole; a
 * body made from a stream is handed back (locked) for the host to pull a chunk at a time.
 */
export async function responseToStreamingRecord(response: Response): Promise<{ readonly record: ResponseRecord; readonly stream: ReadableStream | null }> {
  const { status, statusText, headers, body } = partsOf(response);
  const record = { __proto__: null, status, statusText, headers: headerPairs(headers, "a response", statusText), body: null } as ResponseRecord;
  if (body.hasBody && !body.streamed) record.body = (await body.consume()).bytes;
  else if (body.hasBody) {
    if (body.unusable) throw new TypeError("Body is unusable: Body has already been read");
    return { __proto__: null, record, stream: body.stream() } as { readonly record: ResponseRecord; readonly stream: ReadableStream | null };
  }
  return { __proto__: null, record, stream: null } as { readonly record: ResponseRecord; readonly stream: ReadableStream | null };
}

/**
 * Copies a Response out for the host; its body is consumed (a stream read to its end), so it
 * must not have been used.
 */
export async function responseToRecord(response: Response): Promise<ResponseRecord> {
  const { status, statusText, headers, body } = partsOf(response);
  // Without a prototype: see requestToRecord.
  return { __proto__: null, status, statusText, headers: headerPairs(headers, "a response", statusText), body: body.hasBody ? (await body.consume()).bytes : null } as ResponseRecord;
}

installBody(Response.prototype, {
  body: (response) => partsOf(response).body,
  headers: (response) => partsOf(response).headers,
});
