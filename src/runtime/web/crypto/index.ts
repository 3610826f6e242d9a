// Entry of the crypto chunk (dist/runtime-crypto.js).

export { bindPlatform } from "../../platform.ts";
