// Differential tests: the sandbox's Request and Response against Node's built-in (undici) ones,
// plus the record converters that carry them across the sandbox boundary.

import assert from "node:assert/strict";
import { outcome, type Outcome } from "./differential.ts";
import { afterEach, describe, it } from "node:test";
import "../platform.ts";
import { URLSearchParams as OurURLSearchParams } from "../../../src/runtime/web/url/index.ts";
import {
  Headers,
  Request,
  requestFromRecord,
  requestToRecord,
  Response,
  responseFromRecord,
  responseToRecord,
} from "../../../src/runtime/web/fetch.ts";
import { setUrlParser } from "../../../src/testing.ts";

const NodeRequest = globalThis.Request;
const NodeResponse = globalThis.Response;
type ResponseClass = typeof NodeResponse;
type RequestClass = typeof NodeRequest;
const OurResponse = Response as unknown as ResponseClass;
const OurRequest = Request as unknown as RequestClass;


async function settle(promise: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { value: await promise() };
  } catch (error) {
    return { error: (error as Error).constructor.name };
  }
}

async function assertSameAsync(scenario: (ResponseImpl: ResponseClass, RequestImpl: RequestClass) => Promise<unknown>, message?: string): Promise<void> {
  const ours = await settle(() => scenario(OurResponse, OurRequest));
  const node = await settle(() => scenario(NodeResponse, NodeRequest));
  assert.deepEqual(ours, node, message);
}

function assertSame(scenario: (ResponseImpl: ResponseClass, RequestImpl: RequestClass) => unknown, message?: string): void {
  assert.deepEqual(outcome(() => scenario(OurResponse, OurRequest)), outcome(() => scenario(NodeResponse, NodeRequest)), message);
}

type AnyResponse = InstanceType<ResponseClass>;
type AnyRequest = InstanceType<RequestClass>;
type BodyReader = "text" | "arrayBuffer" | "bytes" | "json";

function readBody(body: AnyResponse | AnyRequest, read: BodyReader): Promise<unknown> {
  return (body as unknown as Record<BodyReader, () => Promise<unknown>>)[read].call(body);
}

function redirect(ResponseImpl: ResponseClass, ...args: unknown[]): AnyResponse {
  return (ResponseImpl.redirect as (...args: unknown[]) => AnyResponse).apply(ResponseImpl, args);
}

function describeResponse(response: AnyResponse): unknown {
  return {
    status: response.status,
    statusText: response.statusText,
    ok: response.ok,
    type: response.type,
    url: response.url,
    redirected: response.redirected,
    bodyUsed: response.bodyUsed,
    headers: [...response.headers],
    tag: Object.prototype.toString.call(response),
  };
}

function describeRequest(request: AnyRequest): unknown {
  return {
    url: request.url,
    method: request.method,
    redirect: request.redirect,
    cache: request.cache,
    credentials: request.credentials,
    mode: request.mode,
    bodyUsed: request.bodyUsed,
    headers: [...request.headers],
    tag: Object.prototype.toString.call(request),
  };
}

const URL_A = "https://example.com/a?b=c";

/** BodyInit values; URLSearchParams comes from the realm whose Response reads it. */
function bodyInits(SearchParams: typeof URLSearchParams = URLSearchParams): Record<string, () => unknown> {
  const backing = new Uint8Array([0x78, 0x68, 0xc3, 0xa9, 0x79, 0x7a]);
  return {
    string: () => "héllo",
    "empty string": () => "",
    ArrayBuffer: () => backing.buffer.slice(0),
    Uint8Array: () => new Uint8Array([0x68, 0x69]),
    "Uint8Array subarray": () => backing.subarray(1, 4),
    DataView: () => new DataView(backing.buffer, 2, 2),
    Int32Array: () => new Int32Array([0x41424344]),
    number: () => 42,
    object: () => ({ toString: () => "custom" }),
    URLSearchParams: () => new SearchParams("a=1&b=\u00e9 x"),
    null: () => null,
    undefined: () => undefined,
  };
}

function realmBody(ResponseImpl: ResponseClass, name: string): unknown {
  const SearchParams = ResponseImpl === OurResponse ? (OurURLSearchParams as unknown as typeof URLSearchParams) : URLSearchParams;
  return bodyInits(SearchParams)[name]();
}

describe("Response against Node", () => {
  it("reads every kind of body and defaults Content-Type like Node", async () => {
    for (const name of Object.keys(bodyInits())) {
      for (const read of ["text", "arrayBuffer", "bytes", "json"] as const) {
        await assertSameAsync(async (ResponseImpl) => {
          const response = new ResponseImpl(realmBody(ResponseImpl, name) as string);
          const before = describeResponse(response);
          const result = await settle(async () => {
            const value = await readBody(response, read);
            return value instanceof ArrayBuffer ? ["ArrayBuffer", [...new Uint8Array(value)]] : value instanceof Uint8Array ? ["Uint8Array", [...value]] : value;
          });
          return [before, result, describeResponse(response)];
        }, `${name} via ${read}()`);
      }
    }
  });

  it("keeps a Content-Type given in init", async () => {
    await assertSameAsync(async (ResponseImpl) => [...new ResponseImpl("x", { headers: { "content-type": "text/html" } }).headers]);
    await assertSameAsync(async (ResponseImpl) => [...new ResponseImpl("x", { headers: [["Content-Type", "a/b"]] }).headers]);
  });

  it("copies buffer bodies at construction", async () => {
    await assertSameAsync(async (ResponseImpl) => {
      const bytes = new Uint8Array([0x61, 0x62]);
      const response = new ResponseImpl(bytes);
      bytes[0] = 0x7a;
      return response.text();
    });
  });

  it("rejects a second read with TypeError and reports bodyUsed", async () => {
    for (const read of ["text", "arrayBuffer", "bytes", "json"] as const) {
      await assertSameAsync(async (ResponseImpl) => {
        const response = new ResponseImpl('"once"');
        const first = await settle(() => readBody(response, read).then(() => "read"));
        const usedAfterFirst = response.bodyUsed;
        const second = await settle(() => response.text());
        return [first, usedAfterFirst, second, response.bodyUsed];
      }, read);
    }
  });

  it("marks the body used as soon as reading starts", async () => {
    await assertSameAsync(async (ResponseImpl) => {
      const response = new ResponseImpl("x");
      const pending = response.text();
      const used = response.bodyUsed;
      return [used, await pending];
    });
  });

  it("reads a null body any number of times without using it", async () => {
    await assertSameAsync(async (ResponseImpl) => {
      const response = new ResponseImpl(null);
      return [await response.text(), await response.text(), [...new Uint8Array(await response.arrayBuffer())], response.bodyUsed, await settle(() => response.json())];
    });
  });

  it("rejects invalid JSON with SyntaxError", async () => {
    await assertSameAsync(async (ResponseImpl) => new ResponseImpl("{nope").json());
    await assertSameAsync(async (ResponseImpl) => new ResponseImpl(new Uint8Array([0xef, 0xbb, 0xbf, 0x31])).json());
  });

  it("clones before use and refuses after use", async () => {
    await assertSameAsync(async (ResponseImpl) => {
      const response = new ResponseImpl("body", { status: 201, statusText: "Made", headers: { "x-a": "1" } });
      const copy = response.clone();
      copy.headers.set("x-a", "2");
      const texts = [await response.text(), await copy.text()];
      return [texts, describeResponse(response), describeResponse(copy), outcome(() => response.clone())];
    });
    await assertSameAsync(async (ResponseImpl) => {
      const response = new ResponseImpl(null, { status: 204 });
      await response.text();
      return describeResponse(response.clone());
    });
  });

  it("checks status range, null-body statuses and status text", () => {
    const statuses: unknown[] = [100, 101, 103, 199, 200, 204, 205, 299, 300, 304, 399, 404, 599, 600, 0, -1, 200.9, "201", 65736, NaN, undefined];
    for (const status of statuses) {
      for (const body of [null, "", "x"]) {
        assertSame((ResponseImpl) => describeResponse(new ResponseImpl(body, { status: status as number })), `status ${String(status)} body ${JSON.stringify(body)}`);
      }
    }
    for (const statusText of ["OK", "", "Tab\tand space", "Latin-1 \u00e9", "bad\n", "bad\r", "\u0100", "\u007f"]) {
      assertSame((ResponseImpl) => describeResponse(new ResponseImpl(null, { statusText })), JSON.stringify(statusText));
    }
  });

  it("rejects malformed init arguments", () => {
    for (const init of [null, undefined, {}, 5, "x"]) {
      assertSame((ResponseImpl) => describeResponse(new ResponseImpl("b", init as ResponseInit)), String(init));
    }
  });

  it("Response.json serializes and sets application/json unless given", async () => {
    const cases: [unknown, ResponseInit | undefined][] = [
      [{ a: [1, "é", null] }, undefined],
      ["text", { status: 201, headers: { "X-Extra": "1" } }],
      [{ a: 1 }, { headers: { "content-type": "application/vnd.api+json" } }],
      [undefined, undefined],
      [() => 1, undefined],
      [{ a: 1 }, { status: 204 }],
      [{ a: 1 }, { status: 700 }],
      [1n, undefined],
    ];
    for (const [data, init] of cases) {
      await assertSameAsync(async (ResponseImpl) => {
        const response = ResponseImpl.json(data, init);
        return [describeResponse(response), await response.text()];
      }, `${typeof data} ${JSON.stringify(init)}`);
    }
  });

  it("Response.redirect accepts only redirect statuses and sets Location", () => {
    for (let status = 298; status <= 310; status++) {
      assertSame((ResponseImpl) => describeResponse(redirect(ResponseImpl, "https://example.com/next", status)), `status ${status}`);
    }
    assertSame((ResponseImpl) => describeResponse(redirect(ResponseImpl, "https://example.com/default")));
    assertSame((ResponseImpl) => describeResponse(redirect(ResponseImpl, "/relative")));
    assertSame((ResponseImpl) => describeResponse(redirect(ResponseImpl, "not a url", 301)));
    assertSame((ResponseImpl) => describeResponse(redirect(ResponseImpl)));
  });

  it("Response.error is a network error with immutable headers", () => {
    assertSame((ResponseImpl) => {
      const response = ResponseImpl.error();
      return [describeResponse(response), response.body, outcome(() => response.headers.set("a", "b"))];
    });
  });
});

describe("Request against Node", () => {
  it("normalizes methods and rejects forbidden or malformed ones", () => {
    const methods: unknown[] = ["get", "Get", "GET", "post", "put", "delete", "options", "head", "HeAd", "patch", "PATCH", "custom", "M-SEARCH", "CONNECT", "connect", "trace", "TRACK", "", "bad method", "ü", "\u0100", undefined];
    for (const method of methods) {
      assertSame((_ResponseImpl, RequestImpl) => describeRequest(new RequestImpl(URL_A, { method: method as string })), String(method));
    }
  });

  it("rejects a body on GET and HEAD", () => {
    for (const method of ["GET", "HEAD", "get", "POST"]) {
      for (const body of [null, undefined, "", "x", new Uint8Array(0)]) {
        assertSame((_ResponseImpl, RequestImpl) => describeRequest(new RequestImpl(URL_A, { method, body })), `${method} ${String(body)}`);
      }
    }
  });

  it("has the standard defaults and validates enums", () => {
    assertSame((_ResponseImpl, RequestImpl) => describeRequest(new RequestImpl(URL_A)));
    const inits: Record<string, unknown>[] = [
      { redirect: "manual" },
      { redirect: "error" },
      { redirect: "bogus" },
      { cache: "no-store", credentials: "include", mode: "no-cors" },
      { cache: "invalid" },
      { credentials: "invalid" },
      { mode: "navigate" },
      { mode: "invalid" },
      { cache: "only-if-cached" },
      { cache: "only-if-cached", mode: "same-origin" },
    ];
    for (const init of inits) {
      assertSame((_ResponseImpl, RequestImpl) => describeRequest(new RequestImpl(URL_A, init)), JSON.stringify(init));
    }
  });

  it("rejects relative and malformed URLs with TypeError", () => {
    for (const url of ["/relative", "example.com", "", "1http://x"]) {
      assertSame((_ResponseImpl, RequestImpl) => describeRequest(new RequestImpl(url)), url);
    }
    assertSame((_ResponseImpl, RequestImpl) => describeRequest(new (RequestImpl as unknown as new () => AnyRequest)()));
  });

  it("sets Content-Type from the body and keeps an explicit one", () => {
    for (const name of Object.keys(bodyInits())) {
      assertSame((ResponseImpl, RequestImpl) => describeRequest(new RequestImpl(URL_A, { method: "POST", body: realmBody(ResponseImpl, name) as string })), name);
    }
    assertSame((_ResponseImpl, RequestImpl) =>
      describeRequest(new RequestImpl(URL_A, { method: "PUT", body: "x", headers: { "Content-Type": "text/csv" } })),
    );
  });

  it("reads bodies once, clones before use and refuses after", async () => {
    await assertSameAsync(async (_ResponseImpl, RequestImpl) => {
      const request = new RequestImpl(URL_A, { method: "POST", body: "payload", headers: { "x-a": "1" } });
      const copy = request.clone();
      const first = await request.text();
      return [first, await settle(() => request.text()), outcome(() => request.clone()), await copy.text(), describeRequest(request), describeRequest(copy)];
    });
  });

  it("takes over the body of a Request input, leaving the input used", async () => {
    await assertSameAsync(async (_ResponseImpl, RequestImpl) => {
      const original = new RequestImpl(URL_A, { method: "POST", body: "moved", headers: { "x-a": "1" }, redirect: "manual" });
      const derived = new RequestImpl(original);
      derived.headers.set("x-a", "2");
      return [describeRequest(original), describeRequest(derived), await derived.text(), outcome(() => new RequestImpl(original))];
    });
    await assertSameAsync(async (_ResponseImpl, RequestImpl) => {
      const original = new RequestImpl(URL_A, { method: "POST", body: "kept" });
      const replaced = new RequestImpl(original, { body: "new", headers: { other: "h" } });
      return [describeRequest(original), describeRequest(replaced), await original.text(), await replaced.text()];
    });
    await assertSameAsync(async (_ResponseImpl, RequestImpl) => {
      const original = new RequestImpl(URL_A, { method: "POST", body: "x" });
      return describeRequest(new RequestImpl(original, { method: "GET" }));
    });
  });
});

describe("body streams", () => {
  it("is null without a body", () => {
    assert.equal(new Response(null).body, null);
    assert.equal(new Request(URL_A).body, null);
  });

  it("is a one-chunk ReadableStream, and reading it uses the body", async () => {
    const response = new Response("streamed");
    const stream = response.body as unknown as ReadableStream<Uint8Array>;
    assert.equal(response.body, stream);
    assert.equal(response.bodyUsed, false);
    const reader = stream.getReader();
    await assert.rejects(response.text(), TypeError);
    const chunks: number[] = [];
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) chunks.push(...chunk.value);
    assert.equal(new TextDecoder().decode(new Uint8Array(chunks)), "streamed");
    assert.equal(response.bodyUsed, true);
    assert.throws(() => response.clone(), TypeError);
  });

  it("leaves the stream locked after text()", async () => {
    const response = new Response("x");
    const stream = response.body as unknown as ReadableStream<Uint8Array>;
    assert.equal(await response.text(), "x");
    assert.equal(stream.locked, true);
    const later = new Response("y");
    await later.text();
    assert.equal((later.body as unknown as ReadableStream).locked, true);
  });
});

describe("records", () => {
  afterEach(() => setUrlParser());

  it("requestFromRecord builds a Request with immutable headers", async () => {
    const buffer = new Uint8Array([0, 0x62, 0x6f, 0x64, 0x79, 0]);
    const request = requestFromRecord({
      url: URL_A,
      method: "POST",
      headers: [["content-type", "text/plain"], ["set-cookie", "a=1"], ["set-cookie", "b=2"]],
      body: buffer.subarray(1, 5),
      redirect: "manual",
    });
    assert.equal(request.url, URL_A);
    assert.equal(request.method, "POST");
    assert.equal(request.redirect, "manual");
    assert.deepEqual(request.headers.getSetCookie(), ["a=1", "b=2"]);
    assert.throws(() => request.headers.set("x", "y"), TypeError);
    assert.equal(await request.text(), "body");
    const mutable = new Request(requestFromRecord({ url: URL_A, method: "GET", headers: [["a", "1"]], body: null, redirect: "follow" }));
    mutable.headers.set("a", "2");
    assert.equal(mutable.headers.get("a"), "2");
  });

  it("requestToRecord consumes the body and keeps set-cookie values apart", async () => {
    const headers = new Headers([["Set-Cookie", "a=1"], ["set-cookie", "b=2"], ["X-Multi", "1"], ["x-multi", "2"]]);
    const request = new Request(URL_A, { method: "put", body: "data", headers, redirect: "error" });
    const record = await requestToRecord(request);
    assert.deepEqual({ ...record, body: record.body && [...record.body] }, {
      url: URL_A,
      method: "PUT",
      headers: [
        ["content-type", "text/plain;charset=UTF-8"],
        ["set-cookie", "a=1"],
        ["set-cookie", "b=2"],
        ["x-multi", "1, 2"],
      ],
      body: [0x64, 0x61, 0x74, 0x61],
      redirect: "error",
    });
    assert.equal(request.bodyUsed, true);
    await assert.rejects(requestToRecord(request), TypeError);
    assert.equal((await requestToRecord(new Request(URL_A))).body, null);
  });

  it("responseToRecord and responseFromRecord round-trip", async () => {
    const response = new Response("hello", { status: 202, statusText: "Accepted", headers: [["set-cookie", "a=1"], ["Set-Cookie", "b=2"]] });
    const record = await responseToRecord(response);
    assert.equal(response.bodyUsed, true);
    assert.deepEqual(record.headers, [
      ["content-type", "text/plain;charset=UTF-8"],
      ["set-cookie", "a=1"],
      ["set-cookie", "b=2"],
    ]);
    const back = responseFromRecord(record);
    assert.equal(back.status, 202);
    assert.equal(back.statusText, "Accepted");
    assert.deepEqual(back.headers.getSetCookie(), ["a=1", "b=2"]);
    assert.throws(() => back.headers.append("x", "y"), TypeError);
    assert.equal(await back.text(), "hello");
    await assert.rejects(responseToRecord(response), TypeError);
    assert.equal((await responseToRecord(new Response(null, { status: 204 }))).body, null);
  });

  it("read streamed bodies to their end", async () => {
    const { ReadableStream: OurReadableStream } = await import("../../../src/runtime/web/streams/index.ts");
    const parts = ["str", "eam", "ed"];
    const stream = () => new OurReadableStream({ pull: (c) => (parts.length > 0 ? c.enqueue(new TextEncoder().encode(parts.shift())) : c.close()) });
    const record = await responseToRecord(new Response(stream() as never, { status: 201 }));
    assert.equal(new TextDecoder().decode(record.body!), "streamed");
    parts.push("up", "load");
    const request = new Request(URL_A, { method: "POST", body: stream(), duplex: "half" } as never);
    assert.equal(new TextDecoder().decode((await requestToRecord(request)).body!), "upload");
    assert.equal(request.bodyUsed, true);
    const failing = new Response(new OurReadableStream({ pull: (c) => c.error(new RangeError("broken")) }) as never);
    await assert.rejects(responseToRecord(failing), RangeError);
  });

  it("responseFromRecord takes the host's status as it is", async () => {
    const response = responseFromRecord({ status: 101, statusText: "Switching Protocols", headers: [], body: null });
    assert.equal(response.status, 101);
    assert.equal(response.ok, false);
    assert.equal(response.body, null);
    const clone = responseFromRecord({ status: 200, statusText: "", headers: [["a", "1"]], body: new Uint8Array([0x7b, 0x7d]) }).clone();
    assert.deepEqual(await clone.json(), {});
    assert.throws(() => clone.headers.delete("a"), TypeError);
  });

  it("parses URLs with the WHATWG parser, or the hook's", () => {
    assert.equal(new Request("HTTPS://Example.COM/a/../b").url, "https://example.com/b");
    assert.equal(Response.redirect("http://x.test").headers.get("location"), "http://x.test/");
    assert.throws(() => new Request("http://"), { name: "TypeError", message: "Invalid URL: http://" });
    assert.throws(() => new Request("//example.com/"), TypeError);
    setUrlParser((input) => input);
    assert.equal(new Request("HTTPS://Example.COM/a/../b").url, "HTTPS://Example.COM/a/../b");
  });
});
