// How many /v1/rpc sessions (WebSockets) each API key holds open at once (maxRpcSessionsPerKey).
// A session may hold MAX_OBJECTS_PER_SESSION objects for its client: without this cap one key
// multiplied that by opening more sessions (8 held 160,000 objects and 458 MiB, findings7b/15).

import { RequestError } from "./errors.ts";

export const DEFAULT_MAX_RPC_SESSIONS_PER_KEY = 4;

export class RpcSessionCounts {
  private readonly perKey = new Map<string, number>();

  constructor(readonly max: number) {}

  /** Takes a session for the key, or throws the 429 that refuses the upgrade. Returns its release. */
  open(keyId: string): () => void {
    const open = this.perKey.get(keyId) ?? 0;
    if (open >= this.max) {
      throw new RequestError(429, `The API key "${keyId}" has ${this.max} /v1/rpc sessions open, its limit (maxRpcSessionsPerKey); close one first.`);
    }
    this.perKey.set(keyId, open + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.perKey.get(keyId) ?? 1) - 1;
      if (left === 0) this.perKey.delete(keyId);
      else this.perKey.set(keyId, left);
    };
  }

  count(keyId: string): number {
    return this.perKey.get(keyId) ?? 0;
  }
}
