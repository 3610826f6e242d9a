// Entry of the lazily loaded encodings chunk (dist/runtime-encodings.js), which a sandbox loads the
// first time a TextDecoder is asked for a label other than UTF-8's, UTF-16's and windows-1252's
// (encoding.ts, in the web chunk).
//
// The Encoding Standard's legacy decoders: the single-byte encodings, x-user-defined, and the CJK
// multi-byte ones (gb18030 and gbk, Big5, EUC-JP, ISO-2022-JP, Shift_JIS, EUC-KR), step for step
// as the standard writes them. They run here, in the sandbox, under its cpuMs and memoryMb, and
// keep their streaming state here. Only their index tables come from the host: one copy of each
// table a sandbox needs, asked for the first time a decoder needs it (src/engine/services/encoding.ts).
//
// Where the standard "restores" bytes to the input after an error, the decoders below process
// them again without a queue: a restored ASCII byte always decodes to itself in these ASCII
// supersets, and the bytes gb18030 restores are an ASCII digit and a lead byte. ISO-2022-JP, which
// is not an ASCII superset, keeps a queue of the (at most two) bytes it restores.

import { host } from "../platform.ts";
export { bindPlatform } from "../platform.ts";
import { ENCODING_INDEX_SERVICE } from "../../protocol/encoding-indexes.ts";
import { primordials } from "../primordials.ts";
import { decodingError, REPLACEMENT_CHARACTER, UnitBuffer, type Decoder } from "./text-units.ts";

const { ObjectCreate, TypedArrayPrototypeGetLength } = primordials;

type Index = Uint16Array | Uint32Array;

/** This sandbox's copy of each index table it has used. */
const indexes: Record<string, Index | undefined> = ObjectCreate(null);

function index(name: string): Index {
  let table = indexes[name];
  if (table === undefined) {
    table = host(ENCODING_INDEX_SERVICE, name) as Index;
    indexes[name] = table;
  }
  return table;
}

// The standard's labels of the encodings decoded here (encoding.ts has those of UTF-8, UTF-16 and
// windows-1252). A null-prototype object, so neither a label such as "constructor" nor a
// user-modified prototype can change what a label means.
const LABELS: Record<string, string | undefined> = ObjectCreate(null);
const LABEL_LISTS: [string, string[]][] = [
  // Legacy single-byte encodings
  ["ibm866", ["866", "cp866", "csibm866", "ibm866"]],
  ["iso-8859-2", ["csisolatin2", "iso-8859-2", "iso-ir-101", "iso8859-2", "iso88592", "iso_8859-2", "iso_8859-2:1987", "l2", "latin2"]],
  ["iso-8859-3", ["csisolatin3", "iso-8859-3", "iso-ir-109", "iso8859-3", "iso88593", "iso_8859-3", "iso_8859-3:1988", "l3", "latin3"]],
  ["iso-8859-4", ["csisolatin4", "iso-8859-4", "iso-ir-110", "iso8859-4", "iso88594", "iso_8859-4", "iso_8859-4:1988", "l4", "latin4"]],
  ["iso-8859-5", ["csisolatincyrillic", "cyrillic", "iso-8859-5", "iso-ir-144", "iso8859-5", "iso88595", "iso_8859-5", "iso_8859-5:1988"]],
  [
    "iso-8859-6",
    ["arabic", "asmo-708", "csiso88596e", "csiso88596i", "csisolatinarabic", "ecma-114", "iso-8859-6", "iso-8859-6-e", "iso-8859-6-i", "iso-ir-127", "iso8859-6", "iso88596", "iso_8859-6", "iso_8859-6:1987"],
  ],
  ["iso-8859-7", ["csisolatingreek", "ecma-118", "elot_928", "greek", "greek8", "iso-8859-7", "iso-ir-126", "iso8859-7", "iso88597", "iso_8859-7", "iso_8859-7:1987", "sun_eu_greek"]],
  ["iso-8859-8", ["csiso88598e", "csisolatinhebrew", "hebrew", "iso-8859-8", "iso-8859-8-e", "iso-ir-138", "iso8859-8", "iso88598", "iso_8859-8", "iso_8859-8:1988", "visual"]],
  ["iso-8859-8-i", ["csiso88598i", "iso-8859-8-i", "logical"]],
  ["iso-8859-10", ["csisolatin6", "iso-8859-10", "iso-ir-157", "iso8859-10", "iso885910", "l6", "latin6"]],
  ["iso-8859-13", ["iso-8859-13", "iso8859-13", "iso885913"]],
  ["iso-8859-14", ["iso-8859-14", "iso8859-14", "iso885914"]],
  ["iso-8859-15", ["csisolatin9", "iso-8859-15", "iso8859-15", "iso885915", "iso_8859-15", "l9"]],
  ["iso-8859-16", ["iso-8859-16"]],
  ["koi8-r", ["cskoi8r", "koi", "koi8", "koi8-r", "koi8_r"]],
  ["koi8-u", ["koi8-ru", "koi8-u"]],
  ["macintosh", ["csmacintosh", "mac", "macintosh", "x-mac-roman"]],
  ["windows-874", ["dos-874", "iso-8859-11", "iso8859-11", "iso885911", "tis-620", "windows-874"]],
  ["windows-1250", ["cp1250", "windows-1250", "x-cp1250"]],
  ["windows-1251", ["cp1251", "windows-1251", "x-cp1251"]],
  ["windows-1253", ["cp1253", "windows-1253", "x-cp1253"]],
  ["windows-1254", ["cp1254", "csisolatin5", "iso-8859-9", "iso-ir-148", "iso8859-9", "iso88599", "iso_8859-9", "iso_8859-9:1989", "l5", "latin5", "windows-1254", "x-cp1254"]],
  ["windows-1255", ["cp1255", "windows-1255", "x-cp1255"]],
  ["windows-1256", ["cp1256", "windows-1256", "x-cp1256"]],
  ["windows-1257", ["cp1257", "windows-1257", "x-cp1257"]],
  ["windows-1258", ["cp1258", "windows-1258", "x-cp1258"]],
  ["x-mac-cyrillic", ["x-mac-cyrillic", "x-mac-ukrainian"]],
  // Legacy multi-byte Chinese (simplified) encodings
  ["gbk", ["chinese", "csgb2312", "csiso58gb231280", "gb2312", "gb_2312", "gb_2312-80", "gbk", "iso-ir-58", "x-gbk"]],
  ["gb18030", ["gb18030"]],
  // Legacy multi-byte Chinese (traditional) encodings
  ["big5", ["big5", "big5-hkscs", "cn-big5", "csbig5", "x-x-big5"]],
  // Legacy multi-byte Japanese encodings
  ["euc-jp", ["cseucpkdfmtjapanese", "euc-jp", "x-euc-jp"]],
  ["iso-2022-jp", ["csiso2022jp", "iso-2022-jp"]],
  ["shift_jis", ["csshiftjis", "ms932", "ms_kanji", "shift-jis", "shift_jis", "sjis", "windows-31j", "x-sjis"]],
  // Legacy multi-byte Korean encodings
  ["euc-kr", ["cseuckr", "csksc56011987", "euc-kr", "iso-ir-149", "korean", "ks_c_5601-1987", "ks_c_5601-1989", "ksc5601", "ksc_5601", "windows-949"]],
  // Legacy miscellaneous encodings ("replacement": csiso2022kr, hz-gb-2312, iso-2022-cn,
  // iso-2022-cn-ext, iso-2022-kr, refused by TextDecoder)
  ["x-user-defined", ["x-user-defined"]],
];
for (let i = 0; i < LABEL_LISTS.length; i++) {
  const encoding = LABEL_LISTS[i][0], labels = LABEL_LISTS[i][1];
  for (let j = 0; j < labels.length; j++) LABELS[labels[j]] = encoding;
}

/** The legacy encoding a label (trimmed and in ASCII lowercase) names, if any. */
export function legacyEncodingForLabel(label: string): string | undefined {
  return LABELS[label];
}

/** A decoder for one of the standard's legacy encodings other than windows-1252, by its name. */
export function createLegacyDecoder(name: string, fatal: boolean): Decoder {
  switch (name) {
    case "x-user-defined":
      return new XUserDefinedDecoder();
    case "gb18030":
    case "gbk":
      return new Gb18030Decoder(name, fatal);
    case "big5":
      return new Big5Decoder(fatal);
    case "euc-jp":
      return new EucJpDecoder(fatal);
    case "iso-2022-jp":
      return new Iso2022JpDecoder(fatal);
    case "shift_jis":
      return new ShiftJisDecoder(fatal);
    case "euc-kr":
      return new EucKrDecoder(fatal);
    case "iso-8859-8-i":
      // The same index as ISO-8859-8: the "-i" is about directionality, not bytes.
      return new SingleByteDecoder(name, "iso-8859-8", fatal);
    default:
      return new SingleByteDecoder(name, name, fatal);
  }
}

/** Adds U+FFFD to `out`, or throws when the decoder is fatal. */
function fail(out: UnitBuffer, fatal: boolean, encoding: string): void {
  if (fatal) throw decodingError(encoding);
  out.units[out.count++] = REPLACEMENT_CHARACTER;
}

/** Adds a code point that may be above U+FFFF (room for two units is reserved). */
function pushCodePoint(out: UnitBuffer, codePoint: number): void {
  if (codePoint < 0x10000) {
    out.units[out.count++] = codePoint;
  } else {
    out.units[out.count++] = 0xd800 + ((codePoint - 0x10000) >> 10);
    out.units[out.count++] = 0xdc00 + ((codePoint - 0x10000) & 0x3ff);
  }
}

/** The standard's single-byte decoder over one of its indexes: no state, one character a byte. */
class SingleByteDecoder implements Decoder {
  readonly #name: string;
  readonly #index: string;
  readonly #fatal: boolean;

  constructor(name: string, indexName: string, fatal: boolean) {
    this.#name = name;
    this.#index = indexName;
    this.#fatal = fatal;
  }

  reset(): void {}

  decode(bytes: Uint8Array): string {
    const length = TypedArrayPrototypeGetLength(bytes);
    const out = new UnitBuffer(length);
    const table = length === 0 ? undefined : index(this.#index);
    const units = out.units;
    const room = TypedArrayPrototypeGetLength(units) - 1;
    for (let i = 0; i < length; i++) {
      if (out.count >= room) out.reserve(1);
      const byte = bytes[i];
      if (byte < 0x80) {
        units[out.count++] = byte;
        continue;
      }
      const codePoint = table![byte - 0x80];
      if (codePoint === 0) fail(out, this.#fatal, this.#name);
      else units[out.count++] = codePoint;
    }
    return out.finish();
  }
}

/** x-user-defined: the high bytes map to U+F780..U+F7FF. Never fails. */
class XUserDefinedDecoder implements Decoder {
  reset(): void {}

  decode(bytes: Uint8Array): string {
    const length = TypedArrayPrototypeGetLength(bytes);
    const out = new UnitBuffer(length);
    const units = out.units;
    for (let i = 0; i < length; i++) {
      out.reserve(1);
      const byte = bytes[i];
      units[out.count++] = byte < 0x80 ? byte : 0xf780 + byte - 0x80;
    }
    return out.finish();
  }
}

/**
 * The code point of a four-byte gb18030 pointer (the standard's "index gb18030 ranges code
 * point"), null as -1. `ranges` holds (pointer, code point) pairs in pointer order.
 */
function gb18030RangesCodePoint(pointer: number): number {
  if ((pointer > 39419 && pointer < 189000) || pointer > 1237575) return -1;
  if (pointer >= 189000) return 0x10000 + pointer - 189000;
  if (pointer === 7457) return 0xe7c7;
  const ranges = index("gb18030-ranges");
  // The last pair whose pointer is at most `pointer` (the first pair's is 0).
  let low = 0;
  let high = (TypedArrayPrototypeGetLength(ranges) >> 1) - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (ranges[middle * 2] <= pointer) low = middle;
    else high = middle - 1;
  }
  return ranges[low * 2 + 1] + pointer - ranges[low * 2];
}

/** The gb18030 decoder, which gbk shares. */
class Gb18030Decoder implements Decoder {
  readonly #name: string;
  readonly #fatal: boolean;
  #first = 0;
  #second = 0;
  #third = 0;

  constructor(name: string, fatal: boolean) {
    this.#name = name;
    this.#fatal = fatal;
  }

  reset(): void {
    this.#first = this.#second = this.#third = 0;
  }

  decode(bytes: Uint8Array, flush: boolean): string {
    const fatal = this.#fatal;
    const name = this.#name;
    let first = this.#first;
    let second = this.#second;
    let third = this.#third;
    const length = TypedArrayPrototypeGetLength(bytes);
    const out = new UnitBuffer(length);
    const units = out.units;
    const room = TypedArrayPrototypeGetLength(units) - 2;
    let table: Index | undefined;

    let i = 0;
    while (i < length) {
      if (out.count > room) out.reserve(2);
      const byte = bytes[i];
      if (third !== 0) {
        if (byte < 0x30 || byte > 0x39) {
          // Restore second, third and byte: second is an ASCII digit, third a lead byte.
          fail(out, fatal, name);
          units[out.count++] = second;
          first = third;
          second = third = 0;
          continue;
        }
        const codePoint = gb18030RangesCodePoint((first - 0x81) * 12600 + (second - 0x30) * 1260 + (third - 0x81) * 10 + byte - 0x30);
        first = second = third = 0;
        i++;
        if (codePoint < 0) fail(out, fatal, name);
        else pushCodePoint(out, codePoint);
        continue;
      }
      if (second !== 0) {
        if (byte >= 0x81 && byte <= 0xfe) {
          third = byte;
          i++;
          continue;
        }
        // Restore second and byte: second is an ASCII digit.
        fail(out, fatal, name);
        units[out.count++] = second;
        first = second = 0;
        continue;
      }
      if (first !== 0) {
        if (byte >= 0x30 && byte <= 0x39) {
          second = byte;
          i++;
          continue;
        }
        const lead = first;
        first = 0;
        let codePoint = 0;
        if ((byte >= 0x40 && byte <= 0x7e) || (byte >= 0x80 && byte <= 0xfe)) {
          table ??= index("gb18030");
          codePoint = table[(lead - 0x81) * 190 + byte - (byte < 0x7f ? 0x40 : 0x41)];
        }
        if (codePoint !== 0) {
          units[out.count++] = codePoint;
          i++;
          continue;
        }
        fail(out, fatal, name);
        // An ASCII byte is restored, and decodes to itself.
        if (byte >= 0x80) i++;
        continue;
      }
      i++;
      if (byte < 0x80) units[out.count++] = byte;
      else if (byte === 0x80) units[out.count++] = 0x20ac;
      else if (byte <= 0xfe) first = byte;
      else fail(out, fatal, name);
    }
    if (flush && (first !== 0 || second !== 0 || third !== 0)) {
      first = second = third = 0;
      out.reserve(1);
      fail(out, fatal, name);
    }
    this.#first = first;
    this.#second = second;
    this.#third = third;
    return out.finish();
  }
}

/**
 * The two-byte decoders that share one shape: a lead byte, then a trail byte that with it makes
 * a pointer into an index; on an error an ASCII trail byte is restored (and decodes to itself).
 */
abstract class LeadTrailDecoder implements Decoder {
  protected readonly fatal: boolean;
  protected readonly name: string;
  protected lead = 0;

  constructor(name: string, fatal: boolean) {
    this.name = name;
    this.fatal = fatal;
  }

  reset(): void {
    this.lead = 0;
  }

  /** The output for a byte outside a sequence: a code point, 0 to start a sequence, -1 for an error. */
  protected abstract single(byte: number): number;
  /** Adds the character of (lead, byte) to `out` and returns true, or returns false for an error. */
  protected abstract pair(lead: number, byte: number, out: UnitBuffer): boolean;

  decode(bytes: Uint8Array, flush: boolean): string {
    const fatal = this.fatal;
    const name = this.name;
    let lead = this.lead;
    const length = TypedArrayPrototypeGetLength(bytes);
    const out = new UnitBuffer(length);
    const units = out.units;
    const room = TypedArrayPrototypeGetLength(units) - 2;
    let i = 0;
    while (i < length) {
      if (out.count > room) out.reserve(2);
      const byte = bytes[i++];
      if (lead === 0) {
        if (byte < 0x80) {
          units[out.count++] = byte;
          continue;
        }
        const codePoint = this.single(byte);
        if (codePoint === 0) lead = byte;
        else if (codePoint > 0) units[out.count++] = codePoint;
        else fail(out, fatal, name);
        continue;
      }
      const first = lead;
      lead = 0;
      if (this.pair(first, byte, out)) continue;
      fail(out, fatal, name);
      if (byte < 0x80) units[out.count++] = byte;
    }
    if (flush && lead !== 0) {
      lead = 0;
      out.reserve(1);
      fail(out, fatal, name);
    }
    this.lead = lead;
    return out.finish();
  }
}

class ShiftJisDecoder extends LeadTrailDecoder {
  #jis0208: Index | undefined;

  constructor(fatal: boolean) {
    super("shift_jis", fatal);
  }

  protected single(byte: number): number {
    if (byte === 0x80) return 0x80;
    if (byte >= 0xa1 && byte <= 0xdf) return 0xff61 - 0xa1 + byte;
    if ((byte >= 0x81 && byte <= 0x9f) || (byte >= 0xe0 && byte <= 0xfc)) return 0;
    return -1;
  }

  protected pair(lead: number, byte: number, out: UnitBuffer): boolean {
    if (byte < 0x40 || byte > 0xfc || byte === 0x7f) return false;
    const pointer = (lead - (lead < 0xa0 ? 0x81 : 0xc1)) * 188 + byte - (byte < 0x7f ? 0x40 : 0x41);
    if (pointer >= 8836 && pointer <= 10715) {
      out.units[out.count++] = 0xe000 - 8836 + pointer;
      return true;
    }
    // Pointers past the index's end (lead bytes 0xF0-0xFC) read undefined: no code point.
    const codePoint = (this.#jis0208 ??= index("jis0208"))[pointer];
    if (!codePoint) return false;
    out.units[out.count++] = codePoint;
    return true;
  }
}

class EucKrDecoder extends LeadTrailDecoder {
  #table: Index | undefined;

  constructor(fatal: boolean) {
    super("euc-kr", fatal);
  }

  protected single(byte: number): number {
    return byte >= 0x81 && byte <= 0xfe ? 0 : -1;
  }

  protected pair(lead: number, byte: number, out: UnitBuffer): boolean {
    if (byte < 0x41 || byte > 0xfe) return false;
    const codePoint = (this.#table ??= index("euc-kr"))[(lead - 0x81) * 190 + byte - 0x41];
    if (!codePoint) return false;
    out.units[out.count++] = codePoint;
    return true;
  }
}

class Big5Decoder extends LeadTrailDecoder {
  #table: Index | undefined;

  constructor(fatal: boolean) {
    super("big5", fatal);
  }

  protected single(byte: number): number {
    return byte >= 0x81 && byte <= 0xfe ? 0 : -1;
  }

  protected pair(lead: number, byte: number, out: UnitBuffer): boolean {
    if (byte < 0x40 || (byte > 0x7e && byte < 0xa1) || byte > 0xfe) return false;
    const pointer = (lead - 0x81) * 157 + byte - (byte < 0x7f ? 0x40 : 0x62);
    // The four pointers that decode to two code points.
    if (pointer === 1133 || pointer === 1135 || pointer === 1164 || pointer === 1166) {
      out.units[out.count++] = pointer < 1164 ? 0xca : 0xea;
      out.units[out.count++] = pointer === 1133 || pointer === 1164 ? 0x304 : 0x30c;
      return true;
    }
    const codePoint = (this.#table ??= index("big5"))[pointer];
    if (!codePoint) return false;
    pushCodePoint(out, codePoint);
    return true;
  }
}

class EucJpDecoder implements Decoder {
  readonly #fatal: boolean;
  #lead = 0;
  #jis0212 = false;

  constructor(fatal: boolean) {
    this.#fatal = fatal;
  }

  reset(): void {
    this.#lead = 0;
    this.#jis0212 = false;
  }

  decode(bytes: Uint8Array, flush: boolean): string {
    const fatal = this.#fatal;
    let lead = this.#lead;
    let jis0212 = this.#jis0212;
    let table0208: Index | undefined;
    let table0212: Index | undefined;
    const length = TypedArrayPrototypeGetLength(bytes);
    const out = new UnitBuffer(length);
    const units = out.units;
    const room = TypedArrayPrototypeGetLength(units) - 2;
    let i = 0;
    while (i < length) {
      if (out.count > room) out.reserve(2);
      const byte = bytes[i++];
      if (lead === 0x8e && byte >= 0xa1 && byte <= 0xdf) {
        lead = 0;
        units[out.count++] = 0xff61 - 0xa1 + byte;
        continue;
      }
      if (lead === 0x8f && byte >= 0xa1 && byte <= 0xfe) {
        jis0212 = true;
        lead = byte;
        continue;
      }
      if (lead !== 0) {
        const first = lead;
        lead = 0;
        let codePoint: number | undefined = 0;
        // jis0212 is shorter than 94 rows: a pointer past its end reads undefined, no code point.
        if (first >= 0xa1 && first <= 0xfe && byte >= 0xa1 && byte <= 0xfe) codePoint = (jis0212 ? (table0212 ??= index("jis0212")) : (table0208 ??= index("jis0208")))[(first - 0xa1) * 94 + byte - 0xa1];
        jis0212 = false;
        if (codePoint) {
          units[out.count++] = codePoint;
          continue;
        }
        fail(out, fatal, "euc-jp");
        if (byte < 0x80) units[out.count++] = byte;
        continue;
      }
      if (byte < 0x80) units[out.count++] = byte;
      else if (byte === 0x8e || byte === 0x8f || (byte >= 0xa1 && byte <= 0xfe)) lead = byte;
      else fail(out, fatal, "euc-jp");
    }
    if (flush && lead !== 0) {
      lead = 0;
      jis0212 = false;
      out.reserve(1);
      fail(out, fatal, "euc-jp");
    }
    this.#lead = lead;
    this.#jis0212 = jis0212;
    return out.finish();
  }
}

const enum Iso2022JpState {
  Ascii,
  Roman,
  Katakana,
  LeadByte,
  TrailByte,
  EscapeStart,
  Escape,
}

/** Read from the input when it has ended and the stream is being flushed. */
const END_OF_QUEUE = -1;

/** ISO-2022-JP: escape sequences switch between ASCII, JIS-Roman, katakana and JIS X 0208. */
class Iso2022JpDecoder implements Decoder {
  readonly #fatal: boolean;
  #state = Iso2022JpState.Ascii;
  #outputState = Iso2022JpState.Ascii;
  #lead = 0;
  #outputFlag = false;
  /**
   * Bytes the standard restores to the input, read before the rest of it: at most two (an escape's
   * lead and the byte after it), held in fields rather than an array whose indices user code could
   * intercept through Array.prototype.
   */
  #restoredCount = 0;
  #restoredFirst = 0;
  #restoredSecond = 0;

  constructor(fatal: boolean) {
    this.#fatal = fatal;
  }

  reset(): void {
    this.#state = this.#outputState = Iso2022JpState.Ascii;
    this.#lead = 0;
    this.#outputFlag = false;
    this.#restoredCount = 0;
  }

  decode(bytes: Uint8Array, flush: boolean): string {
    const length = TypedArrayPrototypeGetLength(bytes);
    const out = new UnitBuffer(length);
    let i = 0;
    for (;;) {
      let byte: number;
      if (this.#restoredCount > 0) {
        byte = this.#restoredFirst;
        this.#restoredFirst = this.#restoredSecond;
        this.#restoredCount--;
      } else if (i < length) byte = bytes[i++];
      else if (flush) byte = END_OF_QUEUE;
      else break;
      out.reserve(1);
      if (!this.#step(byte, out)) break;
    }
    return out.finish();
  }

  /**
   * Puts `first` (and `second` after it) back at the front of the input. Only the escape states
   * restore, and a restored byte is always read in the output state, never in an escape state: so
   * the queue is empty whenever this runs, and two places are enough.
   */
  #restore(first: number, second = -1): void {
    this.#restoredFirst = first;
    this.#restoredSecond = second;
    this.#restoredCount = second < 0 ? 1 : 2;
  }

  #error(out: UnitBuffer): void {
    fail(out, this.#fatal, "iso-2022-jp");
  }

  /** The standard's handler for one byte; false when it is finished. */
  #step(byte: number, out: UnitBuffer): boolean {
    const units = out.units;
    switch (this.#state) {
      case Iso2022JpState.Ascii:
      case Iso2022JpState.Roman:
      case Iso2022JpState.Katakana:
      case Iso2022JpState.LeadByte: {
        if (byte === 0x1b) {
          this.#state = Iso2022JpState.EscapeStart;
          return true;
        }
        if (byte === END_OF_QUEUE) return false;
        this.#outputFlag = false;
        const state = this.#state;
        if (state === Iso2022JpState.Katakana) {
          if (byte >= 0x21 && byte <= 0x5f) units[out.count++] = 0xff61 - 0x21 + byte;
          else this.#error(out);
        } else if (state === Iso2022JpState.LeadByte) {
          if (byte >= 0x21 && byte <= 0x7e) {
            this.#lead = byte;
            this.#state = Iso2022JpState.TrailByte;
          } else {
            this.#error(out);
          }
        } else if (byte > 0x7f || byte === 0x0e || byte === 0x0f) {
          this.#error(out);
        } else if (state === Iso2022JpState.Roman && byte === 0x5c) {
          units[out.count++] = 0xa5;
        } else if (state === Iso2022JpState.Roman && byte === 0x7e) {
          units[out.count++] = 0x203e;
        } else {
          units[out.count++] = byte;
        }
        return true;
      }
      case Iso2022JpState.TrailByte: {
        if (byte === 0x1b) {
          this.#state = Iso2022JpState.EscapeStart;
          this.#error(out);
          return true;
        }
        // At the end of the queue the end is "restored": the lead byte state then finishes.
        this.#state = Iso2022JpState.LeadByte;
        if (byte >= 0x21 && byte <= 0x7e) {
          const codePoint = index("jis0208")[(this.#lead - 0x21) * 94 + byte - 0x21];
          if (codePoint === 0) this.#error(out);
          else units[out.count++] = codePoint;
        } else {
          this.#error(out);
        }
        return true;
      }
      case Iso2022JpState.EscapeStart: {
        if (byte === 0x24 || byte === 0x28) {
          this.#lead = byte;
          this.#state = Iso2022JpState.Escape;
          return true;
        }
        if (byte !== END_OF_QUEUE) this.#restore(byte);
        this.#outputFlag = false;
        this.#state = this.#outputState;
        this.#error(out);
        return true;
      }
      case Iso2022JpState.Escape: {
        const lead = this.#lead;
        this.#lead = 0;
        let state = -1;
        if (lead === 0x28 && byte === 0x42) state = Iso2022JpState.Ascii;
        else if (lead === 0x28 && byte === 0x4a) state = Iso2022JpState.Roman;
        else if (lead === 0x28 && byte === 0x49) state = Iso2022JpState.Katakana;
        else if (lead === 0x24 && (byte === 0x40 || byte === 0x42)) state = Iso2022JpState.LeadByte;
        if (state >= 0) {
          this.#state = this.#outputState = state as Iso2022JpState;
          const output = this.#outputFlag;
          this.#outputFlag = true;
          if (output) this.#error(out);
          return true;
        }
        if (byte === END_OF_QUEUE) this.#restore(lead);
        else this.#restore(lead, byte);
        this.#outputFlag = false;
        this.#state = this.#outputState;
        this.#error(out);
        return true;
      }
    }
  }
}
