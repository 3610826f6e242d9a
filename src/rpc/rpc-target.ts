// Host-side RpcTarget: instances travel into sandboxes as stubs whose calls reach the instance's
// prototype methods (not its own data properties, not Object's methods).

export class RpcTarget {}

/** Brands host-side objects that stand for a remote capability (stubs, entrypoints). */
export const remoteCapability: unique symbol = Symbol("islet.remoteCapability");

export function isRemoteCapability(value: object): boolean {
  return (value as { [remoteCapability]?: boolean })[remoteCapability] === true;
}

const forbidden = new Set(["constructor", "then", "catch", "finally", "__proto__"]);

/** The method an RpcTarget exposes under `name`: defined on its class, below RpcTarget/Object. */
export function targetMethod(target: object, name: unknown): ((...args: unknown[]) => unknown) | undefined {
  if (typeof name !== "string" || forbidden.has(name)) return undefined;
  if (isRemoteCapability(target)) {
    const fn = (target as Record<string, unknown>)[name];
    return typeof fn === "function" ? (fn as (...args: unknown[]) => unknown) : undefined;
  }
  for (let proto = Object.getPrototypeOf(target); proto !== null && proto !== RpcTarget.prototype && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, name);
    if (descriptor === undefined) continue;
    if (typeof descriptor.value === "function") return descriptor.value as (...args: unknown[]) => unknown;
    if (typeof descriptor.get === "function") {
      const get = descriptor.get;
      return function (this: object) {
        return get.call(this);
      };
    }
    return undefined;
  }
  return undefined;
}
