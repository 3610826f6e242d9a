// How many objects a structured-clone value holds, counted up to a cap: what decoding it costs the
// side that rebuilds it, weighed before that side is asked to.

/** Objects in `value` (each array, plain object, Map, Set, Date, view, error, boxed primitive once), at most `cap + 1`. */
export function countObjects(value: unknown, cap: number): number {
  const seen = new Set<object>();
  const stack: unknown[] = [value];
  let count = 0;
  while (stack.length > 0) {
    const item = stack.pop();
    if (item === null || (typeof item !== "object" && typeof item !== "function")) continue;
    if (seen.has(item)) continue;
    seen.add(item);
    if (++count > cap) return count;
    if (ArrayBuffer.isView(item) || item instanceof ArrayBuffer || item instanceof Date || item instanceof RegExp) continue;
    if (item instanceof Map) {
      for (const [key, entry] of item) stack.push(key, entry);
    } else if (item instanceof Set) {
      for (const entry of item) stack.push(entry);
    } else if (Array.isArray(item)) {
      // A sparse array's holes cost nothing to rebuild; its own elements do.
      for (const key of Object.keys(item)) stack.push((item as unknown[])[Number(key)]);
    } else {
      for (const key of Object.keys(item)) stack.push((item as Record<string, unknown>)[key]);
      if (item instanceof Error) stack.push(item.cause);
    }
  }
  return count;
}
