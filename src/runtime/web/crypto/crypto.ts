// The Crypto interface (WebCrypto §10): the one `crypto` object of the global scope.

import { brandPlatformObject } from "../../platform.ts";
import { requireArguments } from "../webidl.ts";
import { getRandomValues, randomUUID } from "./random.ts";
import { subtle, type SubtleCrypto } from "./subtle.ts";
import { primordials, SymbolToStringTag } from "../../primordials.ts";

const { ObjectDefineProperty, TypeError } = primordials;

let token = false;

export class Crypto {
  constructor() {
    if (!token) throw new TypeError("Illegal constructor");
    brandPlatformObject(this, "Crypto");
  }
  get subtle(): SubtleCrypto {
    brand(this);
    return subtle;
  }
  getRandomValues<T extends ArrayBufferView | null>(array: T): T {
    brand(this);
    requireArguments(arguments.length, 1, "'getRandomValues' on 'Crypto'");
    return getRandomValues(array);
  }
  randomUUID(): string {
    brand(this);
    return randomUUID();
  }
}

for (let i13 = 0, a13 = ["subtle", "getRandomValues", "randomUUID"]; i13 < a13.length; i13++) {
  const name = a13[i13];
  ObjectDefineProperty(Crypto.prototype, name, { enumerable: true });
}
ObjectDefineProperty(Crypto.prototype, SymbolToStringTag, { value: "Crypto", configurable: true });

export const crypto = (() => {
  token = true;
  const instance = new Crypto();
  token = false;
  return instance;
})();

function brand(self: unknown): void {
  if (self !== crypto) throw new TypeError("Illegal invocation");
}
