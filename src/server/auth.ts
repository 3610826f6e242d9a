// API keys. Keys are compared as SHA-256 digests with timingSafeEqual, against every configured
// key without stopping at the first match, so neither the time taken nor an early exit tells an
// attacker how much of a guess was right or which key it was close to.

import { createHash, timingSafeEqual } from "node:crypto";
import { lowest, type ResolvedLimits } from "../loader/limits.ts";
import type { ResolvedServerOptions } from "./config.ts";

/** Who is calling and what they may use. The key itself is not kept here. */
export interface Caller {
  keyId: string;
  limits: ResolvedLimits;
  maxConcurrency: number;
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

export class ApiKeys {
  private readonly keys: { digest: Buffer; caller: Caller }[];
  private readonly anonymous: Caller;

  constructor(options: ResolvedServerOptions) {
    this.keys = options.apiKeys.map((entry) => ({
      digest: digest(entry.key),
      caller: { keyId: entry.id, limits: lowest(options.limits, entry.limits), maxConcurrency: entry.maxConcurrency ?? options.maxConcurrencyPerKey },
    }));
    this.anonymous = { keyId: "anonymous", limits: { ...options.limits }, maxConcurrency: options.maxConcurrencyPerKey };
  }

  get required(): boolean {
    return this.keys.length > 0;
  }

  /** The caller a request's credentials name, or undefined when a key is required and missing or wrong. */
  authenticate(headers: Headers): Caller | undefined {
    if (!this.required) return this.anonymous;
    const presented = bearer(headers.get("authorization")) ?? headers.get("x-api-key");
    if (presented === null || presented === undefined || presented === "") return undefined;
    const candidate = digest(presented);
    let match: Caller | undefined;
    for (const key of this.keys) if (timingSafeEqual(candidate, key.digest) && match === undefined) match = key.caller;
    return match;
  }
}

function bearer(header: string | null): string | undefined {
  if (header === null) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
