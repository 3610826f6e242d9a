// Every Proxy a sandbox makes, recorded as it is made, so that the boundary refuses it before it
// reads it. JavaScript cannot tell a Proxy from its target, and the boundary now reads a value
// into a snapshot of plain data before the copy (src/protocol/snapshot.ts): a Proxy read that way
// would cross as whatever its traps answered, where V8's serializer refused it. The global `Proxy`
// and `Proxy.revocable` are replaced by wrappers that call the originals (captured here, when the
// core boots, and never reachable from user code) and mark the result. Like most of the globals
// islet installs, it is made the first time the global is touched.
//
// The wrapper is a bound function: like the original it is a constructor without a `prototype`
// (`class extends Proxy` throws), and calling it without `new` is a TypeError.
//
// Each proxy is recorded with its target: the built-ins that loop over an array-like must know a
// proxy when they see one (array-likes.ts: a proxy's length can change between two reads, and one
// without traps forwards every lookup to its target without running any JavaScript), and follow
// it to its target when they measure a prototype chain.

import { primordials } from "../primordials.ts";

const { Proxy: RealProxy, ReflectApply, ReflectConstruct, ReflectDefineProperty, TypeError: TypeErrorCtor, WeakMap: WeakMapCtor, WeakMapPrototypeGet, WeakMapPrototypeSet } = primordials;

const bind = Function.prototype.bind;
const realRevocable = RealProxy.revocable;
const made = new WeakMapCtor<object, object>();

/** True for a Proxy that code in this sandbox made (the runtime's own stubs are not counted). */
export function isSandboxProxy(value: object): boolean {
  return WeakMapPrototypeGet(made, value) !== undefined;
}

/** The target a Proxy that code in this sandbox made was made with (revoked or not); undefined for anything else. */
export function proxyTarget(value: object): object | undefined {
  return WeakMapPrototypeGet(made, value);
}

/** The recording `Proxy` that replaces the global (installed on first touch, install.ts). */
export function recordingProxy(): ProxyConstructor {
  const construct = function Proxy(this: unknown, target: object, handler: ProxyHandler<object>): object {
    if (new.target === undefined) throw new TypeErrorCtor("Constructor Proxy requires 'new'");
    const proxy = ReflectConstruct(RealProxy, [target, handler]) as object;
    WeakMapPrototypeSet(made, proxy, target);
    return proxy;
  };
  // `x instanceof Proxy` reads the bound function's target's prototype: none, as the original's,
  // so that it throws the original's TypeError.
  ReflectDefineProperty(construct, "prototype", { __proto__: null, value: undefined } as PropertyDescriptor);
  const Proxy = ReflectApply(bind, construct, [undefined]) as ProxyConstructor;
  const revocable = {
    revocable(target: object, handler: ProxyHandler<object>) {
      const pair = ReflectApply(realRevocable, RealProxy, [target, handler]) as { proxy: object; revoke: () => void };
      // A fresh object of V8's with two own data properties: reading them runs no user code.
      WeakMapPrototypeSet(made, pair.proxy, target);
      return pair;
    },
  }.revocable;
  ReflectDefineProperty(Proxy, "name", { __proto__: null, value: "Proxy", configurable: true } as PropertyDescriptor);
  ReflectDefineProperty(Proxy, "length", { __proto__: null, value: 2, configurable: true } as PropertyDescriptor);
  ReflectDefineProperty(revocable, "name", { __proto__: null, value: "revocable", configurable: true } as PropertyDescriptor);
  ReflectDefineProperty(Proxy, "revocable", { __proto__: null, value: revocable, writable: true, configurable: true } as PropertyDescriptor);
  return Proxy;
}
