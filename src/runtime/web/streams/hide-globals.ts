// Libraries bundled into a chunk take values from the global object when they load (or first
// need them) and keep them. A sandbox's globals belong to user code, which may have replaced them
// before the chunk loads, and reading one of islet's lazy globals would load another chunk. So a
// chunk puts its own values in place while its modules run, then gives the globals back. (Index
// loops and null-prototype descriptors: this runs after user code, which may have replaced the
// array iterator or added `get` to Object.prototype.)

import { primordials } from "../../primordials.ts";

const { ReflectDefineProperty, ReflectDeleteProperty, ReflectGetOwnPropertyDescriptor, ReflectOwnKeys, ReflectSetPrototypeOf } = primordials;

/** Replaces global properties with `replacements`; returns what puts them back exactly as they were. */
export function hideGlobals(replacements: Record<string, unknown>): () => void {
  const global = globalThis as Record<string, unknown>;
  const names = ReflectOwnKeys(replacements) as string[];
  const saved: [string, PropertyDescriptor | undefined][] = [];
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const descriptor = ReflectGetOwnPropertyDescriptor(global, name);
    if (descriptor !== undefined && !descriptor.configurable) continue;
    if (descriptor !== undefined) ReflectSetPrototypeOf(descriptor, null);
    const replacement = { __proto__: null, value: replacements[name], writable: true, configurable: true } as PropertyDescriptor;
    if (ReflectDefineProperty(global, name, replacement)) saved[saved.length] = [name, descriptor];
  }
  return () => {
    for (let i = 0; i < saved.length; i++) {
      const name = saved[i][0];
      const descriptor = saved[i][1];
      if (descriptor === undefined) ReflectDeleteProperty(global, name);
      else ReflectDefineProperty(global, name, descriptor);
    }
    saved.length = 0;
  };
}
