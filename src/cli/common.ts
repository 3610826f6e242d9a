// What every islet command shares: failing with an actionable message, JSON flags, bundling a
// worker file with its relative imports.

import { readFile } from "node:fs/promises";
import { build, type Metafile } from "esbuild";

export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

export function fail(message: string): never {
  process.stderr.write(`islet: ${message}\n`);
  process.exit(1);
}

export function parseJson(flag: string, text: string | undefined, fallback: unknown): unknown {
  if (text === undefined) return fallback;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`${flag} is not valid JSON: ${(error as Error).message}`);
  }
}

export function parseJsonObject(flag: string, text: string | undefined): Record<string, unknown> {
  const value = parseJson(flag, text, {});
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new CliError(`${flag} must be a JSON object, like '{"NAME":"value"}'`);
  return value as Record<string, unknown>;
}

export function parsePositive(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!(value > 0) || !Number.isFinite(value)) throw new CliError(`${flag} must be a positive number, got "${text}"`);
  return value;
}

export function parsePortFlag(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port must be a port number from 0 to 65535, got "${text}"`);
  return port;
}

export interface Bundle {
  source: string;
  /** Files the bundle was built from, to watch for changes. */
  inputs: string[];
}

/**
 * Bundles `file` and its relative imports into one ES module (cloudflare:workers stays external).
 * With `stdin`, the module is that text (TypeScript allowed), its relative imports resolved from
 * the current directory, and `file` is only its name in messages.
 */
export async function bundle(file: string, stdin?: string): Promise<Bundle> {
  if (stdin === undefined) {
    try {
      await readFile(file);
    } catch (error) {
      throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`);
    }
  }
  try {
    const result = await build({
      ...(stdin === undefined ? { entryPoints: [file] } : { stdin: { contents: stdin, loader: "ts", resolveDir: process.cwd(), sourcefile: file } }),
      bundle: true,
      write: false,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      external: ["cloudflare:workers"],
      sourcemap: "inline",
      logLevel: "silent",
      metafile: true,
    });
    return { source: result.outputFiles[0].text, inputs: Object.keys((result.metafile as Metafile).inputs) };
  } catch (error) {
    const first = (error as { errors?: { text: string; location?: { file: string; line: number; column: number } }[] }).errors?.[0];
    const where = first?.location ? `${first.location.file}:${first.location.line}:${first.location.column}: ` : "";
    throw new CliError(`cannot build ${file}: ${where}${first?.text ?? (error as Error).message}`);
  }
}

/** Parses flags with node:util, turning its errors ("Unknown option '--prot'") into CliErrors that point at --help. */
export function flags<T>(parse: () => T, command: string): T {
  try {
    return parse();
  } catch (error) {
    // node:util appends advice about '--' to unknown options, which misleads more than it helps.
    const message = (error as Error).message.split(". To specify a positional argument")[0].replace(/\.$/, "");
    throw new CliError(`${message}. See: islet ${command} --help`);
  }
}
