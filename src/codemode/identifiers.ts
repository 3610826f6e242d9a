// Names from tool sources (MCP tool names, operationIds, namespaces a host picks) become JavaScript
// identifiers the model writes. Characters outside [A-Za-z0-9_$] become "_", keeping the source's own
// words and casing so the model recognises them (`get-user` → `get_user`, `repos/get` → `repos_get`).
//
// Collisions: tool names come from upstreams the host cannot rename, so colliding tools are
// disambiguated deterministically (in the source's order, the first keeps the name, later ones get
// `_2`, `_3`, …) and reported. Namespaces are the host's choice, so a collision there is an error
// (NamespaceCollisionError) the host fixes by renaming.

import { NamespaceCollisionError } from "./errors.ts";

const reservedWords = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends false finally for function if import in " +
    "instanceof new null return super switch this throw true try typeof var void while with yield let static implements interface package " +
    "private protected public await arguments eval undefined NaN Infinity async of"
  ).split(" "),
);

/**
 * Globals of the sandbox a namespace must not replace: the model's code still needs them, and
 * the generated wrapper uses some of them.
 */
const sandboxGlobals = new Set(
  (
    "globalThis self console fetch Object Array Function Promise JSON Math Reflect Proxy Symbol String Number Boolean BigInt Date RegExp " +
    "Error TypeError RangeError SyntaxError ReferenceError EvalError URIError AggregateError Map Set WeakMap WeakSet WeakRef " +
    "FinalizationRegistry ArrayBuffer DataView Uint8Array Int8Array Uint16Array Int16Array Uint32Array Int32Array Float32Array " +
    "Float64Array BigInt64Array BigUint64Array Uint8ClampedArray Atomics Intl WebAssembly URL URLSearchParams Headers Request " +
    "Response TextEncoder TextDecoder structuredClone setTimeout clearTimeout setInterval clearInterval queueMicrotask crypto " +
    "performance navigator scheduler atob btoa Blob File FormData AbortController AbortSignal Event EventTarget DOMException " +
    "ReadableStream WritableStream TransformStream isNaN isFinite parseInt parseFloat encodeURIComponent decodeURIComponent " +
    "encodeURI decodeURI escape unescape"
  ).split(" "),
);

/** Type names the generated declarations use themselves; a schema named like one gets a suffix. */
const reservedTypeNames = new Set(["Record", "Promise", "Array", "Date", "Uint8Array", "Partial", "Readonly", "Object", "Function", "Error", "Map", "Set", "Symbol", "String", "Number", "Boolean", "Omit", "Pick"]);

/** `name` with every character outside [A-Za-z0-9_$] replaced, runs collapsed, and a safe first character. */
function identifierCharacters(name: string): string {
  let out = name.replace(/^[^A-Za-z0-9_$]+|[^A-Za-z0-9_$]+$/g, "").replace(/[^A-Za-z0-9_$]+/g, "_");
  if (out === "") return "_";
  if (/^[0-9]/.test(out)) out = `_${out}`;
  return out;
}

/** A tool name as a property name the model can write after a dot. */
export function toolIdentifier(name: string): string {
  const out = identifierCharacters(name);
  return out === "__proto__" ? "__proto___" : out;
}

/** A namespace as a global variable name: also avoids reserved words and the sandbox's own globals. */
export function namespaceIdentifier(name: string): string {
  const out = identifierCharacters(name);
  return reservedWords.has(out) || sandboxGlobals.has(out) ? `${out}_` : out;
}

/** A schema or tool name as a PascalCase type name: `simple-user` → `SimpleUser`, `repos/get` → `ReposGet`. */
export function typeIdentifier(name: string): string {
  const words = name.split(/[^A-Za-z0-9]+/).filter((w) => w !== "");
  let out = words.map((w) => w[0].toUpperCase() + w.slice(1)).join("");
  if (out === "") out = "Type";
  if (/^[0-9]/.test(out)) out = `T${out}`;
  return reservedTypeNames.has(out) ? `${out}_` : out;
}

export function isIdentifier(name: string): boolean {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name);
}

/** A property key as TypeScript/JavaScript writes it: bare when it is an identifier, quoted otherwise. */
export function propertyKey(name: string): string {
  return isIdentifier(name) ? name : JSON.stringify(name);
}

export interface ToolRename {
  namespace: string;
  originalName: string;
  identifier: string;
  /** Why the identifier differs from a plain sanitising of the name. */
  reason: "collision";
}

/** Identifiers for one namespace's tools, in order; duplicates get `_2`, `_3`, … and are reported. */
export function assignToolIdentifiers(namespace: string, names: readonly string[]): { identifiers: string[]; renames: ToolRename[] } {
  const taken = new Set<string>();
  const identifiers: string[] = [];
  const renames: ToolRename[] = [];
  for (const name of names) {
    const base = toolIdentifier(name);
    let identifier = base;
    for (let n = 2; taken.has(identifier); n++) identifier = `${base}_${n}`;
    taken.add(identifier);
    identifiers.push(identifier);
    if (identifier !== base) renames.push({ namespace, originalName: name, identifier, reason: "collision" });
  }
  return { identifiers, renames };
}

/** Identifiers for the namespaces of a provider set; two namespaces with one identifier throw. */
export function assignNamespaceIdentifiers(namespaces: readonly string[]): string[] {
  const seen = new Map<string, string>();
  return namespaces.map((namespace) => {
    const identifier = namespaceIdentifier(namespace);
    const other = seen.get(identifier);
    if (other !== undefined) throw new NamespaceCollisionError(identifier, [other, namespace]);
    seen.set(identifier, namespace);
    return identifier;
  });
}
