// Runs the TypeScript compiler (tsc, TypeScript 7's native binary) over generated declarations
// and code that uses them; returns its diagnostics ("" when the code typechecks).

import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);
const tsc = join(import.meta.dirname, "../../node_modules/.bin/tsc");

export async function typecheck(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "islet-codemode-tsc-"));
  try {
    const paths: string[] = [];
    for (const [name, text] of Object.entries(files)) {
      const path = join(dir, name);
      await writeFile(path, text);
      paths.push(path);
    }
    try {
      await exec(tsc, ["--noEmit", "--strict", "--target", "es2022", "--lib", "es2022", "--types", "", "--skipLibCheck", "false", ...paths], { timeout: 60_000, cwd: dir });
      return "";
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      return `${stdout ?? ""}${stderr ?? ""}`.replaceAll(dir + "/", "") || String(error);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
