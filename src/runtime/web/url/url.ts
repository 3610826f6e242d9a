// The URL class (WHATWG URL §6.1). Parsing and every setter go to Node's parser on the host
// through a copy-only service (engine/services/url.ts); this class keeps the resulting components.

import { brandPlatformObject, host } from "../../platform.ts";
import { requireArguments } from "../webidl.ts";
import { URLSearchParams, linkSearchParams, resetSearchParams, toUsvString } from "./search-params.ts";
import { primordials, SymbolToStringTag } from "../../primordials.ts";

const { Map, MapPrototypeClear, MapPrototypeGet, MapPrototypeGetSize, MapPrototypeSet, ObjectDefineProperty, String, StringPrototypeSlice, TypeError, WeakMap, WeakMapPrototypeGet, WeakMapPrototypeSet } = primordials;

type Components = [href: string, origin: string, protocol: string, username: string, password: string, host: string, hostname: string, port: string, pathname: string, search: string, hash: string];
const enum Part {
  Href,
  Origin,
  Protocol,
  Username,
  Password,
  Host,
  Hostname,
  Port,
  Pathname,
  Search,
  Hash,
}

interface State {
  parts: Components;
  params: URLSearchParams | undefined;
}

const states = new WeakMap<URL, State>();

function state(url: URL): State {
  const value = WeakMapPrototypeGet(states, url);
  if (value === undefined) throw new TypeError("Illegal invocation");
  return value;
}

function parse(input: string, base?: string): Components | null {
  return host("url.parse", input, base) as Components | null;
}

function invalid(input: string): TypeError {
  const error = new TypeError(`Invalid URL: ${input.length > 200 ? StringPrototypeSlice(input, 0, 200) + "…" : input}`);
  (error as { code?: string }).code = "ERR_INVALID_URL";
  return error;
}

function set(url: URL, property: string, value: unknown): void {
  const current = state(url);
  const next = host("url.set", current.parts[Part.Href], property, toUsvString(value)) as Components | null;
  if (next === null) throw invalid(String(value));
  const searchChanged = next[Part.Search] !== current.parts[Part.Search];
  current.parts = next;
  if (searchChanged && current.params !== undefined) resetSearchParams(current.params, StringPrototypeSlice(next[Part.Search], 1));
}

export class URL {
  constructor(url: string, base?: string) {
    brandPlatformObject(this, "URL");
    requireArguments(arguments.length, 1, "URL constructor");
    const input = toUsvString(url);
    const parts = parse(input, base === undefined ? undefined : toUsvString(base));
    if (parts === null) throw invalid(input);
    WeakMapPrototypeSet(states, this, { parts, params: undefined });
  }

  static canParse(url: string, base?: string): boolean {
    requireArguments(arguments.length, 1, "URL.canParse");
    return parse(toUsvString(url), base === undefined ? undefined : toUsvString(base)) !== null;
  }

  static parse(url: string, base?: string): URL | null {
    requireArguments(arguments.length, 1, "URL.parse");
    try {
      return new URL(url, base);
    } catch {
      return null;
    }
  }

  get href(): string {
    return state(this).parts[Part.Href];
  }
  set href(value: string) {
    set(this, "href", value);
  }
  get origin(): string {
    return state(this).parts[Part.Origin];
  }
  get protocol(): string {
    return state(this).parts[Part.Protocol];
  }
  set protocol(value: string) {
    set(this, "protocol", value);
  }
  get username(): string {
    return state(this).parts[Part.Username];
  }
  set username(value: string) {
    set(this, "username", value);
  }
  get password(): string {
    return state(this).parts[Part.Password];
  }
  set password(value: string) {
    set(this, "password", value);
  }
  get host(): string {
    return state(this).parts[Part.Host];
  }
  set host(value: string) {
    set(this, "host", value);
  }
  get hostname(): string {
    return state(this).parts[Part.Hostname];
  }
  set hostname(value: string) {
    set(this, "hostname", value);
  }
  get port(): string {
    return state(this).parts[Part.Port];
  }
  set port(value: string) {
    set(this, "port", value);
  }
  get pathname(): string {
    return state(this).parts[Part.Pathname];
  }
  set pathname(value: string) {
    set(this, "pathname", value);
  }
  get search(): string {
    return state(this).parts[Part.Search];
  }
  set search(value: string) {
    set(this, "search", value);
  }
  get hash(): string {
    return state(this).parts[Part.Hash];
  }
  set hash(value: string) {
    set(this, "hash", value);
  }

  get searchParams(): URLSearchParams {
    const current = state(this);
    if (current.params === undefined) {
      const params = new URLSearchParams(current.parts[Part.Search]);
      linkSearchParams(params, (serialized) => {
        const next = host("url.set", current.parts[Part.Href], "search", serialized) as Components;
        // An empty list sets the query to null, which the search setter does for "".
        current.parts = next;
      });
      current.params = params;
    }
    return current.params;
  }

  toString(): string {
    return state(this).parts[Part.Href];
  }

  toJSON(): string {
    return state(this).parts[Part.Href];
  }

  get [SymbolToStringTag](): string {
    return "URL";
  }
}

for (let i2 = 0, a2 = ["href", "origin", "protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "hash", "searchParams"]; i2 < a2.length; i2++) {
  const name = a2[i2];
  ObjectDefineProperty(URL.prototype, name, { enumerable: true });
}

/** The serialized URL, or a TypeError: what Request and Response use to parse URLs. */
// Request and Response parse their URL on every construction, usually the same few URLs: each
// parse is a synchronous trip to the host, so serializations of valid base-less inputs are kept.
const HREF_CACHE_SIZE = 64;
const hrefCache = new Map<string, string>();

export function parseHref(input: string, base?: string): string {
  if (base === undefined) {
    const cached = MapPrototypeGet(hrefCache, input);
    if (cached !== undefined) return cached;
  }
  const parts = parse(input, base);
  if (parts === null) throw invalid(input);
  const href = parts[Part.Href];
  if (base === undefined) {
    if (MapPrototypeGetSize(hrefCache) >= HREF_CACHE_SIZE) MapPrototypeClear(hrefCache);
    MapPrototypeSet(hrefCache, input, href);
  }
  return href;
}
