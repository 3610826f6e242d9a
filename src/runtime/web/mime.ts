// MIME types as the WHATWG MIME Sniffing Standard parses and serializes them, and the Fetch
// Standard's "extract a MIME type" from a Content-Type header. Body.blob() and Body.formData()
// depend on exactly these rules (quoted parameters, the first of duplicate parameters wins).

import { isHttpToken } from "./webidl.ts";
import { primordials } from "../primordials.ts";

const { Map } = primordials;

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
  const input = text.replace(HTTP_WHITESPACE, "");
  const slash = input.indexOf("/");
  if (slash === -1) return null;
  const type = input.slice(0, slash);
  if (!isHttpToken(type)) return null;
  let position = input.indexOf(";", slash + 1);
  if (position === -1) position = input.length;
  const subtype = input.slice(slash + 1, position).replace(/[\t\n\r ]+$/, "");
  if (!isHttpToken(subtype)) return null;
  const mime: MimeType = { type: type.toLowerCase(), subtype: subtype.toLowerCase(), parameters: new Map() };
  while (position < input.length) {
    position++; // past the ';'
    while (position < input.length && /[\t\n\r ]/.test(input[position])) position++;
    let end = position;
    while (end < input.length && input[end] !== ";" && input[end] !== "=") end++;
    const name = input.slice(position, end).toLowerCase();
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
      end = input.indexOf(";", position);
      if (end === -1) end = input.length;
      value = input.slice(position, end).replace(/[\t\n\r ]+$/, "");
      position = end;
      if (value === "") continue;
    }
    if (name !== "" && isHttpToken(name) && QUOTED_STRING_TOKEN.test(value) && !mime.parameters.has(name)) mime.parameters.set(name, value);
  }
  return mime;
}

export function serializeMimeType(mime: MimeType): string {
  let text = essence(mime);
  for (const [name, value] of mime.parameters) {
    const serialized = value !== "" && isHttpToken(value) ? value : `"${value.replace(/["\\]/g, "\\$&")}"`;
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
      current += value.slice(position, next);
      position = next;
      if (position < value.length) continue;
    }
    values.push(current.replace(/^[\t ]+|[\t ]+$/g, ""));
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
  for (const value of splitHeaderValues(contentType)) {
    const candidate = parseMimeType(value);
    if (candidate === null || essence(candidate) === "*/*") continue;
    mime = candidate;
    if (essence(mime) !== currentEssence) {
      charset = mime.parameters.get("charset") ?? null;
      currentEssence = essence(mime);
    } else if (!mime.parameters.has("charset") && charset !== null) {
      mime.parameters.set("charset", charset);
    }
  }
  return mime;
}
