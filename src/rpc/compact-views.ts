// A typed array is cloned with its whole ArrayBuffer (the structured-clone rule), and every small
// Node Buffer (Buffer.from, Buffer.allocUnsafe, many of Node's own APIs) is a slice of one shared
// allocation pool holding unrelated host data. So before a host value crosses into a sandbox, each
// Node Buffer that does not span its whole ArrayBuffer is replaced by a Uint8Array of its own
// bytes, and so is any view over a buffer of Node's pool size that does not span it (a Uint8Array
// or DataView made over a Buffer's memory). Other views keep the structured-clone rule: a host
// that builds a view over a larger buffer chose to send that buffer (their offsets survive).
//
// The check is made in the codec's own walk (wire.ts, LeafCopier): a value is walked once, and
// rebuilt only when it holds such a view.

import { types } from "node:util";
import type { LeafCopier } from "../protocol/wire.ts";
import { copyOwnBytes } from "../protocol/own-bytes.ts";

const { isView } = ArrayBuffer;
const getPrototypeOf = Object.getPrototypeOf;
const objectKeys = Object.keys;
const arrayIsArray = Array.isArray;

/**
 * A view that does not span its buffer and either is a Node Buffer or sits in a buffer the size of
 * Node's pool's (a Uint8Array or DataView made over a small Buffer's memory reaches the same pool).
 */
function isPartial(view: ArrayBufferView): boolean {
  if (isResizable(view.buffer)) return true;
  if (view.byteOffset === 0 && view.byteLength === view.buffer.byteLength) return false;
  return Buffer.isBuffer(view) || view.buffer.byteLength === poolBufferBytes();
}

/**
 * A resizable ArrayBuffer keeps its maxByteLength through a structured clone, and one a sandbox
 * receives was never charged there: a sandbox of 16 MB stored 0-byte buffers with a 16 MiB maximum
 * in a host RpcTarget, read them back, resized them and held 1 GiB (findings5/08). Every resizable
 * buffer (and every view over one) crosses into a sandbox as a fixed-length copy of its bytes.
 */
function isResizable(buffer: ArrayBufferLike): boolean {
  return types.isArrayBuffer(buffer) && (buffer as ArrayBuffer & { resizable: boolean }).resizable;
}

/** The size of the ArrayBuffers of Node's pool (Buffer.poolSize, plus alignment on Node 26). */
function poolBufferBytes(): number {
  return Buffer.allocUnsafe(1).buffer.byteLength;
}

function compactView(view: ArrayBufferView): ArrayBufferView {
  const bytes = copyOwnBytes(view);
  // A Node Buffer crosses as what structured clone makes of it, a Uint8Array; other views keep their type.
  if (Buffer.isBuffer(view)) return bytes;
  if (view instanceof DataView) return new DataView(bytes.buffer);
  const Ctor = view.constructor as new (buffer: ArrayBuffer) => ArrayBufferView;
  return new Ctor(bytes.buffer);
}

/** Whether `value` holds, anywhere a clone reaches, a view that does not span its buffer (an error's cause). */
function needsCompacting(value: unknown, seen: Set<object>): boolean {
  if (value === null || typeof value !== "object") return false;
  if (seen.has(value)) return false;
  seen.add(value);
  if (isView(value)) return isPartial(value);
  if (isResizable(value as ArrayBufferLike)) return true;
  if (value instanceof Map) {
    for (const [k, v] of value) if (needsCompacting(k, seen) || needsCompacting(v, seen)) return true;
    return false;
  }
  if (value instanceof Set) {
    for (const v of value) if (needsCompacting(v, seen)) return true;
    return false;
  }
  if (value instanceof Error) return needsCompacting((value as { cause?: unknown }).cause, seen);
  if (isLeaf(value)) return false;
  for (const key of objectKeys(value)) if (needsCompacting((value as Record<string, unknown>)[key], seen)) return true;
  return false;
}

/** Values the boundary copies whole (no own keys of interest); everything else object-like is walked. */
function isLeaf(value: object): boolean {
  return types.isDate(value) || types.isRegExp(value) || types.isBoxedPrimitive(value) || types.isAnyArrayBuffer(value);
}

function rebuild(value: unknown, copies: Map<object, unknown>, isCapability: (value: object) => boolean): unknown {
  if (value === null || typeof value !== "object") return value;
  // A capability (an RpcTarget, another worker's stub) keeps its identity: it crosses by reference.
  if (isCapability(value)) return value;
  const done = copies.get(value);
  if (done !== undefined) return done;
  if (isView(value)) {
    const out = isPartial(value) ? compactView(value) : value;
    copies.set(value, out);
    return out;
  }
  if (isResizable(value as ArrayBufferLike)) {
    // slice() makes a fixed-length ArrayBuffer of the bytes it holds now.
    const out = (value as ArrayBuffer).slice(0);
    copies.set(value, out);
    return out;
  }
  if (value instanceof Map) {
    const out = new Map();
    copies.set(value, out);
    for (const [k, v] of value) out.set(rebuild(k, copies, isCapability), rebuild(v, copies, isCapability));
    return out;
  }
  if (value instanceof Set) {
    const out = new Set();
    copies.set(value, out);
    for (const v of value) out.add(rebuild(v, copies, isCapability));
    return out;
  }
  if (value instanceof Error) {
    // The error itself is kept; only a cause holding a partial view is rebuilt.
    const cause = (value as { cause?: unknown }).cause;
    if (cause === undefined) return value;
    const out = Object.create(getPrototypeOf(value)) as Error;
    copies.set(value, out);
    for (const key of ["name", "message", "stack"] as const) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key);
      if (descriptor !== undefined && "value" in descriptor) Object.defineProperty(out, key, { ...descriptor });
    }
    Object.defineProperty(out, "cause", { value: rebuild(cause, copies, isCapability), writable: true, configurable: true, enumerable: false });
    return out;
  }
  if (isLeaf(value)) return value;
  // An instance of a class crosses as a plain object of its own enumerable properties (what a
  // clone makes of it), so it is rebuilt as one: its views are compacted too.
  const proto = getPrototypeOf(value);
  const out: Record<string, unknown> | unknown[] = arrayIsArray(value) ? new Array(value.length) : proto === null ? Object.create(null) : {};
  copies.set(value, out);
  for (const key of objectKeys(value)) {
    Object.defineProperty(out, key, { value: rebuild((value as Record<string, unknown>)[key], copies, isCapability), writable: true, enumerable: true, configurable: true });
  }
  return out;
}

/**
 * The host's check on what it sends, for the codec (wire.ts encode): a value holding a view that
 * does not span its buffer (a small Node Buffer), or a resizable buffer, is rebuilt with a copy of
 * that view's own bytes (capabilities in it, `isCapability`, keep their identity).
 */
export function viewCopier(isCapability: (value: object) => boolean): LeafCopier {
  return { needsCopy, copy: (value) => rebuild(value, new Map(), isCapability), refuseGetters: true };
}

function needsCopy(leaf: object): boolean {
  if (isView(leaf)) return isPartial(leaf);
  if (isResizable(leaf as ArrayBufferLike)) return true;
  // An error's cause is read as the clone reads it (an inherited one too), not only as the walk does.
  if (leaf instanceof Error) return needsCompacting((leaf as { cause?: unknown }).cause, new Set());
  return false;
}
