// Code mode on the server: the config file's `codemode` section (the `islet mcp` config format:
// `servers` and `openapi` tool sources, `limits`, `secrets`) opens the tool sources once at start;
// POST /v1/codemode/execute and /mcp share them. Loaded lazily so a server without the section
// never imports the MCP SDK.

import { ServerConfigError } from "./errors.ts";
import { DEFAULT_MAX_RESULT_BYTES, OutputBudget, toJson } from "./json-value.ts";
import { missingInSection } from "./outbound-config.ts";

/** The answer of POST /v1/codemode/execute, shaped like /v1/run's. */
export interface CodeModeAnswer {
  result?: unknown;
  error?: string;
  logs: string[];
  outcome: string;
  cpuMs: number;
  wallMs: number;
}

/** A streamed /v1/codemode/execute: its log lines as they are made, and the client's going away. */
export interface LiveCodeMode {
  log(line: string, level: string): void;
  signal: AbortSignal;
}

export interface CodeModeService {
  /** False for the built-in demo source a server without a codemode section offers (no /mcp then). */
  configured: boolean;
  /** The TypeScript API of the namespaces and their names, for an API browser. */
  api(): { api: string; namespaces: string[]; demo: boolean };
  /**
   * Runs `code`; a result past `maxResultBytes` of JSON (default 32 MiB) is answered with a RangeError instead.
   * `live` (a streamed request): each console line as it is logged (as the answer's `logs` hold it,
   * secrets scrubbed), and the signal that cancels the run when the client goes away.
   */
  execute(code: string, maxResultBytes?: number, live?: LiveCodeMode): Promise<CodeModeAnswer>;
  /**
   * `keyId`: the caller's API key, whose Code Mode session names are its own. `done` is called once
   * the request is over: its JSON answer ready, or its event stream (a tools/call of a client that
   * accepts one) ended or cancelled, and the call it ran settled.
   */
  mcp(request: Request, keyId?: string, done?: () => void): Promise<Response>;
  close(): Promise<void>;
}

// Computed so the same code loads the .ts sources under tsx and the .js build from dist.
const extension = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const sibling = (path: string) => new URL(`../codemode/${path}${extension}`, import.meta.url).href;

interface McpModule {
  openIsletMcp(config: unknown, options?: { log?: (line: string) => void }): Promise<McpInstance>;
  openDemoMcp(): Promise<McpInstance>;
  createMcpHttpHandler(mcp: McpInstance, options?: object): (request: Request, sessionScope?: string, done?: () => void) => Promise<Response>;
}
/** What this module needs of IsletMcp (src/codemode/mcp-server.ts), which is imported lazily. */
interface McpInstance {
  /** The `execute` tool's outcome as data, secrets already scrubbed (the MCP tool renders the same outcome as text). */
  execute(code: string, options?: { signal?: AbortSignal; onLog?: (line: string, level: string) => void }): Promise<{ result: unknown; error?: string; logs?: string[]; outcome?: string; timing?: { cpuMs: number; wallMs: number } }>;
  readonly apiText: string;
  readonly catalog: { namespaces: { name: string }[] };
  close(): Promise<void>;
}

/**
 * The server's Code Mode: the config's section, or without one islet's demo source (pure functions
 * over made-up data), so the playground's Code Mode works on a plain `npm start`; `/mcp` is served
 * only for a configured section.
 */
export async function openCodeMode(section: unknown, env: NodeJS.ProcessEnv, baseDir = process.cwd()): Promise<CodeModeService | undefined> {
  if (section === undefined || section === null) {
    let demo: McpInstance;
    try {
      demo = await ((await import(sibling("mcp-server"))) as McpModule).openDemoMcp();
    } catch {
      return undefined;
    }
    return service(demo, undefined, false);
  }
  let configModule: { parseConfig(value: unknown, options: { env?: NodeJS.ProcessEnv; baseDir?: string }): { secrets: string[] } };
  let mcpModule: McpModule;
  try {
    configModule = await import(sibling("config"));
    mcpModule = await import(sibling("mcp-server"));
  } catch (error) {
    throw new ServerConfigError(`code mode is not available in this build of islet (${(error as Error).message})`, "codemode");
  }
  // Every missing variable at once (the section's own reader stops at the first).
  const missing = missingInSection(section, env, "");
  // One missing variable is reported by the config's reader, in its words; several, here, at once.
  if (missing.length > 1) throw new ServerConfigError(`environment variables are not set: ${missing.join("; ")}`, "codemode");
  let config: { secrets: string[] };
  try {
    config = configModule.parseConfig(section, { env, baseDir });
  } catch (error) {
    throw new ServerConfigError((error as Error).message, "codemode");
  }
  let mcp: McpInstance;
  try {
    mcp = await mcpModule.openIsletMcp(config);
  } catch (error) {
    throw new ServerConfigError(`cannot start the tool sources: ${(error as Error).message}`, "codemode");
  }
  return service(mcp, mcpModule.createMcpHttpHandler(mcp), true);
}

function service(mcp: McpInstance, handler: ((request: Request, sessionScope?: string, done?: () => void) => Promise<Response>) | undefined, configured: boolean): CodeModeService {
  return {
    configured,
    api: () => ({ api: mcp.apiText, namespaces: mcp.catalog.namespaces.map((ns) => ns.name), demo: !configured }),
    async execute(code, maxResultBytes = DEFAULT_MAX_RESULT_BYTES, live) {
      // openIsletMcp got the config's secrets, so the outcome (and each streamed line) comes back scrubbed of them.
      const outcome = await mcp.execute(code, live === undefined ? {} : { signal: live.signal, onLog: (line, level) => live.log(line, level) });
      const answer: CodeModeAnswer = {
        logs: outcome.logs ?? [],
        outcome: outcome.outcome ?? (outcome.error === undefined ? "ok" : "exception"),
        cpuMs: round(outcome.timing?.cpuMs ?? 0),
        wallMs: round(outcome.timing?.wallMs ?? 0),
      };
      if (outcome.error !== undefined) answer.error = outcome.error;
      else {
        try {
          answer.result = toJson(outcome.result, new OutputBudget(maxResultBytes));
        } catch (error) {
          answer.error = `${(error as Error).name}: ${(error as Error).message}`;
        }
      }
      return answer;
    },
    mcp:
      handler ??
      (async (_request, _keyId, done) => {
        done?.();
        return new Response("MCP is not configured on this server", { status: 501 });
      }),
    close: () => mcp.close(),
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
