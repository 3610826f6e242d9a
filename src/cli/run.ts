// `islet run <file>`: loads a JS/TS file as a worker, calls it once and prints the result, the
// logs and the timings.

import { basename, resolve } from "node:path";
import { inspect, parseArgs } from "node:util";
import { WorkerLoader, type TailEvent } from "../index.ts";
import { bundle, CliError, flags, parseJson, parseJsonObject, parsePositive } from "./common.ts";

export const runUsage = `islet run — load a JS/TS file as a worker, call it once, print the result

Usage:
  islet run <file> [options]

Options:
  --method <name>      RPC method to call on the entrypoint (default: run)
  --args <json>        JSON array of arguments for the method (default: [])
  --fetch <url>        call the fetch handler with a GET to <url> instead of an RPC method
  --entrypoint <name>  named export to call (default: the default export)
  --env <json>         JSON object passed as env (plain data)
  --cpu-ms <n>         CPU limit for the call (default 5000)
  --json               print one JSON object instead of readable text
  -h, --help           show this help

Relative imports of <file> are bundled with it. The worker has no network access.`;

function formatLog(log: TailEvent["logs"][number]): string {
  const text = log.message.map((part) => (typeof part === "string" ? part : inspect(part, { colors: false, depth: 4 }))).join(" ");
  return `  [${log.level}] ${text}`;
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
          method: { type: "string" },
          args: { type: "string" },
          fetch: { type: "string" },
          entrypoint: { type: "string" },
          env: { type: "string" },
          "cpu-ms": { type: "string" },
          json: { type: "boolean" },
          help: { type: "boolean", short: "h" },
        },
      }),
    "run",
  );
  if (values.help) return void console.log(runUsage);
  const file = positionals[0];
  if (file === undefined) throw new CliError("run needs a file: islet run <file> (see islet run --help)");
  const args = parseJson("--args", values.args, []);
  if (!Array.isArray(args)) throw new CliError("--args must be a JSON array, like '[\"Alice\"]'");
  const env = parseJsonObject("--env", values.env);
  const cpuMs = parsePositive("--cpu-ms", values["cpu-ms"]);

  const { source } = await bundle(resolve(file));
  const logs: TailEvent["logs"] = [];
  let trace: TailEvent | undefined;
  const loader = new WorkerLoader({ limits: cpuMs === undefined ? {} : { cpuMs } });
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
  const method = values.fetch !== undefined ? "fetch" : (values.method ?? "run");
  let output: Record<string, unknown>;
  let failed = false;
  try {
    if (values.fetch !== undefined) {
      const response = await entrypoint.fetch(values.fetch);
      output = { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
    } else {
      output = { result: await entrypoint[method](...args) };
    }
  } catch (error) {
    failed = true;
    const e = error as Error;
    output = { error: { name: e.name, message: e.message, stack: e.stack } };
  }
  const totalMs = performance.now() - started;
  await loader.close();
  const timings = { totalMs: round(totalMs), cpuMs: round(trace?.cpuTime ?? 0), wallMs: round(trace?.wallTime ?? 0) };
  if (values.json) {
    console.log(JSON.stringify({ ...output, logs, timings, outcome: trace?.outcome }, null, 2));
  } else {
    if (logs.length > 0) console.log(`logs:\n${logs.map(formatLog).join("\n")}`);
    if (failed) {
      const error = output.error as { name: string; message: string; stack?: string };
      console.log(`error: ${error.stack ?? `${error.name}: ${error.message}`}`);
    } else if ("result" in output) console.log(`result: ${inspect(output.result, { depth: 6, colors: false })}`);
    else console.log(`response: ${output.status}\n${Object.entries(output.headers as object).map(([k, v]) => `  ${k}: ${v}`).join("\n")}\n\n${output.body}`);
    console.log(`timing: ${timings.totalMs} ms total (isolate start + call), call ${timings.wallMs} ms wall, ${timings.cpuMs} ms CPU`);
  }
  process.exitCode = failed ? 1 : 0;
}
