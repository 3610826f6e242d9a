// Worker results and log parts are structured-clone data (bigint, Map, Set, Date, typed arrays,
// cycles, undefined, stubs); HTTP answers are JSON. This is the one documented mapping between them.

import { isRemoteCapability } from "../rpc/rpc-target.ts";

const MAX_DEPTH = 64;

/**
 * bigint → decimal string, Date → ISO string, Map → array of [key, value], Set → array, RegExp →
 * its source text, ArrayBuffer/typed arrays → array of numbers, Error → {name, message}, function
 * or capability → "[capability]", undefined in arrays → null (dropped from objects, as JSON does),
 * NaN/Infinity → null, a cycle → "[circular]".
 */
export function toJson(value: unknown, seen: Set<object> = new Set(), depth = 0): unknown {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "bigint") return value.toString();
  if (value === undefined) return null;
  if (typeof value === "function") return "[capability]";
  if (typeof value !== "object") return String(value);
  if (isRemoteCapability(value)) return "[capability]";
  if (seen.has(value)) return "[circular]";
  if (depth >= MAX_DEPTH) return "[too deep]";
  seen.add(value);
  try {
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
    if (value instanceof RegExp) return value.toString();
    if (value instanceof Error) return { name: value.name, message: value.message };
    if (value instanceof ArrayBuffer) return Array.from(new Uint8Array(value));
    if (ArrayBuffer.isView(value)) {
      if (value instanceof DataView) return Array.from(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      return Array.from(value as unknown as ArrayLike<number | bigint>, (item) => toJson(item, seen, depth + 1));
    }
    if (value instanceof Map) return Array.from(value, ([k, v]) => [toJson(k, seen, depth + 1), toJson(v, seen, depth + 1)]);
    if (value instanceof Set) return Array.from(value, (item) => toJson(item, seen, depth + 1));
    if (Array.isArray(value)) return value.map((item) => toJson(item, seen, depth + 1));
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return "[capability]";
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) if (item !== undefined) out[key] = toJson(item, seen, depth + 1);
    return out;
  } catch {
    // A capability stub (a Proxy) can refuse introspection.
    return "[capability]";
  } finally {
    seen.delete(value);
  }
}
