// TextEncoderStream and TextDecoderStream (WHATWG Encoding Standard), built on the web chunk's
// TextEncoder and TextDecoder: the decoder's streaming mode carries a character split across
// chunks, and the encoder side carries a surrogate pair split across chunks itself.

import { brandPlatformObject, web } from "../../platform.ts";
import type { ReadableStream, WritableStream } from "./ponyfill.ts";
import { exposeInterface } from "./interface.ts";
import { transformEnqueue, transformPair, type ChunkSource } from "./transform-pair.ts";
import { toDomString, viewBufferSource } from "../webidl.ts";
import { primordials } from "../../primordials.ts";

const { StringPrototypeCharCodeAt, StringPrototypeSlice, TypeError, Uint8Array } = primordials;

const ENCODED_REPLACEMENT = [0xef, 0xbf, 0xbd];

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

export class TextEncoderStream {
  readonly #readable: ReadableStream<Uint8Array>;
  readonly #writable: WritableStream<string>;

  constructor() {
    brandPlatformObject(this, "TextEncoderStream");
    const { TextEncoder, textEncoderEncode } = web();
    const encoder = new TextEncoder();
    // A high surrogate that ended the previous chunk, waiting for the low one.
    let pending = "";
    const pair = transformPair<string, Uint8Array>({
      transform(chunk, controller) {
        let text = pending + toDomString(chunk);
        pending = "";
        if (isHighSurrogate(StringPrototypeCharCodeAt(text, text.length - 1))) {
          pending = StringPrototypeSlice(text, -1);
          text = StringPrototypeSlice(text, 0, -1);
        }
        // A lone surrogate left in `text` is encoded as U+FFFD, as the standard's encoder does.
        if (text.length > 0) transformEnqueue(controller, textEncoderEncode(encoder, text));
      },
      flush(controller) {
        if (pending !== "") transformEnqueue(controller, new Uint8Array(ENCODED_REPLACEMENT));
      },
    });
    this.#readable = pair.readable;
    this.#writable = pair.writable;
  }

  get encoding(): string {
    return "utf-8";
  }

  get readable(): ReadableStream<Uint8Array> {
    return this.#readable;
  }

  get writable(): WritableStream<string> {
    return this.#writable;
  }
}

type TextDecoderInstance = InstanceType<ReturnType<typeof web>["TextDecoder"]>;

export class TextDecoderStream {
  readonly #decoder: TextDecoderInstance;
  readonly #readable: ReadableStream<string>;
  readonly #writable: WritableStream<ChunkSource>;

  constructor(label: unknown = "utf-8", options?: { fatal?: boolean; ignoreBOM?: boolean }) {
    brandPlatformObject(this, "TextDecoderStream");
    // Validates the label and options as TextDecoder does: RangeError, TypeError.
    const decoder = new (web().TextDecoder)(label, options);
    const streaming = { __proto__: null, stream: true };
    const { textDecoderDecode } = web();
    const pair = transformPair<ChunkSource, string>({
      transform(chunk, controller) {
        const bytes = viewBufferSource(chunk);
        if (bytes === undefined) throw new TypeError("The chunk must be an ArrayBuffer or an ArrayBufferView.");
        const text = textDecoderDecode(decoder, bytes, streaming);
        if (text !== "") transformEnqueue(controller, text);
      },
      flush(controller) {
        const text = textDecoderDecode(decoder);
        if (text !== "") transformEnqueue(controller, text);
      },
    });
    this.#decoder = decoder;
    this.#readable = pair.readable;
    this.#writable = pair.writable;
  }

  get encoding(): string {
    return this.#decoder.encoding;
  }

  get fatal(): boolean {
    return this.#decoder.fatal;
  }

  get ignoreBOM(): boolean {
    return this.#decoder.ignoreBOM;
  }

  get readable(): ReadableStream<string> {
    return this.#readable;
  }

  get writable(): WritableStream<ChunkSource> {
    return this.#writable;
  }
}

exposeInterface(TextEncoderStream, "TextEncoderStream");
exposeInterface(TextDecoderStream, "TextDecoderStream");
