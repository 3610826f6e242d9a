// Credential injection: the host adds a secret header or query parameter to requests for a given
// host. The secret lives only in this closure; the sandbox never receives it.
//
// Redirects: the request this policy passes on always has redirect: "manual", so nothing after it
// (Node's fetch) can carry an injected header or parameter to the URL a 3xx points at. A redirect
// is followed by whoever asked: the sandbox's fetch, or outbound() for a host caller's "follow"
// request. Each hop is a fresh request through the whole chain, built from the headers the caller
// sent, so this policy matches every hop against its own host again: a hop to a host no rule names
// gets none of the injected headers, custom names included, not only `authorization`.
//
// What comes back: an upstream may quote what it was sent. A trailing-slash 301 keeps the query
// string, injected parameter included; a debugging upstream echoes a header; an RFC 6750 challenge
// quotes the bearer token without its scheme. So every injected value (headers and query
// parameters of every rule) and every secret part of an injected header (a token of 8 or more
// characters that is not a scheme word, the decoded `user:password` of Basic and its password) is
// replaced by "[redacted]" in every response header and the status text, and in the message of an
// error the rest of the chain throws; the response's url is the one the caller asked for. It is
// found in any spelling: the text is percent-decoded up to three times (either hex case, `+` as
// space) and a match in any layer replaces the original span (see redactor()). When the caller
// follows a Location whose parameter now reads "[redacted]", this policy sets the parameter to the
// secret again for a host its rule names (and for no other host). Response bodies are not scanned:
// an upstream that echoes a credential in its body hands it to the sandbox.

import { trace } from "@opentelemetry/api";
import { checkPatterns, hostMatches, type HostPattern } from "./allow-hosts.ts";
import type { OutboundPolicy } from "./index.ts";

export interface Credential {
  headers?: Record<string, string>;
  query?: Record<string, string>;
}

const REDACTED = "[redacted]";
const nullBodyStatus = new Set([101, 103, 204, 205, 304]);

export function injectCredentials(rules: Record<string, Credential> | [HostPattern, Credential][]): OutboundPolicy {
  const list: [HostPattern, Credential][] = Array.isArray(rules) ? [...rules] : Object.entries(rules);
  checkPatterns(
    list.map(([pattern]) => pattern),
    "injectCredentials()",
  );
  const secrets = list.flatMap(([, credential]) => [
    ...Object.values(credential.headers ?? {}).flatMap((value) => (typeof value === "string" ? secretParts(value, true) : [])),
    ...Object.values(credential.query ?? {}).flatMap((value) => (typeof value === "string" ? secretParts(value, false) : [])),
  ]);
  const redact = redactor(secrets);
  // Header names arrive lower-cased (HTTP folds them), so a name is searched with case folded,
  // in every decoded layer too: `%52` in a folded name still decodes to "R" (findings5/35).
  const redactName = redactor(secrets, true);
  return async (request, next) => {
    const url = new URL(request.url);
    const rule = list.find(([pattern]) => hostMatches(url, pattern));
    if (rule === undefined || (url.protocol !== "https:" && !isLoopback(url))) return next(request);
    const [, credential] = rule;
    // Whether credentials went with the request, never which.
    trace.getActiveSpan()?.setAttribute("islet.outbound.credentials_injected", true);
    const headers = new Headers(request.headers);
    for (const [name, value] of Object.entries(credential.headers ?? {})) headers.set(name, value);
    const query = Object.entries(credential.query ?? {});
    // Derived from the request itself where the URL stays, so what a policy before this one set on
    // it (an undici dispatcher, say) goes on with it.
    let outgoing: Request;
    if (query.length === 0) outgoing = new Request(request, { headers, redirect: "manual" });
    else {
      for (const [name, value] of query) url.searchParams.set(name, value);
      outgoing = new Request(url, { method: request.method, headers, body: request.body, redirect: "manual", signal: request.signal, duplex: "half" } as RequestInit);
    }
    let response: Response;
    try {
      response = await next(outgoing);
    } catch (error) {
      throw redactError(error, redact);
    }
    return redactResponse(response, redact, redactName, query.length === 0 ? undefined : request.url);
  };
}

/**
 * What to look for: each injected value whole (whatever its length), and its secret parts. A
 * header value's parts are its whitespace-, comma-, semicolon- or `=`-separated tokens (quotes stripped) that
 * are at least MIN_PART characters long and not an auth-scheme or parameter word, so
 * `Bearer <token>` redacts `<token>` wherever it appears alone; for `Basic <base64>`, also the
 * decoded `user:password` and the password. Short parts are left alone: a three-letter word in a
 * credential would otherwise redact that word in every header of every response.
 */
const MIN_PART = 8;
const SCHEME_WORDS = new Set(
  ["bearer", "basic", "token", "digest", "negotiate", "ntlm", "bot", "apikey", "api-key", "key", "oauth", "hoba", "mutual", "vapid", "scram-sha-1", "scram-sha-256", "hmac-sha256", "aws4-hmac-sha256", "credential", "signedheaders", "signature", "realm", "username", "password", "nonce", "response", "algorithm", "access_token", "authorization"],
);

function secretParts(value: string, isHeader: boolean): string[] {
  const parts = [value];
  if (!isHeader) return parts;
  const tokens = value.split(/[\s,;]+/).filter((token) => token !== "");
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    // key=value (Digest, AWS SigV4, `token=...`): the value part; also the token whole.
    const pieces = [token, ...token.split("=").filter((piece) => piece !== "")].map((piece) => piece.replace(/^["']+|["']+$/g, ""));
    for (const piece of pieces) if (piece.length >= MIN_PART && !SCHEME_WORDS.has(piece.toLowerCase())) parts.push(piece);
    if (tokens[i].toLowerCase() === "basic" && i + 1 < tokens.length) {
      const decoded = decodeBasic(tokens[i + 1]);
      if (decoded !== undefined) {
        parts.push(decoded);
        const password = decoded.slice(decoded.indexOf(":") + 1);
        if (password.length >= MIN_PART) parts.push(password);
      }
    }
  }
  return parts;
}

function decodeBasic(token: string): string | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return undefined;
  try {
    const decoded = strictUtf8.decode(Buffer.from(token, "base64"));
    return decoded.includes(":") && decoded.length >= MIN_PART ? decoded : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Replaces every spelling of every secret in a string with "[redacted]".
 *
 * Spellings are not listed but decoded: the text is percent-decoded (upper- or lower-case hex,
 * UTF-8 with a Latin-1 fallback for bytes that are not UTF-8) up to MAX_LAYERS times, keeping for
 * each decoded character the span of the original text it came from; `+` and space match each
 * other (form encoding); a secret found in the text or any decoded layer has its original span
 * replaced. So raw, encodeURIComponent, RFC 3986 strict (Go's url.Values.Encode: `*` as `%2A`),
 * lower-case hex, form-encoded, mixed and doubly encoded spellings are all found, where a list of
 * spellings misses every encoder it did not foresee. A secret is also looked for as its UTF-8 bytes
 * read as Latin-1, which is how fetch hands a header an upstream echoed raw.
 */
function redactor(secrets: string[], foldCase = false): (text: string) => string {
  const canonical = (text: string) => (foldCase ? foldedCase(plusAsSpace(text)) : plusAsSpace(text));
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== "string" || secret === "") continue;
    needles.add(canonical(secret));
    const latin1 = Buffer.from(secret, "utf8").toString("latin1");
    if (latin1 !== secret) needles.add(canonical(latin1));
  }
  const ordered = [...needles].sort((x, y) => y.length - x.length);
  if (ordered.length === 0) return (text) => text;
  return (text) => {
    if (typeof text !== "string" || text === "") return text;
    const spans: [number, number][] = [];
    let layer: Layer = { text, starts: Array.from({ length: text.length }, (_, i) => i), ends: Array.from({ length: text.length }, (_, i) => i + 1) };
    for (let depth = 0; ; depth++) {
      const haystack = canonical(layer.text);
      for (const needle of ordered) {
        for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) spans.push([layer.starts[at], layer.ends[at + needle.length - 1]]);
      }
      if (depth === MAX_LAYERS || !/%[0-9A-Fa-f]{2}/.test(layer.text)) break;
      layer = decodeLayer(layer);
    }
    if (spans.length === 0) return text;
    spans.sort((x, y) => x[0] - y[0]);
    let result = "";
    let position = 0;
    for (const [start, end] of spans) {
      if (end <= position) continue;
      result += text.slice(position, Math.max(start, position));
      if (start >= position) result += REDACTED;
      position = end;
    }
    return result + text.slice(position);
  };
}

const MAX_LAYERS = 3;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
interface Layer {
  text: string;
  /** For each character of text, the span [starts[i], ends[i]) of the original it came from. */
  starts: number[];
  ends: number[];
}

/** `+` and space are one character to the matcher (form encoding writes a space as `+`). */
function plusAsSpace(text: string): string {
  return text.replaceAll("+", " ");
}

/** Lower case, code unit by code unit, so that positions still map to the original text (a unit whose lower case is longer stays). */
function foldedCase(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const lower = text[i].toLowerCase();
    out += lower.length === 1 ? lower : text[i];
  }
  return out;
}

/** One round of tolerant percent-decoding; what is not a valid escape stays as it is. */
function decodeLayer(layer: Layer): Layer {
  const { text } = layer;
  const out: string[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  const emit = (chars: string, from: number, to: number) => {
    for (const char of chars) {
      // A character outside the BMP is two code units, each mapped to the whole span.
      for (let unit = 0; unit < char.length; unit++) {
        out.push(char[unit]);
        starts.push(layer.starts[from]);
        ends.push(layer.ends[to - 1]);
      }
    }
  };
  let i = 0;
  while (i < text.length) {
    if (!isEscape(text, i)) {
      emit(text[i], i, i + 1);
      i++;
      continue;
    }
    // A run of escapes: decode its bytes as UTF-8 sequence by sequence, Latin-1 for a byte that is not.
    const bytes: number[] = [];
    let j = i;
    while (isEscape(text, j)) {
      bytes.push(parseInt(text.slice(j + 1, j + 3), 16));
      j += 3;
    }
    let k = 0;
    while (k < bytes.length) {
      const length = utf8Length(bytes, k);
      const from = i + k * 3;
      if (length <= 1) {
        // ASCII, or a byte that starts no UTF-8 sequence: read as Latin-1 (what an ISO-8859-1 encoder wrote).
        emit(String.fromCharCode(bytes[k]), from, from + 3);
        k++;
      } else {
        emit(Buffer.from(bytes.slice(k, k + length)).toString("utf8"), from, from + length * 3);
        k += length;
      }
    }
    i = j;
  }
  return { text: out.join(""), starts, ends };
}

function isEscape(text: string, i: number): boolean {
  return text.charCodeAt(i) === 0x25 && i + 2 < text.length && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3));
}

/** The length of the valid UTF-8 sequence at bytes[k], or 0 if there is none. */
function utf8Length(bytes: number[], k: number): number {
  const lead = bytes[k];
  if (lead < 0x80) return 1;
  const length = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
  if (length === 0 || k + length > bytes.length) return 0;
  try {
    strictUtf8.decode(Uint8Array.from(bytes.slice(k, k + length)));
    return length;
  } catch {
    return 0;
  }
}

/** The response with its headers and status text redacted (a header whose name quotes a secret dropped), and (for a query rule) the caller's own URL. */
function redactResponse(response: Response, redact: (text: string) => string, redactName: (name: string) => string, callerUrl: string | undefined): Response {
  let changed = false;
  const headers = new Headers();
  for (const [name, value] of response.headers) {
    // A header whose name quotes a secret (an upstream answering `x-echo-<token>: 1`) is dropped:
    // "[redacted]" is not a valid header name, and the name is all the sandbox would need.
    if (redactName(name) !== name) {
      changed = true;
      continue;
    }
    const clean = redact(value);
    changed ||= clean !== value;
    headers.append(name, clean);
  }
  const statusText = redact(response.statusText);
  changed ||= statusText !== response.statusText;
  if (!changed && callerUrl === undefined) return response;
  let result = response;
  if (changed) {
    try {
      result = new Response(nullBodyStatus.has(response.status) ? null : response.body, { status: response.status, statusText, headers });
    } catch {
      // A status a Response cannot be built with (1xx other than the null-body ones): keep the status, drop what quoted a secret.
      result = new Response(null, { status: 502, statusText: "Bad Gateway" });
    }
  }
  const url = callerUrl ?? response.url;
  Object.defineProperty(result, "url", { value: redact(url.replace(/#.*$/s, "")), enumerable: true });
  if (response.redirected) Object.defineProperty(result, "redirected", { value: true, enumerable: true });
  return result;
}

/** An error from the rest of the chain (Node's fetch quoting a URL, say), its message redacted. */
function redactError(error: unknown, redact: (text: string) => string): unknown {
  if (!(error instanceof Error)) return typeof error === "string" ? redact(error) : error;
  const message = redact(error.message);
  if (message === error.message) return error;
  try {
    Object.defineProperty(error, "message", { value: message, writable: true, configurable: true, enumerable: false });
    if (error.message === message) return error;
  } catch {
    // A frozen error: a plain copy with its name below.
  }
  const copy = new Error(message);
  copy.name = error.name;
  return copy;
}

// Secrets go only over TLS, except to this machine (tests, local services).
function isLoopback(url: URL): boolean {
  return url.hostname === "localhost" || url.hostname === "127.0.0.1" || url.hostname === "[::1]";
}
