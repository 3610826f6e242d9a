// node:crypto: hashes, HMACs, random values and Web Crypto (from the crypto chunk). Ciphers, key
// objects, signatures and key derivation are not offered.

import { crypto } from "../../platform.ts";
import { createHash, createHmac, getHashes, Hash, hash, Hmac } from "./hash.ts";
import { randomBytes, randomFill, randomFillSync, randomInt, randomUUID, timingSafeEqual } from "./random.ts";
import { primordials } from "../../primordials.ts";

const { ObjectDefineProperty } = primordials;

interface WebCrypto {
  getRandomValues<T extends ArrayBufferView | null>(array: T): T;
  subtle: unknown;
}

const webcrypto = (): WebCrypto => (crypto() as unknown as { crypto: WebCrypto }).crypto;

export function createCryptoModule(): Record<string, unknown> {
  const module: Record<string, unknown> = {
    createHash,
    createHmac,
    getHashes,
    hash,
    Hash,
    Hmac,
    randomBytes,
    randomFill,
    randomFillSync,
    randomInt,
    randomUUID,
    timingSafeEqual,
    getRandomValues: <T extends ArrayBufferView | null>(array: T): T => webcrypto().getRandomValues(array),
  };
  // Reading these loads the crypto chunk.
  ObjectDefineProperty(module, "webcrypto", { get: webcrypto, enumerable: true, configurable: true });
  ObjectDefineProperty(module, "subtle", { get: () => webcrypto().subtle, enumerable: true, configurable: true });
  return module;
}
