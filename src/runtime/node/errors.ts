// Node's internal error shapes: a plain TypeError/RangeError/Error with an enumerable `code`,
// a stack headed "TypeError [ERR_X]: ..." and the same message texts, because code (and tests)
// written for Node branch on `error.code` and sometimes match the message.

import { inspect } from "./util/inspect.ts";
import { primordials } from "../primordials.ts";

const { ArrayIsArray, ArrayPrototypeIncludes, ArrayPrototypeIndexOf, ArrayPrototypeJoin, ArrayPrototypeMap, ArrayPrototypePush, ArrayPrototypeSlice, ArrayPrototypeSplice, Error, MathAbs, NumberIsInteger, ObjectDefineProperty, RangeError, RegExpPrototypeExec, String, StringPrototypeEndsWith, StringPrototypeIncludes, StringPrototypeSlice, StringPrototypeToLowerCase, TypeError } = primordials;

type ErrorClass = new (message?: string) => Error;

export function nodeError<T extends Error>(Base: new (message?: string) => T, code: string, message: string): T & { code: string } {
  const error = new Base(message) as T & { code: string };
  // V8 formats the stack on first access: read it while the name carries the code.
  ObjectDefineProperty(error, "name", { value: `${error.name} [${code}]`, configurable: true, writable: true, enumerable: false });
  void error.stack;
  delete (error as { name?: string }).name;
  ObjectDefineProperty(error, "toString", {
    value() {
      return `${this.name} [${code}]: ${this.message}`;
    },
    configurable: true,
    writable: true,
    enumerable: false,
  });
  error.code = code;
  return error;
}

const classRegExp = /^([A-Z][a-z0-9]*)+$/;
const kTypes = ["string", "function", "number", "object", "Function", "Object", "boolean", "bigint", "symbol"];

function addNumericalSeparator(value: string): string {
  let result = "";
  let i = value.length;
  const start = value[0] === "-" ? 1 : 0;
  for (; i >= start + 4; i -= 3) result = `_${StringPrototypeSlice(value, i - 3, i)}${result}`;
  return `${StringPrototypeSlice(value, 0, i)}${result}`;
}

/** A value's type as Node's messages word it: "type number (1)", "an instance of Foo", "null". */
export function determineSpecificType(value: unknown): string {
  if (value == null) return `${value}`;
  if (typeof value === "function" && (value as { name?: string }).name) return `function ${(value as { name: string }).name}`;
  if (typeof value === "object") {
    const name = (value as { constructor?: { name?: string } }).constructor?.name;
    if (name) return `an instance of ${name}`;
    return inspect(value, { depth: -1 });
  }
  let shown = inspect(value, { colors: false });
  if (shown.length > 28) shown = `${StringPrototypeSlice(shown, 0, 25)}...`;
  return `type ${typeof value} (${shown})`;
}

function describeReceived(value: unknown): string {
  return ` Received ${determineSpecificType(value)}`;
}

function joinList(items: string[], word: string): string {
  if (items.length > 2) return `${ArrayPrototypeJoin(ArrayPrototypeSlice(items, 0, -1), ", ")}, ${word} ${items[items.length - 1]}`;
  return ArrayPrototypeJoin(items, ` ${word} `);
}

export function invalidArgType(name: string, expected: string | string[], actual: unknown): TypeError {
  const list = ArrayIsArray(expected) ? expected : [expected];
  let message = StringPrototypeEndsWith(name, " argument") ? `The ${name} ` : `The "${name}" ${StringPrototypeIncludes(name, ".") ? "property" : "argument"} `;
  message += "must be ";
  const types: string[] = [];
  const instances: string[] = [];
  const other: string[] = [];
  for (let i82 = 0, a82 = list; i82 < a82.length; i82++) {
    const value = a82[i82];
    if (ArrayPrototypeIncludes(kTypes, value)) ArrayPrototypePush(types, StringPrototypeToLowerCase(value));
    else if ((RegExpPrototypeExec(classRegExp, value) !== null)) ArrayPrototypePush(instances, value);
    else ArrayPrototypePush(other, value);
  }
  // "object" reads better as "an instance of Object" when classes are listed as well.
  if (instances.length > 0) {
    const pos = ArrayPrototypeIndexOf(types, "object");
    if (pos !== -1) {
      ArrayPrototypeSplice(types, pos, 1);
      ArrayPrototypePush(instances, "Object");
    }
  }
  if (types.length > 0) {
    message += `${types.length > 1 ? "one of type" : "of type"} ${joinList(types, "or")}`;
    if (instances.length > 0 || other.length > 0) message += " or ";
  }
  if (instances.length > 0) {
    message += `an instance of ${joinList(instances, "or")}`;
    if (other.length > 0) message += " or ";
  }
  if (other.length > 0) {
    if (other.length > 1) message += `one of ${joinList(other, "or")}`;
    else message += `${StringPrototypeToLowerCase(other[0]) !== other[0] ? "an " : ""}${other[0]}`;
  }
  return nodeError(TypeError, "ERR_INVALID_ARG_TYPE", `${message}.${describeReceived(actual)}`);
}

export function outOfRange(name: string, range: string, received: unknown): RangeError {
  let shown: string;
  if (NumberIsInteger(received) && MathAbs(received as number) > 2 ** 32) shown = addNumericalSeparator(String(received));
  else if (typeof received === "bigint") {
    shown = String(received);
    if (received > 2n ** 32n || received < -(2n ** 32n)) shown = addNumericalSeparator(shown);
    shown += "n";
  } else shown = inspect(received);
  return nodeError(RangeError, "ERR_OUT_OF_RANGE", `The value of "${name}" is out of range. It must be ${range}. Received ${shown}`);
}

export function invalidArgValue(name: string, value: unknown, reason = "is invalid"): TypeError {
  let shown = inspect(value);
  if (shown.length > 128) shown = `${StringPrototypeSlice(shown, 0, 128)}...`;
  return nodeError(TypeError, "ERR_INVALID_ARG_VALUE", `The ${StringPrototypeIncludes(name, ".") ? "property" : "argument"} '${name}' ${reason}. Received ${shown}`);
}

export function unknownEncoding(encoding: unknown): TypeError {
  return nodeError(TypeError, "ERR_UNKNOWN_ENCODING", `Unknown encoding: ${String(encoding)}`);
}

export function bufferOutOfBounds(name?: string): RangeError {
  return nodeError(RangeError, "ERR_BUFFER_OUT_OF_BOUNDS", name ? `"${name}" is outside of buffer bounds` : "Attempt to access memory outside buffer bounds");
}

export function missingArgs(...names: string[]): TypeError {
  const quoted = ArrayPrototypeMap(names, (name) => `"${name}"`);
  return nodeError(TypeError, "ERR_MISSING_ARGS", `The ${joinList(quoted, "and")} argument${names.length > 1 ? "s" : ""} must be specified`);
}

export function makeError(Base: ErrorClass, code: string, message: string): Error & { code: string } {
  return nodeError(Base, code, message);
}
