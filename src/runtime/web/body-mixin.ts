// The Fetch Standard's Body mixin, written once and installed on Request and Response.

import { url } from "../platform.ts";
import { blobFromBytes, type Blob } from "./blob.ts";
import type { BodyState } from "./body.ts";
import type { ReadableStream } from "./body-stream.ts";
import { decodeUtf8, TextDecoder, textDecoderDecode } from "./encoding.ts";
import { formDataFromEntries, type FormData } from "./form-data.ts";
import type { Headers } from "./headers.ts";
import { essence, extractMimeType, serializeMimeType } from "./mime.ts";
import { parseMultipart } from "./multipart.ts";
import { primordials } from "../primordials.ts";

const { JSONParse, MapPrototypeGet, ObjectDefineProperty, ObjectEntries, ObjectGetOwnPropertyDescriptors, TypeError, TypedArrayPrototypeGetBuffer } = primordials;

export interface Body {
  readonly body: ReadableStream | null;
  readonly bodyUsed: boolean;
  arrayBuffer(): Promise<ArrayBuffer>;
  blob(): Promise<Blob>;
  bytes(): Promise<Uint8Array>;
  formData(): Promise<FormData>;
  json(): Promise<unknown>;
  text(): Promise<string>;
}

// Taken now: the sandbox may replace the global JSON later.
const parseJson = JSONParse;

/** How the mixin reaches an object's body and headers; both throw for a foreign `this`. */
export interface BodyAccess {
  body(object: unknown): BodyState;
  headers(object: unknown): Headers;
}

function parseFormData(bytes: Uint8Array, contentType: string | null): FormData {
  const mime = extractMimeType(contentType);
  const kind = mime === null ? null : essence(mime);
  if (kind === "multipart/form-data") {
    const boundary = MapPrototypeGet(mime!.parameters, "boundary");
    const entries = boundary === undefined ? null : parseMultipart(bytes, boundary);
    if (entries === null) throw new TypeError("Failed to parse body as FormData.");
    return formDataFromEntries(entries);
  }
  if (kind === "application/x-www-form-urlencoded") {
    // Names and values are decoded "without BOM": a leading U+FEFF stays part of the first name.
    const text = textDecoderDecode(new TextDecoder("utf-8", { __proto__: null, ignoreBOM: true } as { ignoreBOM: boolean }), bytes);
    return formDataFromEntries(url().parseUrlEncoded(text));
  }
  throw new TypeError('Content-Type was not one of "multipart/form-data" or "application/x-www-form-urlencoded".');
}

export function installBody(prototype: object, access: BodyAccess): void {
  const members = {
    get body(): ReadableStream | null {
      return access.body(this).stream();
    },
    get bodyUsed(): boolean {
      return access.body(this).used;
    },
    async arrayBuffer(): Promise<ArrayBuffer> {
      // consume() hands over a buffer the body owned whole.
      return TypedArrayPrototypeGetBuffer((await access.body(this).consume()).bytes) as ArrayBuffer;
    },
    async blob(): Promise<Blob> {
      const headers = access.headers(this);
      const { bytes } = await access.body(this).consume();
      const mime = extractMimeType(headers.get("content-type"));
      return blobFromBytes(bytes, mime === null ? "" : serializeMimeType(mime));
    },
    async bytes(): Promise<Uint8Array> {
      return (await access.body(this).consume()).bytes;
    },
    async formData(): Promise<FormData> {
      const headers = access.headers(this);
      const { bytes } = await access.body(this).consume();
      return parseFormData(bytes, headers.get("content-type"));
    },
    async json(): Promise<unknown> {
      return parseJson(decodeUtf8((await access.body(this).consume()).bytes));
    },
    async text(): Promise<string> {
      return decodeUtf8((await access.body(this).consume()).bytes);
    },
  };
  for (let i19 = 0, a19 = ObjectEntries(ObjectGetOwnPropertyDescriptors(members)); i19 < a19.length; i19++) {
    const name = a19[i19][0], descriptor = a19[i19][1];
    ObjectDefineProperty(prototype, name, { ...descriptor, enumerable: false });
  }
}
