// An OpenAPI 3.0/3.1 document as a tool source: one method per operation, plus `request()`, a raw
// escape hatch for what the typed methods do not cover. Every call goes through the host's request
// function (by default fetch against baseUrl with the host's `headers`), which adds credentials.

import { redactValue } from "../config.ts";
import { OpenApiError, UpstreamError } from "../errors.ts";
import type { JsonSchema, ToolDescriptor, ToolProvider } from "../provider.ts";
import { isObject, readDocument, rewriteSchemaRefs, serverUrl } from "./document.ts";
import { fetchRequester, httpError, operationRequest, rawRequest, responseValue, httpMethods, type OpenApiRequest, type OpenApiRequestFunction } from "./http.ts";
import { readOperations, type Operation } from "./operations.ts";

export type { OpenApiRequest, OpenApiRequestOptions, OpenApiResponseValue, OpenApiRequestFunction } from "./http.ts";

export interface OpenApiSourceOptions {
  /** The namespace in the sandbox. */
  namespace: string;
  /** Sends each request (host-side: add credentials here). Default: fetch against baseUrl with `headers`. */
  request?: OpenApiRequestFunction;
  /** Where paths are resolved; default the document's first server. */
  baseUrl?: string;
  /** Headers the default request function adds to every request (e.g. authorization); never visible to the sandbox. */
  headers?: Record<string, string>;
  /** Only operations this returns true for become tools. */
  filter?: (operation: { method: string; path: string; operationId?: string; tags: string[] }) => boolean;
  /** Tool descriptions: summary only (default, compact) or summary and description. */
  fullDescriptions?: boolean;
  /**
   * Calls that pause for the host's approval: true for all, a predicate (e.g. every non-GET), or a
   * list of operations, each named by its operationId or as "METHOD /path" (the path as the document
   * writes it). A name in the list that is no operation of the document is an OpenApiError. With a
   * predicate or a list, the raw request() is judged as the operation its method and path address.
   */
  needsApproval?: boolean | readonly string[] | ((operation: { method: string; path: string; operationId?: string }) => boolean);
  /** The raw `request()` method; default true. */
  rawRequest?: boolean;
  /** Description of the namespace; default the document's info.title. */
  description?: string;
  /**
   * The longest one call may take, its response's body read included (default 60 s, as an MCP
   * source's): past it the call fails with an UpstreamError of kind "timeout" and its request is
   * aborted. A call also ends when the execution that made it ends.
   */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;

export const RAW_REQUEST_TOOL = "request";

const rawRequestTool: ToolDescriptor = {
  name: RAW_REQUEST_TOOL,
  description: "Sends any request to the API (path relative to its base URL). Does not throw on HTTP error statuses.",
  inputSchema: {
    type: "object",
    properties: {
      method: { type: "string", enum: httpMethods },
      path: { type: "string", description: 'Starts with "/", may include a query string.' },
      query: { type: "object", additionalProperties: { anyOf: [{ type: "string" }, { type: "number" }, { type: "boolean" }, { type: "array", items: { type: ["string", "number", "boolean"] } }] } },
      headers: { type: "object", additionalProperties: { type: "string" } },
      body: { description: "JSON-encoded unless a string." },
    },
    required: ["method", "path"],
    additionalProperties: false,
  },
  outputSchema: {
    type: "object",
    properties: { status: { type: "number" }, headers: { type: "object", additionalProperties: { type: "string" } }, body: {} },
    required: ["status", "headers", "body"],
  },
};

export function fromOpenApi(documentOrText: unknown, options: OpenApiSourceOptions): ToolProvider {
  if (!isObject(options) || typeof options.namespace !== "string" || options.namespace === "") throw new OpenApiError("fromOpenApi needs options with a namespace.");
  const document = readDocument(documentOrText);
  const baseUrl = options.baseUrl ?? absolute(serverUrl(document));
  const send = options.request ?? fetchRequester(baseUrl, options.headers);
  // What `headers` adds never reaches the code, even when an upstream quotes it back (a
  // WWW-Authenticate challenge, an error page): findings14/04. A custom `request` redacts its own.
  const secrets = headerSecrets(options.request === undefined ? options.headers : undefined);
  if (options.request !== undefined && typeof options.request !== "function") throw new OpenApiError("options.request must be a function.");
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeoutMs !== "number" || !(timeoutMs > 0) || timeoutMs > 2 ** 31 - 1) throw new OpenApiError(`options.timeoutMs must be a positive number of milliseconds (at most ${2 ** 31 - 1}).`);
  /** The request sent and its answer read, within timeoutMs and the execution's signal (ToolProvider.call). */
  const answer = async (request: OpenApiRequest, callSignal: AbortSignal | undefined) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = callSignal === undefined ? timeout : AbortSignal.any([callSignal, timeout]);
    // Settled when the signal aborts, even by a request function that does not honour it.
    let stopped: ((reason: unknown) => void) | undefined;
    const onAbort = () => stopped?.(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const work = (async () => responseValue(await send(request, { signal })))();
      const aborted = new Promise<never>((_, reject) => (stopped = reject));
      work.catch(() => {});
      if (signal.aborted) onAbort();
      return redactValue(await Promise.race([work, aborted]), secrets);
    } catch (error) {
      if (timeout.aborted && callSignal?.aborted !== true) throw new UpstreamError(`${request.method} ${request.path}: no answer within ${timeoutMs} ms (the source's timeoutMs); the request was aborted.`, "timeout", undefined);
      throw error;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  };
  let operations = readOperations(document, { fullDescriptions: options.fullDescriptions });
  const judge = approvalPolicy(options.needsApproval, operations);
  // request() reaches every operation of the document, filtered out or not: each is judged by the
  // same approval policy as its typed method would be.
  const approvalRoutes = judge === undefined ? undefined : routes(operations, judge);
  if (options.filter !== undefined) {
    const filter = options.filter;
    operations = operations.filter((op) => filter({ method: op.method, path: op.path, operationId: op.operationId, tags: tagsOf(document, op) }));
  }
  for (const op of operations) {
    if (judge?.({ method: op.method, path: op.path, operationId: op.operationId }) === true) op.tool.needsApproval = true;
  }
  const includeRaw = options.rawRequest !== false;
  // call() routes by name, so names are made unique here (a duplicate operationId, or one named
  // like the raw request tool, gets its method and path appended).
  const byName = new Map<string, Operation>();
  for (const op of operations) {
    if (byName.has(op.tool.name) || (includeRaw && op.tool.name === RAW_REQUEST_TOOL)) op.tool.name = `${op.tool.name} ${op.method} ${op.path}`;
    byName.set(op.tool.name, op);
  }
  const rawTool: ToolDescriptor =
    options.needsApproval === true
      ? { ...rawRequestTool, needsApproval: true }
      : judge !== undefined
        ? { ...rawRequestTool, description: `${rawRequestTool.description} Needs the host's approval when it addresses an operation that needs approval, or none of the API's operations.` }
        : rawRequestTool;
  const tools = [...(includeRaw ? [rawTool] : []), ...operations.map((op) => op.tool)];
  const schemas = document.components?.schemas;
  const definitions = isObject(schemas) ? (rewriteSchemaRefs(schemas) as Record<string, JsonSchema>) : undefined;
  const description = options.description ?? (typeof document.info?.title === "string" ? document.info.title : undefined);

  return {
    namespace: options.namespace,
    ...(description !== undefined ? { description } : {}),
    tools,
    ...(definitions !== undefined ? { definitions } : {}),
    ...(includeRaw && approvalRoutes !== undefined
      ? {
          approvalFor(tool: string, args: unknown): boolean {
            if (tool !== RAW_REQUEST_TOOL) return false;
            return rawRequestNeedsApproval(approvalRoutes, rawRequest(args, baseUrl), baseUrl);
          },
        }
      : {}),
    async call(tool, args, callOptions) {
      if (includeRaw && tool === RAW_REQUEST_TOOL) {
        const request = rawRequest(args, baseUrl);
        const response = await answer(request, callOptions?.signal);
        return { status: response.status, headers: response.headers, body: response.body };
      }
      const operation = byName.get(tool);
      if (operation === undefined) throw new OpenApiError(`Unknown operation ${JSON.stringify(tool)}.`);
      const request = operationRequest(operation, args, baseUrl);
      const response = await answer(request, callOptions?.signal);
      if (response.status >= 400) throw httpError(request, response);
      return response.body;
    },
  };
}

interface ApprovalRoute {
  method: string;
  /** One matcher per path segment: a literal (compared decoded) or a pattern for templated segments. */
  segments: (string | RegExp)[];
  needsApproval: boolean;
}

type ApprovalPredicate = (operation: { method: string; path: string; operationId?: string }) => boolean;

/**
 * needsApproval as one predicate (undefined: no policy). A list names operations by operationId or
 * "METHOD /path"; an unknown name, or a value of another type, is refused here rather than ignored.
 */
function approvalPolicy(policy: unknown, operations: Operation[]): ApprovalPredicate | undefined {
  if (policy === undefined || policy === false) return undefined;
  if (policy === true) return () => true;
  if (typeof policy === "function") return (operation) => (policy as ApprovalPredicate)(operation) === true;
  if (!Array.isArray(policy)) throw new OpenApiError("options.needsApproval must be true, false, a predicate, or a list of operations (operationIds or \"METHOD /path\").");
  const names = new Set<string>();
  for (const entry of policy as unknown[]) {
    if (typeof entry !== "string") throw new OpenApiError("options.needsApproval: a list holds operationIds or \"METHOD /path\" strings.");
    const spaced = /^([A-Za-z]+) (\/.*)$/.exec(entry);
    const name = spaced === null ? entry : `${spaced[1].toUpperCase()} ${spaced[2]}`;
    if (!operations.some((op) => op.operationId === name || `${op.method} ${op.path}` === name)) {
      throw new OpenApiError(`options.needsApproval names ${JSON.stringify(entry)}, which is no operation of the document (give an operationId or "METHOD /path").`);
    }
    names.add(name);
  }
  return (operation) => (operation.operationId !== undefined && names.has(operation.operationId)) || names.has(`${operation.method.toUpperCase()} ${operation.path}`);
}

function routes(operations: Operation[], policy: ApprovalPredicate): ApprovalRoute[] {
  return operations.map((op) => ({
    method: op.method,
    segments: op.path
      .split("/")
      .slice(1)
      .map((segment) => (segment.includes("{") ? new RegExp(`^${segment.split(/\{[^}]*\}/).map(escapeRegExp).join("[^/]+")}$`) : segment)),
    needsApproval: policy({ method: op.method, path: op.path, operationId: op.operationId }),
  }));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * A raw request needs approval when an operation it may address does (every match counts, so
 * /pets/mine and /pets/{id} both judge /pets/mine), or when it addresses none: with a policy in
 * place, a request nobody described is not assumed harmless. The path judged is the one the
 * request goes to (dot segments resolved); an encoded slash or backslash matches no template.
 */
function rawRequestNeedsApproval(table: ApprovalRoute[], request: OpenApiRequest, baseUrl: string | undefined): boolean {
  const target = new URL(request.url, "http://base.invalid");
  let path = target.pathname;
  if (baseUrl !== undefined) {
    const basePath = new URL(baseUrl).pathname.replace(/\/+$/, "");
    if (!path.startsWith(`${basePath}/`)) return true;
    path = path.slice(basePath.length);
  }
  const segments = path.split("/").slice(1);
  let matched = false;
  for (const route of table) {
    if (route.method !== request.method || route.segments.length !== segments.length) continue;
    const fits = route.segments.every((matcher, i) => {
      const raw = segments[i];
      if (raw === "" || /%2f|%5c/i.test(raw)) return false;
      if (typeof matcher !== "string") return matcher.test(raw);
      try {
        return decodeURIComponent(raw) === matcher;
      } catch {
        return false;
      }
    });
    if (!fits) continue;
    matched = true;
    if (route.needsApproval) return true;
  }
  return !matched;
}

function absolute(url: string | undefined): string | undefined {
  return url !== undefined && /^https?:\/\//i.test(url) ? url : undefined;
}

function tagsOf(document: ReturnType<typeof readDocument>, op: Operation): string[] {
  const item = document.paths?.[op.path];
  const operation = isObject(item) ? item[op.method.toLowerCase()] : undefined;
  return isObject(operation) && Array.isArray(operation.tags) ? operation.tags.filter((t): t is string => typeof t === "string") : [];
}

/** Each header value, and its parts of 8 characters or more (the token of "Bearer <token>"). */
function headerSecrets(headers: Record<string, string> | undefined): string[] {
  const secrets = new Set<string>();
  for (const value of Object.values(headers ?? {})) {
    if (typeof value !== "string" || value.length < 8) continue;
    // The token of "Bearer <token>" whole (the scheme word stays readable, as islet mcp's redaction
    // leaves it), and of "k=v; sig=w" each pair and each value. Not split at "=" inside a token:
    // base64 holds "=", and the tail after it leaked (findings16/05).
    const unquote = (part: string) => part.replace(/^["']|["']$/g, "");
    const segments = value.split(/[\s,;]+/).map(unquote).filter((part) => part.length > 0);
    const parts = segments.flatMap((segment) => {
      const equals = segment.indexOf("=");
      return equals > 0 && equals < segment.length - 1 ? [segment, unquote(segment.slice(equals + 1))] : [segment];
    }).filter((part) => part.length >= 8);
    if (parts.length === 0) secrets.add(value);
    for (const part of parts) secrets.add(part);
  }
  // Longest first, so a whole value is replaced before a part of it.
  return [...secrets].sort((a, b) => b.length - a.length);
}
