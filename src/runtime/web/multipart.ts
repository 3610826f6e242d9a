// multipart/form-data: the HTML Standard's encoding algorithm (what a FormData body is) and the
// parser the Fetch Standard points to for Body.formData() (the WHATWG draft undici implements).

import { host } from "../platform.ts";
import { blobBytes } from "./blob.ts";
import { decodeUtf8, encodeUtf8 } from "./encoding.ts";
import { File } from "./file.ts";
import type { FormDataEntry } from "./form-data.ts";
import { isHttpToken } from "./webidl.ts";
import { concatBytes } from "./concat.ts";
import { primordials } from "../primordials.ts";

const { ArrayPrototypePush, RegExpPrototypeExec, RegExpPrototypeSymbolReplace, StringFromCharCode, StringPrototypeToLowerCase, TypedArrayOf, TypedArrayPrototypeGetLength, TypedArrayPrototypeIndexOf, TypedArrayPrototypeSubarray, Uint8Array } = primordials;

const CR = 0x0d;
const LF = 0x0a;
const CRLF = TypedArrayOf(Uint8Array, [CR, LF]);
const HEX = "0123456789abcdef";

/** A boundary from the host's CSPRNG, so that content cannot be crafted to contain it. */
export function multipartBoundary(): string {
  let text = "";
  for (let i8 = 0, a8 = host("crypto.random", 12) as Uint8Array; i8 < TypedArrayPrototypeGetLength(a8); i8++) {
    const byte = a8[i8];
    text += HEX[byte >> 4] + HEX[byte & 15];
  }
  return `----formdata-islet-${text}`;
}

const escapeQuoted = (text: string): string => RegExpPrototypeSymbolReplace(/"/g, RegExpPrototypeSymbolReplace(/\r/g, RegExpPrototypeSymbolReplace(/\n/g, text, "%0A"), "%0D"), "%22");
const normalizeNewlines = (text: string): string => RegExpPrototypeSymbolReplace(/\r\n|\r|\n/g, text, "\r\n");

export function serializeMultipart(entries: readonly FormDataEntry[], boundary: string): Uint8Array {
  const pieces: Uint8Array[] = [];
  for (let i9 = 0, a9 = entries; i9 < a9.length; i9++) {
    const name = a9[i9][0], value = a9[i9][1];
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${escapeQuoted(normalizeNewlines(name))}"`;
    if (typeof value === "string") {
      ArrayPrototypePush(pieces, encodeUtf8(`${head}\r\n\r\n${normalizeNewlines(value)}\r\n`));
      continue;
    }
    head += `; filename="${escapeQuoted(value.name)}"\r\nContent-Type: ${value.type || "application/octet-stream"}\r\n\r\n`;
    ArrayPrototypePush(pieces, encodeUtf8(head), blobBytes(value), CRLF);
  }
  ArrayPrototypePush(pieces, encodeUtf8(`--${boundary}--\r\n`));
  return concatBytes(pieces);
}

function startsWith(input: Uint8Array, pattern: Uint8Array, position: number): boolean {
  if (position + TypedArrayPrototypeGetLength(pattern) > TypedArrayPrototypeGetLength(input)) return false;
  for (let i = 0; i < TypedArrayPrototypeGetLength(pattern); i++) if (input[position + i] !== pattern[i]) return false;
  return true;
}

function indexOf(input: Uint8Array, pattern: Uint8Array, from: number): number {
  for (let at = TypedArrayPrototypeIndexOf(input, pattern[0], from); at !== -1; at = TypedArrayPrototypeIndexOf(input, pattern[0], at + 1)) {
    if (startsWith(input, pattern, at)) return at;
  }
  return -1;
}

function isomorphicDecode(bytes: Uint8Array): string {
  let text = "";
  for (let i10 = 0, a10 = bytes; i10 < TypedArrayPrototypeGetLength(a10); i10++) {
    const byte = a10[i10];
    text += StringFromCharCode(byte);
  }
  return text;
}

const isCrlf = (input: Uint8Array, position: number): boolean => input[position] === CR && input[position + 1] === LF;
const isTabOrSpace = (byte: number): boolean => byte === 0x09 || byte === 0x20;

const FORM_DATA_NAME = encodeUtf8('form-data; name="');
const FILENAME = encodeUtf8('; filename="');

interface Cursor {
  position: number;
}

/** A name or filename in quotes; the opening quote is behind the cursor. Null on failure. */
function parseQuotedName(input: Uint8Array, cursor: Cursor): string | null {
  const start = cursor.position;
  while (cursor.position < TypedArrayPrototypeGetLength(input) && input[cursor.position] !== LF && input[cursor.position] !== CR && input[cursor.position] !== 0x22) cursor.position++;
  if (input[cursor.position] !== 0x22) return null;
  const name = decodeUtf8(TypedArrayPrototypeSubarray(input, start, cursor.position));
  cursor.position++;
  return RegExpPrototypeSymbolReplace(/%22/g, RegExpPrototypeSymbolReplace(/%0D/gi, RegExpPrototypeSymbolReplace(/%0A/gi, name, "\n"), "\r"), '"');
}

interface PartHeaders {
  name: string;
  filename: string | null;
  contentType: string | null;
}

function parsePartHeaders(input: Uint8Array, cursor: Cursor): PartHeaders | null {
  let name: string | null = null;
  let filename: string | null = null;
  let contentType: string | null = null;
  for (;;) {
    if (isCrlf(input, cursor.position)) return name === null ? null : { name, filename, contentType };
    const start = cursor.position;
    while (cursor.position < TypedArrayPrototypeGetLength(input) && input[cursor.position] !== LF && input[cursor.position] !== CR && input[cursor.position] !== 0x3a) cursor.position++;
    const headerName = RegExpPrototypeSymbolReplace(/^[\t ]+|[\t ]+$/g, isomorphicDecode(TypedArrayPrototypeSubarray(input, start, cursor.position)), "");
    if (!isHttpToken(headerName) || input[cursor.position] !== 0x3a) return null;
    cursor.position++;
    while (isTabOrSpace(input[cursor.position])) cursor.position++;
    switch (StringPrototypeToLowerCase(headerName)) {
      case "content-disposition": {
        name = filename = null;
        if (!startsWith(input, FORM_DATA_NAME, cursor.position)) return null;
        cursor.position += TypedArrayPrototypeGetLength(FORM_DATA_NAME);
        name = parseQuotedName(input, cursor);
        if (name === null) return null;
        if (startsWith(input, FILENAME, cursor.position)) {
          cursor.position += TypedArrayPrototypeGetLength(FILENAME);
          filename = parseQuotedName(input, cursor);
          if (filename === null) return null;
        }
        break;
      }
      case "content-type": {
        const valueStart = cursor.position;
        while (cursor.position < TypedArrayPrototypeGetLength(input) && input[cursor.position] !== LF && input[cursor.position] !== CR) cursor.position++;
        contentType = RegExpPrototypeSymbolReplace(/[\t ]+$/, isomorphicDecode(TypedArrayPrototypeSubarray(input, valueStart, cursor.position)), "");
        break;
      }
      default:
        while (cursor.position < TypedArrayPrototypeGetLength(input) && input[cursor.position] !== LF && input[cursor.position] !== CR) cursor.position++;
    }
    if (!isCrlf(input, cursor.position)) return null;
    cursor.position += 2;
  }
}

/** The entries of a multipart/form-data body, or null if it is malformed. */
export function parseMultipart(body: Uint8Array, boundary: string): FormDataEntry[] | null {
  const delimiter = encodeUtf8(`--${boundary}`);
  const nextDelimiter = encodeUtf8(`\r\n--${boundary}`);
  // Like undici (and browsers' leniency), blank lines around the whole body are ignored.
  let start = 0;
  let end = TypedArrayPrototypeGetLength(body);
  while (isCrlf(body, start)) start += 2;
  while (end - 2 >= start && body[end - 2] === CR && body[end - 1] === LF) end -= 2;
  const input = TypedArrayPrototypeSubarray(body, 0, end);
  const cursor: Cursor = { position: start };
  const entries: FormDataEntry[] = [];
  for (;;) {
    if (!startsWith(input, delimiter, cursor.position)) return null;
    cursor.position += TypedArrayPrototypeGetLength(delimiter);
    if (cursor.position === TypedArrayPrototypeGetLength(input) - 2 && input[cursor.position] === 0x2d && input[cursor.position + 1] === 0x2d) return entries;
    if (!isCrlf(input, cursor.position)) return null;
    cursor.position += 2;
    const headers = parsePartHeaders(input, cursor);
    if (headers === null) return null;
    cursor.position += 2;
    const bodyEnd = indexOf(input, nextDelimiter, cursor.position);
    if (bodyEnd === -1) return null;
    const content = TypedArrayPrototypeSubarray(input, cursor.position, bodyEnd);
    cursor.position = bodyEnd + 2;
    if (headers.filename === null) {
      ArrayPrototypePush(entries, [headers.name, decodeUtf8(content)]);
      continue;
    }
    const type = headers.contentType ?? "text/plain";
    ArrayPrototypePush(entries, [headers.name, new File([content], headers.filename, { type: (RegExpPrototypeExec(/^[\x00-\x7f]*$/, type) !== null) ? type : "" })]);
  }
}
