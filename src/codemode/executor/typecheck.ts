// Type-checks the model's program against the generated API before it runs, with TypeScript's own
// checker (TypeScript 7's native `tsc`, an optional peer dependency: `npm install typescript`).
// A wrong argument (`{ id: "x" }` for a number), a misspelled property (`p.nme`) or an unknown
// function comes back as compact errors with the line and column in the model's code, before any
// tool is called. Checking is lenient where the model cannot know better: results typed `unknown`
// (tools without an output schema) are read as `any`, and strict mode is off (a caught error is
// `any`, a possibly-undefined value may be used).

import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

/** Errors listed in a result; the rest are counted. */
const MAX_ERRORS = 5;
/** Characters of one error's message (TypeScript prints whole object types). */
const MAX_MESSAGE_CHARS = 400;
/**
 * What one check may spend on the host, outside every limit of the execution: the model's code
 * decides how hard the checker works (mapped types over a large union took tsc 48 s and 1.8 GB,
 * findings15/04). A check past its time or memory is killed (SIGKILL: tsc went on for seconds after
 * SIGTERM) and the code then runs unchecked (the tools still check their input); checks beyond
 * `concurrent` wait for a slot, within the same time. Mutable for tests.
 */
export const typecheckBudget = {
  timeoutMs: 10_000,
  memoryBytes: 512 * 1024 * 1024,
  concurrent: Math.max(1, Math.floor(availableParallelism() / 2)),
};
/** How often a check's resident memory is read (Linux: /proc). */
const MEMORY_POLL_MS = 50;

let running = 0;
const waiting: (() => void)[] = [];

/** A slot among `concurrent`, or false when none frees up before `deadline`. */
async function checkSlot(deadline: number): Promise<boolean> {
  while (running >= typecheckBudget.concurrent) {
    const left = deadline - Date.now();
    if (left <= 0) return false;
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => waiting.push((wake = resolve)));
    const timer = setTimeout(wake, left);
    await woken;
    clearTimeout(timer);
    const index = waiting.indexOf(wake);
    if (index >= 0) waiting.splice(index, 1);
  }
  running++;
  return true;
}

function releaseSlot(): void {
  running--;
  waiting.shift()?.();
}

/** A process's resident bytes, or undefined where /proc cannot tell. */
function residentBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

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
  const { timeoutMs, memoryBytes } = typecheckBudget;
  const deadline = Date.now() + timeoutMs;
  if (!(await checkSlot(deadline))) return { skipped: `no checker was free within ${timeoutMs} ms` };
  const dir = await mkdtemp(join(tmpdir(), "islet-typecheck-"));
  try {
    // Results the API cannot describe are `any` here: `unknown` would make every use of them an error.
    const lenient = api.replaceAll("): Promise<unknown>;", "): Promise<any>;");
    await writeFile(join(dir, "api.d.ts"), lenient + (withSession ? SESSION_DECLARATION : ""));
    await writeFile(join(dir, "code.ts"), source);
    const args = ["--noEmit", "--noResolve", "--strict", "false", "--target", "es2023", "--lib", "es2023,webworker", "--module", "esnext", "--types", "", "--skipLibCheck", "--pretty", "false", "api.d.ts", "code.ts"];
    let overMemory = false;
    const output = await new Promise<string | undefined>((resolve) => {
      // GOMEMLIMIT makes the Go checker collect harder as it nears the budget; the poll below enforces it.
      const child = execFile(tsc, args, { cwd: dir, timeout: Math.max(1, deadline - Date.now()), killSignal: "SIGKILL", maxBuffer: 4 * 1024 * 1024, env: { ...process.env, GOMEMLIMIT: String(memoryBytes) } }, (error, stdout) => {
        clearInterval(poll);
        if (error === null) resolve("");
        else if ((error as { killed?: boolean }).killed || typeof (error as { code?: unknown }).code !== "number") resolve(undefined);
        else resolve(stdout);
      });
      const poll = setInterval(() => {
        const rss = child.pid === undefined ? undefined : residentBytes(child.pid);
        if (rss !== undefined && rss > memoryBytes) {
          overMemory = true;
          child.kill("SIGKILL");
        }
      }, MEMORY_POLL_MS);
    });
    if (output === undefined) return { skipped: overMemory ? `the check used more than ${Math.round(memoryBytes / 1024 / 1024)} MiB` : `the check took longer than ${timeoutMs} ms` };
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
    releaseSlot();
    await rm(dir, { recursive: true, force: true });
  }
}
