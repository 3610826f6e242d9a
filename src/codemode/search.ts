// The `search` half of the two-tool surface: the model's code runs in a fresh sandbox whose
// globals describe the API (namespaces, tools, their TypeScript declarations) and returns what
// matches. The catalog is plain data, copied in as a JSON module; the sandbox gets nothing else:
// no tools to call, no network.

import { WorkerLoader, type Limits, type TailEvent } from "../index.ts";
import type { Catalog } from "./catalog.ts";
import type { PromptInfo, ResourceInfo } from "./provider.ts";
import { CODE_MODULE, CodeSyntaxError, prepareUserCode } from "./executor/code-form.ts";
import { formatLogs } from "./executor/logs.ts";

export interface SearchNamespace {
  /** The global the namespace is reached through in `execute`. */
  name: string;
  /** The namespace as the config named it, when sanitising changed it. */
  originalName?: string;
  description?: string;
  tools: number;
  /** How to use the source, as its server says (MCP instructions). */
  instructions?: string;
  /** Resources and prompts the source offers besides tools. */
  resources?: ResourceInfo[];
  prompts?: PromptInfo[];
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
  /** Those of `types` the input mentions: declared in full, however deep. */
  inputTypes: string[];
  /** What find() ranks by besides names and description (method, path, tags, input property names). */
  keywords: string;
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
  /** Aborting it (the client gone, the call cancelled) ends the search: its sandbox is ended at once. */
  signal?: AbortSignal;
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
      ...(ns.instructions !== undefined ? { instructions: ns.instructions } : {}),
      ...(ns.resources !== undefined ? { resources: ns.resources } : {}),
      ...(ns.prompts !== undefined ? { prompts: ns.prompts } : {}),
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
      inputTypes: tool.inputTypes,
      keywords: tool.keywords,
    })),
    types,
  };
}

// Runs in the sandbox: find(query, { limit, namespace }), the tools ranked by BM25F over their
// names (weighed most), descriptions and keywords (an operation's method, path, tags and long
// description; the input's property names), with light English stemming ("creates", "created" and
// "create" meet). The index is made on the first call, so code that only filters pays nothing.
const FIND = String.raw`
const STOP_WORDS = new Set("a an and are as at be by for from in into is it its of on or that the this to with".split(" "));
function stem(word) {
  let w = word;
  if (w.length > 4 && w.endsWith("ies")) w = w.slice(0, -3) + "y";
  else if (w.endsWith("sses")) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith("s") && !w.endsWith("ss")) w = w.slice(0, -1);
  const base = w;
  if (w.length > 5 && w.endsWith("ing")) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith("ed")) w = w.slice(0, -2);
  // "starred" and "starring" meet "star": a doubled final consonant left by the cut is undone.
  if (w !== base && /([b-df-hj-kmnp-rtv-z])\1$/.test(w)) w = w.slice(0, -1);
  if (w.length > 3 && w.endsWith("e")) w = w.slice(0, -1);
  return w;
}
function terms(text) {
  const out = [];
  for (const word of String(text).replace(/(\p{Ll}|\p{N})(\p{Lu})/gu, "$1 $2").toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
    if (word !== "" && !STOP_WORDS.has(word)) out.push(stem(word));
  }
  return out;
}
const FIELDS = [
  { weight: 3, of: (tool) => tool.namespace + " " + tool.name + " " + tool.originalName },
  { weight: 1.5, of: (tool) => tool.description },
  { weight: 1, of: (tool) => inner.get(tool).keywords },
];
let index;
function buildIndex() {
  const docs = [];
  const documentFrequency = new Map();
  const totals = FIELDS.map(() => 0);
  for (const tool of catalog.tools) {
    const fields = FIELDS.map((field, i) => {
      const counts = new Map();
      const list = terms(field.of(tool) ?? "");
      for (const term of list) counts.set(term, (counts.get(term) ?? 0) + 1);
      totals[i] += list.length;
      return { counts, length: list.length };
    });
    const seen = new Set();
    for (const field of fields) for (const term of field.counts.keys()) seen.add(term);
    for (const term of seen) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
    docs.push({ tool, fields });
  }
  const average = totals.map((total) => Math.max(1, total / Math.max(1, docs.length)));
  return { docs, documentFrequency, average };
}
globalThis.find = (query, options = {}) => {
  index ??= buildIndex();
  const limit = Number.isInteger(options?.limit) && options.limit > 0 ? options.limit : 10;
  const namespace = typeof options?.namespace === "string" ? options.namespace : undefined;
  const wanted = [...new Set(terms(query ?? ""))];
  const n = index.docs.length;
  const k1 = 1.2, b = 0.75;
  const scored = [];
  for (const doc of index.docs) {
    if (namespace !== undefined && doc.tool.namespace !== namespace) continue;
    let score = 0;
    for (const term of wanted) {
      let tf = 0;
      doc.fields.forEach((field, i) => {
        const count = field.counts.get(term);
        if (count !== undefined) tf += (FIELDS[i].weight * count) / (1 - b + (b * field.length) / index.average[i]);
      });
      if (tf === 0) continue;
      const df = index.documentFrequency.get(term) ?? 0;
      score += Math.log(1 + (n - df + 0.5) / (df + 0.5)) * ((tf * (k1 + 1)) / (tf + k1));
    }
    if (score === 0) continue;
    // A description that says the query and little else is the tool asked for: "Create an issue"
    // before "Create reaction for an issue". The share of the description's words the query has,
    // times the share of the query's words the tool has anywhere, scales the score up to 2x.
    const description = doc.fields[1];
    let said = 0;
    for (const [term, count] of description.counts) if (wanted.includes(term)) said += count;
    let covered = 0;
    for (const term of wanted) if (doc.fields.some((field) => field.counts.has(term))) covered++;
    const fit = description.length === 0 ? 0 : (said / description.length) * (covered / wanted.length);
    scored.push({ tool: doc.tool, score: score * (1 + fit) });
  }
  scored.sort((x, y) => y.score - x.score);
  return scored.slice(0, limit).map((entry) => entry.tool);
};
`;

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
const DEFAULT_DEPTH = 1;
const byName = new Map(catalog.types.map((t) => [t.namespace + "." + t.name, t]));
const inner = new Map();
const byPath = new Map();
for (const tool of catalog.tools) {
  inner.set(tool, { types: tool.types, notes: tool.notes, signatureWithoutNotes: tool.signatureWithoutNotes ?? tool.signature, keywords: tool.keywords, inputTypes: tool.inputTypes });
  delete tool.keywords;
  delete tool.inputTypes;
  delete tool.types;
  delete tool.notes;
  delete tool.signatureWithoutNotes;
  byPath.set(tool.path, tool);
}
const indent = (text) => text.replace(/^(?=.)/gm, " ");
// Named types are declared breadth-first from the tools' signatures down to \`depth\` levels;
// those further down are named in a comment for expand() instead of written out: GitHub's
// issues_create would otherwise carry the whole graph of Issue, User, Repository … (4,600 tokens).
function typesOf(namespace, roots, depth) {
  const needed = new Map();
  const cut = new Set();
  let frontier = roots;
  for (let level = 1; frontier.length > 0; level++) {
    const next = [];
    for (const name of frontier) {
      const type = byName.get(namespace + "." + name);
      if (type === undefined || needed.has(name)) continue;
      if (level > depth) cut.add(name);
      else {
        needed.set(name, type);
        next.push(...type.types);
      }
    }
    frontier = next;
  }
  for (const name of needed.keys()) cut.delete(name);
  return { needed, cut };
}
function typeBlock(namespace, needed, cut) {
  if (needed.size === 0 && cut.size === 0) return "";
  const lines = [...needed.values()].map((t) => indent(t.declaration));
  if (cut.size > 0) lines.push(" // … not expanded: " + [...cut].join(", ") + " (expand([" + [...cut].slice(0, 2).map((name) => JSON.stringify(namespace + "." + name)).join(", ") + "]) declares them)");
  return "declare namespace " + namespace + " {\\n" + lines.join("\\n") + "\\n}\\n";
}
function depthOf(options, fallback) {
  const depth = options?.depth;
  return depth === Infinity || (Number.isInteger(depth) && depth >= 0) ? depth : fallback;
}
function declarationOf(list, depth) {
  const groups = new Map();
  for (const tool of list) {
    let group = groups.get(tool.namespace);
    if (group === undefined) groups.set(tool.namespace, (group = []));
    if (!group.includes(tool)) group.push(tool);
  }
  let text = "";
  for (const [namespace, group] of groups) {
    // What the code must write (the input) is declared whole; what it reads back to \`depth\`.
    const input = typesOf(namespace, group.flatMap((tool) => inner.get(tool).inputTypes), Infinity);
    const output = typesOf(namespace, group.flatMap((tool) => inner.get(tool).types), depth);
    const needed = new Map([...input.needed, ...output.needed]);
    const cut = new Set([...output.cut].filter((name) => !needed.has(name)));
    text += typeBlock(namespace, needed, cut);
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
  Object.defineProperty(tool, "declaration", { get: () => (cached ??= declarationOf([tool], DEFAULT_DEPTH)), enumerable: true });
}
globalThis.declarations = (list, options) =>
  declarationOf((Array.isArray(list) ? list : [list]).map((item) => byPath.get(typeof item === "string" ? item : item?.path)).filter((tool) => tool !== undefined), depthOf(options, DEFAULT_DEPTH));
// expand(["github.User"], { depth }): named types' declarations, themselves and \`depth\` - 1 levels below them.
globalThis.expand = (names, options) => {
  const byNamespace = new Map();
  for (const item of Array.isArray(names) ? names : [names]) {
    const text = String(item);
    const dot = text.lastIndexOf(".");
    const matches = dot > 0 ? [byName.get(text)].filter(Boolean) : catalog.types.filter((t) => t.name === text);
    for (const type of matches) {
      let roots = byNamespace.get(type.namespace);
      if (roots === undefined) byNamespace.set(type.namespace, (roots = []));
      roots.push(type.name);
    }
  }
  let text = "";
  for (const [namespace, roots] of byNamespace) {
    const { needed, cut } = typesOf(namespace, roots, Math.max(1, depthOf(options, 1)));
    text += typeBlock(namespace, needed, cut);
  }
  return text.trimEnd();
};
${FIND}
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
    source = (await prepareUserCode(code)).source;
  } catch (error) {
    if (error instanceof CodeSyntaxError) return { result: undefined, error: `SyntaxError: ${error.message}` };
    throw error;
  }
  const cancelled = (): SearchOutcome => ({ result: undefined, error: "AbortError: the search was cancelled" });
  if (options.signal?.aborted) return cancelled();
  let event: TailEvent | undefined;
  const worker = loader.load({
    compatibilityDate: "2026-11-01",
    mainModule: "runner.js",
    modules: { "runner.js": RUNNER, "catalog.json": { json: catalog }, [CODE_MODULE]: source },
    globalOutbound: null,
    limits: { ...DEFAULT_SEARCH_LIMITS, ...options.limits },
    tails: [(events: TailEvent[]) => void (event = events.find((e) => e.method === "run") ?? event)],
  });
  // A client that goes away ends the search where it is: its sandbox is ended (dispose), not left
  // to run into its cpuMs or wallMs.
  const abort = () => worker.dispose();
  options.signal?.addEventListener("abort", abort, { once: true });
  let outcome: SearchOutcome;
  try {
    outcome = { result: await (worker.getEntrypoint() as unknown as { run(): Promise<unknown> }).run() };
  } catch (error) {
    const { name, message } = error as Error;
    outcome = options.signal?.aborted ? cancelled() : { result: undefined, error: `${name ?? "Error"}: ${message}` };
  } finally {
    options.signal?.removeEventListener("abort", abort);
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
