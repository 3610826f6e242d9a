// The one way host bytes become a chunk that crosses into a sandbox or a shard (SECURITY.md P2).
//
// A chunk is a view: a small Node Buffer is a view into Node's shared 64 KiB pool (other Buffers
// of the host in it), `big.subarray(0, 4)` a view of all of `big`. isolated-vm's copy and
// postMessage both copy a view with its whole ArrayBuffer, and the sandbox reads that through
// `chunk.buffer`. So each chunk is copied to a fresh ArrayBuffer of exactly its own bytes,
// `byteLength` bytes from `byteOffset`, before it crosses, unless it already is a plain Uint8Array
// spanning the whole of a fixed-length ArrayBuffer of its own.
//
// Loaded on the host only; it imports nothing (src/protocol), and captures what it uses at load.

const Uint8ArrayCtor = Uint8Array;
const Uint8ArrayProto = Uint8Array.prototype;
const getProto = Object.getPrototypeOf;
const isView = ArrayBuffer.isView;
const ArrayBufferProto = ArrayBuffer.prototype;
const resizable = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "resizable")?.get as ((this: ArrayBuffer) => boolean) | undefined;
const typedSet = Uint8Array.prototype.set;

/** Whether `view` is a plain Uint8Array over the whole of a fixed-length (not shared) ArrayBuffer. */
function spansOwnBuffer(view: ArrayBufferView): boolean {
  if (getProto(view) !== Uint8ArrayProto) return false; // a Buffer or any other class: copied
  const buffer = view.buffer;
  if (getProto(buffer) !== ArrayBufferProto) return false; // a SharedArrayBuffer: copied
  if (resizable !== undefined && resizable.call(buffer as ArrayBuffer)) return false;
  return view.byteOffset === 0 && view.byteLength === buffer.byteLength;
}

/** A fresh Uint8Array of exactly `view`'s bytes (`byteLength` bytes from `byteOffset`), over an ArrayBuffer of its own. */
export function copyOwnBytes(view: ArrayBufferView | ArrayBuffer): Uint8Array<ArrayBuffer> {
  const source = isView(view) ? new Uint8ArrayCtor(view.buffer, view.byteOffset, view.byteLength) : new Uint8ArrayCtor(view);
  const out = new Uint8ArrayCtor(source.byteLength);
  typedSet.call(out, source);
  return out;
}

/**
 * `chunk` as a Uint8Array carrying its own bytes only: itself when it already spans a fixed-length
 * ArrayBuffer of its own, else a copy of exactly its bytes. Every host-to-sandbox chunk path
 * (socket writes and reads, response and request bodies, their eager whole bodies) goes through it.
 */
export function ownBytes(chunk: ArrayBufferView | ArrayBuffer): Uint8Array {
  if (isView(chunk) && spansOwnBuffer(chunk)) return chunk as Uint8Array;
  return copyOwnBytes(chunk);
}
