// DOMExceptions for Web Crypto. The class lives in the events chunk so that `instanceof
// DOMException` holds for every error, whichever chunk threw it.

import { events } from "../../platform.ts";
import { primordials } from "../../primordials.ts";

const { SetFrom, SetPrototypeHas, TypeError } = primordials;

export function domException(message: string, name: string): Error {
  return new (events().DOMException)(message, name);
}

// The DOMException names Web Crypto rejects with; any other host failure is an OperationError,
// which the spec uses for "the underlying operation failed".
const DOM_NAMES = SetFrom(["OperationError", "DataError", "NotSupportedError", "InvalidAccessError", "SyntaxError", "QuotaExceededError", "InvalidStateError"]);

/** A host service's error (name + message only) as the error Web Crypto specifies. */
export function fromHost(error: unknown): Error {
  const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
  const text = typeof message === "string" ? message : "The operation failed.";
  if (name === "TypeError") return error instanceof TypeError ? error : new TypeError(text);
  // Node 20 misnames one of its errors (exportKey of a non-extractable key).
  if (name === "InvalidAccessException") return domException(text, "InvalidAccessError");
  return domException(text, typeof name === "string" && SetPrototypeHas(DOM_NAMES, name) ? name : "OperationError");
}
