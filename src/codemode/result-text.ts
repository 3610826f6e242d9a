// A tool result as JSON text, written only as far as the model will read it. What
// `JSON.stringify(result, jsonReplacer)` writes, except that it stops past `maxChars`: a sandbox's
// result can weigh little and write a lot (a sparse array of length 2^26 wrote 2^26 `null`s on the
// server's thread for 28 s, a typed array its whole base64), and the tool result keeps only its
// first `maxChars` anyway. Every value visited writes at least one character, so the walk is
// bounded by `maxChars` too.

import { isRemoteCapability } from "../rpc/rpc-target.ts";
import { jsonReplacer } from "./search.ts";

/** Thrown inside the walk once the text is long enough. */
const ENOUGH = Symbol("enough");
/** A value JSON leaves out of an object (and writes as null in an array). */
const OMIT = Symbol("omit");

export interface BoundedJson {
  /** The JSON (undefined where JSON.stringify would give undefined: a function, undefined), or its first `maxChars` characters and a bit more. */
  text: string | undefined;
  /** True when the text stops short of the whole value. */
  cut: boolean;
}

export function boundedJson(value: unknown, maxChars: number): BoundedJson {
  const parts: string[] = [];
  let length = 0;
  const write = (part: string) => {
    parts.push(part);
    length += part.length;
    if (length > maxChars) throw ENOUGH;
  };
  /** How much of a long string or byte run is worth writing: the rest would be cut. */
  const room = () => Math.max(0, maxChars - length) + 1;
  const open = new Set<object>();

  /** What JSON.stringify writes for `item` after toJSON and the replacer: OMIT for what it leaves out (a function, undefined). */
  const prepare = (key: string, item: unknown): unknown => {
    if (item instanceof Date) return Number.isNaN(item.getTime()) ? null : item.toISOString();
    // Bytes are written below, only as many as fit.
    if (item instanceof ArrayBuffer || ArrayBuffer.isView(item)) return item;
    // A capability is a function to JSON, which leaves it out (JSON.stringify would call a stub's toJSON in the sandbox).
    if (typeof item === "object" && item !== null && isRemoteCapability(item)) return OMIT;
    const mapped = jsonReplacer(key, item);
    if (mapped instanceof Number || mapped instanceof String || mapped instanceof Boolean) return mapped.valueOf();
    return mapped === undefined || typeof mapped === "function" || typeof mapped === "symbol" ? OMIT : mapped;
  };

  const writeValue = (item: unknown): void => {
    if (item === null) return write("null");
    if (typeof item === "string") return write(JSON.stringify(item.length > room() ? item.slice(0, room()) : item));
    if (typeof item === "number") return write(Number.isFinite(item) ? String(item) : "null");
    if (typeof item === "boolean") return write(item ? "true" : "false");
    if (typeof item === "bigint") throw new TypeError("Do not know how to serialize a BigInt");
    if (item instanceof ArrayBuffer || ArrayBuffer.isView(item)) {
      // jsonReplacer's {bytes: base64}, of the bytes that fit.
      const view = item instanceof ArrayBuffer ? new Uint8Array(item) : new Uint8Array(item.buffer, item.byteOffset, item.byteLength);
      const shown = Math.min(view.length, Math.ceil((room() * 3) / 4) + 3);
      write('{"bytes":"');
      write(Buffer.from(view.buffer, view.byteOffset, shown).toString("base64"));
      return write('"}');
    }
    const object = item as object;
    if (open.has(object)) throw new TypeError("Converting circular structure to JSON");
    open.add(object);
    if (Array.isArray(object)) {
      write("[");
      // Index by index up to length, as JSON.stringify does: a hole is `null`, 4 characters or more each.
      for (let index = 0; index < object.length; index++) {
        if (index > 0) write(",");
        const element = prepare(String(index), object[index]);
        writeValue(element === OMIT ? null : element);
      }
      write("]");
    } else {
      write("{");
      let first = true;
      for (const name of Object.keys(object)) {
        const entry = prepare(name, (object as Record<string, unknown>)[name]);
        if (entry === OMIT) continue;
        write(`${first ? "" : ","}${JSON.stringify(name)}:`);
        first = false;
        writeValue(entry);
      }
      write("}");
    }
    open.delete(object);
  };

  try {
    const root = prepare("", value);
    if (root === OMIT) return { text: undefined, cut: false };
    writeValue(root);
    return { text: parts.join(""), cut: false };
  } catch (error) {
    if (error !== ENOUGH) throw error;
    return { text: parts.join(""), cut: true };
  }
}
