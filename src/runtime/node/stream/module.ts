// node:stream, node:stream/promises and node:stream/consumers: the classes of core.ts with
// Node's pipeline() (lib/internal/streams/pipeline.js, reduced: Node streams, iterables, async
// iterables and generator functions; web streams are converted by Readable.fromWeb / toWeb),
// Readable.from, and the web-streams adapters over the sandbox's own ReadableStream and
// WritableStream (reached through the captured methods the streams chunk exports).

/* eslint-disable @typescript-eslint/no-explicit-any */

import {
  AbortError,
  addAbortSignal,
  destroyStream,
  Duplex,
  eos,
  errorOrDestroy,
  finished,
  getDefaultHighWaterMark,
  isDestroyed,
  isDisturbed,
  isErrored,
  isNodeStream,
  isReadable,
  isReadableNodeStream,
  isReadableFinished,
  isUint8Array,
  isWritable,
  PassThrough,
  Readable,
  readableIterator,
  setDefaultHighWaterMark,
  Stream,
  streamErrors,
  Transform,
  uint8ArrayToBuffer,
  Writable,
} from "./core.ts";
import { invalidArgType, invalidArgValue, nodeError } from "../errors.ts";
import { nextTick } from "../process.ts";
import { StringDecoder } from "../string-decoder.ts";
import { concat, from as bufferFrom } from "../buffer/buffer.ts";
import { define, stubFunction } from "../stubs.ts";
import { events, streams, web } from "../../platform.ts";
import { primordials, SymbolAsyncIterator, SymbolIterator } from "../../primordials.ts";

const {
  ArrayBufferViewGetBuffer,
  ArrayBufferViewGetByteLength,
  ArrayBufferViewGetByteOffset,
  ArrayBufferPrototypeSlice,
  ArrayIsArray,
  ArrayPrototypePop,
  ArrayPrototypePush,
  ArrayPrototypeShift,
  Error,
  JSONParse,
  Promise,
  PromisePrototypeThen,
  PromiseResolve,
  ReflectApply,
  StringPrototypeCharCodeAt,
  StringPrototypeSlice,
  TypeError,
} = primordials;

type S = any;

const missingArgs = (name: string) => nodeError(TypeError, "ERR_MISSING_ARGS", `The "${name}" argument must be specified`);
const invalidReturnValue = (input: string, name: string, value: unknown) =>
  nodeError(TypeError, "ERR_INVALID_RETURN_VALUE", `Expected ${input} to be returned from the "${name}" function but got ${value === null ? "null" : typeof value}.`);

function isIterable(value: S, isAsync?: boolean): boolean {
  if (value == null) return false;
  if (isAsync === true) return typeof value[SymbolAsyncIterator] === "function";
  if (isAsync === false) return typeof value[SymbolIterator] === "function";
  return typeof value[SymbolAsyncIterator] === "function" || typeof value[SymbolIterator] === "function";
}

interface Step {
  done: boolean;
  value: unknown;
}

/** A step the runtime resolves its own promises with: without a prototype, so no `then` is looked up on it. */
const step = (done: boolean, value: unknown): Step => ({ __proto__: null, done, value }) as Step;

/**
 * An async iteration of `iterable` as for-await does it (sync iterators' values awaited), without
 * the Array iterator user code can replace: an Array is read by index.
 */
function iterate(iterable: S): { next(): Promise<Step>; close(error?: unknown): Promise<unknown> } {
  if (ArrayIsArray(iterable)) {
    let i = 0;
    return {
      next: () => (i < iterable.length ? PromisePrototypeThen(PromiseResolve(iterable[i++]), (value) => step(false, value)) : PromiseResolve(step(true, undefined))),
      close: () => PromiseResolve(),
    };
  }
  const isAsync = typeof iterable[SymbolAsyncIterator] === "function";
  // islet's own Readable: its iterator with results the runtime alone reads (no prototype).
  const iterator = isAsync ? (iterable[SymbolAsyncIterator] === Readable.prototype[SymbolAsyncIterator] ? readableIterator(iterable, undefined, true) : iterable[SymbolAsyncIterator]()) : iterable[SymbolIterator]();
  return {
    next: () => {
      if (isAsync) return PromisePrototypeThen(PromiseResolve(iterator.next()), (result: S) => step(!!result.done, result.value));
      const result = iterator.next();
      if (result.done) return PromiseResolve(step(true, undefined));
      return PromisePrototypeThen(PromiseResolve(result.value), (value) => step(false, value));
    },
    close: async (error?: unknown) => {
      if (error != null && typeof iterator.throw === "function") {
        const result = await iterator.throw(error);
        await result.value;
        if (result.done) return;
      }
      if (typeof iterator.return === "function") {
        const result = await iterator.return();
        await result.value;
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Readable.from (from.js)

function readableFrom(iterable: S, opts?: S): S {
  if (typeof iterable === "string" || (isUint8Array(iterable) && iterable instanceof (bufferFrom("").constructor as any))) {
    return new Readable({
      objectMode: true,
      ...opts,
      read(this: S) {
        this.push(iterable);
        this.push(null);
      },
    });
  }
  if (!isIterable(iterable)) throw invalidArgType("iterable", ["Iterable"], iterable);
  const isAsync = !ArrayIsArray(iterable) && typeof iterable[SymbolAsyncIterator] === "function";
  const syncIterator = !isAsync && !ArrayIsArray(iterable) ? iterable[SymbolIterator]() : undefined;
  const asyncIteration = isAsync ? iterate(iterable) : undefined;
  let index = 0;
  const readable = new Readable({ objectMode: true, highWaterMark: 1, ...opts });
  let reading = false;
  readable._read = function () {
    if (!reading) {
      reading = true;
      if (isAsync) void nextAsync();
      else nextSync();
    }
  };
  readable._destroy = function (error: unknown, cb: (error?: unknown) => void) {
    const closing = asyncIteration !== undefined ? asyncIteration.close(error) : closeSync(error);
    PromisePrototypeThen(
      closing,
      () => nextTick(cb, error),
      (e: unknown) => nextTick(cb, e || error),
    );
  };
  async function closeSync(error: unknown): Promise<void> {
    if (syncIterator === undefined) return;
    if (error != null && typeof syncIterator.throw === "function") {
      const result = syncIterator.throw(error);
      await result.value;
      if (result.done) return;
    }
    if (typeof syncIterator.return === "function") {
      const result = syncIterator.return();
      await result.value;
    }
  }
  function nextSync(): void {
    for (;;) {
      try {
        let value: S;
        let done: boolean;
        if (syncIterator === undefined) {
          done = index >= iterable.length;
          value = done ? undefined : iterable[index++];
        } else {
          const result = syncIterator.next();
          done = !!result.done;
          value = result.value;
        }
        if (done) {
          readable.push(null);
          return;
        }
        // (Only an object's `then`, and not a byte chunk's: a string's, number's or buffer's would be
        // looked up on Object.prototype, where user code may have put one.)
        if (((typeof value === "object" && value !== null && !primordials.ArrayBufferIsView(value)) || typeof value === "function") && typeof value.then === "function") {
          PromisePrototypeThen(PromiseResolve(value), (resolved: unknown) => afterValue(resolved, nextSync), (error: unknown) => readable.destroy(error));
          return;
        }
        if (value === null) {
          reading = false;
          throw streamErrors.nullValues();
        }
        if (readable.push(value)) continue;
        reading = false;
      } catch (error) {
        readable.destroy(error);
      }
      break;
    }
  }
  function afterValue(value: unknown, again: () => void): void {
    if (value === null) {
      reading = false;
      readable.destroy(streamErrors.nullValues());
    } else if (readable.push(value)) again();
    else reading = false;
  }
  async function nextAsync(): Promise<void> {
    for (;;) {
      try {
        const { value, done } = await asyncIteration!.next();
        if (done) {
          readable.push(null);
          return;
        }
        if (value === null) {
          reading = false;
          throw streamErrors.nullValues();
        }
        if (readable.push(value)) continue;
        reading = false;
      } catch (error) {
        readable.destroy(error);
      }
      break;
    }
  }
  return readable;
}

// ---------------------------------------------------------------------------------------------
// pipeline (pipeline.js)

function popCallback(streams: unknown[]): (error?: unknown, value?: unknown) => void {
  const callback = streams[streams.length - 1];
  if (typeof callback !== "function") throw invalidArgType("streams[stream.length - 1]", "Function", callback);
  ArrayPrototypePop(streams);
  return callback as (error?: unknown, value?: unknown) => void;
}

function destroyer(stream: S, reading: boolean, writing: boolean) {
  let done = false;
  stream.on("close", () => {
    done = true;
  });
  const cleanup = eos(stream, { __proto__: null, readable: reading, writable: writing }, (err: unknown) => {
    done = !err;
  });
  return {
    destroy: (err?: unknown) => {
      if (done) return;
      done = true;
      destroyStream(stream, err || streamErrors.destroyed("pipe"));
    },
    cleanup,
  };
}

async function pumpToNode(iterable: S, writable: S, finish: (error?: unknown) => void, end: boolean): Promise<void> {
  let error: unknown;
  let onresolve: (() => void) | null = null;
  const resume = (err?: unknown) => {
    if (err) error = err;
    if (onresolve) {
      const callback = onresolve;
      onresolve = null;
      callback();
    }
  };
  const wait = () =>
    new Promise<void>((resolve, reject) => {
      if (error) reject(error);
      else
        onresolve = () => {
          if (error) reject(error);
          else resolve();
        };
    });
  writable.on("drain", resume);
  const cleanup = eos(writable, { __proto__: null, readable: false }, resume);
  const iteration = iterate(iterable);
  // As for-await: an error of the iterator itself does not close it; one of the loop's body does.
  let inBody = false;
  try {
    if (writable.writableNeedDrain) await wait();
    for (;;) {
      const { value, done } = await iteration.next();
      if (done) break;
      inBody = true;
      if (!writable.write(value)) await wait();
      inBody = false;
    }
    if (end) {
      writable.end();
      await wait();
    }
    finish();
  } catch (err) {
    finish(error !== err ? (error && err ? err : error || err) : err);
    if (inBody) PromisePrototypeThen(iteration.close(), undefined, () => {});
  } finally {
    cleanup();
    writable.off("drain", resume);
  }
}

function pipe(src: S, dst: S, finish: (error?: unknown) => void, end: boolean): void {
  let ended = false;
  dst.on("close", () => {
    if (!ended) finish(streamErrors.prematureClose());
  });
  src.pipe(dst, { end: false });
  if (end) {
    const endFn = () => {
      ended = true;
      dst.end();
    };
    if (isReadableFinished(src)) nextTick(endFn);
    else src.once("end", endFn);
    eos(dst, { __proto__: null, readable: false, writable: true }, finish);
  } else finish();
  eos(src, { __proto__: null, readable: true, writable: false }, (err: any) => {
    const rState = src._readableState;
    if (err && err.code === "ERR_STREAM_PREMATURE_CLOSE" && rState && rState.ended && !rState.errored && !rState.errorEmitted) src.once("end", finish).once("error", finish);
    else finish(err);
  });
}

function pipelineImpl(streamList: S[], callback: (error?: unknown, value?: unknown) => void, opts?: S): S {
  if (streamList.length === 1 && ArrayIsArray(streamList[0])) streamList = streamList[0];
  if (streamList.length < 2) throw missingArgs("streams");
  const eventsChunk = events();
  const controller = new eventsChunk.AbortController();
  const signal = eventsChunk.abortControllerSignal(controller) as S;
  const outerSignal = opts?.signal;
  const abort = () => finishImpl(new AbortError(undefined, { cause: outerSignal?.reason }), true);
  if (outerSignal) {
    if (outerSignal.aborted) nextTick(abort);
    else outerSignal.addEventListener("abort", abort, { once: true });
  }
  let error: any;
  let value: unknown;
  const destroys: { destroy(err?: unknown): void; cleanup(): void }[] = [];
  let finishCount = 0;
  let finished = false;
  function finish(err?: unknown) {
    finishImpl(err, --finishCount === 0);
  }
  function finishImpl(err: any, final: boolean) {
    if (err && (!error || error.code === "ERR_STREAM_PREMATURE_CLOSE")) error = err;
    if (!error && !final) return;
    while (destroys.length) ArrayPrototypeShift(destroys)!.destroy(error);
    if (outerSignal) outerSignal.removeEventListener("abort", abort);
    eventsChunk.abortControllerAbort(controller);
    if (final && !finished) {
      finished = true;
      if (!error) for (let i = 0; i < cleanups.length; i++) cleanups[i]();
      nextTick(callback, error, value);
    }
  }
  const cleanups: (() => void)[] = [];
  let ret: S;
  for (let i = 0; i < streamList.length; i++) {
    const stream = streamList[i];
    const reading = i < streamList.length - 1;
    const writing = i > 0;
    const end = reading || opts?.end !== false;
    const isLastStream = i === streamList.length - 1;
    if (isNodeStream(stream)) {
      if (end && isLastStream) {
        // Nothing: the last stream's end is awaited through its eos below.
      }
      // An error listener, so that a stream's error ends the pipeline rather than throwing.
      const onError = (err: any) => {
        if (err && err.name !== "AbortError" && err.code !== "ERR_STREAM_PREMATURE_CLOSE") finish(err);
      };
      stream.on("error", onError);
      cleanups[cleanups.length] = () => stream.removeListener("error", onError);
      const d = destroyer(stream, reading, writing);
      ArrayPrototypePush(destroys, d);
      cleanups[cleanups.length] = d.cleanup;
    }
    if (i === 0) {
      if (typeof stream === "function") {
        ret = stream({ signal });
        if (!isIterable(ret)) throw invalidReturnValue("Iterable, AsyncIterable or Stream", "source", ret);
      } else if (isIterable(stream) || isReadableNodeStream(stream)) ret = stream;
      else throw invalidArgType("source", ["Stream", "Iterable", "AsyncIterable", "Function"], stream);
    } else if (typeof stream === "function") {
      ret = stream(ret, { signal });
      if (reading) {
        if (!isIterable(ret, true)) throw invalidReturnValue("AsyncIterable", `transform[${i - 1}]`, ret);
      } else {
        const pt = new PassThrough({ objectMode: true });
        const then = ret?.then;
        if (typeof then === "function") {
          finishCount++;
          ReflectApply(then, ret, [
            (val: unknown) => {
              value = val;
              if (val != null) pt.write(val);
              if (end) pt.end();
              nextTick(finish);
            },
            (err: unknown) => {
              pt.destroy(err);
              nextTick(finish, err);
            },
          ]);
        } else if (isIterable(ret, true)) {
          finishCount++;
          void pumpToNode(ret, pt, finish, end);
        } else throw invalidReturnValue("AsyncIterable or Promise", "destination", ret);
        ret = pt;
        const d = destroyer(ret, false, true);
        ArrayPrototypePush(destroys, d);
      }
    } else if (isNodeStream(stream)) {
      if (isReadableNodeStream(ret)) {
        finishCount += 2;
        pipe(ret, stream, finish, end);
      } else if (isIterable(ret)) {
        finishCount++;
        void pumpToNode(ret, stream, finish, end);
      } else throw invalidArgType("val", ["Readable", "Iterable", "AsyncIterable"], ret);
      ret = stream;
    } else throw invalidArgType("val", ["Readable", "Iterable", "AsyncIterable", "Stream"], stream);
  }
  if (outerSignal?.aborted) nextTick(abort);
  return ret;
}

export function pipeline(...streamList: S[]): S {
  return pipelineImpl(streamList, popCallback(streamList));
}

function pipelinePromise(...streamList: S[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let opts: S;
    const last = streamList[streamList.length - 1];
    if (last && typeof last === "object" && !isNodeStream(last) && !isIterable(last)) {
      opts = ArrayPrototypePop(streamList);
    }
    pipelineImpl(
      streamList,
      (err, value) => {
        if (err) reject(err);
        else resolve(value);
      },
      opts,
    );
  });
}

function finishedPromise(stream: unknown, opts?: S): Promise<void> {
  return new Promise((resolve, reject) => {
    eos(stream, opts, (err: unknown) => {
      if (err) reject(err);
      else resolve();
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The web streams adapters (lib/internal/webstreams/adapters.js, reduced)

function isWebReadable(value: S): boolean {
  return streams().isReadableStream(value);
}

function readableToWeb(readable: S, options?: S): unknown {
  if (!isReadableNodeStream(readable)) throw invalidArgType("streamReadable", "stream.Readable", readable);
  const chunk = streams();
  const objectMode = readable.readableObjectMode;
  const highWaterMark = options?.strategy?.highWaterMark ?? (objectMode ? 16 : 1);
  let controller: S;
  let closed = false;
  readable.pause();
  const cleanup = eos(readable, (error: unknown) => {
    cleanup();
    if (closed) return;
    closed = true;
    if (error) chunk.defaultControllerError(controller, error);
    else chunk.defaultControllerClose(controller);
  });
  readable.on("data", (data: unknown) => {
    if (closed) return;
    // A byte stream hands out Uint8Arrays, not Buffers, as Node's adapter does.
    chunk.defaultControllerEnqueue(controller, !objectMode && isUint8Array(data) ? new primordials.Uint8Array(ArrayBufferViewGetBuffer(data), ArrayBufferViewGetByteOffset(data), ArrayBufferViewGetByteLength(data)) : data);
    const desired = chunk.defaultControllerDesiredSize(controller);
    if (desired !== null && desired <= 0) readable.pause();
  });
  return new chunk.ReadableStream(
    {
      __proto__: null,
      start(c: S) {
        controller = c;
      },
      pull() {
        readable.resume();
      },
      cancel(reason: unknown) {
        closed = true;
        destroyStream(readable, reason);
      },
    } as S,
    { __proto__: null, highWaterMark, size: objectMode ? undefined : (data: Uint8Array) => primordials.TypedArrayPrototypeGetByteLength(data) } as S,
  );
}

function readableFromWeb(readableStream: S, options: S = {}): S {
  if (!isWebReadable(readableStream)) throw invalidArgType("readableStream", "ReadableStream", readableStream);
  const chunk = streams();
  const { highWaterMark, encoding, objectMode = false, signal } = options;
  const reader = chunk.readableStreamGetReader(readableStream);
  let closed = false;
  const readable: S = new Readable({
    objectMode,
    highWaterMark,
    encoding,
    signal,
    read() {
      PromisePrototypeThen(
        chunk.defaultReaderRead(reader),
        (result: S) => {
          if (result.done) readable.push(null);
          else readable.push(result.value);
        },
        (error: unknown) => destroyStream(readable, error),
      );
    },
    destroy(error: unknown, callback: (error?: unknown) => void) {
      const done = () => nextTick(() => callback(error));
      if (!closed) PromisePrototypeThen(chunk.defaultReaderCancel(reader, error), done, done);
      else done();
    },
  });
  PromisePrototypeThen(
    (reader as S).closed === undefined ? PromiseResolve() : readerClosed(reader),
    () => {
      closed = true;
    },
    (error: unknown) => {
      closed = true;
      destroyStream(readable, error);
    },
  );
  return readable;
}

function readerClosed(reader: S): Promise<void> {
  // The reader's closed promise, read through the polyfill's own getter.
  const getter = primordials.ReflectGetOwnPropertyDescriptor(primordials.ReflectGetPrototypeOf(reader) as object, "closed")?.get;
  return getter === undefined ? PromiseResolve() : (ReflectApply(getter, reader, []) as Promise<void>);
}

function writableToWeb(writable: S): unknown {
  if (!isWritable(writable) && !(writable && writable._writableState)) throw invalidArgType("streamWritable", "stream.Writable", writable);
  const chunk = streams();
  let closed = false;
  let backpressure: { resolve(): void; reject(error: unknown): void } | undefined;
  let closing: { resolve(): void; reject(error: unknown): void } | undefined;
  writable.on("drain", () => {
    const waiting = backpressure;
    backpressure = undefined;
    if (waiting) waiting.resolve();
  });
  const cleanup = eos(writable, (error: unknown) => {
    cleanup();
    closed = true;
    const waiting = backpressure;
    backpressure = undefined;
    if (waiting) waiting.reject(error ?? streamErrors.prematureClose());
    const ending = closing;
    closing = undefined;
    if (ending) {
      if (error) ending.reject(error);
      else ending.resolve();
    }
  });
  return new chunk.WritableStream(
    {
      __proto__: null,
      write(data: unknown) {
        if (!writable.writableObjectMode && isUint8Array(data)) data = uint8ArrayToBuffer(data);
        if (writable.write(data)) return undefined;
        return new Promise<void>((resolve, reject) => {
          backpressure = { resolve, reject };
        });
      },
      abort(reason: unknown) {
        destroyStream(writable, reason);
      },
      close() {
        if (closed) return undefined;
        return new Promise<void>((resolve, reject) => {
          closing = { resolve, reject };
          writable.end();
        });
      },
    } as S,
    { __proto__: null, highWaterMark: writable.writableHighWaterMark ?? 1 } as S,
  );
}

function writableFromWeb(writableStream: S, options: S = {}): S {
  const chunk = streams();
  if (!(writableStream instanceof (chunk.WritableStream as S))) throw invalidArgType("writableStream", "WritableStream", writableStream);
  const { highWaterMark, decodeStrings = true, objectMode = false, signal } = options;
  const writer = chunk.writableStreamGetWriter(writableStream);
  return new Writable({
    highWaterMark,
    objectMode,
    decodeStrings,
    signal,
    write(data: unknown, _encoding: unknown, callback: (error?: unknown) => void) {
      PromisePrototypeThen(
        chunk.defaultWriterReady(writer),
        () =>
          PromisePrototypeThen(
            chunk.defaultWriterWrite(writer, data),
            () => callback(),
            (error: unknown) => callback(error),
          ),
        (error: unknown) => callback(error),
      );
    },
    final(callback: (error?: unknown) => void) {
      PromisePrototypeThen(
        chunk.defaultWriterClose(writer),
        () => callback(),
        (error: unknown) => callback(error),
      );
    },
    destroy(error: unknown, callback: (error?: unknown) => void) {
      if (error) {
        PromisePrototypeThen(
          chunk.defaultWriterAbort(writer, error),
          () => callback(error),
          () => callback(error),
        );
      } else callback();
    },
  });
}

// ---------------------------------------------------------------------------------------------
// stream/consumers

async function collect(stream: S, each: (chunk: unknown) => void): Promise<void> {
  if (isWebReadable(stream)) stream = readableFromWeb(stream, { objectMode: true });
  const iteration = iterate(stream);
  for (;;) {
    const { value, done } = await iteration.next();
    if (done) return;
    each(value);
  }
}

async function consumeBytes(stream: S): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  await collect(stream, (chunk) => {
    if (typeof chunk === "string") ArrayPrototypePush(chunks, bufferFrom(chunk));
    else if (isUint8Array(chunk)) ArrayPrototypePush(chunks, chunk);
    else if (primordials.ArrayBufferIsView(chunk)) ArrayPrototypePush(chunks, new primordials.Uint8Array(ArrayBufferViewGetBuffer(chunk as ArrayBufferView), ArrayBufferViewGetByteOffset(chunk as ArrayBufferView), ArrayBufferViewGetByteLength(chunk as ArrayBufferView)));
    else throw invalidArgType("chunk", ["string", "Buffer", "TypedArray", "DataView"], chunk);
  });
  return concat(chunks);
}

async function consumeText(stream: S): Promise<string> {
  const decoder = new StringDecoder("utf8") as S;
  let text = "";
  await collect(stream, (chunk) => {
    if (typeof chunk === "string") text += chunk;
    else text += decoder.write(chunk);
  });
  text += decoder.end();
  // TextDecoder, which Node's consumers use, drops a leading byte order mark.
  return text.length > 0 && StringPrototypeCharCodeAt(text, 0) === 0xfeff ? StringPrototypeSlice(text, 1) : text;
}

async function consumeArrayBuffer(stream: S): Promise<ArrayBuffer> {
  const bytes = await consumeBytes(stream);
  const start = ArrayBufferViewGetByteOffset(bytes);
  return ArrayBufferPrototypeSlice(ArrayBufferViewGetBuffer(bytes) as ArrayBuffer, start, start + ArrayBufferViewGetByteLength(bytes));
}

// ---------------------------------------------------------------------------------------------
// The modules

function duplexPair(options?: S): [S, S] {
  const a: S = new Duplex({ ...options, read() {}, write: (chunk: unknown, encoding: unknown, cb: () => void) => { b.push(chunk, encoding); cb(); }, final: (cb: () => void) => { b.push(null); cb(); } });
  const b: S = new Duplex({ ...options, read() {}, write: (chunk: unknown, encoding: unknown, cb: () => void) => { a.push(chunk, encoding); cb(); }, final: (cb: () => void) => { a.push(null); cb(); } });
  return [a, b];
}

export function createStreamPromises(): Record<string, unknown> {
  return { finished: finishedPromise, pipeline: pipelinePromise };
}

export function createStreamConsumers(): Record<string, unknown> {
  return {
    arrayBuffer: consumeArrayBuffer,
    blob: async (stream: S) => {
      const BlobClass = web().Blob as unknown as new (parts: unknown[]) => unknown;
      return new BlobClass([await consumeBytes(stream)]);
    },
    buffer: consumeBytes,
    json: async (stream: S) => JSONParse(await consumeText(stream)),
    text: consumeText,
  };
}

/** node:stream: the Stream function with the classes and helpers as its properties, as in Node. */
export function createStreamModule(promises: unknown): S {
  const statics = (target: object, values: Record<string, unknown>) => define(target, values);
  statics(Readable, {
    from: readableFrom,
    fromWeb: readableFromWeb,
    toWeb: readableToWeb,
  });
  statics(Writable, { fromWeb: writableFromWeb, toWeb: writableToWeb });
  statics(Duplex, {
    from: stubFunction("stream.Duplex.from", "from"),
  });
  const custom = primordials.SymbolFor("nodejs.util.promisify.custom");
  primordials.ObjectDefineProperty(pipeline, custom, { __proto__: null, value: (promises as S).pipeline, configurable: true } as PropertyDescriptor);
  primordials.ObjectDefineProperty(finished, custom, { __proto__: null, value: (promises as S).finished, configurable: true } as PropertyDescriptor);
  const module = Stream;
  define(module, {
    Stream,
    Readable,
    Writable,
    Duplex,
    Transform,
    PassThrough,
    pipeline,
    finished,
    addAbortSignal,
    compose: stubFunction("stream.compose", "compose"),
    destroy: (stream: S, error?: unknown) => destroyStream(stream, error),
    duplexPair,
    getDefaultHighWaterMark,
    setDefaultHighWaterMark,
    isDestroyed,
    isDisturbed,
    isErrored,
    isReadable,
    isWritable,
    promises,
    _isArrayBufferView: primordials.ArrayBufferIsView,
    _isUint8Array: isUint8Array,
    _uint8ArrayToBuffer: uint8ArrayToBuffer,
  });
  return module;
}
