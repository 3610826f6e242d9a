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

/**
 * Keys and what each one stands for. A presented key is digested and compared with every key
 * (never stopping early), so timing tells nothing about how close a guess was.
 */
export class KeyRing<T> {
  private readonly entries: { digest: Buffer; value: T }[];

  constructor(entries: readonly { key: string; value: T }[]) {
    this.entries = entries.map((entry) => ({ digest: digest(entry.key), value: entry.value }));
  }

  get size(): number {
    return this.entries.length;
  }

  /** The value of the key in `Authorization: Bearer <key>` or `X-Api-Key`, or undefined when none or a wrong one was sent. */
  match(header: (name: string) => string | null | undefined): T | undefined {
    const presented = bearer(header("authorization") ?? null) ?? header("x-api-key");
    if (presented === null || presented === undefined || presented === "") return undefined;
    const candidate = digest(presented);
    let match: T | undefined;
    let found = false;
    for (const entry of this.entries) {
      if (timingSafeEqual(candidate, entry.digest) && !found) {
        found = true;
        match = entry.value;
      }
    }
    return match;
  }
}

export class ApiKeys {
  private readonly keys: KeyRing<Caller>;
  private readonly anonymous: Caller;

  constructor(options: ResolvedServerOptions) {
    this.keys = new KeyRing(
      options.apiKeys.map((entry) => ({
        key: entry.key,
        value: { keyId: entry.id, limits: lowest(options.limits, entry.limits), maxConcurrency: entry.maxConcurrency ?? options.maxConcurrencyPerKey },
      })),
    );
    this.anonymous = { keyId: "anonymous", limits: { ...options.limits }, maxConcurrency: options.maxConcurrencyPerKey };
  }

  get required(): boolean {
    return this.keys.size > 0;
  }

  /** The caller a request's credentials name, or undefined when a key is required and missing or wrong. */
  authenticate(headers: Headers): Caller | undefined {
    if (!this.required) return this.anonymous;
    return this.keys.match((name) => headers.get(name));
  }
}

function bearer(header: string | null | undefined): string | undefined {
  if (header === null || header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
