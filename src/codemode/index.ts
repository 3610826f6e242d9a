// islet/codemode: tool sources → a typed TypeScript API for the model, and an executor that runs the
// model's code against those tools in a fresh islet sandbox.

export type { JsonSchema, ToolCallOptions, ToolDescriptor, ToolProvider } from "./provider.ts";
export { execute, createExecutor, CodeExecutor, type ExecuteOptions, type ExecutorOptions, type ExecuteResult } from "./executor/executor.ts";
export type { ApprovalHandler, ApprovalRequest, PendingApproval, ApprovalRecord } from "./executor/approvals.ts";
export { fromFunctions, toProviders, DEFAULT_NAMESPACE, type FunctionTool, type FunctionSourceOptions, type ToolContext, type ProvidersOrFunctions, type ToolFunction } from "./functions.ts";
export { fromMcpServer, McpToolError, McpConnectionError, type McpSourceOptions, type McpStdioServer } from "./mcp-source.ts";
export { fromOpenApi, RAW_REQUEST_TOOL, type OpenApiSourceOptions, type OpenApiRequest, type OpenApiRequestOptions, type OpenApiResponseValue, type OpenApiRequestFunction } from "./openapi/index.ts";
export { generateApi, type GeneratedApi, type NamespaceApi, type ToolApi, type ApiOptions } from "./types/api.ts";
export { schemaToTypeScript } from "./types/schema.ts";
export { buildCatalog, type Catalog, type CatalogEntry } from "./catalog.ts";
export { toolIdentifier, namespaceIdentifier, typeIdentifier, type ToolRename } from "./identifiers.ts";
export { isZodSchema, zodToJsonSchema } from "./zod.ts";
export { CodeModeError, NamespaceCollisionError, ToolInputError, ApprovalRejectedError, OpenApiError, HttpError, UpstreamError } from "./errors.ts";
