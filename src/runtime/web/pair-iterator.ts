// Web IDL "pair iterators" (Headers, FormData): each next() indexes into the owner's current
// list, so an iterator sees changes made while it runs, as in browsers and undici.

import { brandPlatformObject } from "../platform.ts";
import { primordials, SymbolIterator, SymbolToStringTag } from "../primordials.ts";

const { ArrayIteratorPrototype, ObjectDefineProperty, ObjectGetPrototypeOf, ObjectSetPrototypeOf } = primordials;

export type IterationKind = "key" | "value" | "key+value";

const IteratorPrototype: object = ObjectGetPrototypeOf(ArrayIteratorPrototype);

export interface PairIterator<T> {
  next(): IteratorResult<T, undefined>;
  [SymbolIterator](): PairIterator<T>;
}

/** A factory of iterators named `tag` (e.g. "Headers Iterator") over `pairsOf(owner)`. */
export function pairIterators<Owner, K, V>(
  tag: string,
  pairsOf: (owner: Owner) => readonly (readonly [K, V])[],
): <T>(owner: Owner, kind: IterationKind) => PairIterator<T> {
  class Iterator {
    readonly #owner: Owner;
    readonly #kind: IterationKind;
    #index = 0;

    constructor(owner: Owner, kind: IterationKind) {
      brandPlatformObject(this, tag);
      this.#owner = owner;
      this.#kind = kind;
    }

    next(): IteratorResult<unknown, undefined> {
      const pairs = pairsOf(this.#owner);
      if (this.#index >= pairs.length) return { value: undefined, done: true };
      const d6 = pairs[this.#index++], key = d6[0], value = d6[1];
      return { value: this.#kind === "key" ? key : this.#kind === "value" ? value : [key, value], done: false };
    }
  }
  // Web IDL's iterator prototype object: [[Prototype]] %IteratorPrototype%, an own `next` that is
  // writable, enumerable and configurable, an @@toStringTag, and no `constructor`.
  ObjectSetPrototypeOf(Iterator.prototype, IteratorPrototype);
  ObjectDefineProperty(Iterator.prototype, "next", { __proto__: null, enumerable: true } as PropertyDescriptor);
  delete (Iterator.prototype as { constructor?: unknown }).constructor;
  ObjectDefineProperty(Iterator.prototype, SymbolToStringTag, { __proto__: null, value: tag, configurable: true } as PropertyDescriptor);
  return <T>(owner: Owner, kind: IterationKind) => new Iterator(owner, kind) as unknown as PairIterator<T>;
}
