// Types for the sandbox-side module, so editors understand the example.
declare module "cloudflare:workers" {
  export class WorkerEntrypoint<Env = unknown, Props = unknown> {
    protected readonly env: Env;
    protected readonly ctx: { props: Props; waitUntil(promise: Promise<unknown>): void; exports: Record<string, unknown> };
  }
  export class RpcTarget {}
}
