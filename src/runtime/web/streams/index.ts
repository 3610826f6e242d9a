// Entry of the streams chunk (dist/runtime-streams.js): WHATWG Streams, loaded the first time a
// sandbox touches a stream. The stream classes are web-streams-polyfill's ponyfill, which follows
// the reference implementation and runs the web-platform-tests suite.

export { bindPlatform } from "../../platform.ts";
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
