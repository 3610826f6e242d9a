// Web Crypto for the sandbox, backed by Node's: random bytes, and SubtleCrypto with keys kept
// host-side (the sandbox holds only a handle and a copy of the key's public description).
// Arguments were already converted in the isolate (src/runtime/web/crypto/), but they are
// untrusted copies: every one is rebuilt here from the members each operation knows, with its
// type and size checked, before Node's Web Crypto sees it. Node reports the spec's errors itself.

import { randomFillSync, webcrypto, type KeyObject } from "node:crypto";
import { bytesArg, stringArg, type AsyncService, type ServiceState, type SyncService } from "./index.ts";
import { hasCryptoThread, onLibuv, onThread } from "./crypto-pool.ts";

const MAX_RANDOM_BYTES = 65_536;
/** Bytes per argument (the isolate enforces the same bound before copying). */
const MAX_INPUT_BYTES = 64 * 1024 * 1024;
/** Operations in flight (queued or running) per sandbox: see crypto-pool.ts for where they run. */
const MAX_IN_FLIGHT = 64;
/** Bytes of input the host holds for one sandbox's operations in flight. */
const MAX_INPUT_BYTES_IN_FLIGHT = 64 * 1024 * 1024;
/** Digests of at least this many bytes run on islet's crypto thread. */
const THREAD_DIGEST_BYTES = 256 * 1024;
const NODE_HASH: Record<string, string> = { "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512" };
/** RSA key generation grows with the cube of the modulus; 4096 bits already takes a second. */
const MAX_RSA_GENERATE_BITS = 4096;
/** PBKDF2 work is iterations × output blocks; workerd refuses more than 100,000 iterations too. */
const MAX_PBKDF2_ITERATIONS = 100_000;
const MAX_PBKDF2_WORK = 1_000_000;
/**
 * Key material a sandbox may keep on the host at once: an estimate (the key's size, plus an
 * overhead per key that also bounds how many keys it can hold), charged before the operation.
 */
const MAX_KEY_BYTES = 64 * 1024 * 1024;
/**
 * Charged twice per key made (a pair's two halves share it). An imported P-521 private key held
 * about 7.5 KB of the host's memory after a full collection (findings5/39), where 2 KiB was
 * charged: 8 KiB a key now, so the cap holds at most 8,192 keys.
 */
const KEY_OVERHEAD_BYTES = 4096;
const HASH_BYTES: Record<string, number> = { "SHA-1": 20, "SHA-256": 32, "SHA-384": 48, "SHA-512": 64 };

type NodeKey = webcrypto.CryptoKey;
type Params = Record<string, unknown> & { name: string };

const subtle = webcrypto.subtle as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
// Node 20 has the class only as a global; webcrypto.CryptoKey arrived later.
const NodeCryptoKey = (globalThis as unknown as { CryptoKey: abstract new () => NodeKey }).CryptoKey;
const isKey = (value: unknown): value is NodeKey => value instanceof NodeCryptoKey;
const hasOwn = (object: object, key: string) => Object.prototype.hasOwnProperty.call(object, key);

function domError(message: string, name: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

function plainObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new TypeError(`${what} must be an object.`);
  return value as Record<string, unknown>;
}

function keyArg(state: ServiceState, handle: unknown): NodeKey {
  return state.lookup(handle, isKey, "CryptoKey");
}

const BYTE_MEMBERS = ["iv", "additionalData", "counter", "label", "salt", "info", "publicExponent"];
const INTEGER_MEMBERS = ["length", "tagLength", "saltLength", "iterations", "modulusLength"];

/** An algorithm's parameters, rebuilt from the members Web Crypto defines and nothing else. */
function algorithmArg(state: ServiceState, value: unknown, what = "algorithm"): Params {
  const source = plainObject(value, what);
  const out: Params = { name: stringArg(source.name, `${what}.name`, 64) };
  for (const member of BYTE_MEMBERS) if (hasOwn(source, member)) out[member] = bytesArg(source[member], `${what}.${member}`, MAX_INPUT_BYTES);
  for (const member of INTEGER_MEMBERS) {
    if (!hasOwn(source, member)) continue;
    const number = source[member];
    if (typeof number !== "number" || !Number.isInteger(number) || number < 0 || number > 0xffffffff) throw new TypeError(`${what}.${member} must be an unsigned integer.`);
    out[member] = number;
  }
  if (hasOwn(source, "namedCurve")) out.namedCurve = stringArg(source.namedCurve, `${what}.namedCurve`, 64);
  if (hasOwn(source, "hash")) out.hash = { name: stringArg(plainObject(source.hash, `${what}.hash`).name, `${what}.hash.name`, 64) };
  if (hasOwn(source, "public")) out.public = keyArg(state, source.public);
  return out;
}

const FORMATS = new Set(["raw", "spki", "pkcs8", "jwk"]);
const USAGES = new Set(["encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey", "unwrapKey"]);

function formatArg(value: unknown): string {
  if (typeof value !== "string" || !FORMATS.has(value)) throw new TypeError("Invalid key format.");
  return value;
}

function usagesArg(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > USAGES.size || !value.every((usage) => typeof usage === "string" && USAGES.has(usage))) {
    throw new TypeError("Invalid key usages.");
  }
  return [...value];
}

function booleanArg(value: unknown): boolean {
  if (typeof value !== "boolean") throw new TypeError("extractable must be a boolean.");
  return value;
}

const JWK_STRINGS = ["alg", "crv", "d", "dp", "dq", "e", "k", "kty", "n", "p", "q", "qi", "use", "x", "y"];

function jwkArg(value: unknown): Record<string, unknown> {
  const source = plainObject(value, "keyData");
  const out: Record<string, unknown> = {};
  for (const member of JWK_STRINGS) if (hasOwn(source, member)) out[member] = stringArg(source[member], `keyData.${member}`, MAX_INPUT_BYTES);
  if (hasOwn(source, "ext")) out.ext = booleanArg(source.ext);
  if (hasOwn(source, "key_ops")) {
    const ops = source.key_ops;
    if (!Array.isArray(ops) || ops.length > 64 || !ops.every((op) => typeof op === "string" && op.length <= 64)) throw new TypeError("keyData.key_ops must be a list of strings.");
    out.key_ops = [...ops];
  }
  // Node imports a key with other primes as if they were absent; refuse rather than misread it.
  if (hasOwn(source, "oth")) throw domError("Multi-prime RSA keys (the JWK 'oth' member) are not supported.", "NotSupportedError");
  return out;
}

function keyDataArg(format: string, value: unknown): unknown {
  return format === "jwk" ? jwkArg(value) : bytesArg(value, "keyData", MAX_INPUT_BYTES);
}

function checkGenerate(params: Params): void {
  if (!params.name.startsWith("RSA")) return;
  if ((params.modulusLength as number) > MAX_RSA_GENERATE_BITS) throw domError(`RSA modulusLength above ${MAX_RSA_GENERATE_BITS} bits is not supported.`, "OperationError");
  const exponent = params.publicExponent as Uint8Array | undefined;
  const value = exponent === undefined || exponent.length > 4 ? -1 : exponent.reduce((n, byte) => n * 256 + byte, 0);
  if (value !== 3 && value !== 65537) throw domError('The "publicExponent" must be either 3 or 65537.', "OperationError");
}

function checkDerive(params: Params, bits: number): void {
  if (params.name !== "PBKDF2") return;
  const iterations = params.iterations as number;
  if (iterations > MAX_PBKDF2_ITERATIONS) throw domError(`PBKDF2 iteration counts above ${MAX_PBKDF2_ITERATIONS} are not supported.`, "NotSupportedError");
  const hashBytes = HASH_BYTES[(params.hash as { name: string }).name] ?? 20;
  if (iterations * Math.ceil(bits / 8 / hashBytes) > MAX_PBKDF2_WORK) {
    throw domError(`PBKDF2 work (iterations × output blocks) above ${MAX_PBKDF2_WORK} is not supported.`, "NotSupportedError");
  }
}

/** The bits deriveKey asks for: what "get key length" gives, or the largest HMAC default. */
function derivedBits(derived: Params): number {
  return typeof derived.length === "number" ? derived.length : 1024;
}

function lengthArg(value: unknown): number | null {
  if (value === null) return null;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new TypeError("length must be an unsigned integer or null.");
  return value;
}

/** A key's algorithm as plain data: what CryptoKey.algorithm shows in the sandbox. */
function algorithmCopy(algorithm: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [member, value] of Object.entries(algorithm)) {
    if (member === "hash") out.hash = { name: String((value as { name: unknown }).name) };
    else if (value instanceof Uint8Array) out[member] = new Uint8Array(value);
    else if (typeof value === "string" || typeof value === "number") out[member] = value;
  }
  return out;
}

interface KeyBudget {
  total: number;
  sizes: Map<number, number>;
}

const budgets = new WeakMap<ServiceState, KeyBudget>();

function budgetOf(state: ServiceState): KeyBudget {
  let budget = budgets.get(state);
  if (budget === undefined) budgets.set(state, (budget = { total: 0, sizes: new Map() }));
  return budget;
}

function describe(state: ServiceState, key: NodeKey, bytes: number) {
  const algorithm = algorithmCopy(key.algorithm as unknown as Record<string, unknown>);
  const handle = state.store(key);
  budgetOf(state).sizes.set(handle, bytes);
  return { handle, type: key.type, extractable: key.extractable, algorithm, usages: [...key.usages] };
}

/** Runs an operation that makes a key (or a pair), charging `estimate` bytes to the sandbox. */
async function runKeys(state: ServiceState, method: string, args: unknown[], estimate: number, work?: () => Promise<unknown>) {
  const budget = budgetOf(state);
  const cost = Math.ceil(estimate) + 2 * KEY_OVERHEAD_BYTES;
  if (budget.total + cost > MAX_KEY_BYTES) throw domError(`Too much key material kept (at most ${MAX_KEY_BYTES} bytes per sandbox).`, "OperationError");
  budget.total += cost;
  try {
    return await run(
      state,
      method,
      args,
      (result) => {
        if (isKey(result)) return describe(state, result, cost);
        const pair = result as webcrypto.CryptoKeyPair;
        return { publicKey: describe(state, pair.publicKey, cost / 2), privateKey: describe(state, pair.privateKey, cost / 2) };
      },
      work,
    );
  } catch (error) {
    budget.total -= cost;
    throw error;
  }
}

/** The bytes a new key's material will take, by its parameters, before it exists. */
function generatedBytes(params: Params): number {
  if (params.name.startsWith("RSA")) return ((params.modulusLength as number) / 8) * 5;
  return typeof params.length === "number" ? params.length / 8 : 128;
}

function keyDataBytes(keyData: unknown): number {
  if (keyData instanceof Uint8Array) return keyData.byteLength;
  return Object.values(keyData as Record<string, unknown>).reduce<number>((sum, value) => sum + (typeof value === "string" ? value.length : 8), 0);
}

const bytesResult = (result: unknown) => new Uint8Array(result as ArrayBuffer);

interface InFlight {
  count: number;
  bytes: number;
}

const inFlight = new WeakMap<ServiceState, InFlight>();

/** Bytes of the byte arrays among an operation's arguments (one level into objects). */
function inputBytes(args: readonly unknown[]): number {
  let bytes = 0;
  for (const arg of args) {
    if (arg instanceof Uint8Array) bytes += arg.byteLength;
    else if (typeof arg === "object" && arg !== null && !isKey(arg)) {
      for (const value of Object.values(arg)) {
        if (value instanceof Uint8Array) bytes += value.byteLength;
        else if (typeof value === "string") bytes += value.length;
      }
    }
  }
  return bytes;
}

/**
 * Runs one Web Crypto operation for a sandbox, at most MAX_IN_FLIGHT (and MAX_INPUT_BYTES_IN_FLIGHT
 * of input) at a time. Arguments are checked and keys looked up before it starts, synchronously,
 * in the order calls arrive. By default Node's Web Crypto does it, in a libuv slot (crypto-pool.ts);
 * `work` does it elsewhere.
 */
async function run<T>(state: ServiceState, method: string, args: unknown[], result: (value: unknown) => T, work?: () => Promise<unknown>): Promise<T> {
  const current = inFlight.get(state) ?? { count: 0, bytes: 0 };
  inFlight.set(state, current);
  if (current.count >= MAX_IN_FLIGHT) throw domError(`Too many crypto operations in flight (at most ${MAX_IN_FLIGHT}).`, "OperationError");
  const bytes = inputBytes(args);
  if (current.bytes + bytes > MAX_INPUT_BYTES_IN_FLIGHT) {
    throw domError(`Too much crypto input in flight (at most ${MAX_INPUT_BYTES_IN_FLIGHT} bytes per sandbox).`, "OperationError");
  }
  current.count++;
  current.bytes += bytes;
  try {
    return result(await (work ?? (() => onLibuv(state, () => subtle[method](...args))))());
  } finally {
    current.count--;
    current.bytes -= bytes;
  }
}

const RSA_USAGES: Record<string, [publicUsages: string[], privateUsages: string[]]> = {
  "RSASSA-PKCS1-v1_5": [["verify"], ["sign"]],
  "RSA-PSS": [["verify"], ["sign"]],
  "RSA-OAEP": [["encrypt", "wrapKey"], ["decrypt", "unwrapKey"]],
};

/**
 * RSA key generation on islet's crypto thread (Node's own generator, run synchronously there),
 * with the checks Node's Web Crypto makes; undefined where it must go to Node's Web Crypto.
 */
function rsaOnThread(state: ServiceState, params: Params, extractable: boolean, usages: string[]): (() => Promise<unknown>) | undefined {
  const split = RSA_USAGES[params.name];
  const hash = (params.hash as { name?: unknown } | undefined)?.name;
  if (split === undefined || typeof hash !== "string" || !(hash in NODE_HASH) || typeof params.modulusLength !== "number") return undefined;
  if (usages.some((usage) => !split[0].includes(usage) && !split[1].includes(usage))) throw domError(`Unsupported key usage for ${params.name} key`, "SyntaxError");
  const privateUsages = usages.filter((usage) => split[1].includes(usage));
  if (privateUsages.length === 0) throw domError("Usages cannot be empty when creating a key.", "SyntaxError");
  const publicUsages = usages.filter((usage) => split[0].includes(usage));
  if (!hasCryptoThread()) return undefined;
  const exponent = (params.publicExponent as Uint8Array).reduce((n, byte) => n * 256 + byte, 0);
  return async () => {
    const pair = (await onThread(state, "rsa", { bits: params.modulusLength, exponent })) as { publicKey: KeyObject; privateKey: KeyObject };
    const algorithm = { name: params.name, hash: { name: hash } };
    return {
      publicKey: pair.publicKey.toCryptoKey(algorithm, true, publicUsages as webcrypto.KeyUsage[]),
      privateKey: pair.privateKey.toCryptoKey(algorithm, extractable, privateUsages as webcrypto.KeyUsage[]),
    };
  };
}

export const cryptoServices: Record<string, SyncService> = {
  "crypto.random"(_state, [length]) {
    if (typeof length !== "number" || !Number.isInteger(length) || length < 0 || length > MAX_RANDOM_BYTES) {
      throw new RangeError(`The requested length exceeds the number of bytes of entropy available (${MAX_RANDOM_BYTES}).`);
    }
    return randomFillSync(new Uint8Array(length));
  },
  /** Forgets keys the sandbox garbage collected. */
  "crypto.release"(state, [handles]) {
    if (!Array.isArray(handles) || handles.length > 100_000) throw new TypeError("Invalid key handles.");
    const budget = budgetOf(state);
    for (const handle of handles) {
      const size = budget.sizes.get(handle);
      if (size === undefined) continue;
      state.release(handle, isKey);
      budget.sizes.delete(handle);
      budget.total -= size;
    }
    return null;
  },
};

export const cryptoAsyncServices: Record<string, AsyncService> = {
  async "crypto.digest"(state, [algorithm, data]) {
    const params = algorithmArg(state, algorithm);
    const bytes = bytesArg(data, "data", MAX_INPUT_BYTES);
    const hash = NODE_HASH[params.name];
    const onIsletThread = hash !== undefined && bytes.byteLength >= THREAD_DIGEST_BYTES && hasCryptoThread();
    return run(state, "digest", [params, bytes], bytesResult, onIsletThread ? () => onThread(state, "digest", { hash, data: bytes })! : undefined);
  },
  async "crypto.encrypt"(state, [algorithm, key, data]) {
    return run(state, "encrypt", [algorithmArg(state, algorithm), keyArg(state, key), bytesArg(data, "data", MAX_INPUT_BYTES)], bytesResult);
  },
  async "crypto.decrypt"(state, [algorithm, key, data]) {
    return run(state, "decrypt", [algorithmArg(state, algorithm), keyArg(state, key), bytesArg(data, "data", MAX_INPUT_BYTES)], bytesResult);
  },
  async "crypto.sign"(state, [algorithm, key, data]) {
    return run(state, "sign", [algorithmArg(state, algorithm), keyArg(state, key), bytesArg(data, "data", MAX_INPUT_BYTES)], bytesResult);
  },
  async "crypto.verify"(state, [algorithm, key, signature, data]) {
    const args = [algorithmArg(state, algorithm), keyArg(state, key), bytesArg(signature, "signature", MAX_INPUT_BYTES), bytesArg(data, "data", MAX_INPUT_BYTES)];
    return run(state, "verify", args, (ok) => ok === true);
  },
  async "crypto.generateKey"(state, [algorithm, extractable, usages]) {
    const params = algorithmArg(state, algorithm);
    checkGenerate(params);
    const args = [params, booleanArg(extractable), usagesArg(usages)] as const;
    return runKeys(state, "generateKey", [...args], generatedBytes(params), rsaOnThread(state, ...args));
  },
  async "crypto.importKey"(state, [format, keyData, algorithm, extractable, usages]) {
    const keyFormat = formatArg(format);
    const data = keyDataArg(keyFormat, keyData);
    const args = [keyFormat, data, algorithmArg(state, algorithm), booleanArg(extractable), usagesArg(usages)];
    return runKeys(state, "importKey", args, keyDataBytes(data));
  },
  async "crypto.exportKey"(state, [format, handle]) {
    const keyFormat = formatArg(format);
    const key = keyArg(state, handle);
    if (!key.extractable) throw domError("The key is not extractable.", "InvalidAccessError");
    return run(state, "exportKey", [keyFormat, key], (result) => (keyFormat === "jwk" ? result : bytesResult(result)));
  },
  async "crypto.deriveBits"(state, [algorithm, handle, length]) {
    const params = algorithmArg(state, algorithm);
    const bits = lengthArg(length);
    checkDerive(params, bits ?? 0);
    return run(state, "deriveBits", [params, keyArg(state, handle), bits], bytesResult);
  },
  async "crypto.deriveKey"(state, [algorithm, handle, derivedAlgorithm, extractable, usages]) {
    const params = algorithmArg(state, algorithm);
    const derived = algorithmArg(state, derivedAlgorithm, "derivedKeyType");
    checkDerive(params, derivedBits(derived));
    const args = [params, keyArg(state, handle), derived, booleanArg(extractable), usagesArg(usages)];
    return runKeys(state, "deriveKey", args, derivedBits(derived) / 8);
  },
  async "crypto.wrapKey"(state, [format, handle, wrappingHandle, algorithm]) {
    const key = keyArg(state, handle);
    if (!key.extractable) throw domError("The key is not extractable.", "InvalidAccessError");
    return run(state, "wrapKey", [formatArg(format), key, keyArg(state, wrappingHandle), algorithmArg(state, algorithm)], bytesResult);
  },
  async "crypto.unwrapKey"(state, [format, wrapped, unwrappingHandle, algorithm, keyAlgorithm, extractable, usages]) {
    const wrappedKey = bytesArg(wrapped, "wrappedKey", MAX_INPUT_BYTES);
    const args = [
      formatArg(format),
      wrappedKey,
      keyArg(state, unwrappingHandle),
      algorithmArg(state, algorithm),
      algorithmArg(state, keyAlgorithm, "unwrappedKeyAlgorithm"),
      booleanArg(extractable),
      usagesArg(usages),
    ];
    return runKeys(state, "unwrapKey", args, wrappedKey.byteLength);
  },
};
