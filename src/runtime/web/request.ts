// Request, per the Fetch Standard's constructor as undici implements it outside a browser: no
// forbidden headers, no window, no origin (so the referrer is kept as given).

import { brandPlatformObject } from "../platform.ts";
import { installBody, type Body } from "./body-mixin.ts";
import { BodyState, extractBody, ownedBytes } from "./body.ts";
import { copyHeaders, getHeadersGuard, headerPairs, Headers, headersAppend, headersHas, setHeadersGuard, type HeadersInit } from "./headers.ts";
import { ownGetter } from "./own.ts";
import { hostBodyStream } from "./response.ts";
import { followingSignal, parentSignal, toAbortSignal, type AbortSignal, type IncomingSignal, type SignalParent } from "./signal.ts";
import { parseUrl } from "./url-parser.ts";
import { isHttpToken, requireArguments, toByteString, toDictionary, toDomString, toEnum, toUsvString } from "./webidl.ts";
import { primordials, SymbolToStringTag } from "../primordials.ts";

const { ArrayPrototypeIncludes, ArrayPrototypeSome, RegExpPrototypeExec, StringPrototypeToUpperCase, Symbol, TypeError } = primordials;

const REDIRECT_MODES = ["follow", "error", "manual"] as const;
const REQUEST_MODES = ["same-origin", "no-cors", "cors", "navigate"] as const;
const CREDENTIALS_MODES = ["omit", "same-origin", "include"] as const;
const CACHE_MODES = ["default", "no-store", "reload", "no-cache", "force-cache", "only-if-cached"] as const;
const DUPLEX_MODES = ["half"] as const;
const REFERRER_POLICIES = [
  "",
  "no-referrer",
  "no-referrer-when-downgrade",
  "same-origin",
  "origin",
  "strict-origin",
  "origin-when-cross-origin",
  "strict-origin-when-cross-origin",
  "unsafe-url",
] as const;

export type RequestRedirect = (typeof REDIRECT_MODES)[number];
export type RequestMode = (typeof REQUEST_MODES)[number];
export type RequestCredentials = (typeof CREDENTIALS_MODES)[number];
export type RequestCache = (typeof CACHE_MODES)[number];
export type RequestDuplex = (typeof DUPLEX_MODES)[number];
export type ReferrerPolicy = (typeof REFERRER_POLICIES)[number];

/** String, BufferSource, Blob, FormData, URLSearchParams or ReadableStream; other objects become strings. */
export type BodyInit = string | ArrayBuffer | ArrayBufferView | object;

export interface RequestInit {
  method?: string;
  headers?: HeadersInit | Headers;
  body?: BodyInit | null;
  redirect?: RequestRedirect;
  signal?: AbortSignal | null;
  cache?: RequestCache;
  credentials?: RequestCredentials;
  mode?: RequestMode;
  duplex?: RequestDuplex;
  integrity?: string;
  keepalive?: boolean;
  referrer?: string;
  referrerPolicy?: ReferrerPolicy;
  window?: null;
}

import type { RequestRecord } from "../../protocol/records.ts";
export type { RequestRecord };

// Only these are uppercased; any other method (PATCH included) keeps the caller's casing.
const NORMALIZED_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];
const FORBIDDEN_METHODS = ["CONNECT", "TRACE", "TRACK"];
const CORS_SAFELISTED_METHODS = ["GET", "HEAD", "POST"];

function normalizeMethod(method: string): string {
  if (!isHttpToken(method)) throw new TypeError(`'${method}' is not a valid HTTP method.`);
  const upper = StringPrototypeToUpperCase(method);
  if (ArrayPrototypeIncludes(FORBIDDEN_METHODS, upper)) throw new TypeError(`'${method}' HTTP method is unsupported.`);
  return ArrayPrototypeIncludes(NORMALIZED_METHODS, upper) ? upper : method;
}

/** The request itself (the standard's "request"), apart from the Request object around it. */
interface RequestState {
  url: string;
  method: string;
  headers: Headers;
  body: BodyState;
  mode: RequestMode;
  credentials: RequestCredentials;
  cache: RequestCache;
  redirect: RequestRedirect;
  integrity: string;
  keepalive: boolean;
  /** "client", "no-referrer" or a serialized URL. */
  referrer: string;
  referrerPolicy: ReferrerPolicy;
  /** The signal this Request's own signal follows (a fetch handler's request: the incoming one, made when first needed). */
  signalParent: SignalParent;
}

// Lets clone() and requestFromRecord() build a Request around a state they made.
const ADOPT_STATE = Symbol("adopt state");

let stateOf: (request: unknown) => RequestState;

export interface Request extends Body {}

export class Request {
  #state!: RequestState;
  #signal: AbortSignal | undefined;

  static {
    stateOf = (request) => {
      if (typeof request !== "object" || request === null || !(#state in request)) throw new TypeError("Illegal invocation");
      return (request as Request).#state;
    };
  }

  constructor(input: string | Request, init?: RequestInit) {
    brandPlatformObject(this, "Request");
    if (input === (ADOPT_STATE as unknown)) {
      this.#state = init as unknown as RequestState;
      return;
    }
    requireArguments(arguments.length, 1, "'Request' constructor");
    const source = typeof input === "object" && input !== null && #state in input ? input.#state : null;
    const href = source === null ? toUsvString(input) : source.url;
    const options = toDictionary(init, "RequestInit");
    // Dictionary members are converted in Web IDL (lexicographic) order, before any other step.
    const body = options.body;
    const cache = options.cache === undefined ? undefined : toEnum(options.cache, CACHE_MODES, "RequestInit.cache");
    const credentials = options.credentials === undefined ? undefined : toEnum(options.credentials, CREDENTIALS_MODES, "RequestInit.credentials");
    const duplex = options.duplex === undefined ? undefined : toEnum(options.duplex, DUPLEX_MODES, "RequestInit.duplex");
    const headersInit = options.headers;
    const integrity = options.integrity === undefined ? undefined : toDomString(options.integrity);
    const keepalive = options.keepalive === undefined ? undefined : !!options.keepalive;
    const method = options.method === undefined ? undefined : toByteString(options.method);
    const mode = options.mode === undefined ? undefined : toEnum(options.mode, REQUEST_MODES, "RequestInit.mode");
    const redirect = options.redirect === undefined ? undefined : toEnum(options.redirect, REDIRECT_MODES, "RequestInit.redirect");
    const referrer = options.referrer === undefined ? undefined : toUsvString(options.referrer);
    const referrerPolicy = options.referrerPolicy === undefined ? undefined : toEnum(options.referrerPolicy, REFERRER_POLICIES, "RequestInit.referrerPolicy");
    const signal = options.signal === undefined ? undefined : toAbortSignal(options.signal);
    const window = options.window;

    let url: string;
    if (source === null) {
      url = parseUrl(href);
      // Userinfo survives serialization only before the host, as "user:pass@".
      if ((RegExpPrototypeExec(/^[^:]*:\/\/[^/?#]*@/, url) !== null)) throw new TypeError(`Request cannot be constructed from a URL that includes credentials: ${href}`);
    } else {
      url = href;
    }
    if (window !== undefined && window !== null) throw new TypeError("RequestInit.window can only be null.");
    const converted = [body, cache, credentials, duplex, headersInit, integrity, keepalive, method, mode, redirect, referrer, referrerPolicy, signal, window];
    const initPresent = ArrayPrototypeSome(converted, (member) => member !== undefined);

    const state: RequestState = {
      url,
      method: source?.method ?? "GET",
      headers: undefined as unknown as Headers,
      body: BodyState.none(),
      mode: source?.mode ?? "cors",
      credentials: source?.credentials ?? "same-origin",
      cache: source?.cache ?? "default",
      redirect: source?.redirect ?? "follow",
      integrity: source?.integrity ?? "",
      keepalive: source?.keepalive ?? false,
      referrer: source === null || initPresent ? "client" : source.referrer,
      referrerPolicy: source === null || initPresent ? "" : source.referrerPolicy,
      // Following the input's signal is following its parent: nothing else aborts it.
      signalParent: source?.signalParent ?? null,
    };
    if (referrer !== undefined) state.referrer = referrer === "" ? "no-referrer" : parseReferrer(referrer);
    if (referrerPolicy !== undefined) state.referrerPolicy = referrerPolicy;
    if (mode === "navigate") throw new TypeError("Cannot construct a Request with mode 'navigate'.");
    if (mode !== undefined) state.mode = mode;
    if (credentials !== undefined) state.credentials = credentials;
    if (cache !== undefined) state.cache = cache;
    if (state.cache === "only-if-cached" && state.mode !== "same-origin") throw new TypeError("'only-if-cached' can be set only with 'same-origin' mode.");
    if (redirect !== undefined) state.redirect = redirect;
    if (integrity !== undefined) state.integrity = integrity;
    if (keepalive !== undefined) state.keepalive = keepalive;
    if (method !== undefined) state.method = normalizeMethod(method);
    if (signal !== undefined) state.signalParent = signal;
    if (mode === "no-cors" && !ArrayPrototypeIncludes(CORS_SAFELISTED_METHODS, state.method)) throw new TypeError(`'${state.method}' is unsupported in no-cors mode.`);
    state.headers = headersInit !== undefined ? new Headers(headersInit as HeadersInit) : source !== null ? copyHeaders(source.headers) : new Headers();

    const inputBody = source?.body ?? null;
    const hasInitBody = body !== undefined && body !== null;
    if ((hasInitBody || inputBody?.hasBody) && (state.method === "GET" || state.method === "HEAD")) {
      throw new TypeError("Request with GET/HEAD method cannot have body.");
    }
    let initBody: BodyState | null = null;
    if (hasInitBody) {
      const extracted = extractBody(body, state.keepalive);
      initBody = extracted.body;
      if (extracted.type !== null && !headersHas(state.headers, "content-type")) headersAppend(state.headers, "Content-Type", extracted.type);
    }
    const streamed = (initBody ?? inputBody)?.streamed ?? false;
    if (streamed) {
      if (initBody !== null && duplex === undefined) throw new TypeError("RequestInit: duplex option is required when sending a body.");
      if (state.mode !== "same-origin" && state.mode !== "cors") throw new TypeError('If request is made from ReadableStream, mode should be "same-origin" or "cors"');
    }
    if (initBody !== null) state.body = initBody;
    else if (inputBody !== null) state.body = inputBody.transfer();
    this.#state = state;
  }

  get method(): string {
    return this.#state.method;
  }

  get url(): string {
    return this.#state.url;
  }

  get headers(): Headers {
    return this.#state.headers;
  }

  get destination(): string {
    stateOf(this);
    return "";
  }

  get referrer(): string {
    const referrer = this.#state.referrer;
    return referrer === "no-referrer" ? "" : referrer === "client" ? "about:client" : referrer;
  }

  get referrerPolicy(): ReferrerPolicy {
    return this.#state.referrerPolicy;
  }

  get mode(): RequestMode {
    return this.#state.mode;
  }

  get credentials(): RequestCredentials {
    return this.#state.credentials;
  }

  get cache(): RequestCache {
    return this.#state.cache;
  }

  get redirect(): RequestRedirect {
    return this.#state.redirect;
  }

  get integrity(): string {
    return this.#state.integrity;
  }

  get keepalive(): boolean {
    return this.#state.keepalive;
  }

  get isReloadNavigation(): boolean {
    stateOf(this);
    return false;
  }

  get isHistoryNavigation(): boolean {
    stateOf(this);
    return false;
  }

  get signal(): AbortSignal {
    this.#signal ??= followingSignal(parentSignal(this.#state.signalParent));
    return this.#signal;
  }

  get duplex(): RequestDuplex {
    stateOf(this);
    return "half";
  }

  clone(): Request {
    const state = this.#state;
    const body = state.body.clone(); // throws TypeError once the body is used
    const headers = copyHeaders(state.headers);
    setHeadersGuard(headers, getHeadersGuard(state.headers));
    // The clone's signal follows this one's, which only ever aborts with its own parent.
    return new Request(ADOPT_STATE as never, { ...state, headers, body } as never);
  }

  get [SymbolToStringTag](): string {
    return "Request";
  }
}

installBody(Request.prototype, {
  body: (request) => stateOf(request).body,
  headers: (request) => stateOf(request).headers,
});

/** A referrer URL as undici keeps it: there is no origin to compare it with. */
function parseReferrer(referrer: string): string {
  const parsed = parseUrl(referrer);
  return parsed === "about:client" ? "client" : parsed;
}

// Captured now, before user code can see Request (see own.ts).
export const requestUrl = ownGetter<string>(Request.prototype, "url");
export const requestMethod = ownGetter<string>(Request.prototype, "method");
export const requestRedirect = ownGetter<RequestRedirect>(Request.prototype, "redirect");
export const requestHeaders = ownGetter<Headers>(Request.prototype, "headers");

/**
 * The signal fetch() has to watch for `request`: the one its own signal follows, or null when
 * nothing can abort it. Unlike `request.signal`, this never creates a signal (nor loads the
 * events chunk) for the common request without one; a fetch handler's request (and a Request
 * made from it) has one, which the host aborts when the handler's caller gives up.
 */
export function requestAbortSignal(request: Request): AbortSignal | null {
  return parentSignal(stateOf(request).signalParent);
}

/**
 * Builds the Request a fetch handler receives. Its headers are immutable, as in service workers;
 * its signal follows `signal`, which the host aborts when the caller gives up.
 */
export function requestFromRecord(record: RequestRecord, signal: IncomingSignal | null = null): Request {
  const request = new Request(record.url, { method: record.method, headers: record.headers, redirect: record.redirect as RequestRedirect });
  const state = stateOf(request);
  state.body = typeof record.bodyStream === "number" ? BodyState.fromStream(hostBodyStream(record.bodyStream)) : record.body === null ? BodyState.none() : BodyState.fromBytes(ownedBytes(record.body));
  setHeadersGuard(state.headers, "immutable");
  state.signalParent = signal;
  return request;
}

/** Copies a Request out for the host; reading its body (to its end, if streamed) marks it used. */
export async function requestToRecord(request: Request): Promise<RequestRecord> {
  const state = stateOf(request);
  // Without a prototype: the async function's promise, resolved with the record, looks up its
  // `then`, which user code could otherwise have put on Object.prototype (and swap the record).
  return {
    __proto__: null,
    url: state.url,
    method: state.method,
    headers: headerPairs(state.headers, "a request"),
    body: state.body.hasBody ? (await state.body.consume()).bytes : null,
    redirect: state.redirect,
  } as RequestRecord;
}
