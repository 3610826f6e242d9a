// node:util: formatting, inspection, promisify, types and the small helpers old code still uses.

import { web } from "../../platform.ts";
import { invalidArgType } from "../errors.ts";
import { emitWarning, getProcess } from "../process.ts";
import { validateFunction, validateString } from "../validators.ts";
import { isDeepStrictEqual } from "./comparisons.ts";
import { format, formatWithOptions } from "./format.ts";
import { inspect } from "./inspect.ts";
import { callbackify, promisify } from "./promisify.ts";
import { types } from "./types.ts";
import { stripVTControlCharacters } from "./width.ts";
import { primordials } from "../../primordials.ts";

const { ArrayIsArray, ArrayPrototypeFilter, ArrayPrototypeMap, ArrayPrototypeSome, Boolean, ObjectDefineProperty, ObjectKeys, ObjectSetPrototypeOf, Promise, PromiseReject, PromiseResolve, ReflectApply, ReflectConstruct, RegExp, RegExpPrototypeExec, RegExpPrototypeSymbolReplace, Set, SetPrototypeAdd, SetPrototypeHas, String, StringPrototypeSplit, StringPrototypeToUpperCase } = primordials;

export function inherits(ctor: unknown, superCtor: unknown): void {
  if (ctor === undefined || ctor === null) throw invalidArgType("ctor", "Function", ctor);
  if (superCtor === undefined || superCtor === null) throw invalidArgType("superCtor", "Function", superCtor);
  const superPrototype = (superCtor as { prototype?: unknown }).prototype;
  if (superPrototype === undefined) throw invalidArgType("superCtor.prototype", "Object", superPrototype);
  ObjectDefineProperty(ctor, "super_", { value: superCtor, writable: true, configurable: true });
  ObjectSetPrototypeOf((ctor as { prototype: object }).prototype, superPrototype as object);
}

const warnedCodes = new Set<string>();

export function deprecate<T extends (...args: unknown[]) => unknown>(fn: T, message: string, code?: string): T {
  validateFunction(fn, "fn");
  if (code !== undefined) validateString(code, "code");
  let warned = false;
  function deprecated(this: unknown, ...args: unknown[]): unknown {
    if (!warned && (code === undefined || !SetPrototypeHas(warnedCodes, code))) {
      warned = true;
      if (code !== undefined) SetPrototypeAdd(warnedCodes, code);
      emitWarning(message, "DeprecationWarning", code, deprecated);
    }
    return new.target ? ReflectConstruct(fn, args, new.target) : ReflectApply(fn, this, args);
  }
  ObjectSetPrototypeOf(deprecated, fn);
  if (fn.prototype) deprecated.prototype = fn.prototype;
  return deprecated as unknown as T;
}

/** debuglog honours NODE_DEBUG from process.env (the worker's string env values). */
export function debuglog(section: string, callback?: (fn: (...args: unknown[]) => void) => void): ((...args: unknown[]) => void) & { enabled: boolean } {
  const upper = StringPrototypeToUpperCase(String(section));
  const env = getProcess().env as Record<string, string>;
  const patterns = ArrayPrototypeMap(ArrayPrototypeFilter(StringPrototypeSplit(RegExpPrototypeSymbolReplace(/[\s,]+/g, String(env.NODE_DEBUG ?? ""), ","), ","), Boolean), (pattern) => new RegExp(`^${RegExpPrototypeSymbolReplace(/\*/g, RegExpPrototypeSymbolReplace(/[|\\{}()[\]^$+?.]/g, pattern, "\\$&"), ".*")}$`, "i"));
  const enabled = ArrayPrototypeSome(patterns, (pattern) => (RegExpPrototypeExec(pattern, upper) !== null));
  const logger = ((...args: unknown[]) => {
    if (enabled) (globalThis as { console?: { error(text: string): void } }).console?.error(`${upper}: ${ReflectApply(format, undefined, args)}`);
  }) as ((...args: unknown[]) => void) & { enabled: boolean };
  ObjectDefineProperty(logger, "enabled", { get: () => enabled, enumerable: true, configurable: true });
  callback?.(logger);
  return logger;
}

export function toUSVString(text: unknown): string {
  return RegExpPrototypeSymbolReplace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, String(text), "\ufffd");
}

function extend(target: Record<string, unknown>, source: unknown): Record<string, unknown> {
  if (source === null || typeof source !== "object") return target;
  for (let i41 = 0, a41 = ObjectKeys(source); i41 < a41.length; i41++) {
    const key = a41[i41];
    target[key] = (source as Record<string, unknown>)[key];
  }
  return target;
}

/** Resolves once `signal` aborts (Node also ties this to `resource`'s lifetime, which JS cannot). */
function aborted(signal: unknown, resource: unknown): Promise<void> {
  if (signal === null || typeof signal !== "object" || !("aborted" in signal)) return PromiseReject(invalidArgType("signal", "AbortSignal", signal));
  if (resource === null || (typeof resource !== "object" && typeof resource !== "function")) return PromiseReject(invalidArgType("resource", "object", resource));
  const target = signal as { aborted: boolean; addEventListener(type: string, listener: () => void, options: object): void };
  if (target.aborted) return PromiseResolve();
  return new Promise((resolve) => target.addEventListener("abort", () => resolve(), { once: true }));
}

export function createUtilModule(): Record<string, unknown> {
  const util: Record<string, unknown> = {
    _extend: extend,
    callbackify,
    debug: debuglog,
    debuglog,
    deprecate,
    format,
    formatWithOptions,
    inherits,
    inspect,
    isArray: ArrayIsArray,
    // util.isBoolean, isBuffer, isDate, isError, isFunction, isNull, isNullOrUndefined, isNumber,
    // isObject, isPrimitive, isRegExp, isString, isSymbol and isUndefined left Node in 23.
    isDeepStrictEqual,
    promisify,
    stripVTControlCharacters,
    toUSVString,
    aborted,
    types,
  };
  // The web chunk's classes, loaded when first read.
  for (let i42 = 0, a42 = ["TextDecoder", "TextEncoder"] as const; i42 < a42.length; i42++) {
    const name = a42[i42];
    ObjectDefineProperty(util, name, { get: () => web()[name], enumerable: true, configurable: true });
  }
  return util;
}
