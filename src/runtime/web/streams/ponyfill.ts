// The WHATWG Streams classes: web-streams-polyfill's ponyfill, which follows the reference
// implementation and passes the web-platform-tests. In islet's bundles it runs on the runtime's
// captured intrinsics: the build gives its module islet's values for the globals it names and
// rewrites its calls of built-in methods (scripts/build.mjs, polyfill-intrinsics.ts). What it
// still reaches through replaceable lookups is listed in SECURITY.md (P12). As published (the
// runtime's tests in Node) it reads its globals, which quiet-globals.ts sets while it loads.

import { publishedPolyfill, restoreGlobals } from "./quiet-globals.ts"; // first: the ponyfill must load after it
import * as polyfill from "web-streams-polyfill";
import { ReadableStream, WritableStreamDefaultController } from "web-streams-polyfill";
import { events } from "../../platform.ts";
import { ownGetter, ownMethod } from "../own.ts";
import { primordials, SymbolToStringTag } from "../../primordials.ts";

const { AsyncIteratorPrototype, ReflectApply, ReflectOwnKeys, ReflectGetOwnPropertyDescriptor, Uint8Array, ReflectDefineProperty, ReflectGetPrototypeOf, ReflectSetPrototypeOf, WeakMap, Originals } = primordials;

export {
  ByteLengthQueuingStrategy,
  CountQueuingStrategy,
  ReadableByteStreamController,
  ReadableStream,
  ReadableStreamBYOBReader,
  ReadableStreamBYOBRequest,
  ReadableStreamDefaultController,
  ReadableStreamDefaultReader,
  TransformStream,
  TransformStreamDefaultController,
  WritableStream,
  WritableStreamDefaultController,
  WritableStreamDefaultWriter,
} from "web-streams-polyfill";

export type { ReadableStreamDefaultReadResult, Transformer } from "web-streams-polyfill";

/**
 * The Streams Standard's ReadableStreamDefaultReaderRead(reader, readRequest), which islet's build
 * exports from the polyfill (scripts/build.mjs); undefined for the polyfill as published.
 */
export const readerRead = (polyfill as unknown as { ReadableStreamDefaultReaderRead?: (reader: object, request: object) => void }).ReadableStreamDefaultReaderRead;

// The streams' and controllers' methods and accessors islet's own code calls, captured now, before
// user code can see the classes (see ../own.ts).
export const transformStreamReadable = ownGetter<polyfill.ReadableStream>(polyfill.TransformStream.prototype, "readable");
export const transformStreamWritable = ownGetter<polyfill.WritableStream>(polyfill.TransformStream.prototype, "writable");
export const transformControllerEnqueue = ownMethod<[unknown], void>(polyfill.TransformStreamDefaultController.prototype, "enqueue");
export const defaultControllerEnqueue = ownMethod<[unknown], void>(polyfill.ReadableStreamDefaultController.prototype, "enqueue");
export const defaultControllerClose = ownMethod<[], void>(polyfill.ReadableStreamDefaultController.prototype, "close");
export const byteControllerEnqueue = ownMethod<[ArrayBufferView], void>(polyfill.ReadableByteStreamController.prototype, "enqueue");
export const byteControllerClose = ownMethod<[], void>(polyfill.ReadableByteStreamController.prototype, "close");
export const byteControllerError = ownMethod<[unknown], void>(polyfill.ReadableByteStreamController.prototype, "error");
export const writableControllerError = ownMethod<[unknown], void>(polyfill.WritableStreamDefaultController.prototype, "error");
export const byteControllerByobRequest = ownGetter<polyfill.ReadableStreamBYOBRequest | null>(polyfill.ReadableByteStreamController.prototype, "byobRequest");
export const byobRequestRespond = ownMethod<[number], void>(polyfill.ReadableStreamBYOBRequest.prototype, "respond");
export const readableStreamLocked = ownGetter<boolean>(polyfill.ReadableStream.prototype, "locked");
export const readableStreamTee = ownMethod<[], [polyfill.ReadableStream<unknown>, polyfill.ReadableStream<unknown>]>(polyfill.ReadableStream.prototype, "tee");
export const readableStreamGetReader = ownMethod<[], polyfill.ReadableStreamDefaultReader<unknown>>(polyfill.ReadableStream.prototype, "getReader");
export const defaultReaderRead = ownMethod<[], Promise<polyfill.ReadableStreamDefaultReadResult<unknown>>>(polyfill.ReadableStreamDefaultReader.prototype, "read");
export const defaultReaderCancel = ownMethod<[unknown], Promise<void>>(polyfill.ReadableStreamDefaultReader.prototype, "cancel");
export const defaultReaderReleaseLock = ownMethod<[], void>(polyfill.ReadableStreamDefaultReader.prototype, "releaseLock");
export const writableStreamGetWriter = ownMethod<[], polyfill.WritableStreamDefaultWriter<unknown>>(polyfill.WritableStream.prototype, "getWriter");
export const defaultWriterWrite = ownMethod<[unknown], Promise<void>>(polyfill.WritableStreamDefaultWriter.prototype, "write");
export const defaultWriterClose = ownMethod<[], Promise<void>>(polyfill.WritableStreamDefaultWriter.prototype, "close");
export const defaultWriterAbort = ownMethod<[unknown], Promise<void>>(polyfill.WritableStreamDefaultWriter.prototype, "abort");
export const defaultWriterReady = ownGetter<Promise<void>>(polyfill.WritableStreamDefaultWriter.prototype, "ready");
export const defaultControllerError = ownMethod<[unknown], void>(polyfill.ReadableStreamDefaultController.prototype, "error");
export const defaultControllerDesiredSize = ownGetter<number | null>(polyfill.ReadableStreamDefaultController.prototype, "desiredSize");

// The polyfill's internal methods ([[PullSteps]], [[CancelSteps]], [[ReleaseSteps]], ...) are
// symbol-keyed methods of its controllers' prototypes, which it calls through those prototypes and
// which user code can reach (Object.getOwnPropertySymbols). No standard has them: they become
// read-only and non-configurable now, before user code can see the classes.
for (let i = 0, prototypes = [
  polyfill.ReadableStreamDefaultController.prototype,
  polyfill.ReadableByteStreamController.prototype,
  polyfill.WritableStreamDefaultController.prototype,
  polyfill.TransformStreamDefaultController.prototype,
  polyfill.ReadableStreamDefaultReader.prototype,
  polyfill.ReadableStreamBYOBReader.prototype,
]; i < prototypes.length; i++) {
  const keys = ReflectOwnKeys(prototypes[i]);
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k];
    if (typeof key !== "symbol" || key === SymbolToStringTag) continue;
    const descriptor = ReflectGetOwnPropertyDescriptor(prototypes[i], key)!;
    if (typeof descriptor.value === "function") ReflectDefineProperty(prototypes[i], key, { __proto__: null, value: descriptor.value, writable: false, enumerable: false, configurable: false } as PropertyDescriptor);
  }
}

if (publishedPolyfill) {
  // The published polyfill (the runtime's tests in Node) settles at first use how it transfers
  // buffers and queues microtasks, from globals quiet-globals.ts puts in place meanwhile.
  try {
    new ReadableStream({ type: "bytes", start: (controller) => controller.enqueue(new Uint8Array(1)) });
    void new ReadableStream({ start: (controller) => controller.enqueue(0) }).values().next();
  } finally {
    restoreGlobals();
  }
}

// Web IDL's async iterator prototypes inherit from %AsyncIteratorPrototype%; the ponyfill's
// inherits from Object.prototype.
ReflectSetPrototypeOf(ReflectGetPrototypeOf(new ReadableStream().values())!, AsyncIteratorPrototype);

// WritableStreamDefaultController.signal is the signal of the controller's `_abortController`,
// which the ponyfill builds from the global AbortController. An accessor on the prototype
// answers instead with an AbortController of the events chunk, made when first needed.
interface AbortControllerInstance {
  readonly signal: unknown;
  abort(reason?: unknown): void;
}
const abortControllerClass = (): new () => AbortControllerInstance => (events() as unknown as { AbortController: new () => AbortControllerInstance }).AbortController;
const abortControllers = new WeakMap<object, AbortControllerInstance>();
const weakGet = Originals["WeakMap.prototype.get"]!;
const weakSet = Originals["WeakMap.prototype.set"]!;
const apply = ReflectApply;

ReflectDefineProperty(WritableStreamDefaultController.prototype, "_abortController", {
  configurable: true,
  get(this: object): AbortControllerInstance {
    let controller = apply(weakGet, abortControllers, [this]) as AbortControllerInstance | undefined;
    if (controller === undefined) {
      controller = new (abortControllerClass())();
      apply(weakSet, abortControllers, [this, controller]);
    }
    return controller;
  },
  set(): void {
    // The instance of whatever the global AbortController is; never used.
  },
});
