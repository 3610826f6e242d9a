// A compact console-style formatter for values that cannot be copied to the host as they are.

import { primordials } from "../primordials.ts";

const { ArrayIsArray, Error, JSONStringify, Map, MathTrunc, Number, NumberIsNaN, ObjectKeys, RegExp, Set } = primordials;

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
      return value.toString();
    case "function":
      return `[Function: ${value.name || "(anonymous)"}]`;
  }
  if (value === null) return "null";
  const object = value as object;
  if (seen.has(object)) return "[Circular]";
  if (object instanceof Error) return object.stack ?? `${object.name}: ${object.message}`;
  if (depth > 2) return ArrayIsArray(object) ? "[Array]" : "[Object]";
  seen.add(object);
  try {
    if (ArrayIsArray(object)) return `[ ${object.map((v) => formatValue(v, depth + 1, seen)).join(", ")} ]`;
    if (object instanceof Map) {
      const items = [...object].map(([k, v]) => `${formatValue(k, depth + 1, seen)} => ${formatValue(v, depth + 1, seen)}`);
      return `Map(${object.size}) { ${items.join(", ")} }`;
    }
    if (object instanceof Set) return `Set(${object.size}) { ${[...object].map((v) => formatValue(v, depth + 1, seen)).join(", ")} }`;
    if (object instanceof Date) return NumberIsNaN(object.getTime()) ? "Invalid Date" : object.toISOString();
    if (object instanceof RegExp) return String(object);
    const name = object.constructor && object.constructor !== Object ? `${object.constructor.name} ` : "";
    const entries = ObjectKeys(object).map((k) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSONStringify(k)}: ${formatValue((object as Record<string, unknown>)[k], depth + 1, seen)}`);
    return entries.length === 0 ? `${name}{}` : `${name}{ ${entries.join(", ")} }`;
  } finally {
    seen.delete(object);
  }
}

/** printf-style substitution as browsers do for console.log's first argument. */
export function formatArgs(args: unknown[]): string {
  const first = args[0];
  let rest = args.slice(1);
  let out: string;
  if (typeof first === "string" && first.includes("%")) {
    out = first.replace(/%[sdifoOjc%]/g, (token) => {
      if (token === "%%") return "%";
      if (rest.length === 0) return token;
      const arg = rest[0];
      rest = rest.slice(1);
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
  for (const arg of rest) out += " " + formatValue(arg);
  return out;
}
