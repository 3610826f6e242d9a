// TextEncoderStream and TextDecoderStream of the streams chunk against Node's, which follow the
// Encoding Standard: characters and surrogate pairs split across chunks, fatal errors, BOMs.

import "../platform.ts";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ReadableStream, TextDecoderStream, TextEncoderStream } from "../../../src/runtime/web/streams/index.ts";

type Pair = { readable: unknown; writable: unknown };
const NodeReadableStream = globalThis.ReadableStream;

/** Writes `chunks` into `pair` from a stream of the same implementation; records what comes out. */
async function through(pair: Pair, chunks: unknown[], Readable: typeof NodeReadableStream): Promise<unknown> {
  const source = new Readable({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  const out: unknown[] = [];
  try {
    for await (const chunk of source.pipeThrough(pair as TransformStream) as unknown as AsyncIterable<unknown>) {
      out.push(chunk instanceof Uint8Array ? [...chunk] : chunk);
    }
    return { out };
  } catch (error) {
    return { out, error: (error as Error).constructor.name };
  }
}

const ours = (pair: Pair, chunks: unknown[]) => through(pair, chunks, ReadableStream as unknown as typeof NodeReadableStream);
const node = (pair: Pair, chunks: unknown[]) => through(pair, chunks, NodeReadableStream);

/** Every way to cut `items` into two or three pieces. */
function splits<T>(items: T[]): T[][][] {
  const result: T[][][] = [];
  for (let i = 0; i <= items.length; i++) {
    for (let j = i; j <= items.length; j++) result.push([items.slice(0, i), items.slice(i, j), items.slice(j)]);
  }
  return result;
}

describe("TextDecoderStream against Node", () => {
  const samples: Record<string, [string, number[]]> = {
    "UTF-8 text with 2-, 3- and 4-byte characters": ["utf-8", [...new TextEncoder().encode("aé€😀z")]],
    "UTF-8 with a BOM": ["utf-8", [0xef, 0xbb, 0xbf, 0x41, 0xef, 0xbb, 0xbf]],
    "UTF-8, truncated at the end": ["utf-8", [0x41, 0xf0, 0x9f, 0x98]],
    "UTF-8, invalid in the middle": ["utf-8", [0x41, 0xe2, 0x28, 0xa1, 0x42]],
    "UTF-16LE with a surrogate pair and a BOM": ["utf-16le", [0xff, 0xfe, 0x41, 0x00, 0x3d, 0xd8, 0x00, 0xde]],
    "UTF-16BE, odd length": ["utf-16be", [0x00, 0x41, 0xd8, 0x3d, 0xde, 0x00, 0x42]],
  };
  for (const [name, [label, bytes]] of Object.entries(samples)) {
    it(`${name}: the same text at every chunk boundary`, async () => {
      for (const options of [{}, { fatal: true }, { ignoreBOM: true }]) {
        for (const pieces of splits(bytes)) {
          const chunks = pieces.map((piece) => new Uint8Array(piece));
          const expected = await node(new globalThis.TextDecoderStream(label, options), chunks);
          const actual = await ours(new TextDecoderStream(label, options), chunks);
          // Both must agree on the text; how it is split into output chunks may differ.
          const joined = (record: unknown) => {
            const { out, error } = record as { out: string[]; error?: string };
            return { text: out.join(""), error };
          };
          assert.deepEqual(joined(actual), joined(expected), `${JSON.stringify(pieces)} ${JSON.stringify(options)}`);
        }
      }
    });
  }

  it("never enqueues empty strings", async () => {
    const bytes = [...new TextEncoder().encode("€😀")].map((byte) => new Uint8Array([byte]));
    assert.deepEqual(await ours(new TextDecoderStream(), bytes), { out: ["€", "😀"] });
  });

  it("accepts every BufferSource and errors the stream with TypeError on anything else", async () => {
    const backing = new Uint8Array([0x68, 0x69, 0x21, 0x00]);
    const good = [backing.buffer.slice(0, 1), new DataView(backing.buffer, 1, 1), new Uint16Array([0x0021])];
    assert.deepEqual(await ours(new TextDecoderStream(), good), await node(new globalThis.TextDecoderStream(), good));
    for (const bad of ["text", 42, [0x41], null, {}]) {
      assert.deepEqual(await ours(new TextDecoderStream(), [bad]), { out: [], error: "TypeError" }, String(bad));
    }
  });

  it("reports encoding, fatal and ignoreBOM; validates label and options like TextDecoder", () => {
    const stream = new TextDecoderStream(" UTF-16 ", { fatal: true, ignoreBOM: true });
    assert.deepEqual([stream.encoding, stream.fatal, stream.ignoreBOM], ["utf-16le", true, true]);
    const plain = new TextDecoderStream();
    assert.deepEqual([plain.encoding, plain.fatal, plain.ignoreBOM], ["utf-8", false, false]);
    assert.equal(new TextDecoderStream("latin1").encoding, "windows-1252");
    assert.throws(() => new TextDecoderStream("nope"), RangeError);
    assert.throws(() => new TextDecoderStream("utf-8", 5 as unknown as object), TypeError);
    assert.equal(Object.prototype.toString.call(plain), "[object TextDecoderStream]");
    assert.ok(plain.readable instanceof ReadableStream);
  });
});

describe("TextEncoderStream against Node", () => {
  const cases: Record<string, string[]> = {
    ascii: ["abc", "", "def"],
    "a surrogate pair split across chunks": ["a\ud83d", "\ude00b"],
    "a lead surrogate then an empty chunk then its trail": ["\ud83d", "", "\ude00"],
    "a lead surrogate at the very end": ["x\ud83d"],
    "a lead surrogate followed by text": ["\ud83d", "y"],
    "two lead surrogates in a row": ["\ud83d", "\ud83d", "\ude00"],
    "a lone trail surrogate": ["\ude00", "z"],
    "mixed text": ["héllo €", "😀 wörld"],
  };
  for (const [name, chunks] of Object.entries(cases)) {
    it(`${name}: the same bytes`, async () => {
      const expected = await node(new globalThis.TextEncoderStream(), chunks);
      const actual = await ours(new TextEncoderStream(), chunks);
      const flat = (record: unknown) => ({ bytes: ((record as { out: number[][] }).out ?? []).flat(), error: (record as { error?: string }).error });
      assert.deepEqual(flat(actual), flat(expected));
    });
  }

  it("converts chunks with ToString, rejecting symbols with TypeError", async () => {
    assert.deepEqual(await ours(new TextEncoderStream(), [42, null, { toString: () => "o" }]), await node(new globalThis.TextEncoderStream(), [42, null, { toString: () => "o" }]));
    assert.deepEqual(await ours(new TextEncoderStream(), [Symbol("s")]), { out: [], error: "TypeError" });
  });

  it("enqueues nothing for an empty chunk and a lone lead surrogate until it is resolved", async () => {
    assert.deepEqual(await ours(new TextEncoderStream(), ["", "\ud83d"]), { out: [[0xef, 0xbf, 0xbd]] });
  });

  it("is utf-8 and brand-checks its accessors", () => {
    const stream = new TextEncoderStream();
    assert.equal(stream.encoding, "utf-8");
    assert.equal(Object.prototype.toString.call(stream), "[object TextEncoderStream]");
    const getter = Object.getOwnPropertyDescriptor(TextEncoderStream.prototype, "writable")!.get!;
    assert.throws(() => getter.call(new TextDecoderStream()), TypeError);
  });
});
