// Hashes and HMACs for the sandbox's node:crypto, computed by Node's own OpenSSL. The sandbox keeps
// the update() chunks itself and sends them with digest(); the total input is bounded because the
// isolate's thread waits while the host hashes. These calls run on the host's own thread, so each
// carries at most 1 MiB (MAX_CALL_BYTES; a few ms of hashing): a larger input is fed to a hash
// opened for the one digest() ("open", "update" a slice at a time, "final"), and the host's event
// loop gets its turns between the calls. A sandbox has at most MAX_OPEN_HASHES open at once.

import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import type { ServiceState, SyncService } from "./index.ts";
import { NODE_HASHES } from "../../protocol/node-hashes.ts";

export { NODE_HASHES };


export const MAX_HASH_INPUT_BYTES = 16 * 1024 * 1024;
/** Input (and HMAC key) bytes one call may carry: about 2-5 ms of SHA-512 and copying on the host's thread. */
export const MAX_CALL_BYTES = 1024 * 1024;
/** Hashes a sandbox may have open at once (its runtime opens one per digest() and closes it in the same call). */
export const MAX_OPEN_HASHES = 16;

class OpenHash {
  size = 0;
  constructor(readonly hash: Hash | Hmac) {}
}
const isOpenHash = (value: unknown): value is OpenHash => value instanceof OpenHash;
const openHashes = new WeakMap<ServiceState, number>();

function closeHash(state: ServiceState, handle: unknown): OpenHash {
  const open = state.lookup(handle, isOpenHash, "hash handle");
  state.release(handle, isOpenHash);
  openHashes.set(state, (openHashes.get(state) ?? 1) - 1);
  return open;
}
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
    if (total > budget) throw new RangeError(`The data to hash is too large for one call (at most ${budget} bytes).`);
  }
  return value;
}

/** A fresh array: a Buffer from Node may sit in a shared pool, and copying a view copies its whole buffer. */
const fresh = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes);

export const nodeCryptoServices: Record<string, SyncService> = {
  "nodeCrypto.digest"(_state, [algorithm, parts]) {
    const hash = createHash(algorithmArg(algorithm));
    for (const part of partsArg(parts, MAX_CALL_BYTES)) hash.update(part);
    return fresh(hash.digest());
  },
  "nodeCrypto.hmac"(_state, [algorithm, key, parts]) {
    const name = algorithmArg(algorithm);
    if (!(key instanceof Uint8Array) || key.byteLength > MAX_CALL_BYTES) throw new TypeError(`The key must be a byte array of at most ${MAX_CALL_BYTES} bytes.`);
    const hmac = createHmac(name, key);
    for (const part of partsArg(parts, MAX_CALL_BYTES - key.byteLength)) hmac.update(part);
    return fresh(hmac.digest());
  },
  /** Opens a hash (an HMAC with `key`) for one digest() whose input is larger than a call carries. */
  "nodeCrypto.open"(state, [algorithm, key]) {
    const name = algorithmArg(algorithm);
    if (key !== undefined && (!(key instanceof Uint8Array) || key.byteLength > MAX_CALL_BYTES)) throw new TypeError(`The key must be a byte array of at most ${MAX_CALL_BYTES} bytes.`);
    const open = openHashes.get(state) ?? 0;
    if (open >= MAX_OPEN_HASHES) throw new RangeError(`Too many hashes open at once (at most ${MAX_OPEN_HASHES}).`);
    const handle = state.store(new OpenHash(key === undefined ? createHash(name) : createHmac(name, key)));
    openHashes.set(state, open + 1);
    return handle;
  },
  "nodeCrypto.update"(state, [handle, parts]) {
    const open = state.lookup(handle, isOpenHash, "hash handle");
    let bytes = 0;
    for (const part of partsArg(parts, MAX_CALL_BYTES)) bytes += part.byteLength;
    if (open.size + bytes > MAX_HASH_INPUT_BYTES) {
      closeHash(state, handle);
      throw new RangeError(`The data to hash is too large (at most ${MAX_HASH_INPUT_BYTES} bytes per digest).`);
    }
    open.size += bytes;
    for (const part of parts as Uint8Array[]) open.hash.update(part);
    return undefined;
  },
  "nodeCrypto.final"(state, [handle]) {
    return fresh(closeHash(state, handle).hash.digest());
  },
  "nodeCrypto.close"(state, [handle]) {
    closeHash(state, handle);
    return undefined;
  },
};
