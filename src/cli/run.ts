// `islet run <file>`: loads a JS/TS file as a worker, calls it once and prints the result, the
// logs and the timings.

import { userStack } from "./stack.ts";
import { fstatSync } from "node:fs";
import { text as readAll } from "node:stream/consumers";
import { basename, resolve } from "node:path";
import { inspect, parseArgs } from "node:util";
import { WorkerLoader, type Limits, type TailEvent } from "../index.ts";
import { egressFor, type OutboundAuditEntry } from "../server/egress.ts";
import { bundle, CliError, flags, parseJson, parseJsonObject, parseLimitFlags } from "./common.ts";

export const runUsage = `islet run — load a JS/TS file as a worker, call it once, print the result

Usage:
  islet run <file> [options]
  islet run - [options]            read the module from stdin (also when stdin is a pipe or a file
                                   and no <file> is given): echo 'export default {run: () => 1}' | islet run

Options:
  --method <name>      RPC method to call on the entrypoint (default: run); with --fetch, the HTTP method
  --args <json>        JSON array of arguments for the method (default: [])
  --fetch <url>        call the fetch handler with a request to <url> instead of an RPC method
  -X <method>          with --fetch: the HTTP method (same as --method; default GET, or POST with --data)
  -d, --data <body>    with --fetch: the request body
  -H, --header <h>     with --fetch: a request header "Name: value" (repeatable)
  --entrypoint <name>  named export to call (default: the default export)
  --env <json>         JSON object passed as env (plain data)
  --allow-host <host>  let the worker's fetch() reach this host (repeatable, "*.example.com" works);
                       default: no network. Each fetch is listed with its decision
  --cpu-ms <n>         CPU limit for the call (default 5000)
  --memory-mb <n>      heap limit of the isolate (default 128)
  --wall-ms <n>        wall-clock limit for the call (default 30000)
  --json               print one JSON object instead of readable text
  -h, --help           show this help

Relative imports of <file> (of the current directory, for stdin) are bundled with it.`;

/** Whether stdin is a shell pipe or a redirected file (not a terminal, not a parent's socket). */
function stdinIsPiped(): boolean {
  try {
    const stat = fstatSync(0);
    return stat.isFIFO() || stat.isFile();
  } catch {
    return false;
  }
}

/**
 * The worker's text as the terminal should show it: control characters (escape sequences that
 * erase lines, retitle the window or write the clipboard) shown as \x.. escapes, so a worker cannot
 * rewrite what islet run prints (findings19/02). Newlines and tabs stay.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

function formatLog(log: TailEvent["logs"][number]): string {
  const text = log.message.map((part) => (typeof part === "string" ? part : inspect(part, { colors: false, depth: 4 }))).join(" ");
  return `  [${log.level}] ${printable(text)}`;
}

function formatFetch(entry: OutboundAuditEntry): string {
  const how = entry.decision === "denied" ? `denied by ${entry.policy}` : entry.credentials ? "allowed, credentials added" : "allowed";
  return printable(`  ${entry.method} ${entry.url} ${how} → ${entry.status ?? `failed: ${entry.error}`}`);
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

export async function runCommand(argv: string[]): Promise<void> {
  const { values, positionals } = flags(
    () =>
      parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          method: { type: "string", short: "X" },
          args: { type: "string" },
          fetch: { type: "string" },
          data: { type: "string", short: "d" },
          header: { type: "string", short: "H", multiple: true },
          entrypoint: { type: "string" },
          env: { type: "string" },
          "allow-host": { type: "string", multiple: true },
          "cpu-ms": { type: "string" },
          "memory-mb": { type: "string" },
          "wall-ms": { type: "string" },
          json: { type: "boolean" },
          help: { type: "boolean", short: "h" },
        },
      }),
    "run",
  );
  if (values.help) return void console.log(runUsage);
  let file = positionals[0];
  const fromStdin = file === "-" || (file === undefined && stdinIsPiped());
  if (file === undefined && !fromStdin) throw new CliError("run needs a file: islet run <file>, or the module on stdin: islet run - (see islet run --help)");
  if (fromStdin) file = "stdin.ts";
  if (values.fetch === undefined && (values.data !== undefined || values.header !== undefined)) throw new CliError("--data and --header go with --fetch <url>");
  if (values.fetch !== undefined && values.args !== undefined) throw new CliError("--args is for RPC methods; with --fetch, send a body with --data");
  const args = parseJson("--args", values.args, []);
  if (!Array.isArray(args)) throw new CliError("--args must be a JSON array, like '[\"Alice\"]'");
  const env = parseJsonObject("--env", values.env);
  const limits: Limits = parseLimitFlags(values, { "cpu-ms": "cpuMs", "memory-mb": "memoryMb", "wall-ms": "wallMs" });
  let fetchRequest: Request | undefined;
  if (values.fetch !== undefined) {
    const headers = new Headers();
    for (const header of values.header ?? []) {
      const colon = header.indexOf(":");
      if (colon <= 0) throw new CliError(`--header must look like "Name: value", got "${header}"`);
      try {
        headers.append(header.slice(0, colon).trim(), header.slice(colon + 1).trim());
      } catch (error) {
        throw new CliError(`--header "${header}": ${(error as Error).message}`);
      }
    }
    const httpMethod = (values.method ?? (values.data !== undefined ? "POST" : "GET")).toUpperCase();
    try {
      fetchRequest = new Request(values.fetch, { method: httpMethod, headers, body: values.data });
    } catch (error) {
      throw new CliError(`--fetch ${values.fetch} (${httpMethod}): ${(error as Error).message}`);
    }
  }
  const fetches: OutboundAuditEntry[] = [];
  let globalOutbound;
  try {
    // A local run of your own file: loopback and private hosts are reachable if you list them.
    globalOutbound = egressFor(undefined, { allowPrivate: true, allowHosts: values["allow-host"], maxRequestBytes: 10 * 1024 * 1024, audit: (entry) => fetches.push(entry) });
  } catch (error) {
    throw new CliError(`--allow-host: ${(error as Error).message}`);
  }

  const stdinText = fromStdin ? await readAll(process.stdin) : undefined;
  const { source } = await bundle(fromStdin ? file : resolve(file), stdinText);
  const logs: TailEvent["logs"] = [];
  let trace: TailEvent | undefined;
  const loader = new WorkerLoader({ limits, globalOutbound });
  const started = performance.now();
  const name = basename(file).replace(/\.[cm]?[jt]s$/, "") + ".js";
  const stub = loader.load({
    compatibilityDate: "2026-11-01",
    mainModule: name,
    modules: { [name]: { js: source } },
    env,
    tails: [(events) => events.forEach((event) => ((trace = event), logs.push(...event.logs)))],
  });
  const entrypoint = stub.getEntrypoint(values.entrypoint);
  const method = fetchRequest !== undefined ? "fetch" : (values.method ?? "run");
  let output: Record<string, unknown>;
  let failed = false;
  try {
    if (fetchRequest !== undefined) {
      const response = await entrypoint.fetch(fetchRequest);
      output = { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
    } else {
      output = { result: await entrypoint[method](...args) };
    }
  } catch (error) {
    failed = true;
    const e = error as Error;
    output = { error: { name: e.name, message: e.message, ...(typeof e.stack === "string" ? { stack: userStack(e.stack, source, name) } : {}) } };
  }
  const totalMs = performance.now() - started;
  await loader.close();
  const timings = { totalMs: round(totalMs), cpuMs: round(trace?.cpuTime ?? 0), wallMs: round(trace?.wallTime ?? 0) };
  if (values.json) {
    console.log(JSON.stringify({ ...output, logs, ...(fetches.length > 0 ? { fetches } : {}), timings, outcome: trace?.outcome }, null, 2));
  } else {
    if (logs.length > 0) console.log(`logs:\n${logs.map(formatLog).join("\n")}`);
    if (fetches.length > 0) console.log(`fetches:\n${fetches.map(formatFetch).join("\n")}`);
    if (failed) {
      const error = output.error as { name: string; message: string; stack?: string };
      console.log(`error: ${printable(error.stack ?? `${error.name}: ${error.message}`)}`);
    } else if ("result" in output) console.log(`result: ${printable(inspect(output.result, { depth: 6, colors: false }))}`);
    else console.log(printable(`response: ${output.status}\n${Object.entries(output.headers as object).map(([k, v]) => `  ${k}: ${v}`).join("\n")}\n\n${output.body}`));
    console.log(`timing: ${timings.totalMs} ms total (isolate start + call), call ${timings.wallMs} ms wall, ${timings.cpuMs} ms CPU`);
  }
  process.exitCode = failed ? 1 : 0;
}
