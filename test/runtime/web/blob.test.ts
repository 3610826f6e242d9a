// Differential tests: the sandbox's Blob and File against Node's (the File API as undici uses it).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import "../platform.ts";
import { assertSame, bytesOf, ours, plain, type Realm } from "./realms.ts";

const { Blob, File } = ours;

function parts(realm: Realm): Record<string, () => unknown> {
  const backing = new Uint8Array([0x61, 0x62, 0x63, 0x64, 0x65, 0x66]);
  return {
    "no parts": () => [],
    strings: () => ["héllo", " ", "wörld"],
    "lone surrogates": () => ["a\ud800b", "\udc00"],
    ArrayBuffer: () => [backing.buffer.slice(0)],
    "Uint8Array subarray": () => [backing.subarray(1, 4)],
    DataView: () => [new DataView(backing.buffer, 2, 3)],
    Int16Array: () => [new Int16Array([0x4142, 0x4344])],
    Blob: () => [new realm.Blob(["inner"]), "-", new realm.Blob([new Uint8Array([0x21])])],
    "object with toString": () => [{ toString: () => "custom" }, 42, null, undefined],
    Set: () => new Set(["a", "b"]),
    generator: () => (function* () { yield "x"; yield "y"; })(),
    string: () => "not a sequence",
    number: () => 5,
    null: () => null,
    "plain object": () => ({ length: 1, 0: "x" }),
    symbol: () => [Symbol("s")],
  };
}

function describeBlob(blob: globalThis.Blob): Promise<unknown> {
  return plain([blob.size, blob.type, blob.text(), blob.arrayBuffer(), blob.bytes(), Object.prototype.toString.call(blob)]);
}

describe("Blob against Node", () => {
  it("takes strings, buffers, Blobs and any iterable as parts", async () => {
    for (const name of Object.keys(parts(ours))) {
      await assertSame((realm) => describeBlob(new realm.Blob(parts(realm)[name]() as BlobPart[])), name);
    }
    // No parts, or undefined for them, is an empty Blob (Web IDL); Node's types require the parts.
    await assertSame((realm) => describeBlob(new (realm.Blob as unknown as new (...args: unknown[]) => Blob)()));
    await assertSame((realm) => describeBlob(new (realm.Blob as unknown as new (...args: unknown[]) => Blob)(undefined)));
  });

  it("copies buffer parts when it is made", async () => {
    await assertSame(async (realm) => {
      const bytes = new Uint8Array([0x61, 0x62]);
      const blob = new realm.Blob([bytes]);
      bytes[0] = 0x7a;
      const out = await blob.bytes();
      out[1] = 0x7a;
      return [await blob.text(), await describeBlob(blob)];
    });
  });

  it("normalizes the type and validates endings", async () => {
    const options: unknown[] = [
      { type: "Text/Plain;Charset=UTF-8" },
      { type: "a\u00e9" },
      { type: "tab\there" },
      { type: "\u007f" },
      { type: " spaced " },
      { type: 5 },
      { endings: "transparent" },
      { endings: "native" },
      { endings: "bad" },
      null,
      undefined,
      "options",
    ];
    for (const option of options) {
      await assertSame((realm) => describeBlob(new realm.Blob(["a\r\nb\nc"], option as BlobPropertyBag)), JSON.stringify(option));
    }
  });

  it("converts every line ending to LF with endings: native", async () => {
    // Node 20 converts only LF and CRLF; the File API (and browsers) also convert a lone CR.
    assert.equal(await new Blob(["a\r\nb\rc\nd\r"], { endings: "native" }).text(), "a\nb\nc\nd\n");
    assert.equal(await new Blob([new Uint8Array([0x0d, 0x0a])], { endings: "native" }).text(), "\r\n");
  });

  it("slices with negative, out-of-range and odd indices", async () => {
    // NaN and fractions abort Node 20's process (a native assertion); see the test below.
    const indices: unknown[] = [undefined, 0, 1, 3, 5, 6, 7, 100, -1, -3, -6, -7, -100, Infinity, -Infinity, "2", null];
    for (const start of indices) {
      for (const end of indices) {
        await assertSame((realm) => describeBlob(new realm.Blob(["abcdef"], { type: "text/x" }).slice(start as number, end as number)), `${String(start)}..${String(end)}`);
      }
    }
  });

  it("rounds fractional indices half to even and treats NaN as 0 ([Clamp] long long)", async () => {
    const blob = new Blob(["abcdef"]);
    const cases: [number, number, string][] = [[NaN, 2, "ab"], [2.4, NaN, ""], [2.5, 6, "cdef"], [3.5, 6, "ef"], [2.6, -2.5, "d"], [-2.4, 6, "ef"], [0, 1e300, "abcdef"]];
    for (const [start, end, text] of cases) assert.equal(await blob.slice(start, end).text(), text, `${start}..${end}`);
  });

  it("gives a slice the content type asked for, normalized", async () => {
    for (const type of [undefined, "", "Text/HTML", "\u00e9", "x/y;a=B", null, 7]) {
      await assertSame((realm) => describeBlob(new realm.Blob(["abc"], { type: "a/b" }).slice(1, undefined, type as string)), String(type));
    }
  });

  it("slices of slices address the original bytes", async () => {
    await assertSame(async (realm) => {
      const blob = new realm.Blob(["0123456789"]);
      const inner = blob.slice(2, 8).slice(1, -1).slice(-2);
      return [await inner.text(), await new realm.Blob([inner, blob.slice(-1)]).text()];
    });
  });

  it("streams its bytes, to default and BYOB readers", async () => {
    await assertSame(async (realm) => {
      const blob = new realm.Blob(["stream me"]);
      const stream = blob.stream();
      return [Object.prototype.toString.call(stream), await bytesOf(stream), await blob.text()];
    });
    await assertSame(async (realm) => {
      const reader = new realm.Blob(["byob"]).stream().getReader({ mode: "byob" });
      const first = await reader.read(new Uint8Array(2));
      return [first.done, [...first.value!]];
    });
    await assertSame(async (realm) => bytesOf(new realm.Blob([]).stream()));
  });

  it("brand-checks its methods", async () => {
    await assertSame((realm) => realm.Blob.prototype.text.call({}));
    await assertSame((realm) => Object.getOwnPropertyDescriptor(realm.Blob.prototype, "size")!.get!.call({}));
  });
});

function describeFile(file: globalThis.File): Promise<unknown> {
  return plain([file.name, file.lastModified, file.size, file.type, file.text(), file instanceof Blob || (file as object) instanceof globalThis.Blob, Object.prototype.toString.call(file)]);
}

describe("File against Node", () => {
  it("has a name, a type and the bits it was given", async () => {
    for (const name of ["f.txt", "", "a\ud800", 5, null, undefined, { toString: () => "obj" }]) {
      await assertSame((realm) => describeFile(new realm.File(["bits"], name as string, { lastModified: 1 })), String(name));
    }
    await assertSame((realm) => describeFile(new realm.File([new realm.Blob(["x"]), "y"], "n", { type: "Text/Plain", lastModified: 2, endings: "native" })));
  });

  it("requires bits and a name", async () => {
    await assertSame((realm) => new (realm.File as unknown as new (...args: unknown[]) => File)(["x"]));
    await assertSame((realm) => new (realm.File as unknown as new (...args: unknown[]) => File)());
    await assertSame((realm) => new realm.File("x" as never, "n") /* a string, not a sequence of parts */);
  });

  it("converts lastModified as a long long", async () => {
    for (const lastModified of [0, 12, -5, "12", NaN, 1e15, null, true]) {
      await assertSame((realm) => new realm.File([], "n", { lastModified: lastModified as number }).lastModified, String(lastModified));
    }
    // Web IDL truncates fractions and makes infinities 0; Node 20 keeps both as they are.
    assert.equal(new File([], "n", { lastModified: Infinity }).lastModified, 0);
    assert.equal(new File([], "n", { lastModified: 1.7 }).lastModified, 1);
    assert.equal(new File([], "n", { lastModified: -1.7 }).lastModified, -1);
  });

  it("defaults lastModified to now", () => {
    const before = Date.now();
    const file = new File([], "n");
    assert.ok(file.lastModified >= before && file.lastModified <= Date.now());
    assert.equal(new File([], "n", { lastModified: undefined }).lastModified >= before, true);
  });

  it("slices to a Blob, not a File", async () => {
    await assertSame((realm) => {
      const slice = new realm.File(["abc"], "n", { type: "a/b" }).slice(1);
      return [Object.prototype.toString.call(slice), slice instanceof realm.File, slice.type];
    });
  });
});
