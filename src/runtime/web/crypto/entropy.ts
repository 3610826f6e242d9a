// Random bytes from the host's CSPRNG, drawn in blocks.
//
// Every synchronous host call costs the host about 50 µs of CPU however little it returns (the
// isolate's thread hands the call to the host's and waits: see SYNC_HOST_CALL_NS in
// src/engine/services/index.ts, which charges it to cpuMs). A randomUUID() per host call made
// 20,000 UUIDs a second of the sandbox's CPU; small requests are served from a block of 4 KiB
// instead, as Node's randomUUID caches its entropy. No byte is handed out twice: the block's
// cursor moves past every byte taken, and a sandbox starts with an empty block (the snapshot is
// made before any is drawn).

import { host } from "../../platform.ts";
import { primordials } from "../../primordials.ts";

const { MathMin, TypedArrayPrototypeGetLength, TypedArrayPrototypeSet, TypedArrayPrototypeSubarray, Uint8Array } = primordials;

/** The most the crypto.random service returns per call. */
const HOST_CHUNK = 65_536;
const BLOCK = 4_096;
/** Larger requests go to the host directly: the block would save little and be drained at once. */
const FROM_BLOCK_UP_TO = 256;

let block: Uint8Array | undefined;
let used = BLOCK;

/** Fills `bytes` with fresh random bytes; `direct` skips the block (Node's disableEntropyCache). */
export function fillRandom(bytes: Uint8Array, direct = false): void {
  const length = TypedArrayPrototypeGetLength(bytes);
  if (length === 0) return;
  if (!direct && length <= FROM_BLOCK_UP_TO) {
    if (block === undefined || BLOCK - used < length) {
      block = host("crypto.random", BLOCK) as Uint8Array;
      used = 0;
    }
    TypedArrayPrototypeSet(bytes, TypedArrayPrototypeSubarray(block, used, used + length));
    used += length;
    return;
  }
  for (let at = 0; at < length; at += HOST_CHUNK) {
    const part = MathMin(HOST_CHUNK, length - at);
    TypedArrayPrototypeSet(bytes, host("crypto.random", part) as Uint8Array, at);
  }
}
