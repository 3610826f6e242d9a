// Object shapes that recur across a namespace's tools, found before any type is written so each
// is declared once and referenced by name. Tool schemas repeat themselves a lot: most of a GitHub
// server's tools start with the same `owner` and `repo` (descriptions and all), and a knowledge-graph
// server returns the same entity object from five tools. Written out each time, that repetition is
// most of the API's tokens.
//
// A group is a run of leading properties (key, schema, required) that several objects share: an
// object either is the group (`OwnerRepoPullNumber`) or extends it (`OwnerRepo & { path: string }`).
// Leading runs rather than arbitrary subsets: schemas put their common parameters first, the result
// reads in the source's own property order, and finding them is a linear pass over a prefix trie.

import type { JsonSchema } from "../provider.ts";
import { typeIdentifier } from "../identifiers.ts";
import type { SchemaScope } from "./type-writer.ts";

type SchemaObject = { [key: string]: unknown };

export interface ShapeGroup {
  /** How many leading properties of an object it covers. */
  length: number;
  /** The longest other group this one starts with (its declaration extends that one). */
  parent?: ShapeGroup;
  /** The first object met with these properties, and the scope its `$ref`s resolve in. */
  source: SchemaObject;
  scope: SchemaScope;
  /** What to call it, before the writer makes the name unique. */
  nameHint: string;
}

export interface ShapeRoot {
  schema: JsonSchema | undefined;
  scope: SchemaScope;
}

export interface SharedShapes {
  /** The group an object (by identity, as met in the roots) starts with, if any. */
  groupOf(schema: object): ShapeGroup | undefined;
}

/** Keys that do not change how a schema is written, so two schemas differing only in them are one shape. */
const ignoredKeys = new Set(["$schema", "$id", "$comment", "title", "examples", "example"]);

/** A use of a group costs its qualified name (`ns.OwnerRepo & `); a declaration costs `interface … {}`. In characters. */
const USE_COST = 20;
const DECLARATION_COST = 30;

function isObject(value: unknown): value is SchemaObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An object made of properties only, so a run of its properties can stand for part of it. */
function isPlainShape(schema: SchemaObject): boolean {
  if (!isObject(schema.properties) || Object.keys(schema.properties).length === 0) return false;
  if (schema.type !== undefined && schema.type !== "object") return false;
  if (["$ref", "allOf", "anyOf", "oneOf", "patternProperties", "not", "if"].some((key) => key in schema)) return false;
  return schema.additionalProperties === undefined || typeof schema.additionalProperties === "boolean";
}

/** `entities` → `Entity`: what one element of an array property is called. */
export function singular(key: string): string {
  if (/ies$/i.test(key)) return `${key.slice(0, -3)}y`;
  if (/(ss|x|ch|sh)es$/i.test(key)) return key.slice(0, -2);
  if (/[^s]s$/i.test(key)) return key.slice(0, -1);
  return `${key}Item`;
}

/** `OwnerRepoPullNumber`: a group without a better name is called after its properties (the first three and the last when there are more). */
function keysName(keys: readonly string[]): string {
  return typeIdentifier((keys.length <= 4 ? keys : [...keys.slice(0, 3), keys[keys.length - 1]]).join("_"));
}

interface Prefix {
  count: number;
  /** Occurrences that end here (the object has no further properties). */
  ends: number;
  /** Count of each next item, to tell whether all occurrences go on the same way. */
  next: Map<number, number>;
  length: number;
  source: SchemaObject;
  scope: SchemaScope;
  keys: string[];
  /** The property key every occurrence was found under, or null once two differ or one was a root. */
  context: string | null | undefined;
  group?: ShapeGroup;
}

/**
 * Finds the groups worth naming among the objects of `roots` (tool inputs and outputs, in order).
 * `resolve` is how the writer resolves a `$ref`: two references are the same when they reach the same schema.
 */
export function findSharedShapes(roots: readonly ShapeRoot[], resolve: (ref: string, scope: SchemaScope) => JsonSchema | undefined): SharedShapes {
  const interned = new Map<string, number>();
  const intern = (text: string): number => {
    let id = interned.get(text);
    if (id === undefined) interned.set(text, (id = interned.size));
    return id;
  };
  const identities = new WeakMap<object, number>();
  let nextIdentity = 0;
  const identity = (value: object): number => {
    let id = identities.get(value);
    if (id === undefined) identities.set(value, (id = nextIdentity++));
    return id;
  };
  // Canonical text per object and root: a `$ref` means whatever it resolves to from that root.
  const canonicalByRoot = new Map<unknown, WeakMap<object, string>>();

  const canonical = (value: unknown, scope: SchemaScope, memo: WeakMap<object, string>): string => {
    if (Array.isArray(value)) return `[${value.map((item) => canonical(item, scope, memo)).join(",")}]`;
    if (!isObject(value)) return JSON.stringify(value) ?? "undefined";
    const known = memo.get(value);
    if (known !== undefined) return known;
    memo.set(value, "…"); // a cycle through plain objects (not $ref) is not JSON; say something stable
    const parts: string[] = [];
    for (const key of Object.keys(value).sort()) {
      if (ignoredKeys.has(key)) continue;
      const item = value[key];
      if (key === "$ref" && typeof item === "string") {
        const target = resolve(item, scope);
        parts.push(`$ref:${isObject(target) ? `@${identity(target)}` : JSON.stringify(target ?? null)}`);
      } else parts.push(`${JSON.stringify(key)}:${canonical(item, scope, memo)}`);
    }
    const text = `#${intern(`{${parts.join(",")}}`)}`;
    memo.set(value, text);
    return text;
  };

  const prefixes = new Map<string, Prefix>();
  const itemsOf = new Map<object, string[]>();
  const wholeSeen = new Set<string>();

  const weights = new WeakMap<object, number>();
  const weightOf = (key: string, schema: unknown): number => {
    // Roughly the characters the property takes written out: its key and about half its JSON.
    if (!isObject(schema)) return key.length + 8;
    let weight = weights.get(schema);
    if (weight === undefined) weights.set(schema, (weight = Math.ceil((JSON.stringify(schema) ?? "").length * 0.6)));
    return key.length + weight;
  };

  /** Counts the object's runs of leading properties (unless it repeats one already counted) and remembers them. */
  const record = (schema: SchemaObject, scope: SchemaScope, memo: WeakMap<object, string>, context: string | null, counting: boolean): void => {
    const properties = schema.properties as SchemaObject;
    const required = new Set(Array.isArray(schema.required) ? schema.required : []);
    const keys = Object.keys(properties);
    const ids = keys.map((key) => intern(`${JSON.stringify(key)}${required.has(key) ? "!" : "?"}${canonical(properties[key], scope, memo)}`));
    const path: string[] = [];
    let key = "";
    ids.forEach((id, i) => {
      key = i === 0 ? String(id) : `${key},${id}`;
      path.push(key);
      if (!counting) return;
      let prefix = prefixes.get(key);
      if (prefix === undefined) {
        prefix = { count: 0, ends: 0, next: new Map(), length: i + 1, source: schema, scope, keys: keys.slice(0, i + 1), context: undefined };
        prefixes.set(key, prefix);
      }
      prefix.count++;
      if (i + 1 === ids.length) prefix.ends++;
      else prefix.next.set(ids[i + 1], (prefix.next.get(ids[i + 1]) ?? 0) + 1);
      prefix.context = prefix.context === undefined ? context : prefix.context === context ? context : null;
    });
    if (!itemsOf.has(schema)) itemsOf.set(schema, path);
  };

  // `counting` is off inside a repeat of an object met before: the repeat is one more use of the
  // object's own groups, not of everything inside it (which is written once, under the repeat's name).
  const visit = (schema: unknown, scope: SchemaScope, memo: WeakMap<object, string>, context: string | null, counting: boolean): void => {
    if (!isObject(schema) || typeof schema.$ref === "string") return; // a reference is named already
    let inner = counting;
    if (isPlainShape(schema)) {
      record(schema, scope, memo, context, counting);
      const whole = canonical(schema, scope, memo);
      if (wholeSeen.has(whole)) inner = false;
      wholeSeen.add(whole);
    }
    if (isObject(schema.properties)) for (const [key, value] of Object.entries(schema.properties)) visit(value, scope, memo, key, inner);
    const items = isObject(schema.items) ? [schema.items] : Array.isArray(schema.items) ? schema.items : [];
    const itemContext = context === null ? null : singular(context);
    for (const item of [...items, ...(Array.isArray(schema.prefixItems) ? schema.prefixItems : [])]) visit(item, scope, memo, itemContext, inner);
    if (isObject(schema.additionalProperties)) visit(schema.additionalProperties, scope, memo, null, inner);
    for (const key of ["allOf", "anyOf", "oneOf"]) if (Array.isArray(schema[key])) for (const member of schema[key] as unknown[]) visit(member, scope, memo, context, inner);
  };

  for (const root of roots) {
    let memo = canonicalByRoot.get(root.scope.root);
    if (memo === undefined) canonicalByRoot.set(root.scope.root, (memo = new WeakMap()));
    visit(root.schema, root.scope, memo, null, true);
  }

  // Worth a name: used more than once, the longest run its occurrences share (a run that always
  // goes on the same way is not a group of its own), and saving more than the name costs.
  for (const prefix of prefixes.values()) {
    if (prefix.count < 2) continue;
    if (prefix.ends === 0 && prefix.next.size === 1) continue;
    const properties = prefix.source.properties as SchemaObject;
    const weight = prefix.keys.reduce((sum, key) => sum + weightOf(key, properties[key]), 0);
    if ((prefix.count - 1) * weight <= prefix.count * USE_COST + DECLARATION_COST) continue;
    const whole = prefix.ends === prefix.count;
    const nameHint = whole && typeof prefix.context === "string" ? typeIdentifier(prefix.context) : keysName(prefix.keys);
    prefix.group = { length: prefix.length, source: prefix.source, scope: prefix.scope, nameHint };
  }

  const groups = new Map<object, ShapeGroup>();
  for (const [schema, path] of itemsOf) {
    let parent: ShapeGroup | undefined;
    for (const key of path) {
      const group = prefixes.get(key)?.group;
      if (group === undefined) continue;
      if (group.length > (parent?.length ?? 0) && group !== parent) {
        if (group.parent === undefined && parent !== undefined) group.parent = parent;
        parent = group;
      }
    }
    if (parent !== undefined) groups.set(schema, parent);
  }
  return { groupOf: (schema) => groups.get(schema) };
}
