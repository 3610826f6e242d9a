// The Fetch Standard's body: a ReadableStream, plus (for bodies made from bytes) the bytes
// themselves. Such a body keeps only the bytes until someone asks for `body`, so a sandbox that
// reads with text() or json() never builds a stream or loads the streams chunk.

import { url } from "../platform.ts";
import { blobBytes, isBlob } from "./blob.ts";
import { consumedStream, isDisturbed, isLocked, isReadableStream, tee, proxyStream, readAllBytes, streamFromBytes, type ReadableStream } from "./body-stream.ts";
import { encodeUtf8 } from "./encoding.ts";
import { formDataEntries, isFormData } from "./form-data.ts";
import { multipartBoundary, serializeMultipart } from "./multipart.ts";
import { toDomString, viewBufferSource } from "./webidl.ts";
import { primordials } from "../primordials.ts";

const { ArrayBufferPrototypeGetByteLength, Object, Originals, ReflectApply, TypeError, TypedArrayPrototypeGetBuffer, TypedArrayPrototypeGetByteLength, TypedArrayPrototypeGetByteOffset, TypedArrayPrototypeSlice, Uint8Array } = primordials;

/** A body and the Content-Type its kind implies (null for bytes and streams). */
export interface ExtractedBody {
  body: BodyState;
  type: string | null;
}

const toStringTag = Originals["Object.prototype.toString"]!;

function isUrlSearchParams(value: object): boolean {
  // The url chunk loads only for a value that claims to be URLSearchParams.
  return ReflectApply(toStringTag, value, []) === "[object URLSearchParams]" && value instanceof url().URLSearchParams;
}

/** The standard's "extract a body" for a non-null BodyInit. */
export function extractBody(init: unknown, keepalive = false): ExtractedBody {
  if (typeof init === "string") return { body: BodyState.fromBytes(encodeUtf8(init)), type: "text/plain;charset=UTF-8" };
  if (typeof init === "object" && init !== null) {
    if (isReadableStream(init)) {
      if (keepalive) throw new TypeError("A keepalive request cannot have a ReadableStream body.");
      if (isDisturbed(init) || isLocked(init)) throw new TypeError("Response body object should not be disturbed or locked");
      return { body: BodyState.fromStream(init), type: null };
    }
    if (isBlob(init)) return { body: BodyState.fromBytes(TypedArrayPrototypeSlice(blobBytes(init))), type: init.type === "" ? null : init.type };
    const view = viewBufferSource(init);
    if (view !== undefined) return { body: BodyState.fromBytes(TypedArrayPrototypeSlice(view)), type: null };
    if (isFormData(init)) {
      const boundary = multipartBoundary();
      return { body: BodyState.fromBytes(serializeMultipart(formDataEntries(init), boundary)), type: `multipart/form-data; boundary=${boundary}` };
    }
    if (isUrlSearchParams(init)) return { body: BodyState.fromBytes(encodeUtf8(toDomString(init))), type: "application/x-www-form-urlencoded;charset=UTF-8" };
  }
  // Anything else is a USVString per Web IDL's union conversion, exactly as in browsers.
  return { body: BodyState.fromBytes(encodeUtf8(toDomString(init))), type: "text/plain;charset=UTF-8" };
}

/**
 * What consume() resolves to: the bytes in a box without a prototype. A promise resolved with an
 * object looks up its `then`, which for a Uint8Array user code could have put on Object.prototype
 * (and so be handed the runtime's bytes before the caller gets them).
 */
export interface OwnedBytes {
  readonly bytes: Uint8Array;
}

/** Returns `bytes` if it spans its whole buffer, or a copy that does. */
export function ownedBytes(bytes: Uint8Array): Uint8Array {
  return TypedArrayPrototypeGetByteOffset(bytes) === 0 && TypedArrayPrototypeGetByteLength(bytes) === ArrayBufferPrototypeGetByteLength(TypedArrayPrototypeGetBuffer(bytes)) ? bytes : TypedArrayPrototypeSlice(bytes);
}

export class BodyState {
  // "No body" (null in the standard) differs from an empty body, e.g. for bodyUsed and GET checks.
  readonly hasBody: boolean;
  // Made from a ReadableStream (the standard's "source is null"), which a Request accepts only
  // with `duplex: "half"`.
  readonly streamed: boolean;
  // The content while no stream exists; it owns its whole buffer, so reading hands it over.
  #bytes: Uint8Array | null;
  #stream: ReadableStream | null;
  // Read or moved out before any stream existed, or moved out of its stream.
  #used = false;

  private constructor(hasBody: boolean, bytes: Uint8Array | null, stream: ReadableStream | null, streamed = stream !== null) {
    this.hasBody = hasBody;
    this.streamed = streamed;
    this.#bytes = bytes;
    this.#stream = stream;
  }

  static none(): BodyState {
    return new BodyState(false, null, null);
  }

  /** A body over `bytes`, which must span their whole buffer and which the body takes over. */
  static fromBytes(bytes: Uint8Array): BodyState {
    return new BodyState(true, bytes, null);
  }

  static fromStream(stream: ReadableStream): BodyState {
    return new BodyState(true, null, stream);
  }

  /** `bodyUsed`: the body's stream is disturbed. */
  get used(): boolean {
    return this.hasBody && (this.#used || (this.#stream !== null && isDisturbed(this.#stream)));
  }

  /** The standard's "unusable": the stream is disturbed or locked. */
  get unusable(): boolean {
    return this.used || (this.#stream !== undefined && this.#stream !== null && isLocked(this.#stream));
  }

  /** The `body` getter: the stream, created now for a body made from bytes. */
  stream(): ReadableStream | null {
    if (!this.hasBody) return null;
    if (this.#stream === null) {
      // A body already read has a stream that was read to its end.
      this.#stream = this.#used ? consumedStream() : streamFromBytes(this.#bytes!);
      this.#bytes = null;
    }
    return this.#stream;
  }

  /**
   * The standard's "consume body": all the bytes, in a Uint8Array that spans a buffer the caller
   * now owns. The body is used (and its stream, if any, locked) before this returns its promise.
   */
  async consume(): Promise<OwnedBytes> {
    if (!this.hasBody) return { __proto__: null, bytes: new Uint8Array(0) } as OwnedBytes;
    if (this.unusable) throw new TypeError("Body is unusable: Body has already been read");
    if (this.#stream !== null) return { __proto__: null, bytes: (await readAllBytes(this.#stream)).bytes } as OwnedBytes;
    const bytes = this.#bytes!;
    this.#bytes = null;
    this.#used = true;
    return { __proto__: null, bytes } as OwnedBytes;
  }

  /** The standard's "clone a body": a copy of the bytes, or the two branches of a tee. */
  clone(): BodyState {
    if (this.unusable) throw new TypeError("Body has already been consumed.");
    if (!this.hasBody) return BodyState.none();
    if (this.#stream === null) return BodyState.fromBytes(TypedArrayPrototypeSlice(this.#bytes!));
    const d3 = tee(this.#stream), mine = d3[0], theirs = d3[1];
    this.#stream = mine;
    return new BodyState(true, null, theirs, this.streamed);
  }

  /** Moves the content into a new body (a Request built from a Request), leaving this one used. */
  transfer(): BodyState {
    if (!this.hasBody) return BodyState.none();
    if (this.unusable) throw new TypeError("Cannot construct a Request with a Request object that has already been used.");
    this.#used = true;
    if (this.#stream !== null) return new BodyState(true, null, proxyStream(this.#stream), this.streamed);
    const bytes = this.#bytes!;
    this.#bytes = null;
    return BodyState.fromBytes(bytes);
  }
}
