// `islet mcp` end to end: the CLI is started as a real process with a config of real upstream MCP
// servers from npm (memory, filesystem, everything) and an OpenAPI document served on loopback; the
// MCP SDK's client talks to it over stdio.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ElicitRequestSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { encode } from "gpt-tokenizer/encoding/o200k_base";
import { everythingServer, filesystemServer, memoryServer, repoRoot, tempDir } from "./mcp-upstreams.ts";

const dir = tempDir("mcp-server");
const secret = "sk-islet-test-7d1f0c2b9e";
const apiToken = "api-token-3a9c5e7d1b";
const files = join(dir.path, "files");
mkdirSync(join(files, "docs"), { recursive: true });
writeFileSync(join(files, "docs", "plan.md"), "# Plan\nTODO: ship it\n");
writeFileSync(join(files, "docs", "notes.md"), "nothing to do\n");
writeFileSync(join(files, "readme.txt"), "TODO: write a readme\n");

// A small API on loopback: it echoes the request headers, so a leaked credential would show.
const api = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://x");
  res.setHeader("content-type", "application/json");
  if (url.pathname === "/whoami") res.end(JSON.stringify({ headers: req.headers }));
  else if (url.pathname.startsWith("/items/")) res.end(JSON.stringify({ id: Number(url.pathname.slice(7)), name: `item ${url.pathname.slice(7)}` }));
  else res.writeHead(404).end(JSON.stringify({ message: "no such route" }));
});
await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
const apiUrl = `http://127.0.0.1:${(api.address() as { port: number }).port}`;
writeFileSync(
  join(dir.path, "api.json"),
  JSON.stringify({
    openapi: "3.1.0",
    info: { title: "Test API", version: "1" },
    paths: {
      "/whoami": { get: { operationId: "whoami", summary: "Shows the request as the server saw it", responses: { "200": { description: "ok" } } } },
      "/items/{id}": {
        get: {
          operationId: "getItem",
          summary: "Gets one item",
          parameters: [{ name: "id", in: "path", required: true, schema: { type: "integer" } }],
          responses: { "200": { description: "ok", content: { "application/json": { schema: { $ref: "#/components/schemas/Item" } } } } },
        },
      },
    },
    components: { schemas: { Item: { type: "object", properties: { id: { type: "integer" }, name: { type: "string" } }, required: ["id", "name"] } } },
  }),
);

const memory = memoryServer(join(dir.path, "memory.jsonl"));
const config = {
  servers: {
    memory: { ...memory, needsApproval: ["delete_entities"] },
    files: filesystemServer(files),
    everything: everythingServer({ UPSTREAM_SECRET: "${ISLET_TEST_SECRET}" }),
  },
  openapi: { api: { spec: "api.json", baseUrl: apiUrl, auth: { header: "Authorization", value: "Bearer ${ISLET_TEST_API_TOKEN}" } } },
  limits: { cpuMs: 2000, wallMs: 10000 },
};
writeFileSync(join(dir.path, "islet-mcp.json"), JSON.stringify(config));

let approve = true;
const asked: string[] = [];
const transport = new StdioClientTransport({
  command: process.execPath,
  args: ["--import", "tsx", join(repoRoot, "src/cli/mcp.ts"), "--config", join(dir.path, "islet-mcp.json")],
  env: { PATH: process.env.PATH!, ISLET_TEST_SECRET: secret, ISLET_TEST_API_TOKEN: apiToken },
  cwd: repoRoot,
  stderr: "pipe",
});
let stderr = "";
transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
const client = new Client({ name: "test", version: "1" }, { capabilities: { elicitation: {} } });
client.setRequestHandler(ElicitRequestSchema, async (request) => {
  asked.push(request.params.message);
  return approve ? { action: "accept", content: { approve: true } } : { action: "decline" };
});
await client.connect(transport);

test.after(async () => {
  await client.close();
  api.close();
  dir.remove();
});

async function call(name: "search" | "execute", code: string): Promise<{ text: string; isError: boolean }> {
  const result = (await client.callTool({ name, arguments: { code } })) as CallToolResult;
  const text = result.content.map((block) => (block.type === "text" ? block.text : "")).join("");
  return { text, isError: result.isError === true };
}

test("tools/list has exactly search and execute, under 1,000 o200k tokens, naming the namespaces", async () => {
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((tool) => tool.name), ["search", "execute"]);
  const tokens = encode(JSON.stringify(tools)).length;
  assert.ok(tokens < 1000, `two-tool surface is ${tokens} tokens`);
  const execute = tools[1].description ?? "";
  for (const line of ["- memory (9 functions)", "- files (", "- everything (", "- api (3 functions): Test API"]) assert.ok(execute.includes(line), `missing ${line} in:\n${execute}`);
  assert.deepEqual(tools[0].inputSchema.required, ["code"]);
});

test("search runs code against the catalog and returns TypeScript declarations", async () => {
  const paths = await call("search", "async () => tools.filter(t => t.namespace === 'memory').map(t => t.path)");
  assert.equal(paths.isError, false);
  assert.ok(JSON.parse(paths.text).includes("memory.create_relations"));
  const declaration = await call("search", "async () => tools.find(t => t.path === 'api.getItem').declaration");
  assert.match(declaration.text, /declare namespace api \{\n +interface Item \{/);
  assert.match(declaration.text, /getItem\(input: \{ id: number \}\): Promise<api\.Item>;/);
  const dashed = await call("search", "async () => tools.filter(t => t.originalName.includes('-')).map(t => [t.originalName, t.path]).slice(0, 2)");
  assert.deepEqual(JSON.parse(dashed.text), [["get-annotated-message", "everything.get_annotated_message"], ["get-env", "everything.get_env"]]);
  const failed = await call("search", "async () => tools.map(t => t.nope.length)");
  assert.equal(failed.isError, true);
  assert.match(failed.text, /^Error: TypeError: Cannot read properties of undefined/);
  const network = await call("search", "async () => fetch('https://example.com/')");
  assert.match(network.text, /^Error: TypeError: .*fetch/i);
});

test("execute runs a multi-step program over several upstreams and returns only its result", async () => {
  const { text, isError } = await call(
    "execute",
    `async () => {
      console.log("starting");
      await memory.create_entities({ entities: [
        { name: "Ada", entityType: "person", observations: ["mathematician"] },
        { name: "Analytical Engine", entityType: "machine", observations: ["never built"] },
      ] });
      await memory.create_relations({ relations: [{ from: "Ada", to: "Analytical Engine", relationType: "programmed" }] });
      const graph = await memory.open_nodes({ names: ["Ada"] });
      const sum = await everything.get_sum({ a: 40, b: 2 });          // text result
      const weather = await everything.get_structured_content({ location: "Chicago" }); // structured result
      const found = await files.search_files({ path: ${JSON.stringify(files)}, pattern: "**/*.md" });
      const item = await api.getItem({ id: 7 });
      return { person: graph.entities[0].name, sum, humidity: weather.humidity, md: found.content.split("\\n").length, item };
    }`,
  );
  assert.equal(isError, false, text);
  const [json, logs] = text.split("\n\nLogs:\n");
  assert.deepEqual(JSON.parse(json), { person: "Ada", sum: "The sum of 40 and 2 is 42.", humidity: 82, md: 2, item: { id: 7, name: "item 7" } });
  assert.equal(logs, "starting");
});

test("tool errors are thrown inside the code with the upstream's message; uncaught ones are isError results", async () => {
  const caught = await call(
    "execute",
    `async () => {
      const out = [];
      try { await files.read_text_file({ path: "/etc/hostname" }); } catch (e) { out.push(e.name, e.message); }
      try { await everything.get_sum({ a: "one" }); } catch (e) { out.push(e.name); }
      try { await api.getItem({ id: "x" }); } catch (e) { out.push(e.name); }
      return out;
    }`,
  );
  const [name, message, sumError] = JSON.parse(caught.text);
  assert.equal(name, "McpToolError");
  assert.match(message, /^files\.read_text_file: .*(denied|outside)/i);
  assert.equal(sumError, "ToolInputError", "a call that does not fit the tool's schema is refused before it leaves");
  const uncaught = await call("execute", "async () => { await api.request({ method: 'GET', path: '/nowhere' }); return await everything.get_sum({}); }");
  assert.equal(uncaught.isError, true);
  assert.match(uncaught.text, /^Error: ToolInputError: Invalid input for everything\.get_sum:\n- a: required \(number\)/);
  const syntax = await call("execute", "async () => { return ; ; )");
  assert.equal(syntax.isError, true);
  assert.match(syntax.text, /^Error: SyntaxError: /);
});

test("secrets from the environment reach upstreams but never the sandbox's results or islet's logs", async () => {
  const { text } = await call(
    "execute",
    `async () => {
      const env = await everything.get_env({});
      const who = await api.whoami();
      return { upstream: env.UPSTREAM_SECRET, keys: Object.keys(env).sort(), auth: who.headers.authorization,
               sandbox: typeof process, globals: Object.keys(globalThis).filter(k => /secret|token/i.test(k)) };
    }`,
  );
  assert.ok(!text.includes(secret) && !text.includes(apiToken), text);
  const seen = JSON.parse(text);
  assert.equal(seen.upstream, "[redacted]", "the upstream got the secret, and the value it echoed was scrubbed");
  assert.deepEqual(seen.keys, ["PATH", "UPSTREAM_SECRET"], "the upstream got PATH and its configured env only");
  assert.equal(seen.auth, "Bearer [redacted]", "the API received the Authorization header, which was scrubbed on the way back");
  assert.equal(seen.sandbox, "undefined");
  assert.deepEqual(seen.globals, []);
  const search = await call("search", `async () => JSON.stringify([namespaces, tools.map(t => t.declaration)])`);
  assert.ok(!search.text.includes(secret) && !search.text.includes(apiToken));
  assert.match(stderr, /search: ok in \d+ ms/);
  assert.ok(!stderr.includes(secret) && !stderr.includes(apiToken), stderr);
});

test("a tool marked needsApproval asks the client through elicitation; a decline throws ApprovalRejectedError", async () => {
  await call("execute", `async () => memory.create_entities({ entities: [{ name: "Temp", entityType: "note", observations: [] }] })`);
  approve = false;
  const declined = await call("execute", `async () => { try { await memory.delete_entities({ entityNames: ["Temp"] }); } catch (e) { return e.name + ": " + e.message; } }`);
  assert.match(declined.text, /^ApprovalRejectedError: .*memory\.delete_entities/);
  assert.match(asked.at(-1)!, /^Allow memory\.delete_entities\(\{"entityNames":\["Temp"\]\}\)\?$/);
  approve = true;
  const approved = await call("execute", `async () => { await memory.delete_entities({ entityNames: ["Temp"] }); return (await memory.open_nodes({ names: ["Temp"] })).entities.length; }`);
  assert.equal(approved.text, "0");
  assert.equal(asked.length, 2);
});

test("a bad call to islet's own tools is an isError result, not a protocol failure", async () => {
  const empty = (await client.callTool({ name: "execute", arguments: { code: "" } })) as CallToolResult;
  assert.equal(empty.isError, true);
  const unknown = (await client.callTool({ name: "memory.read_graph", arguments: {} })) as CallToolResult;
  assert.equal(unknown.isError, true);
  assert.match((unknown.content[0] as { text: string }).text, /unknown tool "memory\.read_graph": use search or execute/);
});
