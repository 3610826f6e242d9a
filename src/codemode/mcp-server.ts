// `islet mcp`: an MCP server with exactly two tools over any number of upstream MCP servers and
// OpenAPI documents. `search` runs the model's code against the catalog (names, descriptions,
// TypeScript declarations); `execute` runs the model's code with one global per namespace whose
// methods call the upstreams. The two definitions stay small however large the upstreams are:
// the per-tool types live in the catalog, which only code reads.

import { demoProvider } from "./demo.ts";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { getRequestListener } from "@hono/node-server";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { CallToolRequestSchema, CancelledNotificationSchema, ListToolsRequestSchema, type CallToolResult, type LoggingLevel, type ServerNotification, type Tool } from "@modelcontextprotocol/sdk/types.js";
import { WorkerLoader, type Limits } from "../index.ts";
import { redactText, redactValue, type IsletMcpConfig } from "./config.ts";
import { fromMcpServer } from "./mcp-source.ts";
import type { ApprovalHandler } from "./executor/approvals.ts";
import { codeModeBackend, openApiProvider, type CodeModeBackend, type ExecuteOutcome } from "./mcp-backend.ts";

export type { ExecuteOutcome } from "./mcp-backend.ts";
export type { SearchOutcome } from "./search.ts";
import type { ToolProvider } from "./provider.ts";
import type { SessionStorageOptions } from "./executor/sessions.ts";
import { runSearch, type SearchCatalog, type SearchOutcome } from "./search.ts";
import { budgetedJson } from "./result-text.ts";
import { estimateTokens } from "./token-estimate.ts";
import { McpCallCancels } from "./mcp-cancels.ts";

export interface IsletMcpOptions {
  providers: ToolProvider[];
  /** execute type-checks the code against the API before it runs (needs `typescript` installed); default false. */
  typecheck?: boolean;
  /**
   * Where executions stopped for approval wait, with the approval history (\`{ dir }\`: a SQLite
   * file, so they outlive a reconnect or a restart); default memory. A client that cannot be asked
   * while the code runs (no elicitation) gets the pending call and its id, and resumes with
   * execute's \`approval\`.
   */
  approvals?: { dir?: string };
  /** Limits of each search and execute sandbox (lowered further by the loader's). */
  limits?: Limits;
  /** Values scrubbed from every tool result, error and log line (see config's `secrets`). */
  secrets?: readonly string[];
  /** A tool result longer than this is cut, with a note telling the model to narrow its query. Default 40,000 characters. */
  maxResultChars?: number;
  /** The same in tokens (estimated); default 10,000. Logs have their own 2,000 tokens, first and last lines kept. */
  maxResultTokens?: number;
  /** Where islet reports what it does (one line per call); default: nowhere. Lines are already redacted. */
  log?: (line: string) => void;
  /** The server's name in the MCP handshake. */
  name?: string;
  /**
   * Sessions for \`execute\`: when given, its input takes an optional \`session\` name, and code run
   * with one gets a \`session\` global whose storage persists between calls with that name.
   */
  sessions?: SessionStorageOptions;
}

/** Namespace lines beyond this many characters are dropped from the execute description (they stay in search's `namespaces`). */
const NAMESPACE_BUDGET = 1500;
const DEFAULT_MAX_RESULT_CHARS = 40_000;

const SEARCH_DESCRIPTION = `Look up the functions \`execute\` can call. \`code\` is an async arrow function run in a sandbox (no network) with these globals:
- tools: { path: string; namespace: string; name: string; originalName: string; description: string; signature: string; declaration: string }[]
  (path is how execute calls it; declaration: the TypeScript signature with its input's types, and its result's one level deep)
- find(query, { limit = 10, namespace }?): tools ranked by relevance (names, descriptions, HTTP method, path, tags, parameters)
- declarations(list, { depth = 1 }?): several tools' declarations (objects or paths), each type once
- expand(["ns.Type"], { depth = 1 }?): declarations of types a declaration left out
- namespaces: { name: string; description?: string; tools: number; instructions?: string; resources?: { uri, name }[]; prompts?: { name }[] }[]
Return only what you need. First candidates:
async () => find("create an issue").map(t => t.path + ": " + t.description)
then declarations(...) of those you will call.`;

const EXECUTE_PREAMBLE = `Run code that calls the APIs. \`code\` is an async arrow function run in a fresh sandbox where each namespace below is a global object of async functions:
async () => { const r = await ns.fn({ ... }); return r.items.filter(i => i.open).map(i => i.id); }
Look the functions up with \`search\` first. Filter and combine results in the code; return only what is needed (as JSON). console.log output comes back too. No network: the namespaces are the only I/O.`;

function namespaceSection(catalog: SearchCatalog): string {
  const lines = catalog.namespaces.map((ns) => {
    const description = ns.description ? `: ${ns.description.replace(/\s+/g, " ").slice(0, 120)}` : "";
    return `- ${ns.name} (${ns.tools} functions)${description}`;
  });
  let section = lines.join("\n");
  if (section.length > NAMESPACE_BUDGET) section = catalog.namespaces.map((ns) => `- ${ns.name} (${ns.tools})`).join("\n");
  if (section.length > NAMESPACE_BUDGET) {
    const kept: string[] = [];
    let length = 0;
    for (const ns of catalog.namespaces) {
      if (length + ns.name.length + 2 > NAMESPACE_BUDGET) break;
      kept.push(ns.name);
      length += ns.name.length + 2;
    }
    section = `${kept.join(", ")} and ${catalog.namespaces.length - kept.length} more (see \`namespaces\` in search)`;
  }
  return `Namespaces:\n${section}`;
}

/** The two tool definitions, exactly as `tools/list` returns them. */
export function twoToolDefinitions(catalog: SearchCatalog, withSessions = false, withApprovals = false): Tool[] {
  const codeInput = (what: string) => ({
    type: "object" as const,
    properties: { code: { type: "string", description: what } },
    required: ["code"],
  });
  // Only where some tool needs approval: the answer to a pause (see toolResult).
  const approval = { type: "object", description: "after a pause for approval: its id and the user's decision", properties: { id: { type: "string" }, approve: { type: "boolean" }, reason: { type: "string" } }, required: ["id", "approve"] };
  const executeInput = {
    ...codeInput("async arrow function calling the namespaces' functions"),
    properties: {
      code: { type: "string", description: "async arrow function calling the namespaces' functions" },
      ...(withSessions ? { session: { type: "string", description: "optional name: the code then has a global `session` (async get, put, delete, list, sql) whose data persists between calls with this name" } } : {}),
      ...(withApprovals ? { approval } : {}),
    },
  };
  return [
    {
      name: "search",
      description: SEARCH_DESCRIPTION,
      inputSchema: codeInput("async arrow function reading `namespaces` and `tools`"),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    {
      name: "execute",
      description: `${EXECUTE_PREAMBLE}\n${namespaceSection(catalog)}`,
      inputSchema: executeInput,
      annotations: { readOnlyHint: false, openWorldHint: true },
    },
  ];
}

/** How much of an outcome a tool result shows: the result's budget and the logs' own. */
export interface ResultBudget {
  /** The result's characters; default 40,000. */
  chars?: number;
  /** The result's tokens (estimated: token-estimate.ts); default 10,000. */
  tokens?: number;
  /** The logs' tokens, shown after the result whatever its size, first and last lines kept; default 2,000. */
  logTokens?: number;
}

const DEFAULT_MAX_RESULT_TOKENS = 10_000;
const DEFAULT_MAX_LOG_TOKENS = 2_000;
const HINT = "return less, e.g. filter or slice in the code";

/** Text cut to a budget: as much of its start as fits, and how much was left. */
function cutText(text: string, chars: number, tokens: number): string {
  if (text.length <= chars && estimateTokens(text) <= tokens) return text;
  let low = 0;
  let high = Math.min(text.length, chars);
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (estimateTokens(text.slice(0, middle)) <= tokens) low = middle;
    else high = middle - 1;
  }
  return `${text.slice(0, low)}\n[cut: ${(text.length - low).toLocaleString("en-US")} more characters; ${HINT}]`;
}

/** Log lines within their budget: the first ones and the last ones, and how many between were left out. */
function budgetedLogs(lines: readonly string[], tokens: number): string[] {
  const cost = lines.map((line) => estimateTokens(line) + 1);
  if (cost.reduce((a, b) => a + b, 0) <= tokens) return [...lines];
  const head: string[] = [];
  const tail: string[] = [];
  let used = 0;
  let first = 0;
  let last = lines.length - 1;
  // Half the budget for the start, the rest for the end (an error is usually logged last).
  while (first <= last && used + cost[first] <= tokens / 2) used += cost[first], head.push(lines[first++]);
  while (last >= first && used + cost[last] <= tokens) used += cost[last], tail.unshift(lines[last--]);
  const left = last - first + 1;
  return [...head, `[… ${left.toLocaleString("en-US")} log line${left === 1 ? "" : "s"} left out …]`, ...tail];
}

/**
 * Renders a sandbox outcome as an MCP tool result: the value as JSON (strings as they are) within
 * its budget, valid JSON however it was cut, with a note on what was left out; then the logs
 * within their own budget.
 */
export function toolResult(outcome: SearchOutcome | ExecuteOutcome, budget: number | ResultBudget = {}): CallToolResult {
  const limits = typeof budget === "number" ? { chars: budget } : budget;
  const chars = limits.chars ?? DEFAULT_MAX_RESULT_CHARS;
  const tokens = limits.tokens ?? DEFAULT_MAX_RESULT_TOKENS;
  let text: string;
  const pending = (outcome as ExecuteOutcome).pendingApproval;
  if (pending !== undefined) {
    text = cutText(
      `Paused before ${pending.namespace}.${pending.tool}(${JSON.stringify(pending.args) ?? ""}): it needs the user's approval. Ask them, then call execute again with the same code and "approval": { "id": "${pending.id}", "approve": true } (or false, with a "reason"). The calls made before it will not run again.`,
      chars,
      tokens,
    );
  } else if (outcome.error !== undefined) text = cutText(`Error: ${outcome.error}`, chars, tokens);
  else if (outcome.result === undefined) text = "undefined";
  else if (typeof outcome.result === "string") text = cutText(outcome.result, chars, tokens);
  else {
    try {
      const json = budgetedJson(outcome.result, { chars, tokens });
      text = json.text ?? String(outcome.result);
      if (json.cuts.length > 0) text += `\n[cut to fit ${tokens.toLocaleString("en-US")} tokens: ${json.cuts.join("; ")}; ${HINT}]`;
    } catch (error) {
      text = `Error: the result cannot be shown as JSON: ${(error as Error).message}`;
    }
  }
  if (outcome.logs?.length) text += `\n\nLogs:\n${budgetedLogs(outcome.logs, limits.logTokens ?? DEFAULT_MAX_LOG_TOKENS).join("\n")}`;
  return { content: [{ type: "text", text }], ...(outcome.error !== undefined ? { isError: true } : {}) };
}

const APPROVAL_SCHEMA = {
  type: "object" as const,
  properties: { approve: { type: "boolean" as const, title: "Approve", description: "Allow this call" } },
  required: ["approve"],
};

export class IsletMcp {
  readonly tools: Tool[];
  readonly catalog: SearchCatalog;
  /** The generated TypeScript API of the namespaces (secrets scrubbed). */
  readonly apiText: string;
  private readonly loader: WorkerLoader;
  /** Tool calls in flight over HTTP, which a `notifications/cancelled` in a later request of the same caller cancels. */
  private readonly cancels = new McpCallCancels();
  private closed = false;

  private constructor(
    private readonly backend: CodeModeBackend,
    private readonly options: IsletMcpOptions,
    loader: WorkerLoader,
  ) {
    this.loader = loader;
    const secrets = options.secrets ?? [];
    this.catalog = secrets.length ? redactValue(backend.catalog, secrets) : backend.catalog;
    this.apiText = secrets.length ? redactText(backend.api, secrets) : backend.api;
    const approvals = options.providers.some((provider) => typeof provider.approvalFor === "function" || provider.tools.some((tool) => tool.needsApproval === true));
    this.tools = twoToolDefinitions(this.catalog, options.sessions !== undefined, approvals);
  }

  /** Builds the catalog (throws NamespaceCollisionError when two namespaces become one identifier). */
  static async create(options: IsletMcpOptions): Promise<IsletMcp> {
    const secrets = options.secrets ?? [];
    const providers = secrets.length ? options.providers.map((provider) => redactingProvider(provider, secrets)) : options.providers;
    const loader = new WorkerLoader({ maxWorkers: 64 });
    try {
      return new IsletMcp(codeModeBackend(providers, { limits: options.limits, ...(options.sessions ? { sessions: options.sessions } : {}), ...(options.typecheck ? { typecheck: true } : {}), deferApprovals: true, ...(options.approvals ? { approvalJournal: options.approvals } : {}) }), options, loader);
    } catch (error) {
      await loader.close();
      throw error;
    }
  }

  private log(line: string): void {
    this.options.log?.(redactText(line, this.options.secrets ?? []));
  }

  /**
   * The `search` tool's outcome as data (values keep their types), secrets scrubbed. Never throws
   * for the code's faults. `signal` (the client gone, the call cancelled) ends the search's sandbox.
   */
  async search(code: string, options: { signal?: AbortSignal } = {}): Promise<SearchOutcome> {
    return this.scrubbed("search", () => runSearch(this.loader, this.catalog, code, { limits: this.options.limits, ...(options.signal !== undefined ? { signal: options.signal } : {}) }));
  }

  /**
   * The `execute` tool's outcome as data (for APIs other than MCP, e.g. an HTTP endpoint), secrets
   * scrubbed. `onApproval` decides calls to tools marked needsApproval; without it they are rejected.
   */
  async execute(code: string, options: { onApproval?: ApprovalHandler; signal?: AbortSignal; session?: string; resume?: { id: string; approve: boolean; reason?: string }; owner?: string; onLog?: (line: string, level: string) => void } = {}): Promise<ExecuteOutcome> {
    const secrets = this.options.secrets ?? [];
    const onLog = options.onLog;
    // Lines seen while the code runs are scrubbed as the answer is.
    const scrubbedLog = onLog === undefined || secrets.length === 0 ? onLog : (line: string, level: string) => onLog(redactText(line, secrets), level);
    return this.scrubbed("execute", () => this.backend.execute(code, { ...options, ...(scrubbedLog !== undefined ? { onLog: scrubbedLog } : {}) }));
  }

  private async scrubbed<T extends SearchOutcome | ExecuteOutcome>(name: string, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const outcome = await run();
    const secrets = this.options.secrets ?? [];
    const safe = secrets.length ? redactValue(outcome, secrets) : outcome;
    this.log(`${name}: ${safe.error === undefined ? "ok" : `error (${safe.error.split(":")[0]})`} in ${Math.round(performance.now() - started)} ms`);
    return safe;
  }

  /** Runs one of the two tools as MCP does; problems in the model's code come back as `isError` results, never as throws. */
  async callTool(name: string, args: unknown, options: { onApproval?: ApprovalHandler; signal?: AbortSignal; sessionScope?: string; onLog?: (line: string, level: string) => void } = {}): Promise<CallToolResult> {
    const code = (args as { code?: unknown } | undefined)?.code;
    if (name !== "search" && name !== "execute") return toolResult({ result: undefined, error: `unknown tool "${name}": use search or execute` });
    if (typeof code !== "string" || code.trim() === "") return toolResult({ result: undefined, error: "TypeError: `code` must be a non-empty string holding an async arrow function" });
    const session = (args as { session?: unknown }).session;
    if (session !== undefined && (this.options.sessions === undefined || name !== "execute")) return toolResult({ result: undefined, error: "TypeError: this server keeps no sessions" });
    if (session !== undefined && (typeof session !== "string" || session === "" || session.length > 256)) return toolResult({ result: undefined, error: "TypeError: `session` must be a name of 1 to 256 characters" });
    // Sessions belong to the caller: over HTTP with API keys, each key's names are its own
    // (findings8/09: one key read another's session by naming it).
    const scoped = session === undefined ? undefined : options.sessionScope === undefined ? session : `${options.sessionScope}\u0000${session}`;
    const approval = (args as { approval?: unknown }).approval;
    if (approval !== undefined && (name !== "execute" || !isApprovalAnswer(approval))) return toolResult({ result: undefined, error: 'TypeError: `approval` must be { "id": string, "approve": boolean, "reason"?: string } on execute' });
    const { sessionScope: _scope, ...rest } = options;
    const resume = approval === undefined ? undefined : { ...(approval as { id: string; approve: boolean; reason?: string }) };
    // A pause belongs to the caller, as sessions do: over HTTP with API keys only its key resumes it.
    const owner = options.sessionScope;
    const { onLog, ...executeOptions } = rest;
    const outcome = name === "search" ? await this.search(code, { ...(options.signal !== undefined ? { signal: options.signal } : {}) }) : await this.execute(code, { ...executeOptions, ...(onLog !== undefined ? { onLog } : {}), ...(scoped !== undefined ? { session: scoped } : {}), ...(resume !== undefined ? { resume } : {}), ...(owner !== undefined ? { owner } : {}) });
    return toolResult(outcome, { chars: this.options.maxResultChars, tokens: this.options.maxResultTokens });
  }

  /**
   * A new SDK `Server` answering `tools/list` and `tools/call` (one per connection; they share the
   * upstreams). A call to a tool that needs approval asks the MCP client through elicitation when
   * the client supports it, and is rejected otherwise.
   */
  createServer(sessionScope?: string, options: { oneCallAtATime?: boolean; cancelAcrossRequests?: boolean } = {}): Server {
    // Over HTTP one request holds one admission slot, but a JSON-RPC batch (the SDK takes up to
    // 100 messages per POST) would run all its tool calls at once: there they run one after another.
    let previous: Promise<unknown> = Promise.resolve();
    const server = new Server({ name: this.options.name ?? "islet", version: "0.1.0" }, { capabilities: { tools: {}, logging: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: this.tools }));
    const acrossRequests = options.cancelAcrossRequests === true;
    if (acrossRequests) {
      // Over stateless HTTP a cancel comes in a request of its own, answered by a server that never
      // saw the call (the SDK's handler looks only at this server's calls): it is routed by caller
      // and id to the call, wherever it runs (findings20/04). Only the same caller's calls.
      server.setNotificationHandler(CancelledNotificationSchema, (notification) => {
        const { requestId, reason } = notification.params;
        if (requestId !== undefined) this.cancels.cancel(sessionScope, requestId, reason);
      });
    }
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      const cancellable = acrossRequests ? this.cancels.register(sessionScope, extra.requestId) : undefined;
      // The SDK's signal (the client gone: the server closed) or the caller's cancel.
      const signal = cancellable === undefined ? extra.signal : AbortSignal.any([extra.signal, cancellable.signal]);
      const canAsk = server.getClientCapabilities()?.elicitation !== undefined;
      const onApproval: ApprovalHandler | undefined = canAsk
        ? async (pending) => {
            const answer = await server.elicitInput(
              { message: `Allow ${pending.namespace}.${pending.tool}(${truncate(JSON.stringify(pending.args) ?? "", 2000)})?`, requestedSchema: APPROVAL_SCHEMA },
              { relatedRequestId: extra.requestId, signal },
            );
            if (answer.action === "accept" && answer.content?.approve === true) return true;
            pending.reject(answer.action === "accept" ? "not approved" : `the user chose ${answer.action}`);
          }
        : undefined;
      const live = request.params.name === "execute" ? liveLogNotifications(server, extra, request.params._meta?.progressToken) : undefined;
      const turn = options.oneCallAtATime === true ? previous : undefined;
      const call = (async () => {
        try {
          if (turn !== undefined) {
            await turn;
            if (signal.aborted) throw new Error("the call was cancelled before it started");
          }
          return await this.callTool(request.params.name, request.params.arguments, { onApproval, signal, ...(live !== undefined ? { onLog: live.onLog } : {}), ...(sessionScope !== undefined ? { sessionScope } : {}) });
        } finally {
          cancellable?.release();
          await live?.end();
        }
      })();
      if (options.oneCallAtATime === true) previous = call.catch(() => {});
      // Over HTTP a request is over (and its slot free) only once its calls settled.
      let calls = running.get(server);
      if (calls === undefined) running.set(server, (calls = new Set()));
      calls.add(call);
      void call.then(
        () => calls.delete(call),
        () => calls.delete(call),
      );
      return call;
    });
    return server;
  }

  /** Serves MCP over this process's stdin/stdout until stdin closes. */
  async serveStdio(): Promise<void> {
    const server = this.createServer();
    const transport = new StdioServerTransport();
    const done = new Promise<void>((resolve) => (transport.onclose = resolve));
    await server.connect(transport);
    // The SDK's transport does not notice the client going away; stdin ending is that signal.
    const ended = () => void transport.close();
    process.stdin.once("end", ended);
    process.stdin.once("close", ended);
    try {
      await done;
    } finally {
      process.stdin.off("end", ended);
      process.stdin.off("close", ended);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.backend.close();
    await this.loader.close();
  }
}

function isApprovalAnswer(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const { id, approve, reason, ...rest } = value as Record<string, unknown>;
  return typeof id === "string" && id.length > 0 && id.length <= 64 && typeof approve === "boolean" && (reason === undefined || (typeof reason === "string" && reason.length <= 1000)) && Object.keys(rest).length === 0;
}

/** Live log notifications one `execute` call sends at most; the rest are counted in one last notification. */
export const MAX_LIVE_LOG_NOTIFICATIONS = 100;
/** Characters of one log line a notification carries at most. */
export const MAX_LIVE_LOG_CHARS = 1_000;

const MCP_LEVELS: Record<string, LoggingLevel> = { debug: "debug", info: "info", log: "info", warn: "warning", error: "error" };

/**
 * While `execute` runs, each console line of the code goes to the client as it is logged: a
 * `notifications/message` (logger "execute", at the level `logging/setLevel` allows), and a
 * `notifications/progress` when the call carried a progressToken. Related to the call, so over
 * streamable HTTP they travel on its own response stream. At most MAX_LIVE_LOG_NOTIFICATIONS lines
 * of MAX_LIVE_LOG_CHARS each; the result's `logs` have the rest.
 */
function liveLogNotifications(server: Server, extra: { sendNotification(notification: ServerNotification): Promise<void>; sessionId?: string }, progressToken: string | number | undefined) {
  let sent = 0;
  let skipped = 0;
  const pending = new Set<Promise<void>>();
  // The SDK keeps each session's logging/setLevel but offers its check only to sendLoggingMessage,
  // which cannot relate a notification to its request.
  const ignored = (level: LoggingLevel) => (server as unknown as { isMessageIgnored?: (level: LoggingLevel, sessionId?: string) => boolean }).isMessageIgnored?.(level, extra.sessionId) === true;
  const send = (notification: ServerNotification) => {
    const sending = extra.sendNotification(notification).catch(() => {});
    pending.add(sending);
    void sending.finally(() => pending.delete(sending));
  };
  return {
    onLog(line: string, level: string): void {
      if (sent >= MAX_LIVE_LOG_NOTIFICATIONS) return void skipped++;
      sent++;
      const data = truncate(line, MAX_LIVE_LOG_CHARS);
      const mcpLevel = MCP_LEVELS[level] ?? "info";
      if (!ignored(mcpLevel)) send({ method: "notifications/message", params: { level: mcpLevel, logger: "execute", data } });
      if (progressToken !== undefined) send({ method: "notifications/progress", params: { progressToken, progress: sent, message: data } });
    },
    async end(): Promise<void> {
      if (skipped > 0 && !ignored("warning")) {
        send({ method: "notifications/message", params: { level: "warning", logger: "execute", data: `islet: ${skipped} more log lines were not sent as notifications (at most ${MAX_LIVE_LOG_NOTIFICATIONS}); the result's logs keep the first and the last` } });
      }
      await Promise.allSettled([...pending]);
    },
  };
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export interface McpHttpOptions {
  /**
   * Accepted `Host` headers, e.g. `["127.0.0.1:8787", "localhost:8787"]`: guards a loopback server
   * against DNS rebinding (a web page that resolves its own name to 127.0.0.1). Default: any host.
   */
  allowedHosts?: string[];
  /** Accepted `Origin` headers when a request has one. Default: any. */
  allowedOrigins?: string[];
}

function transportOptions(options: McpHttpOptions, stream: boolean) {
  return {
    // Stateless: every POST carries a whole JSON-RPC exchange, so any instance can answer it
    // and nothing accumulates per client.
    sessionIdGenerator: undefined,
    // A tools/call whose client accepts an event stream is answered with one: the call's log and
    // progress notifications, then its result. Everything else is one JSON response.
    enableJsonResponse: !stream,
    // Hosts are checked here (the SDK's check needs a Host header, which a web Request built in
    // process does not have); origins by the SDK.
    allowedOrigins: options.allowedOrigins,
    enableDnsRebindingProtection: Boolean(options.allowedOrigins?.length),
  };
}

function hostRefused(host: string | null | undefined, options: McpHttpOptions): string | undefined {
  if (!options.allowedHosts?.length) return undefined;
  return host && options.allowedHosts.includes(host.toLowerCase()) ? undefined : `Invalid Host header: ${host ?? "(none)"}`;
}

const forbiddenBody = (message: string) => JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null });

/** The body a POST may have at most, as the SDK's transport bounds it when it reads the body itself. */
const MAX_MCP_REQUEST_BYTES = 4 * 1024 * 1024;

/** Whether an Accept header lists `text/event-stream` (with a q above 0), or `application/json`. */
function accepts(accept: string | null, type: "text/event-stream" | "application/json"): boolean {
  if (accept === null) return false;
  return accept.split(",").some((range) => {
    const [media, ...params] = range.split(";").map((part) => part.trim().toLowerCase());
    if (media !== type) return false;
    const q = params.find((param) => param.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/** The body as text, or undefined past `max` bytes. */
async function boundedText(request: Request, max: number): Promise<string | undefined> {
  if (Number(request.headers.get("content-length")) > max) return undefined;
  if (request.body === null) return "";
  const reader = request.body.getReader();
  const decoder = new TextDecoder();
  let received = 0;
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    received += value.byteLength;
    if (received > max) {
      void reader.cancel().catch(() => {});
      return undefined;
    }
    text += decoder.decode(value, { stream: true });
  }
}

function isToolCall(message: unknown): boolean {
  return typeof message === "object" && message !== null && (message as { method?: unknown }).method === "tools/call" && (message as { id?: unknown }).id !== undefined;
}

/** Tool calls under way on each per-request server: its request is over once they settled. */
const running = new WeakMap<Server, Set<Promise<unknown>>>();

async function callsSettled(server: Server): Promise<void> {
  await Promise.allSettled([...(running.get(server) ?? [])]);
}

/**
 * Called once a request's answer is complete: its JSON ready, or its event stream's last event
 * made (whether or not the client has read it yet) or the stream cancelled; and the tool calls it
 * started settled. A caller holding a slot for the request frees it once this is called and the
 * answer is written out (islet serve closes a connection whose client has not taken its answer
 * within answerTimeoutMs of this).
 */
export type McpRequestDone = () => void;

async function handleMcpRequest(mcp: IsletMcp, options: McpHttpOptions, request: Request, sessionScope: string | undefined, parsedBody: unknown, done: McpRequestDone | undefined): Promise<Response> {
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    done?.();
  };
  try {
    const refused = hostRefused(request.headers.get("host") ?? new URL(request.url).host, options);
    if (refused) {
      finish();
      return new Response(forbiddenBody(refused), { status: 403, headers: { "content-type": "application/json" } });
    }
    let body = parsedBody;
    let stream = false;
    const accept = request.headers.get("accept");
    if (request.method === "POST") {
      if (body === undefined) {
        const text = await boundedText(request, MAX_MCP_REQUEST_BYTES);
        if (text === undefined) {
          finish();
          return new Response(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message: `Payload Too Large: Request body must not exceed ${MAX_MCP_REQUEST_BYTES} bytes` }, id: null }), { status: 413, headers: { "content-type": "application/json" } });
        }
        try {
          body = JSON.parse(text);
        } catch {
          // Not JSON: the SDK answers it, from the text it reads again.
          request = new Request(request.url, { method: "POST", headers: request.headers, body: text, signal: request.signal });
        }
      }
      stream = accepts(accept, "text/event-stream") && (Array.isArray(body) ? body.some(isToolCall) : isToolCall(body));
      // The SDK wants both types listed; a client that takes only JSON gets JSON.
      if (!stream && accept !== null && accepts(accept, "application/json") && !accepts(accept, "text/event-stream")) {
        const headers = new Headers(request.headers);
        headers.set("accept", `${accept}, text/event-stream;q=0.1`);
        request = new Request(request.url, { method: "POST", headers, ...(body === undefined ? { body: await request.text() } : {}), signal: request.signal });
      }
    }
    const transport = new WebStandardStreamableHTTPServerTransport(transportOptions(options, stream));
    // The caller's API key: its `session` names are its own.
    const server = mcp.createServer(sessionScope, { oneCallAtATime: true, cancelAcrossRequests: true });
    await server.connect(transport);
    // A client that goes away cancels what its request runs (the tool calls' signal).
    const gone = () => void server.close();
    request.signal.addEventListener("abort", gone, { once: true });
    const end = async () => {
      request.signal.removeEventListener("abort", gone);
      await server.close();
      await callsSettled(server);
      finish();
    };
    let response: Response;
    try {
      response = await transport.handleRequest(request, body === undefined ? undefined : { parsedBody: body });
    } catch (error) {
      await end();
      throw error;
    }
    if (!stream || response.body === null || !response.headers.get("content-type")?.startsWith("text/event-stream")) {
      // With JSON the answer is complete once handleRequest resolves.
      await end();
      return response;
    }
    // The event stream: the SDK puts each call's notifications and result into it as they come (it
    // has no backpressure: what it made is held either way) and ends it once every call of the
    // request is answered. It is moved into the response's stream as it comes, so the answer is
    // known to be complete when the SDK ends it, whether or not the client has read it yet: the
    // request is done then, once its calls settled (a caller holding a slot waits for the answer
    // to be written out, or gives up on the client: islet serve's answerTimeoutMs). A client that
    // cancels it closes the server, aborting the calls.
    const reader = response.body.getReader();
    let ended = false;
    const over = () => {
      if (ended) return;
      ended = true;
      void end();
    };
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const events = new ReadableStream<Uint8Array>({
      start: (c) => void (controller = c),
      cancel(reason) {
        void reader.cancel(reason).catch(() => {});
        over();
      },
    });
    void (async () => {
      try {
        for (;;) {
          const { done: last, value } = await reader.read();
          if (last) break;
          controller.enqueue(value);
        }
        controller.close();
      } catch (error) {
        // Cancelled by the client (the reader with it), or the SDK's stream failed.
        try {
          controller.error(error);
        } catch {
          // Already cancelled.
        }
      }
      over();
    })();
    return new Response(events, { status: response.status, statusText: response.statusText, headers: response.headers });
  } catch (error) {
    finish();
    throw error;
  }
}

/**
 * Streamable HTTP as a web handler: `(request: Request, sessionScope?, done?) => Promise<Response>`,
 * for Hono (`app.all("/mcp", (c) => handler(c.req.raw))`) or tests. Stateless: each request gets
 * its own SDK server over the shared upstreams. A `tools/call` whose client accepts
 * `text/event-stream` is answered with an event stream carrying the call's log and progress
 * notifications as the code logs, then its result; the request's signal aborting (the client gone)
 * or the stream being cancelled cancels the call. Other requests, and clients that accept only
 * JSON, get one JSON response. `done` is called once the answer is complete and its calls settled (McpRequestDone).
 */
export function createMcpHttpHandler(mcp: IsletMcp, options: McpHttpOptions = {}): (request: Request, sessionScope?: string, done?: McpRequestDone) => Promise<Response> {
  return (request, sessionScope, done) => handleMcpRequest(mcp, options, request, sessionScope, undefined, done);
}

/**
 * Streamable HTTP for Node's `http` server: `(req, res, parsedBody?) => Promise<void>`; mount it at
 * `/mcp`. Pass the parsed JSON body when a framework has already read the request. Answers as
 * createMcpHttpHandler does; a dropped connection cancels the call.
 */
export function createMcpNodeHandler(mcp: IsletMcp, options: McpHttpOptions = {}): (req: IncomingMessage, res: ServerResponse, body?: unknown, sessionScope?: string, done?: McpRequestDone) => Promise<void> {
  return async (req, res, body, sessionScope, done) => {
    const listener = getRequestListener((request) => handleMcpRequest(mcp, options, request, sessionScope, body, done), { overrideGlobalObjects: false });
    await listener(req, res);
  };
}

/** Wraps a provider so nothing it returns or throws carries a secret into the sandbox. */
function redactingProvider(provider: ToolProvider, secrets: readonly string[]): ToolProvider {
  return {
    ...provider,
    async call(tool, args, options) {
      try {
        return redactValue(await provider.call(tool, args, options), secrets);
      } catch (error) {
        if (error instanceof Error) {
          error.message = redactText(error.message, secrets);
          error.stack = undefined;
          throw error;
        }
        throw redactValue(error, secrets);
      }
    },
    close: provider.close?.bind(provider),
  };
}

/**
 * Starts every source of a config (MCP servers in parallel, OpenAPI documents read and parsed)
 * and returns the two-tool server over them. If one source fails, the others are closed again
 * and the error (naming the source) is thrown.
 */
/** Code Mode over islet's built-in demo source (src/codemode/demo.ts): what `islet serve` offers without a codemode config. */
export function openDemoMcp(): Promise<IsletMcp> {
  return IsletMcp.create({ providers: [demoProvider()], name: "islet-demo" });
}

export async function openIsletMcp(config: IsletMcpConfig, options: { log?: (line: string) => void } = {}): Promise<IsletMcp> {
  const log = (line: string) => options.log?.(redactText(line, config.secrets));
  const starting: Promise<ToolProvider>[] = [
    ...Object.entries(config.servers).map(([namespace, server]) =>
      "command" in server
        ? fromMcpServer({
            namespace,
            description: server.description,
            needsApproval: server.needsApproval,
            timeoutMs: server.timeoutMs,
            stdio: { command: server.command, args: server.args, env: server.env, cwd: server.cwd },
          })
        : fromMcpServer({ namespace, description: server.description, needsApproval: server.needsApproval, timeoutMs: server.timeoutMs, url: server.url, headers: server.headers, ...(server.transport !== undefined ? { transport: server.transport } : {}) }),
    ),
    ...Object.entries(config.openapi).map(([namespace, source]) => openApiProvider(namespace, source)),
  ];
  const settled = await Promise.allSettled(starting);
  const providers = settled.flatMap((outcome) => (outcome.status === "fulfilled" ? [outcome.value] : []));
  const failure = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
  if (failure) {
    await Promise.allSettled(providers.map((provider) => provider.close?.()));
    const error = failure.reason as Error;
    error.message = redactText(error.message, config.secrets);
    throw error;
  }
  for (const provider of providers) log(`${provider.namespace}: ${provider.tools.length} tools`);
  try {
    return await IsletMcp.create({ providers, limits: config.limits, secrets: config.secrets, log, ...(config.sessions !== undefined ? { sessions: config.sessions } : {}), ...(config.typecheck ? { typecheck: true } : {}), ...(config.approvals !== undefined ? { approvals: config.approvals } : {}) });
  } catch (error) {
    await Promise.allSettled(providers.map((provider) => provider.close?.()));
    throw error;
  }
}

