// Differential tests: the sandbox's FormData, its multipart/form-data serializer and parser, and
// application/x-www-form-urlencoded bodies, against Node's (undici's).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import "../platform.ts";
import { assertSame, node, ours, plain, type Realm } from "./realms.ts";

type AnyFormData = globalThis.FormData;

/** Entries, with each File's lastModified reduced to its type: the clocks of two runs differ. */
async function entriesOf(formData: AnyFormData): Promise<unknown> {
  const entries = (await plain([...formData])) as [string, unknown][];
  return entries.map(([name, value]) => {
    if (typeof value !== "object" || value === null || !("File" in value)) return [name, value];
    const file = (value as { File: Record<string, unknown> }).File;
    return [name, { File: { ...file, lastModified: typeof file.lastModified } }];
  });
}

describe("FormData against Node", () => {
  it("appends, sets, gets and deletes string entries in order", async () => {
    await assertSame((realm) => {
      const form = new realm.FormData();
      form.append("a", "1");
      form.append("b", "2");
      form.append("a", "3");
      form.append("a\ud800", { toString: () => "obj" } as unknown as string);
      const snapshot = [form.get("a"), form.getAll("a"), form.has("a"), form.has("z"), form.get("z"), form.getAll("z")];
      form.set("a", "4");
      const afterSet = [...form];
      form.set("c", "5");
      form.delete("b");
      form.delete("nothing");
      return [snapshot, afterSet, [...form], [...form.keys()], [...form.values()]];
    });
  });

  it("turns Blobs into Files named blob and honours a filename", async () => {
    await assertSame(async (realm) => {
      const form = new realm.FormData();
      const blob = new realm.Blob(["blob bytes"], { type: "Text/Plain" });
      const file = new realm.File(["file bytes"], "original.txt", { type: "a/b", lastModified: 42 });
      form.append("blob", blob);
      form.append("named blob", blob, "chosen.bin");
      form.append("file", file);
      form.append("renamed", file, "renamed.txt");
      form.set("set", blob, "set.txt");
      const renamed = form.get("renamed") as File;
      return [
        await entriesOf(form),
        form.get("blob") === blob,
        form.get("file") === file,
        renamed === file,
        renamed.lastModified,
        Object.prototype.toString.call(form.get("blob")),
      ];
    });
  });

  it("rejects wrong argument counts and a filename with a string value", async () => {
    const calls: [string, unknown[]][] = [
      ["append", ["a"]],
      ["append", []],
      ["append", ["a", "v", "file.txt"]],
      ["append", ["a", "v", undefined]],
      ["set", ["a", 5, "file.txt"]],
      ["set", ["a"]],
      ["get", []],
      ["getAll", []],
      ["has", []],
      ["delete", []],
      ["forEach", []],
      ["forEach", [5]],
    ];
    for (const [method, args] of calls) {
      await assertSame((realm) => {
        const form = new realm.FormData();
        (form as unknown as Record<string, (...args: unknown[]) => unknown>)[method](...args);
        return [...form];
      }, `${method}(${args.map(String).join(", ")})`);
    }
    await assertSame((realm) => new (realm.FormData as unknown as new (form: unknown) => AnyFormData)(undefined).has("x"));
    await assertSame((realm) => new (realm.FormData as unknown as new (form: unknown) => AnyFormData)({}));
  });

  it("iterates live, like the pair iterators of browsers", async () => {
    await assertSame((realm) => {
      const form = new realm.FormData();
      form.append("a", "1");
      form.append("b", "2");
      const seen: unknown[] = [];
      const iterator = form.entries();
      seen.push(iterator.next().value);
      form.delete("a");
      form.append("c", "3");
      for (const entry of iterator) seen.push(entry);
      const visited: unknown[] = [];
      form.forEach(function (this: unknown, value, name, self) {
        visited.push([name, value, self === form, this]);
        if (name === "b") form.append("d", "4");
      }, "thisArg");
      const proto = Object.getPrototypeOf(iterator);
      const next = Object.getOwnPropertyDescriptor(proto, "next")!;
      return [
        seen,
        visited,
        Object.prototype.toString.call(iterator),
        Object.getPrototypeOf(proto) === Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())),
        // Web IDL's iterator prototype object: own next (writable, enumerable, configurable) and @@toStringTag only.
        Reflect.ownKeys(proto).map(String),
        [next.writable, next.enumerable, next.configurable],
      ];
    });
  });
});

/** A FormData with every kind of awkward entry the multipart encoding has to escape. */
function awkwardForm(realm: Realm): AnyFormData {
  const form = new realm.FormData();
  form.append("plain", "value");
  form.append("empty", "");
  form.append("new\nline\rname", "multi\nline\r\nvalue\r");
  form.append('quote"name', "é ü 漢字 😀");
  form.append("file", new realm.File(["file\r\ncontent"], 'we"ird\nna\rme.txt', { type: "text/plain;charset=utf-8" }));
  form.append("binary", new realm.Blob([new Uint8Array([0, 1, 2, 0xff, 0x0d, 0x0a, 0x2d, 0x2d])]));
  form.append("empty file", new realm.File([], "empty.bin", { type: "application/x-empty" }));
  form.append("ünïcode", new realm.File(["ü"], "ümlaut.txt"));
  return form;
}

const withoutBoundary = (text: string, contentType: string): string => text.replaceAll(/boundary=(.*)$/.exec(contentType)![1], "BOUNDARY");

describe("multipart/form-data bodies", () => {
  it("serialize like undici's, boundary aside", async () => {
    await assertSame(async (realm) => {
      const response = new realm.Response(awkwardForm(realm));
      const contentType = response.headers.get("content-type")!;
      return [withoutBoundary(contentType, contentType), withoutBoundary(await response.text(), contentType)].map((text) => text.replace(/----formdata-[a-z]+-[0-9a-f]+/, "X"));
    });
  });

  it("round-trip: our serializer, undici's parser", async () => {
    const body = new ours.Response(awkwardForm(ours));
    const parsed = await new node.Response(await body.arrayBuffer(), { headers: body.headers as unknown as Headers }).formData();
    assert.deepEqual(await entriesOf(parsed), await entriesOf(await new node.Response(awkwardForm(node)).formData()));
  });

  it("round-trip: undici's serializer, our parser", async () => {
    const body = new node.Response(awkwardForm(node));
    const parsed = await new ours.Response(await body.arrayBuffer(), { headers: [...body.headers] }).formData();
    assert.deepEqual(await entriesOf(parsed), await entriesOf(await new node.Response(awkwardForm(node)).formData()));
  });

  it("round-trip through Request bodies too", async () => {
    await assertSame(async (realm) => {
      const request = new realm.Request("https://example.com/", { method: "POST", body: awkwardForm(realm) });
      return [request.headers.get("content-type")!.startsWith("multipart/form-data; boundary="), await entriesOf(await request.formData())];
    });
  });

  it("parse hand-written bodies like undici", async () => {
    // undici finds the boundary anywhere, not only after CRLF--, so no content here contains it.
    const CT = "multipart/form-data; boundary=XyZ";
    const bodies: [string, string, string][] = [
      ["simple", CT, '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--XyZ--\r\n'],
      ["no trailing CRLF", CT, '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--XyZ--'],
      ["leading blank lines", CT, '\r\n\r\n--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--XyZ--\r\n'],
      ["quoted boundary", 'multipart/form-data; boundary="XyZ"', '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--XyZ--\r\n'],
      ["uppercase essence", "Multipart/Form-Data; Boundary=XyZ", '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--XyZ--\r\n'],
      ["file without type", CT, '--XyZ\r\nContent-Disposition: form-data; name="f"; filename="f.txt"\r\n\r\ncontent\r\n--XyZ--\r\n'],
      ["file with type", CT, '--XyZ\r\nContent-Disposition: form-data; name="f"; filename="f.txt"\r\nContent-Type: Image/PNG  \r\n\r\n\x89PNG\r\n--XyZ--\r\n'],
      ["type on a string part", CT, '--XyZ\r\nContent-Type: text/html\r\nContent-Disposition: form-data; name="a"\r\n\r\n<i>\r\n--XyZ--\r\n'],
      ["header case and extra headers", CT, '--XyZ\r\ncontent-disposition: form-data; name="a"\r\nX-Other: 1\r\n\r\nv\r\n--XyZ--\r\n'],
      ["escaped names", CT, '--XyZ\r\nContent-Disposition: form-data; name="a%22b%0Ac%0d"; filename="x%22y"\r\n\r\nv\r\n--XyZ--\r\n'],
      ["empty value and empty body", CT, '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n\r\n--XyZ\r\nContent-Disposition: form-data; name="f"; filename=""\r\n\r\n\r\n--XyZ--\r\n'],
      ["value with CRLF--", CT, '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--Q\r\n--XyZZ\r\n--XyZ--\r\n'],
      ["no parts", CT, "--XyZ--\r\n"],
      ["missing boundary parameter", "multipart/form-data", '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--XyZ--\r\n'],
      ["wrong boundary", CT, '--Q\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--Q--\r\n'],
      ["no closing delimiter", CT, '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n'],
      ["no name", CT, '--XyZ\r\nContent-Disposition: form-data\r\n\r\n1\r\n--XyZ--\r\n'],
      ["not form-data", CT, '--XyZ\r\nContent-Disposition: attachment; name="a"\r\n\r\n1\r\n--XyZ--\r\n'],
      ["unterminated name", CT, '--XyZ\r\nContent-Disposition: form-data; name="a\r\n\r\n1\r\n--XyZ--\r\n'],
      ["bad header name", CT, '--XyZ\r\nBad Header: x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--XyZ--\r\n'],
      ["empty body", CT, ""],
    ];
    for (const [name, contentType, text] of bodies) {
      const bytes = Uint8Array.from(text, (char) => char.charCodeAt(0));
      await assertSame(async (realm) => entriesOf(await new realm.Response(bytes, { headers: { "content-type": contentType } }).formData()), name);
    }
  });
});

describe("application/x-www-form-urlencoded bodies", () => {
  it("parse into string entries", async () => {
    // A leading U+FEFF is not compared: the url chunk's parser strips it, undici (and the URL
    // Standard's "UTF-8 decode without BOM") keep it.
    const bodies = ["a=1&b=2&a=3", "", "&&a&=b&c=", "sp+ace=%20%2B+&%zz=%4", "%C3%A9=%E2%82%AC&raw=é", "a=b=c"];
    for (const body of bodies) {
      await assertSame(async (realm) => entriesOf(await new realm.Response(body, { headers: { "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8" } }).formData()), body);
    }
  });

  it("come from URLSearchParams bodies with their Content-Type", async () => {
    await assertSame(async (realm) => {
      const params = new realm.URLSearchParams([["a b", "c&d"], ["é", "=+"]]);
      const request = new realm.Request("https://example.com/", { method: "POST", body: params });
      return [request.headers.get("content-type"), await request.clone().text(), await entriesOf(await request.formData())];
    });
  });

  it("reject other Content-Types after using the body", async () => {
    for (const contentType of [null, "text/plain", "application/json", "multipart/mixed; boundary=b", "*/*", "garbage"]) {
      await assertSame(async (realm) => {
        const response = new realm.Response("a=1", { headers: contentType === null ? {} : { "content-type": contentType } });
        if (contentType === null) response.headers.delete("content-type");
        const result = await response.formData().then(entriesOf, (error: Error) => error.constructor.name);
        return [result, response.bodyUsed];
      }, String(contentType));
    }
  });
});
