// Entry of the url chunk (dist/runtime-url.js).

export { bindPlatform } from "../../platform.ts";
export { URL, parseHref } from "./url.ts";
export { URLSearchParams, parseUrlEncoded, serializeUrlEncoded } from "./search-params.ts";
