// Buffer's read*/write* methods for integers, floats and bigints, with Node's bounds checks and
// their exact error codes and ranges (lib/internal/buffer.js).

import { bufferOutOfBounds, invalidArgType, outOfRange } from "../errors.ts";
import { validateNumber } from "../validators.ts";
import { primordials } from "../../primordials.ts";

const { ArrayPrototypeMap, BigInt, Float32Array, Float64Array, MathFloor, MathTrunc, Number, NumberIsInteger, NumberIsNaN, ObjectDefineProperty, ObjectEntries, ObjectKeys, ReflectApply, StringPrototypeIncludes, StringPrototypeReplace, TypedArrayOf, TypedArrayPrototypeGetBuffer, TypedArrayPrototypeGetLength, Uint16Array, Uint8Array } = primordials;

type Bytes = Uint8Array;

function boundsError(value: number, length: number, type?: string): never {
  if (MathFloor(value) !== value) {
    validateNumber(value, type ?? "offset");
    throw outOfRange(type ?? "offset", "an integer", value);
  }
  if (length < 0) throw bufferOutOfBounds();
  throw outOfRange(type ?? "offset", `>= ${type ? 1 : 0} and <= ${length}`, value);
}

function checkBounds(buf: Bytes, offset: unknown, size: number): asserts offset is number {
  validateNumber(offset, "offset");
  if (buf[offset] === undefined || buf[offset + size - 1] === undefined) boundsError(offset, TypedArrayPrototypeGetLength(buf) - size);
}

function checkInt(value: number | bigint, min: number | bigint, max: number | bigint, buf: Bytes, offset: unknown, size: number): asserts offset is number {
  if (value > max || value < min) {
    const n = typeof min === "bigint" ? "n" : "";
    const bits = size * 8;
    let range: string;
    if (size > 4) {
      range = min === 0 || min === 0n ? `>= 0${n} and < 2${n} ** ${bits}${n}` : `>= -(2${n} ** ${bits - 1}${n}) and < 2${n} ** ${bits - 1}${n}`;
    } else range = `>= ${min}${n} and <= ${max}${n}`;
    throw outOfRange("value", range, value);
  }
  checkBounds(buf, offset, size);
}

function readUnsigned(buf: Bytes, offset: number, size: number, little: boolean): number {
  let value = 0;
  for (let i = 0; i < size; i++) value = value * 256 + buf[offset + (little ? size - 1 - i : i)];
  return value;
}

function read(size: number, little: boolean, signed: boolean) {
  return function (this: Bytes, offset: unknown = 0): number {
    checkBounds(this, offset, size);
    const value = readUnsigned(this, offset, size, little);
    return signed && value >= 2 ** (size * 8 - 1) ? value - 2 ** (size * 8) : value;
  };
}

function write(size: number, little: boolean, signed: boolean) {
  const min = signed ? -(2 ** (size * 8 - 1)) : 0;
  const max = signed ? 2 ** (size * 8 - 1) - 1 : 2 ** (size * 8) - 1;
  return function (this: Bytes, valueArg: unknown, offset: unknown = 0): number {
    const value = +(valueArg as number);
    checkInt(value, min, max, this, offset, size);
    // NaN writes zeros and fractions are cut off, as Node's shifts and byte stores do.
    const whole = NumberIsNaN(value) ? 0 : MathTrunc(value);
    let rest = whole < 0 ? whole + 2 ** (size * 8) : whole;
    for (let i = 0; i < size; i++) {
      const byte = rest % 256;
      this[offset + (little ? i : size - 1 - i)] = byte;
      rest = (rest - byte) / 256;
    }
    return offset + size;
  };
}

function variable(kind: "read" | "write", little: boolean, signed: boolean) {
  const fns = ArrayPrototypeMap([1, 2, 3, 4, 5, 6], (size) => (kind === "read" ? read(size, little, signed) : write(size, little, signed)));
  if (kind === "read") {
    return function (this: Bytes, offset: unknown, byteLength: unknown): number {
      if (offset === undefined) throw invalidArgType("offset", "number", offset);
      if (typeof byteLength !== "number" || byteLength < 1 || byteLength > 6 || !NumberIsInteger(byteLength)) boundsError(byteLength as number, 6, "byteLength");
      return ReflectApply((fns[byteLength - 1] as (offset: unknown) => number), this, [offset]);
    };
  }
  return function (this: Bytes, value: unknown, offset: unknown, byteLength: unknown): number {
    if (typeof byteLength !== "number" || byteLength < 1 || byteLength > 6 || !NumberIsInteger(byteLength)) boundsError(byteLength as number, 6, "byteLength");
    return ReflectApply((fns[byteLength - 1] as (value: unknown, offset: unknown) => number), this, [value, offset]);
  };
}

const float32 = new Float32Array(1);
const float64 = new Float64Array(1);
const float32Bytes = new Uint8Array(TypedArrayPrototypeGetBuffer(float32));
const float64Bytes = new Uint8Array(TypedArrayPrototypeGetBuffer(float64));
const littleEndianHost = new Uint8Array(TypedArrayPrototypeGetBuffer(TypedArrayOf(Uint16Array, [1])))[0] === 1;

function readFloat(size: 4 | 8, little: boolean) {
  const bytes = size === 4 ? float32Bytes : float64Bytes;
  const array = size === 4 ? float32 : float64;
  return function (this: Bytes, offset: unknown = 0): number {
    checkBounds(this, offset, size);
    for (let i = 0; i < size; i++) bytes[littleEndianHost === little ? i : size - 1 - i] = this[offset + i];
    return array[0];
  };
}

function writeFloat(size: 4 | 8, little: boolean) {
  const bytes = size === 4 ? float32Bytes : float64Bytes;
  const array = size === 4 ? float32 : float64;
  return function (this: Bytes, value: unknown, offset: unknown = 0): number {
    array[0] = +(value as number);
    checkBounds(this, offset, size);
    for (let i = 0; i < size; i++) this[offset + i] = bytes[littleEndianHost === little ? i : size - 1 - i];
    return offset + size;
  };
}

function readBig(little: boolean, signed: boolean) {
  return function (this: Bytes, offset: unknown = 0): bigint {
    checkBounds(this, offset, 8);
    let value = 0n;
    for (let i = 0; i < 8; i++) value = (value << 8n) | BigInt(this[offset + (little ? 7 - i : i)]);
    return signed ? BigInt.asIntN(64, value) : value;
  };
}

function writeBig(little: boolean, signed: boolean) {
  const min = signed ? -(2n ** 63n) : 0n;
  const max = signed ? 2n ** 63n - 1n : 2n ** 64n - 1n;
  return function (this: Bytes, value: bigint, offset: unknown = 0): number {
    if (typeof value !== "bigint") throw invalidArgType("value", "bigint", value);
    checkInt(value, min, max, this, offset, 8);
    let rest = BigInt.asUintN(64, value);
    for (let i = 0; i < 8; i++) {
      this[offset + (little ? i : 7 - i)] = Number(rest & 0xffn);
      rest >>= 8n;
    }
    return offset + 8;
  };
}

export function installNumberMethods(proto: Record<string | symbol, unknown>): void {
  const methods: Record<string, unknown> = {
    readBigUInt64LE: readBig(true, false),
    readBigUInt64BE: readBig(false, false),
    readBigInt64LE: readBig(true, true),
    readBigInt64BE: readBig(false, true),
    writeBigUInt64LE: writeBig(true, false),
    writeBigUInt64BE: writeBig(false, false),
    writeBigInt64LE: writeBig(true, true),
    writeBigInt64BE: writeBig(false, true),
    readUIntLE: variable("read", true, false),
    readUInt32LE: read(4, true, false),
    readUInt16LE: read(2, true, false),
    readUInt8: read(1, true, false),
    readUIntBE: variable("read", false, false),
    readUInt32BE: read(4, false, false),
    readUInt16BE: read(2, false, false),
    readIntLE: variable("read", true, true),
    readInt32LE: read(4, true, true),
    readInt16LE: read(2, true, true),
    readInt8: read(1, true, true),
    readIntBE: variable("read", false, true),
    readInt32BE: read(4, false, true),
    readInt16BE: read(2, false, true),
    writeUIntLE: variable("write", true, false),
    writeUInt32LE: write(4, true, false),
    writeUInt16LE: write(2, true, false),
    writeUInt8: write(1, true, false),
    writeUIntBE: variable("write", false, false),
    writeUInt32BE: write(4, false, false),
    writeUInt16BE: write(2, false, false),
    writeIntLE: variable("write", true, true),
    writeInt32LE: write(4, true, true),
    writeInt16LE: write(2, true, true),
    writeInt8: write(1, true, true),
    writeIntBE: variable("write", false, true),
    writeInt32BE: write(4, false, true),
    writeInt16BE: write(2, false, true),
    readFloatLE: readFloat(4, true),
    readFloatBE: readFloat(4, false),
    readDoubleLE: readFloat(8, true),
    readDoubleBE: readFloat(8, false),
    writeFloatLE: writeFloat(4, true),
    writeFloatBE: writeFloat(4, false),
    writeDoubleLE: writeFloat(8, true),
    writeDoubleBE: writeFloat(8, false),
  };
  // The lower-case "Uint" spellings are aliases Node added later.
  for (let i73 = 0, a73 = ObjectKeys(methods); i73 < a73.length; i73++) {
    const name = a73[i73];
    if (StringPrototypeIncludes(name, "UInt")) methods[StringPrototypeReplace(name, "UInt", "Uint")] = methods[name];
  }
  for (let i74 = 0, a74 = ObjectEntries(methods); i74 < a74.length; i74++) {
    const name = a74[i74][0], value = a74[i74][1];
    ObjectDefineProperty(proto, name, { value, writable: true, configurable: true, enumerable: false });
  }
}
