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
