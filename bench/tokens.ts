// `npm run bench:tokens`: how many o200k_base tokens an agent spends on tools, classic MCP vs code mode.
//
// 1. Surfaces, per real upstream: the MCP `tools/list` JSON (for an OpenAPI document, the same
//    shape with one tool per operation, each carrying the component schemas it uses as `$defs`),
//    the generated TypeScript API, and islet mcp's two-tool (search/execute) definitions.
// 2. Tasks: scripted multi-step jobs against the real servers (no LLM; the traces are fixed). The
//    tool-calling transcript holds every call and every result as the model would see them; the
//    code-mode transcript holds the code and its final result. A second comparison counts whole
//    sessions: tool definitions plus transcript, and for code mode also the search call it needs.
//
// Writes bench/results/tokens-<date>.json and bench/results/tokens.md, prints the Markdown.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
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
  /** The generated TypeScript declarations of the same tools. */
  typescriptTokens: number;
  /** typescriptTokens / jsonTokens. */
  typescriptRatio: number;
  /** islet mcp's search + execute definitions over this upstream. */
  twoToolTokens: number;
  /** Tokens of the description texts alone (tool and schema descriptions), which both forms carry. */
  descriptionTokens: number;
  generateMs: number;
}

export interface TaskRow {
  task: string;
  upstream: string;
  /** Tool calls in the tool-calling trace. */
  toolCalls: number;
  toolCallingTokens: number;
  /** Of which: the calls (names and arguments) and the results. */
  toolCallingCallTokens: number;
  toolCallingResultTokens: number;
  codeModeTokens: number;
  /** Of which: the code (in its execute call) and the final result. */
  codeTokens: number;
  finalResultTokens: number;
  /** 1 - codeMode / toolCalling. */
  reduction: number;
  /** Whole sessions: tool definitions + transcript; code mode adds the two-tool surface and one search call. */
  sessionToolCallingTokens: number;
  sessionCodeModeTokens: number;
  sessionReduction: number;
  /** The code-mode final answer and the tool-calling trace's last result agree on the facts checked. */
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

function surface(upstream: string, toolListJson: string, provider: ToolProvider): SurfaceRow {
  const started = performance.now();
  const api = generateApi([provider]);
  const generateMs = performance.now() - started;
  const catalog = searchCatalog(buildCatalog([provider]));
  const jsonTokens = tokens(toolListJson);
  const typescriptTokens = tokens(api.text);
  return {
    upstream,
    tools: provider.tools.length,
    jsonTokens,
    typescriptTokens,
    typescriptRatio: typescriptTokens / jsonTokens,
    twoToolTokens: tokens(JSON.stringify(twoToolDefinitions(catalog))),
    descriptionTokens: tokens(descriptionText(JSON.parse(toolListJson)).join("\n")),
    generateMs: Math.round(generateMs),
  };
}

// --- transcripts ------------------------------------------------------------------------------

/** What the model reads back from a tool call: the text blocks (other blocks as JSON), or the structured content. */
function resultText(result: CallToolResult): string {
  if (result.content?.length) return result.content.map((block) => (block.type === "text" ? block.text : JSON.stringify(block))).join("\n");
  return JSON.stringify(result.structuredContent ?? null);
}

class ToolCallingTrace {
  readonly entries: string[] = [];
  readonly callParts: string[] = [];
  readonly resultParts: string[] = [];
  calls = 0;
  constructor(private readonly upstream: Upstream) {}
  async call(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
    const result = (await this.upstream.client.callTool({ name, arguments: args })) as CallToolResult;
    if (result.isError) throw new Error(`${name} failed in the tool-calling trace: ${resultText(result)}`);
    this.calls++;
    const call = JSON.stringify({ name, arguments: args });
    const text = resultText(result);
    this.entries.push(call, text);
    this.callParts.push(call);
    this.resultParts.push(text);
    return result;
  }
  get tokens(): number {
    return tokens(this.entries.join("\n"));
  }
}

/** Runs a call to islet's own search/execute and returns what the model would read, plus its tokens. */
async function codeModeCall(mcp: IsletMcp, name: "search" | "execute", code: string): Promise<{ text: string; tokens: number; callTokens: number; resultTokens: number }> {
  const result = await mcp.callTool(name, { code });
  const text = resultText(result);
  if (result.isError) throw new Error(`${name} failed: ${text}`);
  const call = JSON.stringify({ name, arguments: { code } });
  return { text, tokens: tokens(`${call}\n${text}`), callTokens: tokens(call), resultTokens: tokens(text) };
}

interface Task {
  name: string;
  upstream: string;
  setup?(upstream: Upstream): Promise<void>;
  toolCalling(trace: ToolCallingTrace): Promise<unknown>;
  /** The search a model runs first to learn the signatures it needs. */
  search: string;
  execute: string;
  /** Compares the two answers; returns a short note, throws when they disagree. */
  check(toolCallingAnswer: unknown, codeModeAnswer: unknown): string;
}

const PEOPLE = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Katherine Johnson", "Edsger Dijkstra", "Barbara Liskov", "Donald Knuth", "Margaret Hamilton", "Ken Thompson", "Frances Allen", "John Backus", "Radia Perlman"];
const PROJECTS = ["islet", "compiler", "scheduler", "search"];
const ROLES = ["maintainer", "reviewer", "contributor", "designer"];

function sorted<T>(values: T[]): T[] {
  return [...values].sort();
}

function memoryTask(): Task {
  return {
    name: "memory: add a person and a relation, then list who works on islet with their role",
    upstream: "memory",
    async setup({ client }) {
      // An existing knowledge graph (not part of either transcript): people, projects, relations.
      await client.callTool({
        name: "create_entities",
        arguments: {
          entities: [
            ...PEOPLE.map((name, i) => ({ name, entityType: "person", observations: [`role: ${ROLES[i % ROLES.length]}`, `joined in ${2015 + (i % 9)}`, `based in ${["Lisbon", "Oslo", "Austin", "Kyoto"][i % 4]}`] })),
            ...PROJECTS.map((name) => ({ name, entityType: "project", observations: [`${name} is written in TypeScript`, `${name} has a weekly release`] })),
          ],
        },
      });
      await client.callTool({ name: "create_relations", arguments: { relations: PEOPLE.map((from, i) => ({ from, to: PROJECTS[i % PROJECTS.length], relationType: "works_on" })) } });
    },
    async toolCalling(trace) {
      await trace.call("create_entities", { entities: [{ name: "Linus Torvalds", entityType: "person", observations: ["role: reviewer", "joined in 2024", "based in Portland"] }] });
      await trace.call("create_relations", { relations: [{ from: "Linus Torvalds", to: "islet", relationType: "works_on" }] });
      const found = (await trace.call("search_nodes", { query: "islet" })).structuredContent as { relations: { from: string; to: string; relationType: string }[] };
      const names = found.relations.filter((r) => r.to === "islet" && r.relationType === "works_on").map((r) => r.from);
      const opened = (await trace.call("open_nodes", { names })).structuredContent as { entities: { name: string; observations: string[] }[] };
      return opened.entities.map((e) => ({ name: e.name, role: e.observations.find((o) => o.startsWith("role: "))?.slice(6) }));
    },
    search: `async () => tools.filter(t => t.namespace === "memory" && /create|search|open/.test(t.name)).map(t => t.declaration).join("\\n")`,
    execute: `async () => {
  await memory.create_entities({ entities: [{ name: "Linus Torvalds", entityType: "person", observations: ["role: reviewer", "joined in 2024", "based in Portland"] }] });
  await memory.create_relations({ relations: [{ from: "Linus Torvalds", to: "islet", relationType: "works_on" }] });
  const found = await memory.search_nodes({ query: "islet" });
  const names = found.relations.filter(r => r.to === "islet" && r.relationType === "works_on").map(r => r.from);
  const { entities } = await memory.open_nodes({ names });
  return entities.map(e => ({ name: e.name, role: e.observations.find(o => o.startsWith("role: "))?.slice(6) }));
}`,
    check(expected, actual) {
      assertSame(expected, actual);
      return `${(actual as unknown[]).length} people`;
    },
  };
}

function filesystemTask(folder: string): Task {
  return {
    name: "filesystem: find the .md and .ts files containing TODO, report their sizes and the total",
    upstream: "filesystem",
    async toolCalling(trace) {
      const md = ((await trace.call("search_files", { path: folder, pattern: "**/*.md" })).structuredContent as { content: string }).content.split("\n");
      const ts = ((await trace.call("search_files", { path: folder, pattern: "**/*.ts" })).structuredContent as { content: string }).content.split("\n");
      const read = ((await trace.call("read_multiple_files", { paths: [...md, ...ts] })).structuredContent as { content: string }).content;
      // read_multiple_files answers "<path>:\n<content>" blocks separated by "\n---\n".
      const matching = read
        .split("\n---\n")
        .filter((block) => block.includes("TODO"))
        .map((block) => block.slice(0, block.indexOf(":\n")));
      const files: { path: string; size: number }[] = [];
      for (const path of matching) {
        const info = ((await trace.call("get_file_info", { path })).structuredContent as { content: string }).content;
        files.push({ path: path.slice(folder.length + 1), size: Number(/^size: (\d+)$/m.exec(info)![1]) });
      }
      files.sort((a, b) => a.path.localeCompare(b.path));
      return { files, total: files.reduce((sum, f) => sum + f.size, 0) };
    },
    search: `async () => tools.filter(t => t.namespace === "filesystem" && /search_files|read_multiple|get_file_info/.test(t.name)).map(t => t.declaration).join("\\n")`,
    execute: `async () => {
  const root = ${JSON.stringify(folder)};
  const paths = [];
  for (const pattern of ["**/*.md", "**/*.ts"]) paths.push(...(await filesystem.search_files({ path: root, pattern })).content.split("\\n"));
  const { content } = await filesystem.read_multiple_files({ paths });
  const matching = content.split("\\n---\\n").filter(b => b.includes("TODO")).map(b => b.slice(0, b.indexOf(":\\n")));
  const files = [];
  for (const path of matching) {
    const info = (await filesystem.get_file_info({ path })).content;
    files.push({ path: path.slice(root.length + 1), size: Number(/^size: (\\d+)$/m.exec(info)[1]) });
  }
  files.sort((a, b) => a.path.localeCompare(b.path));
  return { files, total: files.reduce((sum, f) => sum + f.size, 0) };
}`,
    check(expected, actual) {
      assertSame(expected, actual);
      return `${(actual as { files: unknown[] }).files.length} files`;
    },
  };
}

function everythingResourcesTask(): Task {
  return {
    name: "everything: list 10 resources, fetch the text ones, return the URIs whose text mentions 'plaintext' with their lengths",
    upstream: "everything",
    async toolCalling(trace) {
      const links = (await trace.call("get-resource-links", { count: 10 })).content.filter((b) => b.type === "resource_link") as { uri: string }[];
      const out: { uri: string; length: number }[] = [];
      for (const link of links) {
        const match = /\/dynamic\/(text|blob)\/(\d+)$/.exec(link.uri);
        if (!match || match[1] !== "text") continue;
        const result = await trace.call("get-resource-reference", { resourceType: "Text", resourceId: Number(match[2]) });
        const resource = result.content.find((b) => b.type === "resource") as { resource: { uri: string; text: string } };
        if (resource.resource.text.includes("plaintext")) out.push({ uri: resource.resource.uri, length: resource.resource.text.length });
      }
      return out;
    },
    search: `async () => tools.filter(t => t.namespace === "everything" && /resource/.test(t.name)).map(t => t.declaration).join("\\n")`,
    execute: `async () => {
  const blocks = await everything.get_resource_links({ count: 10 });
  const out = [];
  for (const link of blocks.filter(b => b.type === "resource_link")) {
    const match = /\\/dynamic\\/(text|blob)\\/(\\d+)$/.exec(link.uri);
    if (!match || match[1] !== "text") continue;
    const reference = await everything.get_resource_reference({ resourceType: "Text", resourceId: Number(match[2]) });
    const { resource } = reference.find(b => b.type === "resource");
    if (resource.text.includes("plaintext")) out.push({ uri: resource.uri, length: resource.text.length });
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
  return {
    name: "everything: weather in three cities, the warmest, and the temperature sum via get-sum",
    upstream: "everything",
    async toolCalling(trace) {
      const cities = ["New York", "Chicago", "Los Angeles"];
      const weather: { city: string; temperature: number }[] = [];
      for (const city of cities) weather.push({ city, temperature: ((await trace.call("get-structured-content", { location: city })).structuredContent as { temperature: number }).temperature });
      const first = (await trace.call("get-sum", { a: weather[0].temperature, b: weather[1].temperature })).content[0] as { text: string };
      const partial = Number(/is (-?[\d.]+)\.$/.exec(first.text)![1]);
      const total = (await trace.call("get-sum", { a: partial, b: weather[2].temperature })).content[0] as { text: string };
      const warmest = weather.reduce((a, b) => (b.temperature > a.temperature ? b : a)).city;
      return { warmest, sum: Number(/is (-?[\d.]+)\.$/.exec(total.text)![1]) };
    },
    search: `async () => tools.filter(t => ["everything.get_structured_content", "everything.get_sum"].includes(t.path)).map(t => t.declaration).join("\\n")`,
    execute: `async () => {
  const cities = ["New York", "Chicago", "Los Angeles"];
  const weather = [];
  for (const city of cities) weather.push({ city, ...(await everything.get_structured_content({ location: city })) });
  let sum = 0;
  for (const w of weather) sum = Number(/is (-?[\\d.]+)\\.$/.exec(await everything.get_sum({ a: sum, b: w.temperature }))[1]);
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
  const temp = mkdtempSync(join(tmpdir(), "islet-bench-tokens-"));
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

    const tasks: TaskRow[] = [];
    const taskList = [memoryTask(), filesystemTask(folder), everythingResourcesTask(), everythingWeatherTask()];
    for (const task of taskList) {
      log(`task: ${task.name}`);
      const upstream = upstreams.find((u) => u.name === task.upstream)!;
      await task.setup?.(upstream);
      const trace = new ToolCallingTrace(upstream);
      const toolCallingAnswer = await task.toolCalling(trace);
      // Reset state the tool-calling run changed, so code mode does the same work on the same data.
      if (task.upstream === "memory") await upstream.client.callTool({ name: "delete_entities", arguments: { entityNames: ["Linus Torvalds"] } });
      const mcp = await IsletMcp.create({ providers: [upstream.provider] });
      servers.push(mcp);
      const search = await codeModeCall(mcp, "search", task.search);
      const execute = await codeModeCall(mcp, "execute", task.execute);
      const checked = task.check(toolCallingAnswer, JSON.parse(execute.text));
      const toolCallingTokens = trace.tokens;
      const definitions = tokens(JSON.stringify(upstream.tools));
      const twoTools = tokens(JSON.stringify(mcp.tools));
      const sessionToolCalling = definitions + toolCallingTokens;
      const sessionCodeMode = twoTools + search.tokens + execute.tokens;
      tasks.push({
        task: task.name,
        upstream: task.upstream,
        toolCalls: trace.calls,
        toolCallingTokens,
        toolCallingCallTokens: tokens(trace.callParts.join("\n")),
        toolCallingResultTokens: tokens(trace.resultParts.join("\n")),
        codeModeTokens: execute.tokens,
        codeTokens: execute.callTokens,
        finalResultTokens: execute.resultTokens,
        reduction: 1 - execute.tokens / toolCallingTokens,
        sessionToolCallingTokens: sessionToolCalling,
        sessionCodeModeTokens: sessionCodeMode,
        sessionReduction: 1 - sessionCodeMode / sessionToolCalling,
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
    return { date: new Date().toISOString().slice(0, 10), tokenizer: "o200k_base (gpt-tokenizer)", node: process.version, surfaces, tasks, targets: TARGETS, missed };
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
  const share = row.descriptionTokens / row.jsonTokens;
  return (
    `The descriptions alone are ${row.descriptionTokens} tokens, ${pct(share)} of the JSON; the TypeScript keeps every one as a doc comment, ` +
    `so its floor is there, and the structure it saves (${row.jsonTokens - row.descriptionTokens} JSON tokens of schema syntax became ${row.typescriptTokens - row.descriptionTokens} of declarations) cannot make up the rest.`
  );
}

function whyTaskMissed(row: TaskRow): string {
  return (
    `Tool calling: ${row.toolCallingCallTokens} tokens of calls and ${row.toolCallingResultTokens} of results; code mode: ${row.codeTokens} of code and ${row.finalResultTokens} of result. ` +
    (row.toolCallingResultTokens < row.codeTokens
      ? "The intermediate results code mode keeps out of the context are smaller than the code that replaces the calls: code mode pays off where results are large."
      : "The code restates the calls' inputs (which appear in both transcripts) plus the logic, and costs about as much as the intermediate results it saves.")
  );
}

function pct(value: number): string {
  return `${Math.round(value * 100)}%`;
}

/** The Markdown tables for BENCHMARKS.md. */
export function renderTokenMarkdown(report: TokenReport): string {
  const lines: string[] = [];
  lines.push(`### Token economy (\`npm run bench:tokens\`, ${report.date}, ${report.tokenizer})`, "");
  lines.push("Tool surfaces: the MCP `tools/list` JSON an agent is given, the TypeScript API islet generates for the same tools, and `islet mcp`'s two tools (search + execute) over that upstream.", "");
  lines.push("| upstream | tools | tools/list JSON | TypeScript API | TS / JSON | two-tool surface |", "| --- | ---: | ---: | ---: | ---: | ---: |");
  for (const row of report.surfaces) {
    lines.push(`| ${row.upstream} | ${row.tools} | ${row.jsonTokens.toLocaleString("en-US")} | ${row.typescriptTokens.toLocaleString("en-US")} | ${pct(row.typescriptRatio)} | ${row.twoToolTokens.toLocaleString("en-US")} |`);
  }
  lines.push("", "For the OpenAPI document the JSON column is the equivalent tool list: one tool per operation with its input and output schemas, each tool carrying the component schemas it uses as `$defs`.", "");
  lines.push("Scripted tasks against the real servers (fixed traces, no LLM). *Transcript*: every call and every result (tool calling) vs the code and its final result (code mode). *Session*: the tool definitions plus the transcript; for code mode the two-tool surface, one `search` call and its result, and the `execute` call.", "");
  lines.push("| task | calls | tool-calling transcript | code-mode transcript | smaller by | session: tool calling | session: code mode | smaller by |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const row of report.tasks) {
    lines.push(
      `| ${row.task} | ${row.toolCalls} | ${row.toolCallingTokens.toLocaleString("en-US")} | ${row.codeModeTokens.toLocaleString("en-US")} | ${pct(row.reduction)} | ${row.sessionToolCallingTokens.toLocaleString("en-US")} | ${row.sessionCodeModeTokens.toLocaleString("en-US")} | ${pct(row.sessionReduction)} |`,
    );
  }
  const sum = (pick: (row: TaskRow) => number) => report.tasks.reduce((total, row) => total + pick(row), 0);
  const [tc, cm, stc, scm] = [sum((r) => r.toolCallingTokens), sum((r) => r.codeModeTokens), sum((r) => r.sessionToolCallingTokens), sum((r) => r.sessionCodeModeTokens)];
  lines.push(`| all tasks | ${sum((r) => r.toolCalls)} | ${tc.toLocaleString("en-US")} | ${cm.toLocaleString("en-US")} | ${pct(1 - cm / tc)} | ${stc.toLocaleString("en-US")} | ${scm.toLocaleString("en-US")} | ${pct(1 - scm / stc)} |`);
  const t = report.targets;
  lines.push("", `Targets: TypeScript ≤ ${pct(t.tsRatio)} of the JSON tool list; two-tool surface < ${t.twoToolTokens} tokens; transcripts ≥ ${pct(t.transcriptReduction)} smaller.`);
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
