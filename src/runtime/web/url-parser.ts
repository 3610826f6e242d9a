// The sandbox has no URL class, so Request and Response go through this hook. The default only
// insists on an absolute URL; the runtime can plug in a full WHATWG URL parser later.

/** Parses `input` (against `base`, if given) and returns the serialized URL, or throws a TypeError. */
export type UrlParser = (input: string, base?: string) => string;

const ABSOLUTE_URL = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;

function requireScheme(input: string): string {
  // The URL parser ignores leading and trailing C0 controls and spaces.
  const trimmed = input.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, "");
  if (!ABSOLUTE_URL.test(trimmed)) throw new TypeError(`Invalid URL: ${input}`);
  return trimmed;
}

let parser: UrlParser = requireScheme;

/** Installs a URL parser; called without one, it restores the default scheme check. */
export function setUrlParser(fn?: UrlParser): void {
  parser = fn ?? requireScheme;
}

export function parseUrl(input: string, base?: string): string {
  return parser(input, base);
}
