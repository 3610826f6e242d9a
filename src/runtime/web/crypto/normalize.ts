// "Normalize an algorithm" (WebCrypto §18.4): find the algorithm registered for an operation by a
// case-insensitive name, then convert the caller's object to that algorithm's parameter
// dictionary. The result is a plain copy (bytes copied, hash normalized, keys kept as CryptoKeys
// until the call is sent), so the host never sees a caller's object and no getter runs twice.

import { toDomString } from "../webidl.ts";
import { domException } from "./errors.ts";
import { toBigInteger, toBytes, toEnforcedInteger } from "./idl.ts";
import { toCryptoKey, type CryptoKey } from "./key.ts";
import { primordials } from "../../primordials.ts";

const { ArrayPrototypeMap, Map, MapFrom, MapPrototypeGet, ObjectEntries, ObjectFromPairs, ObjectKeys, StringPrototypeToLowerCase, TypeError } = primordials;

export type Operation = "digest" | "encrypt" | "decrypt" | "sign" | "verify" | "generateKey" | "importKey" | "deriveBits" | "wrapKey" | "unwrapKey" | "get key length";

export interface Normalized {
  name: string;
  [member: string]: unknown;
}

type MemberType = "BufferSource" | "BigInteger" | "HashAlgorithmIdentifier" | "NamedCurve" | "CryptoKey" | "octet" | "unsigned short" | "unsigned long";
/** A dictionary's members in the order Web IDL reads them: inherited first, then by name. */
type Dictionary = readonly (readonly [member: string, type: MemberType, required: boolean])[];

const Algorithm: Dictionary = [];
const AesCbcParams: Dictionary = [["iv", "BufferSource", true]];
const AesCtrParams: Dictionary = [["counter", "BufferSource", true], ["length", "octet", true]];
const AesGcmParams: Dictionary = [["additionalData", "BufferSource", false], ["iv", "BufferSource", true], ["tagLength", "octet", false]];
const AesKeyGenParams: Dictionary = [["length", "unsigned short", true]];
const HmacParams: Dictionary = [["hash", "HashAlgorithmIdentifier", true], ["length", "unsigned long", false]];
const RsaHashedKeyGenParams: Dictionary = [["modulusLength", "unsigned long", true], ["publicExponent", "BigInteger", true], ["hash", "HashAlgorithmIdentifier", true]];
const RsaHashedImportParams: Dictionary = [["hash", "HashAlgorithmIdentifier", true]];
const RsaPssParams: Dictionary = [["saltLength", "unsigned long", true]];
const RsaOaepParams: Dictionary = [["label", "BufferSource", false]];
const EcdsaParams: Dictionary = [["hash", "HashAlgorithmIdentifier", true]];
const EcKeyParams: Dictionary = [["namedCurve", "NamedCurve", true]];
const EcdhKeyDeriveParams: Dictionary = [["public", "CryptoKey", true]];
const HkdfParams: Dictionary = [["hash", "HashAlgorithmIdentifier", true], ["info", "BufferSource", true], ["salt", "BufferSource", true]];
const Pbkdf2Params: Dictionary = [["hash", "HashAlgorithmIdentifier", true], ["iterations", "unsigned long", true], ["salt", "BufferSource", true]];

const RSA = ["RSASSA-PKCS1-v1_5", "RSA-PSS", "RSA-OAEP"];
const AES = ["AES-CTR", "AES-CBC", "AES-GCM", "AES-KW"];

const registry: Record<Operation, Record<string, Dictionary>> = {
  digest: { "SHA-1": Algorithm, "SHA-256": Algorithm, "SHA-384": Algorithm, "SHA-512": Algorithm },
  encrypt: { "RSA-OAEP": RsaOaepParams, "AES-CTR": AesCtrParams, "AES-CBC": AesCbcParams, "AES-GCM": AesGcmParams },
  decrypt: { "RSA-OAEP": RsaOaepParams, "AES-CTR": AesCtrParams, "AES-CBC": AesCbcParams, "AES-GCM": AesGcmParams },
  sign: { "RSASSA-PKCS1-v1_5": Algorithm, "RSA-PSS": RsaPssParams, ECDSA: EcdsaParams, HMAC: Algorithm, Ed25519: Algorithm },
  verify: { "RSASSA-PKCS1-v1_5": Algorithm, "RSA-PSS": RsaPssParams, ECDSA: EcdsaParams, HMAC: Algorithm, Ed25519: Algorithm },
  generateKey: {
    ...ObjectFromPairs(ArrayPrototypeMap(RSA, (name): [string, unknown] => [name, RsaHashedKeyGenParams])),
    ...ObjectFromPairs(ArrayPrototypeMap(AES, (name): [string, unknown] => [name, AesKeyGenParams])),
    ECDSA: EcKeyParams,
    ECDH: EcKeyParams,
    HMAC: HmacParams,
    Ed25519: Algorithm,
    X25519: Algorithm,
  },
  importKey: {
    ...ObjectFromPairs(ArrayPrototypeMap(RSA, (name): [string, unknown] => [name, RsaHashedImportParams])),
    ...ObjectFromPairs(ArrayPrototypeMap(AES, (name): [string, unknown] => [name, Algorithm])),
    ECDSA: EcKeyParams,
    ECDH: EcKeyParams,
    HMAC: HmacParams,
    HKDF: Algorithm,
    PBKDF2: Algorithm,
    Ed25519: Algorithm,
    X25519: Algorithm,
  },
  deriveBits: { ECDH: EcdhKeyDeriveParams, X25519: EcdhKeyDeriveParams, HKDF: HkdfParams, PBKDF2: Pbkdf2Params },
  wrapKey: { "AES-KW": Algorithm },
  unwrapKey: { "AES-KW": Algorithm },
  "get key length": { ...ObjectFromPairs(ArrayPrototypeMap(AES, (name): [string, unknown] => [name, AesKeyGenParams])), HMAC: HmacParams, HKDF: Algorithm, PBKDF2: Algorithm },
};

// Registered names by their lower-case form, per operation: names match case-insensitively.
const lookup = MapFrom<Operation, Map<string, string>>(
  ArrayPrototypeMap(ObjectEntries(registry), (d5) => { const op = d5[0], algorithms = d5[1]; return [op as Operation, MapFrom(ArrayPrototypeMap(ObjectKeys(algorithms), (name): [string, string] => [StringPrototypeToLowerCase(name), name]))]; }),
);

export function normalizeAlgorithm(algorithm: unknown, op: Operation): Normalized {
  if ((typeof algorithm !== "object" && typeof algorithm !== "function") || algorithm === null) return normalizeAlgorithm({ name: toDomString(algorithm) }, op);
  const rawName = (algorithm as { name?: unknown }).name;
  if (rawName === undefined) throw new TypeError("Algorithm: name: Missing required property");
  const name = MapPrototypeGet(MapPrototypeGet(lookup, op)!, StringPrototypeToLowerCase(toDomString(rawName)));
  if (name === undefined) throw domException(`Unrecognized algorithm name '${toDomString(rawName)}' for ${op}.`, "NotSupportedError");
  const result: Normalized = { name };
  for (let i18 = 0, a18 = registry[op][name]; i18 < a18.length; i18++) {
    const member = a18[i18][0], type = a18[i18][1], required = a18[i18][2];
    const value = (algorithm as Record<string, unknown>)[member];
    if (value === undefined) {
      if (required) throw new TypeError(`Failed to normalize algorithm: '${member}' is required in the parameters of ${name}.`);
      continue;
    }
    result[member] = convert(value, type, `algorithm.${member}`);
  }
  return result;
}

function convert(value: unknown, type: MemberType, what: string): unknown {
  switch (type) {
    case "BufferSource":
      return toBytes(value, what);
    case "BigInteger":
      return toBigInteger(value, what);
    case "HashAlgorithmIdentifier":
      return normalizeAlgorithm(value, "digest");
    case "NamedCurve":
      return toDomString(value);
    case "CryptoKey":
      return toCryptoKey(value, what);
    case "octet":
      return toEnforcedInteger(value, 0xff, what);
    case "unsigned short":
      return toEnforcedInteger(value, 0xffff, what);
    case "unsigned long":
      return toEnforcedInteger(value, 0xffffffff, what);
  }
}

/** The copy sent to the host: a key inside the parameters (ECDH's `public`) becomes its handle. */
export function forHost(algorithm: Normalized, handleOf: (key: CryptoKey) => number): Normalized {
  const out: Normalized = { ...algorithm };
  if (out.public !== undefined) out.public = handleOf(out.public as CryptoKey);
  return out;
}
