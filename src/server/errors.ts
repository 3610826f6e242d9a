// Errors of the service layer. ServerConfigError stops a server from starting; RequestError becomes
// an HTTP status with a message naming what was wrong (a field, a limit, a key).

import { IsletError } from "../errors.ts";

/** The server's options (flags, environment, config file) are invalid; `setting` names the culprit. */
export class ServerConfigError extends IsletError {
  constructor(
    message: string,
    readonly setting?: string,
  ) {
    super(setting === undefined ? message : `${setting}: ${message}`);
  }
}

/** A request the server refuses before running anything: its status is the HTTP status sent. */
export class RequestError extends IsletError {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 408 | 409 | 413 | 429 | 501 | 503,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** A /v1/rpc client's getCode() callback did not answer in time (getCodeTimeoutMs); the call that needed the worker failed and freed its slot. */
export class GetCodeTimeoutError extends IsletError {}
