// What `islet run` shows of an error's stack: the user's own frames, at their places in the files
// they wrote. The worker runs one bundle esbuild made of those files, so V8's positions are the
// bundle's: they are mapped back through the bundle's inline source map (node:module's SourceMap).
// islet's frames, the runtime's inside the sandbox (`islet:runtime.js`, minified) and the host's
// (`dist/…`, `node:internal/…`), say nothing about the user's code and are left out.

import { SourceMap, type SourceMapPayload } from "node:module";

const INLINE_MAP = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/;

/** A frame of islet or Node, not of the user's code. */
function isletFrame(line: string): boolean {
  return /\(?(islet:[\w./-]*|node:[\w/]+|file:\/\/\S+|\/\S*\/(dist|src|node_modules)\/\S+)/.test(line) && /^\s+at /.test(line);
}

/** The stack with islet's frames dropped and the bundle's positions (`name:line:col`) mapped to the user's files. */
export function userStack(stack: string, bundleSource: string, bundleName: string): string {
  let map: SourceMap | undefined;
  const inline = INLINE_MAP.exec(bundleSource);
  if (inline !== null) {
    try {
      map = new SourceMap(JSON.parse(Buffer.from(inline[1], "base64").toString("utf8")) as SourceMapPayload);
    } catch {
      map = undefined;
    }
  }
  const escaped = bundleName.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const position = new RegExp(`${escaped}:(\\d+):(\\d+)`, "g");
  const out: string[] = [];
  for (const line of stack.split("\n")) {
    if (isletFrame(line)) continue;
    out.push(
      map === undefined
        ? line
        : line.replace(position, (whole, row: string, column: string) => {
            const entry = map!.findEntry(Number(row) - 1, Number(column) - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number };
            if (entry.originalSource === undefined || entry.originalLine === undefined) return whole;
            return `${entry.originalSource}:${entry.originalLine + 1}:${(entry.originalColumn ?? 0) + 1}`;
          }),
    );
  }
  return out.join("\n");
}
