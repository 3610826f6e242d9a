// Durable Object ids: 64 hex digits. An id from a name is a hash of the namespace and the name, so
// the same name always reaches the same object and a name never becomes a path. Names are hashed
// as UTF-16 code units, not UTF-8: UTF-8 turns every lone surrogate into U+FFFD, and "u:\uD800",
// "u:\uDBFF" and "u:\uFFFD" would be one object.

import { createHash, randomBytes } from "node:crypto";

const HEX_ID = /^[0-9a-f]{64}$/;

export class DurableObjectId {
  readonly #hex: string;
  /** The name it was made from, when it was made by idFromName. */
  readonly name: string | undefined;

  /** @internal */
  constructor(hex: string, name?: string) {
    this.#hex = hex;
    this.name = name;
  }

  toString(): string {
    return this.#hex;
  }

  equals(other: DurableObjectId): boolean {
    return other instanceof DurableObjectId && other.#hex === this.#hex;
  }
}

export function idFromName(namespaceKey: string, name: string): DurableObjectId {
  if (typeof name !== "string") throw new TypeError("idFromName: the name must be a string");
  const hex = createHash("sha256").update(units(namespaceKey)).update(units("\0")).update(units(name)).digest("hex");
  return new DurableObjectId(hex, name);
}

export function newUniqueId(): DurableObjectId {
  return new DurableObjectId(randomBytes(32).toString("hex"));
}

export function idFromString(hex: string): DurableObjectId {
  if (typeof hex !== "string" || !HEX_ID.test(hex)) throw new TypeError("idFromString: an id is 64 lowercase hex digits");
  return new DurableObjectId(hex);
}

/** A file-name-safe key for any name (hex of its hash). */
export function hashName(name: string): string {
  return createHash("sha256").update(units(name)).digest("hex").slice(0, 32);
}

/** Every UTF-16 code unit of `text`, lone surrogates included. */
function units(text: string): Buffer {
  return Buffer.from(text, "utf16le");
}
