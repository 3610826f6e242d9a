// Bodies inside real sandboxes: a worker parses the multipart upload the host sends it, answers
// with a streamed Response, and builds Blobs, Files and FormData of its own.

import assert from "node:assert/strict";
import { test } from "node:test";
import { WorkerLoader } from "islet";
import { js } from "../helpers.ts";

const loader = new WorkerLoader();
test.after(() => loader.close());

test("a fetch handler reads the host's multipart upload and streams its answer", async () => {
  const ep = loader.load(
    js(`
    export default {
      async fetch(request) {
        const form = await request.formData();
        const file = form.get("upload");
        const lines = [
          "note=" + form.get("note"),
          "file=" + file.name + " " + file.type + " " + file.size + " " + (file instanceof File) + " " + (file instanceof Blob),
          "content=" + (await file.text()),
          "used=" + request.bodyUsed,
        ];
        const encoder = new TextEncoder();
        const body = new ReadableStream({
          pull(controller) {
            if (lines.length === 0) return controller.close();
            controller.enqueue(encoder.encode(lines.shift() + "\\n"));
          },
        });
        return new Response(body, { status: 201, headers: { "content-type": "text/plain" } });
      },
    };`),
  ).getEntrypoint();
  const form = new FormData();
  form.append("note", "héllo\nworld");
  form.append("upload", new File(["file \u00e9 content"], "data.txt", { type: "text/plain" }));
  const response = await ep.fetch(new Request("https://worker.example/upload", { method: "POST", body: form }));
  assert.equal(response.status, 201);
  assert.equal(
    await response.text(),
    ["note=héllo\r\nworld", `file=data.txt text/plain ${new Blob(["file \u00e9 content"]).size} true true`, "content=file \u00e9 content", "used=true", ""].join("\n"),
  );
});

test("a worker's FormData, Blob and URLSearchParams bodies reach the host intact", async () => {
  const ep = loader.load(
    js(`
    export default {
      async fetch(request) {
        const kind = new URL(request.url).pathname.slice(1);
        if (kind === "form") {
          const form = new FormData();
          form.append("name", 'quote " and \\r\\n newline');
          form.append("blob", new Blob([new Uint8Array([0, 1, 255])]));
          form.append("file", new File(["text"], "n\\"ame.txt", { type: "Text/Plain" }));
          return new Response(form);
        }
        if (kind === "blob") return new Response(new Blob(["<b>hi</b>"], { type: "text/html" }).slice(3, 5, "text/x-slice"));
        if (kind === "params") return new Response(new URLSearchParams({ a: "1 2", b: "é" }));
        if (kind === "echo") {
          const copy = request.clone();
          const params = await request.formData();
          return Response.json({ entries: [...params], text: await copy.text(), again: await request.text().catch((e) => e.name) });
        }
        return new Response(null, { status: 404 });
      },
    };`),
  ).getEntrypoint();

  const form = await (await ep.fetch("https://w.example/form")).formData();
  assert.equal(form.get("name"), 'quote " and \r\n newline');
  const blob = form.get("blob") as File;
  assert.deepEqual([blob.name, blob.type, [...new Uint8Array(await blob.arrayBuffer())]], ["blob", "application/octet-stream", [0, 1, 255]]);
  const file = form.get("file") as File;
  assert.deepEqual([file.name, file.type, await file.text()], ['n"ame.txt', "text/plain", "text"]);

  const sliced = await ep.fetch("https://w.example/blob");
  assert.equal(sliced.headers.get("content-type"), "text/x-slice");
  assert.equal(await sliced.text(), "hi");

  const params = await ep.fetch("https://w.example/params");
  assert.equal(params.headers.get("content-type"), "application/x-www-form-urlencoded;charset=UTF-8");
  assert.equal(await params.text(), "a=1+2&b=%C3%A9");

  const echo = await ep.fetch("https://w.example/echo", { method: "POST", body: new URLSearchParams("x=1&y=2&x=3") });
  assert.deepEqual(await echo.json(), { entries: [["x", "1"], ["y", "2"], ["x", "3"]], text: "x=1&y=2&x=3", again: "TypeError" });
});

test("bodies and Blobs are read without any stream being touched", async () => {
  const ep = loader.load(
    js(`
    export default {
      async fetch(request) {
        const text = await request.text();
        const blob = new Blob([text, "!"]);
        const untouched = typeof Object.getOwnPropertyDescriptor(globalThis, "ReadableStream").get;
        return new Response(await blob.text() + " " + (await new Response(blob).arrayBuffer()).byteLength + " " + untouched);
      },
    };`),
  ).getEntrypoint();
  const response = await ep.fetch("https://w.example/", { method: "PUT", body: "plain" });
  assert.equal(await response.text(), "plain! 6 function");
});

test("reading a body looks up no then on any object of its own (fetch/api/response/response-stream-with-broken-then)", async () => {
  // The web-platform-tests' cases, each in a fresh worker, and a then getter that counts every
  // lookup while a body is read: none may reach Object.prototype (only the user's own values may).
  const cases: Record<string, string> = {
    "stream, {done: false, value: bye}": `const resp = new Response(streamOf("hello"));
      Object.prototype.then = (f) => { delete Object.prototype.then; f({ done: false, value: bye }); }; return await resp.text();`,
    "stream, value: undefined": `const resp = new Response(streamOf("hello"));
      Object.prototype.then = (f) => { delete Object.prototype.then; f({ done: false, value: undefined }); }; return await resp.text();`,
    "stream, undefined": `const resp = new Response(streamOf("hello"));
      Object.prototype.then = (f) => { delete Object.prototype.then; f(undefined); }; return await resp.text();`,
    "stream, 8.2": `const resp = new Response(streamOf("hello"));
      Object.prototype.then = (f) => { delete Object.prototype.then; f(8.2); }; return await resp.text();`,
    "bytes to text": `const resp = new Response(new TextEncoder().encode("hello"));
      Object.prototype.then = (f) => { delete Object.prototype.then; f({ done: false, value: bye }); }; return await resp.text();`,
    "bytes to a pipe": `const resp = new Response(new TextEncoder().encode("hello")); const out = [];
      const ws = new WritableStream({ write(chunk) { out.push(...chunk); } });
      Object.prototype.then = (f) => { delete Object.prototype.then; f({ done: false, value: bye }); };
      await resp.body.pipeTo(ws); return String.fromCharCode(...out);`,
    "lookups while reading": `const seen = [];
      const bodies = [new Response(streamOf("he", "llo")), new Response("hello"), new Response(new Blob(["hello"])), new Request("https://a.example/", { method: "POST", body: streamOf("hello"), duplex: "half" })];
      const piped = new Response(streamOf("he", "llo")); const ws = new WritableStream({ write() {} });
      const clone = new Response(streamOf("he", "llo")).clone();
      Object.defineProperty(Object.prototype, "then", { configurable: true, get() { seen.push(Object.keys(this).join("/")); return undefined; } });
      const texts = [];
      try {
        for (const body of bodies) texts.push(await body.text());
        await piped.body.pipeTo(ws);
        texts.push(await clone.text());
        texts.push(await new Response(streamOf("hello").pipeThrough(new CompressionStream("gzip")).pipeThrough(new DecompressionStream("gzip"))).text());
      } finally { delete Object.prototype.then; }
      return seen.length === 0 && texts.every((text) => text === "hello") ? "hello" : JSON.stringify([seen, texts]);`,
  };
  for (const [name, body] of Object.entries(cases)) {
    const ep = loader.load(
      js(`const streamOf = (...parts) => new ReadableStream({ start(c) { for (const p of parts) c.enqueue(new TextEncoder().encode(p)); c.close(); } });
        export default { async run() { const bye = new TextEncoder().encode("bye"); try { ${body} } finally { delete Object.prototype.then; } } };`),
    ).getEntrypoint() as unknown as { run(): Promise<string> };
    assert.equal(await ep.run(), "hello", name);
  }
});
