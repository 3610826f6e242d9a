// Code mode on the server: the config file's `codemode` section (the `islet mcp` config format:
// `servers` and `openapi` tool sources, `limits`, `secrets`) opens the tool sources once at start;
// POST /v1/codemode/execute and /mcp share them. Loaded lazily so a server without the section
// never imports the MCP SDK.

import { ServerConfigError } from "./errors.ts";
import { toJson } from "./json-value.ts";

export interface CodeModeService {
  execute(code: string): Promise<{ result?: unknown; error?: string; logs?: unknown[] }>;
  mcp(request: Request): Promise<Response>;
  close(): Promise<void>;
}

// Computed so the same code loads the .ts sources under tsx and the .js build from dist.
const extension = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const sibling = (path: string) => new URL(`../codemode/${path}${extension}`, import.meta.url).href;

interface McpModule {
  openIsletMcp(config: unknown, options?: { log?: (line: string) => void }): Promise<McpInstance>;
  createMcpHttpHandler(mcp: McpInstance, options?: object): (request: Request) => Promise<Response>;
}
type Outcome = { result?: unknown; error?: string; logs?: unknown[] };
interface McpInstance {
  callTool(name: string, args: unknown): Promise<{ content: { type: string; text?: string }[]; isError?: boolean }>;
  /** The structured outcome of the execute tool, when IsletMcp offers it. */
  execute?(code: string): Promise<Outcome>;
  close(): Promise<void>;
}

export async function openCodeMode(section: unknown, env: NodeJS.ProcessEnv, baseDir = process.cwd()): Promise<CodeModeService | undefined> {
  if (section === undefined || section === null) return undefined;
  let configModule: {
    parseConfig(value: unknown, options: { env?: NodeJS.ProcessEnv; baseDir?: string }): { secrets: string[] };
    redactValue<T>(value: T, secrets: readonly string[]): T;
  };
  let mcpModule: McpModule;
  try {
    configModule = await import(sibling("config"));
    mcpModule = await import(sibling("mcp-server"));
  } catch (error) {
    throw new ServerConfigError(`code mode is not available in this build of islet (${(error as Error).message})`, "codemode");
  }
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
  const handler = mcpModule.createMcpHttpHandler(mcp);
  // IsletMcp keeps its executor private; its backend gives the structured outcome the HTTP API
  // returns (the MCP tool renders the same outcome as text).
  const backend = (mcp as unknown as { backend?: { execute?(code: string): Promise<Outcome> } }).backend;
  const structured = typeof mcp.execute === "function" ? mcp.execute.bind(mcp) : typeof backend?.execute === "function" ? backend.execute.bind(backend) : undefined;
  return {
    async execute(code) {
      if (structured !== undefined) {
        const outcome = configModule.redactValue(await structured(code), config.secrets);
        return { ...outcome, result: toJson(outcome.result) };
      }
      const outcome = await mcp.callTool("execute", { code });
      const text = outcome.content.map((part) => part.text ?? "").join("\n");
      return outcome.isError ? { error: text } : { result: text };
    },
    mcp: handler,
    close: () => mcp.close(),
  };
}
