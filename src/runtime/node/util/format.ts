// util.format and util.formatWithOptions: printf-style placeholders (%s %d %i %f %j %o %O %c %%)
// with Node's rules for each, then the remaining arguments inspected and joined by spaces.

import { invalidArgType } from "../errors.ts";
import { formatBigInt, formatNumber, inspect, type InspectOptions } from "./inspect.ts";
import { primordials } from "../../primordials.ts";

const { ArrayPrototypeFilter, JSONStringify, Number, NumberParseFloat, NumberParseInt, ObjectGetOwnPropertyDescriptor, ObjectGetOwnPropertyNames, ObjectGetPrototypeOf, ObjectPrototypeHasOwnProperty, RegExpPrototypeExec, Set, SetFrom, SetPrototypeHas, String, StringPrototypeCharCodeAt, StringPrototypeSlice, TypeError } = primordials;

const plain = (text: string) => text;
let builtInNames: Set<string> | undefined;

/** %s prints objects whose toString is a built-in one with inspect, others with their toString. */
function hasBuiltInToString(value: object): boolean {
  if (typeof (value as { toString?: unknown }).toString !== "function") return true;
  if (ObjectPrototypeHasOwnProperty(value, "toString")) return false;
  let pointer: object | null = value;
  do {
    pointer = ObjectGetPrototypeOf(pointer);
  } while (pointer !== null && !ObjectPrototypeHasOwnProperty(pointer, "toString"));
  if (pointer === null) return true;
  const descriptor = ObjectGetOwnPropertyDescriptor(pointer, "constructor");
  builtInNames ??= SetFrom(ArrayPrototypeFilter(ObjectGetOwnPropertyNames(globalThis), (name) => (RegExpPrototypeExec(/^[A-Z][a-zA-Z0-9]+$/, name) !== null)));
  return descriptor !== undefined && typeof descriptor.value === "function" && SetPrototypeHas(builtInNames, descriptor.value.name);
}

function tryStringify(value: unknown): string {
  try {
    return JSONStringify(value);
  } catch (error) {
    if (error instanceof TypeError && (RegExpPrototypeExec(/circular/i, error.message) !== null)) return "[Circular]";
    throw error;
  }
}

function formatWith(options: InspectOptions | undefined, args: unknown[]): string {
  const first = args[0];
  let a = 0;
  let out = "";
  let join = "";
  const separator = options?.numericSeparator ?? false;
  if (typeof first === "string") {
    if (args.length === 1) return first;
    let last = 0;
    for (let i = 0; i < first.length - 1; i++) {
      if (StringPrototypeCharCodeAt(first, i) !== 37) continue;
      const next = StringPrototypeCharCodeAt(first, ++i);
      if (a + 1 !== args.length) {
        let text: string;
        switch (next) {
          case 115: {
            const arg = args[++a];
            if (typeof arg === "number") text = formatNumber(plain, arg, separator);
            else if (typeof arg === "bigint") text = formatBigInt(plain, arg, separator);
            else if (typeof arg !== "object" || arg === null || !hasBuiltInToString(arg)) text = String(arg);
            else text = inspect(arg, { ...options, depth: 0, colors: false, compact: 3 });
            break;
          }
          case 106:
            text = tryStringify(args[++a]);
            break;
          case 100: {
            const arg = args[++a];
            if (typeof arg === "bigint") text = formatBigInt(plain, arg, separator);
            else if (typeof arg === "symbol") text = "NaN";
            else text = formatNumber(plain, Number(arg), separator);
            break;
          }
          case 79:
            text = inspect(args[++a], options);
            break;
          case 111:
            text = inspect(args[++a], { ...options, showHidden: true, showProxy: true, depth: 4 });
            break;
          case 105: {
            const arg = args[++a];
            if (typeof arg === "bigint") text = formatBigInt(plain, arg, separator);
            else if (typeof arg === "symbol") text = "NaN";
            else text = formatNumber(plain, NumberParseInt(arg as string), separator);
            break;
          }
          case 102: {
            const arg = args[++a];
            text = typeof arg === "symbol" ? "NaN" : formatNumber(plain, NumberParseFloat(arg as string), separator);
            break;
          }
          case 99:
            a += 1;
            text = "";
            break;
          case 37:
            out += StringPrototypeSlice(first, last, i);
            last = i + 1;
            continue;
          default:
            continue;
        }
        if (last !== i - 1) out += StringPrototypeSlice(first, last, i - 1);
        out += text;
        last = i + 1;
      } else if (next === 37) {
        out += StringPrototypeSlice(first, last, i);
        last = i + 1;
      }
    }
    if (last !== 0) {
      a++;
      join = " ";
      if (last < first.length) out += StringPrototypeSlice(first, last);
    }
  }
  while (a < args.length) {
    const value = args[a];
    out += join;
    out += typeof value !== "string" ? inspect(value, options) : value;
    join = " ";
    a++;
  }
  return out;
}

export function format(...args: unknown[]): string {
  return formatWith(undefined, args);
}

export function formatWithOptions(options: unknown, ...args: unknown[]): string {
  if (options === null || typeof options !== "object") throw invalidArgType("inspectOptions", "object", options);
  return formatWith(options as InspectOptions, args);
}
