// Headers as the Fetch Standard defines them: an ordered header list that keeps the casing of
// the first occurrence of a name, and iterates "sorted and combined".

import { pairIterators, type PairIterator } from "./pair-iterator.ts";
import { isHttpToken, requireArguments, toByteString } from "./webidl.ts";
import { primordials, SymbolIterator, SymbolToStringTag } from "../primordials.ts";

const { ReflectGetOwnPropertyDescriptor, ReflectOwnKeys, Set, TypeError } = primordials;

/** "immutable" is what Response.error(), Response.redirect() and fetch() results carry. */
export type HeadersGuard = "none" | "immutable";

export type HeadersInit = Iterable<Iterable<string>> | Record<string, string>;

interface HeaderEntry {
  lowerName: string;
  name: string;
  value: string;
}

let sortedAndCombined: (headers: Headers) => [string, string][];
let guardSlot: { get(headers: Headers): HeadersGuard; set(headers: Headers, guard: HeadersGuard): void };

export class Headers {
  #list: HeaderEntry[] = [];
  #guard: HeadersGuard = "none";
  // Iteration recomputes this on demand; any mutation drops it.
  #sorted: [string, string][] | null = null;

  static {
    sortedAndCombined = (headers) => headers.#sortAndCombine();
    guardSlot = {
      get: (headers) => headers.#guard,
      set: (headers, guard) => {
        headers.#guard = guard;
      },
    };
  }

  constructor(init?: HeadersInit | Headers) {
    if (init !== undefined) this.#fill(init);
  }

  append(name: string, value: string): void {
    requireArguments(arguments.length, 2, "'append' on 'Headers'");
    const [headerName, headerValue] = this.#validatePair(name, value);
    this.#append(headerName, headerValue);
  }

  delete(name: string): void {
    requireArguments(arguments.length, 1, "'delete' on 'Headers'");
    const lowerName = validateName(name).toLowerCase();
    this.#checkMutable();
    this.#list = this.#list.filter((entry) => entry.lowerName !== lowerName);
    this.#sorted = null;
  }

  get(name: string): string | null {
    requireArguments(arguments.length, 1, "'get' on 'Headers'");
    const lowerName = validateName(name).toLowerCase();
    const values = this.#valuesOf(lowerName);
    return values.length === 0 ? null : values.join(", ");
  }

  getSetCookie(): string[] {
    return this.#valuesOf("set-cookie");
  }

  has(name: string): boolean {
    requireArguments(arguments.length, 1, "'has' on 'Headers'");
    const lowerName = validateName(name).toLowerCase();
    return this.#list.some((entry) => entry.lowerName === lowerName);
  }

  set(name: string, value: string): void {
    requireArguments(arguments.length, 2, "'set' on 'Headers'");
    const [headerName, headerValue] = this.#validatePair(name, value);
    const lowerName = headerName.toLowerCase();
    const first = this.#list.find((entry) => entry.lowerName === lowerName);
    if (first === undefined) {
      this.#list.push({ lowerName, name: headerName, value: headerValue });
    } else {
      first.value = headerValue;
      this.#list = this.#list.filter((entry) => entry === first || entry.lowerName !== lowerName);
    }
    this.#sorted = null;
  }

  forEach(callback: (value: string, name: string, headers: Headers) => void, thisArg?: unknown): void {
    requireArguments(arguments.length, 1, "'forEach' on 'Headers'");
    if (typeof callback !== "function") throw new TypeError("Headers.forEach: the callback must be a function.");
    // Web IDL re-reads the pairs after every callback, so mutations during the loop are seen.
    for (let index = 0, pairs = this.#sortAndCombine(); index < pairs.length; index++, pairs = this.#sortAndCombine()) {
      const [name, value] = pairs[index];
      callback.call(thisArg, value, name, this);
    }
  }

  entries(): HeadersIterator<[string, string]> {
    return headersIterator(this, "key+value");
  }

  keys(): HeadersIterator<string> {
    return headersIterator(this, "key");
  }

  values(): HeadersIterator<string> {
    return headersIterator(this, "value");
  }

  [SymbolIterator](): HeadersIterator<[string, string]> {
    return this.entries();
  }

  get [SymbolToStringTag](): string {
    return "Headers";
  }

  #fill(init: unknown): void {
    if (init === null || (typeof init !== "object" && typeof init !== "function")) {
      throw new TypeError("Headers init must be an object, an iterable of name/value pairs or a Headers object.");
    }
    const source = init as Record<PropertyKey, unknown>;
    if (source[SymbolIterator] !== undefined && source[SymbolIterator] !== null) {
      for (const pair of source as unknown as Iterable<unknown>) {
        const items = toSequence(pair);
        if (items.length !== 2) throw new TypeError("Each header pair must be exactly [name, value].");
        this.#append(...this.#validatePair(toByteString(items[0]), toByteString(items[1])));
      }
      return;
    }
    for (const key of ReflectOwnKeys(source)) {
      const descriptor = ReflectGetOwnPropertyDescriptor(source, key);
      if (descriptor === undefined || !descriptor.enumerable) continue;
      this.#append(...this.#validatePair(toByteString(key), toByteString(source[key])));
    }
  }

  #validatePair(name: unknown, value: unknown): [string, string] {
    const headerName = validateName(name);
    const headerValue = toByteString(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "");
    if (/[\0\r\n]/.test(headerValue)) throw new TypeError(`Invalid value for header "${headerName}".`);
    this.#checkMutable();
    return [headerName, headerValue];
  }

  #checkMutable(): void {
    if (this.#guard === "immutable") throw new TypeError("These headers are immutable.");
  }

  #append(name: string, value: string): void {
    const lowerName = name.toLowerCase();
    // The list keeps the casing of the first header with this name.
    const first = this.#list.find((entry) => entry.lowerName === lowerName);
    this.#list.push({ lowerName, name: first === undefined ? name : first.name, value });
    this.#sorted = null;
  }

  #valuesOf(lowerName: string): string[] {
    const values: string[] = [];
    for (const entry of this.#list) if (entry.lowerName === lowerName) values.push(entry.value);
    return values;
  }

  #sortAndCombine(): [string, string][] {
    if (this.#sorted !== null) return this.#sorted;
    const names = [...new Set(this.#list.map((entry) => entry.lowerName))].sort();
    const pairs: [string, string][] = [];
    for (const name of names) {
      const values = this.#valuesOf(name);
      if (name === "set-cookie") for (const value of values) pairs.push([name, value]);
      else pairs.push([name, values.join(", ")]);
    }
    this.#sorted = pairs;
    return pairs;
  }
}

function validateName(name: unknown): string {
  const headerName = toByteString(name);
  if (!isHttpToken(headerName)) throw new TypeError(`"${headerName}" is not a valid header name.`);
  return headerName;
}

function toSequence(value: unknown): unknown[] {
  if (value === null || typeof value !== "object" || typeof (value as Iterable<unknown>)[SymbolIterator] !== "function") {
    throw new TypeError("Each header pair must be an iterable [name, value].");
  }
  return [...(value as Iterable<unknown>)];
}

export function getHeadersGuard(headers: Headers): HeadersGuard {
  return guardSlot.get(headers);
}

export function setHeadersGuard(headers: Headers, guard: HeadersGuard): void {
  guardSlot.set(headers, guard);
}

/** A Web IDL pair iterator: it indexes into the live sorted list, so it sees later mutations. */
export type HeadersIterator<T> = PairIterator<T>;

const headersIterator = pairIterators<Headers, string, string>("Headers Iterator", (headers) => sortedAndCombined(headers));
