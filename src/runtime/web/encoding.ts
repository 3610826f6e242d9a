// TextEncoder and TextDecoder, following the WHATWG Encoding Standard. The encoder is UTF-8 only,
// as the standard requires. The decoder knows every encoding of the standard and every label of
// its table: UTF-8, UTF-16LE/BE and windows-1252 here; the legacy single-byte and CJK encodings,
// and their labels, in the encodings chunk (legacy-encodings.ts), whose index tables a sandbox
// gets from the host on first use. The "replacement" encoding's labels are a RangeError, as the
// standard says for TextDecoder.

import { brandPlatformObject, encodings } from "../platform.ts";
import { toDictionary, toDomString, viewBufferSource } from "./webidl.ts";
import { ownMethod } from "./own.ts";
import { primordials, SymbolToStringTag } from "../primordials.ts";
import { decodingError, REPLACEMENT_CHARACTER, UnitBuffer, type Decoder } from "./text-units.ts";

const { Boolean, ObjectCreate, ObjectGetOwnPropertyNames, RangeError, ReflectDefineProperty, ReflectGetOwnPropertyDescriptor, RegExpPrototypeSymbolReplace, StringPrototypeCharCodeAt, StringPrototypeSlice, StringPrototypeToLowerCase, TypeError, TypedArrayPrototypeGetLength, Uint8Array } = primordials;

/** An encoding's name, as the `encoding` getter returns it. */
type EncodingName = string;

// The labels of the encodings decoded here; every other label of the standard is looked up in the
// encodings chunk (legacy-encodings.ts), which a legacy or unknown label loads. A null-prototype
// object, so neither a label such as "constructor" nor a user-modified Map.prototype can change
// what a label means.
const LABELS: Record<string, EncodingName | undefined> = ObjectCreate(null);
const LABEL_LISTS: [EncodingName, string[]][] = [
  ["utf-8", ["unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "utf-8", "utf8", "x-unicode20utf8"]],
  ["utf-16le", ["csunicode", "iso-10646-ucs-2", "ucs-2", "unicode", "unicodefeff", "utf-16", "utf-16le"]],
  ["utf-16be", ["unicodefffe", "utf-16be"]],
  [
    "windows-1252",
    [
      "ansi_x3.4-1968",
      "ascii",
      "cp1252",
      "cp819",
      "csisolatin1",
      "ibm819",
      "iso-8859-1",
      "iso-ir-100",
      "iso8859-1",
      "iso88591",
      "iso_8859-1",
      "iso_8859-1:1987",
      "l1",
      "latin1",
      "us-ascii",
      "windows-1252",
      "x-cp1252",
    ],
  ],
];
for (let i28 = 0, a28 = LABEL_LISTS; i28 < a28.length; i28++) {
  const encoding = a28[i28][0], labels = a28[i28][1];
  for (let i29 = 0, a29 = labels; i29 < a29.length; i29++) LABELS[a29[i29]] = encoding;
}

// index-windows-1252 for 0x80..0x9F; every other byte is the code point of the same value.
const WINDOWS_1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c,
  0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

/** The number of bytes `text` takes in UTF-8, counting each lone surrogate as U+FFFD. */
function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = StringPrototypeCharCodeAt(text, i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && isLowSurrogate(StringPrototypeCharCodeAt(text, i + 1))) {
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
  const capacity = TypedArrayPrototypeGetLength(destination);
  let read = 0;
  let written = 0;
  while (read < length) {
    let codePoint = StringPrototypeCharCodeAt(source, read);
    let units = 1;
    if (codePoint >= 0xd800 && codePoint <= 0xdfff) {
      const next = StringPrototypeCharCodeAt(source, read + 1);
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
  return textDecoderDecode(new TextDecoder(), bytes);
}

/** The spec's "UTF-8 decode without BOM": a leading U+FEFF is kept, errors replaced with U+FFFD. */
export function decodeUtf8WithoutBom(bytes: Uint8Array): string {
  return new Utf8Decoder(false).decode(bytes, true);
}

export class TextEncoder {
  constructor() {
    brandPlatformObject(this, "TextEncoder");
  }

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
}

class Utf8Decoder implements Decoder {
  readonly #fatal: boolean;
  #codePoint = 0;
  #bytesNeeded = 0;
  #bytesSeen = 0;
  #lowerBoundary = 0x80;
  #upperBoundary = 0xbf;

  constructor(fatal: boolean) {
    this.#fatal = fatal;
  }

  reset(): void {
    this.#codePoint = 0;
    this.#bytesNeeded = 0;
    this.#bytesSeen = 0;
    this.#lowerBoundary = 0x80;
    this.#upperBoundary = 0xbf;
  }

  // The UTF-8 decoder of the Encoding Standard, step for step, with its state held in locals for
  // speed. An invalid byte that interrupts a sequence is processed again as the start of the next
  // one, which gives the "maximal subpart" replacement the standard requires.
  decode(bytes: Uint8Array, flush: boolean): string {
    const fatal = this.#fatal;
    let codePoint = this.#codePoint;
    let bytesNeeded = this.#bytesNeeded;
    let bytesSeen = this.#bytesSeen;
    let lower = this.#lowerBoundary;
    let upper = this.#upperBoundary;

    const length = TypedArrayPrototypeGetLength(bytes);
    const out = new UnitBuffer(length);
    const units = out.units;
    const fail = (): void => {
      if (fatal) throw decodingError("utf-8");
      units[out.count++] = REPLACEMENT_CHARACTER;
    };

    let index = 0;
    while (index < length) {
      out.reserve(2); // one step below adds at most two code units
      const byte = bytes[index];
      if (bytesNeeded === 0) {
        index++;
        if (byte < 0x80) {
          units[out.count++] = byte;
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
        units[out.count++] = codePoint;
      } else {
        units[out.count++] = 0xd800 + ((codePoint - 0x10000) >> 10);
        units[out.count++] = 0xdc00 + ((codePoint - 0x10000) & 0x3ff);
      }
      codePoint = bytesNeeded = bytesSeen = 0;
    }
    if (flush && bytesNeeded !== 0) {
      out.reserve(1);
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
    return out.finish();
  }
}

/** The standard's "shared UTF-16 decoder". */
class Utf16Decoder implements Decoder {
  readonly #fatal: boolean;
  readonly #bigEndian: boolean;
  #leadByte = -1;
  #leadSurrogate = -1;

  constructor(fatal: boolean, bigEndian: boolean) {
    this.#fatal = fatal;
    this.#bigEndian = bigEndian;
  }

  reset(): void {
    this.#leadByte = -1;
    this.#leadSurrogate = -1;
  }

  decode(bytes: Uint8Array, flush: boolean): string {
    const fatal = this.#fatal;
    const bigEndian = this.#bigEndian;
    const encoding: EncodingName = bigEndian ? "utf-16be" : "utf-16le";
    let leadByte = this.#leadByte;
    let leadSurrogate = this.#leadSurrogate;
    const out = new UnitBuffer(TypedArrayPrototypeGetLength(bytes) >> 1);
    const units = out.units;
    const fail = (): void => {
      if (fatal) throw decodingError(encoding);
      units[out.count++] = REPLACEMENT_CHARACTER;
    };

    for (let index = 0; index < TypedArrayPrototypeGetLength(bytes); index++) {
      const byte = bytes[index];
      if (leadByte < 0) {
        leadByte = byte;
        continue;
      }
      const unit = bigEndian ? (leadByte << 8) | byte : (byte << 8) | leadByte;
      leadByte = -1;
      out.reserve(2);
      if (leadSurrogate >= 0) {
        const lead = leadSurrogate;
        leadSurrogate = -1;
        if (isLowSurrogate(unit)) {
          units[out.count++] = lead;
          units[out.count++] = unit;
          continue;
        }
        // The unit after an unpaired lead surrogate is processed again on its own.
        fail();
      }
      if (unit >= 0xd800 && unit <= 0xdbff) leadSurrogate = unit;
      else if (isLowSurrogate(unit)) fail();
      else units[out.count++] = unit;
    }
    if (flush && (leadByte >= 0 || leadSurrogate >= 0)) {
      leadByte = leadSurrogate = -1;
      out.reserve(1);
      fail();
    }

    this.#leadByte = leadByte;
    this.#leadSurrogate = leadSurrogate;
    return out.finish();
  }
}

/** windows-1252 never fails and keeps no state: every byte is one character. */
class Windows1252Decoder implements Decoder {
  reset(): void {}

  decode(bytes: Uint8Array): string {
    const out = new UnitBuffer(TypedArrayPrototypeGetLength(bytes));
    const units = out.units;
    for (let index = 0; index < TypedArrayPrototypeGetLength(bytes); index++) {
      out.reserve(1);
      const byte = bytes[index];
      units[out.count++] = byte >= 0x80 && byte <= 0x9f ? WINDOWS_1252_HIGH[byte - 0x80] : byte;
    }
    return out.finish();
  }
}

function createDecoder(encoding: EncodingName, fatal: boolean): Decoder {
  if (encoding === "utf-8") return new Utf8Decoder(fatal);
  if (encoding === "windows-1252") return new Windows1252Decoder();
  if (encoding === "utf-16le" || encoding === "utf-16be") return new Utf16Decoder(fatal, encoding === "utf-16be");
  // The legacy encodings' decoders are a chunk of their own, loaded on first use.
  return encodings().createLegacyDecoder(encoding, fatal);
}

export class TextDecoder {
  readonly #encoding: EncodingName;
  readonly #fatal: boolean;
  readonly #ignoreBOM: boolean;
  readonly #decoder: Decoder;
  /** UTF-8 or UTF-16: the encodings whose byte order mark decode() strips. */
  readonly #unicode: boolean;
  #doNotFlush = false;
  #bomSeen = false;

  constructor(label: unknown = "utf-8", options?: { fatal?: boolean; ignoreBOM?: boolean }) {
    brandPlatformObject(this, "TextDecoder");
    const text = toDomString(label);
    const settings = toDictionary(options, "TextDecoder options");
    this.#fatal = Boolean(settings.fatal);
    this.#ignoreBOM = Boolean(settings.ignoreBOM);
    const name = RegExpPrototypeSymbolReplace(/[A-Z]+/g, RegExpPrototypeSymbolReplace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, text, ""), (letters) => StringPrototypeToLowerCase(letters));
    const encoding = LABELS[name] ?? encodings().legacyEncodingForLabel(name);
    if (encoding === undefined) throw new RangeError(`The "${text}" encoding is not supported.`);
    this.#encoding = encoding;
    this.#unicode = encoding === "utf-8" || encoding === "utf-16le" || encoding === "utf-16be";
    this.#decoder = createDecoder(encoding, this.#fatal);
  }

  get encoding(): string {
    return this.#encoding;
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
      this.#decoder.reset();
      this.#bomSeen = false;
    }
    this.#doNotFlush = stream;

    let output: string;
    try {
      output = this.#decoder.decode(bytes ?? new Uint8Array(0), !stream);
    } catch (error) {
      // A fatal error ends the stream: the next call starts afresh, as Node's decoder does.
      this.#decoder.reset();
      this.#doNotFlush = false;
      throw error;
    }
    // The standard strips a byte order mark only for the Unicode encodings.
    if (!this.#ignoreBOM && !this.#bomSeen && output.length > 0 && this.#unicode) {
      this.#bomSeen = true;
      if (StringPrototypeCharCodeAt(output, 0) === 0xfeff) output = StringPrototypeSlice(output, 1);
    }
    return output;
  }
}

// Captured now, before user code can see the classes (see own.ts).
export const textEncoderEncode = ownMethod<[unknown?], Uint8Array>(TextEncoder.prototype, "encode");
export const textDecoderDecode = ownMethod<[unknown?, unknown?], string>(TextDecoder.prototype, "decode");

// Laid out as Web IDL does: members enumerable, SymbolToStringTag a read-only data property.
for (let i30 = 0, a30 = [
  [TextEncoder, "TextEncoder"],
  [TextDecoder, "TextDecoder"],
] as const; i30 < a30.length; i30++) {const constructor = a30[i30][0], name = a30[i30][1];
  const prototype = constructor.prototype;
  for (let i31 = 0, a31 = ObjectGetOwnPropertyNames(prototype); i31 < a31.length; i31++) {
    const key = a31[i31];
    if (key !== "constructor") ReflectDefineProperty(prototype, key, { ...ReflectGetOwnPropertyDescriptor(prototype, key), enumerable: true });
  }
  ReflectDefineProperty(prototype, SymbolToStringTag, { value: name, writable: false, enumerable: false, configurable: true });
}
