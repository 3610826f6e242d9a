#!/usr/bin/env node
// islet's command line: one file per command, loaded only when asked for so `islet run` does not
// pay for the server, and `islet mcp` for nothing else.

import { exitCleanly } from "./clean-exit.ts";
import { CliError, fail, VERSION } from "./common.ts";

const usage = `islet — run untrusted JavaScript/TypeScript in fresh V8 isolates

Usage:
  islet run <file> [options]    load <file> as a worker, call it once, print the result
  islet dev <file> [options]    serve <file>'s fetch handler locally, reloading on change
  islet serve [options]         the sandbox as an HTTP/WebSocket service, with the playground
  islet mcp --config <file>     an MCP server (search + execute) over MCP servers and OpenAPI documents
  islet doctor                  check that this machine can run islet (Node, V8, isolated-vm, sqlite)
  islet backup <data> <to>      copy a data directory's databases (Durable Objects), even while in use
  islet restore <from> <data>   put a backup back (the server stopped)

Run islet <command> --help for a command's options. Default ports: serve 8787, dev 8788, mcp --http 8789.`;

// Computed so the source runs under tsx (.ts) and the build from dist (.js).
const extension = import.meta.url.endsWith(".ts") ? ".ts" : ".js";

async function command(name: string): Promise<(argv: string[]) => Promise<void>> {
  switch (name) {
    case "run":
      return (await import("./run.ts")).runCommand;
    case "dev":
      return (await import("./dev.ts")).devCommand;
    case "serve":
      return (await import("./serve.ts")).serveCommand;
    case "doctor":
      return (await import("./doctor.ts")).doctorCommand;
    case "backup":
      return (await import("./backup.ts")).backupCommand;
    case "restore":
      return (await import("./backup.ts")).restoreCommand;
    case "mcp": {
      // Written separately (src/cli/mcp.ts); resolved at run time so this file builds without it.
      const module = (await import(new URL(`./mcp${extension}`, import.meta.url).href)) as { mcpCommand: (argv: string[]) => Promise<void> };
      return module.mcpCommand;
    }
    default:
      throw new CliError(`unknown command "${name}". Try: islet --help`);
  }
}

async function main(): Promise<void> {
  exitCleanly();
  const [name, ...rest] = process.argv.slice(2);
  if (name === undefined) {
    // Not asked for help: a script that runs a bare `islet` has made a mistake, so say it with a status.
    process.stderr.write(`${usage}\n`);
    process.exitCode = 2;
    return;
  }
  if (name === "-h" || name === "--help" || name === "help") return void console.log(usage);
  if (name === "--version" || name === "-v") return void console.log(`islet ${VERSION}`);
  await (await command(name))(rest);
}

main().catch((error) => {
  if (error instanceof CliError || (error instanceof Error && (error.name === "ServerConfigError" || error.name === "ConfigError"))) fail(error.message);
  fail(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
});
