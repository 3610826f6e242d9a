// Entry of the lazily loaded web chunk (dist/runtime-web.js): a sandbox pays for these classes
// only when it first touches one of them.

export { bindPlatform } from "../platform.ts";
export { Headers } from "./headers.ts";
export { Request, requestAbortSignal, requestFromRecord, requestToRecord } from "./request.ts";
export { Response, responseFromRecord, responseToRecord } from "./response.ts";
export { Blob } from "./blob.ts";
export { File } from "./file.ts";
export { FormData } from "./form-data.ts";
export { TextDecoder, TextEncoder } from "./encoding.ts";
