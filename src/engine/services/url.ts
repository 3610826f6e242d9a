// WHATWG URL parsing for the sandbox by Node's own parser (ada): the sandbox sends strings and
// receives the parsed components as a plain array, so it gets a conformant URL without carrying
// a parser (and its IDNA tables) in every isolate.

import { stringArg, type SyncService } from "./index.ts";

const MAX_URL_CHARS = 1 << 21;

/** The order of this array is the contract with src/runtime/web/url/url.ts. */
export type UrlComponents = [href: string, origin: string, protocol: string, username: string, password: string, host: string, hostname: string, port: string, pathname: string, search: string, hash: string];

function components(url: URL): UrlComponents {
  return [url.href, url.origin, url.protocol, url.username, url.password, url.host, url.hostname, url.port, url.pathname, url.search, url.hash];
}

function parse(input: unknown, base: unknown): URL | null {
  const text = stringArg(input, "The URL", MAX_URL_CHARS);
  if (base === undefined || base === null) return URL.canParse(text) ? new URL(text) : null;
  const baseText = stringArg(base, "The base URL", MAX_URL_CHARS);
  return URL.canParse(text, baseText) ? new URL(text, baseText) : null;
}

const settable = new Set(["href", "protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "hash"]);

export const urlServices: Record<string, SyncService> = {
  /** Returns the components, or null when the input is not a valid URL. */
  "url.parse"(_state, [input, base]) {
    const url = parse(input, base);
    return url === null ? null : components(url);
  },
  /** Applies one setter to a valid href; returns the new components (null: href setter failed). */
  "url.set"(_state, [href, property, value]) {
    const url = parse(href, undefined);
    if (url === null) throw new TypeError("Invalid URL");
    if (typeof property !== "string" || !settable.has(property)) throw new TypeError("Unknown URL property.");
    const text = stringArg(value, "The value", MAX_URL_CHARS);
    if (property === "href") return URL.canParse(text) ? components(new URL(text)) : null;
    (url as unknown as Record<string, string>)[property] = text;
    return components(url);
  },
};
