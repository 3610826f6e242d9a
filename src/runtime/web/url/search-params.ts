// URLSearchParams (WHATWG URL §6) and the application/x-www-form-urlencoded parser and serializer.

import { brandPlatformObject } from "../../platform.ts";
import { decodeUtf8WithoutBom, encodeUtf8 } from "../encoding.ts";
import { requireArguments, toUsvString } from "../webidl.ts";
import { pairIterators, type PairIterator } from "../pair-iterator.ts";
import { primordials, SymbolIterator, SymbolToStringTag } from "../../primordials.ts";

const { Map, MapPrototypeGet, MapPrototypeSet, ArrayPrototypeFilter, ArrayPrototypeFind, ArrayPrototypeFindIndex, ArrayPrototypeJoin, ArrayPrototypeMap, ArrayPrototypePush, ArrayPrototypePushApply, ArrayPrototypeSome, ArrayPrototypeSort, ArrayPrototypeSplice, IterableToArray, ReflectApply, ReflectGetOwnPropertyDescriptor, ReflectOwnKeys, RegExpPrototypeSymbolReplace, StringFromCharCode, StringPrototypeIndexOf, StringPrototypeSlice, StringPrototypeSplit, StringPrototypeStartsWith, TypeError, TypedArrayPrototypeGetLength, TypedArrayPrototypeSubarray, Uint8Array, WeakMap, WeakMapPrototypeGet, WeakMapPrototypeSet } = primordials;

const HEX = "0123456789ABCDEF";

/** Percent-decodes a string to bytes, as the spec's "percent-decode" does (invalid escapes stay). */
function percentDecode(text: string): Uint8Array {
  const input = encodeUtf8(text);
  const output = new Uint8Array(TypedArrayPrototypeGetLength(input));
  let length = 0;
  for (let i = 0; i < TypedArrayPrototypeGetLength(input); i++) {
    const byte = input[i];
    if (byte === 0x25 && i + 2 < TypedArrayPrototypeGetLength(input) + 0 && isHex(input[i + 1]) && isHex(input[i + 2])) {
      output[length++] = (hexValue(input[i + 1]) << 4) | hexValue(input[i + 2]);
      i += 2;
    } else {
      output[length++] = byte;
    }
  }
  return TypedArrayPrototypeSubarray(output, 0, length);
}

function isHex(byte: number | undefined): boolean {
  return byte !== undefined && ((byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66));
}

function hexValue(byte: number): number {
  return byte <= 0x39 ? byte - 0x30 : (byte | 0x20) - 0x57;
}

export function parseUrlEncoded(input: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i3 = 0, a3 = StringPrototypeSplit(input, "&"); i3 < a3.length; i3++) {
    const sequence = a3[i3];
    if (sequence === "") continue;
    const at = StringPrototypeIndexOf(sequence, "=");
    const name = at === -1 ? sequence : StringPrototypeSlice(sequence, 0, at);
    const value = at === -1 ? "" : StringPrototypeSlice(sequence, at + 1);
    // "UTF-8 decode without BOM": a leading U+FEFF is part of the name or value.
    ArrayPrototypePush(pairs, [decodeUtf8WithoutBom(percentDecode(RegExpPrototypeSymbolReplace(/\+/g, name, " "))), decodeUtf8WithoutBom(percentDecode(RegExpPrototypeSymbolReplace(/\+/g, value, " ")))]);
  }
  return pairs;
}

function serializeComponent(text: string): string {
  let out = "";
  for (let i4 = 0, a4 = encodeUtf8(text); i4 < TypedArrayPrototypeGetLength(a4); i4++) {
    const byte = a4[i4];
    if ((byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || byte === 0x2a || byte === 0x2d || byte === 0x2e || byte === 0x5f) {
      out += StringFromCharCode(byte);
    } else if (byte === 0x20) {
      out += "+";
    } else {
      out += "%" + HEX[byte >> 4] + HEX[byte & 15];
    }
  }
  return out;
}

export function serializeUrlEncoded(pairs: readonly (readonly [string, string])[]): string {
  return ArrayPrototypeJoin(ArrayPrototypeMap(pairs, (d0) => { const name = d0[0], value = d0[1]; return `${serializeComponent(name)}=${serializeComponent(value)}`; }), "&");
}

export { toUsvString };

const listOf = new WeakMap<URLSearchParams, [string, string][]>();
const onUpdate = new WeakMap<URLSearchParams, (serialized: string) => void>();

function list(params: URLSearchParams): [string, string][] {
  const value = WeakMapPrototypeGet(listOf, params);
  if (value === undefined) throw new TypeError("Illegal invocation");
  return value;
}

function update(params: URLSearchParams): void {
  WeakMapPrototypeGet(onUpdate, params)?.(serializeUrlEncoded(list(params)));
}

type Init = string | Iterable<Iterable<unknown>> | Record<string, unknown> | URLSearchParams;

export class URLSearchParams {
  constructor(init: Init = "") {
    brandPlatformObject(this, "URLSearchParams");
    const pairs: [string, string][] = [];
    WeakMapPrototypeSet(listOf, this, pairs);
    // WebIDL's (sequence<sequence<USVString>> or record<USVString, USVString> or USVString): an
    // object with an @@iterator method is a sequence (a URLSearchParams too, through its own
    // iterator), any other object a record.
    if ((init !== null && typeof init === "object") || typeof init === "function") {
      const method = (init as Record<symbol, unknown>)[SymbolIterator];
      if (method !== undefined && method !== null) {
        if (typeof method !== "function") throw new TypeError("Failed to construct 'URLSearchParams': The provided value is not iterable.");
        const iterator = ReflectApply(method, init, []) as Iterator<unknown>;
        if (iterator === null || (typeof iterator !== "object" && typeof iterator !== "function")) throw new TypeError("Failed to construct 'URLSearchParams': the iterator is not an object.");
        const next = iterator.next;
        for (;;) {
          const step = ReflectApply(next, iterator, []) as IteratorResult<unknown>;
          if (step === null || (typeof step !== "object" && typeof step !== "function")) throw new TypeError("Failed to construct 'URLSearchParams': the iterator result is not an object.");
          if (step.done) break;
          const pair = step.value;
          if (pair === null || (typeof pair !== "object" && typeof pair !== "function")) throw new TypeError("Failed to construct 'URLSearchParams': Each query pair must be an iterable [name, value] tuple.");
          const items = IterableToArray(pair as Iterable<unknown>);
          if (items.length !== 2) throw new TypeError("Failed to construct 'URLSearchParams': Each query pair must be an iterable [name, value] tuple.");
          ArrayPrototypePush(pairs, [toUsvString(items[0]), toUsvString(items[1])]);
        }
      } else {
        // A record: keys are converted to USVStrings first, so two keys that differ only in lone
        // surrogates are one key, at the first one's place with the last one's value. An
        // enumerable symbol key is a TypeError (its conversion to a string).
        const at = new Map<string, number>();
        for (let i7 = 0, a7 = ReflectOwnKeys(init as object); i7 < a7.length; i7++) {
          const key = a7[i7];
          const descriptor = ReflectGetOwnPropertyDescriptor(init as object, key);
          if (descriptor === undefined || !descriptor.enumerable) continue;
          const name = toUsvString(key);
          const value = toUsvString((init as Record<PropertyKey, unknown>)[key]);
          const index = MapPrototypeGet(at, name);
          if (index === undefined) {
            MapPrototypeSet(at, name, pairs.length);
            ArrayPrototypePush(pairs, [name, value]);
          } else pairs[index][1] = value;
        }
      }
    } else {
      let text = toUsvString(init);
      if (StringPrototypeStartsWith(text, "?")) text = StringPrototypeSlice(text, 1);
      ArrayPrototypePushApply(pairs, parseUrlEncoded(text));
    }
  }

  get size(): number {
    return list(this).length;
  }

  append(name: string, value: string): void {
    requireArguments(arguments.length, 2, "URLSearchParams.append");
    ArrayPrototypePush(list(this), [toUsvString(name), toUsvString(value)]);
    update(this);
  }

  delete(name: string, value?: string): void {
    requireArguments(arguments.length, 1, "URLSearchParams.delete");
    const key = toUsvString(name);
    const only = value === undefined ? undefined : toUsvString(value);
    const pairs = list(this);
    for (let i = pairs.length - 1; i >= 0; i--) if (pairs[i][0] === key && (only === undefined || pairs[i][1] === only)) ArrayPrototypeSplice(pairs, i, 1);
    update(this);
  }

  get(name: string): string | null {
    requireArguments(arguments.length, 1, "URLSearchParams.get");
    const key = toUsvString(name);
    return ArrayPrototypeFind(list(this), (pair) => pair[0] === key)?.[1] ?? null;
  }

  getAll(name: string): string[] {
    requireArguments(arguments.length, 1, "URLSearchParams.getAll");
    const key = toUsvString(name);
    return ArrayPrototypeMap(ArrayPrototypeFilter(list(this), (pair) => pair[0] === key), (pair) => pair[1]);
  }

  has(name: string, value?: string): boolean {
    requireArguments(arguments.length, 1, "URLSearchParams.has");
    const key = toUsvString(name);
    const only = value === undefined ? undefined : toUsvString(value);
    return ArrayPrototypeSome(list(this), (pair) => pair[0] === key && (only === undefined || pair[1] === only));
  }

  set(name: string, value: string): void {
    requireArguments(arguments.length, 2, "URLSearchParams.set");
    const key = toUsvString(name);
    const text = toUsvString(value);
    const pairs = list(this);
    const first = ArrayPrototypeFindIndex(pairs, (pair) => pair[0] === key);
    if (first === -1) ArrayPrototypePush(pairs, [key, text]);
    else {
      pairs[first][1] = text;
      for (let i = pairs.length - 1; i > first; i--) if (pairs[i][0] === key) ArrayPrototypeSplice(pairs, i, 1);
    }
    update(this);
  }

  sort(): void {
    const pairs = list(this);
    // Array.prototype.sort is stable, and < compares UTF-16 code units as the spec asks.
    ArrayPrototypeSort(pairs, (a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    update(this);
  }

  forEach(callback: (value: string, name: string, params: URLSearchParams) => void, thisArg?: unknown): void {
    if (typeof callback !== "function") throw new TypeError("URLSearchParams.forEach: the callback is not a function.");
    const pairs = list(this);
    for (let i = 0; i < pairs.length; i++) ReflectApply(callback, thisArg, [pairs[i][1], pairs[i][0], this]);
  }

  keys(): PairIterator<string> {
    return searchParamsIterator(checked(this), "key");
  }

  values(): PairIterator<string> {
    return searchParamsIterator(checked(this), "value");
  }

  entries(): PairIterator<[string, string]> {
    return searchParamsIterator(checked(this), "key+value");
  }

  [SymbolIterator](): PairIterator<[string, string]> {
    return this.entries();
  }

  toString(): string {
    return serializeUrlEncoded(list(this));
  }

  get [SymbolToStringTag](): string {
    return "URLSearchParams";
  }
}

/** `params`, once it is known to be a URLSearchParams (else the TypeError "Illegal invocation"). */
function checked(params: URLSearchParams): URLSearchParams {
  list(params);
  return params;
}

/** Web IDL pair iterators ("URLSearchParams Iterator"): each next() reads the live list. */
const searchParamsIterator = pairIterators<URLSearchParams, string, string>("URLSearchParams Iterator", list);

/** Ties a URL's searchParams to the URL: the URL refills the list; edits update the URL. */
export function linkSearchParams(params: URLSearchParams, onChange: (serialized: string) => void): void {
  WeakMapPrototypeSet(onUpdate, params, onChange);
}

export function resetSearchParams(params: URLSearchParams, query: string): void {
  const pairs = list(params);
  pairs.length = 0;
  ArrayPrototypePushApply(pairs, parseUrlEncoded(query));
}
