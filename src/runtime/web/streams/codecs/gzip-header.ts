// Reads the header of a gzip member (RFC 1952 section 2.3) a byte at a time, so a header cut
// anywhere by chunk boundaries, however long its file name or comment, is never buffered or
// rescanned. Checks what zlib checks: magic, method, reserved flags and the optional header CRC.

import { crc32Byte } from "./checksums.ts";
import { primordials } from "../../../primordials.ts";

const { TypeError, TypedArrayPrototypeGetLength } = primordials;

const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const RESERVED = 0xe0;

const enum Step {
  Id1,
  Id2,
  Method,
  Flags,
  Fixed, // MTIME, XFL, OS
  ExtraLength,
  Extra,
  Name,
  Comment,
  HeaderCrc,
  Done,
}

export class GzipHeaderReader {
  #step = Step.Id1;
  #flags = 0;
  #remaining = 0; // bytes left in the current fixed-length field
  #value = 0; // little-endian value being assembled
  #crc = 0; // over every header byte before FHCRC's own two

  get done(): boolean {
    return this.#step === Step.Done;
  }

  /** Consumes header bytes of `data` from `offset`; returns the offset just past what it used. */
  read(data: Uint8Array, offset: number): number {
    while (offset < TypedArrayPrototypeGetLength(data) && this.#step !== Step.Done) {
      const byte = data[offset++];
      switch (this.#step) {
        case Step.Id1:
        case Step.Id2:
          if (byte !== (this.#step === Step.Id1 ? 0x1f : 0x8b)) throw new TypeError("The compressed data is not gzip: wrong magic bytes.");
          this.#step++;
          break;
        case Step.Method:
          if (byte !== 8) throw new TypeError("The gzip data uses an unknown compression method.");
          this.#step = Step.Flags;
          break;
        case Step.Flags:
          if (byte & RESERVED) throw new TypeError("The gzip header has reserved flags set.");
          this.#flags = byte;
          this.#step = Step.Fixed;
          this.#remaining = 6;
          break;
        case Step.Fixed:
          if (--this.#remaining === 0) this.#advance(Step.Fixed);
          break;
        case Step.ExtraLength:
          this.#value |= byte << (this.#remaining === 2 ? 0 : 8);
          if (--this.#remaining === 0) {
            this.#remaining = this.#value;
            this.#value = 0;
            if (this.#remaining === 0) this.#advance(Step.Extra);
            else this.#step = Step.Extra;
          }
          break;
        case Step.Extra:
          if (--this.#remaining === 0) this.#advance(Step.Extra);
          break;
        case Step.Name:
        case Step.Comment:
          if (byte === 0) this.#advance(this.#step);
          break;
        case Step.HeaderCrc:
          this.#value |= byte << (this.#remaining === 2 ? 0 : 8);
          if (--this.#remaining === 0) {
            if (this.#value !== (this.#crc & 0xffff)) throw new TypeError("The gzip header's checksum does not match.");
            this.#step = Step.Done;
          }
          continue; // not part of what the header CRC covers
      }
      this.#crc = crc32Byte(this.#crc, byte);
    }
    return offset;
  }

  /** Moves past `finished` to the next field the flags call for. */
  #advance(finished: Step): void {
    const flags = this.#flags;
    if (finished < Step.ExtraLength && flags & FEXTRA) {
      this.#step = Step.ExtraLength;
      this.#remaining = 2;
    } else if (finished < Step.Name && flags & FNAME) this.#step = Step.Name;
    else if (finished < Step.Comment && flags & FCOMMENT) this.#step = Step.Comment;
    else if (flags & FHCRC) {
      this.#step = Step.HeaderCrc;
      this.#remaining = 2;
    } else this.#step = Step.Done;
  }
}
