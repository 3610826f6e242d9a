// TextEncoder and TextDecoder for UTF-8, following the WHATWG Encoding Standard. UTF-8 is the only
// encoding the standard requires encoders for; decoding other encodings is not offered.

import { toDictionary, toDomString, viewBufferSource } from "./webidl.ts";

const REPLACEMENT_CHARACTER = 0xfffd;

const UTF8_LABELS = ["unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "utf-8", "utf8", "x-unicode20utf8"];

/** The number of bytes `text` takes in UTF-8, counting each lone surrogate as U+FFFD. */
function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/** Writes as many whole characters of `source` as fit into `destination`. */
function writeUtf8(source: string, destination: Uint8Array): { read: number; written: number } {
  const length = source.length;
  const capacity = destination.length;
  let read = 0;
  let written = 0;
  while (read < length) {
    let codePoint = source.charCodeAt(read);
    let units = 1;
    if (codePoint >= 0xd800 && codePoint <= 0xdfff) {
      const next = source.charCodeAt(read + 1);
      if (codePoint <= 0xdbff && isLowSurrogate(next)) {
        codePoint = 0x10000 + ((codePoint - 0xd800) << 10) + (next - 0xdc00);
        units = 2;
      } else {
        codePoint = REPLACEMENT_CHARACTER;
      }
    }
    if (codePoint < 0x80) {
      if (written >= capacity) break;
      destination[written++] = codePoint;
    } else if (codePoint < 0x800) {
      if (written + 2 > capacity) break;
      destination[written++] = 0xc0 | (codePoint >> 6);
      destination[written++] = 0x80 | (codePoint & 0x3f);
    } else if (codePoint < 0x10000) {
      if (written + 3 > capacity) break;
      destination[written++] = 0xe0 | (codePoint >> 12);
      destination[written++] = 0x80 | ((codePoint >> 6) & 0x3f);
      destination[written++] = 0x80 | (codePoint & 0x3f);
    } else {
      if (written + 4 > capacity) break;
      destination[written++] = 0xf0 | (codePoint >> 18);
      destination[written++] = 0x80 | ((codePoint >> 12) & 0x3f);
      destination[written++] = 0x80 | ((codePoint >> 6) & 0x3f);
      destination[written++] = 0x80 | (codePoint & 0x3f);
    }
    read += units;
  }
  return { read, written };
}

/** UTF-8 encodes `text` into a buffer of exactly the right size. */
export function encodeUtf8(text: string): Uint8Array {
  const bytes = new Uint8Array(utf8ByteLength(text));
  writeUtf8(text, bytes);
  return bytes;
}

/** The spec's "UTF-8 decode": BOM stripped, errors replaced with U+FFFD. */
export function decodeUtf8(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

export class TextEncoder {
  get encoding(): string {
    return "utf-8";
  }

  encode(input: unknown = ""): Uint8Array {
    return encodeUtf8(toDomString(input));
  }

  encodeInto(source: unknown, destination: Uint8Array): { read: number; written: number } {
    const text = toDomString(source);
    if (!(destination instanceof Uint8Array)) throw new TypeError("TextEncoder.encodeInto: destination must be a Uint8Array.");
    return writeUtf8(text, destination);
  }

  get [Symbol.toStringTag](): string {
    return "TextEncoder";
  }
}

// Decoded UTF-16 code units are gathered here and turned into string pieces in bulk.
const CHUNK_UNITS = 8192;

export class TextDecoder {
  readonly #fatal: boolean;
  readonly #ignoreBOM: boolean;
  #doNotFlush = false;
  #bomSeen = false;
  // The UTF-8 decoder's state, carried between decode() calls while streaming.
  #codePoint = 0;
  #bytesNeeded = 0;
  #bytesSeen = 0;
  #lowerBoundary = 0x80;
  #upperBoundary = 0xbf;

  constructor(label: unknown = "utf-8", options?: { fatal?: boolean; ignoreBOM?: boolean }) {
    const name = toDomString(label)
      .replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, "")
      .replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
    const settings = toDictionary(options, "TextDecoder options");
    this.#fatal = Boolean(settings.fatal);
    this.#ignoreBOM = Boolean(settings.ignoreBOM);
    if (!UTF8_LABELS.includes(name)) throw new RangeError(`The "${toDomString(label)}" encoding is not supported.`);
  }

  get encoding(): string {
    return "utf-8";
  }

  get fatal(): boolean {
    return this.#fatal;
  }

  get ignoreBOM(): boolean {
    return this.#ignoreBOM;
  }

  decode(input?: unknown, options?: { stream?: boolean }): string {
    let bytes: Uint8Array | undefined;
    if (input !== undefined) {
      bytes = viewBufferSource(input);
      if (bytes === undefined) throw new TypeError("TextDecoder.decode: input must be an ArrayBuffer or an ArrayBufferView.");
    }
    const stream = Boolean(toDictionary(options, "TextDecoder.decode options").stream);
    if (!this.#doNotFlush) {
      this.#resetDecoder();
      this.#bomSeen = false;
    }
    this.#doNotFlush = stream;

    let output = this.#decodeBytes(bytes ?? new Uint8Array(0), !stream);
    if (!this.#ignoreBOM && !this.#bomSeen && output.length > 0) {
      this.#bomSeen = true;
      if (output.charCodeAt(0) === 0xfeff) output = output.slice(1);
    }
    return output;
  }

  get [Symbol.toStringTag](): string {
    return "TextDecoder";
  }

  #resetDecoder(): void {
    this.#codePoint = 0;
    this.#bytesNeeded = 0;
    this.#bytesSeen = 0;
    this.#lowerBoundary = 0x80;
    this.#upperBoundary = 0xbf;
  }

  // The UTF-8 decoder of the Encoding Standard, step for step, with its state held in locals for
  // speed. An invalid byte that interrupts a sequence is processed again as the start of the next
  // one, which gives the "maximal subpart" replacement the standard requires.
  #decodeBytes(bytes: Uint8Array, flush: boolean): string {
    const fatal = this.#fatal;
    let codePoint = this.#codePoint;
    let bytesNeeded = this.#bytesNeeded;
    let bytesSeen = this.#bytesSeen;
    let lower = this.#lowerBoundary;
    let upper = this.#upperBoundary;

    const length = bytes.length;
    // Each byte yields at most one code unit plus a few for state carried in or flushed out.
    const units = new Uint16Array(Math.min(CHUNK_UNITS, length + 4));
    let unitCount = 0;
    const pieces: string[] = [];
    const makeRoom = (): void => {
      if (unitCount <= units.length - 2) return;
      pieces.push(String.fromCharCode.apply(null, units.subarray(0, unitCount) as unknown as number[]));
      unitCount = 0;
    };
    const fail = (): void => {
      if (fatal) {
        this.#resetDecoder();
        this.#doNotFlush = false;
        throw new TypeError("The encoded data was not valid UTF-8.");
      }
      units[unitCount++] = REPLACEMENT_CHARACTER;
    };

    let index = 0;
    while (index < length) {
      makeRoom(); // one step below adds at most two code units
      const byte = bytes[index];
      if (bytesNeeded === 0) {
        index++;
        if (byte < 0x80) {
          units[unitCount++] = byte;
        } else if (byte >= 0xc2 && byte <= 0xdf) {
          bytesNeeded = 1;
          codePoint = byte & 0x1f;
        } else if (byte >= 0xe0 && byte <= 0xef) {
          if (byte === 0xe0) lower = 0xa0;
          else if (byte === 0xed) upper = 0x9f;
          bytesNeeded = 2;
          codePoint = byte & 0x0f;
        } else if (byte >= 0xf0 && byte <= 0xf4) {
          if (byte === 0xf0) lower = 0x90;
          else if (byte === 0xf4) upper = 0x8f;
          bytesNeeded = 3;
          codePoint = byte & 0x07;
        } else {
          fail();
        }
        continue;
      }
      if (byte < lower || byte > upper) {
        codePoint = bytesNeeded = bytesSeen = 0;
        lower = 0x80;
        upper = 0xbf;
        fail();
        continue;
      }
      index++;
      lower = 0x80;
      upper = 0xbf;
      codePoint = (codePoint << 6) | (byte & 0x3f);
      if (++bytesSeen !== bytesNeeded) continue;
      if (codePoint < 0x10000) {
        units[unitCount++] = codePoint;
      } else {
        units[unitCount++] = 0xd800 + ((codePoint - 0x10000) >> 10);
        units[unitCount++] = 0xdc00 + ((codePoint - 0x10000) & 0x3ff);
      }
      codePoint = bytesNeeded = bytesSeen = 0;
    }
    if (flush && bytesNeeded !== 0) {
      makeRoom();
      codePoint = bytesNeeded = bytesSeen = 0;
      lower = 0x80;
      upper = 0xbf;
      fail();
    }

    this.#codePoint = codePoint;
    this.#bytesNeeded = bytesNeeded;
    this.#bytesSeen = bytesSeen;
    this.#lowerBoundary = lower;
    this.#upperBoundary = upper;
    pieces.push(String.fromCharCode.apply(null, units.subarray(0, unitCount) as unknown as number[]));
    return pieces.length === 1 ? pieces[0] : pieces.join("");
  }
}
