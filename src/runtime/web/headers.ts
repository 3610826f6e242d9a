// Headers as the Fetch Standard defines them: an ordered header list that keeps the casing of
// the first occurrence of a name, and iterates "sorted and combined".

import { brandPlatformObject } from "../platform.ts";
import { pairIterators, type PairIterator } from "./pair-iterator.ts";
import { isHttpToken, requireArguments, toByteString } from "./webidl.ts";
import { ownMethod } from "./own.ts";
import { headersTooLarge, MAX_HEADER_BYTES } from "../../protocol/records.ts";
import { primordials, SymbolIterator, SymbolToStringTag } from "../primordials.ts";

const { ArrayPrototypeFilter, ArrayPrototypeFind, ArrayPrototypeJoin, ArrayPrototypePush, ArrayPrototypeSome, ArrayPrototypeSort, IterableToArray, ReflectApply, ReflectGetOwnPropertyDescriptor, ReflectOwnKeys, RegExpPrototypeExec, RegExpPrototypeSymbolReplace, Set, SetPrototypeAdd, SetPrototypeHas, StringPrototypeToLowerCase, TypeError } = primordials;

/** "immutable" is what Response.error(), Response.redirect() and fetch() results carry. */
export type HeadersGuard = "none" | "immutable";

export type HeadersInit = Iterable<Iterable<string>> | Record<string, string>;

interface HeaderEntry {
  lowerName: string;
  name: string;
  value: string;
}

let sortedAndCombined: (headers: Headers) => [string, string][];
let copyList: (from: Headers, to: Headers) => void;
let guardSlot: { get(headers: Headers): HeadersGuard; set(headers: Headers, guard: HeadersGuard): void };

export class Headers {
  #list: HeaderEntry[] = [];
  #guard: HeadersGuard = "none";
  // Iteration recomputes this on demand; any mutation drops it.
  #sorted: [string, string][] | null = null;

  static {
    sortedAndCombined = (headers) => headers.#sortAndCombine();
    copyList = (from, to) => {
      const list = from.#list;
      const copy: HeaderEntry[] = [];
      for (let i = 0; i < list.length; i++) copy[i] = { __proto__: null, lowerName: list[i].lowerName, name: list[i].name, value: list[i].value } as HeaderEntry;
      to.#list = copy;
      to.#sorted = null;
    };
    guardSlot = {
      get: (headers) => headers.#guard,
      set: (headers, guard) => {
        headers.#guard = guard;
      },
    };
  }

  constructor(init?: HeadersInit | Headers) {
    brandPlatformObject(this, "Headers");
    if (init !== undefined) this.#fill(init);
  }

  append(name: string, value: string): void {
    requireArguments(arguments.length, 2, "'append' on 'Headers'");
    const d7 = this.#validatePair(name, value), headerName = d7[0], headerValue = d7[1];
    this.#append(headerName, headerValue);
  }

  delete(name: string): void {
    requireArguments(arguments.length, 1, "'delete' on 'Headers'");
    const lowerName = StringPrototypeToLowerCase(validateName(name));
    this.#checkMutable();
    this.#list = ArrayPrototypeFilter(this.#list, (entry) => entry.lowerName !== lowerName);
    this.#sorted = null;
  }

  get(name: string): string | null {
    requireArguments(arguments.length, 1, "'get' on 'Headers'");
    const lowerName = StringPrototypeToLowerCase(validateName(name));
    const values = this.#valuesOf(lowerName);
    return values.length === 0 ? null : ArrayPrototypeJoin(values, ", ");
  }

  getSetCookie(): string[] {
    return this.#valuesOf("set-cookie");
  }

  has(name: string): boolean {
    requireArguments(arguments.length, 1, "'has' on 'Headers'");
    const lowerName = StringPrototypeToLowerCase(validateName(name));
    return ArrayPrototypeSome(this.#list, (entry) => entry.lowerName === lowerName);
  }

  set(name: string, value: string): void {
    requireArguments(arguments.length, 2, "'set' on 'Headers'");
    const d8 = this.#validatePair(name, value), headerName = d8[0], headerValue = d8[1];
    const lowerName = StringPrototypeToLowerCase(headerName);
    const first = ArrayPrototypeFind(this.#list, (entry) => entry.lowerName === lowerName);
    if (first === undefined) {
      ArrayPrototypePush(this.#list, { lowerName, name: headerName, value: headerValue });
    } else {
      first.value = headerValue;
      this.#list = ArrayPrototypeFilter(this.#list, (entry) => entry === first || entry.lowerName !== lowerName);
    }
    this.#sorted = null;
  }

  forEach(callback: (value: string, name: string, headers: Headers) => void, thisArg?: unknown): void {
    requireArguments(arguments.length, 1, "'forEach' on 'Headers'");
    if (typeof callback !== "function") throw new TypeError("Headers.forEach: the callback must be a function.");
    // Web IDL re-reads the pairs after every callback, so mutations during the loop are seen.
    for (let index = 0, pairs = this.#sortAndCombine(); index < pairs.length; index++, pairs = this.#sortAndCombine()) {
      const d9 = pairs[index], name = d9[0], value = d9[1];
      ReflectApply(callback, thisArg, [value, name, this]);
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
      const pairs = IterableToArray(source as unknown as Iterable<unknown>);
      for (let i = 0; i < pairs.length; i++) {
        const items = toSequence(pairs[i]);
        if (items.length !== 2) throw new TypeError("Each header pair must be exactly [name, value].");
        const pair = this.#validatePair(toByteString(items[0]), toByteString(items[1]));
        this.#append(pair[0], pair[1]);
      }
      return;
    }
    for (let i36 = 0, a36 = ReflectOwnKeys(source); i36 < a36.length; i36++) {
      const key = a36[i36];
      const descriptor = ReflectGetOwnPropertyDescriptor(source, key);
      if (descriptor === undefined || !descriptor.enumerable) continue;
      const pair = this.#validatePair(toByteString(key), toByteString(source[key]));
      this.#append(pair[0], pair[1]);
    }
  }

  #validatePair(name: unknown, value: unknown): [string, string] {
    const headerName = validateName(name);
    const headerValue = RegExpPrototypeSymbolReplace(/^[\t\n\r ]+|[\t\n\r ]+$/g, toByteString(value), "");
    if ((RegExpPrototypeExec(/[\0\r\n]/, headerValue) !== null)) throw new TypeError(`Invalid value for header "${headerName}".`);
    this.#checkMutable();
    return [headerName, headerValue];
  }

  #checkMutable(): void {
    if (this.#guard === "immutable") throw new TypeError("These headers are immutable.");
  }

  #append(name: string, value: string): void {
    const lowerName = StringPrototypeToLowerCase(name);
    // The list keeps the casing of the first header with this name.
    const first = ArrayPrototypeFind(this.#list, (entry) => entry.lowerName === lowerName);
    ArrayPrototypePush(this.#list, { lowerName, name: first === undefined ? name : first.name, value });
    this.#sorted = null;
  }

  #valuesOf(lowerName: string): string[] {
    const values: string[] = [];
    for (let i37 = 0, a37 = this.#list; i37 < a37.length; i37++) {
      const entry = a37[i37];
      if (entry.lowerName === lowerName) ArrayPrototypePush(values, entry.value);
    }
    return values;
  }

  #sortAndCombine(): [string, string][] {
    if (this.#sorted !== null) return this.#sorted;
    const unique = new Set<string>();
    const names: string[] = [];
    for (let i = 0; i < this.#list.length; i++) {
      const lowerName = this.#list[i].lowerName;
      if (!SetPrototypeHas(unique, lowerName)) {
        SetPrototypeAdd(unique, lowerName);
        ArrayPrototypePush(names, lowerName);
      }
    }
    ArrayPrototypeSort(names);
    const pairs: [string, string][] = [];
    for (let i38 = 0, a38 = names; i38 < a38.length; i38++) {
      const name = a38[i38];
      const values = this.#valuesOf(name);
      if (name === "set-cookie") for (let i39 = 0, a39 = values; i39 < a39.length; i39++) {
        const value = a39[i39];
        ArrayPrototypePush(pairs, [name, value]);
      }
      else ArrayPrototypePush(pairs, [name, ArrayPrototypeJoin(values, ", ")]);
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

// Captured now, before user code can see Headers (see own.ts).
export const headersAppend = ownMethod<[string, string], void>(Headers.prototype, "append");
export const headersDelete = ownMethod<[string], void>(Headers.prototype, "delete");
export const headersGet = ownMethod<[string], string | null>(Headers.prototype, "get");
export const headersHas = ownMethod<[string], boolean>(Headers.prototype, "has");

function toSequence(value: unknown): unknown[] {
  if (value === null || typeof value !== "object" || typeof (value as Iterable<unknown>)[SymbolIterator] !== "function") {
    throw new TypeError("Each header pair must be an iterable [name, value].");
  }
  return IterableToArray(value as Iterable<unknown>);
}

/** The sorted and combined name/value pairs, as iteration yields them: a new array of new pairs. */
export function headerPairs(headers: Headers, what = "a request or response", statusText = ""): [string, string][] {
  const pairs = sortedAndCombined(headers);
  const copy: [string, string][] = [];
  // At most MAX_HEADER_BYTES cross (each value counts, however many headers share one string), a
  // response's status text with them.
  let total = statusText.length;
  if (total > MAX_HEADER_BYTES) throw headersTooLarge(what);
  for (let i = 0; i < pairs.length; i++) {
    total += pairs[i][0].length + pairs[i][1].length;
    if (total > MAX_HEADER_BYTES) throw headersTooLarge(what);
    copy[i] = [pairs[i][0], pairs[i][1]];
  }
  return copy;
}

/** A copy of `headers`' list (the standard's "copy of a header list"): not iterated, so not through Headers.prototype. */
export function copyHeaders(headers: Headers): Headers {
  const copy = new Headers();
  copyList(headers, copy);
  return copy;
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
