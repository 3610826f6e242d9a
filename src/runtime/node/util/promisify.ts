// util.promisify and util.callbackify, honouring util.promisify.custom as Node does.

import { makeError } from "../errors.ts";
import { nextTick } from "../process.ts";
import { validateFunction } from "../validators.ts";
import { primordials } from "../../primordials.ts";

const { ArrayPrototypePop, ArrayPrototypePush, Error, FunctionPrototypeBind, ObjectDefineProperties, ObjectDefineProperty, ObjectGetOwnPropertyDescriptors, ObjectGetPrototypeOf, ObjectSetPrototypeOf, Promise, PromisePrototypeThen, ReflectApply, SymbolFor } = primordials;

const customPromisify = SymbolFor("nodejs.util.promisify.custom");

type AnyFunction = (...args: unknown[]) => unknown;

function copyProperties(target: AnyFunction, source: AnyFunction, adjust?: (descriptors: Record<string, PropertyDescriptor>) => void): void {
  const descriptors = ObjectGetOwnPropertyDescriptors(source) as Record<string, PropertyDescriptor>;
  adjust?.(descriptors);
  ObjectDefineProperties(target, descriptors);
}

export function promisify(original: unknown): AnyFunction {
  validateFunction(original, "original");
  const custom = (original as unknown as Record<symbol, unknown>)[customPromisify];
  if (custom) {
    validateFunction(custom, "util.promisify.custom");
    return ObjectDefineProperty(custom, customPromisify, { value: custom, enumerable: false, writable: false, configurable: true }) as AnyFunction;
  }
  const fn = function (this: unknown, ...args: unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      ArrayPrototypePush(args, (error: unknown, ...values: unknown[]) => (error ? reject(error) : resolve(values[0])));
      ReflectApply(original as AnyFunction, this, args);
    });
  };
  ObjectSetPrototypeOf(fn, ObjectGetPrototypeOf(original));
  ObjectDefineProperty(fn, customPromisify, { value: fn, enumerable: false, writable: false, configurable: true });
  copyProperties(fn, original as AnyFunction);
  return fn;
}
promisify.custom = customPromisify;

function onRejected(reason: unknown, callback: AnyFunction): unknown {
  if (!reason) {
    const error = makeError(Error, "ERR_FALSY_VALUE_REJECTION", "Promise was rejected with falsy value") as Error & { reason?: unknown };
    error.reason = reason;
    return callback(error);
  }
  return callback(reason);
}

export function callbackify(original: unknown): AnyFunction {
  validateFunction(original, "original");
  const callbackified = function (this: unknown, ...args: unknown[]): void {
    const last = ArrayPrototypePop(args);
    validateFunction(last, "last argument");
    const callback = FunctionPrototypeBind((last as AnyFunction), this);
    PromisePrototypeThen((ReflectApply(original as AnyFunction, this, args) as Promise<unknown>), (value) => nextTick(callback, null, value), (reason) => nextTick(onRejected, reason, callback));
  };
  copyProperties(callbackified, original as AnyFunction, (descriptors) => {
    if (typeof descriptors.length?.value === "number") descriptors.length.value++;
    if (typeof descriptors.name?.value === "string") descriptors.name.value += "Callbackified";
  });
  return callbackified;
}
