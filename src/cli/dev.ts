// `islet dev <file>`: serves a worker's fetch handler on a local port and reloads it when the file
// (or anything it imports) changes, like `wrangler dev`. A file that fails to build is reported
// here and on every request, and the server keeps running until the file is fixed.

import { watch, type FSWatcher } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { basename, dirname, resolve } from "node:path";
import { Readable } from "node:stream";
import { inspect, parseArgs } from "node:util";
import { WorkerLoader, type TailEvent, type WorkerStub } from "../index.ts";
import { readConfigFile } from "../server/config.ts";
import { egressFor, type OutboundAuditEntry } from "../server/egress.ts";
import { resolveOutbound } from "../server/outbound-config.ts";
import { bundle, CliError, flags, parseJsonObject, parseLimitFlags, parsePortFlag } from "./common.ts";

export const devUsage = `islet dev — serve a worker's fetch handler locally, reloading on change

Usage:
  islet dev <file> [options]

Options:
  --port <n>           port (default 8788, next to islet serve's 8787; 0 picks a free one)
  --host <addr>        interface (default 127.0.0.1)
  --env <json>         JSON object passed as env (plain data)
  --allow-host <host>  let the worker's fetch() reach this host (repeatable, "*.example.com" works); default: no network.
                       Replaces the config's outbound.allowHosts
  --config <file>      read the "outbound" section of an islet serve config: allowHosts, credentials
                       ("\${ENV_VAR}" templates), allowPrivate (default true here: it is your machine), …
  --cpu-ms <n>         CPU limit per request (default 5000)
  -h, --help           show this help

Every request goes to the worker's fetch(request, env, ctx). The worker keeps its module state
between requests until the file changes. console output, one line per request and one line per
outbound fetch (method, URL, allowed or denied, whether credentials were added) go to stderr.`;

interface DevState {
  stub?: WorkerStub;
  buildError?: string;
  version: number;
}

export async function devCommand(argv: string[]): Promise<void> {
  const { values, positionals } = flags(
    () =>
      parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          port: { type: "string" },
          host: { type: "string" },
          env: { type: "string" },
          "allow-host": { type: "string", multiple: true },
          config: { type: "string" },
          "cpu-ms": { type: "string" },
          help: { type: "boolean", short: "h" },
        },
      }),
    "dev",
  );
  if (values.help) return void console.log(devUsage);
  const file = positionals[0];
  if (file === undefined) throw new CliError("dev needs a file: islet dev <file> (see islet dev --help)");
  const path = resolve(file);
  const env = parseJsonObject("--env", values.env);
  const { cpuMs } = parseLimitFlags(values, { "cpu-ms": "cpuMs" });
  const port = parsePortFlag(values.port) ?? 8788;
  const host = values.host ?? "127.0.0.1";
  const section = values.config === undefined ? {} : ((readConfigFile(resolve(values.config)).outbound ?? {}) as Record<string, unknown>);
  if (values["allow-host"] !== undefined) section.allowHosts = values["allow-host"];
  let egress;
  try {
    // Local development: loopback and private addresses are reachable unless the config says no.
    egress = resolveOutbound(section, process.env, "outbound", { allowPrivate: true });
  } catch (error) {
    throw new CliError(`${values.config ?? "--allow-host"}: ${(error as Error).message}`);
  }
  const globalOutbound = egressFor(undefined, {
    ...egress,
    maxRequestBytes: 10 * 1024 * 1024,
    audit: egress.log ? printFetch : undefined,
  });

  const loader = new WorkerLoader({
    limits: cpuMs === undefined ? {} : { cpuMs },
    globalOutbound,
    tails: [(events: TailEvent[]) => events.forEach((event) => event.logs.forEach(printLog))],
  });
  const state: DevState = { version: 0 };
  const name = basename(path).replace(/\.[cm]?[jt]s$/, "") + ".js";
  let watchers: FSWatcher[] = [];

  const load = async (reason: string) => {
    const version = ++state.version;
    let built;
    try {
      built = await bundle(path);
    } catch (error) {
      if (version !== state.version) return;
      state.buildError = (error as Error).message;
      // Serving the last good version would hide that the change did not apply.
      state.stub?.dispose();
      state.stub = undefined;
      process.stderr.write(`islet dev: ${state.buildError}\nislet dev: still serving; fix the file and it reloads\n`);
      return;
    }
    if (version !== state.version) return;
    const previous = state.stub;
    state.stub = loader.load({ compatibilityDate: "2026-11-01", mainModule: name, modules: { [name]: { js: built.source } }, env });
    state.buildError = undefined;
    previous?.dispose();
    watchInputs(built.inputs);
    if (reason !== "start") process.stderr.write(`islet dev: reloaded ${file} (${reason})\n`);
  };

  // Editors save by writing in place or by renaming a new file over the old one: watching the
  // directories catches both.
  let debounce: NodeJS.Timeout | undefined;
  const watchInputs = (inputs: string[]) => {
    const files = new Set(inputs.map((input) => resolve(input)));
    files.add(path);
    const dirs = new Set([...files].map((f) => dirname(f)));
    for (const watcher of watchers) watcher.close();
    watchers = [...dirs].map((dir) =>
      watch(dir, (_event, changed) => {
        if (changed !== null && !files.has(resolve(dir, changed.toString()))) return;
        clearTimeout(debounce);
        debounce = setTimeout(() => void load(`${changed ?? "a file"} changed`), 40);
      }),
    );
  };

  await load("start");
  if (state.stub === undefined) watchInputs([path]);

  const server = createServer((req, res) => void handle(req, res, state, host));
  await new Promise<void>((resolvePromise, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") reject(new CliError(`port ${port} is already in use (another islet dev or serve?). Pick another with --port ${port + 1}, or --port 0 for any free port.`));
      else reject(new CliError(`cannot listen on ${host}:${port}: ${error.message}`));
    });
    server.listen(port, host, () => resolvePromise());
  });
  const address = server.address() as AddressInfo;
  process.stderr.write(`islet dev: serving ${file} at http://${host}:${address.port} (reloads on change; Ctrl-C to stop)\n`);

  const stop = () => {
    for (const watcher of watchers) watcher.close();
    server.close();
    server.closeAllConnections();
    void loader.close().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

async function handle(req: IncomingMessage, res: ServerResponse, state: DevState, host: string): Promise<void> {
  const started = performance.now();
  let status = 500;
  try {
    if (state.stub === undefined) {
      res.writeHead((status = 500), { "content-type": "text/plain; charset=utf-8" });
      res.end(`islet dev: the worker does not build:\n\n${state.buildError ?? "no worker loaded"}\n`);
      return;
    }
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? host}`);
    const headers = new Headers();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) headers.append(key, item);
    }
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    const request = new Request(url, {
      method: req.method,
      headers,
      body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
      duplex: "half",
    } as RequestInit);
    const response = await state.stub.getEntrypoint().fetch(request);
    status = response.status;
    const outHeaders: Record<string, string> = {};
    response.headers.forEach((value, key) => (outHeaders[key] = value));
    res.writeHead(status, outHeaders);
    res.end(Buffer.from(await response.arrayBuffer()));
  } catch (error) {
    const e = error as Error;
    process.stderr.write(`islet dev: ${req.method} ${req.url} failed: ${e.stack ?? `${e.name}: ${e.message}`}\n`);
    if (!res.headersSent) res.writeHead((status = 500), { "content-type": "text/plain; charset=utf-8" });
    res.end(`${e.name}: ${e.message}\n`);
  } finally {
    process.stderr.write(`${req.method} ${req.url} ${status} ${(performance.now() - started).toFixed(1)} ms\n`);
  }
}

function printFetch(entry: OutboundAuditEntry): void {
  const how = entry.decision === "denied" ? `denied by ${entry.policy}` : entry.credentials ? "allowed, credentials added" : "allowed";
  const end = entry.status !== undefined ? String(entry.status) : `failed: ${entry.error}`;
  process.stderr.write(`  [fetch] ${entry.method} ${entry.url} ${how} → ${end} (${entry.durationMs} ms)\n`);
}

function printLog(log: TailEvent["logs"][number]): void {
  const text = log.message.map((part) => (typeof part === "string" ? part : inspect(part, { colors: false, depth: 4 }))).join(" ");
  process.stderr.write(`  [${log.level}] ${text}\n`);
}
