// Host-side RpcTarget: instances travel into sandboxes as stubs whose calls reach the instance's
// prototype methods (not its own data properties, not Object's methods).

export class RpcTarget {}

/** Brands host-side objects that stand for a remote capability (stubs, entrypoints). */
export const remoteCapability: unique symbol = Symbol("islet.remoteCapability");

export function isRemoteCapability(value: object): boolean {
  return (value as { [remoteCapability]?: boolean })[remoteCapability] === true;
}

// Which members a target exposes: the one rule of src/protocol/cap-table.ts (classMember).

/**
 * Service bindings on this side: a worker's entrypoint stub (loader/entrypoint.ts), or a shard's
 * stub of one the host sent it (shard/runner.ts). Each has `connect(address, options)` returning a
 * socket to the worker's connect(socket) handler (or a promise of one); it crosses a boundary as
 * CapKind.Fetcher, so that a sandbox's stub of it has Cloudflare's `Fetcher.connect`.
 */
const fetchers = new WeakSet<object>();

export function markFetcher(value: object): void {
  fetchers.add(value);
}

export function isFetcher(value: object): boolean {
  return fetchers.has(value);
}
