// The contract between tool sources (functions, MCP servers, OpenAPI documents) and the executor,
// the type generator and `islet mcp`. A source becomes one namespace of tools in the sandbox.

/** A JSON Schema object, as tool sources describe their inputs and outputs (draft 2020-12 / OpenAPI 3.1 dialect). */
export type JsonSchema = { [key: string]: unknown } | boolean;

export interface ToolDescriptor {
  /** The tool's name as its source knows it (e.g. an MCP tool name or an OpenAPI operationId). */
  name: string;
  description?: string;
  inputSchema?: JsonSchema;
  outputSchema?: JsonSchema;
  /** Calls pause for the host's approval before they run (see `execute`'s onApproval). */
  needsApproval?: boolean;
  /**
   * Words `find()` in search ranks the tool by besides its name, description and input property
   * names: an OpenAPI operation's method, path, tags and the description `fullDescriptions` leaves
   * out of the doc comment. Never shown in the API text.
   */
  keywords?: string[];
}

/** A resource an upstream offers (MCP `resources/list`), as search shows it. */
export interface ResourceInfo {
  uri: string;
  name: string;
  description?: string;
  mimeType?: string;
}

/** A prompt an upstream offers (MCP `prompts/list`), as search shows it. */
export interface PromptInfo {
  name: string;
  description?: string;
  arguments?: { name: string; description?: string; required?: boolean }[];
}

/** What the executor passes with each tool call (see ToolProvider.call). */
export interface ToolCallOptions {
  /** Aborts when the execution that made the call ends, for any reason; its reason is an Error named AbortError. */
  signal?: AbortSignal;
}

export interface ToolProvider {
  /** The namespace the tools appear under in the sandbox, before sanitising into an identifier. */
  namespace: string;
  /** A one-line description of the source, shown to the model with the generated API. */
  description?: string;
  /** How to use the source, as its server says (MCP `instructions`); search shows it in `namespaces`. */
  instructions?: string;
  /** What the source offers besides tools (MCP resources and prompts); search shows them in `namespaces`. */
  resources?: ResourceInfo[];
  prompts?: PromptInfo[];
  tools: ToolDescriptor[];
  /**
   * Schemas shared by the tools' schemas: a `$ref` of `#/$defs/<name>` that a tool's own schema does
   * not define resolves here (an OpenAPI source's components/schemas). Optional; added for sources
   * whose tools share many types, so each tool's schema stays small.
   */
  definitions?: Record<string, JsonSchema>;
  /**
   * For tools whose need for approval depends on the call (an OpenAPI source's raw `request()`,
   * judged as the operation it addresses): true when this call needs the host's approval. It
   * only adds approvals: a tool whose descriptor says needsApproval always needs it. A throw
   * counts as true.
   */
  approvalFor?(tool: string, args: unknown): boolean;
  /**
   * Runs one tool host-side. Arguments and result are plain structured-clone data. Throws to fail
   * the call. `options.signal` aborts when the execution that made the call ends (it returned, threw,
   * ran into a limit, was cancelled or stopped for approval): stop the call's work then (pass it to
   * fetch, to the upstream's client). Optional: a provider that ignores it still works, its work
   * then outliving the execution.
   */
  call(tool: string, args: unknown, options?: ToolCallOptions): Promise<unknown>;
  /** Releases connections (MCP clients, child processes). */
  close?(): Promise<void>;
}
