// Hashes and HMACs for the sandbox's node:crypto, computed by Node's own OpenSSL. The sandbox keeps
// the update() chunks itself and sends them all with digest(), so the host holds nothing between
// calls; the total input is bounded because the isolate's thread waits while the host hashes.

import { createHash, createHmac } from "node:crypto";
import type { SyncService } from "./index.ts";
import { NODE_HASHES } from "../../runtime/node/crypto/algorithms.ts";

export { NODE_HASHES };


export const MAX_HASH_INPUT_BYTES = 16 * 1024 * 1024;
const MAX_PARTS = 1 << 16;

function algorithmArg(value: unknown): string {
  if (typeof value !== "string" || !NODE_HASHES.includes(value)) throw new Error("Digest method not supported");
  return value;
}

function partsArg(value: unknown, budget: number): Uint8Array[] {
  if (!Array.isArray(value) || value.length > MAX_PARTS) throw new TypeError("The data must be a list of at most 65536 byte arrays.");
  let total = 0;
  for (const part of value) {
    if (!(part instanceof Uint8Array)) throw new TypeError("The data must be a list of byte arrays.");
    total += part.byteLength;
    if (total > budget) throw new RangeError(`The data to hash is too large (at most ${MAX_HASH_INPUT_BYTES} bytes per digest).`);
  }
  return value;
}

/** A fresh array: a Buffer from Node may sit in a shared pool, and copying a view copies its whole buffer. */
const fresh = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes);

export const nodeCryptoServices: Record<string, SyncService> = {
  "nodeCrypto.digest"(_state, [algorithm, parts]) {
    const hash = createHash(algorithmArg(algorithm));
    for (const part of partsArg(parts, MAX_HASH_INPUT_BYTES)) hash.update(part);
    return fresh(hash.digest());
  },
  "nodeCrypto.hmac"(_state, [algorithm, key, parts]) {
    const name = algorithmArg(algorithm);
    if (!(key instanceof Uint8Array) || key.byteLength > MAX_HASH_INPUT_BYTES) throw new TypeError("The key must be a byte array of at most 16 MiB.");
    const hmac = createHmac(name, key);
    for (const part of partsArg(parts, MAX_HASH_INPUT_BYTES - key.byteLength)) hmac.update(part);
    return fresh(hmac.digest());
  },
};
