// islet's own classes' methods and accessors, captured when their module defines the class (before
// user code can see it): the runtime calls these rather than looking them up on the prototypes,
// where user code may have replaced them (SECURITY.md, P12).

import { primordials } from "../primordials.ts";

const { ReflectApply, ReflectGetOwnPropertyDescriptor } = primordials;

/** `prototype[key]` now, as a function of the receiver and the arguments. */
export function ownMethod<A extends unknown[], R>(prototype: object, key: PropertyKey): (self: unknown, ...args: A) => R {
  const method = ReflectGetOwnPropertyDescriptor(prototype, key)!.value as (...args: A) => R;
  return (self, ...args) => ReflectApply(method, self, args);
}

/** The getter of `prototype[key]` now, as a function of the receiver. */
export function ownGetter<R>(prototype: object, key: PropertyKey): (self: unknown) => R {
  const getter = ReflectGetOwnPropertyDescriptor(prototype, key)!.get as () => R;
  return (self) => ReflectApply(getter, self, []);
}
