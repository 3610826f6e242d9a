// structuredClone() (HTML §2.7.9): StructuredSerializeWithTransfer, then
// StructuredDeserializeWithTransfer, both inside this isolate.
//
// Transfer: V8 11.3 (Node 20) has no ArrayBuffer.prototype.transfer and JavaScript has no other
// way to detach a buffer, so there a transferred buffer is copied and the original stays usable;
// where V8 has transfer(), the original is detached as the spec requires.

import { requireArguments, toDictionary } from "../webidl.ts";
import { deserialize } from "./deserialize.ts";
import { defineFunction, toSequence } from "./idl.ts";
import { copyArrayBuffer, dataCloneError, isDetached, serialize, type SerializedRecord, type SerializeMemory } from "./serialize.ts";
import { primordials } from "../../primordials.ts";

const { ArrayBuffer, MapPrototypeHas, MapPrototypeSet, Originals, ReflectApply, ReflectGetOwnPropertyDescriptor, TypeError } = primordials;

const apply = ReflectApply;
const MapConstructor = Map;
const getOwnPropertyDescriptor = ReflectGetOwnPropertyDescriptor;
const arrayBufferByteLength = Originals["get ArrayBuffer.prototype.byteLength"]!;

function isArrayBuffer(value: object): value is ArrayBuffer {
  try {
    apply(arrayBufferByteLength, value, []);
    return true;
  } catch {
    return false;
  }
}

export const structuredClone = defineFunction(function structuredClone(value: unknown, options: unknown = undefined): unknown {
  requireArguments(arguments.length, 1, "'structuredClone'");
  const transferList = toTransferList(options);
  const memory: SerializeMemory = new MapConstructor();
  const holders = prepareTransfers(transferList, memory);
  const serialized = serialize(value, memory);
  completeTransfers(transferList, holders);
  return deserialize(serialized, { values: new MapConstructor() });
}, "structuredClone", 1);

// StructuredSerializeOptions: { sequence<object> transfer = [] }.
function toTransferList(options: unknown): object[] {
  const transfer = toDictionary(options, "StructuredSerializeOptions").transfer;
  if (transfer === undefined) return [];
  return toSequence(
    transfer,
    (item, index) => {
      if ((typeof item !== "object" && typeof item !== "function") || item === null) throw new TypeError(`structuredClone(): transfer[${index}] is not an object.`);
      return item;
    },
    "structuredClone(): options.transfer",
  );
}

// Step 2 of StructuredSerializeWithTransfer: each entry must be a transferable ArrayBuffer, listed
// once; its place in memory makes the value's references to it point at the transferred data.
function prepareTransfers(transferList: object[], memory: SerializeMemory): SerializedRecord[] {
  const holders: SerializedRecord[] = [];
  for (let index = 0; index < transferList.length; index++) {
    const transferable = transferList[index];
    if (!isArrayBuffer(transferable)) throw dataCloneError(`transfer[${index}] is not a transferable object: only ArrayBuffers can be transferred here.`);
    if (MapPrototypeHas(memory, transferable)) throw dataCloneError(`transfer[${index}] is listed more than once.`);
    const holder: SerializedRecord = { type: "ArrayBuffer", data: undefined };
    MapPrototypeSet(memory, transferable, holder);
    holders[index] = holder;
  }
  return holders;
}

// Step 5: after serialization, each buffer (still attached) moves its bytes to its holder.
function completeTransfers(transferList: object[], holders: SerializedRecord[]): void {
  for (let index = 0; index < transferList.length; index++) {
    const buffer = transferList[index] as ArrayBuffer;
    if (isDetached(buffer)) throw dataCloneError(`transfer[${index}] is a detached ArrayBuffer.`);
    (holders[index] as { data: ArrayBuffer | undefined }).data = primordials.ArrayBufferPrototypeTransferConfined !== undefined ? apply(primordials.ArrayBufferPrototypeTransferConfined, buffer, []) : copyArrayBuffer(buffer);
  }
}
