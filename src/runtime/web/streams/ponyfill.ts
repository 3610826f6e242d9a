// The WHATWG Streams classes: web-streams-polyfill's ponyfill, which follows the reference
// implementation and passes the web-platform-tests. It loads with islet's choices in place of a
// few globals (see quiet-globals.ts), and this module drives it through its first uses of them
// while they are in place. What the ponyfill still reads at call time: the global AbortController
// (made and discarded with each WritableStream; the controller's signal is islet's, see below)
// and JavaScript's own built-ins (PromiseAll, Object.prototype.hasOwnProperty, ...), as any
// library does.

import { restoreGlobals } from "./quiet-globals.ts"; // first: the ponyfill must load after it
import { ReadableStream, WritableStreamDefaultController } from "web-streams-polyfill";
import { events } from "../../platform.ts";
import { primordials } from "../../primordials.ts";

const { PromiseAll, ReflectApply, ReflectDefineProperty, ReflectGetPrototypeOf, ReflectSetPrototypeOf, Uint8Array, WeakMap } = primordials;

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

try {
  // A byte stream's first enqueue settles how buffers are transferred.
  new ReadableStream({ type: "bytes", start: (controller) => controller.enqueue(new Uint8Array(1)) });
  // An async iterator's first chunk settles how microtasks are queued.
  const iterator = new ReadableStream({ start: (controller) => controller.enqueue(0) }).values();
  void iterator.next();
  // Web IDL's async iterator prototypes inherit from %AsyncIteratorPrototype%; the ponyfill's
  // inherits from Object.prototype.
  const asyncIteratorPrototype = ReflectGetPrototypeOf(ReflectGetPrototypeOf(async function* () {}.prototype)!)!;
  ReflectSetPrototypeOf(ReflectGetPrototypeOf(iterator)!, asyncIteratorPrototype);
} finally {
  restoreGlobals();
}

// WritableStreamDefaultController.signal is the signal of the controller's `_abortController`,
// which the ponyfill builds from the global AbortController. An accessor on the prototype
// answers instead with an AbortController of the events chunk, made when first needed.
interface AbortControllerInstance {
  readonly signal: unknown;
  abort(reason?: unknown): void;
}
const abortControllerClass = (): new () => AbortControllerInstance => (events() as unknown as { AbortController: new () => AbortControllerInstance }).AbortController;
const abortControllers = new WeakMap<object, AbortControllerInstance>();
const weakGet = WeakMap.prototype.get;
const weakSet = WeakMap.prototype.set;
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
