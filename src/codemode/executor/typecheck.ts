// Type-checks the model's program against the generated API before it runs, with TypeScript's own
// checker (TypeScript 7's native `tsc`, an optional peer dependency: `npm install typescript`).
// A wrong argument (`{ id: "x" }` for a number), a misspelled property (`p.nme`) or an unknown
// function comes back as compact errors with the line and column in the model's code, before any
// tool is called. Checking is lenient where the model cannot know better: results typed `unknown`
// (tools without an output schema) are read as `any`, and strict mode is off (a caught error is
// `any`, a possibly-undefined value may be used).

import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

/** Errors listed in a result; the rest are counted. */
const MAX_ERRORS = 5;
/** Characters of one error's message (TypeScript prints whole object types). */
const MAX_MESSAGE_CHARS = 400;
/** A check that takes longer is abandoned: the code then runs unchecked (the tools still check input). */
export const TYPECHECK_TIMEOUT_MS = 10_000;

/** What the sandbox has besides the namespaces: the web worker's globals and, with a session, `session`. */
const SESSION_DECLARATION = `declare const session: {
  get(key: string): Promise<any>;
  put(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<boolean>;
  list(options?: { prefix?: string; limit?: number }): Promise<any>;
  sql(query: string, ...bindings: unknown[]): Promise<any[]>;
};
`;

let compiler: Promise<string | undefined> | undefined;

/** The native tsc of the `typescript` package the host has installed, or undefined without one. */
export function typescriptCompiler(): Promise<string | undefined> {
  compiler ??= (async () => {
    try {
      const root = dirname(createRequire(import.meta.url).resolve("typescript/package.json"));
      const { default: getExePath } = (await import(pathToFileURL(join(root, "lib", "getExePath.js")).href)) as { default: () => string };
      return getExePath();
    } catch {
      return undefined;
    }
  })();
  return compiler;
}

export type TypecheckOutcome = { ok: true } | { ok: false; errors: string[] } | { skipped: string };

/**
 * Checks `source` (the model's code as prepared: a module whose first `lineOffset` lines are
 * islet's wrapper) against `api` (the generated declarations).
 */
/**
 * Code that names a module in any way TypeScript follows: an import (static, dynamic, or in a type,
 * `typeof import("/etc/…")`), `require`, `import x = require`, a triple-slash directive. The checker
 * would read that file from the host's disk and quote it back in its errors (findings14/03), so
 * such code is not checked at all: it runs as it is, and the sandbox refuses the import itself.
 */
const NAMES_A_MODULE = /\bimport\b\s*\(|\bimport\b\s*[\w{*"'`]|\brequire\s*\(|\/\/\/\s*<|@jsxImportSource|\bexport\s+[*{][^;]*\bfrom\b/;

export async function typecheckProgram(source: string, lineOffset: number, api: string, withSession: boolean): Promise<TypecheckOutcome> {
  if (NAMES_A_MODULE.test(source.replace(/^export default async \(\) => [({]\n/, ""))) return { skipped: "the code names a module, which the checker would read from the host" };
  const tsc = await typescriptCompiler();
  if (tsc === undefined) return { skipped: "typescript is not installed" };
  const dir = await mkdtemp(join(tmpdir(), "islet-typecheck-"));
  try {
    // Results the API cannot describe are `any` here: `unknown` would make every use of them an error.
    const lenient = api.replaceAll("): Promise<unknown>;", "): Promise<any>;");
    await writeFile(join(dir, "api.d.ts"), lenient + (withSession ? SESSION_DECLARATION : ""));
    await writeFile(join(dir, "code.ts"), source);
    const args = ["--noEmit", "--noResolve", "--strict", "false", "--target", "es2023", "--lib", "es2023,webworker", "--module", "esnext", "--types", "", "--skipLibCheck", "--pretty", "false", "api.d.ts", "code.ts"];
    const output = await new Promise<string | undefined>((resolve) => {
      execFile(tsc, args, { cwd: dir, timeout: TYPECHECK_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 }, (error, stdout) => {
        if (error === null) resolve("");
        else if ((error as { killed?: boolean }).killed || typeof (error as { code?: unknown }).code !== "number") resolve(undefined);
        else resolve(stdout);
      });
    });
    if (output === undefined) return { skipped: `the check took longer than ${TYPECHECK_TIMEOUT_MS} ms` };
    if (output === "") return { ok: true };
    const errors: string[] = [];
    let count = 0;
    for (const line of output.split("\n")) {
      const match = /^code\.ts\((\d+),(\d+)\): error (TS\d+): (.*)$/.exec(line);
      if (match === null) continue;
      count++;
      if (errors.length >= MAX_ERRORS) continue;
      const message = match[4].length > MAX_MESSAGE_CHARS ? `${match[4].slice(0, MAX_MESSAGE_CHARS)}…` : match[4];
      errors.push(`line ${Math.max(1, Number(match[1]) - lineOffset)}, column ${match[2]}: ${message}`);
    }
    // Errors only in the declarations (a source's schema TypeScript cannot express) are not the code's.
    if (count === 0) return { ok: true };
    if (count > errors.length) errors.push(`… ${count - errors.length} more`);
    return { ok: false, errors };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
