// Heavier globals are installed as accessors that build the real value on first touch, so a
// sandbox that never uses them pays nothing for them at start.

import { primordials } from "../primordials.ts";

const { ObjectDefineProperty } = primordials;

/**
 * defineLazy for several names served by one chunk: one function per name serves as both getter
 * and setter, which keeps a fresh sandbox's global scope small (these are most of its globals).
 */
export function defineLazyFrom(global: object, names: readonly string[], load: () => object): void {
  for (let i83 = 0, a83 = names; i83 < a83.length; i83++) {
    const name = a83[i83];
    const accessor = function (value?: unknown): unknown {
      const resolved = arguments.length === 0 ? (load() as Record<string, unknown>)[name] : value;
      ObjectDefineProperty(global, name, { __proto__: null, value: resolved, writable: true, configurable: true, enumerable: false } as PropertyDescriptor);
      return resolved;
    };
    ObjectDefineProperty(global, name, { __proto__: null, configurable: true, enumerable: false, get: accessor, set: accessor } as PropertyDescriptor);
  }
}

export function defineLazy(global: object, name: string, init: () => unknown): void {
  ObjectDefineProperty(global, name, {
    __proto__: null,
    configurable: true,
    enumerable: false,
    get() {
      const value = init();
      ObjectDefineProperty(global, name, { __proto__: null, value, writable: true, configurable: true, enumerable: false } as PropertyDescriptor);
      return value;
    },
    set(value: unknown) {
      ObjectDefineProperty(global, name, { __proto__: null, value, writable: true, configurable: true, enumerable: false } as PropertyDescriptor);
    },
  } as PropertyDescriptor);
}

export function defineValue(global: object, name: string, value: unknown): void {
  // The core is minified without keepNames: a global function gets its own name back.
  if (typeof value === "function") ObjectDefineProperty(value, "name", { __proto__: null, value: name, configurable: true } as PropertyDescriptor);
  ObjectDefineProperty(global, name, { __proto__: null, value, writable: true, configurable: true, enumerable: false } as PropertyDescriptor);
}
