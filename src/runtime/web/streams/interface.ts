// Classes shaped the way Web IDL lays out an interface, as the ponyfill's classes already are:
// attributes and operations enumerable on the prototype, and SymbolToStringTag a read-only data
// property. JavaScript class syntax makes members non-enumerable.

import { primordials, SymbolToStringTag } from "../../primordials.ts";

const { ReflectDefineProperty, ReflectGetOwnPropertyDescriptor, ReflectOwnKeys } = primordials;

export function exposeInterface(constructor: { prototype: object }, name: string): void {
  const prototype = constructor.prototype;
  for (let i34 = 0, a34 = ReflectOwnKeys(prototype); i34 < a34.length; i34++) {
    const key = a34[i34];
    if (key === "constructor" || typeof key === "symbol") continue;
    const descriptor = ReflectGetOwnPropertyDescriptor(prototype, key)!;
    ReflectDefineProperty(prototype, key, { ...descriptor, enumerable: true });
  }
  ReflectDefineProperty(prototype, SymbolToStringTag, { value: name, writable: false, enumerable: false, configurable: true });
}
