// Entry of the lazily loaded web chunk (dist/runtime-web.js): a sandbox pays for these classes
// only when it first touches one of them.

export { bindPlatform } from "../platform.ts";
export { copyHeaders, Headers, headersDelete, headersGet } from "./headers.ts";
export { Request, requestAbortSignal, requestFromRecord, requestHeaders, requestMethod, requestRedirect, requestToRecord, requestUrl } from "./request.ts";
export { Response, responseFromRecord, responseHeaders, responseStatus, responseToRecord, responseToStreamingRecord } from "./response.ts";
export { IncomingSignal } from "./signal.ts";
export { Blob } from "./blob.ts";
export { File } from "./file.ts";
export { FormData } from "./form-data.ts";
export { TextDecoder, textDecoderDecode, TextEncoder, textEncoderEncode } from "./encoding.ts";
export { accept as socketAccept, connect as socketConnect, connectThrough as socketConnectThrough, Socket } from "./sockets.ts";
