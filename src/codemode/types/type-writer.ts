// JSON Schema → TypeScript type text. One TypeWriter per namespace: it owns the namespace's named
// types. A `$ref` becomes a named type (declared once, in the order first met), which is also what
// makes recursive schemas terminate. Output depends only on the input, so it is deterministic.
//
// Named references are written with QUALIFIER in front of them; the caller replaces it with "" inside
// the namespace's declarations and with "<namespace>." outside, so one rendering serves both.
//
// The text is for a model to read, and every token of it is paid for on each turn: members carry
// their doc comment on their own line (`/** … */ key: type;`), objects that fit go on one line, and
// nesting is indented by one space, which the tokenizer merges into the next word where two spaces
// cost a token of their own.

import type { JsonSchema } from "../provider.ts";
import { propertyKey, typeIdentifier } from "../identifiers.ts";
import { constraintTags, docComment, inlineDocComment, saysOnlyTheName, shortenDescription, type DocOptions } from "./doc-comment.ts";
import { resolvePointer } from "../json-pointer.ts";
import type { ShapeGroup, SharedShapes } from "./shapes.ts";

export const QUALIFIER = "\u0000";
/** One level of nesting. */
export const INDENT = " ";

type SchemaObject = { [key: string]: unknown };

/** A type's text and how tightly it binds: 0 union, 1 intersection, 2 atom (safe anywhere). */
export interface Fragment {
  text: string;
  precedence: 0 | 1 | 2;
  /** Mentions a named type, so it may be recursive (and must not become `Record<…>`). */
  named: boolean;
}

export interface SchemaScope {
  /** The schema that `#…` references resolve against. */
  root: JsonSchema | undefined;
  /** Shared schemas `#/$defs/<name>` falls back to (a source's components, see ToolProvider.definitions). */
  definitions?: Record<string, JsonSchema>;
}

export interface Declaration {
  name: string;
  /** `interface Name { … }` or `type Name = …;` with its doc comment, unindented, QUALIFIER in refs. */
  text: string;
}

const MAX_DEPTH = 64;
const SINGLE_LINE_WIDTH = 100;
const unknownType: Fragment = { text: "unknown", precedence: 2, named: false };
const annotationKeys = new Set(["description", "title", "$comment", "examples", "example", "default", "deprecated", "readOnly", "writeOnly", "$schema", "$id", "$anchor", "externalDocs", "xml", "format"]);

function isObject(value: unknown): value is SchemaObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function atom(text: string, named = false): Fragment {
  return { text, precedence: 2, named };
}

function wrap(fragment: Fragment, minimum: number): string {
  return fragment.precedence < minimum ? `(${fragment.text})` : fragment.text;
}

function union(parts: Fragment[]): Fragment {
  const seen = new Map<string, Fragment>();
  for (const part of parts) {
    if (part.text === "unknown") return unknownType;
    if (part.text === "never") continue;
    if (!seen.has(part.text)) seen.set(part.text, part);
  }
  const unique = [...seen.values()];
  if (unique.length === 0) return atom("never");
  if (unique.length === 1) return unique[0];
  return { text: unique.map((p) => wrap(p, 1)).join(" | "), precedence: 0, named: unique.some((p) => p.named) };
}

function intersection(parts: Fragment[]): Fragment {
  const seen = new Map<string, Fragment>();
  for (const part of parts) {
    if (part.text === "never") return part;
    if (part.text === "unknown" || part.text === "{}") continue;
    if (!seen.has(part.text)) seen.set(part.text, part);
  }
  const unique = [...seen.values()];
  if (unique.length === 0) return unknownType;
  if (unique.length === 1) return unique[0];
  return { text: unique.map((p) => wrap(p, 2)).join(" & "), precedence: 1, named: unique.some((p) => p.named) };
}

function literal(value: unknown): Fragment {
  if (value === null) return atom("null");
  if (typeof value === "string") return atom(JSON.stringify(value));
  if (typeof value === "number") return Number.isFinite(value) ? atom(String(value)) : atom("number");
  if (typeof value === "boolean") return atom(String(value));
  return unknownType;
}

function pointerOf(ref: string): string | undefined {
  if (!ref.startsWith("#")) return undefined;
  try {
    return decodeURIComponent(ref.slice(1));
  } catch {
    return undefined;
  }
}

/** A schema that is only a reference (annotations aside). */
function bareRef(schema: SchemaObject): string | undefined {
  if (typeof schema.$ref !== "string") return undefined;
  for (const key of Object.keys(schema)) if (key !== "$ref" && !annotationKeys.has(key)) return undefined;
  return schema.$ref;
}

export class TypeWriter {
  private readonly names = new Map<object, string>();
  private readonly taken = new Set<string>();
  private readonly declared: (Declaration | undefined)[] = [];
  private readonly pending: ({ index: number; name: string } & ({ target: JsonSchema; scope: SchemaScope } | { group: ShapeGroup }))[] = [];
  private shapes: SharedShapes | undefined;
  private readonly groupNames = new Map<ShapeGroup, string>();
  /** Named types a rendering mentioned; reset by `collectReferences`. */
  private references: Set<string> | undefined;

  constructor(private readonly docs: DocOptions = {}) {}

  /** A type name no other declaration of this namespace uses, based on `hint`. */
  reserveName(hint: string): string {
    const base = typeIdentifier(hint);
    let name = base;
    for (let n = 2; this.taken.has(name); n++) name = `${base}${n}`;
    this.taken.add(name);
    return name;
  }

  /** Objects that start with one of these groups are written as the group's name (and the rest). */
  useShapes(shapes: SharedShapes): void {
    this.shapes = shapes;
  }

  /** Makes `schema` (by identity) known under `name`, so references to it (e.g. `#`) use that name. */
  bindName(schema: JsonSchema | undefined, name: string): void {
    if (isObject(schema) && !this.names.has(schema)) this.names.set(schema, name);
  }

  /** Renders `schema` as a type; `indent` is the nesting of the place it is written at. */
  typeOf(schema: JsonSchema | undefined, scope: SchemaScope, indent = 0): Fragment {
    return this.render(schema, scope, indent, 0);
  }

  /** A place among the declarations for a type about to be rendered, so it precedes the types it mentions. */
  reserveSlot(): number {
    this.declared.push(undefined);
    return this.declared.length - 1;
  }

  /** Fills a reserved slot with a declaration of an already rendered type (or leaves it empty). */
  fillSlot(slot: number, name: string, body: Fragment, docLines: string[]): void {
    this.declared[slot] = { name, text: this.format(name, body, docLines) };
  }

  /** Declares `schema` as `name` (with the schema's description, or `description`). */
  declare(name: string, schema: JsonSchema | undefined, scope: SchemaScope, description?: string): void {
    const slot = this.reserveSlot();
    this.declared[slot] = this.declaration(name, schema, scope, description);
  }

  /**
   * The doc comment lines of a schema: its description, shortened (left out when it only restates
   * `name`, the property or tool it describes), deprecation, and default, bounds and format as tags.
   */
  docLines(schema: JsonSchema | undefined, description?: string, name?: string): string[] {
    const lines: string[] = [];
    const text = description ?? (isObject(schema) && typeof schema.description === "string" ? schema.description : undefined);
    if (text !== undefined && text.trim() !== "" && !(name !== undefined && saysOnlyTheName(text, name))) lines.push(shortenDescription(text, this.docs.maxDescriptionLength));
    if (isObject(schema) && schema.deprecated === true) lines.push("@deprecated");
    const tags = isObject(schema) ? constraintTags(schema) : "";
    if (tags !== "") lines.push(tags);
    return lines;
  }

  /** Runs `render` and returns what it produced with the named types it mentioned directly. */
  collectReferences<T>(render: () => T): { value: T; references: string[] } {
    const outer = this.references;
    const references = new Set<string>();
    this.references = references;
    try {
      const value = render();
      return { value, references: [...references] };
    } finally {
      this.references = outer;
    }
  }

  /** Every declaration so far, in the order their names were first needed. */
  declarations(): Declaration[] {
    this.flush();
    return this.declared.filter((d): d is Declaration => d !== undefined);
  }

  /** Declares the named types met so far (so they follow the tool that first needed them). */
  flush(): void {
    const outer = this.references;
    this.references = undefined;
    try {
      while (this.pending.length > 0) {
        const next = this.pending.shift()!;
        this.declared[next.index] = "group" in next ? this.groupDeclaration(next.name, next.group) : this.declaration(next.name, next.target, next.scope, undefined);
      }
    } finally {
      this.references = outer;
    }
  }

  private declaration(name: string, schema: JsonSchema | undefined, scope: SchemaScope, description: string | undefined): Declaration {
    const body = isObject(schema) && this.isAliasCycle(schema, scope) ? unknownType : this.render(schema, scope, 0, 0);
    return { name, text: this.format(name, body, this.docLines(schema, description)) };
  }

  /** `interface OwnerRepoPullNumber extends OwnerRepo { pull_number: number }`: the group's own properties after its parent's. */
  private groupDeclaration(name: string, group: ShapeGroup): Declaration {
    const properties = Object.entries(group.source.properties as SchemaObject).slice(group.parent?.length ?? 0, group.length);
    const required = new Set(Array.isArray(group.source.required) ? group.source.required : []);
    const parent = group.parent === undefined ? "" : ` extends ${this.groupType(group.parent).text}`;
    return { name, text: `interface ${name}${parent} ${this.members(properties, required, group.scope, 0, 0).text}` };
  }

  /** A group as a type: its name, declared the first time it is needed. */
  private groupType(group: ShapeGroup): Fragment {
    let name = this.groupNames.get(group);
    if (name === undefined) {
      name = this.reserveName(group.nameHint);
      this.groupNames.set(group, name);
      this.declared.push(undefined);
      this.pending.push({ index: this.declared.length - 1, name, group });
    }
    this.references?.add(name);
    return atom(QUALIFIER + name, true);
  }

  private format(name: string, body: Fragment, docLines: string[]): string {
    const doc = docComment(docLines, "");
    const isLiteral = body.precedence === 2 && body.text.startsWith("{") && body.text.endsWith("}");
    return isLiteral ? `${doc}interface ${name} ${body.text}` : `${doc}type ${name} = ${body.text};`;
  }

  /** `A = B`, `B = A`: TypeScript rejects such aliases, so the cycle's types become unknown. */
  private isAliasCycle(schema: SchemaObject, scope: SchemaScope): boolean {
    const seen = new Set<object>([schema]);
    let current: SchemaObject = schema;
    for (let step = 0; step < 32; step++) {
      const ref = bareRef(current);
      if (ref === undefined) return false;
      const target = this.resolve(ref, scope);
      if (!isObject(target)) return false;
      if (seen.has(target)) return true;
      seen.add(target);
      current = target;
    }
    return true;
  }

  /** What a `$ref` points at from `scope`: its own root first, then the shared definitions. */
  resolve(ref: string, scope: SchemaScope): JsonSchema | undefined {
    const pointer = pointerOf(ref);
    if (pointer === undefined) return undefined;
    const own = resolvePointer(scope.root, pointer) as JsonSchema | undefined;
    if (own !== undefined) return own;
    const shared = /^\/(\$defs|definitions)(\/.*)$/.exec(pointer);
    if (shared !== null && scope.definitions !== undefined) return resolvePointer(scope.definitions, shared[2]) as JsonSchema | undefined;
    return undefined;
  }

  private refType(ref: string, scope: SchemaScope, depth: number): Fragment {
    const target = this.resolve(ref, scope);
    if (target === undefined) return unknownType;
    if (!isObject(target)) return this.render(target, scope, 0, depth + 1);
    let name = this.names.get(target);
    if (name === undefined) {
      const pointer = pointerOf(ref)!;
      const last = pointer.slice(pointer.lastIndexOf("/") + 1).replace(/~1/g, "/").replace(/~0/g, "~");
      name = this.reserveName(typeof target.title === "string" && last === "" ? target.title : last || "Root");
      this.names.set(target, name);
      const index = this.declared.length;
      this.declared.push(undefined);
      this.pending.push({ index, target, scope, name });
    }
    this.references?.add(name);
    return atom(QUALIFIER + name, true);
  }

  private render(schema: JsonSchema | undefined, scope: SchemaScope, indent: number, depth: number): Fragment {
    if (schema === undefined || schema === true) return unknownType;
    if (schema === false) return atom("never");
    if (!isObject(schema) || depth > MAX_DEPTH) return unknownType;
    const type = this.core(schema, scope, indent, depth);
    return schema.nullable === true ? union([type, atom("null")]) : type;
  }

  private core(schema: SchemaObject, scope: SchemaScope, indent: number, depth: number): Fragment {
    if (typeof schema.$ref === "string") {
      const ref = this.refType(schema.$ref, scope, depth);
      const { $ref: _ref, ...rest } = schema;
      const structural = ["properties", "allOf", "oneOf", "anyOf", "items", "enum", "const"].some((key) => key in rest);
      return structural ? intersection([ref, this.core(rest, scope, indent, depth + 1)]) : ref;
    }
    if ("const" in schema) return literal(schema.const);
    if (Array.isArray(schema.enum)) return union(schema.enum.map(literal));
    const combined: Fragment[] = [];
    const alternatives = [schema.oneOf, schema.anyOf].filter(Array.isArray) as JsonSchema[][];
    if (Array.isArray(schema.allOf) || alternatives.length > 0) {
      const { allOf, oneOf: _oneOf, anyOf: _anyOf, ...base } = schema;
      const baseType = this.hasStructure(base) ? this.core(base, scope, indent, depth + 1) : undefined;
      // A member that says nothing about its type (e.g. only `format`) has the parent's type.
      const member = (m: JsonSchema): Fragment => {
        const t = this.render(m, scope, indent, depth + 1);
        return t.text === "unknown" && typeof base.type === "string" && baseType === undefined ? this.core({ type: base.type }, scope, indent, depth + 1) : t;
      };
      if (baseType !== undefined) combined.push(baseType);
      if (Array.isArray(allOf)) combined.push(...(allOf as JsonSchema[]).map(member));
      for (const list of alternatives) combined.push(union(list.map(member)));
      return intersection(combined);
    }
    if (Array.isArray(schema.type)) {
      return union(schema.type.map((t) => (typeof t === "string" ? this.ofType(t, schema, scope, indent, depth) : unknownType)));
    }
    if (typeof schema.type === "string") return this.ofType(schema.type, schema, scope, indent, depth);
    if (isObject(schema.properties) || isObject(schema.patternProperties) || "additionalProperties" in schema) return this.objectType(schema, scope, indent, depth);
    if ("items" in schema || "prefixItems" in schema) return this.arrayType(schema, scope, indent, depth);
    return unknownType;
  }

  private hasStructure(schema: SchemaObject): boolean {
    return isObject(schema.properties) || isObject(schema.additionalProperties) || isObject(schema.patternProperties) || "items" in schema || (typeof schema.type === "string" && schema.type !== "object") || Array.isArray(schema.type);
  }

  private ofType(type: string, schema: SchemaObject, scope: SchemaScope, indent: number, depth: number): Fragment {
    switch (type) {
      case "string":
        return atom("string");
      case "number":
      case "integer":
        return atom("number");
      case "boolean":
        return atom("boolean");
      case "null":
        return atom("null");
      case "array":
        return this.arrayType(schema, scope, indent, depth);
      case "object":
        return this.objectType(schema, scope, indent, depth);
      default:
        return unknownType;
    }
  }

  private arrayType(schema: SchemaObject, scope: SchemaScope, indent: number, depth: number): Fragment {
    const prefix = Array.isArray(schema.prefixItems) ? schema.prefixItems : Array.isArray(schema.items) ? schema.items : undefined;
    if (prefix !== undefined) {
      const rest = Array.isArray(schema.prefixItems) ? schema.items : schema.additionalItems;
      const minItems = typeof schema.minItems === "number" ? schema.minItems : prefix.length;
      const elements = prefix.map((item, i) => {
        const t = this.render(item as JsonSchema, scope, indent, depth + 1);
        return i >= minItems ? `${wrap(t, 2)}?` : t.text;
      });
      const named = elements.some((e) => e.includes(QUALIFIER));
      if (rest !== undefined && rest !== false) elements.push(`...${wrap(this.render(rest as JsonSchema, scope, indent, depth + 1), 2)}[]`);
      return atom(`[${elements.join(", ")}]`, named);
    }
    const item = this.render(schema.items as JsonSchema | undefined, scope, indent, depth + 1);
    return atom(`${wrap(item, 2)}[]`, item.named);
  }

  private objectType(schema: SchemaObject, scope: SchemaScope, indent: number, depth: number): Fragment {
    const group = this.shapes?.groupOf(schema);
    const all = isObject(schema.properties) ? Object.entries(schema.properties) : [];
    const properties = group === undefined ? all : all.slice(group.length);
    const required = new Set(Array.isArray(schema.required) ? schema.required.filter((r) => typeof r === "string") : []);
    const extra: Fragment[] = [];
    if (isObject(schema.additionalProperties) || schema.additionalProperties === true) extra.push(this.render(schema.additionalProperties as JsonSchema, scope, indent + 1, depth + 1));
    if (isObject(schema.patternProperties)) for (const value of Object.values(schema.patternProperties)) extra.push(this.render(value as JsonSchema, scope, indent + 1, depth + 1));
    const extraType = extra.length > 0 ? union(extra) : undefined;
    const base = group === undefined ? undefined : this.groupType(group);
    if (properties.length === 0) {
      // A group's objects admit no other properties by a schema (see isPlainShape), so the name is all of it.
      if (base !== undefined) return base;
      if (extraType === undefined) return atom(schema.additionalProperties === false ? "{}" : "Record<string, unknown>");
      return extraType.named ? atom(`{ [key: string]: ${extraType.text} }`, true) : atom(`Record<string, ${extraType.text}>`);
    }
    const body = this.members(properties, required, scope, indent, depth, schema.additionalProperties === true ? undefined : extraType);
    return base === undefined ? body : intersection([base, body]);
  }

  /** `{ key: type; … }` for `properties`, on one line when it fits and no doc comment needs a block. */
  private members(properties: [string, unknown][], required: ReadonlySet<unknown>, scope: SchemaScope, indent: number, depth: number, index?: Fragment): Fragment {
    const inner = INDENT.repeat(indent + 1);
    const members: { block: string; line: string }[] = [];
    let named = false;
    const requiredTypes: string[] = [];
    for (const [key, value] of properties) {
      const t = this.render(value as JsonSchema, scope, indent + 1, depth + 1);
      named ||= t.named;
      requiredTypes.push(required.has(key) ? t.text : "");
      const line = `${propertyKey(key)}${required.has(key) ? "" : "?"}: ${t.text};`;
      const doc = this.docLines(value as JsonSchema, undefined, key);
      const inline = inlineDocComment(doc);
      members.push(inline === undefined ? { block: docComment(doc, inner), line } : { block: "", line: inline === "" ? line : `${inline} ${line}` });
    }
    if (index !== undefined) {
      // An index signature must admit every property's type; when it would not, it says unknown.
      const fits = requiredTypes.every((t) => t === index.text);
      members.push({ block: "", line: `[key: string]: ${fits ? index.text : "unknown"};` });
      named ||= index.named;
    }
    const oneLine = `{ ${members.map((m) => m.line).join(" ").replace(/;$/, "")} }`;
    if (members.every((m) => m.block === "") && !oneLine.includes("\n") && oneLine.length + indent * INDENT.length <= SINGLE_LINE_WIDTH) return atom(oneLine, named);
    const outer = INDENT.repeat(indent);
    return atom(`{\n${members.map((m) => `${m.block}${inner}${m.line}`).join("\n")}\n${outer}}`, named);
  }
}
