// The model's code comes in three forms; each becomes a TypeScript module (so type annotations the
// model copies from the generated API are fine) whose default export the entrypoint awaits:
//   - a module (it has import/export statements): its default export, a function or a value;
//   - an expression, usually `async () => { … }`: evaluated inside the call, and called if a function
//     (so `await api.getUser({ id })` alone is also fine: its value is the result);
//   - statements (a function body, `return` allowed): run as the body of an async function.
// The user's first line is line 2 of the module in the two wrapped forms.

import { transpileTypeScript } from "../../loader/code/typescript.ts";
import { isPreparationRefusal } from "../../loader/code/esbuild-queue.ts";
import { WorkerCodeError } from "../../errors.ts";

export const CODE_MODULE = "code.ts";

export type CodeForm = "module" | "expression" | "statements";

export interface PreparedUserCode {
  form: CodeForm;
  source: string;
}

export class CodeSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SyntaxError";
  }
}

const modulePattern = /^\s*(import\s*[\w${*"']|export\s)/m;
const functionStart = /^(async\b|function\b|\(|[A-Za-z_$][\w$]*\s*=>)/;

function wrap(form: CodeForm, code: string): string {
  if (form === "module") return code;
  if (form === "expression") return `export default async () => (\n${code.replace(/[\s;]+$/, "")}\n);\n`;
  return `export default async () => {\n${code}\n};\n`;
}

/** The code of the one fenced block (```ts … ```) in a model's answer, if it has exactly one. */
function fencedBlock(code: string): string | undefined {
  const blocks = [...code.matchAll(/^[ \t]*(`{3,}|~{3,})[^\n`]*\n([\s\S]*?)\n[ \t]*\1[ \t]*$/gm)];
  return blocks.length === 1 ? blocks[0][2] : undefined;
}

/**
 * Checks the code parses in the form it seems to be in, and wraps it; throws CodeSyntaxError.
 * Models often send their code as a markdown block, with or without a sentence around it: code
 * that does not parse as it is but holds exactly one fenced block is taken to be that block.
 */
export async function prepareUserCode(code: string): Promise<PreparedUserCode> {
  // Code that opens with a fence is a block even though it parses: "```ts …```" is an empty
  // template literal tagged onto another (`TypeError: "" is not a function` when it runs).
  if (/^\s*(`{3,}|~{3,})/.test(code)) {
    const block = fencedBlock(code);
    if (block === undefined || block.trim() === "") throw new CodeSyntaxError("The code opens a markdown block but is not one closed block of code; send one program (a single ``` block, or the code alone).");
    return await prepareForm(block);
  }
  try {
    return await prepareForm(code);
  } catch (error) {
    const block = error instanceof CodeSyntaxError ? fencedBlock(code) : undefined;
    if (block === undefined || block.trim() === "") throw error;
    return await prepareForm(block);
  }
}

async function prepareForm(code: string): Promise<PreparedUserCode> {
  const trimmed = code.trim();
  if (trimmed === "") throw new CodeSyntaxError("The code is empty; expected an async function such as `async () => { … }`.");
  // A single expression is its own value (`await api.x()`), so that form is tried before statements.
  const candidates: CodeForm[] = modulePattern.test(code) ? ["module"] : ["expression", "statements"];
  const errors = new Map<CodeForm, unknown>();
  for (const form of candidates) {
    const source = wrap(form, form === "module" ? code : trimmed);
    try {
      await transpileTypeScript(source, CODE_MODULE);
      return { form, source };
    } catch (error) {
      // esbuild's queue was full (esbuild-queue.ts): nothing is known of the code, so not a SyntaxError.
      if (isPreparationRefusal(error)) throw error;
      errors.set(form, error);
    }
  }
  // Report the error of the form the code seems meant to be.
  const meant: CodeForm = candidates.length === 1 ? "module" : functionStart.test(trimmed) ? "expression" : "statements";
  throw syntaxError(errors.get(meant), meant);
}

function syntaxError(error: unknown, form: CodeForm): CodeSyntaxError {
  if (!(error instanceof WorkerCodeError)) return new CodeSyntaxError(String((error as Error)?.message ?? error));
  const match = /TypeScript error \((\d+):(\d+)\): ([\s\S]*)$/.exec(error.message);
  if (match === null) return new CodeSyntaxError(error.message.replace(/^Module "[^"]*": /, ""));
  const line = Number(match[1]) - (form === "module" ? 0 : 1);
  return new CodeSyntaxError(`${match[3]} (line ${Math.max(line, 1)}, column ${Number(match[2]) + 1})`);
}
