// Reading an OpenAPI 3.0/3.1 document (an object, or JSON or YAML text) and following its
// component references.

import { parse as parseYaml } from "yaml";
import { OpenApiError } from "../errors.ts";
import type { JsonSchema } from "../provider.ts";
import { resolvePointer } from "../json-pointer.ts";

export type OpenApiDocument = {
  openapi: string;
  info?: { title?: string; description?: string };
  servers?: { url: string; variables?: Record<string, { default?: string }> }[];
  paths?: Record<string, unknown>;
  components?: { schemas?: Record<string, JsonSchema>; [kind: string]: unknown };
  [key: string]: unknown;
};

export function isObject(value: unknown): value is { [key: string]: unknown } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function readDocument(documentOrText: unknown): OpenApiDocument {
  let document = documentOrText;
  if (typeof documentOrText === "string") {
    const text = documentOrText.trim();
    try {
      document = text.startsWith("{") ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 1_000 });
    } catch (error) {
      throw new OpenApiError(`The OpenAPI document is neither valid JSON nor valid YAML: ${(error as Error).message}`);
    }
  }
  if (!isObject(document)) throw new OpenApiError("An OpenAPI document must be an object (or JSON or YAML text of one).");
  if (typeof document.swagger === "string") throw new OpenApiError(`Swagger ${document.swagger} documents are not supported; convert the document to OpenAPI 3.`);
  if (typeof document.openapi !== "string" || !/^3\.[0-9]+(\.|$)/.test(document.openapi)) {
    throw new OpenApiError(`Unsupported OpenAPI version ${JSON.stringify(document.openapi)}; expected 3.0 or 3.1.`);
  }
  if (document.paths !== undefined && !isObject(document.paths)) throw new OpenApiError("The document's paths must be an object.");
  return document as OpenApiDocument;
}

/** Follows `$ref`s to the document's components (parameters, requestBodies, responses, pathItems). */
export function dereference(document: OpenApiDocument, value: unknown, what: string): unknown {
  const seen = new Set<string>();
  while (isObject(value) && typeof value.$ref === "string") {
    const ref = value.$ref;
    if (!ref.startsWith("#/") || seen.has(ref)) throw new OpenApiError(`Cannot resolve ${what} reference ${JSON.stringify(ref)}${seen.has(ref) ? " (it refers to itself)" : " (only references within the document are supported)"}.`);
    seen.add(ref);
    const target = resolvePointer(document, decodeURIComponent(ref.slice(1)));
    if (target === undefined) throw new OpenApiError(`The ${what} reference ${JSON.stringify(ref)} points at nothing.`);
    value = target;
  }
  return value;
}

const componentPrefix = "#/components/schemas/";

/**
 * A copy of a schema whose references to components/schemas say `#/$defs/…` instead, so tool
 * schemas are ordinary JSON Schema resolved against the provider's `definitions`.
 */
export function rewriteSchemaRefs(value: unknown, depth = 0): unknown {
  if (depth > 200) throw new OpenApiError("A schema in the document is nested too deeply.");
  if (Array.isArray(value)) return value.map((v) => rewriteSchemaRefs(v, depth + 1));
  if (!isObject(value)) return value;
  const out: { [key: string]: unknown } = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === "$ref" && typeof v === "string" && v.startsWith(componentPrefix)) out.$ref = `#/$defs/${v.slice(componentPrefix.length)}`;
    else if (key === "example" || key === "examples") continue;
    else out[key] = rewriteSchemaRefs(v, depth + 1);
  }
  return out;
}

/** The first server's URL with its variables' defaults, or undefined. */
export function serverUrl(document: OpenApiDocument): string | undefined {
  const server = Array.isArray(document.servers) ? document.servers[0] : undefined;
  if (!isObject(server) || typeof server.url !== "string") return undefined;
  return server.url.replace(/\{([^}]+)\}/g, (whole, name: string) => {
    const variable = isObject(server.variables) ? server.variables[name] : undefined;
    return isObject(variable) && typeof variable.default === "string" ? variable.default : whole;
  });
}
