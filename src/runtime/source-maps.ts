// Stack traces that point at the user's TypeScript: the host transpiles .ts modules and hands
// their source-map mappings here; the first error whose stack is formatted in such a sandbox is
// formatted through V8's prepareStackTrace hook, which rewrites each frame's position of a mapped
// module to the original line and column. Sandboxes without TypeScript never install the hook.

import { primordials } from "./primordials.ts";

const { Error, Int32Array, Int8Array, Map } = primordials;

const mappingsByFile = new Map<string, string>();
const decodedByFile = new Map<string, Int32Array[]>();

// Captured now: user code may replace these globals later.
const errorToString = Error.prototype.toString;
const ErrorConstructor = Error;

/** Registers the mappings of one transpiled module (its file name as V8 reports it). */
export function addSourceMap(file: string, mappings: string): void {
  mappingsByFile.set(file, mappings);
  if (mappingsByFile.size === 1 && (ErrorConstructor as { prepareStackTrace?: unknown }).prepareStackTrace === undefined) {
    (ErrorConstructor as { prepareStackTrace?: unknown }).prepareStackTrace = formatStack;
  }
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const digitOf = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE64.length; i++) digitOf[BASE64.charCodeAt(i)] = i;

/** Decodes source-map v3 mappings into, per generated line, flat [genCol, srcLine, srcCol] triples. */
function decode(mappings: string): Int32Array[] {
  const lines: Int32Array[] = [];
  let segment: number[] = [];
  let line: number[] = [];
  let srcLine = 0;
  let srcCol = 0;
  let genCol = 0;
  let value = 0;
  let shift = 0;
  const flushSegment = () => {
    if (segment.length >= 4) {
      genCol += segment[0];
      srcLine += segment[2];
      srcCol += segment[3];
      line.push(genCol, srcLine, srcCol);
    } else if (segment.length >= 1) {
      genCol += segment[0];
    }
    segment = [];
  };
  for (let i = 0; i <= mappings.length; i++) {
    const code = i < mappings.length ? mappings.charCodeAt(i) : 59; // ';' ends the last line
    if (code === 44 || code === 59) {
      flushSegment();
      if (code === 59) {
        lines.push(Int32Array.from(line));
        line = [];
        genCol = 0;
      }
      continue;
    }
    const digit = code < 128 ? digitOf[code] : -1;
    if (digit < 0) break;
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      segment.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return lines;
}

/** Maps a 1-based generated position to a 1-based original one, or undefined. */
export function originalPosition(file: string, line: number, column: number): [line: number, column: number] | undefined {
  let decoded = decodedByFile.get(file);
  if (decoded === undefined) {
    const mappings = mappingsByFile.get(file);
    if (mappings === undefined) return undefined;
    decoded = decode(mappings);
    decodedByFile.set(file, decoded);
  }
  const segments = decoded[line - 1];
  if (segments === undefined || segments.length === 0) return undefined;
  const col = column - 1;
  let best = -1;
  for (let i = 0; i < segments.length; i += 3) {
    if (segments[i] > col) break;
    best = i;
  }
  if (best === -1) best = 0;
  return [segments[best + 1] + 1, segments[best + 2] + 1];
}

interface CallSite {
  getFileName(): string | null | undefined;
  getLineNumber(): number | null;
  getColumnNumber(): number | null;
  toString(): string;
}

function formatStack(error: unknown, frames: CallSite[]): string {
  let header: string;
  try {
    header = errorToString.call(error);
  } catch {
    header = "Error";
  }
  let stack = header;
  for (const frame of frames) {
    let text: string;
    try {
      text = frame.toString();
      const file = frame.getFileName();
      const line = frame.getLineNumber();
      const column = frame.getColumnNumber();
      if (file && line !== null && column !== null && mappingsByFile.has(file)) {
        const original = originalPosition(file, line, column);
        if (original !== undefined) {
          const generated = `${file}:${line}:${column}`;
          const at = text.lastIndexOf(generated);
          if (at !== -1) text = text.slice(0, at) + `${file}:${original[0]}:${original[1]}` + text.slice(at + generated.length);
        }
      }
    } catch {
      text = "<error>";
    }
    stack += "\n    at " + text;
  }
  return stack;
}
