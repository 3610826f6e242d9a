// The Encoding Standard's index tables for a sandbox's TextDecoder (legacy single-byte and CJK
// encodings). The sandbox decodes on its own thread, under its own cpuMs and memoryMb; the host
// only hands it a copy of a table, once per table per sandbox, on first use. Tables are read from
// dist/encoding-indexes/ (scripts/encoding-indexes.mjs) the first time any sandbox of this process
// asks, and kept: about 210 KB for all of them.

import { readFileSync } from "node:fs";
import { ENCODING_INDEX_SERVICE, SINGLE_BYTE_ENCODINGS } from "../../protocol/encoding-indexes.ts";
import type { SyncService } from "./index.ts";

/** Every table's number of entries; "gb18030-ranges" holds (pointer, code point) pairs. */
const SIZES: ReadonlyMap<string, number> = new Map<string, number>([
  ...SINGLE_BYTE_ENCODINGS.map((name): [string, number] => [name, 128]),
  ["jis0208", 11104],
  ["jis0212", 7211],
  ["euc-kr", 23750],
  ["gb18030", 23940],
  ["gb18030-ranges", -1],
  ["big5", 19782],
]);

const tables = new Map<string, Uint16Array | Uint32Array>();

function load(name: string): Uint16Array | Uint32Array {
  let table = tables.get(name);
  if (table !== undefined) return table;
  const url = new URL(`../../../dist/encoding-indexes/${name}.bin`, import.meta.url);
  let file: Buffer;
  try {
    file = readFileSync(url);
  } catch {
    throw new Error(`islet: the encoding index ${name} is not built (${url.pathname} is missing). Run: npm run build`);
  }
  const wide = name === "big5" || name === "gb18030-ranges";
  const width = wide ? 4 : 2;
  const size = SIZES.get(name)!;
  if (file.length % width !== 0 || (size >= 0 && file.length !== size * width)) throw new Error(`islet: the encoding index ${name} is corrupt.`);
  table = wide ? new Uint32Array(file.length / 4) : new Uint16Array(file.length / 2);
  for (let i = 0; i < table.length; i++) table[i] = wide ? file.readUInt32LE(i * 4) : file.readUInt16LE(i * 2);
  tables.set(name, table);
  return table;
}

export const encodingServices: Record<string, SyncService> = {
  /** A copy of one index table (the isolate receives its own copy of the returned array). */
  [ENCODING_INDEX_SERVICE](_state, [name]) {
    if (typeof name !== "string" || !SIZES.has(name)) throw new TypeError("Unknown encoding index.");
    return load(name).slice();
  },
};
