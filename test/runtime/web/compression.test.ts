// CompressionStream and DecompressionStream (fflate inside the streams chunk) against Node's zlib:
// what one side compresses the other must restore, at every chunk boundary, and what zlib rejects
// as corrupt or truncated must error the stream with a TypeError.

import "../platform.ts";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import zlib from "node:zlib";
import { CompressionStream, DecompressionStream, readAllBytes, ReadableStream } from "../../../src/runtime/web/streams/index.ts";

type Format = "gzip" | "deflate" | "deflate-raw";
const FORMATS: Format[] = ["gzip", "deflate", "deflate-raw"];

const nodeCompress: Record<Format, (bytes: Uint8Array, options?: zlib.ZlibOptions) => Buffer> = {
  gzip: zlib.gzipSync,
  deflate: zlib.deflateSync,
  "deflate-raw": zlib.deflateRawSync,
};
const nodeDecompress: Record<Format, (bytes: Uint8Array) => Buffer> = {
  gzip: zlib.gunzipSync,
  deflate: zlib.inflateSync,
  "deflate-raw": zlib.inflateRawSync,
};

/** Writes `chunks` through a fresh transform pair and reads everything it yields. */
async function run(pair: { readable: unknown; writable: unknown }, chunks: unknown[]): Promise<Uint8Array> {
  const source = new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  return (await readAllBytes(source.pipeThrough(pair as never) as ReadableStream)).bytes;
}

const compress = (format: Format, chunks: Uint8Array[]) => run(new CompressionStream(format), chunks);
const decompress = (format: Format, chunks: Uint8Array[]) => run(new DecompressionStream(format), chunks);

/** The error class a decompression ends with, or "ok". */
async function decompressOutcome(format: Format, chunks: Uint8Array[]): Promise<string> {
  try {
    await decompress(format, chunks);
    return "ok";
  } catch (error) {
    return (error as Error).constructor.name;
  }
}

function nodeOutcome(format: Format, bytes: Uint8Array): string {
  try {
    nodeDecompress[format](bytes);
    return "ok";
  } catch {
    return "TypeError";
  }
}

let seed = 0x9e3779b9;
function random(limit: number): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % limit;
}

const text = new TextEncoder().encode("The quick brown fox jumps over the lazy dog. ".repeat(200) + "€😀".repeat(50));
const noise = Uint8Array.from({ length: 70_000 }, () => random(256));
const INPUTS: Record<string, Uint8Array> = {
  empty: new Uint8Array(0),
  "one byte": new Uint8Array([42]),
  text,
  "incompressible 70 KB": noise,
  "zeros 1 MB": new Uint8Array(1 << 20),
};

/** `bytes` cut at every position into two chunks (and once into single bytes). */
function* cuts(bytes: Uint8Array): Generator<Uint8Array[]> {
  for (let i = 0; i <= bytes.length; i++) yield [bytes.subarray(0, i), bytes.subarray(i)];
  yield Array.from(bytes, (byte) => new Uint8Array([byte]));
}

describe("CompressionStream", () => {
  for (const format of FORMATS) {
    it(`${format}: Node's zlib restores what it compresses`, async () => {
      for (const [name, input] of Object.entries(INPUTS)) {
        const compressed = await compress(format, [input]);
        assert.deepEqual(new Uint8Array(nodeDecompress[format](compressed)), input, name);
      }
    });

    it(`${format}: any chunking of the input compresses to the same data`, async () => {
      const whole = await compress(format, [text]);
      const pieces: Uint8Array[] = [];
      for (let i = 0, size = 1; i < text.length; i += size, size = 1 + random(3000)) pieces.push(text.subarray(i, i + size));
      assert.deepEqual(new Uint8Array(nodeDecompress[format](await compress(format, pieces))), text);
      assert.deepEqual(new Uint8Array(nodeDecompress[format](whole)), text);
    });
  }

  it("writes a gzip header without a timestamp, like browsers", async () => {
    const bytes = await compress("gzip", [text]);
    assert.deepEqual([...bytes.subarray(0, 4)], [0x1f, 0x8b, 8, 0]);
    assert.deepEqual([...bytes.subarray(4, 8)], [0, 0, 0, 0]);
  });

  it("accepts every BufferSource and rejects other chunks with TypeError", async () => {
    const backing = new Uint8Array([0, 104, 105, 0]);
    const chunks = [backing.buffer.slice(1, 2), new DataView(backing.buffer, 2, 1), new Uint16Array(0)];
    assert.equal(new TextDecoder().decode(nodeDecompress.gzip(await run(new CompressionStream("gzip"), chunks))), "hi");
    for (const chunk of ["text", 42, [1, 2], null, undefined, {}]) {
      await assert.rejects(run(new CompressionStream("deflate"), [chunk]), TypeError, String(chunk));
    }
  });

  it("throws TypeError for unknown formats, like Node", () => {
    for (const format of ["br", "zstd", "GZIP", "", undefined, null]) {
      assert.throws(() => new CompressionStream(format), TypeError, String(format));
      assert.throws(() => new DecompressionStream(format), TypeError, String(format));
      assert.throws(() => new globalThis.CompressionStream(format as Format), TypeError);
    }
    assert.throws(() => new (CompressionStream as unknown as new () => unknown)(), TypeError);
  });

  it("exposes readable and writable with brand checks", () => {
    const stream = new CompressionStream("gzip");
    assert.ok(stream.readable instanceof ReadableStream);
    assert.equal(Object.prototype.toString.call(stream), "[object CompressionStream]");
    const getter = Object.getOwnPropertyDescriptor(CompressionStream.prototype, "readable")!.get!;
    assert.throws(() => getter.call(new DecompressionStream("gzip")), TypeError);
    assert.throws(() => getter.call({}), TypeError);
  });
});

describe("DecompressionStream", () => {
  for (const format of FORMATS) {
    it(`${format}: restores what Node's zlib compresses, at every level`, async () => {
      for (const [name, input] of Object.entries(INPUTS)) {
        for (const level of [0, 1, 6, 9]) {
          const compressed = nodeCompress[format](input, { level });
          assert.deepEqual(await decompress(format, [compressed]), input, `${name} at level ${level}`);
        }
      }
    });

    it(`${format}: gives the same bytes at every chunk boundary`, async () => {
      const input = text.subarray(0, 600);
      for (const compressed of [nodeCompress[format](input), await compress(format, [input]), nodeCompress[format](noise.subarray(0, 300), { level: 0 })]) {
        const expected = new Uint8Array(nodeDecompress[format](compressed));
        for (const chunks of cuts(compressed)) assert.deepEqual(await decompress(format, chunks), expected);
      }
    });

    it(`${format}: a truncated stream errors with TypeError at every length`, async () => {
      const compressed = nodeCompress[format](text.subarray(0, 300));
      for (let length = 0; length < compressed.length; length++) {
        const prefix = compressed.subarray(0, length);
        assert.equal(await decompressOutcome(format, [prefix]), "TypeError", `first ${length} of ${compressed.length} bytes`);
      }
    });

    it(`${format}: bytes after the end of the data are an error`, async () => {
      const compressed = nodeCompress[format](text);
      for (const junk of [[0], [1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
        const withJunk = new Uint8Array([...compressed, ...junk]);
        assert.equal(await decompressOutcome(format, [withJunk]), "TypeError");
        assert.equal(await decompressOutcome(format, [compressed, new Uint8Array(junk)]), "TypeError");
      }
    });

    it(`${format}: empty chunks are accepted anywhere`, async () => {
      const compressed = nodeCompress[format](text);
      const empty = new Uint8Array(0);
      assert.deepEqual(await decompress(format, [empty, compressed.subarray(0, 5), empty, compressed.subarray(5), empty]), text);
    });
  }

  it("rejects corrupt checksums and lengths", async () => {
    const gzip = new Uint8Array(nodeCompress.gzip(text));
    const deflate = new Uint8Array(nodeCompress.deflate(text));
    for (const [format, bytes, index] of [
      ["gzip", gzip, gzip.length - 8], // CRC-32
      ["gzip", gzip, gzip.length - 1], // ISIZE
      ["deflate", deflate, deflate.length - 1], // Adler-32
    ] as const) {
      const corrupt = bytes.slice();
      corrupt[index] ^= 1;
      assert.equal(nodeOutcome(format, corrupt), "TypeError");
      assert.equal(await decompressOutcome(format, [corrupt]), "TypeError", `${format} byte ${index}`);
    }
  });

  it("rejects bad headers as zlib does", async () => {
    const gzip = new Uint8Array(nodeCompress.gzip(text));
    const deflate = new Uint8Array(nodeCompress.deflate(text));
    const cases: [Format, Uint8Array][] = [];
    const patch = (bytes: Uint8Array, index: number, value: number) => {
      const copy = bytes.slice();
      copy[index] = value;
      return copy;
    };
    cases.push(["gzip", patch(gzip, 0, 0x1e)], ["gzip", patch(gzip, 1, 0)], ["gzip", patch(gzip, 2, 7)], ["gzip", patch(gzip, 3, 0x20)]);
    cases.push(["deflate", patch(deflate, 0, 0x79)], ["deflate", patch(deflate, 0, 0x88)], ["deflate", patch(deflate, 1, deflate[1] ^ 1)]);
    // FDICT set, with a valid check value: zlib asks for a dictionary, which streams cannot give.
    const fdict = deflate.slice();
    fdict[1] = 0x20;
    fdict[1] += 31 - (((fdict[0] << 8) | fdict[1]) % 31);
    cases.push(["deflate", fdict]);
    for (const [format, bytes] of cases) {
      assert.equal(nodeOutcome(format, bytes), "TypeError");
      assert.equal(await decompressOutcome(format, [bytes]), "TypeError", `${format} ${[...bytes.subarray(0, 4)]}`);
    }
  });

  it("reads every optional gzip header field, across chunk boundaries", async () => {
    const body = zlib.deflateRawSync(text);
    const crc = crc32(text);
    const trailer = new Uint8Array(8);
    new DataView(trailer.buffer).setUint32(0, crc >>> 0, true);
    new DataView(trailer.buffer).setUint32(4, text.length, true);
    const header = [0x1f, 0x8b, 8, 0x04 | 0x08 | 0x10 | 0x02, 1, 2, 3, 4, 0, 3, 3, 0, 0xaa, 0xbb, 0xcc, ...Buffer.from("name.txt\0comment\0")];
    const headerCrc = crc32(header) & 0xffff;
    const full = new Uint8Array([...header, headerCrc & 0xff, headerCrc >> 8, ...body, ...trailer]);
    assert.deepEqual(new Uint8Array(zlib.gunzipSync(full)), text);
    for (let cut = 0; cut <= header.length + 2; cut++) assert.deepEqual(await decompress("gzip", [full.subarray(0, cut), full.subarray(cut)]), text, `cut at ${cut}`);
    const badCrc = full.slice();
    badCrc[header.length] ^= 1;
    assert.equal(nodeOutcome("gzip", badCrc), "TypeError");
    assert.equal(await decompressOutcome("gzip", [badCrc]), "TypeError");
  });

  it("rejects concatenated gzip members, as the Compression Standard does (Node accepts them)", async () => {
    const member = nodeCompress.gzip(text.subarray(0, 100));
    const two = new Uint8Array([...member, ...member]);
    assert.equal(nodeOutcome("gzip", two), "ok");
    assert.equal(await decompressOutcome("gzip", [two]), "TypeError");
  });

  it("checksummed formats fail on a flipped bit exactly when zlib does", async () => {
    for (const format of ["gzip", "deflate"] as const) {
      const compressed = new Uint8Array(nodeCompress[format](text.subarray(0, 400)));
      for (let bit = 0; bit < compressed.length * 8; bit += 3) {
        const corrupt = compressed.slice();
        corrupt[bit >> 3] ^= 1 << (bit & 7);
        assert.equal(await decompressOutcome(format, [corrupt]), nodeOutcome(format, corrupt), `${format} bit ${bit}`);
      }
    }
  });

  it("deflate-raw: random corruption ends in output or a TypeError, never a hang", async () => {
    const compressed = new Uint8Array(nodeCompress["deflate-raw"](text.subarray(0, 2000)));
    for (let round = 0; round < 300; round++) {
      const corrupt = compressed.slice();
      for (let flips = 1 + random(4); flips > 0; flips--) corrupt[random(corrupt.length)] ^= 1 << random(8);
      const outcome = await decompressOutcome("deflate-raw", [corrupt]);
      assert.ok(outcome === "ok" || outcome === "TypeError", outcome);
    }
    const garbage = Uint8Array.from({ length: 5000 }, () => random(256));
    assert.ok(["ok", "TypeError"].includes(await decompressOutcome("deflate-raw", [garbage])));
  });

  it("yields non-empty Uint8Array chunks of bounded size", async () => {
    const source = new ReadableStream({
      start(controller) {
        controller.enqueue(nodeCompress.gzip(new Uint8Array(8 << 20)));
        controller.close();
      },
    });
    let total = 0;
    for await (const chunk of source.pipeThrough(new DecompressionStream("gzip") as never) as unknown as AsyncIterable<Uint8Array>) {
      assert.ok(chunk instanceof Uint8Array && chunk.length > 0 && chunk.length <= 65536 * 1032);
      total += chunk.length;
    }
    assert.equal(total, 8 << 20);
  });

  it("round-trips with Node's own CompressionStream and DecompressionStream", async () => {
    for (const format of FORMATS) {
      const theirs = new Blob([text]).stream().pipeThrough(new globalThis.CompressionStream(format));
      const compressed = new Uint8Array(await new Response(theirs).arrayBuffer());
      assert.deepEqual(await decompress(format, [compressed]), text);
      const ours = await compress(format, [text]);
      const back = new Blob([ours as BlobPart]).stream().pipeThrough(new globalThis.DecompressionStream(format));
      assert.deepEqual(new Uint8Array(await new Response(back).arrayBuffer()), text);
    }
  });
});

/** CRC-32 the slow, obvious way: an independent check of the chunk's table-driven one. */
function crc32(bytes: Iterable<number>): number {
  let c = ~0;
  for (const byte of bytes) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return ~c >>> 0;
}
