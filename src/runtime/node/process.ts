// The nodejs_compat `process`: an EventEmitter carrying only what is safe to show a sandbox. Its
// env holds the string values of the worker's env and nothing of the host; there is no exit, no
// stdio, no pid. nextTick runs on the microtask queue, as on Cloudflare Workers.

import { EventEmitter } from "./events.ts";
import { invalidArgType } from "./errors.ts";
import { validateFunction, validateString } from "./validators.ts";
import { asyncContext } from "../platform.ts";
import { primordials } from "../primordials.ts";

const { ArrayIsArray, Error, ObjectAssign, ObjectFreeze, PromisePrototypeThen, PromiseResolve, ReflectApply, String, StringPrototypeSlice } = primordials;

/** The Node release whose APIs the compat modules follow. */
const NODE_VERSION = "v20.19.0";

let env: Record<string, string> = {};
let processObject: (EventEmitter & Record<string, unknown>) | undefined;

/** Called by the core before the chunk is used: the worker's env entries that are strings. */
export function setProcessEnv(values: Record<string, string>): void {
  env = { ...values };
  if (processObject !== undefined) processObject.env = env;
}

// Intrinsic microtasks: a worker replacing the global queueMicrotask does not change nextTick.
const resolved = PromiseResolve();

export function queueTask(callback: () => void): void {
  void PromisePrototypeThen(resolved, callback);
}

export function nextTick(callback: unknown, ...args: unknown[]): void {
  validateFunction(callback, "callback");
  // In the async context current now (node:async_hooks), as Node's nextTick.
  const bound = asyncContext().bind(callback as (...a: unknown[]) => void);
  queueTask(() => ReflectApply(bound, undefined, args));
}

interface WarningOptions {
  type?: string;
  code?: string;
  detail?: string;
  ctor?: (...args: unknown[]) => unknown;
}

export function emitWarning(warning: unknown, typeArg?: unknown, codeArg?: unknown, ctorArg?: unknown): void {
  let type = typeArg;
  let code = codeArg;
  let ctor = ctorArg;
  let detail: string | undefined;
  if (type !== null && typeof type === "object" && !ArrayIsArray(type)) {
    const options = type as WarningOptions;
    ctor = options.ctor;
    code = options.code;
    if (typeof options.detail === "string") detail = options.detail;
    type = options.type || "Warning";
  } else if (typeof type === "function") {
    ctor = type;
    code = undefined;
    type = "Warning";
  }
  if (type !== undefined) validateString(type, "type");
  if (typeof code === "function") {
    ctor = code;
    code = undefined;
  } else if (code !== undefined) validateString(code, "code");
  let error: Error & { code?: string; detail?: string };
  if (typeof warning === "string") {
    error = new Error(warning);
    error.name = String(type || "Warning");
    if (code !== undefined) error.code = code as string;
    if (detail !== undefined) error.detail = detail;
    const capture = (Error as { captureStackTrace?: (target: object, ctor?: unknown) => void }).captureStackTrace;
    capture?.(error, ctor ?? emitWarning);
  } else if (warning instanceof Error) error = warning;
  else throw invalidArgType("warning", ["Error", "string"], warning);
  const target = getProcess();
  nextTick(() => target.emit("warning", error));
}

/** What Node prints for a warning nobody else handles; removing the listener silences it. */
function printWarning(warning: Error & { code?: string; detail?: string }): void {
  const console = (globalThis as { console?: { warn(...args: unknown[]): void } }).console;
  let text = `${warning.code ? `[${warning.code}] ` : ""}${warning.name}: ${warning.message}`;
  if (typeof warning.detail === "string") text += `\n${warning.detail}`;
  console?.warn(text);
}

export function getProcess(): EventEmitter & Record<string, unknown> {
  if (processObject !== undefined) return processObject;
  const target = new EventEmitter() as EventEmitter & Record<string, unknown>;
  ObjectAssign(target, {
    version: NODE_VERSION,
    versions: ObjectFreeze({ node: StringPrototypeSlice(NODE_VERSION, 1) }),
    platform: "linux",
    release: ObjectFreeze({ name: "node" }),
    argv: [],
    execArgv: [],
    env,
    cwd: () => "/",
    nextTick,
    emitWarning,
  });
  target.on("warning", printWarning);
  processObject = target;
  return target;
}
