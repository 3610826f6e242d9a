// The one error-record codec of the boundary. An error crosses as a plain record (name, message,
// and a stack only where the receiver may see one) and is rebuilt on the other side. Used in the
// sandbox (src/runtime: results, host-call rejections, reportError), on the host toward a sandbox
// (src/rpc/errors.ts, src/engine/services), and between the host and a shard (src/loader/shard,
// which adds islet's own error classes through `construct`). Part of src/protocol: imports nothing
// of islet; runs in the sandbox on captured intrinsics.

import { protocolPrimordials as primordials } from "./primordials.ts";

const { Error, EvalError, ObjectDefineOwnProperty, ObjectPrototypeHasOwnProperty, RangeError, ReferenceError, String, StringPrototypeSlice, SyntaxError, TypeError, URIError } = primordials;

/** An error as it crosses: its name and message, and the stack only toward the host. */
export interface ErrorRecord {
  name: string;
  message: string;
  stack?: string;
}

/** Characters of an error's name kept when it is rebuilt. */
const MAX_NAME_CHARS = 200;

/**
 * The record for a thrown value. An object's own `name`, `message` and (with `withStack`) `stack`
 * are read once, each guarded (a getter may throw); a value that is not an object becomes an Error
 * whose message is `Uncaught <value>`, as V8 reports it.
 */
export function errorToRecord(error: unknown, withStack = true): ErrorRecord {
  if (error !== null && typeof error === "object") {
    const e = error as { name?: unknown; message?: unknown; stack?: unknown };
    let name = "Error";
    let message = "";
    let stack: string | undefined;
    try {
      name = typeof e.name === "string" ? e.name : "Error";
      message = typeof e.message === "string" ? e.message : String(e.message ?? "");
      if (withStack) stack = typeof e.stack === "string" ? e.stack : undefined;
    } catch {
      // A getter that throws: report what we have.
    }
    return stack === undefined ? { name, message } : { name, message, stack };
  }
  let message: string;
  try {
    message = String(error);
  } catch {
    message = "(unprintable value)";
  }
  return { name: "Error", message: `Uncaught ${message}` };
}

const builtinClasses: Record<string, ErrorConstructor> = {
  __proto__: null,
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
} as unknown as Record<string, ErrorConstructor>;

/**
 * A constructor lookup for classes beyond the built-in ones (islet's own, src/errors.ts): returns
 * the error for a record, or undefined to rebuild it as a built-in error.
 */
export type ErrorConstruct = (name: string, message: string, record: Readonly<Record<string, unknown>>) => Error | undefined;

/**
 * Rebuilds an error from the other side: through `construct` when given and it answers, else with
 * this realm's built-in class of the same name (or Error, named as the record says). The stack is
 * kept only when `keepStack` is true: the host keeps a sandbox's stack, which names only sandbox
 * modules; a sandbox never gets one from the host.
 */
export function errorFromRecord(record: unknown, keepStack = false, construct?: ErrorConstruct): Error {
  const r = (record !== null && typeof record === "object" ? record : {}) as Record<string, unknown>;
  const name = typeof r.name === "string" ? StringPrototypeSlice(r.name, 0, MAX_NAME_CHARS) : "Error";
  const message = typeof r.message === "string" ? r.message : "";
  let error = construct === undefined ? undefined : construct(name, message, r);
  if (error === undefined) {
    const Class = ObjectPrototypeHasOwnProperty(builtinClasses, name) ? builtinClasses[name] : Error;
    error = new Class(message);
    if (error.name !== name) ObjectDefineOwnProperty(error, "name", { __proto__: null, value: name, writable: true, configurable: true } as PropertyDescriptor);
  }
  if (keepStack && typeof r.stack === "string") ObjectDefineOwnProperty(error, "stack", { __proto__: null, value: r.stack, writable: true, configurable: true } as PropertyDescriptor);
  return error;
}
