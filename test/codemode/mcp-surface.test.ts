// The two-tool surface and what search code sees, in process: the definitions stay small however
// many namespaces there are, declarations carry the types they need, results are bounded.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { encode } from "gpt-tokenizer/encoding/o200k_base";
import { WorkerLoader } from "islet";
import { buildCatalog, fromFunctions, fromOpenApi } from "islet/codemode";
import { openApiProvider } from "../../src/codemode/mcp-backend.ts";
import { IsletMcp, toolResult, twoToolDefinitions } from "../../src/codemode/mcp-server.ts";
import { runSearch, searchCatalog, type SearchCatalog } from "../../src/codemode/search.ts";
import { typecheck } from "./typecheck.ts";

const loader = new WorkerLoader();
test.after(() => loader.close());

test("the two definitions stay under 1,000 tokens with hundreds of namespaces; every namespace stays findable", () => {
  const many: SearchCatalog = {
    namespaces: Array.from({ length: 300 }, (_, i) => ({ name: `service_${i}`, description: `The ${i}th service, which does a great many things that need a long description to explain. `.repeat(3), tools: 40 })),
    tools: [],
    types: [],
  };
  const tools = twoToolDefinitions(many);
  const size = encode(JSON.stringify(tools)).length;
  assert.ok(size < 1000, `${size} tokens`);
  assert.match(tools[1].description!, /service_0, service_1, .* and \d+ more \(see `namespaces` in search\)$/);
  const few = twoToolDefinitions({ namespaces: [{ name: "memory", description: "Knowledge graph\nwith  extra   spaces", tools: 9 }], tools: [], types: [] });
  assert.match(few[1].description!, /\nNamespaces:\n- memory \(9 functions\): Knowledge graph with extra spaces$/);
  assert.deepEqual(few.map((tool) => tool.inputSchema), [
    { type: "object", properties: { code: { type: "string", description: "async arrow function reading `namespaces` and `tools`" } }, required: ["code"] },
    { type: "object", properties: { code: { type: "string", description: "async arrow function calling the namespaces' functions" } }, required: ["code"] },
  ]);
});

test("a tool's declaration carries every type it uses, transitively, once, recursive types included", async () => {
  const api = fromOpenApi(
    {
      openapi: "3.0.3",
      info: { title: "Tree API", version: "1" },
      paths: {
        "/trees/{id}": {
          get: {
            operationId: "getTree",
            summary: "Gets a tree with all its nodes",
            parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
            responses: { "200": { description: "ok", content: { "application/json": { schema: { $ref: "#/components/schemas/Tree" } } } } },
          },
        },
      },
      components: {
        schemas: {
          Tree: { type: "object", properties: { root: { $ref: "#/components/schemas/TreeNode" }, owner: { $ref: "#/components/schemas/Owner" } }, required: ["root"] },
          TreeNode: { type: "object", properties: { label: { type: "string" }, children: { type: "array", items: { $ref: "#/components/schemas/TreeNode" } } }, required: ["label"] },
          Owner: { type: "object", description: "Who planted it", properties: { name: { type: "string" } } },
          Unused: { type: "object", properties: { x: { type: "number" } } },
        },
      },
    },
    { namespace: "trees", baseUrl: "https://trees.test" },
  );
  const catalog = searchCatalog(buildCatalog([api]));
  const { result, error } = await runSearch(loader, catalog, "async () => declarations('trees.getTree', { depth: Infinity })");
  assert.equal(error, undefined);
  const text = result as string;
  for (const name of ["Tree", "TreeNode", "Owner"]) assert.equal(text.match(new RegExp(`\\b(interface|type) ${name}\\b`, "g"))?.length, 1, `${name} once in:\n${text}`);
  assert.ok(!text.includes("Unused"));
  assert.match(text, /^declare namespace trees \{\n/);
  // The rest is the API's own form cut down to the tool: valid TypeScript the model can read as is.
  assert.match(text, /\}\ndeclare const trees: \{\n \/\*\* Gets a tree with all its nodes \*\/\n getTree\(input: \{ id: string \}\): Promise<trees\.Tree>;\n\};$/);
  assert.equal(await typecheck({ "answer.d.ts": text }), "");
  // By default a declaration stops one level below the signature's types (what the code reads
  // back); the types further down are named for expand(), which declares them on demand.
  const short = (await runSearch(loader, catalog, "async () => tools.find(t => t.path === 'trees.getTree').declaration")).result as string;
  assert.match(short, /\binterface Tree\b/);
  assert.doesNotMatch(short, /\binterface (TreeNode|Owner)\b/);
  assert.match(short, /\n \/\/ … not expanded: TreeNode, Owner \(expand\(\["trees\.TreeNode", "trees\.Owner"\]\) declares them\)\n\}\n/);
  const expanded = (await runSearch(loader, catalog, "async () => expand(['trees.TreeNode', 'Owner'])")).result as string;
  assert.equal(expanded.match(/\binterface (TreeNode|Owner)\b/g)?.length, 2, expanded);
  assert.equal(await typecheck({ "answer.d.ts": expanded }), "", "a recursive type refers only to itself");
  assert.equal((await runSearch(loader, catalog, "async () => declarations('trees.getTree', { depth: 2 })")).result, text, "depth 2 reaches every type here");
});

test("declarations(list) gives several tools' declarations with each type they need once", async () => {
  const item = { type: "object", description: "An item", properties: { id: { type: "number" }, tags: { type: "array", items: { $ref: "#/$defs/Tag" } } }, required: ["id"] };
  const shop = fromFunctions(
    "shop",
    {
      get: { description: "One item by id", inputSchema: { type: "object", properties: { id: { type: "number" } }, required: ["id"] }, outputSchema: { $ref: "#/$defs/Item" }, execute: () => null },
      list: { description: "Every item", outputSchema: { type: "array", items: { $ref: "#/$defs/Item" } }, execute: () => [] },
      ping: { description: "Answers pong", execute: () => "pong" },
    },
    {},
  );
  for (const tool of shop.tools) if (tool.outputSchema !== undefined) (tool.outputSchema as { $defs?: object }).$defs = { Item: item, Tag: { enum: ["new", "sale"] } };
  const catalog = searchCatalog(buildCatalog([shop]));
  const { result, error } = await runSearch(loader, catalog, "async () => declarations(tools.filter(t => t.name !== 'ping'), { depth: 2 })");
  assert.equal(error, undefined);
  const text = result as string;
  assert.equal(text.match(/interface Item\b/g)?.length, 1, text);
  assert.equal(text.match(/type Tag\b/g)?.length, 1, text);
  assert.match(text, /^declare namespace shop \{\n \/\*\* An item \*\/\n interface Item \{ id: number; tags\?: Tag\[\] \}\n type Tag = "new" \| "sale";\n\}\ndeclare const shop: \{\n \/\*\* One item by id \*\/\n get\(/);
  assert.match(text, /\n \/\*\* Every item \*\/\n list\(input\?: unknown\): Promise<shop\.Item\[\]>;\n\};$/);
  assert.equal(text.match(/declare const shop/g)?.length, 1, text);
  assert.equal(await typecheck({ "answer.d.ts": text }), "");
  // One tool, or one without types, works as well; so do paths instead of tool objects.
  const ping = "declare const shop: {\n /** Answers pong */\n ping(input?: unknown): Promise<unknown>;\n};";
  assert.equal((await runSearch(loader, catalog, "async () => declarations(tools.find(t => t.name === 'ping'))")).result, ping);
  assert.equal((await runSearch(loader, catalog, "async () => declarations(['shop.ping', 'shop.nope'])")).result, ping);
  assert.equal((await runSearch(loader, catalog, "async () => declarations('shop.ping')")).result, ping);
});

test("a search answer holds only the matched methods, their input types, and a shared sentence once", async () => {
  const path = { type: "object", properties: { path: { type: "string", description: "Where" } }, required: ["path"] };
  const files = fromFunctions("files", {
    read: { description: "Reads a file. Only works within allowed directories.", inputSchema: path, execute: () => "" },
    write: { description: "Writes a file. Only works within allowed directories.", inputSchema: { ...path, properties: { ...path.properties, text: { type: "string" } }, required: ["path", "text"] }, execute: () => true },
    remove: { description: "Deletes a file. Only works within allowed directories.", inputSchema: path, execute: () => true },
    roots: { description: "The folders this server may touch.", execute: () => [] },
  });
  const catalog = searchCatalog(buildCatalog([files]));
  const sentence = "Only works within allowed directories.";
  const both = (await runSearch(loader, catalog, "async () => declarations(tools.filter(t => /read|write/.test(t.name)))")).result as string;
  assert.equal(
    both,
    `/** Every method: ${sentence} */
declare const files: {
 /** Reads a file. */
 read(input: { /** Where */ path: string }): Promise<unknown>;
 /** Writes a file. */
 write(input: { /** Where */ path: string; text: string }): Promise<unknown>;
};`,
  );
  assert.ok(!both.includes("remove") && !both.includes("roots"), "nothing that did not match");
  // With a method that does not share it, each keeps its whole description.
  const mixed = (await runSearch(loader, catalog, "async () => declarations(['files.read', 'files.roots'])")).result as string;
  assert.equal(mixed.split(sentence).length - 1, 1, mixed);
  assert.match(mixed, /^declare const files: \{\n \/\*\* Reads a file\. Only works within allowed directories\. \*\/\n read\(/);
  assert.equal(((await runSearch(loader, catalog, "async () => tools[0].signature")).result as string).split(sentence).length - 1, 1);
  // What the sandbox keeps for itself does not show on the tool objects search code returns.
  assert.deepEqual((await runSearch(loader, catalog, "async () => Object.keys(tools[0])")).result, ["path", "namespace", "name", "originalName", "description", "needsApproval", "signature", "declaration"]);
  assert.equal(await typecheck({ "both.d.ts": both, "use.ts": "export const done = files.write({ path: 'a', text: 'b' });" }), "");
});

test("search code sees plain data only: no tools to call, no host objects, and its logs come back", async () => {
  const catalog = searchCatalog(buildCatalog([fromFunctions("math", { add: { description: "Adds", execute: () => 1 } })]));
  const probe = await runSearch(
    loader,
    catalog,
    `async () => {
      console.log("namespaces:", namespaces.length);
      console.warn("careful");
      return { math: typeof math, process: typeof process, require: typeof require, first: tools[0].path, approval: tools[0].needsApproval };
    }`,
  );
  assert.deepEqual(probe.result, { math: "undefined", process: "undefined", require: "undefined", first: "math.add", approval: false });
  assert.deepEqual(probe.logs, ["namespaces: 1", "[warn] careful"]);
  assert.deepEqual(await runSearch(loader, catalog, "tools.length"), { result: 1 }, "an expression works as well as a function");
  assert.deepEqual(await runSearch(loader, catalog, "return namespaces[0].name;"), { result: "math" }, "so do statements");
  const spin = await runSearch(loader, catalog, "async () => { for (;;) {} }", { limits: { cpuMs: 50 } });
  assert.match(spin.error!, /^CpuLimitError: /);
  assert.match((await runSearch(loader, catalog, "async () => {")).error!, /^SyntaxError: /);
});

test("tool results: JSON for values, text as is, logs appended, long output cut with a hint", () => {
  const text = (outcome: Parameters<typeof toolResult>[0], max?: number) => (toolResult(outcome, max).content[0] as { text: string }).text;
  assert.equal(text({ result: "plain text" }), "plain text");
  assert.equal(text({ result: { n: 10n, m: new Map([["a", 1]]), s: new Set([1]), bytes: new Uint8Array([1, 2]), when: new Date(0) } }), '{"n":"10","m":{"a":1},"s":[1],"bytes":{"bytes":"AQI="},"when":"1970-01-01T00:00:00.000Z"}');
  assert.equal(text({ result: undefined }), "undefined");
  assert.equal(text({ result: [1], logs: ["one", "[warn] two"] }), "[1]\n\nLogs:\none\n[warn] two");
  const failed = toolResult({ result: undefined, error: "TypeError: x is not a function" });
  assert.equal(failed.isError, true);
  assert.equal((failed.content[0] as { text: string }).text, "Error: TypeError: x is not a function");
  assert.equal(text({ result: "x".repeat(50) }, 20), `${"x".repeat(20)}\n[cut: 30 more characters; return less, e.g. filter or slice in the code]`);
});

test("tool results are written only as far as they are shown (findings8/02): a sparse array, a typed array, shared arrays", () => {
  const text = (result: unknown, max?: number) => (toolResult({ result }, max).content[0] as { text: string }).text;
  const started = performance.now();
  const sparse: unknown[] = [];
  sparse[3] = "x";
  // JSON.stringify with the replacer visited every index: 2^24 of them took seconds and 84 MB of text, 2^26 took 28 s.
  sparse.length = 2 ** 24;
  // What is shown stays valid JSON: the array ends early, closed, and the note says how much of it was shown.
  assert.equal(text(sparse, 40), '[null,null,null,"x",null,null,null,null]\n[cut to fit 10,000 tokens: $ shows 8 of 16,777,216 items; return less, e.g. filter or slice in the code]');
  sparse.length = 2 ** 32 - 1;
  assert.match(text(sparse), /^\[null,null,null,"x",null,.*\]\n\[cut to fit 10,000 tokens: \$ shows [\d,]+ of 4,294,967,295 items;/s);
  // Bytes as base64, only as many as are shown.
  assert.equal(text({ data: new Uint8Array(50_000_000) }, 30), '{"data":{"bytes":"AAAAAAAA…"}}\n[cut to fit 10,000 tokens: $.data: 6 of 50,000,000 bytes shown; return less, e.g. filter or slice in the code]');
  let shared: unknown = [1];
  for (let i = 0; i < 40; i++) shared = [shared, shared];
  const sharedText = text(shared);
  assert.match(sharedText, /^\[\[\[\[.*\]\n\[cut to fit 10,000 tokens: \$(\[\d\])+ shows \d of \d items;/s);
  JSON.parse(sharedText.slice(0, sharedText.indexOf("\n[cut")));
  assert.ok(performance.now() - started < 2_000, "each stopped at what is shown");
  // What fits is JSON.stringify(result, jsonReplacer), as before.
  const value = { list: [1, , "two", undefined, () => 3, NaN], skip: undefined, fn: () => 1, map: new Map<unknown, unknown>([[2, "b"], ["a", new Set([1])]]), when: new Date(0), error: new TypeError("bad") };
  assert.equal(text(value), '{"list":[1,null,"two",null,null,null],"map":{"2":"b","a":[1]},"when":"1970-01-01T00:00:00.000Z","error":{"name":"TypeError","message":"bad"}}');
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.match(text(cyclic), /^Error: the result cannot be shown as JSON: Converting circular structure to JSON/);
});

test("IsletMcp.execute and search give the outcome as data, with secrets scrubbed", async () => {
  const secret = "s3cret-value-for-test";
  const mcp = await IsletMcp.create({
    providers: [fromFunctions("vault", { peek: { description: "Returns a record holding the secret", execute: () => ({ when: new Date(0), note: `key=${secret}` }) } })],
    secrets: [secret],
  });
  try {
    // The code cannot know the secret; writing it here checks that logs are scrubbed as well as results.
    const outcome = await mcp.execute(`async () => { console.log("key=${secret}"); return await vault.peek(); }`);
    const { outcome: how, timing, ...rest } = outcome;
    assert.deepEqual(rest, { result: { when: new Date(0), note: "key=[redacted]" }, logs: ["key=[redacted]"] });
    assert.equal(how, "ok");
    assert.ok(timing !== undefined && timing.wallMs >= timing.cpuMs * 0.5 && timing.cpuMs > 0);
    assert.deepEqual(await mcp.search("async () => tools.map(t => t.path)"), { result: ["vault.peek"] });
    assert.match((await mcp.execute("async () => vault.nope()")).error!, /^TypeError: /);
  } finally {
    await mcp.close();
  }
});

test("an OpenAPI source of a config reads YAML from an http(s) URL or a file, and names itself in errors", async () => {
  const yaml = `openapi: 3.0.0\ninfo: { title: Pets, version: "1" }\npaths:\n  /pets:\n    get:\n      operationId: listPets\n      summary: Lists pets\n      responses: { "200": { description: ok } }\n`;
  const server = createServer((req, res) => {
    if (req.url === "/openapi.yaml") res.end(yaml);
    else res.writeHead(req.url === "/pets" && req.headers["x-api-key"] === "k-123" ? 200 : 401, { "content-type": "application/json" }).end(JSON.stringify(req.url === "/pets" ? [{ name: "Rex" }] : { message: "unauthorized" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    const pets = await openApiProvider("pets", { spec: `${base}/openapi.yaml`, baseUrl: base, headers: {}, auth: { header: "X-Api-Key", value: "k-123" } });
    assert.deepEqual(pets.tools.map((tool) => tool.name), ["request", "listPets"]);
    assert.deepEqual(await pets.call("listPets", {}), [{ name: "Rex" }]);
    await assert.rejects(openApiProvider("missing", { spec: "/nonexistent/openapi.json", headers: {} }), /openapi\.missing: cannot read the document \/nonexistent\/openapi\.json: no such file/);
    await assert.rejects(openApiProvider("broken", { spec: `${base}/nothing-here`, headers: {} }), /openapi\.broken: .*HTTP 401/);
  } finally {
    server.close();
  }
});
