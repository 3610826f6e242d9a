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

const { StringFromCharCode, Uint8Array } = primordials;

const CR = 0x0d;
const LF = 0x0a;
const CRLF = new Uint8Array([CR, LF]);
const HEX = "0123456789abcdef";

/** A boundary from the host's CSPRNG, so that content cannot be crafted to contain it. */
export function multipartBoundary(): string {
  let text = "";
  for (const byte of host("crypto.random", 12) as Uint8Array) text += HEX[byte >> 4] + HEX[byte & 15];
  return `----formdata-islet-${text}`;
}

const escapeQuoted = (text: string): string => text.replace(/\n/g, "%0A").replace(/\r/g, "%0D").replace(/"/g, "%22");
const normalizeNewlines = (text: string): string => text.replace(/\r\n|\r|\n/g, "\r\n");

export function serializeMultipart(entries: readonly FormDataEntry[], boundary: string): Uint8Array {
  const pieces: Uint8Array[] = [];
  for (const [name, value] of entries) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${escapeQuoted(normalizeNewlines(name))}"`;
    if (typeof value === "string") {
      pieces.push(encodeUtf8(`${head}\r\n\r\n${normalizeNewlines(value)}\r\n`));
      continue;
    }
    head += `; filename="${escapeQuoted(value.name)}"\r\nContent-Type: ${value.type || "application/octet-stream"}\r\n\r\n`;
    pieces.push(encodeUtf8(head), blobBytes(value), CRLF);
  }
  pieces.push(encodeUtf8(`--${boundary}--\r\n`));
  return concatBytes(pieces);
}


function startsWith(input: Uint8Array, pattern: Uint8Array, position: number): boolean {
  if (position + pattern.length > input.length) return false;
  for (let i = 0; i < pattern.length; i++) if (input[position + i] !== pattern[i]) return false;
  return true;
}

function indexOf(input: Uint8Array, pattern: Uint8Array, from: number): number {
  for (let at = input.indexOf(pattern[0], from); at !== -1; at = input.indexOf(pattern[0], at + 1)) {
    if (startsWith(input, pattern, at)) return at;
  }
  return -1;
}

function isomorphicDecode(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += StringFromCharCode(byte);
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
  while (cursor.position < input.length && input[cursor.position] !== LF && input[cursor.position] !== CR && input[cursor.position] !== 0x22) cursor.position++;
  if (input[cursor.position] !== 0x22) return null;
  const name = decodeUtf8(input.subarray(start, cursor.position));
  cursor.position++;
  return name.replace(/%0A/gi, "\n").replace(/%0D/gi, "\r").replace(/%22/g, '"');
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
    while (cursor.position < input.length && input[cursor.position] !== LF && input[cursor.position] !== CR && input[cursor.position] !== 0x3a) cursor.position++;
    const headerName = isomorphicDecode(input.subarray(start, cursor.position)).replace(/^[\t ]+|[\t ]+$/g, "");
    if (!isHttpToken(headerName) || input[cursor.position] !== 0x3a) return null;
    cursor.position++;
    while (isTabOrSpace(input[cursor.position])) cursor.position++;
    switch (headerName.toLowerCase()) {
      case "content-disposition": {
        name = filename = null;
        if (!startsWith(input, FORM_DATA_NAME, cursor.position)) return null;
        cursor.position += FORM_DATA_NAME.length;
        name = parseQuotedName(input, cursor);
        if (name === null) return null;
        if (startsWith(input, FILENAME, cursor.position)) {
          cursor.position += FILENAME.length;
          filename = parseQuotedName(input, cursor);
          if (filename === null) return null;
        }
        break;
      }
      case "content-type": {
        const valueStart = cursor.position;
        while (cursor.position < input.length && input[cursor.position] !== LF && input[cursor.position] !== CR) cursor.position++;
        contentType = isomorphicDecode(input.subarray(valueStart, cursor.position)).replace(/[\t ]+$/, "");
        break;
      }
      default:
        while (cursor.position < input.length && input[cursor.position] !== LF && input[cursor.position] !== CR) cursor.position++;
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
  let end = body.length;
  while (isCrlf(body, start)) start += 2;
  while (end - 2 >= start && body[end - 2] === CR && body[end - 1] === LF) end -= 2;
  const input = body.subarray(0, end);
  const cursor: Cursor = { position: start };
  const entries: FormDataEntry[] = [];
  for (;;) {
    if (!startsWith(input, delimiter, cursor.position)) return null;
    cursor.position += delimiter.length;
    if (cursor.position === input.length - 2 && input[cursor.position] === 0x2d && input[cursor.position + 1] === 0x2d) return entries;
    if (!isCrlf(input, cursor.position)) return null;
    cursor.position += 2;
    const headers = parsePartHeaders(input, cursor);
    if (headers === null) return null;
    cursor.position += 2;
    const bodyEnd = indexOf(input, nextDelimiter, cursor.position);
    if (bodyEnd === -1) return null;
    const content = input.subarray(cursor.position, bodyEnd);
    cursor.position = bodyEnd + 2;
    if (headers.filename === null) {
      entries.push([headers.name, decodeUtf8(content)]);
      continue;
    }
    const type = headers.contentType ?? "text/plain";
    entries.push([headers.name, new File([content], headers.filename, { type: /^[\x00-\x7f]*$/.test(type) ? type : "" })]);
  }
}
