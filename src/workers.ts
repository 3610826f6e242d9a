// islet/workers: the host-side `cloudflare:workers` module, so libraries written for Cloudflare's
// Worker Loader run in Node unmodified (with `node --import islet/register`, which maps the
// specifier here). RpcTarget is islet's own: instances cross into sandboxes as stubs.

import { RpcTarget } from "./rpc/rpc-target.ts";
import type { DurableObjectState } from "./storage/object-host.ts";

export type { DurableObjectState };

export { RpcTarget };

/** What a host-side entrypoint or Durable Object is constructed with, as on Cloudflare. */
export interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
  props?: unknown;
}

/**
 * A host-side entrypoint class. Its instances are RpcTargets: passed into a sandbox, their class
 * methods are callable there.
 */
export class WorkerEntrypoint<Env = unknown, Props = unknown> extends RpcTarget {
  protected readonly ctx: ExecutionContext & { props?: Props };
  protected readonly env: Env;

  constructor(ctx: ExecutionContext & { props?: Props }, env: Env) {
    super();
    this.ctx = ctx;
    this.env = env;
  }
}

/**
 * Host-side Durable Object base class. A DurableObjectNamespace constructs it with a real `ctx`:
 * its id, its own SQLite storage, waitUntil, blockConcurrencyWhile.
 */
export class DurableObject<Env = unknown> extends RpcTarget {
  protected readonly ctx: DurableObjectState;
  protected readonly env: Env;

  constructor(ctx: DurableObjectState, env: Env) {
    super();
    this.ctx = ctx;
    this.env = env;
  }
}

/** Cloudflare's `env` import; a Node host has no bindings of its own to put here. */
export const env: Record<string, unknown> = {};
