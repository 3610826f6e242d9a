// File, per the File API: a Blob with a name and a modification time.

import { brandPlatformObject } from "../platform.ts";
import { Blob, convertBlobParts, initializeBlob, normalizeBlobType, processBlobParts } from "./blob.ts";
import { requireArguments, toDictionary, toDomString, toEnum, toLongLong, toUsvString } from "./webidl.ts";
import { primordials, SymbolToStringTag } from "../primordials.ts";



// The sandbox's Date is the frozen clock, so a File made while code runs gets the time of the
// call that started it. Read once: later changes to the global do not reach Files.
const now: () => number = Date.now;

export interface FilePropertyBag {
  type?: string;
  endings?: "transparent" | "native";
  lastModified?: number;
}

let hasFileBrand: (value: object) => boolean;

export class File extends Blob {
  #name: string;
  #lastModified: number;

  static {
    hasFileBrand = (value) => #name in value;
  }

  constructor(fileBits: unknown, fileName: unknown, options: unknown = undefined) {
    requireArguments(arguments.length, 2, "'File' constructor");
    // Web IDL converts every argument before the constructor's steps run, in order.
    const parts = convertBlobParts(fileBits);
    const name = toUsvString(fileName);
    const bag = toDictionary(options, "FilePropertyBag");
    const endings = bag.endings === undefined ? "transparent" : toEnum(bag.endings, ["transparent", "native"] as const, "FilePropertyBag.endings");
    const lastModified = bag.lastModified === undefined ? undefined : toLongLong(bag.lastModified);
    const type = bag.type === undefined ? "" : toDomString(bag.type);
    super();
    brandPlatformObject(this, "File");
    initializeBlob(this, processBlobParts(parts, endings), normalizeBlobType(type));
    this.#name = name;
    this.#lastModified = lastModified ?? now();
  }

  get name(): string {
    return this.#name;
  }

  get lastModified(): number {
    return this.#lastModified;
  }

  get [SymbolToStringTag](): string {
    return "File";
  }
}

export function isFile(value: unknown): value is File {
  return typeof value === "object" && value !== null && hasFileBrand(value);
}
