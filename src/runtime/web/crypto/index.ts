// Entry of the crypto chunk (dist/runtime-crypto.js).

export { bindPlatform } from "../../platform.ts";
export { Crypto, crypto } from "./crypto.ts";
export { SubtleCrypto } from "./subtle.ts";
export { CryptoKey } from "./key.ts";
