// SubtleCrypto (WebCrypto §14). Arguments are converted and checked here, as Web IDL and the
// spec's synchronous steps do; the operation itself runs on the host by Node's Web Crypto
// (engine/services/crypto.ts), which receives only copies and key handles.

import { brandPlatformObject, hostAsync } from "../../platform.ts";
import { isArrayBuffer, requireArguments } from "../webidl.ts";
import { fromHost } from "./errors.ts";
import { KEY_FORMATS, toBytes, toEnforcedInteger, toEnumValue, toJsonWebKey, toKeyUsages, type JsonWebKey, type KeyFormat } from "./idl.ts";
import { handleOf, keyFromHost, releaseCollectedKeys, requireExtractable, requireUsage, toCryptoKey, type CryptoKey, type KeyDescription } from "./key.ts";
import { forHost, normalizeAlgorithm, type Normalized } from "./normalize.ts";
import { primordials, SymbolToStringTag } from "../../primordials.ts";

const { ArrayBufferIsView, ArrayBufferPrototypeGetByteLength, ArrayPrototypePush, ArrayPrototypePushApply, ArrayPrototypeSlice, Boolean, ObjectDefineProperty, ReflectApply, Set, SetPrototypeAdd, SetPrototypeDelete, StringPrototypeStartsWith, TypeError, TypedArrayPrototypeGetBuffer, TypedArrayPrototypeGetByteLength, TypedArrayPrototypeGetByteOffset, TypedArrayPrototypeSlice } = primordials;

type KeyPair = { publicKey: CryptoKey; privateKey: CryptoKey };

// The keys of calls in flight, held so that none is collected (and its handle released by a
// later call, which could reach the host first) while the host may still look its handle up.
const busy = new Set<readonly CryptoKey[]>();

/**
 * A host answer in a box without a prototype: a promise resolved with the answer itself (bytes,
 * a key description) would look up its `then`, which user code may have put on Object.prototype.
 */
interface Answer {
  readonly value: unknown;
}

function hostCall(service: string, args: unknown[]): Promise<Answer> {
  const all: unknown[] = [service];
  ArrayPrototypePushApply(all, args);
  return ReflectApply(hostAsync, undefined, all) as Promise<Answer>;
}

async function call(service: string, keys: readonly CryptoKey[], ...args: unknown[]): Promise<Answer> {
  SetPrototypeAdd(busy, keys);
  try {
    releaseCollectedKeys();
    try {
      return await hostCall(`crypto.${service}`, args);
    } catch (error) {
      // The budget counts keys the sandbox may have dropped since the last sweep: sweep now and
      // try once more before refusing.
      if (!isKeyBudgetError(error) || !releaseCollectedKeys(true)) throw error;
      return await hostCall(`crypto.${service}`, args);
    }
  } catch (error) {
    throw fromHost(error);
  } finally {
    SetPrototypeDelete(busy, keys);
  }
}

function isKeyBudgetError(error: unknown): boolean {
  try {
    return typeof (error as Error)?.message === "string" && StringPrototypeStartsWith((error as Error).message, "Too much key material kept");
  } catch {
    return false;
  }
}

function toArrayBuffer(value: unknown): ArrayBuffer {
  const bytes = value as Uint8Array;
  if (TypedArrayPrototypeGetByteOffset(bytes) === 0 && TypedArrayPrototypeGetByteLength(bytes) === ArrayBufferPrototypeGetByteLength(TypedArrayPrototypeGetBuffer(bytes))) return TypedArrayPrototypeGetBuffer(bytes) as ArrayBuffer;
  return TypedArrayPrototypeGetBuffer(TypedArrayPrototypeSlice(bytes)) as ArrayBuffer;
}

function toKeyOrPair(value: unknown): CryptoKey | KeyPair {
  const result = value as KeyDescription | { publicKey: KeyDescription; privateKey: KeyDescription };
  if ("handle" in result) return keyFromHost(result);
  return { publicKey: keyFromHost(result.publicKey), privateKey: keyFromHost(result.privateKey) };
}

/** importKey's keyData: bytes for raw/spki/pkcs8, a JsonWebKey for jwk, as the union converts it. */
function toKeyData(format: KeyFormat, keyData: unknown): Uint8Array | JsonWebKey {
  const isBufferSource = ArrayBufferIsView(keyData) || isArrayBuffer(keyData);
  if (format === "jwk") {
    if (isBufferSource) throw new TypeError("keyData must be a JsonWebKey when the format is 'jwk'.");
    return toJsonWebKey(keyData);
  }
  if (!isBufferSource) throw new TypeError(`keyData must be a BufferSource when the format is '${format}'.`);
  return toBytes(keyData, "keyData");
}

/** deriveBits' length: `unsigned long?`, where null asks for the algorithm's natural length. */
function toLength(value: unknown): number | null {
  return value === null || value === undefined ? null : toEnforcedInteger(value, 0xffffffff, "length");
}

let token = false;

export class SubtleCrypto {
  constructor() {
    if (!token) throw new TypeError("Illegal constructor");
    brandPlatformObject(this, "SubtleCrypto");
  }

  async digest(algorithm: unknown, data: unknown): Promise<ArrayBuffer> {
    brand(this);
    requireArguments(arguments.length, 2, "'digest' on 'SubtleCrypto'");
    const bytes = toBytes(data, "data");
    const normalized = normalizeAlgorithm(algorithm, "digest");
    return toArrayBuffer((await call("digest", [], normalized, bytes)).value);
  }

  async encrypt(algorithm: unknown, key: unknown, data: unknown): Promise<ArrayBuffer> {
    return cipher(this, "encrypt", arguments.length, algorithm, key, data);
  }

  async decrypt(algorithm: unknown, key: unknown, data: unknown): Promise<ArrayBuffer> {
    return cipher(this, "decrypt", arguments.length, algorithm, key, data);
  }

  async sign(algorithm: unknown, key: unknown, data: unknown): Promise<ArrayBuffer> {
    brand(this);
    requireArguments(arguments.length, 3, "'sign' on 'SubtleCrypto'");
    const cryptoKey = toCryptoKey(key, "key");
    const bytes = toBytes(data, "data");
    const normalized = normalizeAlgorithm(algorithm, "sign");
    requireUsage(cryptoKey, normalized.name, "sign");
    return toArrayBuffer((await call("sign", [cryptoKey], normalized, handleOf(cryptoKey), bytes)).value);
  }

  async verify(algorithm: unknown, key: unknown, signature: unknown, data: unknown): Promise<boolean> {
    brand(this);
    requireArguments(arguments.length, 4, "'verify' on 'SubtleCrypto'");
    const cryptoKey = toCryptoKey(key, "key");
    const signatureBytes = toBytes(signature, "signature");
    const bytes = toBytes(data, "data");
    const normalized = normalizeAlgorithm(algorithm, "verify");
    requireUsage(cryptoKey, normalized.name, "verify");
    return ((await call("verify", [cryptoKey], normalized, handleOf(cryptoKey), signatureBytes, bytes)).value) === true;
  }

  async generateKey(algorithm: unknown, extractable: unknown, keyUsages: unknown): Promise<CryptoKey | KeyPair> {
    brand(this);
    requireArguments(arguments.length, 3, "'generateKey' on 'SubtleCrypto'");
    const usages = toKeyUsages(keyUsages);
    const normalized = normalizeAlgorithm(algorithm, "generateKey");
    return toKeyOrPair((await call("generateKey", [], normalized, Boolean(extractable), usages)).value);
  }

  async deriveKey(algorithm: unknown, baseKey: unknown, derivedKeyType: unknown, extractable: unknown, keyUsages: unknown): Promise<CryptoKey> {
    brand(this);
    requireArguments(arguments.length, 5, "'deriveKey' on 'SubtleCrypto'");
    const key = toCryptoKey(baseKey, "baseKey");
    const usages = toKeyUsages(keyUsages);
    const normalized = normalizeAlgorithm(algorithm, "deriveBits");
    // The derived key's parameters for both importKey and "get key length" (AES's length).
    const derived = { ...normalizeAlgorithm(derivedKeyType, "importKey"), ...normalizeAlgorithm(derivedKeyType, "get key length") };
    requireUsage(key, normalized.name, "deriveKey");
    const description = (await call("deriveKey", withPublic([key], normalized), forHost(normalized, handleOf), handleOf(key), derived, Boolean(extractable), usages)).value;
    return keyFromHost(description as KeyDescription);
  }

  async deriveBits(algorithm: unknown, baseKey: unknown, length: unknown = null): Promise<ArrayBuffer> {
    brand(this);
    requireArguments(arguments.length, 2, "'deriveBits' on 'SubtleCrypto'");
    const key = toCryptoKey(baseKey, "baseKey");
    const bits = toLength(length);
    const normalized = normalizeAlgorithm(algorithm, "deriveBits");
    requireUsage(key, normalized.name, "deriveBits");
    const result = (await call("deriveBits", withPublic([key], normalized), forHost(normalized, handleOf), handleOf(key), bits)).value;
    return toArrayBuffer(result);
  }

  async importKey(format: unknown, keyData: unknown, algorithm: unknown, extractable: unknown, keyUsages: unknown): Promise<CryptoKey> {
    brand(this);
    requireArguments(arguments.length, 5, "'importKey' on 'SubtleCrypto'");
    const keyFormat = toEnumValue(format, KEY_FORMATS, "KeyFormat");
    const data = toKeyData(keyFormat, keyData);
    const usages = toKeyUsages(keyUsages);
    const normalized = normalizeAlgorithm(algorithm, "importKey");
    return keyFromHost(((await call("importKey", [], keyFormat, data, normalized, Boolean(extractable), usages)).value) as KeyDescription);
  }

  async exportKey(format: unknown, key: unknown): Promise<ArrayBuffer | JsonWebKey> {
    brand(this);
    requireArguments(arguments.length, 2, "'exportKey' on 'SubtleCrypto'");
    const keyFormat = toEnumValue(format, KEY_FORMATS, "KeyFormat");
    const cryptoKey = toCryptoKey(key, "key");
    requireExtractable(cryptoKey);
    const result = (await call("exportKey", [cryptoKey], keyFormat, handleOf(cryptoKey))).value;
    return keyFormat === "jwk" ? (result as JsonWebKey) : toArrayBuffer(result);
  }

  async wrapKey(format: unknown, key: unknown, wrappingKey: unknown, wrapAlgorithm: unknown): Promise<ArrayBuffer> {
    brand(this);
    requireArguments(arguments.length, 4, "'wrapKey' on 'SubtleCrypto'");
    const keyFormat = toEnumValue(format, KEY_FORMATS, "KeyFormat");
    const cryptoKey = toCryptoKey(key, "key");
    const wrapping = toCryptoKey(wrappingKey, "wrappingKey");
    const normalized = normalizeWrap(wrapAlgorithm, "wrapKey", "encrypt");
    requireUsage(wrapping, normalized.name, "wrapKey");
    requireExtractable(cryptoKey);
    return toArrayBuffer((await call("wrapKey", [cryptoKey, wrapping], keyFormat, handleOf(cryptoKey), handleOf(wrapping), normalized)).value);
  }

  async unwrapKey(
    format: unknown,
    wrappedKey: unknown,
    unwrappingKey: unknown,
    unwrapAlgorithm: unknown,
    unwrappedKeyAlgorithm: unknown,
    extractable: unknown,
    keyUsages: unknown,
  ): Promise<CryptoKey> {
    brand(this);
    requireArguments(arguments.length, 7, "'unwrapKey' on 'SubtleCrypto'");
    const keyFormat = toEnumValue(format, KEY_FORMATS, "KeyFormat");
    const wrapped = toBytes(wrappedKey, "wrappedKey");
    const unwrapping = toCryptoKey(unwrappingKey, "unwrappingKey");
    const usages = toKeyUsages(keyUsages);
    const normalized = normalizeWrap(unwrapAlgorithm, "unwrapKey", "decrypt");
    const keyAlgorithm = normalizeAlgorithm(unwrappedKeyAlgorithm, "importKey");
    requireUsage(unwrapping, normalized.name, "unwrapKey");
    const description = (await call("unwrapKey", [unwrapping], keyFormat, wrapped, handleOf(unwrapping), normalized, keyAlgorithm, Boolean(extractable), usages)).value;
    return keyFromHost(description as KeyDescription);
  }

  /** Cloudflare Workers' extension: compares two buffers in time independent of their contents. */
  timingSafeEqual(a: unknown, b: unknown): boolean {
    brand(this);
    requireArguments(arguments.length, 2, "'timingSafeEqual' on 'SubtleCrypto'");
    const left = toBytes(a, "a");
    const right = toBytes(b, "b");
    if (TypedArrayPrototypeGetByteLength(left) !== TypedArrayPrototypeGetByteLength(right)) throw new TypeError("Input buffers must have the same byte length.");
    let difference = 0;
    for (let i = 0; i < TypedArrayPrototypeGetByteLength(left); i++) difference |= left[i] ^ right[i];
    return difference === 0;
  }
}

async function cipher(self: unknown, op: "encrypt" | "decrypt", count: number, algorithm: unknown, key: unknown, data: unknown): Promise<ArrayBuffer> {
  brand(self);
  requireArguments(count, 3, `'${op}' on 'SubtleCrypto'`);
  const cryptoKey = toCryptoKey(key, "key");
  const bytes = toBytes(data, "data");
  const normalized = normalizeAlgorithm(algorithm, op);
  requireUsage(cryptoKey, normalized.name, op);
  return toArrayBuffer((await call(op, [cryptoKey], normalized, handleOf(cryptoKey), bytes)).value);
}

function withPublic(keys: CryptoKey[], algorithm: Normalized): CryptoKey[] {
  if (algorithm.public === undefined) return keys;
  const all = ArrayPrototypeSlice(keys);
  ArrayPrototypePush(all, algorithm.public as CryptoKey);
  return all;
}

/** wrapKey/unwrapKey accept a wrapping algorithm or, failing that, an encryption one (§14.3.11). */
function normalizeWrap(algorithm: unknown, op: "wrapKey" | "unwrapKey", fallback: "encrypt" | "decrypt"): Normalized {
  try {
    return normalizeAlgorithm(algorithm, op);
  } catch (error) {
    if ((error as { name?: unknown }).name !== "NotSupportedError") throw error;
    return normalizeAlgorithm(algorithm, fallback);
  }
}

export const subtle = (() => {
  token = true;
  const instance = new SubtleCrypto();
  token = false;
  return instance;
})();

function brand(self: unknown): void {
  if (self !== subtle) throw new TypeError("Illegal invocation");
}

for (let i14 = 0, a14 = ["digest", "encrypt", "decrypt", "sign", "verify", "generateKey", "deriveKey", "deriveBits", "importKey", "exportKey", "wrapKey", "unwrapKey", "timingSafeEqual"]; i14 < a14.length; i14++) {
  const name = a14[i14];
  ObjectDefineProperty(SubtleCrypto.prototype, name, { enumerable: true });
}
ObjectDefineProperty(SubtleCrypto.prototype, SymbolToStringTag, { value: "SubtleCrypto", configurable: true });
