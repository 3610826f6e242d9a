// `islet doctor`: what this machine gives islet — Node, V8 and isolated-vm versions, where the
// native addon came from, whether process isolation gets Node's permission model, whether
// node:sqlite loads — and one real sandbox run. Each check is separate, so a broken addon is
// reported instead of crashing the command that would explain it.

import { parseArgs } from "node:util";
import { checkAddon, type Check, type CheckStatus } from "../loader/diagnostics.ts";
import { CliError } from "./common.ts";

export const doctorUsage = `islet doctor — check that this machine can run islet

Usage:
  islet doctor [--json]

Prints the Node, V8 and isolated-vm versions, whether isolated-vm's addon is a prebuilt binary,
whether process isolation can use Node's permission model, whether node:sqlite loads, and runs one
sandbox. Exits 1 when islet cannot run here.`;

/** The oldest Node major islet supports (isolated-vm 7's prebuilt addons are for Node 24 and 26). */
const MIN_NODE_MAJOR = 24;

/**
 * The V8 release of each line that islet's suite last passed on (Node 24.22.3 and 26.12.1). An
 * older patch release of the same line lacks fixes islet was tested with: V8 patch releases are
 * mostly security fixes, and a sandbox is only as safe as its V8.
 */
export const TESTED_V8: Readonly<Record<string, string>> = Object.freeze({
  "13.6": "13.6.233.17",
  "14.6": "14.6.202.34",
});


/** Compares dotted version strings numerically (13.6.233.10 < 13.6.233.17); ignores "-node.N" suffixes. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.split("-")[0].split(".").map(Number);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

export function checkV8(v8: string): Check {
  const line = v8.split(".").slice(0, 2).join(".");
  const tested = TESTED_V8[line];
  if (tested === undefined) {
    const lines = Object.keys(TESTED_V8).join(", ");
    return { name: "V8", status: "warn", detail: `${v8}: islet was not tested on V8 ${line} (tested lines: ${lines})` };
  }
  if (compareVersions(v8, tested) < 0) {
    return { name: "V8", status: "warn", detail: `${v8} is older than ${tested}, the newest ${line} release islet was tested on: update Node to its newest patch release` };
  }
  return { name: "V8", status: "ok", detail: v8 };
}

export function checkNode(version: string): Check {
  const major = Number(version.replace(/^v/, "").split(".")[0]);
  if (major < MIN_NODE_MAJOR) return { name: "Node.js", status: "fail", detail: `${version}: islet needs Node ${MIN_NODE_MAJOR} or newer (24 or 26)` };
  return { name: "Node.js", status: "ok", detail: version };
}

function checkPermissionModel(): Check {
  const flags = process.allowedNodeEnvironmentFlags;
  if (!flags.has("--permission")) return { name: "permission model", status: "warn", detail: `Node ${process.version} has no --permission: isolation: "process" children run without it` };
  if (!flags.has("--allow-addons")) return { name: "permission model", status: "warn", detail: `Node ${process.version} has no --allow-addons: isolation: "process" children run without the permission model` };
  return { name: "permission model", status: "ok", detail: `isolation: "process" children run under --permission` };
}

async function checkSqlite(): Promise<Check> {
  try {
    const { DatabaseSync } = (await import("node:sqlite")) as typeof import("node:sqlite");
    const db = new DatabaseSync(":memory:");
    db.exec("CREATE TABLE t (v INTEGER)");
    db.prepare("INSERT INTO t VALUES (?)").run(41);
    const row = db.prepare("SELECT v + 1 AS v FROM t").get() as { v: number };
    const version = (db.prepare("SELECT sqlite_version() AS v").get() as { v: string }).v;
    db.close();
    if (row.v !== 42) throw new Error(`a query answered ${row.v}`);
    return { name: "node:sqlite", status: "ok", detail: `SQLite ${version}` };
  } catch (error) {
    return { name: "node:sqlite", status: "warn", detail: `does not load: ${(error as Error).message.split("\n")[0]}` };
  }
}

async function checkSandbox(): Promise<Check> {
  try {
    const { WorkerLoader } = await import("../index.ts");
    const loader = new WorkerLoader();
    try {
      const started = performance.now();
      const worker = loader.load({
        compatibilityDate: "2026-01-01",
        mainModule: "main.js",
        modules: { "main.js": `import { WorkerEntrypoint } from "cloudflare:workers";\nexport default class extends WorkerEntrypoint { add(a, b) { return a + b; } }` },
      });
      const sum = await (worker.getEntrypoint() as unknown as { add(a: number, b: number): Promise<number> }).add(40, 2);
      if (sum !== 42) throw new Error(`the worker answered ${sum}`);
      return { name: "sandbox", status: "ok", detail: `a WorkerEntrypoint answered in ${(performance.now() - started).toFixed(1)} ms (first run, cold)` };
    } finally {
      await loader.close();
    }
  } catch (error) {
    return { name: "sandbox", status: "fail", detail: (error as Error).message.split("\n")[0] };
  }
}

export async function runDoctor(): Promise<Check[]> {
  const checks = [checkNode(process.version), checkV8(process.versions.v8), ...checkAddon(), checkPermissionModel(), await checkSqlite()];
  if (!checks.some((check) => check.status === "fail")) checks.push(await checkSandbox());
  return checks;
}

export async function doctorCommand(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } } }));
  } catch (error) {
    throw new CliError(`${(error as Error).message}\n\n${doctorUsage}`);
  }
  if (values.help) return void console.log(doctorUsage);
  const checks = await runDoctor();
  if (values.json) console.log(JSON.stringify({ platform: `${process.platform}-${process.arch}`, checks }, null, 2));
  else {
    const mark: Record<CheckStatus, string> = { ok: "ok  ", warn: "WARN", fail: "FAIL" };
    console.log(`islet doctor (${process.platform}-${process.arch})`);
    for (const check of checks) console.log(`  ${mark[check.status]} ${check.name.padEnd(17)} ${check.detail}`);
  }
  if (checks.some((check) => check.status === "fail")) process.exitCode = 1;
}
