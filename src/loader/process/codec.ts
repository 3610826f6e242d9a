// How a message crosses the IPC channel of process isolation. Node's `serialization: "advanced"`
// writes a typed array or DataView as its bytes only and reads it back as a view into the buffer
// the whole message arrived in: a `Uint16Array(new ArrayBuffer(8), 2, 2)` came out of a child as
// byteOffset 22 of a 53-byte buffer, so whoever received it could read the rest of that message
// (or, for a view it had to realign, of Node's shared Buffer pool). So each message is serialized
// here with V8's own serializer, which writes a view with its ArrayBuffer, and crosses as one
// Buffer; the receiver deserializes it into fresh objects: every view gets its own copy of its
// buffer, with the byteOffset and length it was sent with, and views that shared a buffer still
// share one, as structuredClone and a worker thread's postMessage have it.

import { Deserializer, Serializer } from "node:v8";
import type { Message } from "../shard/protocol.ts";

/** Throws (DataCloneError's "could not be cloned") for a value V8 cannot serialize. */
export function encodeMessage(message: Message): Buffer {
  const serializer = new Serializer();
  serializer.writeHeader();
  serializer.writeValue(message);
  return serializer.releaseBuffer();
}

/** Throws for anything that is not a message this codec wrote. */
export function decodeMessage(data: unknown): unknown {
  if (!ArrayBuffer.isView(data)) throw new TypeError("Malformed message on the process channel.");
  const deserializer = new Deserializer(data as Uint8Array);
  deserializer.readHeader();
  return deserializer.readValue();
}
