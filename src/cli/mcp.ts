// `islet mcp`: serves the two-tool (search/execute) MCP server over the sources of a config file,
// on stdio (default) or streamable HTTP. Runs on its own too: `node --import tsx src/cli/mcp.ts --config f.json`.

import { createServer, type Server as HttpServer } from "node:http";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../codemode/config.ts";
import { createMcpNodeHandler, openIsletMcp, type IsletMcp } from "../codemode/mcp-server.ts";

export const mcpUsage = `islet mcp — an MCP server with two tools, search and execute, over MCP servers and OpenAPI documents

Usage:
  islet mcp --config <file> [--http [--port <n>] [--host <h>]]

Options:
  --config <file>  JSON config listing the sources (see below); required
  --http           serve streamable HTTP at http://<host>:<port>/mcp instead of stdio
  --port <n>       HTTP port (default 8787; 0 picks a free one)
  --host <h>       HTTP interface (default 127.0.0.1)
  -h, --help       show this help

Config:
  {
    "servers": {
      "memory": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"], "env": { "MEMORY_FILE_PATH": "/tmp/memory.jsonl" } },
      "remote": { "url": "https://example.com/mcp", "headers": { "Authorization": "Bearer \${REMOTE_TOKEN}" } }
    },
    "openapi": {
      "github": { "spec": "./api.github.com.json", "baseUrl": "https://api.github.com",
                  "auth": { "header": "Authorization", "value": "Bearer \${GITHUB_TOKEN}" } }
    },
    "limits": { "cpuMs": 5000, "wallMs": 30000 }
  }
\${VAR} is read from the environment at start. Values read into env, headers and auth are secrets:
stdio servers get only their env (plus PATH), and secrets are scrubbed from results and logs.
Logs go to stderr.`;

class UsageError extends Error {}

interface McpArgs {
  config: string;
  http: boolean;
  port: number;
  host: string;
}

function parse(argv: string[]): McpArgs | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        config: { type: "string", short: "c" },
        http: { type: "boolean" },
        port: { type: "string" },
        host: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return "help";
  if (values.config === undefined) throw new UsageError("--config <file> is required");
  if (!values.http && (values.port !== undefined || values.host !== undefined)) throw new UsageError("--port and --host need --http");
  const port = values.port === undefined ? 8787 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be an integer from 0 to 65535, got ${JSON.stringify(values.port)}`);
  return { config: values.config, http: values.http ?? false, port, host: values.host ?? "127.0.0.1" };
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

async function serveHttp(mcp: IsletMcp, args: McpArgs, log: (line: string) => void): Promise<HttpServer> {
  const handler = createMcpNodeHandler(mcp);
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/mcp") {
      res.writeHead(404, { "content-type": "text/plain" }).end("Not found: the MCP endpoint is /mcp\n");
      return;
    }
    // A loopback server must not answer a web page that rebinds its own host name to 127.0.0.1.
    const host = req.headers.host ?? "";
    if (LOOPBACK.has(args.host) && !isLoopbackHost(host)) {
      res.writeHead(403, { "content-type": "text/plain" }).end(`Forbidden: Host ${JSON.stringify(host)} is not a loopback name\n`);
      return;
    }
    handler(req, res).catch((error: Error) => {
      log(`http: ${error.message}`);
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" }).end("Internal error\n");
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(args.port, args.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : args.port;
  const shown = args.host.includes(":") && !args.host.startsWith("[") ? `[${args.host}]` : args.host;
  log(`listening on http://${shown}:${port}/mcp`);
  return server;
}

function isLoopbackHost(host: string): boolean {
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0];
  return LOOPBACK.has(name);
}

export interface McpCommandIo {
  /** Help text goes here (default process.stdout; never the protocol's stdout once serving). */
  out?: (text: string) => void;
  /** Logs and errors (default process.stderr). */
  err?: (text: string) => void;
}

/**
 * Runs `islet mcp`; resolves when the server stops (stdin closed, or SIGINT/SIGTERM). Failures set
 * `process.exitCode` (2 for usage, 1 for config and start-up errors) rather than exiting.
 */
export async function mcpCommand(argv: string[], io: McpCommandIo = {}): Promise<void> {
  const out = io.out ?? ((text: string) => void process.stdout.write(text));
  const err = io.err ?? ((text: string) => void process.stderr.write(text));
  const log = (line: string) => err(`islet mcp: ${line}\n`);
  let args: McpArgs | "help";
  try {
    args = parse(argv);
  } catch (error) {
    err(`islet mcp: ${(error as Error).message}\n\n${mcpUsage}\n`);
    process.exitCode = 2;
    return;
  }
  if (args === "help") {
    out(`${mcpUsage}\n`);
    return;
  }
  let mcp: IsletMcp;
  try {
    const config = await loadConfig(args.config);
    mcp = await openIsletMcp(config, { log });
  } catch (error) {
    const prefix = error instanceof ConfigError ? `invalid config ${args.config}: ` : "";
    log(`${prefix}${(error as Error).message}`);
    process.exitCode = 1;
    return;
  }

  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const onSignal = () => stop();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    if (args.http) {
      const server = await serveHttp(mcp, args, log);
      await stopped;
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    } else {
      log(`serving ${mcp.catalog.tools.length} functions in ${mcp.catalog.namespaces.length} namespaces on stdio`);
      await Promise.race([mcp.serveStdio(), stopped]);
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await mcp.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  mcpCommand(process.argv.slice(2)).then(
    () => process.exit(),
    (error: Error) => {
      process.stderr.write(`islet mcp: ${error.message}\n`);
      process.exit(1);
    },
  );
}
