// Errors of islet/codemode. Those thrown inside a tool call reach the sandbox as name and message
// (islet's boundary copies nothing else), so the model's code can tell them apart by `name`.

import { IsletError } from "../errors.ts";
import { SANDBOX_ERROR_DATA } from "../rpc/errors.ts";

export class CodeModeError extends IsletError {}

/** Two tool sources were given the same namespace (after sanitising); the host must rename one. */
export class NamespaceCollisionError extends CodeModeError {
  constructor(
    readonly identifier: string,
    readonly namespaces: string[],
  ) {
    super(`The namespaces ${namespaces.map((n) => JSON.stringify(n)).join(" and ")} both become the identifier "${identifier}"; give each tool source its own namespace.`);
  }
}

/** A tool was called with arguments its input schema rejects (zod) or the source cannot use. */
export class ToolInputError extends CodeModeError {}

/** A tool that needs approval was rejected by the host, or nobody decided in time. */
export class ApprovalRejectedError extends CodeModeError {}

/** An OpenAPI document could not be read or used. */
export class OpenApiError extends CodeModeError {}

/**
 * An OpenAPI operation's upstream could not be reached: `kind` says why ("dns", "refused", "reset",
 * "timeout", "tls" or "network"; "request" when the host's baseUrl or headers are not valid for fetch) and `code` is the system's code (ENOTFOUND, ECONNREFUSED …), so a
 * model can tell a wrong host from a down server from a certificate problem (fetch says only
 * "fetch failed").
 */
export class UpstreamError extends CodeModeError {
  constructor(
    message: string,
    readonly kind: "dns" | "refused" | "reset" | "timeout" | "tls" | "network" | "request",
    readonly code: string | undefined,
  ) {
    super(message);
  }

  /** The code that called the operation sees `kind` and `code` on the error it catches. */
  get [SANDBOX_ERROR_DATA](): string[] {
    return this.code === undefined ? ["kind"] : ["kind", "code"];
  }
}

/** An OpenAPI operation answered with an HTTP error status. */
export class HttpError extends CodeModeError {
  constructor(
    message: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(message);
  }

  /** The code that called the operation sees `status` on the error it catches. */
  get [SANDBOX_ERROR_DATA](): string[] {
    return ["status"];
  }
}
