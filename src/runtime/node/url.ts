// node:url: the WHATWG URL classes (from the url chunk), file-URL conversion for POSIX paths,
// domainToASCII/Unicode, url.format for URL objects and urlToHttpOptions. The legacy parser
// (url.parse, url.resolve, Url) is not offered.

import { url as urlChunk } from "../platform.ts";
import { invalidArgType, makeError, missingArgs } from "./errors.ts";
import { resolve } from "./path.ts";
import { validateObject } from "./validators.ts";
import { primordials } from "../primordials.ts";

const { ArrayPrototypeJoin, ArrayPrototypeMap, ArrayPrototypePush, ArrayPrototypeSplice, Boolean, MathFloor, MathMax, Number, ObjectDefineProperty, RangeError, ReflectApply, RegExpPrototypeExec, RegExpPrototypeSymbolReplace, StringFromCodePoint, StringPrototypeCharCodeAt, StringPrototypeEndsWith, StringPrototypeLastIndexOf, StringPrototypeSlice, StringPrototypeSplit, StringPrototypeStartsWith, TypeError, decodeURIComponent } = primordials;

type URLConstructor = ReturnType<typeof urlChunk>["URL"];
type URLLike = InstanceType<URLConstructor>;
const URLClass = (): URLConstructor => urlChunk().URL;

function isURL(value: unknown): value is URLLike {
  return value instanceof URLClass();
}

export function fileURLToPath(input: unknown, options?: { windows?: boolean }): string {
  if (options?.windows) throw makeError(TypeError, "ERR_INVALID_ARG_VALUE", "Windows file paths are not available in the sandbox.");
  const url = typeof input === "string" ? new (URLClass())(input) : input;
  if (!isURL(url)) throw invalidArgType("path", ["string", "URL"], input);
  if (url.protocol !== "file:") throw makeError(TypeError, "ERR_INVALID_URL_SCHEME", "The URL must be of scheme file");
  if (url.hostname !== "") throw makeError(TypeError, "ERR_INVALID_FILE_URL_HOST", 'File URL host must be "localhost" or empty on linux');
  const pathname = url.pathname;
  for (let i = 0; i < pathname.length; i++) {
    if (pathname[i] === "%" && pathname[i + 1] === "2" && (StringPrototypeCharCodeAt(pathname, i + 2) | 0x20) === 102) {
      throw makeError(TypeError, "ERR_INVALID_FILE_URL_PATH", "File URL path must not include encoded / characters");
    }
  }
  return decodeURIComponent(pathname);
}

export function pathToFileURL(filepath: unknown, options?: { windows?: boolean }): URLLike {
  if (options?.windows) throw makeError(TypeError, "ERR_INVALID_ARG_VALUE", "Windows file paths are not available in the sandbox.");
  let resolved = resolve(filepath as string);
  // resolve() drops a trailing slash, which is meaningful in a URL.
  if (StringPrototypeEndsWith((filepath as string), "/") && !StringPrototypeEndsWith(resolved, "/")) resolved += "/";
  const encoded = RegExpPrototypeSymbolReplace(/#/g, RegExpPrototypeSymbolReplace(/\?/g, RegExpPrototypeSymbolReplace(/\t/g, RegExpPrototypeSymbolReplace(/\r/g, RegExpPrototypeSymbolReplace(/\n/g, RegExpPrototypeSymbolReplace(/\\/g, RegExpPrototypeSymbolReplace(/%/g, resolved, "%25"), "%5C"), "%0A"), "%0D"), "%09"), "%3F"), "%23");
  return new (URLClass())(`file://${encoded}`);
}

/** Sets `domain` as the host of two different URLs: a rejected host leaves them different. */
export function domainToASCII(...args: unknown[]): string {
  if (args.length < 1) throw missingArgs("domain");
  const domain = `${args[0] as string}`;
  if (domain === "") return "";
  const URLCtor = URLClass();
  const a = new URLCtor("ws://x");
  const b = new URLCtor("ws://y");
  a.hostname = domain;
  b.hostname = domain;
  return a.hostname === b.hostname ? a.hostname : "";
}

const BASE = 36;
const T_MIN = 1;
const T_MAX = 26;

function adapt(deltaArg: number, points: number, first: boolean): number {
  let delta = first ? MathFloor(deltaArg / 700) : deltaArg >> 1;
  delta += MathFloor(delta / points);
  let k = 0;
  for (; delta > ((BASE - T_MIN) * T_MAX) >> 1; k += BASE) delta = MathFloor(delta / (BASE - T_MIN));
  return MathFloor(k + ((BASE - T_MIN + 1) * delta) / (delta + 38));
}

/** RFC 3492 decoding of one "xn--" label's payload. */
function punycodeDecode(input: string): string {
  const output: number[] = [];
  const basic = MathMax(StringPrototypeLastIndexOf(input, "-"), 0);
  for (let j = 0; j < basic; j++) ArrayPrototypePush(output, StringPrototypeCharCodeAt(input, j));
  let n = 128;
  let bias = 72;
  let i = 0;
  for (let index = basic > 0 ? basic + 1 : 0; index < input.length; ) {
    const oldI = i;
    for (let w = 1, k = BASE; ; k += BASE) {
      if (index >= input.length) throw new RangeError("Invalid punycode");
      const code = StringPrototypeCharCodeAt(input, index++);
      const digit = code - 48 < 10 ? code - 22 : code - 65 < 26 ? code - 65 : code - 97 < 26 ? code - 97 : BASE;
      if (digit >= BASE) throw new RangeError("Invalid punycode");
      i += digit * w;
      const t = k <= bias ? T_MIN : k >= bias + T_MAX ? T_MAX : k - bias;
      if (digit < t) break;
      w *= BASE - t;
    }
    const length = output.length + 1;
    bias = adapt(i - oldI, length, oldI === 0);
    n += MathFloor(i / length);
    i %= length;
    ArrayPrototypeSplice(output, i++, 0, n);
  }
  return ReflectApply(StringFromCodePoint, undefined, output);
}

export function domainToUnicode(...args: unknown[]): string {
  if (args.length < 1) throw missingArgs("domain");
  const ascii = domainToASCII(args[0]);
  if (ascii === "") return "";
  return ArrayPrototypeJoin(ArrayPrototypeMap(StringPrototypeSplit(ascii, "."), (label) => {
      if (!StringPrototypeStartsWith(label, "xn--")) return label;
      // Node 24 (ada) keeps a label whose decoding is not a valid IDNA label as it is: the
      // decoding must be non-ASCII and encode back to the same label.
      let decoded: string;
      try {
        decoded = punycodeDecode(StringPrototypeSlice(label, 4));
      } catch {
        return label;
      }
      return (RegExpPrototypeExec(/[^\x00-\x7f]/, decoded) !== null) && domainToASCII(decoded) === label ? decoded : label;
    }), ".");
}

/** url.format(URL, { auth, fragment, search, unicode }); other inputs need the legacy parser. */
export function format(urlObject: unknown, options?: unknown): string {
  if (!isURL(urlObject)) throw invalidArgType("urlObject", ["URL"], urlObject);
  let fragment = true;
  let unicode = false;
  let search = true;
  let auth = true;
  if (options !== undefined) {
    validateObject(options, "options");
    const o = options as Record<string, unknown>;
    if (o.fragment != null) fragment = Boolean(o.fragment);
    if (o.unicode != null) unicode = Boolean(o.unicode);
    if (o.search != null) search = Boolean(o.search);
    if (o.auth != null) auth = Boolean(o.auth);
  }
  const copy = new (URLClass())(urlObject.href);
  if (!fragment) copy.hash = "";
  if (!search) copy.search = "";
  if (!auth) {
    copy.username = "";
    copy.password = "";
  }
  if (!unicode || copy.host === "") return copy.href;
  const userinfo = copy.username || copy.password ? `${copy.username}${copy.password ? `:${copy.password}` : ""}@` : "";
  const host = domainToUnicode(copy.hostname) || copy.hostname;
  return `${copy.protocol}//${userinfo}${host}${copy.port ? `:${copy.port}` : ""}${copy.pathname}${copy.search}${copy.hash}`;
}

export function urlToHttpOptions(url: URLLike & Record<string, unknown>): Record<string, unknown> {
  const { hostname, pathname, port, username, password, search } = url;
  const options: Record<string, unknown> = {
    __proto__: null,
    ...url,
    protocol: url.protocol,
    hostname: hostname && hostname[0] === "[" ? StringPrototypeSlice(hostname, 1, -1) : hostname,
    hash: url.hash,
    search,
    pathname,
    path: `${pathname || ""}${search || ""}`,
    href: url.href,
  };
  if (port !== "") options.port = Number(port);
  if (username || password) options.auth = `${decodeURIComponent(username)}:${decodeURIComponent(password)}`;
  return options;
}

export function createUrlModule(): Record<string, unknown> {
  const module: Record<string, unknown> = { format, domainToASCII, domainToUnicode, pathToFileURL, fileURLToPath, urlToHttpOptions };
  // The url chunk's classes, loaded when first read.
  for (let i62 = 0, a62 = ["URL", "URLSearchParams"] as const; i62 < a62.length; i62++) {
    const name = a62[i62];
    ObjectDefineProperty(module, name, { get: () => urlChunk()[name], enumerable: true, configurable: true });
  }
  return module;
}
