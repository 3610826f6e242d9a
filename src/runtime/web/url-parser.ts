// Request and Response parse URLs with the url chunk's parser (Node's WHATWG parser on the host).
// The hook lets the differential tests, which run these classes in Node, plug in another one.

import { url } from "../platform.ts";

/** Parses `input` (against `base`, if given) and returns the serialized URL, or throws a TypeError. */
export type UrlParser = (input: string, base?: string) => string;

const whatwg: UrlParser = (input, base) => url().parseHref(input, base);
let parser: UrlParser = whatwg;

/** Installs a URL parser; called without one, it restores the WHATWG parser. */
export function setUrlParser(fn?: UrlParser): void {
  parser = fn ?? whatwg;
}

export function parseUrl(input: string, base?: string): string {
  return parser(input, base);
}
