// node:assert and node:assert/strict. Messages are Node 24's, except assert.ok(), whose message
// quotes the failing expression's source in Node: the sandbox cannot read its own source, so it
// shows the value instead.

import { determineSpecificType, invalidArgType, invalidArgValue, makeError, missingArgs } from "../errors.ts";
import { deepEqual, isDeepStrictEqual } from "../util/comparisons.ts";
import { inspect } from "../util/inspect.ts";
import { isNativeError, isPromise, isRegExp } from "../util/types.ts";
import { validateFunction } from "../validators.ts";
import { AssertionError, type AssertionErrorOptions } from "./assertion-error.ts";
import { primordials } from "../../primordials.ts";

const { ArrayPrototypePush, ArrayPrototypePushApply, Error, NumberIsNaN, ObjectAssign, ObjectIs, ObjectKeys, ObjectPrototypeIsPrototypeOf, ReflectApply, RegExpPrototypeExec, String, Symbol, TypeError } = primordials;

type AnyFunction = (...args: never[]) => unknown;
const NO_EXCEPTION = Symbol("no exception");
const isError = (value: unknown): value is Error => isNativeError(value) || value instanceof Error;

function innerFail(options: AssertionErrorOptions): never {
  if (options.message instanceof Error) throw options.message;
  throw new AssertionError(options);
}

function innerOk(fn: AnyFunction, argLength: number, value: unknown, message: unknown): void {
  if (value) return;
  let generated = false;
  if (argLength === 0) {
    generated = true;
    message = "No value argument passed to `assert.ok()`";
  } else if (message == null) {
    generated = true;
    message = `The expression evaluated to a falsy value:\n\n  assert.ok(${inspect(value)})\n`;
  } else if (isError(message)) throw message;
  const error = new AssertionError({ actual: value, expected: true, message, operator: "==", stackStartFn: fn });
  error.generatedMessage = generated;
  throw error;
}

function requireTwo(length: number): void {
  if (length < 2) throw missingArgs("actual", "expected");
}

function fail(this: unknown, ...args: unknown[]): never {
  let d14 = args as [unknown, unknown, unknown, string | undefined], actual = d14[0], expected = d14[1], message = d14[2], operator = d14[3];
  const stackStartFn = args[4] as AnyFunction | undefined;
  let internal = false;
  if (actual == null && args.length <= 1) {
    internal = true;
    message = "Failed";
  } else if (args.length === 1) {
    message = actual;
    actual = undefined;
  } else if (args.length === 2) operator = "!=";
  if (message instanceof Error) throw message;
  const error = new AssertionError({ actual, expected, operator: operator === undefined ? "fail" : operator, stackStartFn: stackStartFn ?? fail, message });
  if (internal) error.generatedMessage = true;
  throw error;
}

function equal(...args: unknown[]): void {
  requireTwo(args.length);
  const d15 = args, actual = d15[0], expected = d15[1], message = d15[2];
  // eslint-disable-next-line eqeqeq
  if (actual != expected && (!NumberIsNaN(actual) || !NumberIsNaN(expected))) innerFail({ actual, expected, message, operator: "==", stackStartFn: equal });
}

function notEqual(...args: unknown[]): void {
  requireTwo(args.length);
  const d16 = args, actual = d16[0], expected = d16[1], message = d16[2];
  // eslint-disable-next-line eqeqeq
  if (actual == expected || (NumberIsNaN(actual) && NumberIsNaN(expected))) innerFail({ actual, expected, message, operator: "!=", stackStartFn: notEqual });
}

function deepEqualAssert(...args: unknown[]): void {
  requireTwo(args.length);
  const d17 = args, actual = d17[0], expected = d17[1], message = d17[2];
  if (!deepEqual(actual, expected, false)) innerFail({ actual, expected, message, operator: "deepEqual", stackStartFn: deepEqualAssert });
}

function notDeepEqual(...args: unknown[]): void {
  requireTwo(args.length);
  const d18 = args, actual = d18[0], expected = d18[1], message = d18[2];
  if (deepEqual(actual, expected, false)) innerFail({ actual, expected, message, operator: "notDeepEqual", stackStartFn: notDeepEqual });
}

function deepStrictEqual(...args: unknown[]): void {
  requireTwo(args.length);
  const d19 = args, actual = d19[0], expected = d19[1], message = d19[2];
  if (!isDeepStrictEqual(actual, expected)) innerFail({ actual, expected, message, operator: "deepStrictEqual", stackStartFn: deepStrictEqual });
}

function notDeepStrictEqual(...args: unknown[]): void {
  requireTwo(args.length);
  const d20 = args, actual = d20[0], expected = d20[1], message = d20[2];
  if (isDeepStrictEqual(actual, expected)) innerFail({ actual, expected, message, operator: "notDeepStrictEqual", stackStartFn: notDeepStrictEqual });
}

function strictEqual(...args: unknown[]): void {
  requireTwo(args.length);
  const d21 = args, actual = d21[0], expected = d21[1], message = d21[2];
  if (!ObjectIs(actual, expected)) innerFail({ actual, expected, message, operator: "strictEqual", stackStartFn: strictEqual });
}

function notStrictEqual(...args: unknown[]): void {
  requireTwo(args.length);
  const d22 = args, actual = d22[0], expected = d22[1], message = d22[2];
  if (ObjectIs(actual, expected)) innerFail({ actual, expected, message, operator: "notStrictEqual", stackStartFn: notStrictEqual });
}

/** The objects shown in the diff when a thrown error does not match a validation object. */
class Comparison {
  constructor(object: Record<string, unknown>, keys: string[], actual?: Record<string, unknown>) {
    for (let i79 = 0, a79 = keys; i79 < a79.length; i79++) {
      const key = a79[i79];
      if (!(key in object)) continue;
      const value = object[key];
      const self = this as unknown as Record<string, unknown>;
      if (actual !== undefined && typeof actual[key] === "string" && isRegExp(value) && RegExpPrototypeExec((value as RegExp), actual[key] as string) !== null) self[key] = actual[key];
      else self[key] = value;
    }
  }
}

function compareExceptionKey(actual: Record<string, unknown>, expected: Record<string, unknown>, key: string, message: unknown, keys: string[], fn: AnyFunction): void {
  if (key in actual && isDeepStrictEqual(actual[key], expected[key])) return;
  if (!message) {
    const error = new AssertionError({ actual: new Comparison(actual, keys), expected: new Comparison(expected, keys, actual), operator: "deepStrictEqual", stackStartFn: fn });
    error.actual = actual;
    error.expected = expected;
    error.operator = fn.name;
    throw error;
  }
  innerFail({ actual, expected, message, operator: fn.name, stackStartFn: fn });
}

function expectedException(actual: unknown, expected: unknown, message: unknown, fn: AnyFunction): void {
  let generated = false;
  let throwError = false;
  if (typeof expected !== "function") {
    if (isRegExp(expected)) {
      const text = String(actual);
      if (RegExpPrototypeExec((expected as RegExp), text) !== null) return;
      if (!message) {
        generated = true;
        message = `The input did not match the regular expression ${inspect(expected)}. Input:\n\n${inspect(text)}\n`;
      }
      throwError = true;
    } else if (typeof actual !== "object" || actual === null) {
      const error = new AssertionError({ actual, expected, message, operator: "deepStrictEqual", stackStartFn: fn });
      error.operator = fn.name;
      throw error;
    } else {
      const object = expected as Record<string, unknown>;
      const keys = ObjectKeys(object);
      if (expected instanceof Error) ArrayPrototypePush(keys, "name", "message");
      else if (keys.length === 0) throw invalidArgValue("error", expected, "may not be an empty object");
      for (let i80 = 0, a80 = keys; i80 < a80.length; i80++) {
        const key = a80[i80];
        const actualValue = (actual as Record<string, unknown>)[key];
        if (typeof actualValue === "string" && isRegExp(object[key]) && RegExpPrototypeExec((object[key] as RegExp), actualValue) !== null) continue;
        compareExceptionKey(actual as Record<string, unknown>, object, key, message, keys, fn);
      }
      return;
    }
  } else if (expected.prototype !== undefined && actual instanceof (expected as new () => unknown)) {
    return;
  } else if (ObjectPrototypeIsPrototypeOf(Error, expected)) {
    if (!message) {
      generated = true;
      message = `The error is expected to be an instance of "${expected.name}". Received `;
      if (isError(actual)) {
        const name = (actual.constructor as { name?: string } | undefined)?.name || actual.name;
        message += expected.name === name ? "an error with identical name but a different prototype." : `"${name}"`;
        if (actual.message) message += `\n\nError message:\n\n${actual.message}`;
      } else message += `"${inspect(actual, { depth: -1 })}"`;
    }
    throwError = true;
  } else {
    const result = ReflectApply(expected as AnyFunction, {}, [actual as never]);
    if (result !== true) {
      if (!message) {
        generated = true;
        const name = expected.name ? `"${expected.name}" ` : "";
        message = `The ${name}validation function is expected to return "true". Received ${inspect(result)}`;
        if (isError(actual)) message += `\n\nCaught error:\n\n${actual}`;
      }
      throwError = true;
    }
  }
  if (throwError) {
    const error = new AssertionError({ actual, expected, message, operator: fn.name, stackStartFn: fn });
    error.generatedMessage = generated;
    throw error;
  }
}

function ambiguous(message: string): TypeError {
  return makeError(TypeError, "ERR_AMBIGUOUS_ARGUMENT", `The "error/message" argument is ambiguous. ${message}`) as TypeError;
}

function expectsError(fn: AnyFunction, actual: unknown, ...rest: unknown[]): void {
  let d23 = rest, error = d23[0], message = d23[1];
  if (typeof error === "string") {
    if (rest.length === 2) throw invalidArgType("error", ["Object", "Error", "Function", "RegExp"], error);
    if (typeof actual === "object" && actual !== null) {
      if ((actual as { message?: unknown }).message === error) throw ambiguous(`The error message "${(actual as Error).message}" is identical to the message.`);
    } else if (actual === error) throw ambiguous(`The error "${actual}" is identical to the message.`);
    message = error;
    error = undefined;
  } else if (error != null && typeof error !== "object" && typeof error !== "function") {
    throw invalidArgType("error", ["Object", "Error", "Function", "RegExp"], error);
  }
  if (actual === NO_EXCEPTION) {
    let details = "";
    const name = (error as { name?: unknown } | undefined)?.name;
    if (error && name) details += ` (${name})`;
    details += message ? `: ${message}` : ".";
    const kind = fn === rejects ? "rejection" : "exception";
    innerFail({ actual: undefined, expected: error, operator: fn.name, message: `Missing expected ${kind}${details}`, stackStartFn: fn });
  }
  if (!error) return;
  expectedException(actual, error, message, fn);
}

function hasMatchingError(actual: unknown, expected: unknown): boolean {
  if (typeof expected !== "function") {
    if (isRegExp(expected)) return RegExpPrototypeExec((expected as RegExp), String(actual)) !== null;
    throw invalidArgType("expected", ["Function", "RegExp"], expected);
  }
  if (expected.prototype !== undefined && actual instanceof (expected as new () => unknown)) return true;
  if (ObjectPrototypeIsPrototypeOf(Error, expected)) return false;
  return ReflectApply(expected as AnyFunction, {}, [actual as never]) === true;
}

function expectsNoError(fn: AnyFunction, actual: unknown, ...rest: unknown[]): void {
  if (actual === NO_EXCEPTION) return;
  let d24 = rest, error = d24[0], message = d24[1];
  if (typeof error === "string") {
    message = error;
    error = undefined;
  }
  if (!error || hasMatchingError(actual, error)) {
    const details = message ? `: ${message}` : ".";
    const kind = fn === doesNotReject ? "rejection" : "exception";
    innerFail({ actual, expected: error, operator: fn.name, message: `Got unwanted ${kind}${details}\nActual message: "${(actual as Error | undefined)?.message}"`, stackStartFn: fn });
  }
  throw actual;
}

function getActual(fn: unknown): unknown {
  validateFunction(fn, "fn");
  try {
    (fn as () => unknown)();
  } catch (error) {
    return error;
  }
  return NO_EXCEPTION;
}

const isPromiseLike = (value: unknown): value is Promise<unknown> =>
  isPromise(value) || (value !== null && typeof value === "object" && typeof (value as Promise<unknown>).then === "function" && typeof (value as Promise<unknown>).catch === "function");

async function waitForActual(promiseFn: unknown): Promise<unknown> {
  let promise: unknown;
  if (typeof promiseFn === "function") {
    promise = promiseFn();
    if (!isPromiseLike(promise)) {
      throw makeError(TypeError, "ERR_INVALID_RETURN_VALUE", `Expected instance of Promise to be returned from the "promiseFn" function but got ${determineSpecificType(promise)}.`);
    }
  } else if (isPromiseLike(promiseFn)) promise = promiseFn;
  else throw invalidArgType("promiseFn", ["Function", "Promise"], promiseFn);
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return NO_EXCEPTION;
}

function throws(fn: unknown, ...rest: unknown[]): void {
  const args: unknown[] = [throws, getActual(fn)];
  ArrayPrototypePushApply(args, rest);
  ReflectApply(expectsError, undefined, args);
}

async function rejects(promiseFn: unknown, ...rest: unknown[]): Promise<void> {
  const args: unknown[] = [rejects, await waitForActual(promiseFn)];
  ArrayPrototypePushApply(args, rest);
  ReflectApply(expectsError, undefined, args);
}

function doesNotThrow(fn: unknown, ...rest: unknown[]): void {
  const args: unknown[] = [doesNotThrow, getActual(fn)];
  ArrayPrototypePushApply(args, rest);
  ReflectApply(expectsNoError, undefined, args);
}

async function doesNotReject(fn: unknown, ...rest: unknown[]): Promise<void> {
  const args: unknown[] = [doesNotReject, await waitForActual(fn)];
  ArrayPrototypePushApply(args, rest);
  ReflectApply(expectsNoError, undefined, args);
}

function ifError(error: unknown): void {
  if (error === null || error === undefined) return;
  let message = "ifError got unwanted exception: ";
  if (typeof error === "object" && typeof (error as Error).message === "string") {
    const text = (error as Error).message;
    message += text.length === 0 && (error as Error).constructor ? (error as Error).constructor.name : text;
  } else message += inspect(error);
  throw new AssertionError({ actual: error, expected: null, operator: "ifError", message, stackStartFn: ifError });
}

function internalMatch(text: unknown, regexp: unknown, message: unknown, fn: AnyFunction): void {
  if (!isRegExp(regexp)) throw invalidArgType("regexp", "RegExp", regexp);
  const shouldMatch = fn === match;
  if (typeof text !== "string" || (RegExpPrototypeExec((regexp as RegExp), text) !== null) !== shouldMatch) {
    if (message instanceof Error) throw message;
    const generated = !message;
    const shown =
      message ||
      (typeof text !== "string"
        ? `The "string" argument must be of type string. Received type ${typeof text} (${inspect(text)})`
        : `${shouldMatch ? "The input did not match the regular expression " : "The input was expected to not match the regular expression "}${inspect(regexp)}. Input:\n\n${inspect(text)}\n`);
    const error = new AssertionError({ actual: text, expected: regexp, message: shown, operator: fn.name, stackStartFn: fn });
    error.generatedMessage = generated;
    throw error;
  }
}

function match(text: unknown, regexp: unknown, message?: unknown): void {
  internalMatch(text, regexp, message, match);
}

function doesNotMatch(text: unknown, regexp: unknown, message?: unknown): void {
  internalMatch(text, regexp, message, doesNotMatch);
}

function makeAssert(name: string, okFn: () => AnyFunction): AnyFunction & Record<string, unknown> {
  const holder = {
    [name](...args: unknown[]): void {
      innerOk(okFn(), args.length, args[0], args[1]);
    },
  };
  return holder[name] as AnyFunction & Record<string, unknown>;
}

export function createAssertModule(): AnyFunction & Record<string, unknown> {
  const assert: AnyFunction & Record<string, unknown> = makeAssert("ok", () => assert);
  const members: Record<string, unknown> = {
    fail,
    AssertionError,
    ok: assert,
    equal,
    notEqual,
    deepEqual: deepEqualAssert,
    notDeepEqual,
    deepStrictEqual,
    notDeepStrictEqual,
    strictEqual,
    notStrictEqual,
    throws,
    rejects,
    doesNotThrow,
    doesNotReject,
    ifError,
    match,
    doesNotMatch,
  };
  ObjectAssign(assert, members);
  const strict: AnyFunction & Record<string, unknown> = makeAssert("strict", () => strict);
  ObjectAssign(strict, members, { equal: strictEqual, deepEqual: deepStrictEqual, notEqual: notStrictEqual, notDeepEqual: notDeepStrictEqual });
  assert.strict = strict;
  strict.strict = strict;
  return assert;
}
