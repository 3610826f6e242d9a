// MIME types as the WHATWG MIME Sniffing Standard parses and serializes them, and the Fetch
// Standard's "extract a MIME type" from a Content-Type header. Body.blob() and Body.formData()
// depend on exactly these rules (quoted parameters, the first of duplicate parameters wins).

import { isHttpToken } from "./webidl.ts";
import { primordials } from "../primordials.ts";

const { ArrayPrototypePush, Map, MapPrototypeGet, MapPrototypeHas, MapPrototypeSet, RegExpPrototypeExec, RegExpPrototypeSymbolReplace, SafeMapIterator, StringPrototypeIndexOf, StringPrototypeSlice, StringPrototypeToLowerCase } = primordials;

export interface MimeType {
  type: string;
  subtype: string;
  parameters: Map<string, string>;
}

const HTTP_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;
const QUOTED_STRING_TOKEN = /^[\t\x20-\x7e\x80-\xff]*$/;

export function essence(mime: MimeType): string {
  return `${mime.type}/${mime.subtype}`;
}

/** Reads an HTTP quoted-string starting at the '"' at `start`: [value, index after it]. */
function collectQuotedString(input: string, start: number): [string, number] {
  let value = "";
  let position = start + 1;
  for (;;) {
    while (position < input.length && input[position] !== '"' && input[position] !== "\\") value += input[position++];
    if (position >= input.length) break;
    const quoteOrBackslash = input[position++];
    if (quoteOrBackslash === '"') break;
    if (position >= input.length) {
      value += "\\";
      break;
    }
    value += input[position++];
  }
  return [value, position];
}

export function parseMimeType(text: string): MimeType | null {
  const input = RegExpPrototypeSymbolReplace(HTTP_WHITESPACE, text, "");
  const slash = StringPrototypeIndexOf(input, "/");
  if (slash === -1) return null;
  const type = StringPrototypeSlice(input, 0, slash);
  if (!isHttpToken(type)) return null;
  let position = StringPrototypeIndexOf(input, ";", slash + 1);
  if (position === -1) position = input.length;
  const subtype = RegExpPrototypeSymbolReplace(/[\t\n\r ]+$/, StringPrototypeSlice(input, slash + 1, position), "");
  if (!isHttpToken(subtype)) return null;
  const mime: MimeType = { type: StringPrototypeToLowerCase(type), subtype: StringPrototypeToLowerCase(subtype), parameters: new Map() };
  while (position < input.length) {
    position++; // past the ';'
    while (position < input.length && (RegExpPrototypeExec(/[\t\n\r ]/, input[position]) !== null)) position++;
    let end = position;
    while (end < input.length && input[end] !== ";" && input[end] !== "=") end++;
    const name = StringPrototypeToLowerCase(StringPrototypeSlice(input, position, end));
    position = end;
    if (position < input.length) {
      if (input[position] === ";") continue;
      position++; // past the '='
    }
    if (position >= input.length) break;
    let value: string;
    if (input[position] === '"') {
      [value, position] = collectQuotedString(input, position);
      while (position < input.length && input[position] !== ";") position++;
    } else {
      end = StringPrototypeIndexOf(input, ";", position);
      if (end === -1) end = input.length;
      value = RegExpPrototypeSymbolReplace(/[\t\n\r ]+$/, StringPrototypeSlice(input, position, end), "");
      position = end;
      if (value === "") continue;
    }
    if (name !== "" && isHttpToken(name) && (RegExpPrototypeExec(QUOTED_STRING_TOKEN, value) !== null) && !MapPrototypeHas(mime.parameters, name)) MapPrototypeSet(mime.parameters, name, value);
  }
  return mime;
}

export function serializeMimeType(mime: MimeType): string {
  let text = essence(mime);
  for (let a32 = SafeMapIterator(mime.parameters), i32 = a32.next(); !i32.done; i32 = a32.next()) {
    const name = i32.value[0], value = i32.value[1];
    const serialized = value !== "" && isHttpToken(value) ? value : `"${RegExpPrototypeSymbolReplace(/["\\]/g, value, "\\$&")}"`;
    text += `;${name}=${serialized}`;
  }
  return text;
}

/** Splits a combined header value on commas outside quoted strings ("getting, decoding, and splitting"). */
function splitHeaderValues(value: string): string[] {
  const values: string[] = [];
  let position = 0;
  let current = "";
  while (position <= value.length) {
    while (position < value.length && value[position] !== '"' && value[position] !== ",") current += value[position++];
    if (position < value.length && value[position] === '"') {
      const next = collectQuotedString(value, position)[1];
      current += StringPrototypeSlice(value, position, next);
      position = next;
      if (position < value.length) continue;
    }
    ArrayPrototypePush(values, RegExpPrototypeSymbolReplace(/^[\t ]+|[\t ]+$/g, current, ""));
    current = "";
    position++;
  }
  return values;
}

/** The Fetch Standard's "extract a MIME type" from a (combined) Content-Type value, or null. */
export function extractMimeType(contentType: string | null): MimeType | null {
  if (contentType === null) return null;
  let charset: string | null = null;
  let currentEssence: string | null = null;
  let mime: MimeType | null = null;
  for (let i33 = 0, a33 = splitHeaderValues(contentType); i33 < a33.length; i33++) {
    const value = a33[i33];
    const candidate = parseMimeType(value);
    if (candidate === null || essence(candidate) === "*/*") continue;
    mime = candidate;
    if (essence(mime) !== currentEssence) {
      charset = MapPrototypeGet(mime.parameters, "charset") ?? null;
      currentEssence = essence(mime);
    } else if (!MapPrototypeHas(mime.parameters, "charset") && charset !== null) {
      MapPrototypeSet(mime.parameters, "charset", charset);
    }
  }
  return mime;
}
