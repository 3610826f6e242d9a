// `islet mcp`: serves the two-tool (search/execute) MCP server over the sources of a config file,
// on stdio (default) or streamable HTTP. Runs on its own too: `node --import tsx src/cli/mcp.ts --config f.json`.

import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import { availableParallelism } from "node:os";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../codemode/config.ts";
import { createMcpNodeHandler, openIsletMcp, type IsletMcp } from "../codemode/mcp-server.ts";
import { Admission, holdSlot } from "../server/admission.ts";
import { BodyAbandoned, BodyBudget, bodyBudgetLimits } from "../server/body-budget.ts";
import { KeyRing } from "../server/auth.ts";
import { RequestError } from "../server/errors.ts";
import { onlyNotifications } from "../server/mcp-notifications.ts";
import { isLoopback, parseApiKeysEnv } from "../server/config.ts";
import { missingInSection } from "../server/outbound-config.ts";
import { parsePortFlag, VERSION } from "./common.ts";
import { startOtlpExport, type OtlpExport } from "./otlp.ts";
import { crossOriginRefusal, isLoopbackHostHeader } from "../server/origin.ts";

export const mcpUsage = `islet mcp — an MCP server with two tools, search and execute, over MCP servers and OpenAPI documents

Usage:
  islet mcp --config <file> [--http [--port <n>] [--host <h>] [--api-key <key>] [--max-in-flight <n>] [--body-timeout-ms <n>]]

Options:
  --config <file>          JSON config listing the sources (see below); required
  --http                   serve streamable HTTP at http://<host>:<port>/mcp instead of stdio
  --port <n>               HTTP port (default 8789, beside islet serve's 8787 and islet dev's 8788; 0 picks a free one)
  --host <h>               HTTP interface (default 127.0.0.1)
  --api-key <key>          with --http, accept this key in Authorization: Bearer <key> or X-Api-Key
                           (repeatable). Prefer ISLET_API_KEYS="id:key,…": flags show in the process list.
                           Without keys only loopback is served, and only to clients that are not
                           another origin's web page
  --allow-unauthenticated  serve a non-loopback host without API keys (only behind something that authenticates)
  --max-in-flight <n>      with --http, requests answered at once (default 8 per core, as islet serve); past it
                           429. With API keys one key may hold at most half of them. Request bodies being
                           read count too: at most --max-in-flight at once (one key: its half), and
                           16 × 4 MiB of them in all (one key: half); past either, 429
  --body-timeout-ms <n>    with --http, how long a request body may take to arrive (default 30000); past it
                           408 and the connection is closed
  -h, --help               show this help

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
  apiKeys: { id: string; key: string }[];
  allowUnauthenticated: boolean;
  maxInFlight: number;
  bodyTimeoutMs: number;
}

/** The largest request body `islet mcp --http` reads (the MCP handler's own bound). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Requests `islet mcp --http` answers at once by default: islet serve's default. */
const DEFAULT_MAX_IN_FLIGHT = 8 * availableParallelism();
/** How long a complete answer waits for its client to take it before the connection is closed (islet serve's default). */
const ANSWER_TIMEOUT_MS = 30_000;
/** How long a request body may take to arrive (islet serve's default bodyTimeoutMs). */
const BODY_TIMEOUT_MS = 30_000;

function parse(argv: string[], env: NodeJS.ProcessEnv): McpArgs | "help" {
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
        "api-key": { type: "string", multiple: true },
        "allow-unauthenticated": { type: "boolean" },
        "max-in-flight": { type: "string" },
        "body-timeout-ms": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return "help";
  if (values.config === undefined) throw new UsageError("--config <file> is required");
  if (!values.http && (values.port !== undefined || values.host !== undefined)) throw new UsageError("--port and --host need --http");
  let port: number;
  try {
    port = parsePortFlag(values.port) ?? 8789;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const flagKeys = values["api-key"] ?? [];
  if (!values.http && (flagKeys.length > 0 || values["allow-unauthenticated"] || values["max-in-flight"] !== undefined || values["body-timeout-ms"] !== undefined)) throw new UsageError("--api-key, --allow-unauthenticated, --max-in-flight and --body-timeout-ms need --http");
  const maxInFlight = values["max-in-flight"] === undefined ? DEFAULT_MAX_IN_FLIGHT : Number(values["max-in-flight"]);
  if (!Number.isSafeInteger(maxInFlight) || maxInFlight < 1) throw new UsageError("--max-in-flight must be a whole number of at least 1");
  const bodyTimeoutMs = values["body-timeout-ms"] === undefined ? BODY_TIMEOUT_MS : Number(values["body-timeout-ms"]);
  if (!Number.isSafeInteger(bodyTimeoutMs) || bodyTimeoutMs < 1) throw new UsageError("--body-timeout-ms must be a whole number of at least 1");
  const apiKeys = [...flagKeys.map((key, i) => ({ id: `cli${i + 1}`, key })), ...(values.http && env.ISLET_API_KEYS ? parseApiKeysEnv(env.ISLET_API_KEYS) : [])];
  if (apiKeys.some((entry) => entry.key.length < 8)) throw new UsageError("API keys (--api-key, ISLET_API_KEYS) must be at least 8 characters long");
  return { config: values.config, http: values.http ?? false, port, host: values.host ?? "127.0.0.1", apiKeys, allowUnauthenticated: values["allow-unauthenticated"] ?? false, maxInFlight, bodyTimeoutMs };
}

/** Names every `${VAR}` of the config that the environment lacks, in one error (loadConfig stops at the first). */
async function reportMissingVariables(file: string): Promise<void> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch {
    return; // loadConfig says what is wrong with the file
  }
  const missing = missingInSection(json, process.env, "");
  // One missing variable is reported by the config's reader, in its words; several, here, at once.
  if (missing.length > 1) throw new ConfigError("", `environment variables are not set: ${missing.join("; ")}`);
}

/** The host as the listening socket takes it ("[::1]" → "::1"). */
function bareHost(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

function refuse(res: import("node:http").ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32001, message }, id: null }));
}

async function serveHttp(mcp: IsletMcp, args: McpArgs, log: (line: string) => void): Promise<HttpServer> {
  const handler = createMcpNodeHandler(mcp);
  const keys = new KeyRing(args.apiKeys.map((entry) => ({ key: entry.key, value: entry.id })));
  const loopback = isLoopback(bareHost(args.host).toLowerCase());
  // As islet serve's /mcp: a request holds a slot until its answer is complete and written out (a
  // client that has not taken it within ANSWER_TIMEOUT_MS is cut off); past maxInFlight, or past
  // half of it for one key, a request is refused with 429 at once (findings20/01: one key held 32
  // executions of 48 MB at once, as many as it chose to send).
  const admission = new Admission(args.maxInFlight);
  const perKey = keys.size > 0 ? Math.max(1, Math.floor(args.maxInFlight / 2)) : args.maxInFlight;
  // Bodies are read before admission (a notification takes no slot), so they have a budget of
  // their own (findings23/01): as many at once as call slots (one key: its share), 16 × 4 MiB in
  // all (one key: half), each within bodyTimeoutMs.
  const bodies = new BodyBudget(bodyBudgetLimits(MAX_BODY_BYTES, args.maxInFlight, keys.size > 0, args.bodyTimeoutMs));
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/mcp") {
      res.writeHead(404, { "content-type": "text/plain" }).end("Not found: the MCP endpoint is /mcp\n");
      return;
    }
    const header = (name: string) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(", ") : value;
    };
    let keyId: string | undefined;
    if (keys.size > 0) {
      keyId = keys.match(header);
      if (keyId === undefined) {
        const presented = header("authorization") !== undefined || header("x-api-key") !== undefined;
        refuse(res, 401, presented ? "The API key is not valid." : "An API key is required: send `Authorization: Bearer <key>`.", { "www-authenticate": 'Bearer realm="islet"' });
        return;
      }
    } else {
      // A loopback server must not answer a web page that rebinds its own host name to 127.0.0.1,
      // nor a page of another origin that posts to 127.0.0.1 directly.
      if (loopback && !isLoopbackHostHeader(header("host"))) {
        res.writeHead(403, { "content-type": "text/plain" }).end(`Forbidden: Host ${JSON.stringify(header("host") ?? "")} is not a loopback name\n`);
        return;
      }
      const refused = crossOriginRefusal(req.method ?? "GET", header);
      if (refused !== undefined) {
        refuse(res, 403, refused);
        return;
      }
    }
    void answer(req, res, keyId).catch((error: Error) => {
      log(`http: ${error.message}`);
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" }).end("Internal error\n");
    });
  });

  async function answer(req: IncomingMessage, res: ServerResponse, keyId: string | undefined): Promise<void> {
    let body: unknown;
    if (req.method === "POST") {
      // Read first to tell notifications from requests: a notification (a cancel) runs no tool and
      // takes no slot, so a key at its cap can still cancel its own calls.
      let text: string;
      try {
        const length = req.headers["content-length"];
        text = (await bodies.read({ keyId: keyId ?? "anonymous", maxConcurrency: perKey }, req, length === undefined ? undefined : Number(length))).toString("utf8");
      } catch (error) {
        if (error instanceof BodyAbandoned) return;
        if (!(error instanceof RequestError)) throw error;
        return refuse(res, error.status, error.message, error.headers);
      }
      try {
        body = JSON.parse(text);
      } catch {
        res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32700, message: "Parse error: Invalid JSON" }, id: null }));
        return;
      }
      if (onlyNotifications(text)) return handler(req, res, body, keyId);
    }
    let release;
    try {
      release = admission.admit({ keyId: keyId ?? "anonymous", maxConcurrency: perKey });
    } catch (error) {
      if (!(error instanceof RequestError)) throw error;
      refuse(res, error.status, error.message, error.headers);
      return;
    }
    const slot = holdSlot(res, release, ANSWER_TIMEOUT_MS);
    try {
      // Each key's Code Mode sessions are its own.
      await handler(req, res, body, keyId, slot.answered);
    } catch (error) {
      slot.answered();
      throw error;
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(args.port, bareHost(args.host), () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : args.port;
  const shown = args.host.includes(":") && !args.host.startsWith("[") ? `[${args.host}]` : args.host;
  const auth = args.apiKeys.length > 0 ? `${args.apiKeys.length} API key${args.apiKeys.length === 1 ? "" : "s"}` : loopback ? "no API keys: loopback only" : "no API keys";
  log(`listening on http://${shown}:${port}/mcp (${auth})`);
  return server;
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
    args = parse(argv, process.env);
  } catch (error) {
    err(`islet mcp: ${(error as Error).message}\n\n${mcpUsage}\n`);
    process.exitCode = 2;
    return;
  }
  if (args === "help") {
    out(`${mcpUsage}\n`);
    return;
  }
  if (args.http && args.apiKeys.length === 0 && !args.allowUnauthenticated && !isLoopback(bareHost(args.host).toLowerCase())) {
    log(
      `refusing to serve ${args.host} without API keys: anyone who can reach it could use every configured tool with this machine's credentials. ` +
        "Set ISLET_API_KEYS (or --api-key), bind to 127.0.0.1, or pass --allow-unauthenticated if something in front of islet authenticates.",
    );
    process.exitCode = 1;
    return;
  }
  let mcp: IsletMcp;
  let otlp: OtlpExport | undefined;
  try {
    otlp = await startOtlpExport(process.env, VERSION);
    if (otlp !== undefined) log(`exporting traces to ${otlp.endpoint}`);
    await reportMissingVariables(args.config);
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
    await otlp?.shutdown().catch((error: Error) => log(`the last traces were not exported: ${error.message}`));
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
