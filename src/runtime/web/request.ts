// Request, per the Fetch Standard's constructor, minus what only matters inside a browser
// (referrers, integrity, keepalive, priority, windows, forbidden request headers).

import { BodyState, extractBody, ownedBytes } from "./body.ts";
import { decodeUtf8 } from "./encoding.ts";
import { getHeadersGuard, Headers, setHeadersGuard, type HeadersInit } from "./headers.ts";
import { parseUrl } from "./url-parser.ts";
import { isHttpToken, requireArguments, toByteString, toDictionary, toDomString, toEnum } from "./webidl.ts";

const REDIRECT_MODES = ["follow", "error", "manual"] as const;
const REQUEST_MODES = ["same-origin", "no-cors", "cors", "navigate"] as const;
const CREDENTIALS_MODES = ["omit", "same-origin", "include"] as const;
const CACHE_MODES = ["default", "no-store", "reload", "no-cache", "force-cache", "only-if-cached"] as const;

export type RequestRedirect = (typeof REDIRECT_MODES)[number];
export type RequestMode = (typeof REQUEST_MODES)[number];
export type RequestCredentials = (typeof CREDENTIALS_MODES)[number];
export type RequestCache = (typeof CACHE_MODES)[number];

/** Strings, ArrayBuffers and ArrayBufferViews; any other object is converted to a string. */
export type BodyInit = string | ArrayBuffer | ArrayBufferView | object;

export interface RequestInit {
  method?: string;
  headers?: HeadersInit | Headers;
  body?: BodyInit | null;
  redirect?: RequestRedirect;
  signal?: unknown;
  cache?: RequestCache;
  credentials?: RequestCredentials;
  mode?: RequestMode;
}

/** A request as it crosses the sandbox boundary. */
export interface RequestRecord {
  url: string;
  method: string;
  headers: [string, string][];
  body: Uint8Array | null;
  redirect: string;
}

// Only these are uppercased; any other method (PATCH included) keeps the caller's casing.
const NORMALIZED_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];
const FORBIDDEN_METHODS = ["CONNECT", "TRACE", "TRACK"];

function normalizeMethod(method: string): string {
  if (!isHttpToken(method)) throw new TypeError(`'${method}' is not a valid HTTP method.`);
  const upper = method.toUpperCase();
  if (FORBIDDEN_METHODS.includes(upper)) throw new TypeError(`'${method}' HTTP method is unsupported.`);
  return NORMALIZED_METHODS.includes(upper) ? upper : method;
}

interface RequestDefaults {
  mode: RequestMode;
  credentials: RequestCredentials;
  cache: RequestCache;
  redirect: RequestRedirect;
  method: string;
  signal: unknown;
  headers: Headers | undefined;
  body: BodyState | null;
}

let bodyOf: (request: Request) => BodyState;
let replaceBody: (request: Request, body: BodyState) => void;

export class Request {
  readonly #url: string;
  readonly #method: string;
  readonly #headers: Headers;
  #body: BodyState;
  readonly #redirect: RequestRedirect;
  readonly #signal: unknown;
  readonly #cache: RequestCache;
  readonly #credentials: RequestCredentials;
  readonly #mode: RequestMode;

  static {
    bodyOf = (request) => request.#body;
    replaceBody = (request, body) => {
      request.#body = body;
    };
  }

  constructor(input: string | Request, init?: RequestInit) {
    requireArguments(arguments.length, 1, "'Request' constructor");
    const source = typeof input === "object" && input !== null && #url in input ? input : null;
    const href = source === null ? toDomString(input) : source.#url;
    const options = toDictionary(init, "RequestInit");
    // Dictionary members are converted in Web IDL order, before any other step.
    const body = options.body;
    const cache = options.cache === undefined ? undefined : toEnum(options.cache, CACHE_MODES, "RequestInit.cache");
    const credentials =
      options.credentials === undefined ? undefined : toEnum(options.credentials, CREDENTIALS_MODES, "RequestInit.credentials");
    const headersInit = options.headers;
    const method = options.method === undefined ? undefined : toByteString(options.method);
    const mode = options.mode === undefined ? undefined : toEnum(options.mode, REQUEST_MODES, "RequestInit.mode");
    const redirect = options.redirect === undefined ? undefined : toEnum(options.redirect, REDIRECT_MODES, "RequestInit.redirect");
    const signal = options.signal;

    // What a Request input passes on; for a URL input, the standard's defaults.
    const base: RequestDefaults =
      source === null
        ? { mode: "cors", credentials: "same-origin", cache: "default", redirect: "follow", method: "GET", signal: null, headers: undefined, body: null }
        : {
            mode: source.#mode,
            credentials: source.#credentials,
            cache: source.#cache,
            redirect: source.#redirect,
            method: source.#method,
            signal: source.#signal,
            headers: source.#headers,
            body: source.#body,
          };

    this.#url = source === null ? parseUrl(href) : href;
    if (mode === "navigate") throw new TypeError("Cannot construct a Request with mode 'navigate'.");
    this.#mode = mode ?? base.mode;
    this.#credentials = credentials ?? base.credentials;
    this.#cache = cache ?? base.cache;
    if (this.#cache === "only-if-cached" && this.#mode !== "same-origin") {
      throw new TypeError("'only-if-cached' can be set only with 'same-origin' mode.");
    }
    this.#redirect = redirect ?? base.redirect;
    this.#method = method === undefined ? base.method : normalizeMethod(method);
    this.#signal = signal !== undefined ? signal : base.signal;
    this.#headers = new Headers(headersInit !== undefined ? (headersInit as HeadersInit) : base.headers);

    const inputBody = base.body;
    const hasInitBody = body !== undefined && body !== null;
    if ((hasInitBody || inputBody?.hasBody) && (this.#method === "GET" || this.#method === "HEAD")) {
      throw new TypeError("Request with GET/HEAD method cannot have body.");
    }
    if (hasInitBody) {
      const extracted = extractBody(body);
      if (extracted.type !== null && !this.#headers.has("content-type")) this.#headers.append("Content-Type", extracted.type);
      this.#body = new BodyState(extracted.bytes);
    } else if (inputBody !== null) {
      if (inputBody.unusable) throw new TypeError("Cannot construct a Request with a Request whose body has already been used.");
      this.#body = inputBody.transfer();
    } else {
      this.#body = new BodyState(null);
    }
  }

  get method(): string {
    return this.#method;
  }

  get url(): string {
    return this.#url;
  }

  get headers(): Headers {
    return this.#headers;
  }

  get redirect(): RequestRedirect {
    return this.#redirect;
  }

  get signal(): unknown {
    return this.#signal;
  }

  get cache(): RequestCache {
    return this.#cache;
  }

  get credentials(): RequestCredentials {
    return this.#credentials;
  }

  get mode(): RequestMode {
    return this.#mode;
  }

  get body(): unknown {
    return this.#body.stream();
  }

  get bodyUsed(): boolean {
    return this.#body.used;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return this.#body.take().buffer as ArrayBuffer;
  }

  async bytes(): Promise<Uint8Array> {
    return this.#body.take();
  }

  async json(): Promise<unknown> {
    return JSON.parse(decodeUtf8(this.#body.take()));
  }

  async text(): Promise<string> {
    return decodeUtf8(this.#body.take());
  }

  clone(): Request {
    const body = this.#body.clone(); // throws TypeError once the body is used
    const copy = new Request(this.#url, {
      method: this.#method,
      headers: this.#headers,
      redirect: this.#redirect,
      signal: this.#signal,
      cache: this.#cache,
      credentials: this.#credentials,
      mode: this.#mode,
    });
    copy.#body = body;
    setHeadersGuard(copy.#headers, getHeadersGuard(this.#headers));
    return copy;
  }

  get [Symbol.toStringTag](): string {
    return "Request";
  }
}

/** Builds the Request a fetch handler receives. Its headers are immutable, as in service workers. */
export function requestFromRecord(record: RequestRecord): Request {
  const request = new Request(record.url, { method: record.method, headers: record.headers, redirect: record.redirect as RequestRedirect });
  replaceBody(request, new BodyState(record.body === null ? null : ownedBytes(record.body)));
  setHeadersGuard(request.headers, "immutable");
  return request;
}

/** Copies a Request out for the host; reading its body marks it used, as fetch() does. */
export async function requestToRecord(request: Request): Promise<RequestRecord> {
  const body = bodyOf(request);
  return {
    url: request.url,
    method: request.method,
    headers: [...request.headers],
    body: body.hasBody ? body.take() : null,
    redirect: request.redirect,
  };
}
