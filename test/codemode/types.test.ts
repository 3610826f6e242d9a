import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { generateApi, schemaToTypeScript, fromOpenApi, type JsonSchema, type ToolProvider } from "../../src/codemode/index.ts";
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
    "/** A user. Ends a comment: *\\/ */\ninterface T {\n  /** Full name */\n  name: string;\n  /** @deprecated */\n  old?: string;\n}\n",
  );
  assert.equal(ts({ type: "object", properties: { nested: { type: "object", properties: { deep: { type: "string", description: "d" } } } } }), "interface T {\n  nested?: {\n    /** d */\n    deep?: string;\n  };\n}\n");
});

test("descriptions can be shortened", () => {
  const long = "word ".repeat(40).trim();
  const out = ts({ type: "string", description: long }, { maxDescriptionLength: 30 });
  assert.match(out, /^\/\*\* word word word word word word… \*\/\ntype T = string;\n$/);
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
  interface GetOrderInput {
    /** The order's id */
    id: string;
  }
}
/** The shop */
declare const shop_api: {
  /** Orders, newest first */
  list_orders(input?: { limit?: number; status?: "open" | "shipped" }): Promise<shop_api.Order[]>;
  get_order(input: shop_api.GetOrderInput): Promise<shop_api.Order>;
  /** @needsApproval The host must approve each call; a rejection throws ApprovalRejectedError. */
  cancel(input: { id: string }): Promise<unknown>;
  ping(): Promise<unknown>;
  free_form(input?: unknown): Promise<unknown>;
};
`,
  );
  const getOrder = api.namespaces[0].tools[1];
  assert.deepEqual([getOrder.name, getOrder.originalName, getOrder.inputType, getOrder.outputType, getOrder.references], ["get_order", "get order", "{\n  /** The order's id */\n  id: string;\n}", "shop_api.Order", ["GetOrderInput", "Order"]]);
});

test("generation is deterministic, and the API typechecks together with code using it", async () => {
  const other = provider("util", [{ name: "Order", inputSchema: { type: "object", properties: { x: { $ref: "#/$defs/Order" } }, $defs: { Order: { type: "number" } } } }]);
  const first = generateApi([shop, other]).text;
  assert.equal(generateApi([shop, other]).text, first);
  // Each namespace has its own Order.
  assert.match(first, /declare namespace util {\n {2}type Order = number;/);
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
  assert.match(api.text, /\n {2}issues_create\(input: github\.IssuesCreateInput\): Promise<github\.Issue>;/);
  assert.match(api.text, /\n {2}interface Issue {/);
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
