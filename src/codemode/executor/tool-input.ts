// A tool's input, as the host receives it from the sandbox, is already a copy, except for what
// the boundary turns into live stubs: functions and RpcTargets (a host object whose every method
// calls back into the sandbox). A tool or an approver holding one of those would see whatever
// the sandbox answers at the moment it looks. So each input is copied once, here, into plain data
// (the structured-clone kinds: primitives, arrays, plain objects, Date, RegExp, bytes, Map, Set),
// anything else is refused, and that one copy is what the approver sees and the tool runs with.

import { types } from "node:util";
import { DataCloneError } from "../../index.ts";
import { isRemoteCapability } from "../../rpc/rpc-target.ts";

const MAX_DEPTH = 1000;

/** Copies `value` as plain data or throws DataCloneError naming where the first non-data value was. */
export function copyToolInput(value: unknown, label: string): unknown {
  const seen = new Map<object, unknown>();
  const refuse = (path: string, what: string): never => {
    throw new DataCloneError(`${label}: tool inputs must be data; ${path} is ${what}. Pass values (strings, numbers, objects, arrays…), not functions or RpcTargets.`);
  };
  const copy = (item: unknown, path: string, depth: number): unknown => {
    if (item === null || (typeof item !== "object" && typeof item !== "function")) {
      if (typeof item === "symbol") refuse(path, "a symbol");
      return item;
    }
    if (typeof item === "function") return refuse(path, "a function");
    if (depth > MAX_DEPTH) return refuse(path, `nested more than ${MAX_DEPTH} deep`);
    if (types.isProxy(item) || isRemoteCapability(item as object)) return refuse(path, "a live capability (an RpcTarget or stub)");
    const object = item as object;
    const done = seen.get(object);
    if (done !== undefined) return done;
    const proto = Object.getPrototypeOf(object);
    if (Array.isArray(object) && proto === Array.prototype) {
      const out: unknown[] = [];
      seen.set(object, out);
      for (let i = 0; i < object.length; i++) out.push(copy(object[i], `${path}[${i}]`, depth + 1));
      return out;
    }
    if (proto === Object.prototype || proto === null) {
      const out: Record<string, unknown> = proto === null ? Object.create(null) : {};
      seen.set(object, out);
      for (const key of Reflect.ownKeys(object)) {
        const descriptor = Reflect.getOwnPropertyDescriptor(object, key)!;
        if (typeof key === "symbol") {
          if (descriptor.enumerable) refuse(`${path}[${String(key)}]`, "a symbol-keyed property");
          continue;
        }
        if (!descriptor.enumerable) continue;
        if (!("value" in descriptor)) refuse(`${path}.${key}`, "an accessor");
        Object.defineProperty(out, key, { value: copy(descriptor.value, `${path}.${key}`, depth + 1), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    if (types.isDate(object)) return new Date((object as Date).getTime());
    if (types.isRegExp(object)) return new RegExp((object as RegExp).source, (object as RegExp).flags);
    if (types.isArrayBuffer(object)) return (object as ArrayBuffer).slice(0);
    if (ArrayBuffer.isView(object)) return structuredClone(object);
    if (types.isMap(object)) {
      const out = new Map<unknown, unknown>();
      seen.set(object, out);
      let i = 0;
      for (const [key, entry] of object as Map<unknown, unknown>) {
        out.set(copy(key, `${path}<key ${i}>`, depth + 1), copy(entry, `${path}<value ${i}>`, depth + 1));
        i++;
      }
      return out;
    }
    if (types.isSet(object)) {
      const out = new Set<unknown>();
      seen.set(object, out);
      let i = 0;
      for (const entry of object as Set<unknown>) out.add(copy(entry, `${path}<entry ${i++}>`, depth + 1));
      return out;
    }
    return refuse(path, `a ${typeof proto?.constructor === "function" ? proto.constructor.name || "class" : "non-plain"} object, not plain data`);
  };
  return copy(value, "input", 0);
}
