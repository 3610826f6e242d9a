// assert.AssertionError with Node 20's generated messages, including the line diff shown for
// failed strictEqual / deepStrictEqual ("+ actual - expected").

import { validateObject } from "../validators.ts";
import { inspect } from "../util/inspect.ts";

const readableOperator: Record<string, string> = {
  deepStrictEqual: "Expected values to be strictly deep-equal:",
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

// Short primitives are shown as "a !== b" rather than as a diff.
const kMaxShortLength = 12;

function inspectValue(value: unknown): string {
  return inspect(value, { compact: false, customInspect: false, depth: 1000, maxArrayLength: Infinity, showHidden: false, showProxy: false, sorted: true, getters: true });
}

const isObjectLike = (value: unknown) => (typeof value === "object" && value !== null) || typeof value === "function";

function truncatedLines(lines: string[]): string[] {
  if (lines.length > 50) {
    lines[46] = "...";
    lines.length = 47;
  }
  return lines;
}

/** Identical runs before a diverging line: the last one or two are shown, longer runs elided. */
function identicalContext(lines: string[], i: number, identical: number): { text: string; printed: number; skipped: boolean } {
  let text = "";
  let printed = 0;
  let skipped = false;
  if (identical > 2) {
    if (identical > 3) {
      if (identical > 4) {
        if (identical === 5) {
          text += `\n  ${lines[i - 3]}`;
          printed++;
        } else {
          text += "\n...";
          skipped = true;
        }
      }
      text += `\n  ${lines[i - 2]}`;
      printed++;
    }
    text += `\n  ${lines[i - 1]}`;
    printed++;
  }
  return { text, printed, skipped };
}

function createErrDiff(actual: unknown, expected: unknown, operatorArg: string, header?: string): string {
  let operator = operatorArg;
  let other = "";
  let result = "";
  let end = "";
  let skipped = false;
  const actualInspected = inspectValue(actual);
  const actualLines = actualInspected.split("\n");
  const expectedLines = inspectValue(expected).split("\n");
  let i = 0;
  let indicator = "";
  if (operator === "strictEqual" && ((isObjectLike(actual) && isObjectLike(expected) && typeof actual === typeof expected) || (typeof actual === "function" && typeof expected === "function"))) {
    operator = "strictEqualObject";
  }
  if (actualLines.length === 1 && expectedLines.length === 1 && actualLines[0] !== expectedLines[0]) {
    const inputLength = actualLines[0].length + expectedLines[0].length;
    if (inputLength <= kMaxShortLength) {
      if (!isObjectLike(actual) && !isObjectLike(expected) && (actual !== 0 || expected !== 0)) {
        return `${header ?? readableOperator[operator]}\n\n${actualLines[0]} !== ${expectedLines[0]}\n`;
      }
    } else if (operator !== "strictEqualObject" && inputLength < 80) {
      while (actualLines[0][i] === expectedLines[0][i]) i++;
      // A caret under the first difference, when it is not at the very start.
      if (i > 2) {
        indicator = `\n  ${" ".repeat(i)}^`;
        i = 0;
      }
    }
  }
  let a = actualLines[actualLines.length - 1];
  let b = expectedLines[expectedLines.length - 1];
  while (a === b) {
    if (i++ < 3) end = `\n  ${a}${end}`;
    else other = a;
    actualLines.pop();
    expectedLines.pop();
    if (actualLines.length === 0 || expectedLines.length === 0) break;
    a = actualLines[actualLines.length - 1];
    b = expectedLines[expectedLines.length - 1];
  }
  const maxLines = Math.max(actualLines.length, expectedLines.length);
  if (maxLines === 0) {
    return `${readableOperator.notIdentical}\n\n${truncatedLines(actualInspected.split("\n")).join("\n")}\n`;
  }
  if (i >= 5) {
    end = `\n...${end}`;
    skipped = true;
  }
  if (other !== "") {
    end = `\n  ${other}${end}`;
    other = "";
  }
  let printedLines = 0;
  let identical = 0;
  const message = `${header ?? readableOperator[operator]}\n+ actual - expected`;
  const skippedMessage = " ... Lines skipped";
  let lines = actualLines;
  let plusMinus = "+";
  let maxLength = expectedLines.length;
  if (actualLines.length < maxLines) {
    lines = expectedLines;
    plusMinus = "-";
    maxLength = actualLines.length;
  }
  for (i = 0; i < maxLines; i++) {
    if (maxLength < i + 1) {
      const context = identicalContext(lines, i, identical);
      result += context.text;
      printedLines += context.printed;
      skipped ||= context.skipped;
      identical = 0;
      if (lines === actualLines) result += `\n${plusMinus} ${lines[i]}`;
      else other += `\n${plusMinus} ${lines[i]}`;
      printedLines++;
    } else {
      const expectedLine = expectedLines[i];
      let actualLine = actualLines[i];
      let diverging = actualLine !== expectedLine && (!actualLine.endsWith(",") || actualLine.slice(0, -1) !== expectedLine);
      // A line that differs only by a trailing comma is the same line.
      if (diverging && expectedLine.endsWith(",") && expectedLine.slice(0, -1) === actualLine) {
        diverging = false;
        actualLine += ",";
      }
      if (diverging) {
        const context = identicalContext(actualLines, i, identical);
        result += context.text;
        printedLines += context.printed;
        skipped ||= context.skipped;
        identical = 0;
        result += `\n+ ${actualLine}`;
        other += `\n- ${expectedLine}`;
        printedLines += 2;
      } else {
        result += other;
        other = "";
        identical++;
        if (identical <= 2) {
          result += `\n  ${actualLine}`;
          printedLines++;
        }
      }
    }
    if (printedLines > 50 && i < maxLines - 2) return `${message}${skippedMessage}\n${result}\n...${other}\n...`;
  }
  return `${message}${skipped ? skippedMessage : ""}\n${result}${other}${end}${indicator}`;
}

export interface AssertionErrorOptions {
  message?: unknown;
  actual?: unknown;
  expected?: unknown;
  operator?: string;
  stackStartFn?: (...args: never[]) => unknown;
}

function generatedMessage(actual: unknown, expected: unknown, operator: string | undefined): string {
  if (operator === "deepStrictEqual" || operator === "strictEqual") return createErrDiff(actual, expected, operator);
  if (operator === "notDeepStrictEqual" || operator === "notStrictEqual") {
    let base = readableOperator[operator];
    const lines = truncatedLines(inspectValue(actual).split("\n"));
    if (operator === "notStrictEqual" && isObjectLike(actual)) base = readableOperator.notStrictEqualObject;
    if (lines.length === 1) return `${base}${lines[0].length > 5 ? "\n\n" : " "}${lines[0]}`;
    return `${base}\n\n${lines.join("\n")}\n`;
  }
  let shown = inspectValue(actual);
  let other = inspectValue(expected);
  const known = readableOperator[operator as string];
  if (operator === "notDeepEqual" && shown === other) {
    shown = `${known}\n\n${shown}`;
    return shown.length > 1024 ? `${shown.slice(0, 1021)}...` : shown;
  }
  if (shown.length > 512) shown = `${shown.slice(0, 509)}...`;
  if (other.length > 512) other = `${other.slice(0, 509)}...`;
  if (operator === "deepEqual") shown = `${known}\n\n${shown}\n\nshould loosely deep-equal\n\n`;
  else {
    const unequal = readableOperator[`${operator}Unequal`];
    if (unequal) shown = `${unequal}\n\n${shown}\n\nshould not loosely deep-equal\n\n`;
    else other = ` ${operator} ${other}`;
  }
  return `${shown}${other}`;
}

export class AssertionError extends Error {
  generatedMessage: boolean;
  code = "ERR_ASSERTION" as const;
  actual: unknown;
  expected: unknown;
  operator: string | undefined;

  constructor(options: AssertionErrorOptions) {
    validateObject(options, "options");
    const { message, operator, stackStartFn, actual, expected } = options as AssertionErrorOptions;
    let text: string;
    if (message != null) {
      // Node keeps the diff under a custom message for the two strict comparisons.
      text = operator === "deepStrictEqual" || operator === "strictEqual" ? createErrDiff(actual, expected, operator, String(message)) : String(message);
    } else text = generatedMessage(actual, expected, operator);
    super(text);
    this.generatedMessage = !message;
    this.actual = actual;
    this.expected = expected;
    this.operator = operator;
    const capture = (Error as { captureStackTrace?: (target: object, ctor?: unknown) => void }).captureStackTrace;
    capture?.(this, stackStartFn ?? AssertionError);
    // The stack header carries the code, as Node's does.
    Object.defineProperty(this, "name", { value: "AssertionError [ERR_ASSERTION]", enumerable: false, writable: true, configurable: true });
    void this.stack;
    Object.defineProperty(this, "name", { value: "AssertionError", enumerable: false, writable: true, configurable: true });
  }

  toString(): string {
    return `${this.name} [${this.code}]: ${this.message}`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](_depth: number, options: object): string {
    return inspect(this, { ...options, customInspect: false, depth: 0 });
  }
}
