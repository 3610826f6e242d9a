// Each operation of an OpenAPI document becomes one tool: its input is one object holding the path,
// query and header parameters by name, and the request body as `body`.

import { OpenApiError } from "../errors.ts";
import type { JsonSchema, ToolDescriptor } from "../provider.ts";
import { dereference, isObject, rewriteSchemaRefs, type OpenApiDocument } from "./document.ts";

export type ParameterLocation = "path" | "query" | "header";

export interface OperationParameter {
  /** The parameter's name in the request. */
  name: string;
  /** Its property name in the tool's input. */
  key: string;
  in: ParameterLocation;
  required: boolean;
  /** Query arrays and objects: repeated keys (form, explode) unless the document says otherwise. */
  explode: boolean;
}

export interface Operation {
  tool: ToolDescriptor;
  method: string;
  path: string;
  operationId?: string;
  parameters: OperationParameter[];
  /** The input property holding the request body, when the operation takes one. */
  bodyKey?: string;
  bodyRequired: boolean;
  /** The request body's media type, e.g. application/json. */
  contentType?: string;
}

const methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

export interface OperationOptions {
  /** Tool descriptions: the operation's summary only (default) or summary and description. */
  fullDescriptions?: boolean;
}

export function readOperations(document: OpenApiDocument, options: OperationOptions = {}): Operation[] {
  const operations: Operation[] = [];
  for (const [path, rawItem] of Object.entries(document.paths ?? {})) {
    const item = dereference(document, rawItem, "path item");
    if (!isObject(item)) continue;
    const shared = Array.isArray(item.parameters) ? item.parameters : [];
    for (const method of methods) {
      const operation = item[method];
      if (!isObject(operation)) continue;
      operations.push(readOperation(document, path, method, operation, shared, options));
    }
  }
  return operations;
}

function pickMedia(content: unknown): { type: string; schema: JsonSchema | undefined } | undefined {
  if (!isObject(content)) return undefined;
  const types = Object.keys(content);
  const type = types.find((t) => /^application\/(.+\+)?json\b/i.test(t)) ?? types.find((t) => t === "*/*") ?? types[0];
  if (type === undefined) return undefined;
  const media = content[type];
  return { type, schema: isObject(media) ? (media.schema as JsonSchema | undefined) : undefined };
}

function readOperation(document: OpenApiDocument, path: string, method: string, operation: { [key: string]: unknown }, shared: unknown[], options: OperationOptions): Operation {
  const where = `${method.toUpperCase()} ${path}`;
  // Operation-level parameters override path-level ones with the same name and location.
  const byKey = new Map<string, { [key: string]: unknown }>();
  for (const raw of [...shared, ...(Array.isArray(operation.parameters) ? operation.parameters : [])]) {
    const parameter = dereference(document, raw, "parameter");
    if (!isObject(parameter) || typeof parameter.name !== "string" || typeof parameter.in !== "string") throw new OpenApiError(`${where}: a parameter needs a name and a location ("in").`);
    byKey.set(`${parameter.in}\0${parameter.name}`, parameter);
  }
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  const parameters: OperationParameter[] = [];
  for (const parameter of byKey.values()) {
    const location = parameter.in as string;
    if (location === "cookie") continue;
    if (location !== "path" && location !== "query" && location !== "header") throw new OpenApiError(`${where}: unknown parameter location ${JSON.stringify(location)}.`);
    const name = parameter.name as string;
    const key = name in properties ? `${name}_${location}` : name;
    const schema = (parameter.schema ?? pickMedia(parameter.content)?.schema ?? {}) as JsonSchema;
    const described = { ...(rewriteSchemaRefs(schema) as object) } as { [key: string]: unknown };
    if (typeof parameter.description === "string") described.description = parameter.description;
    if (parameter.deprecated === true) described.deprecated = true;
    properties[key] = described;
    const isRequired = location === "path" || parameter.required === true;
    if (isRequired) required.push(key);
    parameters.push({ name, key, in: location, required: isRequired, explode: parameter.explode !== false });
  }
  let bodyKey: string | undefined;
  let bodyRequired = false;
  let contentType: string | undefined;
  const requestBody = operation.requestBody === undefined ? undefined : dereference(document, operation.requestBody, "request body");
  if (isObject(requestBody)) {
    const media = pickMedia(requestBody.content);
    if (media !== undefined) {
      bodyKey = "body" in properties ? "requestBody" : "body";
      contentType = media.type;
      const schema = { ...(rewriteSchemaRefs(media.schema ?? {}) as object) } as { [key: string]: unknown };
      if (typeof requestBody.description === "string" && schema.description === undefined) schema.description = requestBody.description;
      properties[bodyKey] = schema;
      bodyRequired = requestBody.required === true;
      if (bodyRequired) required.push(bodyKey);
    }
  }
  const inputSchema: JsonSchema = { type: "object", properties, ...(required.length > 0 ? { required } : {}), additionalProperties: false };
  const outputSchema = successSchema(document, operation.responses);
  const summary = typeof operation.summary === "string" ? operation.summary.trim() : "";
  const details = typeof operation.description === "string" ? operation.description.trim() : "";
  const description = options.fullDescriptions === true ? [summary, details].filter((s) => s !== "").join("\n\n") : summary || details;
  const operationId = typeof operation.operationId === "string" && operation.operationId !== "" ? operation.operationId : undefined;
  const tags = Array.isArray(operation.tags) ? operation.tags.filter((tag): tag is string => typeof tag === "string") : [];
  // What search ranks by beyond the doc comment: how HTTP names the operation, its tags, and its
  // long description when the doc comment keeps only the summary ("delete a branch" is worded
  // there, while GitHub's summary says "reference").
  const keywords = [method.toUpperCase(), path, ...tags, ...(details !== "" && !description.includes(details) ? [details] : [])];
  const tool: ToolDescriptor = {
    name: operationId ?? `${method} ${path}`,
    ...(description !== "" ? { description } : {}),
    keywords,
    inputSchema,
    ...(outputSchema !== undefined ? { outputSchema } : {}),
  };
  return { tool, method: method.toUpperCase(), path, ...(operationId !== undefined ? { operationId } : {}), parameters, ...(bodyKey !== undefined ? { bodyKey } : {}), bodyRequired, ...(contentType !== undefined ? { contentType } : {}) };
}

/** The schema of the first successful response with content (200 before 201 …, then 2XX, then default). */
function successSchema(document: OpenApiDocument, responses: unknown): JsonSchema | undefined {
  if (!isObject(responses)) return undefined;
  const codes = Object.keys(responses)
    .filter((code) => /^2[0-9][0-9]$/.test(code))
    .sort();
  for (const code of [...codes, "2XX", "2xx", "default"]) {
    if (!(code in responses)) continue;
    const response = dereference(document, responses[code], "response");
    if (!isObject(response)) continue;
    const media = pickMedia(response.content);
    if (media?.schema !== undefined) return rewriteSchemaRefs(media.schema) as JsonSchema;
    if (code !== "default") return undefined;
  }
  return undefined;
}
