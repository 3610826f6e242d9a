import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);
// The source through tsx, so the tests follow src/ without a build.
const root = join(import.meta.dirname, "../..");
const cli = join(root, "src/cli/main.ts");

async function islet(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ["--import", "tsx", cli, ...args], { timeout: 30_000, cwd: root });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test("islet run calls an RPC method and prints result, logs and timings", async () => {
  const { code, stdout } = await islet("run", "examples/hello/worker.ts", "--method", "greet", "--args", '["Ada"]');
  assert.equal(code, 0);
  assert.match(stdout, /\[log\] greeting Ada/);
  assert.match(stdout, /result: 'Hello, Ada! Your slug is ada\.'/);
  assert.match(stdout, /timing: [\d.]+ ms total/);
});

test("islet run --fetch calls the fetch handler; --json prints one object", async () => {
  const { code, stdout } = await islet("run", "examples/hello/worker.ts", "--fetch", "https://example.com/A/B", "--json", "--env", '{"GREETING":"Hi"}');
  assert.equal(code, 0);
  const out = JSON.parse(stdout);
  assert.equal(out.status, 200);
  assert.deepEqual(JSON.parse(out.body), { method: "GET", path: "/A/B", slug: "a-b" });
  assert.equal(out.outcome, "ok");
});

test("islet run reports a failing worker with its error and exit code 1", async () => {
  const dir = mkdtempSync(join(tmpdir(), "islet-cli-"));
  writeFileSync(join(dir, "bad.js"), `export default { run() { throw new RangeError("out of range"); }, spin() { while (true) {} } };`);
  const failed = await islet("run", join(dir, "bad.js"));
  assert.equal(failed.code, 1);
  assert.match(failed.stdout, /error: RangeError: out of range/);
  const spun = await islet("run", join(dir, "bad.js"), "--method", "spin", "--cpu-ms", "50");
  assert.equal(spun.code, 1);
  assert.match(spun.stdout, /CpuLimitError/);
});

test("islet run: a fetch without --allow-host says how to allow a host", async () => {
  const dir = mkdtempSync(join(tmpdir(), "islet-cli-"));
  writeFileSync(join(dir, "fetcher.js"), `export default { async run() { await fetch("https://api.example.com/"); } };`);
  const { code, stdout } = await islet("run", join(dir, "fetcher.js"));
  assert.equal(code, 1);
  assert.match(stdout, /It must use capabilities \(such as bindings in env\) to talk to the outside world\. To allow hosts in islet: .*--allow-host api\.example\.com/);
});

test("islet gives actionable errors for bad input", async () => {
  assert.match((await islet("run", "does-not-exist.ts")).stderr, /cannot read .*does-not-exist\.ts: no such file/);
  assert.match((await islet("run", "examples/hello/worker.ts", "--args", "{bad")).stderr, /--args is not valid JSON/);
  assert.match((await islet("run", "examples/hello/worker.ts", "--args", "{}")).stderr, /--args must be a JSON array/);
  assert.match((await islet("run")).stderr, /run needs a file/);
  assert.match((await islet("frobnicate")).stderr, /unknown command "frobnicate"/);
  assert.match((await islet("run", "examples/hello/worker.ts", "--metod", "x")).stderr, /Unknown option '--metod'\. See: islet run --help/);
  const help = await islet("--help");
  assert.equal(help.code, 0);
  for (const command of ["run <file>", "dev <file>", "serve", "mcp --config"]) assert.ok(help.stdout.includes(`islet ${command}`), command);
});

test("every command has --help", async () => {
  for (const [command, text] of [["run", /islet run <file> \[options\]/], ["dev", /islet dev <file> \[options\]/], ["serve", /islet serve \[options\]/], ["mcp", /islet mcp --config <file>/]] as const) {
    const help = await islet(command, "--help");
    assert.equal(help.code, 0, command);
    assert.match(help.stdout, text);
  }
});
