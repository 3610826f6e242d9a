// Host functions as a tool source: `fromFunctions(namespace, { name: { description, inputSchema,
// outputSchema?, needsApproval?, execute } })`. A zod input schema also validates each call's input
// (with its defaults applied) before `execute` sees it; a JSON Schema only describes the input.

import { CodeModeError, ToolInputError } from "./errors.ts";
import type { JsonSchema, ToolDescriptor, ToolProvider } from "./provider.ts";
import { isZodSchema, parseWithZod, zodToJsonSchema, type ZodSchema } from "./zod.ts";

export interface FunctionTool<Input = any, Output = unknown> {
  description?: string;
  /** A JSON Schema object, or a zod schema (then calls are validated with it). */
  inputSchema?: JsonSchema | ZodSchema;
  outputSchema?: JsonSchema | ZodSchema;
  needsApproval?: boolean;
  /**
   * Runs the tool. `context.signal` aborts when the execution that made the call ends (it returned
   * without awaiting the call, threw, ran into a limit or was cancelled): pass it on to fetch or
   * whatever the tool waits for, so the tool's work ends with it.
   */
  execute(input: Input, context: ToolContext): Output | Promise<Output>;
}

/** What a function tool gets besides its input. */
export interface ToolContext {
  /** Aborts when the execution that made the call ends; never aborts for a call made outside one (`provider.call(name, args)`). */
  signal: AbortSignal;
}

export interface FunctionSourceOptions {
  /** A one-line description of the namespace, shown with its declarations. */
  description?: string;
}

export function fromFunctions(namespace: string, tools: Record<string, FunctionTool>, options: FunctionSourceOptions = {}): ToolProvider {
  if (typeof namespace !== "string" || namespace === "") throw new CodeModeError("fromFunctions: the namespace must be a non-empty string.");
  if (tools === null || typeof tools !== "object") throw new CodeModeError("fromFunctions: tools must be an object mapping names to { execute, … }.");
  const descriptors: ToolDescriptor[] = [];
  const entries = new Map<string, { tool: FunctionTool; validator?: ZodSchema }>();
  for (const [name, tool] of Object.entries(tools)) {
    if (tool === null || typeof tool !== "object" || typeof tool.execute !== "function") throw new CodeModeError(`fromFunctions: tool "${name}" needs an execute function.`);
    const validator = isZodSchema(tool.inputSchema) ? tool.inputSchema : undefined;
    const inputSchema = tool.inputSchema === undefined ? undefined : isZodSchema(tool.inputSchema) ? zodToJsonSchema(tool.inputSchema, "input") : tool.inputSchema;
    const outputSchema = tool.outputSchema === undefined ? undefined : isZodSchema(tool.outputSchema) ? zodToJsonSchema(tool.outputSchema, "output") : tool.outputSchema;
    descriptors.push({
      name,
      ...(tool.description !== undefined ? { description: tool.description } : {}),
      ...(inputSchema !== undefined ? { inputSchema } : {}),
      ...(outputSchema !== undefined ? { outputSchema } : {}),
      ...(tool.needsApproval === true ? { needsApproval: true } : {}),
    });
    entries.set(name, { tool, ...(validator !== undefined ? { validator } : {}) });
  }
  return {
    namespace,
    ...(options.description !== undefined ? { description: options.description } : {}),
    tools: descriptors,
    async call(name, args, options) {
      const entry = entries.get(name);
      if (entry === undefined) throw new CodeModeError(`${namespace} has no tool "${name}".`);
      let input = args;
      if (entry.validator !== undefined) {
        const parsed = await parseWithZod(entry.validator, args);
        if (!parsed.ok) throw new ToolInputError(`Invalid input for ${namespace}.${name}:\n${parsed.problems}`);
        input = parsed.value;
      }
      return entry.tool.execute(input, { signal: options?.signal ?? new AbortController().signal });
    },
  };
}

/** Plain host functions: `(input, { signal }) => result` (see FunctionTool.execute for the signal). */
export type ToolFunction = (input: any, context: ToolContext) => unknown;

/** What `execute` accepts: tool providers, or plain functions (see `toProviders`). */
export type ProvidersOrFunctions = readonly ToolProvider[] | Record<string, ToolFunction | Record<string, ToolFunction>>;

/** The namespace of functions given flat, as `execute(code, { fn1, fn2 })`. */
export const DEFAULT_NAMESPACE = "codemode";

function isProvider(value: unknown): value is ToolProvider {
  return typeof value === "object" && value !== null && typeof (value as ToolProvider).namespace === "string" && Array.isArray((value as ToolProvider).tools) && typeof (value as ToolProvider).call === "function";
}

/**
 * Normalises `execute`'s second argument. An array holds ToolProviders. A plain object maps either
 * namespaces to objects of functions (`{ math: { add(input) {} } }`) or names to functions, which
 * go into the `codemode` namespace (`{ add(input) {} }` → `codemode.add(…)`); both may be mixed.
 */
export function toProviders(providersOrFns: ProvidersOrFunctions | ToolProvider): ToolProvider[] {
  if (isProvider(providersOrFns)) return [providersOrFns];
  if (Array.isArray(providersOrFns)) {
    providersOrFns.forEach((p, i) => {
      if (!isProvider(p)) throw new CodeModeError(`Tool source ${i} is not a ToolProvider (needs namespace, tools and call).`);
    });
    return [...providersOrFns];
  }
  if (providersOrFns === null || typeof providersOrFns !== "object") throw new CodeModeError("execute: the tools must be an array of ToolProviders or an object of functions.");
  const flat: Record<string, FunctionTool> = {};
  const providers: ToolProvider[] = [];
  for (const [key, value] of Object.entries(providersOrFns as Record<string, unknown>)) {
    if (typeof value === "function") flat[key] = { execute: value as ToolFunction };
    else if (isProvider(value)) providers.push(value);
    else if (value !== null && typeof value === "object") {
      const tools: Record<string, FunctionTool> = {};
      for (const [name, fn] of Object.entries(value)) {
        if (typeof fn !== "function") throw new CodeModeError(`execute: ${key}.${name} is not a function.`);
        tools[name] = { execute: fn as ToolFunction };
      }
      providers.push(fromFunctions(key, tools));
    } else throw new CodeModeError(`execute: "${key}" must be a function or an object of functions.`);
  }
  if (Object.keys(flat).length > 0) providers.unshift(fromFunctions(DEFAULT_NAMESPACE, flat));
  return providers;
}
