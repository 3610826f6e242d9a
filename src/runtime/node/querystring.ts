// node:querystring: Node's legacy application/x-www-form-urlencoded helpers (escape, unescape,
// unescapeBuffer, parse/decode, stringify/encode), written to behave as Node's do
// (test/runtime/node/querystring.test.ts compares them on generated input).

import { allocUnsafe, type Buffer } from "./buffer/buffer.ts";
import { nodeError } from "./errors.ts";
import { primordials } from "../primordials.ts";

const { ArrayIsArray, ArrayPrototypePush, MathAbs, NumberIsFinite, ObjectKeys, ObjectPrototypeHasOwnProperty, String, StringPrototypeCharCodeAt, StringPrototypeIndexOf, StringPrototypeSlice, StringPrototypeSplit, URIError, decodeURIComponent } = primordials;

const HEX = "0123456789ABCDEF";

/** Characters escape() leaves as they are: ASCII letters, digits and - . _ ~ ! ' ( ) *. */
function unreserved(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || (code >= 0x30 && code <= 0x39) ||
    code === 0x2d || code === 0x2e || code === 0x5f || code === 0x7e || code === 0x21 || code === 0x27 || code === 0x28 || code === 0x29 || code === 0x2a
  );
}

function percent(byte: number): string {
  return `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
}

/** Percent-encodes a string's UTF-8 bytes; a lone surrogate is URIError ERR_INVALID_URI, as in Node. */
function qsEscape(value: unknown): string {
  const str = typeof value === "string" ? value : typeof value === "object" ? String(value) : `${value as string}`;
  let out = "";
  let last = 0;
  for (let i = 0; i < str.length; i++) {
    const code = StringPrototypeCharCodeAt(str, i);
    if (code < 0x80 && unreserved(code)) continue;
    out += StringPrototypeSlice(str, last, i);
    if (code < 0x80) out += percent(code);
    else if (code < 0x800) out += percent(0xc0 | (code >> 6)) + percent(0x80 | (code & 0x3f));
    else if (code < 0xd800 || code >= 0xe000) out += percent(0xe0 | (code >> 12)) + percent(0x80 | ((code >> 6) & 0x3f)) + percent(0x80 | (code & 0x3f));
    else {
      // A surrogate takes the next code unit whatever it is, as Node's encoder does; only a
      // surrogate that ends the string is an error.
      if (i + 1 >= str.length) throw nodeError(URIError, "ERR_INVALID_URI", "URI malformed");
      const next = StringPrototypeCharCodeAt(str, i + 1);
      i++;
      const point = 0x10000 + (((code & 0x3ff) << 10) | (next & 0x3ff));
      out += percent(0xf0 | (point >> 18)) + percent(0x80 | ((point >> 12) & 0x3f)) + percent(0x80 | ((point >> 6) & 0x3f)) + percent(0x80 | (point & 0x3f));
    }
    last = i + 1;
  }
  return last === 0 ? str : out + StringPrototypeSlice(str, last);
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/** The bytes of a percent-encoded string: %XX decoded, '+' a space with decodeSpaces, every other character its code's low byte. */
function unescapeBuffer(value: unknown, decodeSpaces?: unknown): Buffer {
  const s = `${value as string}`;
  const out = allocUnsafe(s.length) as Buffer;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const code = StringPrototypeCharCodeAt(s, i);
    if (code === 0x2b && decodeSpaces) out[n++] = 0x20;
    else if (code === 0x25 && i + 2 < s.length && hexValue(StringPrototypeCharCodeAt(s, i + 1)) >= 0 && hexValue(StringPrototypeCharCodeAt(s, i + 2)) >= 0) {
      out[n++] = hexValue(StringPrototypeCharCodeAt(s, i + 1)) * 16 + hexValue(StringPrototypeCharCodeAt(s, i + 2));
      i += 2;
    } else out[n++] = code & 0xff;
  }
  return n === s.length ? out : (out.subarray(0, n) as Buffer);
}

function qsUnescape(value: unknown, decodeSpaces?: unknown): string {
  try {
    return decodeURIComponent(value as string);
  } catch {
    return unescapeBuffer(value, decodeSpaces).toString();
  }
}

function stringifyPrimitive(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" && NumberIsFinite(v)) return `${v}`;
  if (typeof v === "bigint") return `${v}`;
  if (typeof v === "boolean") return v ? "true" : "false";
  return "";
}

/** With the module's own escape: numbers below 1e21 and bigints need no escaping. */
function encodeDefault(v: unknown, encode: (s: string) => string): string {
  if (typeof v === "string") return v.length > 0 ? encode(v) : "";
  if (typeof v === "number" && NumberIsFinite(v)) return MathAbs(v) < 1e21 ? `${v}` : encode(`${v}`);
  return stringifyPrimitive(v);
}

function encodeCustom(v: unknown, encode: (s: string) => string): string {
  return encode(stringifyPrimitive(v));
}

function stringify(obj: unknown, sep?: unknown, eq?: unknown, options?: { encodeURIComponent?: unknown }): string {
  const separator = (sep || "&") as string;
  const assign = (eq || "=") as string;
  let encode = querystring.escape as (s: string) => string;
  if (options && typeof options.encodeURIComponent === "function") encode = options.encodeURIComponent as (s: string) => string;
  const convert = encode === qsEscape ? encodeDefault : encodeCustom;
  if (obj === null || typeof obj !== "object") return "";
  let fields = "";
  const keys = ObjectKeys(obj);
  for (let i = 0; i < keys.length; i++) {
    const value = (obj as Record<string, unknown>)[keys[i]];
    const head = convert(keys[i], encode) + assign;
    if (ArrayIsArray(value)) {
      if (value.length === 0) continue;
      for (let j = 0; j < value.length; j++) {
        if (fields) fields += separator;
        fields += head + convert(value[j], encode);
      }
    } else {
      if (fields) fields += separator;
      fields += head + convert(value, encode);
    }
  }
  return fields;
}

/** Whether a string holds a %XX with two hex digits (only those need decoding). */
function hasEscape(s: string): boolean {
  for (let i = StringPrototypeIndexOf(s, "%"); i !== -1 && i + 2 < s.length; i = StringPrototypeIndexOf(s, "%", i + 1)) {
    if (hexValue(StringPrototypeCharCodeAt(s, i + 1)) >= 0 && hexValue(StringPrototypeCharCodeAt(s, i + 2)) >= 0) return true;
  }
  return false;
}

/** '+' as ' ' (for the built-in decoder) or as "%20" (for a caller's decodeURIComponent), as Node does. */
function replacePlus(s: string, by: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) out += s[i] === "+" ? by : s[i];
  return out;
}

function parse(qs: unknown, sep?: unknown, eq?: unknown, options?: { maxKeys?: unknown; decodeURIComponent?: unknown }): Record<string, string | string[]> {
  const obj = { __proto__: null } as unknown as Record<string, string | string[]>;
  if (typeof qs !== "string" || qs.length === 0) return obj;
  const separator = sep ? String(sep) : "&";
  const assign = eq ? String(eq) : "=";
  let pairs = 1000;
  if (options && typeof options.maxKeys === "number") pairs = options.maxKeys > 0 ? options.maxKeys : 0;
  let decode = querystring.unescape as (s: string) => string;
  if (options && typeof options.decodeURIComponent === "function") decode = options.decodeURIComponent as (s: string) => string;
  const custom = decode !== qsUnescape;
  const decodeOne = (s: string): string => {
    if (s.length === 0) return s;
    const plus = StringPrototypeIndexOf(s, "+") !== -1;
    if (!custom) {
      const spaced = plus ? replacePlus(s, " ") : s;
      if (!hasEscape(s)) return spaced;
      try {
        return decode(spaced);
      } catch {
        return (querystring.unescape as (s: string, spaces: boolean) => string)(spaced, true);
      }
    }
    const spaced = plus ? replacePlus(s, "%20") : s;
    try {
      return decode(spaced);
    } catch {
      return (querystring.unescape as (s: string, spaces: boolean) => string)(spaced, true);
    }
  };
  const segments = StringPrototypeSplit(qs, separator);
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment.length === 0) {
      // An empty segment between separators adds nothing but counts as a pair; a trailing one does not.
      if (i < segments.length - 1 && --pairs === 0) return obj;
      continue;
    }
    const at = StringPrototypeIndexOf(segment, assign);
    const key = decodeOne(at === -1 ? segment : StringPrototypeSlice(segment, 0, at));
    const value = at === -1 ? "" : decodeOne(StringPrototypeSlice(segment, at + assign.length));
    if (ObjectPrototypeHasOwnProperty(obj, key)) {
      const current = obj[key];
      if (ArrayIsArray(current)) ArrayPrototypePush(current, value);
      else obj[key] = [current, value];
    } else obj[key] = value;
    if (--pairs === 0) return obj;
  }
  return obj;
}

const querystring: Record<string, unknown> = {
  unescapeBuffer,
  unescape: qsUnescape,
  escape: qsEscape,
  stringify,
  encode: stringify,
  parse,
  decode: parse,
};

export function createQuerystringModule(): Record<string, unknown> {
  return querystring;
}
