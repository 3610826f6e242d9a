// node:zlib over fflate (the compression chunk's NodeCodec, loaded on first use): deflate,
// inflate, deflateRaw, inflateRaw, gzip, gunzip and unzip in their Sync, callback and stream forms
// (Transform streams of node:stream), and crc32. Everything runs inside the sandbox, so its output
// is bounded by the sandbox's memory and its time by cpuMs; maxOutputLength bounds one call as in
// Node. Brotli and zstd have no codec here (islet has no dependency for either): those functions
// and classes throw ERR_METHOD_NOT_IMPLEMENTED.

/* eslint-disable @typescript-eslint/no-explicit-any */

import { Transform } from "./stream/core.ts";
import { invalidArgType, nodeError, outOfRange } from "./errors.ts";
import { nextTick } from "./process.ts";
import { concat, from as bufferFrom, isBuffer, kMaxLength } from "./buffer/buffer.ts";
import { compression } from "../platform.ts";
import { primordials } from "../primordials.ts";
import type { NodeCodec, NodeZlibMode } from "../web/streams/codecs/node-codec.ts";

const { ArrayBufferIsView, ArrayBufferViewGetBuffer, ArrayBufferViewGetByteLength, ArrayBufferViewGetByteOffset, NumberIsFinite, NumberIsInteger, ObjectPrototypeToString, ObjectSetPrototypeOf, ReflectApply, TypeError, TypedArrayPrototypeGetLength, Uint8Array } = primordials;

type S = any;

const Z_NO_FLUSH = 0;
const Z_FINISH = 4;

function toBytes(value: unknown, name: string): Uint8Array {
  if (typeof value === "string") return bufferFrom(value);
  if (ArrayBufferIsView(value)) return new Uint8Array(ArrayBufferViewGetBuffer(value), ArrayBufferViewGetByteOffset(value), ArrayBufferViewGetByteLength(value));
  if (ObjectPrototypeToString(value) === "[object ArrayBuffer]") return new Uint8Array(value as ArrayBuffer);
  throw invalidArgType(name, ["string", "Buffer", "TypedArray", "DataView", "ArrayBuffer"], value);
}

function checkRange(options: S, key: string, min: number, max: number, fallback: number): number {
  const value = options == null ? undefined : options[key];
  if (value === undefined || (typeof value === "number" && !NumberIsFinite(value) && value !== value)) return fallback;
  if (typeof value !== "number") throw invalidArgType(`options.${key}`, "number", value);
  if (!NumberIsFinite(value)) throw outOfRange(`options.${key}`, "a finite number", value);
  if (value < min || value > max) throw outOfRange(`options.${key}`, `>= ${min} and <= ${max}`, value);
  return value;
}

interface Settings {
  level: number;
  maxOutputLength: number;
  chunkSize: number;
  finishFlush: number;
}

function settings(options: S): Settings {
  if (options != null && typeof options !== "object") throw invalidArgType("options", "Object", options);
  const level = checkRange(options, "level", -1, 9, -1);
  checkRange(options, "memLevel", 1, 9, 8);
  checkRange(options, "windowBits", 0, 15, 15);
  checkRange(options, "strategy", 0, 4, 0);
  const maxOutputLength = checkRange(options, "maxOutputLength", 1, kMaxLength, kMaxLength);
  const chunkSize = checkRange(options, "chunkSize", 64, Infinity, 16 * 1024);
  const finishFlush = checkRange(options, "finishFlush", 0, 5, Z_FINISH);
  if (options?.dictionary !== undefined) throw nodeError(TypeError, "ERR_METHOD_NOT_IMPLEMENTED", "The zlib dictionary option method is not implemented");
  return { level, maxOutputLength, chunkSize, finishFlush };
}

function codec(mode: NodeZlibMode, s: Settings): NodeCodec {
  const chunk = compression();
  return new chunk.NodeCodec(mode, { level: s.level, maxOutputLength: s.maxOutputLength });
}

function runSync(mode: NodeZlibMode, buffer: unknown, options: S): Uint8Array {
  const bytes = toBytes(buffer, "buffer");
  const s = settings(options);
  const pieces = codec(mode, s).push(bytes, s.finishFlush === Z_FINISH ? Z_FINISH : s.finishFlush);
  return concat(pieces);
}

// ---------------------------------------------------------------------------------------------
// The stream classes

const kFlushSentinel = new Uint8Array(0);
const kFlushKind = primordials.Symbol("kFlushKind");

function ZlibBase(this: S, mode: NodeZlibMode, options: S): void {
  const s = settings(options);
  ReflectApply(Transform, this, [{ ...options, highWaterMark: options?.highWaterMark ?? s.chunkSize }]);
  this._codec = undefined;
  this._mode = mode;
  this._settings = s;
  this.bytesWritten = 0;
  this._finishFlushFlag = s.finishFlush;
  this[kFlushKind] = Z_NO_FLUSH;
}
ObjectSetPrototypeOf(ZlibBase.prototype, Transform.prototype);
ObjectSetPrototypeOf(ZlibBase, Transform);

function codecOf(stream: S): NodeCodec {
  if (stream._codec === undefined) stream._codec = codec(stream._mode, stream._settings);
  return stream._codec;
}

function pushAll(stream: S, pieces: Uint8Array[]): void {
  for (let i = 0; i < pieces.length; i++) stream.push(bufferFrom(ArrayBufferViewGetBuffer(pieces[i]), ArrayBufferViewGetByteOffset(pieces[i]), ArrayBufferViewGetByteLength(pieces[i])));
}

ZlibBase.prototype._transform = function (this: S, chunk: Uint8Array, _encoding: unknown, callback: (error?: unknown) => void) {
  try {
    if (chunk === kFlushSentinel || (TypedArrayPrototypeGetLength(chunk) === 0 && this[kFlushKind] !== Z_NO_FLUSH)) {
      const kind = this[kFlushKind];
      this[kFlushKind] = Z_NO_FLUSH;
      pushAll(this, codecOf(this).push(new Uint8Array(0), kind));
    } else {
      this.bytesWritten += TypedArrayPrototypeGetLength(chunk);
      pushAll(this, codecOf(this).push(chunk));
    }
    callback();
  } catch (error) {
    callback(error);
  }
};

// As in Node: _final does nothing, and the end of the input is compressed after 'finish' (Node's
// codec runs on its thread pool; here one tick later), so 'finish' comes before 'end'.
ZlibBase.prototype._final = function (callback: () => void) {
  callback();
};
ZlibBase.prototype._flush = function (this: S, callback: (error?: unknown) => void) {
  nextTick(() => {
    try {
      pushAll(this, codecOf(this).push(new Uint8Array(0), this._finishFlushFlag));
    } catch (error) {
      callback(error);
      return;
    }
    callback();
  });
};

ZlibBase.prototype.flush = function (this: S, kind?: unknown, callback?: () => void) {
  if (typeof kind === "function" || (kind === undefined && callback === undefined)) {
    callback = kind as (() => void) | undefined;
    kind = 3; // Z_FULL_FLUSH, Node's default
  }
  if (this.writableFinished) {
    if (callback) nextTick(callback);
  } else if (this.writableEnded) {
    if (callback) this.once("end", callback);
  } else {
    this[kFlushKind] = kind;
    this.write(kFlushSentinel, "", callback);
  }
};

ZlibBase.prototype.close = function (this: S, callback?: () => void) {
  if (callback) this.once("close", callback);
  this.destroy();
};

ZlibBase.prototype.reset = function (this: S) {
  this._codec = undefined;
};

ZlibBase.prototype.params = function (this: S, level: unknown, _strategy: unknown, callback?: () => void) {
  if (typeof level !== "number" || !NumberIsInteger(level) || level < -1 || level > 9) throw outOfRange("level", ">= -1 and <= 9", level);
  this._settings = { ...this._settings, level };
  if (callback) nextTick(callback);
};

ZlibBase.prototype._processChunk = function (this: S, chunk: unknown, flushFlag: number) {
  return concat(codecOf(this).push(toBytes(chunk, "chunk"), flushFlag));
};

const CLASSES: [name: string, mode: NodeZlibMode][] = [
  ["Deflate", "deflate"],
  ["Inflate", "inflate"],
  ["DeflateRaw", "deflateRaw"],
  ["InflateRaw", "inflateRaw"],
  ["Gzip", "gzip"],
  ["Gunzip", "gunzip"],
  ["Unzip", "unzip"],
];

function zlibClass(name: string, mode: NodeZlibMode): S {
  const holder = {
    [name]: function (this: S, options?: S) {
      if (!(this instanceof (holder[name] as S))) return new (holder[name] as S)(options);
      ReflectApply(ZlibBase, this, [mode, options]);
    },
  };
  const Class = holder[name] as S;
  ObjectSetPrototypeOf(Class.prototype, ZlibBase.prototype);
  ObjectSetPrototypeOf(Class, ZlibBase);
  return Class;
}

// ---------------------------------------------------------------------------------------------
// The module

export function createZlibModule(base: Record<string, unknown>): Record<string, unknown> {
  const exports: Record<string, unknown> = {};
  for (let i = 0; i < CLASSES.length; i++) {
    const name = CLASSES[i][0];
    const mode = CLASSES[i][1];
    const Class = zlibClass(name, mode);
    const lower = `${primordials.StringPrototypeToLowerCase(name[0])}${primordials.StringPrototypeSlice(name, 1)}`;
    exports[name] = Class;
    exports[`create${name}`] = (options?: S) => new Class(options);
    exports[`${lower}Sync`] = (buffer: unknown, options?: S) => {
      const bytes = runSync(mode, buffer, options);
      return isBuffer(bytes) ? bytes : bufferFrom(bytes);
    };
    exports[lower] = (buffer: unknown, options?: S, callback?: unknown) => {
      if (typeof options === "function") {
        callback = options;
        options = {};
      }
      if (typeof callback !== "function") throw invalidArgType("callback", "Function", callback);
      const cb = callback as (error: unknown, result?: Uint8Array) => void;
      // Checked now, as Node does; compressed on a later tick, as Node's thread pool would.
      const bytes = toBytes(buffer, "buffer");
      settings(options);
      nextTick(() => {
        let result: Uint8Array;
        try {
          result = runSync(mode, bytes, options);
        } catch (error) {
          cb(error);
          return;
        }
        cb(null, result);
      });
    };
  }
  exports.crc32 = (data: unknown, value: unknown = 0) => {
    const bytes = toBytes(data, "data");
    if (typeof value !== "number" || !NumberIsInteger(value)) throw invalidArgType("value", "number", value);
    if (value < 0 || value > 0xffffffff) throw outOfRange("value", ">= 0 && <= 4294967295", value);
    return compression().crc32(bytes, value);
  };
  return { ...base, ...exports };
}
