// node:path (POSIX). The sandbox's working directory is "/", so resolve() of relative paths
// starts there. path.win32 is not provided.

import { validateObject, validateString } from "./validators.ts";
import { primordials } from "../primordials.ts";

const { StringPrototypeCharCodeAt, StringPrototypeEndsWith, StringPrototypeLastIndexOf, StringPrototypeSlice } = primordials;

const SLASH = 47;
const DOT = 46;

/** Resolves "." and ".." segments; `allowAboveRoot` keeps leading ".." of relative paths. */
function normalizeString(path: string, allowAboveRoot: boolean): string {
  let result = "";
  let lastSegmentLength = 0;
  let lastSlash = -1;
  let dots = 0;
  let code = 0;
  for (let i = 0; i <= path.length; ++i) {
    if (i < path.length) code = StringPrototypeCharCodeAt(path, i);
    else if (code === SLASH) break;
    else code = SLASH;
    if (code === SLASH) {
      if (lastSlash === i - 1 || dots === 1) {
        // An empty or "." segment.
      } else if (dots === 2) {
        if (result.length < 2 || lastSegmentLength !== 2 || !StringPrototypeEndsWith(result, "..")) {
          if (result.length > 2) {
            const index = StringPrototypeLastIndexOf(result, "/");
            if (index === -1) {
              result = "";
              lastSegmentLength = 0;
            } else {
              result = StringPrototypeSlice(result, 0, index);
              lastSegmentLength = result.length - 1 - StringPrototypeLastIndexOf(result, "/");
            }
            lastSlash = i;
            dots = 0;
            continue;
          } else if (result.length !== 0) {
            result = "";
            lastSegmentLength = 0;
            lastSlash = i;
            dots = 0;
            continue;
          }
        }
        if (allowAboveRoot) {
          result += result.length > 0 ? "/.." : "..";
          lastSegmentLength = 2;
        }
      } else {
        if (result.length > 0) result += `/${StringPrototypeSlice(path, lastSlash + 1, i)}`;
        else result = StringPrototypeSlice(path, lastSlash + 1, i);
        lastSegmentLength = i - lastSlash - 1;
      }
      lastSlash = i;
      dots = 0;
    } else if (code === DOT && dots !== -1) ++dots;
    else dots = -1;
  }
  return result;
}

export function resolve(...args: string[]): string {
  let resolved = "";
  let absolute = false;
  for (let i = args.length - 1; i >= -1 && !absolute; i--) {
    const path = i >= 0 ? args[i] : "/";
    validateString(path, `paths[${i}]`);
    if (path.length === 0) continue;
    resolved = `${path}/${resolved}`;
    absolute = StringPrototypeCharCodeAt(path, 0) === SLASH;
  }
  resolved = normalizeString(resolved, !absolute);
  if (absolute) return `/${resolved}`;
  return resolved.length > 0 ? resolved : ".";
}

export function normalize(path: string): string {
  validateString(path, "path");
  if (path.length === 0) return ".";
  const absolute = StringPrototypeCharCodeAt(path, 0) === SLASH;
  const trailingSeparator = StringPrototypeCharCodeAt(path, path.length - 1) === SLASH;
  let normalized = normalizeString(path, !absolute);
  if (normalized.length === 0) {
    if (absolute) return "/";
    return trailingSeparator ? "./" : ".";
  }
  if (trailingSeparator) normalized += "/";
  return absolute ? `/${normalized}` : normalized;
}

export function isAbsolute(path: string): boolean {
  validateString(path, "path");
  return path.length > 0 && StringPrototypeCharCodeAt(path, 0) === SLASH;
}

export function join(...args: string[]): string {
  if (args.length === 0) return ".";
  let joined: string | undefined;
  for (let i63 = 0, a63 = args; i63 < a63.length; i63++) {
    const arg = a63[i63];
    validateString(arg, "path");
    if (arg.length > 0) joined = joined === undefined ? arg : `${joined}/${arg}`;
  }
  return joined === undefined ? "." : normalize(joined);
}

export function relative(fromArg: string, toArg: string): string {
  validateString(fromArg, "from");
  validateString(toArg, "to");
  if (fromArg === toArg) return "";
  const from = resolve(fromArg);
  const to = resolve(toArg);
  if (from === to) return "";
  const fromStart = 1;
  const fromEnd = from.length;
  const fromLength = fromEnd - fromStart;
  const toStart = 1;
  const toLength = to.length - toStart;
  const length = fromLength < toLength ? fromLength : toLength;
  let lastCommonSep = -1;
  let i = 0;
  for (; i < length; i++) {
    const code = StringPrototypeCharCodeAt(from, fromStart + i);
    if (code !== StringPrototypeCharCodeAt(to, toStart + i)) break;
    else if (code === SLASH) lastCommonSep = i;
  }
  if (i === length) {
    if (toLength > length) {
      if (StringPrototypeCharCodeAt(to, toStart + i) === SLASH) return StringPrototypeSlice(to, toStart + i + 1);
      if (i === 0) return StringPrototypeSlice(to, toStart + i);
    } else if (fromLength > length) {
      if (StringPrototypeCharCodeAt(from, fromStart + i) === SLASH) lastCommonSep = i;
      else if (i === 0) lastCommonSep = 0;
    }
  }
  let out = "";
  for (i = fromStart + lastCommonSep + 1; i <= fromEnd; ++i) {
    if (i === fromEnd || StringPrototypeCharCodeAt(from, i) === SLASH) out += out.length === 0 ? ".." : "/..";
  }
  return `${out}${StringPrototypeSlice(to, toStart + lastCommonSep)}`;
}

export function toNamespacedPath(path: string): string {
  return path;
}

export function dirname(path: string): string {
  validateString(path, "path");
  if (path.length === 0) return ".";
  const hasRoot = StringPrototypeCharCodeAt(path, 0) === SLASH;
  let end = -1;
  let matchedSlash = true;
  for (let i = path.length - 1; i >= 1; --i) {
    if (StringPrototypeCharCodeAt(path, i) === SLASH) {
      if (!matchedSlash) {
        end = i;
        break;
      }
    } else matchedSlash = false;
  }
  if (end === -1) return hasRoot ? "/" : ".";
  if (hasRoot && end === 1) return "//";
  return StringPrototypeSlice(path, 0, end);
}

export function basename(path: string, suffix?: string): string {
  if (suffix !== undefined) validateString(suffix, "ext");
  validateString(path, "path");
  let start = 0;
  let end = -1;
  let matchedSlash = true;
  if (suffix !== undefined && suffix.length > 0 && suffix.length <= path.length) {
    if (suffix === path) return "";
    let suffixIndex = suffix.length - 1;
    let firstNonSlashEnd = -1;
    for (let i = path.length - 1; i >= 0; --i) {
      const code = StringPrototypeCharCodeAt(path, i);
      if (code === SLASH) {
        if (!matchedSlash) {
          start = i + 1;
          break;
        }
      } else {
        if (firstNonSlashEnd === -1) {
          matchedSlash = false;
          firstNonSlashEnd = i + 1;
        }
        if (suffixIndex >= 0) {
          if (code === StringPrototypeCharCodeAt(suffix, suffixIndex)) {
            if (--suffixIndex === -1) end = i;
          } else {
            suffixIndex = -1;
            end = firstNonSlashEnd;
          }
        }
      }
    }
    if (start === end) end = firstNonSlashEnd;
    else if (end === -1) end = path.length;
    return StringPrototypeSlice(path, start, end);
  }
  for (let i = path.length - 1; i >= 0; --i) {
    if (StringPrototypeCharCodeAt(path, i) === SLASH) {
      if (!matchedSlash) {
        start = i + 1;
        break;
      }
    } else if (end === -1) {
      matchedSlash = false;
      end = i + 1;
    }
  }
  return end === -1 ? "" : StringPrototypeSlice(path, start, end);
}

/** Where the last component's extension starts, as [startPart, startDot, end] (-1: none). */
function scanLastComponent(path: string, start: number): { startPart: number; startDot: number; end: number; preDotState: number } {
  let startDot = -1;
  let startPart = 0;
  let end = -1;
  let matchedSlash = true;
  let preDotState = 0;
  for (let i = path.length - 1; i >= start; --i) {
    const code = StringPrototypeCharCodeAt(path, i);
    if (code === SLASH) {
      if (!matchedSlash) {
        startPart = i + 1;
        break;
      }
      continue;
    }
    if (end === -1) {
      matchedSlash = false;
      end = i + 1;
    }
    if (code === DOT) {
      if (startDot === -1) startDot = i;
      else if (preDotState !== 1) preDotState = 1;
    } else if (startDot !== -1) preDotState = -1;
  }
  return { startPart, startDot, end, preDotState };
}

function hasNoExtension(scan: { startPart: number; startDot: number; end: number; preDotState: number }): boolean {
  const { startPart, startDot, end, preDotState } = scan;
  return startDot === -1 || end === -1 || preDotState === 0 || (preDotState === 1 && startDot === end - 1 && startDot === startPart + 1);
}

export function extname(path: string): string {
  validateString(path, "path");
  const scan = scanLastComponent(path, 0);
  return hasNoExtension(scan) ? "" : StringPrototypeSlice(path, scan.startDot, scan.end);
}

interface ParsedPath {
  root: string;
  dir: string;
  base: string;
  ext: string;
  name: string;
}

export function format(pathObject: Partial<ParsedPath>): string {
  validateObject(pathObject, "pathObject");
  const dir = pathObject.dir || pathObject.root;
  const ext = pathObject.ext ? `${pathObject.ext[0] === "." ? "" : "."}${pathObject.ext}` : "";
  const base = pathObject.base || `${pathObject.name || ""}${ext}`;
  if (!dir) return base;
  return dir === pathObject.root ? `${dir}${base}` : `${dir}/${base}`;
}

export function parse(path: string): ParsedPath {
  validateString(path, "path");
  const result: ParsedPath = { root: "", dir: "", base: "", ext: "", name: "" };
  if (path.length === 0) return result;
  const absolute = StringPrototypeCharCodeAt(path, 0) === SLASH;
  if (absolute) result.root = "/";
  const scan = scanLastComponent(path, absolute ? 1 : 0);
  const { startPart, startDot, end } = scan;
  if (end !== -1) {
    const start = startPart === 0 && absolute ? 1 : startPart;
    if (hasNoExtension(scan)) result.base = result.name = StringPrototypeSlice(path, start, end);
    else {
      result.name = StringPrototypeSlice(path, start, startDot);
      result.base = StringPrototypeSlice(path, start, end);
      result.ext = StringPrototypeSlice(path, startDot, end);
    }
  }
  if (startPart > 0) result.dir = StringPrototypeSlice(path, 0, startPart - 1);
  else if (absolute) result.dir = "/";
  return result;
}

export function createPathModule(): Record<string, unknown> {
  const posix: Record<string, unknown> = {
    resolve,
    normalize,
    isAbsolute,
    join,
    relative,
    toNamespacedPath,
    dirname,
    basename,
    extname,
    format,
    parse,
    sep: "/",
    delimiter: ":",
    _makeLong: toNamespacedPath,
  };
  posix.posix = posix;
  return posix;
}
