// Host-side RpcTarget: instances travel into sandboxes as stubs whose calls reach the instance's
// prototype methods (not its own data properties, not Object's methods).

export class RpcTarget {}

/** Brands host-side objects that stand for a remote capability (stubs, entrypoints). */
export const remoteCapability: unique symbol = Symbol("islet.remoteCapability");

export function isRemoteCapability(value: object): boolean {
  return (value as { [remoteCapability]?: boolean })[remoteCapability] === true;
}

// Which members a target exposes: the one rule of src/protocol/cap-table.ts (classMember).
