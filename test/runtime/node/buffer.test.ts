// Differential tests: node:buffer's Buffer against Node's, for encodings, construction, numeric
// reads and writes, searching, comparing and the exact error classes, codes and messages.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inspect as nodeInspect } from "node:util";
import * as nodeBufferModule from "node:buffer";
import { nodeModule, outcome } from "./compat.ts";

type AnyBuffer = typeof Buffer;
const ours = nodeModule("buffer") as typeof nodeBufferModule;
const B = ours.Buffer as unknown as AnyBuffer;
const N = Buffer;
const { inspect } = nodeModule("util") as { inspect: typeof nodeInspect };

const encodings = ["utf8", "utf-8", "UTF8", "utf16le", "ucs2", "ucs-2", "latin1", "binary", "ascii", "hex", "base64", "base64url"];
const strings = ["", "hello", "héllo wörld", "€ 😀 \u{10ffff}", "\ud800", "a\udc00b", "\ud83d", "\u0000\u0001\u007f\u0080\u00ff\u0100", "YWJj", "aGVsbG8gd29ybGQ=", "YW Jj\n", "-_8", "+/8=", "YQ==x", "=YWJj", "deadbeef", "DEADBEEFz1", "abc", "a\u00e9\u4e2d"];
const byteCorpus = [[], [0], [0x41, 0x42], [0xe2, 0x82, 0xac], [0xe2, 0x28, 0xa1], [0xf0, 0x9f, 0x98, 0x80], [0xf0, 0x9f, 0x98], [0xff, 0xfe, 0xfd], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xef, 0xbb, 0xbf, 0x41], [0x80, 0x81, 0x7f], [1, 2, 3, 4, 5, 6, 7, 8, 9]];

describe("node:buffer encodings", () => {
  it("Buffer.from(string, encoding) and byteLength agree with Node", () => {
    for (const text of strings) {
      for (const encoding of encodings) {
        const label = `${JSON.stringify(text)} as ${encoding}`;
        assert.deepEqual(outcome(() => B.from(text, encoding as BufferEncoding)), outcome(() => N.from(text, encoding as BufferEncoding)), label);
        assert.equal(B.byteLength(text, encoding as BufferEncoding), N.byteLength(text, encoding as BufferEncoding), label);
      }
    }
  });

  it("toString(encoding, start, end) agrees with Node", () => {
    for (const bytes of byteCorpus) {
      for (const encoding of encodings) {
        const label = `${JSON.stringify(bytes)} as ${encoding}`;
        assert.equal(B.from(bytes).toString(encoding as BufferEncoding), N.from(bytes).toString(encoding as BufferEncoding), label);
        for (const [start, end] of [[1, undefined], [-1, 100], [1, 2], [2, 1], [0.5, 2.7]] as [number, number | undefined][]) {
          assert.deepEqual(
            outcome(() => B.from(bytes).toString(encoding as BufferEncoding, start, end)),
            outcome(() => N.from(bytes).toString(encoding as BufferEncoding, start, end)),
            `${label} [${start}, ${end})`,
          );
        }
      }
    }
    for (const encoding of ["", null, "nope", 1]) {
      assert.deepEqual(outcome(() => B.from("ab").toString(encoding as BufferEncoding)), outcome(() => N.from("ab").toString(encoding as BufferEncoding)));
    }
  });

  it("write(string, offset, length, encoding) writes whole characters only", () => {
    const cases: unknown[][] = [["€€"], ["€€", 1], ["abcdef", 1, "hex"], ["aé", 2, "utf16le"], ["xyz", 3, 1], ["😀", 0, 3], ["aé", 0, 3, "ucs2"], ["YWJj", "base64"], ["ab", 5], ["ab", -1], ["ab", 1.5], [5], ["x", 0, 9]];
    for (const args of cases) {
      const run = (Ctor: AnyBuffer) => () => {
        const buffer = Ctor.alloc(4);
        const written = (buffer.write as (...a: unknown[]) => number)(...args);
        return [written, Array.from(buffer)];
      };
      assert.deepEqual(outcome(run(B)), outcome(run(N)), JSON.stringify(args));
    }
  });

  it("isEncoding, isUtf8, isAscii, atob and btoa agree with Node", () => {
    for (const encoding of [...encodings, "", "nope", undefined, 5]) assert.equal(B.isEncoding(encoding as string), N.isEncoding(encoding as string), String(encoding));
    for (const bytes of byteCorpus) {
      assert.equal(ours.isUtf8(new Uint8Array(bytes)), nodeBufferModule.isUtf8(new Uint8Array(bytes)), JSON.stringify(bytes));
      assert.equal(ours.isAscii(new Uint8Array(bytes)), nodeBufferModule.isAscii(new Uint8Array(bytes)), JSON.stringify(bytes));
    }
    for (const text of ["", "YWJj", "YW Jj", "YQ", "YQ=", "YQ==", "Y", "YQ===", "=YQ", "@@", "aGVsbG8gd29ybGQ="]) {
      const o = outcome(() => ours.atob(text));
      const n = outcome(() => nodeBufferModule.atob(text));
      assert.deepEqual("error" in o ? "error" : o, "error" in n ? "error" : n, JSON.stringify(text));
    }
    for (const text of ["", "abc", "\u00ff", "\u0100"]) {
      const o = outcome(() => ours.btoa(text));
      const n = outcome(() => nodeBufferModule.btoa(text));
      assert.deepEqual("error" in o ? "error" : o, "error" in n ? "error" : n, JSON.stringify(text));
    }
  });
});

describe("node:buffer construction", () => {
  it("from() accepts what Node accepts and rejects the rest with the same error", () => {
    const ab = new ArrayBuffer(8);
    new Uint8Array(ab).set([1, 2, 3, 4, 5, 6, 7, 8]);
    const inputs: unknown[][] = [
      [[1, 2, 300, -1, 1.7, "7"]],
      [new Uint16Array([1, 256])],
      [{ length: 2, 0: 1, 1: 2 }],
      [{ type: "Buffer", data: [5, 6] }],
      [new String("ab")],
      [ab, 2, 3],
      [ab, 9],
      [ab, 2, 10],
      [ab, "x"],
      [5],
      [null],
      [Symbol.iterator],
      [{ [Symbol.toPrimitive]: () => "prim" }],
    ];
    for (const args of inputs) assert.deepEqual(outcome(() => (B.from as (...a: unknown[]) => Uint8Array)(...args)), outcome(() => (N.from as (...a: unknown[]) => Uint8Array)(...args)), String(args[0]));
    const view = B.from(ab, 2, 3);
    assert.equal(view.buffer, ab);
    assert.equal(view.byteOffset, 2);
  });

  it("alloc, fill, concat, of and copyBytesFrom agree with Node", () => {
    const calls: [string, (Ctor: AnyBuffer) => unknown][] = [
      ["alloc(5, 'ab')", (C) => C.alloc(5, "ab")],
      ["alloc(3, 257)", (C) => C.alloc(3, 257)],
      ["alloc(4, '6162', 'hex')", (C) => C.alloc(4, "6162", "hex")],
      ["alloc(2, 'zz', 'hex')", (C) => C.alloc(2, "zz", "hex")],
      ["alloc(-1)", (C) => C.alloc(-1)],
      ["alloc('3')", (C) => C.alloc("3" as unknown as number)],
      ["fill range", (C) => C.from("abcdef").fill("x", 1, 3)],
      ["fill buffer", (C) => C.alloc(5).fill(C.from([1, 2]))],
      ["fill true", (C) => C.alloc(2).fill(true as unknown as number)],
      ["fill empty", (C) => C.alloc(3, 9).fill("")],
      ["fill bad end", (C) => C.alloc(3).fill(1, 0, 9)],
      ["fill encoding", (C) => C.alloc(4).fill("é", "latin1")],
      ["concat", (C) => C.concat([C.from("a"), new Uint8Array([98])], 5)],
      ["concat short", (C) => C.concat([C.from("abc"), C.from("def")], 4)],
      ["concat bad", (C) => C.concat([1 as unknown as Uint8Array])],
      ["concat not array", (C) => C.concat("x" as unknown as Uint8Array[])],
      ["of", (C) => C.of(1, 2, 256)],
      ["copyBytesFrom", (C) => C.copyBytesFrom(new Uint16Array([1, 2, 3]), 1, 1)],
    ];
    for (const [label, call] of calls) assert.deepEqual(outcome(() => call(B)), outcome(() => call(N)), label);
  });

  it("is a Uint8Array whose constructor is Buffer, callable without new", () => {
    const buffer = B.from("ab");
    assert.ok(buffer instanceof Uint8Array);
    assert.ok(buffer instanceof B);
    assert.equal(buffer.constructor, B);
    assert.equal(B.name, "Buffer");
    assert.ok(B.isBuffer(buffer));
    assert.ok(!B.isBuffer(new Uint8Array(2)));
    assert.ok((B as unknown as (s: string) => Uint8Array)("x") instanceof B);
    assert.ok(buffer.subarray(1) instanceof B);
    assert.ok(buffer.map((x) => x) instanceof B);
    assert.equal(B.poolSize, 8192);
    assert.equal(ours.kMaxLength, nodeBufferModule.kMaxLength);
    assert.equal(ours.INSPECT_MAX_BYTES, 50);
  });
});

describe("node:buffer reading and writing numbers", () => {
  const reads = ["readUInt8", "readInt8", "readUInt16LE", "readUInt16BE", "readInt16LE", "readInt16BE", "readUInt32LE", "readUInt32BE", "readInt32LE", "readInt32BE", "readFloatLE", "readFloatBE", "readDoubleLE", "readDoubleBE", "readBigUInt64LE", "readBigUInt64BE", "readBigInt64LE", "readBigInt64BE", "readUint16LE", "readBigUint64BE"];
  const bytes = [0x80, 0x01, 0xff, 0x7f, 0x00, 0x12, 0xfe, 0x3f, 0xc0, 0x55];

  it("read* agrees with Node at every offset, including out of range and bad offsets", () => {
    for (const method of reads) {
      for (const offset of [undefined, 0, 1, 2, 5, 8, 9, 10, -1, 1.5, "1", NaN]) {
        const run = (C: AnyBuffer) => () => (C.from(bytes) as unknown as Record<string, (o?: unknown) => unknown>)[method](offset);
        assert.deepEqual(outcome(run(B)), outcome(run(N)), `${method}(${String(offset)})`);
      }
    }
    for (const method of ["readUIntLE", "readUIntBE", "readIntLE", "readIntBE"]) {
      for (const [offset, length] of [[0, 1], [0, 3], [1, 6], [4, 6], [0, 7], [0, 0], [undefined, 2], [0, undefined], [0, 1.5]]) {
        const run = (C: AnyBuffer) => () => (C.from(bytes) as unknown as Record<string, (o?: unknown, l?: unknown) => unknown>)[method](offset, length);
        assert.deepEqual(outcome(run(B)), outcome(run(N)), `${method}(${offset}, ${length})`);
      }
    }
  });

  it("write* agrees with Node, range errors included", () => {
    const writes: [string, unknown[]][] = [
      ["writeUInt8", [255]], ["writeUInt8", [256]], ["writeUInt8", [-1]], ["writeUInt8", [1.9]], ["writeUInt8", [NaN]], ["writeUInt8", ["3"]],
      ["writeInt8", [-128]], ["writeInt8", [200]],
      ["writeUInt16LE", [0xffff, 6]], ["writeUInt16LE", [0x10000]], ["writeUInt16BE", [0x1234, 7]], ["writeInt16LE", [-1.5]], ["writeInt16BE", [-32768]],
      ["writeUInt32LE", [2 ** 32 - 1]], ["writeUInt32BE", [2 ** 33]], ["writeInt32LE", [2 ** 31]], ["writeInt32BE", [-(2 ** 31), 4]],
      ["writeUIntLE", [2 ** 48 - 1, 0, 6]], ["writeUIntBE", [2 ** 49, 0, 6]], ["writeIntBE", [2 ** 49, 0, 6]], ["writeIntLE", [-5, 1, 3]], ["writeUIntLE", [1, 0, 7]], ["writeIntBE", [-(2 ** 47), 2, 6]],
      ["writeFloatLE", [1.1]], ["writeFloatBE", [-0, 4]], ["writeDoubleLE", [Math.PI]], ["writeDoubleBE", [1.5, 1]],
      ["writeBigInt64LE", [-2n]], ["writeBigUInt64BE", [2n ** 64n - 1n]], ["writeBigUInt64LE", [-1n]], ["writeBigInt64BE", [2n ** 63n]],
      ["writeUInt32LE", [1, "0"]], ["writeUInt32LE", [1, 5]],
    ];
    for (const [method, args] of writes) {
      const run = (C: AnyBuffer) => () => {
        const buffer = C.alloc(8);
        const end = (buffer as unknown as Record<string, (...a: unknown[]) => unknown>)[method](...args);
        return [end, Array.from(buffer)];
      };
      assert.deepEqual(outcome(run(B)), outcome(run(N)), `${method}(${args.map(String).join(", ")})`);
    }
  });

  it("round-trips random values through every width and byte order", () => {
    for (let i = 0; i < 200; i++) {
      const size = 1 + (i % 6);
      const value = Math.floor(Math.random() * 2 ** (size * 8));
      const signed = value - 2 ** (size * 8 - 1);
      for (const order of ["LE", "BE"]) {
        const a = B.alloc(8);
        const b = N.alloc(8);
        (a as unknown as Record<string, (...x: unknown[]) => unknown>)[`writeUInt${order}`](value, 1, size);
        (b as unknown as Record<string, (...x: unknown[]) => unknown>)[`writeUInt${order}`](value, 1, size);
        assert.deepEqual(Array.from(a), Array.from(b));
        (a as unknown as Record<string, (...x: unknown[]) => unknown>)[`writeInt${order}`](signed, 1, size);
        (b as unknown as Record<string, (...x: unknown[]) => unknown>)[`writeInt${order}`](signed, 1, size);
        assert.deepEqual(Array.from(a), Array.from(b));
        assert.equal((a as unknown as Record<string, (...x: unknown[]) => unknown>)[`readInt${order}`](1, size), signed);
      }
    }
  });
});

describe("node:buffer searching, comparing and slicing", () => {
  it("indexOf, lastIndexOf and includes agree with Node", () => {
    const haystack = [0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x00, 0x6c, 0x00];
    const needles: unknown[] = ["l", "ll", "", "lo", "z", 0x6c, 0x16c, "6c6c", Buffer.from("el"), new Uint8Array([0]), {}];
    for (const needle of needles) {
      for (const offset of [undefined, 0, 3, -2, -3, -20, 10, "utf8", 2.5, NaN]) {
        for (const method of ["indexOf", "lastIndexOf", "includes"] as const) {
          const run = (C: AnyBuffer) => () => {
            const value = needle instanceof Uint8Array ? C.from(needle) : needle;
            return (C.from(haystack)[method] as (...a: unknown[]) => unknown)(value, offset);
          };
          assert.deepEqual(outcome(run(B)), outcome(run(N)), `${method}(${String(needle)}, ${String(offset)})`);
        }
      }
    }
    for (const encoding of ["hex", "utf16le", "latin1", "base64", "nope"]) {
      assert.deepEqual(outcome(() => B.from("a\u0000b\u0000cd", "latin1").indexOf("b", 0, encoding as BufferEncoding)), outcome(() => N.from("a\u0000b\u0000cd", "latin1").indexOf("b", 0, encoding as BufferEncoding)), encoding);
    }
  });

  it("compare, equals, copy, slice and swap agree with Node", () => {
    const calls: [string, (C: AnyBuffer) => unknown][] = [
      ["compare", (C) => [C.compare(C.from("a"), C.from("ab")), C.compare(C.from("b"), C.from("a")), C.compare(C.from("x"), C.from("x"))]],
      ["compare bad", (C) => C.compare("a" as unknown as Uint8Array, C.from("a"))],
      ["prototype compare", (C) => [C.from("abc").compare(C.from("abd"), 0, 2, 0, 2), C.from("abc").compare(C.from("b"), 1, 1), C.from("abc").compare(C.from("abc"), 0, 3, 1)]],
      ["prototype compare range", (C) => C.from("abc").compare(C.from("abc"), 0, 9)],
      ["equals", (C) => [C.from("ab").equals(new Uint8Array([97, 98])), C.from("ab").equals(C.from("a"))]],
      ["equals bad", (C) => C.from("ab").equals("ab" as unknown as Uint8Array)],
      ["copy", (C) => { const t = C.alloc(5); return [C.from("abcdef").copy(t, 1, 2, 9), Array.from(t)]; }],
      ["copy negative", (C) => C.from("abc").copy(C.alloc(2), -1)],
      ["copy past", (C) => C.from("abc").copy(C.alloc(2), 0, 4)],
      ["slice", (C) => [C.from("abcdef").slice(-2).toString(), C.from("abcdef").subarray(1, 3).toString(), C.from("abc").slice(2, 1).length, C.from("abc").slice(undefined, -1).toString()]],
      ["swap16", (C) => C.from("abcd").swap16()],
      ["swap32", (C) => C.from("abcdefgh").swap32()],
      ["swap64", (C) => C.from("abcdefgh").swap64()],
      ["swap32 bad", (C) => C.from("abc").swap32()],
      ["toJSON", (C) => [C.from("abc").toJSON(), JSON.stringify(C.from("ab"))]],
    ];
    for (const [label, call] of calls) assert.deepEqual(outcome(() => call(B)), outcome(() => call(N)), label);
  });

  it("prints like Node's Buffer in util.inspect", () => {
    for (const bytes of [[], [1, 2, 255], Array.from({ length: 60 }, (_, i) => i)]) {
      assert.equal(inspect(B.from(bytes)), nodeInspect(N.from(bytes)));
    }
    assert.equal(inspect(Object.assign(B.from("ab"), { x: 1 })), nodeInspect(Object.assign(N.from("ab"), { x: 1 })));
    assert.equal(inspect({ data: B.from("hi") }), nodeInspect({ data: N.from("hi") }));
  });
});
