// A compact console-style formatter for values that cannot be copied to the host as they are.

import { primordials } from "../primordials.ts";

const { ArrayIsArray, ArrayPrototypeJoin, ArrayPrototypeMap, ArrayPrototypePush, ArrayPrototypeSlice, DatePrototypeGetTime, DatePrototypeToISOString, Error, JSONStringify, Map, MapPrototypeForEach, MapPrototypeGetSize, MathTrunc, Number, NumberIsNaN, Object, ObjectKeys, RegExp, RegExpPrototypeExec, RegExpPrototypeSymbolReplace, Set, SetPrototypeAdd, SetPrototypeDelete, SetPrototypeForEach, SetPrototypeGetSize, SetPrototypeHas, String, StringPrototypeIncludes, SymbolPrototypeToString } = primordials;

export function formatValue(value: unknown, depth = 0, seen: Set<object> = new Set()): string {
  switch (typeof value) {
    case "string":
      return depth === 0 ? value : JSONStringify(value);
    case "number":
    case "boolean":
    case "undefined":
      return String(value);
    case "bigint":
      return `${value}n`;
    case "symbol":
      return SymbolPrototypeToString(value);
    case "function":
      return `[Function: ${value.name || "(anonymous)"}]`;
  }
  if (value === null) return "null";
  const object = value as object;
  if (SetPrototypeHas(seen, object)) return "[Circular]";
  if (object instanceof Error) return object.stack ?? `${object.name}: ${object.message}`;
  if (depth > 2) return ArrayIsArray(object) ? "[Array]" : "[Object]";
  SetPrototypeAdd(seen, object);
  try {
    if (ArrayIsArray(object)) return `[ ${ArrayPrototypeJoin(ArrayPrototypeMap(object, (v) => formatValue(v, depth + 1, seen)), ", ")} ]`;
    if (object instanceof Map) {
      const items: string[] = [];
      MapPrototypeForEach(object, (v: unknown, k: unknown) => void ArrayPrototypePush(items, `${formatValue(k, depth + 1, seen)} => ${formatValue(v, depth + 1, seen)}`));
      return `Map(${MapPrototypeGetSize(object)}) { ${ArrayPrototypeJoin(items, ", ")} }`;
    }
    if (object instanceof Set) {
      const items: string[] = [];
      SetPrototypeForEach(object, (v: unknown) => void ArrayPrototypePush(items, formatValue(v, depth + 1, seen)));
      return `Set(${SetPrototypeGetSize(object)}) { ${ArrayPrototypeJoin(items, ", ")} }`;
    }
    if (object instanceof Date) return NumberIsNaN(DatePrototypeGetTime(object)) ? "Invalid Date" : DatePrototypeToISOString(object);
    if (object instanceof RegExp) return String(object);
    const name = object.constructor && object.constructor !== Object ? `${object.constructor.name} ` : "";
    const entries = ArrayPrototypeMap(ObjectKeys(object), (k) => `${(RegExpPrototypeExec(/^[A-Za-z_$][\w$]*$/, k) !== null) ? k : JSONStringify(k)}: ${formatValue((object as Record<string, unknown>)[k], depth + 1, seen)}`);
    return entries.length === 0 ? `${name}{}` : `${name}{ ${ArrayPrototypeJoin(entries, ", ")} }`;
  } finally {
    SetPrototypeDelete(seen, object);
  }
}

/** printf-style substitution as browsers do for console.log's first argument. */
export function formatArgs(args: unknown[]): string {
  const first = args[0];
  let rest = ArrayPrototypeSlice(args, 1);
  let out: string;
  if (typeof first === "string" && StringPrototypeIncludes(first, "%")) {
    out = RegExpPrototypeSymbolReplace(/%[sdifoOjc%]/g, first, (token) => {
      if (token === "%%") return "%";
      if (rest.length === 0) return token;
      const arg = rest[0];
      rest = ArrayPrototypeSlice(rest, 1);
      switch (token) {
        case "%s":
          return typeof arg === "string" ? arg : formatValue(arg, 1);
        case "%d":
        case "%i":
          return typeof arg === "bigint" ? `${arg}n` : String(token === "%i" ? MathTrunc(Number(arg)) : Number(arg));
        case "%f":
          return String(Number(arg));
        case "%c":
          return "";
        default:
          return formatValue(arg, 1);
      }
    });
  } else {
    out = args.length === 0 ? "" : formatValue(first);
  }
  for (let i84 = 0, a84 = rest; i84 < a84.length; i84++) {
    const arg = a84[i84];
    out += " " + formatValue(arg);
  }
  return out;
}
