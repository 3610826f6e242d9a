// `npm run bench:tokens`: how many o200k_base tokens an agent spends on tools, classic MCP vs code mode.
//
// 1. Surfaces, per real upstream: the MCP `tools/list` JSON (for an OpenAPI document, the same
//    shape with one tool per operation, each carrying the component schemas it uses as `$defs`),
//    the generated TypeScript API, and islet mcp's two-tool (search/execute) definitions.
// 2. Tasks: scripted multi-step jobs against the real servers (no LLM: each step's arguments come
//    from the results before it, as an agent's would). The tool-calling transcript holds every call
//    and every result exactly as the server returned it, then the answer; the code-mode transcript
//    holds the search call and its result, the execute call (the code) and its result, then the
//    answer. A second metric counts the input tokens billed over every turn of each loop.
//
// Writes bench/results/tokens-<date>.json and bench/results/tokens.md, prints the Markdown.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types.js";
import { encode } from "gpt-tokenizer/encoding/o200k_base";
import { buildCatalog, fromOpenApi, generateApi, type ToolProvider } from "../src/codemode/index.ts";
import { fromMcpServer } from "../src/codemode/mcp-source.ts";
import { IsletMcp, twoToolDefinitions } from "../src/codemode/mcp-server.ts";
import { searchCatalog } from "../src/codemode/search.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const script = (name: string) => join(root, "node_modules/@modelcontextprotocol", name, "dist/index.js");
const GITHUB_OPENAPI = join(root, "node_modules/@octokit/openapi/generated/api.github.com.json");

export const TARGETS = { tsRatio: 0.4, twoToolTokens: 1000, transcriptReduction: 0.81 };

export function tokens(text: string): number {
  return encode(text).length;
}

export interface SurfaceRow {
  upstream: string;
  tools: number;
  /** tools/list JSON (the tools array as the server sends it). */
  jsonTokens: number;
  /** The same without output schemas: what most servers send, and what most agents compare against. */
  inputsOnlyJsonTokens: number;
  /** The generated TypeScript declarations of the same tools. */
  typescriptTokens: number;
  /** typescriptTokens / jsonTokens. */
  typescriptRatio: number;
  /** islet mcp's search + execute definitions over this upstream. */
  twoToolTokens: number;
  /** Tokens of the description texts alone (tool and schema descriptions), which both forms carry. */
  descriptionTokens: number;
  /** The tools/list JSON with every `description` taken out: what the declarations stand for. */
  jsonWithoutDescriptionsTokens: number;
  /** The TypeScript with its doc comments taken out; the rest of typescriptTokens is doc comments. */
  typescriptWithoutDocTokens: number;
  /** Sentences said once in a namespace note instead of in each tool's description. */
  hoistedSentences: number;
  generateMs: number;
}

export interface TaskRow {
  task: string;
  upstream: string;
  /** Tool calls in the tool-calling trace. */
  toolCalls: number;
  /** The tool-calling transcript: calls, results and the answer. */
  toolCallingTokens: number;
  toolCallingCallTokens: number;
  toolCallingResultTokens: number;
  answerTokens: number;
  /** The code-mode transcript: search call and result, execute call and result, and the answer. */
  codeModeTokens: number;
  searchTokens: number;
  /** The execute call (the code) and its result. */
  codeTokens: number;
  finalResultTokens: number;
  /** 1 - codeMode / toolCalling: the target. */
  reduction: number;
  /** Code mode when the generated TypeScript API is in the prompt instead (no search call): execute call, result, answer. */
  codeModeWithApiTokens: number;
  /** The second metric: input tokens billed over all turns of each loop (definitions and context re-sent each turn). */
  toolCallingTurns: number;
  codeModeTurns: number;
  billedToolCallingTokens: number;
  billedCodeModeTokens: number;
  billedReduction: number;
  /** The two loops reached the same answer; what was checked. */
  checked: string;
}

export interface TokenReport {
  date: string;
  tokenizer: "o200k_base (gpt-tokenizer)";
  node: string;
  surfaces: SurfaceRow[];
  tasks: TaskRow[];
  targets: typeof TARGETS;
  /** Why a target was missed, one line each; empty when all were met. */
  missed: string[];
  /** What `search` answers cost for GitHub's REST API: declarations of single operations and a find() query. */
  lookups: LookupRow[];
}

export interface LookupRow {
  what: string;
  /** The search code, as the model writes it. */
  code: string;
  /** Tokens of the answer. */
  tokens: number;
  /** Tokens of the same with every type written out (depth: Infinity), where that applies. */
  fullTokens?: number;
}

// --- upstreams ------------------------------------------------------------------------------

interface Upstream {
  name: string;
  client: Client;
  tools: Tool[];
  provider: ToolProvider;
}

async function startUpstream(name: string, command: string, args: string[], env: Record<string, string>): Promise<Upstream> {
  // Two connections: a raw SDK client for the tool-calling traces (exactly what an agent sees),
  // and islet's MCP source for code mode.
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(new StdioClientTransport({ command, args, env: { PATH: process.env.PATH ?? "", ...env }, stderr: "ignore" }));
  const { tools } = await client.listTools();
  const provider = await fromMcpServer({ namespace: name, stdio: { command, args, env } });
  return { name, client, tools, provider };
}

/** The tool-list JSON an agent would get for an OpenAPI provider: one tool per operation, `$defs` inlined per tool. */
function openApiToolList(provider: ToolProvider & { definitions?: Record<string, unknown> }): object[] {
  const definitions = provider.definitions ?? {};
  const withDefs = (schema: unknown) => {
    if (schema === undefined) return undefined;
    const needed: Record<string, unknown> = {};
    const visit = (value: unknown) => {
      if (Array.isArray(value)) return value.forEach(visit);
      if (typeof value !== "object" || value === null) return;
      for (const [key, item] of Object.entries(value)) {
        if (key === "$ref" && typeof item === "string" && item.startsWith("#/$defs/")) {
          const name = item.slice(8);
          if (!(name in needed) && name in definitions) {
            needed[name] = definitions[name];
            visit(definitions[name]);
          }
        } else visit(item);
      }
    };
    visit(schema);
    return Object.keys(needed).length ? { ...(schema as object), $defs: needed } : schema;
  };
  return provider.tools.map((tool) => ({
    name: tool.name,
    ...(tool.description ? { description: tool.description } : {}),
    inputSchema: withDefs(tool.inputSchema) ?? { type: "object" },
    ...(tool.outputSchema !== undefined ? { outputSchema: withDefs(tool.outputSchema) } : {}),
  }));
}

function descriptionText(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) descriptionText(item, out);
  else if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (key === "description" && typeof item === "string") out.push(item);
      else descriptionText(item, out);
    }
  }
  return out;
}

/** Declarations without their doc comments: those on lines of their own go with the line, those before a member with the space after them. */
export function withoutDocComments(text: string): string {
  return text.replace(/^[ \t]*\/\*\*(?:(?!\*\/)[\s\S])*\*\/\n/gm, "").replace(/\/\*\*(?:(?!\*\/)[\s\S])*\*\/ /g, "");
}

function surface(upstream: string, toolListJson: string, provider: ToolProvider): SurfaceRow {
  const started = performance.now();
  const api = generateApi([provider]);
  const generateMs = performance.now() - started;
  const catalog = searchCatalog(buildCatalog([provider]));
  const jsonTokens = tokens(toolListJson);
  const typescriptTokens = tokens(api.text);
  const inputsOnly = (JSON.parse(toolListJson) as Record<string, unknown>[]).map(({ outputSchema: _, ...tool }) => tool);
  return {
    upstream,
    tools: provider.tools.length,
    jsonTokens,
    inputsOnlyJsonTokens: tokens(JSON.stringify(inputsOnly)),
    typescriptTokens,
    typescriptRatio: typescriptTokens / jsonTokens,
    twoToolTokens: tokens(JSON.stringify(twoToolDefinitions(catalog))),
    descriptionTokens: tokens(descriptionText(JSON.parse(toolListJson)).join("\n")),
    jsonWithoutDescriptionsTokens: tokens(JSON.stringify(JSON.parse(toolListJson), (key, value) => (key === "description" && typeof value === "string" ? undefined : value))),
    typescriptWithoutDocTokens: tokens(withoutDocComments(api.text)),
    hoistedSentences: api.namespaces.reduce((sum, ns) => sum + ns.notes.length, 0),
    generateMs: Math.round(generateMs),
  };
}

// --- transcripts ------------------------------------------------------------------------------

/**
 * One message of a transcript and its tokens. Counted one by one, so a turn's input is a sum of
 * parts; the transcripts below are what an agent's context holds, in order.
 */
interface Part {
  kind: "prompt" | "call" | "result" | "answer";
  tokens: number;
}

function part(kind: Part["kind"], text: string): Part {
  return { kind, tokens: tokens(text) };
}

const sumTokens = (parts: readonly Part[], kind?: Part["kind"]) => parts.reduce((sum, p) => sum + (kind === undefined || p.kind === kind ? p.tokens : 0), 0);

/**
 * Input tokens billed over a loop: each turn sends the tool definitions, the prompt and everything
 * before it again. A turn ends at each call (the model waits for its result) and at the answer.
 */
function billedInput(definitions: number, parts: readonly Part[]): { turns: number; tokens: number } {
  let context = definitions;
  let turns = 0;
  let billed = 0;
  for (const p of parts) {
    if (p.kind === "call" || p.kind === "answer") {
      turns++;
      billed += context;
    }
    context += p.tokens;
  }
  return { turns, tokens: billed };
}

/** The tool-calling loop against the upstream itself: every call and every result exactly as the server returned it. */
class ToolCallingTrace {
  readonly parts: Part[] = [];
  calls = 0;
  constructor(private readonly upstream: Upstream) {}
  async call(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
    const result = (await this.upstream.client.callTool({ name, arguments: args })) as CallToolResult;
    if (result.isError) throw new Error(`${name} failed in the tool-calling trace: ${JSON.stringify(result.content)}`);
    this.calls++;
    this.parts.push(part("call", JSON.stringify({ name, arguments: args })), part("result", JSON.stringify(result)));
    return result;
  }
}

/** A call to islet mcp's search or execute, as the model sends it and reads it back. */
async function codeModeCall(mcp: IsletMcp, name: "search" | "execute", code: string): Promise<{ result: CallToolResult; call: Part; reply: Part }> {
  const result = await mcp.callTool(name, { code });
  if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
  return { result, call: part("call", JSON.stringify({ name, arguments: { code } })), reply: part("result", JSON.stringify(result)) };
}

const text = (result: CallToolResult) => result.content.map((block) => (block.type === "text" ? block.text : "")).join("");

interface Task {
  name: string;
  upstream: string;
  /** What the user asks; the same first message in both loops. */
  prompt: string;
  /** The tool-calling agent's moves: each call picks its arguments from what came back before. Returns the answer. */
  toolCalling(trace: ToolCallingTrace): Promise<unknown>;
  /** Undoes what the tool-calling run changed, so code mode starts from the same state. */
  reset?(upstream: Upstream): Promise<void>;
  /** The search a model runs first to learn the signatures it needs. */
  search: string;
  execute: string;
  /** Compares the two answers; returns a short note, throws when they disagree. */
  check(toolCallingAnswer: unknown, codeModeAnswer: unknown): string;
}

const TEAM = [
  { name: "Ada Lovelace", role: "maintainer", city: "Lisbon", project: "islet" },
  { name: "Grace Hopper", role: "reviewer", city: "Oslo", project: "islet" },
  { name: "Alan Turing", role: "contributor", city: "Austin", project: "compiler" },
  { name: "Katherine Johnson", role: "designer", city: "Kyoto", project: "islet" },
  { name: "Edsger Dijkstra", role: "maintainer", city: "Oslo", project: "compiler" },
  { name: "Barbara Liskov", role: "reviewer", city: "Austin", project: "islet" },
];

function memoryTask(): Task {
  const entities = [
    ...TEAM.map((p) => ({ name: p.name, entityType: "person", observations: [`role: ${p.role}`, `based in ${p.city}`] })),
    { name: "islet", entityType: "project", observations: ["sandboxes untrusted JavaScript in V8 isolates"] },
    { name: "compiler", entityType: "project", observations: ["compiles TypeScript to JavaScript"] },
  ];
  const relations = TEAM.map((p) => ({ from: p.name, to: p.project, relationType: "works_on" }));
  const moved = [{ entityName: "Grace Hopper", contents: ["moved to Lisbon"] }];
  type Graph = { entities: { name: string; observations: string[] }[]; relations: { from: string; to: string; relationType: string }[] };
  // Where someone is now: the last move, else where they are based.
  const city = (observations: string[]) => [...observations].reverse().find((o) => /^(moved to|based in) /.test(o))?.replace(/^(moved to|based in) /, "");
  return {
    name: "memory: record a team (people, projects, who works on what, a move), then answer who works on islet, with role and city",
    upstream: "memory",
    prompt: `Remember my team. People (role, city): ${TEAM.map((p) => `${p.name} (${p.role}, ${p.city})`).join("; ")}. Projects: islet (sandboxes untrusted JavaScript in V8 isolates), compiler (compiles TypeScript to JavaScript). ${TEAM.map((p) => `${p.name} works on ${p.project}`).join("; ")}. Grace Hopper has since moved to Lisbon. Then tell me who works on islet, with their role and the city they are in now.`,
    async toolCalling(trace) {
      await trace.call("create_entities", { entities });
      await trace.call("create_relations", { relations });
      await trace.call("add_observations", { observations: moved });
      const found = (await trace.call("search_nodes", { query: "islet" })).structuredContent as Graph;
      const names = found.relations.filter((r) => r.to === "islet" && r.relationType === "works_on").map((r) => r.from);
      const opened = (await trace.call("open_nodes", { names })).structuredContent as Graph;
      return opened.entities.map((e) => ({ name: e.name, role: e.observations.find((o) => o.startsWith("role: "))?.slice(6), city: city(e.observations) }));
    },
    async reset({ client }) {
      await client.callTool({ name: "delete_entities", arguments: { entityNames: entities.map((e) => e.name) } });
    },
    search: `async () => declarations(tools.filter(t => t.namespace === "memory" && /create|add_obs|search|open/.test(t.name)))`,
    execute: `async () => {
  const team = ${JSON.stringify(TEAM.map((p) => [p.name, p.role, p.city, p.project]))};
  await memory.create_entities({ entities: [
    ...team.map(([name, role, city]) => ({ name, entityType: "person", observations: ["role: " + role, "based in " + city] })),
    { name: "islet", entityType: "project", observations: ["sandboxes untrusted JavaScript in V8 isolates"] },
    { name: "compiler", entityType: "project", observations: ["compiles TypeScript to JavaScript"] },
  ] });
  await memory.create_relations({ relations: team.map(([from, , , to]) => ({ from, to, relationType: "works_on" })) });
  await memory.add_observations({ observations: [{ entityName: "Grace Hopper", contents: ["moved to Lisbon"] }] });
  const found = await memory.search_nodes({ query: "islet" });
  const names = found.relations.filter(r => r.to === "islet" && r.relationType === "works_on").map(r => r.from);
  const { entities } = await memory.open_nodes({ names });
  const city = obs => [...obs].reverse().find(o => /^(moved to|based in) /.test(o))?.replace(/^(moved to|based in) /, "");
  return entities.map(e => ({ name: e.name, role: e.observations.find(o => o.startsWith("role: "))?.slice(6), city: city(e.observations) }));
}`,
    check(expected, actual) {
      assertSame(expected, actual);
      const people = actual as { name: string; city: string }[];
      if (people.length !== 4 || people.find((p) => p.name === "Grace Hopper")?.city !== "Lisbon") throw new Error(`memory: unexpected answer ${JSON.stringify(actual)}`);
      return `${people.length} people`;
    },
  };
}

function filesystemTask(folder: string): Task {
  type Node = { name: string; type: "file" | "directory"; children?: Node[] };
  const sizeOf = (listing: string) => /^Combined size: (.+)$/m.exec(listing)?.[1];
  return {
    name: "filesystem: survey a project folder: files and size per folder, and every TODO with its file",
    upstream: "filesystem",
    prompt: `Give me an overview of the project in ${folder}: for each top-level folder, how many files and how much space; and list every TODO with the file it is in.`,
    async toolCalling(trace) {
      const tree = JSON.parse(text(await trace.call("directory_tree", { path: folder }))) as Node[];
      const folders = tree.filter((n) => n.type === "directory");
      const summary: { folder: string; files: number; size: string | undefined }[] = [];
      for (const dir of folders) {
        const listing = text(await trace.call("list_directory_with_sizes", { path: `${folder}/${dir.name}` }));
        summary.push({ folder: dir.name, files: (dir.children ?? []).filter((c) => c.type === "file").length, size: sizeOf(listing) });
      }
      // Text sources only: config is JSON and holds no TODOs worth reading it for.
      const paths = folders.flatMap((dir) => (dir.children ?? []).filter((c) => /\.(md|ts)$/.test(c.name)).map((c) => `${folder}/${dir.name}/${c.name}`));
      const read = text(await trace.call("read_multiple_files", { paths }));
      // read_multiple_files answers "<path>:\n<content>" blocks separated by "\n---\n".
      const todos = read.split("\n---\n").flatMap((block) => {
        const path = block.slice(0, block.indexOf(":\n"));
        return block.split("\n").filter((l) => l.includes("TODO")).map((l) => ({ file: path.slice(folder.length + 1), todo: l.replace(/^\s*(\/\/\s*)?TODO:\s*/, "") }));
      });
      return { folders: summary, todos };
    },
    search: `async () => declarations(tools.filter(t => t.namespace === "filesystem" && /directory_tree|list_directory_with_sizes|read_multiple/.test(t.name)))`,
    execute: `async () => {
  const root = ${JSON.stringify(folder)};
  const tree = JSON.parse((await filesystem.directory_tree({ path: root })).content);
  const folders = [];
  const paths = [];
  for (const dir of tree.filter(n => n.type === "directory")) {
    const listing = (await filesystem.list_directory_with_sizes({ path: root + "/" + dir.name })).content;
    folders.push({ folder: dir.name, files: dir.children.filter(c => c.type === "file").length, size: /^Combined size: (.+)$/m.exec(listing)?.[1] });
    paths.push(...dir.children.filter(c => /\\.(md|ts)$/.test(c.name)).map(c => root + "/" + dir.name + "/" + c.name));
  }
  const { content } = await filesystem.read_multiple_files({ paths });
  const todos = content.split("\\n---\\n").flatMap(block => {
    const path = block.slice(0, block.indexOf(":\\n"));
    return block.split("\\n").filter(l => l.includes("TODO")).map(l => ({ file: path.slice(root.length + 1), todo: l.replace(/^\\s*(\\/\\/\\s*)?TODO:\\s*/, "") }));
  });
  return { folders, todos };
}`,
    check(expected, actual) {
      assertSame(expected, actual);
      const answer = actual as { folders: unknown[]; todos: unknown[] };
      return `${answer.folders.length} folders, ${answer.todos.length} TODOs`;
    },
  };
}

function everythingResourcesTask(): Task {
  type Block = { type: string; uri?: string; resource?: { uri: string; text: string } };
  return {
    name: "everything: list the server's resources, fetch each text one, report its URI and size",
    upstream: "everything",
    prompt: "Which text resources does the server offer? Look at up to 10 of its resource links, fetch each text resource, and give me its URI and length in characters.",
    async toolCalling(trace) {
      const links = ((await trace.call("get-resource-links", { count: 10 })).content as Block[]).filter((b) => b.type === "resource_link");
      const out: { uri: string; length: number }[] = [];
      for (const link of links) {
        const match = /\/dynamic\/text\/(\d+)$/.exec(link.uri!);
        if (!match) continue;
        const reference = await trace.call("get-resource-reference", { resourceType: "Text", resourceId: Number(match[1]) });
        const { resource } = (reference.content as Block[]).find((b) => b.type === "resource")!;
        out.push({ uri: resource!.uri, length: resource!.text.length });
      }
      return out;
    },
    search: `async () => declarations(tools.filter(t => t.namespace === "everything" && /resource_(links|reference)/.test(t.name)))`,
    execute: `async () => {
  const blocks = await everything.get_resource_links({ count: 10 });
  const out = [];
  for (const link of blocks.filter(b => b.type === "resource_link")) {
    const match = /\\/dynamic\\/text\\/(\\d+)$/.exec(link.uri);
    if (!match) continue;
    const reference = await everything.get_resource_reference({ resourceType: "Text", resourceId: Number(match[1]) });
    const { resource } = reference.find(b => b.type === "resource");
    out.push({ uri: resource.uri, length: resource.text.length });
  }
  return out;
}`,
    check(expected, actual) {
      // The texts carry the time they were made, so lengths may differ by a character or two.
      assertSame((expected as { uri: string }[]).map((r) => r.uri), (actual as { uri: string }[]).map((r) => r.uri));
      return `${(actual as unknown[]).length} resources`;
    },
  };
}

function everythingWeatherTask(): Task {
  const sumOf = (reply: string) => Number(/is (-?[\d.]+)\.$/.exec(reply)![1]);
  return {
    name: "everything: weather in three cities, the warmest, and the temperature sum via get-sum",
    upstream: "everything",
    prompt: "Get the weather for New York, Chicago and Los Angeles. Which is warmest? Add up the three temperatures with the get-sum tool.",
    async toolCalling(trace) {
      const cities = ["New York", "Chicago", "Los Angeles"];
      const weather: { city: string; temperature: number }[] = [];
      for (const city of cities) weather.push({ city, temperature: ((await trace.call("get-structured-content", { location: city })).structuredContent as { temperature: number }).temperature });
      const partial = sumOf(text(await trace.call("get-sum", { a: weather[0].temperature, b: weather[1].temperature })));
      const sum = sumOf(text(await trace.call("get-sum", { a: partial, b: weather[2].temperature })));
      return { warmest: weather.reduce((a, b) => (b.temperature > a.temperature ? b : a)).city, sum };
    },
    search: `async () => declarations(tools.filter(t => ["everything.get_structured_content", "everything.get_sum"].includes(t.path)))`,
    execute: `async () => {
  const weather = [];
  for (const city of ["New York", "Chicago", "Los Angeles"]) weather.push({ city, ...(await everything.get_structured_content({ location: city })) });
  let sum = weather[0].temperature;
  for (const w of weather.slice(1)) sum = Number(/is (-?[\\d.]+)\\.$/.exec(await everything.get_sum({ a: sum, b: w.temperature }))[1]);
  return { warmest: weather.reduce((a, b) => (b.temperature > a.temperature ? b : a)).city, sum };
}`,
    check(expected, actual) {
      assertSame(expected, actual);
      return JSON.stringify(actual);
    },
  };
}

function assertSame(expected: unknown, actual: unknown): void {
  const a = JSON.stringify(expected);
  const b = JSON.stringify(actual);
  if (a !== b) throw new Error(`the code-mode answer differs from the tool-calling answer:\n  tool calling: ${a}\n  code mode:    ${b}`);
}

/** A deterministic little project: docs, sources and config, some with TODOs. */
function writeProject(folder: string): void {
  const words = "sandbox isolate worker loader binding capability request response stream limit timer module".split(" ");
  const line = (n: number) => Array.from({ length: 12 }, (_, i) => words[(n * 7 + i * 3) % words.length]).join(" ");
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(folder, path)), { recursive: true });
    writeFileSync(join(folder, path), text);
  };
  for (let i = 0; i < 12; i++) {
    write(`docs/guide-${i}.md`, `# Guide ${i}\n\n${Array.from({ length: 14 }, (_, n) => line(i + n)).join("\n")}\n${i % 3 === 0 ? "\nTODO: explain the limits in this guide\n" : ""}`);
  }
  for (let i = 0; i < 16; i++) {
    const body = Array.from({ length: 18 }, (_, n) => `  // ${line(i * 2 + n)}\n  total += ${n};`).join("\n");
    write(`src/module-${i}.ts`, `export function part${i}(): number {\n  let total = 0;\n${body}\n${i % 4 === 1 ? "  // TODO: cache this\n" : ""}  return total;\n}\n`);
  }
  for (let i = 0; i < 6; i++) write(`config/settings-${i}.json`, JSON.stringify({ name: `settings-${i}`, values: Array.from({ length: 20 }, (_, n) => n * i) }, null, 2));
}

// --- the run ------------------------------------------------------------------------------------

export async function measureTokens(log: (line: string) => void = () => {}): Promise<TokenReport> {
  // A fixed path, not a random temp name: paths appear in the transcripts, and a random part would
  // tokenize differently from run to run.
  const temp = join(tmpdir(), "islet-bench-tokens");
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(temp, { recursive: true });
  const folder = join(temp, "project");
  writeProject(folder);
  const upstreams: Upstream[] = [];
  const servers: IsletMcp[] = [];
  try {
    log("starting the upstream MCP servers");
    const started = await Promise.all([
      startUpstream("memory", process.execPath, [script("server-memory")], { MEMORY_FILE_PATH: join(temp, "memory.jsonl") }),
      startUpstream("filesystem", process.execPath, [script("server-filesystem"), folder], {}),
      startUpstream("everything", process.execPath, [script("server-everything"), "stdio"], {}),
      // Lists its tools without reaching GitHub; the token is a placeholder.
      startUpstream("github", process.execPath, [script("server-github")], { GITHUB_PERSONAL_ACCESS_TOKEN: "placeholder" }),
    ]);
    upstreams.push(...started);

    const surfaces: SurfaceRow[] = [];
    for (const upstream of upstreams) {
      surfaces.push(surface(upstream.name === "github" ? "server-github (MCP)" : `server-${upstream.name}`, JSON.stringify(upstream.tools), upstream.provider));
    }
    log("reading GitHub's OpenAPI document");
    const spec = readFileSync(GITHUB_OPENAPI, "utf8");
    const github = fromOpenApi(spec, { namespace: "github", baseUrl: "https://api.github.com" });
    const openApiRow = surface("GitHub REST API (OpenAPI)", JSON.stringify(openApiToolList(github)), github);
    surfaces.push(openApiRow);

    log("lookups in GitHub's REST API");
    const lookups: LookupRow[] = [];
    const githubMcp = await IsletMcp.create({ providers: [github] });
    servers.push(githubMcp);
    const answer = async (code: string) => {
      const outcome = await githubMcp.search(code);
      if (outcome.error !== undefined) throw new Error(`lookup ${code}: ${outcome.error}`);
      return tokens(typeof outcome.result === "string" ? outcome.result : JSON.stringify(outcome.result));
    };
    for (const [what, paths] of [
      ["one operation: issues_create", ["github.issues_create"]],
      ["one operation: pulls_list", ["github.pulls_list"]],
      ["two operations: issues_create + pulls_list", ["github.issues_create", "github.pulls_list"]],
    ] as const) {
      const code = `async () => declarations(${JSON.stringify(paths)})`;
      lookups.push({ what, code, tokens: await answer(code), fullTokens: await answer(`async () => declarations(${JSON.stringify(paths)}, { depth: Infinity })`) });
    }
    const findCode = `async () => find("create an issue", { limit: 5 }).map((t) => t.path + ": " + t.description)`;
    lookups.push({ what: "find(\"create an issue\"), five best", code: findCode, tokens: await answer(findCode) });

    const tasks: TaskRow[] = [];
    const taskList = [memoryTask(), filesystemTask(folder), everythingResourcesTask(), everythingWeatherTask()];
    for (const task of taskList) {
      log(`task: ${task.name}`);
      const upstream = upstreams.find((u) => u.name === task.upstream)!;
      const prompt = part("prompt", task.prompt);
      const trace = new ToolCallingTrace(upstream);
      const toolCallingAnswer = await task.toolCalling(trace);
      await task.reset?.(upstream);
      const mcp = await IsletMcp.create({ providers: [upstream.provider] });
      servers.push(mcp);
      const search = await codeModeCall(mcp, "search", task.search);
      const execute = await codeModeCall(mcp, "execute", task.execute);
      const codeModeAnswer = JSON.parse(text(execute.result));
      const checked = task.check(toolCallingAnswer, codeModeAnswer);
      // The model's last turn states the answer; it is the same in both loops.
      const toolCallingParts = [prompt, ...trace.parts, part("answer", JSON.stringify(toolCallingAnswer))];
      const codeModeParts = [prompt, search.call, search.reply, execute.call, execute.reply, part("answer", JSON.stringify(codeModeAnswer))];
      const transcript = (parts: Part[]) => sumTokens(parts) - prompt.tokens;
      const toolCallingBilled = billedInput(tokens(JSON.stringify(upstream.tools)), toolCallingParts);
      const codeModeBilled = billedInput(tokens(JSON.stringify(mcp.tools)), codeModeParts);
      tasks.push({
        task: task.name,
        upstream: task.upstream,
        toolCalls: trace.calls,
        toolCallingTokens: transcript(toolCallingParts),
        toolCallingCallTokens: sumTokens(trace.parts, "call"),
        toolCallingResultTokens: sumTokens(trace.parts, "result"),
        answerTokens: sumTokens(toolCallingParts, "answer"),
        codeModeTokens: transcript(codeModeParts),
        searchTokens: search.call.tokens + search.reply.tokens,
        codeTokens: execute.call.tokens,
        finalResultTokens: execute.reply.tokens,
        reduction: 1 - transcript(codeModeParts) / transcript(toolCallingParts),
        codeModeWithApiTokens: transcript(codeModeParts) - search.call.tokens - search.reply.tokens,
        toolCallingTurns: toolCallingBilled.turns,
        codeModeTurns: codeModeBilled.turns,
        billedToolCallingTokens: toolCallingBilled.tokens,
        billedCodeModeTokens: codeModeBilled.tokens,
        billedReduction: 1 - codeModeBilled.tokens / toolCallingBilled.tokens,
        checked,
      });
    }

    const missed: string[] = [];
    for (const row of surfaces) {
      if (row.typescriptRatio > TARGETS.tsRatio) {
        missed.push(`${row.upstream}: TypeScript is ${pct(row.typescriptRatio)} of the JSON tool list (target ≤ ${pct(TARGETS.tsRatio)}). ${whyTypescriptMissed(row)}`);
      }
      if (row.twoToolTokens >= TARGETS.twoToolTokens) missed.push(`${row.upstream}: the two-tool surface is ${row.twoToolTokens} tokens (target < ${TARGETS.twoToolTokens}).`);
    }
    for (const row of tasks) {
      if (row.reduction < TARGETS.transcriptReduction) {
        missed.push(`${row.task}: the code-mode transcript is ${pct(row.reduction)} smaller (target ≥ ${pct(TARGETS.transcriptReduction)}). ${whyTaskMissed(row)}`);
      }
    }
    return { date: new Date().toISOString().slice(0, 10), tokenizer: "o200k_base (gpt-tokenizer)", node: process.version, surfaces, tasks, targets: TARGETS, missed, lookups };
  } finally {
    for (const server of servers) await server.close();
    for (const upstream of upstreams) {
      await upstream.provider.close?.();
      await upstream.client.close();
    }
    rmSync(temp, { recursive: true, force: true });
  }
}

function whyTypescriptMissed(row: SurfaceRow): string {
  const doc = row.typescriptTokens - row.typescriptWithoutDocTokens;
  const declarations = row.typescriptWithoutDocTokens;
  const schema = row.jsonWithoutDescriptionsTokens;
  const allowed = Math.max(0, Math.floor(TARGETS.tsRatio * row.jsonTokens) - doc);
  const hoisted = row.hoistedSentences === 0 ? "" : row.hoistedSentences === 1 ? "; a sentence many tools repeat is said once, in a namespace note" : `; ${row.hoistedSentences} sentences many tools repeat are said once, in namespace notes`;
  return (
    `The descriptions (${row.descriptionTokens} tokens, ${pct(row.descriptionTokens / row.jsonTokens)} of the JSON) stay word for word, except those that only restate a name${hoisted}. ` +
    `With defaults and bounds as tags, the doc comments take ${doc} tokens (${pct(doc / row.jsonTokens)} of the JSON) and the declarations ${declarations} for the ${schema} tokens of JSON that are not descriptions (${pct(declarations / schema)}); ` +
    `to reach ${pct(TARGETS.tsRatio)} with the doc comments as they are, the declarations would have to fit in ${allowed} (${pct(allowed / schema)}). ` +
    (doc > declarations
      ? "The declarations are already the small part: the descriptions the model needs set the floor."
      : `This list's schemas are mostly plain properties (\`"page":{"type":"number"}\` becomes \`page?: number;\`) with few shapes that repeat, so there is little to name once.`)
  );
}

function whyTaskMissed(row: TaskRow): string {
  const small = row.toolCallingResultTokens < row.searchTokens + row.codeTokens;
  return (
    `Tool calling: ${row.toolCallingCallTokens} tokens of calls, ${row.toolCallingResultTokens} of results, ${row.answerTokens} of answer. ` +
    `Code mode: ${row.searchTokens} to look the API up (the search call and the declarations it returns), ${row.codeTokens} of code, ${row.finalResultTokens} of result, ${row.answerTokens} of answer. ` +
    `Code mode drops the intermediate results, but the code carries the same input data as the calls' arguments plus the logic between the calls (${row.codeTokens} tokens against ${row.toolCallingCallTokens}), and the lookup is extra` +
    (small ? `; here the results are small (${row.toolCallingResultTokens} tokens), so there is little to drop.` : ".") +
    ` With the TypeScript API in the prompt instead of a search, the transcript is ${row.codeModeWithApiTokens} tokens (${pct(1 - row.codeModeWithApiTokens / row.toolCallingTokens)} smaller).`
  );
}

function pct(value: number): string {
  return `${Math.round(value * 100)}%`;
}

const n = (value: number) => value.toLocaleString("en-US");

/** The Markdown tables for BENCHMARKS.md. */
export function renderTokenMarkdown(report: TokenReport): string {
  const lines: string[] = [];
  lines.push(`### Token economy (\`npm run bench:tokens\`, ${report.date}, ${report.tokenizer})`, "");
  lines.push("Tool surfaces: the MCP `tools/list` JSON an agent is given, the TypeScript API islet generates for the same tools (every tool, parameter, type, required flag, enum, default, bound and description), and `islet mcp`'s two tools (search + execute) over that upstream.", "");
  lines.push("| upstream | tools | tools/list JSON | without output schemas | TypeScript API | TS / JSON | TS / JSON without output schemas | two-tool surface |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const row of report.surfaces) {
    lines.push(`| ${row.upstream} | ${row.tools} | ${n(row.jsonTokens)} | ${n(row.inputsOnlyJsonTokens)} | ${n(row.typescriptTokens)} | ${pct(row.typescriptRatio)} | ${pct(row.typescriptTokens / row.inputsOnlyJsonTokens)} | ${n(row.twoToolTokens)} |`);
  }
  lines.push("", "For the OpenAPI document the JSON column is the equivalent tool list: one tool per operation with its input and output schemas, each tool carrying the component schemas it uses as `$defs`. The TypeScript API always declares results (as `unknown` where no schema says); without output schemas the JSON says less than it does, so its ratio is the harder one.", "");
  if (report.lookups.length > 0) {
    lines.push("Lookups in GitHub's REST API through `search` (the answer's tokens; a declaration has its input's types in full and its result's one level deep, the deeper ones named for `expand()`; *whole graph* is the same with every type written out):", "");
    lines.push("| lookup | search code | tokens | whole graph |", "| --- | --- | ---: | ---: |");
    for (const row of report.lookups) lines.push(`| ${row.what} | \`${row.code}\` | ${n(row.tokens)} | ${row.fullTokens === undefined ? "" : n(row.fullTokens)} |`);
    lines.push("");
  }
  lines.push(
    "Scripted tasks against the real servers (no LLM: each step's arguments are computed from the previous results, as an agent would). " +
      "*Transcript* (the target): tool calling holds every call (name and arguments) and every result exactly as the server returned it (the `tools/call` result JSON), then the answer; " +
      "code mode holds the `search` call and the declarations it returned, the `execute` call with the code, its result, then the answer. The user's prompt, the same in both, is not counted.",
    "",
  );
  lines.push(
    "The last two columns are for comparison only: code mode as Cloudflare describes it for one server, with the generated TypeScript API in the prompt, needs no search call.",
    "",
  );
  lines.push("| task | calls | tool-calling transcript | code-mode transcript (islet mcp) | smaller by | code mode, API in prompt | smaller by |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const row of report.tasks) {
    lines.push(`| ${row.task} | ${row.toolCalls} | ${n(row.toolCallingTokens)} | ${n(row.codeModeTokens)} | ${pct(row.reduction)} | ${n(row.codeModeWithApiTokens)} | ${pct(1 - row.codeModeWithApiTokens / row.toolCallingTokens)} |`);
  }
  const sum = (pick: (row: TaskRow) => number) => report.tasks.reduce((total, row) => total + pick(row), 0);
  const [tc, cm, ca] = [sum((r) => r.toolCallingTokens), sum((r) => r.codeModeTokens), sum((r) => r.codeModeWithApiTokens)];
  lines.push(`| all tasks | ${sum((r) => r.toolCalls)} | ${n(tc)} | ${n(cm)} | ${pct(1 - cm / tc)} | ${n(ca)} | ${pct(1 - ca / tc)} |`);
  lines.push(
    "",
    "A second metric, not the target: *input tokens billed* over the whole loop. Every turn re-sends the tool definitions, the prompt and everything before it; a tool-calling loop takes one turn per call plus one for the answer, code mode three (search, execute, answer) with the two-tool definitions.",
    "",
  );
  lines.push("| task | turns: tool calling | turns: code mode | billed input: tool calling | billed input: code mode | smaller by |", "| --- | ---: | ---: | ---: | ---: | ---: |");
  for (const row of report.tasks) {
    lines.push(`| ${row.task} | ${row.toolCallingTurns} | ${row.codeModeTurns} | ${n(row.billedToolCallingTokens)} | ${n(row.billedCodeModeTokens)} | ${pct(row.billedReduction)} |`);
  }
  const [btc, bcm] = [sum((r) => r.billedToolCallingTokens), sum((r) => r.billedCodeModeTokens)];
  lines.push(`| all tasks | ${sum((r) => r.toolCallingTurns)} | ${sum((r) => r.codeModeTurns)} | ${n(btc)} | ${n(bcm)} | ${pct(1 - bcm / btc)} |`);
  const t = report.targets;
  lines.push("", `Targets: TypeScript ≤ ${pct(t.tsRatio)} of the JSON tool list; two-tool surface < ${t.twoToolTokens} tokens; transcripts ≥ ${pct(t.transcriptReduction)} smaller.`);
  const met = report.tasks.filter((row) => row.reduction >= t.transcriptReduction).length;
  lines.push(`Transcripts: ${met} of ${report.tasks.length} tasks meet the target on their own; all tasks together are ${pct(1 - cm / tc)} smaller.`);
  if (report.missed.length === 0) lines.push("All targets met.");
  else {
    lines.push("", "Missed:", "");
    for (const line of report.missed) lines.push(`- ${line}`);
  }
  return `${lines.join("\n")}\n`;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const report = await measureTokens((line) => process.stderr.write(`bench:tokens: ${line}\n`));
  const markdown = renderTokenMarkdown(report);
  const dir = join(root, "bench/results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `tokens-${report.date}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, "tokens.md"), markdown);
  process.stdout.write(markdown);
  process.exit(0);
}
