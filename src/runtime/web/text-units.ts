// What every TextDecoder decoder shares (encoding.ts, legacy-encodings.ts): the buffer decoded
// code units are gathered in, the decoder interface and its error.

import { primordials } from "../primordials.ts";

const { ArrayPrototypeJoin, ArrayPrototypePush, MathMin, ReflectApply, StringFromCharCode, TypeError, TypedArrayPrototypeGetLength, TypedArrayPrototypeSubarray, Uint16Array } = primordials;

export const REPLACEMENT_CHARACTER = 0xfffd;

// Decoded UTF-16 code units are gathered here and turned into string pieces in bulk.
const CHUNK_UNITS = 8192;
const fromCharCodes = StringFromCharCode;

/** Collects code units and joins them into a string, converting them a few thousand at a time. */
export class UnitBuffer {
  readonly units: Uint16Array;
  count = 0;
  readonly #pieces: string[] = [];

  constructor(expected: number) {
    this.units = new Uint16Array(MathMin(CHUNK_UNITS, expected + 4));
  }

  /** Makes room for `needed` more units (at most 4). */
  reserve(needed: number): void {
    if (this.count + needed <= TypedArrayPrototypeGetLength(this.units)) return;
    ArrayPrototypePush(this.#pieces, this.#flushUnits());
  }

  finish(): string {
    const last = this.#flushUnits();
    if (this.#pieces.length === 0) return last;
    ArrayPrototypePush(this.#pieces, last);
    return ArrayPrototypeJoin(this.#pieces, "");
  }

  #flushUnits(): string {
    const text = ReflectApply(fromCharCodes, null, TypedArrayPrototypeSubarray(this.units, 0, this.count) as unknown as number[]);
    this.count = 0;
    return text;
  }
}

/** One encoding's decoder state machine, carried across decode() calls while streaming. */
export interface Decoder {
  /** Decodes `bytes`; at `flush`, ends the stream. Throws TypeError on an error when fatal. */
  decode(bytes: Uint8Array, flush: boolean): string;
  reset(): void;
}

export function decodingError(encoding: string): TypeError {
  return new TypeError(`The encoded data was not valid ${encoding}.`);
}
