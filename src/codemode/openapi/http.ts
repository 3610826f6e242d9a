// Turning a tool call into an HTTP request for the host's request function, and its answer into a
// value for the sandbox. The request function runs on the host: it is where credentials are added,
// so the sandbox never sees them.

import { HttpError, OpenApiError, ToolInputError, UpstreamError } from "../errors.ts";
import { isObject } from "./document.ts";
import type { Operation } from "./operations.ts";

export type QueryValue = string | number | boolean | null | undefined | (string | number | boolean)[];

export interface OpenApiRequest {
  /** Upper-case HTTP method. */
  method: string;
  /** The path with its parameters filled in, e.g. `/repos/octocat/hello`. */
  path: string;
  /** baseUrl + path + query string (just path + query when there is no baseUrl). */
  url: string;
  query: [string, string][];
  headers: Record<string, string>;
  /** The body as the code gave it (JSON-encode it for application/json, see `contentType`). */
  body?: unknown;
  contentType?: string;
  /** The operation's id; undefined for the raw `request()` escape hatch. */
  operationId?: string;
}

export interface OpenApiResponseValue {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** What a request function gets besides the request. */
export interface OpenApiRequestOptions {
  /**
   * Aborts when the call's time (the source's timeoutMs) is up, or the execution that made the
   * call ends: pass it to fetch, so the upstream request ends with it.
   */
  signal: AbortSignal;
}

/** What the host's request function answers: a fetch Response, or the parts of one. */
export type OpenApiRequestFunction = (request: OpenApiRequest, options: OpenApiRequestOptions) => Promise<Response | OpenApiResponseValue> | Response | OpenApiResponseValue;

export const httpMethods = ["GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"];

/**
 * A path segment value, encoded. `.` and `..` are refused: escaping them does not help, since the
 * URL standard reads `%2E%2E` as `..` too, and a dot segment would make a typed call address
 * another operation than its own (findings15/03: `DELETE /projects/../members/alice` is
 * `DELETE /members/alice`, judged for approval as the operation it was not).
 */
function pathSegment(value: unknown, name: string): string {
  if (value === undefined || value === null) throw new ToolInputError(`The path parameter "${name}" is required.`);
  if (typeof value === "object") throw new ToolInputError(`The path parameter "${name}" must be a string or number.`);
  const text = String(value);
  if (text === "." || text === "..") throw new ToolInputError(`The path parameter "${name}" cannot be ${JSON.stringify(text)}: a dot segment would address another path.`);
  return encodeURIComponent(text);
}

function appendQuery(query: [string, string][], name: string, value: unknown, explode: boolean): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    if (explode) for (const v of value) query.push([name, String(v)]);
    else query.push([name, value.map(String).join(",")]);
  } else if (isObject(value)) {
    if (explode) for (const [k, v] of Object.entries(value)) query.push([k, String(v)]);
    else query.push([name, Object.entries(value).flat().map(String).join(",")]);
  } else query.push([name, String(value)]);
}

export function withQuery(url: string, query: [string, string][]): string {
  if (query.length === 0) return url;
  return `${url}${url.includes("?") ? "&" : "?"}${new URLSearchParams(query).toString()}`;
}

export function joinUrl(baseUrl: string | undefined, path: string): string {
  if (baseUrl === undefined) return path;
  const base = baseUrl.replace(/\/+$/, "");
  const url = new URL(base + path);
  // Dot segments in a raw path could climb above the API's base path.
  if (!url.href.startsWith(base)) throw new ToolInputError(`The path ${JSON.stringify(path)} leaves the API's base URL.`);
  return url.href;
}

/** The request for one operation call, from the tool's input object. */
export function operationRequest(operation: Operation, args: unknown, baseUrl: string | undefined): OpenApiRequest {
  const input = args === undefined ? {} : args;
  if (!isObject(input)) throw new ToolInputError(`${operation.tool.name} takes one object argument.`);
  const known = new Set(operation.parameters.map((p) => p.key));
  if (operation.bodyKey !== undefined) known.add(operation.bodyKey);
  for (const key of Object.keys(input)) {
    if (!known.has(key)) throw new ToolInputError(`${operation.tool.name} has no parameter "${key}"${known.size > 0 ? `; it takes ${[...known].join(", ")}` : ""}.`);
  }
  const query: [string, string][] = [];
  const headers: Record<string, string> = {};
  const path = operation.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const parameter = operation.parameters.find((p) => p.in === "path" && p.name === name);
    return pathSegment(input[parameter?.key ?? name], name);
  });
  for (const parameter of operation.parameters) {
    const value = input[parameter.key];
    if (value === undefined && parameter.required && parameter.in !== "path") throw new ToolInputError(`${operation.tool.name}: the ${parameter.in} parameter "${parameter.name}" is required.`);
    if (parameter.in === "query") appendQuery(query, parameter.name, value, parameter.explode);
    else if (parameter.in === "header" && value !== undefined && value !== null) headers[parameter.name.toLowerCase()] = String(value);
  }
  const body = operation.bodyKey !== undefined ? input[operation.bodyKey] : undefined;
  if (body === undefined && operation.bodyRequired) throw new ToolInputError(`${operation.tool.name}: "${operation.bodyKey}" (the request body) is required.`);
  if (body !== undefined && operation.contentType !== undefined) headers["content-type"] = operation.contentType;
  // Belt and braces: no segment of the filled-in path is one the URL standard resolves away.
  if (path.split("/").some((segment) => /^(?:\.|%2e){1,2}$/i.test(segment))) throw new ToolInputError(`${operation.tool.name}: its path would hold a dot segment and address another path than ${operation.path}.`);
  return {
    method: operation.method,
    path,
    url: withQuery(joinUrl(baseUrl, path), query),
    query,
    headers,
    ...(body !== undefined ? { body, contentType: operation.contentType } : {}),
    ...(operation.operationId !== undefined ? { operationId: operation.operationId } : {}),
  };
}

/** The request for the raw escape hatch: `request({ method, path, query?, headers?, body? })`. */
export function rawRequest(args: unknown, baseUrl: string | undefined): OpenApiRequest {
  if (!isObject(args)) throw new ToolInputError("request() takes one object argument: { method, path, query?, headers?, body? }.");
  const method = typeof args.method === "string" ? args.method.toUpperCase() : "GET";
  if (!httpMethods.includes(method)) throw new ToolInputError(`request(): unknown HTTP method ${JSON.stringify(args.method)}.`);
  if (typeof args.path !== "string" || !args.path.startsWith("/") || args.path.startsWith("//")) throw new ToolInputError('request(): path must be a string starting with "/" (relative to the API\'s base URL).');
  const [path, search] = args.path.split(/\?(.*)/s, 2);
  const query: [string, string][] = search ? [...new URLSearchParams(search)] : [];
  if (args.query !== undefined) {
    if (!isObject(args.query)) throw new ToolInputError("request(): query must be an object.");
    for (const [name, value] of Object.entries(args.query)) appendQuery(query, name, value, true);
  }
  const headers: Record<string, string> = {};
  if (args.headers !== undefined) {
    if (!isObject(args.headers)) throw new ToolInputError("request(): headers must be an object of strings.");
    for (const [name, value] of Object.entries(args.headers)) headers[name.toLowerCase()] = String(value);
  }
  const body = args.body;
  const contentType = body === undefined ? undefined : (headers["content-type"] ??= typeof body === "string" ? "text/plain" : "application/json");
  return { method, path, url: withQuery(joinUrl(baseUrl, path), query), query, headers, ...(body !== undefined ? { body, contentType } : {}) };
}

/** A request function over fetch: JSON bodies encoded, the host's headers (credentials) added last. */
export function fetchRequester(baseUrl: string | undefined, hostHeaders: Record<string, string> = {}, fetchImpl: typeof fetch = fetch): OpenApiRequestFunction {
  return async (request, options) => {
    if (baseUrl === undefined) throw new OpenApiError("The OpenAPI source has no base URL: pass baseUrl (the document names no absolute server).");
    let body: RequestInit["body"];
    if (request.body !== undefined) {
      if (typeof request.body === "string" || request.body instanceof Uint8Array || request.body instanceof ArrayBuffer) body = request.body as RequestInit["body"];
      else if (request.contentType !== undefined && /form-urlencoded/i.test(request.contentType) && isObject(request.body)) body = new URLSearchParams(Object.entries(request.body).map(([k, v]): [string, string] => [k, String(v)]));
      else body = JSON.stringify(request.body);
    }
    try {
      const headers = new Headers(request.headers);
      for (const [name, value] of Object.entries(hostHeaders)) headers.set(name, value);
      return await fetchImpl(request.url, { method: request.method, headers, body, signal: options?.signal });
    } catch (error) {
      throw upstreamError(request, error, options?.signal);
    }
  };
}

/** Why a fetch failed, from its cause's system code (undici wraps them all in "fetch failed"). */
export function upstreamError(request: OpenApiRequest, error: unknown, signal?: AbortSignal): unknown {
  // Aborted by its signal: the execution ended (its reason, an AbortError, says so), or the call's
  // time was up (a TimeoutError: said below as "did not answer in time").
  if (signal?.aborted === true && signal.reason === error && !(error instanceof DOMException && error.name === "TimeoutError")) return error;
  if (!(error instanceof Error)) return error;
  let cause: unknown = error;
  let code: string | undefined;
  for (let depth = 0; depth < 4 && cause instanceof Error; depth++) {
    const own = (cause as { code?: unknown }).code;
    if (typeof own === "string") code = own;
    cause = (cause as { cause?: unknown }).cause;
  }
  const name = error.name === "TimeoutError" || error.name === "AbortError" ? error.name : undefined;
  const kind: UpstreamError["kind"] =
    code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME"
      ? "dns"
      : code === "ECONNREFUSED"
        ? "refused"
        : code === "ECONNRESET" || code === "EPIPE" || code === "UND_ERR_SOCKET"
          ? "reset"
          : code === "ETIMEDOUT" || code?.startsWith("UND_ERR_") === true && code.includes("TIMEOUT") || name !== undefined
            ? "timeout"
            : code !== undefined && (code.startsWith("CERT_") || code.startsWith("ERR_TLS_") || code.startsWith("ERR_SSL_") || /SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code))
              ? "tls"
              : "network";
  // Not a network failure: the request could not be made (a URL with credentials, a header value
  // fetch refuses). Those errors quote the URL or the value, which hold the host's secrets: the
  // code gets only what failed (findings19/01).
  if (kind === "network" && code === undefined && error.message !== "fetch failed") {
    return new UpstreamError(`${request.method} ${request.path}: the request could not be made (${error.name}; the host's baseUrl or headers are not valid for fetch).`, "request", undefined);
  }
  const host = (() => {
    try {
      return new URL(request.url).host;
    } catch {
      return request.url;
    }
  })();
  const why = { dns: "its name did not resolve (DNS)", refused: "the connection was refused", reset: "the connection was reset", timeout: "it did not answer in time", tls: "its TLS certificate was not accepted", network: "the network failed" }[kind];
  return new UpstreamError(`${request.method} ${request.path}: could not reach ${host}: ${why}${code !== undefined ? ` (${code})` : ""}.`, kind, code);
}

/** A response as plain data the sandbox can receive: JSON parsed, text as a string, anything else as bytes. */
export async function responseValue(response: Response | OpenApiResponseValue): Promise<{ status: number; statusText: string; headers: Record<string, string>; body: unknown }> {
  if (!(response instanceof Response)) {
    if (!isObject(response) || typeof response.status !== "number") throw new OpenApiError("The request function must return a Response or { status, headers?, body? }.");
    return { status: response.status, statusText: "", headers: response.headers ?? {}, body: response.body };
  }
  const headers = Object.fromEntries(response.headers);
  const type = response.headers.get("content-type") ?? "";
  const bytes = new Uint8Array(await response.arrayBuffer());
  let body: unknown;
  if (bytes.byteLength === 0) body = undefined;
  else if (/json/i.test(type)) {
    const text = new TextDecoder().decode(bytes);
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  } else if (type === "" || /^text\/|xml|javascript|x-www-form-urlencoded/i.test(type)) body = new TextDecoder().decode(bytes);
  else body = bytes;
  return { status: response.status, statusText: response.statusText, headers, body };
}

/** An HTTP error status as a thrown HttpError whose message carries the start of the body. */
export function httpError(request: OpenApiRequest, response: { status: number; statusText: string; body: unknown }): HttpError {
  let detail = "";
  if (response.body !== undefined) {
    const text = typeof response.body === "string" ? response.body : response.body instanceof Uint8Array ? `${response.body.byteLength} bytes` : JSON.stringify(response.body);
    detail = `: ${text.length > 500 ? `${text.slice(0, 500)}…` : text}`;
  }
  return new HttpError(`${request.method} ${request.path} failed with ${response.status}${response.statusText ? ` ${response.statusText}` : ""}${detail}`, response.status, response.body);
}
