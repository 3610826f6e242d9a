// What `islet mcp` runs on: the catalog search code reads and the executor `execute` code runs
// in, both built from part A's islet/codemode over the configured providers, and the OpenAPI
// sources of a config (document read from a file or URL, auth added host-side).

import type { ApprovalJournalOptions } from "./executor/approval-journal.ts";
import { readFile } from "node:fs/promises";
import type { Limits, WorkerLoader } from "../index.ts";
import { buildCatalog } from "./catalog.ts";
import type { OpenApiSourceConfig } from "./config.ts";
import { OpenApiError } from "./errors.ts";
import type { ApprovalHandler } from "./executor/approvals.ts";
import { CodeExecutor } from "./executor/executor.ts";
import type { SessionStorageOptions } from "./executor/sessions.ts";
import { fromOpenApi } from "./openapi/index.ts";
import type { ToolProvider } from "./provider.ts";
import { searchCatalog, type SearchCatalog } from "./search.ts";

export interface ExecuteOutcome {
  result: unknown;
  error?: string;
  logs?: string[];
  /** How the sandbox's invocation ended (ok, exception, exceededCpu, …), for HTTP callers. */
  outcome?: string;
  /** CPU and wall time of the invocation, in ms. */
  timing?: { cpuMs: number; wallMs: number };
  /** The run stopped before a call that needs approval (see ExecuteResult.pendingApproval). */
  pendingApproval?: { id: string; namespace: string; tool: string; args: unknown };
}

export interface CodeModeBackend {
  catalog: SearchCatalog;
  /** The generated TypeScript API of every namespace (what an API browser shows). */
  api: string;
  execute(code: string, options?: { onApproval?: ApprovalHandler; signal?: AbortSignal; session?: string; resume?: { id: string; approve: boolean; reason?: string }; owner?: string; onLog?: (line: string, level: string) => void }): Promise<ExecuteOutcome>;
  close(): Promise<void>;
}

/** The catalog and executor over a fixed set of providers (their namespaces must not collide). */
export function codeModeBackend(
  providers: ToolProvider[],
  options: { limits?: Limits; loader?: WorkerLoader; sessions?: SessionStorageOptions; typecheck?: boolean; deferApprovals?: boolean; approvalJournal?: ApprovalJournalOptions } = {},
): CodeModeBackend {
  const built = buildCatalog(providers);
  const catalog = searchCatalog(built);
  const executor = new CodeExecutor({ limits: options.limits, ...(options.loader ? { loader: options.loader } : {}), ...(options.sessions ? { sessions: options.sessions } : {}), ...(options.typecheck ? { typecheck: true } : {}), ...(options.deferApprovals ? { deferApprovals: true } : {}), ...(options.approvalJournal ? { approvalJournal: options.approvalJournal } : {}) });
  return {
    catalog,
    api: built.api,
    async execute(code, callOptions = {}) {
      const { result, error, logs, outcome, timing, pendingApproval } = await executor.execute(code, providers, callOptions);
      return { result, ...(error !== undefined ? { error } : {}), ...(logs?.length ? { logs } : {}), outcome, timing: { cpuMs: timing.cpuMs, wallMs: timing.wallMs }, ...(pendingApproval !== undefined ? { pendingApproval } : {}) };
    },
    async close() {
      await executor.close();
      await Promise.allSettled(providers.map((provider) => provider.close?.()));
    },
  };
}

async function readSpec(namespace: string, spec: string): Promise<string> {
  if (/^https?:\/\//i.test(spec)) {
    let response: Response;
    try {
      response = await fetch(spec);
    } catch (error) {
      throw new OpenApiError(`openapi.${namespace}: cannot fetch the document ${spec}: ${(error as Error).message}`);
    }
    if (!response.ok) throw new OpenApiError(`openapi.${namespace}: fetching the document ${spec} answered HTTP ${response.status}`);
    return response.text();
  }
  try {
    return await readFile(spec, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new OpenApiError(`openapi.${namespace}: cannot read the document ${spec}: ${code === "ENOENT" ? "no such file" : (error as Error).message}`);
  }
}

/**
 * An OpenAPI source from the config: the document is read (file or http(s) URL, JSON or YAML), and
 * every request gets the configured headers and auth header on the host; the sandbox never sees them.
 */
export async function openApiProvider(namespace: string, source: OpenApiSourceConfig): Promise<ToolProvider> {
  const text = await readSpec(namespace, source.spec);
  const headers = { ...source.headers, ...(source.auth ? { [source.auth.header]: source.auth.value } : {}) };
  const needsApproval = source.needsApproval;
  try {
    return fromOpenApi(text, {
      namespace,
      headers,
      ...(source.baseUrl !== undefined ? { baseUrl: source.baseUrl } : {}),
      ...(source.description !== undefined ? { description: source.description } : {}),
      ...(source.timeoutMs !== undefined ? { timeoutMs: source.timeoutMs } : {}),
      // The list as fromOpenApi takes it: a name that is no operation is an error at startup, not ignored.
      ...(needsApproval?.length ? { needsApproval } : {}),
    });
  } catch (error) {
    if (error instanceof OpenApiError) error.message = `openapi.${namespace}: ${error.message}`;
    throw error;
  }
}
