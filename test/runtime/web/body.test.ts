// Differential tests of the Body mixin (Request and Response) against Node's (undici's): every
// kind of BodyInit, reading twice, clones, stream bodies (locked, disturbed, errored, teed) and
// the Request-only rules for stream bodies (duplex, keepalive, mode).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import "../platform.ts";
import { Response } from "../../../src/runtime/web/fetch.ts";
import { assertSame, bytesOf, chunksOf, ours, type Realm } from "./realms.ts";

const URL_A = "https://example.com/a";
const READERS = ["text", "json", "arrayBuffer", "bytes", "blob", "formData"] as const;
type Reader = (typeof READERS)[number];

type AnyBody = globalThis.Request | globalThis.Response;

function read(body: AnyBody, reader: Reader): Promise<unknown> {
  return (body[reader] as () => Promise<unknown>).call(body);
}

function streamOf(realm: Realm, chunks: unknown[], error?: unknown): ReadableStream {
  return new realm.ReadableStream({
    pull(controller) {
      if (chunks.length > 0) controller.enqueue(chunks.shift());
      else if (error !== undefined) controller.error(error);
      else controller.close();
    },
  });
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function bodyInits(realm: Realm): Record<string, () => unknown> {
  return {
    string: () => '{"a":"é"}',
    ArrayBuffer: () => bytes('"buffer"').buffer,
    DataView: () => new DataView(bytes('x"view"x').buffer, 1, 6),
    Blob: () => new realm.Blob(['"blob"'], { type: "Application/JSON" }),
    "Blob without type": () => new realm.Blob(["[1]"]),
    File: () => new realm.File(["1"], "f.json", { type: "application/json" }),
    URLSearchParams: () => new realm.URLSearchParams("a=1&b=%C3%A9"),
    FormData: () => {
      const form = new realm.FormData();
      form.append("a", "1");
      form.append("f", new realm.Blob(["file"], { type: "text/plain" }), "f.txt");
      return form;
    },
    ReadableStream: () => streamOf(realm, [bytes('"str'), bytes('eam"')]),
    "empty ReadableStream": () => streamOf(realm, []),
  };
}

/** What reading produced, minus the multipart boundary (which is random on both sides). */
async function readOutcome(body: AnyBody, reader: Reader): Promise<unknown> {
  try {
    const value = await read(body, reader);
    if (reader === "text" && typeof value === "string") return value.replace(/-{4}formdata-[a-z]+-[0-9a-f]+/g, "BOUNDARY");
    if (reader === "arrayBuffer" || reader === "bytes") return (value as { byteLength: number }).byteLength > 0;
    if (reader === "blob") {
      const blob = value as Blob;
      return { type: blob.type.replace(/boundary=.*/, ""), size: blob.size > 0, tag: Object.prototype.toString.call(blob) };
    }
    if (reader === "formData") return [...(value as FormData)].map(([name, entry]) => [name, typeof entry === "string" ? entry : (entry as File).name]);
    return value;
  } catch (error) {
    return { error: (error as Error).constructor.name };
  }
}

describe("Body against Node", () => {
  it("reads every kind of body with every reader, Content-Type included", async () => {
    for (const name of Object.keys(bodyInits(ours))) {
      for (const reader of READERS) {
        await assertSame(async (realm) => {
          const response = new realm.Response(bodyInits(realm)[name]() as BodyInit);
          const type = response.headers.get("content-type")?.replace(/boundary=.*/, "boundary=");
          return [type, await readOutcome(response, reader), response.bodyUsed];
        }, `Response ${name} via ${reader}()`);
        await assertSame(async (realm) => {
          const request = new realm.Request(URL_A, { method: "POST", body: bodyInits(realm)[name]() as BodyInit, duplex: "half" } as RequestInit);
          return [await readOutcome(request, reader), request.bodyUsed];
        }, `Request ${name} via ${reader}()`);
      }
    }
  });

  it("rejects a second read with TypeError, whatever read first", async () => {
    for (const first of READERS) {
      for (const name of ["string", "ReadableStream"]) {
        await assertSame(async (realm) => {
          const response = new realm.Response(bodyInits(realm)[name]() as BodyInit, { headers: { "content-type": "application/x-www-form-urlencoded" } });
          const one = await readOutcome(response, first);
          const used = response.bodyUsed;
          const two = await readOutcome(response, "text");
          return [typeof one, used, two, response.bodyUsed, response.body?.locked];
        }, `${name}: ${first}() then text()`);
      }
    }
  });

  it("marks the body used, and its stream locked, as soon as reading starts", async () => {
    for (const name of ["string", "ReadableStream"]) {
      await assertSame(async (realm) => {
        const response = new realm.Response(bodyInits(realm)[name]() as BodyInit);
        const pending = response.text();
        const state = [response.bodyUsed, response.body!.locked];
        return [state, await pending];
      }, name);
    }
  });

  it("has a stream body that is created once and reads like the buffered one", async () => {
    await assertSame(async (realm) => {
      const response = new realm.Response("streamed");
      const stream = response.body!;
      return [response.body === stream, Object.prototype.toString.call(stream), response.bodyUsed, await bytesOf(stream), response.bodyUsed, stream.locked];
    });
    await assertSame(async (realm) => {
      const stream = streamOf(realm, [bytes("a")]);
      const response = new realm.Response(stream);
      return [response.body === stream, await response.text()];
    });
    await assertSame(async (realm) => {
      const reader = new realm.Response("byob").body!.getReader({ mode: "byob" });
      const { value } = await reader.read(new Uint8Array(10));
      return [...value!];
    });
  });

  it("keeps null bodies null and readable any number of times", async () => {
    for (const make of [(realm: Realm) => new realm.Response(null), (realm: Realm) => new realm.Request(URL_A)]) {
      await assertSame(async (realm) => {
        const body = make(realm);
        return [body.body, await body.text(), await body.text(), (await body.arrayBuffer()).byteLength, body.bodyUsed, await readOutcome(body, "json"), await readOutcome(body, "formData")];
      });
    }
  });

  it("refuses locked and disturbed streams as bodies", async () => {
    const streams: Record<string, (realm: Realm) => Promise<ReadableStream>> = {
      locked: async (realm) => {
        const stream = streamOf(realm, [bytes("x")]);
        stream.getReader();
        return stream;
      },
      disturbed: async (realm) => {
        const stream = streamOf(realm, [bytes("x"), bytes("y")]);
        const reader = stream.getReader();
        await reader.read();
        reader.releaseLock();
        return stream;
      },
      canceled: async (realm) => {
        const stream = streamOf(realm, [bytes("x")]);
        await stream.cancel();
        return stream;
      },
    };
    for (const [name, make] of Object.entries(streams)) {
      await assertSame(async (realm) => new realm.Response(await make(realm)).status, `Response ${name}`);
      await assertSame(async (realm) => new realm.Request(URL_A, { method: "POST", body: await make(realm), duplex: "half" } as RequestInit).method, `Request ${name}`);
    }
  });

  it("makes a body unusable while its stream is locked", async () => {
    await assertSame(async (realm) => {
      const response = new realm.Response("locked");
      const reader = response.body!.getReader();
      const outcome = [response.bodyUsed, await readOutcome(response, "text"), await readOutcome(response, "blob")];
      let cloned: unknown;
      try {
        response.clone();
        cloned = "cloned";
      } catch (error) {
        cloned = (error as Error).constructor.name;
      }
      reader.releaseLock();
      return [outcome, cloned, await readOutcome(response, "text")];
    });
  });

  it("rejects with the stream's error, or TypeError for chunks that are not bytes", async () => {
    await assertSame(async (realm) => {
      const response = new realm.Response(streamOf(realm, [bytes("partial")], new RangeError("boom")));
      return [await readOutcome(response, "text"), response.bodyUsed];
    });
    for (const chunk of ["text", 42, new ArrayBuffer(2), new Uint16Array(2), [1, 2]]) {
      await assertSame(async (realm) => readOutcome(new realm.Response(streamOf(realm, [bytes("ok"), chunk])), "text"), Object.prototype.toString.call(chunk));
    }
  });

  it("clones before use, through a tee for streams, and refuses after", async () => {
    for (const name of ["string", "ReadableStream", "Blob", "FormData"]) {
      await assertSame(async (realm) => {
        const response = new realm.Response(bodyInits(realm)[name]() as BodyInit);
        const copy = response.clone();
        const texts = [await readOutcome(copy, "text"), await readOutcome(response, "text")];
        let second: unknown;
        try {
          response.clone();
        } catch (error) {
          second = (error as Error).constructor.name;
        }
        return [texts, second, copy.bodyUsed, response.bodyUsed];
      }, name);
    }
    await assertSame(async (realm) => {
      const request = new realm.Request(URL_A, { method: "POST", body: streamOf(realm, [bytes("a"), bytes("b")]), duplex: "half" } as RequestInit);
      const copy = request.clone();
      return [await copy.text(), await request.text(), copy.duplex, request.bodyUsed];
    });
    await assertSame(async (realm) => {
      // A clone made after the stream was handed out reads the same bytes.
      const response = new realm.Response("tee");
      const stream = response.body!;
      const copy = response.clone();
      return [stream.locked, response.body === stream, await copy.text(), await response.text()];
    });
  });

  it("types blob() from Content-Type and keeps a Blob body's type", async () => {
    const types = [undefined, "text/plain", "Text/HTML; Charset=\"UTF-8\"", "a/b; x=\"q\\\"uote\"", "not a type", "*/*", "text/plain, application/json", "ünïcode/x"];
    for (const type of types) {
      await assertSame(async (realm) => {
        const response = new realm.Response("x");
        if (type === undefined) response.headers.delete("content-type");
        else response.headers.set("content-type", type);
        const blob = await response.blob();
        return [blob.type, blob.size];
      }, String(type));
    }
  });

  it("takes over the stream body of a Request input", async () => {
    await assertSame(async (realm) => {
      const original = new realm.Request(URL_A, { method: "POST", body: streamOf(realm, [bytes("moved")]), duplex: "half" } as RequestInit);
      const derived = new realm.Request(original);
      const state = [original.bodyUsed, original.body!.locked, derived.bodyUsed, derived.duplex];
      let again: unknown;
      try {
        new realm.Request(original);
      } catch (error) {
        again = (error as Error).constructor.name;
      }
      return [state, again, await derived.text()];
    });
  });
});

describe("Request stream bodies against Node", () => {
  it("need duplex: 'half', a body-carrying method, cors modes and no keepalive", async () => {
    const inits: Record<string, (realm: Realm) => RequestInit> = {
      "no duplex": (realm) => ({ method: "POST", body: streamOf(realm, []) }),
      "duplex half": (realm) => ({ method: "POST", body: streamOf(realm, []), duplex: "half" }) as RequestInit,
      "duplex full": (realm) => ({ method: "POST", body: streamOf(realm, []), duplex: "full" }) as unknown as RequestInit,
      "duplex on a string body": () => ({ method: "POST", body: "x", duplex: "half" }) as RequestInit,
      "bad duplex on a string body": () => ({ method: "POST", body: "x", duplex: "full" }) as unknown as RequestInit,
      GET: (realm) => ({ body: streamOf(realm, []), duplex: "half" }) as RequestInit,
      keepalive: (realm) => ({ method: "POST", body: streamOf(realm, []), duplex: "half", keepalive: true }) as RequestInit,
      "keepalive string": () => ({ method: "POST", body: "x", keepalive: true }),
      "no-cors": (realm) => ({ method: "POST", body: streamOf(realm, []), duplex: "half", mode: "no-cors" }) as RequestInit,
      "same-origin": (realm) => ({ method: "POST", body: streamOf(realm, []), duplex: "half", mode: "same-origin" }) as RequestInit,
    };
    for (const [name, init] of Object.entries(inits)) {
      await assertSame((realm) => {
        const request = new realm.Request(URL_A, init(realm));
        return [request.duplex, request.keepalive, request.mode, request.body === null];
      }, name);
    }
  });
});

const nodeMajor = Number(process.versions.node.split(".")[0]);

describe("Request attributes against Node", () => {
  it("exposes keepalive, integrity, referrer and the other undici attributes", async () => {
    const inits: Record<string, unknown>[] = [
      {},
      { keepalive: 1, integrity: "sha256-abc" },
      { referrer: "" },
      { referrer: "about:client" },
      { referrer: "https://other.example/path" },
      { referrer: "/relative" },
      { referrerPolicy: "no-referrer" },
      { referrerPolicy: "bogus" },
      { window: null },
      { window: {} },
      { mode: "no-cors", method: "PUT" },
      { mode: "no-cors", method: "POST" },
    ];
    for (const init of inits) {
      await assertSame((realm) => {
        const request = new realm.Request(URL_A, init);
        const derived = new realm.Request(request);
        const reset = new realm.Request(request, { method: "GET" });
        // undici has isReloadNavigation and isHistoryNavigation (Fetch's), its types leave them out.
        const describe = (request: Request) => {
          const r = request as Request & { isReloadNavigation: boolean; isHistoryNavigation: boolean };
          return [r.keepalive, r.integrity, r.referrer, r.referrerPolicy, r.destination, r.isReloadNavigation, r.isHistoryNavigation, r.duplex, r.mode];
        };
        // Fetch keeps the referrer and its policy when a request is copied without an init, as
        // the sandbox, Node 26 and Node 20 do; Node 24's undici resets them to "about:client" and
        // "" (a bug), so on Node 24 those two fields of the copy are left out of the comparison.
        const copy = nodeMajor === 24 ? [...describe(derived).slice(0, 2), ...describe(derived).slice(4)] : describe(derived);
        if (realm === ours) assert.deepEqual(describe(derived).slice(2, 4), describe(request).slice(2, 4), "the copy keeps the referrer and its policy");
        return [describe(request), copy, describe(reset)];
      }, JSON.stringify(init));
    }
  });

  it("refuses URLs with credentials", async () => {
    for (const url of ["https://user:pass@example.com/", "https://user@example.com/", "https://example.com/@x", "foo://u@host/"]) {
      await assertSame((realm) => new realm.Request(url).url, url);
    }
  });
});

describe("Request signal against Node", () => {
  const hasAbort = typeof ours.AbortController === "function";

  it("is an AbortSignal that follows init.signal", { skip: !hasAbort && "the events chunk has no AbortController yet" }, async () => {
    await assertSame((realm) => {
      const controller = new realm.AbortController();
      const request = new realm.Request(URL_A, { signal: controller.signal });
      const before = [request.signal === controller.signal, request.signal.aborted, Object.prototype.toString.call(request.signal)];
      const events: string[] = [];
      request.signal.addEventListener("abort", () => events.push("abort"));
      controller.abort("why");
      return [before, request.signal.aborted, request.signal.reason, events];
    });
    await assertSame((realm) => {
      const controller = new realm.AbortController();
      controller.abort(new RangeError("early"));
      const request = new realm.Request(URL_A, { signal: controller.signal });
      return [request.signal.aborted, (request.signal.reason as Error).constructor.name];
    });
    await assertSame((realm) => {
      const request = new realm.Request(URL_A);
      return [request.signal.aborted, request.signal === request.signal];
    });
  });

  it("passes on to clones and to Requests made from it, unless init replaces it", { skip: !hasAbort && "the events chunk has no AbortController yet" }, async () => {
    await assertSame((realm) => {
      const controller = new realm.AbortController();
      const request = new realm.Request(URL_A, { signal: controller.signal });
      const clone = request.clone();
      const derived = new realm.Request(request);
      const detached = new realm.Request(request, { signal: null });
      controller.abort("stop");
      return [clone.signal.aborted, clone.signal.reason, derived.signal.aborted, detached.signal.aborted, clone.signal === request.signal];
    });
  });

  it("must be an AbortSignal", { skip: !hasAbort && "the events chunk has no AbortController yet" }, async () => {
    for (const signal of [{}, { aborted: false }, "signal", 1]) {
      await assertSame((realm) => new realm.Request(URL_A, { signal: signal as AbortSignal }).signal.aborted, JSON.stringify(signal));
    }
    await assertSame((realm) => new realm.Request(URL_A, { signal: undefined }).signal.aborted);
  });
});

describe("Response.redirect against Node", () => {
  it("accepts 301, 302, 303, 307 and 308 only", async () => {
    for (const status of [undefined, 200, 300, 301, 302, 303, 304, 305, 306, 307, 308, 309, 400, 65837, "307", NaN]) {
      await assertSame((realm) => {
        const response = status === undefined ? realm.Response.redirect(URL_A) : realm.Response.redirect(URL_A, status as never /* statuses redirect() must refuse too */);
        return [response.status, response.headers.get("location"), response.body, response.type];
      }, String(status));
    }
  });
});

describe("body streams in this runtime", () => {
  it("never read the global ReadableStream or URLSearchParams", async () => {
    const saved = { ReadableStream: globalThis.ReadableStream, URLSearchParams: globalThis.URLSearchParams };
    try {
      (globalThis as Record<string, unknown>).ReadableStream = undefined;
      (globalThis as Record<string, unknown>).URLSearchParams = undefined;
      const response = new Response(new ours.URLSearchParams("a=1") as unknown as URLSearchParams);
      assert.equal(response.headers.get("content-type"), "application/x-www-form-urlencoded;charset=UTF-8");
      assert.deepEqual(await chunksOf(response.body as unknown as globalThis.ReadableStream), [[...bytes("a=1")]]);
      const streamed = new Response(new ours.ReadableStream({ start: (c) => (c.enqueue(bytes("s")), c.close()) }) as never);
      assert.equal(await streamed.text(), "s");
    } finally {
      Object.assign(globalThis, saved);
    }
  });

  it("stringify another realm's stream like any other object", async () => {
    assert.equal(await new Response(new globalThis.ReadableStream() as never).text(), "[object ReadableStream]");
  });
});
