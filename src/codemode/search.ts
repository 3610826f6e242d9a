// The `search` half of the two-tool surface: the model's code runs in a fresh sandbox whose
// globals describe the API (namespaces, tools, their TypeScript declarations) and returns what
// matches. The catalog is plain data, copied in as a JSON module; the sandbox gets nothing else:
// no tools to call, no network.

import { WorkerLoader, type Limits, type TailEvent } from "../index.ts";
import type { Catalog } from "./catalog.ts";
import { CODE_MODULE, CodeSyntaxError, prepareUserCode } from "./executor/code-form.ts";
import { formatLogs } from "./executor/logs.ts";

export interface SearchNamespace {
  /** The global the namespace is reached through in `execute`. */
  name: string;
  /** The namespace as the config named it, when sanitising changed it. */
  originalName?: string;
  description?: string;
  tools: number;
}

export interface SearchTool {
  /** How code calls it: `namespace.name`. */
  path: string;
  namespace: string;
  name: string;
  /** The name the source gave the tool (MCP tool name, OpenAPI operationId), before sanitising. */
  originalName: string;
  description: string;
  needsApproval: boolean;
  /** The method's declaration with its doc comment (the whole description). */
  signature: string;
  // The rest is for the sandbox's own use; search code does not see it on the tool objects.
  /** The declaration without the sentences in `notes`, for a declaration that says them once for several methods (only when there are notes). */
  signatureWithoutNotes?: string;
  /** Sentences of the description several tools of the namespace share word for word. */
  notes: string[];
  /** Named types of the namespace the signature mentions directly. */
  types: string[];
}

export interface SearchType {
  namespace: string;
  name: string;
  declaration: string;
  /** Other named types of the namespace this one mentions. */
  types: string[];
}

/** What search code sees. `declaration` (the signature with every type it needs) is computed in the sandbox on first read. */
export interface SearchCatalog {
  namespaces: SearchNamespace[];
  tools: SearchTool[];
  types: SearchType[];
}

export interface SearchOutcome {
  result: unknown;
  error?: string;
  logs?: string[];
}

export interface SearchOptions {
  limits?: Limits;
}

const DEFAULT_SEARCH_LIMITS: Limits = { cpuMs: 2000, memoryMb: 256, wallMs: 10000 };

function mentioned(text: string, names: ReadonlySet<string>): string[] {
  const found = new Set<string>();
  for (const word of text.match(/[A-Za-z_$][\w$]*/g) ?? []) if (names.has(word)) found.add(word);
  return [...found];
}

/** Turns part A's catalog into the search sandbox's data, with each type's references precomputed. */
export function searchCatalog(catalog: Catalog): SearchCatalog {
  const namesByNamespace = new Map<string, Set<string>>();
  for (const type of catalog.types) {
    let names = namesByNamespace.get(type.namespace);
    if (names === undefined) namesByNamespace.set(type.namespace, (names = new Set()));
    names.add(type.name);
  }
  const types = catalog.types.map((type) => {
    const names = namesByNamespace.get(type.namespace)!;
    return { namespace: type.namespace, name: type.name, declaration: type.declaration, types: mentioned(type.declaration, names).filter((name) => name !== type.name) };
  });
  return {
    namespaces: catalog.namespaces.map((ns) => ({
      name: ns.namespace,
      ...(ns.originalName !== ns.namespace ? { originalName: ns.originalName } : {}),
      ...(ns.description ? { description: ns.description } : {}),
      tools: ns.tools,
    })),
    tools: catalog.tools.map((tool) => ({
      path: `${tool.namespace}.${tool.name}`,
      namespace: tool.namespace,
      name: tool.name,
      originalName: tool.originalName,
      description: tool.description,
      needsApproval: tool.needsApproval,
      signature: tool.standaloneSignature,
      ...(tool.notes.length > 0 ? { signatureWithoutNotes: tool.signature } : {}),
      notes: tool.notes,
      types: tool.types,
    })),
    types,
  };
}

// Runs in the sandbox: makes `namespaces`, `tools` and `types` globals, gives every tool a lazy
// `declaration`, and `declarations(list)`: several tools' declarations with each type they need
// written once. A declaration has the form of the API itself, cut down to the tools asked for:
// `declare namespace ns { …every type they need, transitively… }` and `declare const ns: { … }`
// with their signatures. A sentence every one of those tools' descriptions shares (see
// types/notes.ts) is said once, above the methods, instead of in each.
const RUNNER = `
import { WorkerEntrypoint } from "cloudflare:workers";
import catalog from "./catalog.json";
import code from "./${CODE_MODULE}";
const byName = new Map(catalog.types.map((t) => [t.namespace + "." + t.name, t]));
const inner = new Map();
const byPath = new Map();
for (const tool of catalog.tools) {
  inner.set(tool, { types: tool.types, notes: tool.notes, signatureWithoutNotes: tool.signatureWithoutNotes ?? tool.signature });
  delete tool.types;
  delete tool.notes;
  delete tool.signatureWithoutNotes;
  byPath.set(tool.path, tool);
}
const indent = (text) => text.replace(/^(?=.)/gm, " ");
function declarationOf(list) {
  const groups = new Map();
  for (const tool of list) {
    let group = groups.get(tool.namespace);
    if (group === undefined) groups.set(tool.namespace, (group = []));
    if (!group.includes(tool)) group.push(tool);
  }
  let text = "";
  for (const [namespace, group] of groups) {
    const needed = new Map();
    const visit = (name) => {
      const type = byName.get(namespace + "." + name);
      if (type === undefined || needed.has(name)) return;
      needed.set(name, type);
      type.types.forEach(visit);
    };
    for (const tool of group) inner.get(tool).types.forEach(visit);
    if (needed.size > 0) text += "declare namespace " + namespace + " {\\n" + [...needed.values()].map((t) => indent(t.declaration)).join("\\n") + "\\n}\\n";
    const shared = group.length < 2 ? [] : inner.get(group[0]).notes.filter((note) => group.every((tool) => inner.get(tool).notes.includes(note)));
    const notes = shared.map((note) => "Every method: " + note.replace(/\\*\\//g, "*\\\\/"));
    if (notes.length === 1) text += "/** " + notes[0] + " */\\n";
    else if (notes.length > 1) text += "/**\\n" + notes.map((note) => " * " + note).join("\\n") + "\\n */\\n";
    const signatures = group.map((tool) => {
      const own = inner.get(tool);
      return own.notes.every((note) => shared.includes(note)) ? own.signatureWithoutNotes : tool.signature;
    });
    text += "declare const " + namespace + ": {\\n" + signatures.map(indent).join("\\n") + "\\n};\\n";
  }
  return text.trimEnd();
}
for (const tool of catalog.tools) {
  let cached;
  Object.defineProperty(tool, "declaration", { get: () => (cached ??= declarationOf([tool])), enumerable: true });
}
globalThis.declarations = (list) =>
  declarationOf((Array.isArray(list) ? list : [list]).map((item) => byPath.get(typeof item === "string" ? item : item?.path)).filter((tool) => tool !== undefined));
globalThis.namespaces = catalog.namespaces;
globalThis.tools = catalog.tools;
globalThis.types = catalog.types;
export default class extends WorkerEntrypoint {
  async run() {
    let value = typeof code === "function" ? await code() : await code;
    if (typeof value === "function") value = await value();
    return value;
  }
}`;

/** Runs search code against the catalog in a fresh sandbox; never throws for problems in the code. */
export async function runSearch(loader: WorkerLoader, catalog: SearchCatalog, code: string, options: SearchOptions = {}): Promise<SearchOutcome> {
  if (typeof code !== "string") return { result: undefined, error: "TypeError: code must be a string" };
  let source: string;
  try {
    source = prepareUserCode(code).source;
  } catch (error) {
    if (error instanceof CodeSyntaxError) return { result: undefined, error: `SyntaxError: ${error.message}` };
    throw error;
  }
  let event: TailEvent | undefined;
  const worker = loader.load({
    compatibilityDate: "2026-11-01",
    mainModule: "runner.js",
    modules: { "runner.js": RUNNER, "catalog.json": { json: catalog }, [CODE_MODULE]: source },
    globalOutbound: null,
    limits: { ...DEFAULT_SEARCH_LIMITS, ...options.limits },
    tails: [(events: TailEvent[]) => void (event = events.find((e) => e.method === "run") ?? event)],
  });
  let outcome: SearchOutcome;
  try {
    outcome = { result: await (worker.getEntrypoint() as unknown as { run(): Promise<unknown> }).run() };
  } catch (error) {
    const { name, message } = error as Error;
    outcome = { result: undefined, error: `${name ?? "Error"}: ${message}` };
  } finally {
    worker.dispose();
  }
  const logs = event ? formatLogs(event.logs) : [];
  return logs.length ? { ...outcome, logs } : outcome;
}

/** JSON.stringify replacer for values that crossed the boundary: keeps Maps, Sets, bigints, bytes and errors readable. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (value instanceof ArrayBuffer) return { bytes: Buffer.from(value).toString("base64") };
  if (ArrayBuffer.isView(value)) return { bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64") };
  return value;
}
