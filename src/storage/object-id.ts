// Durable Object ids: 64 hex digits. An id from a name is a hash of the namespace and the name, so
// the same name always reaches the same object and a name never becomes a path.

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
  const hex = createHash("sha256").update(namespaceKey).update("\0").update(name).digest("hex");
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
  return createHash("sha256").update(name).digest("hex").slice(0, 32);
}
