// The legacy encodings of TextDecoder (the single-byte ones, x-user-defined, and the CJK ones:
// gb18030/gbk, Big5, EUC-JP, ISO-2022-JP, Shift_JIS, EUC-KR), run in Node with the real host
// service for their index tables (test/runtime/platform.ts).
//
// Three sources, so that no one of them checks itself:
// - differential, against @exodus/bytes (pinned devDependency), a decoder that passes the
//   web-platform-tests' encoding suite: every decoded output, error and streamed piece must match;
// - the index tables against Node's own ICU converters, which agree with the standard on the bulk
//   of each table though not on its edges (ICU's tables are not the standard's);
// - values written out here from the standard: known characters, the bytes without a mapping in
//   each single-byte encoding (as web-platform-tests' textdecoder-fatal-single-byte lists them), the
//   label table.
// The tables the build writes are read off @exodus/bytes too (scripts/encoding-indexes.mjs), so the
// differential tests check the decoders' algorithms and the table plumbing; the ICU and literal
// checks are what check the tables.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import "../platform.ts";
import { TextDecoder } from "../../../src/runtime/web/encoding.ts";
import { TextDecoder as ReferenceDecoder } from "@exodus/bytes/encoding.js";
import { SINGLE_BYTE_ENCODINGS } from "../../../src/protocol/encoding-indexes.ts";
import { callService, ServiceState } from "../../../src/engine/services/index.ts";
import { outcome, type Outcome } from "./differential.ts";

const IcuDecoder = globalThis.TextDecoder;

type Options = { fatal?: boolean; ignoreBOM?: boolean };

/** Decodes `chunks` with stream: true, then flushes; returns every call's output (or the error's class). */
function streamed(Decoder: typeof IcuDecoder, label: string, chunks: Uint8Array[], options: Options): Outcome {
  return outcome(() => {
    const decoder = new Decoder(label, options);
    const outputs = chunks.map((chunk) => decoder.decode(chunk, { stream: true }));
    outputs.push(decoder.decode());
    return outputs;
  });
}

function assertSame(label: string, chunks: Uint8Array[], options: Options = {}): void {
  const ours = streamed(TextDecoder as unknown as typeof IcuDecoder, label, chunks, options);
  const reference = streamed(ReferenceDecoder as unknown as typeof IcuDecoder, label, chunks, options);
  if (JSON.stringify(ours) !== JSON.stringify(reference)) {
    assert.deepEqual(ours, reference, `${label} ${JSON.stringify(chunks.map((c) => [...c].map((b) => b.toString(16))))} ${JSON.stringify(options)}`);
  }
}

const bytes = (...values: number[]) => Uint8Array.from(values);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A seeded xorshift, so that a failure reproduces. */
function random(seed: number): (limit: number) => number {
  return (limit) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % limit;
  };
}

/** The bytes that matter to each multi-byte decoder's state machine, for random soups. */
const INTERESTING: Record<string, number[]> = {
  gb18030: [0x00, 0x30, 0x35, 0x39, 0x3a, 0x40, 0x41, 0x7e, 0x7f, 0x80, 0x81, 0x82, 0x84, 0x8f, 0x90, 0xa1, 0xa3, 0xd6, 0xe3, 0xe4, 0xfe, 0xff],
  big5: [0x00, 0x40, 0x41, 0x62, 0x7e, 0x7f, 0x80, 0x81, 0x87, 0x88, 0x8e, 0xa0, 0xa1, 0xa4, 0xc6, 0xf9, 0xfe, 0xff],
  "euc-jp": [0x00, 0x41, 0x7f, 0x80, 0x8d, 0x8e, 0x8f, 0xa0, 0xa1, 0xa2, 0xb0, 0xdf, 0xe0, 0xed, 0xee, 0xf4, 0xfe, 0xff],
  "iso-2022-jp": [0x00, 0x0e, 0x0f, 0x1b, 0x21, 0x24, 0x28, 0x30, 0x40, 0x42, 0x49, 0x4a, 0x5c, 0x5f, 0x60, 0x7e, 0x7f, 0x80, 0xa1, 0xff],
  shift_jis: [0x00, 0x3f, 0x40, 0x5c, 0x7e, 0x7f, 0x80, 0x81, 0x9f, 0xa0, 0xa1, 0xdf, 0xe0, 0xea, 0xed, 0xf0, 0xf9, 0xfa, 0xfc, 0xfd, 0xff],
  "euc-kr": [0x00, 0x40, 0x41, 0x5a, 0x7e, 0x7f, 0x80, 0x81, 0xa1, 0xa2, 0xc6, 0xc7, 0xc8, 0xfd, 0xfe, 0xff],
};
INTERESTING.gbk = INTERESTING.gb18030;
const MULTI_BYTE = Object.keys(INTERESTING);

describe("TextDecoder labels: every label of the Encoding Standard", () => {
  it("every label of the standard's table resolves to its encoding, trimmed and case-insensitively", async () => {
    // The standard's table, encoding by encoding, as @exodus/bytes keeps it: read from its source
    // file (the package does not export it), so that the list itself is what is compared.
    const labelsFile = new URL("../../../node_modules/@exodus/bytes/fallback/encoding.labels.js", import.meta.url);
    const { default: table } = (await import(labelsFile.href)) as { default: Record<string, string[]> };
    let count = 0;
    for (const [name, aliases] of Object.entries(table)) {
      for (const label of [name, ...aliases]) {
        // "replacement" names an encoding but is no label of it.
        if (label === "replacement") continue;
        count++;
        if (name === "replacement") {
          assert.throws(() => new TextDecoder(label), RangeError, label);
          assert.throws(() => new ReferenceDecoder(label), RangeError, label);
          continue;
        }
        for (const variant of [label, label.toUpperCase(), ` ${label}`, `${label}\t`, `\n${label}\f`, `\r${label} `]) {
          assert.equal(new TextDecoder(variant).encoding, name, variant);
          assert.equal(new ReferenceDecoder(variant).encoding, name, variant);
        }
      }
    }
    // 40 encodings, 227 labels.
    assert.equal(Object.keys(table).length, 40);
    assert.equal(count, 227);
  });

  it("a few labels written out from the standard", () => {
    const expected: [string, string][] = [
      ["latin2", "iso-8859-2"], ["ISO_8859-6:1987", "iso-8859-6"], ["visual", "iso-8859-8"], ["logical", "iso-8859-8-i"], ["tis-620", "windows-874"],
      ["latin5", "windows-1254"], ["koi", "koi8-r"], ["koi8-ru", "koi8-u"], ["mac", "macintosh"], ["x-mac-ukrainian", "x-mac-cyrillic"],
      ["866", "ibm866"], ["gb2312", "gbk"], ["chinese", "gbk"], ["GB18030", "gb18030"], ["big5-hkscs", "big5"], ["x-euc-jp", "euc-jp"],
      ["csiso2022jp", "iso-2022-jp"], ["ms932", "shift_jis"], ["windows-31j", "shift_jis"], ["SJIS", "shift_jis"], ["windows-949", "euc-kr"],
      ["ks_c_5601-1987", "euc-kr"], ["x-user-defined", "x-user-defined"], ["unicodefffe", "utf-16be"], ["utf-16", "utf-16le"],
    ];
    for (const [label, name] of expected) assert.equal(new TextDecoder(label).encoding, name, label);
  });

  it("refuses the replacement encoding's labels and unknown labels with a RangeError", () => {
    for (const label of ["iso-2022-kr", "csiso2022kr", "hz-gb-2312", "iso-2022-cn", "iso-2022-cn-ext", "replacement", "utf-7", "iso-8859-1 x", "shift_jis2", "\u00a0gbk", "\vbig5", "euc_kr", "x-user-defined\u0000"]) {
      assert.throws(() => new TextDecoder(label), RangeError, JSON.stringify(label));
    }
  });
});

describe("TextDecoder: legacy single-byte encodings", () => {
  const all = Uint8Array.from(range(0, 255));
  const names = [...SINGLE_BYTE_ENCODINGS, "iso-8859-8-i", "x-user-defined"];

  it("decode every byte as the reference decoder does, replacing and fatal", () => {
    for (const name of names) {
      assertSame(name, [all]);
      for (let byte = 0; byte < 256; byte++) assertSame(name, [bytes(byte)], { fatal: true });
    }
  });

  // web-platform-tests' encoding/textdecoder-fatal-single-byte.any.js: the bytes without a pointer.
  const UNMAPPED: Record<string, number[]> = {
    "iso-8859-3": [0xa5, 0xae, 0xbe, 0xc3, 0xd0, 0xe3, 0xf0],
    "iso-8859-6": [
      0xa1, 0xa2, 0xa3, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbc, 0xbd, 0xbe,
      0xc0, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
    ],
    "iso-8859-7": [0xae, 0xd2, 0xff],
    "iso-8859-8": [0xa1, ...range(0xbf, 0xde), 0xfb, 0xfc, 0xff],
    "iso-8859-8-i": [0xa1, ...range(0xbf, 0xde), 0xfb, 0xfc, 0xff],
    "windows-874": [0xdb, 0xdc, 0xdd, 0xde, 0xfc, 0xfd, 0xfe, 0xff],
    "windows-1253": [0xaa, 0xd2, 0xff],
    "windows-1255": [0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xfb, 0xfc, 0xff],
    "windows-1257": [0xa1, 0xa5],
  };

  it("fail in fatal mode exactly on the bytes the standard's index leaves empty", () => {
    for (const name of names) {
      const unmapped = UNMAPPED[name] ?? [];
      for (let byte = 0; byte < 256; byte++) {
        const result = outcome(() => new TextDecoder(name, { fatal: true }).decode(bytes(byte)));
        if (unmapped.includes(byte)) assert.deepEqual(result, { error: "TypeError" }, `${name} ${byte}`);
        else assert.equal(typeof (result as { value: unknown }).value, "string", `${name} ${byte}`);
      }
      assert.equal(new TextDecoder(name).decode(bytes(0x41, ...unmapped.slice(0, 1), 0x42)), unmapped.length > 0 ? "A\ufffdB" : new TextDecoder(name).decode(bytes(0x41, 0x42)));
    }
  });

  it("agree with Node's ICU converters on every byte both map", () => {
    for (const name of SINGLE_BYTE_ENCODINGS) {
      for (let byte = 0x80; byte < 256; byte++) {
        const ours = outcome(() => new TextDecoder(name, { fatal: true }).decode(bytes(byte)));
        const icu = outcome(() => new IcuDecoder(name, { fatal: true }).decode(bytes(byte)));
        if ("value" in ours && "value" in icu) assert.equal(ours.value, icu.value, `${name} ${byte.toString(16)}`);
      }
    }
  });

  it("known characters, and no BOM handling", () => {
    assert.equal(new TextDecoder("koi8-r").decode(bytes(0xf0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4)), "Привет");
    assert.equal(new TextDecoder("iso-8859-7").decode(bytes(0xe1, 0xe2, 0xe3)), "αβγ");
    assert.equal(new TextDecoder("windows-1251").decode(bytes(0xcf, 0xf0, 0xe8)), "При");
    assert.equal(new TextDecoder("iso-8859-15").decode(bytes(0xa4)), "€");
    assert.equal(new TextDecoder("x-user-defined").decode(bytes(0x41, 0x80, 0xff)), "A\uf780\uf7ff");
    assert.equal(new TextDecoder("ibm866").decode(bytes(0xef, 0xbb, 0xbf)), "я╗┐");
    assert.equal(new TextDecoder("iso-8859-2").decode(new Uint8Array(0)), "");
  });
});

describe("TextDecoder: legacy multi-byte encodings", () => {
  it("decode known text written out from the standard's indexes", () => {
    const cases: [string, number[], string][] = [
      ["shift_jis", [0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea, 0x5c, 0x7e], "日本語\\~"],
      ["shift_jis", [0xb1, 0xdf, 0x80, 0xf0, 0x40, 0xf9, 0xfc], "ｱﾟ\u0080\ue000\ue757"],
      ["euc-jp", [0xc6, 0xfc, 0xcb, 0xdc, 0xb8, 0xec, 0x8e, 0xb1], "日本語ｱ"],
      ["iso-2022-jp", [0x41, 0x1b, 0x24, 0x42, 0x46, 0x7c, 0x4b, 0x5c, 0x38, 0x6c, 0x1b, 0x28, 0x42, 0x42], "A日本語B"],
      ["iso-2022-jp", [0x1b, 0x28, 0x4a, 0x5c, 0x7e, 0x41, 0x1b, 0x28, 0x49, 0x31, 0x1b, 0x28, 0x42, 0x5c], "¥‾Aｱ\\"],
      ["gbk", [0xd6, 0xd0, 0xce, 0xc4, 0x80], "中文€"],
      ["gb18030", [0x81, 0x30, 0x81, 0x30, 0x84, 0x31, 0xa4, 0x39, 0x90, 0x30, 0x81, 0x30, 0xe3, 0x32, 0x9a, 0x35], "\u0080\uffff\u{10000}\u{10ffff}"],
      ["big5", [0xa4, 0xa4, 0xa4, 0xe5, 0x88, 0x62, 0x88, 0x64, 0x88, 0xa3, 0x88, 0xa5], "中文Ê̄Ê̌ê̄ê̌"],
      ["euc-kr", [0xc7, 0xd1, 0xb1, 0xb9, 0xbe, 0xee], "한국어"],
    ];
    for (const [label, input, text] of cases) {
      assert.equal(new TextDecoder(label).decode(Uint8Array.from(input)), text, label);
      assert.equal(new TextDecoder(label, { fatal: true }).decode(Uint8Array.from(input)), text, label);
    }
  });

  it("replace errors as the standard says, restoring an ASCII byte that followed a lead byte", () => {
    const cases: [string, number[], string][] = [
      ["shift_jis", [0x81, 0x20, 0x81], "\ufffd \ufffd"],
      ["shift_jis", [0xa0, 0xfd, 0xff, 0x41], "\ufffd\ufffd\ufffdA"],
      ["euc-kr", [0x81, 0x20, 0xff], "\ufffd \ufffd"],
      ["big5", [0x81, 0x40, 0xa4], "\ufffd@\ufffd"],
      ["euc-jp", [0x8f, 0xa1, 0x41, 0x8e, 0xe0], "\ufffdA\ufffd"],
      ["gb18030", [0x81, 0x30, 0x81, 0x20], "\ufffd0\ufffd "],
      ["gb18030", [0x81, 0x30, 0x81, 0x41], "\ufffd0丄"],
      ["gb18030", [0x81, 0x30, 0x41], "\ufffd0A"],
      ["gb18030", [0x84, 0x31, 0xa5, 0x30, 0xff], "\ufffd\ufffd"],
      ["iso-2022-jp", [0x1b, 0x24, 0x41, 0x0e], "\ufffd$A\ufffd"],
      ["iso-2022-jp", [0x1b, 0x28, 0x42, 0x1b, 0x28, 0x42, 0x41], "\ufffdA"],
      ["iso-2022-jp", [0x1b, 0x24, 0x42, 0x46], "\ufffd"],
    ];
    for (const [label, input, text] of cases) {
      assert.equal(new TextDecoder(label).decode(Uint8Array.from(input)), text, `${label} ${input}`);
      assert.throws(() => new TextDecoder(label, { fatal: true }).decode(Uint8Array.from(input)), TypeError, `${label} ${input}`);
      assertSame(label, [Uint8Array.from(input)]);
    }
  });

  it("decode every two-byte sequence as the reference decoder does", () => {
    for (const label of ["shift_jis", "euc-jp", "gb18030", "big5", "euc-kr"]) {
      for (let lead = 0x80; lead < 0x100; lead++) {
        // Each lead byte followed by each byte, back to back: also what one error leaves to the next.
        assertSame(label, [Uint8Array.from(range(0, 255).flatMap((trail) => [lead, trail]))]);
      }
    }
    // ISO-2022-JP's JIS X 0208 mode, each lead byte followed by each byte.
    for (let lead = 0x21; lead <= 0x7e; lead++) assertSame("iso-2022-jp", [Uint8Array.from([0x1b, 0x24, 0x42, ...range(0, 255).flatMap((trail) => [lead, trail])])]);
    // EUC-JP's three-byte JIS X 0212 sequences, every row.
    const jis0212 = range(0xa1, 0xfe).flatMap((row) => range(0xa1, 0xfe).flatMap((cell) => [0x8f, row, cell]));
    assertSame("euc-jp", [Uint8Array.from(jis0212)]);
  });

  it("gb18030: every four-byte sequence of the BMP ranges and a sample above", () => {
    const input: number[] = [];
    for (let pointer = 0; pointer <= 39420; pointer++) {
      const r = pointer % 12600;
      input.push(0x81 + Math.floor(pointer / 12600), 0x30 + Math.floor(r / 1260), 0x81 + Math.floor((r % 1260) / 10), 0x30 + (r % 10));
    }
    for (let pointer = 188990; pointer <= 1237585; pointer += 997) {
      const r = pointer % 12600;
      input.push(0x81 + Math.floor(pointer / 12600), 0x30 + Math.floor(r / 1260), 0x81 + Math.floor((r % 1260) / 10), 0x30 + (r % 10));
    }
    assertSame("gb18030", [Uint8Array.from(input)]);
    assertSame("gbk", [Uint8Array.from(input)]);
  });

  it("the CJK tables agree with Node's ICU converters on the standard ranges both map", () => {
    const agreement = (label: string, leads: number[], trails: number[]) => {
      let same = 0;
      let total = 0;
      for (const lead of leads) {
        for (const trail of trails) {
          const ours = outcome(() => new TextDecoder(label, { fatal: true }).decode(bytes(lead, trail)));
          if (!("value" in ours)) continue;
          total++;
          const icu = outcome(() => new IcuDecoder(label, { fatal: true }).decode(bytes(lead, trail)));
          if ("value" in icu && icu.value === ours.value) same++;
        }
      }
      return { same, total };
    };
    const sjis = agreement("shift_jis", [...range(0x81, 0x9f), ...range(0xe0, 0xfc)], [...range(0x40, 0x7e), ...range(0x80, 0xfc)]);
    assert.deepEqual(sjis, { same: 9604, total: 9604 });
    assert.deepEqual(agreement("euc-jp", range(0xa1, 0xfe), range(0xa1, 0xfe)), { same: 7336, total: 7336 });
    assert.deepEqual(agreement("gbk", range(0x81, 0xfe), [...range(0x40, 0x7e), ...range(0x80, 0xfe)]), { same: 23940, total: 23940 });
    // KS X 1001 (ICU's EUC-KR lacks the later € and ® at A2E6 and A2E7).
    assert.deepEqual(agreement("euc-kr", range(0xa1, 0xfe), range(0xa1, 0xfe)), { same: 8224, total: 8226 });
    // Big5 proper (ICU's lacks the standard's control pictures and a few more): 97 %.
    const big5 = agreement("big5", range(0xa1, 0xf9), [...range(0x40, 0x7e), ...range(0xa1, 0xfe)]);
    assert.equal(big5.total, 13901);
    assert.ok(big5.same / big5.total > 0.97, `${big5.same} / ${big5.total}`);
  });

  it("match the reference on random byte soup, replacing and fatal, in one piece and in two", () => {
    const next = random(0x9e3779b9);
    for (const label of MULTI_BYTE) {
      const pool = INTERESTING[label];
      for (let round = 0; round < 1500; round++) {
        const input = Uint8Array.from({ length: next(14) }, () => pool[next(pool.length)]);
        assertSame(label, [input]);
        assertSame(label, [input], { fatal: true });
        const cut = next(input.length + 1);
        assertSame(label, [input.subarray(0, cut), input.subarray(cut)], { fatal: round % 3 === 0 });
      }
    }
  });

  it("stream a character split across chunks at every boundary, into two and three pieces", () => {
    const samples: Record<string, number[]> = {
      shift_jis: [0x41, 0x93, 0xfa, 0x96, 0x7b, 0xb1, 0x81, 0x41, 0xf0, 0x40],
      "euc-jp": [0x41, 0xc6, 0xfc, 0x8f, 0xa2, 0xaf, 0x8e, 0xb1, 0x8f, 0x41],
      "iso-2022-jp": [0x1b, 0x24, 0x42, 0x46, 0x7c, 0x1b, 0x28, 0x49, 0x31, 0x1b, 0x28, 0x42, 0x41, 0x1b, 0x24],
      gb18030: [0x41, 0xd6, 0xd0, 0x81, 0x30, 0x81, 0x30, 0x90, 0x30, 0x81, 0x30, 0x81, 0x30, 0x81, 0x41],
      gbk: [0x81, 0x30, 0x81, 0x30, 0xd6, 0xd0, 0x80, 0x84],
      big5: [0xa4, 0xa4, 0x88, 0x62, 0x87, 0x40, 0x81, 0x41, 0xa4],
      "euc-kr": [0xc7, 0xd1, 0x41, 0x81, 0x20, 0xb1, 0xb9, 0xc7],
    };
    for (const [label, sample] of Object.entries(samples)) {
      const input = Uint8Array.from(sample);
      for (let i = 0; i <= input.length; i++) {
        assertSame(label, [input.subarray(0, i), input.subarray(i)]);
        for (let j = i; j <= input.length; j++) assertSame(label, [input.subarray(0, i), input.subarray(i, j), input.subarray(j)]);
      }
      assertSame(label, [...input].map((b) => bytes(b)));
      // The streamed pieces join into the one-shot decoding.
      const pieces = streamed(TextDecoder as unknown as typeof IcuDecoder, label, [...input].map((b) => bytes(b)), {}) as { value: string[] };
      assert.equal(pieces.value.join(""), new TextDecoder(label).decode(input), label);
    }
  });

  it("a fatal error ends the stream: the next call starts afresh", () => {
    for (const label of MULTI_BYTE) {
      const decoder = new TextDecoder(label, { fatal: true });
      assert.equal(decoder.decode(bytes(0x41, label === "euc-jp" ? 0xa4 : label === "iso-2022-jp" ? 0x1b : 0x81), { stream: true }), "A");
      assert.throws(() => decoder.decode(), TypeError, label);
      assert.equal(decoder.decode(bytes(0x42)), "B", label);
    }
  });

  it("strip no byte order mark: only UTF-8 and UTF-16 have one", () => {
    for (const label of ["gb18030", "shift_jis", "big5"]) {
      assertSame(label, [bytes(0xef, 0xbb, 0xbf, 0x41)]);
      assertSame(label, [bytes(0xfe, 0xff, 0x41)]);
    }
    assert.equal(new TextDecoder("gb18030").decode(bytes(0xfe, 0xff)), new ReferenceDecoder("gb18030").decode(bytes(0xfe, 0xff)));
    assert.equal(new TextDecoder("gb18030").decode(bytes(0x84, 0x31, 0x95, 0x33)), "\ufeff", "gb18030's own BOM bytes decode to U+FEFF, kept");
  });

  it("decode inputs longer than the decoder's internal buffer", () => {
    const samples: Record<string, number[]> = {
      shift_jis: [0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea, 0x41, 0xb1, 0x81, 0x20],
      "euc-jp": [0xc6, 0xfc, 0xcb, 0xdc, 0x41, 0x8e, 0xb1, 0x8f, 0xa2, 0xaf],
      "iso-2022-jp": [0x1b, 0x24, 0x42, 0x46, 0x7c, 0x4b, 0x5c, 0x1b, 0x28, 0x42, 0x41, 0x1b, 0x28, 0x49, 0x31],
      gb18030: [0xd6, 0xd0, 0x41, 0x90, 0x30, 0x81, 0x30, 0x81, 0x30, 0x81, 0x30, 0xff],
      gbk: [0xd6, 0xd0, 0xce, 0xc4, 0x80, 0x41],
      big5: [0xa4, 0xa4, 0x88, 0x62, 0x87, 0x40, 0x41, 0xfe, 0xfe],
      "euc-kr": [0xc7, 0xd1, 0xb1, 0xb9, 0x41, 0x81, 0x20],
    };
    for (const [label, sample] of Object.entries(samples)) {
      const input = new Uint8Array(sample.length * 3000);
      for (let i = 0; i < 3000; i++) input.set(sample, i * sample.length);
      assertSame(label, [input]);
      assertSame(label, [input.subarray(0, 8191), input.subarray(8191)]);
    }
  });
});

describe("the encoding index service", () => {
  it("hands out copies: changing one does not change the next", () => {
    const state = new ServiceState();
    const first = callService(state, "encoding.index", ["jis0208"]) as [1, Uint16Array];
    assert.equal(first[0], 1);
    assert.equal(first[1].length, 11104);
    const original = first[1][0];
    first[1][0] = 0x41;
    const second = callService(state, "encoding.index", ["jis0208"]) as [1, Uint16Array];
    assert.equal(second[1][0], original);
    assert.notEqual(first[1], second[1]);
  });

  it("serves only the standard's tables, by name", () => {
    const state = new ServiceState();
    for (const name of ["../package", "jis0208/../big5", "constructor", "__proto__", "", 1, null, ["big5"], "windows-1252"]) {
      const answer = callService(state, "encoding.index", [name]);
      assert.deepEqual(answer, [0, { name: "TypeError", message: "Unknown encoding index." }], String(name));
    }
    for (const name of ["big5", "gb18030-ranges", "euc-kr", "gb18030", "jis0212", ...SINGLE_BYTE_ENCODINGS]) assert.equal(callService(state, "encoding.index", [name])[0], 1, name);
  });

  it("charges the host's time to the sandbox", () => {
    const state = new ServiceState();
    const before = state.hostCpuNs();
    for (let i = 0; i < 50; i++) callService(state, "encoding.index", ["big5"]);
    assert.ok(state.hostCpuNs() > before);
  });
});
