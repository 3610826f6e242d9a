// createHash / createHmac / hash. The data given to update() is kept here and hashed by the host
// (services/node-crypto.ts) at digest(), so the host keeps no state between a sandbox's calls;
// hence copy() is cheap and the input of one digest is bounded (16 MiB). The host hashes on its
// own thread while the isolate waits, so the input goes in slices of at most 1 MiB a call
// (HOST_CALL_BYTES): one call holds the host's event loop for a few milliseconds, and the host
// gets its turns between them (one 16 MiB call held it for 270-470 ms on a loaded machine).

import { host } from "../../platform.ts";
import { NODE_HASHES } from "../../../protocol/node-hashes.ts";
import { Buffer } from "../buffer/buffer.ts";
import { normalizeEncoding } from "../buffer/codecs.ts";
import { invalidArgType, invalidArgValue, makeError } from "../errors.ts";
import { validateString } from "../validators.ts";
import { primordials } from "../../primordials.ts";

const { ArrayBuffer, ArrayBufferIsView, ArrayBufferPrototypeSlice, ArrayBufferViewGetBuffer, ArrayBufferViewGetByteLength, ArrayBufferViewGetByteOffset, ArrayPrototypeIncludes, ArrayPrototypePush, ArrayPrototypeSlice, Error, RangeError, String, StringPrototypeEndsWith, StringPrototypeReplace, StringPrototypeSlice, StringPrototypeStartsWith, StringPrototypeToLowerCase, TypeError, TypedArrayPrototypeGetBuffer, TypedArrayPrototypeGetByteLength, TypedArrayPrototypeGetByteOffset, TypedArrayPrototypeSet, TypedArrayPrototypeSlice, Uint8Array, MathMin } = primordials;

/** The most bytes of input (and key) one host call carries; the host refuses more. */
const HOST_CALL_BYTES = 1024 * 1024;

/**
 * The digest of `parts` (with an HMAC `key`) from the host: in one call when it all fits in
 * HOST_CALL_BYTES, otherwise through an open hash fed a slice at a time. A slice is a copy, never a
 * view: a view crosses with its whole buffer.
 */
function hostDigest(algorithm: string, key: Uint8Array | undefined, parts: Uint8Array[], size: number): Uint8Array {
  if (size + (key === undefined ? 0 : TypedArrayPrototypeGetByteLength(key)) <= HOST_CALL_BYTES) {
    return (key === undefined ? host("nodeCrypto.digest", algorithm, parts) : host("nodeCrypto.hmac", algorithm, key, parts)) as Uint8Array;
  }
  const handle = host("nodeCrypto.open", algorithm, key) as number;
  let done = false;
  try {
    let batch: Uint8Array[] = [];
    let batchBytes = 0;
    for (let p = 0; p < parts.length; p++) {
      const part = parts[p];
      const length = TypedArrayPrototypeGetByteLength(part);
      for (let at = 0; at < length; ) {
        const take = MathMin(HOST_CALL_BYTES - batchBytes, length - at);
        ArrayPrototypePush(batch, at === 0 && take === length ? part : TypedArrayPrototypeSlice(part, at, at + take));
        batchBytes += take;
        at += take;
        if (batchBytes === HOST_CALL_BYTES) {
          host("nodeCrypto.update", handle, batch);
          batch = [];
          batchBytes = 0;
        }
      }
    }
    if (batchBytes > 0) host("nodeCrypto.update", handle, batch);
    const digest = host("nodeCrypto.final", handle) as Uint8Array;
    done = true;
    return digest;
  } finally {
    if (!done) {
      try {
        host("nodeCrypto.close", handle);
      } catch {
        // The first error is the one reported.
      }
    }
  }
}

export const HASHES: readonly string[] = NODE_HASHES;

const MAX_INPUT_BYTES = 16 * 1024 * 1024;

type BufferFrom = (value: unknown, encodingOrOffset?: unknown, length?: unknown) => Uint8Array & { toString(encoding?: string): string };
const bufferFrom = (Buffer as unknown as { from: BufferFrom }).from;

// OpenSSL's other names for the same digests, as Node accepts them.
const ALIASES: Record<string, string> = {
  "sha-1": "sha1",
  "ssl3-sha1": "sha1",
  "sha1-2": "sha1",
  "sha-224": "sha224",
  "sha2-224": "sha224",
  "sha-256": "sha256",
  "sha2-256": "sha256",
  "sha-384": "sha384",
  "sha2-384": "sha384",
  "sha-512": "sha512",
  "sha2-512": "sha512",
  "sha-512/224": "sha512-224",
  "sha2-512/224": "sha512-224",
  "sha-512/256": "sha512-256",
  "sha2-512/256": "sha512-256",
  ripemd: "ripemd160",
  rmd160: "ripemd160",
  "ripemd-160": "ripemd160",
  ripemd160withrsa: "ripemd160",
  "blake2b-512": "blake2b512",
  "blake2s-256": "blake2s256",
  "ssl3-md5": "md5",
};

function normalizeAlgorithm(name: string): string | undefined {
  let lower = StringPrototypeToLowerCase(name);
  const prefixed = StringPrototypeStartsWith(lower, "rsa-");
  if (prefixed) lower = StringPrototypeSlice(lower, 4);
  else if (StringPrototypeEndsWith(lower, "withrsaencryption")) lower = StringPrototypeSlice(lower, 0, -"withrsaencryption".length);
  // "RSA-SHA512/224" is a name of its own; plain "sha512/224" is not.
  if (prefixed && (lower === "sha512/224" || lower === "sha512/256")) lower = StringPrototypeReplace(lower, "/", "-");
  const canonical = ALIASES[lower] ?? lower;
  return ArrayPrototypeIncludes(HASHES, canonical) ? canonical : undefined;
}

function hashFinalized(): Error {
  return makeError(Error, "ERR_CRYPTO_HASH_FINALIZED", "Digest already called");
}

/** Bytes of `data` (a copy: the caller may change its buffer after update() returns). */
function inputBytes(data: unknown, encoding: unknown, name: string): Uint8Array {
  if (typeof data === "string") {
    const normalized = normalizeEncoding(encoding) ?? "utf8";
    if (normalized === "hex" && data.length % 2 !== 0) throw invalidArgValue("encoding", encoding, `is invalid for data of length ${data.length}`);
    return bufferFrom(data, normalized);
  }
  if (ArrayBufferIsView(data)) return TypedArrayPrototypeSlice(new Uint8Array(ArrayBufferViewGetBuffer(data), ArrayBufferViewGetByteOffset(data), ArrayBufferViewGetByteLength(data)));
  throw invalidArgType(name, ["string", "Buffer", "TypedArray", "DataView"], data);
}

class Input {
  parts: Uint8Array[] = [];
  size = 0;

  add(bytes: Uint8Array): void {
    if (this.size + TypedArrayPrototypeGetByteLength(bytes) > MAX_INPUT_BYTES) throw new RangeError(`The data to hash is too large (at most ${MAX_INPUT_BYTES} bytes per digest).`);
    ArrayPrototypePush(this.parts, bytes);
    this.size += TypedArrayPrototypeGetByteLength(bytes);
    // Many small updates are merged so the host receives a short list.
    if (this.parts.length > 256) {
      const merged = new Uint8Array(this.size);
      let at = 0;
      for (let i64 = 0, a64 = this.parts; i64 < a64.length; i64++) {
        const part = a64[i64];
        TypedArrayPrototypeSet(merged, part, at);
        at += TypedArrayPrototypeGetByteLength(part);
      }
      this.parts = [merged];
    }
  }

  clone(): Input {
    const copy = new Input();
    copy.parts = ArrayPrototypeSlice(this.parts);
    copy.size = this.size;
    return copy;
  }
}

function output(bytes: Uint8Array, encoding: unknown): unknown {
  const buffer = bufferFrom(TypedArrayPrototypeGetBuffer(bytes), TypedArrayPrototypeGetByteOffset(bytes), TypedArrayPrototypeGetByteLength(bytes));
  if (encoding === undefined || encoding === "buffer") return buffer;
  const normalized = normalizeEncoding(String(encoding));
  return normalized === undefined ? buffer : buffer.toString(normalized);
}

export class Hash {
  #algorithm: string;
  #input = new Input();
  #finalized = false;

  constructor(algorithm: unknown, _options?: unknown) {
    validateString(algorithm, "algorithm");
    const name = normalizeAlgorithm(algorithm);
    if (name === undefined) throw new Error("Digest method not supported");
    this.#algorithm = name;
  }

  update(data: unknown, inputEncoding?: unknown): this {
    if (this.#finalized) throw hashFinalized();
    this.#input.add(inputBytes(data, inputEncoding, "data"));
    return this;
  }

  digest(outputEncoding?: unknown): unknown {
    if (this.#finalized) throw hashFinalized();
    this.#finalized = true;
    return output(hostDigest(this.#algorithm, undefined, this.#input.parts, this.#input.size), outputEncoding);
  }

  copy(_options?: unknown): Hash {
    if (this.#finalized) throw hashFinalized();
    const copy = new Hash(this.#algorithm);
    copy.#input = this.#input.clone();
    return copy;
  }
}

function keyBytes(key: unknown): Uint8Array {
  if (typeof key === "string") return bufferFrom(key, "utf8");
  if (key instanceof ArrayBuffer) return new Uint8Array(ArrayBufferPrototypeSlice(key, 0));
  if (ArrayBufferIsView(key)) return TypedArrayPrototypeSlice(new Uint8Array(ArrayBufferViewGetBuffer(key), ArrayBufferViewGetByteOffset(key), ArrayBufferViewGetByteLength(key)));
  throw invalidArgType("key", ["ArrayBuffer", "Buffer", "TypedArray", "DataView", "string", "KeyObject", "CryptoKey"], key);
}

export class Hmac {
  #algorithm: string;
  #key: Uint8Array;
  #input = new Input();
  #finalized = false;

  constructor(algorithm: unknown, key: unknown, _options?: unknown) {
    validateString(algorithm, "hmac");
    this.#key = keyBytes(key);
    const name = normalizeAlgorithm(algorithm);
    if (name === undefined) throw makeError(TypeError, "ERR_CRYPTO_INVALID_DIGEST", `Invalid digest: ${algorithm}`);
    this.#algorithm = name;
    if (TypedArrayPrototypeGetByteLength(this.#key) > MAX_INPUT_BYTES) throw new RangeError(`The key is too large (at most ${MAX_INPUT_BYTES} bytes).`);
  }

  update(data: unknown, inputEncoding?: unknown): this {
    if (this.#finalized) throw hashFinalized();
    this.#input.add(inputBytes(data, inputEncoding, "data"));
    return this;
  }

  /** A second digest() returns an empty result, as Node's Hmac does. */
  digest(outputEncoding?: unknown): unknown {
    if (this.#finalized) return output(new Uint8Array(0), outputEncoding);
    this.#finalized = true;
    // A key longer than a block is replaced by its digest (RFC 2104, as OpenSSL does): a key over
    // HOST_CALL_BYTES is hashed here first, in slices, so no call carries more.
    const keyLength = TypedArrayPrototypeGetByteLength(this.#key);
    const key = keyLength > HOST_CALL_BYTES ? hostDigest(this.#algorithm, undefined, [this.#key], keyLength) : this.#key;
    return output(hostDigest(this.#algorithm, key, this.#input.parts, this.#input.size), outputEncoding);
  }
}

export function createHash(algorithm: unknown, options?: unknown): Hash {
  return new Hash(algorithm, options);
}

export function createHmac(algorithm: unknown, key: unknown, options?: unknown): Hmac {
  return new Hmac(algorithm, key, options);
}

/** crypto.hash(): a one-shot digest, hex by default. */
export function hash(algorithm: unknown, data: unknown, outputEncoding: unknown = "hex"): unknown {
  validateString(algorithm, "algorithm");
  if (typeof data !== "string" && !ArrayBufferIsView(data)) throw invalidArgType("input", ["Buffer", "TypedArray", "DataView", "string"], data);
  return new Hash(algorithm).update(data).digest(outputEncoding);
}

export function getHashes(): string[] {
  return ArrayPrototypeSlice(HASHES);
}
