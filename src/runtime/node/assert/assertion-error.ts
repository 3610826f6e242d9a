// assert.AssertionError with Node 24's generated messages, including the line diff shown for
// failed strictEqual / deepStrictEqual ("+ actual - expected"), and its `diff` option.

import { validateObject } from "../validators.ts";
import { inspect } from "../util/inspect.ts";
import { isNativeError } from "../util/types.ts";
import { primordials } from "../../primordials.ts";

const { ArrayPrototypeJoin, ArrayPrototypePush, ArrayPrototypeSlice, Error, Int32Array, ObjectAssign, ObjectDefineProperty, ObjectGetPrototypeOf, ObjectPrototypeHasOwnProperty, SetFrom, SetPrototypeHas, String, StringPrototypeEndsWith, StringPrototypeRepeat, StringPrototypeSlice, StringPrototypeSplit, StringPrototypeTrimEnd, SymbolFor } = primordials;

const readableOperator: Record<string, string> = {
  deepStrictEqual: "Expected values to be strictly deep-equal:",
  partialDeepStrictEqual: "Expected values to be partially and strictly deep-equal:",
  strictEqual: "Expected values to be strictly equal:",
  strictEqualObject: 'Expected "actual" to be reference-equal to "expected":',
  deepEqual: "Expected values to be loosely deep-equal:",
  notDeepStrictEqual: 'Expected "actual" not to be strictly deep-equal to:',
  notStrictEqual: 'Expected "actual" to be strictly unequal to:',
  notStrictEqualObject: 'Expected "actual" not to be reference-equal to "expected":',
  notDeepEqual: 'Expected "actual" not to be loosely deep-equal to:',
  notIdentical: "Values have same structure but are not reference-equal:",
  notDeepEqualUnequal: "Expected values not to be loosely deep-equal:",
};

const kMaxShortStringLength = 12;
const kMaxLongStringLength = 512;
// Node measures the caret's line against the terminal; the sandbox has none, so 80 columns.
const kMaxTerminalLength = 80;
const kNopLinesToCollapse = 5;

function inspectValue(value: unknown): string {
  return inspect(value, { compact: false, customInspect: false, depth: 1000, maxArrayLength: Infinity, showHidden: false, showProxy: false, sorted: true, getters: true });
}

const isObjectLike = (value: unknown) => (typeof value === "object" && value !== null) || typeof value === "function";

// Node 24's line diff: Myers' shortest edit script over the inspected lines, a trailing comma
// not counting as a difference for objects, and runs of more than five unchanged lines elided.
const DELETE = -1;
const NOP = 0;
const INSERT = 1;
type Edit = [operation: number, line: string];

function areLinesEqual(actual: string, expected: string, checkCommaDisparity: boolean): boolean {
  if (actual === expected) return true;
  return checkCommaDisparity && (`${actual},` === expected || actual === `${expected},`);
}

function myersDiff(actual: string[], expected: string[], checkCommaDisparity: boolean): Edit[] {
  const max = actual.length + expected.length;
  const v = new Int32Array(2 * max + 1);
  const trace: Int32Array[] = [];
  for (let level = 0; level <= max; level++) {
    ArrayPrototypePush(trace, new Int32Array(v));
    for (let diagonal = -level; diagonal <= level; diagonal += 2) {
      const offset = diagonal + max;
      let x = diagonal === -level || (diagonal !== level && v[offset - 1] < v[offset + 1]) ? v[offset + 1] : v[offset - 1] + 1;
      let y = x - diagonal;
      while (x < actual.length && y < expected.length && areLinesEqual(actual[x], expected[y], checkCommaDisparity)) {
        x++;
        y++;
      }
      v[offset] = x;
      if (x >= actual.length && y >= expected.length) return backtrack(trace, actual, expected, checkCommaDisparity);
    }
  }
  return [];
}

function backtrack(trace: Int32Array[], actual: string[], expected: string[], checkCommaDisparity: boolean): Edit[] {
  const max = actual.length + expected.length;
  let x = actual.length;
  let y = expected.length;
  const result: Edit[] = [];
  for (let level = trace.length - 1; level >= 0; level--) {
    const v = trace[level];
    const diagonal = x - y;
    const offset = diagonal + max;
    const previousDiagonal = diagonal === -level || (diagonal !== level && v[offset - 1] < v[offset + 1]) ? diagonal + 1 : diagonal - 1;
    const previousX = v[previousDiagonal + max];
    const previousY = previousX - previousDiagonal;
    while (x > previousX && y > previousY) {
      const actualItem = actual[x - 1];
      ArrayPrototypePush(result, [NOP, checkCommaDisparity && !StringPrototypeEndsWith(actualItem, ",") ? expected[y - 1] : actualItem]);
      x--;
      y--;
    }
    if (level > 0) {
      if (x > previousX) ArrayPrototypePush(result, [INSERT, actual[--x]]);
      else ArrayPrototypePush(result, [DELETE, expected[--y]]);
    }
  }
  return result;
}

function printMyersDiff(diff: Edit[]): { message: string; skipped: boolean } {
  let message = "";
  let skipped = false;
  let nopCount = 0;
  for (let index = diff.length - 1; index >= 0; index--) {
    const d25 = diff[index], operation = d25[0], value = d25[1];
    const previousOperation = index < diff.length - 1 ? diff[index + 1][0] : null;
    // A run is cut only where that hides more than one line.
    if (previousOperation === NOP && operation !== previousOperation) {
      if (nopCount === kNopLinesToCollapse + 1) message += `  ${diff[index + 1][1]}\n`;
      else if (nopCount === kNopLinesToCollapse + 2) message += `  ${diff[index + 2][1]}\n  ${diff[index + 1][1]}\n`;
      else if (nopCount >= kNopLinesToCollapse + 3) {
        message += `...\n  ${diff[index + 1][1]}\n`;
        skipped = true;
      }
      nopCount = 0;
    }
    if (operation === INSERT) message += `+ ${value}\n`;
    else if (operation === DELETE) message += `- ${value}\n`;
    else {
      if (nopCount < kNopLinesToCollapse) message += `  ${value}\n`;
      nopCount++;
    }
  }
  return { message: `\n${StringPrototypeTrimEnd(message)}`, skipped };
}

function getStackedDiff(actual: string, expected: string, isStringComparison: boolean): string {
  let message = `\n+ ${actual}\n- ${expected}`;
  if (isStringComparison && actual.length + expected.length <= kMaxTerminalLength) {
    // A caret under the first difference, unless it is within the first two characters.
    for (let i = 0; i < actual.length; i++) {
      if (actual[i] !== expected[i]) {
        if (i >= 3) message += `\n${StringPrototypeRepeat(" ", i + 2)}^`;
        break;
      }
    }
  }
  return message;
}

function createErrDiff(actual: unknown, expected: unknown, operatorArg: string, customMessage?: string, diffType = "simple"): string {
  let operator = operatorArg;
  if (operator === "strictEqual" && ((typeof actual === "object" && actual !== null && typeof expected === "object" && expected !== null) || (typeof actual === "function" && typeof expected === "function"))) {
    operator = "strictEqualObject";
  }
  let skipped = false;
  let message: string;
  const inspectedActual = inspectValue(actual);
  const inspectedExpected = inspectValue(expected);
  const actualLines = StringPrototypeSplit(inspectedActual, "\n");
  const expectedLines = StringPrototypeSplit(inspectedExpected, "\n");
  let header = "+ actual - expected";
  const simple = actualLines.length <= 1 && expectedLines.length <= 1 && (typeof actual !== "object" || actual === null || typeof expected !== "object" || expected === null);
  if (simple) {
    let length = actualLines[0].length + expectedLines[0].length;
    if (typeof actual === "string") length -= 2;
    if (typeof expected === "string") length -= 2;
    if (length <= kMaxShortStringLength && (actual !== 0 || expected !== 0)) {
      message = `${actualLines[0]} !== ${expectedLines[0]}`;
      header = "";
    } else message = getStackedDiff(actualLines[0], expectedLines[0], typeof actual === "string" && typeof expected === "string");
  } else if (inspectedActual === inspectedExpected) {
    // The same structure, different references.
    operator = "notIdentical";
    if (actualLines.length > 50 && diffType !== "full") {
      message = `${ArrayPrototypeJoin(ArrayPrototypeSlice(actualLines, 0, 50), "\n")}\n...}`;
      skipped = true;
    } else message = ArrayPrototypeJoin(actualLines, "\n");
    header = "";
  } else {
    const printed = printMyersDiff(myersDiff(actualLines, expectedLines, actual != null && typeof actual === "object"));
    message = printed.message;
    skipped = printed.skipped;
  }
  return `${customMessage || readableOperator[operator]}\n${header}${skipped ? "\n... Skipped lines" : ""}\n${message}\n`;
}

/** A copy of an error without its stack, so that the diff does not show stacks (Node's copyError). */
function copyError(source: Error): Error {
  const target = ObjectAssign({ __proto__: ObjectGetPrototypeOf(source) }, source) as Error;
  ObjectDefineProperty(target, "message", { value: source.message });
  if (ObjectPrototypeHasOwnProperty(source, "cause")) {
    let cause = (source as { cause?: unknown }).cause;
    if (isNativeError(cause)) cause = copyError(cause as Error);
    ObjectDefineProperty(target, "cause", { value: cause });
  }
  return target;
}

export interface AssertionErrorOptions {
  message?: unknown;
  actual?: unknown;
  expected?: unknown;
  operator?: string;
  stackStartFn?: (...args: never[]) => unknown;
  stackStartFunction?: (...args: never[]) => unknown;
  details?: { message?: unknown; actual?: unknown; expected?: unknown; operator?: string; stack?: unknown }[];
  diff?: string;
}

const withDiff = SetFrom(["deepStrictEqual", "strictEqual", "partialDeepStrictEqual"]);

function generatedMessage(actual: unknown, expected: unknown, operator: string | undefined, diff: string): string {
  if (SetPrototypeHas(withDiff, operator as string)) return createErrDiff(actual, expected, operator as string, undefined, diff);
  if (operator === "notDeepStrictEqual" || operator === "notStrictEqual") {
    let base = readableOperator[operator];
    const lines = StringPrototypeSplit(inspectValue(actual), "\n");
    if (operator === "notStrictEqual" && isObjectLike(actual)) base = readableOperator.notStrictEqualObject;
    if (lines.length > 50 && diff !== "full") {
      lines[46] = "...";
      lines.length = 47;
    }
    if (lines.length === 1) return `${base}${lines[0].length > 5 ? "\n\n" : " "}${lines[0]}`;
    return `${base}\n\n${ArrayPrototypeJoin(lines, "\n")}\n`;
  }
  let shown = inspectValue(actual);
  let other = inspectValue(expected);
  const known = readableOperator[operator as string];
  if (operator === "notDeepEqual" && shown === other) {
    shown = `${known}\n\n${shown}`;
    return shown.length > 1024 && diff !== "full" ? `${StringPrototypeSlice(shown, 0, 1021)}...` : shown;
  }
  if (shown.length > kMaxLongStringLength && diff !== "full") shown = `${StringPrototypeSlice(shown, 0, 509)}...`;
  if (other.length > kMaxLongStringLength && diff !== "full") other = `${StringPrototypeSlice(other, 0, 509)}...`;
  if (operator === "deepEqual") shown = `${known}\n\n${shown}\n\nshould loosely deep-equal\n\n`;
  else {
    const unequal = readableOperator[`${operator}Unequal`];
    if (unequal) shown = `${unequal}\n\n${shown}\n\nshould not loosely deep-equal\n\n`;
    else other = ` ${operator} ${other}`;
  }
  return `${shown}${other}`;
}

const isError = (value: unknown): value is Error => typeof value === "object" && value !== null && "stack" in value && value instanceof Error;

export class AssertionError extends Error {
  generatedMessage: boolean;
  code = "ERR_ASSERTION" as const;
  actual: unknown;
  expected: unknown;
  operator: string | undefined;
  diff: string;
  [key: string]: unknown;

  constructor(options: AssertionErrorOptions) {
    validateObject(options, "options");
    const { message, operator, stackStartFn, stackStartFunction, details, diff = "simple" } = options as AssertionErrorOptions;
    let { actual, expected } = options as AssertionErrorOptions;
    let text: string;
    if (message != null) {
      // Node keeps the diff under a custom message for the strict comparisons.
      text = SetPrototypeHas(withDiff, operator as string) ? createErrDiff(actual, expected, operator as string, message as string, diff) : String(message);
    } else {
      // Errors are compared without their stacks.
      if (isError(actual) && isError(expected)) {
        actual = copyError(actual);
        expected = copyError(expected);
      }
      text = generatedMessage(actual, expected, operator, diff);
    }
    super(text);
    this.generatedMessage = !message;
    if (details) {
      this.actual = undefined;
      this.expected = undefined;
      this.operator = undefined;
      for (let i = 0; i < details.length; i++) {
        this[`message ${i}`] = details[i].message;
        this[`actual ${i}`] = details[i].actual;
        this[`expected ${i}`] = details[i].expected;
        this[`operator ${i}`] = details[i].operator;
        this[`stack trace ${i}`] = details[i].stack;
      }
    } else {
      this.actual = actual;
      this.expected = expected;
      this.operator = operator;
    }
    const capture = (Error as { captureStackTrace?: (target: object, ctor?: unknown) => void }).captureStackTrace;
    capture?.(this, stackStartFn ?? stackStartFunction ?? AssertionError);
    // The stack header carries the code, as Node's does.
    ObjectDefineProperty(this, "name", { value: "AssertionError [ERR_ASSERTION]", enumerable: false, writable: true, configurable: true });
    void this.stack;
    ObjectDefineProperty(this, "name", { value: "AssertionError", enumerable: false, writable: true, configurable: true });
    this.diff = diff;
  }

  toString(): string {
    return `${this.name} [${this.code}]: ${this.message}`;
  }

  [SymbolFor("nodejs.util.inspect.custom")](_depth: number, options: object): string {
    // Long strings are cut for the inspection, as Node's addEllipsis does.
    const d26 = [this.actual, this.expected], actual = d26[0], expected = d26[1];
    if (typeof actual === "string") this.actual = addEllipsis(actual);
    if (typeof expected === "string") this.expected = addEllipsis(expected);
    try {
      return inspect(this, { ...options, customInspect: false, depth: 0 });
    } finally {
      this.actual = actual;
      this.expected = expected;
    }
  }
}

function addEllipsis(text: string): string {
  const lines = StringPrototypeSplit(text, "\n", 11);
  if (lines.length > 10) {
    lines.length = 10;
    return `${ArrayPrototypeJoin(lines, "\n")}\n...`;
  }
  if (text.length > kMaxLongStringLength) return `${StringPrototypeSlice(text, kMaxLongStringLength)}...`;
  return text;
}
