// `islet serve`: the sandbox as an HTTP/WebSocket service until SIGTERM or Ctrl-C, which finish
// the calls in flight before exiting.

import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { startServer } from "../server/server.ts";
import { CliError, flags, parsePortFlag, VERSION } from "./common.ts";
import { startOtlpExport } from "./otlp.ts";

export const serveUsage = `islet serve — run untrusted code as a service: HTTP, WebSocket (Cap'n Web) and MCP

Usage:
  islet serve [options]

Options:
  --port <n>               port (default 8787, or ISLET_PORT; 0 picks a free one)
  --host <addr>            interface (default 127.0.0.1, or ISLET_HOST; 0.0.0.0 for every interface)
  --config <file>          JSON config file (or ISLET_CONFIG): apiKeys, limits, maxInFlight, codemode, …
  --api-key <key>          accept this API key (repeatable). Prefer ISLET_API_KEYS="id:key,…":
                           flags are visible to other users in the process list
  --allow-host <host>      let every worker's fetch() reach this host (repeatable, "*.example.com"
                           works); replaces the config's outbound.allowHosts. A request's own
                           allowHosts can only narrow it. Credentials: the config's outbound.credentials
  --allow-unauthenticated  serve a non-loopback host without API keys (only behind something that authenticates)
  --quiet                  no request log lines on stdout
  -h, --help               show this help

Endpoints:
  GET  /                      the playground
  POST /v1/run                run a worker once: {"code": "...", "method": "run", "args": []}
  GET  /v1/rpc                the WorkerLoader API over Cap'n Web (islet/client)
  POST /v1/codemode/execute   code mode over the config's tool sources;  /mcp  the same as an MCP server
  GET  /healthz, /metrics     health and Prometheus metrics

Request logs are JSON lines on stdout; messages for you are on stderr. With OTEL_EXPORTER_OTLP_ENDPOINT
set (and the OpenTelemetry SDK installed), spans of every invocation, capability call and fetch go to
that OTLP/HTTP collector.`;

export async function serveCommand(argv: string[]): Promise<void> {
  const { values } = flags(
    () =>
      parseArgs({
        args: argv,
        options: {
          port: { type: "string" },
          host: { type: "string" },
          config: { type: "string" },
          "api-key": { type: "string", multiple: true },
          "allow-host": { type: "string", multiple: true },
          "allow-unauthenticated": { type: "boolean" },
          quiet: { type: "boolean" },
          help: { type: "boolean", short: "h" },
        },
      }),
    "serve",
  );
  if (values.help) return void console.log(serveUsage);
  const env = { ...process.env };
  if (values.config !== undefined) env.ISLET_CONFIG = resolve(values.config);
  const keys = values["api-key"] ?? [];
  if (keys.some((key) => key.length < 8)) throw new CliError("--api-key must be at least 8 characters long");
  if (env.ISLET_CONFIG) process.stderr.write(`islet serve: reading ${env.ISLET_CONFIG}…\n`);
  const otlp = await startOtlpExport(env, VERSION);
  if (otlp !== undefined) process.stderr.write(`islet serve: exporting traces to ${otlp.endpoint}\n`);
  const server = await startServer(
    {
      port: parsePortFlag(values.port),
      host: values.host,
      apiKeys: keys.length > 0 ? keys.map((key, i) => ({ id: `cli${i + 1}`, key })) : undefined,
      allowUnauthenticated: values["allow-unauthenticated"] || undefined,
      outbound: values["allow-host"] !== undefined ? { allowHosts: values["allow-host"] } : undefined,
      log: values.quiet ? false : undefined,
    },
    env,
  );
  const { options } = server.service;
  const auth = options.apiKeys.length > 0 ? `${options.apiKeys.length} API key${options.apiKeys.length === 1 ? "" : "s"}` : "no API keys: loopback only";
  process.stderr.write(`islet serve: listening on ${server.url} (${auth}); playground at ${server.url}/, API at ${server.url}/v1/run\n`);
  const { allowHosts, credentials } = options.outbound;
  if (allowHosts !== undefined) {
    const injected = credentials.length > 0 ? `; credentials added for ${credentials.map(([host]) => host).join(", ")}` : "";
    process.stderr.write(`islet serve: workers may fetch ${allowHosts.length > 0 ? allowHosts.join(", ") : "no host"}${injected}\n`);
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`islet serve: ${signal} again, exiting without waiting\n`);
      process.exit(1);
    }
    stopping = true;
    const inFlight = server.service.inFlight;
    process.stderr.write(`islet serve: ${signal}: finishing ${inFlight} call${inFlight === 1 ? "" : "s"} in flight, then exiting (again to force)\n`);
    server.close().then(async () => {
        await otlp?.shutdown().catch((error: Error) => process.stderr.write(`islet serve: the last traces were not exported: ${error.message}\n`));
      }).then(
      () => {
        process.stderr.write("islet serve: stopped\n");
        process.exit(0);
      },
      (error: Error) => {
        process.stderr.write(`islet serve: shutdown failed: ${error.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}
