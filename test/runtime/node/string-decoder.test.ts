// Differential tests: node:string_decoder against Node's, feeding every split of byte sequences
// (valid, truncated and invalid) chunk by chunk in every encoding.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StringDecoder as NodeDecoder } from "node:string_decoder";
import { nodeModule, outcome } from "./compat.ts";

const { StringDecoder } = nodeModule("string_decoder") as { StringDecoder: typeof NodeDecoder };

const sequences = [
  [0xe2, 0x82, 0xac, 0x41],
  [0xf0, 0x9f, 0x98, 0x80, 0x42],
  [0xff, 0xc3, 0x28],
  [0xe2, 0x28, 0x41],
  [0xf0, 0x9f, 0x28, 0x98],
  [0x3d, 0xd8, 0x00, 0xde, 0x61, 0x00],
  [0x3d, 0xd8, 0x61, 0x00],
  [0xc3, 0xa9, 0xc3],
  [0xed, 0xa0, 0x80, 0xe0, 0x80],
  [0x80, 0x80, 0x80, 0x80, 0x80],
  [0x61, 0x62, 0x63, 0x64, 0x65],
];

/** Every way to cut `bytes` into up to three chunks. */
function splits(bytes: number[]): number[][][] {
  const result: number[][][] = [[bytes]];
  for (let i = 0; i <= bytes.length; i++) {
    result.push([bytes.slice(0, i), bytes.slice(i)]);
    for (let j = i; j <= bytes.length; j++) result.push([bytes.slice(0, i), bytes.slice(i, j), bytes.slice(j)]);
  }
  return result;
}

function decode(Decoder: typeof NodeDecoder, encoding: string, chunks: number[][]): unknown {
  return outcome(() => {
    const decoder = new Decoder(encoding as BufferEncoding);
    const out = chunks.map((chunk) => decoder.write(Buffer.from(chunk)));
    out.push(decoder.end());
    return out;
  });
}

describe("node:string_decoder", () => {
  it("decodes every split of every sequence as Node does", () => {
    for (const encoding of ["utf8", "utf16le", "base64", "base64url", "hex", "latin1", "ascii"]) {
      for (const bytes of sequences) {
        for (const chunks of splits(bytes)) {
          assert.deepEqual(decode(StringDecoder, encoding, chunks), decode(NodeDecoder, encoding, chunks), `${encoding} ${JSON.stringify(chunks)}`);
        }
      }
    }
  });

  it("end(buffer), strings passed through, the encoding property and bad input agree with Node", () => {
    for (const Decoder of [StringDecoder, NodeDecoder]) {
      const decoder = new Decoder("utf8");
      assert.equal(decoder.write(Buffer.from([0xe2])), "");
      assert.equal(decoder.end(Buffer.from([0x82, 0xac])), "€");
      assert.equal(decoder.write("already text" as unknown as Buffer), "already text");
    }
    for (const encoding of [undefined, "UCS2", "binary", "UTF-8", "nope"]) {
      // Node's decoder has an own "encoding" property (undocumented, not in @types/node); ours copies it.
      const a = outcome(() => (new StringDecoder(encoding as BufferEncoding) as NodeDecoder & { encoding: string }).encoding);
      const b = outcome(() => (new NodeDecoder(encoding as BufferEncoding) as NodeDecoder & { encoding: string }).encoding);
      assert.deepEqual(a, b, String(encoding));
    }
    assert.deepEqual(outcome(() => new StringDecoder().write(5 as unknown as Buffer)), outcome(() => new NodeDecoder().write(5 as unknown as Buffer)));
  });

  it("reports lastNeed and lastTotal for a held-back character", () => {
    for (const Decoder of [StringDecoder, NodeDecoder]) {
      const decoder = new Decoder("utf8") as NodeDecoder & { lastNeed: number; lastTotal: number };
      decoder.write(Buffer.from([0xf0, 0x9f]));
      assert.deepEqual([decoder.lastNeed, decoder.lastTotal], [2, 4]);
    }
  });
});
