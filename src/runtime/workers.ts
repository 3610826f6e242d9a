// The classes `cloudflare:workers` exports inside the sandbox.

import { primordials } from "./primordials.ts";

const { ObjectDefineProperty } = primordials;

export class RpcTarget {}

export class WorkerEntrypoint<Env = unknown, Props = unknown> {
  readonly ctx: ExecutionContext<Props>;
  readonly env: Env;
  constructor(ctx: ExecutionContext<Props>, env: Env) {
    this.ctx = ctx;
    this.env = env;
  }
}

export class DurableObject<Env = unknown> {
  readonly ctx: unknown;
  readonly env: Env;
  constructor(ctx: unknown, env: Env) {
    this.ctx = ctx;
    this.env = env;
  }
}

// The core bundle is minified without keepNames (it runs in every isolate): name what users see.
for (const [name, value] of [["RpcTarget", RpcTarget], ["WorkerEntrypoint", WorkerEntrypoint], ["DurableObject", DurableObject]] as const) {
  ObjectDefineProperty(value, "name", { value: name });
}

export interface ExecutionContext<Props = unknown> {
  readonly props: Props;
  readonly exports: Record<string, unknown>;
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
}
