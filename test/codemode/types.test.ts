import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { generateApi, schemaToTypeScript, fromOpenApi, type JsonSchema, type ToolProvider } from "islet/codemode";
import { typecheck } from "./typecheck.ts";

const ts = (schema: JsonSchema, options?: Parameters<typeof schemaToTypeScript>[2]) => schemaToTypeScript(schema, "T", options);

function provider(namespace: string, tools: ToolProvider["tools"], extra: Partial<ToolProvider> = {}): ToolProvider {
  return { namespace, tools, call: async () => undefined, ...extra };
}

test("primitives, enums, const and nullable (OpenAPI 3.0 and 3.1 style)", () => {
  assert.equal(ts({ type: "string" }), "type T = string;\n");
  assert.equal(ts({ type: "integer" }), "type T = number;\n");
  assert.equal(ts({ enum: ["a", "b", 3, true, null] }), 'type T = "a" | "b" | 3 | true | null;\n');
  assert.equal(ts({ const: "fixed" }), 'type T = "fixed";\n');
  assert.equal(ts({ type: "string", nullable: true }), "type T = string | null;\n");
  assert.equal(ts({ type: ["string", "null"] }), "type T = string | null;\n");
  assert.equal(ts({ type: ["number", "boolean"] }), "type T = number | boolean;\n");
  assert.equal(ts({}), "type T = unknown;\n");
  assert.equal(ts(true), "type T = unknown;\n");
  assert.equal(ts(false), "type T = never;\n");
});

test("objects: required vs optional, quoted names, additionalProperties, doc comments", () => {
  assert.equal(ts({ type: "object", properties: { id: { type: "number" }, "full-name": { type: "string" }, "2fa": { type: "boolean" } }, required: ["id"] }), 'interface T { id: number; "full-name"?: string; "2fa"?: boolean }\n');
  assert.equal(ts({ type: "object", additionalProperties: { type: "number" } }), "type T = Record<string, number>;\n");
  assert.equal(ts({ type: "object" }), "type T = Record<string, unknown>;\n");
  assert.equal(ts({ type: "object", additionalProperties: false }), "interface T {}\n");
  assert.equal(ts({ type: "object", properties: { a: { type: "number" } }, additionalProperties: { type: "number" } }), "interface T { a?: number; [key: string]: unknown }\n");
  assert.equal(ts({ type: "object", properties: { a: { type: "number" } }, required: ["a"], additionalProperties: { type: "number" } }), "interface T { a: number; [key: string]: number }\n");
  assert.equal(
    ts({ type: "object", description: "A user. Ends a comment: */", properties: { name: { type: "string", description: "Full name" }, old: { type: "string", deprecated: true } }, required: ["name"] }),
    "/** A user. Ends a comment: *\\/ */\ninterface T { /** Full name */ name: string; /** @deprecated */ old?: string }\n",
  );
  assert.equal(ts({ type: "object", properties: { nested: { type: "object", properties: { deep: { type: "string", description: "d" } } } } }), "interface T { nested?: { /** d */ deep?: string } }\n");
  // Too wide for one line: one member a line, each with its doc comment in front, nesting indented by one space.
  const wide = "a fairly long description of the property";
  assert.equal(
    ts({ type: "object", properties: { first: { type: "string", description: wide }, second: { type: "object", properties: { inner: { type: "number", description: wide }, other: { type: "number", description: wide } } } } }),
    `interface T {\n /** ${wide} */ first?: string;\n second?: {\n  /** ${wide} */ inner?: number;\n  /** ${wide} */ other?: number;\n };\n}\n`,
  );
  // A description of several lines is a block above its member.
  assert.equal(ts({ type: "object", properties: { a: { type: "string", description: "One.\nTwo." } } }), "interface T {\n /**\n  * One.\n  * Two.\n  */\n a?: string;\n}\n");
});

test("descriptions can be shortened", () => {
  const long = "word ".repeat(40).trim();
  const out = ts({ type: "string", description: long }, { maxDescriptionLength: 30 });
  assert.match(out, /^\/\*\* word word word word word word… \*\/\ntype T = string;\n$/);
});

test("defaults, bounds and formats become tags; a description that only restates the name is left out", () => {
  assert.equal(
    ts({ type: "object", properties: { count: { type: "integer", description: "How many", default: 3, minimum: 1, maximum: 10 }, since: { type: "string", format: "date-time" }, code: { type: "string", pattern: "^[a-z]+$", minLength: 2 } } }),
    'interface T {\n /** How many @default 3 @minimum 1 @maximum 10 */ count?: number;\n /** @format date-time */ since?: string;\n /** @minLength 2 @pattern "^[a-z]+$" */ code?: string;\n}\n',
  );
  // OpenAPI 3.0's boolean exclusiveMinimum is a flag on minimum, not a bound.
  assert.equal(ts({ type: "number", minimum: 0, exclusiveMinimum: true }), "/** @minimum 0 */\ntype T = number;\n");
  assert.equal(ts({ type: "object", properties: { entityType: { type: "string", description: "The type of the entity" }, name: { type: "string", description: "The name of the entity" } } }), 'interface T { entityType?: string; /** The name of the entity */ name?: string }\n');
  const api = generateApi([provider("gh", [{ name: "merge_pull_request", description: "Merge a pull request", inputSchema: { type: "object", properties: { n: { type: "number" } } } }])]);
  assert.doesNotMatch(api.text, /Merge a pull request/);
  assert.equal(api.namespaces[0].tools[0].description, "Merge a pull request"); // the catalog keeps it for search
});

test("arrays and tuples", () => {
  assert.equal(ts({ type: "array", items: { type: "string" } }), "type T = string[];\n");
  assert.equal(ts({ type: "array", items: { type: ["string", "number"] } }), "type T = (string | number)[];\n");
  assert.equal(ts({ type: "array" }), "type T = unknown[];\n");
  assert.equal(ts({ type: "array", prefixItems: [{ type: "string" }, { type: "number" }], items: false }), "type T = [string, number];\n");
  assert.equal(ts({ type: "array", prefixItems: [{ type: "string" }], items: { type: "boolean" } }), "type T = [string, ...boolean[]];\n");
  assert.equal(ts({ type: "array", items: [{ type: "string" }, { type: "number" }], minItems: 1 }), "type T = [string, number?];\n");
});

test("allOf, oneOf, anyOf", () => {
  assert.equal(ts({ oneOf: [{ type: "string" }, { type: "number" }] }), "type T = string | number;\n");
  assert.equal(ts({ anyOf: [{ type: "string" }, { type: "null" }] }), "type T = string | null;\n");
  assert.equal(
    ts({ allOf: [{ type: "object", properties: { a: { type: "string" } } }, { type: "object", properties: { b: { type: "number" } } }] }),
    "type T = { a?: string } & { b?: number };\n",
  );
  // A base object with alternatives: both apply.
  assert.equal(
    ts({ type: "object", properties: { kind: { type: "string" } }, oneOf: [{ type: "object", properties: { x: { type: "number" } } }, { type: "object", properties: { y: { type: "number" } } }] }),
    "type T = { kind?: string } & ({ x?: number } | { y?: number });\n",
  );
  // Members that only narrow a format keep the parent's type.
  assert.equal(ts({ type: "string", anyOf: [{ format: "date" }, { format: "email" }] }), "type T = string;\n");
});

test("$ref: $defs, definitions, shared definitions, recursion and alias cycles", () => {
  assert.equal(
    ts({ type: "object", properties: { owner: { $ref: "#/$defs/simple-user" }, tags: { type: "array", items: { $ref: "#/definitions/Tag" } } }, $defs: { "simple-user": { type: "object", properties: { login: { type: "string" } }, required: ["login"] } }, definitions: { Tag: { enum: ["a", "b"] } } }),
    'interface T { owner?: SimpleUser; tags?: Tag[] }\ninterface SimpleUser { login: string }\ntype Tag = "a" | "b";\n',
  );
  // Recursion through a named type and through the root.
  assert.equal(
    ts({ $ref: "#/$defs/Node", $defs: { Node: { type: "object", properties: { value: { type: "number" }, children: { type: "array", items: { $ref: "#/$defs/Node" } } }, required: ["value"] } } }),
    "type T = Node;\ninterface Node { value: number; children?: Node[] }\n",
  );
  assert.equal(ts({ type: "object", properties: { next: { $ref: "#" } } }), "interface T { next?: T }\n");
  // Shared definitions (a source's components) and refs into them with JSON Pointer escapes.
  assert.equal(ts({ type: "object", properties: { a: { $ref: "#/$defs/A" }, b: { $ref: "#/$defs/A/properties/x~1y" } } }, { definitions: { A: { type: "object", properties: { "x/y": { type: "integer" } } } } }), 'interface T { a?: A; b?: XY }\ninterface A { "x/y"?: number }\ntype XY = number;\n');
  // A ref to nothing, or outside the document, says unknown; so does a pure alias cycle.
  assert.equal(ts({ $ref: "#/$defs/Missing" }), "type T = unknown;\n");
  assert.equal(ts({ $ref: "https://example.com/schema.json" }), "type T = unknown;\n");
  assert.equal(ts({ $ref: "#/$defs/A", $defs: { A: { $ref: "#/$defs/B" }, B: { $ref: "#/$defs/A" } } }), "type T = A;\ntype A = unknown;\n");
  // Two different schemas with one name get distinct names.
  assert.equal(ts({ type: "object", properties: { a: { $ref: "#/$defs/Item" }, b: { $ref: "#/$defs/other/$defs/Item" } }, $defs: { Item: { type: "string" }, other: { $defs: { Item: { type: "number" } } } } }), "interface T { a?: Item; b?: Item2 }\ntype Item = string;\ntype Item2 = number;\n");
  // A ref with a nullable sibling (OpenAPI 3.0).
  assert.equal(ts({ type: "object", properties: { a: { $ref: "#/$defs/A", nullable: true } }, $defs: { A: { type: "string" } } }), "interface T { a?: A | null }\ntype A = string;\n");
});

const shop = provider(
  "shop-api",
  [
    { name: "list-orders", description: "Orders, newest first", inputSchema: { type: "object", properties: { limit: { type: "integer" }, status: { enum: ["open", "shipped"] } } }, outputSchema: { type: "array", items: { $ref: "#/$defs/Order" } } },
    { name: "get order", inputSchema: { type: "object", properties: { id: { type: "string", description: "The order's id" } }, required: ["id"] }, outputSchema: { $ref: "#/$defs/Order" } },
    { name: "cancel", needsApproval: true, inputSchema: { type: "object", properties: { id: { type: "string" } }, required: ["id"] } },
    { name: "ping", inputSchema: { type: "object", properties: {} } },
    { name: "free-form" },
  ],
  {
    description: "The shop",
    definitions: {
      Order: { type: "object", description: "An order", properties: { id: { type: "string" }, lines: { type: "array", items: { $ref: "#/$defs/Line" } }, parent: { anyOf: [{ $ref: "#/$defs/Order" }, { type: "null" }] } }, required: ["id", "lines"] },
      Line: { type: "object", properties: { sku: { type: "string" }, qty: { type: "integer" } }, required: ["sku", "qty"] },
    },
  },
);

test("a provider set becomes namespaces of typed methods", () => {
  const api = generateApi([shop]);
  assert.equal(
    api.text,
    `declare namespace shop_api {
 /** An order */
 interface Order { id: string; lines: Line[]; parent?: Order | null }
 interface Line { sku: string; qty: number }
}
/** The shop */
declare const shop_api: {
 /** Orders, newest first */
 list_orders(input?: { limit?: number; status?: "open" | "shipped" }): Promise<shop_api.Order[]>;
 get_order(input: { /** The order's id */ id: string }): Promise<shop_api.Order>;
 /** @needsApproval The host must approve each call; a rejection throws ApprovalRejectedError. */
 cancel(input: { id: string }): Promise<unknown>;
 ping(): Promise<unknown>;
 free_form(input?: unknown): Promise<unknown>;
};
`,
  );
  const getOrder = api.namespaces[0].tools[1];
  assert.deepEqual([getOrder.name, getOrder.originalName, getOrder.inputType, getOrder.outputType, getOrder.references], ["get_order", "get order", "{ /** The order's id */ id: string }", "shop_api.Order", ["Order"]]);
});

test("generation is deterministic, and the API typechecks together with code using it", async () => {
  const other = provider("util", [{ name: "Order", inputSchema: { type: "object", properties: { x: { $ref: "#/$defs/Order" } }, $defs: { Order: { type: "number" } } } }]);
  const first = generateApi([shop, other]).text;
  assert.equal(generateApi([shop, other]).text, first);
  // Each namespace has its own Order.
  assert.match(first, /declare namespace util {\n type Order = number;/);
  const diagnostics = await typecheck({
    "api.d.ts": first,
    "use.ts": `export async function run() {
      const orders = await shop_api.list_orders({ status: "open" });
      const order: shop_api.Order = await shop_api.get_order({ id: orders[0].id });
      await util.Order({ x: 1 });
      await shop_api.ping();
      return order.lines.map((l) => l.sku.toUpperCase() + l.qty.toFixed(0)).concat(order.parent?.id ?? "");
    }`,
    "wrong.ts": `export async function wrong() { // @ts-expect-error: status is an enum
      await shop_api.list_orders({ status: "lost" }); }`,
  });
  assert.equal(diagnostics, "");
  const bad = await typecheck({ "api.d.ts": first, "bad.ts": `export const x = shop_api.get_order({});` });
  assert.match(bad, /Property 'id' is missing/);
});

const github = createRequire(import.meta.url).resolve("@octokit/openapi/generated/api.github.com.json");

test("GitHub's REST API (OpenAPI 3.0, ~1,000 operations) generates, deterministically, and typechecks", async () => {
  const document = JSON.parse(readFileSync(github, "utf8"));
  const source = fromOpenApi(document, { namespace: "github" });
  assert.ok(source.tools.length > 1_000);
  const api = generateApi([source]);
  assert.equal(generateApi([fromOpenApi(document, { namespace: "github" })]).text, api.text);
  assert.match(api.text, /\n issues_create\(input: github\.OwnerRepo\d* & \{\n {2}body: \{\n {3}\/\*\* The title of the issue\. \*\/ title: string \| number;/);
  assert.match(api.text, /\n interface Issue {/);
  // The path parameters nearly every repository operation starts with are declared once.
  assert.match(api.text, /\n interface Owner \{ \/\*\* The account owner of the repository\. The name is not case sensitive\. \*\/ owner: string \}\n/);
  const diagnostics = await typecheck({
    "github.d.ts": api.text,
    "use.ts": `export async function run() {
      const issue = await github.issues_create({ owner: "o", repo: "r", body: { title: "Bug", labels: ["bug"] } });
      const repos = await github.repos_list_for_org({ org: "o", per_page: 10 });
      const raw = await github.request({ method: "GET", path: "/rate_limit" });
      return [issue.number, repos.map((r) => r.full_name), raw.status];
    }`,
  });
  assert.equal(diagnostics, "");
});

const owner = { type: "string", description: "Repository owner (username or organization)" };
const repo = { type: "string", description: "Repository name" };
const pullNumber = { type: "number", description: "Pull request number" };
const entity = { type: "object", properties: { name: { type: "string", description: "The entity's name" }, kind: { type: "string", description: "What sort of thing it is" }, notes: { type: "array", items: { type: "string" }, description: "Facts about it" } }, required: ["name", "kind", "notes"] };
const repoTools = provider("repos", [
  { name: "get_file", inputSchema: { type: "object", properties: { owner, repo, path: { type: "string", description: "Path of the file" } }, required: ["owner", "repo", "path"] } },
  { name: "get_pull", inputSchema: { type: "object", properties: { owner, repo, pull_number: pullNumber }, required: ["owner", "repo", "pull_number"] } },
  { name: "pull_files", inputSchema: { type: "object", properties: { owner, repo, pull_number: pullNumber }, required: ["owner", "repo", "pull_number"] } },
  { name: "merge_pull", inputSchema: { type: "object", properties: { owner, repo, pull_number: pullNumber, method: { enum: ["merge", "squash"] } }, required: ["owner", "repo", "pull_number"] } },
  // Same keys, another description: another shape.
  { name: "star", inputSchema: { type: "object", properties: { owner: { type: "string", description: "Who owns it" }, repo }, required: ["owner", "repo"] } },
  // Small shapes stay inline: a name would cost more than it saves.
  { name: "stat", inputSchema: { type: "object", properties: { path: { type: "string" } }, required: ["path"] }, outputSchema: { type: "object", properties: { size: { type: "number" } } } },
  { name: "touch", inputSchema: { type: "object", properties: { path: { type: "string" } }, required: ["path"] }, outputSchema: { type: "object", properties: { size: { type: "number" } } } },
  { name: "create_entities", inputSchema: { type: "object", properties: { entities: { type: "array", items: entity } }, required: ["entities"] }, outputSchema: { type: "object", properties: { entities: { type: "array", items: structuredClone(entity) } } } },
  { name: "search", inputSchema: { type: "object", properties: { query: { type: "string" } }, required: ["query"] }, outputSchema: { type: "object", properties: { entities: { type: "array", items: structuredClone(entity) } } } },
]);

test("objects and runs of leading properties that several tools share are declared once and named", async () => {
  const api = generateApi([repoTools]);
  assert.equal(
    api.text,
    `declare namespace repos {
 interface OwnerRepo {
  /** Repository owner (username or organization) */ owner: string;
  /** Repository name */ repo: string;
 }
 interface OwnerRepoPullNumber extends OwnerRepo { /** Pull request number */ pull_number: number }
 interface Entity {
  /** The entity's name */ name: string;
  /** What sort of thing it is */ kind: string;
  /** Facts about it */ notes: string[];
 }
 interface Entities { entities?: Entity[] }
}
declare const repos: {
 get_file(input: repos.OwnerRepo & { /** Path of the file */ path: string }): Promise<unknown>;
 get_pull(input: repos.OwnerRepoPullNumber): Promise<unknown>;
 pull_files(input: repos.OwnerRepoPullNumber): Promise<unknown>;
 merge_pull(input: repos.OwnerRepoPullNumber & { method?: "merge" | "squash" }): Promise<unknown>;
 star(input: { /** Who owns it */ owner: string; /** Repository name */ repo: string }): Promise<unknown>;
 stat(input: { path: string }): Promise<{ size?: number }>;
 touch(input: { path: string }): Promise<{ size?: number }>;
 create_entities(input: { entities: repos.Entity[] }): Promise<repos.Entities>;
 search(input: { query: string }): Promise<repos.Entities>;
};
`,
  );
  // What the catalog tells search about a tool names the shared types it needs.
  assert.deepEqual(api.namespaces[0].tools[3].references, ["OwnerRepoPullNumber"]);
  assert.equal(api.namespaces[0].tools[3].inputType, 'repos.OwnerRepoPullNumber & { method?: "merge" | "squash" }');
  assert.equal(generateApi([repoTools]).text, api.text);
  const diagnostics = await typecheck({
    "api.d.ts": api.text,
    "use.ts": `export async function run() {
      await repos.merge_pull({ owner: "o", repo: "r", pull_number: 1, method: "squash" });
      const { entities } = await repos.search({ query: "q" });
      return entities?.map((e) => e.notes.join(", ") + e.kind);
    }`,
    "wrong.ts": `export async function wrong() {
      // @ts-expect-error: pull_number is part of the shared shape and required
      await repos.get_pull({ owner: "o", repo: "r" });
      // @ts-expect-error: excess properties are still caught through an intersection
      await repos.get_file({ owner: "o", repo: "r", path: "p", mode: 1 });
    }`,
  });
  assert.equal(diagnostics, "");
});

test("shapes are told apart by what their references resolve to, not by how the reference is spelled", () => {
  const item = (ref: string) => ({ type: "object", properties: { first: { $ref: ref, description: "The first one of the list of things" }, second: { $ref: ref, description: "The second one of the list of things" } }, required: ["first", "second"] });
  const tools = provider(
    "refs",
    [
      { name: "a", inputSchema: { ...item("#/$defs/Thing"), $defs: { Thing: { type: "string" } } } },
      { name: "b", inputSchema: { ...item("#/$defs/Thing"), $defs: { Thing: { type: "number" } } } },
      { name: "c", inputSchema: item("#/$defs/Shared") },
      { name: "d", inputSchema: item("#/$defs/Shared") },
    ],
    { definitions: { Shared: { type: "boolean" } } },
  );
  const text = generateApi([tools]).text;
  // a and b spell the same $ref but mean different types; c and d share one.
  assert.match(text, /\n a\(input: \{\n  \/\*\* The first one of the list of things \*\/ first: refs\.Thing;/);
  assert.match(text, /\n b\(input: \{\n  \/\*\* The first one of the list of things \*\/ first: refs\.Thing2;/);
  assert.match(text, /\n c\(input: refs\.FirstSecond\): Promise<unknown>;\n d\(input: refs\.FirstSecond\): Promise<unknown>;/);
  assert.match(text, /interface FirstSecond \{\n  \/\*\* The first one of the list of things \*\/ first: Shared;/);
});

const files = provider(
  "files",
  [
    { name: "read", description: "Reads a file as text. Only works within allowed directories.", inputSchema: { type: "object", properties: { path: { type: "string" } }, required: ["path"] } },
    { name: "write", description: "Writes a file, e.g. a log. Only works within allowed directories. Overwrites it.", inputSchema: { type: "object", properties: { path: { type: "string" }, text: { type: "string" } }, required: ["path", "text"] } },
    { name: "remove", description: "Deletes a file. Only works within allowed directories.", inputSchema: { type: "object", properties: { path: { type: "string" } }, required: ["path"] } },
    { name: "list", description: "Lists a folder. Only works within allowed directories.", inputSchema: { type: "object", properties: { path: { type: "string" } }, required: ["path"] } },
    { name: "roots", description: "The folders this server may touch." },
  ],
  { description: "A file server" },
);

test("a sentence many tools' descriptions repeat is said once, in a namespace note naming where it applies", async () => {
  const api = generateApi([files]);
  const sentence = "Only works within allowed directories.";
  assert.equal(api.text.split(sentence).length - 1, 1, api.text);
  assert.match(api.text, /^\/\*\*\n \* A file server\n \* Every method except roots: Only works within allowed directories\.\n \*\/\ndeclare const files: \{\n/m);
  // What is left of each description reads as before; "e.g. a" does not end a sentence.
  assert.match(api.text, /\n \/\*\* Reads a file as text\. \*\/\n read\(/);
  assert.match(api.text, /\n \/\*\* Writes a file, e\.g\. a log\. Overwrites it\. \*\/\n write\(/);
  const [ns] = api.namespaces;
  assert.deepEqual(ns.notes, [{ sentence, text: `Every method except roots: ${sentence}`, tools: ["read", "write", "remove", "list"] }]);
  // A method shown on its own (a search answer) has its whole description back.
  assert.deepEqual(ns.tools.map((t) => t.notes.length), [1, 1, 1, 1, 0]);
  assert.match(ns.tools[1].standaloneSignature, /^\/\*\* Writes a file, e\.g\. a log\. Only works within allowed directories\. Overwrites it\. \*\/\nwrite\(/);
  assert.equal(ns.tools[4].standaloneSignature, ns.tools[4].signature);
  assert.equal(ns.tools[0].description, files.tools[0].description, "the catalog keeps the source's description");
  assert.equal(generateApi([files]).text, api.text);
  assert.equal(await typecheck({ "files.d.ts": api.text, "use.ts": `export const r = files.read({ path: "a" });` }), "");
});

test("a shared sentence stays in place when hoisting would not pay or would leave a method undocumented", () => {
  const few = provider("few", files.tools.slice(0, 2), {});
  assert.equal(generateApi([few]).namespaces[0].notes.length, 0, "two tools are not enough");
  const only = provider("only", [0, 1, 2, 3].map((i) => ({ name: `t${i}`, description: "Only works within allowed directories." })));
  const api = generateApi([only]);
  assert.equal(api.namespaces[0].notes.length, 0);
  assert.equal(api.text.split("Only works within allowed directories.").length - 1, 4);
  // Which methods a note is about: the few it applies to, or every method but the few it does not.
  const mixed = provider("mixed", [
    ...[0, 1, 2].map((i) => ({ name: `a${i}`, description: `Tool ${i}. Needs the admin role.` })),
    ...[0, 1, 2, 3].map((i) => ({ name: `b${i}`, description: `Other ${i}.` })),
  ]);
  assert.deepEqual(generateApi([mixed]).namespaces[0].notes.map((n) => n.text), ["a0, a1 and a2: Needs the admin role."]);
});
