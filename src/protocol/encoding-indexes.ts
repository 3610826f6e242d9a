// The Encoding Standard's index tables that the host serves to a sandbox's TextDecoder, one copy
// per sandbox on its first use of an encoding that needs one (src/engine/services/encoding.ts;
// src/runtime/web/legacy-encodings.ts). Built from the standard's data by scripts/build.mjs into
// dist/encoding-indexes/<name>.bin: little-endian code points, 0 where the index has no entry.
// Literals only: this module also runs in the isolate, where a computed value could call methods
// that user code replaced.

/** The synchronous host service that returns a copy of one index table. */
export const ENCODING_INDEX_SERVICE = "encoding.index";

/** The legacy single-byte encodings whose 128 high bytes come from an index (windows-1252 is built in). */
export const SINGLE_BYTE_ENCODINGS = [
  "ibm866",
  "iso-8859-2",
  "iso-8859-3",
  "iso-8859-4",
  "iso-8859-5",
  "iso-8859-6",
  "iso-8859-7",
  "iso-8859-8",
  "iso-8859-10",
  "iso-8859-13",
  "iso-8859-14",
  "iso-8859-15",
  "iso-8859-16",
  "koi8-r",
  "koi8-u",
  "macintosh",
  "windows-874",
  "windows-1250",
  "windows-1251",
  "windows-1253",
  "windows-1254",
  "windows-1255",
  "windows-1256",
  "windows-1257",
  "windows-1258",
  "x-mac-cyrillic",
] as const;
