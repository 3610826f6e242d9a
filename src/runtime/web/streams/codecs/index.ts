// Entry of the compression chunk (dist/runtime-compression.js): the gzip, zlib and raw DEFLATE
// codecs behind CompressionStream and DecompressionStream (fflate plus the wrappers read here).
// A chunk of its own because fflate builds its tables when it loads, which costs several
// milliseconds: sandboxes that use streams but not compression never pay for it. The stream
// classes themselves are in the streams chunk (../compression.ts).

import { restoreGlobals } from "./quiet-globals.ts"; // first: see quiet-globals.ts

export { bindPlatform } from "../../../platform.ts";
export { Compressor } from "./compressor.ts";
export { Decompressor, type CompressionFormat } from "./decompressor.ts";
export { NodeCodec, crc32, type NodeZlibMode } from "./node-codec.ts";

// Every module of the chunk has run: the global object gets its own values back.
restoreGlobals();
