// Differential tests of the body classes run one scenario twice: once with the sandbox's classes
// (each chunk's own ReadableStream, URLSearchParams, AbortController), once with Node's (undici),
// and compare what each run observed, reduced to plain data.

import assert from "node:assert/strict";
import "../platform.ts";
import * as events from "../../../src/runtime/web/events/index.ts";
import { ReadableStream } from "../../../src/runtime/web/streams/index.ts";
import { URLSearchParams } from "../../../src/runtime/web/url/index.ts";
import { Blob, File, FormData, Headers, Request, Response } from "../../../src/runtime/web/fetch.ts";

export interface Realm {
  name: "ours" | "node";
  Blob: typeof globalThis.Blob;
  File: typeof globalThis.File;
  FormData: typeof globalThis.FormData;
  Headers: typeof globalThis.Headers;
  Request: typeof globalThis.Request;
  Response: typeof globalThis.Response;
  ReadableStream: typeof globalThis.ReadableStream;
  URLSearchParams: typeof globalThis.URLSearchParams;
  AbortController: typeof globalThis.AbortController;
}

export const ours: Realm = {
  name: "ours",
  Blob: Blob as unknown as Realm["Blob"],
  File: File as unknown as Realm["File"],
  FormData: FormData as unknown as Realm["FormData"],
  Headers: Headers as unknown as Realm["Headers"],
  Request: Request as unknown as Realm["Request"],
  Response: Response as unknown as Realm["Response"],
  ReadableStream: ReadableStream as unknown as Realm["ReadableStream"],
  URLSearchParams: URLSearchParams as unknown as Realm["URLSearchParams"],
  AbortController: (events as Record<string, unknown>).AbortController as Realm["AbortController"],
};

export const node: Realm = {
  name: "node",
  Blob: globalThis.Blob,
  File: globalThis.File,
  FormData: globalThis.FormData,
  Headers: globalThis.Headers,
  Request: globalThis.Request,
  Response: globalThis.Response,
  ReadableStream: globalThis.ReadableStream,
  URLSearchParams: globalThis.URLSearchParams,
  AbortController: globalThis.AbortController,
};

export type Outcome = { value: unknown } | { error: string };

/** The value (reduced to plain data) or the class of the error the run threw or rejected with. */
export async function settle(run: () => unknown): Promise<Outcome> {
  try {
    return { value: await plain(await run()) };
  } catch (error) {
    return { error: (error as Error).constructor.name };
  }
}

export async function assertSame(scenario: (realm: Realm) => unknown, message?: string): Promise<unknown> {
  const mine = await settle(() => scenario(ours));
  const theirs = await settle(() => scenario(node));
  assert.deepEqual(mine, theirs, message);
  return mine;
}

const tag = (value: object): string => Object.prototype.toString.call(value).slice(8, -1);

/** Blobs, Files, FormData, buffers and promises inside arrays and objects become plain data. */
export async function plain(value: unknown): Promise<unknown> {
  value = await value;
  if (typeof value !== "object" || value === null) return value;
  if (value instanceof ArrayBuffer) return { ArrayBuffer: [...new Uint8Array(value)] };
  if (value instanceof Uint8Array) return { Uint8Array: [...value] };
  if (Array.isArray(value)) return Promise.all(value.map(plain));
  switch (tag(value)) {
    case "File": {
      const file = value as globalThis.File;
      return { File: { name: file.name, type: file.type, size: file.size, lastModified: file.lastModified, text: await file.text() } };
    }
    case "Blob": {
      const blob = value as globalThis.Blob;
      return { Blob: { type: blob.type, size: blob.size, text: await blob.text() } };
    }
    case "FormData":
      return { FormData: await plain([...(value as globalThis.FormData)]) };
  }
  const result: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) result[key] = await plain(member);
  return result;
}

/** Reads a stream with a default reader: its chunks as arrays of bytes (or the chunk itself). */
export async function chunksOf(stream: globalThis.ReadableStream<unknown>): Promise<unknown[]> {
  const reader = stream.getReader();
  const chunks: unknown[] = [];
  for (let result = await reader.read(); !result.done; result = await reader.read()) {
    chunks.push(result.value instanceof Uint8Array ? [...result.value] : result.value);
  }
  return chunks;
}

/** The bytes of a stream, concatenated. */
export async function bytesOf(stream: globalThis.ReadableStream<unknown>): Promise<number[]> {
  return (await chunksOf(stream)).flat() as number[];
}
