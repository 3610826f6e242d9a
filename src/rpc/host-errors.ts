// Host errors that cross into a sandbox as values. A thrown host error already arrives as name and
// message only (errors.ts); an Error inside a value (a host function's result such as
// Promise.allSettled's `reason`, an argument, env, props) would otherwise be structured-cloned with
// its host stack (file paths, islet's internals) and its `cause` (undici's "connect ECONNREFUSED
// 10.0.0.5:5432", say). So before a host value crosses, each native Error in it is replaced by a
// fresh one of the same standard class with the same message, a stack that is only its
// "Name: message" line, and no cause or own properties. Only the containers on the way to an error
// are copied (as structured clone would copy them anyway); capabilities keep their identity.
//
// The check is made in the codec's own walk (wire.ts, LeafCopier, beside compact-views.ts's): a
// value without an error is not walked again.

import { types } from "node:util";
import { DataCloneError } from "../errors.ts";
import { isStackOverflow, type LeafCopier } from "../protocol/wire.ts";
import { viewCopier } from "./compact-views.ts";

const { isNativeError, isArrayBufferView, isAnyArrayBuffer, isDate, isRegExp, isBoxedPrimitive, isMap, isSet, isProxy } = types;
const objectKeys = Object.keys;
const defineProperty = Object.defineProperty;
const standard: Record<string, ErrorConstructor> = { Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError };

/** The host's LeafCopier for what it sends: its errors stripped, then its partial views compacted. */
export function hostCopier(isCapability: (value: object) => boolean): LeafCopier {
  const views = viewCopier(isCapability);
  return {
    needsCopy: (leaf) => isNativeError(leaf) || views.needsCopy(leaf),
    copy: (value) => views.copy(withoutHostErrors(value, isCapability)),
    refuse: refuseHostObject,
    refuseGetters: true,
  };
}

/**
 * The host's platform objects a structured clone cannot carry. Without this check a Response (or
 * a Request, a stream, Headers) would cross into an isolate as its own keys, `{}`, while a thread's
 * postMessage refused it: now each is a DataCloneError in every mode, and a refused Response or
 * Request has its body cancelled at once, so whatever produces it (another worker's fetch handler,
 * whose invocation stays in flight until its body ends) is let go rather than held open by a
 * Response nobody can read.
 */
const hostPlatformClasses: [string, Function][] = (
  [
    "Response",
    "Request",
    "Headers",
    "ReadableStream",
    "WritableStream",
    "TransformStream",
    "ReadableStreamDefaultReader",
    "ReadableStreamBYOBReader",
    "WritableStreamDefaultWriter",
    "FormData",
    "Blob",
    "AbortController",
    "AbortSignal",
    "MessagePort",
    "MessageChannel",
    "BroadcastChannel",
    "URL",
    "URLSearchParams",
    "EventTarget",
    "Event",
    "TextEncoder",
    "TextDecoder",
    "WebSocket",
  ] as const
)
  .map((name) => [name, (globalThis as Record<string, unknown>)[name]] as [string, unknown])
  .filter((entry): entry is [string, Function] => typeof entry[1] === "function");

export function refuseHostObject(object: object): Error | undefined {
  for (const [name, ctor] of hostPlatformClasses) {
    let is = false;
    try {
      is = Function.prototype[Symbol.hasInstance].call(ctor, object) as boolean;
    } catch {
      is = false;
    }
    if (!is) continue;
    if (name === "Response" || name === "Request") {
      try {
        const body = (object as Response).body;
        if (body !== null && !body.locked) body.cancel().catch(() => {});
      } catch {
        // A body that cannot be reached has nothing to let go.
      }
    } else if (name === "ReadableStream") {
      if (!(object as ReadableStream).locked) (object as ReadableStream).cancel().catch(() => {});
    }
    return new DataCloneError(`${name} object could not be cloned: a ${name} cannot cross the sandbox boundary (pass its data, e.g. await response.text(), instead).`);
  }
  return undefined;
}

/** `value`, or a copy in which every Error is a bare one (name and message). Capabilities are left alone. */
export function withoutHostErrors<T>(value: T, isCapability: (value: object) => boolean): T {
  if (value === null || typeof value !== "object") return value;
  try {
    if (!holdsError(value, isCapability, new Set())) return value;
    return rebuild(value, isCapability, new Map()) as T;
  } catch (error) {
    if (isStackOverflow(error)) throw new DataCloneError("The value is nested too deeply to cross the boundary.");
    throw error;
  }
}

/** Objects a clone copies without walking their properties (or that never cross as data). */
function isLeaf(value: object, isCapability: (value: object) => boolean): boolean {
  return isArrayBufferView(value) || isAnyArrayBuffer(value) || isDate(value) || isRegExp(value) || isBoxedPrimitive(value) || isProxy(value) || isCapability(value);
}

function holdsError(value: unknown, isCapability: (value: object) => boolean, seen: Set<object>): boolean {
  if (value === null || typeof value !== "object" || seen.has(value)) return false;
  seen.add(value);
  if (isNativeError(value)) return true;
  if (isLeaf(value, isCapability)) return false;
  if (isMap(value)) {
    for (const [k, v] of value as Map<unknown, unknown>) if (holdsError(k, isCapability, seen) || holdsError(v, isCapability, seen)) return true;
    return false;
  }
  if (isSet(value)) {
    for (const v of value as Set<unknown>) if (holdsError(v, isCapability, seen)) return true;
    return false;
  }
  for (const key of objectKeys(value)) if (holdsError((value as Record<string, unknown>)[key], isCapability, seen)) return true;
  return false;
}

function rebuild(value: unknown, isCapability: (value: object) => boolean, copies: Map<object, unknown>): unknown {
  if (value === null || typeof value !== "object") return value;
  const done = copies.get(value);
  if (done !== undefined) return done;
  if (isNativeError(value)) {
    const bare = bareError(value);
    copies.set(value, bare);
    return bare;
  }
  if (isLeaf(value, isCapability)) return value;
  if (isMap(value)) {
    const out = new Map();
    copies.set(value, out);
    for (const [k, v] of value as Map<unknown, unknown>) out.set(rebuild(k, isCapability, copies), rebuild(v, isCapability, copies));
    return out;
  }
  if (isSet(value)) {
    const out = new Set();
    copies.set(value, out);
    for (const v of value as Set<unknown>) out.add(rebuild(v, isCapability, copies));
    return out;
  }
  // A class instance crosses as a plain object of its own enumerable properties (structured clone).
  const out: Record<string, unknown> | unknown[] = Array.isArray(value) ? new Array(value.length) : Object.getPrototypeOf(value) === null ? Object.create(null) : {};
  copies.set(value, out);
  for (const key of objectKeys(value)) {
    defineProperty(out, key, { value: rebuild((value as Record<string, unknown>)[key], isCapability, copies), writable: true, enumerable: true, configurable: true });
  }
  return out;
}

function bareError(error: Error): Error {
  let name = "Error";
  let message = "";
  try {
    name = String(error.name);
  } catch {
    // A throwing name getter: a plain Error.
  }
  try {
    message = error.message === undefined ? "" : String(error.message);
  } catch {
    // A throwing message getter: no message.
  }
  const Ctor = Object.hasOwn(standard, name) ? standard[name] : Error;
  const bare = new Ctor(message);
  defineProperty(bare, "stack", { value: message === "" ? bare.name : `${bare.name}: ${message}`, writable: true, configurable: true, enumerable: false });
  return bare;
}
