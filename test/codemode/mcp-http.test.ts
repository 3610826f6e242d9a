// `islet mcp` over streamable HTTP: the CLI on a loopback port, and the handlers src/server mounts.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { request as httpRequest } from "node:http";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { fromFunctions } from "islet/codemode";
import { createMcpHttpHandler, IsletMcp } from "../../src/codemode/mcp-server.ts";
import { mcpCommand } from "../../src/cli/mcp.ts";
import { memoryServer, repoRoot, tempDir } from "./mcp-upstreams.ts";

const dir = tempDir("mcp-http");
test.after(() => dir.remove());

function text(result: unknown): string {
  return (result as CallToolResult).content.map((block) => (block.type === "text" ? block.text : "")).join("");
}

function rawGet(port: number, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, method: "POST", headers: { host, "content-type": "application/json", accept: "application/json, text/event-stream" } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }));
  });
}

test("islet mcp --http serves search and execute on loopback, refuses foreign Host headers, stops on SIGTERM", async () => {
  const configFile = join(dir.path, "config.json");
  writeFileSync(configFile, JSON.stringify({ servers: { memory: memoryServer(join(dir.path, "memory.jsonl")) } }));
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "src/cli/mcp.ts"), "--config", configFile, "--http", "--port", "0"], {
    cwd: repoRoot,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /listening on http:\/\/127\.0\.0\.1:(\d+)\/mcp/.exec(stderr);
        if (match) resolve(Number(match[1]));
      });
      child.on("exit", () => reject(new Error(`islet mcp exited: ${stderr}`)));
    });
    const client = new Client({ name: "test", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((tool) => tool.name), ["search", "execute"]);
    assert.deepEqual(JSON.parse(text(await client.callTool({ name: "search", arguments: { code: "async () => tools.length" } }))), 9);
    const created = await client.callTool({
      name: "execute",
      arguments: { code: `async () => { await memory.create_entities({ entities: [{ name: "Grace", entityType: "person", observations: ["COBOL"] }] }); return (await memory.search_nodes({ query: "COBOL" })).entities.map(e => e.name); }` },
    });
    assert.deepEqual(JSON.parse(text(created)), ["Grace"]);
    await client.close();

    assert.equal(await rawGet(port, "/mcp", "evil.example"), 403, "DNS rebinding: a loopback server answers loopback names only");
    assert.equal(await rawGet(port, "/mcp", `localhost:${port}`), 200);
    assert.equal(await rawGet(port, "/other", `127.0.0.1:${port}`), 404);
  } finally {
    child.kill("SIGTERM");
  }
  assert.equal(await exited, 0, stderr);
});

test("islet mcp reports usage and config errors with a non-zero exit code", async () => {
  // In process: mcpCommand reports through its io functions and sets process.exitCode.
  const run = async (args: string[]) => {
    let out = "";
    const capture = (text: string) => void (out += text);
    await mcpCommand(args, { out: capture, err: capture });
    const code = process.exitCode ?? 0;
    process.exitCode = undefined;
    return { code, out };
  };
  const bad = join(dir.path, "bad.json");
  writeFileSync(bad, JSON.stringify({ servers: { memory: { command: "x", env: { K: "${ISLET_SURELY_UNSET_VAR}" } } } }));
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.out, /islet mcp --config <file>/);
  const missing = await run([]);
  assert.equal(missing.code, 2);
  assert.match(missing.out, /--config <file> is required/);
  const port = await run(["--config", bad, "--port", "80"]);
  assert.equal(port.code, 2);
  assert.match(port.out, /--port and --host need --http/);
  const invalid = await run(["--config", bad]);
  assert.equal(invalid.code, 1);
  assert.match(invalid.out, /invalid config .*bad\.json: servers\.memory\.env\.K: environment variable ISLET_SURELY_UNSET_VAR is not set/);
  const unstartable = join(dir.path, "unstartable.json");
  writeFileSync(unstartable, JSON.stringify({ servers: { ghost: { command: join(dir.path, "no-such-server") } } }));
  const failed = await run(["--config", unstartable]);
  assert.equal(failed.code, 1);
  assert.match(failed.out, /MCP server "ghost": spawn .*ENOENT/);
  // A server that prints its credential while failing to start: the error islet logs is scrubbed.
  process.env.ISLET_TEST_CHILD_SECRET = "child-secret-5e8a1f3c";
  const leaky = join(dir.path, "leaky.json");
  const script = "console.error('bad token ' + process.env.TOKEN); process.exit(1)";
  writeFileSync(leaky, JSON.stringify({ servers: { leaky: { command: process.execPath, args: ["-e", script], env: { TOKEN: "${ISLET_TEST_CHILD_SECRET}" } } } }));
  const leaked = await run(["--config", leaky]);
  delete process.env.ISLET_TEST_CHILD_SECRET;
  assert.equal(leaked.code, 1);
  assert.match(leaked.out, /MCP server "leaky": .*bad token \[redacted\]/);
  assert.ok(!leaked.out.includes("child-secret-5e8a1f3c"));
});

test("createMcpHttpHandler is a web Request → Response handler (as Hono mounts it), stateless, with optional Host checks", async () => {
  const mcp = await IsletMcp.create({
    providers: [fromFunctions("math", { add: { description: "Adds", inputSchema: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } }, required: ["a", "b"] }, execute: ({ a, b }: { a: number; b: number }) => a + b } })],
  });
  try {
    const handler = createMcpHttpHandler(mcp, { allowedHosts: ["islet.test"] });
    const client = new Client({ name: "test", version: "1" });
    // The SDK client's fetch goes straight to the handler: no socket involved.
    await client.connect(new StreamableHTTPClientTransport(new URL("http://islet.test/mcp"), { fetch: (url, init) => handler(new Request(url, init)) }));
    assert.equal((await client.listTools()).tools.length, 2);
    assert.equal(text(await client.callTool({ name: "execute", arguments: { code: "async () => math.add({ a: 2, b: 3 })" } })), "5");
    await client.close();
    const refused = await handler(
      new Request("http://elsewhere.test/mcp", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      }),
    );
    assert.equal(refused.status, 403);
  } finally {
    await mcp.close();
  }
});

test("a search whose signal aborts ends its sandbox at once: its CPU stops and it answers an AbortError", async () => {
  const mcp = await IsletMcp.create({
    providers: [fromFunctions("math", { add: { description: "Adds", execute: () => 0 } })],
    limits: { cpuMs: 8_000, wallMs: 8_000 },
  });
  try {
    const controller = new AbortController();
    const cpu = process.cpuUsage();
    const started = performance.now();
    setTimeout(() => controller.abort(), 300);
    const outcome = await mcp.search("async () => { for (;;) {} }", { signal: controller.signal });
    const tookMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const cpuMs = (used.user + used.system) / 1000;
    assert.equal(outcome.error, "AbortError: the search was cancelled");
    // Before, the loop ran on into its cpuMs (8 s) with no one waiting for it.
    assert.ok(tookMs < 3_000, `the search answered after ${tookMs.toFixed(0)} ms`);
    assert.ok(cpuMs < 3_000, `the search took ${cpuMs.toFixed(0)} ms of CPU`);
    // A signal aborted before the search starts: nothing runs.
    assert.equal((await mcp.search("async () => 1", { signal: AbortSignal.abort() })).error, "AbortError: the search was cancelled");
    assert.equal((await mcp.search("async () => tools.length")).result, 1);
  } finally {
    await mcp.close();
  }
});

// attack (budgets helper): one POST may be a JSON-RPC batch of up to 100 messages, and islet
// serve gives a request one admission slot; the batch's tool calls ran all at once (8 searches
// sleeping 2 s each answered in 2.3 s), so one slot ran up to 100 sandboxes.
test("over HTTP a batch's tool calls run one after another, so one request runs one sandbox at a time", async () => {
  let running = 0;
  let most = 0;
  const mcp = await IsletMcp.create({
    providers: [
      fromFunctions("clock", {
        nap: {
          description: "Waits a little",
          execute: async () => {
            most = Math.max(most, ++running);
            await new Promise((resolve) => setTimeout(resolve, 150));
            running--;
            return "rested";
          },
        },
      }),
    ],
  });
  try {
    const handler = createMcpHttpHandler(mcp);
    const batch = Array.from({ length: 4 }, (_, i) => ({ jsonrpc: "2.0", id: i + 1, method: "tools/call", params: { name: "execute", arguments: { code: "async () => clock.nap({})" } } }));
    const response = await handler(
      new Request("http://127.0.0.1/mcp", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-03-26" },
        body: JSON.stringify(batch),
      }),
    );
    const body = await response.text();
    const answers = body.match(/"text":"\\"rested\\""|"text":"rested"/g) ?? [];
    assert.equal(answers.length, 4, body.slice(0, 2000));
    assert.equal(most, 1, "the batch's calls overlapped");
  } finally {
    await mcp.close();
  }
});
