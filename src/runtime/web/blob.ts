// Blob, per the File API. A Blob's bytes are one Uint8Array that nothing ever writes to or hands
// out: slices and Blobs built from one Blob share it, and every reader gets a copy.

import { brandPlatformObject } from "../platform.ts";
import { streamFromBytes, type ReadableStream } from "./body-stream.ts";
import { decodeUtf8, encodeUtf8 } from "./encoding.ts";
import { toClampedLongLong, toDictionary, toDomString, toEnum, toSequence, toUsvString, viewBufferSource } from "./webidl.ts";
import { concatBytes } from "./concat.ts";
import { primordials, SymbolToStringTag } from "../primordials.ts";

const { ArrayPrototypeMap, MathMax, MathMin, RegExpPrototypeExec, RegExpPrototypeSymbolReplace, StringPrototypeToLowerCase, TypedArrayPrototypeGetBuffer, TypedArrayPrototypeGetByteLength, TypedArrayPrototypeSlice, TypedArrayPrototypeSubarray, Uint8Array } = primordials;

const ENDINGS = ["transparent", "native"] as const;
export type EndingType = (typeof ENDINGS)[number];

/** A blob part after Web IDL conversion, before its bytes are taken. */
type ConvertedPart = string | Uint8Array | Blob;

export interface BlobPropertyBag {
  type?: string;
  endings?: EndingType;
}

const EMPTY = new Uint8Array(0);

let bytesOf: (blob: Blob) => Uint8Array;
let setContent: (blob: Blob, bytes: Uint8Array, type: string) => void;
let hasBlobBrand: (value: object) => boolean;

export class Blob {
  #bytes: Uint8Array = EMPTY;
  #type = "";

  static {
    bytesOf = (blob) => blob.#bytes;
    setContent = (blob, bytes, type) => {
      blob.#bytes = bytes;
      blob.#type = type;
    };
    hasBlobBrand = (value) => #bytes in value;
  }

  constructor(blobParts: unknown = undefined, options: unknown = undefined) {
    brandPlatformObject(this, "Blob");
    const parts = blobParts === undefined ? [] : convertBlobParts(blobParts);
    const bag = toDictionary(options, "BlobPropertyBag");
    const endings = bag.endings === undefined ? "transparent" : toEnum(bag.endings, ENDINGS, "BlobPropertyBag.endings");
    const type = bag.type === undefined ? "" : toDomString(bag.type);
    this.#bytes = processBlobParts(parts, endings);
    this.#type = normalizeBlobType(type);
  }

  get size(): number {
    return TypedArrayPrototypeGetByteLength(this.#bytes);
  }

  get type(): string {
    return this.#type;
  }

  slice(start: unknown = undefined, end: unknown = undefined, contentType: unknown = undefined): Blob {
    const size = TypedArrayPrototypeGetByteLength(this.#bytes);
    const from = start === undefined ? 0 : relativeIndex(toClampedLongLong(start), size);
    const to = end === undefined ? size : relativeIndex(toClampedLongLong(end), size);
    const type = contentType === undefined ? "" : normalizeBlobType(toDomString(contentType));
    const blob = new Blob();
    blob.#bytes = TypedArrayPrototypeSubarray(this.#bytes, from, MathMax(to, from));
    blob.#type = type;
    return blob;
  }

  async text(): Promise<string> {
    return decodeUtf8(this.#bytes);
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return TypedArrayPrototypeGetBuffer(TypedArrayPrototypeSlice(this.#bytes)) as ArrayBuffer;
  }

  async bytes(): Promise<Uint8Array> {
    return TypedArrayPrototypeSlice(this.#bytes);
  }

  stream(): ReadableStream {
    // The stream takes its bytes over, and they must stay this Blob's.
    return streamFromBytes(TypedArrayPrototypeSlice(this.#bytes));
  }

  get [SymbolToStringTag](): string {
    return "Blob";
  }
}

function relativeIndex(index: number, size: number): number {
  return index < 0 ? MathMax(size + index, 0) : MathMin(index, size);
}

export function isBlob(value: unknown): value is Blob {
  return typeof value === "object" && value !== null && hasBlobBrand(value);
}

/** The Blob's bytes, shared: callers must neither write to them nor let them escape. */
export function blobBytes(blob: Blob): Uint8Array {
  return bytesOf(blob);
}

/** Gives a Blob (or a File, from its constructor) its content. */
export function initializeBlob(blob: Blob, bytes: Uint8Array, type: string): void {
  setContent(blob, bytes, type);
}

/** A new Blob over `bytes`, which the Blob takes over: the caller must not keep them. */
export function blobFromBytes(bytes: Uint8Array, type: string): Blob {
  const blob = new Blob();
  setContent(blob, bytes, normalizeBlobType(type));
  return blob;
}

/** Web IDL conversion of `sequence<BlobPart>`; buffers are kept by reference until processed. */
export function convertBlobParts(value: unknown): ConvertedPart[] {
  return ArrayPrototypeMap(toSequence(value, "The blob parts"), (part) => {
    if (isBlob(part)) return part;
    const view = viewBufferSource(part);
    return view !== undefined ? view : toUsvString(part);
  });
}

/** The File API's "process blob parts": one new byte sequence. */
export function processBlobParts(parts: ConvertedPart[], endings: EndingType): Uint8Array {
  if (parts.length === 1 && isBlob(parts[0])) return bytesOf(parts[0]);
  const pieces = ArrayPrototypeMap(parts, (part) => {
    if (typeof part === "string") return encodeUtf8(endings === "native" ? RegExpPrototypeSymbolReplace(/\r\n|\r|\n/g, part, "\n") : part);
    return part instanceof Uint8Array ? part : bytesOf(part);
  });
  return concatBytes(pieces);
}

/** A Blob's type is lowercased, or empty when it has anything but printable ASCII. */
export function normalizeBlobType(type: string): string {
  return (RegExpPrototypeExec(/[^\x20-\x7e]/, type) !== null) ? "" : StringPrototypeToLowerCase(type);
}
