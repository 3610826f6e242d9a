// Worker results and log parts are structured-clone data (bigint, Map, Set, Date, typed arrays,
// cycles, undefined, stubs); HTTP answers are JSON. This is the one documented mapping between them.
//
// The mapping runs on the server's event loop and can write far more than the value weighs: a
// typed array becomes an array of numbers (a 120 MB Uint8Array was 240 MB of JSON and 11 s of a
// blocked loop), a sparse array a `null` for each hole, a value referenced many times a copy for
// each reference. So what it writes is counted as it goes, in an OutputBudget, and the mapping
// stops with a RangeError past it. Every value visited costs at least 2 bytes, so the budget bounds
// the walk's time as well as the answer's size; objects and arrays, which cost the walk most (each
// is a new one in the answer), are also counted: a value that shares one array 2^30 times crosses
// the sandbox's boundary as 31 arrays.

import { isRemoteCapability } from "../rpc/rpc-target.ts";

const MAX_DEPTH = 64;

/** ServerOptions.maxResultBytes by default: the most one answer's result may write. */
export const DEFAULT_MAX_RESULT_BYTES = 32 * 1024 * 1024;
/** Objects, arrays, Maps and Sets one result may write: 10 times as many as one value from a sandbox may hold (each reference to a shared one is written again). */
export const MAX_RESULT_OBJECTS = 1_000_000;

/** A result past its OutputBudget. A RangeError to the client, as a sandbox's own would be. */
export class ResultTooLargeError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = "RangeError";
  }
}

/** Bytes a conversion may still write; each write is charged before it is made. */
export class OutputBudget {
  private left: number;
  private objects = 0;

  /** `what` completes "The result is more than N bytes …", e.g. "as JSON". */
  constructor(
    readonly limit: number,
    private readonly what = "as JSON",
  ) {
    this.left = limit;
  }

  charge(bytes: number): void {
    this.left -= bytes;
    if (this.left < 0) this.refuse();
  }

  /** Counts one more object or array written (with its brackets). */
  enter(): void {
    if (++this.objects > MAX_RESULT_OBJECTS) {
      throw new ResultTooLargeError(`The result has more than ${MAX_RESULT_OBJECTS} objects and arrays ${this.what} (one referenced several times is written each time), this server's limit: return less.`);
    }
    this.charge(2);
  }

  private bigintDigits = 0;

  /**
   * Counts the decimal digits of a BigInt about to be written: V8 converts each in one call that
   * nothing interrupts, so all of one result's together are at most MAX_BIGINT_DIGITS
   * (findings12/01: 30 BigInts of 999,721 digits each held every route 8.3 s).
   */
  chargeBigInt(value: bigint): void {
    // Digits from the bit length, without converting: log10(2) ≈ 0.30103.
    const digits = (value < 0n ? -value : value).toString(16).length * 4 * 0.30103;
    this.bigintDigits += digits;
    if (this.bigintDigits > MAX_BIGINT_DIGITS) {
      throw new ResultTooLargeError(`The result's BigInts have about ${Math.round(this.bigintDigits)} decimal digits together; at most ${MAX_BIGINT_DIGITS} are written.`);
    }
  }

  /** Refuses at once `count` values of at least `each` bytes that cannot fit (a huge sparse array's holes, a typed array's elements) rather than walking them first. */
  reserve(count: number, each: number): void {
    if (count * each > this.left) this.refuse();
  }

  private refuse(): never {
    throw new ResultTooLargeError(`The result is more than ${this.limit} bytes ${this.what}, this server's limit (maxResultBytes): return less, e.g. slice or page it in the worker.`);
  }
}

/**
 * bigint → decimal string, Date → ISO string, Map → array of [key, value], Set → array, RegExp →
 * its source text, ArrayBuffer/typed arrays → array of numbers, Error → {name, message}, function
 * or capability → "[capability]", undefined in arrays and holes → null (dropped from objects, as
 * JSON does), NaN/Infinity → null (left to JSON itself in a typed array's numbers), a cycle →
 * "[circular]". Throws ResultTooLargeError once the JSON it would write passes `budget` (counted
 * without JSON's escapes, which add at most 5 bytes a character of a string).
 */
export function toJson(value: unknown, budget: OutputBudget = new OutputBudget(DEFAULT_MAX_RESULT_BYTES)): unknown {
  return convert(value, budget, new Set(), 0);
}

function convert(value: unknown, budget: OutputBudget, seen: Set<object>, depth: number): unknown {
  // Each value is charged with the comma after it.
  if (value === null || value === undefined) return budget.charge(5), null;
  if (typeof value === "string") return budget.charge(jsonWidth(value) + 1), value;
  if (typeof value === "boolean") return budget.charge(6), value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return budget.charge(5), null;
    return budget.charge(numberWidth(value) + 1), value;
  }
  if (typeof value === "bigint") return text(bigintText(value, budget), budget);
  if (typeof value === "function") return text("[capability]", budget);
  if (typeof value !== "object") return text(String(value), budget);
  if (isRemoteCapability(value)) return text("[capability]", budget);
  if (seen.has(value)) return text("[circular]", budget);
  if (depth >= MAX_DEPTH) return text("[too deep]", budget);
  seen.add(value);
  try {
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? convert(null, budget, seen, depth) : text(value.toISOString(), budget);
    if (value instanceof RegExp) return text(value.toString(), budget);
    if (value instanceof Error) {
      budget.enter();
      budget.charge(22);
      return { name: text(String(value.name), budget), message: text(String(value.message), budget) };
    }
    if (value instanceof ArrayBuffer) return numbers(new Uint8Array(value), budget);
    if (ArrayBuffer.isView(value)) {
      if (value instanceof DataView) return numbers(new Uint8Array(value.buffer, value.byteOffset, value.byteLength), budget);
      if (value instanceof BigInt64Array || value instanceof BigUint64Array) return list(value.length, (index) => value[index], budget, seen, depth);
      return numbers(value as NumberArray, budget);
    }
    if (value instanceof Map) {
      budget.enter();
      budget.reserve(value.size, 14);
      const out: unknown[] = [];
      for (const [key, item] of value) {
        budget.enter();
        budget.charge(1);
        out.push([convert(key, budget, seen, depth + 1), convert(item, budget, seen, depth + 1)]);
      }
      return out;
    }
    if (value instanceof Set) {
      budget.enter();
      budget.reserve(value.size, 2);
      const out: unknown[] = [];
      for (const item of value) out.push(convert(item, budget, seen, depth + 1));
      return out;
    }
    // By index up to `length`, holes included (JSON writes `null` for each): a sparse array is
    // charged for its length, never for the few elements it holds.
    if (Array.isArray(value)) return list(value.length, (index) => value[index], budget, seen, depth);
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return text("[capability]", budget);
    budget.enter();
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // A dropped entry costs nothing in the answer, but visiting it must cost something.
      budget.charge(item === undefined ? 1 : jsonWidth(key) + 2);
      if (item !== undefined) out[key] = convert(item, budget, seen, depth + 1);
    }
    return out;
  } catch (error) {
    if (error instanceof ResultTooLargeError) throw error;
    // A capability stub (a Proxy) can refuse introspection.
    return text("[capability]", budget);
  } finally {
    seen.delete(value);
  }
}

function text(value: string, budget: OutputBudget): string {
  budget.charge(jsonWidth(value) + 1);
  return value;
}

/**
 * What JSON writes for a string, quotes included: a control character or a lone surrogate is six
 * bytes (`\u0001`), a quote or backslash two (findings11/02: 33 M control characters passed a
 * 32 MiB budget counted by length and came out as 198 MB).
 */
export function jsonWidth(value: string): number {
  let width = value.length + 2;
  // Most strings hold nothing JSON escapes: one native scan says so.
  if (!MAY_ESCAPE.test(value)) return width;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20) width += 5;
    else if (code === 0x22 || code === 0x5c) width += 1;
    else if (code >= 0xd800 && code <= 0xdfff) {
      const next = i + 1 < value.length ? value.charCodeAt(i + 1) : 0;
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
      else width += 5;
    }
  }
  return width;
}

const MAY_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;

/**
 * The most decimal digits one result's BigInts are written with, together: V8's conversion is one
 * uninterruptible call on the server's thread per BigInt (findings11/01: 64 M bits, 19.3 MB of
 * digits, held every route 13.2 s). A million digits take about 0.3 s.
 */
const MAX_BIGINT_DIGITS = 1_000_000;

function bigintText(value: bigint, budget: OutputBudget): string {
  budget.chargeBigInt(value);
  return value.toString();
}

function list(length: number, at: (index: number) => unknown, budget: OutputBudget, seen: Set<object>, depth: number): unknown[] {
  budget.enter();
  budget.reserve(length, 2);
  const out: unknown[] = [];
  for (let index = 0; index < length; index++) out.push(convert(at(index), budget, seen, depth + 1));
  return out;
}

type NumberArray = Exclude<ArrayBufferView, DataView | BigInt64Array | BigUint64Array> & ArrayLike<number>;

/** A typed array of numbers, element by element without the general walk (which cost 40 ns each). */
function numbers(view: NumberArray, budget: OutputBudget): number[] {
  budget.enter();
  budget.reserve(view.length, 2);
  // Its length is within the budget now; filled in place (Array.from of a typed array took 7 times as long).
  const out: number[] = new Array(view.length);
  let width = 0;
  for (let index = 0; index < view.length; index++) {
    const item = view[index];
    // NaN and Infinity stay: JSON writes them as null.
    out[index] = item;
    width += Number.isFinite(item) ? numberWidth(item) + 1 : 5;
    // Charged in steps, so a refusal comes before the whole view is copied.
    if (width > 65_536) {
      budget.charge(width);
      width = 0;
    }
  }
  budget.charge(width);
  return out;
}

/** Characters JSON writes for a finite number; small integers without making the string. */
function numberWidth(value: number): number {
  if (Number.isInteger(value) && value > -1e9 && value < 1e9) {
    let width = value < 0 ? 2 : 1;
    for (let rest = Math.abs(value); rest >= 10; rest = Math.floor(rest / 10)) width++;
    return width;
  }
  return String(value).length;
}
