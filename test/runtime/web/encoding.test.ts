// Differential tests: the sandbox's TextEncoder/TextDecoder against Node's built-in ones, which
// follow the WHATWG Encoding Standard.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
// Labels other than UTF-8's, UTF-16's and windows-1252's are looked up in the encodings chunk.
import "../platform.ts";
import { TextDecoder, TextEncoder } from "../../../src/runtime/web/encoding.ts";
import { outcome, type Outcome } from "./differential.ts";

const NodeTextDecoder = globalThis.TextDecoder;
const NodeTextEncoder = globalThis.TextEncoder;


interface DecodeOptions {
  fatal?: boolean;
  ignoreBOM?: boolean;
}

/** Decodes `chunks` with stream: true, then flushes; returns every call's output. */
function decodeChunks(Decoder: typeof NodeTextDecoder, chunks: number[][], options: DecodeOptions, label: string): Outcome {
  return outcome(() => {
    const decoder = new Decoder(label, options);
    const outputs = chunks.map((chunk) => decoder.decode(new Uint8Array(chunk), { stream: true }));
    outputs.push(decoder.decode());
    return outputs;
  });
}

function assertSameDecoding(chunks: number[][], options: DecodeOptions = {}, label = "utf-8"): void {
  const ours = decodeChunks(TextDecoder as unknown as typeof NodeTextDecoder, chunks, options, label);
  const node = decodeChunks(NodeTextDecoder, chunks, options, label);
  assert.deepEqual(ours, node, `${label} chunks ${JSON.stringify(chunks)} with ${JSON.stringify(options)}`);
}

function assertSameOneShot(bytes: number[], options: DecodeOptions = {}, label = "utf-8"): void {
  const ours = outcome(() => new TextDecoder(label, options).decode(new Uint8Array(bytes)));
  const node = outcome(() => new NodeTextDecoder(label, options).decode(new Uint8Array(bytes)));
  assert.deepEqual(ours, node, `${label} bytes ${JSON.stringify(bytes)} with ${JSON.stringify(options)}`);
}

/** Whether the leading BOM is split across chunks and the chunk completing it holds all of a second one. */
function bomSplitThenAnother(chunks: number[][]): boolean {
  let start = 0;
  for (const chunk of chunks) {
    const end = start + chunk.length;
    if (end >= 3) return start > 0 && end >= 6;
    start = end;
  }
  return false;
}

/** Every way to cut `bytes` into two or three chunks (empty chunks included). */
function splits(bytes: number[]): number[][][] {
  const result: number[][][] = [];
  for (let i = 0; i <= bytes.length; i++) {
    result.push([bytes.slice(0, i), bytes.slice(i)]);
    for (let j = i; j <= bytes.length; j++) result.push([bytes.slice(0, i), bytes.slice(i, j), bytes.slice(j)]);
  }
  result.push(bytes.map((byte) => [byte]));
  return result;
}

const MALFORMED: Record<string, number[]> = {
  "lone continuation": [0x80],
  "lone continuation 0xBF": [0x41, 0xbf, 0x42],
  "overlong 2-byte NUL": [0xc0, 0x80],
  "overlong 2-byte 0xC1": [0xc1, 0xbf],
  "overlong 3-byte": [0xe0, 0x80, 0x80],
  "overlong 3-byte max": [0xe0, 0x9f, 0xbf],
  "overlong 4-byte": [0xf0, 0x80, 0x80, 0x80],
  "overlong 4-byte max": [0xf0, 0x8f, 0xbf, 0xbf],
  "encoded high surrogate": [0xed, 0xa0, 0x80],
  "encoded low surrogate": [0xed, 0xbf, 0xbf],
  "encoded surrogate pair (CESU-8)": [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80],
  "above U+10FFFF": [0xf4, 0x90, 0x80, 0x80],
  "lead bytes F5..FF": [0xf5, 0xf8, 0xfc, 0xfe, 0xff],
  "truncated 2-byte at end": [0x41, 0xc3],
  "truncated 3-byte at end": [0xe2, 0x82],
  "truncated 4-byte at end": [0xf0, 0x9f, 0x98],
  "truncated 3-byte then ASCII": [0xe2, 0x82, 0x41],
  "truncated 4-byte then ASCII": [0xf0, 0x9f, 0x41, 0x42],
  "lead byte then lead byte": [0xc2, 0xc2, 0xa9],
  "truncated then invalid": [0xe2, 0xff, 0x41],
  "bad second byte after E0": [0xe0, 0x7f],
  "bad second byte after F4": [0xf4, 0x90],
  "BOM-like bytes in the middle": [0x41, 0xef, 0xbb, 0xbf, 0x42],
  "partial BOM": [0xef, 0xbb],
  "valid mix": [...new NodeTextEncoder().encode("héllo € 😀 \u{10ffff} \u0800 \u07ff")],
};

describe("TextDecoder (UTF-8) against Node", () => {
  for (const [name, bytes] of Object.entries(MALFORMED)) {
    it(`decodes ${name} identically, replacing and fatal`, () => {
      assertSameOneShot(bytes);
      assertSameOneShot(bytes, { fatal: true });
      assertSameOneShot(bytes, { ignoreBOM: true });
    });

    it(`streams ${name} identically across every chunk boundary`, () => {
      for (const chunks of splits(bytes)) assertSameDecoding(chunks);
    });
  }

  it("matches on random byte soup, one-shot and streamed", () => {
    let seed = 0x2545f491;
    const random = (limit: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % limit;
    };
    const interesting = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xee, 0xef, 0xbb, 0xf0, 0xf1, 0xf4, 0xf5, 0xff];
    for (let round = 0; round < 3000; round++) {
      const bytes = Array.from({ length: random(12) }, () => interesting[random(interesting.length)]);
      assertSameOneShot(bytes);
      assertSameOneShot(bytes, { fatal: true });
      const cut = random(bytes.length + 1);
      assertSameDecoding([bytes.slice(0, cut), bytes.slice(cut)], { ignoreBOM: round % 2 === 0 });
    }
  });

  it("matches on inputs longer than one internal chunk", () => {
    const text = "a€😀\u00e9".repeat(6000);
    const bytes = [...new NodeTextEncoder().encode(text)];
    bytes.splice(10_001, 0, 0xff, 0xe2, 0x82);
    assertSameOneShot(bytes);
    assertSameDecoding([bytes.slice(0, 8191), bytes.slice(8191)]);
    const invalid = new Array(20_000).fill(0xff);
    assertSameOneShot(invalid);
  });

  it("strips one leading BOM unless ignoreBOM is set", () => {
    const bom = [0xef, 0xbb, 0xbf];
    for (const options of [{}, { ignoreBOM: true }]) {
      assertSameOneShot([...bom, 0x41], options);
      assertSameOneShot([...bom, ...bom, 0x41], options);
      assertSameOneShot(bom, options);
      for (const chunks of splits([...bom, ...bom, 0x41])) {
        if (options.ignoreBOM || !bomSplitThenAnother(chunks)) {
          assertSameDecoding(chunks, options);
          continue;
        }
        // Node 24 and 26 strip both BOMs when the first is split across chunks and the chunk that
        // completes it also holds the second; the Encoding Standard strips only the first.
        const decoder = new TextDecoder();
        const text = chunks.map((chunk) => decoder.decode(new Uint8Array(chunk), { stream: true })).join("") + decoder.decode();
        assert.equal(text, "\ufeffA", JSON.stringify(chunks));
      }
    }
    assert.equal(new TextDecoder().decode(new Uint8Array([...bom, 0x41])), "A");
    assert.equal(new TextDecoder("utf-8", { ignoreBOM: true }).decode(new Uint8Array([...bom, 0x41])), "\ufeffA");
  });

  it("forgets the BOM and any partial sequence after a non-streaming call", () => {
    const run = (Decoder: typeof NodeTextDecoder): string[] => {
      const decoder = new Decoder();
      return [
        decoder.decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41])),
        decoder.decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x42])),
        decoder.decode(new Uint8Array([0x43, 0xe2]), { stream: true }),
        decoder.decode(new Uint8Array([0xef, 0xbb, 0xbf])),
        decoder.decode(new Uint8Array([0x82, 0xac])),
      ];
    };
    assert.deepEqual(run(TextDecoder as unknown as typeof NodeTextDecoder), run(NodeTextDecoder));
    assert.deepEqual(run(TextDecoder as unknown as typeof NodeTextDecoder), ["A", "B", "C", "\ufffd\ufeff", "\ufffd\ufffd"]);
  });

  it("accepts ArrayBuffer, every ArrayBufferView and undefined; rejects the rest", () => {
    const backing = new Uint8Array([0x78, 0xe2, 0x82, 0xac, 0x79, 0x7a]);
    const inputs: Record<string, unknown> = {
      ArrayBuffer: backing.buffer,
      "Uint8Array subarray": backing.subarray(1, 4),
      DataView: new DataView(backing.buffer, 1, 3),
      Uint16Array: new Uint16Array(backing.buffer, 0, 3),
      Float64Array: new Float64Array([1.5]),
      undefined: undefined,
      null: null,
      string: "abc",
      "plain array": [0x41],
      number: 65,
    };
    for (const [name, input] of Object.entries(inputs)) {
      const ours = outcome(() => new TextDecoder().decode(input));
      const node = outcome(() => new NodeTextDecoder().decode(input as Uint8Array));
      assert.deepEqual(ours, node, name);
    }
    assert.equal(new TextDecoder().decode(new DataView(backing.buffer, 1, 3)), "€");
  });

  it("accepts the UTF-8 labels, trimmed and case-insensitively", () => {
    for (const label of ["utf-8", "UTF-8", " utf8\n", "\tUnicode-1-1-UTF-8\f", "unicode11utf8", "x-unicode20utf8", undefined]) {
      assert.equal(new TextDecoder(label).encoding, new NodeTextDecoder(label).encoding, String(label));
    }
  });

  it("throws RangeError for unknown labels, like Node", () => {
    for (const label of ["foo", "utf-8x", "utf 8", "", null, "\u00a0utf-8"]) {
      assert.deepEqual(
        outcome(() => new TextDecoder(label)),
        outcome(() => new NodeTextDecoder(label as string)),
        String(label),
      );
    }
  });

  it("throws RangeError naming the label for the replacement encoding's labels, as the standard says", () => {
    for (const label of ["replacement", "iso-2022-kr", "csiso2022kr", "hz-gb-2312", "iso-2022-cn", "iso-2022-cn-ext", " ISO-2022-KR\t"]) {
      assert.throws(() => new TextDecoder(label), (error: Error) => error instanceof RangeError && error.message.includes(`"${label}"`), label);
    }
  });

  it("is laid out like Node's: enumerable members, a data-property toStringTag", () => {
    for (const [ours, theirs] of [
      [TextDecoder, NodeTextDecoder],
      [TextEncoder, NodeTextEncoder],
    ] as const) {
      assert.deepEqual(Object.keys(ours.prototype).sort(), Object.keys(theirs.prototype).sort());
      assert.deepEqual(Object.getOwnPropertyDescriptor(ours.prototype, Symbol.toStringTag), Object.getOwnPropertyDescriptor(theirs.prototype, Symbol.toStringTag));
    }
  });

  it("reports its options", () => {
    const decoder = new TextDecoder("utf8", { fatal: true, ignoreBOM: true });
    assert.equal(decoder.encoding, "utf-8");
    assert.equal(decoder.fatal, true);
    assert.equal(decoder.ignoreBOM, true);
    const plain = new TextDecoder();
    assert.equal(plain.fatal, false);
    assert.equal(plain.ignoreBOM, false);
    assert.equal(Object.prototype.toString.call(plain), "[object TextDecoder]");
  });

  it("throws TypeError when fatal meets invalid input, and recovers afterwards", () => {
    const decoder = new TextDecoder("utf-8", { fatal: true });
    assert.throws(() => decoder.decode(new Uint8Array([0x41, 0xc0, 0x80])), TypeError);
    assert.equal(decoder.decode(new Uint8Array([0xe2, 0x82]), { stream: true }), "");
    assert.throws(() => decoder.decode(), TypeError);
    assert.equal(decoder.decode(new Uint8Array([0x41])), "A");
  });
});

/** Every WHATWG label of the encodings the decoder implements. */
const UNICODE_LABELS = {
  "utf-16le": ["csunicode", "iso-10646-ucs-2", "ucs-2", "unicode", "unicodefeff", "utf-16", "utf-16le"],
  "utf-16be": ["unicodefffe", "utf-16be"],
  "windows-1252": [
    "ansi_x3.4-1968", "ascii", "cp1252", "cp819", "csisolatin1", "ibm819", "iso-8859-1", "iso-ir-100", "iso8859-1", "iso88591",
    "iso_8859-1", "iso_8859-1:1987", "l1", "latin1", "us-ascii", "windows-1252", "x-cp1252",
  ],
};

/** Little-endian UTF-16 code units as bytes, the big-endian way when asked. */
function utf16Bytes(units: number[], bigEndian: boolean): number[] {
  return units.flatMap((unit) => (bigEndian ? [unit >> 8, unit & 0xff] : [unit & 0xff, unit >> 8]));
}

describe("TextDecoder (UTF-16, windows-1252) against Node", () => {
  it("maps every label to the encoding Node maps it to, trimmed and case-insensitively", () => {
    for (const [encoding, labels] of Object.entries(UNICODE_LABELS)) {
      for (const label of labels) {
        for (const variant of [label, label.toUpperCase(), ` \t${label}\n`]) {
          assert.equal(new TextDecoder(variant).encoding, encoding, variant);
          assert.equal(new NodeTextDecoder(variant).encoding, encoding, variant);
        }
      }
    }
  });

  for (const label of ["utf-16le", "utf-16be"]) {
    const bigEndian = label === "utf-16be";
    const cases: Record<string, number[]> = {
      "BMP text": [0x48, 0xe9, 0x20ac, 0x4e2d],
      "surrogate pair": [0xd83d, 0xde00],
      "lone lead surrogate then text": [0xd83d, 0x41],
      "lone trail surrogate": [0xde00, 0x41],
      "two leads then trail": [0xd83d, 0xd83d, 0xde00],
      "lead at end": [0x41, 0xdbff],
      BOM: [0xfeff, 0x41],
      "two BOMs": [0xfeff, 0xfeff],
      "swapped BOM": [0xfffe, 0x41],
    };
    for (const [name, units] of Object.entries(cases)) {
      it(`${label}: ${name}, one-shot and across every chunk boundary`, () => {
        const bytes = utf16Bytes(units, bigEndian);
        for (const tail of [[], [0x41]]) {
          const input = [...bytes, ...tail]; // an odd byte count leaves a lone lead byte
          for (const options of [{}, { fatal: true }, { ignoreBOM: true }]) {
            assertSameOneShot(input, options, label);
            for (const chunks of splits(input)) assertSameDecoding(chunks, options, label);
          }
        }
      });
    }

    it(`${label}: matches on random code-unit soup`, () => {
      let seed = 0x1234567;
      const random = (limit: number): number => {
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        return (seed >>> 0) % limit;
      };
      const interesting = [0x0000, 0x0041, 0x00ff, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xfeff, 0xfffe, 0xfffd, 0xffff, 0x4e2d];
      for (let round = 0; round < 2000; round++) {
        const bytes = utf16Bytes(Array.from({ length: random(8) }, () => interesting[random(interesting.length)]), bigEndian);
        if (random(4) === 0) bytes.push(random(256));
        assertSameOneShot(bytes, {}, label);
        assertSameOneShot(bytes, { fatal: true }, label);
        const cut = random(bytes.length + 1);
        assertSameDecoding([bytes.slice(0, cut), bytes.slice(cut)], { ignoreBOM: round % 2 === 0 }, label);
      }
      const long = utf16Bytes(Array.from({ length: 30_000 }, (_, i) => (i % 1000 === 999 ? 0xd800 : 0x41 + (i % 26))), bigEndian);
      assertSameOneShot(long, {}, label);
      assertSameDecoding([long.slice(0, 16_385), long.slice(16_385)], {}, label);
    });
  }

  // Node 20's one-shot decode() of windows-1252 was plain Latin-1 (0x80..0x9F as C1 controls, a
  // Node bug fixed by Node 24); the streaming path goes through ICU and follows the standard on
  // every version, so it stays the reference.
  const nodeWindows1252 = (bytes: number[], label: string, options: DecodeOptions): string => {
    const decoder = new NodeTextDecoder(label, options);
    return decoder.decode(new Uint8Array(bytes), { stream: true }) + decoder.decode();
  };

  it("windows-1252: every byte, never an error, no BOM stripping", () => {
    const all = Array.from({ length: 256 }, (_, byte) => byte);
    for (const label of ["windows-1252", "latin1", "ascii", "iso-8859-1", "us-ascii"]) {
      for (const options of [{}, { fatal: true }, { ignoreBOM: true }]) {
        assert.equal(new TextDecoder(label, options).decode(new Uint8Array(all)), nodeWindows1252(all, label, options), `${label} ${JSON.stringify(options)}`);
      }
      assertSameDecoding([all.slice(0, 100), all.slice(100)], {}, label);
    }
    assert.equal(new TextDecoder("latin1").decode(new Uint8Array([0x80, 0x9f, 0x81, 0xe9])), "€Ÿ\u0081é");
    assert.equal(new TextDecoder("windows-1252").decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41])), nodeWindows1252([0xef, 0xbb, 0xbf, 0x41], "windows-1252", {}));
    assert.equal(new TextDecoder("latin1").decode(new Uint8Array([0xff, 0xfe, 0x41])), "ÿþA");
  });

  it("utf-16: fatal errors throw TypeError and the next call starts afresh", () => {
    const decoder = new TextDecoder("utf-16le", { fatal: true });
    assert.throws(() => decoder.decode(new Uint8Array([0x00, 0xdc])), TypeError);
    assert.equal(decoder.decode(new Uint8Array([0x3d]), { stream: true }), "");
    assert.throws(() => decoder.decode(), TypeError);
    assert.equal(decoder.decode(new Uint8Array([0x41, 0x00])), "A");
  });
});

function encodeWith(Encoder: typeof NodeTextEncoder, input: unknown): Outcome {
  return outcome(() => [...new Encoder().encode(input as string)]);
}

describe("TextEncoder against Node", () => {
  const strings = ["", "abc", "héllo", "€", "😀", "\ud800", "\udc00", "a\ud800b", "\udc00\ud800", "\ud83d\ude00\ud83d", "\u0000\u007f\u0080\u07ff\u0800\uffff"];

  it("encodes strings, lone surrogates becoming U+FFFD", () => {
    for (const text of strings) assert.deepEqual(encodeWith(TextEncoder as unknown as typeof NodeTextEncoder, text), encodeWith(NodeTextEncoder, text), JSON.stringify(text));
    assert.deepEqual([...new TextEncoder().encode("\ud800")], [0xef, 0xbf, 0xbd]);
  });

  it("converts non-strings like Web IDL does", () => {
    const inputs = [undefined, null, 42, true, { toString: () => "obj" }, Symbol("s")];
    for (const input of inputs) {
      assert.deepEqual(encodeWith(TextEncoder as unknown as typeof NodeTextEncoder, input), encodeWith(NodeTextEncoder, input), String(input));
    }
    assert.deepEqual([...new TextEncoder().encode()], []);
  });

  it("encodeInto writes only whole characters and reports read/written", () => {
    for (const text of strings) {
      for (let size = 0; size <= 12; size++) {
        const run = (Encoder: typeof NodeTextEncoder): unknown => {
          const destination = new Uint8Array(size).fill(0xaa);
          const result = new Encoder().encodeInto(text, destination);
          return { read: result.read, written: result.written, bytes: [...destination] };
        };
        assert.deepEqual(run(TextEncoder as unknown as typeof NodeTextEncoder), run(NodeTextEncoder), `${JSON.stringify(text)} into ${size}`);
      }
    }
  });

  it("encodeInto needs a Uint8Array destination", () => {
    for (const destination of [new Uint16Array(4), new ArrayBuffer(4), [] as unknown]) {
      assert.deepEqual(
        outcome(() => new TextEncoder().encodeInto("a", destination as Uint8Array)),
        outcome(() => new NodeTextEncoder().encodeInto("a", destination as Uint8Array)),
      );
    }
  });

  it("is utf-8 and round-trips through the decoder", () => {
    assert.equal(new TextEncoder().encoding, "utf-8");
    assert.equal(Object.prototype.toString.call(new TextEncoder()), "[object TextEncoder]");
    const text = "round ☃ trip 😀";
    assert.equal(new TextDecoder().decode(new TextEncoder().encode(text)), text);
  });
});
