// The globals each chunk provides (a global is defined only for names listed here). Also read by
// structuredClone, which refuses islet's platform objects by these names.

// The names each chunk must export: a global is defined only for names listed here.
export const EVENTS_GLOBALS = ["DOMException", "Event", "EventTarget", "CustomEvent", "AbortController", "AbortSignal", "structuredClone", "atob", "btoa", "scheduler"] as const;
export const STREAMS_GLOBALS = [
  "ReadableStream",
  "ReadableStreamDefaultReader",
  "ReadableStreamBYOBReader",
  "ReadableStreamBYOBRequest",
  "ReadableStreamDefaultController",
  "ReadableByteStreamController",
  "WritableStream",
  "WritableStreamDefaultWriter",
  "WritableStreamDefaultController",
  "TransformStream",
  "TransformStreamDefaultController",
  "ByteLengthQueuingStrategy",
  "CountQueuingStrategy",
  "TextEncoderStream",
  "TextDecoderStream",
  "CompressionStream",
  "DecompressionStream",
] as const;
export const WEB_GLOBALS = ["Blob", "File", "FormData"] as const;
export const CRYPTO_GLOBALS = ["crypto", "Crypto", "SubtleCrypto", "CryptoKey"] as const;
