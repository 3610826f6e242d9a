// fromMcpServer against real MCP servers from npm (stdio) and an SDK server over streamable HTTP.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import { join } from "node:path";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";
import { WorkerLoader } from "islet";
import { buildCatalog, fromMcpServer, generateApi, McpConnectionError, McpToolError, type ToolProvider } from "islet/codemode";
import { runSearch, searchCatalog } from "../../src/codemode/search.ts";
// toValue is internal: the mapping of MCP results to values, tested directly.
import { toValue, UNTYPED_RESULT_NOTE } from "../../src/codemode/mcp-source.ts";
import { everythingServer, filesystemServer, memoryServer, tempDir } from "./mcp-upstreams.ts";

const dir = tempDir("mcp-source");
const hostSecret = "host-only-secret-9f2c1a";
process.env.ISLET_TEST_HOST_SECRET = hostSecret;
writeFileSync(join(dir.path, "notes.txt"), "alpha\nbeta\n");

const memory = fromMcpServer({ namespace: "memory", stdio: memoryServer(join(dir.path, "memory.jsonl")) });
const everything = fromMcpServer({ namespace: "everything", stdio: everythingServer({ PASSED_IN: "visible" }) });
const filesystem = fromMcpServer({ namespace: "files", stdio: filesystemServer(dir.path) });

test.after(async () => {
  for (const provider of await Promise.allSettled([memory, everything, filesystem])) {
    if (provider.status === "fulfilled") await provider.value.close?.();
  }
  dir.remove();
});

test("every tool of the server is listed with its schemas and the server's description", async () => {
  const provider = await memory;
  assert.equal(provider.namespace, "memory");
  assert.match(provider.description ?? "", /^MCP server /);
  const names = provider.tools.map((tool) => tool.name);
  assert.deepEqual(names.slice().sort(), ["add_observations", "create_entities", "create_relations", "delete_entities", "delete_observations", "delete_relations", "open_nodes", "read_graph", "search_nodes"]);
  const create = provider.tools.find((tool) => tool.name === "create_entities")!;
  assert.match(create.description ?? "", /entities/i);
  assert.equal((create.inputSchema as { type: string }).type, "object");
  assert.ok((create.inputSchema as { properties: Record<string, unknown> }).properties.entities);
  assert.ok(create.outputSchema, "tools with an output schema keep it, so their return type can be generated");
  assert.equal(create.needsApproval, undefined);
});

test("structured content is the value, and calls change the server's state", async () => {
  const provider = await memory;
  const created = (await provider.call("create_entities", {
    entities: [{ name: "Ada", entityType: "person", observations: ["wrote the first program"] }],
  })) as { entities: { name: string }[] };
  assert.deepEqual(created.entities.map((entity) => entity.name), ["Ada"]);
  const graph = (await provider.call("read_graph", undefined)) as { entities: { name: string; observations: string[] }[] };
  assert.deepEqual(graph.entities[0].observations, ["wrote the first program"]);
});

test("a tool without an output schema says in its doc comment how its result arrives, once for several in the API", async () => {
  const provider = await everything;
  const sum = provider.tools.find((tool) => tool.name === "get-sum")!;
  assert.equal(sum.outputSchema, undefined);
  assert.ok(sum.description!.endsWith(UNTYPED_RESULT_NOTE), sum.description);
  const structured = provider.tools.find((tool) => tool.name === "get-structured-content")!;
  assert.ok(structured.outputSchema !== undefined && !structured.description?.includes(UNTYPED_RESULT_NOTE));
  const api = generateApi([provider]).text;
  assert.equal(api.split(UNTYPED_RESULT_NOTE).length - 1, 1, "said once, in the namespace's notes");
});

test("the server's instructions, resources and prompts are listed for search", async () => {
  const provider = await everything;
  assert.ok(provider.resources !== undefined && provider.resources.length > 0 && provider.resources.length <= 200);
  assert.match(provider.resources[0].uri, /^demo:\/\//);
  assert.ok(provider.prompts !== undefined && provider.prompts.some((prompt) => prompt.arguments?.some((argument) => argument.required === true)));
  const catalog = searchCatalog(buildCatalog([provider]));
  const loader = new WorkerLoader();
  try {
    const { result, error } = await runSearch(loader, catalog, "async () => { const ns = namespaces[0]; return [typeof ns.instructions, ns.resources.length, ns.prompts.map((p) => p.name)]; }");
    assert.equal(error, undefined);
    const [instructions, resources, prompts] = result as [string, number, string[]];
    assert.equal(instructions, provider.instructions === undefined ? "undefined" : "string");
    assert.equal(resources, provider.resources.length);
    assert.deepEqual(prompts, provider.prompts.map((prompt) => prompt.name));
  } finally {
    await loader.close();
  }
  // A source without them has none.
  assert.equal((await memory).prompts, undefined);
});

test("text content is a string, JSON text is parsed, images and resources are plain blocks", async () => {
  const provider = await everything;
  assert.equal(await provider.call("get-sum", { a: 2, b: 40 }), "The sum of 2 and 40 is 42.");
  assert.deepEqual(Object.keys((await provider.call("get-structured-content", { location: "New York" })) as object).sort(), ["conditions", "humidity", "temperature"]);
  const image = (await provider.call("get-tiny-image", {})) as { type: string; data?: string; mimeType?: string }[];
  assert.ok(Array.isArray(image));
  const png = image.find((block) => block.type === "image")!;
  assert.equal(png.mimeType, "image/png");
  assert.equal(Buffer.from(png.data!, "base64").subarray(1, 4).toString(), "PNG");
  const reference = (await provider.call("get-resource-reference", { resourceType: "Text", resourceId: 1 })) as { type: string; resource?: { uri: string } }[];
  assert.match(reference.find((block) => block.type === "resource")!.resource!.uri, /^demo:\/\//);
});

test("a stdio child gets PATH and the env it is given, none of the host's other variables", async () => {
  const env = (await (await everything).call("get-env", {})) as Record<string, string>;
  assert.equal(env.PASSED_IN, "visible");
  assert.equal(env.PATH, process.env.PATH);
  assert.equal(env.ISLET_TEST_HOST_SECRET, undefined);
  assert.ok(!JSON.stringify(env).includes(hostSecret));
  assert.deepEqual(Object.keys(env).sort(), ["PASSED_IN", "PATH"]);
});

test("tool errors and protocol errors throw McpToolError with the server's message", async () => {
  const provider = await everything;
  await assert.rejects(provider.call("get-sum", { a: "two" }), (error: McpToolError) => {
    assert.ok(error instanceof McpToolError);
    assert.equal(error.namespace, "everything");
    assert.equal(error.tool, "get-sum");
    assert.match(error.message, /^everything\.get-sum: .*expected number/s);
    return true;
  });
  await assert.rejects(provider.call("no-such-tool", {}), /everything\.no-such-tool: no such tool/);
  await assert.rejects(provider.call("get-sum", [1, 2]), /arguments must be an object, got an array/);
  const files = await filesystem;
  await assert.rejects(files.call("read_text_file", { path: "/etc/passwd" }), (error: McpToolError) => {
    assert.ok(error instanceof McpToolError);
    assert.match(error.message, /files\.read_text_file: .*(denied|outside)/i);
    return true;
  });
});

test("the filesystem server reads its folder; close() stops the child process", async () => {
  const files = await filesystem;
  const read = (await files.call("read_text_file", { path: join(dir.path, "notes.txt") })) as { content: string };
  assert.equal(read.content, "alpha\nbeta\n");
  const isRunning = () => execFileSync("ps", ["-eo", "args"], { encoding: "utf8" }).split("\n").some((line) => line.includes("server-filesystem") && line.includes(dir.path));
  assert.ok(isRunning());
  await files.close?.();
  for (let i = 0; i < 50 && isRunning(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(isRunning(), false);
  await assert.rejects(files.call("list_allowed_directories", {}), /files\.list_allowed_directories: the connection is closed/);
});

test("a server that cannot start is a McpConnectionError carrying its stderr", async () => {
  await assert.rejects(fromMcpServer({ namespace: "ghost", stdio: { command: join(dir.path, "no-such-binary") } }), (error: McpConnectionError) => {
    assert.ok(error instanceof McpConnectionError);
    assert.equal(error.namespace, "ghost");
    assert.match(error.message, /ENOENT/);
    return true;
  });
  await assert.rejects(
    fromMcpServer({ namespace: "crashy", stdio: { command: process.execPath, args: ["-e", "console.error('missing API key'); process.exit(3)"] } }),
    /MCP server "crashy": .*missing API key/,
  );
  await assert.rejects(fromMcpServer({ namespace: "both", stdio: { command: "x" }, url: "http://x" } as never), /exactly one of stdio or url/);
  await assert.rejects(fromMcpServer({ namespace: "bad", url: "not a url" }), /url is not a valid URL/);
});

test("streamable HTTP: headers reach the server, results and errors map as over stdio", async () => {
  const seen: IncomingHttpHeaders[] = [];
  const http = createServer(async (req, res) => {
    seen.push(req.headers);
    const server = new McpServer({ name: "http-upstream", version: "1.2.3" });
    server.registerTool("add", { description: "Adds two numbers", inputSchema: { a: z.number(), b: z.number() }, outputSchema: { sum: z.number() } }, async ({ a, b }) => ({
      content: [{ type: "text", text: String(a + b) }],
      structuredContent: { sum: a + b },
    }));
    server.registerTool("list", { description: "Lists as JSON text" }, async () => ({ content: [{ type: "text", text: '[{"id":1},{"id":2}]' }] }));
    server.registerTool("fail", { description: "Always fails" }, async () => ({ content: [{ type: "text", text: "quota exceeded" }], isError: true }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on("close", () => void server.close());
    await server.connect(transport);
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as { port: number };
  let provider: ToolProvider | undefined;
  try {
    provider = await fromMcpServer({ namespace: "remote", url: `http://127.0.0.1:${port}/mcp`, headers: { authorization: "Bearer t0ken" } });
    assert.equal(provider.description, "MCP server http-upstream 1.2.3");
    assert.deepEqual(provider.tools.map((tool) => tool.name), ["add", "list", "fail"]);
    assert.deepEqual(await provider.call("add", { a: 1, b: 2 }), { sum: 3 });
    assert.deepEqual(await provider.call("list", {}), [{ id: 1 }, { id: 2 }]);
    await assert.rejects(provider.call("fail", {}), /^McpToolError: remote\.fail: quota exceeded$/m);
    assert.ok(seen.length >= 3);
    assert.ok(seen.every((headers) => headers.authorization === "Bearer t0ken"));
  } finally {
    await provider?.close?.();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  }
});

test("the older HTTP+SSE transport: chosen by name, or found when streamable HTTP is refused", async () => {
  const transports = new Map<string, SSEServerTransport>();
  const seen: string[] = [];
  const http = createServer(async (req, res) => {
    seen.push(`${req.method} ${req.url?.split("?")[0]} ${req.headers.authorization ?? ""}`);
    if (req.method === "GET" && req.url === "/sse") {
      const server = new McpServer({ name: "sse-upstream", version: "0.9.0" });
      server.registerTool("echo", { description: "Echoes", inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: "text", text }] }));
      const transport = new SSEServerTransport("/messages", res);
      transports.set(transport.sessionId, transport);
      res.on("close", () => transports.delete(transport.sessionId));
      await server.connect(transport);
      return;
    }
    if (req.method === "POST" && req.url?.startsWith("/messages")) {
      const transport = transports.get(new URL(req.url, "http://x").searchParams.get("sessionId") ?? "");
      if (transport !== undefined) return void (await transport.handlePostMessage(req, res));
    }
    res.writeHead(405).end();
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as { port: number };
  const opened: ToolProvider[] = [];
  try {
    for (const transport of ["sse", undefined] as const) {
      const provider = await fromMcpServer({ namespace: "old", url: `http://127.0.0.1:${port}/sse`, headers: { authorization: "Bearer t" }, ...(transport ? { transport } : {}) });
      opened.push(provider);
      assert.equal(provider.description, "MCP server sse-upstream 0.9.0");
      assert.equal(await provider.call("echo", { text: "hi" }), "hi");
    }
    assert.ok(seen.includes("POST /sse Bearer t"), "auto tried streamable HTTP first");
    assert.ok(seen.filter((line) => line === "GET /sse Bearer t").length === 2 && seen.every((line) => line.endsWith("Bearer t")));
    await assert.rejects(fromMcpServer({ namespace: "old", url: `http://127.0.0.1:${port}/sse`, transport: "streamable-http" }), McpConnectionError);
  } finally {
    for (const provider of opened) await provider.close?.();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  }
});

test("result mapping: one text, several texts, JSON-looking text that is not JSON, mixed blocks", () => {
  assert.equal(toValue({ content: [{ type: "text", text: "42" }] }), "42", "only objects and arrays are parsed: a bare number stays text");
  assert.deepEqual(toValue({ content: [{ type: "text", text: ' {"a":1} ' }] }), { a: 1 });
  assert.equal(toValue({ content: [{ type: "text", text: "[not json" }] }), "[not json");
  assert.deepEqual(toValue({ content: [{ type: "text", text: "a" }, { type: "text", text: "[1]" }] }), ["a", [1]]);
  assert.deepEqual(toValue({ content: [] }), undefined);
  assert.deepEqual(toValue({ content: [{ type: "text", text: "x" }], structuredContent: { y: 1 } }), { y: 1 });
  assert.deepEqual(toValue({ content: [{ type: "text", text: "see", _meta: { a: 1 } }, { type: "image", data: "AA==", mimeType: "image/png" }] }), [
    { type: "text", text: "see" },
    { type: "image", data: "AA==", mimeType: "image/png" },
  ]);
});
