// An MCP server as a tool source: every tool the server lists becomes a method of one namespace.
// The connection is made once, up front, so the tool list (and the types generated from it) is
// known before any sandbox code runs.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpError, type CallToolResult, type Tool } from "@modelcontextprotocol/sdk/types.js";
import { CodeModeError } from "./errors.ts";
import { SANDBOX_ERROR_DATA } from "../rpc/errors.ts";
import type { ToolCallOptions, ToolDescriptor, ToolProvider } from "./provider.ts";

export interface McpStdioServer {
  command: string;
  args?: string[];
  /** The child's whole environment besides PATH: the host's other variables (and secrets) are not inherited. */
  env?: Record<string, string>;
  cwd?: string;
}

interface McpSourceCommon {
  namespace: string;
  /** One line shown to the model with the namespace; defaults to the server's own name and version. */
  description?: string;
  /** Per-call timeout (default 60 s, the MCP SDK's). */
  timeoutMs?: number;
  /** Tools that pause for the host's approval before they run (see `execute`'s onApproval). */
  needsApproval?: string[] | ((tool: Tool) => boolean);
}

export type McpSourceOptions =
  | (McpSourceCommon & { stdio: McpStdioServer; url?: undefined })
  | (McpSourceCommon & {
      url: string | URL;
      headers?: Record<string, string>;
      /**
       * "streamable-http", "sse" (the protocol's older HTTP+SSE transport), or "auto" (the default):
       * streamable HTTP, and the older transport when the server refuses its first request with a
       * 4xx status, as the protocol's backwards-compatibility section describes.
       */
      transport?: "auto" | "streamable-http" | "sse";
      stdio?: undefined;
    });

/** A call to an MCP tool failed: the tool reported an error (`isError`) or the server answered with a protocol error. */
export class McpToolError extends CodeModeError {
  readonly namespace: string;
  readonly tool: string;
  /** The JSON-RPC error code for protocol errors; undefined when the tool itself reported the failure. */
  readonly code: number | undefined;
  constructor(namespace: string, tool: string, message: string, code?: number) {
    super(`${namespace}.${tool}: ${message}`);
    this.namespace = namespace;
    this.tool = tool;
    this.code = code;
  }

  /** The code that called the tool sees `code` on the error it catches. */
  get [SANDBOX_ERROR_DATA](): string[] {
    return ["code"];
  }
}

/** The MCP server could not be started or reached, or did not complete the MCP handshake. */
export class McpConnectionError extends CodeModeError {
  readonly namespace: string;
  constructor(namespace: string, message: string, options?: ErrorOptions) {
    super(`MCP server "${namespace}": ${message}`, options);
    this.namespace = namespace;
  }
}

// The SDK always merges HOME, LOGNAME, SHELL, TERM and USER into the child's environment; an
// explicit undefined keeps them out (Node's spawn skips undefined values), so the child sees
// exactly PATH plus what the caller passed.
const SDK_INHERITED = ["HOME", "LOGNAME", "SHELL", "TERM", "USER"];

function childEnvironment(env: Record<string, string> | undefined): Record<string, string> {
  const result: Record<string, string | undefined> = {};
  for (const key of SDK_INHERITED) result[key] = undefined;
  if (process.env.PATH !== undefined) result.PATH = process.env.PATH;
  Object.assign(result, env);
  return result as Record<string, string>;
}

const STDERR_TAIL = 4096;

/** What of a server's guide search shows: its instructions, resources and prompts, each bounded. */
const MAX_INSTRUCTIONS_CHARS = 8_000;
const MAX_LISTED = 200;
const MAX_LISTED_TEXT = 500;

const bounded = (text: unknown, max = MAX_LISTED_TEXT): string | undefined => (typeof text === "string" && text !== "" ? (text.length > max ? `${text.slice(0, max)}…` : text) : undefined);

/**
 * The server's instructions, and the first MAX_LISTED resources and prompts it lists (only what
 * its capabilities announce; a listing that fails is left out: tools are what the source is for).
 */
async function serverGuide(client: Client, timeout: number | undefined): Promise<Pick<ToolProvider, "instructions" | "resources" | "prompts">> {
  const guide: Pick<ToolProvider, "instructions" | "resources" | "prompts"> = {};
  const instructions = bounded(client.getInstructions(), MAX_INSTRUCTIONS_CHARS);
  if (instructions !== undefined) guide.instructions = instructions;
  const capabilities = client.getServerCapabilities() ?? {};
  if (capabilities.resources !== undefined) {
    try {
      const { resources } = await client.listResources(undefined, { timeout });
      guide.resources = resources.slice(0, MAX_LISTED).map((r) => ({ uri: String(r.uri), name: bounded(r.name) ?? String(r.uri), ...(bounded(r.description) ? { description: bounded(r.description)! } : {}), ...(typeof r.mimeType === "string" ? { mimeType: r.mimeType } : {}) }));
    } catch {
      // Left out.
    }
  }
  if (capabilities.prompts !== undefined) {
    try {
      const { prompts } = await client.listPrompts(undefined, { timeout });
      guide.prompts = prompts.slice(0, MAX_LISTED).map((p) => ({
        name: bounded(p.name) ?? "",
        ...(bounded(p.description) ? { description: bounded(p.description)! } : {}),
        ...(p.arguments?.length ? { arguments: p.arguments.slice(0, 20).map((a) => ({ name: bounded(a.name) ?? "", ...(bounded(a.description) ? { description: bounded(a.description)! } : {}), ...(a.required ? { required: true } : {}) })) } : {}),
      }));
    } catch {
      // Left out.
    }
  }
  return guide;
}

/**
 * How a result arrives when the tool declares no output schema (its type is then `unknown`): said in
 * its doc comment, which the API text and search's declarations say once for all such tools.
 */
export const UNTYPED_RESULT_NOTE = "Returns its text (JSON objects and arrays parsed), or { type, … } blocks for images and resources.";

function withResultNote(description: string | undefined, typed: boolean): string | undefined {
  if (typed) return description;
  const text = (description ?? "").trim();
  return text === "" ? UNTYPED_RESULT_NOTE : `${text}${/[.!?]$/.test(text) ? "" : "."} ${UNTYPED_RESULT_NOTE}`;
}

/**
 * Connects to an MCP server (a child process over stdio, or a streamable HTTP endpoint), lists its
 * tools and returns them as a `ToolProvider`. Results map to values as follows:
 * - `structuredContent`, when the server sends it, is the value (tools with an output schema always do);
 * - otherwise, if every content block is text: each text that is a JSON object or array is parsed,
 *   any other text stays a string; one block gives that value, several give an array of them;
 * - otherwise the content blocks as plain objects (`{ type: "image", data, mimeType }` with base64
 *   data, `{ type: "resource", resource }`, `{ type: "resource_link", uri, name }`, text blocks as `{ type: "text", text }`).
 * A result with `isError`, and any protocol error, throws `McpToolError` carrying the server's message.
 */
export async function fromMcpServer(options: McpSourceOptions): Promise<ToolProvider> {
  const namespace = options.namespace;
  if (typeof namespace !== "string" || namespace === "") throw new TypeError("fromMcpServer: namespace must be a non-empty string");
  if ((options.stdio === undefined) === (options.url === undefined)) {
    throw new TypeError(`fromMcpServer("${namespace}"): pass exactly one of stdio or url`);
  }

  let stderrTail = "";
  let transport: StdioClientTransport | StreamableHTTPClientTransport | SSEClientTransport;
  let fallback: (() => SSEClientTransport) | undefined;
  if (options.stdio !== undefined) {
    const { command, args = [], env, cwd } = options.stdio;
    if (typeof command !== "string" || command === "") throw new TypeError(`fromMcpServer("${namespace}"): stdio.command must be a non-empty string`);
    const stdio = new StdioClientTransport({ command, args, env: childEnvironment(env), cwd, stderr: "pipe" });
    // Kept for error messages only: a server that fails to start usually says why on stderr.
    stdio.stderr?.on("data", (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString("utf8")).slice(-STDERR_TAIL);
    });
    transport = stdio;
  } else {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new TypeError(`fromMcpServer("${namespace}"): url is not a valid URL: ${String(options.url)}`);
    }
    const kind = options.transport ?? "auto";
    if (kind !== "auto" && kind !== "streamable-http" && kind !== "sse") throw new TypeError(`fromMcpServer("${namespace}"): transport must be "auto", "streamable-http" or "sse"`);
    const requestInit = { headers: options.headers ?? {} };
    const sse = () => new SSEClientTransport(url, { requestInit });
    transport = kind === "sse" ? sse() : new StreamableHTTPClientTransport(url, { requestInit, fetch: cancellingFetch() });
    if (kind === "auto") fallback = sse;
  }

  const client = new Client({ name: "islet", version: "0.1.0" });
  let closed = false;
  let exitReason: string | undefined;
  client.onclose = () => {
    if (!closed) exitReason = stderrTail.trim() ? `the server closed the connection: ${lastLines(stderrTail)}` : "the server closed the connection";
  };

  let tools: Tool[];
  try {
    try {
      await client.connect(transport, { timeout: options.timeoutMs });
    } catch (error) {
      // A server of the older transport answers streamable HTTP's POST with 404 or 405 (a 4xx).
      const status = (error as { code?: unknown })?.code;
      if (fallback === undefined || !(typeof status === "number" ? status >= 400 && status < 500 : /\b4\d\d\b/.test(String((error as Error)?.message)))) throw error;
      await client.close().catch(() => {});
      await client.connect(fallback(), { timeout: options.timeoutMs });
      // The first transport's close was not the server going away.
      exitReason = undefined;
    }
    tools = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? undefined : { cursor }, { timeout: options.timeoutMs });
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  } catch (error) {
    closed = true;
    await client.close().catch(() => {});
    const detail = stderrTail.trim() ? ` (stderr: ${lastLines(stderrTail)})` : "";
    throw new McpConnectionError(namespace, `${(error as Error).message}${detail}`, { cause: error });
  }
  // (With a paginated list the SDK keeps output-schema validators of the last page only; results of
  // earlier pages' tools are then passed on unvalidated, which is what a server without schemas gets.)

  const known = new Set(tools.map((tool) => tool.name));
  const approval = options.needsApproval;
  const descriptors: ToolDescriptor[] = tools.map((tool) => ({
    name: tool.name,
    description: withResultNote(tool.description ?? tool.title ?? tool.annotations?.title, tool.outputSchema !== undefined),
    inputSchema: tool.inputSchema as ToolDescriptor["inputSchema"],
    outputSchema: tool.outputSchema as ToolDescriptor["outputSchema"],
    needsApproval: typeof approval === "function" ? approval(tool) : approval?.includes(tool.name) || undefined,
  }));
  const server = client.getServerVersion();
  const guide = await serverGuide(client, options.timeoutMs);

  return {
    namespace,
    description: options.description ?? (server ? `MCP server ${server.name}${server.version ? ` ${server.version}` : ""}` : undefined),
    ...guide,
    tools: descriptors,
    async call(tool: string, args: unknown, callOptions?: ToolCallOptions): Promise<unknown> {
      if (!known.has(tool)) throw new McpToolError(namespace, tool, "no such tool");
      if (args === undefined || args === null) args = {};
      if (typeof args !== "object" || Array.isArray(args)) {
        throw new McpToolError(namespace, tool, `arguments must be an object, got ${Array.isArray(args) ? "an array" : typeof args}`);
      }
      if (closed || exitReason !== undefined) throw new McpToolError(namespace, tool, exitReason ?? "the connection is closed");
      // The signal aborting (the execution ended) cancels the request: the SDK sends the server
      // notifications/cancelled, and the call settles at once. The SDK is given a signal of this
      // call's own, cut off from the execution's once the call is answered: it keeps its listener on
      // the signal it is given after the answer, and would cancel every answered call too when the
      // execution ends.
      const outer = callOptions?.signal;
      const own = new AbortController();
      const relay = () => own.abort(outer?.reason);
      if (outer?.aborted === true) relay();
      else outer?.addEventListener("abort", relay, { once: true });
      let result: CallToolResult;
      try {
        result = (await client.callTool({ name: tool, arguments: args as Record<string, unknown> }, undefined, {
          timeout: options.timeoutMs,
          ...(outer !== undefined ? { signal: own.signal } : {}),
        })) as CallToolResult;
      } catch (error) {
        if (outer?.aborted === true) throw outer.reason;
        if (error instanceof McpError) throw new McpToolError(namespace, tool, stripCode(error), error.code);
        throw new McpToolError(namespace, tool, exitReason ?? (error as Error).message);
      } finally {
        outer?.removeEventListener("abort", relay);
      }
      if (result.isError) throw new McpToolError(namespace, tool, errorText(result));
      return toValue(result);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await client.close();
    },
  };
}

/** A JSON-RPC POST body's request id (a request, not a notification or a batch), and the id a notifications/cancelled names. */
function rpcIds(body: unknown): { request?: string | number; cancels?: string | number } {
  if (typeof body !== "string" || body.length > 1_000_000) return {};
  let message: unknown;
  try {
    message = JSON.parse(body);
  } catch {
    return {};
  }
  if (typeof message !== "object" || message === null || Array.isArray(message)) return {};
  const { id, method, params } = message as { id?: unknown; method?: unknown; params?: { requestId?: unknown } };
  const isId = (value: unknown): value is string | number => typeof value === "string" || typeof value === "number";
  if (typeof method === "string" && isId(id)) return { request: id };
  if (method === "notifications/cancelled" && isId(params?.requestId)) return { cancels: params.requestId };
  return {};
}

/**
 * fetch for the streamable HTTP transport, closing the POST of a request once the server has been
 * told it is cancelled (the SDK sends notifications/cancelled when a call's signal aborts or it
 * times out). The server then never answers that request, and the SDK's client would keep its POST
 * open, waiting, until undici's body timeout (300 s): one connection held per call an execution
 * left behind (findings20/03).
 */
function cancellingFetch(base: typeof fetch = fetch): (url: string | URL, init?: RequestInit) => Promise<Response> {
  const open = new Map<string | number, AbortController>();
  return async (url, init) => {
    const { request, cancels } = init?.method === "POST" ? rpcIds(init.body) : {};
    if (request === undefined) {
      try {
        return await base(url, init);
      } finally {
        // Told (or failed to tell) the server: the request's own POST is closed either way.
        if (cancels !== undefined) {
          open.get(cancels)?.abort();
          open.delete(cancels);
        }
      }
    }
    const controller = new AbortController();
    open.set(request, controller);
    const forget = () => {
      if (open.get(request) === controller) open.delete(request);
    };
    let response: Response;
    try {
      response = await base(url, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, controller.signal]) : controller.signal });
    } catch (error) {
      forget();
      throw error;
    }
    const body = response.body;
    if (!response.ok || body === null) {
      forget();
      return response;
    }
    // Forgotten once its answer has been read through (or the reading stopped).
    const reader = body.getReader();
    const tracked = new ReadableStream<Uint8Array>({
      async pull(stream) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            forget();
            stream.close();
          } else stream.enqueue(value);
        } catch (error) {
          forget();
          stream.error(error);
        }
      },
      async cancel(reason) {
        forget();
        await reader.cancel(reason);
      },
    });
    return new Response(tracked, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

function lastLines(text: string): string {
  return text.trim().split("\n").slice(-5).join(" | ");
}

// McpError prefixes "MCP error <code>: "; the code is kept on McpToolError, the message stays the server's.
function stripCode(error: McpError): string {
  return error.message.replace(/^MCP error -?\d+: /, "");
}

function errorText(result: CallToolResult): string {
  const text = result.content
    .filter((block): block is { type: "text"; text: string } => block.type === "text")
    .map((block) => block.text)
    .join("\n")
    .trim();
  return text || "the tool reported an error without a message";
}

function parseText(text: string): unknown {
  const trimmed = text.trim();
  if (!(trimmed.startsWith("{") || trimmed.startsWith("["))) return text;
  try {
    return JSON.parse(trimmed);
  } catch {
    return text;
  }
}

/** Maps a successful MCP tool result to the value sandbox code receives (see `fromMcpServer`). */
export function toValue(result: CallToolResult): unknown {
  if (result.structuredContent !== undefined) return result.structuredContent;
  const content = result.content ?? [];
  if (content.length === 0) return undefined;
  if (content.every((block) => block.type === "text")) {
    const values = content.map((block) => parseText((block as { text: string }).text));
    return values.length === 1 ? values[0] : values;
  }
  // Drop protocol-level metadata (`_meta`, annotations stay): the rest is plain JSON already.
  return content.map(({ _meta, ...block }) => block);
}
