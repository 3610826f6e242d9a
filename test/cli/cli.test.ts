import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
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
  assert.match((await islet("run")).stderr, /run needs a file: islet run <file>, or the module on stdin: islet run -/);
  assert.match((await islet("frobnicate")).stderr, /unknown command "frobnicate"/);
  assert.match((await islet("run", "examples/hello/worker.ts", "--metod", "x")).stderr, /Unknown option '--metod'\. See: islet run --help/);
  const bare = await islet();
  assert.equal(bare.code, 2, "islet without a command is a usage error");
  assert.match(bare.stderr, /Usage:\n  islet run <file>/);
  assert.equal(bare.stdout, "");
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

/** Runs islet with `input` on stdin: through a real shell pipe (a FIFO), or as a pipe the test writes to. */
function isletWithStdin(input: string, args: string[], how: "shell-pipe" | "dash"): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child =
    how === "shell-pipe"
      ? spawn("sh", ["-c", `printf '%s' "$MODULE" | "$NODE" --import tsx "$CLI" "$@"`, "sh", ...args], { cwd: root, env: { ...process.env, MODULE: input, NODE: process.execPath, CLI: cli } })
      : spawn(process.execPath, ["--import", "tsx", cli, ...args], { cwd: root });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  if (how === "dash") child.stdin.end(input);
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

test("islet run reads the module from stdin: with - and when stdin is a pipe (TypeScript allowed)", async () => {
  const module = `export default { run(name: string): string { return "hi " + name; } };`;
  const dashed = await isletWithStdin(module, ["run", "-", "--args", '["dash"]', "--json"], "dash");
  assert.equal(dashed.code, 0, dashed.stderr);
  assert.equal(JSON.parse(dashed.stdout).result, "hi dash");
  const piped = await isletWithStdin(module, ["run", "--args", '["pipe"]'], "shell-pipe");
  assert.equal(piped.code, 0, piped.stderr);
  assert.match(piped.stdout, /result: 'hi pipe'/);
});

test("islet run --fetch with -X, -d and -H; --allow-host lets fetch() out and lists each fetch", async () => {
  const dir = mkdtempSync(join(tmpdir(), "islet-cli-"));
  writeFileSync(
    join(dir, "echo.js"),
    `export default { async fetch(request) { return Response.json({ method: request.method, body: await request.text(), header: request.headers.get("x-test") }); } };`,
  );
  const put = await islet("run", join(dir, "echo.js"), "--fetch", "https://example.com/", "-X", "PUT", "-d", "payload", "-H", "x-test: yes", "--json");
  assert.equal(put.code, 0, put.stderr);
  assert.deepEqual(JSON.parse(JSON.parse(put.stdout).body), { method: "PUT", body: "payload", header: "yes" });
  const post = await islet("run", join(dir, "echo.js"), "--fetch", "https://example.com/", "--data", "x", "--json");
  assert.equal(JSON.parse(JSON.parse(post.stdout).body).method, "POST", "--data alone means POST, as in curl");
  assert.match((await islet("run", join(dir, "echo.js"), "--data", "x")).stderr, /--data and --header go with --fetch/);

  const upstream = createServer((_req, res) => res.end("upstream says hi"));
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const host = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  try {
    writeFileSync(join(dir, "out.js"), `export default { async run(url) { try { return await (await fetch(url)).text(); } catch (e) { return e.message; } } };`);
    const allowed = await islet("run", join(dir, "out.js"), "--allow-host", host, "--args", JSON.stringify([`http://${host}/`]), "--json");
    const out = JSON.parse(allowed.stdout);
    assert.equal(out.result, "upstream says hi");
    assert.deepEqual([out.fetches[0].url, out.fetches[0].decision, out.fetches[0].status], [`http://${host}/`, "allowed", 200]);
    const denied = await islet("run", join(dir, "out.js"), "--allow-host", host, "--args", '["http://other.example/"]');
    assert.match(denied.stdout, /result: "The host other\.example is not on this worker's allow-list\."/);
    assert.match(denied.stdout, /fetches:\n  GET http:\/\/other\.example\/ denied by allowHosts/);
  } finally {
    upstream.close();
  }
});

test("islet run --wall-ms and --memory-mb set the limits; bad values are named", async () => {
  const dir = mkdtempSync(join(tmpdir(), "islet-cli-"));
  writeFileSync(join(dir, "limits.js"), `export default { async slow() { await scheduler.wait(5000); return "late"; }, hog() { const a = []; for (;;) a.push(new Array(1e5).fill(1)); } };`);
  const slow = await islet("run", join(dir, "limits.js"), "--method", "slow", "--wall-ms", "200", "--json");
  assert.equal(slow.code, 1);
  assert.equal(JSON.parse(slow.stdout).outcome, "exceededWall");
  const hog = await islet("run", join(dir, "limits.js"), "--method", "hog", "--memory-mb", "16", "--json");
  assert.equal(hog.code, 1);
  assert.equal(JSON.parse(hog.stdout).outcome, "exceededMemory");
  assert.match((await islet("run", join(dir, "limits.js"), "--wall-ms", "soon")).stderr, /--wall-ms must be a positive number, got "soon"/);
  assert.match((await islet("run", join(dir, "limits.js"), "--memory-mb", "4")).stderr, /--memory-mb must be at least 8/);
  // The rule every entry point uses (src/protocol/limits.ts), every problem at once.
  assert.match(
    (await islet("run", join(dir, "limits.js"), "--cpu-ms", "0", "--wall-ms", "3000000000")).stderr,
    /--cpu-ms must be a positive number of milliseconds, got 0; --wall-ms must be at most 2147483647 \(about 24\.8 days\), got 3000000000/,
  );
});

test("serve, dev and mcp --http have distinct default ports: 8787, 8788, 8789", async () => {
  assert.match((await islet("serve", "--help")).stdout, /default 8787/);
  assert.match((await islet("dev", "--help")).stdout, /default 8788/);
  assert.match((await islet("mcp", "--help")).stdout, /default 8789/);
});

test("islet run shows an error's stack in the user's own files and lines (mapped through the bundle), without islet's or the host's frames", async () => {
  const dir = mkdtempSync(join(tmpdir(), "islet-cli-"));
  writeFileSync(join(dir, "helper.ts"), `export function check(value: number): number {\n  if (value > 1) {\n    throw new RangeError("too big: " + value);\n  }\n  return value;\n}\n`);
  writeFileSync(join(dir, "thrower.ts"), `import { check } from "./helper.ts";\n\nexport default {\n  run(): number {\n    return check(2);\n  },\n  parse(): unknown {\n    return JSON.parse("{");\n  },\n};\n`);
  const failed = await islet("run", join(dir, "thrower.ts"));
  assert.equal(failed.code, 1);
  assert.match(failed.stdout, /error: RangeError: too big: 2\n\s+at check \(\S*helper\.ts:3:11\)\n\s+at Object\.run \(\S*thrower\.ts:5:12\)/);
  const parsed = await islet("run", join(dir, "thrower.ts"), "--method", "parse");
  assert.equal(parsed.code, 1);
  assert.match(parsed.stdout, /SyntaxError/);
  for (const output of [failed.stdout, parsed.stdout]) {
    assert.doesNotMatch(output, /islet:runtime|\/dist\/|node:internal|file:\/\//, output);
  }
});

test("islet run shows a worker's control characters as \\x escapes: its logs and errors cannot rewrite the terminal (findings19/02)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "islet-cli-"));
  writeFileSync(join(dir, "esc.js"), `export default { run() { console.log("log\\u001b[2K\\u001b]0;title\\u0007"); throw new Error("bad\\u001b[1A\\u001b[2Kresult: 42"); } };`);
  const out = await islet("run", join(dir, "esc.js"));
  assert.equal(out.code, 1);
  assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(out.stdout), JSON.stringify(out.stdout));
  assert.match(out.stdout, /\[log\] log\\x1b\[2K\\x1b\]0;title\\x07/);
  assert.match(out.stdout, /error: Error: bad\\x1b\[1A\\x1b\[2Kresult: 42/);
});
