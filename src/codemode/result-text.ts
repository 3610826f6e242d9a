// A tool result as JSON text that fits a budget and stays valid JSON. What
// `JSON.stringify(result, jsonReplacer)` writes, except that it stops where the budget (in
// characters and in estimated tokens) runs out: an array or object then ends early, closed, and a
// long string or byte run is cut with "…", and each cut is reported (`$.items shows 37 of 1,000
// items`) so the model can ask for less. The walk is bounded by the budget too: a sandbox's
// result can weigh little and write a lot (a sparse array of length 2^26 wrote 2^26 `null`s on the
// server's thread for 28 s, a typed array its whole base64: findings8/02), and every value visited
// writes at least one character.

import { isRemoteCapability } from "../rpc/rpc-target.ts";
import { jsonReplacer } from "./search.ts";
import { estimateTokens } from "./token-estimate.ts";

/** A value JSON leaves out of an object (and writes as null in an array). */
const OMIT = Symbol("omit");

export interface TextBudget {
  /** At most this many characters. */
  chars: number;
  /** At most this many tokens, as estimateTokens counts them. */
  tokens: number;
}

export interface BudgetedJson {
  /** Valid JSON (undefined where JSON.stringify would give undefined: a function, undefined). */
  text: string | undefined;
  /** What was left out, one line per place (at most MAX_CUTS, then a count). */
  cuts: string[];
}

const MAX_CUTS = 5;
const ELLIPSIS = "…";

function pathText(path: readonly (string | number)[]): string {
  let text = "$";
  for (const segment of path) text += typeof segment === "number" ? `[${segment}]` : /^[A-Za-z_$][\w$]*$/.test(segment) ? `.${segment}` : `[${JSON.stringify(segment)}]`;
  return text;
}

const count = (n: number) => n.toLocaleString("en-US");

export function budgetedJson(value: unknown, budget: TextBudget): BudgetedJson {
  const parts: string[] = [];
  let chars = 0;
  let tokens = 0;
  /** Closing brackets still owed: kept free in the budget. */
  let owed = 0;
  let full = false;
  const cuts: string[] = [];
  let moreCuts = 0;
  const cut = (line: string) => {
    full = true;
    if (cuts.length < MAX_CUTS) cuts.push(line);
    else moreCuts++;
  };
  const fits = (text: string) => chars + text.length + owed <= budget.chars && tokens + estimateTokens(text) + owed <= budget.tokens;
  const write = (text: string) => {
    parts.push(text);
    chars += text.length;
    tokens += estimateTokens(text);
  };
  /** The longest prefix of `text` whose JSON, after `prefix`, fits: binary search on its length. */
  const longestFit = (prefix: string, text: string, quote: (shown: string) => string): number => {
    let low = 0;
    let high = Math.min(text.length, Math.max(0, budget.chars - chars - owed));
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if (fits(prefix + quote(text.slice(0, middle)))) low = middle;
      else high = middle - 1;
    }
    return low;
  };
  const open = new Set<object>();

  /** What JSON.stringify writes for `item` after toJSON and the replacer: OMIT for what it leaves out (a function, undefined). */
  const prepare = (key: string, item: unknown): unknown => {
    if (item instanceof Date) return Number.isNaN(item.getTime()) ? null : item.toISOString();
    // Bytes are written below, only as many as fit.
    if (item instanceof ArrayBuffer || ArrayBuffer.isView(item)) return item;
    // A capability is a function to JSON, which leaves it out (JSON.stringify would call a stub's toJSON in the sandbox).
    if (typeof item === "object" && item !== null && isRemoteCapability(item)) return OMIT;
    const mapped = jsonReplacer(key, item);
    if (mapped instanceof Number || mapped instanceof String || mapped instanceof Boolean) return mapped.valueOf();
    return mapped === undefined || typeof mapped === "function" || typeof mapped === "symbol" ? OMIT : mapped;
  };

  /**
   * Writes `prefix` (",", `"key":` …) and the item, or nothing when not even a cut-down item fits.
   * Returns false when nothing was written.
   */
  const writeItem = (prefix: string, item: unknown, path: (string | number)[]): boolean => {
    if (item === null || typeof item === "number" || typeof item === "boolean") {
      const text = prefix + (item === null ? "null" : typeof item === "number" ? (Number.isFinite(item) ? String(item) : "null") : item ? "true" : "false");
      if (!fits(text)) return false;
      write(text);
      return true;
    }
    if (typeof item === "bigint") throw new TypeError("Do not know how to serialize a BigInt");
    if (typeof item === "string") {
      const whole = prefix + JSON.stringify(item);
      if (fits(whole)) {
        write(whole);
        return true;
      }
      const shown = longestFit(prefix, item, (part) => JSON.stringify(part + ELLIPSIS));
      if (shown === 0 && !fits(prefix + JSON.stringify(ELLIPSIS))) return false;
      write(prefix + JSON.stringify(item.slice(0, shown) + ELLIPSIS));
      cut(`${pathText(path)}: a string cut at ${count(shown)} of ${count(item.length)} characters`);
      return true;
    }
    if (item instanceof ArrayBuffer || ArrayBuffer.isView(item)) {
      // jsonReplacer's {bytes: base64}, of the bytes that fit (base64 cut on a 3-byte boundary).
      const view = item instanceof ArrayBuffer ? new Uint8Array(item) : new Uint8Array(item.buffer, item.byteOffset, item.byteLength);
      const room = Math.max(0, budget.chars - chars - owed);
      const candidate = Math.min(view.length, Math.floor((room * 3) / 4));
      const base64 = (n: number) => Buffer.from(view.buffer, view.byteOffset, n).toString("base64");
      const quote = (b64: string) => `{"bytes":"${b64}"}`;
      if (candidate === view.length && fits(prefix + quote(base64(view.length)))) {
        write(prefix + quote(base64(view.length)));
        return true;
      }
      const shownChars = longestFit(prefix, base64(candidate - (candidate % 3)), (part) => quote(part.slice(0, part.length - (part.length % 4)) + ELLIPSIS));
      const shownBytes = (Math.floor(shownChars / 4) * 3);
      if (!fits(prefix + quote(ELLIPSIS))) return false;
      write(prefix + quote(base64(shownBytes) + ELLIPSIS));
      cut(`${pathText(path)}: ${count(shownBytes)} of ${count(view.length)} bytes shown`);
      return true;
    }
    const object = item as object;
    if (open.has(object)) throw new TypeError("Converting circular structure to JSON");
    const isArray = Array.isArray(object);
    if (!fits(prefix + (isArray ? "[]" : "{}"))) return false;
    open.add(object);
    write(prefix + (isArray ? "[" : "{"));
    owed++;
    if (isArray) {
      const array = object as unknown[];
      // Index by index up to length, as JSON.stringify does: a hole is `null`.
      for (let index = 0; index < array.length; index++) {
        const element = full ? OMIT : prepare(String(index), array[index]);
        if (full || !writeItem(index > 0 ? "," : "", element === OMIT ? null : element, [...path, index])) {
          if (!full || cuts.length === 0 || index < array.length) cut(`${pathText(path)} shows ${count(index)} of ${count(array.length)} items`);
          break;
        }
      }
    } else {
      const names = Object.keys(object);
      let written = 0;
      for (let i = 0; i < names.length; i++) {
        if (full) {
          cut(`${pathText(path)} shows ${count(i)} of ${count(names.length)} properties`);
          break;
        }
        const entry = prepare(names[i], (object as Record<string, unknown>)[names[i]]);
        if (entry === OMIT) continue;
        if (!writeItem(`${written > 0 ? "," : ""}${JSON.stringify(names[i])}:`, entry, [...path, names[i]])) {
          cut(`${pathText(path)} shows ${count(i)} of ${count(names.length)} properties`);
          break;
        }
        written++;
      }
    }
    owed--;
    write(isArray ? "]" : "}");
    open.delete(object);
    return true;
  };

  const root = prepare("", value);
  if (root === OMIT) return { text: undefined, cuts: [] };
  if (!writeItem("", root, [])) {
    return { text: JSON.stringify(null), cuts: [`$: nothing fits ${count(budget.tokens)} tokens`] };
  }
  if (moreCuts > 0) cuts.push(`and ${count(moreCuts)} more`);
  return { text: parts.join(""), cuts };
}
