// The TypeScript API of a provider set, as the model sees it: per namespace, its named types in
// `declare namespace <ns> { … }` (so two sources may both have a `User`) and its methods in
// `declare const <ns>: { … }`. Inputs and outputs are written inline in the method, where the model
// reads them; what several tools share (a `$ref`'s schema, a recurring object or run of properties,
// see shapes.ts) is a named type written once. Only a type that refers to itself gets a name of its
// own (`<Tool>Input`, `<Tool>Output`). A sentence many tools' descriptions repeat word for word is
// said once, in a note of the namespace's doc comment that names the methods it is about (notes.ts).

import type { JsonSchema, ToolProvider } from "../provider.ts";
import { assignNamespaceIdentifiers, assignToolIdentifiers, typeIdentifier, type ToolRename } from "../identifiers.ts";
import { docComment, saysOnlyTheName, type DocOptions } from "./doc-comment.ts";
import { findSharedShapes, type ShapeRoot } from "./shapes.ts";
import { hoistSharedSentences } from "./notes.ts";
import { INDENT, QUALIFIER, TypeWriter, type SchemaScope } from "./type-writer.ts";

export type ApiOptions = DocOptions;

/** What type generation needs of a provider (a ToolProvider has it all). */
export type ProviderShape = Pick<ToolProvider, "namespace" | "description" | "tools" | "definitions">;

export interface ToolApi {
  /** The method's name in the sandbox. */
  name: string;
  /** The name the source knows the tool by. */
  originalName: string;
  description?: string;
  needsApproval: boolean;
  /** The input type written out in full (named types it mentions qualified: `github.User`); "" when the tool takes no input. */
  inputType: string;
  inputOptional: boolean;
  /** The output type written out in full; `unknown` when the source does not describe it. */
  outputType: string;
  /** The method's declaration with its doc comment, as in the API text (sentences the namespace's notes say left out). */
  signature: string;
  /** The declaration with the tool's whole description, for showing the method on its own. */
  standaloneSignature: string;
  /** The sentences of its description said once in the namespace's notes instead. */
  notes: string[];
  /** Named types of the namespace the input and output types mention directly. */
  references: string[];
  /** Those of them the input type mentions (search declares these, and all below them, in full). */
  inputReferences: string[];
  /** What search ranks the tool by besides its names and description: the source's keywords and the input's property names. */
  keywords: string;
}

export interface NamespaceApi {
  /** The namespace as the source or host gave it. */
  namespace: string;
  /** The global variable the tools are reached through in the sandbox. */
  identifier: string;
  description?: string;
  /** Sentences many of its tools' descriptions share, each said once (see notes.ts), with the methods it is about. */
  notes: { sentence: string; text: string; tools: string[] }[];
  tools: ToolApi[];
  /** The namespace's named types: name and declaration text (unqualified, as inside the namespace block). */
  types: { name: string; declaration: string }[];
  /** The whole TypeScript text of this namespace. */
  text: string;
}

export interface GeneratedApi {
  namespaces: NamespaceApi[];
  /** Tools whose identifier got a suffix because another tool of the namespace had the name. */
  renames: ToolRename[];
  /** The declarations of every namespace, ready to show to the model. */
  text: string;
}

function isObject(value: unknown): value is { [key: string]: unknown } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function indentLines(text: string, indent: string): string {
  return text
    .split("\n")
    .map((line) => (line === "" ? line : indent + line))
    .join("\n");
}

/** Nothing is required: the model may call the tool without an argument. */
function inputIsOptional(schema: JsonSchema | undefined): boolean {
  if (schema === undefined || schema === true) return true;
  if (!isObject(schema)) return false;
  if (typeof schema.$ref === "string") return false;
  if (schema.type !== undefined && schema.type !== "object") return false;
  return !(Array.isArray(schema.required) && schema.required.length > 0) && !Array.isArray(schema.allOf) && !Array.isArray(schema.oneOf) && !Array.isArray(schema.anyOf);
}

/** An object schema with no properties that admits no others: the method takes no argument. */
export function takesNoInput(schema: JsonSchema | undefined): boolean {
  if (!isObject(schema) || schema.type !== "object") return false;
  if (isObject(schema.properties) && Object.keys(schema.properties).length > 0) return false;
  if (schema.additionalProperties === true || isObject(schema.additionalProperties) || isObject(schema.patternProperties)) return false;
  return !["$ref", "allOf", "oneOf", "anyOf"].some((key) => key in schema);
}

export function generateApi(providers: readonly ProviderShape[], options: ApiOptions = {}): GeneratedApi {
  const identifiers = assignNamespaceIdentifiers(providers.map((p) => p.namespace));
  const renames: ToolRename[] = [];
  const namespaces = providers.map((provider, i) => {
    const result = namespaceApi(provider, identifiers[i], options);
    renames.push(...result.renames);
    return result.api;
  });
  return { namespaces, renames, text: namespaces.map((n) => n.text).join("\n") };
}

function namespaceApi(provider: ProviderShape, identifier: string, options: ApiOptions): { api: NamespaceApi; renames: ToolRename[] } {
  const writer = new TypeWriter(options);
  const { identifiers, renames } = assignToolIdentifiers(provider.namespace, provider.tools.map((t) => t.name));
  const scopeOf = (schema: JsonSchema | undefined): SchemaScope => ({ root: schema, definitions: provider.definitions });
  const roots: ShapeRoot[] = provider.tools.flatMap((tool) => [
    ...(takesNoInput(tool.inputSchema) ? [] : [{ schema: tool.inputSchema, scope: scopeOf(tool.inputSchema) }]),
    { schema: tool.outputSchema, scope: scopeOf(tool.outputSchema) },
  ]);
  writer.useShapes(findSharedShapes(roots, (ref, scope) => writer.resolve(ref, scope)));
  // Tool type names first, so they do not depend on which schemas the tools happen to mention.
  const typeNames = provider.tools.map((_, i) => ({ input: writer.reserveName(`${typeIdentifier(identifiers[i])}Input`), output: writer.reserveName(`${typeIdentifier(identifiers[i])}Output`) }));
  const qualify = (text: string) => text.replaceAll(QUALIFIER, `${identifier}.`);
  const documented = provider.tools.map((tool) => (tool.description !== undefined && tool.description.trim() !== "" && !saysOnlyTheName(tool.description, tool.name) ? tool.description : undefined));
  const hoisted = hoistSharedSentences(documented, identifiers);
  const tools: ToolApi[] = [];
  const methods: string[] = [];
  provider.tools.forEach((tool, i) => {
    const references = new Set<string>();
    /** The type as the signature writes it (a name or inline) and written out in full. */
    const part = (schema: JsonSchema | undefined, name: string): { written: string; full: string } => {
      if (schema === undefined) return { written: "unknown", full: "unknown" };
      writer.bindName(schema, name);
      const slot = writer.reserveSlot();
      const { value: fragment, references: mentioned } = writer.collectReferences(() => writer.typeOf(schema, scopeOf(schema), 0));
      for (const r of mentioned) references.add(r);
      if (mentioned.includes(name)) {
        writer.fillSlot(slot, name, fragment, writer.docLines(schema, isObject(schema) && schema.description !== tool.description ? undefined : ""));
        return { written: QUALIFIER + name, full: fragment.text };
      }
      return { written: fragment.text, full: fragment.text };
    };
    const optional = inputIsOptional(tool.inputSchema);
    const input = takesNoInput(tool.inputSchema) ? { written: "", full: "" } : part(tool.inputSchema, typeNames[i].input);
    const inputReferences = [...references];
    const output = part(tool.outputSchema, typeNames[i].output);
    writer.flush();
    const docOf = (description: string | undefined): string => {
      const lines: string[] = [];
      if (description !== undefined && description.trim() !== "") lines.push(writer.docLines(true, description)[0]);
      if (tool.needsApproval === true) lines.push("@needsApproval The host must approve each call; a rejection throws ApprovalRejectedError.");
      return docComment(lines, "");
    };
    const parameter = input.written === "" ? "" : `input${optional ? "?" : ""}: ${input.written}`;
    const declaration = `${identifiers[i]}(${parameter}): Promise<${output.written}>;`;
    const signature = docOf(hoisted.descriptions[i]) + declaration;
    methods.push(signature);
    tools.push({
      name: identifiers[i],
      originalName: tool.name,
      ...(tool.description !== undefined ? { description: tool.description } : {}),
      needsApproval: tool.needsApproval === true,
      inputType: qualify(input.full),
      inputOptional: optional,
      outputType: qualify(output.full),
      signature: qualify(signature),
      standaloneSignature: qualify(docOf(documented[i]) + declaration),
      notes: hoisted.notesOf[i].map((n) => hoisted.notes[n].sentence),
      references: [...references],
      inputReferences,
      keywords: [...(tool.keywords ?? []), ...inputPropertyNames(tool.inputSchema)].join(" "),
    });
  });
  const declarations = writer.declarations();
  const types = declarations.map((d) => ({ name: d.name, declaration: d.text.replaceAll(QUALIFIER, "") }));
  let text = "";
  if (types.length > 0) text += `declare namespace ${identifier} {\n${types.map((t) => indentLines(t.declaration, INDENT)).join("\n")}\n}\n`;
  const namespaceDoc = [...(provider.description !== undefined && provider.description.trim() !== "" ? [provider.description] : []), ...hoisted.notes.map((n) => n.text)];
  text += docComment(namespaceDoc, "");
  text += `declare const ${identifier}: {\n${methods.map((m) => indentLines(qualify(m), INDENT)).join("\n")}\n};\n`;
  const notes = hoisted.notes.map((n) => ({ sentence: n.sentence, text: n.text, tools: n.tools.map((t) => identifiers[t]) }));
  const api: NamespaceApi = { namespace: provider.namespace, identifier, ...(provider.description !== undefined ? { description: provider.description } : {}), notes, tools, types, text };
  return { api, renames };
}


/** The input's property names, and those of an object property one level down (an OpenAPI body's fields). */
function inputPropertyNames(schema: JsonSchema | undefined): string[] {
  const names: string[] = [];
  const properties = isObject(schema) && isObject(schema.properties) ? schema.properties : undefined;
  if (properties === undefined) return names;
  for (const [name, inner] of Object.entries(properties)) {
    names.push(name);
    if (isObject(inner) && isObject(inner.properties)) names.push(...Object.keys(inner.properties));
  }
  return names;
}
