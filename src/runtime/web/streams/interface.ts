// Classes shaped the way Web IDL lays out an interface, as the ponyfill's classes already are:
// attributes and operations enumerable on the prototype, and Symbol.toStringTag a read-only data
// property. JavaScript class syntax makes members non-enumerable.

export function exposeInterface(constructor: { prototype: object }, name: string): void {
  const prototype = constructor.prototype;
  for (const key of Reflect.ownKeys(prototype)) {
    if (key === "constructor" || typeof key === "symbol") continue;
    const descriptor = Reflect.getOwnPropertyDescriptor(prototype, key)!;
    Reflect.defineProperty(prototype, key, { ...descriptor, enumerable: true });
  }
  Reflect.defineProperty(prototype, Symbol.toStringTag, { value: name, writable: false, enumerable: false, configurable: true });
}
