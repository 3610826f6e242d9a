// DOMException (Web IDL §3.14.1). Its instances are real Error objects: ReflectConstruct(Error)
// gives them [[ErrorData]] (so the structured clone and Error.isError see an error) and a stack
// captured from the caller, while name and message stay prototype getters as Web IDL specifies.
// A plain function rather than a class: a class's constructor would inherit from Error, but the
// interface object of DOMException inherits from Function.prototype like any other.

import { toDomString } from "../webidl.ts";
import { accessorOf, defineFunction } from "./idl.ts";
import { primordials, SymbolToStringTag } from "../../primordials.ts";

const { Error, ErrorPrototype, MapFrom, MapPrototypeGet, ObjectCreate, ObjectKeys, ReflectConstruct, ReflectDefineProperty, ReflectDeleteProperty, TypeError, WeakMap, WeakMapPrototypeGet, WeakMapPrototypeHas, WeakMapPrototypeSet } = primordials;

const construct = ReflectConstruct;
const defineProperty = ReflectDefineProperty;
const deleteProperty = ReflectDeleteProperty;
const ErrorConstructor = Error;
const objectCreate = ObjectCreate;

/** The legacy codes of the names that had one (Web IDL's DOMException names table). */
const CODES = MapFrom<string, number>([
  ["IndexSizeError", 1],
  ["HierarchyRequestError", 3],
  ["WrongDocumentError", 4],
  ["InvalidCharacterError", 5],
  ["NoModificationAllowedError", 7],
  ["NotFoundError", 8],
  ["NotSupportedError", 9],
  ["InUseAttributeError", 10],
  ["InvalidStateError", 11],
  ["SyntaxError", 12],
  ["InvalidModificationError", 13],
  ["NamespaceError", 14],
  ["InvalidAccessError", 15],
  ["TypeMismatchError", 17],
  ["SecurityError", 18],
  ["NetworkError", 19],
  ["AbortError", 20],
  ["URLMismatchError", 21],
  ["QuotaExceededError", 22],
  ["TimeoutError", 23],
  ["InvalidNodeTypeError", 24],
  ["DataCloneError", 25],
]);

const CONSTANTS: Readonly<Record<string, number>> = {
  INDEX_SIZE_ERR: 1,
  DOMSTRING_SIZE_ERR: 2,
  HIERARCHY_REQUEST_ERR: 3,
  WRONG_DOCUMENT_ERR: 4,
  INVALID_CHARACTER_ERR: 5,
  NO_DATA_ALLOWED_ERR: 6,
  NO_MODIFICATION_ALLOWED_ERR: 7,
  NOT_FOUND_ERR: 8,
  NOT_SUPPORTED_ERR: 9,
  INUSE_ATTRIBUTE_ERR: 10,
  INVALID_STATE_ERR: 11,
  SYNTAX_ERR: 12,
  INVALID_MODIFICATION_ERR: 13,
  NAMESPACE_ERR: 14,
  INVALID_ACCESS_ERR: 15,
  VALIDATION_ERR: 16,
  TYPE_MISMATCH_ERR: 17,
  SECURITY_ERR: 18,
  NETWORK_ERR: 19,
  ABORT_ERR: 20,
  URL_MISMATCH_ERR: 21,
  QUOTA_EXCEEDED_ERR: 22,
  TIMEOUT_ERR: 23,
  INVALID_NODE_TYPE_ERR: 24,
  DATA_CLONE_ERR: 25,
};

interface Slots {
  name: string;
  message: string;
}

// Keyed by the instance: the instance is an Error made by ReflectConstruct, so it cannot carry
// a class's private fields.
const slots = new WeakMap<object, Slots>();

function slotsOf(value: unknown, member: string): Slots {
  const found = WeakMapPrototypeGet(slots, value as object);
  if (found === undefined) throw new TypeError(`'${member}' called on an object that is not a DOMException.`);
  return found;
}

export interface DOMException extends Error {
  readonly name: string;
  readonly message: string;
  readonly code: number;
}

export interface DOMExceptionConstructor {
  new (message?: string, name?: string): DOMException;
  readonly prototype: DOMException;
}

function DOMExceptionFunction(this: unknown, message: unknown = undefined, name: unknown = undefined): DOMException {
  if (new.target === undefined) throw new TypeError("Class constructor DOMException cannot be invoked without 'new'");
  const text = message === undefined ? "" : toDomString(message);
  const errorName = name === undefined ? "Error" : toDomString(name);
  // V8 13.6 takes the message of the stack's first line from the constructor's argument when it
  // captures the stack (only the name is read later), so Error gets the message and then loses
  // the own property: Web IDL's message is the prototype getter.
  const exception = construct(ErrorConstructor, [text], new.target) as DOMException;
  deleteProperty(exception, "message");
  WeakMapPrototypeSet(slots, exception, { name: errorName, message: text });
  return exception;
}

export const DOMException = DOMExceptionFunction as unknown as DOMExceptionConstructor;

const members = {
  get name(): string {
    return slotsOf(this, "name").name;
  },
  get message(): string {
    return slotsOf(this, "message").message;
  },
  get code(): number {
    return MapPrototypeGet(CODES, slotsOf(this, "code").name) ?? 0;
  },
};

const prototype = objectCreate(ErrorPrototype) as object;
defineProperty(prototype, "constructor", { value: DOMException, writable: true, enumerable: false, configurable: true });
for (let i23 = 0, a23 = ["name", "message", "code"]; i23 < a23.length; i23++) {
  const key = a23[i23];
  defineProperty(prototype, key, { ...accessorOf(members, key), enumerable: true, configurable: true });
}
for (let i24 = 0, a24 = ObjectKeys(CONSTANTS); i24 < a24.length; i24++) {
  const key = a24[i24];
  const constant = { value: CONSTANTS[key], writable: false, enumerable: true, configurable: false };
  defineProperty(DOMException, key, constant);
  defineProperty(prototype, key, constant);
}
defineProperty(prototype, SymbolToStringTag, { value: "DOMException", writable: false, enumerable: false, configurable: true });
defineProperty(DOMException, "prototype", { value: prototype, writable: false, enumerable: false, configurable: false });
defineFunction(DOMExceptionFunction, "DOMException", 0);

export function isDOMException(value: unknown): value is DOMException {
  return typeof value === "object" && value !== null && WeakMapPrototypeHas(slots, value);
}

/** A new DOMException, for the algorithms that throw one. */
export function domException(message: string, name: string): DOMException {
  return new DOMException(message, name);
}

/** The name and message of a DOMException, read from its slots (for its serialization steps). */
export function exceptionFields(exception: object): Slots {
  return slotsOf(exception, "serialize");
}
