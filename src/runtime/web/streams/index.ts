// Entry of the streams chunk (dist/runtime-streams.js), loaded the first time a sandbox touches a
// stream: the WHATWG Streams classes (web-streams-polyfill, see ponyfill.ts), the Encoding
// Standard's TextEncoderStream and TextDecoderStream, and the Compression Standard's streams
// (their codecs, fflate, are the compression chunk: codecs/index.ts).
//
// For other chunks (reach them through streams() of platform.ts); these names and signatures are
// stable:
// - readAllBytes(stream: ReadableStream, maxBytes?: number): Promise<{ bytes: Uint8Array }> (a box without prototype)
//     reads a stream to its end into one new Uint8Array; TypeError for a locked stream or a chunk
//     that is not a Uint8Array, RangeError past maxBytes (see bytes.ts).
// - streamFromBytes(bytes: Uint8Array): ReadableStream<Uint8Array>
//     a byte stream yielding `bytes` (taken over, not copied), then closed.
// - isReadableStream(value: unknown): value is ReadableStream   (brand check)
// - isDisturbed(stream: ReadableStream): boolean                 (read from or canceled)
// - byteReader(stream: ReadableStream): ByteReader
//     locks `stream` and reads it a chunk at a time: next() resolves to { value } (a box without
//     prototype; null at the end), rejecting with TypeError for a chunk that is not a Uint8Array.

export { bindPlatform } from "../../platform.ts";
export * from "./ponyfill.ts";
export { TextDecoderStream, TextEncoderStream } from "./text-streams.ts";
export { CompressionStream, DecompressionStream } from "./compression.ts";
export { byteReader, isDisturbed, isReadableStream, readAllBytes, streamFromBytes, type ByteReader } from "./bytes.ts";
