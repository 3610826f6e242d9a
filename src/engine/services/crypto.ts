// Web Crypto for the sandbox, backed by Node's: random bytes, and SubtleCrypto with keys kept
// host-side (the sandbox holds only a handle and a copy of the key's public description).

import { randomFillSync } from "node:crypto";
import type { AsyncService, SyncService } from "./index.ts";

const MAX_RANDOM_BYTES = 65_536;

export const cryptoServices: Record<string, SyncService> = {
  "crypto.random"(_state, [length]) {
    if (typeof length !== "number" || !Number.isInteger(length) || length < 0 || length > MAX_RANDOM_BYTES) {
      throw new RangeError(`The requested length exceeds the number of bytes of entropy available (${MAX_RANDOM_BYTES}).`);
    }
    return randomFillSync(new Uint8Array(length));
  },
};

export const cryptoAsyncServices: Record<string, AsyncService> = {};
