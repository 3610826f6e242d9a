// FormData, per the XMLHttpRequest Standard, without the HTMLFormElement constructor argument
// (there are no forms in a worker).

import { brandPlatformObject } from "../platform.ts";
import { isBlob, type Blob } from "./blob.ts";
import { File, isFile } from "./file.ts";
import { pairIterators, type PairIterator } from "./pair-iterator.ts";
import { requireArguments, toUsvString } from "./webidl.ts";
import { primordials, SymbolIterator, SymbolToStringTag } from "../primordials.ts";

const { ArrayPrototypeFilter, ArrayPrototypeFind, ArrayPrototypeFindIndex, ArrayPrototypeMap, ArrayPrototypePush, ArrayPrototypeSome, ReflectApply, TypeError } = primordials;

export type FormDataEntryValue = string | File;
export type FormDataEntry = [name: string, value: FormDataEntryValue];

let entriesOf: (formData: FormData) => FormDataEntry[];
let setEntries: (formData: FormData, entries: FormDataEntry[]) => void;
let hasFormDataBrand: (value: object) => boolean;

export class FormData {
  #entries: FormDataEntry[] = [];

  static {
    entriesOf = (formData) => formData.#entries;
    setEntries = (formData, entries) => {
      formData.#entries = entries;
    };
    hasFormDataBrand = (value) => #entries in value;
  }

  constructor(form: unknown = undefined) {
    brandPlatformObject(this, "FormData");
    if (form !== undefined) throw new TypeError("Failed to construct 'FormData': parameter 1 is not of type 'HTMLFormElement'.");
  }

  append(name: string, value: string | Blob, filename?: string): void {
    requireArguments(arguments.length, 2, "'append' on 'FormData'");
    ArrayPrototypePush(this.#entries, createEntry("append", arguments.length, name, value, filename));
  }

  delete(name: string): void {
    requireArguments(arguments.length, 1, "'delete' on 'FormData'");
    const key = toUsvString(name);
    this.#entries = ArrayPrototypeFilter(this.#entries, (entry) => entry[0] !== key);
  }

  get(name: string): FormDataEntryValue | null {
    requireArguments(arguments.length, 1, "'get' on 'FormData'");
    const key = toUsvString(name);
    return ArrayPrototypeFind(this.#entries, (entry) => entry[0] === key)?.[1] ?? null;
  }

  getAll(name: string): FormDataEntryValue[] {
    requireArguments(arguments.length, 1, "'getAll' on 'FormData'");
    const key = toUsvString(name);
    return ArrayPrototypeMap(ArrayPrototypeFilter(this.#entries, (entry) => entry[0] === key), (entry) => entry[1]);
  }

  has(name: string): boolean {
    requireArguments(arguments.length, 1, "'has' on 'FormData'");
    const key = toUsvString(name);
    return ArrayPrototypeSome(this.#entries, (entry) => entry[0] === key);
  }

  set(name: string, value: string | Blob, filename?: string): void {
    requireArguments(arguments.length, 2, "'set' on 'FormData'");
    const entry = createEntry("set", arguments.length, name, value, filename);
    const first = ArrayPrototypeFindIndex(this.#entries, (existing) => existing[0] === entry[0]);
    if (first === -1) {
      ArrayPrototypePush(this.#entries, entry);
      return;
    }
    this.#entries = ArrayPrototypeFilter(this.#entries, (existing, index) => index <= first || existing[0] !== entry[0]);
    this.#entries[first] = entry;
  }

  forEach(callback: (value: FormDataEntryValue, name: string, formData: FormData) => void, thisArg?: unknown): void {
    requireArguments(arguments.length, 1, "'forEach' on 'FormData'");
    if (typeof callback !== "function") throw new TypeError("Failed to execute 'forEach' on 'FormData': parameter 1 is not a function.");
    // Re-read after every callback, so that entries added or removed meanwhile are seen.
    for (let index = 0; index < this.#entries.length; index++) {
      const d2 = this.#entries[index], name = d2[0], value = d2[1];
      ReflectApply(callback, thisArg, [value, name, this]);
    }
  }

  entries(): PairIterator<FormDataEntry> {
    return formDataIterator(this, "key+value");
  }

  keys(): PairIterator<string> {
    return formDataIterator(this, "key");
  }

  values(): PairIterator<FormDataEntryValue> {
    return formDataIterator(this, "value");
  }

  [SymbolIterator](): PairIterator<FormDataEntry> {
    return this.entries();
  }

  get [SymbolToStringTag](): string {
    return "FormData";
  }
}

const formDataIterator = pairIterators<FormData, string, FormDataEntryValue>("FormData Iterator", (formData) => entriesOf(formData));

/**
 * Overload resolution and the standard's "create an entry": with three arguments only the Blob
 * overload applies; a Blob becomes a File named "blob", and a filename renames a File.
 */
function createEntry(operation: string, argumentCount: number, name: unknown, value: unknown, filename: unknown): FormDataEntry {
  const key = toUsvString(name);
  if (argumentCount < 3 && !isBlob(value)) return [key, toUsvString(value)];
  if (!isBlob(value)) throw new TypeError(`Failed to execute '${operation}' on 'FormData': parameter 2 is not of type 'Blob'.`);
  const newName = filename === undefined ? undefined : toUsvString(filename);
  if (!isFile(value)) return [key, new File([value], newName ?? "blob", { type: value.type })];
  if (newName === undefined) return [key, value];
  return [key, new File([value], newName, { type: value.type, lastModified: value.lastModified })];
}

export function isFormData(value: unknown): value is FormData {
  return typeof value === "object" && value !== null && hasFormDataBrand(value);
}

/** The entry list itself, for serializing a body: callers must not change it. */
export function formDataEntries(formData: FormData): readonly FormDataEntry[] {
  return entriesOf(formData);
}

/** A FormData holding `entries` (a parsed body); it takes the array over. */
export function formDataFromEntries(entries: FormDataEntry[]): FormData {
  const formData = new FormData();
  setEntries(formData, entries);
  return formData;
}
