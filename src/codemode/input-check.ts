// Checks a tool call's input against the tool's JSON Schema on the host, before the call is shown
// to an approver or sent upstream: `per_page: "lots"` or a string where an object belongs fails in
// the code with ToolInputError naming the property, instead of reaching the API as it is.
//
// The schema becomes a zod validator (zod's fromJSONSchema), made on the tool's first call and kept.
// Two adjustments keep valid calls valid: OpenAPI 3.0's `nullable: true` becomes `| null` (zod
// would ignore it, and GitHub's `milestone: null` would fail), and `format` is not checked (an API
// may accept more than the format names, a date for a date-time). A schema zod cannot read is not
// checked at all: the upstream still judges the call.

import { z } from "zod";
import { ToolInputError } from "./errors.ts";
import type { JsonSchema, ToolDescriptor, ToolProvider } from "./provider.ts";

type Validator = z.ZodType | null;

const validators = new WeakMap<ToolDescriptor, Validator>();

/** Issues listed in one ToolInputError; the rest are counted. */
const MAX_ISSUES = 5;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The schema as zod should read it: `nullable` as a union with null, no `format`. */
function normalize(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(normalize);
  if (!isObject(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "format" || key === "nullable") continue;
    // Maps of schemas keep their keys as names; every other value is normalised as a schema.
    out[key] = key === "properties" || key === "$defs" || key === "definitions" || key === "patternProperties"
      ? isObject(value) ? Object.fromEntries(Object.entries(value).map(([name, inner]) => [name, normalize(inner)])) : value
      : normalize(value);
  }
  return schema.nullable === true ? { anyOf: [out, { type: "null" }] } : out;
}

/** The `#/$defs/` names a schema reaches, through the provider's shared definitions. */
function reachableDefinitions(schema: JsonSchema, definitions: Record<string, JsonSchema>): Record<string, JsonSchema> {
  const reached: Record<string, JsonSchema> = {};
  const pending: unknown[] = [schema];
  while (pending.length > 0) {
    const node = pending.pop();
    if (Array.isArray(node)) pending.push(...node);
    else if (isObject(node)) {
      const ref = node.$ref;
      if (typeof ref === "string" && ref.startsWith("#/$defs/")) {
        const name = ref.slice("#/$defs/".length);
        if (!(name in reached) && Object.prototype.hasOwnProperty.call(definitions, name)) {
          reached[name] = definitions[name];
          pending.push(definitions[name]);
        }
      }
      pending.push(...Object.values(node));
    }
  }
  return reached;
}

function validatorFor(provider: ToolProvider, tool: ToolDescriptor): Validator {
  let validator = validators.get(tool);
  if (validator !== undefined) return validator;
  validator = null;
  const schema = tool.inputSchema;
  if (isObject(schema)) {
    const own = isObject(schema.$defs) ? (schema.$defs as Record<string, JsonSchema>) : {};
    const $defs = { ...reachableDefinitions(schema, { ...(provider.definitions ?? {}), ...own }), ...own };
    try {
      validator = z.fromJSONSchema(normalize({ ...schema, $defs }) as Parameters<typeof z.fromJSONSchema>[0]);
    } catch {
      validator = null;
    }
  }
  validators.set(tool, validator);
  return validator;
}

/** Throws ToolInputError when `args` do not fit the tool's input schema. */
export function checkToolInput(provider: ToolProvider, tool: ToolDescriptor, path: string, args: unknown): void {
  const validator = validatorFor(provider, tool);
  if (validator === null) return;
  let result: ReturnType<z.ZodType["safeParse"]>;
  try {
    result = validator.safeParse(args);
  } catch {
    return;
  }
  if (result.success) return;
  const issues = result.error.issues;
  const lines = issues.slice(0, MAX_ISSUES).map((issue) => `- ${describeIssue(issue, tool.inputSchema)}`);
  if (issues.length > MAX_ISSUES) lines.push(`- … ${issues.length - MAX_ISSUES} more`);
  throw new ToolInputError(`Invalid input for ${path}:\n${lines.join("\n")}`);
}

/** One problem in the words a model acts on: which property, what was wrong, what it takes. */
function describeIssue(issue: z.core.$ZodIssue, schema: JsonSchema | undefined): string {
  const where = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    const node = issue.path.length === 0 && isObject(schema) && isObject(schema.properties) ? Object.keys(schema.properties) : undefined;
    const takes = node === undefined ? "" : node.length === 0 ? " (it takes none)" : ` (it takes ${node.join(", ")})`;
    return `${where === "" ? "" : `${where}: `}no such propert${issue.keys.length === 1 ? "y" : "ies"} ${issue.keys.map((key) => JSON.stringify(key)).join(", ")}${takes}`;
  }
  if (issue.code === "invalid_type" && /received undefined$/.test(issue.message)) return `${where || "(input)"}: required (${issue.expected})`;
  return `${where || "(input)"}: ${issue.message}`;
}
