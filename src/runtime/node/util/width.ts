// How many terminal columns a string takes, for util.inspect's array grouping: wide East Asian
// characters count two, combining marks and control characters none, colour codes are removed.

import { primordials } from "../../primordials.ts";

const { RegExpPrototypeSymbolReplace, SafeStringIterator, StringPrototypeCharCodeAt, StringPrototypeCodePointAt, StringPrototypeNormalize, StringPrototypeSlice, TypeError } = primordials;

const ansi = /[\u001B\u009B][[\]()#;?]*(?:(?:(?:(?:;[-a-zA-Z\d/#&.:=?%@~_]+)*|[a-zA-Z\d]+(?:;[-a-zA-Z\d/#&.:=?%@~_]*)*)?\u0007)|(?:(?:\d{1,4}(?:;\d{0,4})*)?[\dA-PR-TZcf-ntqry=><~]))/g;

export function stripVTControlCharacters(text: string): string {
  if (typeof text !== "string") throw new TypeError('The "str" argument must be of type string.');
  return RegExpPrototypeSymbolReplace(ansi, text, "");
}

function isFullWidth(code: number): boolean {
  return (
    code >= 0x1100 &&
    (code <= 0x115f ||
      code === 0x2329 ||
      code === 0x232a ||
      (code >= 0x2e80 && code <= 0x3247 && code !== 0x303f) ||
      (code >= 0x3250 && code <= 0x4dbf) ||
      (code >= 0x4e00 && code <= 0xa4c6) ||
      (code >= 0xa960 && code <= 0xa97c) ||
      (code >= 0xac00 && code <= 0xd7a3) ||
      (code >= 0xf900 && code <= 0xfaff) ||
      (code >= 0xfe10 && code <= 0xfe19) ||
      (code >= 0xfe30 && code <= 0xfe6b) ||
      (code >= 0xff01 && code <= 0xff60) ||
      (code >= 0xffe0 && code <= 0xffe6) ||
      (code >= 0x1b000 && code <= 0x1b001) ||
      (code >= 0x1f200 && code <= 0x1f251) ||
      (code >= 0x1f300 && code <= 0x1f64f) ||
      (code >= 0x20000 && code <= 0x3fffd))
  );
}

function isZeroWidth(code: number): boolean {
  return (
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    (code >= 0x300 && code <= 0x36f) ||
    (code >= 0x200b && code <= 0x200f) ||
    (code >= 0x20d0 && code <= 0x20ff) ||
    (code >= 0xfe00 && code <= 0xfe0f) ||
    (code >= 0xfe20 && code <= 0xfe2f) ||
    (code >= 0xe0100 && code <= 0xe01ef)
  );
}

export function stringWidth(text: string, removeControlChars = true): number {
  let width = 0;
  const plain = removeControlChars ? RegExpPrototypeSymbolReplace(ansi, text, "") : text;
  for (let i = 0; i < plain.length; i++) {
    const code = StringPrototypeCharCodeAt(plain, i);
    if (code >= 127) return width + wideWidth(StringPrototypeNormalize(StringPrototypeSlice(plain, i), "NFC"));
    width += code >= 32 ? 1 : 0;
  }
  return width;
}

function wideWidth(text: string): number {
  let width = 0;
  for (let a43 = SafeStringIterator(text), i43 = a43.next(); !i43.done; i43 = a43.next()) {
    const char = i43.value;
    const code = StringPrototypeCodePointAt(char, 0)!;
    if (isFullWidth(code)) width += 2;
    else if (!isZeroWidth(code)) width++;
  }
  return width;
}
