// node:stream's classes: Stream, Readable, Writable, Duplex, Transform and PassThrough, written
// after Node's own lib/internal/streams (readable.js, writable.js, destroy.js, duplex.js,
// transform.js), reduced to what a sandbox needs and run on the captured primordials (SECURITY.md
// P12): the state machines, and so the order of 'data', 'readable', 'end', 'finish', 'close' and
// 'error', backpressure (write() returning false, 'drain'), objectMode and highWaterMark are
// Node's. The constructors are functions, as Node's are, so that `Readable.call(this, options)`
// with util.inherits keeps working for the libraries that still subclass that way.
//
// Not from Node: no stream.Readable operators (map, filter, ...), no _writev batching beyond what
// a stream asks for, no legacy 'readable' "readableListening" corner cases beyond Node's main
// ones. nextTick here is the runtime's (a microtask, as on Cloudflare Workers).

/* eslint-disable @typescript-eslint/no-explicit-any */

import { EventEmitter } from "../events.ts";
import { invalidArgType, invalidArgValue, nodeError } from "../errors.ts";
import { nextTick } from "../process.ts";
import { StringDecoder } from "../string-decoder.ts";
import { concat, from as bufferFrom, isBuffer, toStringMethod } from "../buffer/buffer.ts";
import { normalizeEncoding } from "../buffer/codecs.ts";
import { AbortError as AbortErrorClass } from "../events.ts";
import { primordials, SymbolAsyncIterator } from "../../primordials.ts";

const {
  ArrayIsArray,
  ArrayPrototypeIndexOf,
  ArrayPrototypePush,
  ArrayPrototypeShift,
  ArrayPrototypeSplice,
  ArrayPrototypeUnshift,
  Error,
  FunctionPrototypeBind,
  NumberIsInteger,
  NumberIsNaN,
  NumberParseInt,
  ObjectCreate,
  ObjectKeys,
  ObjectPrototypeHasOwnProperty,
  ObjectPrototypeIsPrototypeOf,
  RangeError,
  ObjectDefineProperties,
  ObjectDefineProperty,
  ObjectSetPrototypeOf,
  Promise,
  PromisePrototypeThen,
  ReflectApply,
  Symbol,
  SymbolFor,
  TypeError,
  TypedArrayPrototypeGetLength,
  TypedArrayPrototypeGetSymbolToStringTag,
  Uint8Array,
  ArrayBufferViewGetBuffer,
  ArrayBufferViewGetByteOffset,
  ArrayBufferViewGetByteLength,
} = primordials;

type S = any;
type Callback = (error?: unknown) => void;

export const kDestroyed = Symbol("kDestroyed");
export const kIsDestroyed = SymbolFor("nodejs.stream.destroyed");
const kOnFinished = Symbol("kOnFinished");

let defaultHighWaterMarkBytes = 64 * 1024;
let defaultHighWaterMarkObjects = 16;

export function getDefaultHighWaterMark(objectMode?: boolean): number {
  return objectMode ? defaultHighWaterMarkObjects : defaultHighWaterMarkBytes;
}

export function setDefaultHighWaterMark(objectMode: unknown, value: unknown): void {
  if (typeof value !== "number" || !NumberIsInteger(value) || value < 0) throw invalidArgValue("value", value);
  if (objectMode) defaultHighWaterMarkObjects = value;
  else defaultHighWaterMarkBytes = value;
}

function highWaterMarkFrom(options: S, isDuplex: boolean, duplexKey: string): number | null {
  return options.highWaterMark != null ? options.highWaterMark : isDuplex ? options[duplexKey] : null;
}

function getHighWaterMark(state: { objectMode: boolean }, options: S, duplexKey: string, isDuplex: boolean): number {
  const hwm = highWaterMarkFrom(options, isDuplex, duplexKey);
  if (hwm != null) {
    if (typeof hwm !== "number" || !NumberIsInteger(hwm) || hwm < 0) {
      const name = isDuplex ? `options.${duplexKey}` : "options.highWaterMark";
      throw invalidArgValue(name, hwm);
    }
    return hwm;
  }
  return getDefaultHighWaterMark(state.objectMode);
}

/**
 * One of the streams' own errors: Node's class, code and message. Unlike nodeError() it does not
 * format the stack to put the code in its header: in a worker whose code is lowered
 * (node:async_hooks) that formatting runs the source-map stack formatter, which calls intrinsics
 * user code may have replaced (see notImplemented in stubs.ts).
 */
function streamError(Base: ErrorConstructor, code: string, message: string): Error & { code: string } {
  const error = new Base(message) as Error & { code: string };
  ObjectDefineProperty(error, "code", { __proto__: null, value: code, writable: true, enumerable: true, configurable: true } as PropertyDescriptor);
  return error;
}

// Errors, as Node names them.
const errors = {
  pushAfterEof: () => streamError(Error, "ERR_STREAM_PUSH_AFTER_EOF", "stream.push() after EOF"),
  unshiftAfterEnd: () => streamError(Error, "ERR_STREAM_UNSHIFT_AFTER_END_EVENT", "stream.unshift() after end event"),
  writeAfterEnd: () => streamError(Error, "ERR_STREAM_WRITE_AFTER_END", "write after end"),
  destroyed: (method: string) => streamError(Error, "ERR_STREAM_DESTROYED", `Cannot call ${method} after a stream was destroyed`),
  nullValues: () => streamError(TypeError, "ERR_STREAM_NULL_VALUES", "May not write null values to stream"),
  notImplemented: (method: string) => streamError(Error, "ERR_METHOD_NOT_IMPLEMENTED", `The ${method} method is not implemented`),
  multipleCallback: () => streamError(Error, "ERR_MULTIPLE_CALLBACK", "Callback called multiple times"),
  alreadyFinished: (method: string) => streamError(Error, "ERR_STREAM_ALREADY_FINISHED", `Cannot call ${method} after a stream was finished`),
  prematureClose: () => streamError(Error, "ERR_STREAM_PREMATURE_CLOSE", "Premature close"),
  cannotPipe: () => streamError(Error, "ERR_STREAM_CANNOT_PIPE", "Cannot pipe, not readable"),
  transformWithLength: () => streamError(Error, "ERR_TRANSFORM_WITH_LENGTH_0", "Calling transform done when writableState.length != 0"),
};
export const streamErrors = errors;

/** Buffer.isEncoding, for write() and setDefaultEncoding(). */
function isEncoding(encoding: unknown): boolean {
  return typeof encoding === "string" && encoding !== "" && normalizeEncoding(encoding) !== undefined;
}

export function isUint8Array(value: unknown): value is Uint8Array {
  return TypedArrayPrototypeGetSymbolToStringTag(value) === "Uint8Array";
}

/** A Buffer over the same memory as `view`. */
export function uint8ArrayToBuffer(view: Uint8Array): Uint8Array {
  return bufferFrom(ArrayBufferViewGetBuffer(view), ArrayBufferViewGetByteOffset(view), ArrayBufferViewGetByteLength(view));
}

/** `value instanceof C` as a boolean (no narrowing of `this`). */
function isInstance(value: unknown, C: S): boolean {
  return value instanceof C;
}

function chunkLength(chunk: any, objectMode: boolean): number {
  return objectMode ? 1 : TypedArrayPrototypeGetLength(chunk);
}

// ---------------------------------------------------------------------------------------------
// destroy.js

function destroyer(this: S, error: unknown, cb?: Callback): S {
  const r = this._readableState;
  const w = this._writableState;
  const s = w || r;
  if ((w !== undefined && w.destroyed) || (r !== undefined && r.destroyed)) {
    if (typeof cb === "function") cb();
    return this;
  }
  checkError(error, w, r);
  if (w !== undefined) w.destroyed = true;
  if (r !== undefined) r.destroyed = true;
  if (!s.constructed) {
    this.once(kDestroyed, function (this: S, er: unknown) {
      _destroy(this, aggregateTwoErrors(er, error), cb);
    });
  } else _destroy(this, error, cb);
  return this;
}

function aggregateTwoErrors(inner: unknown, outer: unknown): unknown {
  return inner && outer && inner !== outer ? outer : inner || outer;
}

function checkError(error: any, w: S, r: S): void {
  if (error) {
    if (w !== undefined && !w.errored) w.errored = error;
    if (r !== undefined && !r.errored) r.errored = error;
  }
}

function _destroy(self: S, error: unknown, cb?: Callback): void {
  let called = false;
  function onDestroy(err?: any) {
    if (called) return;
    called = true;
    const r = self._readableState;
    const w = self._writableState;
    checkError(err, w, r);
    if (w !== undefined) w.closed = true;
    if (r !== undefined) r.closed = true;
    if (typeof cb === "function") cb(err);
    if (err) nextTick(emitErrorCloseNT, self, err);
    else nextTick(emitCloseNT, self);
  }
  try {
    self._destroy(error || null, onDestroy);
  } catch (err) {
    onDestroy(err);
  }
}

function emitErrorCloseNT(self: S, error: unknown): void {
  emitErrorNT(self, error);
  emitCloseNT(self);
}

function emitCloseNT(self: S): void {
  const r = self._readableState;
  const w = self._writableState;
  if (w !== undefined) w.closeEmitted = true;
  if (r !== undefined) r.closeEmitted = true;
  if ((w !== undefined && w.emitClose) || (r !== undefined && r.emitClose)) self.emit("close");
}

function emitErrorNT(self: S, error: unknown): void {
  const r = self._readableState;
  const w = self._writableState;
  if ((w !== undefined && w.errorEmitted) || (r !== undefined && r.errorEmitted)) return;
  if (w !== undefined) w.errorEmitted = true;
  if (r !== undefined) r.errorEmitted = true;
  self.emit("error", error);
}

function undestroy(this: S): void {
  const r = this._readableState;
  const w = this._writableState;
  if (r !== undefined) {
    r.constructed = true;
    r.closed = false;
    r.closeEmitted = false;
    r.destroyed = false;
    r.errored = null;
    r.errorEmitted = false;
    r.reading = false;
    r.ended = r.readable === false;
    r.endEmitted = r.readable === false;
  }
  if (w !== undefined) {
    w.constructed = true;
    w.destroyed = false;
    w.closed = false;
    w.closeEmitted = false;
    w.errored = null;
    w.errorEmitted = false;
    w.finalCalled = false;
    w.prefinished = false;
    w.ended = w.writable === false;
    w.ending = w.writable === false;
    w.finished = w.writable === false;
  }
}

/** Destroys `stream` with `error`, or (autoDestroy off) only emits it, as Node's errorOrDestroy. */
export function errorOrDestroy(stream: S, error: any, sync?: boolean): void {
  const r = stream._readableState;
  const w = stream._writableState;
  if ((w !== undefined && w.destroyed) || (r !== undefined && r.destroyed)) return;
  if ((r !== undefined && r.autoDestroy) || (w !== undefined && w.autoDestroy)) stream.destroy(error);
  else if (error) {
    if (w !== undefined && !w.errored) w.errored = error;
    if (r !== undefined && !r.errored) r.errored = error;
    if (sync) nextTick(emitErrorNT, stream, error);
    else emitErrorNT(stream, error);
  }
}

function construct(stream: S, cb: Callback): void {
  if (typeof stream._construct !== "function") return;
  const r = stream._readableState;
  const w = stream._writableState;
  if (r !== undefined) r.constructed = false;
  if (w !== undefined) w.constructed = false;
  stream.once(kOnFinished, cb);
  if (stream.listenerCount(kOnFinished) > 1) return;
  nextTick(constructNT, stream);
}

function constructNT(stream: S): void {
  let called = false;
  function onConstruct(err?: unknown) {
    if (called) {
      errorOrDestroy(stream, err ?? errors.multipleCallback());
      return;
    }
    called = true;
    const r = stream._readableState;
    const w = stream._writableState;
    const s = w || r;
    if (r !== undefined) r.constructed = true;
    if (w !== undefined) w.constructed = true;
    if (s.destroyed) stream.emit(kDestroyed, err);
    else if (err) errorOrDestroy(stream, err, true);
    else nextTick(() => stream.emit(kOnFinished));
  }
  try {
    stream._construct((err?: unknown) => nextTick(onConstruct, err));
  } catch (err) {
    nextTick(onConstruct, err);
  }
}

/** Destroys any stream-like value (a request's abort(), a stream's destroy() or close()). */
export function destroyStream(stream: S, error?: unknown): void {
  if (!stream || isDestroyed(stream)) return;
  if (typeof stream.destroy === "function") stream.destroy(error);
  else if (typeof stream.close === "function") stream.close();
}

// ---------------------------------------------------------------------------------------------
// Stream (legacy.js)

export const Stream = function Stream(this: S, options?: S) {
  ReflectApply(EventEmitter, this, [options]);
} as unknown as S;
ObjectSetPrototypeOf(Stream.prototype, EventEmitter.prototype);
ObjectSetPrototypeOf(Stream, EventEmitter);

function legacyPipe(this: S, dest: S, options?: S): S {
  const source = this;
  function ondata(chunk: unknown) {
    if (dest.writable && dest.write(chunk) === false && source.pause) source.pause();
  }
  source.on("data", ondata);
  function ondrain() {
    if (source.readable && source.resume) source.resume();
  }
  dest.on("drain", ondrain);
  if (!dest._isStdio && (!options || options.end !== false)) {
    source.on("end", onend);
    source.on("close", onclose);
  }
  let didOnEnd = false;
  function onend() {
    if (didOnEnd) return;
    didOnEnd = true;
    dest.end();
  }
  function onclose() {
    if (didOnEnd) return;
    didOnEnd = true;
    if (typeof dest.destroy === "function") dest.destroy();
  }
  function onerror(this: S, er: unknown) {
    cleanup();
    if ((this as S).listenerCount("error") === 0) this.emit("error", er);
  }
  prependListener(source, "error", onerror);
  prependListener(dest, "error", onerror);
  function cleanup() {
    source.removeListener("data", ondata);
    dest.removeListener("drain", ondrain);
    source.removeListener("end", onend);
    source.removeListener("close", onclose);
    source.removeListener("error", onerror);
    dest.removeListener("error", onerror);
    source.removeListener("end", cleanup);
    source.removeListener("close", cleanup);
    dest.removeListener("close", cleanup);
  }
  source.on("end", cleanup);
  source.on("close", cleanup);
  dest.on("close", cleanup);
  dest.emit("pipe", source);
  return dest;
}
Stream.prototype.pipe = legacyPipe;

function prependListener(emitter: S, event: string, fn: (...args: any[]) => void): void {
  if (typeof emitter.prependListener === "function") return emitter.prependListener(event, fn);
  if (!emitter._events || !emitter._events[event]) emitter.on(event, fn);
  else if (ArrayIsArray(emitter._events[event])) ArrayPrototypeUnshift(emitter._events[event], fn);
  else emitter._events[event] = [fn, emitter._events[event]];
}

// ---------------------------------------------------------------------------------------------
// Readable (readable.js)

function ReadableState(this: S, options: S, stream: S, isDuplex?: boolean): void {
  if (typeof isDuplex !== "boolean") isDuplex = isInstance(stream, Duplex);
  this.objectMode = !!(options && options.objectMode);
  if (isDuplex) this.objectMode = this.objectMode || !!(options && options.readableObjectMode);
  this.highWaterMark = options ? getHighWaterMark(this, options, "readableHighWaterMark", isDuplex) : getDefaultHighWaterMark(false);
  this.buffer = [];
  this.bufferIndex = 0;
  this.length = 0;
  this.pipes = [];
  this.flowing = null;
  this.ended = false;
  this.endEmitted = false;
  this.reading = false;
  this.constructed = true;
  this.sync = true;
  this.needReadable = false;
  this.emittedReadable = false;
  this.readableListening = false;
  this.resumeScheduled = false;
  this.errorEmitted = false;
  this.emitClose = !options || options.emitClose !== false;
  this.autoDestroy = !options || options.autoDestroy !== false;
  this.destroyed = false;
  this.errored = null;
  this.closed = false;
  this.closeEmitted = false;
  this.defaultEncoding = (options && options.defaultEncoding) || "utf8";
  this.awaitDrainWriters = null;
  this.multiAwaitDrain = false;
  this.readingMore = false;
  this.dataEmitted = false;
  this.decoder = null;
  this.encoding = null;
  if (options && options.encoding) {
    this.decoder = new StringDecoder(options.encoding);
    this.encoding = options.encoding;
  }
}

// A state's reads never reach Object.prototype (where user code may have put accessors).
ObjectSetPrototypeOf(ReadableState.prototype, null);

export const Readable = function Readable(this: S, options?: S) {
  if (!(isInstance(this, Readable))) return new (Readable as any)(options);
  const isDuplex = isInstance(this, Duplex);
  this._readableState = new (ReadableState as any)(options, this, isDuplex);
  if (options) {
    if (typeof options.read === "function") this._read = options.read;
    if (typeof options.destroy === "function") this._destroy = options.destroy;
    if (typeof options.construct === "function") this._construct = options.construct;
    if (options.signal && !isDuplex) addAbortSignalNoValidate(options.signal, this);
  }
  ReflectApply(Stream, this, [options]);
  construct(this, () => {
    if (this._readableState.needReadable) maybeReadMore(this, this._readableState);
  });
} as unknown as S;
ObjectSetPrototypeOf(Readable.prototype, Stream.prototype);
ObjectSetPrototypeOf(Readable, Stream);
Readable.ReadableState = ReadableState;

const R = Readable.prototype;
R.destroy = destroyer;
R._undestroy = undestroy;
R._destroy = function (err: unknown, cb: Callback) {
  cb(err);
};
R[SymbolFor("nodejs.rejection")] = function (this: S, err: unknown) {
  this.destroy(err);
};

R.push = function (this: S, chunk: unknown, encoding?: string): boolean {
  return readableAddChunk(this, chunk, encoding, false);
};
R.unshift = function (this: S, chunk: unknown, encoding?: string): boolean {
  return readableAddChunk(this, chunk, encoding, true);
};

function readableAddChunk(stream: S, chunk: any, encoding: string | undefined, addToFront: boolean): boolean {
  const state = stream._readableState;
  let err: unknown;
  if (!state.objectMode) {
    if (typeof chunk === "string") {
      encoding = encoding || state.defaultEncoding;
      if (state.encoding !== encoding) {
        if (addToFront && state.encoding) chunk = ReflectApply(toStringMethod, bufferFrom(chunk, encoding), [state.encoding]);
        else {
          chunk = bufferFrom(chunk, encoding);
          encoding = "";
        }
      }
    } else if (isBuffer(chunk)) encoding = "";
    else if (isUint8Array(chunk)) {
      chunk = uint8ArrayToBuffer(chunk);
      encoding = "";
    } else if (chunk != null) err = invalidArgType("chunk", ["string", "Buffer", "Uint8Array"], chunk);
  }
  if (err) errorOrDestroy(stream, err);
  else if (chunk === null) {
    state.reading = false;
    onEofChunk(stream, state);
  } else if (state.objectMode || (typeof chunk === "string" ? chunk.length > 0 : chunk && chunkLength(chunk, false) > 0)) {
    if (addToFront) {
      if (state.endEmitted) errorOrDestroy(stream, errors.unshiftAfterEnd());
      else if (state.destroyed || state.errored) return false;
      else addChunk(stream, state, chunk, true);
    } else if (state.ended) errorOrDestroy(stream, errors.pushAfterEof());
    else if (state.destroyed || state.errored) return false;
    else {
      state.reading = false;
      if (state.decoder && !encoding) {
        chunk = state.decoder.write(chunk);
        if (state.objectMode || chunk.length !== 0) addChunk(stream, state, chunk, false);
        else maybeReadMore(stream, state);
      } else addChunk(stream, state, chunk, false);
    }
  } else if (!addToFront) {
    state.reading = false;
    maybeReadMore(stream, state);
  }
  return !state.ended && (state.length < state.highWaterMark || state.length === 0);
}

function lengthOf(chunk: any, state: S): number {
  return state.objectMode ? 1 : typeof chunk === "string" ? chunk.length : TypedArrayPrototypeGetLength(chunk);
}

function addChunk(stream: S, state: S, chunk: any, addToFront: boolean): void {
  if (state.flowing && state.length === 0 && !state.sync && stream.listenerCount("data") > 0) {
    if (state.multiAwaitDrain) state.awaitDrainWriters.length = 0;
    else state.awaitDrainWriters = null;
    state.dataEmitted = true;
    stream.emit("data", chunk);
  } else {
    state.length += lengthOf(chunk, state);
    if (addToFront) bufferUnshift(state, chunk);
    else ArrayPrototypePush(state.buffer, chunk);
    if (state.needReadable) emitReadable(stream);
  }
  maybeReadMore(stream, state);
}

function bufferUnshift(state: S, chunk: unknown): void {
  if (state.bufferIndex > 0) state.buffer[--state.bufferIndex] = chunk;
  else ArrayPrototypeUnshift(state.buffer, chunk);
}

function bufferShift(state: S): any {
  const chunk = state.buffer[state.bufferIndex];
  state.buffer[state.bufferIndex++] = undefined;
  if (state.bufferIndex === state.buffer.length) {
    state.buffer.length = 0;
    state.bufferIndex = 0;
  } else if (state.bufferIndex > 1024 && state.bufferIndex * 2 > state.buffer.length) {
    ArrayPrototypeSplice(state.buffer, 0, state.bufferIndex);
    state.bufferIndex = 0;
  }
  return chunk;
}

function bufferCount(state: S): number {
  return state.buffer.length - state.bufferIndex;
}

R.isPaused = function (this: S): boolean {
  const state = this._readableState;
  return state.paused === true || state.flowing === false;
};

R.setEncoding = function (this: S, enc: string): S {
  const decoder = new StringDecoder(enc);
  const state = this._readableState;
  state.decoder = decoder;
  state.encoding = (decoder as unknown as { encoding: string }).encoding;
  let content = "";
  const count = bufferCount(state);
  for (let i = 0; i < count; i++) content += decoder.write(state.buffer[state.bufferIndex + i]);
  state.buffer.length = 0;
  state.bufferIndex = 0;
  if (content !== "") ArrayPrototypePush(state.buffer, content);
  state.length = content.length;
  return this;
};

const MAX_HWM = 0x40000000;
function computeNewHighWaterMark(n: number): number {
  if (n > MAX_HWM) throw nodeError(RangeError, "ERR_OUT_OF_RANGE", `The value of "size" is out of range. It must be <= 1GiB. Received ${n}`);
  n--;
  n |= n >>> 1;
  n |= n >>> 2;
  n |= n >>> 4;
  n |= n >>> 8;
  n |= n >>> 16;
  n++;
  return n;
}

function howMuchToRead(n: number, state: S): number {
  if (n <= 0 || (state.length === 0 && state.ended)) return 0;
  if (state.objectMode) return 1;
  if (NumberIsNaN(n)) {
    if (state.flowing && state.length) return lengthOf(state.buffer[state.bufferIndex], state);
    return state.length;
  }
  if (n <= state.length) return n;
  return state.ended ? state.length : 0;
}

R.read = function (this: S, n?: unknown): any {
  let size: number;
  if (n === undefined) size = NaN;
  else if (!NumberIsInteger(n)) size = NumberParseInt(n as string, 10);
  else size = n as number;
  const state = this._readableState;
  const nOrig = size;
  if (size > state.highWaterMark) state.highWaterMark = computeNewHighWaterMark(size);
  if (size !== 0) state.emittedReadable = false;
  if (size === 0 && state.needReadable && ((state.highWaterMark !== 0 ? state.length >= state.highWaterMark : state.length > 0) || state.ended)) {
    if (state.length === 0 && state.ended) endReadable(this);
    else emitReadable(this);
    return null;
  }
  size = howMuchToRead(size, state);
  if (size === 0 && state.ended) {
    if (state.length === 0) endReadable(this);
    return null;
  }
  let doRead = state.needReadable;
  if (state.length === 0 || state.length - size < state.highWaterMark) doRead = true;
  if (state.ended || state.reading || state.destroyed || state.errored || !state.constructed) doRead = false;
  else if (doRead) {
    state.reading = true;
    state.sync = true;
    if (state.length === 0) state.needReadable = true;
    try {
      this._read(state.highWaterMark);
    } catch (error) {
      errorOrDestroy(this, error);
    }
    state.sync = false;
    if (!state.reading) size = howMuchToRead(nOrig, state);
  }
  let ret: any;
  if (size > 0) ret = fromList(size, state);
  else ret = null;
  if (ret === null) {
    state.needReadable = state.length <= state.highWaterMark;
    size = 0;
  } else {
    state.length -= size;
    if (state.multiAwaitDrain) state.awaitDrainWriters.length = 0;
    else state.awaitDrainWriters = null;
  }
  if (state.length === 0) {
    if (!state.ended) state.needReadable = true;
    if (nOrig !== size && state.ended) endReadable(this);
  }
  if (ret !== null && !state.errorEmitted && !state.closeEmitted) {
    state.dataEmitted = true;
    this.emit("data", ret);
  }
  return ret;
};

function fromList(n: number, state: S): any {
  if (state.length === 0) return null;
  let ret: any;
  if (state.objectMode) ret = bufferShift(state);
  else if (!n || n >= state.length) {
    const count = bufferCount(state);
    if (state.decoder) {
      ret = "";
      for (let i = 0; i < count; i++) ret += state.buffer[state.bufferIndex + i];
    } else if (count === 1) ret = state.buffer[state.bufferIndex];
    else {
      const list: Uint8Array[] = [];
      for (let i = 0; i < count; i++) list[i] = state.buffer[state.bufferIndex + i];
      ret = concat(list, state.length);
    }
    state.buffer.length = 0;
    state.bufferIndex = 0;
  } else ret = consumeFromBuffer(n, state);
  return ret;
}

/** buf[start, end) as a Buffer over the same memory, without the species lookup of subarray(). */
function bufferSlice(buf: Uint8Array, start: number, end?: number): Uint8Array {
  const length = TypedArrayPrototypeGetLength(buf);
  const to = end === undefined ? length : end;
  return bufferFrom(ArrayBufferViewGetBuffer(buf), ArrayBufferViewGetByteOffset(buf) + start, to - start);
}

function consumeFromBuffer(n: number, state: S): any {
  const first = state.buffer[state.bufferIndex];
  const firstLength = lengthOf(first, state);
  if (n < firstLength) {
    state.buffer[state.bufferIndex] = typeof first === "string" ? primordials.StringPrototypeSlice(first, n) : bufferSlice(first, n);
    return typeof first === "string" ? primordials.StringPrototypeSlice(first, 0, n) : bufferSlice(first, 0, n);
  }
  if (n === firstLength) return bufferShift(state);
  if (typeof first === "string") {
    let ret = "";
    while (n > 0) {
      const str = state.buffer[state.bufferIndex];
      if (n >= str.length) {
        ret += str;
        n -= str.length;
        bufferShift(state);
      } else {
        ret += primordials.StringPrototypeSlice(str, 0, n);
        state.buffer[state.bufferIndex] = primordials.StringPrototypeSlice(str, n);
        n = 0;
      }
    }
    return ret;
  }
  const parts: Uint8Array[] = [];
  let total = n;
  while (n > 0) {
    const buf = state.buffer[state.bufferIndex];
    const length = TypedArrayPrototypeGetLength(buf);
    if (n >= length) {
      ArrayPrototypePush(parts, buf);
      n -= length;
      bufferShift(state);
    } else {
      ArrayPrototypePush(parts, bufferSlice(buf, 0, n));
      state.buffer[state.bufferIndex] = bufferSlice(buf, n);
      n = 0;
    }
  }
  total = total - n;
  return concat(parts, total);
}

function onEofChunk(stream: S, state: S): void {
  if (state.ended) return;
  if (state.decoder) {
    const chunk = state.decoder.end();
    if (chunk && chunk.length) {
      ArrayPrototypePush(state.buffer, chunk);
      state.length += state.objectMode ? 1 : chunk.length;
    }
  }
  state.ended = true;
  if (state.sync) emitReadable(stream);
  else {
    state.needReadable = false;
    state.emittedReadable = true;
    emitReadable_(stream);
  }
}

function emitReadable(stream: S): void {
  const state = stream._readableState;
  state.needReadable = false;
  if (!state.emittedReadable) {
    state.emittedReadable = true;
    nextTick(emitReadable_, stream);
  }
}

function emitReadable_(stream: S): void {
  const state = stream._readableState;
  if (!state.destroyed && !state.errored && (state.length || state.ended)) {
    stream.emit("readable");
    state.emittedReadable = false;
  }
  state.needReadable = !state.flowing && !state.ended && state.length <= state.highWaterMark;
  flow(stream);
}

function maybeReadMore(stream: S, state: S): void {
  if (!state.readingMore && state.constructed) {
    state.readingMore = true;
    nextTick(maybeReadMore_, stream, state);
  }
}

function maybeReadMore_(stream: S, state: S): void {
  while (!state.reading && !state.ended && (state.length < state.highWaterMark || (state.flowing && state.length === 0))) {
    const len = state.length;
    stream.read(0);
    if (len === state.length) break;
  }
  state.readingMore = false;
}

R._read = function () {
  throw errors.notImplemented("_read()");
};

R.pipe = function (this: S, dest: S, pipeOpts?: S): S {
  const src = this;
  const state = this._readableState;
  if (state.pipes.length === 1 && !state.multiAwaitDrain) {
    state.multiAwaitDrain = true;
    state.awaitDrainWriters = state.awaitDrainWriters ? [state.awaitDrainWriters] : [];
  }
  ArrayPrototypePush(state.pipes, dest);
  const doEnd = !pipeOpts || pipeOpts.end !== false;
  const endFn = doEnd ? onend : unpipe;
  if (state.endEmitted) nextTick(endFn);
  else src.once("end", endFn);
  dest.on("unpipe", onunpipe);
  function onunpipe(readable: S, unpipeInfo: S) {
    if (readable === src && unpipeInfo && unpipeInfo.hasUnpiped === false) {
      unpipeInfo.hasUnpiped = true;
      cleanup();
    }
  }
  function onend() {
    dest.end();
  }
  let ondrain: (() => void) | undefined;
  let cleanedUp = false;
  function cleanup() {
    dest.removeListener("close", onclose);
    dest.removeListener("finish", onfinish);
    if (ondrain) dest.removeListener("drain", ondrain);
    dest.removeListener("error", onerror);
    dest.removeListener("unpipe", onunpipe);
    src.removeListener("end", onend);
    src.removeListener("end", unpipe);
    src.removeListener("data", ondata);
    cleanedUp = true;
    if (ondrain && state.awaitDrainWriters && (!dest._writableState || dest._writableState.needDrain)) ondrain();
  }
  function pause() {
    if (!cleanedUp) {
      if (state.pipes.length === 1 && state.pipes[0] === dest) {
        state.awaitDrainWriters = dest;
        state.multiAwaitDrain = false;
      } else if (state.pipes.length > 1 && ArrayPrototypeIndexOf(state.pipes, dest) !== -1) {
        if (ArrayPrototypeIndexOf(state.awaitDrainWriters, dest) === -1) ArrayPrototypePush(state.awaitDrainWriters, dest);
      }
      src.pause();
    }
    if (!ondrain) {
      ondrain = pipeOnDrain(src, dest);
      dest.on("drain", ondrain);
    }
  }
  src.on("data", ondata);
  function ondata(chunk: unknown) {
    const ret = dest.write(chunk);
    if (ret === false) pause();
  }
  function onerror(er: unknown) {
    unpipe();
    dest.removeListener("error", onerror);
    if (dest.listenerCount("error") === 0) {
      const s = dest._writableState || dest._readableState;
      if (s && !s.errorEmitted) errorOrDestroy(dest, er);
      else dest.emit("error", er);
    }
  }
  prependListener(dest, "error", onerror);
  function onclose() {
    dest.removeListener("finish", onfinish);
    unpipe();
  }
  dest.once("close", onclose);
  function onfinish() {
    dest.removeListener("close", onclose);
    unpipe();
  }
  dest.once("finish", onfinish);
  function unpipe() {
    src.unpipe(dest);
  }
  dest.emit("pipe", src);
  if (dest.writableNeedDrain === true) pause();
  else if (!state.flowing) src.resume();
  return dest;
};

function pipeOnDrain(src: S, dest: S) {
  return function pipeOnDrainFunctionResult() {
    const state = src._readableState;
    if (state.awaitDrainWriters === dest) state.awaitDrainWriters = null;
    else if (state.multiAwaitDrain) {
      const index = ArrayPrototypeIndexOf(state.awaitDrainWriters, dest);
      if (index !== -1) ArrayPrototypeSplice(state.awaitDrainWriters, index, 1);
    }
    if ((!state.awaitDrainWriters || state.awaitDrainWriters.length === 0) && src.listenerCount("data")) src.resume();
  };
}

R.unpipe = function (this: S, dest?: S): S {
  const state = this._readableState;
  const unpipeInfo = { hasUnpiped: false };
  if (state.pipes.length === 0) return this;
  if (!dest) {
    const dests = state.pipes;
    state.pipes = [];
    this.pause();
    for (let i = 0; i < dests.length; i++) dests[i].emit("unpipe", this, { hasUnpiped: false });
    return this;
  }
  const index = ArrayPrototypeIndexOf(state.pipes, dest);
  if (index === -1) return this;
  ArrayPrototypeSplice(state.pipes, index, 1);
  if (state.pipes.length === 0) this.pause();
  dest.emit("unpipe", this, unpipeInfo);
  return this;
};

R.on = function (this: S, ev: string | symbol, fn: (...args: any[]) => void): S {
  const res = ReflectApply(Stream.prototype.on, this, [ev, fn]);
  const state = this._readableState;
  if (ev === "data") {
    state.readableListening = this.listenerCount("readable") > 0;
    if (state.flowing !== false) this.resume();
  } else if (ev === "readable") {
    if (!state.endEmitted && !state.readableListening) {
      state.readableListening = state.needReadable = true;
      state.flowing = false;
      state.emittedReadable = false;
      if (state.length) emitReadable(this);
      else if (!state.reading) nextTick(nReadingNextTick, this);
    }
  }
  return res;
};
R.addListener = R.on;

R.removeListener = function (this: S, ev: string | symbol, fn: (...args: any[]) => void): S {
  const res = ReflectApply(Stream.prototype.removeListener, this, [ev, fn]);
  if (ev === "readable") nextTick(updateReadableListening, this);
  return res;
};
R.off = R.removeListener;

R.removeAllListeners = function (this: S, ev?: string | symbol): S {
  const res = ReflectApply(Stream.prototype.removeAllListeners, this, ev === undefined ? [] : [ev]);
  if (ev === "readable" || ev === undefined) nextTick(updateReadableListening, this);
  return res;
};

function updateReadableListening(self: S): void {
  const state = self._readableState;
  state.readableListening = self.listenerCount("readable") > 0;
  if (state.resumeScheduled && state.paused === false) state.flowing = true;
  else if (self.listenerCount("data") > 0) self.resume();
  else if (!state.readableListening) state.flowing = null;
}

function nReadingNextTick(self: S): void {
  self.read(0);
}

R.resume = function (this: S): S {
  const state = this._readableState;
  if (!state.flowing) {
    state.flowing = !state.readableListening;
    if (!state.resumeScheduled) {
      state.resumeScheduled = true;
      nextTick(resume_, this, state);
    }
  }
  state.paused = false;
  return this;
};

function resume_(stream: S, state: S): void {
  if (!state.reading) stream.read(0);
  state.resumeScheduled = false;
  stream.emit("resume");
  flow(stream);
  if (state.flowing && !state.reading) stream.read(0);
}

R.pause = function (this: S): S {
  const state = this._readableState;
  if (state.flowing !== false) {
    state.flowing = false;
    this.emit("pause");
  }
  state.paused = true;
  return this;
};

function flow(stream: S): void {
  const state = stream._readableState;
  while (state.flowing && stream.read() !== null);
}

R.wrap = function (this: S, stream: S): S {
  let paused = false;
  stream.on("data", (chunk: unknown) => {
    if (!this.push(chunk) && stream.pause) {
      paused = true;
      stream.pause();
    }
  });
  stream.on("end", () => this.push(null));
  stream.on("error", (err: unknown) => errorOrDestroy(this, err));
  stream.on("close", () => this.destroy());
  stream.on("destroy", () => this.destroy());
  this._read = () => {
    if (paused && stream.resume) {
      paused = false;
      stream.resume();
    }
  };
  return this;
};

R[SymbolAsyncIterator] = function (this: S) {
  return createAsyncIterator(this, undefined);
};
R.iterator = function (this: S, options?: S) {
  return createAsyncIterator(this, options);
};

/** The iterator over `stream` for the runtime's own reading (pipeline, consumers): its results have no prototype. */
export function readableIterator(stream: S, options: S, internal: boolean): AsyncIterableIterator<unknown> {
  return createAsyncIterator(stream, options, internal);
}

/**
 * The async iterator over a Readable's chunks: Node's createAsyncIterator (an async generator
 * there), as a state machine whose next() calls wait for each other.
 */
function createAsyncIterator(stream: S, options: S, internal = false): AsyncIterableIterator<unknown> {
  const result = internal ? (value: unknown, done: boolean) => ({ __proto__: null, value, done }) as IteratorResult<unknown> : (value: unknown, done: boolean) => ({ value, done }) as IteratorResult<unknown>;
  const destroyOnReturn = !options || options.destroyOnReturn !== false;
  let wake: (() => void) | undefined;
  // undefined while the stream runs, null once it ended cleanly, else its error.
  let error: unknown = undefined;
  let done = false;
  const next = () => {
    const callback = wake;
    wake = undefined;
    if (callback) callback();
  };
  stream.on("readable", next);
  const cleanup = eos(stream, { __proto__: null, writable: false }, (err: any) => {
    error = err ? aggregateTwoErrors(error, err) : null;
    next();
  });
  const finalize = () => {
    done = true;
    if ((error || destroyOnReturn) && (error === undefined || stream._readableState.autoDestroy)) destroyStream(stream, null);
    else {
      stream.off("readable", next);
      cleanup();
    }
  };
  const step = (resolve: (value: IteratorResult<unknown>) => void, reject: (error: unknown) => void): void => {
    if (done) return resolve(result(undefined, true));
    const chunk = stream.destroyed ? null : stream.read();
    if (chunk !== null) return resolve(result(chunk, false));
    if (error) {
      finalize();
      return reject(error);
    }
    if (error === null) {
      finalize();
      return resolve(result(undefined, true));
    }
    wake = () => step(resolve, reject);
  };
  let last: Promise<unknown> | undefined;
  const iterator = {
    next(): Promise<IteratorResult<unknown>> {
      const previous = last;
      const result: Promise<IteratorResult<unknown>> =
        previous === undefined
          ? new Promise(step)
          : new Promise((resolve, reject) => {
              const go = () => step(resolve, reject);
              PromisePrototypeThen(previous, go, go);
            });
      last = result;
      return result;
    },
    return(): Promise<IteratorResult<unknown>> {
      if (!done) finalize();
      return new Promise((resolve) => resolve(result(undefined, true)));
    },
    [SymbolAsyncIterator]() {
      return this;
    },
  };
  ObjectSetPrototypeOf(iterator, primordials.AsyncIteratorPrototype);
  return iterator as unknown as AsyncIterableIterator<unknown>;
}

function endReadable(stream: S): void {
  const state = stream._readableState;
  if (!state.endEmitted) {
    state.ended = true;
    nextTick(endReadableNT, state, stream);
  }
}

function endReadableNT(state: S, stream: S): void {
  if (!state.errored && !state.closeEmitted && !state.endEmitted && state.length === 0) {
    state.endEmitted = true;
    stream.emit("end");
    if (writableOf(stream) && stream.allowHalfOpen === false) nextTick(endWritableNT, stream);
    else if (state.autoDestroy) {
      const w = stream._writableState;
      const autoDestroy = !w || (w.autoDestroy && (w.finished || w.writable === false));
      if (autoDestroy) stream.destroy();
    }
  }
}

function endWritableNT(stream: S): void {
  const writable = stream.writable && !stream.writableEnded && !stream.destroyed;
  if (writable) stream.end();
}

function accessors(target: object, table: Record<string, { get?: (this: S) => unknown; set?: (this: S, value: any) => void }>): void {
  const descriptors = ObjectCreate(null) as PropertyDescriptorMap;
  const names = primordials.ObjectKeys(table);
  for (let i = 0; i < names.length; i++) {
    const entry = table[names[i]];
    // Only the entry's own get and set: Object.prototype may have either (user code can put them there).
    const get = ObjectPrototypeHasOwnProperty(entry, "get") ? entry.get : undefined;
    const set = ObjectPrototypeHasOwnProperty(entry, "set") ? entry.set : undefined;
    descriptors[names[i]] = { __proto__: null, get, set, enumerable: false, configurable: true } as PropertyDescriptor;
  }
  ObjectDefineProperties(target, descriptors);
}

accessors(R, {
  readable: {
    get() {
      const r = this._readableState;
      return !!r && r.readable !== false && !r.destroyed && !r.errorEmitted && !r.endEmitted;
    },
    set(value: boolean) {
      if (this._readableState) this._readableState.readable = !!value;
    },
  },
  readableDidRead: { get() { return this._readableState.dataEmitted; } },
  readableAborted: {
    get() {
      const r = this._readableState;
      return !!(r.readable !== false && (r.destroyed || r.errored) && !r.endEmitted);
    },
  },
  readableHighWaterMark: { get() { return this._readableState.highWaterMark; } },
  readableBuffer: { get() { return this._readableState && primordials.ArrayPrototypeSlice(this._readableState.buffer, this._readableState.bufferIndex); } },
  readableFlowing: {
    get() { return this._readableState.flowing; },
    set(value: boolean) { if (this._readableState) this._readableState.flowing = value; },
  },
  readableLength: { get() { return this._readableState.length; } },
  readableObjectMode: { get() { return this._readableState ? this._readableState.objectMode : false; } },
  readableEncoding: { get() { return this._readableState ? this._readableState.encoding : null; } },
  errored: { get() { return this._readableState ? this._readableState.errored : null; } },
  closed: { get() { return this._readableState ? this._readableState.closed : false; } },
  destroyed: {
    get() { return this._readableState ? this._readableState.destroyed : false; },
    set(value: boolean) { if (this._readableState) this._readableState.destroyed = value; },
  },
  readableEnded: { get() { return this._readableState ? this._readableState.endEmitted : false; } },
});

// ---------------------------------------------------------------------------------------------
// Writable (writable.js)

function nop() {}

function WritableState(this: S, options: S, stream: S, isDuplex?: boolean): void {
  if (typeof isDuplex !== "boolean") isDuplex = isInstance(stream, Duplex);
  this.objectMode = !!(options && options.objectMode);
  if (isDuplex) this.objectMode = this.objectMode || !!(options && options.writableObjectMode);
  this.highWaterMark = options ? getHighWaterMark(this, options, "writableHighWaterMark", isDuplex) : getDefaultHighWaterMark(false);
  this.finalCalled = false;
  this.needDrain = false;
  this.ending = false;
  this.ended = false;
  this.finished = false;
  this.destroyed = false;
  this.decodeStrings = !(options && options.decodeStrings === false);
  this.defaultEncoding = (options && options.defaultEncoding) || "utf8";
  this.length = 0;
  this.writing = false;
  this.corked = 0;
  this.sync = true;
  this.bufferProcessing = false;
  this.onwrite = FunctionPrototypeBind(onwrite, undefined, stream);
  this.writecb = null;
  this.writelen = 0;
  this.afterWriteTickInfo = null;
  resetBuffer(this);
  this.pendingcb = 0;
  this.constructed = true;
  this.prefinished = false;
  this.errorEmitted = false;
  this.emitClose = !options || options.emitClose !== false;
  this.autoDestroy = !options || options.autoDestroy !== false;
  this.errored = null;
  this.closed = false;
  this.closeEmitted = false;
  this[kOnFinished] = [];
}

function resetBuffer(state: S): void {
  state.buffered = [];
  state.bufferedIndex = 0;
  state.allBuffers = true;
  state.allNoop = true;
}

ObjectSetPrototypeOf(WritableState.prototype, null);

export const Writable = function Writable(this: S, options?: S) {
  const isDuplex = isInstance(this, Duplex);
  if (!isDuplex && !(isInstance(this, Writable))) return new (Writable as any)(options);
  this._writableState = new (WritableState as any)(options, this, isDuplex);
  if (options) {
    if (typeof options.write === "function") this._write = options.write;
    if (typeof options.writev === "function") this._writev = options.writev;
    if (typeof options.destroy === "function") this._destroy = options.destroy;
    if (typeof options.final === "function") this._final = options.final;
    if (typeof options.construct === "function") this._construct = options.construct;
    if (options.signal) addAbortSignalNoValidate(options.signal, this);
  }
  ReflectApply(Stream, this, [options]);
  construct(this, () => {
    const state = this._writableState;
    if (!state.writing) clearBuffer(this, state);
    finishMaybe(this, state);
  });
} as unknown as S;
ObjectSetPrototypeOf(Writable.prototype, Stream.prototype);
ObjectSetPrototypeOf(Writable, Stream);
Writable.WritableState = WritableState;

// A Duplex is a Writable too, as in Node (it inherits from Readable only).
ObjectDefineProperty(Writable, (Symbol as unknown as { hasInstance: symbol }).hasInstance, {
  __proto__: null,
  value: function (this: S, object: S) {
    if (typeof this !== "function" || (typeof object !== "object" && typeof object !== "function") || object === null) return false;
    if (ObjectPrototypeIsPrototypeOf(this.prototype, object)) return true;
    if (this !== Writable) return false;
    return !!(object && object._writableState instanceof (WritableState as any));
  },
} as PropertyDescriptor);

const W = Writable.prototype;

W.pipe = function (this: S) {
  errorOrDestroy(this, errors.cannotPipe());
};

function _write(stream: S, chunk: any, encoding: any, cb?: Callback): boolean {
  const state = stream._writableState;
  if (typeof encoding === "function") {
    cb = encoding;
    encoding = state.defaultEncoding;
  } else {
    if (!encoding) encoding = state.defaultEncoding;
    else if (encoding !== "buffer" && !isEncoding(encoding)) throw nodeError(TypeError, "ERR_UNKNOWN_ENCODING", `Unknown encoding: ${encoding}`);
    if (typeof cb !== "function") cb = nop;
  }
  if (chunk === null) throw errors.nullValues();
  else if (!state.objectMode) {
    if (typeof chunk === "string") {
      if (state.decodeStrings !== false) {
        chunk = bufferFrom(chunk, encoding);
        encoding = "buffer";
      }
    } else if (isBuffer(chunk)) encoding = "buffer";
    else if (isUint8Array(chunk)) {
      chunk = uint8ArrayToBuffer(chunk);
      encoding = "buffer";
    } else throw invalidArgType("chunk", ["string", "Buffer", "Uint8Array"], chunk);
  }
  let err: unknown;
  if (state.ending) err = errors.writeAfterEnd();
  else if (state.destroyed) err = errors.destroyed("write");
  if (err) {
    nextTick(cb!, err);
    errorOrDestroy(stream, err, true);
    return err as never;
  }
  state.pendingcb++;
  return writeOrBuffer(stream, state, chunk, encoding, cb!);
}

W.write = function (this: S, chunk: unknown, encoding?: unknown, cb?: Callback): boolean {
  return _write(this, chunk, encoding, cb) === true;
};

W.cork = function (this: S) {
  this._writableState.corked++;
};

W.uncork = function (this: S) {
  const state = this._writableState;
  if (state.corked) {
    state.corked--;
    if (!state.writing) clearBuffer(this, state);
  }
};

W.setDefaultEncoding = function (this: S, encoding: unknown): S {
  if (typeof encoding === "string") encoding = primordials.StringPrototypeToLowerCase(encoding);
  if (!isEncoding(encoding)) throw nodeError(TypeError, "ERR_UNKNOWN_ENCODING", `Unknown encoding: ${encoding}`);
  this._writableState.defaultEncoding = encoding;
  return this;
};

function writeOrBuffer(stream: S, state: S, chunk: any, encoding: any, callback: Callback): boolean {
  const len = state.objectMode ? 1 : typeof chunk === "string" ? chunk.length : TypedArrayPrototypeGetLength(chunk);
  state.length += len;
  const ret = state.length < state.highWaterMark;
  if (!ret) state.needDrain = true;
  if (state.writing || state.corked || state.errored || !state.constructed) {
    ArrayPrototypePush(state.buffered, { chunk, encoding, callback });
    if (state.allBuffers && encoding !== "buffer") state.allBuffers = false;
    if (state.allNoop && callback !== nop) state.allNoop = false;
  } else {
    state.writelen = len;
    state.writecb = callback;
    state.writing = true;
    state.sync = true;
    stream._write(chunk, encoding, state.onwrite);
    state.sync = false;
  }
  return ret && !state.errored && !state.destroyed;
}

function doWrite(stream: S, state: S, writev: boolean, len: number, chunk: any, encoding: any, cb: Callback): void {
  state.writelen = len;
  state.writecb = cb;
  state.writing = true;
  state.sync = true;
  if (state.destroyed) state.onwrite(errors.destroyed("write"));
  else if (writev) stream._writev(chunk, state.onwrite);
  else stream._write(chunk, encoding, state.onwrite);
  state.sync = false;
}

function onwriteError(stream: S, state: S, er: unknown, cb: Callback): void {
  --state.pendingcb;
  cb(er);
  errorBuffer(state);
  errorOrDestroy(stream, er);
}

function onwrite(stream: S, er?: any): void {
  const state = stream._writableState;
  const sync = state.sync;
  const cb = state.writecb;
  if (typeof cb !== "function") {
    errorOrDestroy(stream, errors.multipleCallback());
    return;
  }
  state.writing = false;
  state.writecb = null;
  state.length -= state.writelen;
  state.writelen = 0;
  if (er) {
    if (!state.errored) state.errored = er;
    if (stream._readableState && !stream._readableState.errored) stream._readableState.errored = er;
    if (sync) nextTick(onwriteError, stream, state, er, cb);
    else onwriteError(stream, state, er, cb);
  } else {
    if (state.buffered.length > state.bufferedIndex) clearBuffer(stream, state);
    if (sync) {
      if (state.afterWriteTickInfo !== null && state.afterWriteTickInfo.cb === cb) state.afterWriteTickInfo.count++;
      else {
        state.afterWriteTickInfo = { count: 1, cb, stream, state };
        nextTick(afterWriteTick, state.afterWriteTickInfo);
      }
    } else afterWrite(stream, state, 1, cb);
  }
}

function afterWriteTick({ stream, state, count, cb }: S): void {
  state.afterWriteTickInfo = null;
  return afterWrite(stream, state, count, cb);
}

function afterWrite(stream: S, state: S, count: number, cb: Callback): void {
  const needDrain = !state.ending && !stream.destroyed && state.length === 0 && state.needDrain;
  if (needDrain) {
    state.needDrain = false;
    stream.emit("drain");
  }
  while (count-- > 0) {
    state.pendingcb--;
    cb(null);
  }
  if (state.destroyed) errorBuffer(state);
  finishMaybe(stream, state);
}

function errorBuffer(state: S): void {
  if (state.writing) return;
  for (let n = state.bufferedIndex; n < state.buffered.length; ++n) {
    const { chunk, callback } = state.buffered[n];
    const len = state.objectMode ? 1 : typeof chunk === "string" ? chunk.length : TypedArrayPrototypeGetLength(chunk);
    state.length -= len;
    callback(state.errored ?? errors.destroyed("write"));
  }
  const onfinishCallbacks = state[kOnFinished];
  state[kOnFinished] = [];
  for (let i = 0; i < onfinishCallbacks.length; i++) onfinishCallbacks[i](state.errored ?? errors.destroyed("end"));
  resetBuffer(state);
}

function clearBuffer(stream: S, state: S): void {
  if (state.corked || state.bufferProcessing || state.destroyed || !state.constructed) return;
  const { buffered, bufferedIndex, objectMode } = state;
  const bufferedLength = buffered.length - bufferedIndex;
  if (!bufferedLength) return;
  let i = bufferedIndex;
  state.bufferProcessing = true;
  if (bufferedLength > 1 && stream._writev) {
    state.pendingcb -= bufferedLength - 1;
    const callback = state.allNoop
      ? nop
      : (err?: unknown) => {
          for (let n = i; n < buffered.length; ++n) buffered[n].callback(err);
        };
    const chunks = state.allNoop && i === 0 ? buffered : primordials.ArrayPrototypeSlice(buffered, i);
    chunks.allBuffers = state.allBuffers;
    doWrite(stream, state, true, state.length, chunks, "", callback);
    resetBuffer(state);
  } else {
    do {
      const { chunk, encoding, callback } = buffered[i];
      buffered[i++] = null;
      // A buffered Buffer's length through the captured getter (user code may replace TypedArray.prototype.length).
      const len = objectMode ? 1 : typeof chunk === "string" ? chunk.length : TypedArrayPrototypeGetLength(chunk);
      doWrite(stream, state, false, len, chunk, encoding, callback);
    } while (i < buffered.length && !state.writing);
    if (i === buffered.length) resetBuffer(state);
    else if (i > 256) {
      ArrayPrototypeSplice(buffered, 0, i);
      state.bufferedIndex = 0;
    } else state.bufferedIndex = i;
  }
  state.bufferProcessing = false;
}

W._write = function (this: S, chunk: unknown, encoding: unknown, cb: Callback) {
  if (this._writev) this._writev([{ chunk, encoding }], cb);
  else throw errors.notImplemented("_write()");
};
W._writev = null;

W.end = function (this: S, chunk?: unknown, encoding?: unknown, cb?: Callback): S {
  const state = this._writableState;
  if (typeof chunk === "function") {
    cb = chunk as Callback;
    chunk = null;
    encoding = null;
  } else if (typeof encoding === "function") {
    cb = encoding as Callback;
    encoding = null;
  }
  let err: unknown;
  if (chunk !== null && chunk !== undefined) {
    const ret = _write(this, chunk, encoding);
    if (ret !== true && ret !== false) err = ret;
  }
  if (state.corked) {
    state.corked = 1;
    this.uncork();
  }
  if (err) {
    // Nothing: the write already failed.
  } else if (!state.errored && !state.ending) {
    state.ending = true;
    finishMaybe(this, state, true);
    state.ended = true;
  } else if (state.finished) err = errors.alreadyFinished("end");
  else if (state.destroyed) err = errors.destroyed("end");
  if (typeof cb === "function") {
    if (err) nextTick(cb, err);
    else if (state.finished) nextTick(cb, null);
    else ArrayPrototypePush(state[kOnFinished], cb);
  }
  return this;
};

function needFinish(state: S): boolean {
  return (
    state.ending &&
    !state.destroyed &&
    state.constructed &&
    state.length === 0 &&
    !state.errored &&
    state.buffered.length === 0 &&
    !state.finished &&
    !state.writing &&
    !state.errorEmitted &&
    !state.closeEmitted
  );
}

function callFinal(stream: S, state: S): void {
  let called = false;
  function onFinish(err?: any) {
    if (called) {
      errorOrDestroy(stream, err ?? errors.multipleCallback());
      return;
    }
    called = true;
    state.pendingcb--;
    if (err) {
      const onfinishCallbacks = state[kOnFinished];
      state[kOnFinished] = [];
      for (let i = 0; i < onfinishCallbacks.length; i++) onfinishCallbacks[i](err);
      errorOrDestroy(stream, err, state.sync);
    } else if (needFinish(state)) {
      state.prefinished = true;
      stream.emit("prefinish");
      state.pendingcb++;
      nextTick(finish, stream, state);
    }
  }
  state.sync = true;
  state.pendingcb++;
  try {
    stream._final(onFinish);
  } catch (err) {
    onFinish(err);
  }
  state.sync = false;
}

function prefinish(stream: S, state: S): void {
  if (!state.prefinished && !state.finalCalled) {
    if (typeof stream._final === "function" && !state.destroyed) {
      state.finalCalled = true;
      callFinal(stream, state);
    } else {
      state.prefinished = true;
      stream.emit("prefinish");
    }
  }
}

function finishMaybe(stream: S, state: S, sync?: boolean): void {
  if (needFinish(state)) {
    prefinish(stream, state);
    if (state.pendingcb === 0) {
      if (sync) {
        state.pendingcb++;
        nextTick(
          (stream: S, state: S) => {
            if (needFinish(state)) finish(stream, state);
            else state.pendingcb--;
          },
          stream,
          state,
        );
      } else if (needFinish(state)) {
        state.pendingcb++;
        finish(stream, state);
      }
    }
  }
}

function finish(stream: S, state: S): void {
  state.pendingcb--;
  state.finished = true;
  const onfinishCallbacks = state[kOnFinished];
  state[kOnFinished] = [];
  for (let i = 0; i < onfinishCallbacks.length; i++) onfinishCallbacks[i](null);
  stream.emit("finish");
  if (state.autoDestroy) {
    const rState = stream._readableState;
    const autoDestroy = !rState || (rState.autoDestroy && (rState.endEmitted || rState.readable === false));
    if (autoDestroy) stream.destroy();
  }
}

accessors(W, {
  closed: { get() { return this._writableState ? this._writableState.closed : false; } },
  destroyed: {
    get() { return this._writableState ? this._writableState.destroyed : false; },
    set(value: boolean) { if (this._writableState) this._writableState.destroyed = value; },
  },
  writable: {
    get() {
      const w = this._writableState;
      return !!w && w.writable !== false && !w.destroyed && !w.errored && !w.ending && !w.ended;
    },
    set(val: boolean) { if (this._writableState) this._writableState.writable = !!val; },
  },
  writableFinished: { get() { return this._writableState ? this._writableState.finished : false; } },
  writableObjectMode: { get() { return this._writableState ? this._writableState.objectMode : false; } },
  writableBuffer: { get() { return this._writableState && primordials.ArrayPrototypeSlice(this._writableState.buffered, this._writableState.bufferedIndex); } },
  writableEnded: { get() { return this._writableState ? this._writableState.ending : false; } },
  writableNeedDrain: {
    get() {
      const wState = this._writableState;
      if (!wState) return false;
      return !wState.destroyed && !wState.ending && wState.needDrain;
    },
  },
  writableHighWaterMark: { get() { return this._writableState && this._writableState.highWaterMark; } },
  writableCorked: { get() { return this._writableState ? this._writableState.corked : 0; } },
  writableLength: { get() { return this._writableState && this._writableState.length; } },
  errored: { get() { return this._writableState ? this._writableState.errored : null; } },
  writableAborted: {
    get() {
      return !!(this._writableState.writable !== false && (this._writableState.destroyed || this._writableState.errored) && !this._writableState.finished);
    },
  },
});

W.destroy = function (this: S, err?: unknown, cb?: Callback): S {
  const state = this._writableState;
  if (!state.destroyed && (state.bufferedIndex < state.buffered.length || state[kOnFinished].length)) nextTick(errorBuffer, state);
  ReflectApply(destroyer, this, [err, cb]);
  return this;
};
W._undestroy = undestroy;
W._destroy = function (err: unknown, cb: Callback) {
  cb(err);
};
W[SymbolFor("nodejs.rejection")] = function (this: S, err: unknown) {
  this.destroy(err);
};

// ---------------------------------------------------------------------------------------------
// Duplex, Transform, PassThrough

export const Duplex = function Duplex(this: S, options?: S) {
  if (!(isInstance(this, Duplex))) return new (Duplex as any)(options);
  ReflectApply(Readable, this, [options]);
  ReflectApply(Writable, this, [options]);
  if (options) {
    this.allowHalfOpen = options.allowHalfOpen !== false;
    if (ObjectPrototypeHasOwnProperty(options, "readable") && options.readable === false) {
      this._readableState.readable = false;
      this._readableState.ended = true;
      this._readableState.endEmitted = true;
    }
    if (ObjectPrototypeHasOwnProperty(options, "writable") && options.writable === false) {
      this._writableState.writable = false;
      this._writableState.ending = true;
      this._writableState.ended = true;
      this._writableState.finished = true;
    }
  } else this.allowHalfOpen = true;
} as unknown as S;
ObjectSetPrototypeOf(Duplex.prototype, Readable.prototype);
ObjectSetPrototypeOf(Duplex, Readable);
// Writable's methods that Readable has no method of the same name for, then its writable* accessors.
{
  const keys = ObjectKeys(W);
  for (let i = 0; i < keys.length; i++) if (!Duplex.prototype[keys[i]]) Duplex.prototype[keys[i]] = W[keys[i]];
  const names = ["writable", "writableHighWaterMark", "writableObjectMode", "writableBuffer", "writableLength", "writableFinished", "writableCorked", "writableEnded", "writableNeedDrain", "writableAborted"];
  for (let i = 0; i < names.length; i++) ObjectDefineProperty(Duplex.prototype, names[i], primordials.ReflectGetOwnPropertyDescriptor(W, names[i])!);
}
accessors(Duplex.prototype, {
  destroyed: {
    get() {
      if (this._readableState === undefined || this._writableState === undefined) return false;
      return this._readableState.destroyed && this._writableState.destroyed;
    },
    set(value: boolean) {
      if (this._readableState && this._writableState) {
        this._readableState.destroyed = value;
        this._writableState.destroyed = value;
      }
    },
  },
  errored: { get() { return (this._readableState && this._readableState.errored) || (this._writableState && this._writableState.errored) || null; } },
  closed: { get() { return !!(this._readableState && this._readableState.closed) && !!(this._writableState && this._writableState.closed); } },
});

const kCallback = Symbol("kCallback");

export const Transform = function Transform(this: S, options?: S) {
  if (!(isInstance(this, Transform))) return new (Transform as any)(options);
  const readableHighWaterMark = options ? highWaterMarkFrom(options, true, "readableHighWaterMark") : null;
  if (readableHighWaterMark === 0) {
    options = {
      ...options,
      highWaterMark: null,
      readableHighWaterMark,
      writableHighWaterMark: options.writableHighWaterMark || 0,
    };
  }
  ReflectApply(Duplex, this, [options]);
  this._readableState.sync = false;
  this[kCallback] = null;
  if (options) {
    if (typeof options.transform === "function") this._transform = options.transform;
    if (typeof options.flush === "function") this._flush = options.flush;
  }
  this.on("prefinish", prefinishTransform);
} as unknown as S;
ObjectSetPrototypeOf(Transform.prototype, Duplex.prototype);
ObjectSetPrototypeOf(Transform, Duplex);

function finalTransform(this: S, cb?: Callback): void {
  if (typeof this._flush === "function" && !this.destroyed) {
    this._flush((er: unknown, data: unknown) => {
      if (er) {
        if (cb) cb(er);
        else this.destroy(er);
        return;
      }
      if (data != null) this.push(data);
      this.push(null);
      if (cb) cb();
    });
  } else {
    this.push(null);
    if (cb) cb();
  }
}

function prefinishTransform(this: S): void {
  if (this._final !== finalTransform) ReflectApply(finalTransform, this, []);
}

Transform.prototype._final = finalTransform;
Transform.prototype._transform = function () {
  throw errors.notImplemented("_transform()");
};
Transform.prototype._write = function (this: S, chunk: unknown, encoding: unknown, callback: Callback) {
  const rState = this._readableState;
  const wState = this._writableState;
  const length = rState.length;
  this._transform(chunk, encoding, (err: unknown, val: unknown) => {
    if (err) {
      callback(err);
      return;
    }
    if (val != null) this.push(val);
    if (rState.ended) nextTick(callback);
    else if (wState.ended || length === rState.length || rState.length < rState.highWaterMark) callback();
    else this[kCallback] = callback;
  });
};
Transform.prototype._read = function (this: S) {
  if (this[kCallback]) {
    const callback = this[kCallback];
    this[kCallback] = null;
    callback();
  }
};

export const PassThrough = function PassThrough(this: S, options?: S) {
  if (!(isInstance(this, PassThrough))) return new (PassThrough as any)(options);
  ReflectApply(Transform, this, [options]);
} as unknown as S;
ObjectSetPrototypeOf(PassThrough.prototype, Transform.prototype);
ObjectSetPrototypeOf(PassThrough, Transform);
PassThrough.prototype._transform = function (chunk: unknown, _encoding: unknown, cb: (error: null, chunk: unknown) => void) {
  cb(null, chunk);
};

// ---------------------------------------------------------------------------------------------
// utils.js and end-of-stream.js

/**
 * `stream.readable` / `stream.writable`, but not looked up on one of islet's streams that has no
 * such side (a Writable's `readable` would be read from Object.prototype, as Node reads it).
 */
function readableOf(stream: S): unknown {
  return stream._readableState !== undefined || stream._writableState === undefined ? stream.readable : undefined;
}

function writableOf(stream: S): unknown {
  return stream._writableState !== undefined || stream._readableState === undefined ? stream.writable : undefined;
}

export function isReadableNodeStream(obj: S, strict = false): boolean {
  return !!(obj && typeof obj.pipe === "function" && typeof obj.on === "function" && (!strict || (typeof obj.pause === "function" && typeof obj.resume === "function")) && (!obj._writableState || (obj._readableState && obj._readableState.readable !== false)) && (!obj._writableState || obj._readableState));
}

export function isWritableNodeStream(obj: S): boolean {
  return !!(obj && typeof obj.write === "function" && typeof obj.on === "function" && (!obj._readableState || (obj._writableState && obj._writableState.writable !== false)));
}

export function isNodeStream(obj: S): boolean {
  return obj && (obj._readableState || obj._writableState || (typeof obj.write === "function" && typeof obj.on === "function") || (typeof obj.pipe === "function" && typeof obj.on === "function"));
}

export function isDestroyed(stream: S): boolean {
  if (!isNodeStream(stream)) return false;
  const wState = stream._writableState;
  const rState = stream._readableState;
  const state = wState || rState;
  return !!(stream.destroyed || stream[kIsDestroyed] || (state && state.destroyed));
}

export function isReadableEnded(stream: S): boolean | null {
  if (!isReadableNodeStream(stream)) return null;
  const rState = stream._readableState;
  if (!rState || rState.errored) return false;
  if (typeof rState.ended !== "boolean") return null;
  return rState.ended;
}

export function isReadableFinished(stream: S, strict?: boolean): boolean | null {
  if (!isReadableNodeStream(stream)) return null;
  const rState = stream._readableState;
  if (rState && rState.errored) return false;
  if (typeof rState?.endEmitted !== "boolean") return null;
  return !!(rState.endEmitted || (strict === false && rState.ended === true && rState.length === 0));
}

export function isWritableFinished(stream: S, strict?: boolean): boolean | null {
  if (!isWritableNodeStream(stream)) return null;
  if (stream.writableFinished === true) return true;
  const wState = stream._writableState;
  if (wState && wState.errored) return false;
  if (typeof wState?.finished !== "boolean") return null;
  return !!(wState.finished || (strict === false && wState.ended === true && wState.length === 0));
}

export function isReadable(stream: S): boolean | null {
  if (stream && stream[kIsReadable] != null) return stream[kIsReadable];
  if (stream == null || typeof readableOf(stream) !== "boolean") return null;
  if (isDestroyed(stream)) return false;
  return isReadableNodeStream(stream) && stream.readable && !isReadableFinished(stream);
}

export function isWritable(stream: S): boolean | null {
  if (stream == null || typeof writableOf(stream) !== "boolean") return null;
  if (isDestroyed(stream)) return false;
  return isWritableNodeStream(stream) && stream.writable && !isWritableEnded(stream);
}

function isWritableEnded(stream: S): boolean | null {
  if (!isWritableNodeStream(stream)) return null;
  if (stream.writableEnded === true) return true;
  const wState = stream._writableState;
  if (wState?.errored) return false;
  if (typeof wState?.ended !== "boolean") return null;
  return wState.ended;
}

export function isErrored(stream: S): boolean {
  return !!(stream && (stream[kIsErrored] ?? stream.readableErrored ?? stream.writableErrored ?? stream._readableState?.errorEmitted ?? stream._writableState?.errorEmitted ?? stream._readableState?.errored ?? stream._writableState?.errored));
}

export function isDisturbed(stream: S): boolean {
  return !!(stream && (stream[kIsDisturbed] ?? (stream.readableDidRead || stream.readableAborted)));
}

const kIsErrored = SymbolFor("nodejs.stream.errored");
const kIsReadable = SymbolFor("nodejs.stream.readable");
const kIsDisturbed = SymbolFor("nodejs.stream.disturbed");

function isRequest(stream: S): boolean {
  return stream && stream.setHeader && typeof stream.abort === "function";
}

/**
 * end-of-stream: calls `callback` once `stream` has ended, finished, errored or closed early
 * (ERR_STREAM_PREMATURE_CLOSE); returns a function that removes the listeners.
 */
export function eos(stream: S, options: S, callback?: (error?: unknown) => void): () => void {
  if (typeof options === "function") {
    callback = options;
    options = ObjectCreate(null);
  } else if (options == null) options = ObjectCreate(null);
  if (typeof callback !== "function") throw invalidArgType("callback", "Function", callback);
  let called = false;
  const userCallback = callback;
  callback = function (this: S, ...args: unknown[]) {
    if (called) return;
    called = true;
    ReflectApply(userCallback, this, args);
  };
  const readable = options.readable ?? isReadableNodeStream(stream);
  const writable = options.writable ?? isWritableNodeStream(stream);
  const wState = stream._writableState;
  const rState = stream._readableState;
  const onlegacyfinish = () => {
    if (!stream.writable) onfinish();
  };
  let willEmitClose = (wState && wState.autoDestroy && wState.emitClose && wState.closed === false && isReadableNodeStream(stream) === readable) || (rState && rState.autoDestroy && rState.emitClose && rState.closed === false && isWritableNodeStream(stream) === writable);
  let writableFinished = isWritableFinished(stream, false);
  const onfinish = () => {
    writableFinished = true;
    if (stream.destroyed) willEmitClose = false;
    if (willEmitClose && (!readableOf(stream) || readable)) return;
    if (!readable || readableFinished) ReflectApply(callback!, stream, []);
  };
  let readableFinished = isReadableFinished(stream, false);
  const onend = () => {
    readableFinished = true;
    if (stream.destroyed) willEmitClose = false;
    if (willEmitClose && (!writableOf(stream) || writable)) return;
    if (!writable || writableFinished) ReflectApply(callback!, stream, []);
  };
  const onerror = (err: unknown) => {
    ReflectApply(callback!, stream, [err]);
  };
  let closed = isDestroyed(stream) || (wState && wState.closed) || (rState && rState.closed);
  const onclose = () => {
    closed = true;
    const errored = (wState && wState.errored) || (rState && rState.errored);
    if (errored && typeof errored !== "boolean") return ReflectApply(callback!, stream, [errored]);
    if (readable && !readableFinished && isReadableNodeStream(stream, true)) {
      if (!isReadableFinished(stream, false)) return ReflectApply(callback!, stream, [errors.prematureClose()]);
    }
    if (writable && !writableFinished) {
      if (!isWritableFinished(stream, false)) return ReflectApply(callback!, stream, [errors.prematureClose()]);
    }
    ReflectApply(callback!, stream, []);
  };
  const onclosed = () => {
    closed = true;
    const errored = (wState && wState.errored) || (rState && rState.errored);
    if (errored && typeof errored !== "boolean") return ReflectApply(callback!, stream, [errored]);
    ReflectApply(callback!, stream, []);
  };
  const onrequest = () => {
    stream.req.on("finish", onfinish);
  };
  if (isRequest(stream)) {
    stream.on("complete", onfinish);
    if (!willEmitClose) stream.on("abort", onclose);
    if (stream.req) onrequest();
    else stream.on("request", onrequest);
  } else if (writable && !wState) {
    stream.on("end", onlegacyfinish);
    stream.on("close", onlegacyfinish);
  }
  if (!willEmitClose && typeof stream.aborted === "boolean") stream.on("aborted", onclose);
  stream.on("end", onend);
  stream.on("finish", onfinish);
  if (options.error !== false) stream.on("error", onerror);
  stream.on("close", onclose);
  if (closed) nextTick(onclose);
  else if ((wState && wState.errorEmitted) || (rState && rState.errorEmitted)) {
    if (!willEmitClose) nextTick(onclosed);
  } else if (!readable && (!willEmitClose || isReadable(stream)) && (writableFinished || isWritable(stream) === false)) nextTick(onclosed);
  else if (!writable && (!willEmitClose || isWritable(stream)) && (readableFinished || isReadable(stream) === false)) nextTick(onclosed);
  else if (rState && stream.req && stream.aborted) nextTick(onclosed);
  const cleanup = () => {
    callback = nop;
    stream.removeListener("aborted", onclose);
    stream.removeListener("complete", onfinish);
    stream.removeListener("abort", onclose);
    stream.removeListener("request", onrequest);
    if (stream.req) stream.req.removeListener("finish", onfinish);
    stream.removeListener("end", onlegacyfinish);
    stream.removeListener("close", onlegacyfinish);
    stream.removeListener("finish", onfinish);
    stream.removeListener("end", onend);
    stream.removeListener("error", onerror);
    stream.removeListener("close", onclose);
  };
  if (options.signal && !closed) {
    const abort = () => {
      const endCallback = callback!;
      cleanup();
      ReflectApply(endCallback, stream, [new AbortErrorClass(undefined, { cause: options.signal.reason })]);
    };
    if (options.signal.aborted) nextTick(abort);
    else {
      const originalCallback = callback;
      options.signal.addEventListener("abort", abort, { once: true });
      callback = function (this: S, ...args: unknown[]) {
        options.signal.removeEventListener("abort", abort);
        ReflectApply(originalCallback!, this, args);
      };
    }
  }
  return cleanup;
}

export { AbortErrorClass as AbortError };

/** stream.finished(stream[, options], callback). */
export function finished(stream: unknown, options: unknown, callback?: (error?: unknown) => void): () => void {
  if (!isNodeStream(stream)) {
    if (stream && typeof (stream as S).getReader === "function") throw errors.notImplemented("finished() of a web stream");
    throw invalidArgType("stream", ["ReadableStream", "WritableStream", "Stream"], stream);
  }
  return eos(stream, options, callback);
}

export function addAbortSignal(signal: unknown, stream: unknown): unknown {
  if (signal === undefined || signal === null || typeof signal !== "object" || !("aborted" in signal)) throw invalidArgType("signal", "AbortSignal", signal);
  if (!isNodeStream(stream)) throw invalidArgType("stream", ["ReadableStream", "WritableStream", "Stream"], stream);
  return addAbortSignalNoValidate(signal, stream);
}

function addAbortSignalNoValidate(signal: S, stream: S): S {
  if (typeof signal !== "object" || !("aborted" in signal)) return stream;
  const onAbort = () => stream.destroy(new AbortErrorClass(undefined, { cause: signal.reason }));
  if (signal.aborted) onAbort();
  else {
    signal.addEventListener("abort", onAbort, { once: true });
    eos(stream, () => signal.removeEventListener("abort", onAbort));
  }
  return stream;
}

/** stream.destroy(stream, error): destroys a Node stream (the module's own helper). */
export function destroyAny(stream: S, error?: unknown): void {
  destroyStream(stream, error);
}
