// What every islet command shares: failing with an actionable message, JSON flags, bundling a
// worker file with its relative imports.

import { readFile } from "node:fs/promises";
import { build, type Metafile } from "esbuild";
import { z } from "zod";
import { checkLimits, type LimitKey, type Limits } from "../protocol/limits.ts";
import { positiveNumber } from "../protocol/schema.ts";

/** islet's version, as `islet --version` prints it and exported spans name it. */
export const VERSION = "0.1.0";

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

/** A numeric flag checked by `schema` (the same schemas the config files use); messages quote the flag as typed. */
function numberFlag<T>(flag: string, text: string | undefined, schema: z.ZodType<T>): T | undefined {
  if (text === undefined) return undefined;
  const parsed = schema.safeParse(text.trim() === "" ? Number.NaN : Number(text));
  if (parsed.success) return parsed.data;
  throw new CliError(`${flag} ${parsed.error.issues[0].message.replace(/, got .*$/s, "")}, got "${text}"`);
}

export function parsePositive(flag: string, text: string | undefined): number | undefined {
  return numberFlag(flag, text, positiveNumber());
}

const port = z
  .number({ error: "must be a port number from 0 to 65535" })
  .int({ error: "must be a port number from 0 to 65535" })
  .min(0, { error: "must be a port number from 0 to 65535" })
  .max(65535, { error: "must be a port number from 0 to 65535" });

export function parsePortFlag(text: string | undefined): number | undefined {
  return numberFlag("--port", text, port);
}

/**
 * Limit flags (`{ "cpu-ms": "cpuMs" }`) read as numbers, then held to the rule every entry point
 * uses (src/protocol/limits.ts): "--memory-mb must be at least 8, got 4". Every problem at once.
 */
export function parseLimitFlags(values: Record<string, unknown>, flags: Partial<Record<string, LimitKey>>): Limits {
  const limits: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [flag, key] of Object.entries(flags) as [string, LimitKey][]) {
    const text = values[flag];
    if (typeof text !== "string") continue;
    limits[key] = text.trim() === "" ? Number.NaN : Number(text);
    if (!Number.isFinite(limits[key])) problems.push(`--${flag} must be a positive number, got "${text}"`);
  }
  if (problems.length === 0) {
    const checked = checkLimits(limits);
    if (checked.limits !== undefined) return checked.limits;
    for (const problem of checked.problems) {
      const key = problem.field.replace(/^limits\./, "");
      const flag = Object.entries(flags).find(([, k]) => k === key)?.[0] ?? key;
      problems.push(`--${flag} ${problem.message}`);
    }
  }
  throw new CliError(problems.join("; "));
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
