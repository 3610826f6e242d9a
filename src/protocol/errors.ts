// The one error-record codec of the boundary. An error crosses as a plain record (name, message,
// and a stack only where the receiver may see one) and is rebuilt on the other side. Used in the
// sandbox (src/runtime: results, host-call rejections, reportError), on the host toward a sandbox
// (src/rpc/errors.ts, src/engine/services), and between the host and a shard (src/loader/shard,
// which adds islet's own error classes through `construct`). Part of src/protocol: imports nothing
// of islet; runs in the sandbox on captured intrinsics.

import { protocolPrimordials as primordials } from "./primordials.ts";

const { Error, EvalError, ObjectDefineOwnProperty, ObjectKeys, ObjectPrototypeHasOwnProperty, RangeError, ReferenceError, String, StringPrototypeSlice, SyntaxError, TypeError, URIError } = primordials;

/** A value an error's data may hold: primitives only, so nothing but copies ever crosses. */
export type ErrorDataValue = string | number | boolean | null;

/** An error as it crosses: its name and message, the stack only toward the host, and its data. */
export interface ErrorRecord {
  name: string;
  message: string;
  stack?: string;
  /** Own enumerable properties with primitive values (`status`, `code`, …), bounded: see errorData. */
  data?: Record<string, ErrorDataValue>;
}

/** Characters of an error's name kept when it is rebuilt. */
const MAX_NAME_CHARS = 200;
/** An error's data: at most this many properties, each string value at most this many characters. */
const MAX_DATA_ENTRIES = 16;
const MAX_DATA_STRING_CHARS = 1024;
/** Keys looked at for data, allowed or not: a trap or a forged record cannot make the walk long. */
const MAX_DATA_KEYS_READ = 64;
const RESERVED_KEYS: Record<string, true> = {
  __proto__: null,
  name: true,
  message: true,
  stack: true,
  cause: true,
  errors: true,
  constructor: true,
  toString: true,
  toLocaleString: true,
  valueOf: true,
  toJSON: true,
  then: true,
  hasOwnProperty: true,
  isPrototypeOf: true,
  propertyIsEnumerable: true,
} as unknown as Record<string, true>;

/**
 * Data keys are identifiers of ASCII letters, digits, `_` and `$` up to 64 characters, never one
 * that names an error's or Object's own members or starts with `__`. Checked by character, not with
 * a RegExp, whose `exec` sandbox code can replace.
 */
function dataKeyAllowed(key: string): boolean {
  if (key.length === 0 || key.length > 64 || ObjectPrototypeHasOwnProperty(RESERVED_KEYS, key) || (key[0] === "_" && key[1] === "_")) return false;
  for (let i = 0; i < key.length; i++) {
    const c = key[i];
    const letter = (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_" || c === "$";
    if (!letter && (i === 0 || c < "0" || c > "9")) return false;
  }
  return true;
}

function dataValue(value: unknown): ErrorDataValue | undefined {
  if (value === null || typeof value === "number" || typeof value === "boolean") return value as ErrorDataValue;
  if (typeof value === "string") return value.length > MAX_DATA_STRING_CHARS ? StringPrototypeSlice(value, 0, MAX_DATA_STRING_CHARS) : value;
  return undefined;
}

/**
 * An error's data: its own enumerable properties (or only those named in `keys`) whose values are
 * primitives, at most MAX_DATA_ENTRIES, each read once and guarded (a getter may throw).
 */
function errorData(error: object, keys: readonly string[] | undefined): Record<string, ErrorDataValue> | undefined {
  let names: readonly string[];
  try {
    names = keys ?? ObjectKeys(error);
  } catch {
    return undefined;
  }
  let data: Record<string, ErrorDataValue> | undefined;
  let count = 0;
  for (let i = 0; i < names.length && i < MAX_DATA_KEYS_READ && count < MAX_DATA_ENTRIES; i++) {
    const key = names[i];
    if (typeof key !== "string" || !dataKeyAllowed(key)) continue;
    let value: ErrorDataValue | undefined;
    try {
      if (!ObjectPrototypeHasOwnProperty(error, key)) continue;
      value = dataValue((error as Record<string, unknown>)[key]);
    } catch {
      continue;
    }
    if (value === undefined) continue;
    data ??= { __proto__: null } as unknown as Record<string, ErrorDataValue>;
    data[key] = value;
    count++;
  }
  return data;
}

/** `{ code: 42, detail: "gone" }`: a thrown plain object's data, as its message says it. */
function describeData(data: Record<string, ErrorDataValue> | undefined): string {
  if (data === undefined) return "{}";
  let text = "";
  const keys = ObjectKeys(data);
  for (let i = 0; i < keys.length; i++) {
    const value = data[keys[i]];
    text += `${i === 0 ? "" : ", "}${keys[i]}: ${typeof value === "string" ? `"${StringPrototypeSlice(value, 0, 100)}"` : `${value}`}`;
  }
  return `{ ${text} }`;
}

/**
 * The record for a thrown value. An object's own `name`, `message` and (with `withStack`) `stack`
 * are read once, each guarded (a getter may throw); a value that is not an object becomes an Error
 * whose message is `Uncaught <value>`, as V8 reports it.
 */
export function errorToRecord(error: unknown, withStack = true, dataKeys?: readonly string[]): ErrorRecord {
  if (error !== null && typeof error === "object") {
    const e = error as { name?: unknown; message?: unknown; stack?: unknown };
    let name = "Error";
    let message = "";
    let stack: string | undefined;
    let plain = false;
    try {
      name = typeof e.name === "string" ? e.name : "Error";
      plain = e.message === undefined && e.name === undefined;
      message = typeof e.message === "string" ? e.message : String(e.message ?? "");
      if (withStack) stack = typeof e.stack === "string" ? e.stack : undefined;
    } catch {
      // A getter that throws: report what we have.
    }
    const data = errorData(error, dataKeys);
    // A thrown object that is no error (`throw { code: 42 }`) says what it held, as V8 says `Uncaught 42`.
    if (plain) message = `Uncaught ${describeData(data)}`;
    const record: ErrorRecord = stack === undefined ? { name, message } : { name, message, stack };
    if (data !== undefined) record.data = data;
    return record;
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
  // The data is checked again here: the record came from the other side.
  const data = r.data !== null && typeof r.data === "object" ? errorData(r.data, undefined) : undefined;
  if (data !== undefined) {
    const keys = ObjectKeys(data);
    for (let i = 0; i < keys.length; i++) {
      if (ObjectPrototypeHasOwnProperty(error, keys[i])) continue;
      ObjectDefineOwnProperty(error, keys[i], { __proto__: null, value: data[keys[i]], writable: true, enumerable: true, configurable: true } as PropertyDescriptor);
    }
  }
  return error;
}
