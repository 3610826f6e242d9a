// The Body mixin's state for Request and Response. Bodies are buffered: the bytes are held in one
// Uint8Array that owns its whole ArrayBuffer, so reading can hand them over without copying.

import { encodeUtf8 } from "./encoding.ts";
import { toDomString, viewBufferSource } from "./webidl.ts";

export interface ExtractedBody {
  bytes: Uint8Array;
  /** The Content-Type this kind of body implies, or null. */
  type: string | null;
}

/**
 * Objects that can hand over their content synchronously (a Blob or FormData, when the sandbox
 * gains them) implement this method to be accepted as a body.
 */
export const BODY_SOURCE: unique symbol = Symbol("islet.bodySource");

interface BodySource {
  [BODY_SOURCE](): ExtractedBody;
}

// Body kinds the standard allows but this buffered implementation cannot read synchronously.
const UNSUPPORTED_BODY_CLASSES = ["ReadableStream", "Blob", "FormData"];

/** The standard's "extract a body" for a non-null BodyInit. */
export function extractBody(init: unknown): ExtractedBody {
  if (typeof init === "string") return { bytes: encodeUtf8(init), type: "text/plain;charset=UTF-8" };
  const view = viewBufferSource(init);
  if (view !== undefined) return { bytes: view.slice(), type: null };
  if (typeof init === "object" && init !== null) {
    if (typeof (init as Partial<BodySource>)[BODY_SOURCE] === "function") return ownedBody((init as BodySource)[BODY_SOURCE]());
    const globals = globalThis as Record<string, unknown>;
    const SearchParams = globals.URLSearchParams;
    if (typeof SearchParams === "function" && init instanceof SearchParams) {
      return { bytes: encodeUtf8(toDomString(init)), type: "application/x-www-form-urlencoded;charset=UTF-8" };
    }
    for (const name of UNSUPPORTED_BODY_CLASSES) {
      const BodyClass = globals[name];
      if (typeof BodyClass === "function" && init instanceof BodyClass) throw new TypeError(`${name} bodies are not supported yet.`);
    }
  }
  // Anything else is a USVString per Web IDL's union conversion, exactly as in browsers.
  return { bytes: encodeUtf8(toDomString(init)), type: "text/plain;charset=UTF-8" };
}

function ownedBody(body: ExtractedBody): ExtractedBody {
  return { bytes: body.bytes.slice(), type: body.type };
}

/** Returns `bytes` if it spans its whole buffer, or a copy that does. */
export function ownedBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

interface StreamController {
  enqueue(chunk: Uint8Array): void;
  close(): void;
}

interface ReadableStreamLike {
  readonly locked: boolean;
  getReader(): unknown;
}

type ReadableStreamConstructor = new (
  source: { pull(controller: StreamController): void; cancel(): void },
  strategy: { highWaterMark: number },
) => ReadableStreamLike;

const EMPTY = new Uint8Array(0);

export class BodyState {
  // null means "no body", which differs from an empty body (e.g. for bodyUsed and GET checks).
  #bytes: Uint8Array | null;
  #disturbed = false;
  #stream: ReadableStreamLike | undefined;

  constructor(bytes: Uint8Array | null) {
    this.#bytes = bytes;
  }

  get hasBody(): boolean {
    return this.#bytes !== null;
  }

  get used(): boolean {
    return this.#disturbed;
  }

  /** The standard's "unusable": there is a body and its stream is disturbed or locked. */
  get unusable(): boolean {
    return this.#bytes !== null && (this.#disturbed || (this.#stream?.locked ?? false));
  }

  /** The `body` getter: null, or a one-chunk ReadableStream once the sandbox provides streams. */
  stream(): unknown {
    if (this.#bytes === null) return null;
    if (this.#stream === undefined) this.#stream = this.#createStream();
    return this.#stream;
  }

  /** Consumes the body ("consume body" in the standard) and hands over its bytes. */
  take(): Uint8Array {
    if (this.#bytes === null) return new Uint8Array(0);
    if (this.unusable) throw new TypeError("Body has already been used.");
    // Reading through the stream would leave it locked; keep that observable.
    this.#stream?.getReader();
    return this.#drain();
  }

  clone(): BodyState {
    if (this.unusable) throw new TypeError("Cannot clone: the body has already been used.");
    return new BodyState(this.#bytes === null ? null : this.#bytes.slice());
  }

  /** Moves the content into a new state, leaving this one used (a Request built from a Request). */
  transfer(): BodyState {
    if (this.#bytes === null) return new BodyState(null);
    return new BodyState(this.take());
  }

  #drain(): Uint8Array {
    const bytes = this.#bytes ?? EMPTY;
    this.#disturbed = true;
    this.#bytes = EMPTY;
    return bytes;
  }

  #createStream(): ReadableStreamLike {
    const ReadableStream = (globalThis as { ReadableStream?: ReadableStreamConstructor }).ReadableStream;
    if (typeof ReadableStream !== "function") {
      throw new TypeError("Response and Request bodies are not available as streams in this sandbox yet; use text(), json(), arrayBuffer() or bytes().");
    }
    // highWaterMark 0: pull runs only when someone reads, which is what disturbs the body.
    return new ReadableStream(
      {
        pull: (controller) => {
          const bytes = this.#drain();
          if (bytes.byteLength > 0) controller.enqueue(bytes);
          controller.close();
        },
        cancel: () => {
          this.#drain();
        },
      },
      { highWaterMark: 0 },
    );
  }
}
