// node:string_decoder: decodes a stream of byte chunks without splitting characters, holding back
// an incomplete UTF-8 sequence, UTF-16 unit or surrogate pair, or base64 triple until the next
// chunk. Follows the state machine of Node's native decoder, so bad input splits the same way.

import { Buffer } from "./buffer/buffer.ts";
import { normalizeEncoding, sliceString, type Encoding } from "./buffer/codecs.ts";
import { invalidArgType, unknownEncoding } from "./errors.ts";
import { primordials } from "../primordials.ts";

const { ArrayBufferIsView, ArrayBufferViewGetBuffer, ArrayBufferViewGetByteLength, ArrayBufferViewGetByteOffset, MathMin, ObjectDefineProperties, ObjectDefineProperty, ObjectEntries, Symbol, TypeError, TypedArrayPrototypeGetBuffer, TypedArrayPrototypeGetLength, TypedArrayPrototypeSet, TypedArrayPrototypeSubarray, Uint8Array } = primordials;

const kState = Symbol("kState");

interface State {
  encoding: Encoding;
  buffer: Uint8Array;
  buffered: number;
  missing: number;
}

export interface StringDecoder {
  encoding: string;
  [kState]: State;
  write(buf: unknown): string;
}

export const StringDecoder = function StringDecoder(this: StringDecoder, encodingArg?: unknown) {
  const encoding = normalizeEncoding(encodingArg);
  if (encoding === undefined) throw unknownEncoding(encodingArg);
  this.encoding = encoding;
  this[kState] = { encoding, buffer: new Uint8Array(4), buffered: 0, missing: 0 };
} as unknown as { new (encoding?: string): StringDecoder; prototype: Record<string, unknown> };

function decode(state: State, input: Uint8Array): string {
  const { encoding } = state;
  if (encoding !== "utf8" && encoding !== "utf16le" && encoding !== "base64" && encoding !== "base64url") return sliceString(input, 0, TypedArrayPrototypeGetLength(input), encoding);
  let data = input;
  let prepend = "";
  if (state.missing > 0) {
    if (encoding === "utf8") {
      // A byte that should continue the held-back character but does not starts a new one.
      for (let i = 0; i < TypedArrayPrototypeGetLength(data) && i < state.missing; i++) {
        if ((data[i] & 0xc0) !== 0x80) {
          state.missing = 0;
          TypedArrayPrototypeSet(state.buffer, TypedArrayPrototypeSubarray(data, 0, i), state.buffered);
          state.buffered += i;
          data = TypedArrayPrototypeSubarray(data, i);
          break;
        }
      }
    }
    const found = MathMin(TypedArrayPrototypeGetLength(data), state.missing);
    TypedArrayPrototypeSet(state.buffer, TypedArrayPrototypeSubarray(data, 0, found), state.buffered);
    data = TypedArrayPrototypeSubarray(data, found);
    state.missing -= found;
    state.buffered += found;
    if (state.missing === 0) {
      prepend = sliceString(state.buffer, 0, state.buffered, encoding);
      state.buffered = 0;
    }
  }
  if (TypedArrayPrototypeGetLength(data) === 0) return prepend;
  let length = TypedArrayPrototypeGetLength(data);
  if (encoding === "utf8" && data[length - 1] & 0x80) {
    for (let i = length - 1; ; --i) {
      state.buffered++;
      if ((data[i] & 0xc0) === 0x80) {
        if (state.buffered >= 4 || i === 0) {
          state.buffered = 0;
          break;
        }
      } else {
        if ((data[i] & 0xe0) === 0xc0) state.missing = 2;
        else if ((data[i] & 0xf0) === 0xe0) state.missing = 3;
        else if ((data[i] & 0xf8) === 0xf0) state.missing = 4;
        else {
          state.buffered = 0;
          break;
        }
        if (state.buffered >= state.missing) {
          state.missing = 0;
          state.buffered = 0;
        }
        state.missing -= state.buffered;
        break;
      }
    }
  } else if (encoding === "utf16le") {
    if (length % 2 === 1) {
      state.buffered = 1;
      state.missing = 1;
    } else if ((data[length - 1] & 0xfc) === 0xd8) {
      state.buffered = 2;
      state.missing = 2;
    }
  } else if (encoding === "base64" || encoding === "base64url") {
    state.buffered = length % 3;
    if (state.buffered > 0) state.missing = 3 - state.buffered;
  }
  if (state.buffered > 0) {
    length -= state.buffered;
    TypedArrayPrototypeSet(state.buffer, TypedArrayPrototypeSubarray(data, length, length + state.buffered), 0);
  }
  return prepend + (length > 0 ? sliceString(data, 0, length, encoding) : "");
}

function flush(state: State): string {
  if (state.encoding === "utf16le" && state.buffered % 2 === 1) {
    state.missing--;
    state.buffered--;
  }
  if (state.buffered === 0) return "";
  const text = sliceString(state.buffer, 0, state.buffered, state.encoding);
  state.missing = 0;
  state.buffered = 0;
  return text;
}

function stateOf(decoder: StringDecoder): State {
  const state = decoder?.[kState];
  if (state === undefined) throw new TypeError('Value of "this" must be of type StringDecoder');
  return state;
}

const methods: Record<string, unknown> = {
  write(this: StringDecoder, buf: unknown): string {
    if (typeof buf === "string") return buf;
    if (!ArrayBufferIsView(buf)) throw invalidArgType("buf", ["Buffer", "TypedArray", "DataView"], buf);
    return decode(stateOf(this), new Uint8Array(ArrayBufferViewGetBuffer(buf), ArrayBufferViewGetByteOffset(buf), ArrayBufferViewGetByteLength(buf)));
  },
  end(this: StringDecoder, buf?: unknown): string {
    let text = "";
    if (buf !== undefined) text = this.write(buf);
    const state = stateOf(this);
    if (state.buffered > 0) text += flush(state);
    return text;
  },
  text(this: StringDecoder, buf: Uint8Array, offset: number): string {
    const state = stateOf(this);
    state.missing = 0;
    state.buffered = 0;
    return this.write(TypedArrayPrototypeSubarray(buf, offset));
  },
};
for (let i81 = 0, a81 = ObjectEntries(methods); i81 < a81.length; i81++) {
  const name = a81[i81][0], value = a81[i81][1];
  ObjectDefineProperty(StringDecoder.prototype, name, { value, writable: true, configurable: true });
}
ObjectDefineProperties(StringDecoder.prototype, {
  lastChar: {
    get(this: StringDecoder) {
      const state = stateOf(this);
      return (Buffer as unknown as { from(b: ArrayBufferLike, o: number, l: number): Uint8Array }).from(TypedArrayPrototypeGetBuffer(state.buffer), 0, 4);
    },
    configurable: true,
  },
  lastNeed: {
    get(this: StringDecoder) {
      return stateOf(this).missing;
    },
    configurable: true,
  },
  lastTotal: {
    get(this: StringDecoder) {
      const state = stateOf(this);
      return state.buffered + state.missing;
    },
    configurable: true,
  },
});
