#!/usr/bin/env node
// islet's command line. `islet run <file>` loads a JS/TS file as a worker, calls it once and
// prints the result, the logs and the timings.

import { readFile } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { inspect, parseArgs } from "node:util";
import { build } from "esbuild";
import { WorkerLoader, type TailEvent } from "../index.ts";

const usage = `islet — run untrusted JavaScript/TypeScript in a fresh V8 isolate

Usage:
  islet run <file> [options]     load <file> as a worker, call it once, print the result

Options for run:
  --method <name>      RPC method to call on the entrypoint (default: run)
  --args <json>        JSON array of arguments for the method (default: [])
  --fetch <url>        call the fetch handler with a GET to <url> instead of an RPC method
  --entrypoint <name>  named export to call (default: the default export)
  --env <json>         JSON object passed as env (plain data)
  --cpu-ms <n>         CPU limit for the call (default 5000)
  --json               print one JSON object instead of readable text
  -h, --help           show this help

Relative imports of <file> are bundled with it. The worker has no network access.`;

function fail(message: string): never {
  process.stderr.write(`islet: ${message}\n`);
  process.exit(1);
}

function parseJson(flag: string, text: string | undefined, fallback: unknown): unknown {
  if (text === undefined) return fallback;
  try {
    return JSON.parse(text);
  } catch (error) {
    fail(`${flag} is not valid JSON: ${(error as Error).message}`);
  }
}

async function bundle(file: string): Promise<string> {
  try {
    await readFile(file);
  } catch (error) {
    fail(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`);
  }
  try {
    const result = await build({
      entryPoints: [file],
      bundle: true,
      write: false,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      external: ["cloudflare:workers"],
      sourcemap: "inline",
      logLevel: "silent",
    });
    return result.outputFiles[0].text;
  } catch (error) {
    const first = (error as { errors?: { text: string; location?: { file: string; line: number; column: number } }[] }).errors?.[0];
    const where = first?.location ? `${first.location.file}:${first.location.line}:${first.location.column}: ` : "";
    fail(`cannot build ${file}: ${where}${first?.text ?? (error as Error).message}`);
  }
}

function formatLog(log: TailEvent["logs"][number]): string {
  const text = log.message.map((part) => (typeof part === "string" ? part : inspect(part, { colors: false, depth: 4 }))).join(" ");
  return `  [${log.level}] ${text}`;
}

async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
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
  });
  if (values.help) return void console.log(usage);
  const file = positionals[0];
  if (file === undefined) fail("run needs a file: islet run <file> (see islet --help)");
  const args = parseJson("--args", values.args, []);
  if (!Array.isArray(args)) fail("--args must be a JSON array, like '[\"Alice\"]'");
  const env = parseJson("--env", values.env, {});
  if (env === null || typeof env !== "object" || Array.isArray(env)) fail("--env must be a JSON object");
  const cpuMs = values["cpu-ms"] === undefined ? undefined : Number(values["cpu-ms"]);
  if (cpuMs !== undefined && !(cpuMs > 0)) fail("--cpu-ms must be a positive number");

  const source = await bundle(resolve(file));
  const logs: TailEvent["logs"] = [];
  let trace: TailEvent | undefined;
  const loader = new WorkerLoader({ limits: cpuMs === undefined ? {} : { cpuMs } });
  const started = performance.now();
  const name = basename(file).replace(/\.[cm]?[jt]s$/, "") + ".js";
  const stub = loader.load({
    compatibilityDate: "2026-11-01",
    mainModule: name,
    modules: { [name]: { js: source } },
    env: env as Record<string, unknown>,
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

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case "run":
      return run(rest);
    case undefined:
    case "-h":
    case "--help":
    case "help":
      return void console.log(usage);
    default:
      fail(`unknown command "${command}". Try: islet --help`);
  }
}

main().catch((error) => fail(error instanceof Error ? error.message : String(error)));
