// Writes the Encoding Standard's index tables that a sandbox's TextDecoder needs for the legacy
// encodings (dist/encoding-indexes/<name>.bin, served by src/engine/services/encoding.ts).
//
// The tables are read off a decoder that passes the web-platform-tests' encoding suite,
// @exodus/bytes (a devDependency, pinned), through its public TextDecoder only: each table entry is
// what that decoder makes of the byte sequence the standard assigns to the entry's pointer, in
// fatal mode (an error is an empty entry, 0). Each index is read through the encoding that reaches
// all of it (jis0208 through EUC-JP and Shift_JIS, jis0212 through EUC-JP's 0x8F sequences), and
// where two encodings reach the same entries they must agree, or the build fails.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const SINGLE_BYTE = [
  "ibm866", "iso-8859-2", "iso-8859-3", "iso-8859-4", "iso-8859-5", "iso-8859-6", "iso-8859-7", "iso-8859-8", "iso-8859-10",
  "iso-8859-13", "iso-8859-14", "iso-8859-15", "iso-8859-16", "koi8-r", "koi8-u", "macintosh", "windows-874", "windows-1250",
  "windows-1251", "windows-1253", "windows-1254", "windows-1255", "windows-1256", "windows-1257", "windows-1258", "x-mac-cyrillic",
];

/** The single code point `bytes` decode to in `encoding`, 0 for an error; throws on anything else. */
function decoderOf(TextDecoder, encoding) {
  const decoder = new TextDecoder(encoding, { fatal: true });
  return (bytes, allowPair = false) => {
    let text;
    try {
      text = decoder.decode(Uint8Array.from(bytes));
    } catch (error) {
      if (error instanceof TypeError) return 0;
      throw error;
    }
    const points = [...text].map((c) => c.codePointAt(0));
    if (points.length === 1) return points[0];
    if (allowPair && points.length === 2) return -1;
    throw new Error(`${encoding} ${bytes.map((b) => b.toString(16))} decoded to ${points.length} code points`);
  };
}

function table(size, entry) {
  return Array.from({ length: size }, (_, pointer) => entry(pointer));
}

export async function buildEncodingIndexes(outDir) {
  const { TextDecoder } = await import("@exodus/bytes/encoding.js");
  const tables = {};

  for (const name of SINGLE_BYTE) {
    const decode = decoderOf(TextDecoder, name);
    tables[name] = table(128, (pointer) => decode([0x80 + pointer]));
  }

  // index jis0208: rows 1-94 are EUC-JP's two-byte range; pointers 8836-10715 are Shift_JIS's
  // user-defined area (decoded to U+E000.., not through the index); the IBM extensions after them
  // only Shift_JIS reaches.
  const eucJp = decoderOf(TextDecoder, "euc-jp");
  const shiftJis = decoderOf(TextDecoder, "shift_jis");
  const sjisBytes = (pointer) => {
    const lead = Math.floor(pointer / 188);
    const trail = pointer % 188;
    return [lead < 0x1f ? lead + 0x81 : lead + 0xc1, trail < 0x3f ? trail + 0x40 : trail + 0x41];
  };
  tables.jis0208 = table(11104, (pointer) => {
    if (pointer < 8836) {
      const fromEuc = eucJp([0xa1 + Math.floor(pointer / 94), 0xa1 + (pointer % 94)]);
      const fromSjis = shiftJis(sjisBytes(pointer));
      if (fromEuc !== fromSjis) throw new Error(`jis0208 pointer ${pointer}: EUC-JP ${fromEuc}, Shift_JIS ${fromSjis}`);
      return fromEuc;
    }
    return pointer < 10716 ? 0 : shiftJis(sjisBytes(pointer));
  });
  tables.jis0212 = table(7211, (pointer) => eucJp([0x8f, 0xa1 + Math.floor(pointer / 94), 0xa1 + (pointer % 94)]));

  const eucKr = decoderOf(TextDecoder, "euc-kr");
  tables["euc-kr"] = table(23750, (pointer) => eucKr([0x81 + Math.floor(pointer / 190), 0x41 + (pointer % 190)]));

  const gb18030 = decoderOf(TextDecoder, "gb18030");
  const gbk = decoderOf(TextDecoder, "gbk");
  tables.gb18030 = table(23940, (pointer) => {
    const trail = pointer % 190;
    const bytes = [0x81 + Math.floor(pointer / 190), trail < 0x3f ? trail + 0x40 : trail + 0x41];
    const code = gb18030(bytes);
    if (gbk(bytes) !== code) throw new Error(`gb18030 pointer ${pointer}: gbk differs`);
    return code;
  });
  // index gb18030 ranges: the four-byte pointers 0-39419, as (pointer, code point) at the start of
  // each run of consecutive code points (the standard's exception for pointer 7457 becomes a run of one).
  const ranges = [];
  let previous = -2;
  for (let pointer = 0; pointer <= 39419; pointer++) {
    const r = pointer % 12600;
    const code = gb18030([0x81 + Math.floor(pointer / 12600), 0x30 + Math.floor(r / 1260), 0x81 + Math.floor((r % 1260) / 10), 0x30 + (r % 10)]);
    if (code === 0) throw new Error(`gb18030 four-byte pointer ${pointer} has no code point`);
    if (code !== previous + 1) ranges.push(pointer, code);
    previous = code;
  }
  tables["gb18030-ranges"] = ranges;

  // index Big5. The decoder turns four pointers into two code points each; their entries stay 0.
  const big5 = decoderOf(TextDecoder, "big5");
  const pairs = [];
  tables.big5 = table(19782, (pointer) => {
    const trail = pointer % 157;
    const code = big5([0x81 + Math.floor(pointer / 157), trail < 0x3f ? trail + 0x40 : trail + 0x62], true);
    if (code !== -1) return code;
    pairs.push(pointer);
    return 0;
  });
  if (pairs.join() !== "1133,1135,1164,1166") throw new Error(`big5: unexpected two-code-point pointers ${pairs}`);

  mkdirSync(outDir, { recursive: true });
  let bytes = 0;
  for (const [name, entries] of Object.entries(tables)) {
    const wide = name === "big5" || name === "gb18030-ranges";
    const array = wide ? Uint32Array.from(entries) : Uint16Array.from(entries);
    if (!wide && entries.some((code) => code > 0xffff)) throw new Error(`${name}: a code point above U+FFFF`);
    const buffer = Buffer.alloc(array.length * array.BYTES_PER_ELEMENT);
    for (let i = 0; i < array.length; i++) {
      if (wide) buffer.writeUInt32LE(array[i], i * 4);
      else buffer.writeUInt16LE(array[i], i * 2);
    }
    writeFileSync(join(outDir, `${name}.bin`), buffer);
    bytes += buffer.length;
  }
  console.log(`${outDir}/ ${Object.keys(tables).length} tables, ${(bytes / 1024).toFixed(1)} KB`);
}
